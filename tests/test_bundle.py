"""The device bundle: its runner works in a fresh virtual environment with only numpy and ai-edge-litert
(nothing of the studio), reproduces the studio's verdicts, and refuses damage."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from conftest import REPO, ZOO_AGENTS

pytestmark = pytest.mark.slow
METRICS = {"count", "agreement_percent", "disagreements", "max_abs_error", "mean_abs_error", "float_ties_excused",
           "judged_agreement_percent"}


@pytest.fixture(scope="module")
def device_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with numpy and ai-edge-litert from the registry, at the studio's pins, and nothing else."""
    venv = tmp_path_factory.mktemp("device") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pins = [line.strip() for line in (REPO / "packaging" / "constraints.txt").read_text().splitlines()
            if line.lower().startswith(("numpy==", "ai-edge-litert=="))]
    assert len(pins) == 2, pins
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins],
                   check=True, timeout=900)
    return python


def copy_bundle(run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run / "bundle", tmp_path / "on-the-device"))


def runner(python: Path, bundle: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-I", str(bundle / "sb3_runner.py"), *args], capture_output=True, text=True,
                          cwd=bundle, timeout=600)


def test_the_device_environment_has_nothing_of_the_studio(device_python: Path) -> None:
    for module in ("studio", "torch", "onnxruntime", "gymnasium", "tensorflow"):
        done = subprocess.run([str(device_python), "-I", "-c", f"import {module}"], capture_output=True)
        assert done.returncode != 0, module
    subprocess.run([str(device_python), "-I", "-c", "import numpy, ai_edge_litert.interpreter"], check=True)


@pytest.mark.parametrize("name", list(ZOO_AGENTS))
def test_bundle_checks_itself_in_a_bare_environment(name: str, deploy_runs: dict[str, Path], device_python: Path,
                                                   tmp_path: Path) -> None:
    bundle = copy_bundle(deploy_runs[name], tmp_path)
    done = runner(device_python, bundle, "check", "--json", "--calls", "200", "--warmup", "20")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["probe"]["interpreter"] == "ai_edge_litert 2.1.0" and report["probe"]["onnxruntime"] is None
    assert report["probe"]["edgetpu_delegate"] is False and "libedgetpu.so.1" in report["probe"]["edgetpu_reason"]
    studio = json.loads((deploy_runs[name] / "run.json").read_text())["artifacts"]
    for result in report["results"]:
        assert result["status"] == "passed" and result["delegate"] == "cpu"
        for key in ("latency_us", "raw_latency_us"):
            assert set(result[key]) == {"p50", "p90", "p99", "max", "calls"} and result[key]["calls"] == 200
        # The device reproduces what the studio measured on the same observations, metric for metric.
        recorded = studio[result["artifact"]]["verification"]["sources"]
        for source, metrics in result["verification"]["sources"].items():
            assert set(metrics) <= METRICS | {"float64"}
            for key, value in metrics.items():
                if key == "float64":
                    assert value["max_error"] == recorded[source]["float64"]["max_error"]
                    assert value["bound"] == pytest.approx(recorded[source]["float64"]["bound"], rel=1e-12)
                else:
                    assert value == recorded[source][key], (source, key)
        same = result["verification"]["same_as_studio"]
        assert same.get("agreement_percent", 100.0) == 100.0 and same.get("max_abs_error", 0.0) == 0.0
    assert [r["artifact"] for r in report["results"]] == ["tflite_fp32", "tflite_int8"]


def test_bundle_refuses_damage_and_fails_honestly(deploy_runs: dict[str, Path], device_python: Path,
                                                  tmp_path: Path) -> None:
    bundle = copy_bundle(deploy_runs["ppo"], tmp_path)
    assert runner(device_python, bundle, "check", "--artifact", "nope").returncode == 2
    # Golden actions that are not the original's: the float model fails its bound; exit 1, the reason named.
    manifest = json.loads((bundle / "manifest.json").read_text())
    with np.load(bundle / "golden.npz") as data:
        golden = {key: data[key] for key in data.files}
    golden["action"] = 1 - golden["action"]  # CartPole: the other action everywhere
    np.savez(bundle / "golden.npz", **golden)
    manifest["golden"]["sha256"] = hashlib.sha256((bundle / "golden.npz").read_bytes()).hexdigest()
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    done = runner(device_python, bundle, "check", "--json", "--calls", "10")
    report = json.loads(done.stdout)
    assert done.returncode == 1
    fp32 = next(r for r in report["results"] if r["artifact"] == "tflite_fp32")
    assert fp32["status"] == "failed" and "agreement" in fp32["reason"]
    # A model file that is not the manifest's: damaged, exit 2, nothing run.
    model = bundle / "policy_float32.tflite"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    done = runner(device_python, bundle, "check", "--json")
    assert done.returncode == 2 and "damaged" in done.stderr and "policy_float32.tflite" in done.stderr
    assert done.stdout == ""


def _rewrite_golden(bundle: Path, change: Callable[[dict], None]) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    with np.load(bundle / "golden.npz") as data:
        golden = {key: data[key] for key in data.files}
    change(golden)
    np.savez(bundle / "golden.npz", **golden)
    manifest["golden"]["sha256"] = hashlib.sha256((bundle / "golden.npz").read_bytes()).hexdigest()
    (bundle / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("name", ["ppo", "sac"])
def test_int8_on_the_device_must_compute_what_the_studio_computed(name: str, deploy_runs: dict[str, Path],
                                                                  device_python: Path, tmp_path: Path) -> None:
    """int8 is judged in closed loop on the workstation; on the device it passes while it reproduces the
    studio's run of the same file, and fails (exit 1, the reason named) when it departs from it by more
    than the studio's int8 departs from the original."""
    bundle = copy_bundle(deploy_runs[name], tmp_path)
    done = runner(device_python, bundle, "check", "--json", "--calls", "10", "--artifact", "tflite_int8")
    assert done.returncode == 0, done.stderr[-2000:]

    def elsewhere(golden: dict) -> None:
        # As if the device's kernels computed something else: the studio's int8 actions and the original's
        # moved alike (the studio's int8 departs from the original as before), the device's actions not.
        for key in ("studio.tflite_int8", "action"):
            golden[key] = 1 - golden[key] if name == "ppo" else (golden[key] + 0.5).astype(golden[key].dtype)

    _rewrite_golden(bundle, elsewhere)
    done = runner(device_python, bundle, "check", "--json", "--calls", "10", "--artifact", "tflite_int8")
    assert done.returncode == 1
    result = json.loads(done.stdout)["results"][0]
    assert result["status"] == "failed" and "studio's run of the same file" in result["reason"]


def test_bundle_predict_is_a_usage_example(deploy_runs: dict[str, Path], device_python: Path, tmp_path: Path) -> None:
    bundle = copy_bundle(deploy_runs["sac"], tmp_path)
    with np.load(bundle / "golden.npz") as data:
        observations, studio = data["observation"][:7], data["studio.tflite_int8"][:7]
    np.save(tmp_path / "obs.npy", observations)
    done = runner(device_python, bundle, "predict", str(tmp_path / "obs.npy"), "--artifact", "tflite_int8", "--json")
    assert done.returncode == 0, done.stderr
    np.testing.assert_array_equal(np.asarray(json.loads(done.stdout)["actions"], np.float32), studio)
    text = runner(device_python, bundle, "predict", str(tmp_path / "obs.npy"))
    assert len(text.stdout.splitlines()) == 7
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    assert runner(device_python, bundle, "predict", str(tmp_path / "bad.npy")).returncode == 2


def test_bundle_check_runs_from_a_relative_folder(deploy_runs: dict[str, Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.core.deploy.bundle import run_check

    copy_bundle(deploy_runs["qrdqn"], tmp_path)
    monkeypatch.chdir(tmp_path)
    code, report = run_check(Path("on-the-device"), calls=10, warmup=0)
    assert code == 0 and [r["status"] for r in report["results"]] == ["passed", "passed"]
