"""The algorithms the studio supports, and how to tell which one saved a file.

An SB3 zip does not name its algorithm; its pickled ``policy_class`` does, up to ambiguities that the
zoo folder (``ppo/CartPole-v1_1``) or the saved hyperparameters resolve.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from .errors import UnknownAlgorithmError

ALGORITHMS: dict[str, str] = {
    "A2C": "stable_baselines3.A2C",
    "PPO": "stable_baselines3.PPO",
    "DQN": "stable_baselines3.DQN",
    "SAC": "stable_baselines3.SAC",
    "TD3": "stable_baselines3.TD3",
    "DDPG": "stable_baselines3.DDPG",
    "TQC": "sb3_contrib.TQC",
    "QRDQN": "sb3_contrib.QRDQN",
    "TRPO": "sb3_contrib.TRPO",
    "ARS": "sb3_contrib.ARS",
    "RecurrentPPO": "sb3_contrib.RecurrentPPO",
    "MaskablePPO": "sb3_contrib.MaskablePPO",
    "CrossQ": "sb3_contrib.CrossQ",
}

# The RL Zoo's folder names for algorithms whose name is not theirs in lower case.
ZOO_NAMES = {"ppo_lstm": "RecurrentPPO", "ppo_mask": "MaskablePPO"}

# Algorithms whose Box actions the policy squashes with tanh (then rescales to the bounds).
SQUASHED = {"SAC", "TD3", "DDPG", "TQC", "CrossQ"}
# Algorithms that act by the argmax of Q-values.
Q_LEARNING = {"DQN", "QRDQN"}


def algorithm_class(name: str) -> type:
    module, cls = ALGORITHMS[name].rsplit(".", 1)
    return getattr(importlib.import_module(module), cls)


def _policy_families() -> list[tuple[type, list[str]]]:
    from sb3_contrib.ars.policies import ARSPolicy
    from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
    from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
    from sb3_contrib.crossq.policies import CrossQPolicy
    from sb3_contrib.qrdqn.policies import QRDQNPolicy
    from sb3_contrib.tqc.policies import TQCPolicy
    from stable_baselines3.common.policies import ActorCriticPolicy
    from stable_baselines3.dqn.policies import DQNPolicy
    from stable_baselines3.sac.policies import SACPolicy
    from stable_baselines3.td3.policies import TD3Policy

    return [
        (RecurrentActorCriticPolicy, ["RecurrentPPO"]),
        (MaskableActorCriticPolicy, ["MaskablePPO"]),
        (CrossQPolicy, ["CrossQ"]),
        (ARSPolicy, ["ARS"]),
        (QRDQNPolicy, ["QRDQN"]),
        (TQCPolicy, ["TQC"]),
        (SACPolicy, ["SAC"]),
        (TD3Policy, ["TD3", "DDPG"]),
        (DQNPolicy, ["DQN"]),
        (ActorCriticPolicy, ["PPO", "A2C", "TRPO"]),
    ]


def detect(path: Path, data: dict[str, Any], hint: str | None = None) -> str:
    """The algorithm that saved ``data``; ``hint`` is a name such as the zoo folder's ``ppo``."""
    policy_class = data.get("policy_class")
    name = f"{getattr(policy_class, '__module__', '?')}.{getattr(policy_class, '__name__', policy_class)}"
    candidates: list[str] = []
    if isinstance(policy_class, type):
        for base, algos in _policy_families():
            if issubclass(policy_class, base):
                candidates = algos
                break
    if not candidates:
        raise UnknownAlgorithmError(path, name, sorted(ALGORITHMS))
    hinted = ZOO_NAMES.get((hint or "").lower(), (hint or "").upper().replace("-", ""))
    if hinted.upper() in [c.upper() for c in candidates]:
        return next(c for c in candidates if c.upper() == hinted.upper())
    if candidates == ["TD3", "DDPG"]:
        ddpg = data.get("policy_delay") == 1 and float(data.get("target_noise_clip", 0.5)) == 0.0
        return "DDPG" if ddpg else "TD3"
    if candidates == ["PPO", "A2C", "TRPO"]:
        if "cg_max_steps" in data or "line_search_shrinking_factor" in data:
            return "TRPO"
        if "clip_range" in data or "n_epochs" in data:
            return "PPO"
        return "A2C"
    return candidates[0]
