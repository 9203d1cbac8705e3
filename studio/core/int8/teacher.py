"""What the original prefers, before it decides: the targets a student learns and the margins of decisions.

* Q-learning (DQN, QR-DQN): advantages, Q(s, a) - mean_a Q(s, a) (QR-DQN: the mean of the quantiles).
  Q-values of 104-108 with gaps of 0.18 are what int8 cannot resolve; advantages are centred.
* Actor-critic and ARS over discrete actions: logits, centred per part.
* Box actions: the mean before squashing (SAC, TQC, TD3, DDPG: before tanh) or before the clip.

The decision is then made from these exactly as the exported graph makes it: argmax, per-part argmax,
sign, tanh and rescale, or clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from ..loading import LoadedModel


@dataclass(frozen=True)
class Decision:
    kind: str  # "argmax", "multi_argmax", "sign", "squash", "clip"
    parts: tuple[int, ...] = ()  # MultiDiscrete: the number of choices of each part


def decision_for(loaded: LoadedModel) -> Decision:
    space = loaded.action_space
    if isinstance(space, spaces.Discrete):
        return Decision("argmax")
    if isinstance(space, spaces.MultiDiscrete):
        return Decision("multi_argmax", tuple(int(n) for n in space.nvec.ravel()))
    if isinstance(space, spaces.MultiBinary):
        return Decision("sign")
    return Decision("squash" if loaded.policy.squash_output else "clip")


def _without_final_tanh(module: nn.Module) -> nn.Module:
    if isinstance(module, nn.Sequential) and len(module) and isinstance(module[-1], nn.Tanh):
        return module[:-1]
    return module


def preferences(loaded: LoadedModel, obs: Any) -> torch.Tensor:
    """The original's pre-decision outputs for a batch of *preprocessed-by-SB3* observation tensors."""
    from stable_baselines3.common.policies import ActorCriticPolicy

    policy = loaded.policy
    with torch.no_grad():
        if hasattr(policy, "quantile_net"):
            return policy.quantile_net(obs).mean(dim=1)
        if hasattr(policy, "q_net"):
            return policy.q_net(obs)
        if isinstance(policy, ActorCriticPolicy):
            features = policy.extract_features(obs, policy.pi_features_extractor)
            return policy.action_net(policy.mlp_extractor.forward_actor(features))
        actor = getattr(policy, "actor", None)
        if actor is not None and hasattr(actor, "get_action_dist_params"):  # SAC, TQC
            return actor.get_action_dist_params(obs)[0]
        if actor is not None and hasattr(actor, "mu"):  # TD3, DDPG
            features = actor.extract_features(obs, actor.features_extractor)
            return _without_final_tanh(actor.mu)(features)
        if hasattr(policy, "action_net"):  # ARS
            features = policy.extract_features(obs, policy.features_extractor)
            return _without_final_tanh(policy.action_net)(features)
    raise TypeError(f"no preference outputs known for {type(policy).__name__}")


def centred(values: torch.Tensor, decision: Decision) -> torch.Tensor:
    """Targets to learn: discrete preferences centred (per part), continuous ones unchanged."""
    if decision.kind == "argmax":
        return values - values.mean(dim=1, keepdim=True)
    if decision.kind == "multi_argmax":
        bounds = np.cumsum([0, *decision.parts]).tolist()
        return torch.cat([values[:, a:b] - values[:, a:b].mean(dim=1, keepdim=True)
                          for a, b in zip(bounds[:-1], bounds[1:])], dim=1)
    return values


def margins(values: np.ndarray, decision: Decision) -> np.ndarray | None:
    """How strongly the original prefers its choice: top-1 minus top-2 (smallest over parts); None for Box."""
    if decision.kind == "argmax":
        top = np.sort(values, axis=1)
        return top[:, -1] - top[:, -2]
    if decision.kind == "multi_argmax":
        bounds = np.cumsum([0, *decision.parts]).tolist()
        parts = [np.sort(values[:, a:b], axis=1) for a, b in zip(bounds[:-1], bounds[1:])]
        return np.min(np.stack([p[:, -1] - p[:, -2] for p in parts], axis=1), axis=1)
    if decision.kind == "sign":
        return np.min(np.abs(values), axis=1)
    return None


def acting_mlp(loaded: LoadedModel) -> tuple[list[nn.Linear], type[nn.Module]] | None:
    """The Linear layers (in order) and activation of the original's action path, for MLP policies whose
    features extractor only flattens; None when the policy is not such an MLP.

    The last layer's outputs are the policy's preferences (Q-values, quantiles, logits or means).
    """
    from stable_baselines3.common.policies import ActorCriticPolicy
    from stable_baselines3.common.torch_layers import FlattenExtractor

    policy = loaded.policy
    if hasattr(policy, "quantile_net"):
        path, extractor = [policy.quantile_net.quantile_net], policy.quantile_net.features_extractor
    elif hasattr(policy, "q_net"):
        path, extractor = [policy.q_net.q_net], policy.q_net.features_extractor
    elif isinstance(policy, ActorCriticPolicy):
        path, extractor = [policy.mlp_extractor.policy_net, policy.action_net], policy.pi_features_extractor
    elif hasattr(getattr(policy, "actor", None), "latent_pi"):
        path, extractor = [policy.actor.latent_pi, policy.actor.mu], policy.actor.features_extractor
    elif hasattr(getattr(policy, "actor", None), "mu"):
        path, extractor = [policy.actor.mu], policy.actor.features_extractor
    elif hasattr(policy, "action_net"):
        path, extractor = [policy.action_net], policy.features_extractor
    else:
        return None
    if not isinstance(extractor, FlattenExtractor):
        return None
    modules = [m for part in path for m in (part.children() if isinstance(part, nn.Sequential) else [part])]
    if any(not isinstance(m, (nn.Linear, nn.ReLU, nn.Tanh, nn.ELU, nn.LeakyReLU, nn.SiLU, nn.Sequential))
           for m in modules):
        return None  # e.g. gSDE's Hardtanh clip of SAC and TQC means: not a plain MLP
    linears = [m for m in modules if isinstance(m, nn.Linear)]
    activations = [type(m) for m in modules if isinstance(m, (nn.ReLU, nn.Tanh, nn.ELU, nn.LeakyReLU, nn.SiLU))]
    if not linears:
        return None
    return linears, (activations[0] if activations else nn.ReLU)


def output_map(loaded: LoadedModel, weight: torch.Tensor, bias: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The last layer rewritten so that it computes the distillation targets directly.

    Quantile averaging and centring are linear, so a student that starts from the original's layers and
    this last layer computes exactly the targets before any training.
    """
    policy = loaded.policy
    if hasattr(policy, "quantile_net"):
        n_actions = int(loaded.action_space.n)
        weight = weight.reshape(-1, n_actions, weight.shape[1]).mean(dim=0)
        bias = bias.reshape(-1, n_actions).mean(dim=0)
    decision = decision_for(loaded)
    return _centre_rows(weight, decision), _centre_rows(bias.unsqueeze(1), decision).squeeze(1)


def _centre_rows(rows: torch.Tensor, decision: Decision) -> torch.Tensor:
    """Centre output rows the way :func:`centred` centres outputs (per part for MultiDiscrete)."""
    if decision.kind == "argmax":
        return rows - rows.mean(dim=0, keepdim=True)
    if decision.kind == "multi_argmax":
        bounds = np.cumsum([0, *decision.parts]).tolist()
        return torch.cat([rows[a:b] - rows[a:b].mean(dim=0, keepdim=True) for a, b in zip(bounds[:-1], bounds[1:])])
    return rows
