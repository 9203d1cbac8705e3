"""One entry point that loads any Stable-Baselines3 model for every later stage: :func:`load_model`.

Loading never runs code from the file. The ``data`` entry's pickles go through
:mod:`studio.core.safe_pickle`; schedules are replaced by constants; spaces are rebuilt as fresh
Gymnasium spaces; weights load with ``torch.load(weights_only=True)``. The model object is then built
the way SB3's own ``load`` builds it (algorithm class, ``_setup_model``, state dicts), so its
``predict`` is SB3's. ``trust=True`` falls back to SB3's own loader, which runs the file's pickles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import algorithms
from .envs.recipe import EnvRecipe, EnvSettings
from .envs.wrappers import UnknownWrapper, parse_wrappers
from .errors import (
    EnvironmentUnavailableError,
    ForbiddenClassError,
    MissingWeightsError,
    ModelLoadError,
    NormalizationError,
    NotAModelError,
    TruncatedFileError,
)
from .validation import (
    MAX_WEIGHT_BYTES,
    SCHEDULE_CONSTANTS,
    check_fields,
    check_weights,
    decode_data,
    hyperparameters,
    read_archive,
)
from .zoo import ObservationNormalization, ZooRun, find_zoo_run, load_vecnormalize

@dataclass
class LoadedModel:
    """A model ready for prediction, export and inspection."""

    path: Path
    algo: str
    model: Any  # the SB3 BaseAlgorithm
    normalization: ObservationNormalization | None
    env_settings: EnvSettings
    zoo: ZooRun
    sb3_version: str | None
    python_version: str | None
    trusted: bool = False
    notes: list[str] = field(default_factory=list)
    carrier: Any = field(default=None, repr=False)  # RecurrentPPO / MaskablePPO: see studio.core.carried

    @property
    def env_id(self) -> str | None:
        return self.env_settings.env_id

    def env_recipe(self) -> EnvRecipe:
        """How to make this model's environment here (cached); :class:`EnvironmentUnavailableError` if it cannot be."""
        from .envs import resolve

        if self.env_settings.problems:
            raise EnvironmentUnavailableError(None, f"environment {self.env_id} is not made as the zoo made it: "
                                                    + "; ".join(self.env_settings.problems))
        return resolve(self.env_settings, self.observation_space, self.action_space, self.normalization)

    def make_env(self, render_mode: str | None = None) -> Any:
        """The environment; for RecurrentPPO and MaskablePPO its observations carry the episode start
        and the action mask (:class:`studio.core.carried.CarryingWrapper`)."""
        env = self.env_recipe().make(render_mode)
        if self.algo in ("RecurrentPPO", "MaskablePPO"):
            from .carried import carrying

            env = carrying(env, self)
        return env

    @property
    def policy(self) -> Any:
        return self.model.policy

    @property
    def observation_space(self) -> Any:
        return self.model.observation_space

    @property
    def action_space(self) -> Any:
        return self.model.action_space

    def predict(self, observation: Any) -> np.ndarray:
        """The original's deterministic action for a batch of raw observations (as the env emits them).

        RecurrentPPO and MaskablePPO take observations that carry episode starts and masks, and the
        LSTM state goes on from call to call (:mod:`studio.core.carried`)."""
        if self.algo in ("RecurrentPPO", "MaskablePPO"):
            from .carried import OriginalCarrier

            self.carrier = self.carrier or OriginalCarrier(self)
            return self.carrier.predict(observation)
        if self.normalization is not None:
            observation = self.normalization.normalize(observation)
        action, _ = self.model.predict(observation, deterministic=True)
        return action


def _allow_old_gym() -> None:
    """SB3's own loader needs the old ``gym`` package for SB3 1.x files; ``studio.core`` hides it otherwise."""
    import sys

    if "gym" in sys.modules and sys.modules["gym"] is None:
        del sys.modules["gym"]


def _decode_data_trusted(path: Path, raw: bytes) -> tuple[dict[str, Any], list[str]]:
    """``--trust``: SB3's own decoding, which runs the file's pickles (custom classes included)."""
    from stable_baselines3.common.save_util import json_to_data

    _allow_old_gym()

    try:
        data = json_to_data(raw.decode("utf-8"), custom_objects=dict(SCHEDULE_CONSTANTS))
    except Exception as exc:  # noqa: BLE001 - anything can come out of a trusted pickle
        raise NotAModelError(path, f"SB3 cannot decode its 'data' entry ({type(exc).__name__}: {exc})") from None
    return data, [key for key in SCHEDULE_CONSTANTS if key in data]


def _load_weights(path: Path, files: dict[str, bytes]) -> dict[str, Any]:
    from .safe_torch import ForbiddenInWeights, WeightsError, load_state_dict

    if "policy.pth" not in files:
        raise MissingWeightsError(path, "the zip has no policy.pth, so no policy weights")
    try:
        weights = load_state_dict(files["policy.pth"], MAX_WEIGHT_BYTES)
    except ForbiddenInWeights as exc:
        raise ForbiddenClassError(path, exc.name, "policy.pth") from None
    except WeightsError as exc:
        raise TruncatedFileError(path, f"policy.pth {exc}") from None
    check_weights(path, weights)
    return weights


def _versions(files: dict[str, bytes]) -> tuple[str | None, str | None]:
    sb3 = files.get("_stable_baselines3_version", b"").decode(errors="replace").strip() or None
    info = files.get("system_info.txt", b"").decode(errors="replace")
    python = re.search(r"Python:\s*([\w.+]+)", info)
    return sb3, python.group(1) if python else None


def _build_model(path: Path, algo: str, data: dict[str, Any], weights: dict[str, Any], notes: list[str]) -> Any:
    from .legacy import adapt
    from .model_size import declared_parameters, plausible, stored_parameters

    cls = algorithms.algorithm_class(algo)
    kwargs = dict(data.get("policy_kwargs") or {})
    kwargs.pop("device", None)
    arch = kwargs.get("net_arch")
    if arch and isinstance(arch, list) and isinstance(arch[-1], dict):
        kwargs["net_arch"] = arch[-1]  # SB3 < 1.8 wrote [dict(pi=..., vf=...)]
    kwargs, weights, adapted = adapt(algo, data["policy_class"], kwargs, weights)
    notes += adapted
    data = dict(hyperparameters(data), policy_kwargs=kwargs, n_envs=1)
    # Prediction needs no replay or rollout buffer: keep SB3 from allocating one of buffer_size observations.
    data.update(buffer_size=1, n_steps=1, replay_buffer_class=None, replay_buffer_kwargs={})
    try:
        declared = declared_parameters(data)
    except Exception as exc:  # noqa: BLE001 - SB3's constructors on a file's (validated) arguments
        raise NotAModelError(path, f"cannot rebuild the {algo} policy ({type(exc).__name__}: {exc})") from None
    if not plausible(declared, stored_parameters(weights)):
        raise NotAModelError(path, f"policy_kwargs declare a network of {declared:,} parameters; policy.pth holds "
                                   f"{stored_parameters(weights):,}")
    model = cls(policy=data["policy_class"], env=None, device="cpu", _init_setup_model=False)
    model.__dict__.update(data)
    try:
        model._setup_model()
    except Exception as exc:  # noqa: BLE001 - SB3's setup on a file's (validated) hyperparameters
        raise NotAModelError(path, f"cannot rebuild the {algo} policy ({type(exc).__name__}: {exc})") from None
    try:
        missing, unexpected = model.policy.load_state_dict(weights, strict=False)
    except RuntimeError as exc:  # shapes that do not fit
        detail = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
        raise NotAModelError(path, f"policy.pth does not fit the {algo} policy ({detail[:200]})") from None
    # SB3 < 1.7 saved A2C/PPO without the (parameter-free) per-network features extractors.
    missing = [k for k in missing if not k.startswith(("pi_features_extractor.", "vf_features_extractor."))]
    if missing or unexpected:
        problem = "missing " + ", ".join(missing[:3]) if missing else "unexpected " + ", ".join(unexpected[:3])
        raise NotAModelError(path, f"policy.pth does not fit the {algo} policy ({problem})")
    model.policy.set_training_mode(False)
    return model


def _load_trusted(path: Path, algo: str) -> Any:
    cls = algorithms.algorithm_class(algo)
    _allow_old_gym()
    try:
        return cls.load(path, device="cpu", custom_objects=dict(SCHEDULE_CONSTANTS))
    except Exception as exc:  # noqa: BLE001 - SB3's loader raises anything; we name it
        raise ModelLoadError(path, f"SB3's own loader failed ({type(exc).__name__}: {exc})") from None


def _normalization(
    path: Path, zoo: ZooRun, vecnormalize: Path | None, observation_space: Any
) -> ObservationNormalization | None:
    source = vecnormalize or zoo.vecnormalize
    if source is None:
        return None
    norm = load_vecnormalize(Path(source))
    if norm is None:
        return None
    stack = zoo.frame_stack
    if stack > 1 and not isinstance(norm.mean, dict) and np.ndim(norm.mean) >= 1 and \
            np.shape(norm.mean)[:-1] + (np.shape(norm.mean)[-1] * stack,) == tuple(observation_space.shape):
        # The zoo normalises before it stacks frames: one frame's statistics, repeated for each frame.
        norm.mean = np.concatenate([norm.mean] * stack, axis=-1)
        norm.var = np.concatenate([norm.var] * stack, axis=-1)
    shapes = norm.mean if isinstance(norm.mean, dict) else {None: norm.mean}
    for key, mean in shapes.items():
        space = observation_space[key] if key is not None else observation_space
        if np.shape(mean) != tuple(getattr(space, "shape", ()) or ()):
            raise NormalizationError(
                source, f"statistics of shape {np.shape(mean)} do not fit {path.name}'s observations {space.shape}"
            )
    return norm


def env_settings(zoo: ZooRun, env_id: str | None = None, env_module: str | None = None) -> EnvSettings:
    """The environment as the zoo files describe it; ``env_id`` (the user's) overrides the zoo's id."""
    problems = list(zoo.problems)
    try:
        wrappers = parse_wrappers(zoo.env_wrapper)
    except UnknownWrapper as exc:
        wrappers, problems = [], [str(exc)]
    # env_kwargs.yml from the Hugging Face hub adds render_mode: the studio chooses its own.
    kwargs = {k: v for k, v in zoo.env_kwargs.items() if k != "render_mode"}
    bad = [k for k, v in kwargs.items() if not _plain_value(v) or k.endswith(("_file", "_path"))]
    if bad:
        problems.append("env_kwargs " + ", ".join(bad[:3]) + " not accepted from a file (plain values only, no paths)")
        kwargs = {}
    unknown = [p for p in zoo.gym_packages if p not in _KNOWN_PACKAGES]
    if unknown and not env_id and not env_module:
        problems.append(f"args.yml asks to import {', '.join(unknown[:3])}: the studio never imports a module a "
                        "file names (if you trust it, pass --env-module)")
    return EnvSettings(env_id=env_id or zoo.env_id, from_user=env_id is not None, kwargs=kwargs, wrappers=wrappers,
                       frame_stack=zoo.frame_stack, env_module=env_module, problems=problems,
                       config_known=bool(zoo.config))


# Packages the zoo's args.yml may list under gym_packages that the studio imports itself when an id needs them.
_KNOWN_PACKAGES = {"pybullet_envs", "pybullet_envs_gymnasium", "panda_gym", "gymnasium_robotics", "ale_py",
                   "gym_robotics", "highway_env", "minigrid", "gym_minigrid", "mujoco"}


def _plain_value(value: Any, depth: int = 0) -> bool:
    if value is None or isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, str):
        return len(value) <= 200
    if isinstance(value, (list, tuple)) and depth < 3 and len(value) <= 256:
        return all(_plain_value(v, depth + 1) for v in value)
    if isinstance(value, dict) and depth < 3 and len(value) <= 64:
        return all(isinstance(k, str) and _plain_value(v, depth + 1) for k, v in value.items())
    return False


def load_model(
    path: str | Path,
    env_id: str | None = None,
    vecnormalize: str | Path | None = None,
    trust: bool = False,
    algo: str | None = None,
    env_module: str | None = None,
) -> LoadedModel:
    """Load an SB3 model file safely. ``env_id`` and ``vecnormalize`` override the zoo layout;
    ``env_module`` is the user's own environment module, imported (their code runs) when the env is made."""
    path = Path(path)
    files = read_archive(path)
    if "data" not in files:
        raise NotAModelError(path, "a zip, but not an SB3 model: it has no 'data' entry")
    data, schedules = _decode_data_trusted(path, files["data"]) if trust else decode_data(path, files["data"])
    if not trust:
        check_fields(path, data)
    zoo = find_zoo_run(path)
    algo = algo or algorithms.detect(path, data, hint=zoo.algo)
    weights = _load_weights(path, files)
    sb3_version, python_version = _versions(files)
    notes = []
    if schedules:
        notes.append("schedules replaced by constants (used only in training): " + ", ".join(schedules))
    if trust:
        model = _load_trusted(path, algo)
        notes.append("loaded with --trust: SB3's own loader ran the file's pickles")
    else:
        model = _build_model(path, algo, data, weights, notes)
    normalization = _normalization(path, zoo, Path(vecnormalize) if vecnormalize else None, model.observation_space)
    return LoadedModel(
        path=path,
        algo=algo,
        model=model,
        normalization=normalization,
        env_settings=env_settings(zoo, env_id, env_module),
        zoo=zoo,
        sb3_version=sb3_version,
        python_version=python_version,
        trusted=trust,
        notes=notes,
    )
