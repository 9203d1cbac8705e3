"""Stage: the int8 policy for microcontrollers, ``tflite_micro/``: the model as a C array with its
header, the tensor arena it needs (measured) and an ops resolver listing exactly its ops, verified with
TensorFlow Lite Micro's own interpreter against the original (the int8 judgement, open and closed loop).

It starts from the int8 model the run keeps (repaired, when plain int8 fell short), so it acts as that
model does; ``run.json`` also says how often the two agree.
"""

from __future__ import annotations

from typing import Any

from ...atomic import atomic_write_bytes, atomic_write_text
from ...deploy import micro_sources
from ...deploy.micro import measure_arena, micro_model
from ...errors import StageError, VerificationFailed
from ...runtimes.litert import LiteRTRuntime
from ...runtimes.tflite_micro import TFLiteMicroRuntime
from ...verification import compare_actions
from ..context import Progress, RunContext
from ..spec import ConvertSpec
from .base import StagePlan, StageResult
from .deploy_common import folder_artifact, judgement, not_carried, staged_folder

FOLDER = "tflite_micro"
MODEL = "policy_micro.tflite"


class TFLiteMicroStage:
    name = "tflite-micro"
    cacheable = True
    blocking = False

    def plan(self, spec: ConvertSpec) -> StagePlan:
        return StagePlan(f"{FOLDER}/: the int8 model as a C array, its measured tensor arena and ops resolver; "
                         "verified with TFLite Micro's interpreter", [FOLDER])

    def run(self, ctx: RunContext, progress: Progress) -> StageResult:
        from ..assess import assess

        io = ctx.io_of("tflite_int8")  # a repaired int8 model may take its input transformed on the float side
        assert io is not None
        reason = not_carried(ctx, "TFLite Micro")
        if reason:
            return StageResult("", skipped=reason)
        int8 = ctx.artifacts["tflite_int8"]
        data, changes, ops = micro_model((ctx.run_dir / int8.path).read_bytes())
        for change in changes:
            progress.log(f"for TFLite Micro: {change}")
        with staged_folder(ctx, FOLDER) as work:
            atomic_write_bytes(work / MODEL, data)
            progress.set(0.05, "measuring the tensor arena")
            arena = measure_arena(work / MODEL)
            progress.log(f"tensor arena: {arena.minimum_bytes} bytes at least (declared {arena.size}); "
                         f"the recording allocator used {arena.recorded_bytes}")
            progress.log(arena.report)
            action_dtype = "int32" if changes else io.action.dtype
            atomic_write_text(work / micro_sources.HEADER,
                              micro_sources.model_header(io.to_json(), action_dtype, arena, int8.path.name))
            atomic_write_text(work / micro_sources.SOURCE, micro_sources.model_source(data))
            atomic_write_text(work / micro_sources.RESOLVER, micro_sources.resolver_header(ops))
            atomic_write_text(work / "README.md", micro_sources.readme(io.to_json(), action_dtype, ops, arena))
            try:
                runtime = TFLiteMicroRuntime(work / MODEL, io, arena_size=arena.size)
            except RuntimeError as exc:
                raise StageError(ctx.run_dir / FOLDER, f"TFLite Micro cannot run the model: {exc}") from None
            report, text = assess(ctx, runtime.predict, judgement("int8", ctx.spec), "TFLite Micro", progress,
                                  min_score=ctx.spec.int8_min_score)
            same = self._same_as_litert(ctx, runtime)
        details: dict[str, Any] = {"model": f"{FOLDER}/{MODEL}", "from": int8.path.as_posix(), "ops": ops,
                                   "changes": changes, "tensor_arena": arena.to_json(), "same_as_litert_int8": same}
        if io.transformed_inputs:
            details["io"] = io.to_json()
        artifact = folder_artifact(ctx, "tflite_micro", FOLDER, report, details)
        text += f"; arena {arena.size} B; ops {', '.join(ops)}"
        progress.log(f"TFLite Micro: {text}")
        if not report["passed"]:
            raise VerificationFailed(ctx.run_dir / FOLDER, "verification failed: " + "; ".join(report["failures"]))
        return StageResult(text, artifact)

    @staticmethod
    def _same_as_litert(ctx: RunContext, runtime: TFLiteMicroRuntime) -> dict[str, Any]:
        """How often TFLite Micro's reference kernels give what LiteRT gives from the same int8 model."""
        io = ctx.io_of("tflite_int8")
        assert io is not None
        litert = LiteRTRuntime(ctx.run_dir / ctx.artifacts["tflite_int8"].path, io)
        return {source.source: compare_actions(litert.predict(source.batch), runtime.predict(source.batch),
                                               io.discrete) for source in ctx.observations}
