"""Making the environment a model was trained on, as the RL Zoo made it, or saying why it cannot be.

* :mod:`.families`: which package registers an id (MuJoCo, PyBullet, panda-gym, gymnasium-robotics,
  Atari...), imported by the studio from a fixed table, with fixes for today's libraries;
* :mod:`.migration`: old ids to today's (``Hopper-v3`` -> ``Hopper-v4``, ``PandaReach-v1`` -> ``-v3``);
* :mod:`.wrappers`: the allow-list of wrappers a zoo config may name;
* :mod:`.recipe` and :mod:`.resolve`: an :class:`EnvRecipe` (plain data, kept in ``run.json``) found
  by trying candidates until one fits the model's observation and action spaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import EnvironmentUnavailableError
from .recipe import EnvRecipe, EnvSettings, prepare_id
from .resolve import resolve
from .wrappers import WrapperSpec

__all__ = ["EnvRecipe", "EnvSettings", "EnvStatus", "WrapperSpec", "check_env", "make_env", "resolve",
           "recipe_from_json"]


@dataclass(frozen=True)
class EnvStatus:
    env_id: str | None
    available: bool
    reason: str = ""
    recipe: EnvRecipe | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.env_id, "can_make": self.available, "reason": self.reason or None}
        if self.recipe is not None:
            data["made_as"] = self.recipe.describe()
            data["recipe"] = self.recipe.to_json()
            data["migrated"] = self.recipe.notes
        return data


def recipe_from_json(data: dict[str, Any]) -> EnvRecipe:
    pinned = data.get("pins") or {}
    return EnvRecipe(
        requested_id=data.get("requested_id") or data["env_id"],
        env_id=data["env_id"],
        kwargs=dict(data.get("kwargs") or {}),
        wrappers=[WrapperSpec(w["name"], dict(w.get("kwargs") or {})) for w in data.get("wrappers") or []],
        frame_stack=int(data.get("frame_stack") or 0),
        stack_pad=data.get("stack_pad"),
        flatten_goal=bool(data.get("flatten_goal")),
        zero=tuple(data["zeroed"]) if data.get("zeroed") else None,
        pins={k: {int(i): float(v) for i, v in p.items()} for k, p in pinned.items()},
        env_module=data.get("env_module"),
        notes=list(data.get("notes") or []),
    )


def make_env(target: EnvRecipe | str | None, render_mode: str | None = None) -> Any:
    """A Gymnasium environment from a recipe (or, for a bare id the user gave, that id as it is)."""
    if isinstance(target, EnvRecipe):
        return target.make(render_mode)
    if not target:
        raise EnvironmentUnavailableError(None, "the model does not say which environment it was trained on",
                                          "give one with --env ID")
    import gymnasium

    reason = prepare_id(target)
    try:
        return gymnasium.make(target, render_mode=render_mode)
    except Exception as exc:  # noqa: BLE001 - gymnasium raises many kinds; all mean "not here"
        text = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        raise EnvironmentUnavailableError(None, f"environment {target} cannot be made here ({reason or text})") from None


def check_env(settings: EnvSettings, observation_space: Any, action_space: Any, normalization: Any = None) -> EnvStatus:
    try:
        recipe = resolve(settings, observation_space, action_space, normalization)
    except EnvironmentUnavailableError as exc:
        return EnvStatus(settings.env_id, False, exc.line())
    return EnvStatus(settings.env_id, True, recipe=recipe)
