"""One row per pipeline stage: status, progress, elapsed time and result; a view of a PipelineState."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QProgressBar, QTableWidget, QTableWidgetItem

from studio.core.session import PipelineState, StageState

COLORS = {"passed": "#1a7f37", "failed": "#c62828", "cancelled": "#b26a00", "skipped": "#6b6b6b",
          "running": "#1565c0", "cached": "#1a7f37", "waiting": "#6b6b6b", "measured": "#6a4fb3",
          "not run": "#6b6b6b"}
TIPS = {"measured": "figures only: a later stage (or nobody) judges them", "cached": "unchanged since the last run: restored"}


class QtStageTable(QTableWidget):
    def __init__(self) -> None:
        super().__init__(0, 5)
        self.setHorizontalHeaderLabels(["Stage", "Status", "Progress", "Elapsed", "Result"])
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setTabKeyNavigation(False)
        self.setWordWrap(False)
        self.setAccessibleName("Stages")
        header = self.horizontalHeader()
        for column in (0, 1, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        self.setColumnWidth(2, 64)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.state = PipelineState()
        self.names: list[str] = []
        self._timer = QTimer(self)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._tick)

    def show_state(self, state: PipelineState) -> None:
        """Draw every stage of ``state`` (another model's, or a new run)."""
        self.state = state
        selected = self.selected_stage()
        self.setRowCount(0)
        self.names = []
        for stage in state.stages.values():
            self._add(stage)
        if selected in self.names:
            self.selectRow(self.names.index(selected))
        self._timer.start() if state.running else self._timer.stop()
        self._tick()

    def update_stage(self, stage: StageState | None) -> None:
        """Redraw one stage (None: the run started or ended: redraw all)."""
        if stage is None or stage.name not in self.names:
            self.show_state(self.state)
            return
        self._paint(self.names.index(stage.name), stage)

    def _add(self, stage: StageState) -> None:
        index = self.rowCount()
        self.insertRow(index)
        self.names.append(stage.name)
        for column in (0, 1, 3, 4):
            self.setItem(index, column, QTableWidgetItem(""))
        bar = QProgressBar()
        bar.setRange(0, 1000)
        bar.setTextVisible(False)
        bar.setMaximumHeight(14)
        self.setCellWidget(index, 2, bar)
        self._paint(index, stage)

    def _paint(self, index: int, stage: StageState) -> None:
        name = self.item(index, 0)
        name.setText(stage.name)
        name.setToolTip(stage.description)
        status = self.item(index, 1)
        status.setText(stage.status)
        status.setForeground(QBrush(QColor(COLORS.get(stage.status, "#000"))))
        status.setToolTip(TIPS.get(stage.status, ""))
        text = stage.error or stage.result
        result = self.item(index, 4)
        result.setText(text)
        result.setToolTip(text)
        result.setForeground(QBrush(QColor(COLORS["failed"] if stage.error else "#000")))
        bar = self.cellWidget(index, 2)
        if isinstance(bar, QProgressBar):
            bar.setValue(int(stage.fraction * 1000))
            bar.setToolTip(stage.message)
        elapsed = stage.elapsed()
        self.item(index, 3).setText("" if elapsed is None else f"{elapsed:.1f} s")

    def _tick(self) -> None:
        for index, name in enumerate(self.names):
            stage = self.state.stages.get(name)
            if stage is not None and stage.status == "running":
                self.item(index, 3).setText(f"{stage.elapsed():.1f} s")
        if not self.state.running:
            self._timer.stop()

    def selected_stage(self) -> str | None:
        rows = self.selectionModel().selectedRows()
        return self.names[rows[0].row()] if rows and rows[0].row() < len(self.names) else None
