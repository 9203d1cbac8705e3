"""One entry point that loads any Stable-Baselines3 model for every later stage: :func:`load_model`.

Loading never runs code from the file. The ``data`` entry's pickles go through
:mod:`studio.core.safe_pickle`; schedules are replaced by constants; spaces are rebuilt as fresh
Gymnasium spaces; weights load with ``torch.load(weights_only=True)``. The model object is then built
the way SB3's own ``load`` builds it (algorithm class, ``_setup_model``, state dicts), so its
``predict`` is SB3's. ``trust=True`` falls back to SB3's own loader, which runs the file's pickles.
"""

from __future__ import annotations

import base64
import binascii
import json
import pickle
import re
import zipfile
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
    NotAZipError,
    TruncatedFileError,
)
from .safe_pickle import ForbiddenGlobal, safe_loads
from .spaces import SpaceDecodeError, rebuild_space
from .zoo import ObservationNormalization, ZooRun, find_zoo_run, load_vecnormalize

# Entries that hold schedules (pickled lambdas). Only training uses them; they are never decoded.
SCHEDULE_CONSTANTS: dict[str, Any] = {
    "learning_rate": 0.0,
    "lr_schedule": 0.0,
    "clip_range": 0.2,
    "clip_range_vf": None,
    "exploration_schedule": 0.0,
}
_ESSENTIAL = ("policy_class", "observation_space", "action_space")
# Entries never decoded because prediction does not need them: ARS keeps a flat copy of the policy
# weights (a pickled torch tensor, whose unpickling calls torch.load without weights_only); SB3 1.x HER
# names the algorithm class it wrapped (the policy class says as much).
_UNNEEDED = {"weights", "model_class"}


def _is_schedule(key: str, type_name: str) -> bool:
    """Schedules: pickled functions (SB3 < 2.6) or ``FloatSchedule``-style objects wrapping one."""
    return key in SCHEDULE_CONSTANTS or key.endswith("_schedule") or "function" in type_name or "Schedule" in type_name


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
        return self.env_recipe().make(render_mode)

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
        """The original's deterministic action for a batch of raw observations (as the env emits them)."""
        if self.normalization is not None:
            observation = self.normalization.normalize(observation)
        action, _ = self.model.predict(observation, deterministic=True)
        return action


def _read_archive(path: Path) -> dict[str, bytes]:
    if not path.exists():
        raise ModelLoadError(path, "no such file")
    if path.is_dir():
        raise ModelLoadError(path, "is a folder, not a model file")
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        raise ModelLoadError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        if head == b"PK\x03\x04":
            raise TruncatedFileError(path, f"a damaged or truncated zip ({exc})") from None
        raise NotAZipError(path, "not a zip file, so not a Stable-Baselines3 model") from None


def _decode_data(path: Path, raw: bytes) -> tuple[dict[str, Any], list[str]]:
    try:
        entries = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise NotAModelError(path, "a zip, but its 'data' entry is not SB3's JSON") from None
    if not isinstance(entries, dict):
        raise NotAModelError(path, "a zip, but its 'data' entry is not SB3's JSON")
    data: dict[str, Any] = {}
    notes: list[str] = []
    for key, value in entries.items():
        if not (isinstance(value, dict) and ":serialized:" in value):
            data[key] = value
            continue
        if key in _UNNEEDED:
            continue
        if _is_schedule(key, value.get(":type:", "")):
            data[key] = SCHEDULE_CONSTANTS.get(key, 0.0)
            notes.append(key)
            continue
        try:
            data[key] = safe_loads(base64.b64decode(value[":serialized:"].encode()))
        except ForbiddenGlobal as exc:
            raise ForbiddenClassError(path, exc.name, key) from None
        except (pickle.UnpicklingError, binascii.Error, EOFError, ValueError, TypeError, AttributeError) as exc:
            if key in _ESSENTIAL or key == "policy_kwargs":
                raise NotAModelError(path, f"entry '{key}' cannot be decoded ({type(exc).__name__}: {exc})") from None
            data[key] = None
    missing = [key for key in _ESSENTIAL if key not in data]
    if missing:
        raise NotAModelError(path, "a zip, but not an SB3 model: 'data' lacks " + ", ".join(missing))
    for key in ("observation_space", "action_space"):
        try:
            data[key] = rebuild_space(data[key])
        except SpaceDecodeError as exc:
            raise NotAModelError(path, f"{key} cannot be read: {exc}") from None
    return data, notes


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
    import io

    import torch

    if "policy.pth" not in files:
        raise MissingWeightsError(path, "the zip has no policy.pth, so no policy weights")
    try:
        return torch.load(io.BytesIO(files["policy.pth"]), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        raise ForbiddenClassError(path, found.group(1) if found else "unknown", "policy.pth") from None
    except (RuntimeError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise TruncatedFileError(path, f"policy.pth cannot be read ({str(exc).splitlines()[0]})") from None


def _versions(files: dict[str, bytes]) -> tuple[str | None, str | None]:
    sb3 = files.get("_stable_baselines3_version", b"").decode(errors="replace").strip() or None
    info = files.get("system_info.txt", b"").decode(errors="replace")
    python = re.search(r"Python:\s*([\w.+]+)", info)
    return sb3, python.group(1) if python else None


def _build_model(path: Path, algo: str, data: dict[str, Any], weights: dict[str, Any], notes: list[str]) -> Any:
    from .legacy import adapt

    cls = algorithms.algorithm_class(algo)
    kwargs = dict(data.get("policy_kwargs") or {})
    kwargs.pop("device", None)
    arch = kwargs.get("net_arch")
    if arch and isinstance(arch, list) and isinstance(arch[0], dict):
        kwargs["net_arch"] = arch[0]  # SB3 < 1.8 wrote [dict(pi=..., vf=...)]
    kwargs, weights, adapted = adapt(algo, data["policy_class"], kwargs, weights)
    notes += adapted
    data = dict(data, policy_kwargs=kwargs, n_envs=1)
    # Prediction needs no replay buffer: keep SB3 from allocating one of buffer_size observations.
    data.update(buffer_size=1, replay_buffer_class=None, replay_buffer_kwargs={})
    model = cls(policy=data["policy_class"], env=None, device="cpu", _init_setup_model=False)
    model.__dict__.update(data)
    try:
        model._setup_model()
    except (TypeError, ValueError, KeyError, AssertionError, AttributeError) as exc:
        raise NotAModelError(path, f"cannot rebuild the {algo} policy ({type(exc).__name__}: {exc})") from None
    missing, unexpected = model.policy.load_state_dict(weights, strict=False)
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
    problems = []
    try:
        wrappers = parse_wrappers(zoo.env_wrapper)
    except UnknownWrapper as exc:
        wrappers, problems = [], [str(exc)]
    # env_kwargs.yml from the Hugging Face hub adds render_mode: the studio chooses its own.
    kwargs = {k: v for k, v in zoo.env_kwargs.items() if k != "render_mode"}
    bad = [k for k, v in kwargs.items() if not _plain_value(v) or k.endswith(("_file", "_path"))]
    if bad:
        problems.append("env_kwargs " + ", ".join(bad[:3]) + " not accepted from a file (plain values only, no paths)")
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
    files = _read_archive(path)
    if "data" not in files:
        raise NotAModelError(path, "a zip, but not an SB3 model: it has no 'data' entry")
    data, schedules = _decode_data_trusted(path, files["data"]) if trust else _decode_data(path, files["data"])
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
