"""``bench --sweep``: MLP policies over a grid of widths and depths, converted and measured, to show
where each runtime wins. Results go to ``FOLDER/sweep.json`` and ``sweep.csv`` for plotting."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_csv, atomic_write_text
from .engine import BenchOptions

SWEEP_RUNTIMES = ["sb3", "torch", "onnxruntime", "litert-fp32", "litert-int8"]


def make_mlp(folder: Path, width: int, depth: int, env_id: str = "Pendulum-v1") -> Path:
    """An untrained PPO policy with ``depth`` hidden layers of ``width`` (latency needs no training)."""
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", env_id, policy_kwargs=dict(net_arch=dict(pi=[width] * depth, vf=[64])), device="cpu",
                seed=0)
    path = folder / f"mlp_{width}x{depth}.zip"
    model.save(path)
    return path


def sweep_rows(results: dict[str, Any], width: int, depth: int, parameters: int) -> list[dict[str, Any]]:
    rows = []
    for name, entry in results["runtimes"].items():
        for batch, stats in entry.get("batches", {}).items():
            rows.append({"width": width, "depth": depth, "acting_parameters": parameters, "runtime": name,
                         "batch": int(batch), "p50_us": round(stats["p50_us"], 3), "p99_us": round(stats["p99_us"], 3),
                         "file_bytes": entry.get("file_bytes")})
    return rows


def run_sweep(folder: Path, widths: list[int], depths: list[int], options: BenchOptions,
              runtimes: list[str] | None = None) -> int:
    """Convert and measure an untrained MLP of each width and depth; ``runtimes``: all of SWEEP_RUNTIMES."""
    from ..inspection import inspect_model
    from ..loading import load_model
    from ..observations import sample_observations
    from ..pipeline.runner import execute
    from ..pipeline.spec import ConvertSpec
    from .engine import BenchFinished, run_bench
    from .targets import targets_for_run

    folder.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for width in widths:
        for depth in depths:
            model = make_mlp(folder, width, depth)
            run_dir = folder / model.stem
            spec = ConvertSpec(model=model, targets=["onnx", "tflite-fp32", "tflite-int8"], out=run_dir,
                               env_id="Pendulum-v1", samples=200, rollout_steps=200, calibration_steps=200, episodes=1,
                               force=True)
            finished = execute(spec, emit=lambda event: None)
            loaded = load_model(model, env_id="Pendulum-v1")
            parameters = inspect_model(loaded, check_environment=False)["acting_parameters"]
            targets = targets_for_run(run_dir, threads=options.threads, only=runtimes or SWEEP_RUNTIMES)
            observations = sample_observations(loaded.observation_space, 256, 0).batch
            for event in run_bench(targets, observations, options):
                if isinstance(event, BenchFinished):
                    rows += sweep_rows(event.results, width, depth, parameters)
            best = min((r for r in rows if r["width"] == width and r["depth"] == depth), key=lambda r: r["p50_us"])
            print(f"{width:5d} x {depth:2d} ({parameters:>9,} parameters, conversion {finished.status}): "
                  f"fastest {best['runtime']} {best['p50_us']:.1f} us", file=sys.stderr, flush=True)
    atomic_write_text(folder / "sweep.json", json.dumps(rows, indent=2) + "\n")
    atomic_write_csv(folder / "sweep.csv", rows)
    print(f"written: {folder / 'sweep.json'} and sweep.csv", file=sys.stderr)
    return 0
