"""Runs the benchmark engine off the UI thread (each runtime is measured in its own child process)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from PySide6.QtCore import QObject, QThread, Signal, Slot


@dataclass
class BenchRequest:
    run_dir: Path
    calls: int = 1000
    rounds: int = 5
    batches: tuple[int, ...] = (1,)
    threads: int = 1


class _BenchWorker(QObject):
    event = Signal(object)
    failed = Signal(str)
    done = Signal()

    def __init__(self, request: BenchRequest, cancel: threading.Event) -> None:
        super().__init__()
        self.request, self.cancel = request, cancel

    @Slot()
    def run(self) -> None:
        from studio.core.bench.engine import BenchOptions, run_bench
        from studio.core.bench.targets import targets_for_run
        from studio.core.loading import load_model
        from studio.core.carried import sampled_for
        from studio.core.pipeline.run_folder import read_manifest

        try:
            request = self.request
            manifest = read_manifest(request.run_dir) or {}
            model = manifest.get("model", {})
            loaded = load_model(model.get("resolved") or model["file"])
            observations = sampled_for(loaded, 256, 0).batch
            options = BenchOptions(batches=list(request.batches), calls=request.calls, rounds=request.rounds,
                                   threads=request.threads)
            for event in run_bench(targets_for_run(request.run_dir, threads=request.threads), observations, options,
                                   self.cancel):
                self.event.emit(event)
        except Exception as exc:  # noqa: BLE001 - shown on the panel
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        finally:
            self.done.emit()


class BenchController(QObject):
    event = Signal(object)
    failed = Signal(str)
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: _BenchWorker | None = None
        self._cancel = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, request: BenchRequest) -> None:
        if self.running:
            return
        self._cancel = threading.Event()
        self._thread = QThread()
        self._worker = _BenchWorker(request, self._cancel)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.event.connect(self.event.emit)
        self._worker.failed.connect(self.failed.emit)
        self._worker.done.connect(self._on_done)
        self._thread.start()
        self.running_changed.emit(True)

    def cancel(self) -> None:
        self._cancel.set()

    @Slot()
    def _on_done(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
        self._thread, self._worker = None, None
        self.running_changed.emit(False)

    def shutdown(self) -> None:
        self._cancel.set()
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(30_000)
