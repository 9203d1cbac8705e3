"""LiteRT (TFLite) on the CPU, and the Edge TPU through LiteRT's delegate.

A TFLite policy has a static batch of one, so a batch is run one observation at a time. Models with
integer inputs or outputs (full int8) are quantised and dequantised here with their own parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..policy_io import PolicyIO
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
        for position, spec in enumerate(io.inputs):
            detail = by_name.get(f"serving_default_{spec.name}:0") or details[position]
            self._inputs.append((spec.name, detail["index"], detail["dtype"], _quantization(detail), spec.channels_first))
        out = self.interpreter.get_output_details()[0]
        self._output = (out["index"], _quantization(out))

    def _invoke(self, feeds: dict[str, np.ndarray], row: int) -> np.ndarray:
        set_tensor = self.interpreter.set_tensor
        for name, index, dtype, quantization, channels_first in self._inputs:
            value = feeds[name][row:row + 1]
            if channels_first:
                value = value.transpose(0, 2, 3, 1)  # the graph's NCHW; onnx2tf's TFLite takes NHWC
            if quantization is not None:
                scale, zero, low, high = quantization
                value = np.clip(np.round(value / scale + zero), low, high)
            set_tensor(index, np.ascontiguousarray(value, dtype=dtype))
        self.interpreter.invoke()
        index, quantization = self._output
        value = self.interpreter.get_tensor(index)
        if quantization is not None:
            value = (value.astype(np.float32) - quantization[1]) * quantization[0]
        return value

    def predict(self, observation: Any) -> np.ndarray:
        feeds = self.io.feeds(observation)
        rows = len(next(iter(feeds.values())))
        if rows == 1:
            return self.io.action_from(self._invoke(feeds, 0))
        return self.io.action_from(np.concatenate([self._invoke(feeds, row) for row in range(rows)]))


def _quantization(detail: dict[str, Any]) -> tuple[float, int, int, int] | None:
    """(scale, zero point, min, max) of an integer tensor that stands for real numbers, else None."""
    scale, zero = detail["quantization"]
    if not scale or not np.issubdtype(detail["dtype"], np.integer):
        return None
    info = np.iinfo(detail["dtype"])
    return float(scale), int(zero), int(info.min), int(info.max)
