"""The RL Baselines3 Zoo's layout, its ``config.yml`` and ``vecnormalize.pkl``.

A zoo run folder looks like ``ALGO/ENV_1/ENV.zip`` beside a folder ``ENV_1/ENV/`` that holds
``config.yml`` (hyperparameters, ``normalize``, wrappers), ``args.yml`` (the command line, with ``env``)
and ``vecnormalize.pkl`` (observation statistics) when the agent was trained with normalisation.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .errors import ForbiddenClassError, NormalizationError
from .safe_pickle import ForbiddenGlobal, Record, safe_loads


@dataclass
class ObservationNormalization:
    """VecNormalize's observation statistics: ``clip((obs - mean) / sqrt(var + epsilon), +-clip_obs)``."""

    mean: np.ndarray | dict[str, np.ndarray]
    var: np.ndarray | dict[str, np.ndarray]
    epsilon: float
    clip_obs: float
    keys: list[str] | None = None  # Dict observations: the keys that are normalised
    source: str = ""

    def normalize(self, obs: Any, dtype: Any = np.float32) -> Any:
        """Exactly what ``VecNormalize.normalize_obs`` does (float32 out, as SB3 feeds it to the policy)."""
        if isinstance(obs, dict):
            out = dict(obs)
            for key in self.keys or []:
                out[key] = self._one(obs[key], self.mean[key], self.var[key], dtype)
            return out
        return self._one(obs, self.mean, self.var, dtype)

    def _one(self, obs: np.ndarray, mean: np.ndarray, var: np.ndarray, dtype: Any) -> np.ndarray:
        return np.clip((obs - mean) / np.sqrt(var + self.epsilon), -self.clip_obs, self.clip_obs).astype(dtype)

    def to_json(self) -> dict[str, Any]:
        def listify(x: Any) -> Any:
            return {k: np.asarray(v).tolist() for k, v in x.items()} if isinstance(x, dict) else np.asarray(x).tolist()

        return {
            "source": self.source,
            "mean": listify(self.mean),
            "var": listify(self.var),
            "epsilon": self.epsilon,
            "clip_obs": self.clip_obs,
            "keys": self.keys,
        }


def _stats(rms: Any, path: Path) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(rms, Record):
        mean, var = rms.field("mean"), rms.field("var")
        if mean is not None and var is not None:
            return np.asarray(mean, dtype=np.float64), np.asarray(var, dtype=np.float64)
    raise NormalizationError(path, "no observation statistics (obs_rms) found")


def load_vecnormalize(path: Path) -> ObservationNormalization | None:
    """Read observation statistics from ``vecnormalize.pkl`` without running code from it.

    Returns ``None`` when the file normalises only rewards (``norm_obs`` false).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NormalizationError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        obj = safe_loads(raw)
    except ForbiddenGlobal as exc:
        raise ForbiddenClassError(path, exc.name, "vecnormalize") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise NormalizationError(path, f"not a VecNormalize pickle ({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, Record) or not obj.qualname.endswith("VecNormalize"):
        raise NormalizationError(path, "not a VecNormalize pickle")
    if not obj.field("norm_obs", True):
        return None
    obs_rms = obj.field("obs_rms")
    epsilon = float(obj.field("epsilon", 1e-8))
    clip_obs = float(obj.field("clip_obs", 10.0))
    if isinstance(obs_rms, dict):
        keys = obj.field("norm_obs_keys") or list(obs_rms.keys())
        stats = {k: _stats(obs_rms[k], path) for k in keys}
        return ObservationNormalization(
            mean={k: s[0] for k, s in stats.items()},
            var={k: s[1] for k, s in stats.items()},
            epsilon=epsilon,
            clip_obs=clip_obs,
            keys=list(keys),
            source=str(path),
        )
    mean, var = _stats(obs_rms, path)
    return ObservationNormalization(mean=mean, var=var, epsilon=epsilon, clip_obs=clip_obs, source=str(path))


class _ZooLoader(yaml.SafeLoader):
    """YAML's safe loader plus the one Python tag the zoo writes (an OrderedDict of pairs)."""


def _ordered_dict(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    (pairs,) = loader.construct_sequence(node, deep=True)
    return {str(k): v for k, v in pairs}


_ZooLoader.add_constructor("tag:yaml.org,2002:python/object/apply:collections.OrderedDict", _ordered_dict)


def read_zoo_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(), Loader=_ZooLoader)  # noqa: S506 - a safe loader subclass
    except (OSError, yaml.YAMLError) as exc:
        raise NormalizationError(path, f"cannot read zoo file: {exc}") from None
    return data if isinstance(data, dict) else {}


@dataclass
class ZooRun:
    """What the zoo's files beside a model say about it."""

    folder: Path | None = None
    env_id: str | None = None
    algo: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    vecnormalize: Path | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    env_wrapper: Any = None  # config.yml's env_wrapper, as written (checked by envs.wrappers)
    frame_stack: int = 0
    gym_packages: list[str] = field(default_factory=list)  # modules the zoo imported: never imported here


def find_zoo_run(model_path: Path) -> ZooRun:
    """Recognise ``ENV.zip`` beside ``ENV/`` (config.yml, args.yml, vecnormalize.pkl)."""
    folder = model_path.with_suffix("")
    run = ZooRun()
    if not folder.is_dir():
        return run
    run.folder = folder
    if (folder / "config.yml").is_file():
        run.config = read_zoo_yaml(folder / "config.yml")
    args = read_zoo_yaml(folder / "args.yml") if (folder / "args.yml").is_file() else {}
    env = args.get("env")
    run.env_id = env if isinstance(env, str) and env else folder.name
    algo = args.get("algo") or model_path.parent.parent.name
    run.algo = str(algo).lower() if isinstance(algo, str) and algo else None
    if (folder / "vecnormalize.pkl").is_file():
        run.vecnormalize = folder / "vecnormalize.pkl"
    kwargs = read_zoo_yaml(folder / "env_kwargs.yml") if (folder / "env_kwargs.yml").is_file() else {}
    if isinstance(args.get("env_kwargs"), dict):
        kwargs = {**kwargs, **args["env_kwargs"]}
    run.env_kwargs = {str(k): v for k, v in kwargs.items()}
    run.env_wrapper = run.config.get("env_wrapper")
    stack = run.config.get("frame_stack")
    run.frame_stack = stack if isinstance(stack, int) and not isinstance(stack, bool) and 1 < stack <= 64 else 0
    packages = args.get("gym_packages")
    run.gym_packages = [str(p) for p in packages] if isinstance(packages, list) else []
    return run
