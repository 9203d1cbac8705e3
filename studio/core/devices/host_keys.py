"""The studio's own ``known_hosts``: a device's host key is accepted once, then must never change.

On first contact the key is unknown: the CLI refuses unless told ``--accept-new-host-key``, the GUI
asks (a callback given to :func:`policy`). A key that differs from the recorded one is refused by
paramiko (``BadHostKeyException``), whatever the caller says; the connection layer turns that into
:class:`~studio.core.errors.HostKeyChanged`.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any, Callable

import paramiko

from ..atomic import atomic_write_text
from ..errors import HostKeyUnknown
from .store import Device, DeviceStore


@dataclass(frozen=True)
class HostKeyQuestion:
    """What the user is asked on first contact."""

    device: str
    host: str  # as known_hosts names it: host or [host]:port
    key_type: str
    fingerprint: str  # SHA256:..., as ssh-keygen -l prints it


AskHostKey = Callable[[HostKeyQuestion], bool]


def fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def remember(store: DeviceStore, host: str, key: paramiko.PKey) -> None:
    """Append ``host``'s key to the studio's known_hosts (atomically, under the config lock)."""
    with store.locked():
        text = store.known_hosts.read_text() if store.known_hosts.is_file() else ""
        if text and not text.endswith("\n"):
            text += "\n"
        atomic_write_text(store.known_hosts, text + paramiko.hostkeys.HostKeyEntry([host], key).to_line())


class _Policy(paramiko.MissingHostKeyPolicy):
    """Called by paramiko only for a host with no recorded key at all."""

    def __init__(self, device: Device, store: DeviceStore, accept_new: bool, ask: AskHostKey | None) -> None:
        self.device, self.store, self.accept_new, self.ask = device, store, accept_new, ask

    def missing_host_key(self, client: Any, hostname: str, key: paramiko.PKey) -> None:
        question = HostKeyQuestion(self.device.name, hostname, key.get_name(), fingerprint(key))
        if self.accept_new or (self.ask is not None and self.ask(question)):
            remember(self.store, hostname, key)
            return
        raise HostKeyUnknown(self.device.name, hostname, question.key_type, question.fingerprint)


def policy(device: Device, store: DeviceStore, accept_new: bool = False,
           ask: AskHostKey | None = None) -> paramiko.MissingHostKeyPolicy:
    return _Policy(device, store, accept_new, ask)
