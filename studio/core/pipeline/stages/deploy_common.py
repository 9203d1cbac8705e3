"""What the deploy stages (TorchScript, web, TFLite Micro, bundle) share: the studio's judgement for a
float or an int8 artifact, and a folder artifact built aside and moved into place in one rename."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any, Iterator

from ...verification import Thresholds
from ..context import Artifact, RunContext
from ..spec import ConvertSpec
from .tflite import move_dir, tree_bytes, tree_sha


def not_carried(ctx: RunContext, target: str) -> str | None:
    """Why ``target`` cannot take this policy, when it carries an action mask or an LSTM state from step to step
    (MaskablePPO, RecurrentPPO): the deploy targets' code passes only the observation. None when it can."""
    io = ctx.io if ctx.io is not None else None
    if io is None and ctx.loaded is not None:
        from ...export.families import policy_io_of

        io = policy_io_of(ctx.loaded)
    if io is not None and io.recurrent_state is not None:
        return (f"{target} does not carry a recurrent policy's LSTM state from step to step yet; its ONNX and "
                "TFLite graphs take the state as an input (lstm_state_in/lstm_state_out)")
    if io is not None and io.action_mask is not None:
        return (f"{target} does not pass a maskable policy's action mask yet; its ONNX and TFLite graphs take "
                "it as an input (action_mask)")
    return None


def judgement(kind: str, spec: ConvertSpec) -> Thresholds | None:
    """The bounds every artifact of this kind gets: float ones as TFLite float32, int8 ones as TFLite int8
    (``None``: measured and reported)."""
    from .verify_tflite import thresholds_for

    return thresholds_for("tflite_fp32" if kind == "float" else "tflite_int8", spec)


def judgement_json(kind: str, spec: ConvertSpec) -> dict[str, Any]:
    bounds = judgement(kind, spec)
    return bounds.to_json() if bounds is not None else {"measured_only": True}


@contextlib.contextmanager
def staged_folder(ctx: RunContext, name: str) -> Iterator[Path]:
    """A work folder that replaces ``RUN/name`` when the block ends well, and vanishes when it does not."""
    work = ctx.run_dir / f".work-{name}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        yield work
        move_dir(work, ctx.run_dir / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def folder_artifact(ctx: RunContext, key: str, name: str, verification: dict[str, Any] | None,
                    details: dict[str, Any]) -> Artifact:
    folder = ctx.run_dir / name
    artifact = Artifact(key, Path(name), tree_sha(folder), tree_bytes(folder), verification,
                        {"files": sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()),
                         **details})
    ctx.artifacts[key] = artifact
    return artifact
