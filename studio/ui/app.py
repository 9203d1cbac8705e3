"""Start the studio window."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

STYLE = """
QLabel#title { font-size: 15px; font-weight: 600; padding: 2px 0; }
QLabel#hint { color: #555; padding: 4px; }
QPushButton#primary { font-weight: 600; padding: 4px 14px; }
QTableView, QTableWidget { gridline-color: #ddd; }
"""
ICON = Path(__file__).resolve().parents[1] / "resources" / "sb3-studio.svg"


def run(paths: list[str], startup_probe: bool = False) -> int:
    started = time.perf_counter()
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")  # Chromium refuses its sandbox as root
    from PySide6.QtCore import QCoreApplication, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)  # QtWebEngine needs it
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = make_window(app)
    for path in paths:
        window.open_model(path)
    window.show()
    if startup_probe:  # benchmarks/gui_startup.py: report when the window is up, then quit
        def report() -> None:
            print(f"window shown after {time.perf_counter() - started:.3f} s", flush=True)
            app.quit()

        QTimer.singleShot(0, report)
    return app.exec()


def make_window(app, settings=None):  # noqa: ANN001, ANN201 - QApplication, QSettings -> MainWindow
    """The application's look (focus ring, icon, style sheet) and its main window."""
    from PySide6.QtGui import QGuiApplication, QIcon

    from . import errors, focus_ring
    from .main_window import MainWindow

    app.setApplicationName("SB3 Studio")
    QGuiApplication.setDesktopFileName("sb3-studio")  # Wayland and docks match the window to the .desktop entry
    if ICON.is_file():
        app.setWindowIcon(QIcon(str(ICON)))
    focus_ring.install(app)
    app.setStyleSheet(STYLE)
    errors.install()
    return MainWindow(settings)
