"""An SSH connection to a device (paramiko): commands with a time limit, and file copies (SFTP).

Every way a connection can fail becomes one typed error with the device's name and a hint:
unreachable, refused key, unknown or changed host key, a command that outlives its time limit, a
connection that drops in the middle of a command.
"""

from __future__ import annotations

import select
import shlex
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paramiko

from ..errors import (AuthenticationRefused, Cancelled, ConnectionDropped, DeviceUnreachable, HostKeyChanged,
                      HostKeyUnknown, RemoteTimeout)
from .host_keys import AskHostKey, fingerprint, policy
from .store import Device, DeviceStore

CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Completed:
    exit_status: int
    stdout: bytes
    stderr: bytes

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", errors="replace").strip()


def connect(device: Device, store: DeviceStore, accept_new_host_key: bool = False, ask: AskHostKey | None = None,
            timeout: float = CONNECT_TIMEOUT) -> "Connection":
    """Open an SSH connection to ``device``, checking its host key against the studio's known_hosts."""
    identity = device.identity
    if identity and not Path(identity).is_file():
        raise AuthenticationRefused(device.name, f"the key {identity} does not exist",
                                    "give an existing private key with --identity")
    client = paramiko.SSHClient()
    if store.known_hosts.is_file():
        client.load_host_keys(str(store.known_hosts))
    client.set_missing_host_key_policy(policy(device, store, accept_new_host_key, ask))
    where = f"{device.host}:{device.port}"
    try:
        client.connect(device.host, device.port, username=device.user, key_filename=identity,
                       look_for_keys=identity is None, allow_agent=True, timeout=timeout,
                       banner_timeout=timeout, auth_timeout=timeout)
    except HostKeyUnknown:
        client.close()
        raise
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise HostKeyChanged(device.name, device.address, store.known_hosts, fingerprint(exc.expected_key),
                             fingerprint(exc.key)) from None
    except paramiko.PasswordRequiredException:
        client.close()
        raise AuthenticationRefused(device.name, f"the key {identity} is protected by a passphrase",
                                    f"load it into ssh-agent first (ssh-add {identity})") from None
    except paramiko.AuthenticationException as exc:
        client.close()
        key = f"the key {identity}" if identity else "no key of yours (~/.ssh, ssh-agent)"
        raise AuthenticationRefused(device.name, f"{where} refused {key} for user {device.user} ({exc})",
                                    f"add the public key to ~{device.user}/.ssh/authorized_keys on the device "
                                    "(ssh-copy-id) or give another with --identity") from None
    except socket.gaierror as exc:
        client.close()
        raise DeviceUnreachable(device.name, f"cannot resolve the host name {device.host} ({exc.strerror})",
                                "check the name, or use the device's IP address") from None
    except (socket.timeout, TimeoutError):
        client.close()
        raise DeviceUnreachable(device.name, f"{where} did not answer within {timeout:.0f} s",
                                "is the device on and on this network?") from None
    except paramiko.ssh_exception.NoValidConnectionsError:
        client.close()
        raise DeviceUnreachable(device.name, f"cannot reach {where}: connection refused",
                                "is the SSH server running on the device, on that port?") from None
    except (paramiko.SSHException, OSError, EOFError) as exc:
        client.close()
        raise DeviceUnreachable(device.name, f"cannot talk SSH with {where}: {exc or type(exc).__name__}",
                                "is it an SSH server, and on that port?") from None
    return Connection(device, client)


class Connection:
    """One open SSH connection; close it (or use ``with``) when done."""

    def __init__(self, device: Device, client: paramiko.SSHClient) -> None:
        self.device = device
        self.client = client
        self._sftp: paramiko.SFTPClient | None = None

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        transport = self.client.get_transport()
        return transport is not None and transport.is_active()

    def run(self, command: str, timeout: float, stdin: bytes | None = None,
            cancel: threading.Event | None = None) -> Completed:
        """Run ``command`` (a POSIX shell line) on the device and wait for it, at most ``timeout`` s.

        Raises :class:`RemoteTimeout` or :class:`Cancelled` (the channel is closed; what runs in the
        command's folder is stopped by :mod:`.workspace`) and :class:`ConnectionDropped`.
        """
        transport = self.client.get_transport()
        if transport is None or not transport.is_active():
            raise self._dropped(command)
        try:
            channel = transport.open_session(timeout=CONNECT_TIMEOUT)
            channel.exec_command(command)
            if stdin is not None:
                channel.sendall(stdin)
            channel.shutdown_write()
        except (paramiko.SSHException, OSError, EOFError):
            raise self._dropped(command) from None
        out, err = bytearray(), bytearray()
        deadline = time.monotonic() + timeout
        try:
            while True:
                select.select([channel], [], [], 0.1)
                while channel.recv_ready():
                    out += channel.recv(65536)
                while channel.recv_stderr_ready():
                    err += channel.recv_stderr(65536)
                if channel.exit_status_ready() and not channel.recv_ready() and not channel.recv_stderr_ready():
                    break
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                if time.monotonic() > deadline:
                    raise RemoteTimeout(self.device.name, f"'{_short(command)}' did not finish within {timeout:g} s; "
                                                          "it was stopped", "give it more time with --timeout")
            status = channel.recv_exit_status()
        finally:
            channel.close()
        if status == -1 and not transport.is_active():  # closed without an exit status: the link went
            raise self._dropped(command)
        return Completed(status, bytes(out), bytes(err))

    def _dropped(self, command: str) -> ConnectionDropped:
        return ConnectionDropped(self.device.name, f"the connection to {self.device.host}:{self.device.port} "
                                                   f"dropped during '{_short(command)}'",
                                 "what it left on the device is removed on the next contact")

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            try:
                self._sftp = self.client.open_sftp()
            except (paramiko.SSHException, OSError, EOFError) as exc:
                raise ConnectionDropped(self.device.name, f"cannot open SFTP on {self.device.host}: {exc}",
                                        "the device's SSH server needs the sftp subsystem") from None
        return self._sftp

    def close(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
        self.client.close()


def shell_word(path: str) -> str:
    """``path`` quoted for the device's shell; ``~/...`` still means the user's home there."""
    if path.startswith("~/"):
        return '"$HOME"/' + shlex.quote(path[2:])
    return shlex.quote(path)


def _short(command: str, limit: int = 80) -> str:
    return command if len(command) <= limit else command[: limit - 3] + "..."
