"""The Rollouts tab: the selected model's environment side by side for each runtime, stepped in
lockstep off the UI thread; below, per runtime over the episodes: return, score, agreement, departure."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QPushButton, QSpinBox, QSplitter, QVBoxLayout

from studio.core.labels import runtime_label
from studio.core.session import ModelEntry, Session

from .elided_label import QtElidedLabel, QtNote
from .entry_view import EntryView
from .flow_layout import FlowLayout, labelled
from .rollout_controller import RolloutController, RolloutSettings
from .rollout_pane import QtPaneGrid, QtRolloutPane
from .rollout_table import QtRolloutTable

# The original first, then by file: ONNX (ONNX Runtime, onnxruntime-web under Node), TorchScript, the TFLite
# files (LiteRT), TFLite Micro, the Edge TPU. A runtime the core adds later still appears, at the end.
RUNTIME_ORDER = ["sb3", "onnxruntime", "ort-web", "torchscript", "litert-fp32", "litert-fp16", "litert-int8",
                 "litert-int8-plain", "tflite-micro", "edgetpu"]
TICKED = ("sb3", "onnxruntime", "ort-web", "torchscript", "litert-fp32", "litert-int8", "litert-int8-plain", "tflite-micro")


class QtRolloutPanel(EntryView):
    def __init__(self, session: Session, controller: RolloutController) -> None:
        super().__init__(session, ("run", "described", "rollout"))
        self.controller = controller
        self.panes: dict[str, QtRolloutPane] = {}
        self.runtime_boxes: dict[str, QCheckBox] = {}
        self.title = QtElidedLabel("Select a model (converted models show every runtime).")
        self.title.setObjectName("title")
        self.runtime_row = FlowLayout()
        self.seed = QSpinBox(maximum=2**31 - 1)
        self.episodes = QSpinBox(minimum=1, maximum=100, value=3)
        self.speed = QSpinBox(minimum=1, maximum=240, value=30, suffix=" fps")
        self.record = QCheckBox("Record to MP4")
        self.reset_button, self.play_button = QPushButton("Reset"), QPushButton("Play")
        self.pause_button, self.step_button = QPushButton("Pause"), QPushButton("Step")
        self.play_button.setToolTip("Play (Ctrl+Space plays and pauses)")
        self.step_button.setToolTip("One step of every pane (Ctrl+Right)")
        self.reset_button.setToolTip("Load the ticked runtimes and start again from the seed")
        self._tips = {b: b.toolTip() for b in (self.reset_button, self.play_button, self.step_button)}
        self.message = QtNote()
        self.rate_label = QtNote()
        self.grid = QtPaneGrid()
        self.table = QtRolloutTable()
        self._layout()
        self.reset_button.clicked.connect(self.reset)
        self.play_button.clicked.connect(self.play)
        self.pause_button.clicked.connect(self.pause)
        self.step_button.clicked.connect(self.step)
        self.speed.valueChanged.connect(lambda value: self.controller.send("speed", value))
        for widget in (self.seed, self.episodes):
            widget.valueChanged.connect(self._on_settings_changed)
        self.record.toggled.connect(self._on_settings_changed)
        controller.snapshot.connect(self._on_snapshot)
        controller.problem.connect(self._say)
        controller.unavailable.connect(self._on_unavailable)
        controller.playing_changed.connect(self._on_playing)
        controller.rate.connect(self._on_rate)
        self.show_entry(session.selected)

    def _layout(self) -> None:
        controls = FlowLayout()
        for label, widget in (("Seed", self.seed), ("Episodes", self.episodes), ("Speed", self.speed)):
            controls.addWidget(labelled(label, widget))
        controls.addWidgets(self.record, self.reset_button, self.play_button, self.pause_button, self.step_button)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(self.grid)
        self.split.addWidget(self.table)
        self.split.setChildrenCollapsible(False)
        self.split.setSizes([400, 160])
        self.split.installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(self.runtime_row)
        layout.addLayout(controls)
        layout.addWidget(self.message)
        layout.addWidget(self.rate_label)
        layout.addWidget(self.split, 1)

    # The selected model ---------------------------------------------------------------------------
    def _on_entry(self, entry: ModelEntry | None) -> None:
        if self.controller.entry is not entry:
            self.controller.close_rollout()
        from .rollout_words import why_not_play

        self._clear_panes()
        self._build_runtimes()
        self.message.setText(why_not_play(entry, None) or "" if entry is not None and entry.loaded else "")
        self._on_rollout()
        self._update_buttons()

    def _on_run(self) -> None:
        self._build_runtimes()
        self._update_buttons()

    def _on_described(self) -> None:
        self._on_entry(self.entry)

    def _on_rollout(self) -> None:
        """The model's latest rollout result: the table, its recording and the rate it played at."""
        from .rollout_words import rate_text, result_text

        state = self.entry.rollout if self.entry is not None else None
        self.table.show_rows(state.rows if state else [])
        self._fit_table()
        self.rate_label.setText(rate_text(state.fps_measured, state.fps_asked) if state and state.fps_measured else "")
        if state is not None and state.rows:
            self.message.setText(result_text(state))  # what was played, and where it was recorded

    def _fit_table(self) -> None:
        """Room for every row of the summary (no minimum height: that could make the window grow)."""
        wanted = self.table.wanted_height()
        total = sum(self.split.sizes())
        table = min(wanted, max(0, total - 140))  # the panes keep at least a small frame each
        self.split.setSizes([total - table, table])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.split and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self._fit_table)  # once the splitter has laid itself out
        return False

    def _build_runtimes(self) -> None:
        from .rollout_words import runtimes_for, title_text

        ticked = {name: box.isChecked() for name, box in self.runtime_boxes.items()}  # the user's ticks stay
        for box in self.runtime_boxes.values():
            self.runtime_row.removeWidget(box)
            box.setParent(None)  # off screen now, deleted later
            box.deleteLater()
        self.runtime_boxes = {}
        self.title.setText(title_text(self.entry))
        for name in runtimes_for(self.entry, RUNTIME_ORDER):
            box = QCheckBox(runtime_label(name))
            box.setChecked(ticked.get(name, name in TICKED))
            box.setToolTip(name)
            box.toggled.connect(self._on_settings_changed)
            self.runtime_boxes[name] = box
            self.runtime_row.addWidget(box)

    # Actions ------------------------------------------------------------------------------------------
    def settings(self) -> RolloutSettings | None:
        entry = self.entry
        if entry is None or entry.info is None or not entry.env_id:
            return None
        runtimes = [name for name, box in self.runtime_boxes.items() if box.isChecked() and box.isEnabled()]
        run = entry.run_dir if entry.converted else None
        return RolloutSettings(run, entry.path, entry.env_id, runtimes or ["sb3"], self.seed.value(),
                               self.episodes.value(), float(self.speed.value()), record_to=self._record_path())

    def _record_path(self) -> Path | None:
        if not self.record.isChecked() or self.entry is None:
            return None
        from studio.core.library import data_dir

        folder = self.entry.run_dir / "rollouts" if self.entry.converted else data_dir() / "recordings"
        folder.mkdir(parents=True, exist_ok=True)
        stem = self.entry.label.replace("/", "-").replace(" ", "")
        return folder / f"{stem}-seed{self.seed.value()}-{time.strftime('%Y%m%d-%H%M%S')}.mp4"

    def reset(self) -> bool:
        """Load the ticked runtimes and environments, from the seed (says why not when it cannot)."""
        from .rollout_words import why_not_play

        settings = self.settings()
        why = why_not_play(self.entry, settings)
        if why is not None:
            self._say(why, replace=True)
            return False
        self._say("Loading the runtimes and the environments…", replace=True)
        self._clear_panes()
        self.controller.load(self.entry, settings)
        self._update_buttons()
        return True

    def play(self) -> bool:
        """Play, loading the runtimes first when this model's rollout is not loaded (a fresh tab)."""
        return self._send_loaded("play")

    def pause(self) -> bool:
        if not self.controller.playing:
            return False
        self.controller.send("pause")
        return True

    def play_pause(self) -> bool:
        return self.pause() if self.controller.playing else self.play()

    def step(self) -> bool:
        return self._send_loaded("step")

    def _send_loaded(self, command: str) -> bool:
        if self._stale() and not self.reset():
            return False
        self.controller.send(command)
        return True

    def _stale(self) -> bool:
        """Is there no rollout of this model with these settings loaded?"""
        loaded = self.controller.settings
        current = self.settings()
        if self.controller.entry is not self.entry or loaded is None or current is None:
            return True
        return (loaded.runtimes, loaded.seed, loaded.episodes, loaded.record_to is None) != (
            current.runtimes, current.seed, current.episodes, current.record_to is None)

    def _on_settings_changed(self, *_: Any) -> None:
        if self.controller.entry is self.entry and self.controller.settings is not None and self._stale():
            self._say("Settings changed: Play or Reset starts again with them.", replace=True)

    # What the worker says -------------------------------------------------------------------------
    def _mine(self) -> bool:
        return self.controller.entry is not None and self.controller.entry is self.entry

    def _on_snapshot(self, panes: list[dict[str, Any]]) -> None:
        if not self._mine():
            return
        if not self.panes:
            frame = panes[0]["frame"] if panes else None
            if frame is not None:
                self.grid.aspect = frame.shape[1] / frame.shape[0]
            self._make_panes([state["runtime"] for state in panes])
            if self.message.text().startswith("Loading"):
                self._say("", replace=True)
        for state in panes:
            if state["runtime"] in self.panes:
                self.panes[state["runtime"]].show_state(state)

    def _make_panes(self, runtimes: list[str]) -> None:
        self.panes = {runtime: QtRolloutPane(runtime) for runtime in runtimes}
        self.grid.set_panes(list(self.panes.values()))

    def _clear_panes(self) -> None:
        self.panes = {}
        self.grid.set_panes([])

    def _on_unavailable(self, reasons: dict[str, str]) -> None:
        if not self._mine():
            return
        for name, reason in reasons.items():
            self.entry.rollout.notes.append(f"{runtime_label(name)} is not shown: {reason}")
            box = self.runtime_boxes.get(name)
            if box is not None:
                box.setChecked(False)
                box.setEnabled(False)
                box.setToolTip(f"not available here: {reason}")
        if reasons:
            self._say("\n".join(self.entry.rollout.notes), replace=True)

    def _on_playing(self, playing: bool) -> None:
        self._update_buttons()
        if not playing:
            self.rate_label.setText(self.rate_label.text().replace("Playing at", "Played at"))

    def _on_rate(self, rate: float) -> None:
        from .rollout_words import rate_text

        if self._mine():
            self.rate_label.setText(rate_text(rate, self.speed.value(), live=True))

    def _say(self, text: str, replace: bool = False) -> None:
        current = "" if replace else self.message.text()
        self.message.setText(f"{current}\n{text}" if current and text else text)

    def _update_buttons(self) -> None:
        playable = self.settings() is not None
        playing = self.controller.playing and self._mine()
        self.play_button.setEnabled(playable and not playing)
        self.pause_button.setEnabled(playing)
        self.step_button.setEnabled(playable and not playing)
        self.reset_button.setEnabled(playable)
        from .rollout_words import why_not_play

        why = None if playable else why_not_play(self.entry, None)
        for button, tip in self._tips.items():
            button.setToolTip(why or tip)
