"""Runtime latencies against SB3's predict, repeated to show how stable the figures are.

Converts a zoo agent (or uses a run folder), then runs the benchmark engine ``--repeat`` times and
prints each repeat's p50 per runtime, the spread of p50 across repeats, and the ratio of SB3's p50 to
each runtime's p50.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import studio.core  # noqa: E402,F401


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", nargs="?", default=str(Path(__file__).resolve().parents[2] / "shared/zoo-sample/ppo/CartPole-v1_1/CartPole-v1.zip"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    from studio.core.bench.engine import BenchFinished, BenchOptions, run_bench
    from studio.core.bench.targets import targets_for_run
    from studio.core.loading import load_model
    from studio.core.observations import sample_observations
    from studio.core.pipeline.runner import execute
    from studio.core.pipeline.spec import ConvertSpec

    spec = ConvertSpec(model=Path(args.model), targets=["all"], out=Path("runs/bench-latency"), force=True)
    execute(spec, emit=lambda event: None)
    loaded = load_model(spec.model)
    observations = sample_observations(loaded.observation_space, 256, 0, loaded.normalization).batch
    p50s: dict[str, list[float]] = {}
    for repeat in range(args.repeat):
        results = None
        for event in run_bench(targets_for_run(spec.out), observations, BenchOptions(calls=args.calls, rounds=5)):
            if isinstance(event, BenchFinished):
                results = event.results
        assert results is not None
        line = []
        for name, entry in results["runtimes"].items():
            if entry.get("available"):
                p50 = entry["batches"]["1"]["p50_us"]
                p50s.setdefault(name, []).append(p50)
                line.append(f"{name} {p50:.1f}")
            elif repeat == 0:
                print(f"{name}: not available: {entry['reason']}")
        print(f"repeat {repeat + 1}: p50 us  " + ", ".join(line), flush=True)
    print(f"\nmodel: {spec.model}")
    print(f"{'runtime':<12} {'median p50 us':>14} {'p50 range':>18} {'max/min':>8} {'SB3 p50 / p50':>14}")
    sb3 = statistics.median(p50s["sb3"])
    for name, values in p50s.items():
        median = statistics.median(values)
        print(f"{name:<12} {median:14.1f} {min(values):8.1f}-{max(values):<9.1f} {max(values) / min(values):8.2f} "
              f"{sb3 / median:14.1f}")


if __name__ == "__main__":
    main()
