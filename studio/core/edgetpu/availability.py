"""Is the Edge TPU compiler or a Coral device here? Found at run time, never assumed."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

COMPILER = "edgetpu_compiler"
COMPILER_ENV = "SB3_STUDIO_EDGETPU_COMPILER"
COMPILER_HINT = (
    "the Edge TPU compiler runs on x86-64 Debian/Ubuntu: add Coral's apt repository and "
    "'apt-get install edgetpu-compiler' (https://coral.ai/docs/edgetpu/compiler/), then put "
    f"{COMPILER} on PATH or set {COMPILER_ENV}"
)


@dataclass(frozen=True)
class ToolStatus:
    available: bool
    path: Path | None
    reason: str
    hint: str

    def line(self) -> str:
        return f"{self.path}" if self.available else f"not available: {self.reason} ({self.hint})"


def find_compiler(setting: str | Path | None = None) -> ToolStatus:
    """The compiler named by ``setting``, ``$SB3_STUDIO_EDGETPU_COMPILER`` or found on PATH."""
    candidate = setting or os.environ.get(COMPILER_ENV)
    if candidate:
        path = Path(candidate)
        if path.is_file() and os.access(path, os.X_OK):
            return ToolStatus(True, path, "", "")
        return ToolStatus(False, None, f"{candidate} is not an executable file", COMPILER_HINT)
    found = shutil.which(COMPILER)
    if found:
        return ToolStatus(True, Path(found), "", "")
    return ToolStatus(False, None, f"{COMPILER} was not found on PATH", COMPILER_HINT)
