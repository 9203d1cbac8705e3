"""The studio's main window. It only composes: the session (the model), the controllers that run work
off the UI thread, the panels that view the selected model, and the menus (see window_actions)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter, QTabWidget

from studio.core.library import default_watch_folder
from studio.core.session import Session, default_store

from .bench_controller import BenchController
from .bench_panel import QtBenchPanel
from .graph_panel import QtGraphPanel
from .host_key_prompt import QtHostKeyPrompt
from .library_controller import LibraryController
from .log_panel import QtLogPanel
from .model_browser import QtModelBrowser
from .pipeline_controller import PipelineController
from .pipeline_panel import QtPipelinePanel
from .rollout_controller import RolloutController
from .rollout_panel import QtRolloutPanel
from .watch_folder import FolderWatcher
from .window_actions import WindowActions


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, session: Session | None = None) -> None:
        super().__init__()
        self.setWindowTitle("SB3 Studio")
        self.setAcceptDrops(True)
        self.settings = settings or QSettings("sb3-studio", "sb3-studio")
        self.session = session or Session(default_store())
        self.library = LibraryController(self.session, parent=self)
        self.pipeline = PipelineController(self.session, self)
        self.rollouts_controller = RolloutController(self.session, self)
        self.host_keys = QtHostKeyPrompt(self)  # a device's first contact is asked here, from the worker
        self.bench_controller = BenchController(self.session, self, ask=self.host_keys.ask)
        self.browser = QtModelBrowser(self.session)
        self.pipeline_panel = QtPipelinePanel(self.session, self.pipeline)
        self.rollouts = QtRolloutPanel(self.session, self.rollouts_controller)
        self.bench = QtBenchPanel(self.session, self.bench_controller)
        self.graph_panel = QtGraphPanel(self.session)
        self.graph = self.graph_panel.view
        self.log = QtLogPanel()
        self.tabs = QTabWidget()
        for panel, name in ((self.pipeline_panel, "&Pipeline"), (self.rollouts, "&Rollouts"),
                            (self.bench, "&Benchmark"), (self.graph_panel, "&Graph")):
            self.tabs.addTab(panel, name)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.browser)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 1)  # a wider window widens the tabs most, the model list too
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        split.setSizes([280, 750])
        self.setCentralWidget(split)
        self.log_dock = QDockWidget("Log", self)
        self.log_dock.setObjectName("log")
        self.log_dock.setWidget(self.log)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.resizeDocks([self.log_dock], [90], Qt.Orientation.Vertical)
        self.watcher = FolderWatcher(self)
        self.actions_ = WindowActions(self)
        self._connect()
        self._place()
        self.session.restore()
        self.watcher.watch(Path(self.settings.value("watch_folder", str(default_watch_folder()))))
        self.statusBar().showMessage(f"Watching {self.watcher.folder}. Drop models anywhere on this window.")

    def _place(self) -> None:
        """Where the user left the window; else 1280x800, or the whole screen when that is smaller."""
        geometry = self.settings.value("geometry")
        if geometry is not None and self.restoreGeometry(geometry):
            return
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        size = QSize(1280, 800)
        self.resize(size.boundedTo(screen.size()) if screen is not None else size)

    def _connect(self) -> None:
        self.library.described.connect(self._on_described)
        self.pipeline.event.connect(self.log.pipeline_event)
        for panel in (self.pipeline_panel, self.bench):
            panel.said.connect(self.log.write)
        self.pipeline_panel.open_graph.connect(self.show_graph)
        self.watcher.found.connect(lambda paths: self.actions_.open_paths(paths, select=False))
        self.session.events.added.connect(lambda entry: self.log.write(f"added {entry.path}"))

    def open_model(self, path: str | Path) -> None:
        """Open a file or folder as the user would (it is selected)."""
        self.actions_.open_paths([Path(path)])

    def _on_described(self, entry: object) -> None:
        error = getattr(entry, "error", None)
        if error:
            self.log.write(f"cannot read: {error}")

    def show_graph(self, path: Path) -> None:
        self.tabs.setCurrentWidget(self.graph_panel)
        self.graph_panel.show_path(Path(path))
        self.log.write(f"graph of {path} in Netron at {self.graph.url}")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            self.actions_.open_paths(paths)
            event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.actions_.may_close():
            event.ignore()
            return
        self.settings.setValue("geometry", self.saveGeometry())
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """End every worker (a running conversion is cancelled; its unfinished stage keeps nothing)."""
        self.pipeline.shutdown()
        self.rollouts_controller.shutdown()
        self.bench_controller.shutdown()
        self.library.shutdown()
        self.graph.stop()
