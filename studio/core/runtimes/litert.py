"""LiteRT (TFLite) on the CPU, and the Edge TPU through LiteRT's delegate.

Policies that carry an action mask or an LSTM state from step to step have their own stepper
(:class:`_CarriedTFLite`). For every other policy the predict path is the device bundle's own
(:class:`~studio.core.deploy.sb3_runner.TFLitePolicy`):
a float32 batch of one observation goes straight to ``set_tensor``/``invoke``/``get_tensor``; anything
else is converted first (dtypes, layouts, quantised inputs) and run one observation at a time, since a
TFLite policy has a static batch of one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..deploy import sb3_runner
from ..deploy.sb3_runner import EDGETPU_HINT, EDGETPU_LIBRARY, TFLitePolicy
from ..policy_io import STATE_IN, PolicyIO
from .base import RuntimeUnavailable

__all__ = ["EDGETPU_HINT", "EDGETPU_LIBRARY", "LiteRTRuntime", "load_edgetpu_delegate"]


def _interpreter_class() -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise RuntimeUnavailable("litert", "ai-edge-litert is not installed", "pip install ai-edge-litert") from None
    return Interpreter


def load_edgetpu_delegate() -> Any:
    """The Edge TPU delegate, or :class:`RuntimeUnavailable` saying why it cannot be loaded here."""
    _interpreter_class()
    try:
        return sb3_runner.load_edgetpu_delegate()
    except sb3_runner.Unavailable as exc:
        raise RuntimeUnavailable("edgetpu", exc.reason, exc.hint) from None


class LiteRTRuntime:
    def __init__(self, path: Path, io: PolicyIO, threads: int = 1, name: str = "litert", edgetpu: bool = False) -> None:
        interpreter_class = _interpreter_class()
        delegates = [load_edgetpu_delegate()] if edgetpu else None
        self.name = name
        self.io = io
        self.interpreter = interpreter_class(model_path=str(path), num_threads=threads, experimental_delegates=delegates)
        carried = io.action_mask is not None or io.recurrent_state is not None
        self.policy: Any = _CarriedTFLite(self.interpreter, io) if carried else TFLitePolicy(self.interpreter, io.to_json())
        self.predict: Callable[[Any], np.ndarray] = self.policy.predict

    def reset(self) -> None:
        """Start from a zero LSTM state (recurrent policies; nothing otherwise)."""
        reset = getattr(self.policy, "reset", None)
        if reset is not None:
            reset()

    def raw_call_for(self, observation: Any) -> tuple[Callable[[Any], Any], Any]:
        """The bare runtime call and its prepared input, for the benchmark's raw figure."""
        if not hasattr(self.policy, "raw_call_for"):
            raise NotImplementedError("no bare call for a policy that carries a mask or a state")
        return self.policy.raw_call_for(observation)


class _CarriedTFLite:
    """A TFLite policy that carries an action mask or an LSTM state from step to step (families)."""

    def __init__(self, interpreter: Any, io: PolicyIO) -> None:
        self.io = io
        self.interpreter = interpreter
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
