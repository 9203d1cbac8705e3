"""The selected stage's log, error details, Edge TPU op table, and the selected model's int8 diagnostics."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QPlainTextEdit, QTableWidget, QTableWidgetItem, QTabWidget

from studio.core.session import StageState

from .int8_diagnostics import QtInt8Diagnostics

INT8_STAGES = ("tflite", "verify-tflite-int8", "verify-tflite-full-int8", "int8-repair")


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
        self.int8 = QtInt8Diagnostics()
        self.addTab(self.int8, "int8 diagnostics")
        self.shown: tuple[str, int] | None = None  # (stage, log lines) on screen
        self.int8_shown: tuple[dict[str, Any] | None, str | None] | None = None

    def show_stage(self, stage: StageState | None, manifest: dict[str, Any] | None = None) -> None:
        # The model's int8 diagnostics whatever stage is selected; an int8 stage brings them forward.
        prefer = "tflite_full_int8" if stage and stage.name.endswith("full-int8") else None
        if self.int8_shown is None or self.int8_shown[0] is not manifest or self.int8_shown[1] != prefer:
            self.int8_shown = (manifest, prefer)  # a live log redraws often; the tables only when they change
            self.int8.show_manifest(manifest, prefer)
        has_int8 = bool(self.int8.artifacts)
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
        if has_int8 and stage.name in INT8_STAGES and not stage.error:
            self.setCurrentWidget(self.int8)

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
