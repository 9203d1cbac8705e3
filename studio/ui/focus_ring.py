"""A focus ring that can be seen: a 2-pixel ring in the highlight colour around the widget that has the
keyboard focus, shown once the keyboard is used (like a browser's ``:focus-visible``), hidden on a click.

One :class:`QFocusFrame` follows the focus; :class:`FocusStyle` draws it, whatever the platform style.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QApplication, QFocusFrame, QProxyStyle, QStyle, QStyleFactory, QWidget
from shiboken6 import isValid

RING = "#1565c0"
MARGIN = 3


class FocusStyle(QProxyStyle):
    def drawControl(self, element, option, painter, widget=None) -> None:  # noqa: ANN001, N802 - Qt's name
        if element == QStyle.ControlElement.CE_FocusFrame:
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(QColor(RING), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(option.rect).adjusted(1, 1, -1, -1), 3, 3)
            painter.restore()
            return
        super().drawControl(element, option, painter, widget)

    def pixelMetric(self, metric, option=None, widget=None) -> int:  # noqa: ANN001, N802
        if metric in (QStyle.PixelMetric.PM_FocusFrameHMargin, QStyle.PixelMetric.PM_FocusFrameVMargin):
            return MARGIN
        return super().pixelMetric(metric, option, widget)


class FocusRing(QObject):
    """Install once per application: ``FocusRing(app)``."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.frame: QFocusFrame | None = None
        self.keyboard = False
        app.installEventFilter(self)
        app.focusChanged.connect(self._on_focus)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if kind == QEvent.Type.KeyPress and not self.keyboard:
            self.keyboard = True
            self._on_focus(None, QApplication.focusWidget())
        elif kind == QEvent.Type.MouseButtonPress and self.keyboard:
            self.keyboard = False
            self._hide()
        return False

    def _hide(self) -> None:
        if self.frame is not None and isValid(self.frame):
            self.frame.setWidget(None)
            self.frame.hide()

    def _on_focus(self, old: QWidget | None, new: QWidget | None) -> None:
        if not self.keyboard or new is None or new.window() is new:
            self._hide()
            return
        if self.frame is None or not isValid(self.frame) or self.frame.window() is not new.window():
            self.frame = QFocusFrame(new.window())
        self.frame.setWidget(new)
        self.frame.show()


def install(app: QApplication) -> FocusRing:
    base = QStyleFactory.create("Fusion") or app.style()
    app.setStyle(FocusStyle(base))
    return FocusRing(app)
