"""Runs the conversion pipeline off the UI thread.

The controller lives in the GUI thread and owns a QThread whose worker iterates the core's
``run_pipeline`` generator; every event crosses to the GUI thread as a queued signal and is re-emitted
by the controller, so widgets (and tests) only ever see signals from the GUI thread.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.core.pipeline.events import RunFinished
from studio.core.pipeline.spec import ConvertSpec


class _PipelineWorker(QObject):
    event = Signal(object)
    done = Signal()

    def __init__(self, spec: ConvertSpec, cancel: threading.Event) -> None:
        super().__init__()
        self.spec = spec
        self.cancel = cancel

    @Slot()
    def run(self) -> None:
        from studio.core.pipeline.runner import execute

        try:
            execute(self.spec, self.event.emit, self.cancel)
        finally:
            self.done.emit()


class PipelineController(QObject):
    """Signals: ``event(object)`` for each pipeline event, ``finished(object)`` with the RunFinished."""

    event = Signal(object)
    finished = Signal(object)
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: _PipelineWorker | None = None
        self._cancel = threading.Event()
        self.spec: ConvertSpec | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, spec: ConvertSpec) -> None:
        if self.running:
            raise RuntimeError("a run is already in progress")
        self.spec = spec
        self._cancel = threading.Event()
        self._thread = QThread()
        self._worker = _PipelineWorker(spec, self._cancel)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.event.connect(self._on_event)
        self._worker.done.connect(self._on_done)
        self._thread.start()
        self.running_changed.emit(True)

    def cancel(self) -> None:
        self._cancel.set()

    @Slot(object)
    def _on_event(self, event: object) -> None:
        self.event.emit(event)
        if isinstance(event, RunFinished):
            self.finished.emit(event)

    @Slot()
    def _on_done(self) -> None:
        assert self._thread is not None
        self._thread.quit()
        self._thread.wait()
        self._thread = None
        self._worker = None
        self.running_changed.emit(False)

    def shutdown(self) -> None:
        """Cancel and wait: called when the window closes."""
        if self._thread is not None:
            self._cancel.set()
            self._thread.quit()
            self._thread.wait(30_000)
