"""The model browser: the session's models in a table, and what the selected one is."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QAction, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from studio.core.session import ModelEntry, Session

from .library_model import QtLibraryModel

HINT = "Drop SB3 models (.zip), RL Zoo folders, or .onnx / .tflite files on this window, or press Ctrl+O."


def describe_entry(entry: ModelEntry) -> str:
    """The details pane's text for ``entry``."""
    if entry.error:
        return f"This file cannot be used.\n\n{entry.error}"
    if not entry.loaded:
        return f"Loading {entry.path}…"
    if entry.info is None:
        lines = [f"File        {entry.path}", f"Kind        {entry.kind.upper()} (view its graph, or benchmark it)"]
        lines += [f"{key:<12}{value}" for key, value in entry.details.items()]
        return "\n".join(lines)
    from studio.core.inspection import format_inspection

    text = format_inspection(entry.info)
    if entry.run_dir is not None:
        state = f"{entry.run.status}, {len(entry.run.artifacts())} artifacts" if entry.converted else "not converted yet"
        text += f"\nRun folder     {entry.run_dir} ({state})"
    return text


class QtModelBrowser(QWidget):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.model = QtLibraryModel(session)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; the arrows move within it
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.setAccessibleName("Models")
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        self.model.rowsInserted.connect(lambda *_: self.table.resizeColumnsToContents())
        self.model.dataChanged.connect(lambda *_: self._fit_columns())
        remove = QAction("Remove from the list", self.table)
        remove.setShortcut(QKeySequence.StandardKey.Delete)
        remove.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        remove.triggered.connect(self._remove_current)
        self.table.addAction(remove)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        self.hint.setObjectName("hint")
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setAcceptDrops(False)
        self.details.setTabChangesFocus(True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setPlaceholderText("Select a model to see what it is.")
        self.details.setAccessibleName("Model details")
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setSizes([300, 200])
        self.setMinimumWidth(220)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addWidget(splitter)
        session.events.selected.connect(self._on_selected)
        session.events.changed.connect(self._on_changed)

    def current(self) -> ModelEntry | None:
        return self.session.selected

    def select(self, entry: ModelEntry | None) -> None:
        self.session.select(entry)

    def _on_current(self, current, previous) -> None:  # noqa: ANN001 - QModelIndex
        entry = self.model.entries[current.row()] if current.isValid() else None
        self.session.select(entry)

    def _on_selected(self, entry: ModelEntry | None) -> None:
        row = self.model.row_of(entry)
        if row is None:
            self.table.selectionModel().clearSelection()
        elif self.table.currentIndex().row() != row:
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            self.table.selectionModel().setCurrentIndex(self.model.index(row, 0), flags)
            self.table.scrollTo(self.model.index(row, 0))
        self._show(entry)

    def _on_changed(self, entry: ModelEntry) -> None:
        if entry is self.session.selected:
            self._show(entry)

    def _show(self, entry: ModelEntry | None) -> None:
        if entry is None:
            self.details.clear()
        else:
            self.details.setPlainText(describe_entry(entry))

    def _fit_columns(self) -> None:
        for column in range(self.model.columnCount() - 1):
            self.table.resizeColumnToContents(column)

    def _remove_current(self) -> None:
        if self.session.selected is not None:
            self.session.remove(self.session.selected)
