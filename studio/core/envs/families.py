"""The environment families the studio knows, and importing them on demand.

An env id such as ``HalfCheetahBulletEnv-v0`` or ``PandaReach-v3`` exists only once its family's
package has registered it. The studio imports these packages itself, chosen from this fixed table by
the id's shape: never a module a file names. Families that misbehave with today's libraries are
mended here, each fix said in :data:`FIXES`.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import threading
from dataclasses import dataclass
from typing import Callable, Iterator


@dataclass(frozen=True)
class Family:
    name: str
    pattern: str  # a regular expression over env ids
    module: str | None  # the package that registers the ids (None: Gymnasium itself)
    install: str  # how to get it
    pybullet: bool = False  # runs on pybullet, which prints from C on every connection

    def matches(self, env_id: str) -> bool:
        return re.fullmatch(self.pattern, env_id) is not None


FAMILIES: list[Family] = [
    Family("PyBullet", r".*BulletEnv-v\d+", "pybullet_envs_gymnasium", "pip install pybullet-envs-gymnasium", True),
    Family("panda-gym", r"Panda\w+-v\d+", "panda_gym", "pip install panda-gym", True),
    Family("Gymnasium-Robotics", r"(Fetch|HandManipulate|HandReach|AntMaze|PointMaze|FrankaKitchen|Adroit)\w*-v\d+",
           "gymnasium_robotics", "pip install gymnasium-robotics"),
    Family("Atari", r"ALE/.+|\w+(NoFrameskip|Deterministic)-v\d+|\w+-ram\w*-v\d+", "ale_py",
           "pip install ale-py (its ROMs are included)"),
    Family("MiniGrid", r"(MiniGrid|BabyAI)-.*", "minigrid", "pip install minigrid"),
    Family("highway-env", r"(highway|merge|roundabout|parking|intersection|racetrack)(-\w+)?-v\d+", "highway_env",
           "pip install highway-env"),
    Family("MuJoCo", r"(Ant|HalfCheetah|Hopper|Humanoid|HumanoidStandup|InvertedDoublePendulum|InvertedPendulum|"
                     r"Pusher|Reacher|Swimmer|Walker2d)-v\d+", None, "pip install 'gymnasium[mujoco]'"),
    Family("SB3 Studio", r"(CatchPixels|WallGrid)-v\d+", "studio.core.demo_envs", "part of SB3 Studio"),
    Family("Box2D", r"(LunarLander|LunarLanderContinuous|BipedalWalker|BipedalWalkerHardcore|CarRacing)-v\d+", None,
           "pip install 'gymnasium[box2d]'"),
]

FIXES: dict[str, str] = {
    "gymnasium_robotics": "gymnasium-robotics 1.4.2 asserts on MuJoCo 4's joint-type enums when it resets Fetch "
                          "and Hand environments; the studio compares the joint types as integers instead",
}

_imported: set[str] = set()


def family_of(env_id: str) -> Family | None:
    return next((family for family in FAMILIES if family.matches(env_id)), None)


_quiet_lock = threading.Lock()


@contextlib.contextmanager
def quiet_output() -> Iterator[None]:
    """pybullet writes on file descriptors 1 and 2 from C (its build time at import, ``argv[0]=`` at each
    reset): keep that off our output. One thread at a time, so that no two threads save and restore the
    descriptors crosswise."""
    with _quiet_lock:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            saved = [os.dup(1), os.dup(2)]
        except (OSError, ValueError):
            yield
            return
        try:
            with open(os.devnull, "wb") as devnull:
                os.dup2(devnull.fileno(), 1)
                os.dup2(devnull.fileno(), 2)
                yield
        finally:
            for fd, copy in zip((1, 2), saved):
                os.dup2(copy, fd)
                os.close(copy)


def import_family(family: Family) -> str | None:
    """Import ``family``'s package (once); the reason it cannot be imported, or None."""
    if family.module is None or family.module in _imported:
        return None
    try:
        with quiet_output():
            module = importlib.import_module(family.module)
    except Exception as exc:  # noqa: BLE001 - any failure means the family is not usable here
        return f"{family.name} is not installed here ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    import gymnasium

    register = getattr(gymnasium, "register_envs", None)
    if register is not None and family.module in ("gymnasium_robotics", "ale_py"):
        register(module)
    _FIXERS.get(family.module, lambda: None)()
    _imported.add(family.module)
    return None


def _fix_gymnasium_robotics() -> None:
    """gymnasium-robotics tests ``joint_type in (mjJNT_HINGE, mjJNT_SLIDE)``: with MuJoCo 4 the enum on the
    left of ``==`` refuses numpy integers, so the test fails for every hinge joint. Compare integers."""
    import mujoco
    import numpy as np
    from gymnasium_robotics.utils import mujoco_utils

    free, ball = int(mujoco.mjtJoint.mjJNT_FREE), int(mujoco.mjtJoint.mjJNT_BALL)

    def ndim(model: object, joint_id: int, free_dims: int, ball_dims: int) -> int:
        kind = int(model.jnt_type[joint_id])  # type: ignore[attr-defined]
        return free_dims if kind == free else ball_dims if kind == ball else 1

    def joint(model: object, name: str) -> int:
        joint_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)
        if joint_id == -1:
            raise ValueError(f"Joint with name '{name}' is not part of the model!")
        return joint_id

    def setter(address: str, free_dims: int, ball_dims: int, field: str) -> Callable[..., None]:
        def set_value(model: object, data: object, name: str, value: object) -> None:
            joint_id = joint(model, name)
            start = getattr(model, address)[joint_id]
            getattr(data, field)[start:start + ndim(model, joint_id, free_dims, ball_dims)] = np.array(value)
        return set_value

    def getter(address: str, free_dims: int, ball_dims: int, field: str) -> Callable[..., np.ndarray]:
        def get_value(model: object, data: object, name: str) -> np.ndarray:
            joint_id = joint(model, name)
            start = getattr(model, address)[joint_id]
            return getattr(data, field)[start:start + ndim(model, joint_id, free_dims, ball_dims)].copy()
        return get_value

    mujoco_utils.set_joint_qpos = setter("jnt_qposadr", 7, 4, "qpos")
    mujoco_utils.set_joint_qvel = setter("jnt_dofadr", 6, 3, "qvel")
    mujoco_utils.get_joint_qpos = getter("jnt_qposadr", 7, 4, "qpos")
    mujoco_utils.get_joint_qvel = getter("jnt_dofadr", 6, 3, "qvel")


_FIXERS: dict[str, Callable[[], None]] = {"gymnasium_robotics": _fix_gymnasium_robotics}
