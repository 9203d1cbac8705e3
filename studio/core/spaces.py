"""Rebuild fresh Gymnasium spaces from decoded pickles, and describe spaces in words.

Old ``gym`` spaces and Gymnasium spaces both arrive as inert records (see :mod:`safe_pickle`). Their
objects carry library state (an old ``RandomState``, no ``start`` on Discrete), so we read only
the fields that define the space and construct a new Gymnasium space from them.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
from gymnasium import spaces

from .safe_pickle import Record


class SpaceDecodeError(ValueError):
    pass


def _array(value: Any) -> np.ndarray:
    if isinstance(value, Record):
        raise SpaceDecodeError(f"expected an array, found {value.qualname}")
    return np.asarray(value)


def rebuild_space(obj: Any) -> spaces.Space:
    """A fresh Gymnasium space equal to the pickled ``obj`` (a record, or already a space)."""
    if isinstance(obj, spaces.Space):
        return obj
    if not isinstance(obj, Record) or not obj.qualname.startswith("space."):
        raise SpaceDecodeError(f"not a space: {obj!r}")
    kind = obj.qualname.split(".", 1)[1]
    get = obj.field
    dtype = get("dtype")
    dtype = np.dtype(dtype) if dtype is not None else None
    if kind == "Box":
        low, high = _array(get("low")), _array(get("high"))
        shape = get("_shape") or get("shape") or low.shape
        return spaces.Box(low=low, high=high, shape=tuple(shape), dtype=dtype or np.float32)
    if kind == "Discrete":
        start = get("start", 0)
        return spaces.Discrete(int(get("n")), start=int(start if start is not None else 0))
    if kind == "MultiDiscrete":
        start = get("start")
        return spaces.MultiDiscrete(_array(get("nvec")), dtype=dtype or np.int64, start=start)
    if kind == "MultiBinary":
        n = get("n")
        return spaces.MultiBinary(n if isinstance(n, int) else [int(x) for x in np.ravel(n)])
    if kind == "Dict":
        return spaces.Dict(OrderedDict((k, rebuild_space(v)) for k, v in (get("spaces") or {}).items()))
    if kind == "Tuple":
        return spaces.Tuple([rebuild_space(v) for v in (get("spaces") or ())])
    raise SpaceDecodeError(f"unsupported space {kind}")


def _bounds(values: np.ndarray) -> str:
    flat = np.ravel(values)
    if flat.size and np.all(flat == flat[0]):
        return f"{flat[0]:.4g}"
    if flat.size <= 6:
        return "[" + ", ".join(f"{v:.4g}" for v in flat) + "]"
    return f"[{flat.min():.4g}..{flat.max():.4g}]"


def describe_space(space: spaces.Space) -> str:
    """A short human description, e.g. ``Box(-1, 1, (3,), float32)``."""
    if isinstance(space, spaces.Box):
        return f"Box({_bounds(space.low)}, {_bounds(space.high)}, {space.shape}, {space.dtype})"
    if isinstance(space, spaces.Discrete):
        return f"Discrete({space.n})" if int(space.start) == 0 else f"Discrete({space.n}, start={space.start})"
    if isinstance(space, spaces.MultiDiscrete):
        return f"MultiDiscrete({space.nvec.tolist()})"
    if isinstance(space, spaces.MultiBinary):
        return f"MultiBinary({space.n})"
    if isinstance(space, spaces.Dict):
        return "Dict(" + ", ".join(f"{k}: {describe_space(v)}" for k, v in space.spaces.items()) + ")"
    return repr(space)


def short_space(space: spaces.Space) -> str:
    """Kind and shape only, e.g. ``Box(4,)`` or ``Discrete(2)``: for one-line summaries."""
    if isinstance(space, (spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)):
        return describe_space(space)
    if isinstance(space, spaces.Dict):
        return "Dict(" + ", ".join(f"{k}: {short_space(v)}" for k, v in space.spaces.items()) + ")"
    return f"{type(space).__name__}{tuple(space.shape)}"


def space_to_json(space: spaces.Space) -> dict[str, Any]:
    """A JSON description that records everything that defines the space."""
    if isinstance(space, spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "dtype": str(space.dtype),
            "low": _bounds(space.low),
            "high": _bounds(space.high),
        }
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": space.nvec.tolist()}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": space.n if isinstance(space.n, int) else list(space.n)}
    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": {k: space_to_json(v) for k, v in space.spaces.items()}}
    return {"type": type(space).__name__}


def is_image_space(space: spaces.Space) -> bool:
    from stable_baselines3.common.preprocessing import is_image_space as sb3_is_image

    return isinstance(space, spaces.Box) and sb3_is_image(space, check_channels=False)
