"""Steps side-by-side rollouts in a worker thread at the chosen speed; the UI only draws what arrives.

Commands (play, pause, step, speed, reset, record) are queued to the worker; snapshots of every pane
(a small frame and its labels) come back as signals, re-emitted by the controller in the GUI thread.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot


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
    """Predict functions for the chosen runtimes, the reasons of those that cannot run, the original."""
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
            unavailable[name] = f"{exc.reason} ({exc.hint})"
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
                      "done": pane.done, "status": pane.status()})
    return panes


class _RolloutWorker(QObject):
    snapshot = Signal(object)
    summary = Signal(object)
    problem = Signal(str)
    recorded = Signal(object)
    playing_changed = Signal(bool)

    def __init__(self, commands: "queue.Queue[tuple[str, Any]]") -> None:
        super().__init__()
        self.commands = commands

    @Slot()
    def loop(self) -> None:  # noqa: C901 - one small state machine
        from studio.core.carried import judges_for
        from studio.core.closed_loop import random_returns
        from studio.core.recording import Recorder, compose
        from studio.core.rollout import LockstepRollout

        rollout, settings, recorder, playing, random_mean = None, None, None, False, None
        next_frame = time.monotonic()
        while True:
            try:
                command, value = self.commands.get(timeout=0.001 if playing else 0.05)
            except queue.Empty:
                command, value = None, None
            if command == "quit":
                break
            if command == "reset":
                if rollout is not None:
                    rollout.close()
                if recorder is not None:
                    recorder.discard()
                settings, rollout, recorder, playing = value, None, None, False
                try:
                    predicts, unavailable, loaded = _open(settings)
                    # The model's own environment (zoo wrappers, frames, masks and episode starts carried).
                    rollout = LockstepRollout(loaded.make_env, predicts, settings.episodes, settings.seed,
                                              settings.tolerance, render=True, discrete=discrete_actions(loaded),
                                              judges=judges_for(loaded))
                    random_mean = float(np.mean(random_returns(loaded.make_env, settings.episodes, settings.seed)))
                except Exception as exc:  # noqa: BLE001 - shown in the panel, never a silent death
                    self.problem.emit(f"{type(exc).__name__}: {exc}")
                    continue
                for name, reason in unavailable.items():
                    self.problem.emit(f"{name} not shown: {reason}")
                if settings.record_to is not None:
                    recorder = Recorder(settings.record_to, settings.fps)
                    recorder.add(compose(rollout.panes))
                self.snapshot.emit(snapshot(rollout, settings.pane_width))
                self.playing_changed.emit(False)
            elif command == "play":
                playing = rollout is not None and not rollout.finished
                self.playing_changed.emit(playing)
            elif command == "pause":
                playing = False
                self.playing_changed.emit(False)
            elif command == "speed" and settings is not None:
                settings.fps = float(value)
            stepping = command == "step" or (playing and time.monotonic() >= next_frame)
            if rollout is None or not stepping or rollout.finished:
                continue
            # A fixed cadence (not "now + period"): the time a step takes does not slow the rate down.
            period = 1.0 / max(1.0, settings.fps)
            next_frame = max(next_frame + period, time.monotonic() - period)
            rollout.step()
            if recorder is not None:
                recorder.add(compose(rollout.panes))
            self.snapshot.emit(snapshot(rollout, settings.pane_width))
            if rollout.finished:
                playing = False
                self.playing_changed.emit(False)
                self.summary.emit(rollout.summary(random_mean))
                if recorder is not None:
                    self.recorded.emit((recorder.close(), recorder.frames))
                    recorder = None
        if rollout is not None:
            rollout.close()
        if recorder is not None:
            recorder.discard()


class RolloutController(QObject):
    snapshot = Signal(object)
    summary = Signal(object)
    problem = Signal(str)
    recorded = Signal(object)
    playing_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.commands: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.thread = QThread()
        self.worker = _RolloutWorker(self.commands)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.loop)
        for name in ("snapshot", "summary", "problem", "recorded", "playing_changed"):
            getattr(self.worker, name).connect(getattr(self, name).emit)
        self.thread.start()

    def send(self, command: str, value: Any = None) -> None:
        self.commands.put((command, value))

    def shutdown(self) -> None:
        self.send("quit")
        self.thread.quit()
        self.thread.wait(10_000)
