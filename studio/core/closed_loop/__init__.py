"""Closed loop: a runtime drives the environment from fixed seeds, and is judged against the original's
returns, a random policy's and the original's own noise floor (see :mod:`.judge`)."""

from __future__ import annotations

from typing import Any, Callable

from ..envs import EnvRecipe, make_env

from .episodes import FLOAT_NOISE, noisy, play, random_policy
from .judgement import CONFIDENCE, Reference, describe, interval, judge, verdict

__all__ = ["CONFIDENCE", "FLOAT_NOISE", "Reference", "describe", "episode_returns", "interval", "judge", "noisy",
           "play", "random_policy", "random_returns", "score", "verdict"]


def _factory(env: Any) -> Callable[[], Any]:
    """A maker of fresh environments from a recipe, an env id or a factory."""
    if callable(env) and not isinstance(env, (str, EnvRecipe)):
        return env
    return lambda: make_env(env)


def episode_returns(act: Callable[[Any], Any], env: Any, episodes: int, seed: int,
                    check: Callable[[], None] = lambda: None) -> list[float]:
    """The returns of ``episodes`` episodes of ``act``, episode ``i`` from ``reset(seed=seed + i)``."""
    make = _factory(env)
    return [play(act, make, seed + i, check) for i in range(episodes)]


def random_returns(env: Any, episodes: int, seed: int) -> list[float]:
    """The returns of a uniformly random policy over the same seeds: the zero of the score."""
    make = _factory(env)
    probe = make()
    space = probe.action_space
    probe.close()
    return [play(random_policy(space, seed + i), make, seed + i) for i in range(episodes)]


def score(artifact: float, original: float, random: float) -> float | None:
    """(R_artifact - R_random) / (R_original - R_random): 1 as good as the original, 0 as random."""
    if abs(original - random) < 1e-9:
        return None
    return float((artifact - random) / (original - random))
