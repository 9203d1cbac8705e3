"""Train the agents of int8's failure classes that the zoo sample lacks, into ``tests/data/int8_agents/``.

    .venv/bin/python tools/train_int8_agents.py AGENT [--out tests/data/int8_agents] [--steps N]

AGENT is one of:

* ``ppo-mountaincar``: PPO on MountainCarContinuous-v0 with VecNormalize and gSDE, the RL Zoo's
  hyperparameters (position about +-1.2, velocity about +-0.07: one int8 scale for both);
* ``a2c-mountaincar``: A2C on the discrete MountainCar-v0 with VecNormalize (the zoo's, fewer steps);
* ``td3-pendulum``: TD3 on Pendulum-v1 with the zoo's 400x300 actor (a large MLP).

Each is seeded (torch on one thread, so a rerun repeats on the same machine and library versions) and
saved in the RL Zoo's layout, ``ALGO/ENV_1/ENV.zip`` with ``ENV_1/ENV/config.yml``, ``args.yml`` and
``vecnormalize.pkl`` where it was trained with one, without the optimizers' state and the critics (the
studio needs the acting policy only). The last line printed is the agent's mean return over 20
evaluation episodes, as the studio loads and plays it, against a uniformly random policy's.
"""

from __future__ import annotations

import argparse
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import studio.core  # noqa: E402,F401 - keeps TensorFlow out

SEED = 0


def _ppo_mountaincar(steps: int | None) -> tuple[Any, Any, str, dict[str, Any]]:
    from stable_baselines3 import PPO

    # rl-baselines3-zoo hyperparams/ppo.yml, MountainCarContinuous-v0
    hyper = dict(batch_size=256, n_steps=8, gamma=0.9999, learning_rate=7.77e-05, ent_coef=0.00429,
                 clip_range=0.1, n_epochs=10, gae_lambda=0.9, max_grad_norm=5, vf_coef=0.19, use_sde=True,
                 policy_kwargs=dict(log_std_init=-3.29, ortho_init=False))
    venv = _normalized("MountainCarContinuous-v0", 1)
    model = PPO("MlpPolicy", venv, seed=SEED, device="cpu", **hyper)
    model.learn(steps or 20_000)
    return model, venv, "MountainCarContinuous-v0", dict(hyper, normalize=True, n_timesteps=steps or 20_000)


def _a2c_mountaincar(steps: int | None) -> tuple[Any, Any, str, dict[str, Any]]:
    from stable_baselines3 import A2C

    # rl-baselines3-zoo hyperparams/a2c.yml, MountainCar-v0 (16 environments, no entropy bonus)
    hyper = dict(ent_coef=0.0)
    venv = _normalized("MountainCar-v0", 16)
    model = A2C("MlpPolicy", venv, seed=SEED, device="cpu", **hyper)
    model.learn(steps or 1_000_000)
    return model, venv, "MountainCar-v0", dict(hyper, normalize=True, n_envs=16, n_timesteps=steps or 1_000_000)


def _td3_pendulum(steps: int | None) -> tuple[Any, Any, str, dict[str, Any]]:
    import gymnasium as gym
    from stable_baselines3 import TD3
    from stable_baselines3.common.noise import NormalActionNoise

    # rl-baselines3-zoo hyperparams/td3.yml, Pendulum-v1: the 400x300 actor and critics
    hyper = dict(gamma=0.98, buffer_size=200_000, learning_starts=10_000, gradient_steps=-1,
                 train_freq=(1, "episode"), learning_rate=1e-3, policy_kwargs=dict(net_arch=[400, 300]))
    env = gym.make("Pendulum-v1")
    noise = NormalActionNoise(np.zeros(1), 0.1 * np.ones(1))
    model = TD3("MlpPolicy", env, seed=SEED, device="cpu", action_noise=noise, **hyper)
    model.learn(steps or 20_000)
    return model, None, "Pendulum-v1", dict(hyper, noise_type="normal", noise_std=0.1, n_timesteps=steps or 20_000)


AGENTS = {"ppo-mountaincar": ("ppo", _ppo_mountaincar), "a2c-mountaincar": ("a2c", _a2c_mountaincar),
          "td3-pendulum": ("td3", _td3_pendulum)}


def _normalized(env_id: str, n_envs: int) -> Any:
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    return VecNormalize(make_vec_env(env_id, n_envs=n_envs, seed=SEED), gamma=0.9999)


def save(model: Any, venv: Any, algo: str, env_id: str, hyper: dict[str, Any], out: Path) -> Path:
    """The zoo's layout, without the optimizers' state and, for off-policy agents, without the critics."""
    folder = out / algo / f"{env_id}_1"
    (folder / env_id).mkdir(parents=True, exist_ok=True)
    path = folder / f"{env_id}.zip"
    model.save(path, exclude=["replay_buffer", "_last_obs", "_last_original_obs", "ep_info_buffer", "ep_success_buffer"])
    _strip(path)
    if venv is not None:
        venv.save(str(folder / env_id / "vecnormalize.pkl"))
    import yaml

    tag = "!!python/object/apply:collections.OrderedDict\n"
    plain = [[key, value if isinstance(value, (int, float, bool, str)) else repr(value)] for key, value in sorted(hyper.items())]
    (folder / env_id / "config.yml").write_text(tag + yaml.safe_dump([plain]))
    (folder / env_id / "args.yml").write_text(tag + yaml.safe_dump([[["algo", algo], ["env", env_id], ["seed", SEED]]]))
    return path


def _strip(path: Path) -> None:
    """Drop the optimizers and the critics from the zip: the studio loads and exports the acting policy only."""
    import io

    import torch

    with zipfile.ZipFile(path) as source:
        members = {name: source.read(name) for name in source.namelist()}
    kept = {k: v for k, v in members.items() if not k.endswith("optimizer.pth") and k != "pytorch_variables.pth"}
    state = torch.load(io.BytesIO(members["policy.pth"]), weights_only=True)
    if any(k.startswith("critic") for k in state):
        critic = {k: v for k, v in state.items() if k.startswith("critic.") or k.startswith("critic_target.")}
        state = {k: (torch.zeros_like(v) if k in critic else v) for k, v in state.items()}
        buffer = io.BytesIO()
        torch.save(state, buffer)
        kept["policy.pth"] = buffer.getvalue()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in kept.items():
            target.writestr(name, data)


def evaluate(path: Path, episodes: int = 20) -> tuple[float, float]:
    from studio.core.closed_loop.episodes import play, random_policy
    from studio.core.loading import load_model

    loaded = load_model(path)
    mine = [play(loaded.predict, loaded.make_env, 1000 + i) for i in range(episodes)]
    chance = [play(random_policy(loaded.action_space, i), loaded.make_env, 1000 + i) for i in range(episodes)]
    return float(np.mean(mine)), float(np.mean(chance))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("agent", choices=sorted(AGENTS))
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "data" / "int8_agents")
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    algo, train = AGENTS[args.agent]
    started, cpu = time.perf_counter(), time.process_time()
    model, venv, env_id, hyper = train(args.steps)
    path = save(model, venv, algo, env_id, hyper, args.out)
    print(f"trained in {time.perf_counter() - started:.0f} s ({time.process_time() - cpu:.0f} s CPU): {path}")
    mean, chance = evaluate(path)
    print(f"mean return {mean:.2f} over 20 episodes; random {chance:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
