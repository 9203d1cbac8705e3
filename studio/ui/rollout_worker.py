"""The rollout viewer's worker: a small state machine in its own thread that opens the runtimes, steps
a :class:`~studio.core.rollout.LockstepRollout` at the asked rate, records, and reports."""

from __future__ import annotations

import queue
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot


@dataclass
class RolloutSettings:
    run_dir: Path | None
    model: Path
    env_id: str
    runtimes: list[str]
    seed: int = 0
    episodes: int = 3
    fps: float = 30.0
    tolerance: float = 1e-3
    record_to: Path | None = None
    pane_width: int = 320


def _open(settings: RolloutSettings) -> tuple[dict[str, Any], dict[str, str], Any]:
    """Predict functions for the chosen runtimes, the reasons of those that cannot run, the original's model."""
    from studio.core.bench.targets import RuntimeTarget, open_runtime, targets_for_run
    from studio.core.runtimes.base import RuntimeUnavailable

    targets = {t.name: t for t in (targets_for_run(settings.run_dir) if settings.run_dir else [])}
    targets.setdefault("sb3", RuntimeTarget("sb3", str(settings.model), settings.env_id))
    original = open_runtime(targets["sb3"])
    predicts, unavailable = {"sb3": original.predict}, {}
    for name in [r for r in settings.runtimes if r != "sb3"]:
        if name not in targets:
            unavailable[name] = "not converted in this run"
            continue
        try:
            predicts[name] = open_runtime(targets[name]).predict
        except RuntimeUnavailable as exc:
            unavailable[name] = f"{exc.reason}. To install: {exc.hint}"
    return predicts, unavailable, original.loaded


def discrete_actions(loaded: Any) -> bool:
    from gymnasium import spaces

    return not isinstance(loaded.action_space, spaces.Box)


def snapshot(rollout: Any, width: int) -> list[dict[str, Any]]:
    import cv2

    panes = []
    for pane in rollout.panes:
        frame = pane.frame
        if frame is not None:
            height = int(frame.shape[0] * width / frame.shape[1])
            frame = cv2.resize(np.ascontiguousarray(frame), (width, height), interpolation=cv2.INTER_AREA)
        panes.append({"runtime": pane.runtime, "frame": frame, "step": pane.step, "episode": pane.episode,
                      "return": pane.episode_return, "action": pane.action, "difference": pane.action_difference,
                      "first_departure": pane.first_departure, "diverged_at": pane.diverged_at,
                      "done": pane.done, "finished": pane.finished, "status": pane.status()})
    return panes


class _Rate:
    """Steps per second over the last second, from the times of the steps."""

    def __init__(self) -> None:
        self.times: deque[float] = deque(maxlen=512)
        self.reported = 0.0

    def step(self) -> None:
        self.times.append(time.monotonic())

    def value(self) -> float | None:
        now = time.monotonic()
        while self.times and now - self.times[0] > 1.0:
            self.times.popleft()
        if len(self.times) < 2:
            return None
        return (len(self.times) - 1) / max(1e-6, self.times[-1] - self.times[0])


class RolloutSignals(QObject):
    """What a rollout reports: the worker emits these in its thread, the controller re-emits them in the
    GUI thread (views and tests wait on the controller's)."""

    snapshot = Signal(object)
    summary = Signal(object)
    problem = Signal(str)
    unavailable = Signal(object)
    recorded = Signal(object)
    playing_changed = Signal(bool)
    rate = Signal(float)


class RolloutWorker(RolloutSignals):

    def __init__(self, commands: "queue.Queue[tuple[str, Any]]") -> None:
        super().__init__()
        self.commands = commands
        self.rollout: Any = None
        self.settings: RolloutSettings | None = None
        self.recorder: Any = None
        self.random_mean: float | None = None
        self.playing = False
        self.speed = _Rate()
        self.measured: list[float] = []

    @Slot()
    def loop(self) -> None:
        next_frame = time.monotonic()
        while True:
            try:
                command, value = self.commands.get(timeout=0.001 if self.playing else 0.05)
            except queue.Empty:
                command, value = None, None
            if command == "quit":
                break
            self._command(command, value)
            stepping = command == "step" or (self.playing and time.monotonic() >= next_frame)
            if self.rollout is None or not stepping or self.rollout.finished:
                continue
            # A fixed cadence (not "now + period"): the time a step takes does not slow the rate down.
            period = 1.0 / max(1.0, self.settings.fps)
            next_frame = max(next_frame + period, time.monotonic() - period)
            self._step()
        self._close()

    def _command(self, command: str | None, value: Any) -> None:
        if command == "reset":
            self._close()
            self._load(value)
        elif command == "close":
            self._close()
        elif command == "play":
            self._set_playing(self.rollout is not None and not self.rollout.finished)
        elif command == "pause":
            self._set_playing(False)
        elif command == "speed" and self.settings is not None:
            self.settings.fps = float(value)

    def _set_playing(self, playing: bool) -> None:
        self.playing = playing
        self.speed = _Rate()
        self.playing_changed.emit(playing)

    def _load(self, settings: RolloutSettings) -> None:
        from studio.core.carried import judges_for
        from studio.core.closed_loop import random_returns
        from studio.core.recording import Recorder, compose
        from studio.core.rollout import LockstepRollout

        self.settings, self.measured = settings, []
        try:
            predicts, unavailable, loaded = _open(settings)
            # The model's own environment (zoo wrappers, normalisation, migrated ids; masks and episode
            # starts carried), and for policies with memory a judge per pane that follows its trajectory.
            self.rollout = LockstepRollout(loaded.make_env, predicts, settings.episodes, settings.seed,
                                           settings.tolerance, render=True, discrete=discrete_actions(loaded),
                                           judges=judges_for(loaded))
            self.random_mean = float(np.mean(random_returns(loaded.make_env, settings.episodes, settings.seed)))
        except Exception as exc:  # noqa: BLE001 - shown in the panel, never a silent death
            self.rollout = None
            self.problem.emit(f"The rollout cannot start: {type(exc).__name__}: {exc}")
            self._set_playing(False)
            return
        self.unavailable.emit(unavailable)
        if settings.record_to is not None:
            self.recorder = Recorder(settings.record_to, settings.fps)
            self.recorder.add(compose(self.rollout.panes))
        self.snapshot.emit(snapshot(self.rollout, settings.pane_width))
        self._set_playing(False)

    def _step(self) -> None:
        from studio.core.recording import compose

        rollout = self.rollout
        rollout.step()
        self.speed.step()
        if self.recorder is not None:
            self.recorder.add(compose(rollout.panes))
        self.snapshot.emit(snapshot(rollout, self.settings.pane_width))
        rate = self.speed.value()
        if rate is not None and time.monotonic() - self.speed.reported > 0.5:
            self.speed.reported = time.monotonic()
            self.measured.append(rate)
            self.rate.emit(rate)
        if rollout.finished:
            self._set_playing(False)
            if self.recorder is not None:
                recorder, self.recorder = self.recorder, None
                self.recorded.emit((recorder.close(), recorder.frames))
            fps = float(np.median(self.measured)) if self.measured else None
            self.summary.emit({"rows": rollout.summary(self.random_mean), "fps": fps})

    def _close(self) -> None:
        if self.rollout is not None:
            self.rollout.close()
        if self.recorder is not None:
            self.recorder.discard()
        self.rollout, self.recorder = None, None
        if self.playing:
            self._set_playing(False)
