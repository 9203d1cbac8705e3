"""The runtimes a model or run folder offers, and how a child process opens one of them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..pipeline.run_folder import checked_manifest
from ..policy_io import PolicyIO
from ..runtimes.base import RuntimeUnavailable

# Runtime name -> the run.json artifact it runs (None: the SB3 model itself).
RUNTIMES: dict[str, str | None] = {
    "sb3": None,
    "torch": None,
    "onnxruntime": "onnx",
    "litert-fp32": "tflite_fp32",
    "litert-fp16": "tflite_fp16",
    "litert-int8": "tflite_int8",
    "litert-int8-plain": "tflite_int8_plain",  # plain post-training int8, kept when int8 was repaired
    "edgetpu": "edgetpu",
    "torchscript": "torchscript",  # the TorchScript module, in Python (its C++ check runs in the pipeline)
    "tflite-micro": "tflite_micro",  # TFLite Micro's interpreter
    "ort-web": "web",  # onnxruntime-web under Node: the figures include the pipe to Node
}


@dataclass
class RuntimeTarget:
    name: str
    model: str  # the SB3 zip
    env_id: str | None = None
    vecnormalize: str | None = None
    artifact: str | None = None  # path of the artifact file, when the runtime runs one
    io: dict[str, Any] | None = None
    threads: int = 1

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @property
    def file_bytes(self) -> int | None:
        path = Path(self.artifact or self.model)
        return path.stat().st_size if path.is_file() else None


def targets_for_run(run_dir: Path, threads: int = 1, only: list[str] | None = None) -> list[RuntimeTarget]:
    manifest = checked_manifest(run_dir)
    model = manifest["model"]
    norm = (model.get("normalization") or {}).get("source")
    io = manifest["artifacts"].get("onnx", {}).get("io")
    env_id = (model.get("environment") or {}).get("id")
    targets = []
    for name, key in RUNTIMES.items():
        if only and name not in only:
            continue
        artifact = None
        if key is not None:
            if key == "edgetpu" and key not in manifest["artifacts"]:
                key = "tflite_int8"  # not compiled here: the Edge TPU target still says why it cannot run
            entry = manifest["artifacts"].get(key)
            if entry is None and name != "edgetpu":
                continue
            # A folder artifact names its model file ("model"); the Coral still says why it cannot run.
            artifact = str(run_dir / entry.get("model", entry["path"])) if entry else None
        # A repaired int8 model has its own I/O (an input transform on the float side): feed it through that.
        own_io = (entry or {}).get("io") if key is not None else None
        if key == "edgetpu":  # compiled from the kept int8 model: the same I/O
            own_io = own_io or manifest["artifacts"].get("tflite_int8", {}).get("io")
        targets.append(RuntimeTarget(name, model.get("resolved") or model["file"], env_id, norm, artifact,
                                     own_io or io, threads))
    return targets


def open_runtime(target: RuntimeTarget) -> Any:
    """Build the runtime in this (child) process; raises :class:`RuntimeUnavailable` when it cannot run."""
    if target.name in ("sb3", "torch"):
        from ..loading import load_model

        loaded = load_model(target.model, env_id=target.env_id, vecnormalize=target.vecnormalize)
        if target.name == "sb3":
            import torch

            torch.set_num_threads(target.threads)
            from ..runtimes.sb3 import SB3Runtime

            return SB3Runtime(loaded)
        from ..runtimes.torch_module import TorchRuntime

        return TorchRuntime(loaded, threads=target.threads)
    if target.name == "torchscript":
        from ..runtimes.torchscript import TorchScriptRuntime

        return TorchScriptRuntime(Path(target.artifact or ""), threads=target.threads)
    if target.name == "ort-web":
        from ..runtimes.ort_web import OrtWebRuntime

        return OrtWebRuntime(Path(target.artifact or ""))
    io = PolicyIO.from_json(target.io) if target.io else None
    if target.name == "tflite-micro" and io is not None:
        from ..runtimes.tflite_micro import TFLiteMicroRuntime

        return TFLiteMicroRuntime(Path(target.artifact or ""), io)
    if target.name == "onnxruntime":
        from ..runtimes.onnx import OnnxRuntime

        return OnnxRuntime(Path(target.artifact), io, threads=target.threads)
    from ..runtimes.litert import LiteRTRuntime, load_edgetpu_delegate

    edgetpu = target.name == "edgetpu"
    if target.artifact is None:
        if edgetpu:
            load_edgetpu_delegate()  # no library or no device: say that first, with how to install it
        raise RuntimeUnavailable(target.name, "this run has no int8 model for it", "convert with --to edgetpu")
    if io is None:
        raise RuntimeUnavailable(target.name, "the run has no ONNX I/O description", "convert the model again")
    return LiteRTRuntime(Path(target.artifact), io, threads=target.threads, name=target.name, edgetpu=edgetpu)
