"""Plain event objects the runner yields. The CLI prints them; the GUI worker forwards them as signals."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StageStarted:
    stage: str
    description: str
    outputs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StageProgress:
    stage: str
    fraction: float
    message: str = ""


@dataclass(frozen=True)
class StageLog:
    stage: str
    line: str
    warning: bool = False  # something the user must know (shown even when not verbose)


@dataclass(frozen=True)
class StageFinished:
    stage: str
    seconds: float
    summary: str
    artifact: Any = None  # an Artifact for stages that make one
    verdict: str = "passed"  # or "measured": figures reported, judged by a later stage or not at all


@dataclass(frozen=True)
class StageSkipped:
    stage: str
    reason: str


@dataclass(frozen=True)
class StageFailed:
    stage: str
    seconds: float
    error: BaseException


@dataclass(frozen=True)
class StageCancelled:
    stage: str
    seconds: float


@dataclass(frozen=True)
class RunFinished:
    run_dir: Path | None
    status: str  # "passed", "failed", "cancelled"
    manifest: dict[str, Any]


Event = StageStarted | StageProgress | StageLog | StageFinished | StageSkipped | StageFailed | StageCancelled | RunFinished


def event_text(event: Event) -> str | None:
    """One line that says what ``event`` means (without its stage name); None for progress."""
    if isinstance(event, StageStarted):
        return event.description
    if isinstance(event, StageLog):
        return ("WARNING: " if event.warning else "") + event.line
    if isinstance(event, StageFinished):
        done = "measured" if event.verdict == "measured" else "done"
        return f"{done} in {event.seconds:.2f} s: {event.summary}"
    if isinstance(event, StageSkipped):
        return f"skipped: {event.reason}"
    if isinstance(event, StageCancelled):
        return f"cancelled after {event.seconds:.2f} s"
    if isinstance(event, StageFailed):
        error = event.error
        line = error.line() if hasattr(error, "line") else f"{type(error).__name__}: {error}"
        return f"FAILED: {line}"
    if isinstance(event, RunFinished):
        return f"run {event.status}: {event.run_dir or 'nothing written'}"
    return None
