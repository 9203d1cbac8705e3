"""float16 that keeps its promise: the first layer as two float16 halves.

float16 weights carry 11 bits. The first layer multiplies raw observations, which can be large
(Pendulum's angular velocity reaches 8), so its rounding errors are the ones that reach the action:
SAC Pendulum's float16 model is 0.0106 from the original on sampled observations. Writing that layer's
weights W as hi + lo, with hi = float16(W) and lo = W - hi, and computing hi x + lo x, makes both
halves exact enough in float16 (the error becomes that of float16(lo), about 2^-22 of W). In float32
the two halves sum to W exactly. The cost is one more small matrix product and the first layer's
weights stored twice.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class SplitLinear(nn.Module):
    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        weight = linear.weight.detach()
        high = weight.half().float()
        self.high = nn.Linear(linear.in_features, linear.out_features, bias=linear.bias is not None)
        self.low = nn.Linear(linear.in_features, linear.out_features, bias=False)
        with torch.no_grad():
            self.high.weight.copy_(high)
            self.low.weight.copy_(weight - high)
            if linear.bias is not None:
                self.high.bias.copy_(linear.bias.detach())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.high(x) + self.low(x)


def split_first_layer(policy: Any) -> str | None:
    """Replace the first Linear layer of the acting network by a :class:`SplitLinear`, in place.

    Returns the layer's name, or None when the policy has no Linear layer to split.
    """
    from ..inspection import acting_network

    network = acting_network(policy)
    for name, module in network.named_modules():  # depth first, in the order the layers are applied
        if isinstance(module, nn.Linear):
            parent_name, _, attribute = name.rpartition(".")
            parent = network.get_submodule(parent_name) if parent_name else network
            setattr(parent, attribute, SplitLinear(module))
            return name
    return None
