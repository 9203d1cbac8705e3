"""Deploying beyond Python, the parts that need no TensorFlow: targets, file formats, generated code,
and what each target says when its runtime is missing here."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

from studio.cli import build_parser
from studio.core.deploy import cpp
from studio.core.deploy.micro import add_method
from studio.core.deploy.micro_sources import resolver_header
from studio.core.deploy.tensor_file import read_tensor, write_tensor
from studio.core.deploy.web import find_node, find_ort_web
from studio.core.loading import load_model
from studio.core.pipeline.runner import execute
from studio.core.pipeline.spec import DEPLOY, TARGETS, ConvertSpec
from studio.core.pipeline.stages.tflite import wanted
from studio.core.runtimes.base import RuntimeUnavailable
from studio.core.runtimes.torchscript import TorchScriptRuntime

RUNNER = REPO / "studio" / "core" / "deploy" / "sb3_runner.py"


def test_deploy_targets_are_asked_for_by_name_or_as_a_group() -> None:
    assert ConvertSpec(Path("m.zip"), targets=["deploy"]).targets == ["onnx", *DEPLOY]
    everything = ConvertSpec(Path("m.zip"), targets=["all", "deploy"]).targets
    assert set(everything) == set(TARGETS) - {"tflite-full-int8"} and len(everything) == len(set(everything))
    assert "torchscript" not in ConvertSpec(Path("m.zip"), targets=["all"]).targets
    # The TFLite models a deploy target is made from are converted (and verified) with it.
    assert wanted(["onnx", "tflite-micro"]) == ["tflite_int8"]
    assert wanted(["onnx", "bundle"]) == ["tflite_fp32", "tflite_int8"]
    assert wanted(["onnx", "torchscript", "web"]) == []


def test_cli_help_lists_every_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # argparse wraps long lines at hyphens
    parser = build_parser()
    convert = next(a for a in parser._subparsers._group_actions[0].choices.items() if a[0] == "convert")[1]
    text = " ".join(convert.format_help().split())
    for target in (*TARGETS, "all", "deploy"):
        assert target in text


def test_tensor_files_round_trip_and_refuse_damage(tmp_path: Path) -> None:
    values = np.random.default_rng(0).normal(size=(5, 3, 2)).astype(np.float32)
    write_tensor(tmp_path / "a.tensor", values)
    np.testing.assert_array_equal(read_tensor(tmp_path / "a.tensor"), values)
    write_tensor(tmp_path / "b.tensor", np.arange(4, dtype=np.int64))
    assert read_tensor(tmp_path / "b.tensor").dtype == np.int64
    data = (tmp_path / "a.tensor").read_bytes()
    (tmp_path / "cut.tensor").write_bytes(data[:-4])
    with pytest.raises(ValueError, match="truncated"):
        read_tensor(tmp_path / "cut.tensor")
    (tmp_path / "bad.tensor").write_bytes(b"NOPE" + data[4:])
    with pytest.raises(ValueError, match="not a .tensor file"):
        read_tensor(tmp_path / "bad.tensor")


def test_build_script_is_the_studios_own_build() -> None:
    script = cpp.build_script()
    line = next(row for row in script.splitlines() if "policy_check.cpp" in row and "-o" in row)
    torch_root = "/opt/libtorch"
    built = line.replace('"', "").replace("$TORCH", torch_root).split()
    assert built[1:4] == ["policy_check.cpp", "-o", "policy_check"]
    assert built[4:] == cpp.compile_flags(torch_root)


def test_ops_resolver_uses_tflite_micros_names() -> None:
    assert [add_method(op) for op in ("FULLY_CONNECTED", "ARG_MAX", "CONV_2D", "DEPTHWISE_CONV_2D", "QUANTIZE",
                                      "STRIDED_SLICE", "BATCH_MATMUL", "L2_POOL_2D", "RELU6")] == [
        "AddFullyConnected", "AddArgMax", "AddConv2D", "AddDepthwiseConv2D", "AddQuantize", "AddStridedSlice",
        "AddBatchMatMul", "AddL2Pool2D", "AddRelu6"]
    header = resolver_header(["QUANTIZE", "FULLY_CONNECTED", "ARG_MAX"])
    assert "MicroMutableOpResolver<3>" in header
    assert header.count("resolver.Add") == 3


def test_runner_is_python_39_and_imports_nothing_of_the_studio() -> None:
    tree = ast.parse(RUNNER.read_text(), feature_version=(3, 9))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "argparse", "hashlib", "json", "os", "platform", "sys", "time", "typing", "numpy",
                        "importlib", "ctypes", "onnxruntime"}


def test_without_a_compiler_the_cpp_check_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  tiny_models_paths: dict[str, Path]) -> None:
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to run on it
    with pytest.raises(RuntimeUnavailable, match="no C\\+\\+ compiler"):
        cpp.find_compiler()
    finished = execute(ConvertSpec(model=tiny_models_paths["ppo_box_discrete"], targets=["torchscript"], out=tmp_path / "run",
                                   episodes=2), emit=lambda e: None)
    assert finished.status == "passed"
    artifact = finished.manifest["artifacts"]["torchscript"]
    assert artifact["verification"]["passed"]  # still verified in Python
    check = artifact["cpp_check"]
    assert check["status"] == "unavailable" and "g++" in check["reason"] and "apt-get install g++" in check["hint"]
    loaded = load_model(tiny_models_paths["ppo_box_discrete"])
    obs = np.random.default_rng(3).normal(size=(50, 4)).astype(np.float32)
    runtime = TorchScriptRuntime(tmp_path / "run" / artifact["model"])
    np.testing.assert_array_equal(runtime.predict(obs), loaded.predict(obs))
    assert sorted(artifact["files"]) == sorted(["build.sh", "observations.tensor", "policy.pt", "policy_check.cpp",
                                                "policy_io.json"])


def test_without_node_or_onnxruntime_web_the_web_target_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                tiny_models_paths: dict[str, Path]) -> None:
    with pytest.raises(RuntimeUnavailable, match="onnxruntime-web") as missing:
        find_ort_web([tmp_path])
    assert "npm ci --prefix packaging/web" in missing.value.hint
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeUnavailable, match="node was not found") as no_node:
        find_node()
    assert "nodejs" in no_node.value.hint
    finished = execute(ConvertSpec(model=tiny_models_paths["ppo_box_discrete"], targets=["web"], out=tmp_path / "run",
                                   episodes=2), emit=lambda e: None)
    (stage,) = [s for s in finished.manifest["stages"] if s["name"] == "web"]
    assert stage["status"] == "skipped" and "node was not found" in stage["reason"]
    assert "web" not in finished.manifest["artifacts"] and not (tmp_path / "run" / "web").exists()


def test_onnxruntime_web_is_found_where_install_puts_it() -> None:
    if shutil.which("npm") is None and not (REPO / "packaging" / "web" / "node_modules").is_dir():
        pytest.skip("npm is not installed here, so packaging/install.sh did not install onnxruntime-web")
    found = find_ort_web()
    assert found.version == json.loads((REPO / "packaging" / "web" / "package.json").read_text())["dependencies"][
        "onnxruntime-web"]


def test_cpp_checker_is_cached_per_torch_compiler_and_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cached checker is found, not rebuilt; another source means another build."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fake = tmp_path / "fake-cxx"
    fake.write_text("#!/bin/sh\n# stands in for the compiler: copies a tiny program to the -o target\n"
                    "while [ $# -gt 0 ]; do if [ \"$1\" = -o ]; then shift; cp /bin/true \"$1\"; fi; shift; done\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CXX", str(fake))
    first = cpp.build_checker()
    again = cpp.build_checker()
    assert not first.cached and again.cached and again.binary == first.binary and first.binary.is_file()
    changed = tmp_path / "policy_check.cpp"
    changed.write_text(cpp.SOURCE.read_text() + "\n// changed\n")
    monkeypatch.setattr(cpp, "SOURCE", changed)
    other = cpp.build_checker()
    assert not other.cached and other.binary != first.binary


def test_node_runner_and_policy_js_parse_as_modules() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed here")
    folder = REPO / "studio" / "core" / "deploy" / "web_files"
    for name in ("node_runner.mjs", "policy.js"):
        source = (folder / name).read_text().replace("__SB3_STUDIO_IO__", "{}").replace("__SB3_STUDIO_ENV_SHAPES__", "{}")
        done = subprocess.run(["node", "--check", "--input-type=module"], input=source, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_bundle_runner_usage_errors(tmp_path: Path) -> None:
    shutil.copyfile(RUNNER, tmp_path / RUNNER.name)
    done = subprocess.run([sys.executable, "-I", str(tmp_path / RUNNER.name), "check"], capture_output=True, text=True)
    assert done.returncode == 2 and "bundle damaged" in done.stderr and "manifest" in done.stderr
    probe = subprocess.run([sys.executable, "-I", str(tmp_path / RUNNER.name), "probe", "--json"],
                           capture_output=True, text=True)
    found = json.loads(probe.stdout)
    assert probe.returncode == 0 and found["interpreter"].startswith("ai_edge_litert ")
    assert found["edgetpu_delegate"] is False and "libedgetpu.so.1" in found["edgetpu_reason"]
    assert set(found) == {"python", "machine", "interpreter", "edgetpu_delegate", "edgetpu_reason", "onnxruntime"}



def test_runner_metrics_are_the_studios() -> None:
    """The runner cannot import the studio, so it carries its own copy of the metrics: they must agree."""
    from studio.core.deploy import sb3_runner
    from studio.core.verification import compare_actions

    rng = np.random.default_rng(5)
    box = rng.normal(size=(50, 3)).astype(np.float32)
    moved = box + rng.normal(scale=1e-3, size=box.shape).astype(np.float32)
    moved[4, 1] = np.nan
    discrete = rng.integers(0, 3, size=(50, 2))
    flipped = discrete.copy()
    flipped[::7, 0] += 1
    for original, artifact, is_discrete in ((box, moved, False), (discrete, flipped, True), (discrete[:, 0], flipped[:, 0], True)):
        assert sb3_runner.compare_actions(original, artifact, is_discrete) == compare_actions(original, artifact, is_discrete)
