"""Hostile files and faults: a corpus of bad inputs by class through every command, property-based tests
of the loader and of observation/action handling, resource limits, output safety and child isolation.

Each test prints how many inputs it tried, how many gave the expected outcome, and the crashes (zero).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import ZOO_AGENTS
from hostile import corpus

from studio.cli import main

pytestmark = pytest.mark.slow
PROBE = Path(__file__).parent / "hostile" / "probe.py"
ONE_GIB_KIB = 2**20


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> list[corpus.Case]:
    return corpus.build(tmp_path_factory.mktemp("corpus"))


def _in_process(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _judge(case: corpus.Case, code: int, out: str, err: str) -> str | None:
    """None when the outcome is what the case must give; else what went wrong."""
    lines = err.strip().splitlines()
    if code == 3 or "internal error" in err or "Traceback" in err:
        return f"crashed: {err.strip()[-300:]}"
    if case.expect == "error":
        if code != 2 or len(lines) != 1:
            return f"exit {code}, {len(lines)} lines: {err.strip()[-300:]}"
        named = str(case.model) in lines[0] or str(case.model.with_suffix("")) in lines[0]
        if not named or case.says not in lines[0]:
            return f"the line does not name the file or say '{case.says}': {lines[0]}"
        return None
    if code != 0:
        return f"a legitimate file gave exit {code}: {err.strip()[-300:]}"
    if case.says and case.says not in out:
        return f"does not say '{case.says}'"
    return None


def test_inspect_refuses_each_bad_input_in_one_line(cases: list[corpus.Case], capsys: pytest.CaptureFixture) -> None:
    light = [c for c in cases if not c.heavy]
    wrong = {}
    for case in light:
        problem = _judge(case, *_in_process(["inspect", str(case.model)]))
        if problem:
            wrong[case.name] = problem
    crashes = sum("crashed" in p for p in wrong.values())
    with capsys.disabled():
        print(f"\ninspect: {len(light)} inputs tried, {len(light) - len(wrong)} as expected, {crashes} crashes")
    assert not wrong, wrong
    assert not (light[0].model.parents[4] / "PWNED").exists()


def _probe(argv: list[str], cwd: Path | None = None, timeout: float = 180) -> tuple[int, str, str, int]:
    done = subprocess.run([sys.executable, str(PROBE), *argv], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd)
    lines = done.stderr.strip().splitlines()
    peak = int(lines[-1].split()[1]) if lines and lines[-1].startswith("peak-kib") else -1
    return done.returncode, done.stdout, "\n".join(lines[:-1]), peak


def test_heavy_inputs_stay_under_a_gigabyte(cases: list[corpus.Case], capsys: pytest.CaptureFixture) -> None:
    heavy = [c for c in cases if c.heavy]
    wrong, peaks = {}, {}
    for case in heavy:
        code, out, err, peak = _probe(["inspect", str(case.model)])
        peaks[case.name] = peak // 1024
        problem = _judge(case, code, out, err) or (f"peak {peak // 1024} MiB" if not 0 < peak < ONE_GIB_KIB else None)
        if problem:
            wrong[case.name] = problem
    with capsys.disabled():
        print(f"\nheavy inputs: {len(heavy)} tried, {len(heavy) - len(wrong)} as expected; peak MiB {peaks}")
    assert not wrong, wrong


def test_convert_refuses_bad_input_before_making_any_folder(cases: list[corpus.Case], tmp_path: Path) -> None:
    for case in [c for c in cases if c.expect == "error" and c.kind in ("container", "json", "fields", "weights")][:12]:
        out = tmp_path / case.name
        code, _, err = _in_process(["convert", str(case.model), "--to", "onnx", "--out", str(out)])
        assert code == 2 and len(err.strip().splitlines()) == 1, (case.name, err)
        assert not out.exists(), case.name


def test_convert_many_gives_each_bad_model_its_row_and_goes_on(cases: list[corpus.Case], tmp_path: Path) -> None:
    tree = cases[0].model.parents[3]
    out = tmp_path / "batch"
    done = subprocess.run([sys.executable, "-m", "studio.cli", "convert-many", str(tree), "--out", str(out),
                           "--to", "onnx", "--jobs", "2", "--episodes", "2", "--max-episodes", "2"],
                          capture_output=True, text=True, timeout=1800, cwd=tmp_path)
    assert "Traceback" not in done.stderr and done.returncode in (0, 1), done.stderr[-2000:]
    rows = {Path(r["model"]).parts[-4]: r for r in json.loads((out / "summary.json").read_text())["models"]}
    models = [c for c in cases if c.model.suffix == ".zip" and c.model.is_file() and corpus_is_zip_with_data(c)]
    assert set(rows) == {c.name for c in models}
    for case in models:
        row = rows[case.name]
        if case.expect == "ok" and case.kind != "resources":
            assert row["loaded"], (case.name, row)
        elif case.expect == "error":
            assert not row["loaded"] and row["status"] in ("failed", "error"), (case.name, row)
    assert not (tree.parent / "PWNED").exists()


def corpus_is_zip_with_data(case: corpus.Case) -> bool:
    try:
        with zipfile.ZipFile(case.model) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return {"data", "policy.pth"} <= names


def _run_folder_cases(root: Path) -> dict[str, tuple[Path, str]]:
    good = root / "good"
    shutil.copytree(_converted_run(root), good)
    made = {}
    for name, edit, says in [
        ("no-model", lambda m: m.pop("model"), "does not name the model"),
        ("artifacts-a-list", lambda m: m.update(artifacts=[1]), "artifacts"),
        ("artifact-outside", lambda m: m["artifacts"]["onnx"].update(path="../../../etc/passwd"), "inside the run"),
    ]:
        folder = root / name
        shutil.copytree(good, folder)
        manifest = json.loads((folder / "run.json").read_text())
        edit(manifest)
        (folder / "run.json").write_text(json.dumps(manifest))
        made[name] = (folder, says)
    (root / "no-run-json").mkdir()
    made["no-run-json"] = (root / "no-run-json", "no readable run.json")
    return made


def _converted_run(root: Path) -> Path:
    run = root / "converted"
    if not run.exists():
        assert main(["convert", str(ZOO_AGENTS["ppo"]), "--to", "onnx", "--out", str(run), "--samples", "50",
                     "--rollout-steps", "50"]) == 0
    return run


def test_bench_refuses_run_folders_it_did_not_write(tmp_path: Path) -> None:
    for name, (folder, says) in _run_folder_cases(tmp_path).items():
        code, _, err = _in_process(["bench", str(folder), "--calls", "10"])
        assert code == 2 and says in err and len(err.strip().splitlines()) == 1, (name, err)


def test_a_symlink_inside_the_run_folder_is_never_written_through(tmp_path: Path) -> None:
    run = _converted_run(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "onnx.log").write_text("mine")
    shutil.rmtree(run / "logs")
    (run / "logs").symlink_to(outside)
    code, _, err = _in_process(["convert", str(ZOO_AGENTS["ppo"]), "--to", "onnx", "--out", str(run)])
    assert code == 1 or code == 2
    assert "symbolic link" in err and (outside / "onnx.log").read_text() == "mine"


def test_convert_many_never_overwrites_summaries_it_did_not_write(tmp_path: Path, tiny_models_paths: dict) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(tiny_models_paths["dqn_box_discrete"], tree / "dqn.zip")
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.csv").write_text("my own numbers\n")
    command = [sys.executable, "-m", "studio.cli", "convert-many", str(tree), "--out", str(out), "--to", "onnx"]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert refused.returncode == 2 and "summary.csv" in refused.stderr and "not written by sb3-studio" in refused.stderr
    assert (out / "summary.csv").read_text() == "my own numbers\n"
    (out / "summary.csv").unlink()
    assert subprocess.run(command, capture_output=True, text=True, timeout=600).returncode == 0
    assert subprocess.run(command, capture_output=True, text=True, timeout=600).returncode == 0  # ours: rewritten


def test_sigterm_mid_tflite_leaves_no_work_folder_and_a_run_json(tmp_path: Path) -> None:
    run = tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-m", "studio.cli", "convert", str(ZOO_AGENTS["ppo"]), "--to",
                              "tflite-fp32", "--out", str(run)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    deadline = time.monotonic() + 300
    while not (run / ".work-tflite").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (run / ".work-tflite").exists()
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 143 and "terminated" in err
    assert not (run / ".work-tflite").exists()
    assert json.loads((run / "run.json").read_text())["status"] == "cancelled"


HIJACK = "open({marker!r}, 'w').write('imported {name}')\n"


def test_modules_beside_the_model_or_in_the_working_folder_are_never_imported(tmp_path: Path) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    model = folder / "CartPole-v1.zip"
    shutil.copy(ZOO_AGENTS["ppo"], model)
    marker = tmp_path / "PWNED"
    for name in ("onnx2tf", "numpy", "tensorflow", "onnx", "studio"):
        (folder / f"{name}.py").write_text(HIJACK.format(marker=str(marker), name=name))
    studio = Path(sys.executable).parent / "sb3-studio"  # as a user runs it: the console script
    done = subprocess.run([str(studio), "convert", str(model), "--to", "tflite-fp32", "--out",
                           str(tmp_path / "run"), "--episodes", "2", "--max-episodes", "2"],
                          capture_output=True, text=True, timeout=900, cwd=folder,
                          env={**os.environ, "PYTHONPATH": ""})
    assert not marker.exists(), marker.read_text() if marker.exists() else ""
    assert done.returncode == 0, done.stderr[-1500:]


# Property-based: whatever the bytes, the loader gives a model or a ModelLoadError, never anything else.
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from studio.core.errors import StudioError  # noqa: E402

TRIED = {"loader": [0, 0], "fields": [0, 0], "policy_io": [0, 0]}


def _load_or_refuse(path: Path, counter: list[int]) -> None:
    from studio.core.loading import load_model

    counter[0] += 1
    try:
        load_model(path)
    except StudioError:
        counter[1] += 1


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_byte_mutations_of_a_model_never_crash_the_loader(tmp_path_factory: pytest.TempPathFactory,
                                                          data: st.DataObject) -> None:
    raw = bytearray(ZOO_AGENTS["ppo"].read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    path = tmp_path_factory.mktemp("mutated") / "m.zip"
    path.write_bytes(bytes(raw))
    _load_or_refuse(path, TRIED["loader"])


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=5), max_leaves=20)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(key=st.sampled_from(["policy_kwargs", "observation_space", "action_space", "policy_class", "n_steps",
                            "use_sde", "gamma", "_last_obs"]), value=JSON_VALUES)
def test_any_json_in_any_field_gives_a_model_or_a_clean_error(tmp_path_factory: pytest.TempPathFactory, key: str,
                                                               value: object) -> None:
    files = corpus._files()
    path = tmp_path_factory.mktemp("fields") / "m.zip"
    corpus._write_zip(path, corpus._entry(files, key, value))
    _load_or_refuse(path, TRIED["fields"])


@settings(max_examples=200, deadline=None)
@given(shape=st.lists(st.integers(0, 6), max_size=4), dtype=st.sampled_from(["float32", "float64", "int64", "uint8"]),
       width=st.integers(1, 5))
def test_observation_batches_of_any_shape_are_fed_or_refused_cleanly(shape: list[int], dtype: str, width: int) -> None:
    from studio.core.policy_io import PolicyIO, TensorSpec

    io_ = PolicyIO([TensorSpec("observation", [width], "float32", "float32")], TensorSpec("action", [], "int64", "int64"),
                   action_kind="Discrete")
    TRIED["policy_io"][0] += 1
    batch = np.zeros(shape, dtype=dtype)
    try:
        feeds = io_.feeds(batch)
    except ValueError:
        TRIED["policy_io"][1] += 1
        return
    assert feeds["observation"].shape[1:] == (width,) and feeds["observation"].dtype == np.float32


def test_property_counts(capsys: pytest.CaptureFixture) -> None:
    with capsys.disabled():
        for name, (tried, refused) in TRIED.items():
            print(f"\nproperty {name}: {tried} inputs tried, {refused} refused with a clean error, 0 crashes")
