"""From the env id a model was trained on to the environments that exist today.

Gymnasium and its family packages renamed or re-versioned many ids the RL Zoo trained on: MuJoCo's
``-v2``/``-v3`` need the dead mujoco-py (``-v4`` has the same observations on the ``mujoco``
bindings), ``PandaReach-v1`` is panda-gym's ``-v3``, ``FetchReach-v1`` is gymnasium-robotics' ``-v4``,
``LunarLander-v2`` is ``-v3``. :func:`candidates` lists what to try, in order; the caller keeps the
first whose observation and action spaces fit the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

# mujoco-py 2.x (what the zoo trained MuJoCo -v2/-v3 agents with) reported every contact force as zero:
# these environments' observations end with them. (observation slice, as it sits in today's -v4)
_MUJOCO_PY_CONTACTS = {
    "Ant": ({"use_contact_forces": True, "contact_cost_weight": 0.0}, (27, 111)),
    "Humanoid": ({}, (292, 376)),
    "HumanoidStandup": ({}, (292, 376)),
}


@dataclass(frozen=True)
class Candidate:
    env_id: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    note: str = ""  # what was migrated, said to the user ("" when the id is used as it is)
    zero: tuple[int, int] | None = None  # observation dims mujoco-py 2.x reported as zeros
    wrappers: tuple[str, ...] = ()  # wrappers the id itself stands for (the zoo's *NoVel ids)

    @property
    def migrated(self) -> bool:
        return bool(self.note)


def _registered_versions(name: str) -> list[int]:
    import gymnasium

    versions = []
    for other in gymnasium.envs.registry:
        base, _, version = other.rpartition("-v")
        if base == name and version.isdigit():
            versions.append(int(version))
    return sorted(versions)


def candidates(env_id: str, kwargs: dict[str, Any]) -> Iterator[Candidate]:
    """What to try for ``env_id`` (with the zoo's ``kwargs``), best first."""
    import gymnasium

    if env_id in gymnasium.envs.registry:
        yield Candidate(env_id, dict(kwargs))
    match = re.fullmatch(r"(.+)-v(\d+)", env_id)
    if not match:
        return
    if match.group(1).endswith("NoVel"):
        # The RL Zoo registers these itself: the base env with its velocities masked (MaskVelocityWrapper).
        base = f"{match.group(1)[:-len('NoVel')]}-v{match.group(2)}"
        for candidate in candidates(base, kwargs):
            note = f"{env_id} is the zoo's {base} with velocities masked" + (f"; {candidate.note}" if candidate.note else "")
            yield Candidate(candidate.env_id, candidate.kwargs, note, candidate.zero, ("MaskVelocityWrapper",))
        return
    name, version = match.group(1), int(match.group(2))
    newer = [v for v in _registered_versions(name) if v > version]
    contacts = _MUJOCO_PY_CONTACTS.get(name) if version <= 3 else None
    for v in newer:
        new_id = f"{name}-v{v}"
        why = "mujoco-py is gone; same physics on the mujoco bindings" if version <= 3 and name in _MUJOCO_NAMES \
            else "the old version is no longer registered"
        if contacts is not None and v == 4:
            extra, dims = contacts
            yield Candidate(new_id, {**kwargs, **extra}, f"{env_id} -> {new_id} ({why}" +
                            (f"; {_kw(extra)})" if extra else ")"), dims)
        yield Candidate(new_id, dict(kwargs), f"{env_id} -> {new_id} ({why})")


def _kw(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


_MUJOCO_NAMES = {"Ant", "HalfCheetah", "Hopper", "Humanoid", "HumanoidStandup", "InvertedDoublePendulum",
                 "InvertedPendulum", "Pusher", "Reacher", "Swimmer", "Walker2d"}
