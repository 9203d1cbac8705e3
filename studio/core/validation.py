"""One validation layer between a dropped file and a model: everything is checked before anything is built.

* :func:`read_archive`: a regular file (never a pipe or a device), a zip of few entries, and only the
  members a model needs, each read with a size cap (never a zip bomb, never an encrypted member);
* :func:`decode_data`: SB3's ``data`` JSON (depth and size bounded), its pickles through the allow-list,
  classes resolved only where a class belongs;
* :func:`check_fields`: spaces, ``policy_kwargs`` and hyperparameters within what a real policy has;
* :func:`check_weights`: finite tensors.

Each failure is a :class:`ModelLoadError` naming the file and the field.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import pickle
import stat
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from .errors import ForbiddenClassError, ModelLoadError, NotAModelError, NotAZipError, TruncatedFileError
from .safe_pickle import ClassRef, ForbiddenGlobal, LimitExceeded, resolve_classes, safe_loads
from .spaces import SpaceDecodeError, rebuild_space

# What a real policy file holds stays far inside these.
MAX_ENTRIES = 1_000
MEMBER_CAPS = {"data": 16 * 2**20, "policy.pth": 512 * 2**20, "_stable_baselines3_version": 4096,
               "system_info.txt": 64 * 1024}
MAX_WEIGHT_BYTES = MEMBER_CAPS["policy.pth"]
MAX_OBSERVATION_ELEMENTS = 4_000_000  # e.g. 4 stacked 3 x 512 x 512 images
MAX_DISCRETE = 1_000_000
MAX_WIDTH = 65_536
MAX_LAYERS = 64
MAX_DICT_KEYS = 64

SCHEDULE_CONSTANTS: dict[str, Any] = {
    "learning_rate": 0.0,
    "lr_schedule": 0.0,
    "clip_range": 0.2,
    "clip_range_vf": None,
    "exploration_schedule": 0.0,
}
ESSENTIAL = ("policy_class", "observation_space", "action_space")
# Entries never decoded: ARS keeps a flat copy of the weights (a pickled tensor); SB3 1.x HER names the
# algorithm class it wrapped (the policy class says as much).
UNNEEDED = {"weights", "model_class"}


def _is_schedule(key: str, type_name: str) -> bool:
    """Schedules: pickled functions (SB3 < 2.6) or ``FloatSchedule``-style objects wrapping one."""
    return key in SCHEDULE_CONSTANTS or key.endswith("_schedule") or "function" in type_name or "Schedule" in type_name


def regular_file(path: Path, what: str = "file") -> os.stat_result:
    """The file's status, refusing what is not a regular file (a pipe would block, a device never ends)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ModelLoadError(path, "no such file") from None
    except OSError as exc:
        raise ModelLoadError(path, f"cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ModelLoadError(path, f"is a folder, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise ModelLoadError(path, f"is not a regular file (a pipe, socket or device), so not a {what}")
    return info


def read_archive(path: Path) -> dict[str, bytes]:
    """The members of an SB3 zip that loading needs, each within its cap."""
    regular_file(path, "model file")
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        raise ModelLoadError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ENTRIES:
                raise NotAModelError(path, f"a zip of {len(infos)} entries, not an SB3 model")
            files = {}
            for info in infos:
                cap = MEMBER_CAPS.get(info.filename)
                if cap is None or info.filename in files:
                    continue
                files[info.filename] = _read_member(path, archive, info, cap)
            return files
    except ModelLoadError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zipfile.LargeZipFile) as exc:
        if head == b"PK\x03\x04":
            raise TruncatedFileError(path, f"a damaged or truncated zip ({exc})") from None
        raise NotAZipError(path, "not a zip file, so not a Stable-Baselines3 model") from None


def _read_member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    if info.flag_bits & 0x1:
        raise NotAModelError(path, f"member {info.filename} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise NotAModelError(path, f"member {info.filename} uses a compression SB3 never writes "
                                   f"(method {info.compress_type})")
    if info.file_size > cap:
        raise NotAModelError(path, f"member {info.filename} declares {info.file_size:,} bytes, more than the "
                                   f"{cap:,} a model needs")
    try:
        with archive.open(info) as member:
            data = member.read(cap + 1)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError, NotImplementedError) as exc:
        raise TruncatedFileError(path, f"member {info.filename} cannot be read ({type(exc).__name__}: {exc})") from None
    if len(data) > cap:
        raise NotAModelError(path, f"member {info.filename} is larger than the {cap:,} bytes a model needs")
    return data


def decode_data(path: Path, raw: bytes) -> tuple[dict[str, Any], list[str]]:
    """SB3's ``data`` entry: JSON values as they are, pickled ones through the allow-list."""
    try:
        entries = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise NotAModelError(path, "a zip, but its 'data' entry is not SB3's JSON") from None
    except (RecursionError, ValueError) as exc:
        raise NotAModelError(path, f"its 'data' entry is JSON nested too deeply or with absurd numbers ({exc})") from None
    if not isinstance(entries, dict):
        raise NotAModelError(path, "a zip, but its 'data' entry is not SB3's JSON")
    data: dict[str, Any] = {}
    notes: list[str] = []
    for key, value in entries.items():
        if not (isinstance(value, dict) and ":serialized:" in value):
            data[key] = value
            continue
        if key in UNNEEDED:
            continue
        if _is_schedule(key, str(value.get(":type:", ""))):
            data[key] = SCHEDULE_CONSTANTS.get(key, 0.0)
            notes.append(key)
            continue
        try:
            decoded = safe_loads(base64.b64decode(str(value[":serialized:"]).encode()))
            data[key] = resolve_classes(decoded) if key in ("policy_class", "policy_kwargs") else decoded
        except LimitExceeded as exc:
            raise NotAModelError(path, f"entry '{key}' asks for {exc}") from None
        except ForbiddenGlobal as exc:
            # A class off the allow-list anywhere is refused. An allowed class that an entry prediction does
            # not need would construct (a train_freq, an action noise) is simply left unbuilt.
            if key in ESSENTIAL or key == "policy_kwargs" or not exc.name.endswith("(constructed)"):
                raise ForbiddenClassError(path, exc.name, key) from None
        except (pickle.UnpicklingError, binascii.Error, EOFError, ValueError, TypeError, AttributeError, IndexError,
                KeyError, OverflowError, RecursionError, MemoryError, UnicodeDecodeError) as exc:
            if key in ESSENTIAL or key == "policy_kwargs":
                raise NotAModelError(path, f"entry '{key}' cannot be decoded ({type(exc).__name__}: {exc})") from None
    missing = [key for key in ESSENTIAL if key not in data]
    if missing:
        raise NotAModelError(path, "a zip, but not an SB3 model: 'data' lacks " + ", ".join(missing))
    for key in ("observation_space", "action_space"):
        try:
            data[key] = rebuild_space(data[key])
        except (SpaceDecodeError, ValueError, TypeError, AttributeError, OverflowError, RecursionError) as exc:
            raise NotAModelError(path, f"{key} cannot be read: {exc}") from None
    return data, notes


def check_space(path: Path, name: str, space: spaces.Space, depth: int = 0) -> None:
    """Within what a real policy has: finite sizes, ordered bounds, sane dtypes."""
    def bad(problem: str) -> ModelLoadError:
        return NotAModelError(path, f"{name}: {problem}")

    if isinstance(space, spaces.Dict):
        if depth > 1 or not 0 < len(space.spaces) <= MAX_DICT_KEYS:
            raise bad("a Dict nested too deeply or with too many keys")
        for key, sub in space.spaces.items():
            if not isinstance(key, str) or not key or len(key) > 100:
                raise bad("a Dict key that is not a short string")
            check_space(path, f"{name}[{key}]", sub, depth + 1)
        return
    if isinstance(space, spaces.Box):
        shape = tuple(space.shape)
        if not 0 < len(shape) <= 4 or any(int(d) <= 0 for d in shape) or math.prod(shape) > MAX_OBSERVATION_ELEMENTS:
            raise bad(f"a Box of shape {shape}, beyond what a policy can take")
        if not (np.issubdtype(space.dtype, np.floating) or np.issubdtype(space.dtype, np.integer)):
            raise bad(f"a Box of dtype {space.dtype}")
        low, high = np.asarray(space.low, np.float64), np.asarray(space.high, np.float64)
        if np.isnan(low).any() or np.isnan(high).any() or (low > high).any():
            raise bad("a Box whose low bound is above its high bound (or NaN)")
        return
    if isinstance(space, spaces.Discrete):
        if not 1 <= int(space.n) <= MAX_DISCRETE:
            raise bad(f"Discrete({space.n})")
        return
    if isinstance(space, spaces.MultiDiscrete):
        nvec = np.asarray(space.nvec)
        if nvec.size == 0 or nvec.size > 10_000 or (nvec < 1).any() or int(nvec.sum()) > MAX_DISCRETE:
            raise bad(f"MultiDiscrete({nvec.ravel()[:8].tolist()}...)")
        return
    if isinstance(space, spaces.MultiBinary):
        if not 0 < math.prod(np.atleast_1d(space.n)) <= 100_000:
            raise bad(f"MultiBinary({space.n})")
        return
    raise bad(f"a {type(space).__name__} space, which SB3 policies do not take")


def _arch_ok(value: Any) -> bool:
    def widths(v: Any) -> bool:
        return isinstance(v, (list, tuple)) and len(v) <= MAX_LAYERS and all(
            isinstance(w, int) and not isinstance(w, bool) and 0 < w <= MAX_WIDTH for w in v)

    if value is None or widths(value):
        return True
    if isinstance(value, dict):
        return set(value) <= {"pi", "vf", "qf"} and all(widths(v) for v in value.values())
    if isinstance(value, list) and value and isinstance(value[-1], dict):  # SB3 < 1.8: [shared..., dict(pi, vf)]
        return widths(value[:-1]) and _arch_ok(value[-1])
    return False


def _plain(value: Any, depth: int = 0) -> bool:
    if value is None or isinstance(value, (bool, int, float, str, type)):
        return not isinstance(value, str) or len(value) <= 1000
    if isinstance(value, (list, tuple)) and depth < 4 and len(value) <= 1000:
        return all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict) and depth < 4 and len(value) <= 200:
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False


def check_policy_kwargs(path: Path, kwargs: Any) -> dict[str, Any]:
    if kwargs is None:
        return {}
    if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
        raise NotAModelError(path, "policy_kwargs: not a dict of named arguments")
    kwargs = {k: v for k, v in kwargs.items() if k != "device"}  # old files kept a torch.device: always the CPU here
    if not _arch_ok(kwargs.get("net_arch")):
        raise NotAModelError(path, "policy_kwargs: net_arch is not a list of layer widths (1..65536) a policy could have")
    for key in ("n_critics", "n_quantiles", "lstm_hidden_size", "n_lstm_layers", "features_dim"):
        value = kwargs.get(key)
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_WIDTH):
            raise NotAModelError(path, f"policy_kwargs: {key} = {value!r} is not a size a policy could have")
    for key, value in kwargs.items():
        if isinstance(value, ClassRef) or not _plain(value):
            raise NotAModelError(path, f"policy_kwargs: {key} holds something that is not plain data or a known class")
    extractor = kwargs.get("features_extractor_kwargs")
    if isinstance(extractor, dict) and "features_dim" in extractor:
        check_policy_kwargs(path, {"features_dim": extractor["features_dim"]})
    return kwargs


def check_fields(path: Path, data: dict[str, Any]) -> None:
    if not isinstance(data.get("policy_class"), type):
        raise NotAModelError(path, "policy_class is not a policy class")
    for key in ("observation_space", "action_space"):
        check_space(path, key, data[key])
    if isinstance(data["action_space"], spaces.Dict):
        raise NotAModelError(path, "action_space: a Dict, which SB3 policies do not produce")
    data["policy_kwargs"] = check_policy_kwargs(path, data.get("policy_kwargs"))


def hyperparameters(data: dict[str, Any]) -> dict[str, Any]:
    """The entries copied onto the rebuilt algorithm: the essentials and plain public values, nothing callable."""
    kept = {key: data[key] for key in (*ESSENTIAL, "policy_kwargs") if key in data}
    for key, value in data.items():
        if isinstance(value, np.generic) and np.ndim(value) == 0 and np.issubdtype(type(value), np.number):
            value = value.item()  # numpy scalars (a pickled float32 target_entropy)
        if key not in kept and not key.startswith("_") and isinstance(value, (bool, int, float, str, type(None))) \
                and (not isinstance(value, str) or len(value) <= 200):
            kept[key] = value
    return kept


def check_weights(path: Path, weights: dict[str, Any]) -> None:
    import torch

    for name, tensor in weights.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise NotAModelError(path, f"policy.pth: {name} holds NaN or infinite weights")
