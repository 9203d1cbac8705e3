"""The studio's main window. It only composes panels; each panel lives in its own module."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("SB3 Studio")
        self.resize(1200, 780)
        self._placeholder = QLabel("SB3 Studio\n\nThe model browser and pipeline arrive with the next issues.\n"
                                   "Use the command line meanwhile: sb3-studio inspect MODEL")
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(self._placeholder)

    def open_model(self, path: str) -> None:
        self._placeholder.setText(f"Opened {path}\n\nInspect it with: sb3-studio inspect {path}")
