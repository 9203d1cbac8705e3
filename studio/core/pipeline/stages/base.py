"""The stage interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..context import Artifact, Progress, RunContext
from ..spec import ConvertSpec


@dataclass
class StagePlan:
    description: str
    outputs: list[str] = field(default_factory=list)  # paths relative to the run folder


@dataclass
class StageResult:
    summary: str
    artifact: Artifact | None = None
    skipped: str | None = None  # the reason, when the stage had nothing to do
    # "passed", or "measured": the stage reports figures it does not judge (int8 before its repair).
    verdict: str = "passed"


class Stage(Protocol):
    name: str

    def plan(self, spec: ConvertSpec) -> StagePlan:
        """Pure: validate the spec and say what will run and what it writes."""
        ...

    def run(self, ctx: RunContext, progress: Progress) -> StageResult:
        ...
