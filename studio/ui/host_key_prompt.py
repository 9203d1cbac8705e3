"""First contact with a device: the user is asked, in the window, whether to trust its host key.

The question comes from a worker thread (the SSH connection is made off the UI thread); the answer
is given in the UI thread and handed back, so the worker waits without the window freezing.
"""

from __future__ import annotations

import threading
from typing import Callable

from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from studio.core.devices.host_keys import HostKeyQuestion


class _Reply:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.accepted = False


class QtHostKeyPrompt(QObject):
    """``ask`` may be called from any thread; ``answer`` (a dialog by default) runs in the UI thread."""

    _asked = Signal(object, object)

    def __init__(self, parent: QWidget | None = None,
                 answer: Callable[[HostKeyQuestion], bool] | None = None) -> None:
        super().__init__(parent)
        self._window = parent
        self.answer = answer or self._dialog
        self._asked.connect(self._on_asked, Qt.ConnectionType.QueuedConnection)

    def ask(self, question: HostKeyQuestion, cancel: threading.Event | None = None) -> bool:
        if cancel is not None and cancel.is_set():
            return False
        if QThread.currentThread() == self.thread():
            return bool(self.answer(question))
        reply = _Reply()
        self._asked.emit(question, reply)
        while not reply.done.wait(0.1):
            if cancel is not None and cancel.is_set():
                return False
        return reply.accepted

    @Slot(object, object)
    def _on_asked(self, question: HostKeyQuestion, reply: _Reply) -> None:
        try:
            reply.accepted = bool(self.answer(question))
        finally:
            reply.done.set()

    def _dialog(self, question: HostKeyQuestion) -> bool:
        text = (f"This is the first contact with the device {question.device} ({question.host}).\n\n"
                f"Its {question.key_type} host key is\n{question.fingerprint}\n\n"
                "Compare it with the key the device shows (on the device: ssh-keygen -lf "
                "/etc/ssh/ssh_host_ed25519_key.pub). Trust this key and remember it?")
        buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
        chosen = QMessageBox.question(self._window, "A new device", text, buttons, QMessageBox.StandardButton.No)
        return chosen == QMessageBox.StandardButton.Yes
