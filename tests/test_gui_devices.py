"""The window's side of devices, offscreen: the device picker, and the host key question asked from a
worker thread and answered in the UI thread."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from studio.core.devices.host_keys import HostKeyQuestion  # noqa: E402
from studio.core.devices.store import Device, DeviceStore  # noqa: E402

QUESTION = HostKeyQuestion("pi", "[127.0.0.1]:2222", "ssh-ed25519", "SHA256:abc")


def test_device_picker_lists_and_selects(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    from studio.ui.device_picker import NO_DEVICES, QtDevicePicker

    store = DeviceStore(tmp_path / "config")
    picker = QtDevicePicker(lambda: store)
    qtbot.addWidget(picker)
    assert [a.text() for a in picker.menu().actions()] == [NO_DEVICES] and picker.text() == "Devices: none"
    store.add(Device("pi", "raspberrypi.local", "pi"))
    store.add(Device("x86", "buildbox", "me", compile_host=True))
    store.record_check("pi", {"coral": True, "edgetpu_delegate": True})
    picker.refresh()
    texts = [a.text() for a in picker.menu().actions()]
    assert texts == ["pi  (ssh://pi@raspberrypi.local, Coral)", "x86  (ssh://me@buildbox, compile host)"]
    with qtbot.waitSignal(picker.changed):
        picker.menu().actions()[0].setChecked(True)
    assert picker.selected() == ["pi"] and picker.text() == "Devices: pi"
    store.remove("pi")
    picker.refresh()  # the menu is rebuilt each time it opens: a removed device is no longer picked
    assert picker.selected() == [] and picker.text() == "Devices: none"
    store.path.write_text("{ damaged")
    picker.refresh()
    assert "not valid JSON" in picker.menu().actions()[0].text()


def test_host_key_question_from_a_worker_thread(qtbot) -> None:  # noqa: ANN001
    from PySide6.QtCore import QThread

    from studio.ui.host_key_prompt import QtHostKeyPrompt

    asked: list[tuple[HostKeyQuestion, bool]] = []

    def answer(question: HostKeyQuestion) -> bool:
        asked.append((question, QThread.currentThread() == prompt.thread()))
        return True

    prompt = QtHostKeyPrompt(answer=answer)
    replies: list[bool] = []
    worker = threading.Thread(target=lambda: replies.append(prompt.ask(QUESTION)))
    worker.start()
    qtbot.waitUntil(lambda: bool(replies), timeout=5000)
    worker.join()
    assert replies == [True] and asked == [(QUESTION, True)]  # answered in the UI thread
    # The run is cancelled while the question is open (the dialog's own event loop runs meanwhile):
    # the worker stops waiting and takes it as a no.
    cancel = threading.Event()
    slow = QtHostKeyPrompt(answer=lambda q: cancel.set() or qtbot.wait(1000) or True)
    worker = threading.Thread(target=lambda: replies.append(slow.ask(QUESTION, cancel)))
    worker.start()
    qtbot.waitUntil(lambda: len(replies) == 2, timeout=5000)
    worker.join()
    assert replies == [True, False]
