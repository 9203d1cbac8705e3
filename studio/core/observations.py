"""Observations to verify and calibrate on: sampled from the space, or visited by the policy.

Batches are numpy arrays with the batch first, or dicts of such arrays for Dict spaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from gymnasium import spaces

from .zoo import ObservationNormalization

# Bounds at or beyond this size are treated as unbounded (CartPole's are +-3.4e38, float32's max).
UNBOUNDED = 1e6
# Sampled observations stay where they mean something: within the range the policy visits, widened by
# MARGIN of its width on each side; else mean +- 3 std of VecNormalize's statistics; else +-SPREAD.
SPREAD = 10.0
MARGIN = 0.1


@dataclass
class ObservationSet:
    source: str  # "sampled" or "rollout"
    batch: Any
    detail: dict[str, Any]

    def __len__(self) -> int:
        return batch_size(self.batch)


def batch_size(batch: Any) -> int:
    return len(next(iter(batch.values()))) if isinstance(batch, dict) else len(batch)


def stack(observations: list[Any]) -> Any:
    if observations and isinstance(observations[0], dict):
        return {key: np.stack([o[key] for o in observations]) for key in observations[0]}
    return np.stack(observations)


def concat(batches: list[Any]) -> Any:
    if isinstance(batches[0], dict):
        return {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
    return np.concatenate(batches)


def _box_bounds(space: spaces.Box, mean: Any, var: Any, visited: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    low = space.low.astype(np.float64).copy()
    high = space.high.astype(np.float64).copy()
    if visited is not None and len(visited) and np.shape(visited)[1:] == tuple(space.shape):
        seen = np.asarray(visited, np.float64)
        seen_low, seen_high = seen.min(axis=0), seen.max(axis=0)
        width = np.maximum(seen_high - seen_low, 1e-6 * np.maximum(1.0, np.abs(seen_high)))
        low = np.clip(seen_low - MARGIN * width, low, high)
        high = np.clip(seen_high + MARGIN * width, low, high)
        return low, high
    if mean is not None:
        centre = np.broadcast_to(np.asarray(mean, np.float64), low.shape)
        spread = 3.0 * np.sqrt(np.broadcast_to(np.asarray(var, np.float64), low.shape))
        fallback_low, fallback_high = centre - spread, centre + spread
    else:
        fallback_low, fallback_high = np.full(low.shape, -SPREAD), np.full(low.shape, SPREAD)
    low = np.where(np.abs(low) >= UNBOUNDED, np.maximum(fallback_low, -UNBOUNDED), low)
    high = np.where(np.abs(high) >= UNBOUNDED, np.minimum(fallback_high, UNBOUNDED), high)
    return low, high


def _sample_space(space: spaces.Space, n: int, rng: np.random.Generator, mean: Any, var: Any,
                  visited: np.ndarray | None = None) -> tuple[Any, Any]:
    if isinstance(space, spaces.Box):
        if np.issubdtype(space.dtype, np.integer):
            low, high = space.low.astype(np.int64), space.high.astype(np.int64)
            return rng.integers(low, high, size=(n, *space.shape), endpoint=True).astype(space.dtype), "integers"
        low, high = _box_bounds(space, mean, var, visited)
        values = rng.uniform(low, high, size=(n, *space.shape)).astype(space.dtype)
        within = ("the visited range, widened by 10 %" if visited is not None else
                  "mean +- 3 std of the normalisation statistics" if mean is not None else
                  f"the space's bounds, +-{SPREAD:g} where unbounded")
        return values, {"low": float(low.min()), "high": float(high.max()), "within": within}
    if isinstance(space, spaces.Discrete):
        return rng.integers(space.start, space.start + space.n, size=n), f"0..{space.n - 1}"
    if isinstance(space, spaces.MultiDiscrete):
        return rng.integers(0, space.nvec, size=(n, *space.shape)), "per-part integers"
    if isinstance(space, spaces.MultiBinary):
        return rng.integers(0, 2, size=(n, *space.shape)).astype(space.dtype), "0/1"
    raise TypeError(f"cannot sample {type(space).__name__}")


def sample_observations(
    space: spaces.Space, n: int, seed: int, normalization: ObservationNormalization | None = None,
    visited: ObservationSet | None = None,
) -> ObservationSet:
    """``n`` observations drawn uniformly from the space, within the range the policy visits where known,
    else within sensible bounds where the space is unbounded."""
    rng = np.random.default_rng(seed)
    seen = visited.batch if visited is not None and len(visited) else None
    if isinstance(space, spaces.Dict):
        batch, detail = {}, {}
        for key, sub in space.spaces.items():
            mean = normalization.mean.get(key) if normalization and isinstance(normalization.mean, dict) else None
            var = normalization.var.get(key) if mean is not None else None
            batch[key], detail[key] = _sample_space(sub, n, rng, mean, var, seen[key] if seen is not None else None)
    else:
        mean = normalization.mean if normalization and not isinstance(normalization.mean, dict) else None
        var = normalization.var if mean is not None else None
        batch, detail = _sample_space(space, n, rng, mean, var, seen)
    return ObservationSet("sampled", batch, {"count": n, "seed": seed, "bounds": detail})


def rollout_observations(
    make_env: Callable[[], Any],
    act: Callable[[Any], np.ndarray],
    steps: int,
    seed: int,
    check: Callable[[], None] = lambda: None,
    progress: Callable[[float], None] = lambda fraction: None,
) -> ObservationSet:
    """Raw observations visited by ``act`` (a batch-in, batch-out policy) over ``steps`` steps."""
    env = make_env()
    observations: list[Any] = []
    returns: list[float] = []
    episode, total = 0, 0.0
    try:
        obs, _ = env.reset(seed=seed)
        for step in range(steps):
            check()
            observations.append(obs)
            action = act(stack([obs]))[0]
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            if terminated or truncated:
                returns.append(total)
                episode, total = episode + 1, 0.0
                obs, _ = env.reset(seed=seed + episode)
            if step % 50 == 0:
                progress(step / steps)
    finally:
        env.close()
    detail = {"count": len(observations), "seed": seed, "episodes_completed": len(returns)}
    if returns:
        detail["mean_return"] = float(np.mean(returns))
    return ObservationSet("rollout", stack(observations), detail)
