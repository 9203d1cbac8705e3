"""A torch module that does everything ``model.predict(obs, deterministic=True)`` does.

Raw observation(s) in, environment action out: VecNormalize (folded in as constants), SB3's own
preprocessing and deterministic action selection (traced from the policy's ``_predict``, so argmax,
per-part argmax, rounding, tanh squashing and Q-value argmax are exactly SB3's), then the rescale to
the action bounds (squashed policies) or the clip to them (the others).
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.distributions import (
    BernoulliDistribution,
    CategoricalDistribution,
    MultiCategoricalDistribution,
)
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn

from ..loading import LoadedModel
from ..policy_io import PolicyIO, policy_io_for


_LOGIT_DISTRIBUTIONS = (CategoricalDistribution, MultiCategoricalDistribution, BernoulliDistribution)


def export_friendly_preprocess(obs: Any, observation_space: spaces.Space, normalize_images: bool = True) -> Any:
    """SB3's ``preprocess_obs`` with one-hot encoding written as comparisons.

    ``F.one_hot`` becomes an ONNX OneHot, which TFLite can only run with TensorFlow's select ops;
    ``obs == arange(n)`` is the same 0/1 vector from builtin ops (EQUAL, CAST).
    """
    from stable_baselines3.common.preprocessing import preprocess_obs

    if isinstance(observation_space, spaces.Dict):
        return {k: export_friendly_preprocess(v, observation_space[k], normalize_images) for k, v in obs.items()}
    if isinstance(observation_space, spaces.Discrete):
        return _one_hot(obs.reshape(-1), int(observation_space.n))
    if isinstance(observation_space, spaces.MultiDiscrete):
        columns = obs.reshape(obs.shape[0], -1)
        return torch.cat([_one_hot(columns[:, i], int(n)) for i, n in enumerate(observation_space.nvec.ravel())], dim=1)
    return preprocess_obs(obs, observation_space, normalize_images=normalize_images)


def _one_hot(values: torch.Tensor, n: int) -> torch.Tensor:
    classes = torch.arange(n, dtype=torch.float32)
    return (values.to(torch.float32).unsqueeze(-1) == classes).to(torch.float32)


@contextlib.contextmanager
def friendly_preprocessing() -> Iterator[None]:
    """While exporting, SB3's policies preprocess with :func:`export_friendly_preprocess`."""
    import stable_baselines3.common.policies as sb3_policies

    original = sb3_policies.preprocess_obs
    sb3_policies.preprocess_obs = export_friendly_preprocess
    try:
        yield
    finally:
        sb3_policies.preprocess_obs = original


def per_part_argmax(logits: torch.Tensor, sizes: list[int]) -> torch.Tensor:
    """The argmax of each consecutive part of ``logits`` (MultiDiscrete), stacked as columns.

    Slices, not torch.split: a Split with unequal parts needs TensorFlow's select ops in TFLite.
    """
    bounds = np.cumsum([0, *sizes]).tolist()
    parts = [logits[:, start:end] for start, end in zip(bounds[:-1], bounds[1:])]
    return torch.stack([torch.argmax(part, dim=1) for part in parts], dim=1)


def _finite(values: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(values)))


class ExactPolicy(nn.Module):
    def __init__(self, loaded: LoadedModel) -> None:
        super().__init__()
        self.policy = loaded.policy
        self.io: PolicyIO = policy_io_for(loaded.observation_space, loaded.action_space)
        self.float_output = torch.float32  # float64 when evaluated as the precision reference
        self.keys = [spec.name for spec in self.io.inputs]
        self.action_shape = tuple(loaded.action_space.shape)
        self._normalized: list[str] = []
        self.clip_obs = 0.0
        norm = loaded.normalization
        if norm is not None:
            self.clip_obs = float(norm.clip_obs)
            stats = (
                {k: (norm.mean[k], norm.var[k]) for k in norm.keys or []}
                if isinstance(norm.mean, dict)
                else {"observation": (norm.mean, norm.var)}
            )
            for key, (mean, var) in stats.items():
                std = np.sqrt(np.asarray(var, np.float64) + norm.epsilon)
                self.register_buffer(f"mean_{key}", torch.as_tensor(np.asarray(mean, np.float32)))
                self.register_buffer(f"std_{key}", torch.as_tensor(std.astype(np.float32)))
                self._normalized.append(key)
        space = loaded.action_space
        self.squash = isinstance(space, spaces.Box) and bool(self.policy.squash_output)
        self.clip = isinstance(space, spaces.Box) and not self.squash and (_finite(space.low) or _finite(space.high))
        if isinstance(space, spaces.Box):
            self.register_buffer("low", torch.as_tensor(space.low.astype(np.float32)))
            self.register_buffer("high", torch.as_tensor(space.high.astype(np.float32)))

    def _normalize(self, key: str, obs: torch.Tensor) -> torch.Tensor:
        if key not in self._normalized:
            return obs
        mean, std = getattr(self, f"mean_{key}"), getattr(self, f"std_{key}")
        return torch.clamp((obs - mean) / std, -self.clip_obs, self.clip_obs)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self._bound(self._decide(self._observation(inputs)))

    def _observation(self, inputs: tuple[torch.Tensor, ...]) -> Any:
        """The normalised observation (a dict for Dict spaces) from the graph's observation inputs."""
        named = {key: self._normalize(key, value) for key, value in zip(self.keys, inputs)}
        return named if self.io.dict_observation else named["observation"]

    def _bound(self, actions: torch.Tensor) -> torch.Tensor:
        """Actions reshaped, rescaled (squashed policies) or clipped to the bounds, in the graph's dtype."""
        actions = actions.reshape((-1, *self.action_shape))
        if self.squash:
            actions = self.low + 0.5 * (actions + 1.0) * (self.high - self.low)
        elif self.clip:
            actions = torch.clamp(actions, self.low, self.high)
        return actions.to(self.float_output if self.io.action.dtype == "float32" else torch.int64)

    def _decide(self, obs: Any) -> torch.Tensor:
        """The policy's deterministic action before bounds.

        Actor-critic policies decide from their latent code (:meth:`_act_from_latent`); everything else
        is SB3's own ``_predict``.
        """
        policy = self.policy
        if not isinstance(policy, ActorCriticPolicy) or not isinstance(getattr(policy, "action_dist", None),
                                                                       _LOGIT_DISTRIBUTIONS):
            return policy._predict(obs, deterministic=True)
        features = policy.extract_features(obs, policy.pi_features_extractor)
        return self._act_from_latent(policy.mlp_extractor.forward_actor(features))

    def _act_from_latent(self, latent_pi: torch.Tensor) -> torch.Tensor:
        """Discrete actions decide from their logits directly (argmax, per-part argmax, sign): the same
        decision as SB3's argmax of softmax probabilities, without the log-sum-exp normalisation that
        int8 quantises badly and the Edge TPU cannot map. Box actions are the distribution's mode."""
        policy = self.policy
        dist = policy.action_dist
        if not isinstance(dist, _LOGIT_DISTRIBUTIONS):
            return policy._get_action_dist_from_latent(latent_pi).get_actions(deterministic=True)
        logits = policy.action_net(latent_pi)
        if isinstance(dist, CategoricalDistribution):
            return torch.argmax(logits, dim=1)
        if isinstance(dist, MultiCategoricalDistribution):
            return per_part_argmax(logits, dist.action_dims)
        return (logits > 0).to(torch.float32)  # Bernoulli: round(sigmoid(x)) is 1 exactly when x > 0

    def example_inputs(self, batch: int = 2) -> tuple[torch.Tensor, ...]:
        return tuple(torch.zeros((batch, *spec.shape), dtype=torch.float32) for spec in self.io.inputs)
