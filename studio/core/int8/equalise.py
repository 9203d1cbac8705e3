"""Equal input ranges for int8: a per-feature affine on the float side, folded into the first layer.

TFLite quantises an activation tensor with one scale. An observation whose features span very
different ranges (MountainCar: position about +-1.2, velocity about +-0.07) keeps only a handful of
int8 steps for the small ones at the input; VecNormalize inside the graph is worse: its 1/std vector
is one int8 constant, and a dimension that was constant in training (std 1e-4, 1/std 1e4) sets that
constant's scale so that every other dimension's 1/std rounds to zero.

So the host computes, per feature and in float32, before the int8 graph (the Edge TPU's graph stays
fully integer between its float input and output)::

    z = clip((x - offset) * scale, low, high)          # recorded in PolicyIO, applied by PolicyIO.feeds

chosen so that every feature spans [-1, 1] over the states the policy visits. Without VecNormalize,
``offset`` is the visited range's centre c and ``scale`` 1/half-width s. With VecNormalize, whose
``n = clip((x - mean) / std, +-k)`` is then computed on the float side as well, the same centring of
the visited ``n`` gives ``offset = mean + c * std``, ``scale = s / std`` and the clip at
``(+-k - c) * s``. The graph then starts at the first linear layer, which absorbs the inverse:
``W' = W[:, cols] / s`` and ``b' = b + W[:, cols] @ c``, so the float graph computes the same function.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from ..export.exact_policy import ExactPolicy, export_friendly_preprocess, friendly_preprocessing
from ..loading import LoadedModel
from ..policy_io import PolicyIO
from ..spaces import is_image_space

FLOOR = 1e-3  # a feature's half-width is at least this share of the widest one (constant features)


class EqualisedPolicy(ExactPolicy):
    """The exact graph for equalised inputs: normalisation on the float side, the first layer folded."""

    def __init__(self, loaded: LoadedModel, states: Any) -> None:
        if loaded.algo in ("RecurrentPPO", "MaskablePPO"):
            raise ValueError(f"{loaded.algo}'s graph carries more than observations: its inputs are not equalised (yet)")
        super().__init__(loaded)
        self.policy = _copy_policy(loaded.policy)
        self.io = copy.deepcopy(self.io)
        self.spaces = _input_spaces(loaded)
        self.transformed = [spec.name for spec in self.io.inputs if _equalisable(self.spaces[spec.name])]
        if not self.transformed:
            raise ValueError("no flat float input to equalise (images and discrete inputs keep their own ranges)")
        batch = states if isinstance(states, dict) else {self.io.inputs[0].name: states}
        self.centres: dict[str, np.ndarray] = {}
        self.halves: dict[str, np.ndarray] = {}
        for key in self.transformed:
            spec = next(s for s in self.io.inputs if s.name == key)
            raw = np.asarray(batch[key], np.float64).reshape((-1, *spec.shape))
            normalised = self._normalised(key, raw)
            low, high = normalised.min(axis=0), normalised.max(axis=0)
            half = (high - low) / 2
            half = np.maximum(half, FLOOR * max(float(half.max()), 1e-12)) if half.max() > 0 else np.ones_like(half)
            self.centres[key], self.halves[key] = (high + low) / 2, half
            spec.transform = self._host_transform(key)
        self.folded = self._fold(batch)

    def _normalised(self, key: str, raw: np.ndarray) -> np.ndarray:
        if key not in self._normalized:
            return raw
        mean = getattr(self, f"mean_{key}").double().numpy()
        std = getattr(self, f"std_{key}").double().numpy()
        return np.clip((raw - mean) / std, -self.clip_obs, self.clip_obs)

    def _host_transform(self, key: str) -> dict[str, list[float]]:
        c, s = self.centres[key], 1.0 / self.halves[key]
        if key not in self._normalized:
            return {"offset": _flat(c), "scale": _flat(s)}
        mean = getattr(self, f"mean_{key}").double().numpy()
        std = getattr(self, f"std_{key}").double().numpy()
        k = self.clip_obs
        return {"offset": _flat(mean + c * std), "scale": _flat(s / std),
                "low": _flat((-k - c) * s), "high": _flat((k - c) * s)}

    def _normalize(self, key: str, obs: torch.Tensor) -> torch.Tensor:
        if key in self.transformed:
            return obs  # normalised and clipped on the float side already; the first layer undoes the centring
        return super()._normalize(key, obs)

    def _fold(self, batch: dict[str, Any]) -> list[str]:
        """Fold ``x = c + z * h`` into every linear layer that reads the observation features directly."""
        columns, width = self._columns()
        sample = {spec.name: torch.as_tensor(np.asarray(batch[spec.name][:64], np.float32).reshape((-1, *spec.shape)))
                  for spec in self.io.inputs}
        normalised = {k: (torch.as_tensor(self._normalised(k, v.double().numpy()), dtype=torch.float32)
                          if k in self.transformed else super(EqualisedPolicy, self)._normalize(k, v))
                      for k, v in sample.items()}
        features = torch.cat([export_friendly_preprocess(normalised[spec.name], self.spaces[spec.name])
                              .reshape(len(normalised[spec.name]), -1) for spec in self.io.inputs], dim=1)
        first = _first_layers(self, normalised, features)
        if not first:
            raise ValueError("no linear layer reads the observation directly: nothing to fold the input ranges into")
        with torch.no_grad():
            for layer in first.values():
                for key in self.transformed:
                    a, b = columns[key]
                    c = torch.as_tensor(self.centres[key].reshape(-1), dtype=torch.float64)
                    h = torch.as_tensor(self.halves[key].reshape(-1), dtype=torch.float64)
                    weight = layer.weight.double()
                    layer.bias.copy_((layer.bias.double() + weight[:, a:b] @ c).float())
                    layer.weight[:, a:b] = (weight[:, a:b] * h).float()
        return list(first)

    def _columns(self) -> tuple[dict[str, tuple[int, int]], int]:
        """Each input's columns in the features the first layer reads (inputs in the order SB3 concatenates)."""
        columns, start = {}, 0
        for spec in self.io.inputs:
            width = int(export_friendly_preprocess(torch.zeros((1, *spec.shape)), self.spaces[spec.name]).reshape(1, -1).shape[1])
            columns[spec.name] = (start, start + width)
            start += width
        return columns, start


def _first_layers(module: EqualisedPolicy, normalised: dict[str, torch.Tensor], features: torch.Tensor) -> dict[str, nn.Linear]:
    """The linear layers whose input, on a real batch, is the observation features themselves."""
    seen: dict[str, torch.Tensor] = {}
    hooks = []

    def record(name: str) -> Any:
        def hook(layer: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
            seen.setdefault(name, args[0].detach().clone())
        return hook

    for name, layer in module.policy.named_modules():
        if isinstance(layer, nn.Linear) and layer.in_features == features.shape[1] and layer.bias is not None:
            hooks.append(layer.register_forward_hook(record(name)))
    try:
        with torch.no_grad(), friendly_preprocessing():
            obs = normalised if module.io.dict_observation else normalised[module.io.inputs[0].name]
            module._decide(obs)
    finally:
        for hook in hooks:
            hook.remove()
    layers = dict(module.policy.named_modules())
    return {name: layers[name] for name, value in seen.items()
            if value.shape == features.shape and torch.allclose(value, features, rtol=1e-5, atol=1e-6)}


def _copy_policy(policy: nn.Module) -> nn.Module:
    """A copy of the policy whose layers can be changed. gSDE keeps tensors computed from its parameters (not
    leaves, which ``deepcopy`` refuses) and torch distributions: those are shared, as deterministic actions
    never read them."""
    memo: dict[int, Any] = {}

    def share(obj: Any) -> None:
        for value in vars(obj).values():
            if isinstance(value, torch.distributions.Distribution) or (isinstance(value, torch.Tensor) and not value.is_leaf):
                memo[id(value)] = value
            elif isinstance(value, (list, tuple)):
                for item in value:
                    if isinstance(item, torch.Tensor) and not item.is_leaf:
                        memo[id(item)] = item

    for module in policy.modules():
        share(module)
        for value in vars(module).values():
            if hasattr(value, "__dict__") and not isinstance(value, (nn.Module, torch.Tensor, type)):
                share(value)  # e.g. SB3's action distribution objects
    return copy.deepcopy(policy, memo)


def _input_spaces(loaded: LoadedModel) -> dict[str, spaces.Space]:
    space = loaded.observation_space
    return dict(space.spaces) if isinstance(space, spaces.Dict) else {"observation": space}


def _equalisable(space: spaces.Space) -> bool:
    return (isinstance(space, spaces.Box) and np.issubdtype(space.dtype, np.floating) and not is_image_space(space)
            and len(space.shape) <= 2)


def _flat(values: np.ndarray) -> list[float]:
    return [float(v) for v in np.asarray(values, np.float64).ravel()]


def equalised(loaded: LoadedModel, states: Any) -> tuple[EqualisedPolicy, dict[str, Any]]:
    """The equalised graph and what ``run.json`` says about it; ``ValueError`` when it cannot be built or does
    not compute the original's function in float (checked on ``states``)."""
    module = EqualisedPolicy(loaded, states).eval()
    exact = ExactPolicy(loaded).eval()
    batch = states if isinstance(states, dict) else {module.io.inputs[0].name: states}
    rows = min(len(next(iter(batch.values()))), 512)
    sample = {k: np.asarray(v[:rows]) for k, v in batch.items()}
    feeds_exact = exact.io.feeds(sample if module.io.dict_observation else sample[module.io.inputs[0].name])
    feeds_equal = module.io.feeds(sample if module.io.dict_observation else sample[module.io.inputs[0].name])
    with torch.no_grad(), friendly_preprocessing():
        a = exact(*(torch.from_numpy(feeds_exact[s.name]) for s in exact.io.inputs)).double().numpy()
        b = module(*(torch.from_numpy(feeds_equal[s.name]) for s in module.io.inputs)).double().numpy()
    if module.io.discrete:
        agreement = float(np.mean(np.all((a == b).reshape(rows, -1), axis=1)))
        if agreement < 0.99:
            raise ValueError(f"the folded graph agrees with the original on only {agreement:.1%} of the states")
        check = {"agreement_percent": 100 * agreement}
    else:
        span = float(np.max(np.abs(a))) or 1.0
        error = float(np.max(np.abs(a - b)))
        if error > 1e-4 * max(1.0, span):
            raise ValueError(f"the folded graph moves the original's actions by {error:.2g} in float")
        check = {"max_abs_error_float": error}
    how = {
        "inputs": {key: ("VecNormalize on the float side, then each feature's visited range to [-1, 1]"
                         if key in module._normalized else "each feature's visited range to [-1, 1]")
                   for key in module.transformed},
        "folded_into": module.folded,
        "float_check": check,
        "widest_to_narrowest": {key: float(module.halves[key].max() / module.halves[key].min()) for key in module.transformed},
    }
    return module, how
