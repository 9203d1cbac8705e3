"""Stage: the exact-action module as TorchScript, verified in Python and from C++ against libtorch.

``torchscript/`` holds ``policy.pt`` (traced, frozen, optimised for inference; its I/O description
inside), ``policy_check.cpp`` (the C++ program the studio runs: a usage example), ``build.sh`` (the
studio's own build command) and example observations. The C++ check runs the compiled program on the
verification observations; without a C++ compiler it says it is not available, and why.
"""

from __future__ import annotations

import shutil
from typing import Any

import numpy as np

from ...atomic import atomic_write_bytes, atomic_write_text
from ...deploy import cpp
from ...deploy.tensor_file import write_tensor
from ...deploy.torchscript import export_torchscript_bytes
from ...errors import VerificationFailed
from ...runtimes.base import RuntimeUnavailable
from ...runtimes.torchscript import TorchScriptRuntime
from ...verification import summarize, verify
from ..context import Progress, RunContext
from ..spec import ConvertSpec
from .base import StagePlan, StageResult
from .deploy_common import folder_artifact, judgement, not_carried, staged_folder
from .reference import float_reference

FOLDER = "torchscript"
MODEL = "policy.pt"
EXAMPLES = 16  # example observations written beside the program


class TorchScriptStage:
    name = "torchscript"
    cacheable = True
    blocking = False  # nothing after it needs what it makes

    def plan(self, spec: ConvertSpec) -> StagePlan:
        return StagePlan(f"trace, freeze and optimise the exact-action module ({FOLDER}/{MODEL}); verify it in "
                         "Python and from C++ against the libtorch of the torch wheel", [FOLDER])

    def run(self, ctx: RunContext, progress: Progress) -> StageResult:
        from ..assess import assess

        loaded = ctx.loaded
        assert loaded is not None
        reason = not_carried(ctx, "TorchScript")
        if reason:
            return StageResult("", skipped=reason)
        progress.set(0.05, "tracing")
        data, io, how = export_torchscript_bytes(loaded)
        progress.log(f"TorchScript: {how}")
        bounds = judgement("float", ctx.spec)
        with staged_folder(ctx, FOLDER) as work:
            atomic_write_bytes(work / MODEL, data)
            atomic_write_text(work / "policy_io.json", io.dumps() + "\n")
            shutil.copyfile(cpp.SOURCE, work / cpp.SOURCE.name)
            atomic_write_text(work / "build.sh", cpp.build_script())
            (work / "build.sh").chmod(0o755)
            self._examples(ctx, work, io)
            runtime = TorchScriptRuntime(work / MODEL)
            report, text = assess(ctx, runtime.predict, bounds, "TorchScript", progress)
            progress.log(f"Python: {text}")
            details: dict[str, Any] = {"model": f"{FOLDER}/{MODEL}", "io": io.to_json(), "made": how,
                                       "cpp_check": self._cpp_check(ctx, work, io, progress)}
        artifact = folder_artifact(ctx, "torchscript", FOLDER, report, details)
        cpp_check = details["cpp_check"]
        failures = report["failures"] + (cpp_check["verification"]["failures"] if cpp_check["status"] == "failed" else [])
        if failures:
            raise VerificationFailed(ctx.run_dir / FOLDER, "verification failed: " + "; ".join(failures))
        if cpp_check["status"] == "passed":
            text += "; C++ (libtorch): passed on the same observations"
        else:
            text += f"; C++ check not available: {cpp_check['reason']}"
        return StageResult(text, artifact)

    @staticmethod
    def _examples(ctx: RunContext, work: Any, io: Any) -> None:
        """A few verification observations as ``.tensor`` files, so the C++ example runs as it is."""
        feeds = io.feeds(_first(ctx.observations[-1].batch, EXAMPLES))
        for spec in io.inputs:
            suffix = "" if len(io.inputs) == 1 else f".{spec.name}"
            write_tensor(work / f"observations{suffix}.tensor", feeds[spec.name])

    def _cpp_check(self, ctx: RunContext, work: Any, io: Any, progress: Progress) -> dict[str, Any]:
        loaded = ctx.loaded
        assert loaded is not None
        progress.set(0.7, "C++: building the checker (cached after the first time)")
        try:
            checker = cpp.build_checker(progress.check, progress.log)
        except RuntimeUnavailable as exc:
            progress.warn(f"C++ check not available: {exc.reason} ({exc.hint})")
            return {"status": "unavailable", "reason": exc.reason, "hint": exc.hint}
        progress.log(f"C++ checker: {checker.binary} ({'cached' if checker.cached else f'built in {checker.build_seconds:.0f} s'})")
        progress.set(0.85, "C++: running the checker on the verification observations")
        latencies = []

        def predict(batch: Any) -> np.ndarray:
            feeds = io.feeds(batch)
            actions, info = cpp.run_checker(checker, work / MODEL, [feeds[s.name] for s in io.inputs], progress.check)
            latencies.append(info.get("mean_latency_us"))
            return io.action_from(actions)

        report = verify(float_reference(ctx), predict, ctx.observations, judgement("float", ctx.spec))
        progress.log(f"C++ (libtorch): {summarize(report)}")
        return {"status": "passed" if report["passed"] else "failed", "verification": report,
                "mean_latency_us_one_observation": latencies[-1] if latencies else None, **checker.to_json()}


def _first(batch: Any, n: int) -> Any:
    return {k: v[:n] for k, v in batch.items()} if isinstance(batch, dict) else batch[:n]
