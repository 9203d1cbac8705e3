"""Observation wrappers the studio adds itself to give a policy what it saw in training.

* :class:`PinObservation`: dimensions that were constant in training (VecNormalize variance about 0,
  or the contact forces mujoco-py 2.x always reported as zeros) keep that constant value.
* :class:`FlattenGoal`: SB3 1.x HER agents saw ``observation`` and ``desired_goal`` concatenated.
* :class:`FrameStack`: SB3's ``VecFrameStack`` for one environment, with the padding of a fresh
  episode chosen so that it normalises to what VecNormalize-then-stack gave the policy (zeros).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class PinObservation(gym.ObservationWrapper):
    """Set ``{key: {index: value}}`` of each observation (key ``""`` for a Box observation)."""

    def __init__(self, env: gym.Env, pins: dict[str, dict[int, float]]) -> None:
        super().__init__(env)
        self._pins = {key: (np.array(sorted(p), dtype=np.int64), np.array([p[i] for i in sorted(p)]))
                      for key, p in pins.items() if p}

    def observation(self, observation: Any) -> Any:
        if isinstance(observation, dict):
            observation = dict(observation)
            for key, (index, values) in self._pins.items():
                value = np.array(observation[key], copy=True)
                value.reshape(-1)[index] = values
                observation[key] = value
            return observation
        index, values = self._pins[""]
        observation = np.array(observation, copy=True)
        observation.reshape(-1)[index] = values
        return observation


class FlattenGoal(gym.ObservationWrapper):
    """SB3 1.x ``ObsDictWrapper``: ``concatenate([observation, desired_goal])``."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        inner = env.observation_space
        assert isinstance(inner, spaces.Dict)
        obs, goal = inner.spaces["observation"], inner.spaces["desired_goal"]
        self.observation_space = spaces.Box(np.concatenate([obs.low, goal.low]), np.concatenate([obs.high, goal.high]),
                                            dtype=obs.dtype)

    def observation(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([observation["observation"], observation["desired_goal"]], axis=-1)


class FrameStack(gym.Wrapper):
    """SB3's ``VecFrameStack`` (channels last, or along the last axis of a vector) for one environment.

    A fresh episode's older frames are ``pad`` (zeros in SB3; the VecNormalize mean when the studio
    normalises inside the graph, so that they normalise to SB3's zeros).
    """

    def __init__(self, env: gym.Env, n_stack: int, pad: np.ndarray | float = 0.0) -> None:
        super().__init__(env)
        space = env.observation_space
        assert isinstance(space, spaces.Box)
        self.n_stack = n_stack
        self._width = space.shape[-1]
        low = np.concatenate([space.low] * n_stack, axis=-1)
        high = np.concatenate([space.high] * n_stack, axis=-1)
        self.observation_space = spaces.Box(low=low, high=high, dtype=space.dtype)
        self._pad = np.broadcast_to(np.asarray(pad, dtype=space.dtype), space.shape)
        self._stack = np.zeros(self.observation_space.shape, dtype=space.dtype)

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self._stack[...] = np.concatenate([self._pad] * self.n_stack, axis=-1)
        self._stack[..., -self._width:] = obs
        return self._stack.copy(), info

    def step(self, action: Any) -> tuple[np.ndarray, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._stack = np.roll(self._stack, shift=-self._width, axis=-1)
        self._stack[..., -self._width:] = obs
        return self._stack.copy(), reward, terminated, truncated, info
