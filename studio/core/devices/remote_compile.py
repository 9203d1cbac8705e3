"""The Edge TPU compiler, run on a compile host: the int8 model goes there, the log and model come back.

The caller parses the returned log exactly as a local compile's (``edgetpu/compiler_log.py``).
"""

from __future__ import annotations

import threading
from pathlib import Path

from ..errors import RemoteCommandError, StudioError
from .probe import HINTS
from .store import Device, DeviceStore
from .workspace import RemoteFolder, contact

COMPILE_TIMEOUT = 600.0


def compile_host(store: DeviceStore, name: str) -> Device:
    device = store.get(name)
    if not device.compile_host:
        raise StudioError(name, "this device is not a compile host",
                          f"add it again with --compile-host: sb3-studio device add {name} {device.url} "
                          "--compile-host --replace")
    return device


def compile_remote(device: Device, store: DeviceStore, model: Path, workdir: Path, timeout: float = COMPILE_TIMEOUT,
                   cancel: threading.Event | None = None) -> str:
    """Compile ``model`` on ``device``; returns the compiler's output. ``<stem>_edgetpu.tflite`` lands in
    ``workdir`` when the compiler wrote one."""
    produced = f"{model.stem}_edgetpu.tflite"
    with contact(device, store) as connection, RemoteFolder(connection, store) as folder:
        folder.put(model)
        done = folder.run([device.edgetpu_compiler, "-s", "-o", folder.path, f"{folder.path}/{model.name}"],
                          timeout=timeout, cancel=cancel, merge_stderr=True)
        if done.exit_status in (126, 127):
            raise RemoteCommandError(device.name, f"no usable {device.edgetpu_compiler} on the device",
                                     HINTS["compiler"])
        try:
            folder.get(produced, workdir / produced)
        except FileNotFoundError:
            (workdir / produced).unlink(missing_ok=True)  # no model: the log says why
    return done.stdout.decode("utf-8", errors="replace")
