"""A conversion's stages as the studio shows them: live from the pipeline's events, or restored from a
run folder's ``run.json`` and ``logs/`` after a restart.

Qt-free: the Pipeline tab draws a :class:`PipelineState`; the controller feeds it events.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import StudioError
from ..pipeline.events import (
    RunFinished,
    StageCancelled,
    StageFailed,
    StageFinished,
    StageLog,
    StageProgress,
    StageSkipped,
    StageStarted,
)

DONE = ("passed", "measured", "cached", "skipped", "failed", "cancelled", "not run")


@dataclass
class StageState:
    name: str
    description: str = ""
    status: str = "waiting"  # waiting, running, then one of DONE
    started: float | None = None  # time.monotonic() when it started (live runs only)
    seconds: float | None = None
    fraction: float = 0.0
    message: str = ""  # the latest progress message
    result: str = ""
    error: str | None = None  # one line
    error_details: str | None = None  # the traceback, when the error happened in this session
    log: list[str] = field(default_factory=list)
    artifact: str | None = None  # the key of the artifact it made

    def elapsed(self, now: float | None = None) -> float | None:
        if self.seconds is not None:
            return self.seconds
        if self.started is None:
            return None
        return (now or time.monotonic()) - self.started


class PipelineState:
    """The stages of one run, in order; ``status`` is "" (nothing run), "running" or the run's status."""

    def __init__(self) -> None:
        self.stages: dict[str, StageState] = {}
        self.status = ""
        self.run_dir: Path | None = None
        self.manifest: dict[str, Any] | None = None

    @property
    def running(self) -> bool:
        return self.status == "running"

    def reset(self, plan: list[tuple[str, str]], run_dir: Path | None = None) -> None:
        """A new run is about to start: its stages, all waiting."""
        self.stages = {name: StageState(name, description) for name, description in plan}
        self.status, self.run_dir, self.manifest = "running", run_dir, None

    def apply(self, event: Any) -> StageState | None:
        """Take one pipeline event; returns the stage it changed (None for the run's end)."""
        if isinstance(event, RunFinished):
            self._finish(event)
            return None
        name = getattr(event, "stage", None)
        if name is None:
            return None
        stage = self.stages.setdefault(name, StageState(name))
        if isinstance(event, StageStarted):
            stage.status, stage.started, stage.description = "running", time.monotonic(), event.description
        elif isinstance(event, StageProgress):
            stage.fraction, stage.message = event.fraction, event.message
        elif isinstance(event, StageLog):
            stage.log.append(("WARNING: " if event.warning else "") + event.line)
        elif isinstance(event, StageFinished):
            stage.status, stage.seconds, stage.result = event.verdict, event.seconds, event.summary
            stage.fraction = 1.0
            stage.artifact = getattr(event.artifact, "key", None)
        elif isinstance(event, StageSkipped):
            cached = "unchanged" in event.reason
            stage.status, stage.result, stage.seconds = ("cached" if cached else "skipped"), event.reason, 0.0
            stage.fraction = 1.0 if cached else stage.fraction
        elif isinstance(event, StageFailed):
            stage.status, stage.seconds = "failed", event.seconds
            stage.error = _error_line(event.error)
            stage.error_details = "".join(traceback.format_exception(event.error))
        elif isinstance(event, StageCancelled):
            stage.status, stage.seconds = "cancelled", event.seconds
        return stage

    def _finish(self, finished: RunFinished) -> None:
        self.status, self.manifest = finished.status, finished.manifest
        self.run_dir = finished.run_dir or self.run_dir  # a run refused before it began wrote nothing
        for stage in self.stages.values():
            if stage.status == "waiting":
                stage.status = "not run"
            elif stage.status == "running":
                stage.status, stage.seconds = "cancelled", stage.elapsed()
        cached = {s["name"]: s for s in finished.manifest.get("stages", [])}
        for name, stage in self.stages.items():  # a cached stage shows what it had found when it ran
            record = cached.get(name, {})
            if stage.status == "cached" and record.get("summary"):
                stage.result = f"{record['summary']} (unchanged)"

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any], run_dir: Path) -> "PipelineState":
        """The stages a finished run recorded, with their logs from ``logs/STAGE.log``."""
        state = cls()
        state.status, state.run_dir, state.manifest = manifest.get("status", ""), run_dir, manifest
        for record in manifest.get("stages", []):
            name = record.get("name", "?")
            status = record.get("status", "")
            if status == "passed":
                status = record.get("verdict", "passed")
            stage = StageState(name, status=status, seconds=record.get("seconds"))
            stage.result = record.get("summary") or record.get("reason") or ""
            stage.error = record.get("error")
            stage.fraction = 1.0 if status in ("passed", "measured", "cached") else 0.0
            artifacts = record.get("artifacts") or []
            stage.artifact = artifacts[0] if artifacts else None
            stage.log = _read_log(run_dir / "logs" / f"{name}.log")
            state.stages[name] = stage
        return state


def _error_line(error: BaseException) -> str:
    return error.problem if isinstance(error, StudioError) else f"{type(error).__name__}: {error}"


def _read_log(path: Path) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()
    except OSError:
        return []
