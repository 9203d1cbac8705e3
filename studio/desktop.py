"""The studio in the desktop's menus: a ``.desktop`` entry and its icon under ``$XDG_DATA_HOME``
(``~/.local/share``), so that the studio can be started, and models opened with it, like any other
application. Writing them again changes nothing; ``remove`` takes them away."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .core.atomic import atomic_write_text

APP_ID = "sb3-studio"
ICON = Path(__file__).resolve().parent / "resources" / "sb3-studio.svg"


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def entry_text(executable: Path) -> str:
    command = str(executable)
    if any(c in command for c in ' "\\`$'):
        command = '"' + command.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$") + '"'
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.0",
        "Name=SB3 Studio",
        "GenericName=RL policy converter",
        "Comment=Convert Stable-Baselines3 policies to ONNX, TFLite and the Coral Edge TPU, and prove they act the same",
        f"Exec={command} %F",
        f"TryExec={executable}",
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Development;Science;ArtificialIntelligence;",
        "Keywords=reinforcement learning;Stable-Baselines3;ONNX;TFLite;LiteRT;Coral;Edge TPU;",
        "StartupNotify=true",
        "",
    ])


def paths(home: Path | None = None) -> tuple[Path, Path]:
    home = home or data_home()
    return home / "applications" / f"{APP_ID}.desktop", home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"


def install(executable: Path, home: Path | None = None) -> list[Path]:
    """Write the entry and the icon (only what differs); returns the files written."""
    entry, icon = paths(home)
    written = []
    text = entry_text(Path(executable).absolute())
    if not entry.is_file() or entry.read_text() != text:
        atomic_write_text(entry, text)
        written.append(entry)
    if not icon.is_file() or icon.read_bytes() != ICON.read_bytes():
        atomic_write_text(icon, ICON.read_text())
        written.append(icon)
    if written and shutil.which("update-desktop-database"):
        subprocess.run(["update-desktop-database", str(entry.parent)], check=False, capture_output=True)
    return written


def remove(home: Path | None = None) -> list[Path]:
    removed = []
    for path in paths(home):
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed
