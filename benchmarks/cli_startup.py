"""Start-up time of the command line: ``--help`` (no heavy imports) and ``inspect`` on a model."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

MODEL = Path(__file__).resolve().parents[1] / "resources/demo/ppo/CartPole-v1_1/CartPole-v1.zip"


def timed(args: list[str], repeat: int = 5) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "studio.cli", *args], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    for label, args in (("sb3-studio --help", ["--help"]),
                        ("sb3-studio inspect DEMO --no-env-check", ["inspect", str(MODEL), "--no-env-check"]),
                        ("sb3-studio inspect DEMO", ["inspect", str(MODEL)])):
        times = timed(args)
        print(f"{label:<42} median {statistics.median(times):.2f} s  (min {min(times):.2f}, max {max(times):.2f}, n={len(times)})")


if __name__ == "__main__":
    main()
