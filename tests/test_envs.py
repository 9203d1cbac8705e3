"""Environments as the zoo made them: id migration, the wrapper allow-list, inference without config.yml,
refusing modules a file names, and the user's own environment module."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from conftest import ZOO, ZOO_AGENTS

from studio.core.envs import recipe_from_json
from studio.core.envs.migration import candidates
from studio.core.envs.recipe import prepare_id
from studio.core.envs.wrappers import UnknownWrapper, apply_wrappers, parse_wrappers
from studio.core.errors import EnvironmentUnavailableError
from studio.core.loading import load_model

DATA = Path(__file__).parent / "data" / "envs"


def first(env_id: str, **kwargs) -> list:  # noqa: ANN003
    prepare_id(env_id)
    return [c for c in candidates(env_id, kwargs)]


@pytest.mark.parametrize("old, new", [
    ("Hopper-v3", "Hopper-v4"), ("HalfCheetah-v3", "HalfCheetah-v4"), ("Walker2d-v3", "Walker2d-v4"),
    ("Swimmer-v3", "Swimmer-v4"), ("LunarLander-v2", "LunarLander-v3"), ("Pendulum-v0", "Pendulum-v1"),
    ("PandaReach-v1", "PandaReach-v3"), ("PandaPush-v2", "PandaPush-v3"), ("FetchReach-v1", "FetchReach-v4"),
])
def test_old_ids_migrate_to_what_exists_today(old: str, new: str) -> None:
    found = first(old)
    makeable = [c for c in found if c.env_id == new]
    assert makeable, [c.env_id for c in found]
    assert old in makeable[0].note and new in makeable[0].note


def test_ant_v3_becomes_v4_with_contact_forces_zeroed_as_mujoco_py_reported_them() -> None:
    ant = next(c for c in first("Ant-v3") if c.env_id == "Ant-v4" and c.zero)
    assert ant.kwargs["use_contact_forces"] is True and ant.zero == (27, 111)
    env = gym.make(ant.env_id, **ant.kwargs)
    assert env.observation_space.shape == (111,)
    env.close()


def test_no_vel_ids_are_the_base_env_with_velocities_masked() -> None:
    (candidate, *_) = first("CartPoleNoVel-v1")
    assert candidate.env_id == "CartPole-v1" and candidate.wrappers == ("MaskVelocityWrapper",)
    env = apply_wrappers(gym.make("CartPole-v1"), parse_wrappers("rl_zoo3.wrappers.MaskVelocityWrapper"))
    obs, _ = env.reset(seed=0)
    for _ in range(5):
        obs, *_ = env.step(1)
    assert obs[1] == 0 and obs[3] == 0 and obs[0] != 0


def test_fetch_resets_with_todays_mujoco() -> None:
    """gymnasium-robotics 1.4.2 asserts on MuJoCo 4's joint enums; the studio's fix makes Fetch usable."""
    prepare_id("FetchReach-v4")
    env = gym.make("FetchReach-v4")
    obs, _ = env.reset(seed=0)
    assert obs["observation"].shape == (10,)
    env.close()


def _step_all(env: gym.Env, steps: int = 3) -> tuple:
    obs, _ = env.reset(seed=1)
    out = [obs]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        out.append(obs)
    return out


def test_time_feature_adds_the_remaining_time() -> None:
    env = apply_wrappers(gym.make("Pendulum-v1"), parse_wrappers("sb3_contrib.common.wrappers.TimeFeatureWrapper"))
    obs = _step_all(env, 2)
    assert env.observation_space.shape == (4,)
    assert [round(float(o[-1]), 4) for o in obs] == [1.0, 1 - 1 / 200, 1 - 2 / 200]


def test_history_wrapper_keeps_the_last_observations_and_actions() -> None:
    (spec,) = parse_wrappers([{"rl_zoo3.wrappers.HistoryWrapper": {"horizon": 3}}])
    env = apply_wrappers(gym.make("Pendulum-v1"), [spec])
    assert env.observation_space.shape == (3 * 3 + 3 * 1,)
    obs, _ = env.reset(seed=0)
    assert np.all(obs[:6] == 0) and np.all(obs[9:] == 0)
    action = np.array([0.5], np.float32)
    later, *_ = env.step(action)
    assert np.allclose(later[3:6], obs[6:9]) and later[-1] == 0.5
    # The zoo's old layout (utils.wrappers) defaulted to 5 frames.
    (old,) = parse_wrappers("utils.wrappers.HistoryWrapper")
    assert old.kwargs == {"horizon": 5}


def test_history_wrapper_on_a_dict_observation_changes_only_its_observation_key() -> None:
    prepare_id("PandaReach-v3")
    env = apply_wrappers(gym.make("PandaReach-v3"), parse_wrappers("rl_zoo3.wrappers.HistoryWrapperObsDict"))
    obs, _ = env.reset(seed=0)
    assert obs["observation"].shape == (2 * 6 + 2 * 3,) and obs["desired_goal"].shape == (3,)


def test_frame_skip_delayed_reward_and_success_wrappers() -> None:
    skipped = apply_wrappers(gym.make("CartPole-v1"), parse_wrappers("rl_zoo3.wrappers.FrameSkip"))
    skipped.reset(seed=0)
    _, reward, *_ = skipped.step(1)
    assert reward == 4.0
    delayed = apply_wrappers(gym.make("CartPole-v1"), parse_wrappers([{"rl_zoo3.wrappers.DelayedRewardWrapper": {"delay": 3}}]))
    delayed.reset(seed=0)
    rewards = [delayed.step(i % 2)[1] for i in range(6)]
    assert rewards == [0.0, 0.0, 3.0, 0.0, 0.0, 3.0]
    prepare_id("PandaReach-v3")
    success = apply_wrappers(gym.make("PandaReach-v3"), parse_wrappers([{"utils.wrappers.DoneOnSuccessWrapper": {"reward_offset": 1.0}}]))
    success.reset(seed=0)
    _, reward, *_ = success.step(np.zeros(3, np.float32))
    assert reward >= 0.0  # Panda's dense-free reward is -1 or 0; the offset lifts it by one


def test_action_wrappers_and_image_wrappers() -> None:
    noisy = apply_wrappers(gym.make("Pendulum-v1"), parse_wrappers([{"rl_zoo3.wrappers.ActionNoiseWrapper": {"noise_std": 0.5}}]))
    noisy.reset(seed=0)
    assert noisy.action(np.array([1.9], np.float32))[0] <= 2.0
    smooth = apply_wrappers(gym.make("Pendulum-v1"), parse_wrappers([{"rl_zoo3.wrappers.ActionSmoothingWrapper": {"smoothing_coef": 0.5}}]))
    smooth.reset(seed=0)
    smooth.step(np.array([2.0], np.float32))
    assert smooth.smoothed_action[0] == 1.0
    car = apply_wrappers(gym.make("CarRacing-v3"), parse_wrappers([
        {"gym.wrappers.resize_observation.ResizeObservation": {"shape": [64, 64]}},
        {"gym.wrappers.gray_scale_observation.GrayScaleObservation": {"keep_dim": True}}]))
    assert car.observation_space.shape == (64, 64, 1)


def test_atari_wrapper_gives_84x84_gray_frames() -> None:
    prepare_id("PongNoFrameskip-v4")
    env = apply_wrappers(gym.make("PongNoFrameskip-v4"), parse_wrappers(["stable_baselines3.common.atari_wrappers.AtariWrapper"]))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (84, 84, 1) and obs.dtype == np.uint8


@pytest.mark.parametrize("entry, problem", [
    ("mypackage.wrappers.Evil", "not on the studio's allow-list"),
    ("os.system", "not on the studio's allow-list"),
    ([{"rl_zoo3.wrappers.HistoryWrapper": {"horizon": 2, "exec": "x"}}], "not accepted"),
    ([{"rl_zoo3.wrappers.HistoryWrapper": {"horizon": [[[[1]]]]}}], "not accepted"),
    ([{"a.B": {}, "c.D": {}}], "single"),
])
def test_wrappers_off_the_allow_list_are_refused(entry: object, problem: str) -> None:
    with pytest.raises(UnknownWrapper, match=problem):
        parse_wrappers(entry)


def _zoo_copy(tmp_path: Path, agent: str, drop: tuple[str, ...] = ()) -> Path:
    source = ZOO_AGENTS[agent] if agent in ZOO_AGENTS else ZOO / agent
    folder = tmp_path / source.parent.parent.name / source.parent.name
    shutil.copytree(source.parent, folder, ignore=shutil.ignore_patterns("*.monitor.csv", *drop))
    return folder / source.name


def test_without_config_yml_the_time_feature_is_inferred(tmp_path: Path) -> None:
    model = _zoo_copy(tmp_path, "ppo/HalfCheetahBulletEnv-v0_1/HalfCheetahBulletEnv-v0.zip", drop=("config.yml",))
    recipe = load_model(model).env_recipe()
    assert [w.name for w in recipe.wrappers] == ["TimeFeatureWrapper"]
    assert any("inferred" in note for note in recipe.notes)


def test_recipe_round_trips_through_run_json() -> None:
    loaded = load_model(ZOO / "tqc/PandaReach-v1_1/PandaReach-v1.zip")
    recipe = loaded.env_recipe()
    again = recipe_from_json(recipe.to_json())
    env = again.make()
    obs, _ = env.reset(seed=0)
    assert obs["observation"].shape == (7,)  # panda-gym's 6 + the time feature
    env.close()


MARKER_MODULE = """
from pathlib import Path
Path({marker!r}).write_text("imported")
import gymnasium as gym
gym.register("CartPole-v1", entry_point="gymnasium.envs.classic_control:CartPoleEnv")
"""


def test_a_module_named_by_a_zoo_file_is_never_imported(tmp_path: Path) -> None:
    model = _zoo_copy(tmp_path, "ppo")
    marker = tmp_path / "imported.txt"
    (model.parent / "mymodule.py").write_text(MARKER_MODULE.format(marker=str(marker)))
    (model.with_suffix("") / "mymodule.py").write_text(MARKER_MODULE.format(marker=str(marker)))
    (model.with_suffix("") / "args.yml").write_text("env: mymodule:CartPole-v1\nalgo: ppo\n")
    for command in (["inspect", str(model)], ["convert", str(model), "--to", "onnx", "--out", str(tmp_path / "run"),
                                               "--samples", "50", "--rollout-steps", "50"]):
        done = subprocess.run([sys.executable, "-m", "studio.cli", *command], cwd=model.parent, capture_output=True,
                              text=True, timeout=300)
        assert "never imports a module a file names" in done.stdout + done.stderr
        assert "--env-module mymodule" in done.stdout + done.stderr
    assert not marker.exists()


def test_gym_packages_from_args_yml_are_refused_unless_known(tmp_path: Path) -> None:
    model = _zoo_copy(tmp_path, "ppo")
    (model.with_suffix("") / "args.yml").write_text("env: CartPole-v1\nalgo: ppo\ngym_packages: [evil_envs]\n")
    with pytest.raises(EnvironmentUnavailableError, match="evil_envs"):
        load_model(model).env_recipe()


def _corridor_agent(tmp_path: Path) -> Path:
    code = (f"import sys; sys.path.insert(0, {str(DATA)!r}); import corridor_envs\n"
            "from stable_baselines3 import PPO\n"
            "m = PPO('MlpPolicy', 'Corridor-v0', n_steps=64, batch_size=32, seed=0, device='cpu')\n"
            f"m.learn(128); m.save({str(tmp_path / 'corridor.zip')!r})\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=300)
    return tmp_path / "corridor.zip"


def test_the_users_own_environment_module_by_path_and_by_module_id(tmp_path: Path) -> None:
    model = _corridor_agent(tmp_path)
    plain = subprocess.run([sys.executable, "-m", "studio.cli", "inspect", str(model), "--env", "Corridor-v0"],
                           capture_output=True, text=True, timeout=300)
    assert "not available" in plain.stdout
    by_path = subprocess.run([sys.executable, "-m", "studio.cli", "inspect", str(model), "--env", "Corridor-v0",
                              "--env-module", str(DATA / "corridor_envs.py")], capture_output=True, text=True, timeout=300)
    assert "made here as Corridor-v0" in by_path.stdout, by_path.stdout + by_path.stderr
    by_id = subprocess.run([sys.executable, "-m", "studio.cli", "inspect", str(model), "--env",
                            "corridor_envs:Corridor-v0"], capture_output=True, text=True, timeout=300,
                           env={"PYTHONPATH": str(DATA), "PATH": "/usr/bin:/bin"})
    assert "made here as Corridor-v0" in by_id.stdout, by_id.stdout + by_id.stderr
