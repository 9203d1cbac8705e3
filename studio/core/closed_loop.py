"""Closed loop: let a runtime drive the environment, episode by episode, from fixed seeds."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .envs import make_env
from .observations import stack


def episode_returns(
    act: Callable[[Any], np.ndarray],
    env_id: str,
    episodes: int,
    seed: int,
    check: Callable[[], None] = lambda: None,
    max_steps: int = 100_000,
) -> list[float]:
    """The return of each of ``episodes`` episodes, episode ``i`` reset with ``seed + i``."""
    env = make_env(env_id)
    returns = []
    try:
        for episode in range(episodes):
            obs, _ = env.reset(seed=seed + episode)
            total, done, steps = 0.0, False, 0
            while not done and steps < max_steps:
                check()
                obs, reward, terminated, truncated, _ = env.step(act(stack([obs]))[0])
                total += float(reward)
                done = terminated or truncated
                steps += 1
            returns.append(total)
    finally:
        env.close()
    return returns


def random_returns(env_id: str, episodes: int, seed: int) -> list[float]:
    """Returns of a uniformly random policy (seeded), the zero of the closed-loop score."""
    env = make_env(env_id)
    env.action_space.seed(seed)
    try:
        space = env.action_space
        return episode_returns(lambda obs: np.stack([space.sample()]), env_id, episodes, seed)
    finally:
        env.close()


def summary(returns: list[float]) -> dict[str, Any]:
    values = np.asarray(returns, dtype=np.float64)
    return {
        "episodes": len(values),
        "mean": float(values.mean()) if len(values) else None,
        "std": float(values.std()) if len(values) else None,
        "min": float(values.min()) if len(values) else None,
        "max": float(values.max()) if len(values) else None,
        "returns": [round(float(v), 4) for v in values],
    }


def score(artifact: float, original: float, random: float) -> float | None:
    """(R_artifact - R_random) / (R_original - R_random): 1 as good as the original, 0 as random."""
    if abs(original - random) < 1e-9:
        return None
    return float((artifact - random) / (original - random))
