"""Latency statistics, and the timing loop they come from (its clock can be replaced in tests)."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

Clock = Callable[[], int]  # nanoseconds


def time_calls(fn: Callable[[], Any], calls: int, clock: Clock = time.perf_counter_ns) -> list[int]:
    """The duration in nanoseconds of each of ``calls`` calls of ``fn``."""
    durations = []
    for _ in range(calls):
        start = clock()
        fn()
        durations.append(clock() - start)
    return durations


def percentile(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q, method="linear"))


def summarize(durations_ns: list[int], batch: int = 1, overhead_ns: float = 0.0) -> dict[str, Any]:
    """p50/p90/p99/max/mean in microseconds, spread (p99/p50), throughput in observations per second.

    ``overhead_ns`` (the harness's own per-call cost, measured on an empty call) is reported, not
    subtracted: the figures are what a caller of ``predict`` sees.
    """
    values = np.asarray(durations_ns, dtype=np.float64)
    if values.size == 0:
        raise ValueError("no measurements")
    p50 = percentile(values, 50)
    return {
        "calls": int(values.size),
        "batch": batch,
        "p50_us": p50 / 1e3,
        "p90_us": percentile(values, 90) / 1e3,
        "p99_us": percentile(values, 99) / 1e3,
        "max_us": float(values.max()) / 1e3,
        "mean_us": float(values.mean()) / 1e3,
        "spread_p99_p50": percentile(values, 99) / p50 if p50 > 0 else None,
        "throughput_obs_per_s": batch * 1e9 / float(values.mean()),
        "harness_overhead_us": overhead_ns / 1e3,
    }
