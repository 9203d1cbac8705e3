"""Does an artifact act like the original? Judged against what float arithmetic itself does.

Per observation source (visited states first, then sampled ones), against the original's actions:

* Box actions: the max and mean error against SB3's float32 ``predict``, and against a float64
  evaluation of the original. The artifact passes when its max float64 error is within
  ``error_multiple`` times the original's own float32 error (see :mod:`.float_reference`) plus a floor
  of a few ulps; ``max_abs_error``, when the user sets one, is an extra absolute ceiling.
* Discrete actions: agreement; a disagreement is excused when the original's float64 margin between
  its first and second choice is within ``error_multiple`` times its own error on those preferences
  (a tie at float precision). Agreement over the rest must reach ``min_agreement``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .deploy.sb3_runner import compare_actions  # the device bundle's runner judges with the same function
from .float_reference import FloatReference, SourceReference, floor_of
from .observations import ObservationSet


@dataclass
class Thresholds:
    """A run fails verification when any source falls outside these."""

    min_agreement: float = 100.0  # percent of observations (float-precision ties excused) where every part matches
    error_multiple: float = 8.0  # Box actions: at most this many times the original's own float error
    max_abs_error: float | None = None  # Box actions: an absolute ceiling in action units, if the user sets one
    min_score: float = 0.99  # closed loop: least score before an artifact counts as worse than the noise floor

    def to_json(self) -> dict[str, Any]:
        return {"min_agreement_percent": self.min_agreement, "error_multiple": self.error_multiple,
                "max_abs_error": self.max_abs_error, "min_closed_loop_score": self.min_score}


def error_bound(ref: SourceReference, thresholds: Thresholds) -> float:
    """Box actions: the largest error against float64 an artifact may make on this source."""
    assert ref.actions64 is not None and ref.own_error is not None
    return thresholds.error_multiple * float(ref.own_error.max()) + floor_of(ref.actions64)


def fallback_bound(actions: np.ndarray) -> float:
    """Box actions without a float64 evaluation of the original: an absolute bound against its float32 actions."""
    return 1e-5 * max(1.0, float(np.max(np.abs(actions))))


def float_ties(ref: SourceReference, thresholds: Thresholds) -> np.ndarray:
    """Discrete actions: the observations where the original's first and second choice tie at float precision."""
    if ref.margins64 is None or ref.own_error is None:
        return np.zeros(len(ref.actions), bool)
    return ref.margins64 <= thresholds.error_multiple * ref.own_error + 4 * np.finfo(np.float32).eps


def _continuous(ref: SourceReference, artifact: np.ndarray, thresholds: Thresholds, label: str,
                failures: list[str]) -> dict[str, Any]:
    metrics = compare_actions(ref.actions, artifact, discrete=False)
    if ref.actions64 is not None and ref.own_error is not None:
        error = np.abs(artifact.astype(np.float64).reshape(ref.actions64.shape) - ref.actions64)
        error = np.where(np.isnan(error), np.inf, error).reshape(len(error), -1).max(axis=1)
        own, floor = float(ref.own_error.max()), floor_of(ref.actions64)
        bound = error_bound(ref, thresholds)
        metrics["float64"] = {"max_error": float(error.max()), "mean_error": float(error.mean()),
                              "original_max_error": own, "original_mean_error": float(ref.own_error.mean()),
                              "bound": bound, "ratio": float(error.max() / max(own, floor))}
        if not error.max() <= bound:
            failures.append(f"{label}: max error {error.max():.3g} against float64 > {bound:.3g} "
                            f"({thresholds.error_multiple:g} x the original's own {own:.3g} + {floor:.2g})")
    elif not metrics["max_abs_error"] <= fallback_bound(ref.actions):
        failures.append(f"{label}: max error {metrics['max_abs_error']:.3g} (no float64 reference: absolute bound)")
    if thresholds.max_abs_error is not None and not metrics["max_abs_error"] <= thresholds.max_abs_error:
        failures.append(f"{label}: max error {metrics['max_abs_error']:.3g} > {thresholds.max_abs_error:g}")
    return metrics


def _discrete(ref: SourceReference, artifact: np.ndarray, thresholds: Thresholds, label: str,
              failures: list[str]) -> dict[str, Any]:
    metrics = compare_actions(ref.actions, artifact, discrete=True)
    n = len(ref.actions)
    differ = ~np.all((np.asarray(ref.actions) == np.asarray(artifact).reshape(np.shape(ref.actions))).reshape(n, -1), axis=1)
    excused = differ & float_ties(ref, thresholds)
    judged = n - int(excused.sum())
    agreement = 100.0 * (1 - (differ & ~excused).sum() / max(1, judged))
    metrics.update(float_ties_excused=int(excused.sum()), judged_agreement_percent=float(agreement))
    if agreement < thresholds.min_agreement:
        failures.append(f"{label}: {agreement:.2f}% agreement < {thresholds.min_agreement:g}%"
                        + (f" ({int(excused.sum())} float-precision ties excused)" if excused.any() else ""))
    return metrics


def verify(
    reference: FloatReference,
    artifact: Callable[[Any], np.ndarray],
    sources: list[ObservationSet],
    thresholds: Thresholds,
    precision: str = "float32",
) -> dict[str, Any]:
    """Compare ``artifact`` with the original on every observation source; says whether it passed."""
    report: dict[str, Any] = {"thresholds": thresholds.to_json(), "precision": precision, "sources": {}}
    failures: list[str] = []
    for source in sources:
        ref = reference.of(source, precision)
        actions = np.asarray(artifact(source.batch))
        judge = _discrete if reference.discrete else _continuous
        metrics = judge(ref, actions, thresholds, source.source, failures)
        metrics["observations"] = source.detail
        report["sources"][source.source] = metrics
    if reference.problem:
        report["float64_reference"] = reference.problem
    report["passed"] = not failures
    report["failures"] = failures
    return report


def summarize(report: dict[str, Any]) -> str:
    """One line per source, as the CLI prints it."""
    parts = []
    measured_only = not isinstance(report.get("thresholds"), dict)  # int8: the open loop is measured, not judged
    for name, m in report["sources"].items():
        if "agreement_percent" in m:
            ties = f", {m['float_ties_excused']} float ties" if m.get("float_ties_excused") else ""
            parts.append(f"{name}: {m['agreement_percent']:.2f}% agree (n={m['count']}{ties})")
        elif "float64" in m and not measured_only:
            f64 = m["float64"]
            parts.append(f"{name}: max {m['max_abs_error']:.2e}, vs float64 {f64['max_error']:.2e} = "
                         f"{f64['ratio']:.1f}x the original's own (n={m['count']})")
        else:
            parts.append(f"{name}: max {m['max_abs_error']:.2e} mean {m['mean_abs_error']:.2e} (n={m['count']})")
    return "; ".join(parts)
