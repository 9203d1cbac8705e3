"""``device check``: reach the device, run the probe script there, say what is missing and how to add it."""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import RemoteCommandError
from ..runtimes.litert import EDGETPU_HINT
from .host_keys import AskHostKey, fingerprint
from .ssh import Connection, shell_word
from .store import Device, DeviceStore
from .workspace import contact

PROBE_TIMEOUT = 120.0
MIN_PYTHON = (3, 9)
SCRIPT = Path(__file__).with_name("probe_script.py")
VENV = "~/sb3-venv"
PIP = (f"on the device: python3 -m venv {VENV} && {VENV}/bin/pip install numpy ai-edge-litert, then here: "
       f"sb3-studio device add NAME URL --python {VENV}/bin/python --replace")
HINTS = {
    "python": "install Python 3.9 or newer (apt-get install python3) or give its path with --python",
    "numpy": PIP,
    "interpreter": PIP + " (ai-edge-litert has Linux x86-64 and aarch64 wheels; on 32-bit ARM use tflite-runtime)",
    "onnxruntime": f"optional (bundles run on TFLite): {VENV}/bin/pip install onnxruntime",
    "edgetpu": EDGETPU_HINT,
    "coral": "plug a Coral USB Accelerator into a USB 3 port (or fit a PCIe/M.2 Coral with its gasket-dkms driver)",
    "compiler": "on x86-64 Debian/Ubuntu: add Coral's apt repository and 'apt-get install edgetpu-compiler' "
                "(https://coral.ai/docs/edgetpu/compiler/), or give its path there with --edgetpu-compiler",
}


@dataclass
class Finding:
    item: str
    status: str  # "ok", "missing" (needed for what the device is for) or "absent" (optional)
    detail: str
    hint: str = ""


@dataclass
class DeviceReport:
    device: str
    url: str
    host_key: str
    seconds: float
    probe: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not any(f.status == "missing" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ready": self.ready}


def run_probe(connection: Connection, timeout: float = PROBE_TIMEOUT) -> dict[str, Any]:
    """Run the probe with the device's Python; a missing or unusable Python is a clear error."""
    device = connection.device
    command = f"{shell_word(device.python)} - {shlex.quote(device.edgetpu_compiler)}"
    done = connection.run(command, timeout=timeout, stdin=SCRIPT.read_bytes())
    if done.exit_status in (126, 127):
        raise RemoteCommandError(device.name, f"no usable Python at {device.python} on the device "
                                              f"({done.stderr_text.splitlines()[-1] if done.stderr_text else 'not found'})",
                                 HINTS["python"])
    lines = done.stdout.decode("utf-8", errors="replace").strip().splitlines()
    try:
        probe = json.loads(lines[-1]) if lines else None
    except ValueError:
        probe = None
    if done.exit_status != 0 or not isinstance(probe, dict):
        last = done.stderr_text.splitlines()[-1] if done.stderr_text else f"exit {done.exit_status}"
        raise RemoteCommandError(device.name, f"{device.python} on the device could not run the probe: {last}",
                                 HINTS["python"])
    return probe


def findings(device: Device, probe: dict[str, Any]) -> list[Finding]:
    """What the probe says, item by item, with how to install what is missing."""
    out = []
    version = tuple(int(p) for p in str(probe.get("python", "0")).split(".")[:2] if p.isdigit())
    where = f"{probe.get('python')} ({probe.get('python_path')}) on {probe.get('machine')}, {probe.get('os')}"
    out.append(Finding("Python", "ok", where) if version >= MIN_PYTHON else
               Finding("Python", "missing", f"{where}: bundles need 3.9 or newer", HINTS["python"]))
    out.append(_package("numpy", probe, "numpy", required=True))
    interpreter = probe.get("interpreter")
    out.append(Finding("TFLite interpreter", "ok", interpreter) if interpreter else
               Finding("TFLite interpreter", "missing", _why_absent(probe, "ai_edge_litert", "tflite_runtime"),
                       HINTS["interpreter"]))
    out.append(_package("onnxruntime", probe, "onnxruntime", required=False))
    corals = probe.get("coral") or []
    out.append(Finding("Coral", "ok", ", ".join(f"{c['name']} ({c['id']})" for c in corals)) if corals else
               Finding("Coral", "absent", "none attached", HINTS["coral"]))
    if probe.get("edgetpu_delegate"):
        out.append(Finding("Edge TPU delegate", "ok", "libedgetpu.so.1 loaded"))
    else:
        status = "missing" if corals else "absent"  # a Coral without its runtime is worth fixing
        out.append(Finding("Edge TPU delegate", status, probe.get("edgetpu_reason") or "not loaded", HINTS["edgetpu"]))
    compiler = probe.get("edgetpu_compiler")
    if compiler:
        out.append(Finding("edgetpu_compiler", "ok", f"{compiler['path']} ({compiler['version']})"))
    else:
        out.append(Finding("edgetpu_compiler", "missing", f"{device.edgetpu_compiler} not found", HINTS["compiler"])
                   if device.compile_host else
                   Finding("edgetpu_compiler", "absent", "not found (not needed: not a compile host)"))
    return out


def _package(name: str, probe: dict[str, Any], key: str, required: bool) -> Finding:
    if probe.get(key):
        return Finding(name, "ok", probe[key])
    return Finding(name, "missing" if required else "absent", _why_absent(probe, key), HINTS[key])


def _why_absent(probe: dict[str, Any], *keys: str) -> str:
    errors = [f"{key}: {probe[key + '_error']}" for key in keys if probe.get(key + "_error")]
    return "; ".join(errors) if errors else "not installed"


def check_device(device: Device, store: DeviceStore, accept_new_host_key: bool = False,
                 ask: AskHostKey | None = None) -> DeviceReport:
    """Reach ``device``, probe it, record what it offers (a Coral, the compiler) in the device list."""
    start = time.monotonic()
    with contact(device, store, accept_new_host_key=accept_new_host_key, ask=ask) as connection:
        host_key = fingerprint(connection.client.get_transport().get_remote_server_key())
        probe = run_probe(connection)
    report = DeviceReport(device.name, device.url, host_key, time.monotonic() - start, probe, findings(device, probe))
    store.record_check(device.name, {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "python": probe.get("python"), "machine": probe.get("machine"),
        "interpreter": probe.get("interpreter"), "edgetpu_delegate": bool(probe.get("edgetpu_delegate")),
        "coral": bool(probe.get("coral")), "edgetpu_compiler": bool(probe.get("edgetpu_compiler")),
        "ready": report.ready,
    })
    return report
