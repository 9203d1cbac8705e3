"""Where int8 pays: runtime latencies of an Atari-sized NatureCNN policy (84x84, 4 stacked frames, 512
features, about 1.7 million parameters), float32 against int8.

Makes the policy (PPO CnnPolicy, a few training steps on Breakout through the zoo's AtariWrapper: the
weights do not matter for latency) in the RL Zoo's layout, then runs ``runtime_latency.py`` on it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    sys.path.insert(0, str(REPO / "tests"))
    import studio.core  # noqa: F401
    from tiny_models import train_atari

    folder = Path(tempfile.mkdtemp(prefix="sb3-studio-atari-"))
    model = train_atari(folder, features_dim=512)
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "runtime_latency.py"), str(model), *sys.argv[1:]],
                   cwd=folder, check=True)


if __name__ == "__main__":
    main()
