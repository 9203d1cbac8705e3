"""Run a conversion: one generator of events, for the CLI and the GUI alike.

:func:`execute` runs the stages in order and hands every event to ``emit``; :func:`run_pipeline`
runs it in a worker thread and yields the events as they come, so a caller can draw progress while
stages work. Setting ``cancel`` stops the run at the next check; a stage's unfinished outputs are
never left behind (they are written atomically), and ``run.json`` records how far it got.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from ..atomic import atomic_write_text
from ..errors import Cancelled, StudioError, VerificationFailed
from ..policy_io import PolicyIO
from .context import Artifact, Progress, RunContext
from .events import (
    Event,
    RunFinished,
    StageCancelled,
    StageFailed,
    StageFinished,
    StageSkipped,
    StageStarted,
)
from ..tflite.onnx2tf_job import Onnx2TfJob
from .cache import carried_forward, fingerprint, restore
from .run_folder import new_manifest, prepare_run_dir, read_manifest, write_manifest
from .spec import ConvertSpec
from .stages import Stage, stages_for
from .stages.reference import closed_loop_json


def execute(
    spec: ConvertSpec,
    emit: Callable[[Event], None],
    cancel: threading.Event | None = None,
    stages: list[Stage] | None = None,
    loaded: Any = None,
) -> RunFinished:
    """Run the stages; ``loaded`` is the model when the caller has already loaded (and so validated) it."""
    cancel = cancel or threading.Event()
    stages = stages if stages is not None else stages_for(spec.targets)
    run_dir = spec.run_dir()
    manifest = new_manifest(spec.command())
    manifest["options"] = {
        "targets": spec.targets,
        "seed": spec.seed,
        "samples": spec.samples,
        "rollout_steps": spec.rollout_steps,
        "episodes": spec.episodes,
        "max_episodes": spec.max_episodes,
        "thresholds": spec.thresholds.to_json(),
    }
    try:
        prepare_run_dir(run_dir, spec.model, spec.force)
    except StudioError as exc:
        emit(StageFailed("prepare", 0.0, exc))
        finished = RunFinished(None, "failed", manifest)
        emit(finished)
        return finished
    previous = read_manifest(run_dir)
    ctx = RunContext(spec=spec, run_dir=run_dir, loaded=loaded)
    if any(stage.name == "tflite" for stage in stages) and not _passed_before("tflite", previous):
        ctx.converter = Onnx2TfJob().start()
    try:
        status = _run_stages(stages, ctx, manifest, previous, emit, cancel)
    finally:
        if ctx.converter is not None:
            ctx.converter.close()
    manifest["artifacts"] = {key: artifact.to_json() for key, artifact in ctx.artifacts.items()}
    manifest["artifacts"].update(carried_forward(previous, ctx, {s["name"] for s in manifest["stages"]}))
    for note in ("environment", "environment_problem", "rollout", "calibration", "calibration_warning", "edgetpu"):
        if ctx.notes.get(note) is not None:
            manifest[note] = ctx.notes[note]
    closed_loop = closed_loop_json(ctx)
    if closed_loop is not None:
        manifest["closed_loop"] = closed_loop
    manifest["status"] = status
    write_manifest(run_dir, manifest)
    finished = RunFinished(run_dir, status, manifest)
    emit(finished)
    return finished


def _run_stages(
    stages: list[Stage],
    ctx: RunContext,
    manifest: dict[str, Any],
    previous: dict[str, Any] | None,
    emit: Callable[[Event], None],
    cancel: threading.Event,
) -> str:
    spec, run_dir = ctx.spec, ctx.run_dir
    status = "passed"
    blocked = False  # a stage that could not make its output stops the ones after it
    for stage in stages:
        if blocked:
            manifest["stages"].append({"name": stage.name, "status": "not run", "seconds": 0.0})
            continue
        plan = stage.plan(spec)
        emit(StageStarted(stage.name, plan.description, plan.outputs))
        progress = Progress(stage.name, emit, cancel)
        start = time.perf_counter()
        record: dict[str, Any] = {"name": stage.name}
        before = set(ctx.artifacts)
        if getattr(stage, "cacheable", False):
            record["fingerprint"] = fingerprint(stage.name, ctx)
            restored = restore(stage.name, record["fingerprint"], previous, ctx)
            if restored is not None:
                _restore(ctx, restored)
                record.update(status="cached", seconds=0.0, artifacts=[a.key for a in restored])
                earlier = next((s for s in previous["stages"] if s["name"] == stage.name), {})
                record["summary"] = earlier.get("summary", "")
                if earlier.get("verdict"):
                    record["verdict"] = earlier["verdict"]
                manifest["stages"].append(record)
                emit(StageSkipped(stage.name, "unchanged since the last run in this folder"))
                continue
        try:
            progress.check()
            result = stage.run(ctx, progress)
        except Cancelled:
            status = record["status"] = "cancelled"
            blocked = True
            emit(StageCancelled(stage.name, time.perf_counter() - start))
        except Exception as exc:  # noqa: BLE001 - a stage's failure is reported on its row, typed
            status = record["status"] = "failed"
            # An artifact that acts differently is reported, and the other artifacts are still checked.
            blocked = getattr(stage, "blocking", True) and not isinstance(exc, VerificationFailed)
            record["error"] = exc.line() if isinstance(exc, StudioError) else f"{type(exc).__name__}: {exc}"
            emit(StageFailed(stage.name, time.perf_counter() - start, exc))
        else:
            if result.skipped:
                record["status"], record["reason"] = "skipped", result.skipped
                emit(StageSkipped(stage.name, result.skipped))
            else:
                record["status"] = "passed"
                record["summary"] = result.summary
                if result.verdict != "passed":
                    record["verdict"] = result.verdict
                emit(StageFinished(stage.name, time.perf_counter() - start, result.summary, result.artifact,
                                   result.verdict))
        record["seconds"] = round(time.perf_counter() - start, 4)
        # What the stage made, and what it changed (a verification stage adds its report to an artifact).
        record["artifacts"] = sorted((set(ctx.artifacts) - before) | set(getattr(stage, "touches", ())))
        if progress.lines:
            _write_log(run_dir, stage.name, progress.lines)
        manifest["stages"].append(record)
        if stage.name == "load" and "model" in ctx.notes:
            manifest["model"] = ctx.notes["model"]
    return status


def _passed_before(stage: str, previous: dict[str, Any] | None) -> bool:
    """Whether the last run in this folder got ``stage`` done (it is then likely to be restored)."""
    return any(s.get("name") == stage and s.get("status") in ("passed", "cached") for s in (previous or {}).get("stages", []))


def _restore(ctx: RunContext, artifacts: list[Artifact]) -> None:
    for artifact in artifacts:
        ctx.artifacts[artifact.key] = artifact
        if artifact.key == "onnx":
            ctx.io = PolicyIO.from_json(artifact.details["io"])


def _write_log(run_dir: Path, stage: str, lines: list[str]) -> None:
    atomic_write_text(run_dir / "logs" / f"{stage}.log", "\n".join(lines) + "\n")


def run_pipeline(spec: ConvertSpec, cancel: threading.Event | None = None, loaded: Any = None) -> Iterator[Event]:
    """Yield the run's events as they happen. Closing the generator early cancels the run."""
    cancel = cancel or threading.Event()
    events: queue.Queue[Any] = queue.Queue()
    done = object()

    def work() -> None:
        try:
            execute(spec, events.put, cancel, loaded=loaded)
        finally:
            events.put(done)

    worker = threading.Thread(target=work, name="sb3-studio-pipeline", daemon=True)
    worker.start()
    try:
        while (event := events.get()) is not done:
            yield event
    finally:
        cancel.set()
        worker.join()
