"""LiteRT (TFLite) on the CPU, and the Edge TPU through LiteRT's delegate.

A TFLite policy has a static batch of one, so a batch is run one observation at a time. Models with
integer inputs or outputs (full int8) are quantised and dequantised here with their own parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..policy_io import STATE_IN, PolicyIO
from .base import RuntimeUnavailable

EDGETPU_LIBRARY = "libedgetpu.so.1"
EDGETPU_HINT = (
    "install the Edge TPU runtime (libedgetpu1-std from Coral's apt repository, "
    "see https://coral.ai/docs/accelerator/get-started/) and plug in a Coral device"
)


def _interpreter_class() -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise RuntimeUnavailable("litert", "ai-edge-litert is not installed", "pip install ai-edge-litert") from None
    return Interpreter


def load_edgetpu_delegate() -> Any:
    """The Edge TPU delegate, or :class:`RuntimeUnavailable` saying why it cannot be loaded here."""
    try:
        from ai_edge_litert.interpreter import load_delegate
    except ImportError:
        raise RuntimeUnavailable("edgetpu", "ai-edge-litert is not installed", "pip install ai-edge-litert") from None
    try:
        return load_delegate(EDGETPU_LIBRARY)
    except (OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RuntimeUnavailable("edgetpu", f"cannot load {EDGETPU_LIBRARY}: {reason}", EDGETPU_HINT) from None


class LiteRTRuntime:
    def __init__(self, path: Path, io: PolicyIO, threads: int = 1, name: str = "litert", edgetpu: bool = False) -> None:
        interpreter_class = _interpreter_class()
        delegates = [load_edgetpu_delegate()] if edgetpu else None
        self.name = name
        self.io = io
        self.interpreter = interpreter_class(
            model_path=str(path), num_threads=threads, experimental_delegates=delegates
        )
        self.interpreter.allocate_tensors()
        details = self.interpreter.get_input_details()
        by_name = {d["name"]: d for d in details}
        # Per input: (name, tensor index, dtype, quantisation (scale, zero) or None, NCHW->NHWC).
        self._inputs = []
        for position, spec in enumerate(io.graph_inputs):
            detail = by_name.get(f"serving_default_{spec.name}:0") or details[position]
            self._inputs.append((spec.name, detail["index"], detail["dtype"], _quantization(detail), spec.channels_first))
        outputs = _outputs_by_name(self.interpreter, io.output_names)
        # Per output, in io.output_names order: (tensor index, quantisation or None).
        self._outputs = [(outputs[name]["index"], _quantization(outputs[name])) for name in io.output_names] \
            if all(name in outputs for name in io.output_names) else \
            [(d["index"], _quantization(d)) for d in self.interpreter.get_output_details()[:1]]
        self._output = self._outputs[0]
        self._carrier = None
        if io.recurrent_state is not None:
            from ..carried import StateCarrier

            self._state_shape = tuple(by_name.get(f"serving_default_{STATE_IN}:0", details[-1])["shape"])
            self._carrier = StateCarrier(io, self._step)

    def _step(self, feeds: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """One step of a recurrent graph: (action, state out). The state goes in and out in the file's own
        shape (``[2 * layers, hidden]`` for the studio's TFLite files): a reshape, the same numbers."""
        action = self._invoke(feeds, 0)
        index, quantization = self._outputs[1]
        return action, _dequantize(self.interpreter.get_tensor(index), quantization).reshape(feeds[STATE_IN].shape)

    def reset(self) -> None:
        if self._carrier is not None:
            self._carrier.reset()

    def _invoke(self, feeds: dict[str, np.ndarray], row: int) -> np.ndarray:
        set_tensor = self.interpreter.set_tensor
        for name, index, dtype, quantization, channels_first in self._inputs:
            # The LSTM state has no batch rows; it goes in in the file's own shape (the same numbers).
            value = feeds[name].reshape(self._state_shape) if name == STATE_IN else feeds[name][row:row + 1]
            if channels_first:
                value = value.transpose(0, 2, 3, 1)  # the graph's NCHW; onnx2tf's TFLite takes NHWC
            if quantization is not None:
                scale, zero, low, high = quantization
                value = np.clip(np.round(value / scale + zero), low, high)
            set_tensor(index, np.ascontiguousarray(value, dtype=dtype))
        self.interpreter.invoke()
        index, quantization = self._output
        return _dequantize(self.interpreter.get_tensor(index), quantization)

    def predict(self, observation: Any) -> np.ndarray:
        feeds = self.io.feeds(observation)
        if self._carrier is not None:
            return self.io.action_from(self._carrier.actions(feeds))
        rows = len(next(iter(feeds.values())))
        if rows == 1:
            return self.io.action_from(self._invoke(feeds, 0))
        return self.io.action_from(np.concatenate([self._invoke(feeds, row) for row in range(rows)]))


def _outputs_by_name(interpreter: Any, names: list[str]) -> dict[str, dict[str, Any]]:
    """The serving signature's outputs by their ONNX names. onnx2tf's files keep those names; a model
    quantised from the SavedModel (:mod:`studio.core.tflite.quantize`) has ``output_0``, ``output_1``...
    in the ONNX outputs' order."""
    try:
        outputs = interpreter.get_signature_runner("serving_default").get_output_details()
    except (ValueError, KeyError):
        return {}
    if not all(name in outputs for name in names) and all(f"output_{i}" in outputs for i in range(len(names))):
        return {name: outputs[f"output_{i}"] for i, name in enumerate(names)}
    return outputs


def _dequantize(value: np.ndarray, quantization: tuple[float, int, int, int] | None) -> np.ndarray:
    if quantization is None:
        return value
    return (value.astype(np.float32) - quantization[1]) * quantization[0]


def _quantization(detail: dict[str, Any]) -> tuple[float, int, int, int] | None:
    """(scale, zero point, min, max) of an integer tensor that stands for real numbers, else None."""
    scale, zero = detail["quantization"]
    if not scale or not np.issubdtype(detail["dtype"], np.integer):
        return None
    info = np.iinfo(detail["dtype"])
    return float(scale), int(zero), int(info.min), int(info.max)
