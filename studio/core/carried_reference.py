"""The float64 yardstick (:mod:`studio.core.float_reference`) for RecurrentPPO and MaskablePPO.

Their preferences come from SB3's own ``get_distribution``: with the LSTM state carried step by step
(reset at each episode start) for RecurrentPPO, with the carried masks for MaskablePPO. The original is
evaluated in float64 (a double copy of its policy) and, for its own error, in float32, or with its
weights rounded to float16 for float16 artifacts. Discrete: the preferences are the distribution's
logits, masked ones at SB3's -1e8 (never a tie); Box: the mean, then clipped or squashed as ``predict``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from .carried import rows, split


def _values(distribution: Any) -> torch.Tensor:
    """Pre-decision values of an SB3 (or sb3-contrib maskable) distribution, one row per observation."""
    inner = getattr(distribution, "distributions", None) or getattr(distribution, "distribution", None)
    if isinstance(inner, list):  # multi-categorical, maskable or not
        return torch.cat([d.logits for d in inner], dim=1)
    if isinstance(inner, torch.distributions.Normal):
        return inner.mean.reshape(len(inner.mean), -1)
    return inner.logits.reshape(len(inner.logits), -1)


def _preferences(policy: Any, tensor: Any, masks: Any, starts: np.ndarray | None, dtype: torch.dtype) -> np.ndarray:
    with torch.no_grad():
        if hasattr(policy, "lstm_actor"):
            # One call for the whole sequence: SB3's own stepping through it (as in training), resetting the
            # state at each episode start, from zeros.
            shape = policy.lstm_hidden_state_shape
            state = (torch.zeros(shape, dtype=dtype), torch.zeros(shape, dtype=dtype))
            flags = np.zeros(rows(tensor)) if starts is None else np.asarray(starts, np.float64).reshape(-1)
            distribution, _ = policy.get_distribution(tensor, state, torch.as_tensor(flags, dtype=dtype))
            return _values(distribution).double().numpy()
        distribution = policy.get_distribution(tensor, action_masks=None if masks is None else np.asarray(masks, bool))
        return _values(distribution).double().numpy()


def _decision(loaded: Any) -> Any:
    from .int8.teacher import Decision, decision_for

    space = loaded.action_space
    if loaded.algo == "MaskablePPO" and isinstance(space, spaces.MultiBinary):
        return Decision("multi_argmax", tuple([2] * int(np.prod(space.shape))))  # masked: a choice of two per bit
    return decision_for(loaded)


def _bounded(loaded: Any, means: np.ndarray) -> np.ndarray:
    space = loaded.action_space
    if loaded.policy.squash_output:
        return space.low + 0.5 * (np.tanh(means) + 1.0) * (space.high - space.low)
    return np.clip(means, space.low, space.high)


def family_source_reference(loaded: Any, batch: Any, actions: np.ndarray, precision: str) -> Any:
    """The :class:`~studio.core.float_reference.SourceReference` of ``batch`` for a carried-input policy."""
    from .float_reference import SourceReference, _rounded_to_float16, clone_policy, float64_preprocessing
    from .int8.teacher import margins

    plain, masks, starts = split(batch)
    norm = loaded.normalization
    obs64 = norm.normalize(plain, dtype=np.float64) if norm is not None else plain
    obs32 = norm.normalize(plain) if norm is not None else plain
    policy = loaded.policy
    double = clone_policy(policy).double()
    tensor64, _ = double.obs_to_tensor(obs64)
    tensor64 = {k: v.double() for k, v in tensor64.items()} if isinstance(tensor64, dict) else tensor64.double()
    with float64_preprocessing():
        prefs64 = _preferences(double, tensor64, masks, starts, torch.float64)
    ours = _rounded_to_float16(policy) if precision == "float16" else policy
    tensor32, _ = ours.obs_to_tensor(obs32)
    prefs = _preferences(ours, tensor32, masks, starts, torch.float32)
    if isinstance(loaded.action_space, spaces.Box):
        shape = np.shape(actions)
        actions64 = _bounded(loaded, prefs64).reshape(shape)
        reference = _bounded(loaded, prefs).reshape(shape) if precision == "float16" else actions.astype(np.float64)
        own = np.abs(reference - actions64).reshape(len(actions64), -1).max(axis=1)
        return SourceReference(actions, actions64, own)
    error = np.abs(prefs - prefs64)
    if masks is not None:  # masked logits sit at -1e8, where float32 steps are 8: only allowed ones count
        error = np.where(np.asarray(masks, bool).reshape(error.shape), error, 0.0)
    own = error.reshape(len(prefs64), -1).max(axis=1)
    return SourceReference(actions, None, own, margins(prefs64, _decision(loaded)))
