"""The selected stage's log, error details, and Edge TPU op table."""

from __future__ import annotations

import traceback
from typing import Any

from PySide6.QtWidgets import QHeaderView, QPlainTextEdit, QTableWidget, QTableWidgetItem, QTabWidget

from .int8_diagnostics import QtInt8Diagnostics
from .stage_table import StageRow

INT8_STAGES = ("tflite", "verify-tflite-int8", "verify-tflite-full-int8", "int8-repair")


class QtStageDetails(QTabWidget):
    def __init__(self) -> None:
        super().__init__()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setAcceptDrops(False)
        self.log.setPlaceholderText("Select a stage to see its log.")
        self.error = QPlainTextEdit()
        self.error.setReadOnly(True)
        self.error.setAcceptDrops(False)
        self.error.setPlaceholderText("No error.")
        self.ops = QTableWidget(0, 3)
        self.ops.setHorizontalHeaderLabels(["Op", "Runs on", "Why"])
        self.ops.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.ops.horizontalHeader().setStretchLastSection(True)
        self.ops.verticalHeader().hide()
        self.addTab(self.log, "Log")
        self.addTab(self.error, "Error details")
        self.addTab(self.ops, "Edge TPU ops")
        self.int8 = QtInt8Diagnostics()
        self.addTab(self.int8, "int8 diagnostics")

    def show_stage(self, row: StageRow | None, manifest: dict[str, Any] | None = None) -> None:
        if row is None:
            self.log.clear()
            self.error.clear()
            return
        self.log.setPlainText("\n".join([row.description, "", *row.log]) if row.description else "\n".join(row.log))
        self.log.verticalScrollBar().setValue(self.log.verticalScrollBar().maximum())
        if row.error is not None:
            details = "".join(traceback.format_exception(row.error))
            self.error.setPlainText(f"{row.error}\n\n{details}")
            self.setCurrentWidget(self.error)
        else:
            self.error.clear()
        self._show_ops(row, manifest)
        if self.int8.show_manifest(manifest if row.name in INT8_STAGES else None,
                                   "tflite_full_int8" if row.name.endswith("full-int8") else None) and row.error is None:
            self.setCurrentWidget(self.int8)

    def _show_ops(self, row: StageRow, manifest: dict[str, Any] | None) -> None:
        table: list[tuple[str, str, str]] = []
        artifacts = (manifest or {}).get("artifacts", {})
        compiler = artifacts.get("edgetpu", {}).get("compiler")
        readiness = artifacts.get("tflite_int8", {}).get("edgetpu_readiness")
        if row.name == "edgetpu" and compiler:
            table = [(op["operator"], "Edge TPU" if op["mapped"] else "CPU", op["status"]) for op in compiler["ops"]]
        elif row.name.startswith("edgetpu") and readiness:
            table = [(f"{op['index']}: {op['op']}", "Edge TPU" if op["status"] == "maps" else "CPU", op.get("reason", ""))
                     for op in readiness["ops"]]
        self.ops.setRowCount(len(table))
        for index, cells in enumerate(table):
            for column, text in enumerate(cells):
                self.ops.setItem(index, column, QTableWidgetItem(text))
        if table and row.error is None:
            self.setCurrentWidget(self.ops)
