"""Stage: the device bundle, ``bundle/`` (contract ``sb3-studio-bundle/1``): the TFLite models (and the
Edge TPU one when it was compiled), the single-file runner, golden observation/action pairs and the
bounds the studio judged them by. Verified by running the bundle's own ``check`` here, with nothing of
the studio on its path.
"""

from __future__ import annotations

from pathlib import Path

from ...deploy.bundle import FILES, golden_arrays, run_check, write_bundle
from ...errors import StageError, VerificationFailed
from ...runtimes.litert import LiteRTRuntime
from ..context import Progress, RunContext
from ..spec import ConvertSpec
from .base import StagePlan, StageResult
from .deploy_common import (
    folder_artifact,
    judgement,
    judgement_json,
    not_carried,
    staged_folder,
)
from .reference import float_reference

FOLDER = "bundle"
CHECK_CALLS = 1000


class BundleStage:
    name = "bundle"
    cacheable = True
    blocking = False

    def plan(self, spec: ConvertSpec) -> StagePlan:
        return StagePlan(f"{FOLDER}/: the TFLite models, sb3_runner.py, golden observations and manifest.json; "
                         "checked by the bundle's own runner", [FOLDER])

    def run(self, ctx: RunContext, progress: Progress) -> StageResult:
        loaded, io = ctx.loaded, ctx.io
        assert loaded is not None and io is not None
        reason = not_carried(ctx, "the device bundle")
        if reason:
            return StageResult("", skipped=reason)
        present = {key: ctx.artifacts[key] for key in FILES if key in ctx.artifacts}
        if "tflite_fp32" not in present and "tflite_int8" not in present:
            raise StageError(ctx.run_dir, "the bundle needs the TFLite models, and none was made")
        progress.set(0.05, "golden observations")
        studio = {key: LiteRTRuntime(ctx.run_dir / artifact.path, ctx.io_of(key) or io).predict
                  for key, artifact in present.items() if key != "edgetpu"}
        golden, float_bounds = golden_arrays(ctx.observations, float_reference(ctx), judgement("float", ctx.spec),
                                             studio, io.dict_observation)
        sources = [source.source for source in ctx.observations]
        model = ctx.notes.get("model", {})
        description = {"algorithm": loaded.algo, "env_id": loaded.env_id, "source": Path(ctx.spec.model).name,
                       "sha256": model.get("sha256")}
        bounds = {"float": float_bounds, "int8": judgement_json("int8", ctx.spec)}
        with staged_folder(ctx, FOLDER) as work:
            write_bundle(work, ctx.run_dir, present, description, io.to_json(), golden, sources, bounds)
            progress.set(0.3, "running the bundle's check")
            code, report = run_check(work, calls=CHECK_CALLS)
        if "results" not in report:
            raise StageError(ctx.run_dir / FOLDER, f"the bundle's check did not run: {report.get('error')}")
        artifact = folder_artifact(ctx, "bundle", FOLDER, {"check": report, "exit_code": code,
                                                           "passed": code == 0}, {"format": "sb3-studio-bundle/1"})
        parts = []
        for result in report["results"]:
            line = f"{result['artifact']} {result['status']}"
            if result["status"] != "unavailable":
                line += f" (p50 {result['latency_us']['p50']:.1f} us, raw {result['raw_latency_us']['p50']:.1f} us)"
            parts.append(line)
            progress.log(f"bundle check: {line}" + (f": {result.get('reason')}" if result.get("reason") else ""))
        text = "check: " + ", ".join(parts)
        if code != 0:
            raise VerificationFailed(ctx.run_dir / FOLDER, "the bundle's check failed: " + "; ".join(
                r.get("reason", "") for r in report["results"] if r["status"] == "failed"))
        return StageResult(text, artifact)
