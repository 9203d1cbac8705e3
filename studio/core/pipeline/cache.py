"""Do not run a stage again when nothing it depends on has changed since the last run in the folder.

A stage's fingerprint covers the model file, the normalisation statistics, every option of the run,
the studio's and converters' versions and the checksums of the artifacts it starts from. When the
previous ``run.json`` holds the same fingerprint for a stage that passed, and its artifacts are still
on disk with the same checksums, the runner restores them instead of running the stage.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from ..atomic import sha256_file
from .context import Artifact, RunContext
from .run_folder import versions


# Options that only one stage reads: changing where the Edge TPU compiler runs redoes only that stage.
STAGE_OPTIONS = {"edgetpu_compiler": "edgetpu", "edgetpu_device": "edgetpu", "coral_device": "edgetpu-device"}


def fingerprint(stage: str, ctx: RunContext) -> str:
    spec = ctx.spec
    options = {k: v for k, v in dataclasses.asdict(spec).items()
               if k not in ("out", "force", "targets") and STAGE_OPTIONS.get(k, stage) == stage}
    model = ctx.notes.get("model", {})
    norm = ctx.loaded.normalization if ctx.loaded else None
    payload = {
        "stage": stage,
        "model": model.get("sha256"),
        "environment": model.get("environment"),  # the recipe: zoo config, migration, wrappers
        "normalization": sha256_file(Path(norm.source)) if norm and norm.source and Path(norm.source).is_file() else None,
        "options": options,
        "versions": versions(),
        "upstream": {key: artifact.sha256 for key, artifact in sorted(ctx.artifacts.items())},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def restore(stage: str, print_: str, previous: dict[str, Any] | None, ctx: RunContext) -> list[Artifact] | None:
    """The artifacts of ``stage`` from the previous run, if it may be skipped; else None."""
    if not previous:
        return None
    record = next((s for s in previous.get("stages", []) if s.get("name") == stage), None)
    if not record or record.get("status") not in ("passed", "cached") or record.get("fingerprint") != print_:
        return None
    restored = []
    for key in record.get("artifacts", []):
        data = previous.get("artifacts", {}).get(key)
        if data is None:
            return None
        artifact = Artifact.from_json(key, data)
        path = ctx.run_dir / artifact.path
        if path.is_file() and sha256_file(path) != artifact.sha256:
            return None
        if not path.exists():
            return None
        restored.append(artifact)
    return restored


def carried_forward(previous: dict[str, Any] | None, ctx: RunContext, ran: set[str]) -> dict[str, dict[str, Any]]:
    """Artifacts an earlier run in this folder made from the same model file that no stage of this run
    (``ran``: their names) made, touched or restored (``--to onnx`` then ``--to torchscript``: the ONNX model
    stays listed), still on disk unchanged. Each keeps its own verification, marked ``from_earlier_run``."""
    model = ctx.notes.get("model", {}).get("sha256")
    if not previous or not model or previous.get("model", {}).get("sha256") != model:
        return {}
    touched = {key for record in previous.get("stages", []) if isinstance(record, dict) and record.get("name") in ran
               for key in record.get("artifacts") or []}
    carried = {}
    for key, data in previous.get("artifacts", {}).items():
        if key in ctx.artifacts or key in touched or not isinstance(data, dict):
            continue
        try:
            artifact = Artifact.from_json(key, data)
        except (KeyError, TypeError, ValueError):
            continue
        if artifact.path.is_absolute() or ".." in artifact.path.parts:
            continue
        path = ctx.run_dir / artifact.path
        if path.is_symlink() or not path.exists() or (path.is_file() and sha256_file(path) != artifact.sha256):
            continue
        carried[key] = {**data, "from_earlier_run": True}
    return carried
