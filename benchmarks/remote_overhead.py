"""What a remote run costs beyond the work itself: a device bundle's check run over SSH against the
same check run here, interleaved, plus the time to contact and probe the device.

    .venv/bin/python benchmarks/remote_overhead.py RUN DEVICE [--repeat 5] [--calls 1000]

RUN is a run folder with ``bundle/``; DEVICE a configured device (``sb3-studio device add``). With the
device being this machine (an sshd on 127.0.0.1), the difference is the SSH session, the SFTP copy and
the clean-up; on a real board it also includes its slower CPU.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("device")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    from studio.core.devices.probe import check_device
    from studio.core.devices.remote_bench import check_remote
    from studio.core.devices.store import DeviceStore
    from studio.core.devices.workspace import contact

    store = DeviceStore()
    device = store.get(args.device)
    bundle = args.run / "bundle"
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
    times: dict[str, list[float]] = {"contact": [], "device check": [], "bench here": [], "bench on device": []}
    p50: dict[str, list[float]] = {"here": [], "device": []}
    for _ in range(args.repeat):
        start = time.perf_counter()
        contact(device, store).close()
        times["contact"].append(time.perf_counter() - start)
        start = time.perf_counter()
        check_device(device, store)
        times["device check"].append(time.perf_counter() - start)
        start = time.perf_counter()
        remote = check_remote(device, store, bundle, calls=args.calls)
        times["bench on device"].append(time.perf_counter() - start)
        start = time.perf_counter()
        local = _local_check(bundle, args.calls)
        times["bench here"].append(time.perf_counter() - start)
        for where, result in (("device", remote), ("here", local)):
            p50[where] += [r["latency_us"]["p50"] for r in result["results"] if r.get("latency_us")]
    print(f"bundle {size / 1024:.0f} KiB, {args.calls} calls per model, {args.repeat} repeats, device {device.url}")
    for name, values in times.items():
        print(f"  {name:16s} median {statistics.median(values):6.3f} s  (min {min(values):.3f}, max {max(values):.3f})")
    overhead = statistics.median(times["bench on device"]) - statistics.median(times["bench here"])
    print(f"  remote overhead  {overhead:6.3f} s per bench (the device's median minus the local one)")
    print(f"  predict p50: here {statistics.median(p50['here']):.2f} us, on the device "
          f"{statistics.median(p50['device']):.2f} us (median over models and repeats)")


def _local_check(bundle: Path, calls: int) -> dict:
    """The bundle's check here, in a fresh copy, with this Python isolated (as on a device)."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "bundle"
        shutil.copytree(bundle, copy)
        done = subprocess.run([sys.executable, "-I", "sb3_runner.py", "check", "--json", "--calls", str(calls)],
                              cwd=copy, capture_output=True, text=True, timeout=600)
        return json.loads(done.stdout)


if __name__ == "__main__":
    main()
