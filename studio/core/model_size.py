"""How large a network a file declares, found without building it: on torch's ``meta`` device.

A file's ``policy_kwargs`` decide what SB3 builds (``net_arch=[100000, 100000]`` is 10^10 parameters);
the weights in ``policy.pth`` decide what it holds. The policy class is constructed on the meta device
(shapes only, no memory) and its size compared with the weights before anything real is allocated.
"""

from __future__ import annotations

import inspect
from typing import Any

# A declared network may hold this many times the parameters in policy.pth (plus a margin) and no more.
SLACK = 2
MARGIN = 100_000
MAX_PARAMETERS = 200_000_000


def declared_parameters(data: dict[str, Any]) -> int:
    """Parameters and buffers of the policy ``data`` declares, counted on the meta device."""
    import torch
    policy_class = data["policy_class"]
    meta_class = type(policy_class.__name__, (policy_class,), {"device": property(lambda self: torch.device("meta"))})
    kwargs = dict(data.get("policy_kwargs") or {})
    accepted = inspect.signature(policy_class.__init__).parameters
    if "ortho_init" in accepted:
        kwargs["ortho_init"] = False  # orthogonal initialisation computes even on the meta device
    if "use_sde" in accepted:
        # gSDE's noise matrices are read back (.item()) while they are built, which the meta device cannot;
        # they hold a latent x action matrix, nothing next to the network itself.
        kwargs["use_sde"] = False
    with torch.device("meta"):
        if "lr_schedule" in accepted:  # ARS policies take none
            kwargs["lr_schedule"] = lambda _: 0.0
        policy = meta_class(data["observation_space"], data["action_space"], **kwargs)
    return sum(t.numel() for t in policy.parameters()) + sum(t.numel() for t in policy.buffers())


def stored_parameters(weights: dict[str, Any]) -> int:
    return sum(int(t.numel()) for t in weights.values())


def plausible(declared: int, stored: int) -> bool:
    return declared <= MAX_PARAMETERS and declared <= SLACK * stored + MARGIN
