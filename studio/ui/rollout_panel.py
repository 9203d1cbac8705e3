"""The rollout viewer: the environment side by side for each runtime, stepped in lockstep off the UI
thread; a pane whose episode ends waits, dimmed; the first departure from the original is marked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.library import LibraryEntry

from .rollout_controller import RolloutController, RolloutSettings

RUNTIME_ORDER = ["sb3", "onnxruntime", "litert-fp32", "litert-fp16", "litert-int8", "litert-int8-plain", "edgetpu"]


class QtRolloutPane(QFrame):
    def __init__(self, runtime: str) -> None:
        super().__init__()
        self.runtime = runtime
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(240, 160)
        self.text = QLabel(runtime)
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.image, 1)

    def show_state(self, state: dict[str, Any]) -> None:
        frame = state["frame"]
        if frame is not None:
            frame = np.ascontiguousarray(frame if not state["done"] else (frame * 0.55).astype(np.uint8))
            height, width = frame.shape[:2]
            image = QImage(frame.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
            self.image.setPixmap(QPixmap.fromImage(image))
        action = np.asarray(state["action"]).round(3).tolist() if state["action"] is not None else "–"
        episode = state["episode"] + (0 if state["status"] == "all episodes played" else 1)
        lines = [f"<b>{self.runtime}</b> · episode {episode} · step {state['step']}",
                 f"return {state['return']:.1f} · action {action}"]
        if self.runtime != "sb3":
            departed = state["first_departure"]
            lines.append(f"difference from the original: {state['difference']:.3g}")
            lines.append(f"<span style='color:#c62828'>departed from the original at step {departed}</span>"
                         if departed is not None else "<span style='color:#1a7f37'>acts as the original</span>")
        if state["done"] or state["diverged_at"] is not None:
            lines.append(f"<i>{state['status']}</i>")
        self.text.setText("<br>".join(lines))
        self.state = state


class QtRolloutPanel(QWidget):
    def __init__(self, controller: RolloutController) -> None:
        super().__init__()
        self.controller = controller
        self.entry: LibraryEntry | None = None
        self.panes: dict[str, QtRolloutPane] = {}
        self.summary_rows: list[dict[str, Any]] = []
        self.recorded_file: tuple[Path, int] | None = None
        self.title = QLabel("Select a model (converted models show every runtime).")
        self.title.setObjectName("title")
        self.runtime_boxes: dict[str, QCheckBox] = {}
        self.runtime_row = QHBoxLayout()
        self.seed = QSpinBox(maximum=2**31 - 1)
        self.episodes = QSpinBox(minimum=1, maximum=100, value=3)
        self.speed = QSpinBox(minimum=1, maximum=240, value=30, suffix=" fps")
        self.record = QCheckBox("Record to MP4")
        self.reset_button, self.play_button = QPushButton("Reset"), QPushButton("Play")
        self.pause_button, self.step_button = QPushButton("Pause"), QPushButton("Step")
        controls = QHBoxLayout()
        self.title.setWordWrap(True)
        for label, widget in (("Seed", self.seed), ("Episodes", self.episodes), ("Speed", self.speed)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        for widget in (self.record, self.reset_button, self.play_button, self.pause_button, self.step_button):
            controls.addWidget(widget)
        controls.addStretch(1)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.grid = QGridLayout()
        grid_widget = QWidget()
        grid_widget.setLayout(self.grid)
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["Runtime", "Episodes", "Return (mean ± std)", "Score",
                                              "Agreement", "First departure (median step)"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(grid_widget)
        split.addWidget(self.table)
        split.setSizes([520, 160])
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(self.runtime_row)
        layout.addLayout(controls)
        layout.addWidget(self.message)
        layout.addWidget(split, 1)
        self.reset_button.clicked.connect(self.reset)
        self.play_button.clicked.connect(lambda: self.controller.send("play"))
        self.pause_button.clicked.connect(lambda: self.controller.send("pause"))
        self.step_button.clicked.connect(lambda: self.controller.send("step"))
        self.speed.valueChanged.connect(lambda v: self.controller.send("speed", v))
        controller.snapshot.connect(self._on_snapshot)
        controller.summary.connect(self._on_summary)
        controller.problem.connect(self._on_problem)
        controller.recorded.connect(self._on_recorded)
        controller.playing_changed.connect(lambda playing: self.play_button.setEnabled(not playing))

    def set_entry(self, entry: LibraryEntry | None, run_dir: Path | None = None) -> None:
        self.entry = entry
        for box in self.runtime_boxes.values():
            self.runtime_row.removeWidget(box)
            box.setParent(None)
            box.deleteLater()
        self.runtime_boxes = {}
        if entry is None or entry.info is None:
            self.title.setText("Select a model (converted models show every runtime).")
            return
        from studio.core.pipeline.run_folder import read_manifest

        self.run_dir = run_dir or entry.run_dir
        manifest = read_manifest(self.run_dir) if self.run_dir else None
        from studio.core.bench.targets import RUNTIMES

        available = ["sb3"] + [name for name, key in RUNTIMES.items()
                               if key and manifest and (key in manifest["artifacts"] or name == "edgetpu")]
        env = (entry.info.get("environment") or {})
        self.title.setText(f"{entry.name} in {env.get('id') or 'an unknown environment'}"
                           + ("" if env.get("can_make", True) else f": {env.get('reason')}"))
        for name in [n for n in RUNTIME_ORDER if n in available]:
            box = QCheckBox(name)
            box.setChecked(name in ("sb3", "onnxruntime", "litert-fp32", "litert-int8", "litert-int8-plain"))
            self.runtime_boxes[name] = box
            self.runtime_row.addWidget(box)

    def settings(self) -> RolloutSettings | None:
        if self.entry is None or self.entry.info is None:
            return None
        env_id = (self.entry.info.get("environment") or {}).get("id")
        record_to = None
        if self.record.isChecked():
            default = (self.run_dir or Path.cwd()) / "rollouts" / f"rollout-seed{self.seed.value()}.mp4"
            default.parent.mkdir(parents=True, exist_ok=True)
            record_to = default
        runtimes = [name for name, box in self.runtime_boxes.items() if box.isChecked()] or ["sb3"]
        return RolloutSettings(self.run_dir, self.entry.path, env_id, runtimes, self.seed.value(),
                               self.episodes.value(), float(self.speed.value()), record_to=record_to)

    def reset(self) -> None:
        settings = self.settings()
        if settings is None or not settings.env_id:
            self.message.setText("No environment to play: the model does not name one.")
            return
        self.message.setText("Loading the runtimes and the environments…")
        self.table.setRowCount(0)
        self.summary_rows = []
        for pane in self.panes.values():
            pane.deleteLater()
        self.panes = {}
        self.controller.send("reset", settings)

    def _on_snapshot(self, panes: list[dict[str, Any]]) -> None:
        if not self.panes:
            self.message.setText("")
            for index, state in enumerate(panes):
                pane = QtRolloutPane(state["runtime"])
                self.panes[state["runtime"]] = pane
                self.grid.addWidget(pane, index // 4, index % 4)
        for state in panes:
            self.panes[state["runtime"]].show_state(state)

    def _on_summary(self, rows: list[dict[str, Any]]) -> None:
        self.summary_rows = rows
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            cells = [row["runtime"], str(row["episodes"]),
                     f"{row['mean_return']:.1f} ± {row['std_return']:.1f}" if row["mean_return"] is not None else "–",
                     f"{row['score']:.3f}" if row["score"] is not None else "–",
                     f"{row['agreement_percent']:.1f} %" if row["agreement_percent"] is not None else "original",
                     f"{row['median_steps_to_departure']:.0f}" if row["median_steps_to_departure"] is not None else "never"]
            for column, text in enumerate(cells):
                self.table.setItem(index, column, QTableWidgetItem(text))

    def _on_problem(self, text: str) -> None:
        self.message.setText((self.message.text() + "\n" if self.message.text() else "") + text)

    def _on_recorded(self, result: tuple[Path, int]) -> None:
        self.recorded_file = result
        self.message.setText(f"Recorded {result[1]} frames to {result[0]}")
