"""The Graph tab: choose one of the selected model's artifacts (or the opened ONNX / TFLite file) and see
its graph in Netron, inside the window and offline."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QSizePolicy, QVBoxLayout

from studio.core.session import ModelEntry, Session

from .entry_view import EntryView
from .flow_layout import FlowLayout
from .graph_view import QtGraphView


class QtGraphPanel(EntryView):
    def __init__(self, session: Session) -> None:
        super().__init__(session, ("run", "described"))
        self.chooser = QComboBox()
        self.chooser.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.chooser.setMinimumContentsLength(16)
        self.chooser.setAccessibleName("Artifact")
        self.show_button = QPushButton("Show graph")
        self.show_button.setObjectName("primary")
        self.view = QtGraphView()
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row = FlowLayout()
        row.addWidgets(QLabel("Artifact"), self.chooser, self.show_button, self.view.browser_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.note)
        layout.addWidget(self.view, 1)
        self.show_button.clicked.connect(self.show_chosen)
        self.chooser.activated.connect(lambda index: self.show_chosen())
        self.show_entry(session.selected)

    def _on_entry(self, entry: ModelEntry | None) -> None:
        self._fill()
        self.view.clear()

    def _on_run(self) -> None:
        self._fill()

    def _on_described(self) -> None:
        self._fill()

    def _fill(self) -> None:
        chosen = self.chooser.currentData()
        self.chooser.clear()
        for artifact in self.entry.graphs() if self.entry is not None else []:
            self.chooser.addItem(artifact.title, artifact.path)
        index = self.chooser.findData(chosen) if chosen is not None else -1
        self.chooser.setCurrentIndex(max(0, index) if self.chooser.count() else -1)
        empty = self.chooser.count() == 0
        self.show_button.setEnabled(not empty)
        if self.entry is None:
            self.note.setText("Select a model in the browser: its ONNX and TFLite artifacts are listed here.")
        elif empty:
            self.note.setText(f"{self.entry.label} has no ONNX or TFLite file yet: convert it first (Pipeline tab, Ctrl+R).")
        else:
            self.note.setText(f"{self.chooser.count()} graph(s) of {self.entry.label}: choose one and press Show graph.")

    def show_chosen(self) -> bool:
        path = self.chooser.currentData()
        if path is None:
            return False
        self.show_path(Path(path))
        return True

    def show_path(self, path: Path) -> None:
        """Show ``path`` (one of the chooser's artifacts, chosen in it)."""
        index = self.chooser.findData(Path(path))
        if index >= 0:
            self.chooser.setCurrentIndex(index)
        self.view.show_file(Path(path))
        self.note.setText(f"{Path(path).name} of {self.entry.label if self.entry else 'no model'}, "
                          f"served by Netron at {self.view.url} (this machine only).")
