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


def export_torchscript_bytes(loaded: LoadedModel) -> tuple[bytes, PolicyIO]:
    import torch

    from ..export.exact_policy import ExactPolicy, friendly_preprocessing

    module = ExactPolicy(loaded).eval()
    try:
        with warnings.catch_warnings(), torch.no_grad(), friendly_preprocessing():
            warnings.simplefilter("ignore")  # TracerWarnings about Python bools in torch.distributions
            traced = torch.jit.trace(module, module.example_inputs(), check_trace=False)
            frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
    except Exception as exc:  # noqa: BLE001 - tracing raises many kinds; name it on the stage's row
        raise ExportError(loaded.path, f"TorchScript export failed ({type(exc).__name__}: "
                                       f"{str(exc).splitlines()[0] if str(exc) else ''})") from exc
    buffer = io.BytesIO()
    torch.jit.save(frozen, buffer, _extra_files={POLICY_IO_ENTRY: module.io.dumps()})
    return buffer.getvalue(), module.io


def read_policy_io(path: Path) -> PolicyIO | None:
    """The I/O description stored in a TorchScript file by :func:`export_torchscript_bytes`, if any."""
    import torch

    files = {POLICY_IO_ENTRY: ""}
    torch.jit.load(str(path), map_location="cpu", _extra_files=files)
    return PolicyIO.from_json(json.loads(files[POLICY_IO_ENTRY])) if files[POLICY_IO_ENTRY] else None
