"""A model's benchmark as the Benchmark tab shows it: live samples while it measures, then the results
(or an earlier result read back from the run folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..bench.engine import BenchFinished, RoundSamples, RuntimeNotAvailable, RuntimeReady


class BenchState:
    def __init__(self) -> None:
        self.running = False
        self.samples: dict[str, list[int]] = {}  # runtime -> every call's latency (ns), in order
        self.ready: dict[str, float] = {}  # runtime -> load time (ms)
        self.unavailable: dict[str, tuple[str, str]] = {}  # runtime -> (reason, how to install)
        self.results: dict[str, Any] | None = None
        self.source: Path | None = None  # the history file the results were read from
        self.error: str | None = None
        self.cancelled = False  # the last benchmark was stopped: what it measured is shown, nothing kept
        self.expected: list[str] = []  # the runtimes asked for (progress: how many are loaded)
        self.rounds = 0  # rounds asked for
        self.measured = 0  # (runtime, round) measurements received
        self.devices: list[str] = []  # devices asked to run the bundle after the local runtimes
        self.device_now: str | None = None  # "pi (ssh://pi@host)": the device the bundle runs on now
        self.devices_done = 0

    def start(self, runtimes: list[str] | None = None, rounds: int = 0, devices: list[str] | None = None) -> None:
        self.__init__()  # type: ignore[misc]
        self.running, self.expected, self.rounds = True, list(runtimes or []), rounds
        self.devices = list(devices or [])

    @property
    def fraction(self) -> float:
        """How far a running benchmark is: loading the runtimes is the first fifth."""
        if not self.expected:
            return 0.0
        loaded = (len(self.ready) + len(self.unavailable)) / len(self.expected)
        total = self.rounds * max(1, len(self.ready))
        local = 0.2 * min(1.0, loaded) + 0.8 * (self.measured / total if total else 0.0)
        if not self.devices:
            return local
        share = 0.3  # the devices' part of the bar (a bundle copied and checked over SSH)
        return (1 - share) * local + share * self.devices_done / len(self.devices)

    def apply(self, event: Any) -> None:
        if isinstance(event, RuntimeReady):
            self.ready[event.runtime] = event.load_ms
        elif isinstance(event, RuntimeNotAvailable):
            self.unavailable[event.runtime] = (event.reason, event.hint)
        elif isinstance(event, RoundSamples):
            self.samples.setdefault(event.runtime, []).extend(event.durations_ns)
            self.measured += 1
        elif isinstance(event, BenchFinished):
            self.results = event.results
            for name, entry in event.results.get("runtimes", {}).items():  # the devices' rows that could not run
                if not entry.get("available") and name not in self.unavailable:
                    self.unavailable[name] = (entry.get("reason", ""), entry.get("hint", ""))
        elif self.devices:
            self._apply_device(event)

    def _apply_device(self, event: Any) -> None:
        from ..devices.remote_bench import DeviceDone, DeviceFailed, DeviceRunning  # paramiko: only when used

        if isinstance(event, DeviceRunning):
            self.device_now = f"{event.device} ({event.url})"
        elif isinstance(event, (DeviceDone, DeviceFailed)):
            self.device_now, self.devices_done = None, self.devices_done + 1

    def finish(self, error: str | None = None, cancelled: bool = False) -> None:
        self.running = False
        self.error = error
        self.cancelled = cancelled and self.results is None

    @property
    def unkept(self) -> bool:
        """A benchmark of this session that failed or was cancelled: shown until the next one."""
        return bool(self.error or self.cancelled)

    def load(self, results: dict[str, Any] | None, source: Path | None) -> None:
        """Show a kept result (no samples: the charts show its percentiles)."""
        self.__init__()  # type: ignore[misc]
        results = dict(results) if results else None
        self.samples = {k: list(v) for k, v in (results or {}).pop("samples_ns", {}).items()} if results else {}
        self.results, self.source = results, source
        for name, entry in (results or {}).get("runtimes", {}).items():
            if not entry.get("available"):
                self.unavailable[name] = (entry.get("reason", ""), entry.get("hint", ""))
            elif "load_ms" in entry:
                self.ready[name] = entry["load_ms"]
