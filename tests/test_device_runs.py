"""Remote runs against a real OpenSSH server on 127.0.0.1 (this machine is the device): the Edge TPU
compiler on a compile host, a bundle's check and latency on a device, and every way a run can end
badly (no Python, no runtime, a timeout, a cancel, a dropped connection) leaving nothing behind.

No Edge TPU compiler can be installed here: a stand-in on the "device" replays a recorded log
(tests/data/edgetpu_logs) and writes the output model, as the local stage's test does. What is tested
is the real path: files pushed over SFTP, commands run in a journalled temporary folder, results
fetched back and read by the studio's own parsers, and nothing left on the device.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import venv
from pathlib import Path

import pytest
from conftest import ZOO_AGENTS
from sshd_server import SSHServer, processes_in, sshd  # noqa: F401 - the fixture

from studio.core.devices.probe import check_device
from studio.core.devices.remote_bench import check_remote
from studio.core.devices.store import Device, DeviceStore, parse_url
from studio.core.devices.workspace import pending
from studio.core.edgetpu.compiler_log import parse_compiler_log
from studio.core.errors import Cancelled, ConnectionDropped, RemoteCommandError, RemoteTimeout
from studio.core.pipeline.run_folder import read_manifest
from studio.core.pipeline.runner import execute
from studio.core.pipeline.spec import ConvertSpec

REPO = Path(__file__).resolve().parents[1]
LOGS = REPO / "tests/data/edgetpu_logs"
TARGETS = ["tflite-fp32", "tflite-int8", "bundle"]
OPTIONS = {"episodes": 3, "samples": 200, "rollout_steps": 200, "calibration_steps": 200}
FULLY_MAPPED = "nrf20_mnist7_ops_log_fully_mapped.txt"


@pytest.fixture(scope="module")
def int8_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zoo's PPO CartPole converted to float32 and int8 TFLite and its device bundle, lean (about 30 s)."""
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


class Devices:
    """Devices in a config folder of their own, all of them this machine through the test's sshd."""

    def __init__(self, sshd: SSHServer, config: Path) -> None:  # noqa: F811
        self.config = config
        self.store = DeviceStore(config / "sb3-studio")
        self.user, self.host, self.port = parse_url(sshd.url)
        self.key = str(sshd.user_key)

    def add(self, name: str, python: str = sys.executable, compile_host: bool = False,
            compiler: str = "edgetpu_compiler", check: bool = True) -> Device:
        device = Device(name, self.host, self.user, self.port, self.key, python, compile_host, compiler)
        self.store.add(device)
        if check:  # accepts the host key (the first device did already: same host)
            check_device(device, self.store, accept_new_host_key=True)
        return device

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "XDG_CONFIG_HOME": str(self.config)}
        return subprocess.run([sys.executable, "-m", "studio.cli", *args], capture_output=True, text=True, env=env,
                              cwd=REPO, timeout=600)


@pytest.fixture(scope="module")
def devices(sshd: SSHServer, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    config = tmp_path_factory.mktemp("config")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(config))  # what the pipeline's compile stage reads
        yield Devices(sshd, config)


@pytest.fixture(scope="module")
def compiled_run(int8_run: Path, devices: Devices, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """int8_run, compiled for the Edge TPU on the compile host "x86"; and the file naming the remote folder."""
    folder = tmp_path_factory.mktemp("compile-host")
    devices.add("x86", compile_host=True, compiler=str(stand_in_compiler(folder, FULLY_MAPPED)))
    run = folder / "run"
    shutil.copytree(int8_run, run)
    spec = ConvertSpec(model=ZOO_AGENTS["ppo"], targets=[*TARGETS, "edgetpu"], out=run, edgetpu_device="x86", **OPTIONS)
    assert "--edgetpu-device x86" in spec.command()
    assert execute(spec, emit=lambda e: None).status == "passed"
    return run, folder / "ran_in"


@pytest.mark.slow
def test_remote_compile(compiled_run: tuple[Path, Path], devices: Devices) -> None:
    run, ran_in = compiled_run
    manifest = read_manifest(run)
    stages = {s["name"]: s["status"] for s in manifest["stages"]}
    assert stages["tflite"] == "cached" and stages["edgetpu"] == "passed"  # only the compile ran again
    edgetpu = manifest["artifacts"]["edgetpu"]
    assert edgetpu["compiler_path"] == "x86 (over SSH)"
    recorded = (LOGS / FULLY_MAPPED).read_text()
    assert edgetpu["compiler"] == parse_compiler_log(recorded).to_json()  # read as a local compile's log is
    assert edgetpu["compiler"]["succeeded"] and all(op["mapped"] for op in edgetpu["compiler"]["ops"])
    # The model came back over SFTP (the stand-in copies its input), the log is the recorded one.
    assert (run / "policy_edgetpu.tflite").read_bytes() == (run / "policy_int8.tflite").read_bytes()
    assert (run / "logs/edgetpu_compiler.log").read_text() == recorded
    remote = ran_in.read_text().strip()
    assert remote.startswith("/tmp/sb3-studio-") and not Path(remote).exists()
    assert pending(devices.store, devices.store.get("x86")) == [] and not (run / ".work-edgetpu").exists()


@pytest.mark.slow
def test_compiled_model_goes_to_the_configured_coral(compiled_run: tuple[Path, Path], devices: Devices,
                                                      tmp_path: Path) -> None:
    """After compiling, the Edge TPU model runs on a device with a Coral: none configured, the stage
    says how to add one; configured (by name, or found by its last check), it runs there, and here,
    with no Coral, the device's own runner says why it cannot."""
    run = tmp_path / "run"
    shutil.copytree(compiled_run[0], run)
    record = next(s for s in read_manifest(run)["stages"] if s["name"] == "edgetpu-device")
    assert record["status"] == "skipped" and "no device with a Coral" in record["reason"]
    devices.add("coral")

    def convert(**kw: str) -> dict:
        spec = ConvertSpec(model=ZOO_AGENTS["ppo"], targets=[*TARGETS, "edgetpu"], out=run, edgetpu_device="x86",
                           **OPTIONS, **kw)
        execute(spec, emit=lambda e: None)
        return read_manifest(run)

    for how in ("named", "found"):
        if how == "found":  # as if the last `device check` had seen a Coral and loaded its delegate
            devices.store.record_check("coral", {"coral": True, "edgetpu_delegate": True})
        manifest = convert(coral_device="coral") if how == "named" else convert()
        stages = {s["name"]: s for s in manifest["stages"]}
        assert stages["bundle"]["status"] == "cached" and stages["edgetpu"]["status"] == "cached"
        assert stages["edgetpu-device"]["status"] == "failed"
        assert "coral: the Edge TPU could not run there" in stages["edgetpu-device"]["error"]
        assert "libedgetpu.so.1" in stages["edgetpu-device"]["error"]
        on_device = manifest["artifacts"]["edgetpu"]["on_device"]
        assert on_device["device"] == "coral" and on_device["status"] == "unavailable" and on_device["probe"]["python"]
    assert pending(devices.store, devices.store.get("coral")) == []


@pytest.mark.slow
def test_remote_compile_failure_and_wrong_device(int8_run: Path, tmp_path: Path, devices: Devices) -> None:
    devices.add("broken", compile_host=True,
                compiler=str(stand_in_compiler(tmp_path, "coral_issue358_internal_compiler_error.txt", succeed=False)))
    devices.add("pi")
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
    assert pending(devices.store, devices.store.get("broken")) == []


def our_remote_folders() -> set[str]:
    """The remote runs' private folders (``sb3-studio-`` and 12 hex digits), not other studio temporaries
    (a local bench's ``sb3-studio-bench-*`` from another process on a shared machine is not ours to count)."""
    return {str(p) for p in Path("/tmp").glob("sb3-studio-*") if re.fullmatch(r"sb3-studio-[0-9a-f]{12}", p.name)}


@pytest.mark.slow
def test_remote_bench_beside_local(compiled_run: tuple[Path, Path], devices: Devices, tmp_path: Path) -> None:
    """``bench RUN --device NAME``: the bundle runs on the device; its rows sit beside the local ones."""
    devices.add("here")
    run = tmp_path / "run"
    shutil.copytree(compiled_run[0], run)
    bundle = run / "bundle"
    assert (bundle / "policy_int8_edgetpu.tflite").is_file()  # the bundle was made again with the compiled model
    golden = json.loads((bundle / "manifest.json").read_text())["golden"]["count"]
    before = our_remote_folders()
    result = devices.cli("bench", str(run), "--device", "here", "--runtime", "litert-int8", "--calls", "300",
                         "--rounds", "2", "--warmup", "10")
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run / "bench/bench.json").read_text())
    runtimes = results["runtimes"]
    assert set(runtimes) == {"litert-int8", "here:litert-fp32", "here:litert-int8", "here:edgetpu"}
    assert runtimes["litert-int8"]["available"] and "device" not in runtimes["litert-int8"]
    for name in ("here:litert-fp32", "here:litert-int8"):
        entry = runtimes[name]
        assert entry["device"] == "here" and entry["status"] == "passed" and entry["available"], entry
        stats = entry["batches"]["1"]
        # Raw and wrapped medians are measured apart on a shared machine: both present, neither ordered.
        assert stats["calls"] == 300 and 0 < stats["raw"]["p50_us"] and 0 < stats["p50_us"] <= stats["p99_us"]
        assert entry["verification"]["passed"] and sum(s["count"] for s in entry["verification"]["sources"].values()) == golden
    assert runtimes["here:litert-int8"]["file_bytes"] == (bundle / "policy_int8.tflite").stat().st_size
    # No Coral here: the device's own runner says why the Edge TPU row has no figures.
    coral = runtimes["here:edgetpu"]
    assert not coral["available"] and "libedgetpu.so.1" in coral["reason"] and coral["device"] == "here"
    assert results["devices"]["here"]["probe"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert "here:litert-int8" in result.stdout and "here:edgetpu: not available" in result.stdout
    csv = (run / "bench/bench.csv").read_text().splitlines()
    assert "device" in csv[0].split(",") and sum(",here," in line for line in csv) == 3
    assert our_remote_folders() == before and pending(devices.store, devices.store.get("here")) == []


@pytest.mark.slow
def test_remote_bench_without_python_or_runtime(int8_run: Path, devices: Devices, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(int8_run, run)
    bare = tmp_path / "bare"
    venv.EnvBuilder(with_pip=False).create(bare)
    devices.add("bare", python=str(bare / "bin/python"))
    devices.add("nopython", python="/nonexistent/python3", check=False)
    before = our_remote_folders()
    result = devices.cli("bench", str(run), "--device-only", "--device", "bare", "--device", "nopython")
    assert result.returncode == 1
    runtimes = json.loads((run / "bench/bench.json").read_text())["runtimes"]
    assert "No module named 'numpy'" in runtimes["bare:bundle"]["reason"]
    assert "pip install numpy" in runtimes["bare:bundle"]["hint"]
    assert "no usable Python at /nonexistent/python3" in runtimes["nopython:bundle"]["reason"]
    assert our_remote_folders() == before
    missing = devices.cli("bench", str(tmp_path / "run"), "--device", "nowhere")
    assert missing.returncode == 2 and "no such device" in missing.stderr
    shutil.rmtree(run / "bundle")
    no_bundle = devices.cli("bench", str(run), "--device-only", "--device", "bare")
    assert no_bundle.returncode == 2 and "not a device bundle" in no_bundle.stderr


def sleeping_bundle(run: Path, note: Path) -> Path:
    """The run's bundle with a runner that notes the folder it runs in, then sleeps: a run that never ends."""
    (run / "bundle" / "sb3_runner.py").write_text(f"import os, time\nopen({str(note)!r}, 'w').write(os.getcwd())\n"
                                                  "time.sleep(300)\n")
    return run / "bundle"


def wait_for(path: Path, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.is_file() and path.read_text():
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


@pytest.mark.slow
def test_timeout_and_cancel_leave_nothing(int8_run: Path, devices: Devices, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(int8_run, run)
    note = tmp_path / "where"
    bundle = sleeping_bundle(run, note)
    device = devices.add("slow")
    start = time.monotonic()
    with pytest.raises(RemoteTimeout, match="did not finish within 2 s"):
        check_remote(device, devices.store, bundle, timeout=2)
    assert time.monotonic() - start < 30
    folder = wait_for(note)
    assert not Path(folder).exists() and processes_in(folder) == []
    note.unlink()
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()
    with pytest.raises(Cancelled):
        check_remote(device, devices.store, bundle, timeout=60, cancel=cancel)
    folder = wait_for(note)
    assert not Path(folder).exists() and processes_in(folder) == []
    assert pending(devices.store, device) == []


@pytest.mark.slow
def test_dropped_connection_is_cleaned_on_next_contact(int8_run: Path, devices: Devices, sshd: SSHServer,  # noqa: F811
                                                       tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(int8_run, run)
    note = tmp_path / "where"
    bundle = sleeping_bundle(run, note)
    device = devices.add("flaky")
    outcome: list[BaseException] = []

    def bench() -> None:
        try:
            check_remote(device, devices.store, bundle, timeout=120)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=bench)
    worker.start()
    folder = wait_for(note)  # the runner is running on the device
    sshd.drop()
    worker.join(30)
    assert not worker.is_alive() and isinstance(outcome[0], ConnectionDropped), outcome
    assert "removed on the next contact" in str(outcome[0])
    # Left behind, as on a real device: the folder, the orphaned runner, and the journal's entry.
    assert Path(folder).is_dir() and processes_in(folder) and pending(devices.store, device) == [folder]
    sshd.start()
    check_device(device, devices.store)  # the next contact, whatever it is for
    assert not Path(folder).exists() and processes_in(folder) == [] and pending(devices.store, device) == []
