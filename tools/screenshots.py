"""Screenshots of the real studio window under Xvfb, for the README, at full HD and at 1024x700.

Run: ``.venv/bin/python tools/screenshots.py [OUT_DIR]`` (needs Debian's xvfb and imagemagick). It
starts a virtual screen, opens the studio on the zoo sample with a file that is not a model, converts
the zoo's DQN CartPole, plays it, benchmarks it, opens a graph, and grabs the window at each step with
ImageMagick's ``import``; then does it all again in a 1024x700 window (into OUT_DIR/1024x700).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO.parent / "shared" / "zoo-sample"
sys.path.insert(0, str(REPO))
SIZES = {"full HD": (1920, 1080), "1024x700": (1024, 700)}


def start_display() -> subprocess.Popen | None:
    if os.environ.get("DISPLAY"):
        return None
    read, write = os.pipe()  # Xvfb picks a free display and writes its number here (others may run one too)
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(write,))
    os.close(write)
    with os.fdopen(read) as numbers:
        os.environ["DISPLAY"] = ":" + numbers.readline().strip()
    return xvfb


class Shooter:
    def __init__(self, app: Any, window: Any) -> None:
        self.app, self.window = app, window

    def wait(self, seconds: float, until: Callable[[], bool] | None = None) -> None:
        """Let the window work (a tool's own loop: the studio itself never spins like this)."""
        from PySide6.QtCore import QEventLoop

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            if until is not None and until():
                break
            time.sleep(0.02)

    def shot(self, path: Path) -> None:
        self.wait(0.6)
        width, height = self.window.width(), self.window.height()
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["import", "-window", "root", "-crop", f"{width}x{height}+0+0", "+repage", str(path)], check=True)
        print("wrote", path, flush=True)


def walk(shooter: Shooter, out: Path, first: bool) -> None:
    """Every screen of the README, in the window's current size."""
    window = shooter.window
    wait = shooter.wait
    dqn = window.session.find(ZOO / "dqn" / "CartPole-v1_1" / "CartPole-v1.zip")
    window.session.select(dqn)
    window.tabs.setCurrentWidget(window.pipeline_panel)
    shooter.shot(out / "01-browser.png")
    panel = window.pipeline_panel
    if first:
        panel.run()
        wait(1800, until=lambda: not window.pipeline.running)
    panel.stages.selectRow(panel.stages.names.index("verify-tflite-fp32"))
    panel.details.setCurrentWidget(panel.details.log)
    shooter.shot(out / "02-pipeline.png")
    panel.stages.selectRow(panel.stages.names.index("int8-repair"))  # brings the int8 diagnostics forward
    shooter.shot(out / "07-int8-diagnostics.png")
    rollouts = window.rollouts
    window.tabs.setCurrentWidget(rollouts)
    for name, box in rollouts.runtime_boxes.items():
        box.setChecked(name in ("sb3", "litert-fp32", "litert-int8", "litert-int8-plain"))
    rollouts.episodes.setValue(1)
    rollouts.speed.setValue(240)
    done: list[Any] = []
    window.rollouts_controller.summary.connect(done.append)
    rollouts.play()
    wait(120, until=lambda: bool(done))
    window.rollouts_controller.summary.disconnect(done.append)
    shooter.shot(out / "03-rollouts.png")
    bench = window.bench
    window.tabs.setCurrentWidget(bench)
    bench.calls.setValue(3000)
    bench.rounds.setValue(6)
    bench.run()
    wait(180, until=lambda: sum(len(v) for v in dqn.bench.samples.values()) > 6000)
    shooter.shot(out / "05-benchmark-live.png")
    wait(300, until=lambda: not window.bench_controller.running)
    shooter.shot(out / "06-benchmark.png")
    window.tabs.setCurrentWidget(window.graph_panel)
    graph = window.graph_panel
    graph.chooser.setCurrentIndex(graph.chooser.findText("TFLite int8 · policy_int8.tflite"))
    graph.show_chosen()
    wait(20)
    shooter.shot(out / "04-graph.png")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "screenshots"
    xvfb = start_display()
    data = Path(tempfile.mkdtemp(prefix="sb3-studio-shots-"))
    os.environ["XDG_DATA_HOME"] = str(data)  # a clean library and runs folder
    os.environ.pop("QT_QPA_PLATFORM", None)
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    import studio.core  # noqa: F401
    from PySide6.QtCore import QCoreApplication, QSettings, Qt
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication([])
    from studio.ui.app import make_window

    window = make_window(app, QSettings(str(data / "settings.ini"), QSettings.Format.IniFormat))
    window.move(0, 0)
    window.show()
    shooter = Shooter(app, window)
    window.open_model(ZOO)  # the whole zoo sample, as a user dropping the folder would
    bad = data / "notes.zip"
    bad.write_text("this is not a model")
    window.open_model(bad)
    shooter.wait(120, until=lambda: window.library.pending == 0)
    for index, (name, (width, height)) in enumerate(SIZES.items()):
        window.resize(width, height)
        shooter.wait(0.5)
        walk(shooter, out if index == 0 else out / name, first=index == 0)
    window.actions_.closing = True
    window.close()
    app.quit()
    shutil.rmtree(data, ignore_errors=True)
    if xvfb is not None:
        xvfb.terminate()
        os._exit(0)  # Qt's teardown at exit would talk to the X server just ended


if __name__ == "__main__":
    main()
