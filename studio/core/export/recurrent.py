"""RecurrentPPO as a graph with its LSTM state as explicit inputs and outputs.

Inputs ``observation`` (or one per Dict key), ``episode_start`` (1.0 at the first step of an episode)
and ``lstm_state_in`` (the actor's h and c stacked, ``[2, layers, 1, hidden]``); outputs ``action``
and ``lstm_state_out`` (same shape). One call is one step of what ``predict(obs, state,
episode_start, deterministic=True)`` does: the state is multiplied by ``1 - episode_start`` (SB3's
reset), the actor's LSTM advances one step, the actor's head decides. Only the actor's state is
needed to act: a separate critic LSTM, a shared one and none all give the same actions.

The LSTM is written out as its cell (two matrix products, sigmoid, tanh, products and sums per layer)
rather than an ONNX LSTM op: onnx2tf, TFLite's int8 quantiser and the Edge TPU all take those
builtin ops, and one step needs no loop.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from stable_baselines3.common.policies import BaseModel

from ..errors import ExportError
from ..loading import LoadedModel
from ..policy_io import STATE_IN, TensorSpec, flat_state_shape
from .exact_policy import ExactPolicy


def lstm_shape(policy: Any) -> list[int]:
    """``[2, layers, 1, hidden]``: the actor's (h, c) for one environment."""
    lstm = policy.lstm_actor
    return [2, int(lstm.num_layers), 1, int(lstm.hidden_size)]


class RecurrentExactPolicy(ExactPolicy):
    """``flat_state``: the state in and out as ``[2 * layers, hidden]`` (the graph for TFLite: the Edge
    TPU takes tensors whose dimensions larger than 1 are their innermost three, and [2, layers, 1,
    hidden] has one more; the runtime reshapes, which moves no number)."""

    def __init__(self, loaded: LoadedModel, flat_state: bool = False) -> None:
        super().__init__(loaded)
        self.flat_state = flat_state
        lstm = self.policy.lstm_actor
        if lstm.bidirectional or getattr(lstm, "proj_size", 0):
            raise ExportError(loaded.path, "a bidirectional or projected LSTM is not what RecurrentPPO builds")
        self.layers = int(lstm.num_layers)
        self.io.recurrent_state = TensorSpec(STATE_IN, lstm_shape(self.policy), "float32", "float32")

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        observation = self._observation(inputs[: len(self.keys)])
        episode_start, state = inputs[len(self.keys)], inputs[len(self.keys) + 1]
        policy = self.policy
        features = BaseModel.extract_features(policy, observation, policy.pi_features_extractor)
        # Two-dimensional from here on: rows h_0..h_L-1, c_0..c_L-1 of one environment. onnx2tf takes
        # 3-D and 4-D tensors for channels-first images and transposes them; 2-D rows it leaves alone.
        layers = self.layers
        rows = state.reshape(2 * layers, -1)
        keep = (1.0 - episode_start).reshape(1, 1)  # SB3's reset: (1 - episode_start) * state
        lstm = policy.lstm_actor
        x, new_hidden, new_cell = features, [], []
        for layer in range(layers):
            h = keep * rows[layer:layer + 1]
            c = keep * rows[layers + layer:layers + layer + 1]
            h, c = _lstm_cell(lstm, layer, x, h, c)
            new_hidden.append(h)
            new_cell.append(c)
            x = h
        actions = self._bound(self._act_from_latent(policy.mlp_extractor.forward_actor(x)))
        return actions, torch.cat([*new_hidden, *new_cell]).reshape(state.shape)

    def example_inputs(self, batch: int = 1) -> tuple[torch.Tensor, ...]:
        """One environment, one step: the graph's batch is 1."""
        shape = self.io.recurrent_state.shape
        return (*super().example_inputs(1), torch.zeros(1), torch.zeros(flat_state_shape(shape) if self.flat_state else shape))


def _lstm_cell(lstm: torch.nn.LSTM, layer: int, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor) -> tuple[Any, Any]:
    """One step of layer ``layer`` of ``lstm`` (PyTorch's gate order: input, forget, cell, output)."""
    weights = {name: getattr(lstm, f"{name}_l{layer}", None) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    # As PyTorch's own cell adds them: linear(x, W_ih, b_ih) + linear(h, W_hh, b_hh).
    gates = F.linear(x, weights["weight_ih"], weights["bias_ih"]) + F.linear(h, weights["weight_hh"], weights["bias_hh"])
    size = lstm.hidden_size
    i, f, g, o = (gates[:, k * size:(k + 1) * size] for k in range(4))
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c
