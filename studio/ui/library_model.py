"""The session's models as a Qt table: one row per model, kept in step with the session's events."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from studio.core.labels import SHORT_ARTIFACT
from studio.core.session import ModelEntry, Session

COLUMNS = ["Model", "Algorithm", "Conversions", "Environment", "Observation", "Action", "Parameters", "Size"]
TIPS = {"Conversions": "✓ verified · ✗ failed verification · ~ measured only · made, not verified"}
MARKS = {"passed": "✓", "failed": "✗", "measured": "~", "made": "·"}
Index = QModelIndex | QPersistentModelIndex


def conversions_text(entry: ModelEntry) -> str:
    if entry.kind != "sb3":
        return "artifact"
    states = entry.conversions()
    if not states:
        return "converting…" if entry.pipeline.running else "not converted"
    return "  ".join(f"{SHORT_ARTIFACT.get(k, k)} {MARKS.get(v, '·')}" for k, v in states.items())


def _size(entry: ModelEntry) -> str:
    try:
        size = entry.path.stat().st_size
    except OSError:
        return "missing"
    return f"{size / 1024:.0f} KiB" if size < 1 << 20 else f"{size / (1 << 20):.1f} MiB"


class QtLibraryModel(QAbstractTableModel):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.entries: list[ModelEntry] = list(session.entries)  # the rows, changed only between begin/end
        session.events.added.connect(self._on_added)
        session.events.removed.connect(self._on_removed)
        session.events.changed.connect(self._on_changed)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 - Qt's name
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return TIPS.get(COLUMNS[section])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        entry = self.entries[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(entry, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if entry.error:
                return entry.error
            if entry.info and column in ("Observation", "Action"):
                return entry.info["observation_space" if column == "Observation" else "action_space"]
            return str(entry.path)
        if role == Qt.ItemDataRole.ForegroundRole and entry.error:
            return QBrush(QColor("#c62828"))
        return None

    def _text(self, entry: ModelEntry, column: str) -> str:
        if column == "Model":
            return entry.label
        if column == "Size":
            return _size(entry)
        if entry.error:
            return "cannot be read" if column == "Algorithm" else ""
        if not entry.loaded:
            return "loading…" if column == "Algorithm" else ""
        if entry.info is None:  # an ONNX or TFLite file: its graph and its latency
            return {"Algorithm": entry.kind.upper().replace("TFLITE", "TFLite"),
                    "Conversions": conversions_text(entry)}.get(column, "")
        info = entry.info
        return {
            "Algorithm": info["algorithm"],
            "Environment": entry.env_id or "",
            "Conversions": conversions_text(entry),
            "Observation": info.get("observation_short", info["observation_space"]),
            "Action": info.get("action_short", info["action_space"]),
            "Parameters": f"{info['parameters']:,}",
        }.get(column, "")

    def row_of(self, entry: ModelEntry | None) -> int | None:
        return self.entries.index(entry) if entry in self.entries else None

    def _on_added(self, entry: ModelEntry) -> None:
        row = len(self.entries)
        self.beginInsertRows(QModelIndex(), row, row)
        self.entries.append(entry)
        self.endInsertRows()
        self._all_labels()  # a new row may have given an older one a "(where)" tag

    def _on_removed(self, entry: ModelEntry) -> None:
        row = self.row_of(entry)
        if row is not None:
            self.beginRemoveRows(QModelIndex(), row, row)
            self.entries.pop(row)
            self.endRemoveRows()
            self._all_labels()

    def _on_changed(self, entry: ModelEntry) -> None:
        row = self.row_of(entry)
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def _all_labels(self) -> None:
        if self.entries:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.entries) - 1, 0))
