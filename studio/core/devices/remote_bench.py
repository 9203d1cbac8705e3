"""A run's device bundle, checked and timed on a device: golden vectors and latency, CPU and Edge TPU.

The bundle (see ``--to bundle``) goes into a temporary folder on the device, its own runner
(``sb3_runner.py check --json``) runs there with the device's Python, the JSON comes back and the
folder goes. :func:`merge` puts the device's rows beside the local runtimes of a bench result,
named ``DEVICE:RUNTIME`` (``pi:litert-int8``, ``pi:edgetpu``).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..errors import DeviceError, RemoteCommandError, StudioError
from .host_keys import AskHostKey
from .probe import HINTS
from .store import Device, DeviceStore
from .workspace import RemoteFolder, contact

BUNDLE_FORMAT = "sb3-studio-bundle/1"
RUNNER = "sb3_runner.py"
RUN_TIMEOUT = 600.0
# Bundle artifact key -> the runtime name the local bench gives the same file.
RUNTIME_NAMES = {"tflite_fp32": "litert-fp32", "tflite_fp16": "litert-fp16", "tflite_int8": "litert-int8",
                 "tflite_int8_plain": "litert-int8-plain", "edgetpu": "edgetpu"}


def read_bundle(folder: Path) -> dict[str, Any]:
    """The bundle's manifest, or a one-line error naming the folder."""
    manifest = folder / "manifest.json"
    if not (folder / RUNNER).is_file() or not manifest.is_file():
        raise StudioError(folder, f"not a device bundle (no {RUNNER} or manifest.json)",
                          "make one with: sb3-studio convert MODEL --to bundle")
    try:
        data = json.loads(manifest.read_text())
    except ValueError as exc:
        raise StudioError(manifest, f"not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise StudioError(manifest, f"not a bundle of this studio (expected format {BUNDLE_FORMAT})")
    return data


def check_remote(device: Device, store: DeviceStore, bundle: Path, calls: int = 2000, warmup: int = 50,
                 timeout: float = RUN_TIMEOUT, cancel: threading.Event | None = None,
                 accept_new_host_key: bool = False, ask: AskHostKey | None = None,
                 artifacts: list[str] | None = None) -> dict[str, Any]:
    """Run the bundle's check on ``device``; returns the runner's JSON (``probe`` and ``results``)."""
    read_bundle(bundle)
    argv = [device.python, RUNNER, "check", "--json", "--calls", str(calls), "--warmup", str(warmup)]
    for key in artifacts or []:
        argv += ["--artifact", key]
    with contact(device, store, accept_new_host_key=accept_new_host_key, ask=ask) as connection:
        with RemoteFolder(connection, store) as folder:
            folder.put_tree(bundle)
            done = folder.run(argv, timeout=timeout, cancel=cancel)
    if done.exit_status in (126, 127):
        raise RemoteCommandError(device.name, f"no usable Python at {device.python} on the device", HINTS["python"])
    last = done.stderr_text.splitlines()[-1] if done.stderr_text else f"exit {done.exit_status}"
    try:
        result = json.loads(done.stdout)
    except ValueError:
        result = None
    if done.exit_status not in (0, 1) or not isinstance(result, dict) or not isinstance(result.get("results"), list):
        hint = next((HINTS[k] for k in ("numpy",) if f"No module named '{k}'" in last), HINTS["interpreter"])
        raise RemoteCommandError(device.name, f"the bundle's runner gave no result (exit {done.exit_status}): {last}",
                                 hint)
    return result


def entries(device: str, check: dict[str, Any], bundle: Path | None = None) -> dict[str, dict[str, Any]]:
    """Bench rows (``results["runtimes"]`` entries) for one device's check."""
    rows: dict[str, dict[str, Any]] = {}
    manifest = read_bundle(bundle) if bundle is not None else {"artifacts": {}}
    for result in check["results"]:
        key, delegate = result.get("artifact"), result.get("delegate", "cpu")
        name = RUNTIME_NAMES.get(key, key)
        if delegate == "edgetpu" and name != "edgetpu":
            name += "-edgetpu"
        entry: dict[str, Any] = {"device": device, "artifact": key, "delegate": delegate,
                                 "status": result.get("status"), "verification": result.get("verification")}
        artifact = manifest["artifacts"].get(key)
        if artifact and bundle is not None and (bundle / artifact["file"]).is_file():
            entry["file_bytes"] = (bundle / artifact["file"]).stat().st_size
        latency = result.get("latency_us")
        if result.get("status") == "unavailable" or not latency:
            entry.update(available=False, reason=result.get("reason") or "no latency measured",
                         hint=result.get("hint") or "")
        else:
            entry.update(available=True, batches={"1": _stats(latency, result.get("raw_latency_us") or {})})
            if result.get("status") == "failed":
                entry["reason"] = result.get("reason") or "the check failed"
        rows[f"{device}:{name}"] = entry
    return rows


def _stats(latency: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """The runner's percentiles in the local bench's terms (``raw``: the bare invoke loop)."""
    stats = _percentiles(latency)
    if raw.get("p50"):
        stats["raw"] = _percentiles(raw)
        stats["wrapper_overhead_percent"] = 100.0 * (stats["p50_us"] / stats["raw"]["p50_us"] - 1.0)
    return stats


def _percentiles(latency: dict[str, Any]) -> dict[str, Any]:
    p50 = float(latency["p50"])
    return {"calls": int(latency.get("calls", 0)), "batch": 1, "p50_us": p50, "p90_us": float(latency["p90"]),
            "p99_us": float(latency["p99"]), "max_us": float(latency["max"]),
            "spread_p99_p50": float(latency["p99"]) / p50 if p50 > 0 else None}


def merge(results: dict[str, Any], device: Device, check: dict[str, Any], bundle: Path) -> None:
    """Add one device's rows beside the local runtimes; the device's probe goes under ``devices``."""
    results.setdefault("runtimes", {}).update(entries(device.name, check, bundle))
    results.setdefault("devices", {})[device.name] = {"url": device.url, "probe": check.get("probe")}


def merge_failure(results: dict[str, Any], device: Device, error: DeviceError) -> None:
    """A device that could not be used still gets a row, saying why."""
    results.setdefault("runtimes", {})[f"{device.name}:bundle"] = {
        "device": device.name, "available": False, "reason": error.problem, "hint": error.hint or ""}
    results.setdefault("devices", {})[device.name] = {"url": device.url, "error": error.line()}


@dataclass(frozen=True)
class DeviceRunning:
    device: str
    url: str


@dataclass(frozen=True)
class DeviceDone:
    device: str
    rows: dict[str, dict[str, Any]]
    failed: bool  # a check on the device failed (the rows say which)


@dataclass(frozen=True)
class DeviceFailed:
    device: str
    error: DeviceError


def bench_devices(results: dict[str, Any], bundle: Path, devices: list[Device], store: DeviceStore,
                  calls: int = 2000, warmup: int = 50, timeout: float = RUN_TIMEOUT,
                  cancel: threading.Event | None = None, accept_new_host_key: bool = False,
                  ask: AskHostKey | None = None) -> Iterator[DeviceRunning | DeviceDone | DeviceFailed]:
    """Run the bundle on each device in turn and merge its rows into ``results``; yields what happens
    (the CLI prints it, the Benchmark tab shows it)."""
    for device in devices:
        if cancel is not None and cancel.is_set():
            return
        yield DeviceRunning(device.name, device.url)
        try:
            check = check_remote(device, store, bundle, calls=calls, warmup=warmup, timeout=timeout, cancel=cancel,
                                 accept_new_host_key=accept_new_host_key, ask=ask)
        except DeviceError as exc:
            merge_failure(results, device, exc)
            yield DeviceFailed(device.name, exc)
            continue
        merge(results, device, check, bundle)
        rows = {k: v for k, v in results["runtimes"].items() if v.get("device") == device.name}
        yield DeviceDone(device.name, rows, any(r.get("status") == "failed" for r in check["results"]))
