"""Record side-by-side rollouts to MP4 with each pane's labels burnt in (OpenCV, already installed
with onnx2tf)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .rollout import LockstepRollout, Pane

LABEL_HEIGHT = 58


def _label(pane: Pane) -> list[str]:
    action = np.asarray(pane.action).round(3).tolist() if pane.action is not None else "-"
    lines = [f"{pane.runtime}  ep {pane.episode + (0 if pane.finished else 1)}  step {pane.step}",
             f"return {pane.episode_return:.1f}  action {action}"]
    if pane.runtime != "sb3":
        mark = f"departed at {pane.first_departure}" if pane.first_departure is not None else "same as original"
        lines[1] += f"  diff {pane.action_difference:.3g}"
        lines.append(pane.status() if pane.done or pane.diverged_at is not None else mark)
    else:
        lines.append(pane.status())
    return lines


def compose(panes: list[Pane], width: int = 300) -> np.ndarray:
    """One RGB frame: the panes side by side, each under its label strip."""
    import cv2

    tiles = []
    for pane in panes:
        frame = pane.frame if pane.frame is not None else np.zeros((200, width, 3), np.uint8)
        height = int(frame.shape[0] * width / frame.shape[1])
        frame = cv2.resize(np.ascontiguousarray(frame), (width, height), interpolation=cv2.INTER_AREA)
        if pane.done:
            frame = (frame * 0.55).astype(np.uint8)  # an ended episode waits, dimmed
        strip = np.full((LABEL_HEIGHT, width, 3), 255, np.uint8)
        for row, text in enumerate(_label(pane)):
            colour = (200, 40, 40) if pane.first_departure is not None and row == 2 else (20, 20, 20)
            cv2.putText(strip, text, (4, 16 + 18 * row), cv2.FONT_HERSHEY_SIMPLEX, 0.38, colour, 1, cv2.LINE_AA)
        tiles.append(np.vstack([strip, frame]))
    tallest = max(t.shape[0] for t in tiles)
    tiles = [np.vstack([t, np.full((tallest - t.shape[0], width, 3), 255, np.uint8)]) for t in tiles]
    return np.hstack(tiles)


class Recorder:
    """Writes composed frames to an MP4 file, atomically (a temporary file renamed when closed)."""

    def __init__(self, path: Path, fps: float = 30.0) -> None:
        self.path = Path(path)
        self.fps = fps
        self.tmp = self.path.with_name(f".{self.path.name}.partial.mp4")
        self.writer: Any = None
        self.frames = 0

    def add(self, frame: np.ndarray) -> None:
        import cv2

        if self.writer is None:
            height, width = frame.shape[:2]
            self.writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (width, height))
            if not self.writer.isOpened():
                raise OSError(f"{self.path}: OpenCV cannot write MP4 here")
        self.writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> Path:
        if self.writer is not None:
            self.writer.release()
            self.tmp.replace(self.path)
        return self.path

    def discard(self) -> None:
        if self.writer is not None:
            self.writer.release()
        self.tmp.unlink(missing_ok=True)


def record(rollout: LockstepRollout, path: Path, max_steps: int = 10_000, fps: float = 30.0) -> int:
    """Play ``rollout`` to its end (or ``max_steps``) into ``path``; returns the number of frames."""
    recorder = Recorder(path, fps)
    try:
        recorder.add(compose(rollout.panes))
        for _ in range(max_steps):
            if rollout.finished:
                break
            rollout.step()
            recorder.add(compose(rollout.panes))
    except BaseException:
        recorder.discard()
        raise
    recorder.close()
    return recorder.frames
