"""Stage: verify one TFLite artifact in LiteRT against the original, open and closed loop.

Open loop: the actions on the sampled and visited observations, as for ONNX. Closed loop: K episodes
from the same seeds with the artifact driving the environment, against the original's returns.
float32 must meet the ONNX stage's bounds. float16 stores weights at half precision: within 1e-2 in
action units, and at least 98 % discrete agreement (it flips near-ties of Q-values: 98.8 % on the zoo's
DQN CartPole). Both must keep a closed-loop score of at least 0.99 where the environment can be made.
int8 is measured and reported: it is where policies break, and the int8 repair stage acts on it.
"""

from __future__ import annotations

from ...closed_loop import describe
from ...errors import VerificationFailed
from ...runtimes.litert import LiteRTRuntime
from ...verification import Thresholds
from ..context import Progress, RunContext
from ..spec import ConvertSpec
from .base import StagePlan, StageResult
from .tflite import FILES

LABELS = {"tflite_fp32": "float32", "tflite_fp16": "float16", "tflite_int8": "int8", "tflite_full_int8": "full int8"}


def thresholds_for(key: str, spec: ConvertSpec) -> Thresholds | None:
    """None: measured and reported, never failed on (int8, which the repair stage judges)."""
    if key == "tflite_fp32":
        return spec.thresholds
    if key == "tflite_fp16":
        # Judged against the original with its weights rounded to float16 (see float_reference); it also
        # flips near-ties of Q-values outside float32's own ties: 98.8 % on the zoo's DQN CartPole.
        return Thresholds(min_agreement=min(98.0, spec.thresholds.min_agreement),
                          error_multiple=spec.thresholds.error_multiple, max_abs_error=spec.thresholds.max_abs_error,
                          min_score=spec.thresholds.min_score)
    return None


def precision_of(key: str) -> str:
    return "float16" if key == "tflite_fp16" else "float32"


class VerifyTFLiteStage:
    cacheable = True
    blocking = False  # nothing after it needs what it makes
    def __init__(self, key: str) -> None:
        self.key = key
        self.touches = [key]
        self.name = f"verify-{key.replace('_', '-')}"

    def plan(self, spec: ConvertSpec) -> StagePlan:
        return StagePlan(f"verify {FILES[self.key]} in LiteRT: open loop and {spec.episodes} to {spec.max_episodes} "
                         "closed-loop episodes")

    def _min_score(self, spec: ConvertSpec) -> float:
        return spec.int8_min_score if self.key.endswith("int8") else spec.thresholds.min_score

    def run(self, ctx: RunContext, progress: Progress) -> StageResult:
        from ..assess import assess

        artifact = ctx.artifacts[self.key]
        io = ctx.io_of(self.key)  # a repaired int8 model may take its input transformed on the float side
        assert io is not None
        runtime = LiteRTRuntime(ctx.run_dir / artifact.path, io, name=self.key)
        report, text = assess(ctx, runtime.predict, thresholds_for(self.key, ctx.spec), LABELS[self.key], progress,
                              precision_of(self.key), min_score=self._min_score(ctx.spec))
        artifact.verification = report
        progress.log(text)
        closed = report.get("closed_loop") or {}
        if self.key.endswith("int8") and closed.get("verdict") in ("failed", "inconclusive"):
            progress.warn(f"{LABELS[self.key]}, measured before any repair: {describe(closed)}")
        if not report["passed"] and self.key == "tflite_fp16" and _only_error_failures(report):
            repaired = self._split_first_layer(ctx, progress, report)
            if repaired is not None:
                report, text = repaired
        if not report["passed"]:
            raise VerificationFailed(ctx.run_dir / artifact.path, "verification failed: " + "; ".join(report["failures"]))
        if thresholds_for(self.key, ctx.spec) is None:  # int8: figures, not a verdict
            judged = "judged after repair" if self.key == "tflite_int8" else "no bound for int8 in and out"
            return StageResult(f"measured; {judged}: {text}", ctx.artifacts[self.key], verdict="measured")
        return StageResult(text, ctx.artifacts[self.key])

    def _split_first_layer(self, ctx: RunContext, progress: Progress, before: dict) -> tuple[dict, str] | None:
        """float16 with its first layer as two float16 halves (see export.split_first_layer)."""
        import hashlib
        import os
        import shutil

        from ...export.families import exact_module
        from ...export.onnx_export import export_module_bytes
        from ...export.split_first_layer import split_first_layer
        from ...loading import load_model
        from ...tflite.onnx2tf_job import Onnx2TfJob, prepare
        from ..assess import assess
        from ..context import Artifact

        spec = ctx.spec
        loaded = load_model(spec.model, env_id=spec.env_id, vecnormalize=spec.vecnormalize, trust=spec.trust,
                              env_module=spec.env_module)
        layer = split_first_layer(loaded.policy)
        if layer is None or ctx.io is None:
            return None
        progress.warn(f"float16 misses its bound ({'; '.join(before['failures'])}): trying the first layer "
                      f"({layer}) as two float16 halves")
        workdir = ctx.run_dir / ".work-fp16"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir()
        try:
            (workdir / "policy.onnx").write_bytes(export_module_bytes(exact_module(loaded, for_tflite=True), loaded.path))
            plan = prepare((workdir / "policy.onnx").resolve(), workdir.resolve(), ctx.io, int8=False)
            Onnx2TfJob().run(plan, lambda line: None, progress.check, workdir / "onnx2tf.log")
            candidate = plan.outputs["tflite_fp16"]
            runtime = LiteRTRuntime(candidate, ctx.io, name=self.key)
            report, text = assess(ctx, runtime.predict, thresholds_for(self.key, spec), LABELS[self.key], progress,
                                  precision_of(self.key), min_score=self._min_score(spec))
            if not report["passed"]:
                progress.log(f"split first layer: {text}: not kept")
                return None
            old = ctx.artifacts[self.key]
            os.replace(candidate, ctx.run_dir / old.path)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        data = (ctx.run_dir / old.path).read_bytes()
        ctx.artifacts[self.key] = Artifact(self.key, old.path, hashlib.sha256(data).hexdigest(), len(data), report, {
            "repaired": True,
            "method": f"first layer ({layer}) as two float16 halves, hi + lo",
            "fidelity_before": {"sources": before["sources"], "failures": before["failures"]},
            "bytes_before": old.bytes,
        })
        return report, text + f" (first layer split: {old.bytes} -> {len(data)} bytes)"


def _only_error_failures(report: dict) -> bool:
    """The float16 failures are action errors, not disagreements or a closed loop gone wrong."""
    return bool(report["failures"]) and all("max error" in failure for failure in report["failures"])
