"""int8's failure classes end to end, through the default ``convert --to tflite-int8``: each plain int8 model
is diagnosed, each repair judged in closed loop like the plain model, and the kept model must play.

* MountainCar-like observation ranges with VecNormalize (position about +-1.2, velocity about +-0.07):
  a PPO agent trained here with the zoo's hyperparameters;
* VecNormalize with near-constant dimensions on PyBullet locomotion (the zoo's PPO HalfCheetah);
* a large MLP, the zoo's 400x300 TD3 on Pendulum trained here;
* Q-values whose margins are under one int8 step (the zoo's DQN, from the shared ``zoo_runs``);
* and a repair cancelled while it runs.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import ZOO_AGENTS, ZOO_FAMILIES

from studio.core.loading import load_model
from studio.core.pipeline.events import RunFinished, StageProgress
from studio.core.pipeline.runner import execute
from studio.core.pipeline.spec import ConvertSpec
from studio.core.pipeline.stages.int8_repair import keeps_behaviour
from studio.core.policy_io import PolicyIO
from studio.core.tflite.metadata import read_policy_io

pytestmark = pytest.mark.slow

AGENTS = Path(__file__).parent / "data" / "int8_agents"
MOUNTAINCAR = AGENTS / "ppo" / "MountainCarContinuous-v0_1" / "MountainCarContinuous-v0.zip"
TD3_400X300 = AGENTS / "td3" / "Pendulum-v1_1" / "Pendulum-v1.zip"


def _convert(model: Path, out: Path, **options) -> tuple[RunFinished, list]:
    events: list = []
    finished = execute(ConvertSpec(model=model, targets=["tflite-int8"], out=out, **options), emit=events.append)
    return finished, events


@pytest.fixture(scope="module")
def mountaincar(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunFinished, list]:
    return _convert(MOUNTAINCAR, tmp_path_factory.mktemp("int8-mountaincar") / "run")


def test_mountaincar_ranges_break_plain_int8_and_equalised_inputs_repair_it(mountaincar: tuple[RunFinished, list]) -> None:
    finished, events = mountaincar
    artifacts = finished.manifest["artifacts"]
    plain, kept = artifacts["tflite_int8_plain"], artifacts["tflite_int8"]
    closed_plain = plain["verification"]["closed_loop"]
    assert closed_plain["verdict"] == "failed" and closed_plain["score"] < 0.95
    velocity = next(f for f in plain["diagnostics"]["features"] if f["index"] == 1)
    assert velocity["flagged"] and velocity["steps"] < 32  # the velocity spans few int8 steps at the input
    assert velocity["steps"] == pytest.approx((velocity["visited_range"][1] - velocity["visited_range"][0])
                                              / velocity["input_scale"])
    assert keeps_behaviour(kept["verification"]["closed_loop"], 0.95), kept["verification"]["closed_loop"]
    assert kept["method"].startswith("equalised input ranges") and "input losing resolution" in kept["why"]
    repair = kept["repair"]
    assert repair["attempts"][0]["method"] == "plain post-training int8" and repair["seconds"] > 0
    assert all(a["seconds"] >= 0 and a["verdict"] for a in repair["attempts"][1:])
    assert kept["equalised"]["float_check"]["max_abs_error_float"] < 1e-4
    assert finished.status == "passed"
    # Progress named the attempt while it ran.
    messages = [e.message for e in events if isinstance(e, StageProgress) and e.stage == "int8-repair"]
    assert any("equalised input ranges" in m for m in messages)


def test_the_float_side_transform_travels_with_the_artifact(mountaincar: tuple[RunFinished, list]) -> None:
    from studio.core.bench.targets import open_runtime, targets_for_run

    finished, _ = mountaincar
    run = finished.run_dir
    kept = finished.manifest["artifacts"]["tflite_int8"]
    io = PolicyIO.from_json(kept["io"])
    transform = io.inputs[0].transform
    assert transform is not None and set(transform) == {"offset", "scale", "low", "high"}  # VecNormalize's clip too
    assert read_policy_io(run / kept["path"]) == io  # in the file's own metadata
    plain = read_policy_io(run / "policy_int8_plain.tflite")
    assert plain is not None and plain.inputs[0].transform is None
    # Every runtime that feeds through PolicyIO gets it: the bench's and the rollout viewer's LiteRT target.
    target = next(t for t in targets_for_run(run) if t.name == "litert-int8")
    assert target.io["inputs"][0]["transform"] == transform
    loaded = load_model(MOUNTAINCAR)
    from studio.core.observations import rollout_observations

    visited = rollout_observations(loaded.make_env, loaded.predict, 300, 77).batch
    error = np.abs(open_runtime(target).predict(visited) - loaded.predict(visited))
    assert float(np.mean(error)) < 0.05, float(np.mean(error))


def test_vecnormalize_with_near_constant_dims(tmp_path: Path) -> None:
    """The zoo's PPO HalfCheetah: dimensions constant in training (std 1e-4) set the scale of VecNormalize's 1/std
    constant, every other 1/std rounds to 0 and the input collapses; moved to the float side, it plays."""
    finished, _ = _convert(ZOO_FAMILIES["ppo_bullet"], tmp_path / "run")
    artifacts = finished.manifest["artifacts"]
    plain, kept = artifacts["tflite_int8_plain"], artifacts["tflite_int8"]
    lost = [c for c in plain["diagnostics"]["constants"] if c["op"] == "MUL"]
    assert lost and lost[0]["lost_to_zero"] >= 20 and lost[0]["float_range"][1] > 1e3
    assert "MUL constant" in plain["diagnostics"]["summary"][0]
    assert plain["verification"]["closed_loop"]["verdict"] == "failed"
    assert kept["method"].startswith("equalised input ranges")
    assert keeps_behaviour(kept["verification"]["closed_loop"], 0.95)
    graph_ops = {t["op"] for t in kept["diagnostics"]["tensors"]}
    assert "MUL" not in graph_ops and "QUANTIZE" in graph_ops  # the graph starts at the first layer
    readiness = kept["edgetpu_readiness"]
    assert {issue["op"] for issue in readiness["issues"]} <= set()  # fully integer between float in and out


def test_large_mlp_400x300(tmp_path: Path) -> None:
    finished, _ = _convert(TD3_400X300, tmp_path / "run")
    kept = finished.manifest["artifacts"]["tflite_int8"]
    shapes = [t["shape"] for t in kept["diagnostics"]["tensors"]]
    assert [1, 400] in shapes and [1, 300] in shapes
    assert keeps_behaviour(kept["verification"]["closed_loop"], 0.95), kept["verification"]["closed_loop"]


def test_q_value_margins_under_one_step_go_straight_to_a_student(zoo_runs: dict[str, Path]) -> None:
    manifest = json.loads((zoo_runs["dqn"] / "run.json").read_text())
    plain, kept = manifest["artifacts"]["tflite_int8_plain"], manifest["artifacts"]["tflite_int8"]
    decision = plain["diagnostics"]["decisions"][0]
    assert decision["step"] > decision["median_margin"] and decision["under_one_step_percent"] > 50
    assert "rounding decides there" in plain["diagnostics"]["summary"][0]
    assert [a["method"] for a in kept["repair"]["attempts"]][1].startswith("quantisation-aware distillation")
    assert "no calibration of this graph" in kept["why"]


def test_a_repair_is_cancelled_while_it_runs(tmp_path: Path) -> None:
    """Cancelled at a student's first epoch: the run stops there, the plain model stays, nothing half-made remains."""
    cancel = threading.Event()
    epochs: list[str] = []

    def emit(event: object) -> None:
        if isinstance(event, StageProgress) and event.stage == "int8-repair" and "epoch" in event.message:
            epochs.append(event.message)
            cancel.set()

    finished = execute(ConvertSpec(model=ZOO_AGENTS["dqn"], targets=["tflite-int8"], out=tmp_path / "run"),
                       emit=emit, cancel=cancel)
    assert finished.status == "cancelled"
    assert {s["name"]: s["status"] for s in finished.manifest["stages"]}["int8-repair"] == "cancelled"
    assert len(epochs) == 1 and epochs[0].startswith("quantisation-aware distillation (256x256 student): epoch 1/")
    run = tmp_path / "run"
    assert not (run / ".work-int8").exists() and not (run / "policy_int8_plain.tflite").exists()
    plain = finished.manifest["artifacts"]["tflite_int8"]
    assert plain.get("repaired") is None and (run / plain["path"]).is_file()
    assert json.loads((run / "run.json").read_text())["status"] == "cancelled"
