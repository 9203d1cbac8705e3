"""TFLite float32/float16/int8 through onnx2tf, verification, the Edge TPU stages, caching, cancel, batch.

These tests run TensorFlow (in onnx2tf's child process): about 6 s per conversion.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter
from conftest import ALL, REPO, ZOO_AGENTS
from helpers import visited_observations

from studio.core.loading import load_model
from studio.core.pipeline.events import StageCancelled, StageLog
from studio.core.pipeline.runner import execute
from studio.core.pipeline.spec import ConvertSpec
from studio.core.runtimes.base import RuntimeUnavailable
from studio.core.runtimes.litert import LiteRTRuntime
from studio.core.tflite.onnx2tf_job import Onnx2TfJob, prepare

pytestmark = pytest.mark.slow


def manifest(run: Path) -> dict:
    return json.loads((run / "run.json").read_text())


@pytest.mark.parametrize("name", sorted(ZOO_AGENTS))
def test_zoo_agent_converts_to_every_format_offline(name: str, zoo_runs: dict[str, Path]) -> None:
    run = zoo_runs[name]
    data = manifest(run)
    for file in ("policy.onnx", "policy_float32.tflite", "policy_float16.tflite", "policy_int8.tflite",
                 "saved_model/saved_model.pb", "logs/onnx2tf.log"):
        assert (run / file).is_file(), file
    assert not list(run.glob(".work-*"))  # the work folder is gone
    assert {"onnx", "tflite_fp32", "tflite_fp16", "tflite_int8", "saved_model"} <= set(data["artifacts"])
    assert data["calibration"]["source"] == "rollout" and data["calibration"]["count"] == 1000
    edgetpu = next(s for s in data["stages"] if s["name"] == "edgetpu")
    assert edgetpu["status"] == "skipped"
    assert "edgetpu_compiler was not found" in edgetpu["reason"] and "apt-get install" in edgetpu["reason"]
    readiness = data["artifacts"]["tflite_int8"]["edgetpu_readiness"]
    assert readiness["ops"] and all(row["status"] in ("maps", "cpu") for row in readiness["ops"])


@pytest.mark.parametrize("name", sorted(ZOO_AGENTS))
def test_float32_tflite_matches_predict(name: str, zoo_runs: dict[str, Path]) -> None:
    """Checked here with LiteRT's interpreter directly, on observations this test collects itself."""
    loaded = load_model(ZOO_AGENTS[name])
    interpreter = Interpreter(model_path=str(zoo_runs[name] / "policy_float32.tflite"))
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    obs = visited_observations(loaded, 200, seed=123).astype(np.float32)
    actions = []
    for row in obs:
        interpreter.set_tensor(inp["index"], row[None])
        interpreter.invoke()
        actions.append(interpreter.get_tensor(out["index"])[0])
    expected = loaded.predict(obs)
    actual = np.asarray(actions).reshape(expected.shape)
    if isinstance(loaded.action_space, gym.spaces.Discrete):
        np.testing.assert_array_equal(actual, expected)
    else:
        assert np.abs(actual - expected).max() <= 1e-5
    report = manifest(zoo_runs[name])["artifacts"]["tflite_fp32"]["verification"]
    assert report["passed"] and report["closed_loop"]["verdict"] != "failed"


@pytest.mark.parametrize("name", sorted(ZOO_AGENTS))
def test_float16_within_bounds(name: str, zoo_runs: dict[str, Path]) -> None:
    data = manifest(zoo_runs[name])
    artifact = data["artifacts"]["tflite_fp16"]
    stage = next(s for s in data["stages"] if s["name"] == "verify-tflite-fp16")
    assert stage["status"] == "passed"
    for source in artifact["verification"]["sources"].values():
        assert source.get("agreement_percent", 100.0) >= 98.0
        if "float64" in source:  # as far from float64 as the original with float16 weights, not more
            assert source["float64"]["max_error"] <= 8 * source["float64"]["original_max_error"] + 1e-6
    if name == "sac":
        # 0.0106 from SB3's predict, which an absolute 1e-2 bound used to fail (and repair by splitting the
        # first layer): it is what float16 storage itself does to this policy's weights.
        assert artifact["verification"]["sources"]["sampled"]["max_abs_error"] > 1e-2
    assert "repaired" not in artifact


@pytest.mark.parametrize("name", sorted(ZOO_AGENTS))
def test_int8_is_reported_on_both_sources_and_closed_loop(name: str, zoo_runs: dict[str, Path]) -> None:
    report = manifest(zoo_runs[name])["artifacts"]["tflite_int8"]["verification"]
    assert set(report["sources"]) == {"sampled", "rollout"}
    closed = report["closed_loop"]
    assert closed["episodes"] >= 10 and len(closed["returns"]) == closed["episodes"]
    assert closed["verdict"] in ("passed", "failed", "inconclusive")
    assert closed["std"] >= 0 and closed["original_mean"] is not None


def test_dqn_plain_int8_breaks_and_the_run_says_so(zoo_runs: dict[str, Path]) -> None:
    """The zoo's DQN CartPole: Q-values 104-108, gaps of 0.18: plain int8 drops the pole."""
    closed = manifest(zoo_runs["dqn"])["artifacts"]["tflite_int8_plain"]["verification"]["closed_loop"]
    assert closed["original_mean"] == 500.0
    assert closed["mean"] < 100 and closed["score"] < 0.2


def test_second_run_restores_unchanged_stages(zoo_runs: dict[str, Path]) -> None:
    run = zoo_runs["ppo"]
    before = manifest(run)
    execute(ConvertSpec(model=ZOO_AGENTS["ppo"], targets=ALL, out=run), emit=lambda e: None)
    after = manifest(run)
    status = {s["name"]: s["status"] for s in after["stages"]}
    assert status["onnx"] == status["tflite"] == status["verify-tflite-int8"] == status["int8-repair"] == "cached"
    assert after["artifacts"]["tflite_int8"]["sha256"] == before["artifacts"]["tflite_int8"]["sha256"]
    assert after["artifacts"]["tflite_int8"]["verification"] == before["artifacts"]["tflite_int8"]["verification"]
    # A changed option re-runs what depends on it.
    execute(ConvertSpec(model=ZOO_AGENTS["ppo"], targets=ALL, out=run, episodes=5), emit=lambda e: None)
    again = {s["name"]: s["status"] for s in manifest(run)["stages"]}
    assert again["verify-tflite-fp32"] == "passed"
    assert manifest(run)["artifacts"]["tflite_fp32"]["verification"]["closed_loop"]["episodes"] == 5


@pytest.mark.parametrize("name", ["ppo_dict_box", "ppo_image_discrete", "ppo_discrete_multidiscrete",
                                  "ppo_multibinary_multibinary"])
def test_every_space_type_converts(name: str, tiny_models_paths: dict[str, Path], tmp_path: Path) -> None:
    targets = ["onnx", "tflite-fp32", "tflite-fp16", "tflite-int8", "tflite-full-int8"]
    finished = execute(ConvertSpec(model=tiny_models_paths[name], targets=targets, out=tmp_path), emit=lambda e: None)
    assert finished.status == "passed", [s for s in finished.manifest["stages"] if s["status"] != "passed"]
    sources = finished.manifest["artifacts"]["tflite_fp32"]["verification"]["sources"]["sampled"]
    assert sources.get("agreement_percent", 100.0) == 100.0 and sources.get("max_abs_error", 0.0) <= 1e-5
    full = Interpreter(model_path=str(tmp_path / "policy_full_int8.tflite")).get_input_details()
    assert all(d["dtype"] == np.int8 for d in full)


def test_cancel_during_onnx2tf_ends_the_child_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cancel = threading.Event()
    events: list = []
    children: list[int] = []
    start = Onnx2TfJob.start

    def recording_start(self: Onnx2TfJob) -> Onnx2TfJob:
        start(self)
        children.append(self.child.pid)
        return self

    monkeypatch.setattr(Onnx2TfJob, "start", recording_start)

    def emit(event: object) -> None:
        events.append(event)
        if isinstance(event, StageLog) and event.stage == "tflite" and "onnx2tf" not in event.line.lower():
            cancel.set()  # onnx2tf is printing: the child is at work

    finished = execute(ConvertSpec(model=ZOO_AGENTS["sac"], targets=ALL, out=tmp_path), emit=emit, cancel=cancel)
    assert finished.status == "cancelled"
    assert any(isinstance(e, StageCancelled) and e.stage == "tflite" for e in events)
    assert not list(tmp_path.glob("*.tflite")) and not (tmp_path / "saved_model").exists()
    assert not list(tmp_path.glob(".work-*"))
    assert len(children) == 1 and not Path(f"/proc/{children[0]}").exists()  # ended and reaped


def test_conversion_needs_no_network(tmp_path: Path) -> None:
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare -n (a namespace with no network) is not permitted here")
    command = ["unshare", "-n", sys.executable, "-m", "studio.cli", "convert", str(ZOO_AGENTS["ppo"]),
               "--to", "tflite-int8", "--out", str(tmp_path), "--episodes", "2"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "policy_int8.tflite").is_file()


def test_onnx2tf_arguments(tmp_path: Path, tiny_models_paths: dict[str, Path]) -> None:
    from studio.core.policy_io import policy_io_for

    loaded = load_model(tiny_models_paths["ppo_dict_box"])
    io = policy_io_for(loaded.observation_space, loaded.action_space)
    plan = prepare(tmp_path / "policy.onnx", tmp_path, io, int8=True)
    argv = plan.argv
    assert argv[argv.index("-b") + 1] == "1" and "-osd" in argv and "-oiqt" in argv
    assert argv.count("-cind") == 2
    assert {argv[i + 1] for i, a in enumerate(argv) if a == "-cind"} == {"pos", "mode"}
    assert set(plan.outputs) == {"tflite_fp32", "tflite_fp16", "tflite_int8", "tflite_full_int8"}


def test_edgetpu_runtime_is_unavailable_with_reason(zoo_runs: dict[str, Path]) -> None:
    from studio.core.policy_io import PolicyIO

    io = PolicyIO.from_json(manifest(zoo_runs["ppo"])["artifacts"]["onnx"]["io"])
    with pytest.raises(RuntimeUnavailable) as info:
        LiteRTRuntime(zoo_runs["ppo"] / "policy_int8.tflite", io, edgetpu=True)
    assert "libedgetpu.so.1" in info.value.reason and "coral.ai" in info.value.hint


def test_edgetpu_stage_with_stand_in_compiler(zoo_runs: dict[str, Path], tmp_path: Path) -> None:
    """No Edge TPU compiler can be installed here. A stand-in script replays a real compiler log
    (tests/data/edgetpu_logs) and writes the output file, to test how the stage runs it and reads it."""
    log = REPO / "tests/data/edgetpu_logs/nrf20_mnist7_ops_log_fully_mapped.txt"
    stand_in = tmp_path / "edgetpu_compiler"
    stand_in.write_text(
        "#!/bin/sh\n"
        f"cat '{log}'\n"
        'out="$3"; model="$4"; name=$(basename "$model" .tflite)\n'
        'cp "$model" "$out/${name}_edgetpu.tflite"\n'
    )
    stand_in.chmod(0o755)
    run = tmp_path / "run"
    shutil.copytree(zoo_runs["qrdqn"], run)
    spec = ConvertSpec(model=ZOO_AGENTS["qrdqn"], targets=ALL, out=run, edgetpu_compiler=stand_in)
    assert execute(spec, emit=lambda e: None).status == "passed"
    data = manifest(run)
    compiler = data["artifacts"]["edgetpu"]["compiler"]
    assert compiler["succeeded"] and compiler["ops"] and all(op["mapped"] for op in compiler["ops"])
    assert (run / "policy_edgetpu.tflite").is_file() and (run / "logs/edgetpu_compiler.log").is_file()


def test_convert_many_resumes_and_summarises(tmp_path: Path, tiny_models_paths: dict[str, Path]) -> None:
    tree = tmp_path / "tree"
    (tree / "a").mkdir(parents=True)
    shutil.copy(tiny_models_paths["dqn_box_discrete"], tree / "a" / "dqn.zip")
    shutil.copy(tiny_models_paths["td3_box_box"], tree / "td3.zip")
    (tree / "notes.zip").write_text("not a model")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "studio.cli", "convert-many", str(tree), "--jobs", "2", "--out", str(out),
               "--to", "tflite-fp32", "--episodes", "2"]
    first = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert first.returncode == 0, first.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    rows = summary["models"]
    assert sorted(Path(r["model"]).name for r in rows) == ["dqn.zip", "td3.zip"]
    assert all(r["status"] == "passed" and r["tflite_fp32"] and r["loaded"] and r["converted"] for r in rows)
    assert summary["families"] == [{"family": "unknown environment", "models": 2, "loaded": 2, "converted": 2,
                                    "plays": 0, "no environment here": 2}]
    assert "family" in first.stderr and "unknown environment" in first.stderr
    assert (out / "summary.csv").read_text().count("\n") == 3
    assert "<table>" in (out / "report.html").read_text()
    second = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert second.stderr.count("resumed") == 2
