"""What goes into and comes out of an exported policy: :class:`PolicyIO`.

Stored as JSON in every artifact's metadata (and in ``run.json``), so a runtime can feed an artifact
raw environment observations and read back environment actions with nothing else at hand.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from gymnasium import spaces

from .spaces import is_image_space

ONNX_METADATA_KEY = "sb3_studio.policy_io"


@dataclass
class TensorSpec:
    name: str
    shape: list[int]  # without the batch dimension
    dtype: str  # what the graph takes or gives: "float32", "int64"
    env_dtype: str  # what the environment emits or takes
    # Images: the graph takes channels first (NCHW); the environment may emit channels last.
    channels_first: bool = False


@dataclass
class PolicyIO:
    inputs: list[TensorSpec]
    action: TensorSpec
    dict_observation: bool = False
    action_kind: str = "Box"  # Box, Discrete, MultiDiscrete, MultiBinary
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def dumps(self) -> str:
        return json.dumps(self.to_json())

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PolicyIO":
        return cls(
            inputs=[TensorSpec(**spec) for spec in data["inputs"]],
            action=TensorSpec(**data["action"]),
            dict_observation=data.get("dict_observation", False),
            action_kind=data.get("action_kind", "Box"),
            extra=data.get("extra", {}),
        )

    def feeds(self, observation: Any) -> dict[str, np.ndarray]:
        """Graph inputs for a batch of raw observations (a dict of batches for Dict spaces)."""
        if not self.dict_observation and not self.inputs[0].channels_first:
            spec = self.inputs[0]  # the common case, kept short: it runs on every call of every runtime
            return {spec.name: np.asarray(observation, dtype=np.float32).reshape((-1, *spec.shape))}
        feeds = {}
        for spec in self.inputs:
            value = observation[spec.name] if self.dict_observation else observation
            value = np.asarray(value)
            if spec.channels_first and value.shape[1:] != tuple(spec.shape):
                value = np.transpose(value, (0, 3, 1, 2))  # the environment's NHWC to the graph's NCHW
            feeds[spec.name] = np.ascontiguousarray(value, dtype=spec.dtype).reshape((-1, *spec.shape))
        return feeds

    def action_from(self, output: np.ndarray) -> np.ndarray:
        """The environment's action batch from the graph's output."""
        return np.asarray(output).reshape((-1, *self.action.shape)).astype(self.action.env_dtype, copy=False)

    @property
    def plain(self) -> bool:
        """One input that needs no rearranging: a runtime may hand it a float32 batch as it comes."""
        return not self.dict_observation and len(self.inputs) == 1 and not self.inputs[0].channels_first

    @property
    def discrete(self) -> bool:
        return self.action_kind != "Box"


def _input_spec(name: str, space: spaces.Space) -> TensorSpec:
    if isinstance(space, spaces.Discrete):
        shape: list[int] = []
    elif isinstance(space, (spaces.Box, spaces.MultiDiscrete, spaces.MultiBinary)):
        shape = list(space.shape)
    else:
        raise TypeError(f"observation space {type(space).__name__} is not supported")
    image = isinstance(space, spaces.Box) and is_image_space(space)
    return TensorSpec(name, shape, "float32", str(space.dtype), channels_first=image and shape[0] in (1, 3, 4))


def policy_io_for(observation_space: spaces.Space, action_space: spaces.Space) -> PolicyIO:
    if isinstance(observation_space, spaces.Dict):
        inputs = [_input_spec(key, space) for key, space in observation_space.spaces.items()]
    else:
        inputs = [_input_spec("observation", observation_space)]
    kind = type(action_space).__name__
    graph_dtype = {"Box": "float32", "MultiBinary": "float32"}.get(kind, "int64")
    env_dtype = "float32" if kind in ("Box", "MultiBinary") else "int64"
    action = TensorSpec("action", list(action_space.shape), graph_dtype, env_dtype)
    return PolicyIO(inputs, action, isinstance(observation_space, spaces.Dict), kind)
