"""The log panel: what the pipeline and the library say, one line each."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtWidgets import QPlainTextEdit

from studio.core.pipeline.events import event_text


class QtLogPanel(QPlainTextEdit):
    def __init__(self) -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setTabChangesFocus(True)
        self.setAcceptDrops(False)
        self.setMaximumBlockCount(20_000)
        self.setPlaceholderText("The studio's log.")

    def write(self, line: str) -> None:
        self.appendPlainText(f"{time.strftime('%H:%M:%S')}  {line}")

    def pipeline_event(self, event: Any) -> None:
        text = event_text(event)
        if text is not None:
            stage = getattr(event, "stage", None)
            self.write(f"[{stage}] {text}" if stage else text)
