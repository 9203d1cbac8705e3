"""Screenshots of the real studio window under Xvfb, for the README, at full HD and at 1024x700.

Run: ``.venv/bin/python tools/screenshots.py [OUT_DIR] [--device-only]`` (needs Debian's xvfb and
imagemagick). It starts a virtual screen, opens the studio on the zoo sample with a file that is not a
model, converts the zoo's DQN CartPole, plays it, benchmarks it, opens a graph, and grabs the window at
each step with ImageMagick's ``import``; then does it all again in a 1024x700 window (into
OUT_DIR/1024x700).

Then the device screens (``08-benchmark-device*``; ``--device-only`` takes just these): an OpenSSH
server on 127.0.0.1 (the tests' ``tests/sshd_server.py``, throwaway keys) stands in for a Raspberry Pi
named ``pi``, added with ``sb3-studio device add`` in a private config folder; the zoo's PPO CartPole is
converted with its device bundle, and the Benchmark tab measures it here and on ``pi``. Without
Debian's openssh-server these screens are skipped, and the tool says so.
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


PPO = ZOO / "ppo" / "CartPole-v1_1" / "CartPole-v1.zip"


def studio_cli(*args: str) -> None:
    subprocess.run(["nice", "-n", "10", sys.executable, "-m", "studio.cli", *args], check=True, cwd=REPO)


def start_device(data: Path) -> Any:
    """An sshd on 127.0.0.1 as the device ``pi`` (this machine, this Python), and PPO CartPole converted with
    its bundle; None, said aloud, when there is no OpenSSH server."""
    sys.path.insert(0, str(REPO / "tests"))
    from sshd_server import SSHD, SSHServer

    if not SSHD.is_file():
        print("skipped 08-benchmark-device: no OpenSSH server here (apt-get install -y openssh-server)", flush=True)
        return None
    from studio.core.library import run_dir_for

    os.environ["XDG_CONFIG_HOME"] = str(data / "config")  # the user's own devices stay untouched
    server = SSHServer(data / "sshd")
    server.start()
    studio_cli("device", "add", "pi", server.url, "--identity", str(server.user_key), "--python", sys.executable)
    studio_cli("device", "check", "pi", "--accept-new-host-key")
    studio_cli("convert", str(PPO), "--to", "all,bundle", "--out", str(run_dir_for(PPO)))
    return server


def device_walk(shooter: Shooter, out: Path, first: bool) -> None:
    """The Benchmark tab with the local runtimes and the device ``pi`` side by side."""
    window = shooter.window
    ppo = window.session.find(PPO)
    window.session.select(ppo)
    bench = window.bench
    window.tabs.setCurrentWidget(bench)
    if first:
        bench.devices.refresh()
        bench.devices.set_selected(["pi"])
        bench.calls.setValue(2000)
        bench.rounds.setValue(5)
        if not bench.run():
            raise SystemExit(f"the device benchmark did not start: {bench.status.text()}")
        shooter.wait(1200, until=lambda: ppo.bench.results is not None and not window.bench_controller.running)
        if ppo.bench.error is not None:
            raise SystemExit(f"the device benchmark failed: {ppo.bench.error}")
    bench.views.setCurrentWidget(bench.charts)
    shooter.shot(out / "08-benchmark-device.png")
    bench.views.setCurrentWidget(bench.table)
    shooter.shot(out / "08-benchmark-device-table.png")
    bench.views.setCurrentWidget(bench.charts)


def main() -> None:
    args = [arg for arg in sys.argv[1:] if arg != "--device-only"]
    device_only = len(args) < len(sys.argv) - 1
    if len(args) > 1 or any(arg.startswith("-") for arg in args):  # --help, or an unknown option: not a folder
        print(__doc__, file=sys.stderr)
        raise SystemExit(2)
    out = Path(args[0]) if args else REPO / "docs" / "screenshots"
    xvfb = start_display()
    data = Path(tempfile.mkdtemp(prefix="sb3-studio-shots-"))
    os.environ["XDG_DATA_HOME"] = str(data)  # a clean library and runs folder
    server, done = None, False
    try:
        server = start_device(data)
        shoot(data, out, server, device_only)
        done = True
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(data, ignore_errors=True)
        if xvfb is not None:
            xvfb.terminate()
            if done:  # (a failure goes on to its traceback)
                os._exit(0)  # Qt's teardown at exit would talk to the X server just ended


def shoot(data: Path, out: Path, server: Any, device_only: bool) -> None:
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
        if not device_only:
            walk(shooter, out if index == 0 else out / name, first=index == 0)
        if server is not None:
            device_walk(shooter, out if index == 0 else out / name, first=index == 0)
    window.actions_.closing = True
    window.close()
    app.quit()


if __name__ == "__main__":
    main()
