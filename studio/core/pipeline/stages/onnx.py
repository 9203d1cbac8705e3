"""Stage: export the exact-action ONNX graph and verify it in ONNX Runtime."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ...atomic import atomic_write_bytes
from ...errors import VerificationFailed
from ...export import DEFAULT_OPSET
from ...runtimes.onnx import OnnxRuntime
from ..assess import assess
from ..context import Artifact, Progress, RunContext
from ..spec import ConvertSpec
from .base import StagePlan, StageResult

ONNX_FILE = "policy.onnx"


class OnnxStage:
    cacheable = True
    name = "onnx"

    def plan(self, spec: ConvertSpec) -> StagePlan:
        return StagePlan(f"export {ONNX_FILE} (opset {DEFAULT_OPSET}) and verify it in ONNX Runtime", [ONNX_FILE])

    def run(self, ctx: RunContext, progress: Progress) -> StageResult:
        loaded = ctx.loaded
        assert loaded is not None
        from ...export.onnx_export import export_onnx_bytes

        progress.set(0.05, "exporting")
        data, io = export_onnx_bytes(loaded, DEFAULT_OPSET)
        ctx.io = io
        progress.set(0.4, "verifying in ONNX Runtime")
        runtime = OnnxRuntime(data, io)
        report, text = assess(ctx, runtime.predict, ctx.spec.thresholds, "ONNX", progress, closed_loop=False)
        progress.log(text)
        atomic_write_bytes(ctx.run_dir / ONNX_FILE, data)
        artifact = Artifact(
            key="onnx",
            path=Path(ONNX_FILE),
            sha256=hashlib.sha256(data).hexdigest(),
            bytes=len(data),
            verification=report,
            details={"opset": DEFAULT_OPSET, "io": io.to_json()},
        )
        ctx.artifacts["onnx"] = artifact
        if not report["passed"]:
            raise VerificationFailed(ctx.run_dir / ONNX_FILE, "verification failed: " + "; ".join(report["failures"]))
        return StageResult(text, artifact)
