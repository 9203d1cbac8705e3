"""Start the studio window."""

from __future__ import annotations

import sys


def run(paths: list[str]) -> int:
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("SB3 Studio")
    window = MainWindow()
    for path in paths:
        window.open_model(path)
    window.show()
    return app.exec()
