"""A focus ring that can be seen: a 2-pixel ring in the highlight colour around the widget that has the
keyboard focus, shown once the keyboard is used (like a browser's ``:focus-visible``), hidden on a click.

One :class:`QFocusFrame` follows the focus; :class:`FocusStyle` draws it, whatever the platform style.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QRectF, Qt
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
    """Install once per application: ``install(app)``.

    The ring follows focus that moves without the mouse (Tab, a shortcut, a window opening) and hides
    when a click moves it: a click shows by itself where it went. (No application-wide event filter:
    a Python filter that sees every event of QtWebEngine's widgets crashes it.)
    """

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.frame: QFocusFrame | None = None
        app.focusChanged.connect(self._on_focus)

    def _hide(self) -> None:
        if self.frame is not None and isValid(self.frame):
            self.frame.setWidget(None)
            self.frame.hide()

    def _on_focus(self, old: QWidget | None, new: QWidget | None) -> None:
        clicked = QApplication.mouseButtons() != Qt.MouseButton.NoButton
        if clicked or new is None or new.window() is new or not new.isVisible() or _in_web_view(new):
            self._hide()
            return
        if self.frame is None or not isValid(self.frame) or self.frame.window() is not new.window():
            self.frame = QFocusFrame(new.window())
        self.frame.setWidget(new)
        self.frame.show()


def _in_web_view(widget: QWidget) -> bool:
    """Netron's page draws its own focus; its widgets are QtWebEngine's to manage."""
    while widget is not None:
        if widget.metaObject().className() == "QWebEngineView":
            return True
        widget = widget.parentWidget()
    return False


def install(app: QApplication) -> FocusRing:
    """The focus style and ring, once per application."""
    ring = app.findChild(FocusRing)
    if ring is None:
        base = QStyleFactory.create("Fusion") or app.style()
        app.setStyle(FocusStyle(base))
        ring = FocusRing(app)
    return ring
