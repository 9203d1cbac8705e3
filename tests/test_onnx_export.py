"""The exported ONNX graph acts exactly like ``predict(deterministic=True)``, checked here by running it
in onnxruntime directly (not through the studio's own runtime), on sampled and visited observations."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import onnxruntime as ort
import pytest
from conftest import ZOO_AGENTS
from helpers import visited_observations
from tiny_models import ENV_IDS, SPECS

from studio.core.loading import load_model
from studio.core.pipeline.runner import execute
from studio.core.pipeline.spec import ConvertSpec


def _bounded_samples(space: gym.Space, n: int, rng: np.random.Generator) -> np.ndarray:
    if isinstance(space, gym.spaces.Box) and np.issubdtype(space.dtype, np.floating):
        low = np.where(space.low < -1e6, -5.0, space.low)
        high = np.where(space.high > 1e6, 5.0, space.high)
        return rng.uniform(low, high, size=(n, *space.shape)).astype(np.float32)
    space.seed(int(rng.integers(1 << 31)))
    return np.stack([space.sample() for _ in range(n)])


def _observations(loaded, n: int = 300) -> list[dict | np.ndarray]:  # noqa: ANN001
    rng = np.random.default_rng(1)
    space = loaded.observation_space
    if isinstance(space, gym.spaces.Dict):
        sampled = {k: _bounded_samples(s, n, rng) for k, s in space.spaces.items()}
    else:
        sampled = _bounded_samples(space, n, rng)
    batches = [sampled]
    if loaded.env_id:
        batches.append(visited_observations(loaded, n, seed=3))
    return batches


def _feeds(session: ort.InferenceSession, obs: dict | np.ndarray) -> dict[str, np.ndarray]:
    names = [i.name for i in session.get_inputs()]
    if isinstance(obs, dict):
        return {name: np.asarray(obs[name], np.float32) for name in names}
    shape = session.get_inputs()[0].shape[1:]
    obs = np.asarray(obs, np.float32)
    if len(shape) == 3 and obs.shape[1:] != tuple(shape):
        obs = obs.transpose(0, 3, 1, 2)  # the env's HWC images, the graph's CHW
    return {names[0]: obs.reshape((-1, *shape))}


def _convert_and_check(model: Path, out: Path, env_id: str | None = None) -> dict:
    spec = ConvertSpec(model=model, out=out, env_id=env_id, samples=300, rollout_steps=300)
    finished = execute(spec, emit=lambda event: None)
    assert finished.status == "passed", finished.manifest["stages"]
    manifest = json.loads((out / "run.json").read_text())
    loaded = load_model(model, env_id=env_id)
    session = ort.InferenceSession(str(out / manifest["artifacts"]["onnx"]["path"]))
    assert [o.name for o in session.get_outputs()] == ["action"]
    for obs in _observations(loaded):
        expected = loaded.predict(obs)
        (actual,) = session.run(None, _feeds(session, obs))
        actual = actual.reshape(expected.shape)
        if np.issubdtype(expected.dtype, np.integer) or isinstance(loaded.action_space, gym.spaces.MultiBinary):
            np.testing.assert_array_equal(actual, expected)  # 100 % agreement
        else:
            assert np.abs(actual - expected).max() <= 1e-5
    return manifest


@pytest.mark.parametrize("name", sorted(ZOO_AGENTS))
def test_zoo_agent_onnx_is_exact(name: str, tmp_path: Path) -> None:
    manifest = _convert_and_check(ZOO_AGENTS[name], tmp_path / "run")
    sources = manifest["artifacts"]["onnx"]["verification"]["sources"]
    assert set(sources) == {"sampled", "rollout"}  # every zoo agent's environment can be made here
    for metrics in sources.values():
        assert metrics.get("agreement_percent", 100.0) == 100.0
        assert metrics.get("max_abs_error", 0.0) <= 1e-5


# RecurrentPPO and MaskablePPO graphs take more than observations: tests/test_families.py checks them.
SINGLE_INPUT = sorted(name for name in SPECS if SPECS[name][0] not in ("RecurrentPPO", "MaskablePPO"))


@pytest.mark.parametrize("name", SINGLE_INPUT)
def test_tiny_model_onnx_is_exact(name: str, tiny_models_paths: dict[str, Path], tmp_path: Path) -> None:
    manifest = _convert_and_check(tiny_models_paths[name], tmp_path / "run", ENV_IDS.get(name))
    sources = manifest["artifacts"]["onnx"]["verification"]["sources"]
    assert ("rollout" in sources) == (name in ENV_IDS)


def test_normalized_model_folds_vecnormalize_in(normalized_model: tuple[Path, Path], tmp_path: Path) -> None:
    model, stats = normalized_model
    spec = ConvertSpec(model=model, out=tmp_path / "run", env_id="Pendulum-v1", vecnormalize=stats)
    assert execute(spec, emit=lambda e: None).status == "passed"
    loaded = load_model(model, env_id="Pendulum-v1", vecnormalize=stats)
    session = ort.InferenceSession(str(tmp_path / "run" / "policy.onnx"))
    obs = np.random.default_rng(0).uniform(-8, 8, (200, 3)).astype(np.float32)
    assert np.abs(session.run(None, {"observation": obs})[0] - loaded.predict(obs)).max() <= 1e-5
    # Without the statistics, the same policy acts differently: the normalisation is really in the graph.
    plain = load_model(model)
    assert np.abs(plain.predict(obs) - loaded.predict(obs)).max() > 1e-3


def test_dict_observation_inputs_are_named_after_keys(tiny_models_paths: dict[str, Path], tmp_path: Path) -> None:
    execute(ConvertSpec(model=tiny_models_paths["ppo_dict_box"], out=tmp_path / "run"), emit=lambda e: None)
    session = ort.InferenceSession(str(tmp_path / "run" / "policy.onnx"))
    assert sorted(i.name for i in session.get_inputs()) == ["mode", "pos"]
    assert all(i.shape[0] == "batch" for i in session.get_inputs())


def test_image_policy_takes_nchw_float(tiny_models_paths: dict[str, Path], tmp_path: Path) -> None:
    execute(ConvertSpec(model=tiny_models_paths["ppo_image_discrete"], out=tmp_path / "run"), emit=lambda e: None)
    (graph_input,) = ort.InferenceSession(str(tmp_path / "run" / "policy.onnx")).get_inputs()
    assert graph_input.shape == ["batch", 3, 36, 36] and graph_input.type == "tensor(float)"


@pytest.mark.parametrize("name, layer", [("ppo", "mlp_extractor.policy_net.0"), ("sac", "latent_pi.0"),
                                         ("dqn", "q_net.0"), ("qrdqn", "quantile_net.0")])
def test_first_layer_split_in_two_float16_halves_acts_the_same(name: str, layer: str) -> None:
    import torch

    from studio.core.export.split_first_layer import SplitLinear, split_first_layer

    loaded, reference = load_model(ZOO_AGENTS[name]), load_model(ZOO_AGENTS[name])
    assert split_first_layer(loaded.policy) == layer
    from studio.core.inspection import acting_network

    split = acting_network(loaded.policy).get_submodule(layer)
    assert isinstance(split, SplitLinear)
    assert torch.equal(split.high.weight.half().float(), split.high.weight)  # exact in float16
    assert split.low.weight.abs().max() <= split.high.weight.abs().max() * 2.0**-10  # what float16 left over
    obs = _observations(reference)[0]
    np.testing.assert_allclose(loaded.predict(obs), reference.predict(obs), atol=2e-6)
