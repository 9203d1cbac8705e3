"""What a running stage sees: the run's context and a progress reporter that can be cancelled."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import Cancelled
from ..loading import LoadedModel
from ..observations import ObservationSet
from ..policy_io import PolicyIO
from .events import StageLog, StageProgress
from .spec import ConvertSpec


class Progress:
    """Reports a stage's progress and log lines, and raises :class:`Cancelled` when asked to stop."""

    def __init__(self, stage: str, emit: Callable[[Any], None], cancel: threading.Event) -> None:
        self.stage = stage
        self._emit = emit
        self._cancel = cancel
        self.lines: list[str] = []
        self._span = (0.0, 1.0)

    def set(self, fraction: float, message: str = "") -> None:
        self.check()
        low, high = self._span
        self._emit(StageProgress(self.stage, low + (high - low) * max(0.0, min(1.0, fraction)), message))

    def within(self, low: float, high: float) -> "Progress":
        """A reporter for one part of the stage: its fractions 0..1 fill ``low``..``high`` of this one's bar;
        same log, same cancel."""
        part = Progress(self.stage, self._emit, self._cancel)
        part.lines = self.lines
        a, b = self._span
        part._span = (a + (b - a) * low, a + (b - a) * high)
        return part

    def log(self, line: str) -> None:
        self.lines.append(line)
        self._emit(StageLog(self.stage, line))

    def warn(self, line: str) -> None:
        self.lines.append("WARNING: " + line)
        self._emit(StageLog(self.stage, line, warning=True))

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    @property
    def cancelled(self) -> threading.Event:
        return self._cancel


@dataclass
class Artifact:
    key: str  # the run.json key: "onnx", "tflite_fp32", ...
    path: Path  # relative to the run folder
    sha256: str
    bytes: int
    verification: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, key: str, data: dict[str, Any]) -> "Artifact":
        known = {"path", "sha256", "bytes", "verification"}
        return cls(key, Path(data["path"]), data["sha256"], data["bytes"], data.get("verification"),
                   {k: v for k, v in data.items() if k not in known})

    def to_json(self) -> dict[str, Any]:
        data = {"path": self.path.as_posix(), "sha256": self.sha256, "bytes": self.bytes}
        if self.verification is not None:
            data["verification"] = self.verification
        data.update(self.details)
        return data


@dataclass
class RunContext:
    spec: ConvertSpec
    run_dir: Path
    loaded: LoadedModel | None = None
    observations: list[ObservationSet] = field(default_factory=list)
    calibration: ObservationSet | None = None
    io: PolicyIO | None = None
    converter: Any = None  # an onnx2tf child started when the run began (TensorFlow loads meanwhile)
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)  # what run.json records about the run
    cache: dict[str, Any] = field(default_factory=dict)  # what stages share and run.json does not keep

    def io_of(self, key: str) -> PolicyIO | None:
        """How to feed artifact ``key``: its own I/O where it has one (a repaired int8 model whose input is
        transformed on the float side), else the run's."""
        artifact = self.artifacts.get(key)
        own = artifact.details.get("io") if artifact is not None else None
        return PolicyIO.from_json(own) if own else self.io
