"""Runtime latencies: the studio's predict and the bare runtime call, against SB3's predict, repeated.

Converts a zoo agent (or uses a run folder), then runs the benchmark engine ``--repeat`` times. Each
repeat prints every runtime's p50 through ``predict`` and, where the runtime has one, the p50 of the
bare call on prepared inputs (LiteRT's ``set_tensor``/``invoke``/``get_tensor``, ONNX Runtime's
``session.run``), timed in alternating chunks with ``predict``. The summary gives medians over the
repeats: wrapped and raw p50, the wrapper's overhead (wrapped / raw - 1), the spread of p50 across
repeats, and SB3's p50 over each runtime's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import studio.core  # noqa: E402,F401

ZOO_CARTPOLE = Path(__file__).resolve().parents[2] / "shared/zoo-sample/ppo/CartPole-v1_1/CartPole-v1.zip"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", default=str(ZOO_CARTPOLE), help="an SB3 model or a run folder")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--to", default="all,deploy", help="formats to convert to (all,deploy)")
    parser.add_argument("--runtime", action="append", help="only these runtimes (repeat)")
    args = parser.parse_args()
    from studio.core.bench.engine import BenchFinished, BenchOptions, run_bench
    from studio.core.bench.targets import targets_for_run
    from studio.core.loading import load_model
    from studio.core.observations import sample_observations
    from studio.core.pipeline.run_folder import read_manifest
    from studio.core.pipeline.runner import execute
    from studio.core.pipeline.spec import ConvertSpec

    source = Path(args.model)
    if source.is_dir():
        run_dir = source
        recorded = (read_manifest(run_dir) or {}).get("model", {})
        model = Path(recorded.get("resolved") or recorded["file"])
    else:
        model, run_dir = source, Path("runs/bench-latency")
        execute(ConvertSpec(model=model, targets=args.to.split(","), out=run_dir, force=True), emit=lambda event: None)
    loaded = load_model(model)
    observations = sample_observations(loaded.observation_space, 256, 0, loaded.normalization).batch
    wrapped: dict[str, list[float]] = {}
    raw: dict[str, list[float]] = {}
    for repeat in range(args.repeat):
        results = None
        targets = targets_for_run(run_dir, only=args.runtime)
        for event in run_bench(targets, observations, BenchOptions(calls=args.calls, rounds=5)):
            if isinstance(event, BenchFinished):
                results = event.results
        assert results is not None
        line = []
        for name, entry in results["runtimes"].items():
            if not entry.get("available"):
                if repeat == 0:
                    print(f"{name}: not available: {entry['reason']}")
                continue
            stats = entry["batches"]["1"]
            wrapped.setdefault(name, []).append(stats["p50_us"])
            text = f"{name} {stats['p50_us']:.2f}"
            if "raw" in stats:
                raw.setdefault(name, []).append(stats["raw"]["p50_us"])
                text += f" (raw {stats['raw']['p50_us']:.2f})"
            line.append(text)
        print(f"repeat {repeat + 1}: p50 us  " + ", ".join(line), flush=True)
    print(f"\nmodel: {model}; {args.repeat} repeats of {args.calls} calls per runtime, batch 1, one thread")
    print(f"{'runtime':<13} {'p50 us':>9} {'raw p50 us':>11} {'wrapper':>8} {'p50 range':>16} {'max/min':>8} "
          f"{'SB3 p50 / p50':>14}")
    sb3 = statistics.median(wrapped["sb3"]) if "sb3" in wrapped else None
    for name, values in wrapped.items():
        median = statistics.median(values)
        bare = f"{statistics.median(raw[name]):11.2f}" if name in raw else f"{'-':>11}"
        overhead = (f"{100 * statistics.median(w / r - 1 for w, r in zip(values, raw[name])):+7.1f}%"
                    if name in raw else f"{'-':>8}")
        speedup = f"{sb3 / median:14.1f}" if sb3 else f"{'-':>14}"
        print(f"{name:<13} {median:9.2f} {bare} {overhead} {min(values):7.2f}-{max(values):<8.2f} "
              f"{max(values) / min(values):8.2f} {speedup}")
    if raw:
        print("\nraw: the bare runtime call on prepared inputs; wrapper: median over repeats of p50 / raw p50 - 1")


if __name__ == "__main__":
    main()
