"""Every runtime offers the same ``predict(observation_batch) -> action_batch``.

Verification, rollouts and benchmarks treat them alike. A runtime that cannot run here raises
:class:`RuntimeUnavailable` with the reason and how to get it.
"""

from .base import Runtime, RuntimeUnavailable
from .onnx import OnnxRuntime
from .sb3 import SB3Runtime

__all__ = ["OnnxRuntime", "Runtime", "RuntimeUnavailable", "SB3Runtime"]
