"""Decode the pickles inside SB3 files without running code from them.

SB3 zips (the ``data`` entries) and ``vecnormalize.pkl`` are pickles, and unpickling is code
execution. :class:`SafeUnpickler` resolves only the globals a model legitimately contains:

* numpy arrays, scalars and dtypes (both the ``numpy.core`` and ``numpy._core`` spellings);
* spaces of the old ``gym`` package and of Gymnasium, decoded into inert :class:`Record` objects that
  :mod:`studio.core.spaces` rebuilds as fresh Gymnasium spaces (so old-gym files load without gym);
* random-number-generator state, VecNormalize and RunningMeanStd, also as inert records;
* classes (never functions) from torch and SB3 that subclass a known base: activations, optimizers,
  policies, features extractors, buffers, action noise, ``TrainFreq`` and SB3's enums.

Anything else raises :class:`ForbiddenGlobal` naming the global, before it is imported or called.
Pickled schedules (lambdas: ``learning_rate``, ``clip_range``...) are never decoded: the loader
substitutes constants for them.

No class is ever *called* from a pickle: allowed classes come back as :class:`ClassRef` tokens that
refuse to be constructed, and the loader resolves them where a class is expected (``policy_class``,
``activation_fn``...). What a pickle may construct, it constructs with bounded arguments: arrays at most
:data:`MAX_ARRAY_BYTES`, ``bytearray`` only from bytes, ``copyreg._reconstructor`` only on ``object``.
"""

from __future__ import annotations

import collections
import copyreg
import enum
import importlib
import io
import pickle
from typing import Any


MAX_ARRAY_BYTES = 64 * 2**20


class ForbiddenGlobal(pickle.UnpicklingError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"global '{name}' is not allowed")


class LimitExceeded(pickle.UnpicklingError):
    """A pickle asks to construct something far larger than any real model holds: a hostile or broken file."""


class ClassRef:
    """An allowed class named by a pickle: data, never callable while unpickling."""

    def __init__(self, qualname: str, cls: type) -> None:
        self.qualname, self.cls = qualname, cls

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise ForbiddenGlobal(f"{self.qualname} (constructed)")

    def __repr__(self) -> str:
        return f"<class {self.qualname}>"


def resolve_classes(value: Any, depth: int = 0) -> Any:
    """``value`` with every :class:`ClassRef` replaced by its class (lists, tuples and dicts, depth-limited)."""
    if depth > 16:
        raise ValueError("nested too deeply")
    if isinstance(value, ClassRef):
        return value.cls
    if isinstance(value, dict):
        return type(value)((k, resolve_classes(v, depth + 1)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(resolve_classes(v, depth + 1) for v in value)
    return value


def _bytearray(*args: Any) -> bytearray:
    if len(args) > 1 or (args and not isinstance(args[0], (bytes, bytearray, list))):
        raise LimitExceeded("a bytearray made from something other than bytes (a size, perhaps a huge one)")
    return bytearray(*args)


def _reconstructor(cls: Any, base: Any, state: Any = None) -> Any:
    if base is not object or not (isinstance(cls, type) and issubclass(cls, Record)):
        raise LimitExceeded("copyreg._reconstructor on a built-in type, which would construct it with any argument")
    return copyreg._reconstructor(cls, base, state)


def _guarded_reconstruct(reconstruct: Any) -> Any:
    """numpy's ``_reconstruct(subtype, shape, dtype)`` allocates the shape it is given: bound it."""
    import numpy as np

    def make(subtype: Any, shape: Any, dtype: Any) -> Any:
        try:
            size = int(np.prod(np.asarray(shape, dtype=np.int64))) * np.dtype(dtype).itemsize
        except (TypeError, ValueError, OverflowError):
            raise pickle.UnpicklingError("an array of malformed shape") from None
        if size < 0 or size > MAX_ARRAY_BYTES or subtype is not np.ndarray:
            raise LimitExceeded(f"an array of {size:,} bytes (at most {MAX_ARRAY_BYTES:,} are allowed)")
        return reconstruct(subtype, shape, dtype)
    return make


class Record:
    """An inert stand-in for a pickled object whose class we do not instantiate."""

    qualname = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> "Record":
        self = object.__new__(cls)
        self.args = args
        self.kwargs = kwargs
        self.state = None
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def field(self, name: str, default: Any = None) -> Any:
        """A field of the pickled object's state (``__dict__`` or ``(dict, slots)``)."""
        state = self.state
        if isinstance(state, tuple) and len(state) == 2:
            merged = dict(state[0] or {})
            merged.update(state[1] or {})
            state = merged
        if isinstance(state, dict):
            return state.get(name, default)
        return default

    def __repr__(self) -> str:
        return f"<record {self.qualname}>"


_record_classes: dict[str, type[Record]] = {}


def record_class(qualname: str) -> type[Record]:
    cls = _record_classes.get(qualname)
    if cls is None:
        cls = type(qualname.rsplit(".", 1)[-1], (Record,), {"qualname": qualname})
        _record_classes[qualname] = cls
    return cls


SPACE_KINDS = ("Box", "Discrete", "MultiDiscrete", "MultiBinary", "Dict", "Tuple")
_SPACE_MODULES = {
    f"{package}.spaces.{module}"
    for package in ("gym", "gymnasium")
    for module in ("box", "discrete", "multi_discrete", "multi_binary", "dict", "tuple", "space")
}

# Globals replaced by inert records: we need their data, never their behaviour.
_RECORDED = {
    "numpy.random._pickle.__randomstate_ctor",
    "numpy.random._pickle.__generator_ctor",
    "numpy.random._pickle.__bit_generator_ctor",
    "numpy.random.mtrand.RandomState",
    "numpy.random._generator.Generator",
    "torch.device",
    "stable_baselines3.common.vec_env.vec_normalize.VecNormalize",
    "stable_baselines3.common.running_mean_std.RunningMeanStd",
}

_NUMPY = {
    "_reconstruct": "multiarray",
    "scalar": "multiarray",
    "_frombuffer": "numeric",
}

_PLAIN = {
    "builtins.float": float,
    "builtins.int": int,
    "builtins.bool": bool,
    "builtins.complex": complex,
    "builtins.list": list,
    "builtins.dict": dict,
    "builtins.tuple": tuple,
    "builtins.set": set,
    "builtins.frozenset": frozenset,
    "builtins.bytearray": _bytearray,
    "builtins.slice": slice,
    "builtins.object": object,
    "collections.OrderedDict": collections.OrderedDict,
    "collections.deque": collections.deque,
    "copyreg._reconstructor": _reconstructor,
}


def _numpy_global(module: str, name: str) -> Any:
    import numpy as np

    if module in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray") and name == "ndarray":
        return np.ndarray
    if module == "numpy" and name == "dtype":
        return np.dtype
    if module.startswith("numpy.dtypes") and name.endswith("DType"):
        return getattr(importlib.import_module("numpy.dtypes"), name)
    submodule = _NUMPY.get(name)
    if submodule and module in (f"numpy.core.{submodule}", f"numpy._core.{submodule}"):
        for candidate in (f"numpy._core.{submodule}", f"numpy.core.{submodule}"):
            try:
                found = getattr(importlib.import_module(candidate), name)
            except (ImportError, AttributeError):
                continue
            return _guarded_reconstruct(found) if name == "_reconstruct" else found
    if module == "_codecs" and name == "encode":
        import _codecs

        return _codecs.encode
    return None


def _allowed_class(module: str, name: str) -> Any:
    """Classes from torch and SB3 that a model may name, checked against their base class."""
    roots = ("torch.nn.modules.activation", "torch.optim.", "stable_baselines3.", "sb3_contrib.")
    if not (module == roots[0] or module.startswith(roots[1:])):
        return None
    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    if not isinstance(obj, type):
        return None
    import torch

    bases: list[type] = [torch.optim.Optimizer]
    if module == "torch.nn.modules.activation":
        bases.append(torch.nn.Module)
    else:
        from stable_baselines3.common.buffers import BaseBuffer
        from stable_baselines3.common.noise import ActionNoise
        from stable_baselines3.common.policies import BasePolicy
        from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
        from stable_baselines3.common.type_aliases import TrainFreq

        bases += [BasePolicy, BaseFeaturesExtractor, BaseBuffer, ActionNoise, TrainFreq, enum.Enum]
    return obj if any(issubclass(obj, base) for base in bases) else None


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that resolves only allow-listed globals."""

    def find_class(self, module: str, name: str) -> Any:
        qualname = f"{module}.{name}"
        if qualname in _PLAIN:
            return _PLAIN[qualname]
        if module in _SPACE_MODULES and name in SPACE_KINDS + ("Space",):
            return record_class(f"space.{name}")
        if qualname in _RECORDED:
            return record_class(qualname)
        if module == "_codecs" or module.startswith("numpy"):
            obj = _numpy_global(module, name)
            if obj is not None:
                return obj
        obj = _allowed_class(module, name)
        if obj is not None:
            return ClassRef(qualname, obj)
        raise ForbiddenGlobal(qualname)


def safe_loads(data: bytes) -> Any:
    """Unpickle ``data`` resolving only allow-listed globals; raises :class:`ForbiddenGlobal`.

    Allowed classes come back as :class:`ClassRef` tokens (see :func:`resolve_classes`)."""
    return SafeUnpickler(io.BytesIO(data)).load()
