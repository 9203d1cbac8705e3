"""Does an artifact act like the original? Agreement and action error, per observation source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .observations import ObservationSet


@dataclass
class Thresholds:
    """A run fails verification when any source falls outside these."""

    min_agreement: float = 100.0  # percent of observations where every discrete action part matches
    max_abs_error: float = 1e-5  # in action units, for Box actions
    min_score: float = 0.99  # closed loop: (R - R_random) / (R_original - R_random), where measured

    def to_json(self) -> dict[str, float]:
        return {"min_agreement_percent": self.min_agreement, "max_abs_error": self.max_abs_error,
                "min_closed_loop_score": self.min_score}


def compare_actions(original: np.ndarray, artifact: np.ndarray, discrete: bool) -> dict[str, Any]:
    """Agreement (discrete) or max and mean absolute error (continuous) over a batch of actions."""
    original = np.asarray(original)
    artifact = np.asarray(artifact).reshape(original.shape)
    n = len(original)
    if discrete:
        same = np.all((original == artifact).reshape(n, -1), axis=1)
        return {"count": n, "agreement_percent": float(100.0 * same.mean()), "disagreements": int((~same).sum())}
    error = np.abs(original.astype(np.float64) - artifact.astype(np.float64))
    error = np.where(np.isnan(error), np.inf, error)
    return {"count": n, "max_abs_error": float(error.max()), "mean_abs_error": float(error.mean())}


def verify(
    original: Callable[[Any], np.ndarray],
    artifact: Callable[[Any], np.ndarray],
    sources: list[ObservationSet],
    discrete: bool,
    thresholds: Thresholds,
) -> dict[str, Any]:
    """Compare ``artifact`` with ``original`` on every observation source; says whether it passed."""
    report: dict[str, Any] = {"thresholds": thresholds.to_json(), "sources": {}}
    failures = []
    for source in sources:
        metrics = compare_actions(original(source.batch), artifact(source.batch), discrete)
        metrics["observations"] = source.detail
        report["sources"][source.source] = metrics
        if discrete and metrics["agreement_percent"] < thresholds.min_agreement:
            failures.append(f"{source.source}: {metrics['agreement_percent']:.2f}% agreement "
                            f"< {thresholds.min_agreement:g}%")
        if not discrete and not metrics["max_abs_error"] <= thresholds.max_abs_error:
            failures.append(f"{source.source}: max error {metrics['max_abs_error']:.3g} > {thresholds.max_abs_error:g}")
    report["passed"] = not failures
    report["failures"] = failures
    return report


def summarize(report: dict[str, Any]) -> str:
    """One line per source, as the CLI prints it."""
    parts = []
    for name, m in report["sources"].items():
        if "agreement_percent" in m:
            parts.append(f"{name}: {m['agreement_percent']:.2f}% agree (n={m['count']})")
        else:
            parts.append(f"{name}: max {m['max_abs_error']:.2e} mean {m['mean_abs_error']:.2e} (n={m['count']})")
    return "; ".join(parts)
