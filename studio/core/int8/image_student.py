"""The student for image policies: the original's own convolutional network under int8 fake quantisation.

A CNN cannot be learnt from scratch in a repair's minute, so the student starts as the original: the
same layers in the same order (features extractor, then the actor's or Q-network's head), convolutions
and linear layers with fake int8 weights (per output channel, symmetric, as TFLite quantises them),
every activation followed by fake int8 on its calibrated range, and the last layer rewritten to give
the distillation targets (centred logits or advantages, :func:`.teacher.output_map`). Distillation then
fine-tunes it where int8 hurts the decisions. Image observations only (not Dict ones).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from ..loading import LoadedModel
from ..policy_io import policy_io_for
from .student import ActivationQuant, QuantLinear, StudentPolicy
from .teacher import decision_for, output_map

_ACTIVATIONS = (nn.ReLU, nn.Tanh, nn.ELU, nn.LeakyReLU, nn.SiLU)


class QuantConv2d(nn.Conv2d):
    """A convolution whose weights are fake int8, symmetric per output channel."""

    enabled = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight
        if self.enabled:
            scale = torch.clamp(weight.detach().abs().amax(dim=(1, 2, 3)) / 127.0, min=1e-8)
            zero = torch.zeros_like(scale, dtype=torch.int32)
            weight = torch.fake_quantize_per_channel_affine(weight, scale, zero, 0, -127, 127)
        return self._conv_forward(x, weight, self.bias)


def image_acting_layers(loaded: LoadedModel) -> list[nn.Module] | None:
    """The leaf modules from the preprocessed image to the preferences, in order; None when the network
    holds anything but convolutions, linear layers, activations and flattening."""
    from stable_baselines3.common.policies import ActorCriticPolicy

    policy = loaded.policy
    if hasattr(policy, "quantile_net"):
        parts = [policy.quantile_net.features_extractor, policy.quantile_net.quantile_net]
    elif hasattr(policy, "q_net"):
        parts = [policy.q_net.features_extractor, policy.q_net.q_net]
    elif isinstance(policy, ActorCriticPolicy):
        parts = [policy.pi_features_extractor, policy.mlp_extractor.policy_net, policy.action_net]
    else:
        return None
    leaves = [m for part in parts for m in part.modules() if not list(m.children()) and not isinstance(m, nn.Sequential)]
    if not leaves or not isinstance([m for m in leaves if isinstance(m, (nn.Linear, nn.Conv2d))][-1], nn.Linear):
        return None
    if any(not isinstance(m, (nn.Conv2d, nn.Linear, nn.Flatten, *_ACTIVATIONS)) for m in leaves):
        return None
    return leaves


def is_image_policy(loaded: LoadedModel) -> bool:
    space = loaded.observation_space
    return isinstance(space, spaces.Box) and len(space.shape) == 3


class ImageStudentPolicy(StudentPolicy):
    def __init__(self, loaded: LoadedModel) -> None:
        nn.Module.__init__(self)
        leaves = image_acting_layers(loaded)
        if leaves is None:
            raise ValueError("distillation supports image policies made of convolutions, linear layers and "
                             "activations (NatureCNN and the like)")
        space = loaded.observation_space
        self.observation_space = space
        self.io = policy_io_for(space, loaded.action_space)
        self.decision = decision_for(loaded)
        self.normalized = False  # VecNormalize is not used on images by SB3 (norm_obs skips them)
        self.clip_obs = 0.0
        action = loaded.action_space
        if isinstance(action, spaces.Box):
            self.register_buffer("low", torch.as_tensor(action.low.astype(np.float32)))
            self.register_buffer("high", torch.as_tensor(action.high.astype(np.float32)))
        last = max(i for i, m in enumerate(leaves) if isinstance(m, nn.Linear))
        layers: list[nn.Module] = [ActivationQuant()]
        for index, module in enumerate(leaves):
            if isinstance(module, nn.Conv2d):
                layers.append(_copy_conv(module))
            elif isinstance(module, nn.Linear):
                weight, bias = (output_map(loaded, module.weight.detach(), module.bias.detach()) if index == last
                                else (module.weight.detach(), module.bias.detach()))
                layers.append(_copy_linear(module, weight, bias))
            elif isinstance(module, _ACTIVATIONS):
                layers += [type(module)(), ActivationQuant()]
            else:
                layers.append(nn.Flatten())
        layers.append(ActivationQuant())
        self.net = nn.Sequential(*layers)
        self.input_quant = ActivationQuant()

    def quantize(self, enabled: bool) -> "ImageStudentPolicy":
        super().quantize(enabled)
        for module in self.modules():
            if isinstance(module, QuantConv2d):
                module.enabled = enabled
        return self

    def values(self, obs: torch.Tensor) -> torch.Tensor:
        from ..export.exact_policy import export_friendly_preprocess

        return self.net(export_friendly_preprocess(self.input_quant(obs), self.observation_space))


def _copy_conv(conv: nn.Conv2d) -> QuantConv2d:
    copied = QuantConv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                         conv.dilation, conv.groups, conv.bias is not None, conv.padding_mode)
    copied.load_state_dict(conv.state_dict())
    return copied


def _copy_linear(linear: nn.Linear, weight: torch.Tensor, bias: Any) -> QuantLinear:
    copied = QuantLinear(linear.in_features, weight.shape[0])
    with torch.no_grad():
        copied.weight.copy_(weight)
        copied.bias.copy_(bias)
    return copied
