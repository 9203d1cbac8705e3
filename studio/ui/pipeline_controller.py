"""Runs the conversion pipeline off the UI thread, for one model of the session at a time.

The controller lives in the GUI thread and owns a QThread whose worker iterates the core's
``execute``; every event crosses to the GUI thread as a queued signal, goes into the converting
model's :class:`PipelineState`, and is re-emitted, so widgets (and tests) only see GUI-thread signals.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.core.pipeline.events import RunFinished
from studio.core.pipeline.spec import ConvertSpec
from studio.core.session import ModelEntry, Session


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
    """Signals: ``event(object)`` for each pipeline event, ``finished(RunFinished)``, ``running_changed(bool)``."""

    event = Signal(object)
    finished = Signal(object)
    running_changed = Signal(bool)

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._thread: QThread | None = None
        self._worker: _PipelineWorker | None = None
        self._cancel = threading.Event()
        self.spec: ConvertSpec | None = None
        self.entry: ModelEntry | None = None  # the model being converted

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, entry: ModelEntry, spec: ConvertSpec) -> None:
        if self.running:
            raise RuntimeError("a conversion is already running")
        from studio.core.pipeline.stages import stages_for

        self.entry, self.spec = entry, spec
        entry.pipeline.reset([(s.name, s.plan(spec).description) for s in stages_for(spec.targets)], spec.run_dir())
        entry.events.pipeline.emit(None)
        self._cancel = threading.Event()
        self._thread = QThread()
        self._worker = _PipelineWorker(spec, self._cancel)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.event.connect(self._on_event)
        self._worker.done.connect(self._on_done)
        self._thread.start()
        self.running_changed.emit(True)
        self.session.events.changed.emit(entry)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelling(self) -> bool:
        return self.running and self._cancel.is_set()

    @Slot(object)
    def _on_event(self, event: object) -> None:
        assert self.entry is not None
        stage = self.entry.pipeline.apply(event)
        self.entry.events.pipeline.emit(stage)
        self.event.emit(event)
        if isinstance(event, RunFinished):
            self.session.run_changed(self.entry)
            self.finished.emit(event)

    @Slot()
    def _on_done(self) -> None:
        if self._thread is None:  # shut down already (the window closed)
            return
        self._thread.quit()
        self._thread.wait()
        self._thread = None
        self._worker = None
        entry, self.entry = self.entry, None
        self.running_changed.emit(False)
        if entry is not None:
            self.session.events.changed.emit(entry)

    def shutdown(self) -> None:
        """Cancel and wait: called when the window closes (the stage's outputs are not kept)."""
        if self._thread is not None:
            self._cancel.set()
            self._thread.quit()
            if self._thread.wait(30_000):
                self._thread, self._worker = None, None
