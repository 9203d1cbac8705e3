"""The benchmark engine: one child process per runtime, measured in interleaved rounds.

:func:`run_bench` is a generator of plain events (the CLI prints them; the GUI draws them live):
each runtime's readiness or the reason it cannot run, each round's samples, and the final results.
Rounds rotate the runtimes' order so that drift of a shared, noisy machine favours none of them.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..children import neutral_cwd, python_module
from .stats import summarize
from .targets import RuntimeTarget


@dataclass
class BenchOptions:
    batches: list[int] = field(default_factory=lambda: [1])
    calls: int = 2000  # per runtime and batch size, over all rounds
    rounds: int = 5
    warmup: int = 50  # calls before each round's measurement
    duration_s: float | None = None  # instead of calls: time per runtime and batch size
    threads: int = 1
    seed: int = 0


@dataclass(frozen=True)
class RuntimeReady:
    runtime: str
    load_ms: float
    first_call_us: float
    file_bytes: int | None


@dataclass(frozen=True)
class RuntimeNotAvailable:
    runtime: str
    reason: str
    hint: str


@dataclass(frozen=True)
class RoundSamples:
    runtime: str
    batch: int
    round: int
    durations_ns: list[int]
    overhead_ns: float


@dataclass(frozen=True)
class BenchFinished:
    results: dict[str, Any]


class _Child:
    def __init__(self, target: RuntimeTarget, observations: Path) -> None:
        self.target = target
        self.process = subprocess.Popen(
            python_module("studio.core.bench.child"), cwd=neutral_cwd(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        self.send({"target": json.loads(target.to_json()), "observations": str(observations)})

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            return {"unavailable": f"the {self.target.name} process ended (exit {self.process.wait()})",
                    "hint": "run with fewer threads or check memory"}
        return json.loads(line)

    def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        self.send(message)
        return self.receive()

    def close(self) -> float | None:
        peak = None
        if self.process.poll() is None:
            try:
                peak = self.ask({"quit": True}).get("peak_rss_mb")
            except (OSError, ValueError):
                pass
        self.process.kill()
        self.process.wait()
        return peak


def write_observations(observations: Any, folder: Path) -> Path:
    path = folder / "observations.npz"
    arrays = observations if isinstance(observations, dict) else {"observation": observations}
    np.savez(path, **arrays)
    return path


def run_bench(
    targets: list[RuntimeTarget],
    observations: Any,
    options: BenchOptions,
    cancel: threading.Event | None = None,
) -> Iterator[Any]:
    """Measure every target; yields RuntimeReady / RuntimeNotAvailable, RoundSamples, BenchFinished."""
    cancel = cancel or threading.Event()
    workdir = Path(tempfile.mkdtemp(prefix="sb3-studio-bench-"))
    obs_file = write_observations(observations, workdir)
    children: dict[str, _Child] = {}
    results: dict[str, Any] = {"options": options.__dict__, "runtimes": {}}
    try:
        for target in targets:  # one at a time: loading must not compete with another load
            if cancel.is_set():
                return
            child = _Child(target, obs_file)
            reply = child.receive()
            entry: dict[str, Any] = {"file_bytes": target.file_bytes}
            results["runtimes"][target.name] = entry
            if "unavailable" in reply:
                child.close()
                entry.update(available=False, reason=reply["unavailable"], hint=reply["hint"])
                yield RuntimeNotAvailable(target.name, reply["unavailable"], reply["hint"])
                continue
            entry.update(available=True, load_ms=reply["load_ms"], first_call_us=reply["first_call_us"],
                         load_rss_mb=reply["load_rss_mb"])
            children[target.name] = child
            yield RuntimeReady(target.name, reply["load_ms"], reply["first_call_us"], target.file_bytes)
        _probe(children, results)
        samples: dict[tuple[str, int], list[int]] = {}
        raw_samples: dict[tuple[str, int], list[int]] = {}
        overheads: dict[tuple[str, int], list[float]] = {}
        names = list(children)
        calls = max(1, options.calls // options.rounds)
        budget = options.duration_s * 1000 / options.rounds if options.duration_s else None
        for round_index in range(options.rounds):
            order = names[round_index % len(names):] + names[: round_index % len(names)] if names else []
            for batch in options.batches:
                for name in order:
                    if cancel.is_set():
                        return
                    reply = children[name].ask({"measure": {"batch": batch, "calls": calls if budget is None else 10**9,
                                                            "warmup": options.warmup, "budget_ms": budget}})
                    if "durations_ns" not in reply:
                        continue
                    samples.setdefault((name, batch), []).extend(reply["durations_ns"])
                    if reply.get("raw_durations_ns"):
                        raw_samples.setdefault((name, batch), []).extend(reply["raw_durations_ns"])
                    overheads.setdefault((name, batch), []).append(reply["overhead_ns"])
                    yield RoundSamples(name, batch, round_index, reply["durations_ns"], reply["overhead_ns"])
        for (name, batch), durations in samples.items():
            stats = summarize(durations, batch, float(np.median(overheads[(name, batch)])))
            if (name, batch) in raw_samples:  # the bare runtime call, apart from the studio's wrapper
                stats["raw"] = summarize(raw_samples[(name, batch)], batch)
                stats["wrapper_overhead_percent"] = 100.0 * (stats["p50_us"] / stats["raw"]["p50_us"] - 1.0)
            results["runtimes"][name].setdefault("batches", {})[str(batch)] = stats
    finally:
        for name, child in children.items():
            peak = child.close()
            if peak is not None:
                results["runtimes"][name]["peak_rss_mb"] = peak
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()
    _ratios(results)
    yield BenchFinished(results)


def _probe(children: dict[str, _Child], results: dict[str, Any], n: int = 32) -> None:
    """Every runtime's actions on the same observations, against the original's (SB3)."""
    actions = {name: np.asarray(child.ask({"probe": n}).get("actions")) for name, child in children.items()}
    reference = actions.get("sb3")
    for name, values in actions.items():
        if reference is None or values.shape != reference.shape:
            continue
        same = np.all(np.isclose(values, reference, atol=1e-5).reshape(len(values), -1), axis=1)
        results["runtimes"][name]["agreement_with_sb3_percent"] = float(100 * same.mean())


def _ratios(results: dict[str, Any]) -> None:
    """How many times faster than SB3's predict each runtime is, at each batch size (p50 against p50)."""
    sb3 = results["runtimes"].get("sb3", {}).get("batches", {})
    for entry in results["runtimes"].values():
        for batch, stats in entry.get("batches", {}).items():
            if batch in sb3 and stats["p50_us"] > 0:
                stats["speedup_vs_sb3_p50"] = sb3[batch]["p50_us"] / stats["p50_us"]
