"""int8 that still plays: every zoo agent (and an agent trained here) keeps its behaviour in int8."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ZOO_AGENTS

from studio.core.int8.distill import _decision_terms
from studio.core.int8.student import StudentPolicy
from studio.core.int8.teacher import acting_mlp, centred, decision_for, margins, output_map, preferences
from studio.core.loading import load_model
from studio.core.pipeline.stages.int8_repair import keeps_behaviour
from studio.core.observations import sample_observations
from studio.core.pipeline.runner import execute
from studio.core.pipeline.spec import ConvertSpec

pytestmark = pytest.mark.slow


def manifest(run: Path) -> dict:
    return json.loads((run / "run.json").read_text())


@pytest.mark.parametrize("name", sorted(ZOO_AGENTS))
def test_zoo_agent_int8_keeps_its_behaviour(name: str, zoo_runs: dict[str, Path]) -> None:
    artifacts = manifest(zoo_runs[name])["artifacts"]
    int8 = artifacts["tflite_int8"]["verification"]["closed_loop"]
    assert int8["episodes"] >= 10 and len(int8["returns"]) == int8["episodes"]
    assert keeps_behaviour(int8, 0.95), (name, int8)
    for key in ("tflite_fp32", "tflite_fp16"):
        assert artifacts[key]["verification"]["closed_loop"]["verdict"] != "failed", key


@pytest.mark.parametrize("name", ["dqn", "tqc"])
def test_repaired_artifacts_say_how_they_were_made(name: str, zoo_runs: dict[str, Path]) -> None:
    run = zoo_runs[name]
    artifacts = manifest(run)["artifacts"]
    kept, plain = artifacts["tflite_int8"], artifacts["tflite_int8_plain"]
    assert kept["repaired"] is True and "different network" in kept["note"]
    before, after = kept["fidelity_before"]["closed_loop_score"], kept["fidelity_after"]["closed_loop_score"]
    assert before < 0.95 and kept["fidelity_after"]["closed_loop_verdict"] != "failed" and after > before
    assert plain["verification"]["closed_loop"]["score"] == before
    assert (run / plain["path"]).is_file() and kept["sha256"] != plain["sha256"]
    repair = kept["repair"]
    assert repair["attempts"][0]["method"] == "plain post-training int8" and repair["kept"] == kept["method"]
    assert repair["seconds"] >= sum(a["seconds"] for a in repair["attempts"]) > 0  # its cost is reported
    assert kept["why"] and plain["diagnostics"]["summary"] and kept["diagnostics"]["tensors"]
    if name == "tqc":  # the velocity spans 14 int8 steps at the input: equalised on the float side
        assert kept["method"].startswith("equalised input ranges") and kept["io"]["inputs"][0]["transform"]
        return
    assert kept["method"] == "quantisation-aware distillation (256x256 student)"
    made = kept["made_by"]
    assert made["student"]["hidden"] == [256, 256]
    assert made["data"]["total_states"] > made["data"]["original_states"] > 0
    assert made["training"]["seed"] == 0 and made["training"]["seconds"] > 0
    assert (run / artifacts["int8_student_onnx"]["path"]).is_file()


@pytest.mark.parametrize("name", ["dqn", "tqc"])
def test_repaired_model_stays_edge_tpu_compatible(name: str, zoo_runs: dict[str, Path]) -> None:
    readiness = manifest(zoo_runs[name])["artifacts"]["tflite_int8"]["edgetpu_readiness"]
    for row in readiness["ops"]:
        assert row["status"] == "maps" or row["op"] in ("QUANTIZE", "DEQUANTIZE", "ARG_MAX"), row
    problems = {issue["op"] for issue in readiness["issues"]}
    assert problems <= {"ARG_MAX"}  # the final argmax runs on the CPU: documented, not a dtype or shape issue


def test_discrete_agreement_is_split_into_decisive_states_and_near_ties(zoo_runs: dict[str, Path]) -> None:
    split = manifest(zoo_runs["dqn"])["artifacts"]["tflite_int8_plain"]["verification"]["sources"]["rollout"]["split"]
    assert split["decisive"]["count"] == 500 and split["near_ties"]["count"] > 0
    assert split["near_ties"]["margin_below"] == pytest.approx(0.1 * split["median_margin"])


def test_gsde_actors_are_not_plain_mlps() -> None:
    """SAC and TQC with gSDE clip their means (Hardtanh): no exact warm start, a seeded random init."""
    assert acting_mlp(load_model(ZOO_AGENTS["sac"])) is None
    assert acting_mlp(load_model(ZOO_AGENTS["tqc"])) is None


@pytest.mark.parametrize("name", ["dqn", "qrdqn", "ppo", "a2c"])
def test_student_starting_from_the_original_computes_its_targets_exactly(name: str) -> None:
    loaded = load_model(ZOO_AGENTS[name])
    linears, activation = acting_mlp(loaded)
    last = output_map(loaded, linears[-1].weight, linears[-1].bias)
    student = StudentPolicy(loaded, [m.out_features for m in linears[:-1]], activation, last[0].shape[0])
    assert student.start_from(linears, last)
    student.quantize(False).eval()
    obs = sample_observations(loaded.observation_space, 200, 0, loaded.normalization).batch
    normalized = loaded.normalization.normalize(obs) if loaded.normalization is not None else obs
    tensor, _ = loaded.policy.obs_to_tensor(normalized)
    expected = centred(preferences(loaded, tensor), decision_for(loaded))
    with torch.no_grad():
        actual = student.values(torch.as_tensor(obs, dtype=torch.float32))
    torch.testing.assert_close(actual, expected, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(student.act(obs), loaded.predict(obs), atol=1e-5)


def test_margins_and_decision_weights() -> None:
    values = np.array([[1.0, 3.0, 2.5], [0.0, 0.1, -4.0]])
    np.testing.assert_allclose(margins(values, decision_for_discrete()), [0.5, 0.1])
    labels, weights = _decision_terms(_FakeStudent(), torch.tensor(values, dtype=torch.float32))
    assert labels.tolist() == [1, 1]
    assert weights.tolist() == pytest.approx([min(0.5 / 0.1, 3.0), 1.0])


def decision_for_discrete():  # noqa: ANN201
    from studio.core.int8.teacher import Decision

    return Decision("argmax")


class _FakeStudent:
    decision = decision_for_discrete()


@pytest.fixture(scope="module")
def trained_agent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PPO CartPole agent trained here (about 20 s), competent enough for a meaningful score."""
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", "CartPole-v1", n_steps=512, batch_size=128, n_epochs=5, seed=0, device="cpu")
    model.learn(20_000)
    path = tmp_path_factory.mktemp("trained") / "ppo_cartpole.zip"
    model.save(path)
    return path


def test_agent_trained_here_keeps_its_behaviour_in_int8(trained_agent: Path, tmp_path: Path) -> None:
    finished = execute(ConvertSpec(model=trained_agent, targets=["tflite-int8"], env_id="CartPole-v1", out=tmp_path),
                       emit=lambda event: None)
    closed = finished.manifest["artifacts"]["tflite_int8"]["verification"]["closed_loop"]
    assert closed["original_mean"] > closed["random_mean"] + 50  # a real agent, so the score means something
    assert closed["score"] >= 0.95
    assert finished.status == "passed"


def test_student_refuses_image_observations(tiny_models_paths: dict[str, Path]) -> None:
    """Image policies are not distilled (the repair stage then keeps its best recalibration)."""
    from torch import nn

    loaded = load_model(tiny_models_paths["ppo_image_discrete"])
    with pytest.raises(ValueError, match="flat"):
        StudentPolicy(loaded, [64, 64], nn.ReLU, 4)
