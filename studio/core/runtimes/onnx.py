"""ONNX Runtime on the CPU.

``predict`` hands a float32 observation batch straight to the session (one feed dict, reused; the
graph takes any batch size and already gives the environment's action dtype). Anything else (another
dtype, a single observation without its batch dimension, images in the environment's layout, Dict
observations) goes through :meth:`PolicyIO.feeds` first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

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
        self.predict: Callable[[Any], np.ndarray] = self._direct() if io.plain else self._general

    def _general(self, observation: Any) -> np.ndarray:
        feeds = self.io.feeds(observation)
        if self._carrier is not None:
            return self.io.action_from(self._carrier.actions(feeds))
        (output,) = self.session.run(["action"], feeds)
        return self.io.action_from(output)

    def reset(self) -> None:
        """Start from a zero LSTM state (recurrent policies; nothing otherwise)."""
        if self._carrier is not None:
            self._carrier.reset()
    def _direct(self) -> Callable[[Any], np.ndarray]:
        run, names, general = self.session.run, ["action"], self._general
        feeds: dict[str, Any] = {self.io.inputs[0].name: None}
        name = self.io.inputs[0].name
        ready = self.io.action.dtype == self.io.action.env_dtype

        def predict(observation: Any) -> np.ndarray:
            feeds[name] = observation
            try:  # ONNX Runtime checks dtype and rank itself
                (output,) = run(names, feeds)
            except Exception:  # noqa: BLE001 - not a float32 batch: convert it (real errors surface there)
                return general(observation)
            finally:
                feeds[name] = None  # hold no reference to the caller's array
            return output if ready else self.io.action_from(output)

        return predict

    def raw_call_for(self, observation: Any) -> tuple[Callable[[Any], Any], Any]:
        """The bare ``session.run`` and its prepared feeds, for the benchmark's raw figure."""
        run, names = self.session.run, ["action"]

        def raw(feeds: dict[str, np.ndarray]) -> Any:
            return run(names, feeds)

        return raw, self.io.feeds(observation)
