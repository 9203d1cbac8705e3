"""Unexpected exceptions anywhere (UI thread or workers) end in a dialog with the traceback."""

from __future__ import annotations

import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox


class _Relay(QObject):
    """Carries a traceback from any thread to the GUI thread."""

    raised = Signal(str, str)

    @Slot(str, str)
    def show(self, title: str, details: str) -> None:
        box = QMessageBox(QApplication.activeWindow())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("SB3 Studio: unexpected error")
        box.setText(title)
        box.setInformativeText("The studio is still running. The details below help to report the problem.")
        box.setDetailedText(details)
        box.open()
        self.last = (title, details)


_relay: _Relay | None = None


def install() -> _Relay:
    """Route ``sys.excepthook`` and ``threading.excepthook`` to an error dialog."""
    global _relay
    _relay = _Relay()
    _relay.raised.connect(_relay.show)

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        details = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(details)
        if _relay is not None:
            _relay.raised.emit(f"{kind.__name__}: {value}", details)

    sys.excepthook = hook
    threading.excepthook = lambda args: hook(args.exc_type, args.exc_value, args.exc_traceback)  # type: ignore[arg-type]
    return _relay
