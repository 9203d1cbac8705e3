"""``sb3-studio inspect``: the fields, the JSON, and one clear line for every kind of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, ZOO_AGENTS
from helpers import rewrite_zip

from studio.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "studio.cli", *args], capture_output=True, text=True, cwd=REPO)


EXPECTED = {
    # name: (algorithm, environment, observation, action, gSDE, normalisation)
    "ppo": ("PPO", "CartPole-v1", "Box", "Discrete(2)", False, False),
    "a2c": ("A2C", "Pendulum-v1", "Box", "Box(-2, 2, (1,), float32)", True, True),
    "sac": ("SAC", "Pendulum-v1", "Box", "Box(-2, 2, (1,), float32)", True, False),
    "dqn": ("DQN", "CartPole-v1", "Box", "Discrete(2)", False, False),
    "qrdqn": ("QRDQN", "Acrobot-v1", "Box", "Discrete(3)", False, False),
    "tqc": ("TQC", "MountainCarContinuous-v0", "Box", "Box(-1, 1, (1,), float32)", True, False),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_inspect_json_fields(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(ZOO_AGENTS[name]), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    algo, env, obs, action, gsde, norm = EXPECTED[name]
    assert info["algorithm"] == algo
    environment = info["environment"]
    assert (environment["id"], environment["can_make"], environment["reason"]) == (env, True, None)
    assert environment["made_as"] == env and environment["recipe"]["env_id"] == env
    assert info["observation_space"].startswith(obs)
    assert info["action_space"] == action
    assert info["gsde"] is gsde
    assert info["normalization"]["present"] is norm
    assert info["parameters"] > 1000
    assert info["network"]["features_extractor"] == "FlattenExtractor"
    saved = info["saved_with"]["stable_baselines3"]
    assert saved == {"a2c": "2.4.0a11", "sac": None}.get(name, "1.0rc0")
    assert info["saved_with"]["python"] == ("3.9.13" if name == "a2c" else None)


def test_inspect_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(ZOO_AGENTS["dqn"])]) == 0
    out = capsys.readouterr().out
    assert "Algorithm      DQN" in out
    assert "[256, 256]" in out
    assert "CartPole-v1 (made here as CartPole-v1)" in out


def test_inspect_reports_unmakeable_env(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(ZOO_AGENTS["dqn"]), "--env", "NoSuchEnv-v7", "--json"]) == 0
    env = json.loads(capsys.readouterr().out)["environment"]
    assert env["id"] == "NoSuchEnv-v7" and env["can_make"] is False
    assert "NoSuchEnv-v7" in env["reason"]


def _bad_inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    good = ZOO_AGENTS["ppo"]
    text = tmp / "notes.zip"
    text.write_text("not a zip at all\n")
    other = tmp / "photos.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("cat.jpg", b"\xff\xd8\xff")
    truncated = tmp / "truncated.zip"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    no_weights = rewrite_zip(good, tmp / "no_weights.zip", lambda f: {k: v for k, v in f.items() if k != "policy.pth"})

    def unknown_policy(files: dict[str, bytes]) -> dict[str, bytes]:
        data = json.loads(files["data"])
        import base64
        import pickle

        from stable_baselines3.common.torch_layers import NatureCNN

        data["policy_class"][":serialized:"] = base64.b64encode(pickle.dumps(NatureCNN)).decode()
        return dict(files, data=json.dumps(data).encode())

    unknown = rewrite_zip(good, tmp / "unknown.zip", unknown_policy)

    def forbidden(files: dict[str, bytes]) -> dict[str, bytes]:
        import pickle
        from helpers import set_data_entry

        return set_data_entry(files, "observation_space", pickle.dumps(zipfile.ZipInfo("x")))

    forbidden_path = rewrite_zip(good, tmp / "forbidden.zip", forbidden)
    return {
        "not a zip": (text, "not a zip file"),
        "zip, not SB3": (other, "not an SB3 model"),
        "truncated": (truncated, "truncated"),
        "missing weights": (no_weights, "no policy.pth"),
        "unknown algorithm": (unknown, "unknown algorithm"),
        "forbidden class": (forbidden_path, "zipfile.ZipInfo"),
        "missing file": (tmp / "nowhere.zip", "no such file"),
    }


def test_bad_inputs_give_one_clear_line(tmp_path: Path) -> None:
    for case, (path, words) in _bad_inputs(tmp_path).items():
        result = run_cli("inspect", str(path))
        assert result.returncode == 2, case
        lines = result.stderr.strip().splitlines()
        assert lines[-1].startswith(f"error: {path}: "), (case, result.stderr)
        assert words in lines[-1], (case, lines[-1])
        assert "Traceback" not in result.stderr, case
    debug = run_cli("--debug", "inspect", str(tmp_path / "notes.zip"))
    assert "Traceback" in debug.stderr and debug.returncode == 2


# Imported only inside the onnx2tf child process, where TensorFlow is loaded anyway (by onnx2tf).
CHILD_ONLY = {"studio/core/tflite/quantize.py", "studio/core/tflite/ranges.py"}


def test_core_never_imports_qt_or_tensorflow() -> None:
    offenders = [
        str(p.relative_to(REPO))
        for p in (REPO / "studio" / "core").rglob("*.py")
        if any(word in p.read_text() for word in ("PySide6", "pyqtgraph", "studio.ui", "import tensorflow"))
        and str(p.relative_to(REPO)) not in CHILD_ONLY
    ]
    assert offenders == []
    script = (
        "import sys, studio.core.loading, studio.core.inspection\n"
        f"studio.core.loading.load_model({str(ZOO_AGENTS['a2c'])!r})\n"
        "print(sorted(m for m in ('PySide6', 'pyqtgraph', 'tensorflow') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"
