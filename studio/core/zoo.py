"""The RL Baselines3 Zoo's layout, its ``config.yml`` and ``vecnormalize.pkl``.

A zoo run folder looks like ``ALGO/ENV_1/ENV.zip`` beside a folder ``ENV_1/ENV/`` that holds
``config.yml`` (hyperparameters, ``normalize``, wrappers), ``args.yml`` (the command line, with ``env``)
and ``vecnormalize.pkl`` (observation statistics) when the agent was trained with normalisation.
"""

from __future__ import annotations

import pickle
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .errors import ForbiddenClassError, NormalizationError, ZooFileError
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


MAX_VECNORMALIZE_BYTES = 64 * 2**20
MAX_YAML_BYTES = 2**20


def _stats(rms: Any, path: Path) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(rms, Record):
        mean, var = rms.field("mean"), rms.field("var")
        if isinstance(mean, (np.ndarray, float, int, list)) and isinstance(var, (np.ndarray, float, int, list)):
            try:
                mean, var = np.asarray(mean, dtype=np.float64), np.asarray(var, dtype=np.float64)
            except (TypeError, ValueError):
                raise NormalizationError(path, "observation statistics that are not numbers") from None
            if mean.shape != var.shape or mean.ndim > 4:
                raise NormalizationError(path, f"mean {mean.shape} and variance {var.shape} of different shapes")
            if not (np.isfinite(mean).all() and np.isfinite(var).all()) or (var < 0).any():
                raise NormalizationError(path, "observation statistics with NaN, infinite or negative variance")
            return mean, var
    raise NormalizationError(path, "no observation statistics (obs_rms) found")


def _positive(value: Any, default: float, name: str, path: Path) -> float:
    try:
        number = float(default if value is None else value)
    except (TypeError, ValueError, OverflowError):
        number = float("nan")
    if not (np.isfinite(number) and number > 0):
        raise NormalizationError(path, f"{name} = {value!r} is not a positive number")
    return number


def load_vecnormalize(path: Path) -> ObservationNormalization | None:
    """Read observation statistics from ``vecnormalize.pkl`` without running code from it.

    Returns ``None`` when the file normalises only rewards (``norm_obs`` false).
    """
    raw = _read_small(path, MAX_VECNORMALIZE_BYTES, NormalizationError, "VecNormalize statistics file")
    try:
        obj = safe_loads(raw)
    except ForbiddenGlobal as exc:
        raise ForbiddenClassError(path, exc.name, "vecnormalize") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            OverflowError, RecursionError, MemoryError, UnicodeDecodeError) as exc:
        raise NormalizationError(path, f"not a VecNormalize pickle ({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, Record) or not obj.qualname.endswith("VecNormalize"):
        raise NormalizationError(path, "not a VecNormalize pickle")
    if not obj.field("norm_obs", True):
        return None
    obs_rms = obj.field("obs_rms")
    epsilon = _positive(obj.field("epsilon"), 1e-8, "epsilon", path)
    clip_obs = _positive(obj.field("clip_obs"), 10.0, "clip_obs", path)
    if isinstance(obs_rms, dict):
        keys = obj.field("norm_obs_keys") or list(obs_rms.keys())
        if not isinstance(keys, (list, tuple)) or not all(isinstance(k, str) and k in obs_rms for k in keys):
            raise NormalizationError(path, "norm_obs_keys name keys without statistics")
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


def _read_small(path: Path, cap: int, error: type, what: str) -> bytes:
    """A regular file of at most ``cap`` bytes (never a pipe, a device or a huge file)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise error(path, f"is not a regular file, so not a {what}")
        if info.st_size > cap:
            raise error(path, f"{info.st_size:,} bytes, more than a {what} holds ({cap:,})")
        with path.open("rb") as handle:
            return handle.read(cap + 1)[:cap]
    except OSError as exc:
        raise error(path, f"cannot read: {exc.strerror or exc}") from None


def read_zoo_yaml(path: Path) -> dict[str, Any]:
    """A zoo YAML file, read safely: UTF-8, no anchors or aliases (never in zoo files, and an alias bomb would
    expand later), nesting bounded. A file that is not a mapping counts as empty."""
    raw = _read_small(path, MAX_YAML_BYTES, ZooFileError, "zoo YAML file")
    try:
        text = raw.decode("utf-8")
        if any(isinstance(token, (yaml.AnchorToken, yaml.AliasToken)) for token in yaml.scan(text)):
            raise ZooFileError(path, "uses YAML anchors or aliases, which zoo files never do")
        data = yaml.load(text, Loader=_ZooLoader)  # noqa: S506 - a safe loader subclass
    except UnicodeDecodeError:
        raise ZooFileError(path, "is not UTF-8 text") from None
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        raise ZooFileError(path, f"cannot read zoo file: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
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
    problems: list[str] = field(default_factory=list)  # zoo files that could not be read


def find_zoo_run(model_path: Path) -> ZooRun:
    """Recognise ``ENV.zip`` beside ``ENV/`` (config.yml, args.yml, vecnormalize.pkl).

    A zoo file that cannot be read is a problem of the environment (it cannot be made as the zoo made it),
    not of the model: it is recorded in ``problems``."""
    folder = model_path.with_suffix("")
    run = ZooRun()
    if not folder.is_dir():
        return run
    run.folder = folder

    def read(name: str) -> dict[str, Any]:
        if not (folder / name).exists():
            return {}
        try:
            return read_zoo_yaml(folder / name)
        except ZooFileError as exc:
            run.problems.append(exc.line())
            return {}

    run.config = read("config.yml")
    args = read("args.yml")
    env = args.get("env")
    run.env_id = env if isinstance(env, str) and env else folder.name
    algo = args.get("algo") or model_path.parent.parent.name
    run.algo = str(algo).lower() if isinstance(algo, str) and algo else None
    if (folder / "vecnormalize.pkl").is_file():
        run.vecnormalize = folder / "vecnormalize.pkl"
    kwargs = read("env_kwargs.yml")
    if isinstance(args.get("env_kwargs"), dict):
        kwargs = {**kwargs, **args["env_kwargs"]}
    run.env_kwargs = {str(k): v for k, v in kwargs.items()}
    run.env_wrapper = run.config.get("env_wrapper")
    if (folder / "vecnormalize.pkl").exists() and run.vecnormalize is None:
        run.vecnormalize = folder / "vecnormalize.pkl"  # not a regular file: loading it says so
    stack = run.config.get("frame_stack")
    run.frame_stack = stack if isinstance(stack, int) and not isinstance(stack, bool) and 1 < stack <= 64 else 0
    packages = args.get("gym_packages")
    run.gym_packages = [str(p) for p in packages] if isinstance(packages, list) else []
    return run
