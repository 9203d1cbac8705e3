"""The Pipeline tab: the wizard's settings, Run and Cancel, one row per stage and the selected stage's
details, all for the model selected in the session."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMenu, QPushButton, QScrollArea, QSplitter, QVBoxLayout, QWidget

from studio.core.session import ModelEntry, PipelineState, Session, StageState

from .elided_label import QtElidedLabel, QtNote
from .entry_view import EntryView
from .flow_layout import FlowLayout
from .pipeline_controller import PipelineController
from .pipeline_options import QtPipelineOptions
from .stage_details import QtStageDetails
from .stage_table import QtStageTable


class QtPipelinePanel(EntryView):
    """Signals ``open_graph(Path)`` (an artifact to view) and ``said(str)`` (a line for the log)."""

    open_graph = Signal(object)
    said = Signal(str)

    def __init__(self, session: Session, controller: PipelineController) -> None:
        super().__init__(session, ("pipeline", "run", "described"))
        self.controller = controller
        self.options = QtPipelineOptions()
        self.title = QtElidedLabel("Select a model in the browser.")
        self.title.setObjectName("title")
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("primary")
        self.run_button.setToolTip("Convert and verify (Ctrl+R)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the conversion; the stage's unfinished outputs are not kept (Esc)")
        self.open_button = QPushButton("Open folder")
        self.copy_button = QPushButton("Copy command")
        self.copy_button.setToolTip("Copy the sb3-studio convert command that reproduces this run")
        self.graph_button = QPushButton("View graph")
        self.graph_menu = QMenu(self.graph_button)
        self.graph_button.setMenu(self.graph_menu)
        self.status = QtNote()
        self.stages = QtStageTable()
        self.details = QtStageDetails()
        self._layout()
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button.clicked.connect(self._open_folder)
        self.copy_button.clicked.connect(self._copy_command)
        self.graph_menu.aboutToShow.connect(self._fill_graph_menu)
        self.stages.itemSelectionChanged.connect(self._show_details)
        self.options.output.editingFinished.connect(self._on_output)
        self.options.changed.connect(self._on_options)
        controller.running_changed.connect(lambda running: self._refresh())
        self.show_entry(session.selected)

    def _layout(self) -> None:
        buttons = FlowLayout()
        buttons.addWidgets(self.run_button, self.cancel_button, self.open_button, self.copy_button, self.graph_button)
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(4, 0, 0, 0)
        column.addWidget(self.title)
        column.addLayout(buttons)
        column.addWidget(self.status)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.stages)
        split.addWidget(self.details)
        split.setSizes([280, 240])
        split.setStretchFactor(0, 1)  # a taller window goes mostly to the details (logs, int8 tables):
        split.setStretchFactor(1, 2)  # the stage table's dozen rows fit early
        column.addWidget(split, 1)
        scroll = QScrollArea()
        scroll.setWidget(self.options)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Never narrower than the settings need: with no horizontal scrolling, less would hide their right edge.
        scroll.setMinimumWidth(self.options.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
                               + 2 * scroll.frameWidth())
        outer = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(scroll)
        outer.addWidget(right)
        outer.setStretchFactor(0, 1)  # the settings widen a little with the window, the stages most
        outer.setStretchFactor(1, 4)
        outer.setSizes([250, 600])
        outer.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(outer)

    # The selected model ---------------------------------------------------------------------------
    def _on_entry(self, entry: ModelEntry | None) -> None:
        self.options.show_output(entry)
        self._show_stages()
        self._show_details()  # no stage selected yet: the model's int8 diagnostics, a running stage's log
        self._refresh()

    def _show_stages(self) -> None:
        """The model's stages, or before its first run the stages Run would run (all waiting)."""
        entry = self.entry
        if entry is not None and entry.pipeline.stages:
            self.stages.show_state(entry.pipeline)
        elif entry is not None and entry.convertible:
            self.stages.show_state(self._plan(entry))
        else:
            self.stages.show_state(PipelineState())

    def _plan(self, entry: ModelEntry) -> PipelineState:
        from studio.core.pipeline.stages import stages_for

        state = PipelineState()
        try:
            spec = self.options.spec_for(entry)
        except ValueError:
            return state
        state.reset([(s.name, s.plan(spec).description) for s in stages_for(spec.targets)], spec.run_dir())
        state.status = ""  # a preview: nothing runs
        for stage in state.stages.values():
            stage.result = stage.description
        return state

    def _on_pipeline(self, stage: StageState | None) -> None:
        if stage is None or self.stages.state is not self.entry.pipeline:
            self.stages.show_state(self.entry.pipeline)
        else:
            self.stages.update_stage(stage)
        self._show_details()
        if stage is None or stage.status != "running":
            self._refresh()

    def _on_run(self) -> None:
        if self.stages.state is not self.entry.pipeline:
            self._show_stages()
        self._show_details()  # the run folder read again: its int8 diagnostics too
        self._refresh()

    def _on_described(self) -> None:
        self.options.show_output(self.entry)
        self._show_stages()
        self._refresh()

    def _refresh(self) -> None:
        from .pipeline_words import buttons_state, status_text, title_text

        entry = self.entry
        self.title.setText(title_text(entry))
        self.status.setText(status_text(entry, self.controller))
        for button, (enabled, why) in buttons_state(entry, self.controller).items():
            widget = getattr(self, f"{button}_button")
            widget.setEnabled(enabled)
            if why:
                widget.setToolTip(why)

    def _show_details(self) -> None:
        entry = self.entry
        if entry is None:
            self.details.show_stage(None)
            return
        name = self.stages.selected_stage()
        stages = entry.pipeline.stages
        if name is None:  # follow the stage that is running, or the last one that failed
            live = [n for n, s in stages.items() if s.status in ("running", "failed")]
            name = live[-1] if live else None
        self.details.show_stage(stages.get(name) if name else None, entry.pipeline.manifest)

    # Actions ----------------------------------------------------------------------------------------
    def run(self) -> bool:
        """Convert the selected model; says why not when it cannot (True when it started)."""
        from .pipeline_words import why_not_run

        why = why_not_run(self.entry, self.controller)
        if why is None:
            try:
                spec = self.options.spec_for(self.entry)
            except ValueError as exc:
                why = f"Cannot run: {exc}"
        if why is not None:
            self.status.setText(why)
            self.said.emit(why)
            return False
        self.controller.start(self.entry, spec)
        self.said.emit(f"converting {self.entry.label} into {spec.run_dir()}")
        return True

    def cancel(self) -> bool:
        if not self.controller.running:
            return False
        self.controller.cancel()
        self.status.setText("Cancelling: the current stage stops at its next check; its outputs are not kept.")
        return True

    def _on_options(self) -> None:
        if self.entry is not None and not self.entry.pipeline.stages:
            self._show_stages()  # the preview follows the formats chosen

    def _on_output(self) -> None:
        if self.entry is not None and self.entry.kind == "sb3":
            self.entry.set_out(self.options.chosen_output())
            self.session.run_changed(self.entry)

    def _open_folder(self) -> None:
        folder = self.entry.run_dir if self.entry is not None else None
        if folder is not None and folder.is_dir():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
            self.said.emit(f"opened {folder}")

    def command(self) -> str:
        assert self.entry is not None
        return self.options.spec_for(self.entry).command()

    def _copy_command(self) -> None:
        try:
            command = self.command()
        except ValueError as exc:
            self.status.setText(f"Cannot make the command: {exc}")
            return
        QGuiApplication.clipboard().setText(command)
        self.status.setText("Copied to the clipboard: " + command)

    def _fill_graph_menu(self) -> None:
        self.graph_menu.clear()
        for artifact in self.entry.graphs() if self.entry is not None else []:
            action = self.graph_menu.addAction(artifact.title)
            action.triggered.connect(lambda checked=False, path=artifact.path: self.open_graph.emit(Path(path)))

