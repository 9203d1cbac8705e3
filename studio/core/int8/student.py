"""A student network that learns the original's preferences under int8 fake quantisation.

Same graph around it as the exact export (VecNormalize folded in, SB3's preprocessing, the decision
and the action bounds); in between, an MLP whose weights are fake-quantised per channel (symmetric,
as TFLite does) and whose activations are fake-quantised per tensor on running ranges. Exported with
fake quantisation off: onnx2tf then quantises it for real.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from ..export.exact_policy import export_friendly_preprocess
from ..loading import LoadedModel
from ..policy_io import PolicyIO, policy_io_for
from .teacher import Decision, decision_for


class ActivationQuant(nn.Module):
    """Fake int8 (asymmetric, per tensor) like TFLite's activations, on ranges calibrated like TFLite's:
    the min and max over a calibration pass (see :meth:`StudentPolicy.calibrate`)."""

    def __init__(self) -> None:
        super().__init__()
        self.enabled = True
        self.calibrating = False
        self.register_buffer("low", torch.tensor(0.0))
        self.register_buffer("high", torch.tensor(0.0))
        self.register_buffer("seen", torch.tensor(False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.calibrating:
            low, high = x.detach().min(), x.detach().max()
            if bool(self.seen):
                low, high = torch.minimum(low, self.low), torch.maximum(high, self.high)
            self.low.copy_(low)
            self.high.copy_(high)
            self.seen.fill_(True)
            return x
        if not self.enabled or not bool(self.seen):
            return x
        low, high = torch.clamp(self.low, max=0.0), torch.clamp(self.high, min=0.0)
        scale = torch.clamp((high - low) / 255.0, min=1e-8)
        zero = torch.clamp(torch.round(-128 - low / scale), -128, 127).to(torch.int32)
        return torch.fake_quantize_per_tensor_affine(x, scale.reshape(()), zero.reshape(()), -128, 127)


class QuantLinear(nn.Linear):
    """A linear layer whose weights are fake int8, symmetric per output channel."""

    enabled = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight
        if self.enabled:
            scale = torch.clamp(weight.detach().abs().amax(dim=1) / 127.0, min=1e-8)
            zero = torch.zeros_like(scale, dtype=torch.int32)
            weight = torch.fake_quantize_per_channel_affine(weight, scale, zero, 0, -127, 127)
        return nn.functional.linear(x, weight, self.bias)


def acting_layers(loaded: LoadedModel) -> tuple[list[int], type[nn.Module]]:
    """Hidden sizes and activation of the original's acting network (the student's default shape)."""
    from .teacher import acting_mlp

    found = acting_mlp(loaded)
    if found is None:
        return [64, 64], nn.ReLU
    linears, activation = found
    return [m.out_features for m in linears[:-1]], activation


class StudentPolicy(nn.Module):
    def __init__(self, loaded: LoadedModel, hidden: list[int], activation: type[nn.Module], outputs: int,
                 transform: dict[str, list[float]] | None = None) -> None:
        super().__init__()
        space = loaded.observation_space
        if isinstance(space, spaces.Dict) or (isinstance(space, spaces.Box) and len(space.shape) > 2):
            raise ValueError("distillation supports flat (non-image, non-Dict) observations")
        self.observation_space = space
        self.io: PolicyIO = policy_io_for(space, loaded.action_space)
        self.decision: Decision = decision_for(loaded)
        # Equalised inputs (see equalise.py): the host normalises and rescales, the graph takes the result.
        self.io.inputs[0].transform = transform
        norm = loaded.normalization if transform is None else None
        self.clip_obs = float(norm.clip_obs) if norm is not None else 0.0
        self.normalized = norm is not None
        if norm is not None:
            std = np.sqrt(np.asarray(norm.var, np.float64) + norm.epsilon)
            self.register_buffer("mean", torch.as_tensor(np.asarray(norm.mean, np.float32)))
            self.register_buffer("std", torch.as_tensor(std.astype(np.float32)))
        action = loaded.action_space
        if isinstance(action, spaces.Box):
            self.register_buffer("low", torch.as_tensor(action.low.astype(np.float32)))
            self.register_buffer("high", torch.as_tensor(action.high.astype(np.float32)))
        width = int(export_friendly_preprocess(torch.zeros((1, *self.io.inputs[0].shape)), space).reshape(1, -1).shape[1])
        layers: list[nn.Module] = [ActivationQuant()]
        for size in hidden:
            layers += [QuantLinear(width, size), activation(), ActivationQuant()]
            width = size
        layers += [QuantLinear(width, outputs), ActivationQuant()]
        self.net = nn.Sequential(*layers)
        self.input_quant = ActivationQuant()

    def start_from(self, linears: list[nn.Linear], last: tuple[torch.Tensor, torch.Tensor]) -> bool:
        """Copy the original's layers in (the last one already rewritten to give the targets)."""
        mine = [m for m in self.net if isinstance(m, QuantLinear)]
        if [tuple(m.weight.shape) for m in mine] != [tuple(m.weight.shape) for m in linears[:-1]] + [tuple(last[0].shape)]:
            return False
        with torch.no_grad():
            for target, source in zip(mine[:-1], linears[:-1]):
                target.weight.copy_(source.weight)
                target.bias.copy_(source.bias)
            mine[-1].weight.copy_(last[0])
            mine[-1].bias.copy_(last[1])
        return True

    def calibrate(self, states: torch.Tensor) -> None:
        """Set every activation range to the min and max over ``states``, as TFLite's calibration will."""
        quants = [m for m in self.modules() if isinstance(m, ActivationQuant)]
        for quant in quants:
            quant.seen.fill_(False)
            quant.calibrating = True
        with torch.no_grad():
            for start in range(0, len(states), 1024):
                self.values(states[start:start + 1024])
        for quant in quants:
            quant.calibrating = False

    def quantize(self, enabled: bool) -> "StudentPolicy":
        for module in self.modules():
            if isinstance(module, (ActivationQuant, QuantLinear)):
                module.enabled = enabled
        return self

    def values(self, obs: torch.Tensor) -> torch.Tensor:
        """Pre-decision outputs (what the student learns) for raw observations."""
        obs = self.input_quant(obs)
        if self.normalized:
            obs = torch.clamp((obs - self.mean) / self.std, -self.clip_obs, self.clip_obs)
        features = export_friendly_preprocess(obs, self.observation_space).reshape(obs.shape[0], -1)
        return self.net(features)

    def decide(self, values: torch.Tensor) -> torch.Tensor:
        kind = self.decision.kind
        if kind == "argmax":
            return torch.argmax(values, dim=1)
        if kind == "multi_argmax":
            bounds = np.cumsum([0, *self.decision.parts]).tolist()
            return torch.stack([torch.argmax(values[:, a:b], dim=1) for a, b in zip(bounds[:-1], bounds[1:])], dim=1)
        if kind == "sign":
            return (values > 0).to(torch.float32)
        if kind == "squash":
            return self.low + 0.5 * (torch.tanh(values) + 1.0) * (self.high - self.low)
        return torch.clamp(values, self.low, self.high)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        actions = self.decide(self.values(obs)).reshape((-1, *self.io.action.shape))
        return actions.to(torch.float32 if self.io.action.dtype == "float32" else torch.int64)

    def example_inputs(self, batch: int = 2) -> tuple[torch.Tensor, ...]:
        return (torch.zeros((batch, *self.io.inputs[0].shape), dtype=torch.float32),)

    def act(self, observation: Any) -> np.ndarray:
        """Environment actions (numpy in, numpy out), for rollouts during training."""
        feeds = self.io.feeds(observation)
        with torch.no_grad():
            return self.io.action_from(self(torch.from_numpy(feeds[self.io.inputs[0].name])).numpy())
