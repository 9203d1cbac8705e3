"""Runs the benchmark engine off the UI thread (each runtime is measured in its own child process),
for one model of the session; its samples and results go to that model and into its run folder.
Devices picked in the tab then run the run's bundle over SSH (``devices.remote_bench``, the generator
``bench --device`` uses); their rows join the results before they are kept."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.core.bench.engine import BenchFinished
from studio.core.session import ModelEntry, Session


@dataclass
class BenchRequest:
    run_dir: Path
    calls: int = 1000
    rounds: int = 5
    batches: tuple[int, ...] = (1,)
    threads: int = 1
    runtimes: list[str] | None = None  # None: every runtime the run offers
    devices: tuple[str, ...] = ()  # the user's devices that also run the run's bundle


class _BenchWorker(QObject):
    event = Signal(object)
    failed = Signal(str)
    done = Signal()

    def __init__(self, request: BenchRequest, cancel: threading.Event, ask: Callable[..., bool] | None) -> None:
        super().__init__()
        self.request, self.cancel, self.ask = request, cancel, ask

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
            targets = targets_for_run(request.run_dir, threads=request.threads, only=request.runtimes)
            for event in run_bench(targets, observations, options, self.cancel):
                if isinstance(event, BenchFinished) and request.devices and not self.cancel.is_set():
                    self._on_devices(event.results)  # their rows join the results before these are kept
                self.event.emit(event)
        except Exception as exc:  # noqa: BLE001 - shown on the panel
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        finally:
            self.done.emit()

    def _on_devices(self, results: dict[str, Any]) -> None:
        from studio.core.devices.remote_bench import bench_devices
        from studio.core.devices.store import DeviceStore

        store = DeviceStore()
        devices = [store.get(name) for name in self.request.devices]
        for event in bench_devices(results, self.request.run_dir / "bundle", devices, store,
                                   calls=self.request.calls, cancel=self.cancel,
                                   ask=(lambda question: self.ask(question, self.cancel)) if self.ask else None):
            self.event.emit(event)


class BenchController(QObject):
    """Signals: ``event(object)`` for each engine event, ``failed(str)``, ``running_changed(bool)``."""

    event = Signal(object)
    failed = Signal(str)
    running_changed = Signal(bool)

    def __init__(self, session: Session, parent: QObject | None = None,
                 ask: Callable[..., bool] | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.ask = ask  # a device's first host key, asked in the window (QtHostKeyPrompt.ask)
        self.entry: ModelEntry | None = None  # the model being measured
        self.request: BenchRequest | None = None
        self._thread: QThread | None = None
        self._worker: _BenchWorker | None = None
        self._cancel = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, entry: ModelEntry, request: BenchRequest) -> None:
        if self.running:
            raise RuntimeError("a benchmark is already running")
        self.entry, self.request = entry, request
        entry.bench.start(request.runtimes, request.rounds, list(request.devices))
        entry.events.bench.emit(None)
        self._cancel = threading.Event()
        self._thread = QThread()
        self._worker = _BenchWorker(request, self._cancel, self.ask)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.event.connect(self._on_event)
        self._worker.failed.connect(self._on_failed)
        self._worker.done.connect(self._on_done)
        self._thread.start()
        self.running_changed.emit(True)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelling(self) -> bool:
        return self.running and self._cancel.is_set()

    @Slot(object)
    def _on_event(self, event: object) -> None:
        entry = self.entry
        assert entry is not None
        entry.bench.apply(event)
        if isinstance(event, BenchFinished) and entry.run is not None:
            entry.bench.source = entry.run.save_bench(event.results, entry.bench.samples)
        entry.events.bench.emit(event)
        self.event.emit(event)

    @Slot(str)
    def _on_failed(self, text: str) -> None:
        if self.entry is not None:
            self.entry.bench.error = text
        self.failed.emit(text)

    @Slot()
    def _on_done(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
        self._thread, self._worker = None, None
        entry, self.entry = self.entry, None
        if entry is not None:
            entry.bench.finish(entry.bench.error, cancelled=self._cancel.is_set())
            self.session.run_changed(entry)
            entry.events.bench.emit(None)
        self.running_changed.emit(False)

    def shutdown(self) -> None:
        self._cancel.set()
        if self._thread is not None:
            self._thread.quit()
            if self._thread.wait(30_000):
                self._thread, self._worker = None, None
