"""The runner, its events and the run folder: contents, refusals, failures and cancellation."""

from __future__ import annotations

import hashlib
import json
import shlex
import threading
from pathlib import Path

import pytest
from conftest import ZOO_AGENTS

from studio.cli import main
from studio.core.errors import OutputExistsError, OutputNotWritableError
from studio.core.pipeline.events import (
    RunFinished,
    StageCancelled,
    StageFailed,
    StageFinished,
    StageProgress,
    StageStarted,
)
from studio.core.pipeline.runner import execute, run_pipeline
from studio.core.pipeline.spec import ConvertSpec


def test_run_folder_contents(tmp_path: Path) -> None:
    out = tmp_path / "run"
    events = list(run_pipeline(ConvertSpec(model=ZOO_AGENTS["tqc"], out=out)))
    assert [type(e) for e in events if isinstance(e, (StageStarted, StageFinished))] == [
        StageStarted, StageFinished, StageStarted, StageFinished, StageStarted, StageFinished,
    ]
    assert isinstance(events[-1], RunFinished) and events[-1].status == "passed"
    assert sorted(p.name for p in out.iterdir()) == ["logs", "policy.onnx", "run.json"]
    assert (out / "logs" / "onnx.log").read_text().startswith("rollout: max")
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "passed"
    assert manifest["model"]["algorithm"] == "TQC" and manifest["model"]["environment"]["id"] == "MountainCarContinuous-v0"
    onnx = manifest["artifacts"]["onnx"]
    assert onnx["path"] == "policy.onnx"  # relative to the run folder
    assert onnx["sha256"] == hashlib.sha256((out / "policy.onnx").read_bytes()).hexdigest()
    assert onnx["verification"]["passed"] is True
    assert [(s["name"], s["status"]) for s in manifest["stages"]] == [
        ("load", "passed"), ("observations", "passed"), ("onnx", "passed"),
    ]
    assert all(s["seconds"] > 0 for s in manifest["stages"])
    assert manifest["versions"]["torch"].startswith("2.13.0") and manifest["versions"]["onnxruntime"]
    assert manifest["command"].startswith("sb3-studio convert ")


def test_command_in_manifest_reproduces_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "first"
    execute(ConvertSpec(model=ZOO_AGENTS["ppo"], out=out, seed=5, samples=200), emit=lambda e: None)
    command = json.loads((out / "run.json").read_text())["command"]
    assert "--seed 5" in command and "--samples 200" in command
    args = shlex.split(command)[1:]
    args[args.index("--out") + 1] = str(tmp_path / "second")
    assert main(args) == 0
    first, second = (json.loads((tmp_path / d / "run.json").read_text()) for d in ("first", "second"))
    assert first["artifacts"]["onnx"]["sha256"] == second["artifacts"]["onnx"]["sha256"]
    assert first["artifacts"]["onnx"]["verification"] == second["artifacts"]["onnx"]["verification"]


def test_existing_user_files_are_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "policy.onnx").write_text("my own file")
    events: list = []
    finished = execute(ConvertSpec(model=ZOO_AGENTS["ppo"], out=out), emit=events.append)
    assert finished.status == "failed" and finished.run_dir is None
    (failure,) = [e for e in events if isinstance(e, StageFailed)]
    assert isinstance(failure.error, OutputExistsError) and str(out) in str(failure.error)
    assert (out / "policy.onnx").read_text() == "my own file"
    assert sorted(p.name for p in out.iterdir()) == ["policy.onnx"]


def test_rerun_into_own_folder_is_allowed_but_not_another_models(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert execute(ConvertSpec(model=ZOO_AGENTS["ppo"], out=out), emit=lambda e: None).status == "passed"
    assert execute(ConvertSpec(model=ZOO_AGENTS["ppo"], out=out), emit=lambda e: None).status == "passed"
    events: list = []
    assert execute(ConvertSpec(model=ZOO_AGENTS["dqn"], out=out), emit=events.append).status == "failed"
    assert any(isinstance(e, StageFailed) and "another model" in str(e.error) for e in events)
    assert execute(ConvertSpec(model=ZOO_AGENTS["dqn"], out=out, force=True), emit=lambda e: None).status == "passed"


@pytest.mark.parametrize("where", ["under a file", "read-only mount"])
def test_unwritable_output_folder(where: str, tmp_path: Path) -> None:
    if where == "under a file":
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "run"
    else:
        out = Path("/sys/sb3-studio-run")  # sysfs refuses new files, even to root
    events: list = []
    assert execute(ConvertSpec(model=ZOO_AGENTS["ppo"], out=out), emit=events.append).status == "failed"
    (failure,) = [e for e in events if isinstance(e, StageFailed)]
    assert isinstance(failure.error, OutputNotWritableError)
    assert not out.exists()


def test_failed_verification_marks_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    code = main(["convert", str(ZOO_AGENTS["a2c"]), "--to", "onnx", "--out", str(out), "--max-error", "1e-12"])
    assert code == 1
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "failed"
    onnx_stage = manifest["stages"][-1]
    assert onnx_stage["status"] == "failed" and "verification failed" in onnx_stage["error"]
    assert manifest["artifacts"]["onnx"]["verification"]["passed"] is False
    assert "FAILED" in capsys.readouterr().err


def test_cancel_mid_stage_leaves_no_artifact(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cancel = threading.Event()
    events: list = []

    def emit(event: object) -> None:
        events.append(event)
        if isinstance(event, StageProgress) and event.stage == "observations":
            cancel.set()  # the user presses Cancel while the rollout runs

    finished = execute(ConvertSpec(model=ZOO_AGENTS["dqn"], out=out), emit=emit, cancel=cancel)
    assert finished.status == "cancelled"
    assert any(isinstance(e, StageCancelled) and e.stage == "observations" for e in events)
    assert sorted(p.name for p in out.iterdir()) == ["logs", "run.json"]
    assert sorted(p.name for p in (out / "logs").iterdir()) == ["load.log"]
    manifest = json.loads((out / "run.json").read_text())
    assert [s["status"] for s in manifest["stages"]] == ["passed", "cancelled", "not run"]
    assert manifest["artifacts"] == {}


def test_closing_the_event_stream_cancels(tmp_path: Path) -> None:
    stream = run_pipeline(ConvertSpec(model=ZOO_AGENTS["dqn"], out=tmp_path / "run"))
    for event in stream:
        if isinstance(event, StageStarted) and event.stage == "observations":
            stream.close()
            break
    assert not (tmp_path / "run" / "policy.onnx").exists()


def test_no_rollout_when_environment_cannot_be_made(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["convert", str(ZOO_AGENTS["ppo"]), "--env", "Nowhere-v0", "--out", str(out)]) == 0
    manifest = json.loads((out / "run.json").read_text())
    assert "Nowhere-v0" in manifest["rollout"]
    assert set(manifest["artifacts"]["onnx"]["verification"]["sources"]) == {"sampled"}
    assert "WARNING" in capsys.readouterr().err


def test_unknown_target_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(ZOO_AGENTS["ppo"]), "--to", "coreml"]) == 2
    assert "unknown target" in capsys.readouterr().err


def test_artifacts_of_an_earlier_run_stay_listed_while_they_are_still_valid(tmp_path: Path) -> None:
    """`--to onnx` then `--to torchscript` into one folder: run.json still lists the ONNX model, marked as from
    the earlier run, unless a stage of this run made or touched it, its file changed, the model is another, or
    its path leaves the folder."""
    from studio.core.pipeline.cache import carried_forward
    from studio.core.pipeline.context import RunContext

    (tmp_path / "policy.onnx").write_bytes(b"onnx")
    (tmp_path / "web").mkdir()
    digest = hashlib.sha256(b"onnx").hexdigest()
    previous = {"model": {"sha256": "m"},
                "stages": [{"name": "onnx", "artifacts": ["onnx"]}, {"name": "web", "artifacts": ["web"]}],
                "artifacts": {"onnx": {"path": "policy.onnx", "sha256": digest, "bytes": 4, "verification": {"passed": True}},
                              "web": {"path": "web", "sha256": "x", "bytes": 0},
                              "outside": {"path": "/etc", "sha256": "x", "bytes": 0},
                              "up": {"path": "../x", "sha256": "x", "bytes": 0}}}
    ctx = RunContext(spec=ConvertSpec(ZOO_AGENTS["ppo"]), run_dir=tmp_path)
    ctx.notes["model"] = {"sha256": "m"}
    carried = carried_forward(previous, ctx, {"load", "torchscript"})
    assert set(carried) == {"onnx", "web"} and carried["onnx"]["from_earlier_run"]
    assert carried["onnx"]["verification"] == {"passed": True}
    assert set(carried_forward(previous, ctx, {"load", "web"})) == {"onnx"}  # this run made web again
    (tmp_path / "policy.onnx").write_bytes(b"changed")
    assert set(carried_forward(previous, ctx, {"load"})) == {"web"}
    ctx.notes["model"] = {"sha256": "another model"}
    assert carried_forward(previous, ctx, {"load"}) == {}
