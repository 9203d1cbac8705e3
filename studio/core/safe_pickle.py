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
"""

from __future__ import annotations

import collections
import copyreg
import enum
import importlib
import io
import pickle
from typing import Any


class ForbiddenGlobal(pickle.UnpicklingError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"global '{name}' is not allowed")


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
    "builtins.bytearray": bytearray,
    "builtins.slice": slice,
    "builtins.object": object,
    "collections.OrderedDict": collections.OrderedDict,
    "collections.deque": collections.deque,
    "copyreg._reconstructor": copyreg._reconstructor,
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
                return getattr(importlib.import_module(candidate), name)
            except (ImportError, AttributeError):
                continue
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
            return obj
        raise ForbiddenGlobal(qualname)


def safe_loads(data: bytes) -> Any:
    """Unpickle ``data`` resolving only allow-listed globals; raises :class:`ForbiddenGlobal`."""
    return SafeUnpickler(io.BytesIO(data)).load()
