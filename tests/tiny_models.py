"""Tiny SB3 models of every supported algorithm and space type, trained for a few steps.

They are not good at anything; they exist so that every code path of loading, export and verification
runs on a real SB3 model saved by the SB3 installed here.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class SpacesEnv(gym.Env):
    """An environment with arbitrary spaces: random observations, reward for matching a target."""

    metadata = {"render_modes": []}

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space, length: int = 16) -> None:
        self.observation_space = observation_space
        self.action_space = action_space
        self.length = length
        self._t = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self.observation_space.seed(seed)
        self._t = 0
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        self._t += 1
        reward = float(np.mean(np.asarray(action, dtype=np.float64)))
        return self.observation_space.sample(), reward, False, self._t >= self.length, {}


class MaskedSpacesEnv(SpacesEnv):
    """:class:`SpacesEnv` with ``action_masks()``: random masks, at least one choice allowed per part."""

    def action_masks(self) -> np.ndarray:
        space = self.action_space
        parts = ([int(space.n)] if isinstance(space, spaces.Discrete)
                 else [int(n) for n in space.nvec] if isinstance(space, spaces.MultiDiscrete)
                 else [2] * int(space.n))
        masks = []
        for size in parts:
            mask = self.np_random.random(size) < 0.5
            mask[self.np_random.integers(size)] = True
            masks.append(mask)
        return np.concatenate(masks)


class TinyExtractor:  # replaced below by a real nn.Module subclass (kept importable by reference)
    pass


def _custom_extractor() -> type:
    import torch as th
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

    class CustomExtractor(BaseFeaturesExtractor):
        def __init__(self, observation_space: spaces.Box) -> None:
            super().__init__(observation_space, features_dim=8)
            self.linear = th.nn.Linear(int(np.prod(observation_space.shape)), 8)

        def forward(self, obs: Any) -> Any:
            return th.relu(self.linear(th.flatten(obs, 1)))

    CustomExtractor.__module__ = __name__
    CustomExtractor.__qualname__ = "CustomExtractor"
    return CustomExtractor


CustomExtractor = _custom_extractor()

BOX3 = spaces.Box(-1.0, 1.0, (3,), np.float32)
BOX2_ACT = spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 1.0], np.float32))
IMAGE = spaces.Box(0, 255, (36, 36, 3), np.uint8)
DICT = spaces.Dict(OrderedDict(pos=spaces.Box(-5.0, 5.0, (2,), np.float32), mode=spaces.Discrete(3)))
DICT_IMAGE = spaces.Dict(OrderedDict(frame=IMAGE, speed=spaces.Box(-1.0, 1.0, (2,), np.float32)))
STACKED = spaces.Box(0, 255, (36, 36, 2), np.uint8)  # two stacked grey frames: neither 1, 3 nor 4 channels


def _on_policy(**kw: Any) -> dict[str, Any]:
    return dict(n_steps=16, **kw)


def _recurrent(**policy_kwargs: Any) -> dict[str, Any]:
    return dict(n_steps=16, batch_size=16, n_epochs=1, policy_kwargs=dict(lstm_hidden_size=8, **policy_kwargs))


def _off_policy(**kw: Any) -> dict[str, Any]:
    return dict(learning_starts=8, buffer_size=500, train_freq=4, gradient_steps=1, batch_size=8, **kw)


# name -> (algorithm, policy, env factory, algorithm kwargs)
SPECS: dict[str, tuple[str, str, Callable[[], gym.Env], dict[str, Any]]] = {
    "ppo_box_discrete": ("PPO", "MlpPolicy", lambda: gym.make("CartPole-v1"), _on_policy(batch_size=16, n_epochs=1)),
    "ppo_discrete_multidiscrete": (
        "PPO", "MlpPolicy", lambda: SpacesEnv(spaces.Discrete(5), spaces.MultiDiscrete([3, 4])),
        _on_policy(batch_size=16, n_epochs=1),
    ),
    "ppo_multibinary_multibinary": (
        "PPO", "MlpPolicy", lambda: SpacesEnv(spaces.MultiBinary(6), spaces.MultiBinary(3)),
        _on_policy(batch_size=16, n_epochs=1),
    ),
    "ppo_dict_box": ("PPO", "MultiInputPolicy", lambda: SpacesEnv(DICT, BOX2_ACT), _on_policy(batch_size=16, n_epochs=1)),
    "ppo_image_discrete": (
        "PPO", "CnnPolicy", lambda: SpacesEnv(IMAGE, spaces.Discrete(4)), _on_policy(batch_size=16, n_epochs=1),
    ),
    "a2c_box_box_sde": ("A2C", "MlpPolicy", lambda: gym.make("Pendulum-v1"), _on_policy(use_sde=True)),
    "a2c_multidiscrete_discrete": (
        "A2C", "MlpPolicy", lambda: SpacesEnv(spaces.MultiDiscrete([2, 3, 4]), spaces.Discrete(3)), _on_policy(),
    ),
    "dqn_box_discrete": ("DQN", "MlpPolicy", lambda: gym.make("CartPole-v1"), _off_policy()),
    "dqn_dict_discrete": ("DQN", "MultiInputPolicy", lambda: SpacesEnv(DICT, spaces.Discrete(4)), _off_policy()),
    "qrdqn_box_discrete": ("QRDQN", "MlpPolicy", lambda: gym.make("Acrobot-v1"), _off_policy()),
    "sac_box_box": ("SAC", "MlpPolicy", lambda: SpacesEnv(BOX3, BOX2_ACT), _off_policy()),
    "sac_box_box_sde": ("SAC", "MlpPolicy", lambda: gym.make("Pendulum-v1"), _off_policy(use_sde=True)),
    "td3_box_box": ("TD3", "MlpPolicy", lambda: SpacesEnv(BOX3, BOX2_ACT), _off_policy()),
    "ddpg_box_box": ("DDPG", "MlpPolicy", lambda: gym.make("Pendulum-v1"), _off_policy()),
    "tqc_box_box": ("TQC", "MlpPolicy", lambda: gym.make("MountainCarContinuous-v0"), _off_policy()),
    "trpo_box_multibinary": (
        "TRPO", "MlpPolicy", lambda: SpacesEnv(BOX3, spaces.MultiBinary(2)), _on_policy(batch_size=16),
    ),
    "ars_box_box": ("ARS", "LinearPolicy", lambda: gym.make("Pendulum-v1"), dict(n_delta=2, n_top=1)),
    "ars_box_discrete": ("ARS", "MlpPolicy", lambda: gym.make("CartPole-v1"), dict(n_delta=2, n_top=1)),
    # The families: RecurrentPPO (critic LSTM separate, shared, none; two layers), MaskablePPO (every
    # action space it masks), CrossQ, and image policies (NatureCNN, stacked frames, Dict with an image).
    "recurrentppo_box_discrete": ("RecurrentPPO", "MlpLstmPolicy", lambda: gym.make("CartPole-v1"), _recurrent()),
    "recurrentppo_box_box_shared": (
        "RecurrentPPO", "MlpLstmPolicy", lambda: gym.make("Pendulum-v1"),
        _recurrent(shared_lstm=True, enable_critic_lstm=False),
    ),
    "recurrentppo_discrete_multidiscrete_nocritic": (
        "RecurrentPPO", "MlpLstmPolicy", lambda: SpacesEnv(spaces.Discrete(5), spaces.MultiDiscrete([3, 4])),
        _recurrent(enable_critic_lstm=False, n_lstm_layers=2),
    ),
    "recurrentppo_box_multibinary": (
        "RecurrentPPO", "MlpLstmPolicy", lambda: SpacesEnv(BOX3, spaces.MultiBinary(3)), _recurrent(),
    ),
    "recurrentppo_dict_box": ("RecurrentPPO", "MultiInputLstmPolicy", lambda: SpacesEnv(DICT, BOX2_ACT), _recurrent()),
    "recurrentppo_image_discrete": (
        "RecurrentPPO", "CnnLstmPolicy", lambda: SpacesEnv(IMAGE, spaces.Discrete(3)), _recurrent(),
    ),
    "maskableppo_box_discrete": (
        "MaskablePPO", "MlpPolicy", lambda: MaskedSpacesEnv(BOX3, spaces.Discrete(5)), _on_policy(batch_size=16, n_epochs=1),
    ),
    "maskableppo_discrete_multidiscrete": (
        "MaskablePPO", "MlpPolicy", lambda: MaskedSpacesEnv(spaces.Discrete(4), spaces.MultiDiscrete([3, 4, 2])),
        _on_policy(batch_size=16, n_epochs=1),
    ),
    "maskableppo_multibinary_multibinary": (
        "MaskablePPO", "MlpPolicy", lambda: MaskedSpacesEnv(spaces.MultiBinary(5), spaces.MultiBinary(4)),
        _on_policy(batch_size=16, n_epochs=1),
    ),
    "maskableppo_dict_discrete": (
        "MaskablePPO", "MultiInputPolicy", lambda: MaskedSpacesEnv(DICT, spaces.Discrete(4)),
        _on_policy(batch_size=16, n_epochs=1),
    ),
    "maskableppo_image_discrete": (
        "MaskablePPO", "CnnPolicy", lambda: MaskedSpacesEnv(IMAGE, spaces.Discrete(3)), _on_policy(batch_size=16, n_epochs=1),
    ),
    "crossq_box_box": ("CrossQ", "MlpPolicy", lambda: SpacesEnv(BOX3, BOX2_ACT), _off_policy()),
    "crossq_box_box_sde": ("CrossQ", "MlpPolicy", lambda: gym.make("Pendulum-v1"), _off_policy(use_sde=True)),
    "ppo_stacked_discrete": (
        "PPO", "CnnPolicy", lambda: SpacesEnv(STACKED, spaces.Discrete(3)), _on_policy(batch_size=16, n_epochs=1),
    ),
    "ppo_dictimage_box": (
        "PPO", "MultiInputPolicy", lambda: SpacesEnv(DICT_IMAGE, BOX2_ACT), _on_policy(batch_size=16, n_epochs=1),
    ),
    "dqn_image_discrete": ("DQN", "CnnPolicy", lambda: SpacesEnv(IMAGE, spaces.Discrete(3)), _off_policy()),
}

# Saved as built, never trained: sb3-contrib 2.9.2's RecurrentPPO cannot train on MultiBinary actions
# (its rollout buffer stores them as int8, which Bernoulli's log_prob refuses), but the policy acts.
UNTRAINED = {"recurrentppo_box_multibinary"}

# Environments registered in Gymnasium, for the specs that use one (verification rollouts need it).
ENV_IDS = {
    "ppo_box_discrete": "CartPole-v1",
    "a2c_box_box_sde": "Pendulum-v1",
    "dqn_box_discrete": "CartPole-v1",
    "qrdqn_box_discrete": "Acrobot-v1",
    "sac_box_box_sde": "Pendulum-v1",
    "ddpg_box_box": "Pendulum-v1",
    "tqc_box_box": "MountainCarContinuous-v0",
    "ars_box_box": "Pendulum-v1",
    "ars_box_discrete": "CartPole-v1",
    "recurrentppo_box_discrete": "CartPole-v1",
    "recurrentppo_box_box_shared": "Pendulum-v1",
    "crossq_box_box_sde": "Pendulum-v1",
}


def train(name: str, folder: Path, steps: int = 64, seed: int = 0) -> Path:
    """Train the model ``name`` for ``steps`` steps and save it as ``folder/name.zip``."""
    from studio.core.algorithms import algorithm_class

    algo, policy, make_env, kwargs = SPECS[name]
    model = algorithm_class(algo)(policy, make_env(), seed=seed, device="cpu", **kwargs)
    if name not in UNTRAINED:
        model.learn(total_timesteps=steps)
    path = folder / f"{name}.zip"
    model.save(path)
    return path


def train_custom_extractor(folder: Path) -> Path:
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", SpacesEnv(BOX3, spaces.Discrete(2)), n_steps=16, batch_size=16, n_epochs=1,
                policy_kwargs=dict(features_extractor_class=CustomExtractor), device="cpu", seed=0)
    model.learn(16)
    path = folder / "ppo_custom_extractor.zip"
    model.save(path)
    return path


def train_with_vecnormalize(folder: Path) -> tuple[Path, Path]:
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    venv = VecNormalize(make_vec_env("Pendulum-v1", n_envs=2, seed=0), norm_obs=True, norm_reward=True)
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=1, device="cpu", seed=0)
    model.learn(256)
    path = folder / "ppo_pendulum_normalized.zip"
    model.save(path)
    stats = folder / "ppo_pendulum_vecnormalize.pkl"
    venv.save(stats)
    return path, stats


def rewrite_zip(path: Path, out: Path, data_entries: dict[str, Any] | None = None,
                rename_weights: dict[str, str] | None = None, drop_kwargs: tuple[str, ...] = ()) -> Path:
    """A copy of an SB3 zip as an older SB3/sb3-contrib version wrote it: extra (pickled) ``data`` entries,
    weights under older names, policy_kwargs without keys that did not exist then."""
    import base64
    import io
    import json
    import pickle
    import zipfile

    import torch

    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(files["data"])
    for key, value in (data_entries or {}).items():
        data[key] = {":type:": str(type(value)), ":serialized:": base64.b64encode(pickle.dumps(value)).decode()}
    for key in drop_kwargs:
        kwargs = data["policy_kwargs"]
        if ":serialized:" in kwargs:
            plain = pickle.loads(base64.b64decode(kwargs[":serialized:"]))
            plain.pop(key, None)
            kwargs[":serialized:"] = base64.b64encode(pickle.dumps(plain)).decode()
        else:
            kwargs.pop(key, None)
    files["data"] = json.dumps(data).encode()
    if rename_weights:
        weights = torch.load(io.BytesIO(files["policy.pth"]), weights_only=True)
        weights = {rename_weights.get(k, k): v for k, v in weights.items()}
        buffer = io.BytesIO()
        torch.save(weights, buffer)
        files["policy.pth"] = buffer.getvalue()
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as archive:
        for name, raw in files.items():
            archive.writestr(name, raw)
    return out


def train_atari(folder: Path, env_id: str = "BreakoutNoFrameskip-v4", features_dim: int = 64) -> Path:
    """A tiny PPO CnnPolicy on an Atari game, saved in the RL Zoo's layout with the zoo's Atari config
    (AtariWrapper, 4 stacked frames): what the studio must rebuild around the policy to play it."""
    import ale_py
    from stable_baselines3 import PPO
    from stable_baselines3.common.atari_wrappers import AtariWrapper
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecFrameStack

    gym.register_envs(ale_py)
    venv = VecFrameStack(make_vec_env(env_id, n_envs=1, seed=0, wrapper_class=AtariWrapper), n_stack=4)
    model = PPO("CnnPolicy", venv, n_steps=16, batch_size=16, n_epochs=1, seed=0, device="cpu",
                policy_kwargs=dict(features_extractor_kwargs=dict(features_dim=features_dim)))
    model.learn(16)
    run = folder / "ppo" / f"{env_id}_1"
    (run / env_id).mkdir(parents=True, exist_ok=True)
    model.save(run / f"{env_id}.zip")
    tag = "!!python/object/apply:collections.OrderedDict\n"
    (run / env_id / "config.yml").write_text(
        tag + "- - [env_wrapper, [stable_baselines3.common.atari_wrappers.AtariWrapper]]\n  - [frame_stack, 4]\n"
        "  - [policy, CnnPolicy]\n")
    (run / env_id / "args.yml").write_text(tag + f"- - [algo, ppo]\n  - [env, {env_id}]\n")
    return run / f"{env_id}.zip"
