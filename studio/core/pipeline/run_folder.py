"""The run folder: checked before anything runs, and described by ``run.json`` when the run ends."""

from __future__ import annotations

import json
import os
import platform
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text, sha256_file
from ..errors import OutputExistsError, OutputNotWritableError, RunFolderError

MANIFEST = "run.json"
TOOL = "sb3-studio"
_VERSIONED = [
    "sb3-studio", "stable-baselines3", "sb3-contrib", "torch", "numpy", "gymnasium",
    "onnx", "onnxruntime", "onnx2tf", "tensorflow", "ai-edge-litert",
]


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def read_manifest(run_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((run_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("tool") == TOOL else None


def checked_manifest(run_dir: Path) -> dict[str, Any]:
    """``run.json`` of a finished run, checked before anything trusts it: the model recorded, and every
    artifact a file inside the run folder. :class:`RunFolderError` says what is wrong."""
    manifest = read_manifest(run_dir)
    if manifest is None:
        raise RunFolderError(run_dir, "not a run folder of sb3-studio (no readable run.json)")
    model, artifacts = manifest.get("model"), manifest.get("artifacts")
    if not isinstance(model, dict) or not isinstance(model.get("file") or model.get("resolved"), str):
        raise RunFolderError(run_dir / MANIFEST, "does not name the model it was made from")
    if not isinstance(artifacts, dict) or not all(isinstance(a, dict) for a in artifacts.values()):
        raise RunFolderError(run_dir / MANIFEST, "its artifacts are not described as the studio writes them")
    root = run_dir.resolve()
    for key, artifact in artifacts.items():
        path = artifact.get("path")
        if not isinstance(path, str) or not (root / path).resolve().is_relative_to(root):
            raise RunFolderError(run_dir / MANIFEST, f"artifact {key} is not a file inside the run folder")
    return manifest


def _check_writable(run_dir: Path) -> None:
    existing = next((p for p in [run_dir, *run_dir.parents] if p.exists()), None)
    if existing is None or not existing.is_dir():
        raise OutputNotWritableError(existing or run_dir, "the output location is not a folder")
    try:  # access() says yes to root even where writing fails (read-only mounts, /sys): really try
        tempfile.TemporaryFile(dir=existing).close()
    except OSError as exc:
        raise OutputNotWritableError(existing, f"the output folder cannot be written ({exc.strerror or exc})") from None


def _same_model(recorded: dict[str, Any], model: Path) -> bool:
    if recorded.get("sha256") and model.is_file() and recorded["sha256"] == sha256_file(model):
        return True
    return bool(recorded.get("resolved")) and Path(recorded["resolved"]) == model.resolve()


def _first_link(run_dir: Path) -> Path | None:
    """A symbolic link inside the run folder (not the folder itself, which the user may well link), if any."""
    if not run_dir.is_dir():
        return None
    for root, dirs, files in os.walk(run_dir, followlinks=False):
        for name in dirs + files:
            if (Path(root) / name).is_symlink():
                return Path(root) / name
    return None


def prepare_run_dir(run_dir: Path, model: Path, force: bool) -> None:
    """Refuse to write where we would overwrite a user's files; make sure we can write at all.

    A folder is ours to reuse when it is empty or holds a ``run.json`` of ours for the same model.
    """
    _check_writable(run_dir)
    link = _first_link(run_dir)
    if link is not None:
        raise OutputExistsError(link, f"a symbolic link inside the output folder (to {os.readlink(link)}): the studio "
                                      "never writes through links", "remove the link or choose another --out")
    if run_dir.exists() and any(run_dir.iterdir()) and not force:
        manifest = read_manifest(run_dir)
        if manifest is None:
            raise OutputExistsError(
                run_dir, "the output folder holds files that sb3-studio did not write", "choose another --out, or --force"
            )
        if not _same_model(manifest.get("model", {}), model):
            raise OutputExistsError(
                run_dir, f"the output folder holds a run of another model ({manifest['model'].get('file')})",
                "choose another --out, or --force",
            )
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputNotWritableError(run_dir, f"cannot create the output folder ({exc.strerror or exc})") from None


def write_manifest(run_dir: Path, manifest: dict[str, Any]) -> None:
    atomic_write_text(run_dir / MANIFEST, json.dumps(manifest, indent=2, default=str) + "\n")


def new_manifest(command: str) -> dict[str, Any]:
    return {
        "tool": TOOL,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "versions": versions(),
        "model": {},
        "artifacts": {},
        "stages": [],
    }
