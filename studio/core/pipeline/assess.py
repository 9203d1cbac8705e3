"""How well an artifact acts like the original: open loop on both observation sources (judged against
float arithmetic's own error, with discrete agreement also split into decisive states and near-ties),
and closed loop against the original's noise floor, with a confidence interval."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..closed_loop import describe, judge
from ..observations import ObservationSet
from ..verification import Thresholds, summarize, verify
from .context import Progress, RunContext
from .stages.reference import closed_loop_reference, float_reference

NEAR_TIE = 0.1  # a state is a near-tie when the original's margin is below this share of the median margin


def margins_of(ctx: RunContext, source: ObservationSet) -> np.ndarray | None:
    """The original's preference margin on each observation of ``source`` (cached per run)."""
    cache = ctx.cache.setdefault("margins", {})
    if source.source not in cache:
        from ..int8.teacher import decision_for, margins, preferences

        loaded = ctx.loaded
        if loaded.algo in ("RecurrentPPO", "MaskablePPO"):  # state and masks: the float64 reference's margins
            cache[source.source] = float_reference(ctx).of(source).margins64
            return cache[source.source]
        try:
            obs = loaded.normalization.normalize(source.batch) if loaded.normalization is not None else source.batch
            tensor, _ = loaded.policy.obs_to_tensor(obs)
            cache[source.source] = margins(preferences(loaded, tensor).numpy(), decision_for(loaded))
        except (TypeError, ValueError):
            cache[source.source] = None
    return cache[source.source]


def split_agreement(original: np.ndarray, artifact: np.ndarray, margin: np.ndarray) -> dict[str, Any]:
    same = np.all((np.asarray(original) == np.asarray(artifact).reshape(np.shape(original)))
                  .reshape(len(original), -1), axis=1)
    median = float(np.median(margin))
    decisive, near = margin >= median, margin < NEAR_TIE * median

    def pct(mask: np.ndarray) -> float | None:
        return float(100 * same[mask].mean()) if mask.any() else None

    return {"median_margin": median, "decisive": {"count": int(decisive.sum()), "agreement_percent": pct(decisive)},
            "near_ties": {"count": int(near.sum()), "agreement_percent": pct(near),
                          "margin_below": NEAR_TIE * median}}


def assess(
    ctx: RunContext,
    predict: Callable[[Any], np.ndarray],
    thresholds: Thresholds | None,
    label: str,
    progress: Progress,
    precision: str = "float32",
    closed_loop: bool = True,
    min_score: float | None = None,
) -> tuple[dict[str, Any], str]:
    """The verification report of ``predict`` and its one-line summary. ``thresholds=None``: measured only
    (the closed loop is still judged, against ``min_score``, for whoever acts on it)."""
    loaded, io = ctx.loaded, ctx.io
    assert loaded is not None and io is not None
    progress.set(0.05, f"{label}: open loop")
    report = verify(float_reference(ctx), predict, ctx.observations, thresholds or Thresholds(), precision)
    if thresholds is None:
        report.update(passed=True, failures=[], thresholds="none: measured and reported")
    if io.discrete:
        for source in ctx.observations:
            margin = margins_of(ctx, source)
            if margin is not None:
                report["sources"][source.source]["split"] = split_agreement(
                    float_reference(ctx).of(source).actions, predict(source.batch), margin)
    text = summarize(report)
    reference = closed_loop_reference(ctx, progress) if closed_loop else None
    if reference is not None:
        spec = ctx.spec
        wanted = min_score if min_score is not None else (thresholds or spec.thresholds).min_score

        def shown(done: int, total: int) -> None:
            progress.set(0.3 + 0.7 * done / max(1, total), f"{label}: closed loop, episode {done}/{total}")

        # A measured-only (int8) model must show it keeps the behaviour: more episodes while undecided.
        closed = judge(predict, reference, wanted, spec.episodes, spec.max_episodes, progress.check, shown,
                       until_decided=thresholds is None)
        report["closed_loop"] = closed
        text += "; " + describe(closed)
        if thresholds is not None and closed["verdict"] == "failed":
            report["passed"] = False
            report["failures"].append(f"closed loop: {describe(closed)}")
    return report, text
