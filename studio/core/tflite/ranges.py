"""int8 with activation ranges chosen otherwise than TFLite's min and max: percentiles, or the range
that minimises the mean squared error.

TFLite's calibration gives every activation tensor the range [min, max] of its values over the
calibration states: a few extreme values stretch every int8 step of that tensor. Here the onnx2tf child
runs TensorFlow's converter in calibrate-only mode on onnx2tf's SavedModel (the same converter onnx2tf
uses), runs the calibrated float model with every tensor kept, chooses per activation tensor a range
(``percentile``: without the rarest 0.01 % on each side; ``mse``: the range whose int8 rounding and
clipping err least), writes it in place of the calibrated min and max, and lets TensorFlow's quantiser
finish (biases, same-scale ops, per-channel weights). Input and output stay float32, as with onnx2tf's
int8: the graph between is fully integer.

At 8 bits the mean squared error almost never favours clipping: a clipped value costs its whole
excess, rounding only a 255th of the range, so min and max win unless fewer than about one value in
780,000 lies out (``best_range`` then returns min and max). Percentiles trade the rare values for the
rest's resolution; whether a policy gains is for the closed loop to say.

It runs in the child process only (it imports TensorFlow).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np

SAMPLE_VALUES = 200_000  # values per tensor the search looks at
PERCENTILE_TAIL = 1e-4  # share of values clipped on each side by the percentile ranges
TAILS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 2e-2, 5e-2)  # share of values clipped on each side, candidates


def best_range(values: np.ndarray) -> tuple[float, float]:
    """The [low, high] (0 inside, as TFLite needs) whose int8 rounding and clipping of ``values`` errs least."""
    values = np.asarray(values, np.float64).ravel()
    low0, high0 = float(min(values.min(), 0.0)), float(max(values.max(), 0.0))
    if high0 - low0 <= 0:
        return low0, high0
    best, best_error = (low0, high0), _error(values, low0, high0)
    for tail_low in TAILS:
        for tail_high in TAILS:
            low = min(float(np.quantile(values, tail_low)), 0.0) if low0 < 0 else 0.0
            high = max(float(np.quantile(values, 1 - tail_high)), 0.0) if high0 > 0 else 0.0
            if high - low <= 0:
                continue
            error = _error(values, low, high)
            if error < best_error:
                best, best_error = (low, high), error
    return best


def percentile_range(values: np.ndarray, tail: float = PERCENTILE_TAIL) -> tuple[float, float]:
    """[low, high] without the rarest ``tail`` of values on each side (0 inside)."""
    values = np.asarray(values, np.float64).ravel()
    return min(float(np.quantile(values, tail)), 0.0), max(float(np.quantile(values, 1 - tail)), 0.0)


def _error(values: np.ndarray, low: float, high: float) -> float:
    scale = (high - low) / 255.0
    zero = np.round(-128 - low / scale)
    q = np.clip(np.round(values / scale + zero), -128, 127)
    return float(np.mean(((q - zero) * scale - values) ** 2))


def _samples(inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    arrays = {name: np.load(path).astype(np.float32) for name, path in inputs.items()}
    count = min(len(a) for a in arrays.values())
    for k in range(count):
        yield {name: a[k:k + 1] for name, a in arrays.items()}


def quantize_with_ranges(request: dict[str, Any]) -> dict[str, Any]:
    """``request``: saved_model, inputs (name -> .npy in the graph's layout), per_tensor, method ("percentile"
    or "mse"), output (path). Returns per tensor the calibrated and the chosen range."""
    import tensorflow as tf
    from tensorflow.lite.python import convert
    from tensorflow.lite.tools import flatbuffer_utils

    converter = tf.lite.TFLiteConverter.from_saved_model(request["saved_model"])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: _samples(request["inputs"])
    converter._experimental_calibrate_only = True
    calibrated = converter.convert()
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(calibrated))
    subgraph = model.subgraphs[0]
    ranged = {i: t for i, t in enumerate(subgraph.tensors)
              if t.quantization is not None and t.quantization.min is not None and len(t.quantization.min) == 1}
    values = _tensor_values(calibrated, list(ranged), request["inputs"])
    chosen = {}
    for index, tensor in ranged.items():
        if index not in values:
            continue
        low, high = (best_range if request.get("method") == "mse" else percentile_range)(values[index])
        before = (float(tensor.quantization.min[0]), float(tensor.quantization.max[0]))
        tensor.quantization.min = np.array([low], np.float32)
        tensor.quantization.max = np.array([high], np.float32)
        chosen[tensor.name.decode() if isinstance(tensor.name, bytes) else tensor.name] = {"calibrated": before,
                                                                                          "chosen": (low, high)}
    edited = flatbuffer_utils.convert_object_to_bytearray(model)
    quantized = convert.mlir_quantize(edited, disable_per_channel=bool(request.get("per_tensor")))
    Path(request["output"]).write_bytes(quantized)
    return chosen


def _tensor_values(calibrated: bytes, indices: list[int], inputs: dict[str, str]) -> dict[int, np.ndarray]:
    """Every listed tensor's values over the calibration samples, from the calibrated float model."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(
        model_content=calibrated, experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    details = {d["name"]: d["index"] for d in interpreter.get_input_details()}
    collected: dict[int, list[np.ndarray]] = {i: [] for i in indices}
    for sample in _samples(inputs):
        for name, value in sample.items():
            index = details.get(f"serving_default_{name}:0")
            if index is None:
                index = next(iter(details.values()))
            interpreter.set_tensor(index, value)
        interpreter.invoke()
        for i in indices:
            try:
                collected[i].append(interpreter.get_tensor(i).ravel().copy())
            except ValueError:  # a tensor the interpreter did not keep
                collected.pop(i, None)
    rng = np.random.default_rng(0)
    values = {}
    for i, parts in collected.items():
        if parts:
            joined = np.concatenate(parts)
            values[i] = rng.choice(joined, SAMPLE_VALUES, replace=False) if len(joined) > SAMPLE_VALUES else joined
    return values
