"""Stage: int8 that still plays. When plain post-training int8 drives the environment worse than the
threshold (closed-loop score), try repairs in order of cost and keep the first that passes, or the best
with an honest report:

1. recalibrate on the states the original visits plus the states the int8 policy itself reaches;
2. the same calibration, per-tensor instead of per-channel;
3. quantisation-aware distillation: a student (the original's shape by default) trained with fake
   quantisation towards the original's preferences, DAgger-style, then quantised.

A repaired artifact is a different network: ``run.json`` says how it was made and its fidelity before
and after; the plain int8 model stays beside it as ``policy_int8_plain.tflite``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ...atomic import atomic_write_bytes
from ...closed_loop import describe
from ...errors import VerificationFailed
from ...observations import concat, rollout_observations
from ...runtimes.litert import LiteRTRuntime
from ...tflite.onnx2tf_job import Onnx2TfJob, prepare, write_inputs
from ..context import Artifact, Progress, RunContext
from ..spec import ConvertSpec
from .base import StagePlan, StageResult
from .tflite import FILES

PLAIN_FILE = "policy_int8_plain.tflite"
STUDENT_FILE = "policy_int8_student.onnx"
WORKDIR = ".work-int8"


class Int8RepairStage:
    name = "int8-repair"
    cacheable = True
    blocking = False  # the int8 model is there either way: readiness and the Edge TPU still follow
    touches = ["tflite_int8"]

    def plan(self, spec: ConvertSpec) -> StagePlan:
        return StagePlan(f"keep int8 acting like the original (closed-loop score at least {spec.int8_min_score:g}): "
                         "recalibrate, then distil with fake quantisation, when plain int8 falls short")

    def run(self, ctx: RunContext, progress: Progress) -> StageResult:
        artifact = ctx.artifacts["tflite_int8"]
        before = artifact.verification or {}
        closed = before.get("closed_loop")
        threshold = ctx.spec.int8_min_score
        if closed is None:
            return StageResult("", skipped="no closed-loop score: the environment cannot be made here")
        if closed["score"] is None:
            return StageResult("", skipped="the original is no better than a random policy here: no score to keep")
        if keeps_behaviour(closed, threshold):
            return StageResult(f"plain int8 keeps the behaviour: {describe(closed)}")
        if not ctx.spec.repair_int8:
            raise VerificationFailed(ctx.run_dir / artifact.path,
                                     f"int8 closed-loop score {closed['score']:.3f} < {threshold:g} (repair turned off)")
        progress.warn(f"plain int8 scores {closed['score']:.3f} in closed loop (< {threshold:g}): trying repairs")
        workdir = ctx.run_dir / WORKDIR
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir()
        attempts: list[dict[str, Any]] = [{"method": "plain post-training int8", "score": closed["score"],
                                           "path": None, "report": before}]
        try:
            best = self._try_repairs(ctx, progress, workdir, attempts, threshold)
            if best["path"] is not None:
                self._install(ctx, best, attempts)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        summary = "; ".join(f"{a['method']}: {a['score']:.3f}" for a in attempts)
        if not keeps_behaviour(best["report"].get("closed_loop") or {}, threshold):
            raise VerificationFailed(ctx.run_dir / artifact.path,
                                     f"no repair reached a closed-loop score of {threshold:g} ({summary}); kept the best")
        return StageResult(f"repaired by {best['method']}: score {closed['score']:.3f} -> {best['score']:.3f}",
                           ctx.artifacts["tflite_int8"])

    def _try_repairs(self, ctx: RunContext, progress: Progress, workdir: Path, attempts: list[dict[str, Any]],
                     threshold: float) -> dict[str, Any]:
        loaded, spec, io = ctx.loaded, ctx.spec, ctx.io
        assert loaded is not None and io is not None and ctx.calibration is not None
        plain = LiteRTRuntime(ctx.run_dir / ctx.artifacts["tflite_int8"].path, io)
        progress.set(0.05, "collecting the states plain int8 reaches")
        own = rollout_observations(loaded.make_env, plain.predict, spec.calibration_steps,
                                   spec.seed + 20_000, check=progress.check)
        states = concat([ctx.calibration.batch, own.batch])
        onnx = ctx.run_dir / ctx.artifacts["onnx"].path
        repairs = [("recalibrated on original- and int8-visited states, per-channel", onnx, False, 0.15),
                   ("recalibrated on original- and int8-visited states, per-tensor", onnx, True, 0.3)]
        for index, (method, source, per_tensor, share) in enumerate(repairs):
            attempts.append(self._attempt(ctx, progress, workdir / f"a{index}", method, source, states, per_tensor, share))
            if keeps_behaviour(attempts[-1]["report"].get("closed_loop") or {}, threshold):
                return attempts[-1]
        try:
            attempts.append(self._distil(ctx, progress, workdir, states))
        except ValueError as exc:  # image or Dict observations: no student for them (yet)
            progress.warn(f"quantisation-aware distillation not possible: {exc}")
        return max(attempts, key=lambda a: a["score"])

    def _distil(self, ctx: RunContext, progress: Progress, workdir: Path, states: Any) -> dict[str, Any]:
        from ...export.onnx_export import export_module_bytes
        from ...int8.distill import DistillConfig, distill

        loaded = ctx.loaded
        assert loaded is not None
        config = DistillConfig(hidden=ctx.spec.student_hidden, seed=ctx.spec.seed)
        student, how = distill(loaded, np.asarray(states), config,
                               progress=lambda f, m: progress.set(0.45 + 0.35 * f, m), check=progress.check)
        student_onnx = workdir / "student.onnx"
        student_onnx.write_bytes(export_module_bytes(student, loaded.path))
        attempt = self._attempt(ctx, progress, workdir / "student", "quantisation-aware distillation",
                                student_onnx, states, False, 0.85)
        attempt["how"] = how
        attempt["student_onnx"] = student_onnx
        return attempt

    def _attempt(self, ctx: RunContext, progress: Progress, workdir: Path, method: str, onnx: Path, states: Any,
                 per_tensor: bool, share: float) -> dict[str, Any]:
        from ..assess import assess

        io = ctx.io
        assert io is not None
        progress.set(share, f"{method}: onnx2tf")
        workdir.mkdir(parents=True)
        if onnx == ctx.run_dir / ctx.artifacts["onnx"].path:
            from ...export.families import write_tflite_source

            write_tflite_source(ctx.loaded, onnx, workdir / "policy.onnx")
        else:
            shutil.copyfile(onnx, workdir / "policy.onnx")
        plan = prepare((workdir / "policy.onnx").resolve(), workdir.resolve(), io, int8=True, per_tensor=per_tensor)
        if io.carried or io.recurrent_state is not None:
            from ...carried import calibration_inputs

            write_inputs(plan, io, calibration_inputs(ctx.loaded, io, states))  # masks, starts, LSTM states
        else:
            write_inputs(plan, io, states if isinstance(states, dict) else {"observation": states})
        Onnx2TfJob().run(plan, lambda line: None, progress.check, workdir / "onnx2tf.log")
        runtime = LiteRTRuntime(plan.outputs["tflite_int8"], io)
        report, text = assess(ctx, runtime.predict, None, method, progress, min_score=ctx.spec.int8_min_score)
        progress.log(f"{method}: {text}")
        closed = report.get("closed_loop") or {}
        return {"method": method, "score": closed.get("score") if closed.get("score") is not None else -np.inf,
                "path": plan.outputs["tflite_int8"], "report": report,
                "calibration": {"states": int(len(states)), "per_tensor": per_tensor}}

    def _install(self, ctx: RunContext, best: dict[str, Any], attempts: list[dict[str, Any]]) -> None:
        run = ctx.run_dir
        plain = ctx.artifacts["tflite_int8"]
        os.replace(run / plain.path, run / PLAIN_FILE)
        ctx.artifacts["tflite_int8_plain"] = Artifact("tflite_int8_plain", Path(PLAIN_FILE), plain.sha256, plain.bytes,
                                                      plain.verification, {"note": "plain post-training int8"})
        data = Path(best["path"]).read_bytes()
        atomic_write_bytes(run / FILES["tflite_int8"], data)
        details: dict[str, Any] = {
            "repaired": True,
            "note": "a repaired artifact is a different network from the original's exact graph",
            "method": best["method"],
            "calibration": best.get("calibration"),
            "fidelity_before": _fidelity(attempts[0]["report"]),
            "fidelity_after": _fidelity(best["report"]),
            "attempts": [{"method": a["method"], "score": a["score"]} for a in attempts],
        }
        if "how" in best:
            details["made_by"] = best["how"]
            student = Path(best["student_onnx"]).read_bytes()
            atomic_write_bytes(run / STUDENT_FILE, student)
            ctx.artifacts["int8_student_onnx"] = Artifact("int8_student_onnx", Path(STUDENT_FILE),
                                                          hashlib.sha256(student).hexdigest(), len(student),
                                                          details={"note": "the distilled student, before int8"})
        ctx.artifacts["tflite_int8"] = Artifact("tflite_int8", Path(FILES["tflite_int8"]), hashlib.sha256(data).hexdigest(),
                                                len(data), best["report"], details)


def keeps_behaviour(closed: dict[str, Any], threshold: float) -> bool:
    """Good enough to keep: not worse than the noise floor beyond the tolerance, by the confidence interval,
    or, where more episodes could not decide, a score at least the threshold."""
    verdict = closed.get("verdict")
    return verdict == "passed" or (verdict == "inconclusive" and (closed.get("score") or 0.0) >= threshold)


def _fidelity(report: dict[str, Any]) -> dict[str, Any]:
    closed = report.get("closed_loop") or {}
    return {"closed_loop_score": closed.get("score"), "closed_loop_interval": closed.get("score_interval"),
            "closed_loop_verdict": closed.get("verdict"), "closed_loop_mean": closed.get("mean"),
            "closed_loop_std": closed.get("std"), "sources": report.get("sources")}
