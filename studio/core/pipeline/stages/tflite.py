"""Stage: ONNX to SavedModel and TFLite (float32, float16, int8) through onnx2tf in a child process.

int8 is calibrated on observations the original policy visits (rollouts seeded apart from the
verification rollouts). When the environment cannot be made here it falls back to samples from the
observation space, and says so loudly in the log and in ``run.json``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from ...atomic import atomic_write_bytes
from ...carried import sampled_for
from ...errors import EnvironmentUnavailableError, StageError
from ...observations import rollout_observations
from ...tflite.metadata import with_policy_io
from ...tflite.onnx2tf_job import Onnx2TfJob, prepare, write_inputs
from ..context import Artifact, Progress, RunContext
from ..spec import ConvertSpec
from .base import StagePlan, StageResult
from .reference import start_reference

FILES = {
    "tflite_fp32": "policy_float32.tflite",
    "tflite_fp16": "policy_float16.tflite",
    "tflite_int8": "policy_int8.tflite",
    "tflite_full_int8": "policy_full_int8.tflite",
}
SAVED_MODEL = "saved_model"
WORKDIR = ".work-tflite"
LOG = "logs/onnx2tf.log"
CALIBRATION_SEED_OFFSET = 10_000


# Targets made from TFLite models: the TFLite models they need.
NEEDS = {"edgetpu": ("tflite_int8",), "tflite_micro": ("tflite_int8",), "bundle": ("tflite_fp32", "tflite_int8")}


def wanted(targets: list[str]) -> list[str]:
    keys = [t.replace("-", "_") for t in targets]
    return [k for k in FILES if k in keys or any(k in NEEDS.get(t, ()) for t in keys)]


def move_dir(source: Path, target: Path) -> None:
    """Replace ``target`` by ``source`` with renames only: never a half-copied folder."""
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(source, target)
    shutil.rmtree(old, ignore_errors=True)


class TFLiteConvertStage:
    cacheable = True
    name = "tflite"

    def plan(self, spec: ConvertSpec) -> StagePlan:
        keys = wanted(spec.targets)
        int8 = any("int8" in k for k in keys)
        how = f", int8 calibrated on {spec.calibration_steps} visited observations" if int8 else ""
        return StagePlan(f"onnx2tf in a child process: SavedModel and TFLite{how}", [SAVED_MODEL, *(FILES[k] for k in keys)])

    def _calibration(self, ctx: RunContext, progress: Progress) -> dict:
        loaded, spec = ctx.loaded, ctx.spec
        assert loaded is not None
        seed = spec.seed + CALIBRATION_SEED_OFFSET
        try:
            loaded.env_recipe()
        except EnvironmentUnavailableError as exc:
            reason = f"calibrated on {spec.calibration_steps} SAMPLED observations, not visited ones: {exc.problem}"
            progress.warn(reason)
            ctx.notes["calibration_warning"] = reason
            observations = sampled_for(loaded, spec.calibration_steps, seed)
        else:
            observations = rollout_observations(
                loaded.make_env, loaded.predict, spec.calibration_steps, seed, check=progress.check,
                progress=lambda f: progress.set(0.1 * f, "rolling out the original for calibration"),
            )
        ctx.notes["calibration"] = {"source": observations.source, **observations.detail}
        ctx.calibration = observations
        batch = observations.batch
        if ctx.io is not None and (ctx.io.carried or ctx.io.recurrent_state is not None):
            from ...carried import calibration_inputs

            return calibration_inputs(loaded, ctx.io, batch)  # masks, episode starts, LSTM states too
        return batch if isinstance(batch, dict) else {"observation": batch}

    def run(self, ctx: RunContext, progress: Progress) -> StageResult:
        onnx = ctx.artifacts.get("onnx")
        if onnx is None:
            raise StageError(ctx.run_dir, "the TFLite stage needs the ONNX artifact")
        keys = wanted(ctx.spec.targets)
        int8 = any("int8" in k for k in keys)
        io = ctx.io
        workdir = ctx.run_dir / WORKDIR
        shutil.rmtree(workdir, ignore_errors=True)
        try:
            # onnx2tf rewrites its input file (onnxsim): give it a copy, never the verified artifact.
            workdir.mkdir(parents=True)
            from ...export.families import write_tflite_source

            write_tflite_source(ctx.loaded, ctx.run_dir / onnx.path, workdir / "policy.onnx")
            plan = prepare((workdir / "policy.onnx").resolve(), workdir.resolve(), io, int8)
            calibration = self._calibration(ctx, progress) if int8 else {}
            write_inputs(plan, io, calibration)
            (ctx.run_dir / LOG).parent.mkdir(exist_ok=True)
            progress.set(0.12, "onnx2tf running")
            lines = 0

            def log(line: str) -> None:
                nonlocal lines
                lines += 1
                progress.log(line)
                progress.set(min(0.95, 0.12 + lines / 400), "onnx2tf running")

            # The original's closed-loop returns need only the CPU the child leaves free: compute them now.
            reference = start_reference(ctx, progress.cancelled)
            try:
                job = ctx.converter or Onnx2TfJob()
                ctx.converter = None
                job.run(plan, log, progress.check, ctx.run_dir / LOG)
            finally:
                reference.join()
            diagnostics = self._diagnose(ctx, plan, keys, progress)
            for key in keys:
                # The policy's I/O description travels inside the file, as in the ONNX file.
                atomic_write_bytes(ctx.run_dir / FILES[key], with_policy_io(plan.outputs[key].read_bytes(), io))
                ctx.artifacts[key] = _artifact(ctx.run_dir, key)
                if key in diagnostics:
                    ctx.artifacts[key].details["diagnostics"] = diagnostics[key]
            move_dir(_gather_saved_model(plan.saved_model, workdir / SAVED_MODEL), ctx.run_dir / SAVED_MODEL)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        ctx.artifacts["saved_model"] = Artifact("saved_model", Path(SAVED_MODEL), tree_sha(ctx.run_dir / SAVED_MODEL),
                                                tree_bytes(ctx.run_dir / SAVED_MODEL))
        sizes = ", ".join(f"{FILES[k]} {ctx.artifacts[k].bytes / 1024:.0f} KiB" for k in keys)
        return StageResult(sizes)


    @staticmethod
    def _diagnose(ctx: RunContext, plan: Any, keys: list[str], progress: Progress) -> dict[str, Any]:
        """Where int8 hurts, tensor by tensor, against onnx2tf's float32 model of the same graph."""
        from .int8_attempt import diagnose_into

        found = {}
        for key in (k for k in keys if "int8" in k):
            progress.set(0.96, f"int8 diagnostics ({FILES[key]})")
            assert ctx.io is not None and ctx.calibration is not None
            found[key] = diagnose_into(ctx, plan.outputs[key], plan.outputs["tflite_fp32"], ctx.io,
                                       ctx.calibration.batch, progress, FILES[key])
        return found


def _gather_saved_model(out: Path, folder: Path) -> Path:
    """onnx2tf writes the SavedModel's files beside the .tflite files; collect them in one folder."""
    folder.mkdir()
    for name in ("saved_model.pb", "fingerprint.pb", "variables", "assets"):
        if (out / name).exists():
            os.replace(out / name, folder / name)
    return folder


def _artifact(run_dir: Path, key: str) -> Artifact:
    data = (run_dir / FILES[key]).read_bytes()
    return Artifact(key, Path(FILES[key]), hashlib.sha256(data).hexdigest(), len(data))


def tree_sha(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
