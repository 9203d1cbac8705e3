"""Playing episodes: a policy drives a fresh environment from a fixed seed.

Every episode gets its own environment (PyBullet, for one, does not reset an instance to the same
state twice), so episode ``i`` starts from the same state for every policy that plays it, whenever
it is played: the original, a random policy, the original under float-level noise and each artifact.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from gymnasium import spaces

from ..carried import CARRIED
from ..observations import stack

# The noise floor: the original with its actions (Box) or observations (discrete actions) moved by this
# relative amount, about what float32 arithmetic itself does to a policy's numbers.
FLOAT_NOISE = 1e-6
MAX_STEPS = 100_000

Act = Callable[[Any], np.ndarray]


def play(act: Act, make_env: Callable[[], Any], seed: int, check: Callable[[], None] = lambda: None,
         max_steps: int = MAX_STEPS) -> float:
    """The return of one episode of ``act`` (batch in, batch out) from ``reset(seed=seed)``."""
    env = make_env()
    try:
        reset = getattr(act, "reset", None)
        if callable(reset):
            reset()  # a policy with memory (recurrent) starts the episode afresh
        obs, _ = env.reset(seed=seed)
        total, steps = 0.0, 0
        while steps < max_steps:
            check()
            obs, reward, terminated, truncated, _ = env.step(act(stack([obs]))[0])
            total += float(reward)
            steps += 1
            if terminated or truncated:
                break
        return total
    finally:
        env.close()


def random_policy(action_space: spaces.Space, seed: int) -> Act:
    """A uniformly random policy, seeded: the zero of the closed-loop score."""
    from ..carried import random_action

    space = _copy_space(action_space)
    space.seed(seed)
    return lambda obs: np.stack([random_action(space, obs)])  # among the allowed actions, where masked


def noisy(act: Act, action_space: spaces.Space, observation_space: spaces.Space, seed: int) -> Act:
    """``act`` under float-level noise: N(0, 1e-6 of the action range) on Box actions, or a relative
    1e-6 on float observations when actions are discrete (images and integer observations are left alone)."""
    rng = np.random.default_rng(seed)
    if isinstance(action_space, spaces.Box):
        low, high = action_space.low.astype(np.float64), action_space.high.astype(np.float64)
        scale = np.where(np.isfinite(high - low), (high - low) / 2, 1.0)

        def act_noisy(obs: Any) -> np.ndarray:
            action = np.asarray(act(obs), np.float64)
            moved = action + rng.normal(0.0, FLOAT_NOISE, action.shape) * scale
            return np.clip(moved, low, high).astype(action_space.dtype)
        return act_noisy

    def perturb(value: np.ndarray) -> np.ndarray:
        value = np.asarray(value)
        if not np.issubdtype(value.dtype, np.floating):
            return value
        return (value * (1.0 + rng.normal(0.0, FLOAT_NOISE, value.shape))).astype(value.dtype)

    def act_perturbed(obs: Any) -> np.ndarray:
        if isinstance(obs, dict):  # masks and episode starts carried with the observation stay as they are
            return act({k: v if k in CARRIED else perturb(v) for k, v in obs.items()})
        return act(perturb(obs))
    return act_perturbed


def _copy_space(space: spaces.Space) -> spaces.Space:
    import copy

    return copy.deepcopy(space)
