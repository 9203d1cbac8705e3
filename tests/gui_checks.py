"""Checks of a window's layout that a person would make by eye: every control lies inside the window and
is not hidden behind its parent's edge (scrolled areas excepted: scrolling reaches them), and no text is
cut (a button or one-line label gets at least the width its text asks for, a wrapped label the height,
a header section its title's width). Used by the GUI tests and by a child process at 200 % scaling."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QTabBar,
    QWidget,
)

CONTROLS = (QAbstractButton, QLabel, QComboBox, QAbstractSpinBox, QLineEdit, QProgressBar)


def _name(widget: QWidget) -> str:
    text = widget.text() if hasattr(widget, "text") and callable(widget.text) else ""
    return f"{type(widget).__name__}({str(text)[:40]!r})"


def _rect_in(widget: QWidget, window: QWidget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def _scroll_area(widget: QWidget) -> QAbstractScrollArea | None:
    """The scrolled area ``widget`` is in (reachable by scrolling it, wherever it is now), if any."""
    parent = widget.parentWidget()
    while parent is not None:
        area = parent.parentWidget()
        if isinstance(area, QAbstractScrollArea) and parent is area.viewport():
            return area
        parent = area
    return None


def _beyond_unscrolled_side(widget: QWidget, area: QAbstractScrollArea, window: QWidget) -> bool:
    """Past the left or right edge of a scrolled area that cannot scroll sideways: never reachable."""
    if area.horizontalScrollBarPolicy() != Qt.ScrollBarPolicy.ScrollBarAlwaysOff:
        return False
    rect, view = _rect_in(widget, window), _rect_in(area.viewport(), window)
    return rect.left() < view.left() - 1 or rect.right() > view.right() + 1


def _clipped_by(widget: QWidget, window: QWidget) -> QWidget | None:
    """The first ancestor whose area does not hold ``widget`` (None: nothing hides any of it)."""
    rect = _rect_in(widget, window)
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if not _rect_in(parent, window).adjusted(-1, -1, 1, 1).contains(rect):
            return parent
        parent = parent.parentWidget()
    return None


def _text_cut(widget: QWidget) -> str | None:
    if isinstance(widget, QLabel):
        if not widget.text():
            return None
        if hasattr(widget, "elided"):
            return "elided" if widget.elided() else None
        if widget.wordWrap():
            need = widget.heightForWidth(widget.width())
            return f"needs {need} px of height, has {widget.height()}" if need > widget.height() + 1 else None
        need = widget.sizeHint().width()
        return f"needs {need} px, has {widget.width()}" if need > widget.width() + 1 else None
    if isinstance(widget, QAbstractButton) and widget.text():
        need = widget.sizeHint().width()
        return f"needs {need} px, has {widget.width()}" if need > widget.width() + 1 else None
    if isinstance(widget, QComboBox):
        need = widget.minimumSizeHint().width()
        return f"needs {need} px, has {widget.width()}" if need > widget.width() + 1 else None
    return None


def _headers(window: QWidget) -> list[str]:
    problems = []
    for header in window.findChildren(QHeaderView):
        if not header.isVisibleTo(window) or header.orientation().name != "Horizontal":
            continue
        model = header.model()
        for section in range(header.count()):
            if header.isSectionHidden(section):
                continue
            text = str(model.headerData(section, header.orientation()) or "")
            need = header.fontMetrics().horizontalAdvance(text) + 8
            if need > header.sectionSize(section):
                problems.append(f"header {text!r} needs {need} px, has {header.sectionSize(section)}")
    return problems


def visible_controls(window: QWidget) -> list[QWidget]:
    return [w for w in window.findChildren(QWidget) if isinstance(w, CONTROLS) and w.isVisibleTo(window)
            and not isinstance(w.parentWidget(), QTabBar)]


def layout_problems(window: QWidget) -> list[str]:
    """Everything on show in ``window`` that a person would see as cut, hidden or out of the window."""
    problems = []
    outer = window.rect()
    for widget in visible_controls(window):
        rect = _rect_in(widget, window)
        area = _scroll_area(widget)
        if area is not None and _beyond_unscrolled_side(widget, area, window):
            problems.append(f"{_name(widget)} is cut by the side of a scrolled area: {rect.getRect()}")
        if area is None:
            if not outer.contains(rect):
                problems.append(f"{_name(widget)} lies outside the window: {rect.getRect()}")
                continue
            parent = _clipped_by(widget, window)
            if parent is not None:
                problems.append(f"{_name(widget)} is cut by {type(parent).__name__}: {rect.getRect()}")
        cut = _text_cut(widget)
        if cut:
            problems.append(f"{_name(widget)}: text cut ({cut})")
    return problems + _headers(window)
