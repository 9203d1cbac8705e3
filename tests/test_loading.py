"""Loading every supported model safely, and matching SB3's own loader action for action."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, ZOO_AGENTS
from helpers import sample_batch
from tiny_models import SPECS

from studio.core.algorithms import algorithm_class
from studio.core.errors import ForbiddenClassError
from studio.core.loading import SCHEDULE_CONSTANTS, load_model


def _assert_same_actions(path: Path, expected_algo: str) -> None:
    loaded = load_model(path)
    assert loaded.algo == expected_algo
    reference = algorithm_class(loaded.algo).load(path, device="cpu", custom_objects=dict(SCHEDULE_CONSTANTS))
    assert reference.observation_space == loaded.observation_space
    assert reference.action_space == loaded.action_space
    obs = sample_batch(loaded.observation_space, 64)
    if loaded.normalization is not None:
        obs = loaded.normalization.normalize(obs)
    ours, _ = loaded.model.predict(obs, deterministic=True)
    theirs, _ = reference.predict(obs, deterministic=True)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("name", sorted(ZOO_AGENTS))
def test_zoo_agent_acts_as_with_sb3_loader(name: str) -> None:
    _assert_same_actions(ZOO_AGENTS[name], name.upper())


@pytest.mark.parametrize("name", sorted(SPECS))
def test_tiny_model_acts_as_with_sb3_loader(name: str, tiny_models_paths: dict[str, Path]) -> None:
    _assert_same_actions(tiny_models_paths[name], SPECS[name][0])


def test_old_gym_models_load_without_gym() -> None:
    """SB3 1.x pickled gym.spaces; the loader must not need the old gym package."""
    script = (
        "import sys; sys.modules['gym'] = None\n"  # any 'import gym' now raises ImportError
        "from studio.core.loading import load_model\n"
        f"m = load_model({str(ZOO_AGENTS['dqn'])!r})\n"
        "print(type(m.observation_space).__module__, m.action_space)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.split() == ["gymnasium.spaces.box", "Discrete(2)"]


def test_zoo_layout_supplies_env_and_normalization() -> None:
    a2c = load_model(ZOO_AGENTS["a2c"])
    assert a2c.env_id == "Pendulum-v1"
    assert a2c.normalization is not None and np.shape(a2c.normalization.mean) == (3,)
    assert load_model(ZOO_AGENTS["sac"]).normalization is None


def test_explicit_env_and_vecnormalize_override(normalized_model: tuple[Path, Path]) -> None:
    model_path, stats = normalized_model
    plain = load_model(model_path)
    assert plain.normalization is None and plain.env_id is None
    loaded = load_model(model_path, env_id="Pendulum-v1", vecnormalize=stats)
    assert loaded.env_id == "Pendulum-v1"
    from stable_baselines3.common.vec_env import VecNormalize

    reference = VecNormalize.load(str(stats), venv=_pendulum_venv())
    obs = sample_batch(loaded.observation_space, 32)
    np.testing.assert_array_equal(loaded.normalization.normalize(obs), reference.normalize_obs(obs))


def _pendulum_venv():  # noqa: ANN202
    from stable_baselines3.common.env_util import make_vec_env

    return make_vec_env("Pendulum-v1", n_envs=1)


def test_custom_class_is_refused_and_trust_loads_it(custom_extractor_model: Path) -> None:
    with pytest.raises(ForbiddenClassError) as info:
        load_model(custom_extractor_model)
    assert info.value.class_name == "tiny_models.CustomExtractor"
    assert "--trust" in str(info.value) and str(custom_extractor_model) in str(info.value)
    trusted = load_model(custom_extractor_model, trust=True)
    assert type(trusted.policy.features_extractor).__name__ == "CustomExtractor"
    assert trusted.trusted


def test_ars_linear_policy_saved_by_old_sb3_contrib_loads(tmp_path: Path) -> None:
    """sb3-contrib < 1.7 held ARS's linear policy in a bare nn.Linear ('action_net.weight') and knew no
    with_bias argument: the zoo's ARS agents failed with 'policy.pth does not fit'."""
    from sb3_contrib import ARS
    from tiny_models import rewrite_zip

    model = ARS("LinearPolicy", "Pendulum-v1", policy_kwargs={"with_bias": True}, seed=0, device="cpu")
    model.learn(100)
    model.save(tmp_path / "new.zip")
    old = rewrite_zip(tmp_path / "new.zip", tmp_path / "old.zip", drop_kwargs=("with_bias",),
                      rename_weights={"action_net.0.weight": "action_net.weight", "action_net.0.bias": "action_net.bias"})
    loaded = load_model(old)
    assert any("sb3-contrib < 1.7" in note for note in loaded.notes)
    obs = sample_batch(loaded.observation_space, 32)
    np.testing.assert_array_equal(loaded.predict(obs), model.predict(obs, deterministic=True)[0])


def test_her_agent_saved_by_sb3_1x_loads_and_gets_its_flattened_goal(tmp_path: Path) -> None:
    """SB3 1.x HER wrapped an algorithm ('model_class' in data) and fed it observation + desired_goal."""
    import gymnasium as gym
    from stable_baselines3 import SAC
    from tiny_models import rewrite_zip

    from studio.core.envs.observation import FlattenGoal
    from studio.core.envs.recipe import prepare_id

    prepare_id("PandaReach-v3")
    env = FlattenGoal(gym.make("PandaReach-v3"))
    model = SAC("MlpPolicy", env, learning_starts=10, buffer_size=200, seed=0, device="cpu")
    model.learn(20)
    model.save(tmp_path / "new.zip")
    zoo = tmp_path / "her" / "PandaReach-v1_1"
    old = rewrite_zip(tmp_path / "new.zip", zoo / "PandaReach-v1.zip", data_entries={"model_class": SAC})
    (zoo / "PandaReach-v1").mkdir()
    (zoo / "PandaReach-v1" / "args.yml").write_text("algo: her\nenv: PandaReach-v1\n")
    loaded = load_model(old)
    assert loaded.algo == "SAC"
    recipe = loaded.env_recipe()
    assert recipe.env_id == "PandaReach-v3" and recipe.flatten_goal
    obs, _ = recipe.make().reset(seed=0)
    np.testing.assert_array_equal(loaded.predict(obs[None]), model.predict(obs[None], deterministic=True)[0])
