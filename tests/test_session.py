"""The session model, without Qt: opening models, selection, names that tell models apart, run folders,
what a run folder holds (stages, verdicts, benchmarks, rollouts), and restoring all of it on start."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from conftest import REPO, ZOO, ZOO_AGENTS

from studio.core.library import describe
from studio.core.pipeline.events import RunFinished, StageFailed, StageFinished, StageLog, StageProgress, StageStarted
from studio.core.pipeline.runner import execute
from studio.core.pipeline.spec import ConvertSpec
from studio.core.session import PipelineState, RunRecord, Session
from studio.core.session.runs import verdict_of

DEMO = REPO / "resources" / "demo" / "ppo" / "CartPole-v1_1" / "CartPole-v1.zip"


@pytest.fixture(scope="module")
def ppo_onnx_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("session") / "ppo-CartPole-v1_1"
    execute(ConvertSpec(model=ZOO_AGENTS["ppo"], targets=["onnx"], out=run), emit=lambda event: None)
    return run


def bench_results(p50: float) -> dict:
    stats = {"p50_us": p50, "p99_us": 2 * p50, "harness_overhead_us": 0.1}
    return {"runtimes": {"sb3": {"available": True, "load_ms": 900.0, "first_call_us": 400.0, "batches": {"1": stats}}}}


def test_core_session_never_imports_qt() -> None:
    import subprocess

    code = "import studio.core.session, studio.core.observable, sys; print(any(m.startswith('PySide6') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_open_says_what_it_found_and_selection_is_observed(tmp_path: Path) -> None:
    session = Session(store=tmp_path / "session.json", runs=tmp_path / "runs")
    seen: list[object] = []
    session.events.selected.connect(seen.append)
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    opened = session.open([ZOO_AGENTS["dqn"], empty, tmp_path / "missing.zip"])
    assert [e.path for e in opened.added] == [ZOO_AGENTS["dqn"]]
    assert opened.empty == [empty] and opened.missing == [tmp_path / "missing.zip"]
    again = session.open([ZOO_AGENTS["dqn"]])
    assert not again.added and again.already == opened.added  # opened twice: one row
    session.select(opened.first)
    assert seen == [opened.first] and session.selected is opened.first


def test_models_with_the_same_name_say_where_they_are(tmp_path: Path) -> None:
    session = Session(runs=tmp_path / "runs")
    session.open([ZOO_AGENTS["ppo"], DEMO])
    labels = sorted(e.label for e in session.entries)
    assert labels == ["ppo/CartPole-v1_1 (demo)", "ppo/CartPole-v1_1 (zoo-sample)"]
    session.remove(session.entries[1])
    assert [e.label for e in session.entries] == ["ppo/CartPole-v1_1"]


def test_a_run_folder_of_another_model_is_never_reused(tmp_path: Path, ppo_onnx_run: Path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(ppo_onnx_run, runs / "dqn-CartPole-v1_1")  # PPO's run where DQN's would go
    session = Session(runs=runs)
    entry = session.open([ZOO_AGENTS["dqn"]]).first
    session.described(describe(entry.path, runs))
    assert entry.default_run == runs / "dqn-CartPole-v1_1-2" and not entry.converted


def test_restart_restores_models_selection_and_what_their_runs_hold(tmp_path: Path, ppo_onnx_run: Path) -> None:
    runs, store = tmp_path / "runs", tmp_path / "session.json"
    shutil.copytree(ppo_onnx_run, runs / "ppo-CartPole-v1_1")
    first = Session(store=store, runs=runs)
    first.open([ZOO_AGENTS["dqn"], ZOO_AGENTS["ppo"]])
    for entry in first.entries:
        first.described(describe(entry.path, runs))
    ppo = first.find(ZOO_AGENTS["ppo"])
    ppo.run.save_bench(bench_results(150.0), {"sb3": [150_000, 151_000]})
    ppo.run.save_rollout({"rows": [{"runtime": "sb3", "episodes": 1, "mean_return": 500.0}], "recording": None})
    first.select(ppo)

    second = Session(store=store, runs=runs)
    restored = second.restore()
    assert [e.path for e in restored] == [ZOO_AGENTS["dqn"], ZOO_AGENTS["ppo"]]
    entry = second.selected
    assert entry is not None and entry.path == ZOO_AGENTS["ppo"] and entry.converted
    assert [s.status for s in entry.pipeline.stages.values()][:3] == ["passed", "passed", "passed"]
    assert "agree" in entry.pipeline.stages["onnx"].result and entry.pipeline.stages["onnx"].log
    assert entry.bench.results["runtimes"]["sb3"]["batches"]["1"]["p50_us"] == 150.0
    assert entry.bench.samples == {"sb3": [150_000, 151_000]}
    assert entry.rollout.rows[0]["mean_return"] == 500.0
    assert [a.key for a in entry.graphs()] == ["onnx"]
    assert not second.find(ZOO_AGENTS["dqn"]).converted


def test_pipeline_state_follows_events_and_says_measured() -> None:
    state = PipelineState()
    state.reset([("load", "load it"), ("verify-tflite-int8", "verify"), ("edgetpu", "compile")], Path("run"))
    state.apply(StageStarted("load", "load it"))
    state.apply(StageProgress("load", 0.5, "half"))
    state.apply(StageLog("load", "careful", warning=True))
    assert state.stages["load"].status == "running" and state.stages["load"].fraction == 0.5
    state.apply(StageFinished("load", 1.0, "DQN"))
    state.apply(StageFinished("verify-tflite-int8", 0.2, "measured; judged after repair: 60.9% agree", verdict="measured"))
    state.apply(StageFailed("edgetpu", 0.1, ValueError("no compiler")))
    state.apply(RunFinished(None, "failed", {"stages": []}))
    stages = state.stages
    assert [s.status for s in stages.values()] == ["passed", "measured", "failed"]
    assert stages["load"].log == ["WARNING: careful"] and "ValueError" in stages["edgetpu"].error_details
    assert state.run_dir == Path("run") and not state.running


def test_int8_verdict_is_the_repair_stage_s() -> None:
    measured = {"verification": {"passed": True, "thresholds": "none: measured and reported"}}
    manifest = {"stages": [{"name": "int8-repair", "status": "failed"}]}
    assert verdict_of("tflite_int8", measured, manifest) == "failed"
    assert verdict_of("tflite_int8", measured, {"stages": [{"name": "int8-repair", "status": "passed"}]}) == "passed"
    assert verdict_of("tflite_int8", measured, {"stages": []}) == "measured"
    assert verdict_of("tflite_full_int8", measured, manifest) == "measured"
    assert verdict_of("onnx", {"verification": {"passed": False}}, {}) == "failed"
    assert verdict_of("saved_model", {}, {}) == "made"


def test_bench_and_rollout_history_are_kept_newest_first(tmp_path: Path, ppo_onnx_run: Path) -> None:
    run = RunRecord(shutil.copytree(ppo_onnx_run, tmp_path / "run"))
    first = run.save_bench(bench_results(150.0), {})
    second = run.save_bench(bench_results(140.0), {})
    assert run.bench_history() == [second, first] and first != second
    latest = json.loads((tmp_path / "run" / "bench" / "bench.json").read_text())
    assert latest["runtimes"]["sb3"]["batches"]["1"]["p50_us"] == 140.0
    run.save_rollout({"rows": [1]})
    run.save_rollout({"rows": [2]})
    assert [r["rows"] for r in run.rollouts()] == [[2], [1]]


def test_tensorflow_log_noise_never_reaches_the_stage_log() -> None:
    from studio.core.tflite.onnx2tf_job import is_noise

    noise = [
        "E0000 00:00:1795294573.298743   12165 cuda_dnn.cc:8579] Unable to register cuDNN factory: Attempting to register",
        "W0000 00:00:1795294573.491749   12165 computation_placer.cc:177] computation placer already registered.",
        "I0000 00:00:1795295050.018951   24483 mlir_graph_optimization_pass.cc:425] MLIR V1 optimization pass is not enabled",
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    ]
    kept = ["\x1b[32mFloat32 tflite output complete!\x1b[0m", "ERROR: the input shape does not match",
            "Traceback (most recent call last):", "E0000 is not a log prefix without its time"]
    assert all(is_noise(line) for line in noise)
    assert not any(is_noise(line) for line in kept)


def test_a_path_given_to_sb3_studio_opens_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    from studio import cli
    from studio.ui import app

    opened: list[list[str]] = []
    monkeypatch.setattr(app, "run", lambda paths, startup_probe=False: opened.append(paths) or 0)
    assert cli.main([str(ZOO_AGENTS["ppo"]), str(ZOO_AGENTS["dqn"])]) == 0
    assert opened == [[str(ZOO_AGENTS["ppo"]), str(ZOO_AGENTS["dqn"])]]
    with pytest.raises(SystemExit) as exit_:  # a mistyped command is still one, not a file to open
        cli.main(["convrt"])
    assert exit_.value.code == 2 and len(opened) == 1


def test_desktop_entry_is_written_once_and_names_the_executable(tmp_path: Path) -> None:
    from studio import desktop

    executable = tmp_path / "my venv" / "bin" / "sb3-studio"
    written = desktop.install(executable, tmp_path)
    entry, icon = desktop.paths(tmp_path)
    assert written == [entry, icon] and icon.read_text().startswith("<svg")
    text = entry.read_text()
    assert f'Exec="{executable}" %F' in text and "Icon=sb3-studio" in text and "Type=Application" in text
    assert desktop.install(executable, tmp_path) == []  # again: nothing to do
    assert desktop.remove(tmp_path) == [entry, icon] and not entry.exists()


def test_zoo_folder_opens_every_agent(tmp_path: Path) -> None:
    session = Session(runs=tmp_path / "runs")
    opened = session.open([ZOO])
    assert len(opened.added) == len(list(ZOO.glob("*/*/*.zip")))


def test_every_target_and_runtime_has_the_same_words_everywhere() -> None:
    """One name per runtime in every tab (LiteRT for the TFLite files' runtime); a device's rows are the
    device's name and the same words; a target or runtime the core adds without words fails here."""
    from studio.core.bench.targets import RUNTIMES
    from studio.core.labels import ARTIFACT_LABELS, RUNTIME_LABELS, TARGET_LABELS, runtime_label
    from studio.core.pipeline.spec import TARGETS

    assert set(TARGETS) <= set(TARGET_LABELS) and set(RUNTIMES) <= set(RUNTIME_LABELS)
    assert {key for key in RUNTIMES.values() if key} <= set(ARTIFACT_LABELS)
    assert [runtime_label(n) for n in ("litert-fp32", "litert-int8", "litert-int8-plain")] == \
        ["LiteRT float32", "LiteRT int8", "LiteRT int8, plain"]
    assert runtime_label("pi:litert-int8") == "pi: LiteRT int8"
    assert runtime_label("pi:litert-int8-edgetpu") == "pi: LiteRT int8 on the Edge TPU"
    assert runtime_label("pi:edgetpu") == "pi: Edge TPU (Coral)" and runtime_label("pi:bundle") == "pi: device bundle"
    assert len(set(RUNTIME_LABELS.values())) == len(RUNTIME_LABELS)  # no two runtimes called alike


def test_bench_state_counts_devices_and_keeps_their_failures() -> None:
    from studio.core.bench.engine import BenchFinished
    from studio.core.devices.remote_bench import DeviceDone, DeviceRunning
    from studio.core.session import BenchState

    state = BenchState()
    state.start(["sb3"], 2, ["pi", "box"])
    assert state.fraction == 0.0
    state.apply(DeviceRunning("pi", "ssh://pi@pi.local"))
    assert state.device_now == "pi (ssh://pi@pi.local)"
    state.apply(DeviceDone("pi", {}, False))
    assert state.device_now is None and state.fraction == pytest.approx(0.15)
    results = {"runtimes": {"sb3": {"available": True},
                            "box:bundle": {"available": False, "reason": "connection refused", "hint": "is sshd up?"}}}
    state.apply(BenchFinished(results))
    assert state.unavailable == {"box:bundle": ("connection refused", "is sshd up?")}
