"""Devices over SSH, against a real OpenSSH server on 127.0.0.1: this machine is the device.

The store, ``device check`` and every way a contact can fail: unknown and changed host keys, an
unreachable host, a refused key, a device without Python or without a TFLite runtime.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from sshd_server import SSHServer, key_fingerprint, keygen, sshd  # noqa: F401 - the fixture

from studio.core.devices.host_keys import HostKeyQuestion
from studio.core.devices.probe import check_device
from studio.core.devices.store import Device, DeviceStore, parse_url
from studio.core.errors import (AuthenticationRefused, DeviceUnreachable, HostKeyChanged, HostKeyUnknown,
                                RemoteCommandError)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python with nothing installed: a device without numpy or a TFLite runtime."""
    folder = tmp_path_factory.mktemp("bare-venv")
    venv.EnvBuilder(with_pip=False).create(folder)
    return folder / "bin" / "python"


def cli(config: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CONFIG_HOME": str(config)}
    return subprocess.run([sys.executable, "-m", "studio.cli", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=300)


def device_for(sshd: SSHServer, name: str = "here", **kw) -> Device:
    user, host, port = parse_url(sshd.url)
    kw = {"identity": str(sshd.user_key), "python": sys.executable, **kw}
    return Device(name, host, user, port, **kw)


def test_add_list_remove(tmp_path: Path, sshd: SSHServer) -> None:
    config = tmp_path / "config"
    added = cli(config, "device", "add", "pi", sshd.url, "--identity", str(sshd.user_key), "--python", "/usr/bin/python3")
    assert added.returncode == 0, added.stderr
    listed = json.loads(cli(config, "device", "list", "--json").stdout)
    assert listed["pi"]["url"] == sshd.url and listed["pi"]["identity"] == str(sshd.user_key)
    assert listed["pi"]["port"] == sshd.port and listed["pi"]["python"] == "/usr/bin/python3"
    stored = list((config / "sb3-studio").iterdir())
    assert not any("BEGIN OPENSSH PRIVATE KEY" in p.read_text() for p in stored if p.is_file())  # referenced only
    assert "pi" in cli(config, "device", "list").stdout
    again = cli(config, "device", "add", "pi", sshd.url)
    assert again.returncode == 2 and "exists" in again.stderr
    for bad, message in ((["pi2", "http://host"], "expected ssh://"), (["pi2", "ssh://h:99999"], "port"),
                         (["p i", sshd.url], "device name"),
                         (["pi2", sshd.url, "--identity", str(tmp_path / "nokey")], "no such key file"),
                         (["pi2", sshd.url, "--identity", f"{sshd.user_key}.pub"], "public key")):
        result = cli(config, "device", "add", *bad)
        assert result.returncode == 2 and message in result.stderr, result.stderr
    assert cli(config, "device", "remove", "pi").returncode == 0
    assert json.loads(cli(config, "device", "list", "--json").stdout) == {}
    missing = cli(config, "device", "check", "pi")
    assert missing.returncode == 2 and "no such device" in missing.stderr
    (config / "sb3-studio" / "devices.json").write_text("{ half written")
    damaged = cli(config, "device", "list")
    assert damaged.returncode == 2 and damaged.stderr.startswith(f"error: {config / 'sb3-studio' / 'devices.json'}: not valid JSON")


def test_check_reports_what_the_device_offers(tmp_path: Path, sshd: SSHServer) -> None:
    """First contact through the CLI: refused, then accepted with --accept-new-host-key; the report
    names this machine's Python and runtimes, as the probe found them over SSH."""
    config = tmp_path / "config"
    assert cli(config, "device", "add", "here", sshd.url, "--identity", str(sshd.user_key),
               "--python", sys.executable).returncode == 0
    refused = cli(config, "device", "check", "here")
    assert refused.returncode == 1
    assert "not known yet" in refused.stderr and key_fingerprint(Path(f"{sshd.host_key}.pub")) in refused.stderr
    assert "--accept-new-host-key" in refused.stderr
    assert not (config / "sb3-studio" / "known_hosts").exists()

    accepted = cli(config, "device", "check", "here", "--accept-new-host-key", "--json")
    assert accepted.returncode == 0, accepted.stderr
    report = json.loads(accepted.stdout)
    probe = report["probe"]
    assert report["ready"] and report["host_key"] == key_fingerprint(Path(f"{sshd.host_key}.pub"))
    assert probe["python_path"] == sys.executable and probe["python"] == ".".join(map(str, sys.version_info[:3]))
    import ai_edge_litert
    import numpy
    import onnxruntime
    from importlib.metadata import version

    assert probe["interpreter"] == f"ai_edge_litert {version('ai-edge-litert')}" and probe["numpy"] == numpy.__version__
    assert probe["onnxruntime"] == onnxruntime.__version__ and ai_edge_litert
    status = {f["item"]: f["status"] for f in report["findings"]}
    assert status["Coral"] == "absent" and status["Edge TPU delegate"] == "absent"  # no Coral on this machine
    assert "libedgetpu.so.1" in probe["edgetpu_reason"]
    known = (config / "sb3-studio" / "known_hosts").read_text()
    assert f"[127.0.0.1]:{sshd.port}" in known
    # Known now: a second contact needs no flag; the human report says what is absent and how to install it.
    human = cli(config, "device", "check", "here")
    assert human.returncode == 0, human.stderr
    assert "TFLite interpreter" in human.stdout and "coral.ai" in human.stdout and "ready" in human.stdout
    listed = json.loads(cli(config, "device", "list", "--json").stdout)
    assert listed["here"]["last_check"]["ready"] and not listed["here"]["last_check"]["coral"]


def test_gui_question_on_first_contact(tmp_path: Path, sshd: SSHServer) -> None:
    store = DeviceStore(tmp_path / "config")
    device = device_for(sshd)
    asked: list[HostKeyQuestion] = []
    with pytest.raises(HostKeyUnknown):
        check_device(device, store, ask=lambda q: asked.append(q) or False)
    assert asked[0].fingerprint == key_fingerprint(Path(f"{sshd.host_key}.pub"))
    assert asked[0].host == f"[127.0.0.1]:{sshd.port}" and asked[0].key_type == "ssh-ed25519"
    assert not store.known_hosts.exists()
    assert check_device(device, store, ask=lambda q: True).ready
    assert check_device(device, store, ask=lambda q: pytest.fail("asked again")).ready


def test_changed_host_key_is_always_refused(tmp_path: Path, sshd: SSHServer) -> None:
    store = DeviceStore(tmp_path / "config")
    device = device_for(sshd)
    check_device(device, store, accept_new_host_key=True)
    before = store.known_hosts.read_text()
    old = key_fingerprint(Path(f"{sshd.host_key}.pub"))
    sshd.restart(new_host_key=True)
    new = key_fingerprint(Path(f"{sshd.host_key}.pub"))
    for accept in (False, True):
        with pytest.raises(HostKeyChanged) as info:
            check_device(device, store, accept_new_host_key=accept, ask=lambda q: True)
        assert info.value.expected == old and info.value.offered == new and "changed" in str(info.value)
    assert store.known_hosts.read_text() == before
    # The remedy the message gives works: remove the old key, then accept the new one.
    hint = info.value.hint
    command = hint[hint.index("ssh-keygen"):hint.index(", then")]
    subprocess.run(command, shell=True, check=True, capture_output=True)
    assert check_device(device, store, accept_new_host_key=True).ready


def test_unreachable_host(tmp_path: Path, sshd: SSHServer) -> None:
    store = DeviceStore(tmp_path / "config")
    closed = Device("gone", "127.0.0.1", sshd.user, _closed_port(), identity=str(sshd.user_key))
    with pytest.raises(DeviceUnreachable, match="connection refused"):
        check_device(closed, store, accept_new_host_key=True)
    nameless = Device("nameless", "no-such-host.invalid", sshd.user, identity=str(sshd.user_key))
    with pytest.raises(DeviceUnreachable, match="cannot resolve"):
        check_device(nameless, store, accept_new_host_key=True)
    config = tmp_path / "cli"
    cli(config, "device", "add", "gone", f"ssh://{sshd.user}@127.0.0.1:{closed.port}", "--identity", str(sshd.user_key))
    result = cli(config, "device", "check", "gone", "--accept-new-host-key")
    assert result.returncode == 1 and result.stderr.startswith("error: gone: cannot reach") and "Traceback" not in result.stderr


def test_refused_key(tmp_path: Path, sshd: SSHServer) -> None:
    store = DeviceStore(tmp_path / "config")
    stranger = keygen(tmp_path / "stranger")
    with pytest.raises(AuthenticationRefused, match="refused the key"):
        check_device(device_for(sshd, identity=str(stranger)), store, accept_new_host_key=True)
    with pytest.raises(AuthenticationRefused, match="does not exist"):
        check_device(device_for(sshd, identity=str(tmp_path / "nokey")), store, accept_new_host_key=True)


def test_device_without_python_or_runtime(tmp_path: Path, sshd: SSHServer, bare_python: Path) -> None:
    store = DeviceStore(tmp_path / "config")
    with pytest.raises(RemoteCommandError, match="no usable Python at /nonexistent/python3") as info:
        check_device(device_for(sshd, python="/nonexistent/python3"), store, accept_new_host_key=True)
    assert "--python" in info.value.hint
    report = check_device(device_for(sshd, python=str(bare_python)), store)
    status = {f.item: f for f in report.findings}
    assert not report.ready
    assert status["numpy"].status == "missing" and "pip install numpy" in status["numpy"].hint
    assert status["TFLite interpreter"].status == "missing" and "ai-edge-litert" in status["TFLite interpreter"].hint
    assert status["Python"].status == "ok"


def test_compile_host_without_compiler_is_not_ready(tmp_path: Path, sshd: SSHServer) -> None:
    store = DeviceStore(tmp_path / "config")
    report = check_device(device_for(sshd, compile_host=True, edgetpu_compiler="/nonexistent/edgetpu_compiler"),
                          store, accept_new_host_key=True)
    compiler = next(f for f in report.findings if f.item == "edgetpu_compiler")
    assert not report.ready and compiler.status == "missing" and "apt-get install edgetpu-compiler" in compiler.hint


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again on return: nothing listens there


def test_home_relative_paths_expand_on_the_device(tmp_path: Path, sshd: SSHServer) -> None:
    """``--python ~/sb3-venv/bin/python`` (what the install hint suggests) means the device's home."""
    from studio.core.devices.ssh import connect, shell_word

    store = DeviceStore(tmp_path / "config")
    with connect(device_for(sshd), store, accept_new_host_key=True) as connection:
        done = connection.run(f"printf %s {shell_word('~/sb3 venv/bin/python')} {shell_word('/a b')}", timeout=30)
    assert done.stdout.decode() == f"{Path.home()}/sb3 venv/bin/python/a b"


def test_cleanup_removes_only_the_studios_own_folders(tmp_path: Path, sshd: SSHServer) -> None:
    """The journal is a local file: whatever it says, only /…/sb3-studio-<12 hex> folders are removed."""
    import json as json_
    import secrets

    from studio.core.devices.workspace import contact, pending

    store = DeviceStore(tmp_path / "config")
    device = device_for(sshd)
    precious = tmp_path / "precious"
    precious.mkdir()
    ours = Path(f"/tmp/sb3-studio-{secrets.token_hex(6)}")
    ours.mkdir()
    (ours / "left.txt").write_text("left by a dropped run")
    address = f"{device.user}@{device.address}"
    store.folder.mkdir(parents=True)
    store.journal.write_text(json_.dumps([{"device": "here", "address": address, "path": str(p)}
                                          for p in (precious, tmp_path / "sb3-studio-x", ours)]
                                         + [{"device": "other", "address": address, "path": "/tmp/x"}]))
    with contact(device, store, accept_new_host_key=True):
        pass
    assert precious.is_dir() and not ours.exists()
    assert pending(store, device) == [] and len(json_.loads(store.journal.read_text())) == 1  # "other" stays
