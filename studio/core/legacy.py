"""Files saved by older SB3 and sb3-contrib versions, whose weights no longer fit today's classes as saved.

Each adaptation renames or infers from the weights themselves (never from code in the file), and says
what it did, which ``inspect`` and ``run.json`` show.
"""

from __future__ import annotations

from typing import Any


def adapt(algo: str, policy_class: Any, policy_kwargs: dict[str, Any], weights: dict[str, Any]
          ) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """``(policy_kwargs, weights, notes)`` that today's classes accept for the same network."""
    notes: list[str] = []
    if algo == "ARS":
        policy_kwargs, weights = dict(policy_kwargs), dict(weights)
        if "action_net.weight" in weights:
            # sb3-contrib < 1.7: ARSLinearPolicy held a bare nn.Linear, today the first layer of a Sequential.
            weights = {_renamed(k): v for k, v in weights.items()}
            notes.append("ARS linear policy saved by sb3-contrib < 1.7: its layer renamed action_net.0")
        if _is_linear(policy_class) and "with_bias" not in policy_kwargs:
            policy_kwargs["with_bias"] = "action_net.0.bias" in weights
    return policy_kwargs, weights, notes


def _renamed(key: str) -> str:
    if key in ("action_net.weight", "action_net.bias"):
        return "action_net.0." + key.rsplit(".", 1)[1]
    return key


def _is_linear(policy_class: Any) -> bool:
    from sb3_contrib.ars.policies import ARSLinearPolicy

    return isinstance(policy_class, type) and issubclass(policy_class, ARSLinearPolicy)
