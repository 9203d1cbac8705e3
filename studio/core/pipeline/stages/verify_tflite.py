"""Stage: verify one TFLite artifact in LiteRT against the original, open and closed loop.

Open loop: the actions on the sampled and visited observations, as for ONNX. Closed loop: K episodes
from the same seeds with the artifact driving the environment, against the original's returns.
float32 must meet the ONNX stage's bounds. float16 stores weights at half precision: within 1e-2 in
action units, and at least 98 % discrete agreement (it flips near-ties of Q-values: 98.8 % on the zoo's
DQN CartPole). Both must keep a closed-loop score of at least 0.99 where the environment can be made.
int8 is measured and reported: it is where policies break, and the int8 repair stage acts on it.
"""

from __future__ import annotations

from typing import Any

from ...closed_loop import episode_returns, score, summary
from ...errors import VerificationFailed
from ...runtimes.litert import LiteRTRuntime
from ...verification import Thresholds, summarize, verify
from ..context import Progress, RunContext
from ..spec import ConvertSpec
from .base import StagePlan, StageResult
from .reference import original_closed_loop
from .tflite import FILES

LABELS = {"tflite_fp32": "float32", "tflite_fp16": "float16", "tflite_int8": "int8", "tflite_full_int8": "full int8"}


def thresholds_for(key: str, spec: ConvertSpec) -> Thresholds | None:
    """None: measured and reported, never failed on (int8)."""
    if key == "tflite_fp32":
        return spec.thresholds
    if key == "tflite_fp16":
        return Thresholds(
            min_agreement=min(98.0, spec.thresholds.min_agreement),
            max_abs_error=max(1e-2, spec.thresholds.max_abs_error),
            min_score=spec.thresholds.min_score,
        )
    return None


class VerifyTFLiteStage:
    cacheable = True
    blocking = False  # nothing after it needs what it makes
    def __init__(self, key: str) -> None:
        self.key = key
        self.touches = [key]
        self.name = f"verify-{key.replace('_', '-')}"

    def plan(self, spec: ConvertSpec) -> StagePlan:
        return StagePlan(f"verify {FILES[self.key]} in LiteRT: open loop and {spec.episodes} closed-loop episodes")

    def run(self, ctx: RunContext, progress: Progress) -> StageResult:
        artifact = ctx.artifacts[self.key]
        loaded, io = ctx.loaded, ctx.io
        assert loaded is not None and io is not None
        runtime = LiteRTRuntime(ctx.run_dir / artifact.path, io, name=self.key)
        thresholds = thresholds_for(self.key, ctx.spec)
        progress.set(0.05, "open loop")
        report = verify(loaded.predict, runtime.predict, ctx.observations, io.discrete, thresholds or Thresholds())
        if thresholds is None:
            report["passed"] = True
            report["failures"] = []
            report["thresholds"] = "none: int8 is measured and reported"
        progress.log(summarize(report))
        artifact.verification = report
        text = summarize(report)
        reference = original_closed_loop(ctx, progress)
        if reference is not None:
            progress.set(0.6, f"{LABELS[self.key]}: {ctx.spec.episodes} episodes")
            returns = episode_returns(runtime.predict, reference["env_id"], ctx.spec.episodes, ctx.spec.seed, progress.check)
            closed = summary(returns)
            closed["score"] = score(closed["mean"], reference["original"]["mean"], reference["random"]["mean"])
            closed["original_mean"] = reference["original"]["mean"]
            report["closed_loop"] = closed
            shown = f"{closed['score']:.3f}" if closed["score"] is not None else "n/a"
            text += f"; closed loop {closed['mean']:.1f} +- {closed['std']:.1f} vs original " \
                    f"{reference['original']['mean']:.1f} (score {shown})"
            progress.log(text)
            if thresholds is None and closed["score"] is not None and closed["score"] < 0.95:
                progress.warn(f"{LABELS[self.key]} does not act like the original in closed loop: score "
                              f"{closed['score']:.2f} (returns {closed['mean']:.1f} against {closed['original_mean']:.1f})")
            if thresholds is not None and closed["score"] is not None and closed["score"] < thresholds.min_score:
                report["passed"] = False
                report["failures"].append(f"closed loop: score {closed['score']:.3f} < {thresholds.min_score:g}")
        if not report["passed"]:
            raise VerificationFailed(ctx.run_dir / artifact.path, "verification failed: " + "; ".join(report["failures"]))
        return StageResult(text, artifact)
