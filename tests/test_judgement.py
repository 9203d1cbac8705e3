"""Judgement that scales: float artifacts against float arithmetic's own error, closed loop against the
original's noise floor with an interval."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ZOO, ZOO_AGENTS

from studio.core.closed_loop import Reference, judge, verdict
from studio.core.export.onnx_export import export_onnx_bytes
from studio.core.float_reference import FloatReference, SourceReference
from studio.core.loading import load_model
from studio.core.observations import sample_observations
from studio.core.runtimes.onnx import OnnxRuntime
from studio.core.verification import Thresholds, verify

HOPPER = ZOO / "sac/Hopper-v3_1/Hopper-v3.zip"


@pytest.fixture(scope="module")
def hopper():  # noqa: ANN201
    loaded = load_model(HOPPER)
    data, io = export_onnx_bytes(loaded)
    return loaded, OnnxRuntime(data, io), sample_observations(loaded.observation_space, 1000, 0, loaded.normalization)


def test_a_correct_onnx_that_the_old_absolute_bound_rejected_now_passes(hopper) -> None:  # noqa: ANN001
    loaded, runtime, sampled = hopper
    report = verify(FloatReference(loaded), runtime.predict, [sampled], Thresholds())
    metrics = report["sources"]["sampled"]
    assert metrics["max_abs_error"] > 1e-5  # what the old absolute 1e-5 bound failed on: float32 rounding
    assert report["passed"], report["failures"]
    assert metrics["float64"]["max_error"] <= 8 * metrics["float64"]["original_max_error"] + 1e-6
    assert metrics["float64"]["original_max_error"] > 1e-5  # the original itself is that far from float64


def test_a_broken_artifact_still_fails(hopper) -> None:  # noqa: ANN001
    loaded, runtime, sampled = hopper
    report = verify(FloatReference(loaded), lambda obs: runtime.predict(obs) + 1e-3, [sampled], Thresholds())
    assert not report["passed"] and "against float64" in report["failures"][0]
    skipped_clip = verify(FloatReference(loaded), lambda obs: runtime.predict(obs) * 1.001, [sampled], Thresholds())
    assert not skipped_clip["passed"]


def test_an_explicit_absolute_ceiling_still_applies(hopper) -> None:  # noqa: ANN001
    loaded, runtime, sampled = hopper
    report = verify(FloatReference(loaded), runtime.predict, [sampled], Thresholds(max_abs_error=1e-6))
    assert not report["passed"] and "> 1e-06" in report["failures"][-1]


def test_float16_is_judged_against_the_original_with_float16_weights() -> None:
    loaded = load_model(ZOO_AGENTS["sac"])
    sampled = sample_observations(loaded.observation_space, 500, 0)
    reference = FloatReference(loaded)
    own16 = reference.of(sampled, "float16").own_error.max()
    own32 = reference.of(sampled, "float32").own_error.max()
    assert own16 > 100 * own32  # float16 storage alone moves the actions far more than float32 arithmetic


def test_discrete_disagreements_at_float_ties_are_excused_and_others_are_not() -> None:
    from studio.core.verification import _discrete

    actions = np.array([0, 1, 0, 1])
    ref = SourceReference(actions, None, own_error=np.array([1e-6, 1e-6, 1e-6, 1e-6]),
                          margins64=np.array([2e-6, 5.0, 3e-6, 5.0]))
    failures: list[str] = []
    tie = _discrete(ref, np.array([1, 1, 0, 1]), Thresholds(), "rollout", failures)
    assert tie["float_ties_excused"] == 1 and not failures
    real = _discrete(ref, np.array([0, 0, 0, 1]), Thresholds(), "rollout", failures)
    assert real["float_ties_excused"] == 0 and failures and "75.00% agreement" in failures[0]


def test_verdicts_from_paired_returns() -> None:
    original = np.full(10, 500.0)
    same = verdict(original.copy(), original, original, random_mean=20.0, min_score=0.99)
    assert same["verdict"] == "passed" and same["score"] == 1.0 and same["score_interval"] == [1.0, 1.0]
    broken = verdict(np.full(10, 30.0), original, original, 20.0, 0.99)
    assert broken["verdict"] == "failed" and broken["score"] == pytest.approx(10 / 480)
    rng = np.random.default_rng(0)
    chaotic = 2900 + rng.normal(0, 300, 10)
    floor = 2900 + rng.normal(0, 300, 10)
    noisy = verdict(2900 + rng.normal(0, 300, 10), chaotic, floor, -1400.0, 0.99)
    assert noisy["verdict"] == "inconclusive"
    low, high = noisy["score_interval"]
    assert low < noisy["score"] < high and high - low > 0.05
    flat = verdict(np.full(5, -1.0), np.full(5, -1.0), np.full(5, -1.0), -1.0, 0.99)
    assert flat["verdict"] == "not scored" and flat["score"] is None


class _ScriptedReference(Reference):
    """A reference whose episodes are drawn from fixed distributions, to watch the sequential rule."""

    def __init__(self, floor_mean: float) -> None:
        super().__init__(original=None, make_env=None, observation_space=None, action_space=None, seed=0)
        self.floor_mean = floor_mean
        self.rng = np.random.default_rng(1)

    def ensure(self, n: int, check=lambda: None) -> None:  # noqa: ANN001
        for s in self.seeds(n):
            if s not in self.returns["original"]:
                self.returns["original"][s] = 1000 + self.rng.normal(0, 200)
                self.returns["random"][s] = 0.0
                self.returns["floor"][s] = self.floor_mean + self.rng.normal(0, 200)


def test_more_episodes_only_for_a_suspicious_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    import studio.core.closed_loop.judgement as judge_module

    rng = np.random.default_rng(2)
    monkeypatch.setattr(judge_module, "play", lambda act, make, seed, check=None: act(seed))
    reference = _ScriptedReference(1000)
    fine = judge(lambda seed: reference.returns["floor"][seed] + 1.0, reference, 0.99, 10, 80)
    assert fine["episodes"] == 10 and fine["verdict"] == "passed"
    slightly_worse = judge(lambda seed: 940 + rng.normal(0, 200), _ScriptedReference(1000), 0.99, 10, 80)
    assert slightly_worse["episodes"] > 10  # its estimate is beyond the tolerance: worth more episodes
    clearly_worse = judge(lambda seed: 100 + rng.normal(0, 20), _ScriptedReference(1000), 0.99, 10, 80)
    assert clearly_worse["episodes"] == 10 and clearly_worse["verdict"] == "failed"


def test_int8_plays_on_until_the_interval_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lossy model whose estimate is within tolerance but whose interval is wide (Hopper's plain int8:
    0.96 [0.62, 1.30] over 20 episodes) must show it keeps the behaviour: more episodes, up to the maximum."""
    import studio.core.closed_loop.judgement as judge_module

    monkeypatch.setattr(judge_module, "play", lambda act, make, seed, check=None: act(seed))
    def wide(reference: Reference):  # noqa: ANN202
        return lambda seed: reference.returns["floor"][seed] + (300.0 if seed % 2 else -300.0)  # mean 0, wide

    first = _ScriptedReference(1000)
    float_like = judge(wide(first), first, 0.95, 10, 80)
    assert float_like["episodes"] == 10 and float_like["verdict"] == "inconclusive"
    second = _ScriptedReference(1000)
    int8_like = judge(wide(second), second, 0.95, 10, 80, until_decided=True)
    assert int8_like["episodes"] == 80 and int8_like["verdict"] == "inconclusive"  # too wide even at 80
