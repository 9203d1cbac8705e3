"""The benchmark tab: how long the UI thread can stall while every runtime is measured (target: at
most 50 ms). Converts the zoo's PPO CartPole if needed, presses the button, and times a 5 ms timer."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
MODEL = REPO.parent / "shared" / "zoo-sample" / "ppo" / "CartPole-v1_1" / "CartPole-v1.zip"


def main() -> None:
    if not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="sb3-studio-stall-")
    import studio.core  # noqa: F401
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from studio.core.library import run_dir_for
    from studio.core.pipeline.runner import execute
    from studio.core.pipeline.spec import ConvertSpec

    execute(ConvertSpec(model=MODEL, targets=["onnx", "tflite-fp32", "tflite-int8"], out=run_dir_for(MODEL), episodes=2),
            emit=lambda event: None)
    app = QApplication([])
    from studio.ui.main_window import MainWindow

    window = MainWindow(QSettings(str(Path(os.environ["XDG_DATA_HOME"]) / "s.ini"), QSettings.Format.IniFormat))
    window.show()
    window.open_model(MODEL)
    while window.library.pending:
        app.processEvents()
        time.sleep(0.01)
    panel = window.bench
    window.tabs.setCurrentWidget(panel)
    panel.calls.setValue(3000)
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    panel.run_button.click()
    start = time.perf_counter()
    last[0] = start
    timer.start()
    entry = window.session.selected
    while entry.bench.results is None or window.bench_controller.running:
        app.processEvents()
        time.sleep(0.002)
    timer.stop()
    seconds = time.perf_counter() - start
    window.close()
    samples = sum(len(v) for v in entry.bench.samples.values())
    print(f"benchmark of {len(entry.bench.samples)} runtimes, {samples} samples charted live, {seconds:.1f} s")
    print(f"longest UI stall: {max(gaps) * 1000:.1f} ms (median gap {sorted(gaps)[len(gaps) // 2] * 1000:.1f} ms); "
          "target: at most 50 ms")


if __name__ == "__main__":
    main()
