"""The zoo sample's agents beyond classic control: each inspects, gets its environment as the zoo made it,
and converts to the float formats with verification passing, closed loop judged with an interval."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ZOO_FAMILIES

from studio.cli import main
from studio.core.pipeline.runner import execute
from studio.core.pipeline.spec import ConvertSpec

pytestmark = pytest.mark.slow

MADE_AS = {
    "ppo_bullet": ("HalfCheetahBulletEnv-v0", ["TimeFeatureWrapper"]),
    "sac_hopper": ("Hopper-v4", []),
    "tqc_panda": ("PandaReach-v3", ["TimeFeatureWrapper"]),
    "a2c_bipedal": ("BipedalWalker-v3", []),
}
FLOAT = ["onnx", "tflite-fp32", "tflite-fp16"]


@pytest.fixture(scope="session")
def family_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("family-runs")
    runs = {}
    for name, model in ZOO_FAMILIES.items():
        spec = ConvertSpec(model=model, targets=FLOAT, out=root / name, episodes=6, max_episodes=12,
                           rollout_steps=500, samples=500)
        execute(spec, emit=lambda event: None)
        runs[name] = root / name
    return runs


@pytest.mark.parametrize("name", sorted(ZOO_FAMILIES))
def test_inspect_shows_the_environment_as_the_zoo_made_it(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(ZOO_FAMILIES[name]), "--json"]) == 0
    env = json.loads(capsys.readouterr().out)["environment"]
    env_id, wrappers = MADE_AS[name]
    assert env["can_make"], env["reason"]
    assert env["recipe"]["env_id"] == env_id
    assert [w["name"] for w in env["recipe"]["wrappers"]] == wrappers


@pytest.mark.parametrize("name", sorted(ZOO_FAMILIES))
def test_float_formats_verify_open_and_closed_loop(name: str, family_runs: dict[str, Path]) -> None:
    data = json.loads((family_runs[name] / "run.json").read_text())
    assert data["status"] == "passed", [s for s in data["stages"] if s.get("status") == "failed"]
    assert data["environment"]["env_id"] == MADE_AS[name][0]
    assert data["closed_loop"]["episodes"] >= 6 and "floor" in data["closed_loop"]
    for key in ("onnx", "tflite_fp32", "tflite_fp16"):
        verification = data["artifacts"][key]["verification"]
        assert verification["passed"], verification["failures"]
        assert [*verification["sources"]] == ["rollout", "sampled"]  # visited states first, reported apart
    closed = data["artifacts"]["tflite_fp32"]["verification"]["closed_loop"]
    low, high = closed["score_interval"]
    assert low <= closed["score"] <= high and closed["verdict"] != "failed"
    assert closed["floor_interval"][0] <= closed["floor_score"] <= closed["floor_interval"][1]


@pytest.mark.parametrize("name", sorted(ZOO_FAMILIES))
def test_float_deploy_targets_verify_in_their_own_runtimes(name: str, family_runs: dict[str, Path]) -> None:
    """TorchScript (Python and C++ libtorch) and the browser folder (Node, onnxruntime-web), added to the
    float run: the same float bounds, the same closed loop; the earlier artifacts stay listed."""
    spec = ConvertSpec(model=ZOO_FAMILIES[name], targets=["torchscript", "web"], out=family_runs[name], episodes=6,
                       max_episodes=12, rollout_steps=500, samples=500)
    finished = execute(spec, emit=lambda event: None)
    data = finished.manifest
    assert finished.status == "passed", [s for s in data["stages"] if s.get("status") != "passed"]
    for key in ("torchscript", "web"):
        verification = data["artifacts"][key]["verification"]
        assert verification["passed"] and verification["closed_loop"]["verdict"] != "failed"
        assert verification["thresholds"]["error_multiple"] == 8.0
    assert "C++ (libtorch): passed" in next(s["summary"] for s in data["stages"] if s["name"] == "torchscript")
    assert data["artifacts"]["tflite_fp16"].get("from_earlier_run")


def test_repaired_int8_carries_its_input_transform_to_the_microcontroller_and_the_bundle(tmp_path: Path) -> None:
    """HalfCheetahBullet: plain int8 walks backwards (VecNormalize's 1/std under one scale), equalised input
    ranges repair it; TFLite Micro and the bundle's runner must feed the model the transformed input."""
    spec = ConvertSpec(model=ZOO_FAMILIES["ppo_bullet"], targets=["tflite-micro", "bundle"], out=tmp_path / "run",
                       episodes=6, max_episodes=12, rollout_steps=500, samples=500)
    finished = execute(spec, emit=lambda event: None)
    data = finished.manifest
    assert finished.status == "passed", [s for s in data["stages"] if s.get("status") != "passed"]
    int8 = data["artifacts"]["tflite_int8"]
    assert int8.get("repaired") and int8["io"]["inputs"][0].get("transform")
    assert data["artifacts"]["tflite_int8_plain"]["verification"]["closed_loop"]["verdict"] == "failed"
    micro = data["artifacts"]["tflite_micro"]
    assert micro["io"] == int8["io"] and micro["verification"]["closed_loop"]["score"] >= 0.95
    header = (tmp_path / "run" / "tflite_micro" / "policy_model.h").read_text()
    assert "kPolicyInput0Offset[27]" in header and "kPolicyInput0Scale[27]" in header
    bundle = json.loads((tmp_path / "run" / "bundle" / "manifest.json").read_text())
    assert bundle["artifacts"]["tflite_int8"]["io"] == int8["io"]
    check = next(s for s in data["stages"] if s["name"] == "bundle")
    assert "tflite_int8 passed" in check["summary"]
