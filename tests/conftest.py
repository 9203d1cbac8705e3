"""Shared fixtures: the zoo sample, tiny trained models of every algorithm and space type."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import studio.core  # noqa: E402,F401 - before SB3: keeps TensorFlow out of the test process

# The tests compare the studio's loader with SB3's own, which needs the old gym package for SB3 1.x files.
if sys.modules.get("gym", 0) is None:
    del sys.modules["gym"]
import pytest  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import tiny_models  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO.parent / "shared" / "zoo-sample"
ZOO_AGENTS = {
    "ppo": ZOO / "ppo/CartPole-v1_1/CartPole-v1.zip",
    "a2c": ZOO / "a2c/Pendulum-v1_1/Pendulum-v1.zip",
    "sac": ZOO / "sac/Pendulum-v1_1/Pendulum-v1.zip",
    "dqn": ZOO / "dqn/CartPole-v1_1/CartPole-v1.zip",
    "qrdqn": ZOO / "qrdqn/Acrobot-v1_1/Acrobot-v1.zip",
    "tqc": ZOO / "tqc/MountainCarContinuous-v0_1/MountainCarContinuous-v0.zip",
}
# The families beyond classic control: PyBullet with TimeFeatureWrapper and VecNormalize, MuJoCo from a dead -v3
# id, a goal-conditioned HER agent with a Dict observation, Box2D locomotion.
ZOO_FAMILIES = {
    "ppo_bullet": ZOO / "ppo/HalfCheetahBulletEnv-v0_1/HalfCheetahBulletEnv-v0.zip",
    "sac_hopper": ZOO / "sac/Hopper-v3_1/Hopper-v3.zip",
    "tqc_panda": ZOO / "tqc/PandaReach-v1_1/PandaReach-v1.zip",
    "a2c_bipedal": ZOO / "a2c/BipedalWalker-v3_1/BipedalWalker-v3.zip",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not ZOO.is_dir():
        raise pytest.UsageError(f"the zoo sample is missing: {ZOO} (it lives in the shared folder beside the repo)")


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny-models")


@pytest.fixture(scope="session")
def tiny_models_paths(tiny_dir: Path) -> dict[str, Path]:
    """Every spec in tiny_models.SPECS, trained for a few steps (about 2 s in all)."""
    return {name: tiny_models.train(name, tiny_dir) for name in tiny_models.SPECS}


@pytest.fixture(scope="session")
def normalized_model(tiny_dir: Path) -> tuple[Path, Path]:
    return tiny_models.train_with_vecnormalize(tiny_dir)


@pytest.fixture(scope="session")
def custom_extractor_model(tiny_dir: Path) -> Path:
    return tiny_models.train_custom_extractor(tiny_dir)


ALL = ["onnx", "tflite-fp32", "tflite-fp16", "tflite-int8", "edgetpu"]


@pytest.fixture(scope="session")
def zoo_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every zoo agent converted to every format once, int8 repairs included (about 2 minutes)."""
    from studio.core.pipeline.runner import execute
    from studio.core.pipeline.spec import ConvertSpec

    root = tmp_path_factory.mktemp("zoo-runs")
    runs = {}
    for name, model in ZOO_AGENTS.items():
        execute(ConvertSpec(model=model, targets=ALL, out=root / name), emit=lambda event: None)
        runs[name] = root / name
    return runs


DEPLOY = ["torchscript", "web", "tflite-micro", "bundle"]


@pytest.fixture(scope="session")
def deploy_runs(zoo_runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every zoo agent's run (a copy) with the deployment targets added: the earlier stages are restored,
    only the deployment stages run (about 15 s per agent, plus one C++ build the first time)."""
    import shutil

    from studio.core.pipeline.runner import execute
    from studio.core.pipeline.spec import ConvertSpec

    root = tmp_path_factory.mktemp("deploy-runs")
    runs = {}
    for name, model in ZOO_AGENTS.items():
        shutil.copytree(zoo_runs[name], root / name)
        execute(ConvertSpec(model=model, targets=[*ALL, *DEPLOY], out=root / name), emit=lambda event: None)
        runs[name] = root / name
    return runs
