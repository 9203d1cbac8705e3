"""Stages: Edge TPU readiness (offline, always) and Edge TPU compilation (when the compiler is here).

Readiness lists the int8 model's ops and tensors and flags what the Edge TPU cannot map, before any
compiler runs. Compilation runs ``edgetpu_compiler`` in a child process, or on a compile host over SSH
(``--edgetpu-device``), keeps ``*_edgetpu.tflite`` and parses the compiler's log into a per-op table and
its memory figures. Without the compiler the stage is skipped with the reason and how to install it:
nothing is pretended.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from ...atomic import atomic_write_text
from ...edgetpu.availability import find_compiler
from ...edgetpu.compiler_log import parse_compiler_log
from ...edgetpu.ops import check_readiness
from ...edgetpu.tflite_graph import read_graph
from ...errors import Cancelled, StageError
from ..context import Artifact, Progress, RunContext
from ..spec import ConvertSpec
from .base import StagePlan, StageResult

EDGETPU_FILE = "policy_edgetpu.tflite"
COMPILER_LOG = "logs/edgetpu_compiler.log"
TIMEOUT_SECONDS = 600


class EdgeTPUReadinessStage:
    name = "edgetpu-readiness"
    cacheable = True
    blocking = False  # nothing after it needs what it makes
    touches = ["tflite_int8"]

    def plan(self, spec: ConvertSpec) -> StagePlan:
        return StagePlan("list the int8 model's ops and flag what the Edge TPU cannot map (offline)")

    def run(self, ctx: RunContext, progress: Progress) -> StageResult:
        artifact = ctx.artifacts["tflite_int8"]
        ops, subgraphs, dynamic = read_graph(ctx.run_dir / artifact.path)
        report = check_readiness(ops, subgraphs, dynamic)
        artifact.details["edgetpu_readiness"] = report.to_json()
        for issue in report.issues:
            progress.warn(f"Edge TPU: op {issue.op_index} {issue.op or ''}: {issue.problem}".replace("op None ", ""))
        return StageResult(report.summary)


class EdgeTPUCompileStage:
    name = "edgetpu"
    cacheable = True
    blocking = False  # nothing after it needs what it makes

    def plan(self, spec: ConvertSpec) -> StagePlan:
        if spec.edgetpu_device:
            return StagePlan(f"compile policy_int8.tflite on the compile host {spec.edgetpu_device} (over SSH)",
                             [EDGETPU_FILE])
        status = find_compiler(spec.edgetpu_compiler)
        where = status.path if status.available else "(not found: the stage will be skipped)"
        return StagePlan(f"compile policy_int8.tflite with {where}", [EDGETPU_FILE])

    def run(self, ctx: RunContext, progress: Progress) -> StageResult:
        device = ctx.spec.edgetpu_device
        status = None if device else find_compiler(ctx.spec.edgetpu_compiler)
        if status is not None and not status.available:
            ctx.notes["edgetpu"] = {"available": False, "reason": status.reason, "install": status.hint}
            return StageResult("", skipped=f"not available: {status.reason}; to install: {status.hint}")
        source = ctx.run_dir / ctx.artifacts["tflite_int8"].path
        workdir = ctx.run_dir / ".work-edgetpu"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir()
        try:
            if status is None:
                text, where = self._compile_remote(device, source, workdir, progress), f"{device} (over SSH)"
            else:
                text, where = self._compile(status.path, source, workdir, progress), str(status.path)
            atomic_write_text(ctx.run_dir / COMPILER_LOG, text)
            report = parse_compiler_log(text)
            for line in report.errors:
                progress.warn(line)
            produced = workdir / f"{source.stem}_edgetpu.tflite"
            if not report.succeeded or not produced.is_file():
                raise StageError(ctx.run_dir / COMPILER_LOG, "the Edge TPU compiler failed: "
                                 + ("; ".join(report.errors) or "no output model"))
            os.replace(produced, ctx.run_dir / EDGETPU_FILE)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        data = (ctx.run_dir / EDGETPU_FILE).read_bytes()
        details = {"compiler": report.to_json(), "compiler_path": where}
        if "io" in ctx.artifacts["tflite_int8"].details:  # a repaired int8 model's own I/O (a float-side transform)
            details["io"] = ctx.artifacts["tflite_int8"].details["io"]
        ctx.artifacts["edgetpu"] = Artifact("edgetpu", Path(EDGETPU_FILE), hashlib.sha256(data).hexdigest(), len(data),
                                            details=details)
        mapped = report.ops_mapped if report.ops_mapped is not None else "?"
        return StageResult(f"{mapped} of {report.total_ops or '?'} ops on the Edge TPU; "
                           f"on-chip {report.on_chip_memory_bytes or 0} B, off-chip {report.off_chip_memory_bytes or 0} B")

    @staticmethod
    def _compile_remote(name: str, source: Path, workdir: Path, progress: Progress) -> str:
        from ...devices.remote_compile import compile_host, compile_remote
        from ...devices.store import DeviceStore

        store = DeviceStore()
        device = compile_host(store, name)
        progress.set(0.1, f"edgetpu_compiler running on {name}")
        return compile_remote(device, store, source, workdir, timeout=TIMEOUT_SECONDS, cancel=progress.cancelled)

    @staticmethod
    def _compile(compiler: Path, source: Path, workdir: Path, progress: Progress) -> str:
        progress.set(0.1, "edgetpu_compiler running")
        child = subprocess.Popen([str(compiler), "-s", "-o", str(workdir), str(source)], cwd=workdir,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
        try:
            for waited in range(TIMEOUT_SECONDS * 10):
                try:
                    out, _ = child.communicate(timeout=0.1)
                    return out
                except subprocess.TimeoutExpired:
                    progress.check()
            raise StageError(compiler, f"the Edge TPU compiler did not finish in {TIMEOUT_SECONDS} s")
        except (Cancelled, StageError):
            child.kill()
            child.wait()
            raise
