"""The model browser: the library table and the selected model's details."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QPlainTextEdit, QSplitter, QTableView, QVBoxLayout, QWidget

from studio.core.library import LibraryEntry

from .library_controller import LibraryController
from .library_model import LibraryTableModel

HINT = "Drop SB3 models (.zip), RL Zoo folders, or .onnx / .tflite files anywhere on this window, or use File > Open."


class QtModelBrowser(QWidget):
    """Signals ``selected(LibraryEntry | None)`` when the selection changes, ``added(Path)`` per new file."""

    selected = Signal(object)
    added = Signal(object)

    def __init__(self, library: LibraryController) -> None:
        super().__init__()
        self.library = library
        self.model = LibraryTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        self.hint.setObjectName("hint")
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setAcceptDrops(False)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setPlaceholderText("Select a model to see what it is.")
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setSizes([300, 200])
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addWidget(splitter)
        library.described.connect(self._on_described)

    def add_paths(self, paths: list[Path]) -> None:
        from studio.core.library import discover

        for path in paths:
            for found in discover(Path(path)):
                row = self.model.add(found)
                if row is not None:
                    self.library.describe(found)
                    self.added.emit(found)
                    if self.table.selectionModel().selectedRows() == []:
                        self.table.selectRow(row)

    def current(self) -> LibraryEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.entries[rows[0].row()] if rows else None

    def _on_described(self, entry: LibraryEntry) -> None:
        self.model.update(entry)
        if self.current() is not None and self.current().path == entry.path:
            self._show(entry)
            self.selected.emit(entry)

    def _on_selection(self) -> None:
        entry = self.current()
        self._show(entry)
        self.selected.emit(entry)

    def _show(self, entry: LibraryEntry | None) -> None:
        if entry is None:
            self.details.clear()
        elif entry.error:
            self.details.setPlainText(f"This file cannot be used.\n\n{entry.error}")
        elif not entry.loaded:
            self.details.setPlainText(f"Loading {entry.path}…")
        elif entry.info is not None:
            from studio.core.inspection import format_inspection

            self.details.setPlainText(format_inspection(entry.info))
        else:
            self.details.setPlainText(f"{entry.path}\n\n" + json.dumps(entry.details, indent=2))

    def refresh(self) -> None:
        self.model.refresh_conversions()
