"""The error float arithmetic itself makes: the yardstick for judging float artifacts.

An exported graph computes the same function as the original in a different order, so it cannot match
SB3's float32 ``predict`` bit for bit; how far it may be depends on the policy (376 inputs with
unbounded ranges move a float32 result far more than 4). So every action is also evaluated in float64
(:class:`FloatReference`), and an artifact is judged against what the original itself does in float32
(or, for float16 artifacts, with its weights rounded to float16, as TFLite's float16 models store them):

* Box actions: max |artifact - float64| <= multiple x max |original - float64| + a floor of a few ulps;
* discrete actions: a disagreement is excused when the original's float64 margin between its first and
  second choice is within the multiple of its own error on its preferences: a float-precision tie.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Iterator

import numpy as np
import torch
from gymnasium import spaces

from .loading import LoadedModel
from .observations import ObservationSet

EPS32 = float(np.finfo(np.float32).eps)
FLOOR_ULPS = 4  # an error of this many float32 ulps of the action's size always passes


@contextlib.contextmanager
def float64_preprocessing() -> Iterator[None]:
    """SB3's ``preprocess_obs`` keeping float64 (it casts Box observations to float32)."""
    import stable_baselines3.common.policies as sb3_policies

    from .export.exact_policy import export_friendly_preprocess

    original = sb3_policies.preprocess_obs

    def keep_double(obs: Any, observation_space: spaces.Space, normalize_images: bool = True) -> Any:
        from stable_baselines3.common.preprocessing import is_image_space

        if isinstance(observation_space, spaces.Dict):
            return {k: keep_double(v, observation_space[k], normalize_images) for k, v in obs.items()}
        if isinstance(observation_space, spaces.Box):
            obs = obs.to(torch.float64)
            return obs / 255.0 if normalize_images and is_image_space(observation_space) else obs
        return export_friendly_preprocess(obs, observation_space, normalize_images).to(torch.float64)

    sb3_policies.preprocess_obs = keep_double
    try:
        yield
    finally:
        sb3_policies.preprocess_obs = original


def clone_policy(policy: Any) -> Any:
    """An independent copy of an SB3 policy (gSDE policies keep non-leaf tensors that deepcopy refuses:
    rebuild those from their constructor parameters and state dict, SB3's own way of saving a policy)."""
    try:
        return copy.deepcopy(policy)
    except RuntimeError:
        clone = type(policy)(**policy._get_constructor_parameters())
        clone.load_state_dict(policy.state_dict())
        clone.set_training_mode(False)
        return clone


def _with_policy(loaded: LoadedModel, policy: Any) -> Any:
    return SimpleNamespace(policy=policy, observation_space=loaded.observation_space,
                           action_space=loaded.action_space, normalization=loaded.normalization)


def _rounded_to_float16(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` with every float weight and constant rounded to float16, in place (it computes in float32)."""
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            if tensor.is_floating_point():
                tensor.copy_(tensor.to(torch.float16).to(tensor.dtype))
    return module


@dataclass
class SourceReference:
    """One observation source evaluated by the original: in float32 (``predict``), float64, and the
    original's own error per observation (max over action dims, or over preferences when discrete)."""

    actions: np.ndarray
    actions64: np.ndarray | None
    own_error: np.ndarray | None  # per observation
    margins64: np.ndarray | None = None  # discrete: float64 margin between first and second choice


class FloatReference:
    """Float64 evaluations of the original, cached per observation source and precision."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.discrete = not isinstance(loaded.action_space, spaces.Box)
        self._cache: dict[tuple[str, str], SourceReference] = {}
        self.problem: str | None = None  # why float64 could not be evaluated, if so

    def of(self, source: ObservationSet, precision: str = "float32") -> SourceReference:
        key = (source.source, precision)
        if key not in self._cache:
            self._cache[key] = self._evaluate(source.batch, precision)
        return self._cache[key]

    def _evaluate(self, batch: Any, precision: str) -> SourceReference:
        actions = np.asarray(self.loaded.predict(batch))
        try:
            if self.loaded.algo in ("RecurrentPPO", "MaskablePPO"):  # state and masks: step by step
                from .carried_reference import family_source_reference

                return family_source_reference(self.loaded, batch, actions, precision)
            if self.discrete:
                return self._discrete(batch, actions, precision)
            return self._continuous(batch, actions, precision)
        except (RuntimeError, TypeError, ValueError) as exc:
            self.problem = f"no float64 evaluation of this policy ({type(exc).__name__}: {str(exc).splitlines()[0]})"
            return SourceReference(actions, None, None)

    def _continuous(self, batch: Any, actions: np.ndarray, precision: str) -> SourceReference:
        from .export.exact_policy import ExactPolicy

        loaded = self.loaded
        double = ExactPolicy(_with_policy(loaded, clone_policy(loaded.policy))).eval().double()
        double.float_output = torch.float64
        feeds = double.io.feeds(batch)
        with torch.no_grad(), float64_preprocessing():
            actions64 = double(*(torch.from_numpy(feeds[s.name]).double() for s in double.io.inputs)).numpy()
        actions64 = actions64.reshape(actions.shape)
        if precision == "float16":
            # TFLite's float16 models store every constant in float16: the normalisation and bounds too.
            half = _rounded_to_float16(ExactPolicy(_with_policy(loaded, clone_policy(loaded.policy))).eval())
            with torch.no_grad():
                ours = half(*(torch.from_numpy(feeds[s.name]) for s in half.io.inputs))
            reference = ours.numpy().reshape(actions.shape).astype(np.float64)
        else:
            reference = actions.astype(np.float64)
        own = np.abs(reference - actions64).reshape(len(actions), -1).max(axis=1)
        return SourceReference(actions, actions64, own)

    def _discrete(self, batch: Any, actions: np.ndarray, precision: str) -> SourceReference:
        from .int8.teacher import decision_for, margins, preferences

        loaded = self.loaded
        policy = loaded.policy
        norm = loaded.normalization
        obs64 = norm.normalize(batch, dtype=np.float64) if norm is not None else _as_float64(batch)
        obs32 = norm.normalize(batch) if norm is not None else batch
        tensor64, _ = policy.obs_to_tensor(obs64)
        tensor32, _ = policy.obs_to_tensor(obs32)
        double = SimpleNamespace(policy=clone_policy(policy).double(), action_space=loaded.action_space)
        with float64_preprocessing():
            prefs64 = preferences(double, _to_double(tensor64)).numpy()
        if precision == "float16":
            ours = SimpleNamespace(policy=_rounded_to_float16(clone_policy(policy)), action_space=loaded.action_space)
            prefs = preferences(ours, tensor32).numpy()
        else:
            prefs = preferences(loaded, tensor32).numpy()
        own = np.abs(prefs.astype(np.float64) - prefs64).reshape(len(prefs64), -1).max(axis=1)
        return SourceReference(actions, None, own, margins(prefs64, decision_for(loaded)))


def _as_float64(batch: Any) -> Any:
    if isinstance(batch, dict):
        return {k: _as_float64(v) for k, v in batch.items()}
    array = np.asarray(batch)
    return array.astype(np.float64) if np.issubdtype(array.dtype, np.floating) else array


def _to_double(tensor: Any) -> Any:
    if isinstance(tensor, dict):
        return {k: _to_double(v) for k, v in tensor.items()}
    return tensor.double() if tensor.is_floating_point() else tensor


def floor_of(actions64: np.ndarray) -> float:
    """The error that always passes: a few float32 ulps of the largest action."""
    return FLOOR_ULPS * EPS32 * max(1.0, float(np.max(np.abs(actions64))) if actions64.size else 1.0)
