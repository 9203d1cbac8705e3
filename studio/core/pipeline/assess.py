"""How well an artifact acts like the original: open loop on both observation sources (with discrete
agreement split into decisive states and near-ties), and closed loop against the original's returns."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..closed_loop import episode_returns, score, summary
from ..observations import ObservationSet
from ..verification import Thresholds, summarize, verify
from .context import Progress, RunContext
from .stages.reference import original_closed_loop

NEAR_TIE = 0.1  # a state is a near-tie when the original's margin is below this share of the median margin


def margins_of(ctx: RunContext, source: ObservationSet) -> np.ndarray | None:
    """The original's preference margin on each observation of ``source`` (cached per run)."""
    cache = ctx.notes.setdefault("margins", {})
    if source.source not in cache:
        from ..int8.teacher import decision_for, margins, preferences

        loaded = ctx.loaded
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
) -> tuple[dict[str, Any], str]:
    """The verification report of ``predict`` and its one-line summary. ``thresholds=None``: measured only."""
    loaded, io = ctx.loaded, ctx.io
    assert loaded is not None and io is not None
    progress.set(0.05, f"{label}: open loop")
    report = verify(loaded.predict, predict, ctx.observations, io.discrete, thresholds or Thresholds())
    if thresholds is None:
        report.update(passed=True, failures=[], thresholds="none: measured and reported")
    if io.discrete:
        for source in ctx.observations:
            margin = margins_of(ctx, source)
            if margin is not None:
                report["sources"][source.source]["split"] = split_agreement(
                    loaded.predict(source.batch), predict(source.batch), margin)
    text = summarize(report)
    reference = original_closed_loop(ctx, progress)
    if reference is not None:
        progress.set(0.6, f"{label}: {ctx.spec.episodes} episodes")
        returns = episode_returns(predict, reference["env_id"], ctx.spec.episodes, ctx.spec.seed, progress.check)
        closed = summary(returns)
        closed["score"] = score(closed["mean"], reference["original"]["mean"], reference["random"]["mean"])
        closed["original_mean"] = reference["original"]["mean"]
        closed["random_mean"] = reference["random"]["mean"]
        report["closed_loop"] = closed
        shown = f"{closed['score']:.3f}" if closed["score"] is not None else "n/a"
        text += (f"; closed loop {closed['mean']:.1f} +- {closed['std']:.1f} vs original "
                 f"{reference['original']['mean']:.1f} (score {shown})")
        if thresholds is not None and closed["score"] is not None and closed["score"] < thresholds.min_score:
            report["passed"] = False
            report["failures"].append(f"closed loop: score {closed['score']:.3f} < {thresholds.min_score:g}")
    return report, text
