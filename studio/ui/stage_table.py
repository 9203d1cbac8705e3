"""One row per pipeline stage: status, progress, elapsed time and result, fed by pipeline events."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QProgressBar, QTableWidget, QTableWidgetItem

from studio.core.errors import StudioError
from studio.core.pipeline.events import (
    StageCancelled,
    StageFailed,
    StageFinished,
    StageLog,
    StageProgress,
    StageSkipped,
    StageStarted,
)

COLORS = {"passed": "#1a7f37", "failed": "#c62828", "cancelled": "#b26a00", "skipped": "#6b6b6b",
          "running": "#1565c0", "cached": "#1a7f37", "waiting": "#6b6b6b"}


@dataclass
class StageRow:
    name: str
    description: str = ""
    status: str = "waiting"
    started: float | None = None
    seconds: float | None = None
    result: str = ""
    error: BaseException | None = None
    log: list[str] = field(default_factory=list)
    artifact: Any = None


class QtStageTable(QTableWidget):
    """``stage_changed(str)`` fires when a stage's log or result changes (the details pane follows)."""

    stage_changed = Signal(str)

    def __init__(self) -> None:
        super().__init__(0, 5)
        self.setHorizontalHeaderLabels(["Stage", "Status", "Progress", "Elapsed", "Result"])
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.horizontalHeader()
        for column in range(4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.rows: dict[str, StageRow] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._tick)

    def reset(self, stages: list[tuple[str, str]]) -> None:
        self.setRowCount(0)
        self.rows = {}
        for name, description in stages:
            self._add(StageRow(name, description))
        self._timer.start()

    def _add(self, row: StageRow) -> int:
        index = self.rowCount()
        self.insertRow(index)
        self.rows[row.name] = row
        name = QTableWidgetItem(row.name)
        name.setToolTip(row.description)
        self.setItem(index, 0, name)
        for column in (1, 3, 4):
            self.setItem(index, column, QTableWidgetItem(""))
        bar = QProgressBar()
        bar.setRange(0, 1000)
        bar.setValue(0)
        bar.setTextVisible(False)
        bar.setMaximumHeight(14)
        self.setCellWidget(index, 2, bar)
        self._paint(row)
        return index

    def _index(self, name: str) -> int:
        return list(self.rows).index(name)

    def _paint(self, row: StageRow) -> None:
        index = self._index(row.name)
        status = self.item(index, 1)
        status.setText(row.status)
        status.setForeground(QBrush(QColor(COLORS.get(row.status, "#000"))))
        text = row.result
        if row.error is not None:
            error = row.error
            text = error.problem if isinstance(error, StudioError) else f"{type(error).__name__}: {error}"
        result = self.item(index, 4)
        result.setText(text)
        result.setToolTip(text)
        result.setForeground(QBrush(QColor(COLORS["failed"] if row.error is not None else "#000")))
        bar = self.cellWidget(index, 2)
        if row.status in ("passed", "cached", "skipped", "failed", "cancelled") and isinstance(bar, QProgressBar):
            bar.setValue(1000 if row.status in ("passed", "cached") else bar.value())
        self._tick()

    def _tick(self) -> None:
        for name, row in self.rows.items():
            seconds = row.seconds
            if seconds is None and row.started is not None:
                seconds = time.monotonic() - row.started
            self.item(self._index(name), 3).setText("" if seconds is None else f"{seconds:.1f} s")

    def handle(self, event: Any) -> None:
        name = getattr(event, "stage", None)
        if name is None:
            return
        if name not in self.rows:
            self._add(StageRow(name))
        row = self.rows[name]
        if isinstance(event, StageStarted):
            row.status, row.started, row.description = "running", time.monotonic(), event.description
        elif isinstance(event, StageProgress):
            bar = self.cellWidget(self._index(name), 2)
            if isinstance(bar, QProgressBar):
                bar.setValue(int(event.fraction * 1000))
                bar.setToolTip(event.message)
            return
        elif isinstance(event, StageLog):
            row.log.append(("WARNING: " if event.warning else "") + event.line)
            self.stage_changed.emit(name)
            return
        elif isinstance(event, StageFinished):
            row.status, row.seconds, row.result, row.artifact = "passed", event.seconds, event.summary, event.artifact
        elif isinstance(event, StageSkipped):
            row.status, row.result = ("cached" if "unchanged" in event.reason else "skipped"), event.reason
            row.seconds = 0.0
        elif isinstance(event, StageFailed):
            row.status, row.seconds, row.error = "failed", event.seconds, event.error
        elif isinstance(event, StageCancelled):
            row.status, row.seconds = "cancelled", event.seconds
        self._paint(row)
        self.stage_changed.emit(name)

    def finish(self) -> None:
        self._timer.stop()
        for row in self.rows.values():
            if row.status in ("waiting", "running"):
                row.status = "not run" if row.status == "waiting" else row.status
                self._paint(row)

    def selected_stage(self) -> str | None:
        rows = self.selectionModel().selectedRows()
        return list(self.rows)[rows[0].row()] if rows else None
