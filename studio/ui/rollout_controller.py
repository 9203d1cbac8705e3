"""Steps side-by-side rollouts in a worker thread at the chosen speed; the UI only draws what arrives.

Commands (load, play, pause, step, speed, close) are queued to the worker; snapshots of every pane (a
small frame and its labels) come back as signals, re-emitted by the controller in the GUI thread. The
rollout belongs to one model of the session: its results go to that model and into its run folder.
"""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Slot

from studio.core.session import ModelEntry, Session

from .rollout_worker import RolloutSettings, RolloutSignals, RolloutWorker

__all__ = ["RolloutController", "RolloutSettings"]


class RolloutController(RolloutSignals):
    """Signals: ``snapshot(list)``, ``summary(list)``, ``problem(str)``, ``unavailable(dict)``,
    ``recorded((Path, frames))``, ``playing_changed(bool)``, ``rate(float)`` (steps per second)."""

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.entry: ModelEntry | None = None  # whose rollout is loaded (or loading)
        self.settings: RolloutSettings | None = None
        self.playing = False
        self.commands: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.thread = QThread()
        self.worker = RolloutWorker(self.commands)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.loop)
        for name in ("snapshot", "problem", "unavailable", "rate"):
            getattr(self.worker, name).connect(getattr(self, name).emit)
        self.worker.summary.connect(self._on_summary)
        self.worker.recorded.connect(self._on_recorded)
        self.worker.playing_changed.connect(self._on_playing)
        self.thread.start()

    def load(self, entry: ModelEntry, settings: RolloutSettings) -> None:
        """Open the runtimes and environments for ``entry`` (the previous rollout is closed)."""
        self.entry, self.settings = entry, settings
        entry.rollout.notes, entry.rollout.rows = [], []
        entry.rollout.fps_asked, entry.rollout.fps_measured = settings.fps, None
        entry.rollout.settings = {"seed": settings.seed, "episodes": settings.episodes, "runtimes": settings.runtimes}
        self.send("reset", settings)

    def close_rollout(self) -> None:
        """Stop and forget the loaded rollout (another model was selected)."""
        if self.entry is not None:
            self.send("close")
        self.entry, self.settings, self.playing = None, None, False

    def send(self, command: str, value: Any = None) -> None:
        self.commands.put((command, value))

    @Slot(bool)
    def _on_playing(self, playing: bool) -> None:
        self.playing = playing
        self.playing_changed.emit(playing)

    @Slot(object)
    def _on_recorded(self, result: tuple[Path, int]) -> None:
        if self.entry is not None:
            self.entry.rollout.recording = Path(result[0])
        self.recorded.emit(result)

    @Slot(object)
    def _on_summary(self, result: dict[str, Any]) -> None:
        entry = self.entry
        if entry is not None:
            entry.rollout.rows = result["rows"]
            entry.rollout.fps_measured = result.get("fps")
            if entry.converted:
                entry.run.save_rollout(entry.rollout.to_json())
            entry.events.rollout.emit()
        self.summary.emit(result["rows"])

    def shutdown(self) -> None:
        self.send("quit")
        self.thread.quit()
        self.thread.wait(10_000)
