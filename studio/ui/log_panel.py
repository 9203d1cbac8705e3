"""The log panel: what the pipeline and the library say, one line each."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtWidgets import QPlainTextEdit

from studio.core.errors import StudioError
from studio.core.pipeline.events import (
    RunFinished,
    StageCancelled,
    StageFailed,
    StageFinished,
    StageLog,
    StageSkipped,
    StageStarted,
)


class QtLogPanel(QPlainTextEdit):
    def __init__(self) -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setAcceptDrops(False)
        self.setMaximumBlockCount(20_000)
        self.setPlaceholderText("The studio's log.")

    def write(self, line: str) -> None:
        self.appendPlainText(f"{time.strftime('%H:%M:%S')}  {line}")

    def pipeline_event(self, event: Any) -> None:
        stage = getattr(event, "stage", "")
        if isinstance(event, StageStarted):
            self.write(f"[{stage}] {event.description}")
        elif isinstance(event, StageLog):
            self.write(f"[{stage}] {'WARNING: ' if event.warning else ''}{event.line}")
        elif isinstance(event, StageFinished):
            self.write(f"[{stage}] done in {event.seconds:.2f} s: {event.summary}")
        elif isinstance(event, StageSkipped):
            self.write(f"[{stage}] skipped: {event.reason}")
        elif isinstance(event, StageCancelled):
            self.write(f"[{stage}] cancelled")
        elif isinstance(event, StageFailed):
            error = event.error
            self.write(f"[{stage}] FAILED: {error.line() if isinstance(error, StudioError) else error}")
        elif isinstance(event, RunFinished):
            self.write(f"run {event.status}: {event.run_dir or 'nothing written'}")
