"""The window's side of devices, offscreen: the device picker, and the host key question asked from a
worker thread and answered in the UI thread."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QThread  # noqa: E402
from sshd_server import sshd  # noqa: E402,F401 - the fixture

from studio.core.devices.host_keys import HostKeyQuestion  # noqa: E402
from studio.core.devices.store import Device, DeviceStore  # noqa: E402

QUESTION = HostKeyQuestion("pi", "[127.0.0.1]:2222", "ssh-ed25519", "SHA256:abc")


def test_device_picker_lists_and_selects(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QStyle

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
    # Its size leaves room for the text and the menu arrow beside it (a QToolButton's drew over "pi").
    style, metric = picker.style(), QStyle.PixelMetric
    room = (picker.fontMetrics().horizontalAdvance(picker.text())
            + style.pixelMetric(metric.PM_MenuButtonIndicator, None, picker)
            + style.pixelMetric(metric.PM_ButtonMargin, None, picker))
    assert picker.sizeHint().width() >= room, (picker.sizeHint().width(), room)
    store.remove("pi")
    picker.refresh()  # the menu is rebuilt each time it opens: a removed device is no longer picked
    assert picker.selected() == [] and picker.text() == "Devices: none"
    store.path.write_text("{ damaged")
    picker.refresh()
    assert "not valid JSON" in picker.menu().actions()[0].text()


def test_host_key_question_from_a_worker_thread(qtbot) -> None:  # noqa: ANN001
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


@pytest.mark.slow
def test_benchmark_tab_runs_the_bundle_on_a_device(qtbot, sshd, tmp_path: Path,  # noqa: ANN001, F811
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Bench on a device from the window: the picker, the host key asked in the UI thread on first contact,
    the device's rows beside the local ones in the tab and in the run folder; no bundle: it says why."""
    import json
    import sys

    from conftest import ZOO_AGENTS
    from PySide6.QtCore import QSettings
    from test_gui import drop, loaded

    from studio.core.devices.store import parse_url
    from studio.core.library import run_dir_for
    from studio.core.pipeline.runner import execute
    from studio.core.pipeline.spec import ConvertSpec
    from studio.ui.main_window import MainWindow

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    run = run_dir_for(ZOO_AGENTS["ppo"])
    assert execute(ConvertSpec(model=ZOO_AGENTS["ppo"], targets=["tflite-fp32", "tflite-int8", "bundle"], out=run,
                               episodes=3, samples=200, rollout_steps=200, calibration_steps=200),
                   emit=lambda e: None).status == "passed"
    user, host, port = parse_url(sshd.url)
    DeviceStore().add(Device("here", host, user, port, str(sshd.user_key), sys.executable))  # never checked: no key yet
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    asked: list[tuple[str, bool]] = []
    window.host_keys.answer = lambda q: asked.append((q.device, QThread.currentThread() == window.thread())) or True
    try:
        drop(window, ZOO_AGENTS["ppo"])
        loaded(qtbot, window, 1)
        panel, entry = window.bench, window.session.selected
        window.tabs.setCurrentWidget(panel)
        panel.devices.refresh()
        panel.devices.set_selected(["here"])
        assert panel.devices.text() == "Devices: here"
        for name, action in panel.runtime_actions.items():
            action.setChecked(name == "litert-int8")
        panel.calls.setValue(200)
        panel.rounds.setValue(2)
        manifest = run / "bundle" / "manifest.json"
        manifest.rename(tmp_path / "manifest.json")  # no bundle: the tab says why and starts nothing
        assert not panel.run() and "no device bundle to run on here" in panel.status.text()
        (tmp_path / "manifest.json").rename(manifest)
        assert panel.run()
        qtbot.waitUntil(lambda: entry.bench.results is not None and not window.bench_controller.running, timeout=300_000)
        assert entry.bench.error is None, entry.bench.error
        runtimes = entry.bench.results["runtimes"]
        assert set(runtimes) == {"litert-int8", "here:litert-fp32", "here:litert-int8"}  # no Edge TPU model: no row
        mine = runtimes["here:litert-int8"]
        assert mine["available"] and mine["status"] == "passed" and mine["batches"]["1"]["calls"] == 200
        assert asked == [("here", True)]  # first contact: asked once, in the window's thread
        kept = json.loads((run / "bench" / "bench.json").read_text())
        assert kept["runtimes"]["here:litert-int8"]["device"] == "here"
        ticks = [label for _, label in panel.charts.bars.getAxis("left")._tickLevels[0]]
        assert any(label.startswith("here: LiteRT int8  ") for label in ticks), ticks
        assert "3 runtimes measured" in panel.status.text()
    finally:
        window.shutdown()
