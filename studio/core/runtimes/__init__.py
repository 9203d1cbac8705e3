"""Every runtime offers the same ``predict(observation_batch) -> action_batch``.

Verification, rollouts and benchmarks treat them alike. A runtime that cannot run here raises
:class:`RuntimeUnavailable` with the reason and how to get it. The runtimes live in their own modules
(``sb3``, ``torch_module``, ``onnx``, ``litert``), imported only by whoever uses them: a benchmark
child for ONNX Runtime must not pay for importing torch.
"""

from .base import Runtime, RuntimeUnavailable

__all__ = ["Runtime", "RuntimeUnavailable"]
