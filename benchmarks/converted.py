"""Shared by the fidelity benchmarks: one model through ``sb3-studio convert``, its manifest and the time taken."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def convert(model: Path, targets: str, out: Path) -> tuple[dict[str, Any], float]:
    """Convert ``model`` to ``targets`` into a folder below ``out``; (its run.json, seconds)."""
    run = out / f"{model.parent.parent.name}-{model.stem}"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "studio.cli", "convert", str(model), "--to", targets, "--out", str(run)],
                   capture_output=True, text=True)
    seconds = time.perf_counter() - start
    return json.loads((run / "run.json").read_text()), seconds
