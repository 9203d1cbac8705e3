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
# Graph inputs and outputs beyond observations and actions (MaskablePPO, RecurrentPPO). The first two
# come with each observation (an observation batch is then a dict that carries them, see
# :mod:`studio.core.carried`); the LSTM state is carried by whoever runs the graph, step by step.
ACTION_MASK, EPISODE_START = "action_mask", "episode_start"
STATE_IN, STATE_OUT = "lstm_state_in", "lstm_state_out"


def flat_state_shape(shape: list[int]) -> list[int]:
    """``[2 * layers, hidden]``: the same numbers in the same order as ``[2, layers, 1, hidden]``, as
    TFLite graphs take the LSTM state."""
    return [shape[0] * shape[1] * shape[2], shape[3]]


@dataclass
class TensorSpec:
    name: str
    shape: list[int]  # without the batch dimension
    dtype: str  # what the graph takes or gives: "float32", "int64"
    env_dtype: str  # what the environment emits or takes
    # Images: the graph takes channels first (NCHW); the environment may emit channels last.
    channels_first: bool = False
    # What the host computes before the graph, per feature, when an int8 graph's input ranges were equalised
    # (see studio.core.int8.equalise): clip((observation - offset) * scale, low, high), in float32; "low" and
    # "high" only where the graph's own normalisation clipped. None: the raw observation goes in.
    transform: dict[str, list[float]] | None = None

    def transformed(self, value: np.ndarray) -> np.ndarray:
        """``value`` (a float32 batch in the graph's shape) through :attr:`transform`."""
        arrays = self.__dict__.get("_transform_arrays")
        if arrays is None:  # built once: this runs on every call of every runtime
            assert self.transform is not None
            arrays = {key: np.asarray(self.transform[key], np.float32).reshape(self.shape)
                      for key in ("offset", "scale", "low", "high") if key in self.transform}
            self.__dict__["_transform_arrays"] = arrays
        out = (value - arrays["offset"]) * arrays["scale"]
        if "low" in arrays:
            out = np.minimum(np.maximum(out, arrays["low"]), arrays["high"])
        return out.astype(np.float32, copy=False)


@dataclass
class PolicyIO:
    inputs: list[TensorSpec]
    action: TensorSpec
    dict_observation: bool = False
    action_kind: str = "Box"  # Box, Discrete, MultiDiscrete, MultiBinary
    extra: dict[str, Any] = field(default_factory=dict)
    # MaskablePPO: the mask input, 1 = allowed, in SB3's layout (one entry per choice of every part).
    action_mask: TensorSpec | None = None
    # RecurrentPPO: the actor's LSTM (h, c) stacked, [2, layers, 1, hidden], in as STATE_IN, out as STATE_OUT.
    recurrent_state: TensorSpec | None = None

    @property
    def carried(self) -> list[TensorSpec]:
        """Per-step inputs that come with the observation: the action mask, the episode start flag."""
        specs = [self.action_mask] if self.action_mask is not None else []
        if self.recurrent_state is not None:
            specs.append(TensorSpec(EPISODE_START, [], "float32", "float32"))
        return specs

    @property
    def graph_inputs(self) -> list[TensorSpec]:
        """Every input of the graph, in order: observations, carried inputs, then the LSTM state."""
        state = [TensorSpec(STATE_IN, self.recurrent_state.shape, "float32", "float32")] if self.recurrent_state else []
        return [*self.inputs, *self.carried, *state]

    @property
    def output_names(self) -> list[str]:
        return [self.action.name, STATE_OUT] if self.recurrent_state is not None else [self.action.name]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def transformed_inputs(self) -> bool:
        """Whether the host must transform observations before the graph (see :attr:`TensorSpec.transform`)."""
        return any(spec.transform is not None for spec in self.inputs)

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
            action_mask=TensorSpec(**data["action_mask"]) if data.get("action_mask") else None,
            recurrent_state=TensorSpec(**data["recurrent_state"]) if data.get("recurrent_state") else None,
        )

    def feeds(self, observation: Any) -> dict[str, np.ndarray]:
        """Graph inputs for a batch of raw observations (a dict of batches for Dict spaces, or one that
        carries the action mask and episode starts). Carried inputs left out take their neutral value:
        everything allowed, no episode start. The LSTM state is not among them."""
        carrier = isinstance(observation, dict)
        plain = self.action_mask is None and self.recurrent_state is None
        if (plain and not carrier and not self.dict_observation and not self.inputs[0].channels_first
                and self.inputs[0].transform is None):
            spec = self.inputs[0]  # the common case, kept short: it runs on every call of every runtime
            return {spec.name: np.asarray(observation, dtype=np.float32).reshape((-1, *spec.shape))}
        feeds = {}
        for spec in self.inputs:
            value = observation[spec.name] if carrier else observation
            value = np.asarray(value)
            if spec.channels_first and value.shape[1:] != tuple(spec.shape):
                value = np.transpose(value, (0, 3, 1, 2))  # the environment's NHWC to the graph's NCHW
            feeds[spec.name] = np.ascontiguousarray(value, dtype=spec.dtype).reshape((-1, *spec.shape))
            if spec.transform is not None:
                feeds[spec.name] = spec.transformed(feeds[spec.name])
        rows = len(next(iter(feeds.values())))
        for spec in self.carried:
            if carrier and spec.name in observation:
                value = np.asarray(observation[spec.name], dtype=np.float32).reshape((rows, *spec.shape))
            else:
                value = np.full((rows, *spec.shape), 1.0 if spec.name == ACTION_MASK else 0.0, np.float32)
            feeds[spec.name] = np.ascontiguousarray(value)
        return feeds

    def action_from(self, output: np.ndarray) -> np.ndarray:
        """The environment's action batch from the graph's output."""
        return np.asarray(output).reshape((-1, *self.action.shape)).astype(self.action.env_dtype, copy=False)

    @property
    def plain(self) -> bool:
        """One input that needs no rearranging: a runtime may hand it a float32 batch as it comes."""
        return (not self.dict_observation and len(self.inputs) == 1 and not self.inputs[0].channels_first
                and self.action_mask is None and self.recurrent_state is None)

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
    # SB3 stores image spaces channels first (VecTransposeImage), whatever the number of channels:
    # stacked frames give 2, 4, 8... The smallest dimension first says so, as SB3 decides it.
    channels_first = image and len(shape) == 3 and shape[0] == min(shape) and shape[0] < shape[1]
    return TensorSpec(name, shape, "float32", str(space.dtype), channels_first=channels_first)


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
