"""The studio's main window. It only composes panels; each panel lives in its own module."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QSplitter, QTabWidget

from studio.core.library import default_watch_folder

from .bench_controller import BenchController
from .bench_panel import QtBenchPanel
from .graph_view import QtGraphView
from .library_controller import LibraryController
from .log_panel import QtLogPanel
from .model_browser import QtModelBrowser
from .pipeline_controller import PipelineController
from .pipeline_panel import QtPipelinePanel
from .rollout_controller import RolloutController
from .rollout_panel import QtRolloutPanel
from .watch_folder import FolderWatcher

MODEL_FILTER = "Models (*.zip *.onnx *.tflite);;All files (*)"


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("SB3 Studio")
        self.resize(1400, 860)
        self.setAcceptDrops(True)
        self.settings = settings or QSettings("sb3-studio", "sb3-studio")
        self.library = LibraryController(parent=self)
        self.pipeline = PipelineController(self)
        self.browser = QtModelBrowser(self.library)
        self.pipeline_panel = QtPipelinePanel(self.pipeline)
        self.graph = QtGraphView()
        self.rollouts_controller = RolloutController(self)
        self.rollouts = QtRolloutPanel(self.rollouts_controller)
        self.bench_controller = BenchController(self)
        self.bench = QtBenchPanel(self.bench_controller)
        self.log = QtLogPanel()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.pipeline_panel, "Pipeline")
        self.tabs.addTab(self.rollouts, "Rollouts")
        self.tabs.addTab(self.bench, "Benchmark")
        self.tabs.addTab(self.graph, "Graph")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.browser)
        split.addWidget(self.tabs)
        split.setSizes([560, 840])
        self.setCentralWidget(split)
        dock = QDockWidget("Log", self)
        dock.setObjectName("log")
        dock.setWidget(self.log)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        self.resizeDocks([dock], [130], Qt.Orientation.Vertical)
        self.watcher = FolderWatcher(self)
        self._menus()
        self.browser.selected.connect(self.pipeline_panel.set_entry)
        self.browser.selected.connect(self._select_for_rollouts)
        self.browser.added.connect(lambda path: self.log.write(f"added {path}"))
        self.library.described.connect(self._on_described)
        self.pipeline.event.connect(self.log.pipeline_event)
        self.pipeline_panel.run_finished.connect(self._on_run_finished)
        self.pipeline_panel.open_graph.connect(self.show_graph)
        self.watcher.found.connect(self.browser.add_paths)
        self.watcher.watch(Path(self.settings.value("watch_folder", str(default_watch_folder()))))
        self.statusBar().showMessage(f"Watching {self.watcher.folder}. Drop models anywhere on this window.")

    def _menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        for text, shortcut, slot in (
            ("&Open models…", QKeySequence.StandardKey.Open, self._open_files),
            ("Open &folder…", None, self._open_folder),
            ("&Watch folder…", None, self._choose_watch_folder),
            ("&Quit", QKeySequence.StandardKey.Quit, self.close),
        ):
            action = QAction(text, self)
            if shortcut is not None:
                action.setShortcut(shortcut)
            action.triggered.connect(slot)
            file_menu.addAction(action)

    def open_model(self, path: str | Path) -> None:
        self.browser.add_paths([Path(path)])

    def _open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open models", "", MODEL_FILTER)
        self.browser.add_paths([Path(f) for f in files])

    def _open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of models (an RL Zoo tree works)")
        if folder:
            self.browser.add_paths([Path(folder)])

    def _choose_watch_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Watch folder", str(self.watcher.folder or ""))
        if folder:
            self.settings.setValue("watch_folder", folder)
            self.watcher.watch(Path(folder))
            self.statusBar().showMessage(f"Watching {folder}.")

    def _on_described(self, entry: object) -> None:
        error = getattr(entry, "error", None)
        if error:
            self.log.write(f"cannot read: {error}")

    def _select_for_rollouts(self, entry: object) -> None:
        run_dir = self.pipeline_panel.run_dir()
        self.rollouts.set_entry(entry, run_dir)
        self.bench.set_run(run_dir, getattr(entry, "name", ""))

    def _on_run_finished(self, finished: object) -> None:
        entry = self.pipeline_panel.entry
        run_dir = getattr(finished, "run_dir", None)
        if entry is not None and run_dir is not None:
            entry.run_dir = Path(run_dir)  # the browser shows the conversions of the latest run
        self.browser.refresh()
        self.rollouts.set_entry(entry, Path(run_dir) if run_dir else None)
        self.bench.set_run(Path(run_dir) if run_dir else None, getattr(entry, "name", ""))

    def show_graph(self, path: Path) -> None:
        self.tabs.setCurrentWidget(self.graph)
        self.graph.show_file(Path(path))
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
            self.browser.add_paths(paths)
            event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.pipeline.shutdown()
        self.rollouts_controller.shutdown()
        self.bench_controller.shutdown()
        self.graph.stop()
        super().closeEvent(event)
