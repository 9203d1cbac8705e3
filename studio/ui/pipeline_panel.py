"""The pipeline wizard: settings, Run and Cancel, one row per stage, and the selected stage's details."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QSplitter, QVBoxLayout, QWidget

from studio.core.library import LibraryEntry
from studio.core.pipeline.events import RunFinished

from .pipeline_controller import PipelineController
from .pipeline_options import QtPipelineOptions
from .stage_details import QtStageDetails
from .stage_table import QtStageTable


class QtPipelinePanel(QWidget):
    """Signals ``run_finished(RunFinished)`` and ``open_graph(Path)`` (an artifact to view)."""

    run_finished = Signal(object)
    open_graph = Signal(object)

    def __init__(self, controller: PipelineController) -> None:
        super().__init__()
        self.controller = controller
        self.entry: LibraryEntry | None = None
        self.manifest: dict[str, Any] | None = None
        self.options = QtPipelineOptions()
        self.title = QLabel("Select a model in the browser.")
        self.title.setObjectName("title")
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("primary")
        self.cancel_button = QPushButton("Cancel")
        self.open_button = QPushButton("Open folder")
        self.copy_button = QPushButton("Copy as CLI command")
        self.graph_button = QPushButton("View graph")
        self.status = QLabel("")
        self.stages = QtStageTable()
        self.details = QtStageDetails()
        buttons = QHBoxLayout()
        for button in (self.run_button, self.cancel_button, self.open_button, self.copy_button, self.graph_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.title)
        column.addLayout(buttons)
        column.addWidget(self.status)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.stages)
        split.addWidget(self.details)
        split.setSizes([320, 240])
        column.addWidget(split, 1)
        scroll = QScrollArea()
        scroll.setWidget(self.options)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(350)
        outer = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(scroll)
        outer.addWidget(right)
        outer.setSizes([320, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(outer)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self._on_cancel)
        self.open_button.clicked.connect(self._open_folder)
        self.copy_button.clicked.connect(self._copy_command)
        self.graph_button.clicked.connect(self._view_graph)
        self.stages.stage_changed.connect(self._on_stage_changed)
        self.stages.itemSelectionChanged.connect(self._on_stage_changed)
        controller.event.connect(self.stages.handle)
        controller.finished.connect(self._on_finished)
        controller.running_changed.connect(self._update_buttons)
        self._update_buttons(False)

    def set_entry(self, entry: LibraryEntry | None) -> None:
        self.entry = entry
        if entry is None:
            self.title.setText("Select a model in the browser.")
        elif entry.error:
            self.title.setText(f"{entry.name} cannot be converted: {entry.error}")
        elif entry.kind != "sb3":
            self.title.setText(f"{entry.name}: an artifact (view its graph, or benchmark it)")
        else:
            info = entry.info or {}
            self.title.setText(f"{entry.name}  ·  {info.get('algorithm', 'loading…')}  ·  "
                               f"{(info.get('environment') or {}).get('id') or ''}")
        self._load_manifest()
        self._update_buttons(self.controller.running)

    def _load_manifest(self) -> None:
        from studio.core.pipeline.run_folder import read_manifest

        folder = self._run_dir()
        self.manifest = read_manifest(folder) if folder else None

    def run_dir(self) -> Path | None:
        """Where the selected model's conversions are (the output folder setting, or its default)."""
        return self._run_dir()

    def _run_dir(self) -> Path | None:
        if self.entry is None or self.entry.kind != "sb3":
            return None
        return Path(self.options.output.text()) if self.options.output.text().strip() else self.entry.run_dir

    def _update_buttons(self, running: bool) -> None:
        convertible = self.entry is not None and self.entry.kind == "sb3" and self.entry.info is not None
        self.run_button.setEnabled(convertible and not running)
        self.cancel_button.setEnabled(running)
        self.open_button.setEnabled(bool(self._run_dir() and self._run_dir().exists()))
        self.copy_button.setEnabled(convertible)
        self.graph_button.setEnabled(self._graph_target() is not None)

    def run(self) -> None:
        if self.entry is None:
            return
        try:
            spec = self.options.spec_for(self.entry)
        except ValueError as exc:
            self.status.setText(f"Cannot run: {exc}")
            return
        from studio.core.pipeline.stages import stages_for

        self.stages.reset([(stage.name, stage.plan(spec).description) for stage in stages_for(spec.targets)])
        self.status.setText(f"Running into {spec.run_dir()}…")
        self.controller.start(spec)

    def _on_cancel(self) -> None:
        self.controller.cancel()
        self.status.setText("Cancelling: the current stage stops at its next check; its outputs are not kept.")

    def _on_finished(self, finished: RunFinished) -> None:
        self.stages.finish()
        self.manifest = finished.manifest
        where = finished.run_dir or "nothing written"
        self.status.setText(f"Run {finished.status}. Folder: {where}")
        self._on_stage_changed()
        self._update_buttons(False)
        self.run_finished.emit(finished)

    def _on_stage_changed(self, *_: object) -> None:
        name = self.stages.selected_stage()
        if name is None:  # follow the stage that is running, or the last one that failed
            running = [n for n, r in self.stages.rows.items() if r.status in ("running", "failed")]
            name = running[-1] if running else None
        self.details.show_stage(self.stages.rows.get(name) if name else None, self.manifest)

    def _open_folder(self) -> None:
        folder = self._run_dir()
        if folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def command(self) -> str:
        assert self.entry is not None
        return self.options.spec_for(self.entry).command()

    def _copy_command(self) -> None:
        QGuiApplication.clipboard().setText(self.command())
        self.status.setText("Copied: " + self.command())

    def _graph_target(self) -> Path | None:
        if self.entry is None or self.entry.error:
            return None
        if self.entry.kind in ("onnx", "tflite"):
            return self.entry.path
        folder = self._run_dir()
        onnx = folder / "policy.onnx" if folder else None
        return onnx if onnx is not None and onnx.is_file() else None

    def _view_graph(self) -> None:
        target = self._graph_target()
        if target is not None:
            self.open_graph.emit(target)
