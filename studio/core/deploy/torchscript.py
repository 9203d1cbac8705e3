"""The exact-action policy as TorchScript: traced, frozen and optimised for inference.

The module is :class:`~studio.core.export.exact_policy.ExactPolicy` (VecNormalize and the action
post-processing inside, as in the ONNX graph), so C++ code that loads it gets the environment's action
from the raw observation. Its I/O description travels inside the file as ``policy_io.json``.
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

from ..errors import ExportError
from ..loading import LoadedModel
from ..policy_io import PolicyIO

POLICY_IO_ENTRY = "policy_io.json"


def export_torchscript_bytes(loaded: LoadedModel) -> tuple[bytes, PolicyIO, str]:
    """The saved module, its I/O description, and how it was optimised.

    ``optimize_for_inference`` turns convolutions into MKLDNN ops whose constants TorchScript cannot
    load back (image policies): then the frozen module (with freezing's own optimisations) is kept.
    """
    import torch

    from ..export.exact_policy import ExactPolicy, friendly_preprocessing

    module = ExactPolicy(loaded).eval()
    extra = {POLICY_IO_ENTRY: module.io.dumps()}
    try:
        with warnings.catch_warnings(), torch.no_grad(), friendly_preprocessing():
            warnings.simplefilter("ignore")  # TracerWarnings about Python bools in torch.distributions
            traced = torch.jit.trace(module, module.example_inputs(), check_trace=False)
            optimized = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
            data = _saved(optimized, extra)
            how = "traced, frozen, optimize_for_inference"
            if not _loads(data):
                data = _saved(torch.jit.freeze(torch.jit.trace(module, module.example_inputs(), check_trace=False)),
                              extra)
                how = "traced, frozen (optimize_for_inference made MKLDNN constants TorchScript cannot load)"
    except Exception as exc:  # noqa: BLE001 - tracing raises many kinds; name it on the stage's row
        raise ExportError(loaded.path, f"TorchScript export failed ({type(exc).__name__}: "
                                       f"{str(exc).splitlines()[0] if str(exc) else ''})") from exc
    return data, module.io, how


def _saved(module: object, extra: dict[str, str]) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.jit.save(module, buffer, _extra_files=extra)
    return buffer.getvalue()


def _loads(data: bytes) -> bool:
    import torch

    try:
        torch.jit.load(io.BytesIO(data), map_location="cpu")
    except RuntimeError:
        return False
    return True


def read_policy_io(path: Path) -> PolicyIO | None:
    """The I/O description stored in a TorchScript file by :func:`export_torchscript_bytes`, if any."""
    import torch

    files = {POLICY_IO_ENTRY: ""}
    torch.jit.load(str(path), map_location="cpu", _extra_files=files)
    return PolicyIO.from_json(json.loads(files[POLICY_IO_ENTRY])) if files[POLICY_IO_ENTRY] else None
