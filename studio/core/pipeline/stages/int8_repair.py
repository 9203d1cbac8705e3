"""Stage: int8 that still plays. When plain post-training int8 drives the environment worse than the
threshold (closed-loop score), try repairs in order of cost and keep the first that passes, or the best
with an honest report. Which repairs, in which order and why comes from the plain model's diagnostics
(see :mod:`studio.core.int8.candidates`): recalibration, equalised input ranges (a float-side affine
folded into the first layer), MSE-optimal activation ranges, quantisation-aware distillation, a wider
student. Each attempt is quantised by onnx2tf, diagnosed tensor by tensor against its own float32 graph
and judged in closed loop like the plain model.

A repaired artifact is a different network: ``run.json`` says how it was made, why, what it cost in
seconds, its fidelity before and after and its diagnostics; the plain int8 model stays beside it as
``policy_int8_plain.tflite``. An artifact whose input is transformed on the float side carries that
transform in its PolicyIO (``run.json`` and the TFLite file's metadata).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from ...atomic import atomic_write_bytes
from ...closed_loop import describe
from ...errors import VerificationFailed
from ...int8.candidates import Candidate, plan_repairs
from ...observations import concat, rollout_observations
from ...policy_io import PolicyIO
from ...runtimes.litert import LiteRTRuntime
from ...tflite.metadata import with_policy_io
from ..context import Artifact, Progress, RunContext
from ..spec import ConvertSpec
from .base import StagePlan, StageResult
from .int8_attempt import quantise_and_judge
from .tflite import FILES

PLAIN_FILE = "policy_int8_plain.tflite"
STUDENT_FILE = "policy_int8_student.onnx"
WORKDIR = ".work-int8"
MIN_RANGE_GAIN = 0.1  # percentile ranges are tried when some activation range would shrink by this much


class Int8RepairStage:
    name = "int8-repair"
    cacheable = True
    blocking = False  # the int8 model is there either way: readiness and the Edge TPU still follow
    touches = ["tflite_int8"]

    def plan(self, spec: ConvertSpec) -> StagePlan:
        return StagePlan(f"keep int8 acting like the original (closed-loop score at least {spec.int8_min_score:g}): "
                         "recalibrate, equalise input ranges, tighten activation ranges, then distil with fake "
                         "quantisation, when plain int8 falls short")

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
        started = time.perf_counter()
        workdir = ctx.run_dir / WORKDIR
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir()
        attempts: list[dict[str, Any]] = [{"method": "plain post-training int8", "key": "plain", "score": closed["score"],
                                           "path": None, "report": before, "io": ctx.io, "seconds": 0.0,
                                           "diagnostics": artifact.details.get("diagnostics")}]
        try:
            best = self._try_repairs(ctx, progress, workdir, attempts, threshold)
            seconds = time.perf_counter() - started
            if best["path"] is not None:
                self._install(ctx, best, attempts, seconds)
            else:
                ctx.artifacts["tflite_int8"].details["repair"] = _repair_record(attempts, best, seconds)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        summary = "; ".join(f"{a['method']}: {a['score']:.3f}" for a in attempts)
        if not keeps_behaviour(best["report"].get("closed_loop") or {}, threshold):
            why = _why_not(best)
            raise VerificationFailed(ctx.run_dir / artifact.path,
                                     f"no repair reached a closed-loop score of {threshold:g} in {seconds:.0f} s "
                                     f"({summary}); kept the best{why}")
        return StageResult(f"repaired by {best['method']} in {seconds:.0f} s: score {closed['score']:.3f} -> "
                           f"{best['score']:.3f}; {best['why']}", ctx.artifacts["tflite_int8"])

    def _try_repairs(self, ctx: RunContext, progress: Progress, workdir: Path, attempts: list[dict[str, Any]],
                     threshold: float) -> dict[str, Any]:
        loaded, spec, io = ctx.loaded, ctx.spec, ctx.io
        assert loaded is not None and io is not None and ctx.calibration is not None
        plain = LiteRTRuntime(ctx.run_dir / ctx.artifacts["tflite_int8"].path, io)
        progress.set(0.02, "collecting the states plain int8 reaches")
        own = rollout_observations(loaded.make_env, plain.predict, spec.calibration_steps,
                                   spec.seed + 20_000, check=progress.check,
                                   progress=lambda f: progress.set(0.02 + 0.03 * f, "collecting the states plain int8 reaches"))
        states = concat([ctx.calibration.batch, own.batch])
        equaliser, equalisable = _equaliser(loaded, states)
        hidden, no_student = _student_shape(loaded)
        ladder = plan_repairs(attempts[0]["diagnostics"], hidden, equalisable, spec.student_hidden)
        progress.log("repairs, in order: " + "; ".join(f"{c.method} ({c.why})" for c in ladder))
        if equalisable is not None:
            progress.log(f"input ranges not equalised: {equalisable}")
        if no_student is not None:
            progress.log(f"no distillation: {no_student}")
        for index, candidate in enumerate(ladder):
            if candidate.ranges == "percentile" and not self._worth_clipping(candidate, attempts, progress):
                continue
            low, high = 0.05 + 0.9 * index / len(ladder), 0.05 + 0.9 * (index + 1) / len(ladder)
            attempt = self._attempt(ctx, progress, workdir / candidate.key, candidate, states, equaliser, (low, high))
            attempts.append(attempt)
            closed = attempt["report"].get("closed_loop") or {}
            progress.log(f"{candidate.method}: {describe(closed)} ({attempt['seconds']:.0f} s)")
            if keeps_behaviour(closed, threshold):
                return attempt
        return max(attempts, key=lambda a: a["score"])

    @staticmethod
    def _worth_clipping(candidate: Candidate, attempts: list[dict[str, Any]], progress: Progress) -> bool:
        """Percentile ranges only where the diagnostics of the same graph show a range they would shrink."""
        from ...int8.diagnostics import range_gain

        same_graph = next((a for a in reversed(attempts) if a.get("key") == "equalised"), None)
        gain, tensor = range_gain((same_graph or {}).get("diagnostics"))
        if gain < MIN_RANGE_GAIN:
            progress.log(f"{candidate.method}: not tried, no activation range of the equalised graph would shrink by "
                         f"{MIN_RANGE_GAIN:.0%} without its rarest values (at most {gain:.0%})")
            return False
        candidate.why = (f"without its rarest values, {tensor.split(';')[0]}'s int8 range shrinks by {gain:.0%}: "
                         "finer steps for the rest")
        return True

    def _attempt(self, ctx: RunContext, progress: Progress, workdir: Path, candidate: Candidate, states: Any,
                 equaliser: Any, share: tuple[float, float]) -> dict[str, Any]:
        from ...export.onnx_export import export_module_bytes

        loaded = ctx.loaded
        assert loaded is not None and ctx.io is not None
        started = time.perf_counter()
        workdir.mkdir(parents=True)
        how: dict[str, Any] = {}
        io: PolicyIO = ctx.io
        onnx = ctx.run_dir / ctx.artifacts["onnx"].path
        if candidate.equalise and equaliser is not None:
            module, how["equalised"] = equaliser
            io = module.io
        if candidate.student is not None:
            student, how["made_by"] = self._distil(ctx, progress, candidate, states, io, share)
            io, onnx = student.io, workdir / "student.onnx"
            onnx.write_bytes(export_module_bytes(student, loaded.path))
        elif candidate.equalise and equaliser is not None:
            onnx = workdir / "equalised.onnx"
            onnx.write_bytes(export_module_bytes(equaliser[0], loaded.path))
        attempt = quantise_and_judge(ctx, progress, workdir, candidate, onnx, io, states, share)
        attempt.update(how=how, seconds=time.perf_counter() - started)
        if candidate.student is not None:
            attempt["student_onnx"] = onnx
        return attempt

    def _distil(self, ctx: RunContext, progress: Progress, candidate: Candidate, states: Any, io: PolicyIO,
                share: tuple[float, float]) -> tuple[Any, dict[str, Any]]:
        from ...int8.distill import DistillConfig, distill

        loaded = ctx.loaded
        assert loaded is not None
        transform = io.inputs[0].transform if candidate.equalise else None
        config = DistillConfig(hidden=candidate.student, seed=ctx.spec.seed, transform=transform)
        closed = (ctx.artifacts["tflite_int8"].verification or {}).get("closed_loop") or {}
        span = closed.get("original_mean", 0.0) - closed.get("random_mean", 0.0)

        def score(mean_return: float) -> float | None:
            return (mean_return - closed["random_mean"]) / span if span else None

        low, high = share
        part = progress.within(low, high - 0.6 * (high - low))  # onnx2tf and the judgement take the rest

        def shown(fraction: float, message: str) -> None:
            part.set(fraction, f"{candidate.method}: {message}")

        return distill(loaded, np.asarray(states), config, progress=shown, check=progress.check, score=score)

    def _install(self, ctx: RunContext, best: dict[str, Any], attempts: list[dict[str, Any]], seconds: float) -> None:
        run = ctx.run_dir
        plain = ctx.artifacts["tflite_int8"]
        os.replace(run / plain.path, run / PLAIN_FILE)
        ctx.artifacts["tflite_int8_plain"] = Artifact("tflite_int8_plain", Path(PLAIN_FILE), plain.sha256, plain.bytes,
                                                      plain.verification,
                                                      {"note": "plain post-training int8",
                                                       **{k: v for k, v in plain.details.items() if k == "diagnostics"}})
        io: PolicyIO = best["io"]
        data = with_policy_io(Path(best["path"]).read_bytes(), io)
        atomic_write_bytes(run / FILES["tflite_int8"], data)
        details: dict[str, Any] = {
            "repaired": True,
            "note": "a repaired artifact is a different network from the original's exact graph",
            "method": best["method"],
            "why": best["why"],
            "calibration": best.get("calibration"),
            "fidelity_before": _fidelity(attempts[0]["report"]),
            "fidelity_after": _fidelity(best["report"]),
            "repair": _repair_record(attempts, best, seconds),
            "io": io.to_json(),
            "diagnostics": best.get("diagnostics"),
        }
        if io.transformed_inputs:
            details["host_transform"] = ("the host feeds clip((observation - offset) * scale, low, high) per feature, "
                                         "in float32 (io.inputs[].transform); PolicyIO.feeds does it")
        if best["how"].get("equalised"):
            details["equalised"] = best["how"]["equalised"]
        if "made_by" in best["how"]:
            details["made_by"] = best["how"]["made_by"]
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


def _equaliser(loaded: Any, states: Any) -> tuple[Any, str | None]:
    """The equalised graph and its description, or (None, why not)."""
    from ...int8.equalise import equalised

    try:
        return equalised(loaded, states), None
    except ValueError as exc:
        return None, str(exc)


def _student_shape(loaded: Any) -> tuple[list[int] | None, str | None]:
    """The original's acting layers for a student, or (None, why no student can be made)."""
    from gymnasium import spaces

    from ...int8.student import acting_layers

    if loaded.algo in ("RecurrentPPO", "MaskablePPO"):
        return None, f"a {loaded.algo} student would need the LSTM state or the masks: not made (yet)"
    space = loaded.observation_space
    if isinstance(space, spaces.Dict) or (isinstance(space, spaces.Box) and len(space.shape) > 2):
        return None, "MLP students are made for flat observations (not Dict or image observations)"
    return acting_layers(loaded)[0], None


def _repair_record(attempts: list[dict[str, Any]], best: dict[str, Any], seconds: float) -> dict[str, Any]:
    """What every attempt scored, why it was tried, what it cost, and where it still hurts."""
    rows = []
    for a in attempts:
        closed = (a.get("report") or {}).get("closed_loop") or {}
        rows.append({"method": a["method"], "why": a.get("why"), "score": a["score"],
                     "score_interval": closed.get("score_interval"), "verdict": closed.get("verdict"),
                     "episodes": closed.get("episodes"), "seconds": round(a.get("seconds", 0.0), 2),
                     "diagnostics": (a.get("diagnostics") or {}).get("summary")})
    return {"attempts": rows, "kept": best["method"], "seconds": round(seconds, 2)}


def _why_not(best: dict[str, Any]) -> str:
    lines = (best.get("diagnostics") or {}).get("summary") or []
    return f" ({best['method']}); its diagnostics: {lines[0]}" if lines else f" ({best['method']})"


def _fidelity(report: dict[str, Any]) -> dict[str, Any]:
    closed = report.get("closed_loop") or {}
    return {"closed_loop_score": closed.get("score"), "closed_loop_interval": closed.get("score_interval"),
            "closed_loop_verdict": closed.get("verdict"), "closed_loop_mean": closed.get("mean"),
            "closed_loop_std": closed.get("std"), "sources": report.get("sources")}
