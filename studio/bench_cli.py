"""``sb3-studio bench``: print live progress, the table, and where the files went."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .core.bench.engine import BenchFinished, BenchOptions, RoundSamples, RuntimeNotAvailable, RuntimeReady, run_bench


def _run_folder(target: Path) -> Path:
    """A run folder for ``target``: itself, or the default run folder of a model (converted if needed)."""
    if target.is_dir():
        return target
    from .console import ConsoleReporter
    from .core.loading import load_model
    from .core.pipeline.run_folder import read_manifest
    from .core.pipeline.runner import run_pipeline
    from .core.pipeline.spec import ConvertSpec

    spec = ConvertSpec(model=target, targets=["all"])
    run_dir = spec.run_dir()
    manifest = read_manifest(run_dir)
    if manifest is None or "onnx" not in manifest.get("artifacts", {}):
        loaded = load_model(target)  # bad input: one line and exit 2, before any folder exists
        print(f"converting {target} first, into {run_dir}", file=sys.stderr)
        report = ConsoleReporter()
        for event in run_pipeline(spec, loaded=loaded):
            report(event)
    return run_dir


def options_from(args: argparse.Namespace) -> BenchOptions:
    return BenchOptions(batches=args.batch or [1], calls=args.calls, rounds=args.rounds, warmup=args.warmup,
                        duration_s=args.duration, threads=args.threads)


def bench(target: Path, args: argparse.Namespace) -> int:
    from .core.bench import report
    from .core.pipeline.run_folder import checked_manifest

    if args.sweep:
        from .core.bench.sweep import run_sweep

        return run_sweep(target, [int(w) for w in args.widths.split(",")], [int(d) for d in args.depths.split(",")],
                         options_from(args), args.runtime)
    if not target.exists():
        print(f"error: {target}: no such file or folder", file=sys.stderr)
        return 2
    if args.device_only and not args.device:
        print("error: --device-only needs at least one --device", file=sys.stderr)
        return 2
    run_dir = _run_folder(target)
    manifest = checked_manifest(run_dir)
    devices = _devices(run_dir, args.device or [])  # before measuring anything: a bad name fails at once
    results = {"options": options_from(args).__dict__, "runtimes": {}} if args.device_only else _local(run_dir, manifest, args)
    if results is None:
        return 1
    failed = _on_devices(results, run_dir / "bundle", devices, args)
    results["run"] = str(run_dir)
    print(report.table(results))
    report.write(results, run_dir / "bench")
    print(f"\nwritten: {run_dir / 'bench' / 'bench.json'} and bench.csv", file=sys.stderr)
    return 1 if failed else 0


def _local(run_dir: Path, manifest: dict, args: argparse.Namespace) -> dict | None:
    from .core.bench.targets import targets_for_run
    from .core.carried import sampled_for
    from .core.loading import load_model

    targets = targets_for_run(run_dir, threads=args.threads, only=args.runtime)
    model = manifest["model"]
    loaded = load_model(model.get("resolved") or model["file"])
    options = options_from(args)
    observations = sampled_for(loaded, 256, options.seed).batch  # masks and episode starts where the policy takes them
    results = None
    for event in run_bench(targets, observations, options):
        if isinstance(event, RuntimeReady):
            print(f"  {event.runtime}: loaded in {event.load_ms:.0f} ms, first call {event.first_call_us:.0f} us",
                  file=sys.stderr)
        elif isinstance(event, RuntimeNotAvailable):
            print(f"  {event.runtime}: not available: {event.reason} ({event.hint})", file=sys.stderr)
        elif isinstance(event, RoundSamples) and event.runtime == targets[-1].name:
            print(f"  round {event.round + 1}/{options.rounds} done (batch {event.batch})", file=sys.stderr)
        elif isinstance(event, BenchFinished):
            results = event.results
    return results


def _devices(run_dir: Path, names: list[str]) -> list:
    if not names:
        return []
    from .core.devices.remote_bench import read_bundle
    from .core.devices.store import DeviceStore

    store = DeviceStore()
    devices = [store.get(name) for name in names]
    read_bundle(run_dir / "bundle")
    return devices


def _on_devices(results: dict, bundle: Path, devices: list, args: argparse.Namespace) -> bool:
    """Run the bundle on each device and put its rows beside the local ones; True if any failed."""
    from .core.devices.remote_bench import DeviceDone, DeviceFailed, DeviceRunning, bench_devices
    from .core.devices.store import DeviceStore

    failed = False
    for event in bench_devices(results, bundle, devices, DeviceStore(), calls=args.calls, warmup=args.warmup,
                               timeout=args.device_timeout, accept_new_host_key=args.accept_new_host_key):
        if isinstance(event, DeviceRunning):
            print(f"  {event.device}: running the bundle's check on {event.url}", file=sys.stderr)
        elif isinstance(event, DeviceFailed):
            print(f"  {event.device}: {event.error.line()}", file=sys.stderr)
            failed = True
        elif isinstance(event, DeviceDone):
            failed |= event.failed
    return failed
