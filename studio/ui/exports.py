"""Exports that say what they hold: a file dialog that adds the extension the user left out, PNGs with
the model and run written above the chart, and a confirmation of every file written."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QFileDialog, QWidget

KINDS = {"png": "PNG image (*.png)", "csv": "CSV table (*.csv)", "json": "JSON (*.json)"}


def with_suffix(path: Path, suffix: str) -> Path:
    """``path`` with ``.suffix`` added when the user typed a name without it."""
    return path if path.suffix.lower() == f".{suffix}" else path.with_name(path.name + f".{suffix}")


def ask_save(parent: QWidget, kind: str, default: Path, chosen: Callable[[Path], None]) -> QFileDialog:
    """A save dialog (opened, not run: the window stays live) that calls ``chosen(path)`` with the
    extension added when missing."""
    dialog = QFileDialog(parent, f"Export {kind.upper()}", str(default), KINDS[kind])
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setDefaultSuffix(kind)
    dialog.selectFile(str(default))
    dialog.fileSelected.connect(lambda name: chosen(with_suffix(Path(name), kind)))
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def titled_image(widget: QWidget, title: str, subtitle: str) -> QImage:
    """The widget as drawn on screen, under a strip naming what it shows."""
    shot = widget.grab()
    ratio = shot.devicePixelRatio()
    width, height, strip = widget.width(), widget.height(), 46  # logical pixels
    image = QImage(int(width * ratio), int((height + strip) * ratio), QImage.Format.Format_RGB32)
    image.setDevicePixelRatio(ratio)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    left = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    for text, top, size, bold, colour in ((title, 4, 15, True, "#111"), (subtitle, 24, 12, False, "#444")):
        font = QFont(widget.font())
        font.setPixelSize(size)
        font.setBold(bold)
        painter.setFont(font)
        painter.setPen(QColor(colour))
        painter.drawText(QRect(8, top, width - 16, 20), left, text)
    painter.drawPixmap(0, strip, shot)
    painter.end()
    return image
