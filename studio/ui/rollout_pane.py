"""One runtime's pane in the rollout viewer: the frame, scaled to the room it has, under its labels."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QLayout, QSizePolicy, QVBoxLayout, QWidget

from studio.core.labels import runtime_label


class QtFrameView(QWidget):
    """Draws an RGB frame as large as fits, keeping its aspect; never asks for more room than 80x60."""

    def __init__(self) -> None:
        super().__init__()
        self.image: QImage | None = None
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(60, 40)

    def set_frame(self, frame: np.ndarray) -> None:
        frame = np.ascontiguousarray(frame)
        height, width = frame.shape[:2]
        self.image = QImage(frame.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(240, 160)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        if self.image is None:
            return
        size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        rect = QRect(0, 0, size.width(), size.height())
        rect.moveCenter(self.rect().center())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(rect, self.image)


class QtRolloutPane(QFrame):
    def __init__(self, runtime: str) -> None:
        super().__init__()
        self.runtime = runtime
        self.state: dict[str, Any] = {}
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.image = QtFrameView()
        self.text = QLabel(runtime_label(runtime))
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.text)
        layout.addWidget(self.image, 1)

    def show_state(self, state: dict[str, Any]) -> None:
        frame = state["frame"]
        if frame is not None:
            self.image.set_frame(frame if not state["done"] else (frame * 0.55).astype(np.uint8))
        self.text.setText("<br>".join(pane_lines(self.runtime, state)))
        self.state = state


def pane_lines(runtime: str, state: dict[str, Any]) -> list[str]:
    """Three short lines: who and where, what it did, and how it compares with the original."""
    action = np.asarray(state["action"]).round(3).tolist() if state["action"] is not None else "–"
    episode = state["episode"] + (0 if state.get("finished") else 1)
    second = f"return {state['return']:.1f} · action {action}"
    if runtime == "sb3":
        third = "the original"
    else:
        second += f" · diff {state['difference']:.3g}"
        departed = state["first_departure"]
        third = (f"<span style='color:#c62828'>departed at step {departed}</span>" if departed is not None
                 else "<span style='color:#1a7f37'>acts as the original</span>")
    if state["done"] or state["diverged_at"] is not None:
        third += f" · <i>{state['status']}</i>"
    return [f"<b>{runtime_label(runtime)}</b> · ep {episode} · step {state['step']}", second, third]


class QtPaneGrid(QWidget):
    """The panes in as many columns as make their frames largest in the room there is."""

    def __init__(self, aspect: float = 1.5, text_height: int = 64) -> None:
        super().__init__()
        self.panes: list[QWidget] = []
        self.aspect, self.text_height = aspect, text_height
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        # The grid's own minimum (its current rows) must not become the window's: that made the window grow
        # when the panes of a full-HD window were shown at 1024x700. minimumSizeHint says what one row needs.
        self.grid.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.columns = 1

    def set_panes(self, panes: list[QWidget]) -> None:
        for pane in self.panes:
            self.grid.removeWidget(pane)
            pane.setParent(None)
            pane.deleteLater()
        self.panes = panes
        self.columns = 0
        self._arrange()

    def best_columns(self, width: int, height: int) -> int:
        count = len(self.panes)
        if count == 0:
            return 1

        def frame_width(columns: int) -> float:
            rows = -(-count // columns)
            cell_w = width / columns
            text = max(self.text_height, max(p.heightForWidth(int(cell_w)) for p in self.panes) - 40)
            cell_h = height / rows - text
            return min(cell_w, max(0.0, cell_h) * self.aspect)

        return max(range(1, count + 1), key=frame_width)

    def _arrange(self) -> None:
        columns = self.best_columns(self.width(), self.height())
        if columns == self.columns:
            return
        self.columns = columns
        for pane in self.panes:
            self.grid.removeWidget(pane)
        for index, pane in enumerate(self.panes):
            self.grid.addWidget(pane, index // columns, index % columns)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """The room the panes need side by side in one row: the least any arrangement needs."""
        if not self.panes:
            return QSize(0, 0)
        width = max(60, self.width() // len(self.panes))
        heights = [p.heightForWidth(width) if p.hasHeightForWidth() else -1 for p in self.panes]
        return QSize(60 * len(self.panes), max(h if h > 0 else p.minimumSizeHint().height()
                                                for h, p in zip(heights, self.panes)))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._arrange()
