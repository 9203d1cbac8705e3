"""A temporary folder on the device for one job, and the local journal that guarantees its removal.

The folder's name is written to the journal (``remote-folders.json`` in the config folder) *before*
the folder is made, and leaves the journal only once it is gone. A job that ends in any way removes
its folder and stops whatever still runs in it; a job whose connection dropped cannot, so the next
contact with that device (:func:`contact`) does it first.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
import threading
import time
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..errors import ConnectionDropped, RemoteCommandError, RemoteTimeout
from .host_keys import AskHostKey
from .ssh import Completed, Connection, connect, shell_word
from .store import Device, DeviceStore, read_json

REMOTE_BASE = "/tmp"
PREFIX = "sb3-studio-"
_OURS = re.compile(r"^/[A-Za-z0-9_./-]*/" + PREFIX + r"[0-9a-f]{12}$")  # nothing else is ever removed
CLEANUP_TIMEOUT = 30.0

# Stop the process that runs in the folder (its pid in .pid, confirmed by its working directory, so a
# reused pid is never hit), then remove the folder.
_CLEANUP = r"""for d in "$@"; do
  if [ -f "$d/.pid" ]; then
    p=$(cat "$d/.pid")
    case "$p" in ''|*[!0-9]*) ;; *)
      if [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$(cd "$d" 2>/dev/null && pwd -P)" ]; then kill -KILL "$p" 2>/dev/null; fi;;
    esac
  fi
  rm -rf -- "$d"
done"""


def contact(device: Device, store: DeviceStore, accept_new_host_key: bool = False,
            ask: AskHostKey | None = None) -> Connection:
    """Connect to ``device`` and first remove what earlier jobs left there (a dropped connection's folder)."""
    connection = connect(device, store, accept_new_host_key=accept_new_host_key, ask=ask)
    try:
        clean_pending(connection, store)
    except BaseException:
        connection.close()
        raise
    return connection


def pending(store: DeviceStore, device: Device) -> list[str]:
    """The folders left on ``device`` that the journal still holds."""
    return [e["path"] for e in _entries(store) if _same_device(e, device)]


def clean_pending(connection: Connection, store: DeviceStore) -> list[str]:
    paths = pending(store, connection.device)
    if paths:
        _remove(connection, paths)
        _forget(store, connection.device, paths)
    return paths


class RemoteFolder:
    """``with RemoteFolder(connection, store) as folder:`` a private folder on the device for one job."""

    def __init__(self, connection: Connection, store: DeviceStore) -> None:
        self.connection = connection
        self.store = store
        self.path = f"{REMOTE_BASE}/{PREFIX}{secrets.token_hex(6)}"

    def __enter__(self) -> "RemoteFolder":
        _journal(self.store, self.connection.device, self.path)
        try:
            self.connection.sftp.mkdir(self.path, 0o700)  # fails if anything is there already
        except OSError as exc:
            raise RemoteCommandError(self.connection.device.name, f"cannot make {self.path} on the device: {exc}",
                                     f"is {REMOTE_BASE} writable there?") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.connection.alive:
            return  # the journal keeps it: removed on the next contact
        try:
            _remove(self.connection, [self.path])
        except (ConnectionDropped, RemoteTimeout):
            return  # the journal keeps it
        _forget(self.store, self.connection.device, [self.path])

    def put(self, local: Path, name: str | None = None) -> str:
        remote = f"{self.path}/{name or local.name}"
        self.connection.sftp.put(str(local), remote)
        return remote

    def put_tree(self, local: Path) -> None:
        """Copy the files of ``local`` (and its subfolders) into this folder."""
        for path in sorted(local.rglob("*")):
            relative = path.relative_to(local).as_posix()
            if path.is_dir():
                self.connection.sftp.mkdir(f"{self.path}/{relative}", 0o700)
            elif path.is_file():
                self.put(path, relative)

    def get(self, name: str, local: Path) -> None:
        self.connection.sftp.get(f"{self.path}/{name}", str(local))

    def run(self, argv: list[str], timeout: float, cancel: threading.Event | None = None,
            merge_stderr: bool = False) -> Completed:
        """Run ``argv`` in this folder; its pid is kept in ``.pid`` so that cleaning up can stop it."""
        command = f"cd {shlex.quote(self.path)} && echo $$ > .pid && exec {shell_word(argv[0])} {shlex.join(argv[1:])}"
        if merge_stderr:
            command += " 2>&1"
        return self.connection.run(command, timeout=timeout, cancel=cancel)


def _remove(connection: Connection, paths: list[str]) -> None:
    ours = [p for p in paths if _OURS.match(p)]
    if ours:
        connection.run("sh -c " + shlex.quote(_CLEANUP) + " sh " + shlex.join(ours), timeout=CLEANUP_TIMEOUT)


def _same_device(entry: dict[str, Any], device: Device) -> bool:
    return entry.get("device") == device.name and entry.get("address") == f"{device.user}@{device.address}"


def _entries(store: DeviceStore) -> list[dict[str, Any]]:
    data = read_json(store.journal, [])
    return [e for e in data if isinstance(e, dict) and isinstance(e.get("path"), str)] if isinstance(data, list) else []


def _journal(store: DeviceStore, device: Device, path: str) -> None:
    with store.locked():
        entries = _entries(store)
        entries.append({"device": device.name, "address": f"{device.user}@{device.address}", "path": path,
                        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        atomic_write_text(store.journal, json.dumps(entries, indent=2) + "\n")


def _forget(store: DeviceStore, device: Device, paths: list[str]) -> None:
    with store.locked():
        entries = [e for e in _entries(store) if not (_same_device(e, device) and e["path"] in paths)]
        atomic_write_text(store.journal, json.dumps(entries, indent=2) + "\n")
