"""The model library behind the studio's browser: what a dropped path holds, and what each model is.

Qt-free: the GUI calls :func:`discover` when paths arrive and :func:`describe` (slow: it loads the
model) in a worker; the CLI could list a library the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .batch import find_models, run_name
from .errors import StudioError

ARTIFACT_SUFFIXES = (".onnx", ".tflite")


def data_dir() -> Path:
    """The studio's folder under the user's data directory (``$XDG_DATA_HOME/sb3-studio``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "sb3-studio"


def default_watch_folder() -> Path:
    return data_dir() / "models"


def default_runs_folder() -> Path:
    return data_dir() / "runs"


@dataclass
class LibraryEntry:
    """What one file is (the session's ModelEntry keeps it with everything the file has produced)."""

    path: Path
    kind: str  # "sb3", "onnx", "tflite", or "unknown"
    info: dict[str, Any] | None = None
    error: str | None = None
    run_dir: Path | None = None
    details: dict[str, Any] = field(default_factory=dict)
    sha256: str | None = None

    @property
    def name(self) -> str:
        """The file name, or ``ALGO/ENV_1`` for an RL Zoo agent (its files are all called ENV.zip)."""
        parent = self.path.parent
        if self.kind == "sb3" and (parent / self.path.stem).is_dir() and parent.name.startswith(self.path.stem):
            return f"{parent.parent.name}/{parent.name}"
        return self.path.name


def kind_of(path: Path) -> str:
    if path.suffix == ".onnx":
        return "onnx"
    if path.suffix == ".tflite":
        return "tflite"
    if path.suffix == ".zip":
        return "sb3"
    return "unknown"


def discover(path: Path) -> list[Path]:
    """The model files a dropped or opened path stands for.

    A file stands for itself (a bad one too: it shows up with its error). A folder, such as an RL Zoo
    tree, stands for the SB3 models below it, and ONNX or TFLite files outside run folders.
    """
    if not path.is_dir():
        return [path]
    found = find_models(path)
    for suffix in ARTIFACT_SUFFIXES:
        found += [p for p in sorted(path.rglob(f"*{suffix}")) if not (p.parent / "run.json").exists()]
    return found


def run_dir_for(path: Path, runs: Path | None = None) -> Path:
    """Where the GUI converts ``path`` to: ``RUNS/NAME``, with the zoo's ALGO-ENV naming."""
    runs = runs or default_runs_folder()
    parent = path.parent
    if parent.parent != parent and (parent / path.stem).is_dir():
        return runs / run_name(path, parent.parent.parent)
    return runs / path.stem


def describe(path: Path, runs: Path | None = None) -> LibraryEntry:
    """Load and describe one file. Never raises for a bad file: the entry carries the error."""
    kind = kind_of(path)
    entry = LibraryEntry(path=path, kind=kind)
    try:
        if kind == "sb3":
            entry.run_dir = run_dir_for(path, runs)
            from .atomic import sha256_file
            from .inspection import inspect_model
            from .loading import load_model

            entry.info = inspect_model(load_model(path))
            entry.sha256 = sha256_file(path)
        elif kind == "onnx":
            entry.details = _describe_onnx(path)
        elif kind == "tflite":
            entry.details = _describe_tflite(path)
        else:
            entry.error = f"{path}: not a model file (expected .zip, .onnx or .tflite)"
    except StudioError as exc:
        entry.error = exc.line()
    except Exception as exc:  # noqa: BLE001 - a file the studio cannot read must not take the browser down
        entry.error = f"{path}: cannot be read ({type(exc).__name__}: {exc})"
    return entry


def _describe_onnx(path: Path) -> dict[str, Any]:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    graph = model.graph
    return {
        "inputs": [i.name for i in graph.input],
        "outputs": [o.name for o in graph.output],
        "nodes": len(graph.node),
        "opset": max((o.version for o in model.opset_import), default=None),
        "producer": model.producer_name,
        "bytes": path.stat().st_size,
    }


def _describe_tflite(path: Path) -> dict[str, Any]:
    from .edgetpu.tflite_graph import read_graph

    ops, subgraphs, _ = read_graph(path)
    dtypes = sorted({d for op in ops for d in op.input_dtypes})
    return {"ops": len(ops), "subgraphs": subgraphs, "tensor_dtypes": dtypes, "bytes": path.stat().st_size}
