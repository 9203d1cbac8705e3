"""Stage: verify one TFLite artifact in LiteRT against the original, open and closed loop.

Open loop: the actions on the sampled and visited observations, as for ONNX. Closed loop: K episodes
from the same seeds with the artifact driving the environment, against the original's returns.
float32 must meet the ONNX stage's bounds. float16 stores weights at half precision: within 1e-2 in
action units, and at least 98 % discrete agreement (it flips near-ties of Q-values: 98.8 % on the zoo's
DQN CartPole). Both must keep a closed-loop score of at least 0.99 where the environment can be made.
int8 is measured and reported: it is where policies break, and the int8 repair stage acts on it.
"""

from __future__ import annotations

from ...errors import VerificationFailed
from ...runtimes.litert import LiteRTRuntime
from ...verification import Thresholds
from ..context import Progress, RunContext
from ..spec import ConvertSpec
from .base import StagePlan, StageResult
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
        from ..assess import assess

        artifact = ctx.artifacts[self.key]
        assert ctx.io is not None
        runtime = LiteRTRuntime(ctx.run_dir / artifact.path, ctx.io, name=self.key)
        report, text = assess(ctx, runtime.predict, thresholds_for(self.key, ctx.spec), LABELS[self.key], progress)
        artifact.verification = report
        progress.log(text)
        closed = report.get("closed_loop") or {}
        if self.key.endswith("int8") and closed.get("score") is not None and closed["score"] < ctx.spec.int8_min_score:
            progress.warn(f"{LABELS[self.key]} does not act like the original in closed loop: score "
                          f"{closed['score']:.2f} (returns {closed['mean']:.1f} against {closed['original_mean']:.1f})")
        if not report["passed"]:
            raise VerificationFailed(ctx.run_dir / artifact.path, "verification failed: " + "; ".join(report["failures"]))
        return StageResult(text, artifact)
