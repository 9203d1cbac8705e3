"""Describes the session's models in a background thread (loading a model imports torch and takes
time) and hands each description to the session in the GUI thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from studio.core.library import LibraryEntry
from studio.core.session import ModelEntry, Session


class _DescribeSignals(QObject):
    described = Signal(object)


class _DescribeTask(QRunnable):
    def __init__(self, path: Path, runs: Path | None, signals: _DescribeSignals) -> None:
        super().__init__()
        self.path, self.runs, self.signals = path, runs, signals

    def run(self) -> None:
        from studio.core.library import describe

        self.signals.described.emit(describe(self.path, self.runs))


class LibraryController(QObject):
    """``described(ModelEntry)`` in the GUI thread once the session has the description."""

    described = Signal(object)

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)  # one at a time: the first load imports torch and SB3
        self._signals = _DescribeSignals()
        self._signals.described.connect(self._relay)
        self.pending = 0
        session.events.added.connect(self.describe)

    def describe(self, entry: ModelEntry) -> None:
        self.pending += 1
        self.pool.start(_DescribeTask(entry.path, self.session.runs, self._signals))

    @Slot(object)
    def _relay(self, description: LibraryEntry) -> None:
        self.pending -= 1
        entry = self.session.described(description)
        if entry is not None:
            self.described.emit(entry)

    def shutdown(self) -> None:
        self.pool.clear()
        self.pool.waitForDone(30_000)
