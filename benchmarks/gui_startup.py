"""Time from launching ``sb3-studio`` to its window being shown (target: under 2 s).

Runs the real command with a hidden ``--startup-probe`` flag that prints the time when the window is
up and quits. Uses the current display, or Qt's offscreen platform when there is none.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time


def main(repeat: int = 5) -> None:
    env = dict(os.environ)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    inside, outside = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "studio.cli", "gui", "--startup-probe"], env=env,
                             capture_output=True, text=True, check=True).stdout
        outside.append(time.perf_counter() - start)
        inside.append(float(re.search(r"window shown after ([\d.]+) s", out).group(1)))
    print(f"platform: {env.get('QT_QPA_PLATFORM', 'display ' + env.get('DISPLAY', '?'))}")
    print(f"launch to window shown (process start included): median {statistics.median(outside):.2f} s "
          f"(min {min(outside):.2f}, max {max(outside):.2f}, n={repeat})")
    print(f"of which Qt start-up to window shown:            median {statistics.median(inside):.2f} s")
    print("target: under 2 s")


if __name__ == "__main__":
    main()
