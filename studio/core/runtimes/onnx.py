"""ONNX Runtime on the CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..policy_io import PolicyIO
from .base import RuntimeUnavailable


class OnnxRuntime:
    name = "onnxruntime"

    def __init__(self, model: Path | bytes, io: PolicyIO | None = None, threads: int = 1) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise RuntimeUnavailable(self.name, "onnxruntime is not installed", "pip install onnxruntime") from None
        if io is None:
            from ..export.onnx_export import read_policy_io

            io = read_policy_io(Path(model)) if not isinstance(model, bytes) else None
        if io is None:
            raise ValueError("this ONNX file has no SB3 Studio I/O description; export it with sb3-studio")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        source = model if isinstance(model, bytes) else str(model)
        self.session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        self.io = io
        self._carrier = None
        if io.recurrent_state is not None:
            from ..carried import StateCarrier

            self._carrier = StateCarrier(io, lambda feeds: tuple(self.session.run(io.output_names, feeds)))

    def predict(self, observation: Any) -> np.ndarray:
        feeds = self.io.feeds(observation)
        if self._carrier is not None:
            return self.io.action_from(self._carrier.actions(feeds))
        (output,) = self.session.run(["action"], feeds)
        return self.io.action_from(output)

    def reset(self) -> None:
        """Start from a zero LSTM state (recurrent policies; nothing otherwise)."""
        if self._carrier is not None:
            self._carrier.reset()
