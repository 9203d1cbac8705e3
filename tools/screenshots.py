"""Screenshots of the real studio window under Xvfb, for the README.

Run: ``.venv/bin/python tools/screenshots.py [OUT_DIR]`` (needs Debian's xvfb and imagemagick). It
starts a virtual screen, opens the studio with real RL Zoo agents, runs a full conversion, opens the
graph view, and grabs the whole screen at each step with ImageMagick's ``import``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO.parent / "shared" / "zoo-sample"
sys.path.insert(0, str(REPO))


def start_display() -> subprocess.Popen | None:
    if os.environ.get("DISPLAY"):
        return None
    display = ":97"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1480x920x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["DISPLAY"] = display
    time.sleep(1.0)
    return xvfb


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    xvfb = start_display()
    data = Path(tempfile.mkdtemp(prefix="sb3-studio-shots-"))
    os.environ["XDG_DATA_HOME"] = str(data)  # a clean library and runs folder
    os.environ.pop("QT_QPA_PLATFORM", None)
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    import studio.core  # noqa: F401
    from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings, Qt
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication([])
    from studio.ui.app import STYLE
    from studio.ui.main_window import MainWindow

    app.setStyleSheet(STYLE)
    window = MainWindow(QSettings(str(data / "settings.ini"), QSettings.Format.IniFormat))
    window.move(0, 0)
    window.resize(1480, 920)
    window.show()

    def wait(seconds: float, until: object = None) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            if until is not None and until():
                break
            time.sleep(0.02)

    def shot(name: str) -> None:
        wait(0.5)
        subprocess.run(["import", "-window", "root", str(out / f"{name}.png")], check=True)
        print("wrote", out / f"{name}.png")

    window.open_model(ZOO)  # the whole zoo sample, as a user dropping the folder would
    bad = data / "notes.zip"
    bad.write_text("this is not a model")
    window.open_model(bad)
    wait(60, until=lambda: window.library.pending == 0)
    window.browser.table.selectRow([i for i, e in enumerate(window.browser.model.entries)
                                    if "dqn" in str(e.path)][0])
    shot("01-browser")
    panel = window.pipeline_panel
    panel.run()
    wait(120, until=lambda: not window.pipeline.running)
    readiness = list(panel.stages.rows).index("edgetpu-readiness")
    panel.stages.selectRow(readiness)
    shot("02-pipeline")
    rollouts = window.rollouts
    window.tabs.setCurrentWidget(rollouts)
    for name, box in rollouts.runtime_boxes.items():
        box.setChecked(name in ("sb3", "litert-fp32", "litert-int8", "litert-int8-plain"))
    rollouts.episodes.setValue(1)
    rollouts.speed.setValue(240)
    done = []
    window.rollouts_controller.summary.connect(done.append)
    rollouts.reset_button.click()
    wait(30, until=lambda: bool(rollouts.panes))
    rollouts.play_button.click()
    wait(60, until=lambda: bool(done))
    shot("03-rollouts")
    bench = window.bench
    window.tabs.setCurrentWidget(bench)
    bench.calls.setValue(3000)
    bench.rounds.setValue(6)
    bench.run_button.click()
    wait(60, until=lambda: sum(len(v) for v in bench.received.values()) > 4000)
    shot("05-benchmark-live")
    wait(120, until=lambda: bench.results is not None and not window.bench_controller.running)
    shot("06-benchmark")
    window.tabs.setCurrentWidget(panel)
    panel.graph_button.click()
    wait(20, until=lambda: False)
    shot("04-graph")
    window.close()
    app.quit()
    if xvfb is not None:
        xvfb.terminate()
    shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
