"""The devices the user added, stored in their config folder (``$XDG_CONFIG_HOME/sb3-studio``).

``devices.json`` holds each device's address, the path of its key (referenced, never copied), the
Python to run there and whether it compiles for the Edge TPU. Every change is a read-modify-write
under a lock file and an atomic replace, so two studios at once cannot lose an edit.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import json
import os
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

from ..atomic import atomic_write_text
from ..errors import DeviceNotFound, StudioError

FORMAT = "sb3-studio-devices/1"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sb3-studio"


@dataclass
class Device:
    name: str
    host: str
    user: str
    port: int = 22
    identity: str | None = None  # a private key's path; the key itself stays where it is
    python: str = "python3"  # the Python that runs bundles there
    compile_host: bool = False  # x86-64 with Google's edgetpu_compiler
    edgetpu_compiler: str = "edgetpu_compiler"  # its path or name on the device
    last_check: dict[str, Any] | None = field(default=None, compare=False)  # what `device check` found

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ssh://{self.user}@{host}" + (f":{self.port}" if self.port != 22 else "")

    @property
    def address(self) -> str:
        """The host as known_hosts names it: ``host``, or ``[host]:port`` off the standard port."""
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"

    @property
    def has_coral(self) -> bool:
        """The last check saw a Coral and loaded the Edge TPU delegate."""
        found = self.last_check or {}
        return bool(found.get("coral") and found.get("edgetpu_delegate"))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("name")
        return data

    @classmethod
    def from_json(cls, name: str, data: dict[str, Any]) -> "Device":
        known = {f.name for f in fields(cls)} - {"name"}
        return cls(name=name, **{k: v for k, v in data.items() if k in known})


def parse_url(url: str) -> tuple[str, str, int]:
    """``ssh://user@host[:port]`` -> (user, host, port); the user defaults to this machine's."""
    parts = urlsplit(url)
    try:
        port = parts.port or 22
    except ValueError:
        raise ValueError(f"{url}: the port is not a number from 1 to 65535") from None
    if parts.scheme != "ssh" or not parts.hostname or parts.path not in ("", "/") or parts.query or parts.password:
        raise ValueError(f"{url}: expected ssh://user@host or ssh://user@host:port")
    return parts.username or getpass.getuser(), parts.hostname, port


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise ValueError(f"{name!r}: a device name is letters, digits, '.', '_' and '-' (at most 64)")
    return name


class DeviceStore:
    """The device list and the files kept beside it (known_hosts, the journal of remote folders)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else config_dir()
        self.path = self.folder / "devices.json"
        self.known_hosts = self.folder / "known_hosts"
        self.journal = self.folder / "remote-folders.json"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the config folder's lock (one writer at a time across processes)."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.folder / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def devices(self) -> dict[str, Device]:
        data = read_json(self.path, {"format": FORMAT, "devices": {}})
        if data.get("format") != FORMAT or not isinstance(data.get("devices"), dict):
            raise StudioError(self.path, f"not a device list of sb3-studio (expected format {FORMAT})")
        try:
            return {name: Device.from_json(name, entry) for name, entry in data["devices"].items()}
        except TypeError as exc:
            raise StudioError(self.path, f"a device entry is damaged: {exc}") from None

    def get(self, name: str) -> Device:
        device = self.devices().get(name)
        if device is None:
            known = ", ".join(sorted(self.devices())) or "none yet"
            raise DeviceNotFound(name, "no such device", f"known devices: {known}; add one with "
                                                         "'sb3-studio device add NAME ssh://user@host'")
        return device

    def add(self, device: Device, replace: bool = False) -> None:
        check_name(device.name)
        with self.locked():
            devices = self.devices()
            if device.name in devices and not replace:
                raise StudioError(device.name, "a device of that name exists", "remove it first or use --replace")
            devices[device.name] = device
            self._write(devices)

    def remove(self, name: str) -> Device:
        with self.locked():
            devices = self.devices()
            if name not in devices:
                self.get(name)  # raises with the known names
            device = devices.pop(name)
            self._write(devices)
        return device

    def record_check(self, name: str, found: dict[str, Any]) -> None:
        """Keep what a check found (a Coral, the compiler), so other commands can pick devices by it."""
        with self.locked():
            devices = self.devices()
            if name in devices:
                devices[name].last_check = found
                self._write(devices)

    def _write(self, devices: dict[str, Device]) -> None:
        data = {"format": FORMAT, "devices": {name: d.to_json() for name, d in sorted(devices.items())}}
        atomic_write_text(self.path, json.dumps(data, indent=2) + "\n")


def read_json(path: Path, default: Any) -> Any:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return default
    try:
        return json.loads(text)
    except ValueError as exc:
        raise StudioError(path, f"not valid JSON ({exc}); fix or remove the file") from None
