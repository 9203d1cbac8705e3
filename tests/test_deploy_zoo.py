"""The deployment targets on the zoo agents, each verified in its own runtime: TorchScript in Python and
from C++ (libtorch), the browser folder under Node (onnxruntime-web), TFLite Micro's interpreter.
The tests check the recorded verdicts and then check the artifacts again themselves."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from conftest import ZOO_AGENTS

from studio.core.deploy.tensor_file import read_tensor, write_tensor
from studio.core.edgetpu.tflite_graph import read_graph
from studio.core.loading import load_model
from studio.core.observations import sample_observations
from studio.core.pipeline.spec import ConvertSpec
from studio.core.pipeline.stages.deploy_common import judgement
from studio.core.policy_io import PolicyIO
from studio.core.runtimes.ort_web import OrtWebRuntime
from studio.core.runtimes.tflite_micro import TFLiteMicroRuntime
from studio.core.float_reference import FloatReference
from studio.core.observations import ObservationSet
from studio.core.verification import verify

pytestmark = pytest.mark.slow
NAMES = list(ZOO_AGENTS)


def manifest(run: Path) -> dict:
    return json.loads((run / "run.json").read_text())


def float_judgement(name: str, batch: np.ndarray, predict: Callable[[Any], np.ndarray]) -> dict:
    """The studio's own float judgement of ``predict`` on observations the stages never saw."""
    loaded = load_model(ZOO_AGENTS[name])
    return verify(FloatReference(loaded), predict, [ObservationSet("fresh", batch, {})],
                  judgement("float", ConvertSpec(ZOO_AGENTS[name])))


@pytest.mark.parametrize("name", NAMES)
def test_each_target_is_verified_in_its_own_runtime(name: str, deploy_runs: dict[str, Path]) -> None:
    data = manifest(deploy_runs[name])
    stages = {s["name"]: s for s in data["stages"]}
    assert stages["onnx"]["status"] == "cached" and stages["tflite"]["status"] == "cached"  # only new stages ran
    for stage in ("torchscript", "web", "tflite-micro", "bundle"):
        assert stages[stage]["status"] == "passed", stages[stage]
    artifacts = data["artifacts"]
    float_bounds = judgement("float", ConvertSpec(ZOO_AGENTS[name])).to_json()
    for key in ("torchscript", "web"):
        verification = artifacts[key]["verification"]
        assert verification["passed"] and verification["thresholds"] == float_bounds
        assert set(verification["sources"]) == {"sampled", "rollout"} and verification["closed_loop"]["episodes"] >= 10
        assert verification["closed_loop"]["verdict"] in ("passed", "inconclusive")
    cpp = artifacts["torchscript"]["cpp_check"]
    assert cpp["status"] == "passed" and cpp["verification"]["thresholds"] == float_bounds
    assert {k: v["count"] for k, v in cpp["verification"]["sources"].items()} == {"sampled": 1000, "rollout": 1000}
    micro = artifacts["tflite_micro"]
    assert micro["verification"]["thresholds"] == "none: measured and reported"  # the int8 judgement
    assert micro["verification"]["closed_loop"]["score"] is not None
    assert set(micro["same_as_litert_int8"]) == {"sampled", "rollout"}
    bundle = artifacts["bundle"]["verification"]
    assert bundle["passed"] and bundle["exit_code"] == 0
    assert {r["artifact"]: r["status"] for r in bundle["check"]["results"]} == {"tflite_fp32": "passed",
                                                                                "tflite_int8": "passed"}


@pytest.mark.parametrize("name", NAMES)
def test_cpp_program_runs_the_shipped_example(name: str, deploy_runs: dict[str, Path], tmp_path: Path) -> None:
    folder = deploy_runs[name] / "torchscript"
    binary = manifest(deploy_runs[name])["artifacts"]["torchscript"]["cpp_check"]["binary"]
    loaded = load_model(ZOO_AGENTS[name])
    example = read_tensor(folder / "observations.tensor")
    done = subprocess.run([binary, str(folder / "policy.pt"), str(tmp_path / "a.tensor"), str(folder / "observations.tensor")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["observations"] == len(example)
    shipped = read_tensor(tmp_path / "a.tensor")
    report = float_judgement(name, example, lambda batch: shipped)
    assert report["passed"], report["failures"]

    def cpp(batch: np.ndarray) -> np.ndarray:  # the C++ program on observations the stage never saw
        write_tensor(tmp_path / "fresh.tensor", batch)
        subprocess.run([binary, str(folder / "policy.pt"), str(tmp_path / "b.tensor"), str(tmp_path / "fresh.tensor")],
                       check=True, capture_output=True)
        return read_tensor(tmp_path / "b.tensor")

    fresh = sample_observations(loaded.observation_space, 300, 99, loaded.normalization).batch
    report = float_judgement(name, fresh, cpp)
    assert report["passed"], report["failures"]


@pytest.mark.parametrize("name", NAMES)
def test_web_folder_is_self_contained_and_acts_like_the_original(name: str, deploy_runs: dict[str, Path]) -> None:
    folder = deploy_runs[name] / "web"
    ours = {n: (folder / n).read_text() for n in ("policy.js", "index.html")}
    for text in ours.values():
        assert not re.search(r"https?://|//cdn", text)  # no CDN, no network
        for target in re.findall(r"""(?:from|import\(|fetch\()\s*['"](\.[^'"]+)['"]""", text):
            assert (folder / target).is_file(), target
    assert (folder / "ort" / "ort-wasm-simd-threaded.wasm").stat().st_size > 1_000_000
    examples = json.loads((folder / "examples.json").read_text())
    loaded = load_model(ZOO_AGENTS[name])
    original = loaded.predict(np.asarray(examples["observations"], np.float32))  # the page's self-check data
    np.testing.assert_array_equal(np.asarray(examples["actions"], original.dtype), original)
    runtime = OrtWebRuntime(folder)
    try:
        fresh = sample_observations(loaded.observation_space, 200, 98, loaded.normalization).batch
        report = float_judgement(name, fresh, runtime.predict)
        assert report["passed"], report["failures"]
        assert runtime.ort_version == "1.30.0"
    finally:
        runtime.close()


@pytest.mark.parametrize("name", NAMES)
def test_tflite_micro_sources_hold_the_verified_model(name: str, deploy_runs: dict[str, Path], tmp_path: Path) -> None:
    run = deploy_runs[name]
    folder = run / "tflite_micro"
    details = manifest(run)["artifacts"]["tflite_micro"]
    model = (folder / "policy_micro.tflite").read_bytes()
    # The ops resolver lists exactly the model's ops (read here with LiteRT, not with the studio's reader).
    ops, _, _ = read_graph(folder / "policy_micro.tflite")
    registered = re.findall(r"resolver\.Add\w+\(\).*// (\w+)$", (folder / "policy_ops_resolver.h").read_text(), re.M)
    assert sorted(registered) == sorted({op.name for op in ops})
    # The declared arena is enough and the measured minimum really is one: a byte less does not run.
    arena = details["tensor_arena"]
    assert arena["declared_bytes"] % 16 == 0 and 0 <= arena["declared_bytes"] - arena["minimum_bytes"] < 16
    assert f"kPolicyTensorArenaSize = {arena['declared_bytes']};" in (folder / "policy_model.h").read_text()
    probe = ("import sys, numpy as np\nfrom tflite_micro.python.tflite_micro import runtime\n"
             "i = runtime.Interpreter.from_bytes(open(sys.argv[1], 'rb').read(), arena_size=int(sys.argv[2]))\n"
             "i.set_input(np.zeros(i.get_input_details(0)['shape'], np.float32), 0)\ni.invoke()\n")
    runs = [subprocess.run([sys.executable, "-c", probe, str(folder / "policy_micro.tflite"), str(size)],
                           capture_output=True).returncode for size in (arena["minimum_bytes"], arena["minimum_bytes"] - 1)]
    assert runs[0] == 0 and runs[1] != 0
    # Discrete actions: TFLite Micro's ARG_MAX writes int32.
    io = manifest(run)["artifacts"]["onnx"]["io"]
    micro = TFLiteMicroRuntime(folder / "policy_micro.tflite", PolicyIO.from_json(io), arena_size=arena["declared_bytes"])
    output_dtype = micro.interpreter.get_output_details(0)["dtype"]
    assert output_dtype == (np.int32 if io["action_kind"] != "Box" else np.float32)
    # The C array compiles and holds the model byte for byte.
    if shutil.which("g++") is None:
        pytest.skip("no C++ compiler here to compile the C array")
    (tmp_path / "dump.cc").write_text('#include <cstdio>\n#include "policy_model.h"\n'
                                      "int main() { fwrite(g_policy_model, 1, g_policy_model_len, stdout); }\n")
    subprocess.run(["g++", "-std=c++17", f"-I{folder}", str(tmp_path / "dump.cc"), str(folder / "policy_model.cc"),
                    "-o", str(tmp_path / "dump")], check=True)
    assert subprocess.run([str(tmp_path / "dump")], capture_output=True, check=True).stdout == model
