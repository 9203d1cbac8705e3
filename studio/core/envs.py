"""Making the environment a model was trained on, or saying why it cannot be made here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import EnvironmentUnavailableError

_INSTALL_HINTS = {
    "ALE": "pip install 'gymnasium[atari]' (Atari ROMs ship with ale-py)",
    "Box2D": "pip install 'gymnasium[box2d]'",
    "MuJoCo": "pip install 'gymnasium[mujoco]'",
    "pybullet": "pip install pybullet",
}


@dataclass(frozen=True)
class EnvStatus:
    env_id: str | None
    available: bool
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.env_id, "can_make": self.available, "reason": self.reason or None}


def resolve_env_id(env_id: str) -> str:
    """The registered id for ``env_id``; the zoo's older versions (``LunarLander-v2``) map to the newest."""
    import gymnasium

    registry = gymnasium.envs.registry
    if env_id in registry:
        return env_id
    match = re.fullmatch(r"(.+)-v(\d+)", env_id)
    if match:
        versions = sorted(
            int(other.rsplit("-v", 1)[1])
            for other in registry
            if other.startswith(match.group(1) + "-v") and other.rsplit("-v", 1)[1].isdigit()
        )
        newer = [v for v in versions if v > int(match.group(2))]
        if newer:
            return f"{match.group(1)}-v{newer[0]}"
    return env_id


def make_env(env_id: str | None, render_mode: str | None = None) -> Any:
    """A Gymnasium environment, or :class:`EnvironmentUnavailableError` with the reason and a hint."""
    import gymnasium

    if not env_id:
        raise EnvironmentUnavailableError(None, "the model does not say which environment it was trained on",
                                          "give one with --env ID")
    resolved = resolve_env_id(env_id)
    try:
        return gymnasium.make(resolved, render_mode=render_mode)
    except Exception as exc:  # noqa: BLE001 - gymnasium raises many kinds; all mean "not here"
        text = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        hint = next((h for key, h in _INSTALL_HINTS.items() if key.lower() in text.lower()), None)
        raise EnvironmentUnavailableError(None, f"environment {env_id} cannot be made here ({text})", hint) from None


def check_env(env_id: str | None) -> EnvStatus:
    try:
        make_env(env_id).close()
    except EnvironmentUnavailableError as exc:
        return EnvStatus(env_id, False, exc.line())
    return EnvStatus(env_id, True)
