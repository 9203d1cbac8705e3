"""MaskablePPO as a graph with a second input, ``action_mask`` (1 = allowed).

The mask has SB3's layout: one entry per action for Discrete, the parts' entries one after the other
for MultiDiscrete, two per binary action (``[may be 0, may be 1]``) for MultiBinary. SB3 replaces a
masked logit by -1e8 and takes the argmax of the softmax; the graph replaces it by a value below every
logit of its part, ``min - (max - min) - 1``, and takes the argmax of the logits. Allowed logits pass
unchanged (``mask * logit + (1 - mask) * floor`` is exact for a 0/1 mask), so the decision is SB3's,
ties to the first index included; and unlike -1e8, the floor keeps the tensor's range that of the
logits, which int8 quantisation needs. A part with nothing allowed gives 0, as SB3 does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.policies import BaseModel

from ..errors import ExportError
from ..loading import LoadedModel
from ..policy_io import ACTION_MASK, EPISODE_START, STATE_IN, PolicyIO, TensorSpec
from .exact_policy import ExactPolicy


def mask_parts(action_space: spaces.Space) -> list[int]:
    """The sizes of the mask's consecutive parts (one part per categorical decision)."""
    if isinstance(action_space, spaces.Discrete):
        return [int(action_space.n)]
    if isinstance(action_space, spaces.MultiDiscrete):
        return [int(n) for n in np.asarray(action_space.nvec).ravel()]
    if isinstance(action_space, spaces.MultiBinary):
        return [2] * int(np.prod(action_space.shape))
    raise TypeError(f"MaskablePPO has no masks for {type(action_space).__name__} actions")


def parts_of_mask(io: "PolicyIO") -> list[int]:
    """The part sizes of a graph's mask input, from its I/O description alone."""
    return [int(n) for n in io.extra["mask_parts"]]


def mask_spec(action_space: spaces.Space) -> TensorSpec:
    return TensorSpec(ACTION_MASK, [sum(mask_parts(action_space))], "float32", "bool")


def masked_argmax(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The argmax over the allowed entries of one part, exactly as SB3 decides it."""
    low = torch.amin(logits, dim=1, keepdim=True)
    high = torch.amax(logits, dim=1, keepdim=True)
    floor = low - (high - low) - 1.0
    return torch.argmax(mask * logits + (1.0 - mask) * floor, dim=1)


class MaskedExactPolicy(ExactPolicy):
    def __init__(self, loaded: LoadedModel) -> None:
        super().__init__(loaded)
        names = {spec.name for spec in self.io.inputs}
        if names & {ACTION_MASK, EPISODE_START, STATE_IN}:
            raise ExportError(loaded.path, f"an observation key is named like a graph input ({', '.join(sorted(names))})")
        self.parts = mask_parts(loaded.action_space)
        self.binary = isinstance(loaded.action_space, spaces.MultiBinary)
        self.io.action_mask = mask_spec(loaded.action_space)
        self.io.extra["mask_parts"] = self.parts

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        observation = self._observation(inputs[: len(self.keys)])
        mask = inputs[len(self.keys)]
        policy = self.policy
        features = BaseModel.extract_features(policy, observation, policy.pi_features_extractor)
        logits = policy.action_net(policy.mlp_extractor.forward_actor(features))
        bounds = np.cumsum([0, *self.parts]).tolist()
        columns = [masked_argmax(logits[:, a:b], mask[:, a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
        actions: Any = columns[0] if len(columns) == 1 and not self.binary else torch.stack(columns, dim=1)
        return self._bound(actions)

    def example_inputs(self, batch: int = 2) -> tuple[torch.Tensor, ...]:
        return (*super().example_inputs(batch), torch.ones((batch, sum(self.parts))))
