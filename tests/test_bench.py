"""Benchmark statistics (on a fake clock), every runtime acting alike, and the engine end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, ZOO_AGENTS

from studio.core.bench.engine import BenchFinished, BenchOptions, RoundSamples, RuntimeNotAvailable, RuntimeReady, run_bench
from studio.core.bench.stats import summarize, time_calls
from studio.core.bench.targets import open_runtime, targets_for_run
from studio.core.loading import load_model
from studio.core.observations import sample_observations
from studio.core.pipeline.runner import execute
from studio.core.pipeline.spec import ConvertSpec
from studio.core.runtimes.base import RuntimeUnavailable


class FakeClock:
    """Each call of the timed function takes the next of ``durations`` nanoseconds."""

    def __init__(self, durations: list[int]) -> None:
        self.now = 0
        self.durations = iter(durations)
        self.started = False

    def __call__(self) -> int:
        if self.started:
            self.now += next(self.durations)
        self.started = not self.started
        return self.now


def test_time_calls_measures_each_call_on_the_clock() -> None:
    clock = FakeClock([5, 7, 11])
    assert time_calls(lambda: None, 3, clock) == [5, 7, 11]


def test_summary_statistics() -> None:
    durations = list(range(1_000, 101_000, 1_000))  # 1..100 us
    stats = summarize(durations, batch=4, overhead_ns=80)
    assert stats["calls"] == 100
    assert stats["p50_us"] == pytest.approx(50.5)
    assert stats["p90_us"] == pytest.approx(90.1)
    assert stats["p99_us"] == pytest.approx(99.01)
    assert stats["max_us"] == 100.0 and stats["mean_us"] == pytest.approx(50.5)
    assert stats["spread_p99_p50"] == pytest.approx(99.01 / 50.5)
    assert stats["throughput_obs_per_s"] == pytest.approx(4 * 1e9 / 50_500)
    assert stats["harness_overhead_us"] == pytest.approx(0.08)
    with pytest.raises(ValueError):
        summarize([])


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("bench-run")
    spec = ConvertSpec(model=ZOO_AGENTS["ppo"], targets=["onnx", "tflite-fp32", "tflite-int8"], out=run, episodes=2)
    assert execute(spec, emit=lambda e: None).status == "passed"
    return run


def test_every_runtime_gives_the_same_actions(ppo_run: Path) -> None:
    loaded = load_model(ZOO_AGENTS["ppo"])
    obs = sample_observations(loaded.observation_space, 300, 4).batch
    expected = loaded.predict(obs)
    seen = []
    for target in targets_for_run(ppo_run):
        try:
            runtime = open_runtime(target)
        except RuntimeUnavailable as exc:
            assert target.name == "edgetpu" and "libedgetpu" in exc.reason
            continue
        seen.append(target.name)
        actions = runtime.predict(obs)
        agreement = float(np.mean(actions == expected))
        if target.name == "litert-int8":
            assert agreement > 0.7  # int8 is measured, not exact
        else:
            np.testing.assert_array_equal(actions, expected, err_msg=target.name)
    assert seen == ["sb3", "torch", "onnxruntime", "litert-fp32", "litert-int8"]


def test_engine_interleaves_rounds_and_reports(ppo_run: Path) -> None:
    targets = targets_for_run(ppo_run, only=["sb3", "onnxruntime", "litert-fp32", "edgetpu"])
    loaded = load_model(ZOO_AGENTS["ppo"])
    observations = sample_observations(loaded.observation_space, 64, 0).batch
    options = BenchOptions(batches=[1, 8], calls=60, rounds=3, warmup=5)
    events = list(run_bench(targets, observations, options))
    ready = [e.runtime for e in events if isinstance(e, RuntimeReady)]
    assert ready == ["sb3", "onnxruntime", "litert-fp32"]
    (missing,) = [e for e in events if isinstance(e, RuntimeNotAvailable)]
    assert missing.runtime == "edgetpu" and "libedgetpu.so.1" in missing.reason and "coral.ai" in missing.hint
    rounds = [e for e in events if isinstance(e, RoundSamples)]
    assert len(rounds) == 3 * 2 * 3 and all(len(e.durations_ns) == 20 for e in rounds)
    first_round = [e.runtime for e in rounds if e.round == 0 and e.batch == 1]
    second_round = [e.runtime for e in rounds if e.round == 1 and e.batch == 1]
    assert first_round != second_round and sorted(first_round) == sorted(second_round)  # rotated order
    results = events[-1].results
    assert isinstance(events[-1], BenchFinished)
    for name in ready:
        entry = results["runtimes"][name]
        assert entry["agreement_with_sb3_percent"] == 100.0
        assert entry["peak_rss_mb"] > 10 and entry["load_ms"] > 0
        for batch in ("1", "8"):
            stats = entry["batches"][batch]
            samples = [d for e in rounds if e.runtime == name and e.batch == int(batch) for d in e.durations_ns]
            assert stats["calls"] == len(samples) == 60
            assert stats["p50_us"] == pytest.approx(np.percentile(samples, 50) / 1e3)
            assert stats["max_us"] == pytest.approx(max(samples) / 1e3)
    assert results["runtimes"]["sb3"]["batches"]["1"]["speedup_vs_sb3_p50"] == 1.0
    for name in ("onnxruntime", "litert-fp32"):  # the bare runtime call, timed apart from the wrapper
        stats = results["runtimes"][name]["batches"]["1"]
        assert stats["raw"]["calls"] == 60 and stats["raw"]["p50_us"] > 0
        assert stats["wrapper_overhead_percent"] == pytest.approx(100 * (stats["p50_us"] / stats["raw"]["p50_us"] - 1))
        assert "raw" not in results["runtimes"][name]["batches"]["8"]  # batches: no bare call to compare with
    assert "raw" not in results["runtimes"]["sb3"]["batches"]["1"]


@pytest.mark.parametrize("name", ["onnxruntime", "litert-fp32", "litert-int8"])
def test_thin_predict_takes_any_observation_and_returns_fresh_arrays(ppo_run: Path, name: str) -> None:
    (target,) = targets_for_run(ppo_run, only=[name])
    runtime = open_runtime(target)
    obs = sample_observations(load_model(ZOO_AGENTS["ppo"]).observation_space, 20, 7).batch
    expected = runtime.predict(np.array(obs, dtype=np.float64))  # converted first: the general path
    assert expected.shape == (20,) and expected.dtype == np.int64
    direct = [runtime.predict(obs[i:i + 1]) for i in range(20)]  # float32 batches of one: straight in
    np.testing.assert_array_equal(np.concatenate(direct), expected)
    np.testing.assert_array_equal(direct[0], expected[:1])  # not a view the next call overwrote
    assert runtime.predict(obs[3]).shape == (1,) and runtime.predict(obs[3])[0] == expected[3]  # no batch dim
    assert runtime.predict(obs[3].tolist())[0] == expected[3]  # a list
    raw, prepared = runtime.raw_call_for(obs[5:6])
    bare = raw(prepared)
    assert np.ravel(bare[0] if isinstance(bare, list) else bare)[0] == expected[5]


def test_bench_command_writes_table_json_and_csv(ppo_run: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "studio.cli", "bench", str(ppo_run), "--calls", "100", "--rounds", "2",
         "--runtime", "sb3", "--runtime", "litert-fp32", "--runtime", "edgetpu"],
        capture_output=True, text=True, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "litert-fp32" in result.stdout and "harness overhead" in result.stdout
    assert "edgetpu: not available" in result.stdout
    data = json.loads((ppo_run / "bench" / "bench.json").read_text())
    assert data["runtimes"]["litert-fp32"]["batches"]["1"]["calls"] == 100
    csv_text = (ppo_run / "bench" / "bench.csv").read_text()
    assert csv_text.splitlines()[0].startswith("runtime,") and "litert-fp32" in csv_text
