"""One int8 repair attempt: quantise a float graph with onnx2tf, diagnose it against its own float32
graph, and judge it in closed loop exactly as the plain int8 model was judged."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ...int8.candidates import Candidate
from ...policy_io import PolicyIO
from ...runtimes.litert import LiteRTRuntime
from ...tflite.onnx2tf_job import Onnx2TfJob, prepare, write_inputs
from ..context import Progress, RunContext


def calibration_inputs(ctx: RunContext, io: PolicyIO, states: Any) -> dict[str, np.ndarray]:
    """Calibration arrays per graph input: the states as the graph takes them (through any float-side
    transform; with the masks, episode starts and LSTM states of the families that carry them)."""
    if io.carried or io.recurrent_state is not None:
        from ...carried import calibration_inputs as carried_inputs

        return carried_inputs(ctx.loaded, io, states)
    if io.transformed_inputs:
        return io.feeds(states)
    return states if isinstance(states, dict) else {"observation": states}


def diagnose_into(ctx: RunContext, int8: Path, float32: Path, io: PolicyIO, calibration: Any,
                  progress: Progress, label: str) -> dict[str, Any]:
    """Diagnostics of ``int8`` against ``float32`` on the calibration and visited states; a failure to
    diagnose is reported in the result (and the log), never hidden and never fatal."""
    from ...int8.diagnostics import diagnose

    sources = {"calibration": calibration}
    visited = next((s for s in ctx.observations if s.source == "rollout"), None)
    if visited is not None:
        sources["visited"] = visited.batch
    try:
        report = diagnose(int8, float32, io, sources)
    except Exception as exc:  # noqa: BLE001 - diagnostics explain; they must not take the conversion down
        progress.warn(f"{label}: no int8 diagnostics ({type(exc).__name__}: {exc})")
        return {"error": f"{type(exc).__name__}: {exc}", "summary": []}
    for line in report["summary"]:
        progress.log(f"{label} diagnostics: {line}")
    return report


def quantise_and_judge(ctx: RunContext, progress: Progress, workdir: Path, candidate: Candidate, onnx: Path,
                       io: PolicyIO, states: Any, share: tuple[float, float]) -> dict[str, Any]:
    from ..assess import assess

    low, high = share
    progress.set(high - 0.6 * (high - low), f"{candidate.method}: onnx2tf")
    source = workdir / "policy.onnx"
    if onnx == ctx.run_dir / ctx.artifacts["onnx"].path:  # the verified graph (a recurrent one with a 2-D state)
        from ...export.families import write_tflite_source

        write_tflite_source(ctx.loaded, onnx, source)
    elif onnx.resolve() != source.resolve():
        shutil.copyfile(onnx, source)
    plan = prepare(source.resolve(), workdir.resolve(), io, int8=True, ranges=candidate.ranges)
    calibration = calibration_inputs(ctx, io, states)
    write_inputs(plan, io, calibration)
    Onnx2TfJob().run(plan, lambda line: None, progress.check, workdir / "onnx2tf.log")
    path = plan.outputs["tflite_int8"]
    diagnostics = diagnose_into(ctx, path, plan.outputs["tflite_fp32"], io, states, progress, candidate.method)
    runtime = LiteRTRuntime(path, io)
    judged = progress.within(high - 0.5 * (high - low), high)
    report, text = assess(ctx, runtime.predict, None, candidate.method, judged, min_score=ctx.spec.int8_min_score)
    progress.log(f"{candidate.method}: {text}")
    closed = report.get("closed_loop") or {}
    score = closed.get("score")
    return {"method": candidate.method, "key": candidate.key, "why": candidate.why,
            "score": score if score is not None else -np.inf, "path": path, "report": report, "io": io,
            "diagnostics": diagnostics,
            "calibration": {"states": int(len(next(iter(calibration.values())))),
                            "activation_ranges": candidate.ranges, "weights": "per-channel"}}
