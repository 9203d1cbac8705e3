"""int8 quantisation of onnx2tf's SavedModel with calibration samples of the exact input shapes.

onnx2tf's own int8 (``-oiqt -cind``) slices every calibration array along its first axis with the
batch size of the model's first input. That fits inputs whose first axis is the batch, not the LSTM
state ``[2, layers, 1, hidden]`` of a recurrent policy. For such graphs the onnx2tf child runs this
after onnx2tf has written the float SavedModel: the same converter settings as onnx2tf's (int8 with
float input and output, then int8 input and output), with a representative dataset that takes
sample ``k`` of every input whole. It runs in the child process only (it imports TensorFlow).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np


def _samples(inputs: dict[str, str], unbatched: dict[str, list[int]]) -> Iterator[dict[str, Any]]:
    """Sample ``k`` of every input: rows ``k:k+1`` of batched inputs, ``a[k]`` (in the graph's shape) of the others."""
    import tensorflow as tf

    arrays = {name: np.load(path).astype(np.float32) for name, path in inputs.items()}
    count = min(len(a) for a in arrays.values())
    for k in range(count):
        yield {name: tf.convert_to_tensor(a[k].reshape(unbatched[name]) if name in unbatched else a[k:k + 1])
               for name, a in arrays.items()}


def quantize(request: dict[str, Any]) -> None:
    """``request``: saved_model, inputs (name -> .npy), unbatched (name -> the graph's shape of one sample),
    per_tensor, outputs (key -> path)."""
    import tensorflow as tf

    def converter() -> Any:
        conv = tf.lite.TFLiteConverter.from_saved_model(request["saved_model"])
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.SELECT_TF_OPS]
        conv._experimental_disable_per_channel = bool(request.get("per_tensor"))
        conv.representative_dataset = lambda: _samples(request["inputs"], request.get("unbatched", {}))
        return conv

    outputs = request["outputs"]
    if "tflite_int8" in outputs:
        Path(outputs["tflite_int8"]).write_bytes(converter().convert())
        print("sb3-studio: int8 (float input and output) written", flush=True)
    if "tflite_full_int8" in outputs:
        conv = converter()
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
        Path(outputs["tflite_full_int8"]).write_bytes(conv.convert())
        print("sb3-studio: full int8 (int8 input and output) written", flush=True)
