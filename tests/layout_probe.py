"""Run by test_gui_session at 200 % scaling (QT_SCALE_FACTOR=2 must be set before Qt starts, so in a
child process): open a converted model in a 1024x700 window, visit every tab, print what is cut."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import studio.core  # noqa: E402,F401 - before SB3, as in the tests

from PySide6.QtCore import QEventLoop, QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui_checks import layout_problems  # noqa: E402


def main() -> None:
    app = QApplication([])
    from studio.ui.main_window import MainWindow

    window = MainWindow(QSettings(str(Path.cwd() / "probe.ini"), QSettings.Format.IniFormat))
    window.resize(1024, 700)
    window.show()

    def settle(seconds: float, until=lambda: False) -> None:  # noqa: ANN001 - a test helper's own loop
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not until():
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)

    window.open_model(sys.argv[1])
    settle(120, lambda: window.library.pending == 0)
    settle(0.3)
    problems = []
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        settle(0.2)
        problems += [f"{window.tabs.tabText(index)}: {p}" for p in layout_problems(window)]
    report = {"ratio": window.devicePixelRatio(), "size": [window.width(), window.height()], "problems": problems}
    window.shutdown()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
