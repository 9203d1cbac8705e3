"""The full conversion chain against the bare onnx2tf command, on a 64x64 MLP policy.

Both run as fresh processes, interleaved, ``--repeat`` times each; the medians and their ratio are
printed. The bare command is the one a user would type (NOTES.md): SavedModel, dynamic-range and
integer quantised TFLite, calibrated on the same observations the studio calibrates on.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import studio.core  # noqa: E402,F401 - keeps TensorFlow out of this process


def make_policy(folder: Path) -> Path:
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", "Pendulum-v1", n_steps=256, batch_size=64, n_epochs=1, seed=0, device="cpu",
                policy_kwargs=dict(net_arch=[64, 64]))
    model.learn(512)
    path = folder / "ppo_pendulum_64x64.zip"
    model.save(path)
    return path


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sb3-studio-bench-"))
    model = make_policy(work)
    cli = [sys.executable, "-m", "studio.cli"]
    subprocess.run([*cli, "convert", str(model), "--to", "onnx", "--out", str(work / "onnx")], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    onnx = work / "onnx" / "policy.onnx"
    calib = work / "calib.npy"
    from studio.core.envs import make_env
    from studio.core.loading import load_model
    from studio.core.observations import rollout_observations

    loaded = load_model(model, env_id="Pendulum-v1")
    obs = rollout_observations(lambda: make_env("Pendulum-v1"), loaded.predict, 1000, 10_000).batch
    np.save(calib, obs.astype(np.float32))
    chain_times, bare_times = [], []
    for run in range(args.repeat):
        bare_dir = work / f"bare{run}"
        bare_dir.mkdir()
        bare = [sys.executable, "-m", "onnx2tf", "-i", str(onnx), "-o", str(bare_dir / "out"), "-osd", "-odrqt",
                "-oiqt", "-cind", "observation", str(calib), "[0.0]", "[1.0]"]
        bare_times.append(timed(bare, bare_dir))
        chain_times.append(timed([*cli, "convert", str(model), "--env", "Pendulum-v1", "--to", "all",
                                  "--out", str(work / f"chain{run}")], work))
        print(f"run {run + 1}: bare onnx2tf {bare_times[-1]:.2f} s, full chain {chain_times[-1]:.2f} s", flush=True)
    bare_median, chain_median = statistics.median(bare_times), statistics.median(chain_times)
    print(f"\nmodel: PPO Pendulum-v1, 64x64 MLP ({model.stat().st_size / 1024:.0f} KiB)")
    print(f"bare onnx2tf (median of {args.repeat}):  {bare_median:.2f} s")
    print(f"full chain, verification included:     {chain_median:.2f} s")
    print(f"ratio chain / bare:                    {chain_median / bare_median:.2f}  (target: at most 1.5)")


if __name__ == "__main__":
    main()
