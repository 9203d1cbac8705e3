"""The environment wrappers a zoo ``config.yml`` may name: an explicit allow-list, never an import by name.

``env_wrapper`` in a zoo config is a dotted class name (or a list of them, or ``{name: kwargs}``
dicts). The studio maps each known spelling to an implementation it trusts: the class from
SB3/sb3-contrib/Gymnasium where one exists, or a re-implementation here of the RL Zoo's own wrappers
(``rl_zoo3.wrappers``, formerly ``utils.wrappers``), which is not a dependency. Anything else is
refused by name. Keyword arguments must be plain data (numbers, strings, booleans, lists).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import gymnasium as gym
import numpy as np
from gymnasium import spaces


@dataclass(frozen=True)
class WrapperSpec:
    name: str  # the short name: "TimeFeatureWrapper"
    kwargs: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kwargs": dict(self.kwargs)}


class UnknownWrapper(ValueError):
    pass


class HistoryWrapper(gym.Wrapper):
    """RL Zoo's ``HistoryWrapper``: the last ``horizon`` observations and actions, concatenated."""

    def __init__(self, env: gym.Env, horizon: int = 2) -> None:
        assert isinstance(env.observation_space, spaces.Box) and isinstance(env.action_space, spaces.Box)
        super().__init__(env)
        obs_space, act_space = env.observation_space, env.action_space
        self.horizon = horizon
        low_obs, high_obs = np.tile(obs_space.low, horizon), np.tile(obs_space.high, horizon)
        low_action, high_action = np.tile(act_space.low, horizon), np.tile(act_space.high, horizon)
        self.observation_space = spaces.Box(np.concatenate((low_obs, low_action)),
                                            np.concatenate((high_obs, high_action)), dtype=obs_space.dtype)
        self.obs_history = np.zeros(low_obs.shape, low_obs.dtype)
        self.action_history = np.zeros(low_action.shape, low_action.dtype)

    def _observation(self) -> np.ndarray:
        return np.concatenate((self.obs_history, self.action_history))

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        self.obs_history[...] = 0
        self.action_history[...] = 0
        obs, info = self.env.reset(**kwargs)
        self.obs_history[..., -obs.shape[-1]:] = obs
        return self._observation(), info

    def step(self, action: np.ndarray) -> tuple[np.ndarray, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        action = np.asarray(action)
        self.obs_history = np.roll(self.obs_history, shift=-obs.shape[-1], axis=-1)
        self.obs_history[..., -obs.shape[-1]:] = obs
        self.action_history = np.roll(self.action_history, shift=-action.shape[-1], axis=-1)
        self.action_history[..., -action.shape[-1]:] = action
        return self._observation(), reward, terminated, truncated, info


class HistoryWrapperObsDict(gym.Wrapper):
    """RL Zoo's ``HistoryWrapperObsDict``: :class:`HistoryWrapper` on the ``observation`` key of a Dict."""

    def __init__(self, env: gym.Env, horizon: int = 2) -> None:
        assert isinstance(env.observation_space, spaces.Dict)
        super().__init__(env)
        obs_space, act_space = env.observation_space.spaces["observation"], env.action_space
        low_obs, high_obs = np.tile(obs_space.low, horizon), np.tile(obs_space.high, horizon)
        low_action, high_action = np.tile(act_space.low, horizon), np.tile(act_space.high, horizon)
        self.observation_space = spaces.Dict(dict(env.observation_space.spaces))
        self.observation_space.spaces["observation"] = spaces.Box(
            np.concatenate((low_obs, low_action)), np.concatenate((high_obs, high_action)), dtype=obs_space.dtype)
        self.obs_history = np.zeros(low_obs.shape, low_obs.dtype)
        self.action_history = np.zeros(low_action.shape, low_action.dtype)

    def reset(self, **kwargs: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        self.obs_history[...] = 0
        self.action_history[...] = 0
        obs, info = self.env.reset(**kwargs)
        self.obs_history[..., -obs["observation"].shape[-1]:] = obs["observation"]
        return dict(obs, observation=np.concatenate((self.obs_history, self.action_history))), info

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        action = np.asarray(action)
        inner = obs["observation"]
        self.obs_history = np.roll(self.obs_history, shift=-inner.shape[-1], axis=-1)
        self.obs_history[..., -inner.shape[-1]:] = inner
        self.action_history = np.roll(self.action_history, shift=-action.shape[-1], axis=-1)
        self.action_history[..., -action.shape[-1]:] = action
        obs = dict(obs, observation=np.concatenate((self.obs_history, self.action_history)))
        return obs, reward, terminated, truncated, info


class FrameSkip(gym.Wrapper):
    """RL Zoo's ``FrameSkip``: repeat each action ``skip`` times, summing the rewards."""

    def __init__(self, env: gym.Env, skip: int = 4) -> None:
        super().__init__(env)
        self._skip = skip

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        total = 0.0
        for _ in range(self._skip):
            obs, reward, terminated, truncated, info = self.env.step(action)
            total += float(reward)
            if terminated or truncated:
                break
        return obs, total, terminated, truncated, info


class DoneOnSuccessWrapper(gym.Wrapper):
    """RL Zoo's ``DoneOnSuccessWrapper`` / ``TruncatedOnSuccessWrapper``: end the episode on success
    (``info["is_success"]``) after ``n_successes`` steps of it, adding ``reward_offset`` to each reward."""

    def __init__(self, env: gym.Env, reward_offset: float = 0.0, n_successes: int = 1) -> None:
        super().__init__(env)
        self.reward_offset = reward_offset
        self.n_successes = n_successes
        self.current_successes = 0

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self.current_successes = 0
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if info.get("is_success", False):
            self.current_successes += 1
        else:
            self.current_successes = 0
        truncated = truncated or self.current_successes >= self.n_successes
        return obs, float(reward) + self.reward_offset, terminated, truncated, info


class DelayedRewardWrapper(gym.Wrapper):
    """RL Zoo's ``DelayedRewardWrapper``: rewards accumulated and paid every ``delay`` steps (and at the end)."""

    def __init__(self, env: gym.Env, delay: int = 10) -> None:
        super().__init__(env)
        self.delay = delay
        self.current_step = 0
        self.accumulated_reward = 0.0

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self.current_step = 0
        self.accumulated_reward = 0.0
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.accumulated_reward += float(reward)
        self.current_step += 1
        if self.current_step % self.delay == 0 or terminated or truncated:
            reward, self.accumulated_reward = self.accumulated_reward, 0.0
        else:
            reward = 0.0
        return obs, reward, terminated, truncated, info


class MaskVelocityWrapper(gym.ObservationWrapper):
    """RL Zoo's ``MaskVelocityWrapper``: velocities zeroed (same shape), for the zoo's ``*NoVel`` envs."""

    VELOCITY_INDICES = {"CartPole": [1, 3], "MountainCar": [1], "MountainCarContinuous": [1], "Pendulum": [2],
                        "LunarLander": [2, 3, 5], "LunarLanderContinuous": [2, 3, 5]}

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        name = env.unwrapped.spec.id.rsplit("-v", 1)[0] if env.unwrapped.spec else ""
        if name not in self.VELOCITY_INDICES:
            raise ValueError(f"MaskVelocityWrapper knows no velocities of {name or 'this environment'}")
        self.mask = np.ones(env.observation_space.shape, dtype=env.observation_space.dtype)
        self.mask[self.VELOCITY_INDICES[name]] = 0.0

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return observation * self.mask


class ActionNoiseWrapper(gym.ActionWrapper):
    """RL Zoo's ``ActionNoiseWrapper``: N(0, noise_std) added to Box actions, clipped to the bounds."""

    def __init__(self, env: gym.Env, noise_std: float = 0.1) -> None:
        super().__init__(env)
        self.noise_std = noise_std

    def action(self, action: np.ndarray) -> np.ndarray:
        noise = self.np_random.normal(np.zeros_like(action), self.noise_std)
        return np.clip(action + noise, self.action_space.low, self.action_space.high)


class ActionSmoothingWrapper(gym.Wrapper):
    """RL Zoo's ``ActionSmoothingWrapper``: an exponential moving average of the actions."""

    def __init__(self, env: gym.Env, smoothing_coef: float = 0.0) -> None:
        super().__init__(env)
        self.smoothing_coef = smoothing_coef
        self.smoothed_action: np.ndarray | None = None

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self.smoothed_action = None
        return self.env.reset(**kwargs)

    def step(self, action: np.ndarray) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        if self.smoothed_action is None:
            self.smoothed_action = np.zeros_like(action)
        self.smoothed_action = self.smoothing_coef * self.smoothed_action + (1 - self.smoothing_coef) * action
        return self.env.step(self.smoothed_action)


def _time_feature(env: gym.Env, **kwargs: Any) -> gym.Env:
    from sb3_contrib.common.wrappers import TimeFeatureWrapper

    return TimeFeatureWrapper(env, **kwargs)


def _atari(env: gym.Env, **kwargs: Any) -> gym.Env:
    from stable_baselines3.common.atari_wrappers import AtariWrapper

    return AtariWrapper(env, **kwargs)


def _resize(env: gym.Env, shape: Any) -> gym.Env:
    """Old gym's ``ResizeObservation`` took ``shape: 64`` for 64x64; Gymnasium's wants a tuple."""
    shape = (int(shape), int(shape)) if isinstance(shape, (int, float)) else tuple(int(v) for v in shape)
    return gym.wrappers.ResizeObservation(env, shape)


def _gymnasium(name: str) -> Callable[..., gym.Env]:
    def make(env: gym.Env, **kwargs: Any) -> gym.Env:
        return getattr(gym.wrappers, name)(env, **kwargs)
    return make


# Short name -> (constructor, the keyword arguments it accepts).
_KNOWN: dict[str, tuple[Callable[..., gym.Env], set[str]]] = {
    "TimeFeatureWrapper": (_time_feature, {"max_steps", "test_mode"}),
    "AtariWrapper": (_atari, {"noop_max", "frame_skip", "screen_size", "terminal_on_life_loss", "clip_reward",
                              "action_repeat_probability"}),
    "HistoryWrapper": (HistoryWrapper, {"horizon"}),
    "HistoryWrapperObsDict": (HistoryWrapperObsDict, {"horizon"}),
    "FrameSkip": (FrameSkip, {"skip"}),
    "DoneOnSuccessWrapper": (DoneOnSuccessWrapper, {"reward_offset", "n_successes"}),
    "TruncatedOnSuccessWrapper": (DoneOnSuccessWrapper, {"reward_offset", "n_successes"}),
    "DelayedRewardWrapper": (DelayedRewardWrapper, {"delay"}),
    "MaskVelocityWrapper": (MaskVelocityWrapper, set()),
    "ActionNoiseWrapper": (ActionNoiseWrapper, {"noise_std"}),
    "ActionSmoothingWrapper": (ActionSmoothingWrapper, {"smoothing_coef"}),
    "TimeLimit": (_gymnasium("TimeLimit"), {"max_episode_steps"}),
    "FlattenObservation": (_gymnasium("FlattenObservation"), set()),
    "ResizeObservation": (_resize, {"shape"}),
    "GrayScaleObservation": (_gymnasium("GrayscaleObservation"), {"keep_dim"}),
    "GrayscaleObservation": (_gymnasium("GrayscaleObservation"), {"keep_dim"}),
}
# The zoo's old layout (utils.wrappers) had other defaults.
_OLD_DEFAULTS = {"HistoryWrapper": {"horizon": 5}, "HistoryWrapperObsDict": {"horizon": 5}}
# The module prefixes under which these names appear in zoo configs.
_PREFIXES = ("sb3_contrib.common.wrappers.", "sb3_contrib.common.wrappers.time_feature.",
             "stable_baselines3.common.atari_wrappers.", "rl_zoo3.wrappers.", "rl_zoo.wrappers.", "utils.wrappers.",
             "gymnasium.wrappers.", "gym.wrappers.", "gym.wrappers.time_limit.", "gymnasium.wrappers.time_limit.",
             "gym.wrappers.resize_observation.", "gym.wrappers.gray_scale_observation.")


def _plain(value: Any, depth: int = 0) -> bool:
    if isinstance(value, (bool, int, float, str)) or value is None:
        return not isinstance(value, str) or len(value) <= 200
    if isinstance(value, (list, tuple)) and depth < 3 and len(value) <= 64:
        return all(_plain(v, depth + 1) for v in value)
    return False


def parse_wrappers(value: Any) -> list[WrapperSpec]:
    """The ``env_wrapper`` entry of a zoo config as specs; :class:`UnknownWrapper` names what is refused."""
    if value is None:
        return []
    entries = value if isinstance(value, list) else [value]
    specs = []
    for entry in entries:
        kwargs: Any = {}
        if isinstance(entry, dict):
            if len(entry) != 1:
                raise UnknownWrapper(f"env_wrapper entry {entry!r} is not a single {{name: kwargs}}")
            entry, kwargs = next(iter(entry.items()))
            kwargs = kwargs or {}
        if not isinstance(entry, str) or not isinstance(kwargs, dict):
            raise UnknownWrapper(f"env_wrapper entry {entry!r} is not a wrapper name")
        module, _, short = entry.rpartition(".")
        if module + "." not in _PREFIXES or short not in _KNOWN:
            raise UnknownWrapper(f"wrapper {entry} is not on the studio's allow-list")
        accepted = _KNOWN[short][1]
        bad = [k for k, v in kwargs.items() if not isinstance(k, str) or k not in accepted or not _plain(v)]
        if bad:
            raise UnknownWrapper(f"wrapper {short}: argument(s) {', '.join(map(str, bad))} not accepted")
        defaults = _OLD_DEFAULTS.get(short, {}) if entry.startswith("utils.wrappers.") else {}
        specs.append(WrapperSpec(short, {**defaults, **kwargs}))
    return specs


def apply_wrappers(env: gym.Env, specs: list[WrapperSpec]) -> gym.Env:
    for spec in specs:
        env = _KNOWN[spec.name][0](env, **spec.kwargs)
    return env


def allowed_wrappers() -> list[str]:
    return sorted(_KNOWN)
