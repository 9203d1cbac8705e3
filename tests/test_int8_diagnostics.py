"""int8 diagnostics and the repairs they choose, piece by piece: the float-side input transform, equalised
input ranges folded into the first layer, TFLite metadata, error-minimising ranges, the repair plan, the
student's progress and its cancel, and what the CLI prints. The whole chain on real agents is in
``test_int8_classes.py``."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ZOO_AGENTS, ZOO_FAMILIES

from studio.core.errors import Cancelled
from studio.core.export.exact_policy import ExactPolicy
from studio.core.int8.candidates import decision_problem, input_problem, plan_repairs
from studio.core.int8.diagnostics import MIN_STEPS, summary_lines
from studio.core.int8.equalise import equalised
from studio.core.loading import load_model
from studio.core.observations import rollout_observations, sample_observations
from studio.core.policy_io import PolicyIO, TensorSpec
from studio.core.tflite.ranges import _error, best_range, percentile_range


def _io(transform: dict | None) -> PolicyIO:
    return PolicyIO([TensorSpec("observation", [3], "float32", "float32", transform=transform)],
                    TensorSpec("action", [1], "float32", "float32"))


def test_policy_io_feeds_the_graph_the_transformed_observation() -> None:
    transform = {"offset": [1.0, -2.0, 0.0], "scale": [2.0, 0.5, 10.0], "low": [-1.0, -1.0, -1.0], "high": [1.0, 1.0, 1.0]}
    io_ = PolicyIO.from_json(_io(transform).to_json())  # survives run.json and the files' metadata
    obs = np.array([[1.25, 0.0, 0.05], [0.0, -2.0, 3.0]], np.float32)
    fed = io_.feeds(obs)["observation"]
    np.testing.assert_allclose(fed, [[0.5, 1.0, 0.5], [-1.0, 0.0, 1.0]], rtol=1e-6)  # the last two clipped
    assert fed.dtype == np.float32 and io_.transformed_inputs
    plain = _io(None)
    np.testing.assert_array_equal(plain.feeds(obs)["observation"], obs)
    assert not plain.transformed_inputs
    without_clip = _io({"offset": [0.0] * 3, "scale": [3.0] * 3})
    np.testing.assert_allclose(without_clip.feeds(obs)["observation"], 3 * obs, rtol=1e-6)


def test_policy_io_travels_inside_a_tflite_file(tmp_path: Path) -> None:
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    from studio.core.tflite.metadata import read_policy_io, with_policy_io

    model = schema.ModelT()  # the smallest TFLite flatbuffer: no subgraph, one empty buffer
    model.version, model.buffers, model.subgraphs = 3, [schema.BufferT()], []
    builder = flatbuffers.Builder(64)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    bare = tmp_path / "bare.tflite"
    bare.write_bytes(bytes(builder.Output()))
    assert read_policy_io(bare) is None
    described = _io({"offset": [0.5] * 3, "scale": [2.0] * 3})
    once = with_policy_io(bare.read_bytes(), _io(None))
    twice = tmp_path / "twice.tflite"
    twice.write_bytes(with_policy_io(once, described))  # a second description replaces the first
    assert read_policy_io(twice) == described
    assert schema.Model.GetRootAs(twice.read_bytes(), 0).MetadataLength() == 1


@pytest.mark.parametrize("name", ["a2c", "tqc", "dqn", "qrdqn", "tqc_panda"])
def test_equalised_graph_computes_the_original_function(name: str) -> None:
    """VecNormalize (A2C, PandaReach: per key of a Dict) moves to the float side, every feature's visited range
    becomes [-1, 1], and the first layer absorbs the rest: the float graph still acts like the original."""
    loaded = load_model({**ZOO_AGENTS, **ZOO_FAMILIES}[name])
    visited = rollout_observations(loaded.make_env, loaded.predict, 300, 3).batch
    module, how = equalised(loaded, visited)
    assert how["folded_into"]
    fed = module.io.feeds(visited)
    for spec in module.io.inputs:
        values = fed[spec.name].reshape(len(fed[spec.name]), -1)
        assert values.min() >= -1 - 1e-5 and values.max() <= 1 + 1e-5
        assert spec.transform is not None and ("low" in spec.transform) == (loaded.normalization is not None)
    check = how["float_check"]
    assert check.get("agreement_percent", 100.0) == 100.0 and check.get("max_abs_error_float", 0.0) < 1e-4
    other = sample_observations(loaded.observation_space, 200, 9, loaded.normalization).batch  # beyond the visited range
    exact = ExactPolicy(loaded).eval()
    feeds = exact.io.feeds(other)
    equal_feeds = module.io.feeds(other)
    with torch.no_grad():
        a = exact(*(torch.from_numpy(feeds[s.name]) for s in exact.io.inputs)).numpy()
        b = module.eval()(*(torch.from_numpy(equal_feeds[s.name]) for s in module.io.inputs)).numpy()
    if loaded.normalization is not None:  # the host clips as the graph's normalisation did: exact anywhere
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_equalisation_refuses_what_it_cannot_fold(tiny_models_paths: dict[str, Path]) -> None:
    loaded = load_model(tiny_models_paths["ppo_image_discrete"])
    with pytest.raises(ValueError, match="no flat float input"):
        equalised(loaded, sample_observations(loaded.observation_space, 8, 0).batch)


def _diagnostics(features: list[dict], constants: list[dict] = (), decisions: list[dict] = ()) -> dict:
    return {"tensors": [], "features": features, "constants": list(constants), "decisions": list(decisions)}


def _feature(index: int, steps: float, error: float | None = None) -> dict:
    return {"input": "observation", "index": index, "visited_range": [0.0, 1.0], "steps": steps, "input_scale": 1 / steps,
            "worst_relative_error": error, "at": "x" if error is not None else None,
            "flagged": steps < MIN_STEPS or (error or 0) > 0.1}


def test_repairs_are_chosen_from_the_diagnostics() -> None:
    narrow = _diagnostics([_feature(0, 255.0), _feature(1, 9.5)])
    assert "fewer than 32 int8 steps (observation[1]: 9.5)" in input_problem(narrow)
    keys = [c.key for c in plan_repairs(narrow, [64, 64], None)]
    assert keys == ["equalised", "equalised-percentile", "distilled", "distilled-wide"]  # recalibrating cannot fix the input
    lost = _diagnostics([_feature(0, 255.0, 1.0)], [{"op": "MUL", "lost_to_zero": 23, "nonzero": 27}])
    assert "MUL constant loses 23 of 27 values to 0" in input_problem(lost)
    healthy = _diagnostics([_feature(0, 255.0, 0.01)])
    assert input_problem(healthy) is None
    assert [c.key for c in plan_repairs(healthy, [400, 300], None)] == [
        "recalibrated", "equalised", "equalised-percentile", "distilled", "distilled-wide"]
    wide = plan_repairs(healthy, [400, 300], None)[-1]
    assert wide.student == [800, 600] and wide.equalise
    decisions = _diagnostics([_feature(0, 255.0, 0.01)], decisions=[
        {"tensor": "q", "step": 0.42, "median_margin": 0.14, "under_one_step_percent": 88.0, "value_range": [0, 108]}])
    assert "no calibration of this graph resolves them" in decision_problem(decisions)
    assert [c.key for c in plan_repairs(decisions, [256, 256], None)] == ["distilled", "distilled-wide"]
    assert [c.key for c in plan_repairs(healthy, None, "no flat float input")] == ["recalibrated"]  # images: no student
    assert [c.key for c in plan_repairs(healthy, [64, 64], None, student_hidden=[32])] == [
        "recalibrated", "equalised", "equalised-percentile", "distilled"]  # the user's student shape: no wider one
    assert "rounding decides there" in summary_lines(decisions)[0]


def test_activation_ranges_keep_zero_and_clip_only_what_they_say() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0, 1, 20_000), [60.0]])
    low, high = percentile_range(values)
    assert low < 0 < high < 5  # the one extreme value no longer stretches the steps
    # At 8 bits clipping a far value, one in 20,000, costs more than rounding saves: the MSE range keeps it...
    assert best_range(values)[1] == 60.0
    # ...and clips only where the excess is rare enough (one value in a million).
    many = np.concatenate([rng.uniform(-1, 1, 1_000_000), [40.0]])
    low, high = best_range(many)
    assert high < 40 and _error(many, low, high) < _error(many, many.min(), many.max())
    relu = np.abs(rng.normal(0, 1, 5000))
    assert best_range(relu)[0] == 0.0 and percentile_range(relu)[0] == 0.0  # a ReLU's range starts at zero
    assert best_range(np.zeros(10)) == (0.0, 0.0)


def test_student_reports_every_epoch_and_its_score_and_stops_on_cancel(tiny_models_paths: dict[str, Path]) -> None:
    from studio.core.int8.distill import DistillConfig, distill

    loaded = load_model(tiny_models_paths["ppo_box_discrete"], env_id="CartPole-v1")
    states = rollout_observations(loaded.make_env, loaded.predict, 300, 0).batch
    messages: list[tuple[float, str]] = []
    config = DistillConfig(epochs_first=3, epochs_round=2, rounds=1, student_steps=300, seed=0)
    student, how = distill(loaded, states, config, progress=lambda f, m: messages.append((f, m)),
                           score=lambda mean_return: mean_return / 500)
    assert all(m.startswith("epoch ") for _, m in messages)
    assert messages[0][1].startswith("epoch 1/5, loss ") and messages[-1][1].startswith("epoch 5/5")
    assert "student score" in messages[-1][1]
    fractions = [f for f, _ in messages]
    assert fractions == sorted(fractions) and fractions[-1] <= 1.0
    episodes = how["data"]["student_episodes"]
    assert episodes and episodes[0]["score"] == pytest.approx(episodes[0]["mean_return"] / 500)
    seen = []

    def check() -> None:
        seen.append(1)
        if len(seen) > 2:
            raise Cancelled()

    with pytest.raises(Cancelled):
        distill(loaded, states, DistillConfig(epochs_first=50, seed=0), check=check)
    assert len(seen) == 3  # stopped at the third epoch, not at the end


def test_console_prints_where_int8_hurts_and_long_stages_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    from studio import console
    from studio.core.pipeline.events import RunFinished, StageProgress

    stream = io.StringIO()
    monkeypatch.setattr(console, "QUIET_SECONDS", 0.0)
    reporter = console.ConsoleReporter(stream=stream)
    reporter(StageProgress("int8-repair", 0.42, "quantisation-aware distillation (64x64 student): epoch 12/135, loss 0.0312"))
    manifest = {"stages": [], "artifacts": {
        "tflite_int8": {"path": "policy_int8.tflite", "diagnostics": {"summary": ["int8 error stays near rounding"]},
                        "repair": {"kept": "equalised input ranges", "seconds": 14.2, "attempts": [
                            {"method": "plain post-training int8", "score": -0.04, "seconds": 0.0},
                            {"method": "equalised input ranges", "score": 0.997, "seconds": 13.1}]}},
        "tflite_int8_plain": {"path": "policy_int8_plain.tflite",
                              "diagnostics": {"summary": ["int8 hurts most at truediv (MUL)", "23 input feature(s) lose resolution"]}}}}
    reporter(RunFinished(Path("runs/x"), "passed", manifest))
    text = stream.getvalue()
    assert "[ 42%] quantisation-aware distillation (64x64 student): epoch 12/135, loss 0.0312" in text
    assert "int8 diagnostics of policy_int8_plain.tflite:\n  int8 hurts most at truediv (MUL)" in text
    assert "kept equalised input ranges after 14 s; tried: equalised input ranges 1.00 (13 s)" in text


def test_progress_parts_fill_their_share_of_the_stage() -> None:
    from studio.core.pipeline.context import Progress
    from studio.core.pipeline.events import StageProgress

    events: list[StageProgress] = []
    cancel = threading.Event()
    whole = Progress("int8-repair", events.append, cancel)
    part = whole.within(0.5, 0.75).within(0.0, 0.5)
    part.set(1.0, "half of a quarter")
    part.log("a line")
    assert events[-2].fraction == pytest.approx(0.625) and whole.lines == ["a line"]
    cancel.set()
    with pytest.raises(Cancelled):
        part.set(0.5)
