"""A folder the library watches: models saved into it appear in the browser."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal


class FolderWatcher(QObject):
    """``found(list[Path])`` with the folder's models when it is set and whenever its content changes."""

    found = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder: Path | None = None
        self._watcher = QFileSystemWatcher(self)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(500)  # a model being written fires several changes
        self._debounce.timeout.connect(self.scan)
        self._watcher.directoryChanged.connect(lambda _: self._debounce.start())

    def watch(self, folder: Path) -> None:
        if self._watcher.directories():
            self._watcher.removePaths(self._watcher.directories())
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._watcher.addPath(str(folder))
        self.scan()

    def scan(self) -> None:
        if self.folder is None:
            return
        from studio.core.library import discover

        models = [p for p in discover(self.folder) if p != self.folder]
        if models:
            self.found.emit(models)
