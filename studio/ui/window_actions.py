"""The window's menus and keyboard shortcuts, opening files, and the question asked before closing
during a conversion. Every action that cannot do anything says why in the status bar."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from studio.core.session import Opened

if TYPE_CHECKING:
    from .main_window import MainWindow

MODEL_FILTER = "Models (*.zip *.onnx *.tflite);;All files (*)"
SHORTCUTS_HELP = """<table>
<tr><td><b>Ctrl+O</b></td><td>open models</td></tr><tr><td><b>Ctrl+Shift+O</b></td><td>open a folder</td></tr>
<tr><td><b>Ctrl+R</b></td><td>convert the selected model</td></tr><tr><td><b>Esc</b></td><td>cancel what runs on this tab</td></tr>
<tr><td><b>Ctrl+Space</b></td><td>play / pause the rollout</td></tr><tr><td><b>Ctrl+Right</b></td><td>one rollout step</td></tr>
<tr><td><b>Ctrl+B</b></td><td>benchmark</td></tr><tr><td><b>Ctrl+1 … Ctrl+4</b></td><td>Pipeline, Rollouts, Benchmark, Graph</td></tr>
<tr><td><b>Ctrl+L</b></td><td>the model list</td></tr><tr><td><b>Tab / Shift+Tab</b></td><td>next / previous control</td></tr>
<tr><td><b>Delete</b></td><td>remove the selected model from the list</td></tr></table>"""


class WindowActions:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.dialog: QFileDialog | QMessageBox | None = None
        self.closing = False
        bar = window.menuBar()
        self._menu(bar.addMenu("&File"), [
            ("&Open models…", QKeySequence.StandardKey.Open, self.ask_open),
            ("Open &folder…", "Ctrl+Shift+O", self.ask_folder),
            ("&Watch folder…", None, self.ask_watch_folder),
            None,
            ("&Quit", QKeySequence.StandardKey.Quit, window.close),
        ])
        self._menu(bar.addMenu("&Run"), [
            ("&Convert", "Ctrl+R", self.convert),
            ("C&ancel", "Esc", self.cancel),
            None,
            ("&Play / pause rollout", "Ctrl+Space", self.play_pause),
            ("&Step rollout", "Ctrl+Right", self.step),
            None,
            ("&Benchmark", "Ctrl+B", self.benchmark),
        ])
        tabs = [(f"&{i + 1} {window.tabs.tabText(i).replace('&', '')}", f"Ctrl+{i + 1}", self._tab_opener(i))
                for i in range(window.tabs.count())]
        self._menu(bar.addMenu("&View"), [("&Models", "Ctrl+L", self.focus_models), *tabs])
        self._menu(bar.addMenu("&Help"), [("&Keyboard shortcuts", "F1", self.show_shortcuts)])

    def _menu(self, menu, items) -> None:  # noqa: ANN001
        for item in items:
            if item is None:
                menu.addSeparator()
                continue
            text, shortcut, slot = item
            action = QAction(text, self.window)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            menu.addAction(action)
            self.window.addAction(action)  # shortcuts work while the menu bar is hidden too

    def say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 10_000)
        self.window.log.write(text)

    # Opening ----------------------------------------------------------------------------------------
    def ask_open(self) -> None:
        self._ask(QFileDialog.FileMode.ExistingFiles, "Open models")

    def ask_folder(self) -> None:
        self._ask(QFileDialog.FileMode.Directory, "Open a folder of models (an RL Zoo tree works)")

    def _ask(self, mode: QFileDialog.FileMode, title: str) -> None:
        """A file dialog opened, not run: the window stays live while it is up."""
        dialog = QFileDialog(self.window, title, "", MODEL_FILTER)
        dialog.setFileMode(mode)
        dialog.filesSelected.connect(lambda names: self.open_paths([Path(n) for n in names]))
        self.dialog = dialog
        dialog.open()

    def ask_watch_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Watch folder", str(self.window.watcher.folder or ""))
        if folder:
            self.window.settings.setValue("watch_folder", folder)
            self.window.watcher.watch(Path(folder))
            self.say(f"Watching {folder}.")

    def open_paths(self, paths: list[Path], select: bool = True) -> Opened:
        """Open files or folders; the first new model is selected (or the first already open)."""
        opened = self.window.session.open(paths)
        for folder in opened.empty:
            self.say(f"No models in {folder}: looked for SB3 models (.zip), .onnx and .tflite files.")
        for path in opened.missing:
            self.say(f"{path}: no such file or folder.")
        if opened.already and not opened.added and select:
            self.say(f"{opened.already[0].label} is already open: selected it.")
        if opened.first is not None and (select or self.window.session.selected is None):
            self.window.session.select(opened.first)
        return opened

    # Running ----------------------------------------------------------------------------------------
    def _on_tab(self, panel, act: Callable[[], bool], why: str = "") -> None:  # noqa: ANN001
        self.window.tabs.setCurrentWidget(panel)
        if not act() and why:
            self.say(why)

    def convert(self) -> None:
        self._on_tab(self.window.pipeline_panel, self.window.pipeline_panel.run)

    def benchmark(self) -> None:
        self._on_tab(self.window.bench, self.window.bench.run)

    def play_pause(self) -> None:
        self._on_tab(self.window.rollouts, self.window.rollouts.play_pause, "")

    def step(self) -> None:
        self._on_tab(self.window.rollouts, self.window.rollouts.step)

    def cancel(self) -> None:
        """Esc: stop what runs on the tab on show (a conversion, a benchmark, a playing rollout)."""
        window = self.window
        current = window.tabs.currentWidget()
        for panel, act in ((window.pipeline_panel, window.pipeline_panel.cancel), (window.bench, window.bench.cancel),
                           (window.rollouts, window.rollouts.pause)):
            if current is panel and act():
                return
        if window.pipeline.running and window.pipeline_panel.cancel():
            window.tabs.setCurrentWidget(window.pipeline_panel)
            return
        self.say("Nothing to cancel on this tab.")

    # Moving around ----------------------------------------------------------------------------------
    def _tab_opener(self, index: int) -> Callable[[], None]:
        def open_tab() -> None:
            self.window.tabs.setCurrentIndex(index)
            self.window.tabs.tabBar().setFocus()

        return open_tab

    def focus_models(self) -> None:
        self.window.browser.table.setFocus()

    def show_shortcuts(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Keyboard shortcuts", SHORTCUTS_HELP,
                          QMessageBox.StandardButton.Close, self.window)
        self.dialog = box
        box.open()

    # Closing ----------------------------------------------------------------------------------------
    def may_close(self) -> bool:
        """True when nothing would be lost; else ask (without blocking) and close once confirmed."""
        window = self.window
        if self.closing or not (window.pipeline.running or window.bench_controller.running):
            return True
        busy = (f"{window.pipeline.entry.label} is being converted" if window.pipeline.running
                else f"{window.bench_controller.entry.label} is being benchmarked")
        box = QMessageBox(QMessageBox.Icon.Question, "Quit SB3 Studio?",
                          f"{busy}. Quit anyway? The unfinished stage keeps no output; finished stages stay in the run folder.",
                          QMessageBox.StandardButton.NoButton, window)
        box.addButton("Keep working", QMessageBox.ButtonRole.RejectRole)
        quit_button = box.addButton("Stop and quit", QMessageBox.ButtonRole.DestructiveRole)
        box.finished.connect(lambda _: self._confirmed(box.clickedButton() is quit_button))
        self.dialog = box
        box.open()
        return False

    def _confirmed(self, quit_: bool) -> None:
        if quit_:
            self.closing = True
            self.window.close()
