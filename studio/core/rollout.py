"""Side-by-side rollouts: every runtime drives its own copy of the environment from the same seed, in
lockstep, while the original judges each action on the same observation.

Qt-free: the rollout viewer steps a :class:`LockstepRollout` in a worker thread and draws its frames;
tests and the recorder use it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .closed_loop import score
from .envs import make_env
from .observations import stack

Predict = Callable[[Any], np.ndarray]


@dataclass
class Pane:
    runtime: str
    predict: Predict
    env: Any = None
    obs: Any = None
    step: int = 0
    episode: int = 0
    episode_return: float = 0.0
    done: bool = False
    finished: bool = False  # every episode played
    action: Any = None
    action_difference: float = 0.0  # from the original's action on the same observation
    first_departure: int | None = None  # the first step of this episode where it departed beyond tolerance
    diverged_at: int | None = None  # the first step where its observation left the original's trajectory
    returns: list[float] = field(default_factory=list)
    departures: list[int | None] = field(default_factory=list)
    agreed: int = 0
    compared: int = 0
    frame: np.ndarray | None = None
    judge: Predict | None = None  # the original, following this pane's trajectory (policies with memory)

    def status(self) -> str:
        if self.finished:
            return "all episodes played"
        if self.done:
            return "episode over: waiting for the others"
        if self.diverged_at is not None:
            return f"trajectory diverged at step {self.diverged_at}"
        return "running"


def _flat(obs: Any) -> np.ndarray:
    """An observation as one float vector (Dict observations: their parts in key order)."""
    if isinstance(obs, dict):
        return np.concatenate([np.ravel(np.asarray(obs[k], dtype=np.float64)) for k in sorted(obs)])
    return np.array(obs, dtype=np.float64).ravel()


def _difference(a: Any, b: Any, discrete: bool) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if discrete:
        return float(np.any(a != b))
    return float(np.max(np.abs(a - b))) if a.size else 0.0


class LockstepRollout:
    """``runtimes`` maps a name to a predict function; the first one named ``sb3`` is the original.

    ``env`` is an env id or a maker of environments (``LoadedModel.make_env``: the zoo's wrappers, and
    observations that carry masks and episode starts). ``judges``, for policies with memory, makes a
    fresh original for each pane: judging a pane's action on its own trajectory must not move the
    state of the original that plays, nor that of another pane's judge.
    """

    def __init__(
        self,
        env: str | Callable[..., Any],
        runtimes: dict[str, Predict],
        episodes: int = 1,
        seed: int = 0,
        tolerance: float = 1e-3,
        render: bool = True,
        discrete: bool = True,
        judges: Callable[[], Predict] | None = None,
    ) -> None:
        if "sb3" not in runtimes:
            raise ValueError("the original (sb3) must be one of the runtimes")
        self.env_id = env if isinstance(env, str) else None
        self.episodes, self.seed = episodes, seed
        self.tolerance, self.render, self.discrete = tolerance, render, discrete
        self.original = runtimes["sb3"]
        self.panes = [Pane(name, predict) for name, predict in runtimes.items()]
        make = (lambda render_mode=None: make_env(env, render_mode=render_mode)) if isinstance(env, str) else env
        for pane in self.panes:
            pane.env = make(render_mode="rgb_array" if render else None)
            pane.judge = judges() if judges is not None and pane.runtime != "sb3" else self.original
        self.reset()

    @property
    def finished(self) -> bool:
        return all(pane.finished for pane in self.panes)

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.seed = seed
        for pane in self.panes:
            pane.episode, pane.returns, pane.departures, pane.agreed, pane.compared = 0, [], [], 0, 0
            pane.finished = False
            self._start_episode(pane)

    def _start_episode(self, pane: Pane) -> None:
        pane.obs, _ = pane.env.reset(seed=self.seed + pane.episode)
        pane.step, pane.episode_return, pane.done = 0, 0.0, False
        pane.first_departure, pane.diverged_at, pane.action, pane.action_difference = None, None, None, 0.0
        pane.frame = pane.env.render() if self.render else None

    def step(self) -> None:
        """One step of every pane still playing; when all have ended the episode, the next one starts."""
        reference = next(p for p in self.panes if p.runtime == "sb3")
        # The original's observation before this step: each pane is compared with it at the same step.
        reference_obs = None if reference.done else (reference.step, _flat(reference.obs))
        for pane in self.panes:
            if pane.done or pane.finished:
                continue
            batch = stack([pane.obs])
            action = pane.predict(batch)[0]
            if pane is not reference:
                pane.action_difference = _difference(action, pane.judge(batch)[0], self.discrete)
                pane.compared += 1
                agreed = pane.action_difference <= (0.0 if self.discrete else self.tolerance)
                pane.agreed += int(agreed)
                if not agreed and pane.first_departure is None:
                    pane.first_departure = pane.step
                if (pane.diverged_at is None and reference_obs is not None and reference_obs[0] == pane.step
                        and _difference(_flat(pane.obs), reference_obs[1], False) > self.tolerance):
                    pane.diverged_at = pane.step
            pane.action = action
            pane.obs, reward, terminated, truncated, _ = pane.env.step(action)
            pane.step += 1
            pane.episode_return += float(reward)
            pane.done = bool(terminated or truncated)
            if self.render:
                pane.frame = pane.env.render()
        if all(pane.done or pane.finished for pane in self.panes):
            for pane in self.panes:
                if pane.finished:
                    continue
                pane.returns.append(pane.episode_return)
                pane.departures.append(pane.first_departure)
                pane.episode += 1
                if pane.episode >= self.episodes:
                    pane.finished, pane.done = True, True
                else:
                    self._start_episode(pane)

    def summary(self, random_return: float | None = None) -> list[dict[str, Any]]:
        """Per runtime: returns over the episodes played, score against the original, agreement, departures."""
        original = next(p for p in self.panes if p.runtime == "sb3")
        original_mean = float(np.mean(original.returns)) if original.returns else None
        rows = []
        for pane in self.panes:
            returns = np.asarray(pane.returns, dtype=np.float64)
            mean = float(returns.mean()) if returns.size else None
            departures = [d for d in pane.departures if d is not None]
            rows.append({
                "runtime": pane.runtime,
                "episodes": int(returns.size),
                "mean_return": mean,
                "std_return": float(returns.std()) if returns.size else None,
                "score": (score(mean, original_mean, random_return)
                          if None not in (mean, original_mean, random_return) else None),
                "agreement_percent": 100.0 * pane.agreed / pane.compared if pane.compared else None,
                "first_departure_steps": pane.departures,
                "median_steps_to_departure": float(np.median(departures)) if departures else None,
            })
        return rows

    def close(self) -> None:
        for pane in self.panes:
            pane.env.close()
