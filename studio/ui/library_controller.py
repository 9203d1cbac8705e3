"""Describes library entries in a background thread (loading a model imports torch and takes time)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from studio.core.library import LibraryEntry


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
    """``described(LibraryEntry)`` arrives in the GUI thread for every path given to :meth:`describe`."""

    described = Signal(object)

    def __init__(self, runs: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs = runs
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)  # one at a time: the first load imports torch and SB3
        self._signals = _DescribeSignals()
        self._signals.described.connect(self._relay)
        self.pending = 0

    def describe(self, path: Path) -> None:
        self.pending += 1
        self.pool.start(_DescribeTask(path, self.runs, self._signals))

    @Slot(object)
    def _relay(self, entry: LibraryEntry) -> None:
        self.pending -= 1
        self.described.emit(entry)
