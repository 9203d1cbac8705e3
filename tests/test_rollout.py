"""Side-by-side rollouts: lockstep, departure and divergence marking, summary numbers, recording."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import ZOO_AGENTS

from studio.core.closed_loop import episode_returns, score
from studio.core.loading import load_model
from studio.core.recording import record
from studio.core.rollout import LockstepRollout


@pytest.fixture(scope="module")
def ppo():  # noqa: ANN201
    return load_model(ZOO_AGENTS["ppo"])


def perturbed(predict, from_step: int):  # noqa: ANN001, ANN201
    """The original, except that it flips its action from ``from_step`` on, every 5th step."""
    calls = {"n": 0}

    def act(obs):  # noqa: ANN001, ANN202
        step = calls["n"]
        calls["n"] += 1
        action = predict(obs)
        return 1 - action if step >= from_step and step % 5 == 0 else action

    return act


def test_panes_step_in_lockstep_and_wait_when_their_episode_ends(ppo) -> None:  # noqa: ANN001
    rollout = LockstepRollout("CartPole-v1", {"sb3": ppo.predict, "broken": lambda obs: np.zeros(len(obs), np.int64)},
                              episodes=1, seed=0, render=False)
    for _ in range(5):
        rollout.step()
    assert [p.step for p in rollout.panes] == [5, 5]
    while not rollout.panes[1].done:
        rollout.step()
    stopped = rollout.panes[1].step
    assert stopped < 50 and rollout.panes[1].status() == "episode over: waiting for the others"
    rollout.step()
    assert rollout.panes[1].step == stopped and rollout.panes[0].step == stopped + 1  # it waits, the original goes on
    while not rollout.finished:
        rollout.step()
    assert rollout.panes[0].returns == [500.0]


def test_departure_and_divergence_are_marked(ppo) -> None:  # noqa: ANN001
    rollout = LockstepRollout("CartPole-v1", {"sb3": ppo.predict, "same": ppo.predict,
                                              "perturbed": perturbed(ppo.predict, 10)}, episodes=1, seed=3, render=False)
    for _ in range(60):
        rollout.step()
    same, broken = rollout.panes[1], rollout.panes[2]
    assert same.first_departure is None and same.diverged_at is None and same.action_difference == 0.0
    assert broken.first_departure == 10
    assert broken.diverged_at is not None and broken.diverged_at > 10
    assert "diverged" in broken.status()


def test_summary_numbers(ppo) -> None:  # noqa: ANN001
    rollout = LockstepRollout("CartPole-v1", {"sb3": ppo.predict, "perturbed": perturbed(ppo.predict, 0)},
                              episodes=2, seed=7, render=False)
    while not rollout.finished:
        rollout.step()
    rows = {row["runtime"]: row for row in rollout.summary(random_return=20.0)}
    expected = episode_returns(ppo.predict, "CartPole-v1", 2, 7)
    assert rows["sb3"]["episodes"] == 2 and rows["sb3"]["mean_return"] == pytest.approx(np.mean(expected))
    broken = rows["perturbed"]
    assert broken["score"] == pytest.approx(score(broken["mean_return"], np.mean(expected), 20.0))
    assert 0 < broken["agreement_percent"] < 100
    assert broken["first_departure_steps"][0] == 0


def test_recording_has_every_frame_with_labels(ppo, tmp_path: Path) -> None:  # noqa: ANN001
    rollout = LockstepRollout("CartPole-v1", {"sb3": ppo.predict, "perturbed": perturbed(ppo.predict, 5)},
                              episodes=1, seed=0, render=True)
    path = tmp_path / "rollout.mp4"
    frames = record(rollout, path, max_steps=40)
    assert frames == 41 and path.is_file() and not list(tmp_path.glob(".*partial*"))
    video = cv2.VideoCapture(str(path))
    count, first = 0, None
    while True:
        ok, frame = video.read()
        if not ok:
            break
        first = frame if first is None else first
        count += 1
    assert count == 41
    assert first.shape[1] == 2 * 300
    assert (first[:40] < 100).any()  # dark label text burnt into the white strip above each pane


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ppo_bullet", "tqc_panda"])
def test_zoo_agents_play_in_their_environment_as_the_zoo_made_it(name: str) -> None:
    """The rollout viewer's environments come from the model's recipe: HalfCheetahBullet with its
    TimeFeatureWrapper and VecNormalize (27 inputs; without them it walks nowhere), PandaReach from a
    renamed id with a Dict observation. Frames are rendered and the original walks / reaches."""
    from conftest import ZOO_FAMILIES

    loaded = load_model(ZOO_FAMILIES[name])
    rollout = LockstepRollout(loaded.make_env, {"sb3": loaded.predict, "again": loaded.predict}, episodes=1, seed=0,
                              render=True, discrete=False)
    for _ in range(300 if name == "ppo_bullet" else 50):
        rollout.step()
    original, again = rollout.panes
    assert again.first_departure is None and again.action_difference == 0.0
    frame = original.frame
    assert frame is not None and frame.ndim == 3 and frame.shape[2] == 3 and frame.std() > 0
    if name == "ppo_bullet":
        assert np.asarray(original.obs).shape == (27,)
        assert original.episode_return > 400  # about 880 in 300 steps; a random policy loses ground
    else:
        assert isinstance(original.obs, dict) and set(original.obs) == {"observation", "achieved_goal", "desired_goal"}
        assert original.returns and max(original.returns) > -10  # the episode ended at the goal, early
