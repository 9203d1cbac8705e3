"""One model of the session: what the file is, its run folder (artifacts, verification, benchmarks,
rollouts, recordings), and what is under way for it (a conversion, a benchmark, a rollout).

Views show the selected entry and listen to its events; controllers feed it what their workers
produce. Nothing of one model is ever kept on a view, so switching models switches every tab.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..library import LibraryEntry, kind_of
from ..observable import Events
from .bench import BenchState
from .runs import ArtifactInfo, RunRecord
from .stages import PipelineState


@dataclass
class RolloutState:
    """The latest rollout result of the model (live while it plays, or read back from the run folder)."""

    rows: list[dict[str, Any]] = field(default_factory=list)  # per runtime, from LockstepRollout.summary
    recording: Path | None = None
    fps_asked: float | None = None
    fps_measured: float | None = None
    notes: list[str] = field(default_factory=list)  # runtimes not shown and why, problems
    settings: dict[str, Any] = field(default_factory=dict)  # seed, episodes, runtimes

    def load(self, result: dict[str, Any] | None) -> None:
        result = result or {}
        self.rows = list(result.get("rows", []))
        self.recording = Path(result["recording"]) if result.get("recording") else None
        fps = result.get("fps") or {}
        self.fps_asked, self.fps_measured = fps.get("asked"), fps.get("measured")
        self.notes = list(result.get("notes", []))
        self.settings = dict(result.get("settings", {}))

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "recording": str(self.recording) if self.recording else None,
                "fps": {"asked": self.fps_asked, "measured": self.fps_measured}, "notes": self.notes,
                "settings": self.settings}


class ModelEntry:
    """Events: ``described()``, ``run()`` (the run folder or what it holds changed), ``pipeline(stage)``,
    ``bench()``, ``rollout()``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.kind = kind_of(self.path)
        self.info: dict[str, Any] | None = None
        self.error: str | None = None
        self.details: dict[str, Any] = {}
        self.sha256: str | None = None
        self.loaded = False  # described (an ONNX or TFLite file has details, not info)
        self.label = self.base_name  # unique in the session (the session sets it)
        self.default_run: Path | None = None
        self.out: Path | None = None  # an output folder the user chose instead of the default
        self.run: RunRecord | None = None
        self.pipeline = PipelineState()
        self.bench = BenchState()
        self.rollout = RolloutState()
        self.events = Events("described", "run", "pipeline", "bench", "rollout")

    # What the file is ------------------------------------------------------------------------------
    @property
    def base_name(self) -> str:
        """The file name, or ``ALGO/ENV_1`` for an RL Zoo agent (its files are all called ENV.zip)."""
        return LibraryEntry(self.path, self.kind).name

    @property
    def convertible(self) -> bool:
        return self.kind == "sb3" and self.info is not None

    @property
    def env_id(self) -> str | None:
        return ((self.info or {}).get("environment") or {}).get("id")

    def describe_with(self, description: LibraryEntry) -> None:
        self.info, self.error, self.details = description.info, description.error, description.details
        self.sha256 = description.sha256
        self.loaded = True
        self.events.described.emit()

    # Its run folder --------------------------------------------------------------------------------
    @property
    def run_dir(self) -> Path | None:
        """Where this model is converted to: the folder the user chose, or its own default."""
        if self.kind != "sb3":
            return None
        return self.out or self.default_run

    def set_out(self, folder: Path | None) -> None:
        if folder != self.out:
            self.out = folder
            self.reload_run()

    def reload_run(self) -> None:
        """Read the run folder again (after a conversion, a benchmark or a rollout, or on start)."""
        folder = self.run_dir
        self.run = RunRecord(folder) if folder is not None else None
        if not self.pipeline.running and (self.pipeline.run_dir != folder or not self.pipeline.stages):
            # What the folder recorded (a run of this session keeps its live state: tracebacks and all).
            manifest = self.run.manifest if self.run else None
            self.pipeline = PipelineState.from_manifest(manifest, folder) if manifest and folder else PipelineState()
        history = self.run.bench_history() if self.run else []
        if not self.bench.running and not self.bench.unkept and self.bench.source != (history[0] if history else None):
            self.bench.load(self.run.latest_bench() if self.run else None, history[0] if history else None)
        latest = self.run.rollouts() if self.run else []
        self.rollout.load(latest[0] if latest else None)
        self.events.run.emit()

    @property
    def converted(self) -> bool:
        return self.run is not None and self.run.exists

    def graphs(self) -> list[ArtifactInfo]:
        """The files the Graph tab can show for this model: its run's ONNX and TFLite artifacts, or itself."""
        if self.kind in ("onnx", "tflite") and self.path.is_file():
            size = self.path.stat().st_size
            return [ArtifactInfo(self.kind, "ONNX" if self.kind == "onnx" else "TFLite", self.path, size, "made")]
        return self.run.graphs() if self.run else []

    def conversions(self) -> dict[str, str]:
        return self.run.conversions() if self.run else {}
