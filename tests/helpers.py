"""Small helpers shared by tests."""

from __future__ import annotations

import base64
import json
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np


def sample_batch(space: Any, n: int, seed: int = 0) -> Any:
    space.seed(seed)
    samples = [space.sample() for _ in range(n)]
    if isinstance(samples[0], dict):
        return {key: np.stack([s[key] for s in samples]) for key in samples[0]}
    return np.stack(samples)


def rewrite_zip(source: Path, target: Path, edit: Callable[[dict[str, bytes]], dict[str, bytes]]) -> Path:
    """Copy an SB3 zip to ``target`` with its entries changed by ``edit``."""
    with zipfile.ZipFile(source) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(target, "w") as archive:
        for name, content in edit(files).items():
            archive.writestr(name, content)
    return target


def set_data_entry(files: dict[str, bytes], key: str, pickled: bytes) -> dict[str, bytes]:
    data = json.loads(files["data"])
    data[key] = {":type:": "<class 'object'>", ":serialized:": base64.b64encode(pickled).decode()}
    return dict(files, data=json.dumps(data).encode())


def visited_observations(loaded: Any, n: int, seed: int) -> np.ndarray:
    """Raw observations the original visits, collected by the test itself with plain Gymnasium."""
    import gymnasium as gym

    env = gym.make(loaded.env_id)
    obs, _ = env.reset(seed=seed)
    seen = []
    for _ in range(n):
        seen.append(obs)
        obs, _, terminated, truncated, _ = env.step(loaded.predict(obs[None])[0])
        if terminated or truncated:
            obs, _ = env.reset()
    return np.stack(seen)
