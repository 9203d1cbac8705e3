"""The selected stage's log, error details, and Edge TPU op table."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QPlainTextEdit, QTableWidget, QTableWidgetItem, QTabWidget

from studio.core.session import StageState


def _text_view(placeholder: str) -> QPlainTextEdit:
    view = QPlainTextEdit()
    view.setReadOnly(True)
    view.setAcceptDrops(False)
    view.setTabChangesFocus(True)
    view.setPlaceholderText(placeholder)
    return view


class QtStageDetails(QTabWidget):
    def __init__(self) -> None:
        super().__init__()
        self.log = _text_view("Select a stage to see its log.")
        self.error = _text_view("No error.")
        self.ops = QTableWidget(0, 3)
        self.ops.setHorizontalHeaderLabels(["Op", "Runs on", "Why"])
        self.ops.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.ops.horizontalHeader().setStretchLastSection(True)
        self.ops.verticalHeader().hide()
        self.ops.setTabKeyNavigation(False)
        self.ops.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.addTab(self.log, "Log")
        self.addTab(self.error, "Error details")
        self.addTab(self.ops, "Edge TPU ops")
        self.shown: tuple[str, int] | None = None  # (stage, log lines) on screen

    def show_stage(self, stage: StageState | None, manifest: dict[str, Any] | None = None) -> None:
        if stage is None:
            self.log.clear()
            self.error.clear()
            self.ops.setRowCount(0)
            self.shown = None
            return
        self._show_log(stage)
        if stage.error:
            self.error.setPlainText(stage.error + ("\n\n" + stage.error_details if stage.error_details else ""))
            self.setCurrentWidget(self.error)
        else:
            self.error.clear()
        self._show_ops(stage, manifest)

    def _show_log(self, stage: StageState) -> None:
        """Append what is new when the same stage grows (a live log), else draw it whole."""
        if self.shown is not None and self.shown[0] == stage.name and self.shown[1] <= len(stage.log):
            for line in stage.log[self.shown[1]:]:
                self.log.appendPlainText(line)
        else:
            head = [stage.description, ""] if stage.description else []
            self.log.setPlainText("\n".join([*head, *stage.log]))
            self.log.verticalScrollBar().setValue(self.log.verticalScrollBar().maximum())
        self.shown = (stage.name, len(stage.log))

    def _show_ops(self, stage: StageState, manifest: dict[str, Any] | None) -> None:
        table: list[tuple[str, str, str]] = []
        artifacts = (manifest or {}).get("artifacts", {})
        compiler = artifacts.get("edgetpu", {}).get("compiler")
        readiness = artifacts.get("tflite_int8", {}).get("edgetpu_readiness")
        if stage.name == "edgetpu" and compiler:
            table = [(op["operator"], "Edge TPU" if op["mapped"] else "CPU", op["status"]) for op in compiler["ops"]]
        elif stage.name.startswith("edgetpu") and readiness:
            table = [(f"{op['index']}: {op['op']}", "Edge TPU" if op["status"] == "maps" else "CPU", op.get("reason", ""))
                     for op in readiness["ops"]]
        self.ops.setRowCount(len(table))
        for index, cells in enumerate(table):
            for column, text in enumerate(cells):
                self.ops.setItem(index, column, QTableWidgetItem(text))
        if table and not stage.error:
            self.setCurrentWidget(self.ops)
