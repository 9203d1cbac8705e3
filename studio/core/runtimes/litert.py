"""LiteRT (TFLite) on the CPU, and the Edge TPU through LiteRT's delegate.

The predict path is the device bundle's own (:class:`~studio.core.deploy.sb3_runner.TFLitePolicy`):
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
from ..policy_io import PolicyIO
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
        self.policy = TFLitePolicy(self.interpreter, io.to_json())
        self.predict: Callable[[Any], np.ndarray] = self.policy.predict

    def raw_call_for(self, observation: Any) -> tuple[Callable[[Any], Any], Any]:
        """The bare runtime call and its prepared input, for the benchmark's raw figure."""
        return self.policy.raw_call_for(observation)
