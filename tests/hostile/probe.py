"""Run one ``sb3-studio`` command in this process and report its peak memory.

    python -I -m hostile.probe ARGS...     (from the tests folder)

The last line on standard error is ``peak-kib N``: VmHWM, the process's own resident-memory high-water mark.
"""

from __future__ import annotations

import os
import sys


def peak_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


if __name__ == "__main__":
    from studio.cli import main

    code = main(sys.argv[1:])
    sys.stdout.flush()
    print(f"peak-kib {peak_kib()}", file=sys.stderr, flush=True)
    os._exit(code)
