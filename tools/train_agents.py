"""Train the small agents shipped in ``tests/data/agents/``: one per policy family the zoo sample lacks.

    .venv/bin/python tools/train_agents.py FAMILY [--out tests/data/agents] [--steps N]

FAMILY is ``recurrent`` (RecurrentPPO on CartPoleNoVel-v1: velocities hidden, so it needs memory),
``maskable`` (MaskablePPO on WallGrid-v0: invalid moves masked), ``crossq`` (CrossQ on Pendulum-v1)
or ``image`` (PPO CnnPolicy, NatureCNN, on CatchPixels-v0 with two stacked frames). Each is seeded
(torch on one thread, so the result repeats on the same machine and library versions) and saved in
the RL Zoo's layout, ``ALGO/ENV_1/ENV.zip`` with ``ENV_1/ENV/config.yml`` and ``args.yml``, without
the optimizers' state (the studio only needs the policy). The last line printed is the agent's mean
return over 20 evaluation episodes against a uniformly random policy's (with the mask, for the
masked environment).
"""

from __future__ import annotations

import argparse
import sys
import time
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import studio.core  # noqa: E402,F401 - keeps TensorFlow out
from studio.core import demo_envs  # noqa: E402,F401 - registers CatchPixels-v0 and WallGrid-v0

SEED = 0


def _recurrent(steps: int | None) -> tuple[Any, str, dict[str, Any]]:
    from sb3_contrib import RecurrentPPO
    from stable_baselines3.common.env_util import make_vec_env
    from torch import nn

    env_id = "CartPoleNoVel-v1"
    # The zoo's ppo_lstm hyperparameters for CartPoleNoVel-v1, with a smaller LSTM and fewer steps.
    hyper = dict(
        n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=5, ent_coef=0.0,
        learning_rate=1e-3, clip_range=0.2,
        policy_kwargs=dict(ortho_init=False, activation_fn=nn.ReLU, lstm_hidden_size=32,
                           enable_critic_lstm=True, net_arch=dict(pi=[64], vf=[64])),
    )
    venv = make_vec_env(_no_velocities, n_envs=8, seed=SEED)
    model = RecurrentPPO("MlpLstmPolicy", venv, seed=SEED, device="cpu", **hyper)
    model.learn(steps or 50_000)
    return model, env_id, dict(hyper, n_envs=8, n_timesteps=steps or 50_000, policy="MlpLstmPolicy")


def _no_velocities() -> Any:
    """The zoo's CartPoleNoVel-v1: CartPole-v1 with its velocities multiplied by 0."""
    import gymnasium as gym

    from studio.core.envs.wrappers import MaskVelocityWrapper

    return MaskVelocityWrapper(gym.make("CartPole-v1"))


def _maskable(steps: int | None) -> tuple[Any, str, dict[str, Any]]:
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.env_util import make_vec_env

    env_id = "WallGrid-v0"
    hyper = dict(n_steps=256, batch_size=256, n_epochs=10, gamma=0.97, ent_coef=0.01, learning_rate=1e-3)
    venv = make_vec_env(env_id, n_envs=8, seed=SEED)
    model = MaskablePPO("MlpPolicy", venv, seed=SEED, device="cpu", **hyper)
    model.learn(steps or 60_000)
    return model, env_id, dict(hyper, n_envs=8, n_timesteps=steps or 60_000, policy="MlpPolicy")


def _crossq(steps: int | None) -> tuple[Any, str, dict[str, Any]]:
    from sb3_contrib import CrossQ

    env_id = "Pendulum-v1"
    hyper = dict(learning_starts=500, policy_kwargs=dict(net_arch=dict(pi=[64, 64], qf=[128, 128])))
    import gymnasium as gym

    model = CrossQ("MlpPolicy", gym.make(env_id), seed=SEED, device="cpu", **hyper)
    model.learn(steps or 6_000)
    return model, env_id, dict(hyper, n_timesteps=steps or 6_000, policy="MlpPolicy")


def _image(steps: int | None) -> tuple[Any, str, dict[str, Any]]:
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecFrameStack

    env_id = "CatchPixels-v0"
    hyper = dict(n_steps=128, batch_size=256, n_epochs=4, gamma=0.95, ent_coef=0.01, learning_rate=5e-4,
                 clip_range=0.2, policy_kwargs=dict(features_extractor_kwargs=dict(features_dim=128)))
    venv = VecFrameStack(make_vec_env(env_id, n_envs=8, seed=SEED), n_stack=2)
    model = PPO("CnnPolicy", venv, seed=SEED, device="cpu", **hyper)
    model.learn(steps or 100_000)
    return model, env_id, dict(hyper, n_envs=8, frame_stack=2, n_timesteps=steps or 100_000, policy="CnnPolicy")


FAMILIES: dict[str, tuple[str, Callable[[int | None], tuple[Any, str, dict[str, Any]]]]] = {
    "recurrent": ("ppo_lstm", _recurrent),
    "maskable": ("ppo_mask", _maskable),
    "crossq": ("crossq", _crossq),
    "image": ("ppo", _image),
}


def _save(model: Any, folder: Path, env_id: str, config: dict[str, Any]) -> Path:
    """The zoo's layout; the zip without the optimizer state (a third of its size, unused for prediction)."""
    import yaml

    run = folder / f"{env_id}_1"
    (run / env_id).mkdir(parents=True, exist_ok=True)
    path = run / f"{env_id}.zip"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist() if not name.endswith("optimizer.pth")}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    plain = [[key, repr(value) if isinstance(value, dict) else value] for key, value in sorted(config.items())]
    tag = "!!python/object/apply:collections.OrderedDict\n"  # the zoo's spelling of its ordered pairs
    (run / env_id / "config.yml").write_text(tag + yaml.safe_dump([plain]))
    args = [["algo", folder.name], ["env", env_id], ["seed", SEED]]
    (run / env_id / "args.yml").write_text(tag + yaml.safe_dump([args]))
    return path


def evaluate(path: Path, episodes: int = 20) -> tuple[float, float]:
    """Mean return of the saved agent as the studio loads and plays it (its environment made from the zoo
    files, frames stacked, masks and episode starts carried) and of a uniformly random policy (among the
    allowed actions where masked), over the same seeds."""
    from studio.core.closed_loop import episode_returns, random_returns
    from studio.core.loading import load_model

    loaded = load_model(path)
    agent = episode_returns(loaded.predict, loaded.make_env, episodes, 1000)
    random = random_returns(loaded.make_env, episodes, 1000)
    return float(np.mean(agent)), float(np.mean(random))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("family", choices=sorted(FAMILIES))
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "data" / "agents")
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    folder_name, train = FAMILIES[args.family]
    started, cpu = time.perf_counter(), time.process_time()
    model, env_id, config = train(args.steps)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    path = _save(model, args.out / folder_name, env_id, config)
    agent, random = evaluate(path)
    size = path.stat().st_size
    print(f"{args.family}: {path.relative_to(REPO) if path.is_relative_to(REPO) else path} ({size} bytes), "
          f"trained in {seconds:.0f} s ({cpu:.0f} s of CPU); mean return {agent:.2f} against random {random:.2f}")


if __name__ == "__main__":
    main()
