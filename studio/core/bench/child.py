"""One runtime, measured in its own process. Speaks JSON lines on stdin and stdout.

First line in: ``{"target": {...}, "observations": "obs.npz"}``. The child opens the runtime and
answers ``{"ready": ..., "load_ms": ..., "first_call_us": ...}`` or ``{"unavailable": reason, "hint": ...}``.
Then, per line in: ``{"measure": {"batch": B, "calls": N, "warmup": W, "budget_ms": T}}`` answers
``{"durations_ns": [...], "overhead_ns": ...}``; ``{"probe": N}`` answers the actions for the first N
observations; ``{"quit": true}`` answers ``{"peak_rss_mb": ...}`` and ends.
"""

from __future__ import annotations

import itertools
import json
import resource
import sys
import time
from typing import Any

import numpy as np


def _rss_mb() -> float:
    """Peak resident memory of this process since it started its program.

    ``ru_maxrss`` would also count the parent's memory copied at fork, before exec: read VmHWM, which
    belongs to the program's own address space.
    """
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _load_observations(path: str) -> Any:
    with np.load(path) as data:
        if list(data.keys()) == ["observation"]:
            return data["observation"]
        return {key: data[key] for key in data.keys()}


def _batches(observations: Any, batch: int, count: int = 16) -> list[Any]:
    n = len(next(iter(observations.values()))) if isinstance(observations, dict) else len(observations)
    starts = [(i * batch) % max(1, n - batch + 1) for i in range(count)]
    if isinstance(observations, dict):
        return [{k: v[s:s + batch] for k, v in observations.items()} for s in starts]
    return [observations[s:s + batch] for s in starts]


def _timed_loop(fn: Any, batches: list[Any], calls: int, budget_ns: int | None) -> list[int]:
    cycle = itertools.cycle(batches)
    clock = time.perf_counter_ns
    durations: list[int] = []
    spent = 0
    while len(durations) < calls and (budget_ns is None or spent < budget_ns):
        batch = next(cycle)
        start = clock()
        fn(batch)
        elapsed = clock() - start
        durations.append(elapsed)
        spent += elapsed
    return durations


def _raw_calls(runtime: Any, batches: list[Any]) -> tuple[Any, list[Any]] | None:
    """The runtime's bare call and its prepared inputs (one per batch), where the runtime offers it."""
    if not hasattr(runtime, "raw_call_for"):
        return None
    try:
        prepared = [runtime.raw_call_for(batch) for batch in batches]
    except NotImplementedError:  # a policy that carries a mask or an LSTM state: no single bare call
        return None
    return prepared[0][0], [inputs for _, inputs in prepared]


def _interleaved(predict: Any, batches: list[Any], raw: tuple[Any, list[Any]], calls: int,
                 budget_ns: int | None, chunks: int = 10) -> tuple[list[int], list[int]]:
    """The wrapper and the bare call, timed in alternating chunks so that drift favours neither."""
    durations: list[int] = []
    raw_durations: list[int] = []
    chunks = max(1, min(chunks, calls))
    chunk_budget = budget_ns // (2 * chunks) if budget_ns else None
    for chunk in range(chunks):
        size = calls // chunks + (1 if chunk < calls % chunks else 0)
        durations += _timed_loop(predict, batches, size, chunk_budget)
        raw_durations += _timed_loop(raw[0], raw[1], size, chunk_budget)
    return durations, raw_durations


def _noop(batch: Any) -> None:
    return None


def answer(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> int:
    import studio.core  # noqa: F401 - keeps TensorFlow out of this process

    from .targets import RuntimeTarget, open_runtime
    from ..runtimes.base import RuntimeUnavailable

    request = json.loads(sys.stdin.readline())
    target = RuntimeTarget(**request["target"])
    observations = _load_observations(request["observations"])
    rss_before = _rss_mb()
    start = time.perf_counter_ns()
    try:
        runtime = open_runtime(target)
    except RuntimeUnavailable as exc:
        answer({"unavailable": exc.reason, "hint": exc.hint})
        return 0
    except Exception as exc:  # noqa: BLE001 - reported to the parent as a runtime that cannot run
        answer({"unavailable": f"{type(exc).__name__}: {exc}", "hint": "see the run's logs"})
        return 0
    load_ns = time.perf_counter_ns() - start
    first = _batches(observations, 1, 1)[0]
    start = time.perf_counter_ns()
    runtime.predict(first)
    first_ns = time.perf_counter_ns() - start
    answer({"ready": True, "load_ms": load_ns / 1e6, "first_call_us": first_ns / 1e3,
            "load_rss_mb": _rss_mb() - rss_before})
    for line in sys.stdin:
        message = json.loads(line)
        if "measure" in message:
            m = message["measure"]
            batches = _batches(observations, int(m["batch"]))
            budget = int(m["budget_ms"] * 1e6) if m.get("budget_ms") else None
            raw = _raw_calls(runtime, batches) if int(m["batch"]) == 1 else None
            warmup = int(m.get("warmup", 0))
            _timed_loop(runtime.predict, batches, warmup, None)
            if raw is None:
                durations, raw_durations = _timed_loop(runtime.predict, batches, int(m["calls"]), budget), []
            else:
                _timed_loop(raw[0], raw[1], warmup, None)
                durations, raw_durations = _interleaved(runtime.predict, batches, raw, int(m["calls"]), budget)
            overhead = _timed_loop(_noop, batches, len(durations), None)
            reply = {"durations_ns": durations, "overhead_ns": float(np.median(overhead))}
            if raw_durations:
                reply["raw_durations_ns"] = raw_durations
            answer(reply)
        elif "probe" in message:
            batch = _batches(observations, int(message["probe"]), 1)[0]
            answer({"actions": np.asarray(runtime.predict(batch)).tolist()})
        elif message.get("quit"):
            answer({"peak_rss_mb": _rss_mb()})
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
