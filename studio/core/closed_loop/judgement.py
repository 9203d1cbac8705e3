"""Is an artifact's closed loop distinguishably worse than the original's own noise floor?

Locomotion is chaotic: moving the original's actions by 1e-6 changes its returns as much as a real
defect might. So every artifact is compared, episode by episode on the same seeds, with the original
under float-level noise (the *noise floor*), and judged with a confidence interval:

* ``tolerance`` = (1 - min_score) x (R_original - R_random): how much worse than the floor counts;
* d_i = R_artifact,i - R_floor,i; a t-interval on mean(d) at ``confidence``;
* **failed** when the whole interval lies below -tolerance, **passed** when it lies above it,
  **inconclusive** otherwise. An inconclusive verdict whose estimate is itself worse than -tolerance
  gets more episodes (doubling, up to a maximum): only a suspicious result is worth the time.

A float artifact fails only on **failed**. The score, (R - R_random) / (R_original - R_random), and its
interval are reported beside the floor's score and interval.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .episodes import Act, noisy, play, random_policy

CONFIDENCE = 0.95
NOISE_SEED = 7_000_000  # the floor's noise stream, apart from every other seed


def _t(confidence: float, dof: int) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + confidence / 2, dof))


def interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean and two-sided t-interval of ``values`` (a zero-width interval for one value or no spread)."""
    values = np.asarray(values, np.float64)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean, mean
    half = _t(confidence, len(values) - 1) * float(values.std(ddof=1)) / np.sqrt(len(values))
    return mean, mean - half, mean + half


def verdict(artifact: np.ndarray, original: np.ndarray, floor: np.ndarray, random_mean: float,
            min_score: float, confidence: float = CONFIDENCE) -> dict[str, Any]:
    """The judgement of paired returns (same seeds, same order)."""
    n = len(artifact)
    original_mean = float(np.mean(original))
    span = original_mean - random_mean
    result: dict[str, Any] = {"episodes": n, "mean": float(np.mean(artifact)), "std": float(np.std(artifact)),
                              "min": float(np.min(artifact)), "max": float(np.max(artifact)),
                              "returns": [round(float(v), 4) for v in artifact], "original_mean": original_mean,
                              "random_mean": random_mean, "floor_mean": float(np.mean(floor)),
                              "min_score": min_score, "confidence": confidence}
    if span <= 1e-9 * max(1.0, abs(original_mean)):
        result.update(score=None, verdict="not scored",
                      reason="the original is no better than a random policy here: nothing to compare")
        return result

    def score_of(returns: np.ndarray) -> tuple[float, float, float]:
        mean, low, high = interval(returns - original, confidence)
        return 1 + mean / span, 1 + low / span, 1 + high / span

    score, low, high = score_of(artifact)
    floor_score, floor_low, floor_high = score_of(floor)
    tolerance = (1 - min_score) * span
    diff, diff_low, diff_high = interval(artifact - floor, confidence)
    decision = "failed" if diff_high < -tolerance else "passed" if diff_low >= -tolerance else "inconclusive"
    result.update(score=score, score_interval=[low, high], floor_score=floor_score,
                  floor_interval=[floor_low, floor_high],
                  difference_to_floor={"mean": diff, "interval": [diff_low, diff_high], "tolerance": tolerance},
                  verdict=decision)
    return result


VERDICT_WORDS = {
    "passed": "within tolerance of the noise floor",
    "failed": "worse than the noise floor",
    "inconclusive": "not distinguishably worse than the noise floor",
}


def describe(result: dict[str, Any]) -> str:
    """One line: score [interval] against the floor's, over N episodes, and the verdict in words."""
    if result.get("score") is None:
        return f"closed loop: {result.get('reason', 'not scored')}"
    low, high = result["score_interval"]
    f_low, f_high = result["floor_interval"]
    return (f"closed loop score {result['score']:.3f} [{low:.3f}, {high:.3f}] vs noise floor "
            f"{result['floor_score']:.3f} [{f_low:.3f}, {f_high:.3f}] over {result['episodes']} episodes "
            f"(returns {result['mean']:.1f} vs original {result['original_mean']:.1f}): "
            f"{VERDICT_WORDS[result['verdict']]}")


@dataclass
class Reference:
    """The original's, a random policy's and the noise floor's returns per seed, played on demand, once."""

    original: Act
    make_env: Callable[[], Any]
    observation_space: Any
    action_space: Any
    seed: int
    returns: dict[str, dict[int, float]] = field(default_factory=lambda: {"original": {}, "random": {}, "floor": {}})
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def seeds(self, n: int) -> list[int]:
        return [self.seed + i for i in range(n)]

    def ensure(self, n: int, check: Callable[[], None] = lambda: None) -> None:
        with self._lock:
            for s in self.seeds(n):
                if s not in self.returns["original"]:
                    self.returns["original"][s] = play(self.original, self.make_env, s, check)
                if s not in self.returns["random"]:
                    self.returns["random"][s] = play(random_policy(self.action_space, s), self.make_env, s, check)
                if s not in self.returns["floor"]:
                    act = noisy(self.original, self.action_space, self.observation_space, NOISE_SEED + s)
                    self.returns["floor"][s] = play(act, self.make_env, s, check)

    def arrays(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        seeds = self.seeds(n)
        return tuple(np.array([self.returns[k][s] for s in seeds]) for k in ("original", "random", "floor"))  # type: ignore[return-value]

    def to_json(self, n: int | None = None) -> dict[str, Any]:
        n = n if n is not None else len(self.returns["original"])
        original, rand, floor = self.arrays(n)
        return {"seed": self.seed, "episodes": n,
                "original": _summary(original), "random": _summary(rand), "floor": _summary(floor)}


def _summary(values: np.ndarray) -> dict[str, Any]:
    return {"mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
            "max": float(values.max()), "returns": [round(float(v), 4) for v in values]}


def judge(act: Act, reference: Reference, min_score: float, episodes: int, max_episodes: int,
          check: Callable[[], None] = lambda: None,
          progress: Callable[[int, int], None] = lambda done, total: None,
          until_decided: bool = False) -> dict[str, Any]:
    """Play ``act`` on the reference's seeds, ``episodes`` first and more while the verdict is inconclusive:
    only while its estimate is worse than the tolerance (a float artifact, innocent until shown worse), or,
    with ``until_decided`` (int8, a lossy model that must show it keeps the behaviour), until the interval
    decides or ``max_episodes`` are played."""
    played: dict[int, float] = {}
    n = max(2, episodes)
    while True:
        progress(len(played), n)
        reference.ensure(n, check)
        for s in reference.seeds(n):
            if s not in played:
                played[s] = play(act, reference.make_env, s, check)
                progress(len(played), n)
        original, rand, floor = reference.arrays(n)
        artifact = np.array([played[s] for s in reference.seeds(n)])
        result = verdict(artifact, original, floor, float(rand.mean()), min_score)
        if result["verdict"] != "inconclusive" or n >= max_episodes:
            return result
        difference = result["difference_to_floor"]
        if difference["mean"] >= -difference["tolerance"] and not until_decided:
            return result  # within tolerance on the estimate: more episodes would not show it worse
        n = min(max_episodes, 2 * n)
