"""The library as a Qt table model: one row per model file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from studio.core.library import LibraryEntry

COLUMNS = ["Model", "Algorithm", "Environment", "Observation", "Action", "Parameters", "Size", "Conversions"]
_SHORT = {"onnx": "ONNX", "tflite_fp32": "fp32", "tflite_fp16": "fp16", "tflite_int8": "int8",
          "tflite_full_int8": "full-int8", "edgetpu": "EdgeTPU"}
Index = QModelIndex | QPersistentModelIndex


def conversions_text(entry: LibraryEntry) -> str:
    states = entry.conversions()
    if not states:
        return "not converted"
    marks = {"passed": "✓", "failed": "✗", "made": "·"}
    return "  ".join(f"{_SHORT.get(k, k)} {marks[v]}" for k, v in states.items())


def _size(entry: LibraryEntry) -> str:
    try:
        size = entry.path.stat().st_size
    except OSError:
        return ""
    return f"{size / 1024:.0f} KiB" if size < 1 << 20 else f"{size / (1 << 20):.1f} MiB"


class LibraryTableModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.entries: list[LibraryEntry] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 - Qt's name
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        entry = self.entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(entry, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            if entry.error:
                return entry.error
            if entry.info and index.column() in (3, 4):
                return entry.info["observation_space" if index.column() == 3 else "action_space"]
            return str(entry.path)
        if role == Qt.ItemDataRole.ForegroundRole and entry.error:
            return QBrush(QColor("#c62828"))
        return None

    def _text(self, entry: LibraryEntry, column: int) -> str:
        if column == 0:
            return entry.name
        if column == 6:
            return _size(entry)
        if entry.error:
            return "cannot be read" if column == 1 else ""
        if not entry.loaded:
            return "loading…" if column == 1 else ""
        info = entry.info
        if info is None:  # an ONNX or TFLite file: viewing and benchmarking only
            return {1: entry.kind.upper(), 2: "", 7: "artifact"}.get(column, "")
        values = {
            1: info["algorithm"],
            2: info["environment"]["id"] or "",
            3: info.get("observation_short", info["observation_space"]),
            4: info.get("action_short", info["action_space"]),
            5: f"{info['parameters']:,}",
            7: conversions_text(entry),
        }
        return values.get(column, "")

    def add(self, path: Path) -> int | None:
        """Add a row for ``path`` (not loaded yet); None when it is already there."""
        if any(e.path == path for e in self.entries):
            return None
        from studio.core.library import kind_of

        self.beginInsertRows(QModelIndex(), len(self.entries), len(self.entries))
        self.entries.append(LibraryEntry(path=path, kind=kind_of(path)))
        self.endInsertRows()
        return len(self.entries) - 1

    def update(self, entry: LibraryEntry) -> None:
        for row, existing in enumerate(self.entries):
            if existing.path == entry.path:
                self.entries[row] = entry
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
                return

    def refresh_conversions(self) -> None:
        if self.entries:
            self.dataChanged.emit(self.index(0, 7), self.index(len(self.entries) - 1, 7))
