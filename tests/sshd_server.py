"""A real OpenSSH server (Debian's openssh-server) on 127.0.0.1, for the device tests.

Everything lives in one temporary folder: a throwaway host key, a throwaway user key, an
authorized_keys file, the config (``StrictModes no``), the log. It logs in the user who runs the
tests; this machine is the device.
"""

from __future__ import annotations

import getpass
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

SSHD = Path("/usr/sbin/sshd")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def keygen(path: Path, kind: str = "ed25519") -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "sb3-studio-test", "-f", str(path)], check=True)
    return path


def key_fingerprint(public_key: Path) -> str:
    return subprocess.run(["ssh-keygen", "-lf", str(public_key)], capture_output=True, text=True,
                          check=True).stdout.split()[1]


class SSHServer:
    def __init__(self, folder: Path) -> None:
        if not SSHD.is_file():
            pytest.fail("the device tests need OpenSSH's server: apt-get install -y openssh-server")
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.user = getpass.getuser()
        self.port = _free_port()
        self.user_key = keygen(folder / "user_key")
        (folder / "authorized_keys").write_text((folder / "user_key.pub").read_text())
        self.host_key = keygen(folder / "host_key")
        self.process: subprocess.Popen | None = None
        self.log = folder / "sshd.log"

    @property
    def url(self) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}"

    def start(self) -> None:
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
        config = self.folder / "sshd_config"
        config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.host_key}\n"
            f"AuthorizedKeysFile {self.folder / 'authorized_keys'}\nPidFile {self.folder / 'sshd.pid'}\n"
            "StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            f"PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nAllowUsers {self.user}\n"
            "Subsystem sftp internal-sftp\nLogLevel VERBOSE\nMaxStartups 50\n"
        )
        with self.log.open("a") as log:
            self.process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"sshd exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"sshd did not listen on port {self.port}: {self.log.read_text()[-2000:]}")

    def _descendants(self) -> list[int]:
        """Pids of the processes this sshd started (sessions, their shells and commands)."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
        found, todo = [], [self.process.pid] if self.process else []
        while todo:
            pid = todo.pop()
            for child in children.get(pid, []):
                found.append(child)
                todo.append(child)
        return found

    def drop(self) -> None:
        """Kill the server and every sshd session process, as a network failure would end them; the
        commands the sessions ran are left running, orphaned, as on a real device."""
        sshd_pids = [p for p in self._descendants() if _comm(p) == "sshd"]
        for pid in [self.process.pid, *sshd_pids]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            for pid in [p for p in self._descendants() if _comm(p) == "sshd"]:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self, new_host_key: bool = False) -> None:
        self.stop()
        if new_host_key:
            for suffix in ("", ".pub"):
                Path(f"{self.host_key}{suffix}").unlink()
            keygen(self.host_key)
        self.start()


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def processes_in(folder: str) -> list[int]:
    """Pids of processes whose working directory is ``folder`` (what a remote job left running)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "cwd") in (folder, folder + " (deleted)"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory):
    """One server per test module (import this fixture into the module)."""
    server = SSHServer(tmp_path_factory.mktemp("sshd"))
    server.start()
    yield server
    server.stop()
