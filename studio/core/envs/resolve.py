"""Find the environment a model fits: try each candidate id, wrapped as the zoo wrapped it."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from gymnasium import spaces

from ..errors import EnvironmentUnavailableError
from .families import family_of
from .migration import Candidate, candidates
from .observation import FlattenGoal, FrameStack
from .recipe import CONSTANT_VARIANCE, EnvRecipe, EnvSettings, import_user_module, make_quietly, prepare_id, spaces_fit
from .wrappers import WrapperSpec, apply_wrappers

_cache: dict[str, EnvRecipe] = {}


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200]


def refuse_module_id(settings: EnvSettings) -> None:
    env_id = settings.env_id or ""
    if ":" in env_id and not settings.from_user:
        module, name = env_id.split(":", 1)
        raise EnvironmentUnavailableError(
            None, f"the zoo files name the environment {env_id}, which would import the module '{module}' from "
                  "where the model came from: the studio never imports a module a file names",
            f"if you trust that code, name it yourself: --env-module {module} --env {name}")


def resolve(settings: EnvSettings, observation_space: spaces.Space, action_space: spaces.Space,
            normalization: Any = None) -> EnvRecipe:
    """The recipe of the first candidate environment whose spaces fit the model's, or why there is none."""
    if not settings.env_id:
        raise EnvironmentUnavailableError(None, "the model does not say which environment it was trained on",
                                          "give one with --env ID")
    refuse_module_id(settings)
    if ":" in settings.env_id:
        # The user's own MODULE:ID (their choice, as in gymnasium.make): import the module, then make the id.
        module, name = settings.env_id.split(":", 1)
        import_user_module(module)
        settings = replace(settings, env_id=name, env_module=settings.env_module or module)
    key = json.dumps([settings.env_id, settings.kwargs, [w.to_json() for w in settings.wrappers],
                      settings.frame_stack, settings.env_module, repr(observation_space), repr(action_space),
                      getattr(normalization, "source", None)], sort_keys=True, default=str)
    if key not in _cache:
        _cache[key] = _resolve(settings, observation_space, action_space, normalization)
    return _cache[key]


@dataclass(frozen=True)
class _Layout:
    """The wrappers around a candidate: the zoo config's, or, without a config.yml, one inferred."""

    wrappers: tuple[WrapperSpec, ...]
    frame_stack: int
    flatten_goal: bool = False
    note: str = ""


def _layouts(settings: EnvSettings) -> list[_Layout]:
    layouts = [_Layout(tuple(settings.wrappers), settings.frame_stack),
               _Layout(tuple(settings.wrappers), settings.frame_stack, True,
                       "observation and desired_goal concatenated, as SB3 1.x HER agents saw them")]
    if not settings.config_known:
        # Without config.yml, the zoo's two common layouts, recognised by the observation they give.
        layouts += [_Layout((WrapperSpec("TimeFeatureWrapper"),), 0, False,
                            "TimeFeatureWrapper inferred from the observation (no config.yml)"),
                    _Layout((WrapperSpec("AtariWrapper"),), 4, False,
                            "AtariWrapper and 4 stacked frames inferred from the observation (no config.yml)")]
    return layouts


def _resolve(settings: EnvSettings, observation_space: spaces.Space, action_space: spaces.Space,
             normalization: Any) -> EnvRecipe:
    import_user_module(settings.env_module)
    env_id = settings.env_id or ""
    missing = prepare_id(env_id)
    tried: list[str] = []
    for candidate in candidates(env_id, settings.kwargs):
        reason = prepare_id(candidate.env_id)
        if reason:
            tried.append(reason)
            continue
        for layout in _layouts(settings):
            outcome = _try(candidate, layout, observation_space, action_space)
            if outcome is True:
                return _recipe(settings, candidate, layout, normalization)
            if outcome:
                tried.append(outcome)
    family = family_of(env_id)
    hint = family.install if family is not None and missing else None
    detail = "; ".join(dict.fromkeys(tried)) or (missing or f"no environment {env_id} is registered here")
    raise EnvironmentUnavailableError(None, f"environment {env_id} cannot be made here to fit the model ({detail})", hint)


def _try(candidate: Candidate, layout: _Layout, observation_space: spaces.Space, action_space: spaces.Space
         ) -> bool | str | None:
    """True when the candidate, laid out so, fits the model; else what it gave (None: the layout does not apply)."""
    try:
        env = make_quietly(candidate.env_id, candidate.kwargs)
    except Exception as exc:  # noqa: BLE001 - any failure means this candidate cannot be made here
        return f"{candidate.env_id}: {_first_line(exc)}"
    try:
        env = apply_wrappers(env, [WrapperSpec(name) for name in candidate.wrappers] + list(layout.wrappers))
        if layout.flatten_goal:
            inner = env.observation_space
            if not (isinstance(inner, spaces.Dict) and {"observation", "desired_goal"} <= set(inner.spaces)):
                return None
            env = FlattenGoal(env)
        if layout.frame_stack:
            env = FrameStack(env, layout.frame_stack)
        if spaces_fit(observation_space, env.observation_space) and spaces_fit(action_space, env.action_space):
            return True
        if layout.note and not layout.flatten_goal:
            return None  # an inferred layout that does not fit says nothing worth reporting
        kwargs = f" {json.dumps(candidate.kwargs)}" if candidate.kwargs else ""
        flattened = " (goal flattened)" if layout.flatten_goal else ""
        return (f"{candidate.env_id}{kwargs}{flattened} gives {_shape(env.observation_space)}, "
                f"the model expects {_shape(observation_space)}")
    except Exception as exc:  # noqa: BLE001 - a wrapper that does not apply to this env
        return None if layout.note else f"{candidate.env_id}: {_first_line(exc)}"
    finally:
        env.close()


def _shape(space: spaces.Space) -> str:
    if isinstance(space, spaces.Dict):
        return "{" + ", ".join(f"{k}: {_shape(v)}" for k, v in space.spaces.items()) + "}"
    return f"{type(space).__name__}{tuple(getattr(space, 'shape', ()) or ())}"


def _recipe(settings: EnvSettings, candidate: Candidate, layout: _Layout, normalization: Any) -> EnvRecipe:
    recipe = EnvRecipe(requested_id=settings.env_id or "", env_id=candidate.env_id, kwargs=candidate.kwargs,
                       wrappers=[WrapperSpec(name) for name in candidate.wrappers] + list(layout.wrappers),
                       frame_stack=layout.frame_stack, flatten_goal=layout.flatten_goal, env_module=settings.env_module)
    recipe.notes += [note for note in (candidate.note, layout.note) if note]
    stack = max(1, layout.frame_stack)
    # Only where the environment changed since training: elsewhere such dims are constant here too.
    pins = _constant_dims(normalization, stack) if candidate.migrated else {}
    if pins:
        recipe.pins = pins
        described = ", ".join(f"{key + ' ' if key else ''}{_ranges(sorted(dims))}" for key, dims in pins.items())
        recipe.notes.append(f"observation dims that were constant in training pinned to their training values "
                            f"(VecNormalize variance < {CONSTANT_VARIANCE:g}): {described}")
    elif candidate.zero is not None:
        recipe.zero = candidate.zero
        recipe.notes.append(f"contact forces zeroed as mujoco-py 2.x reported them in training "
                            f"(observation {candidate.zero[0]}..{candidate.zero[1] - 1})")
    if stack > 1 and normalization is not None and not isinstance(normalization.mean, dict):
        mean = np.ravel(np.asarray(normalization.mean, np.float64))
        recipe.stack_pad = [float(v) for v in mean[: mean.size // stack]]
    return recipe


def _constant_dims(normalization: Any, frame_stack: int) -> dict[str, dict[int, float]]:
    if normalization is None:
        return {}
    stats = normalization.var if isinstance(normalization.var, dict) else {"": normalization.var}
    means = normalization.mean if isinstance(normalization.mean, dict) else {"": normalization.mean}
    pins: dict[str, dict[int, float]] = {}
    for key, var in stats.items():
        flat = np.ravel(np.asarray(var, np.float64))
        flat = flat[: flat.size // frame_stack]  # stacked statistics repeat one frame's
        constant = np.flatnonzero(flat < CONSTANT_VARIANCE)
        if constant.size and constant.size < flat.size:
            mean = np.ravel(np.asarray(means[key], np.float64))
            pins[key] = {int(i): float(mean[i]) for i in constant}
    return pins


def _ranges(values: list[int]) -> str:
    out, start = [], values[0]
    for prev, cur in zip(values, values[1:] + [None]):
        if cur != prev + 1:
            out.append(f"{start}..{prev}" if prev != start else f"{start}")
            start = cur
    return ", ".join(out)
