"""Write a loaded policy as an ONNX graph (``observation`` in, ``action`` out)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

from ..errors import ExportError
from . import DEFAULT_OPSET
from ..loading import LoadedModel
from ..policy_io import ONNX_METADATA_KEY, PolicyIO
from .exact_policy import friendly_preprocessing
from .families import exact_module, policy_io_of

__all__ = ["export_module_bytes", "export_onnx_bytes", "policy_io_of", "read_policy_io"]


def export_onnx_bytes(loaded: LoadedModel, opset: int = DEFAULT_OPSET) -> tuple[bytes, PolicyIO]:
    """The ONNX model as bytes (with the policy's I/O description in its metadata), and that description."""
    module = exact_module(loaded)
    return export_module_bytes(module, loaded.path, opset), module.io


def export_module_bytes(module: Any, source: Path, opset: int = DEFAULT_OPSET) -> bytes:
    """Export a policy graph (a module with ``io`` and ``example_inputs()``) to ONNX bytes."""
    import onnx
    import torch

    names = [spec.name for spec in module.io.graph_inputs]
    outputs = module.io.output_names
    # A batch axis first on every input and output; a recurrent graph steps one environment (batch 1),
    # its state [2, layers, 1, hidden] as the issue of RecurrentPPO's export asks, static for onnx2tf.
    axes = {} if module.io.recurrent_state is not None else {name: {0: "batch"} for name in [*names, *outputs]}
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad(), friendly_preprocessing():
            warnings.simplefilter("ignore")  # TracerWarnings about Python bools in torch.distributions
            torch.onnx.export(
                module,
                module.example_inputs(),
                buffer,
                input_names=names,
                output_names=outputs,
                dynamic_axes=axes,
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
    except Exception as exc:  # noqa: BLE001 - the exporter raises many kinds; name it on the stage's row
        raise ExportError(source, f"ONNX export failed ({type(exc).__name__}: {str(exc).splitlines()[0]})") from exc
    model = onnx.load_from_string(buffer.getvalue())
    entry = model.metadata_props.add()
    entry.key, entry.value = ONNX_METADATA_KEY, module.io.dumps()
    model.producer_name = "sb3-studio"
    onnx.checker.check_model(model)
    return model.SerializeToString()


def read_policy_io(path: Path) -> PolicyIO | None:
    """The I/O description stored in an ONNX file by :func:`export_onnx_bytes`, if any."""
    import json

    import onnx

    model = onnx.load(str(path), load_external_data=False)
    for entry in model.metadata_props:
        if entry.key == ONNX_METADATA_KEY:
            return PolicyIO.from_json(json.loads(entry.value))
    return None
