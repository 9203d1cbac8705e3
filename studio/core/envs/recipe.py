"""How to make a model's environment as the zoo made it: :class:`EnvRecipe` and :func:`resolve`.

A recipe is plain data (stored in ``run.json``): the env id made here and its kwargs, the allow-listed
wrappers from the zoo config, frame stacking, and the studio's own adjustments (a flattened HER goal,
observation dimensions pinned to their training constants), with a note of every migration. Resolving
one tries the candidates of :mod:`.migration` and keeps the first whose wrapped observation and action
spaces fit the model's.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ..errors import EnvironmentUnavailableError
from .families import family_of, import_family, quiet_output
from .observation import FlattenGoal, FrameStack, PinObservation
from .wrappers import WrapperSpec, apply_wrappers

# VecNormalize variance below this means the dimension never moved in training (VecNormalize's own
# epsilon is 1e-8: such a dimension carried no information the policy could have learnt from).
CONSTANT_VARIANCE = 1e-8


@dataclass
class EnvSettings:
    """What the files beside a model (or the user) say about its environment."""

    env_id: str | None
    from_user: bool = False  # given on the command line or in the GUI, not read from a file
    kwargs: dict[str, Any] = field(default_factory=dict)
    wrappers: list[WrapperSpec] = field(default_factory=list)
    frame_stack: int = 0
    env_module: str | None = None  # the user's own module, imported on their explicit request
    problems: list[str] = field(default_factory=list)  # what the files asked for and was refused
    config_known: bool = True  # False: no config.yml, so wrappers may be inferred from the observation


@dataclass
class EnvRecipe:
    requested_id: str
    env_id: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    wrappers: list[WrapperSpec] = field(default_factory=list)
    frame_stack: int = 0
    stack_pad: list[float] | None = None
    flatten_goal: bool = False
    zero: tuple[int, int] | None = None
    pins: dict[str, dict[int, float]] = field(default_factory=dict)
    env_module: str | None = None
    notes: list[str] = field(default_factory=list)

    def make(self, render_mode: str | None = None) -> Any:

        import_user_module(self.env_module)
        prepare_id(self.env_id)
        # Some families (panda-gym) refuse render_mode=None: say it only when there is one.
        env = make_quietly(self.env_id, dict(self.kwargs, **({"render_mode": render_mode} if render_mode else {})))
        if self.zero is not None:
            env = PinObservation(env, {"": {i: 0.0 for i in range(*self.zero)}})
        env = apply_wrappers(env, self.wrappers)
        if self.flatten_goal:
            env = FlattenGoal(env)
        if self.pins:
            env = PinObservation(env, self.pins)
        if self.frame_stack:
            env = FrameStack(env, self.frame_stack, np.asarray(self.stack_pad) if self.stack_pad is not None else 0.0)
        return env

    def describe(self) -> str:
        parts = [self.env_id + (f" {json.dumps(self.kwargs)}" if self.kwargs else "")]
        parts += [w.name for w in self.wrappers]
        if self.flatten_goal:
            parts.append("observation + desired_goal (SB3 1.x HER)")
        if self.frame_stack:
            parts.append(f"{self.frame_stack} frames stacked")
        return " + ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"requested_id": self.requested_id, "env_id": self.env_id, "kwargs": self.kwargs,
                "wrappers": [w.to_json() for w in self.wrappers], "frame_stack": self.frame_stack,
                "flatten_goal": self.flatten_goal, "zeroed": list(self.zero) if self.zero else None,
                "pins": {k: {str(i): v for i, v in sorted(p.items())} for k, p in self.pins.items()},
                "stack_pad": self.stack_pad, "env_module": self.env_module,
                "notes": self.notes}


def make_quietly(env_id: str, kwargs: dict[str, Any]) -> Any:
    """``gymnasium.make``; PyBullet prints ``argv[0]=`` on standard output each time it connects: not on ours."""
    import gymnasium

    family = family_of(env_id)
    if family is not None and family.pybullet:
        with quiet_output():
            return QuietReset(gymnasium.make(env_id, **kwargs))
    return gymnasium.make(env_id, **kwargs)


class QuietReset(gym.Wrapper):
    def reset(self, **kwargs: Any) -> Any:
        with quiet_output():
            return self.env.reset(**kwargs)


def import_user_module(module: str | None) -> None:
    """The user's own environment module (a dotted name or a ``.py`` path), imported on their request only."""
    if not module or module in sys.modules:
        return
    try:
        if module.endswith(".py"):
            path = Path(module).expanduser().resolve()
            spec = importlib.util.spec_from_file_location(path.stem, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot import {path}")
            loaded = importlib.util.module_from_spec(spec)
            sys.modules[path.stem] = sys.modules[module] = loaded
            spec.loader.exec_module(loaded)
        else:
            importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - the user's code may raise anything; say what
        raise EnvironmentUnavailableError(module, f"your environment module failed to import "
                                                  f"({type(exc).__name__}: {exc})") from None


def prepare_id(env_id: str) -> str | None:
    """Import the family package that registers ``env_id``; the reason it cannot be, or None."""
    import gymnasium

    if env_id in gymnasium.envs.registry:
        return None
    family = family_of(env_id)
    if family is not None:
        return import_family(family)
    return None


def spaces_fit(model: spaces.Space, env: spaces.Space) -> bool:
    """Whether ``env`` emits (or takes) what ``model`` expects; images may be channels first in the model."""
    if isinstance(model, spaces.Dict):
        return isinstance(env, spaces.Dict) and set(model.spaces) == set(env.spaces) and all(
            spaces_fit(model[k], env[k]) for k in model.spaces)
    if isinstance(model, spaces.Box):
        if not isinstance(env, spaces.Box):
            return False
        shape = tuple(env.shape)
        return tuple(model.shape) == shape or (len(shape) == 3 and tuple(model.shape) == (shape[2], shape[0], shape[1]))
    if isinstance(model, spaces.Discrete):
        return isinstance(env, spaces.Discrete) and int(model.n) == int(env.n)
    if isinstance(model, spaces.MultiDiscrete):
        return isinstance(env, spaces.MultiDiscrete) and np.array_equal(model.nvec, env.nvec)
    if isinstance(model, spaces.MultiBinary):
        return isinstance(env, spaces.MultiBinary) and np.array_equal(np.asarray(model.n), np.asarray(env.n))
    return type(model) is type(env)
