"""The rollout viewer: frame rate of four CartPole-v1 panes, and the UI thread's longest stall.

Opens the real window (offscreen when there is no display), converts the zoo's PPO CartPole if needed,
plays four panes (SB3, ONNX Runtime, LiteRT float32, LiteRT int8) for ``--seconds`` at the asked rate,
and measures the frames that arrived and the longest gap between ticks of a 5 ms timer in the UI
thread (a stall is what a user feels as a frozen window). Target: at least 30 frames per second and no
stall over 50 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
MODEL = REPO.parent / "shared" / "zoo-sample" / "ppo" / "CartPole-v1_1" / "CartPole-v1.zip"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="sb3-studio-fps-")
    import studio.core  # noqa: F401
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from studio.core.library import run_dir_for
    from studio.core.pipeline.runner import execute
    from studio.core.pipeline.spec import ConvertSpec

    run = run_dir_for(MODEL)
    execute(ConvertSpec(model=MODEL, targets=["onnx", "tflite-fp32", "tflite-int8"], out=run, episodes=2),
            emit=lambda event: None)
    app = QApplication([])
    from studio.ui.main_window import MainWindow

    window = MainWindow(QSettings(str(Path(os.environ["XDG_DATA_HOME"]) / "s.ini"), QSettings.Format.IniFormat))
    window.show()
    window.open_model(MODEL)
    deadline = time.monotonic() + 60
    while window.library.pending and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    panel = window.rollouts
    window.tabs.setCurrentWidget(panel)
    for name, box in panel.runtime_boxes.items():
        box.setChecked(name in ("sb3", "onnxruntime", "litert-fp32", "litert-int8"))
    panel.episodes.setValue(100)  # more than fit in the measurement: it never runs out
    panel.speed.setValue(args.fps)
    frames: list[float] = []
    gaps: list[float] = []
    last = [time.perf_counter()]

    stalls: list[tuple[float, float]] = []

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        if gaps[-1] > 0.05:
            stalls.append((now - start, gaps[-1]))
        last[0] = now

    window.rollouts_controller.snapshot.connect(lambda _: frames.append(time.perf_counter()))
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    panel.reset_button.click()
    while not frames:
        app.processEvents()
        time.sleep(0.005)
    panel.play_button.click()
    start = time.perf_counter()
    last[0] = start
    timer.start()
    frames.clear()
    while time.perf_counter() - start < args.seconds:
        app.processEvents()
        time.sleep(0.002)
    timer.stop()
    window.close()
    rate = len(frames) / (frames[-1] - frames[0]) if len(frames) > 1 else 0.0
    print(f"panes: {sorted(panel.panes)}")
    print(f"asked {args.fps} frames per second; achieved {rate:.1f} over {args.seconds:.0f} s ({len(frames)} frames)")
    print("stalls over 50 ms (at second, length ms): " + ", ".join(f"{t:.2f}: {g * 1000:.0f}" for t, g in stalls))
    print(f"longest UI stall (gap between 5 ms timer ticks): {max(gaps) * 1000:.1f} ms; "
          f"median gap {sorted(gaps)[len(gaps) // 2] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
