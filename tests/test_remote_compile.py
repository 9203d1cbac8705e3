"""The Edge TPU compiler on a compile host over SSH (a real OpenSSH server; this machine is the host).

No Edge TPU compiler can be installed here: a stand-in on the "device" replays a recorded log
(tests/data/edgetpu_logs) and writes the output model, as the local stage's test does. What is tested
is the real path: the int8 model pushed over SFTP, the compiler run in a journalled temporary folder,
its log and model fetched back, parsed by the same parser, and nothing left on the device.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from conftest import ZOO_AGENTS
from sshd_server import SSHServer, sshd  # noqa: F401 - the fixture

from studio.core.devices.probe import check_device
from studio.core.devices.store import Device, DeviceStore, parse_url
from studio.core.devices.workspace import pending
from studio.core.edgetpu.compiler_log import parse_compiler_log
from studio.core.pipeline.run_folder import read_manifest
from studio.core.pipeline.runner import execute
from studio.core.pipeline.spec import ConvertSpec

REPO = Path(__file__).resolve().parents[1]
LOGS = REPO / "tests/data/edgetpu_logs"
TARGETS = ["tflite-fp32", "tflite-int8"]
OPTIONS = {"episodes": 3, "samples": 200, "rollout_steps": 200, "calibration_steps": 200}


@pytest.fixture(scope="module")
def int8_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zoo's PPO CartPole converted to float32 and int8 TFLite, lean (about 20 s)."""
    run = tmp_path_factory.mktemp("device-run") / "ppo"
    assert execute(ConvertSpec(model=ZOO_AGENTS["ppo"], targets=TARGETS, out=run, **OPTIONS),
                   emit=lambda e: None).status == "passed"
    return run


def stand_in_compiler(folder: Path, log: str, succeed: bool = True) -> Path:
    """An ``edgetpu_compiler`` that prints a recorded log; on success it writes ``<stem>_edgetpu.tflite``
    (a copy of its input) where ``-o`` says, and it notes the folder it ran in."""
    script = folder / f"edgetpu_compiler_{'ok' if succeed else 'fails'}"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then echo "Edge TPU Compiler version 16.0.384591198"; exit 0; fi\n'
        f"pwd > '{folder}/ran_in'\n"
        f"cat '{LOGS / log}'\n"
        + ('out="$3"; model="$4"; name=$(basename "$model" .tflite)\ncp "$model" "$out/${name}_edgetpu.tflite"\n'
           if succeed else "echo 'ERROR: something went wrong' >&2\nexit 1\n")
    )
    script.chmod(0o755)
    return script


@pytest.fixture()
def compile_host(sshd: SSHServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    store = DeviceStore()
    user, host, port = parse_url(sshd.url)

    def add(name: str, log: str, succeed: bool = True, is_compile_host: bool = True) -> Device:
        device = Device(name, host, user, port, str(sshd.user_key), sys.executable, is_compile_host,
                        str(stand_in_compiler(tmp_path, log, succeed)))
        store.add(device)
        assert check_device(device, store, accept_new_host_key=True).ready
        return device

    return store, add


@pytest.mark.slow
def test_remote_compile(int8_run: Path, tmp_path: Path, compile_host) -> None:
    store, add = compile_host
    add("x86", "nrf20_mnist7_ops_log_fully_mapped.txt")
    run = tmp_path / "run"
    shutil.copytree(int8_run, run)
    spec = ConvertSpec(model=ZOO_AGENTS["ppo"], targets=[*TARGETS, "edgetpu"], out=run, edgetpu_device="x86", **OPTIONS)
    assert "--edgetpu-device x86" in spec.command()
    assert execute(spec, emit=lambda e: None).status == "passed"
    manifest = read_manifest(run)
    stages = {s["name"]: s["status"] for s in manifest["stages"]}
    assert stages["tflite"] == "cached" and stages["edgetpu"] == "passed"  # only the compile ran again
    edgetpu = manifest["artifacts"]["edgetpu"]
    assert edgetpu["compiler_path"] == "x86 (over SSH)"
    compiler = edgetpu["compiler"]
    recorded = (LOGS / "nrf20_mnist7_ops_log_fully_mapped.txt").read_text()
    assert compiler == parse_compiler_log(recorded).to_json()  # read as a local compile's log is
    assert compiler["succeeded"] and compiler["ops"] and all(op["mapped"] for op in compiler["ops"])
    # The model came back over SFTP (the stand-in copies its input), the log is the recorded one.
    assert (run / "policy_edgetpu.tflite").read_bytes() == (run / "policy_int8.tflite").read_bytes()
    assert (run / "logs/edgetpu_compiler.log").read_text() == recorded
    remote = (tmp_path / "ran_in").read_text().strip()
    assert remote.startswith("/tmp/sb3-studio-") and not Path(remote).exists()
    assert pending(store, store.get("x86")) == [] and not (run / ".work-edgetpu").exists()


@pytest.mark.slow
def test_remote_compile_failure_and_wrong_device(int8_run: Path, tmp_path: Path, compile_host) -> None:
    store, add = compile_host
    add("broken", "coral_issue358_internal_compiler_error.txt", succeed=False)
    add("pi", "nrf20_mnist7_ops_log_fully_mapped.txt", is_compile_host=False)
    run = tmp_path / "run"
    shutil.copytree(int8_run, run)
    for name, message in (("broken", "Internal compiler error"), ("pi", "not a compile host"),
                          ("nowhere", "no such device")):
        spec = ConvertSpec(model=ZOO_AGENTS["ppo"], targets=[*TARGETS, "edgetpu"], out=run, edgetpu_device=name,
                           **OPTIONS)
        execute(spec, emit=lambda e: None)
        record = next(s for s in read_manifest(run)["stages"] if s["name"] == "edgetpu")
        assert record["status"] == "failed" and message in record["error"], record
        assert not (run / "policy_edgetpu.tflite").exists()
    assert not Path((tmp_path / "ran_in").read_text().strip()).exists()
    assert pending(store, store.get("broken")) == []
