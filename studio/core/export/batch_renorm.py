"""CrossQ's BatchRenorm layers, in evaluation mode, folded into the linear layers after them.

In evaluation BatchRenorm is a fixed affine map per feature: ``scale * (x - ra_mean) / sqrt(ra_var +
eps) + bias`` = ``a * x + b``. CrossQ puts one before every linear layer of its actor (and one after
the last hidden layer, before ``mu``), so ``W (a * x + b) + c`` becomes ``(W * a) x + (W b + c)``: the
graph has only the linear layers, as for SAC. The fold is computed in float64 and rounded once. A
BatchRenorm that no linear layer follows stays as its affine map.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


class _Affine(nn.Module):
    def __init__(self, weight: torch.Tensor, shift: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("weight", weight.to(torch.float32))
        self.register_buffer("shift", shift.to(torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight + self.shift


def _is_renorm(module: nn.Module) -> bool:
    from sb3_contrib.common.torch_layers import BatchRenorm

    return isinstance(module, BatchRenorm)


def _affine_of(renorm: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """(a, b) with renorm(x) = a * x + b in evaluation mode, in float64."""
    std = torch.sqrt(renorm.ra_var.double() + renorm.eps)
    if renorm.affine:
        a = renorm.scale.detach().double() / std
        return a, renorm.bias.detach().double() - renorm.ra_mean.double() * a
    return 1.0 / std, -renorm.ra_mean.double() / std


def _fold_into(linear: nn.Linear, a: torch.Tensor, b: torch.Tensor) -> nn.Linear:
    folded = nn.Linear(linear.in_features, linear.out_features)
    weight = linear.weight.detach().double()
    bias = linear.bias.detach().double() if linear.bias is not None else torch.zeros(linear.out_features, dtype=torch.float64)
    with torch.no_grad():
        folded.weight.copy_((weight * a).float())
        folded.bias.copy_((bias + weight @ b).float())
    return folded


def fold_actor(actor: Any) -> Any:
    """A shallow copy of a CrossQ actor whose ``latent_pi`` and ``mu`` have no BatchRenorm left.

    Shallow: the actor's other parts are shared, unchanged (gSDE's exploration matrices cannot be
    deep-copied, and acting does not touch them)."""
    kept: list[nn.Module] = []
    pending: tuple[torch.Tensor, torch.Tensor] | None = None
    for layer in actor.latent_pi:
        if _is_renorm(layer):
            pending = _affine_of(layer)
            continue
        if pending is not None:
            if isinstance(layer, nn.Linear):
                layer = _fold_into(layer, *pending)
            else:
                kept.append(_Affine(*pending))
            pending = None
        kept.append(layer)
    mu = actor.mu
    if pending is not None:  # the last one, before mu (and log_std, which acting does not use)
        if isinstance(mu, nn.Linear):
            mu = _fold_into(mu, *pending)
        elif isinstance(mu, nn.Sequential) and isinstance(mu[0], nn.Linear):  # gSDE: Linear, Hardtanh
            mu = nn.Sequential(_fold_into(mu[0], *pending), *list(mu)[1:])
        else:
            kept.append(_Affine(*pending))
    folded = copy.copy(actor)
    folded._modules = dict(actor._modules, latent_pi=nn.Sequential(*kept), mu=mu)
    return folded.eval()


def fold_policy(policy: Any) -> Any:
    """A copy of a CrossQ policy whose actor has its BatchRenorm folded (the critic is left out)."""
    folded = copy.copy(policy)  # shallow: nn.Module attributes live in _modules, copied below
    folded._modules = dict(policy._modules)
    folded._modules["actor"] = fold_actor(policy.actor)
    folded._modules.pop("critic", None)
    folded._modules.pop("critic_target", None)
    return folded
