"""The studio as a new user meets it: two converted models and every tab following the selected one,
a restart that shows what was there, Play on a fresh tab, the keyboard alone, a 1024x700 window in
which every control is reachable and no text is cut (and the same at 200 % scaling), closing during a
conversion, exports that say what they hold, and actions that say why they did nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, ZOO_AGENTS

pytest.importorskip("PySide6")
from PySide6.QtCore import QRectF, QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QFileDialog, QFocusFrame, QLineEdit, QMessageBox  # noqa: E402

from gui_checks import layout_problems, visible_controls  # noqa: E402

pytestmark = pytest.mark.slow
RUN_NAMES = {"ppo": "ppo-CartPole-v1_1", "dqn": "dqn-CartPole-v1_1"}


@pytest.fixture(scope="module")
def runs_template(zoo_runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zoo's PPO and DQN converted to every format, and one real benchmark of DQN's runtimes."""
    from studio.core.bench.engine import BenchFinished, BenchOptions, run_bench
    from studio.core.bench.targets import targets_for_run
    from studio.core.loading import load_model
    from studio.core.observations import sample_observations
    from studio.core.session import RunRecord

    root = tmp_path_factory.mktemp("runs-template")
    for name, folder in RUN_NAMES.items():
        shutil.copytree(zoo_runs[name], root / folder)
    dqn = root / RUN_NAMES["dqn"]
    loaded = load_model(ZOO_AGENTS["dqn"])
    observations = sample_observations(loaded.observation_space, 64, 0, loaded.normalization).batch
    targets = targets_for_run(dqn, only=["sb3", "onnxruntime", "litert-int8", "edgetpu"])
    samples: dict[str, list[int]] = {}
    for event in run_bench(targets, observations, BenchOptions(calls=200, rounds=2)):
        if hasattr(event, "durations_ns"):
            samples.setdefault(event.runtime, []).extend(event.durations_ns)
        if isinstance(event, BenchFinished):
            RunRecord(dqn).save_bench(event.results, samples)
    return root


@pytest.fixture
def studio(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs_template: Path):  # noqa: ANN001, ANN201
    """Makes studio windows on one data folder (a second one is a restart); closes them all at the end."""
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    shutil.copytree(runs_template, data / "sb3-studio" / "runs")
    from studio.ui.main_window import MainWindow

    windows = []

    def make(size: tuple[int, int] = (1280, 800)) -> MainWindow:
        window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        qtbot.addWidget(window)
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.actions_.closing = True
        window.shutdown()


def open_both(qtbot, window) -> tuple:  # noqa: ANN001
    window.open_model(ZOO_AGENTS["ppo"])
    window.open_model(ZOO_AGENTS["dqn"])
    qtbot.waitUntil(lambda: window.library.pending == 0 and all(e.loaded for e in window.session.entries),
                    timeout=60_000)
    ppo, dqn = (window.session.find(ZOO_AGENTS[name]) for name in ("ppo", "dqn"))
    assert ppo.converted and dqn.converted
    return ppo, dqn


def select(qtbot, window, entry) -> None:  # noqa: ANN001
    window.browser.table.selectRow(window.browser.model.row_of(entry))
    assert window.session.selected is entry


def play_one_episode(qtbot, window, runtimes: tuple[str, ...] = ("sb3", "onnxruntime")) -> None:  # noqa: ANN001
    panel = window.rollouts
    for name, box in panel.runtime_boxes.items():
        box.setChecked(name in runtimes)
    panel.episodes.setValue(1)
    panel.speed.setValue(240)
    with qtbot.waitSignal(window.rollouts_controller.summary, timeout=120_000):
        assert panel.play()


def test_switching_models_switches_every_tab(qtbot, studio) -> None:  # noqa: ANN001
    window = studio()
    ppo, dqn = open_both(qtbot, window)
    assert window.session.selected is dqn  # the model opened last is selected
    play_one_episode(qtbot, window)
    assert len(window.rollouts.table.rows) == 2 and window.rollouts.panes

    select(qtbot, window, ppo)
    pipeline, rollouts, bench, graph = window.pipeline_panel, window.rollouts, window.bench, window.graph_panel
    assert pipeline.title.text().startswith("ppo/CartPole-v1_1") and "PPO" in pipeline.title.text()
    assert pipeline.stages.state is ppo.pipeline
    assert pipeline.stages.names == [s["name"] for s in ppo.run.manifest["stages"]]
    assert str(ppo.run_dir) in pipeline.status.text() and "dqn" not in pipeline.status.text()
    assert not rollouts.panes and rollouts.table.rowCount() == 0  # DQN's panes and results are not PPO's
    assert window.rollouts_controller.entry is None  # DQN's rollout was closed
    assert bench.charts.samples == {} and bench.table.rowCount() == 0
    assert not bench.export_button.isEnabled() and "Not measured yet" in bench.status.text()
    assert bench.run_button.isEnabled()  # converted: it can be measured
    graphs = [graph.chooser.itemData(i) for i in range(graph.chooser.count())]
    assert graphs and all(RUN_NAMES["ppo"] in str(path) for path in graphs)
    int8 = pipeline.details.int8  # the selected model's int8 diagnostics, whatever stage is selected
    mine = ppo.pipeline.manifest["artifacts"]["tflite_int8"]
    assert int8.artifacts["tflite_int8"] is mine and int8.tensors.rowCount() == len(mine["diagnostics"]["tensors"]) > 0

    select(qtbot, window, dqn)
    assert pipeline.title.text().startswith("dqn/CartPole-v1_1") and pipeline.stages.state is dqn.pipeline
    states = {name: stage.status for name, stage in dqn.pipeline.stages.items()}
    assert states["verify-tflite-int8"] == "measured" and states["int8-repair"] == "passed"
    assert rollouts.table.rowCount() == 2 and "Last rollout: 1 episode from seed 0" in rollouts.message.text()
    assert sorted(bench.charts.samples) == ["litert-int8", "onnxruntime", "sb3"]
    assert bench.table.rowCount() == 4 and bench.export_button.isEnabled()
    assert "Edge TPU (Coral): not available here" in bench.status.text()
    graphs = [graph.chooser.itemData(i) for i in range(graph.chooser.count())]
    assert all(RUN_NAMES["dqn"] in str(path) for path in graphs)
    assert {p.name for p in graphs} >= {"policy.onnx", "policy_int8.tflite", "policy_int8_plain.tflite"}
    assert int8.artifacts["tflite_int8"] is dqn.pipeline.manifest["artifacts"]["tflite_int8"]
    assert "tflite_int8_plain" in int8.artifacts and int8.chooser.isVisibleTo(int8)  # repaired: both, to choose
    pipeline.stages.selectRow(pipeline.stages.names.index("int8-repair"))
    assert pipeline.details.currentWidget() is int8  # an int8 stage brings them forward


def test_restart_restores_models_selection_and_results(qtbot, studio) -> None:  # noqa: ANN001
    first = studio()
    ppo, dqn = open_both(qtbot, first)
    select(qtbot, first, ppo)
    play_one_episode(qtbot, first)
    first.close()
    assert not first.isVisible()

    second = studio()
    session = second.session
    assert [e.path for e in session.entries] == [ZOO_AGENTS["ppo"], ZOO_AGENTS["dqn"]]
    entry = session.selected
    assert entry is not None and entry.path == ZOO_AGENTS["ppo"]
    # Before the models are even loaded again, the tabs show what the run folders hold.
    panel = second.pipeline_panel
    assert panel.stages.rowCount() == len(entry.run.manifest["stages"]) > 0
    assert panel.open_button.isEnabled() and panel.graph_button.isEnabled()
    assert second.rollouts.table.rowCount() == 2
    qtbot.waitUntil(lambda: second.library.pending == 0, timeout=60_000)
    select(qtbot, second, session.find(ZOO_AGENTS["dqn"]))
    assert second.bench.table.rowCount() == 4 and second.bench.charts.samples


def test_play_on_a_fresh_rollouts_tab_loads_and_plays(qtbot, studio) -> None:  # noqa: ANN001
    window = studio()
    open_both(qtbot, window)
    window.tabs.setCurrentWidget(window.rollouts)
    panel = window.rollouts
    assert not panel.panes and panel.play_button.isEnabled()
    with qtbot.waitSignal(window.rollouts_controller.playing_changed, timeout=60_000,
                          check_params_cb=lambda playing: playing):
        panel.play_button.click()  # no Reset first
        assert panel.message.text() == "Loading the runtimes and the environments…"
    assert panel.panes and panel.pause_button.isEnabled() and not panel.play_button.isEnabled()
    qtbot.waitUntil(lambda: "steps per second" in panel.rate_label.text(), timeout=10_000)
    with qtbot.waitSignal(window.rollouts_controller.playing_changed, timeout=10_000):
        panel.pause_button.click()


def press(qtbot, widget, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:  # noqa: ANN001
    QTest.keyClick(widget, key, modifier)


def focused() -> object:
    return QApplication.focusWidget()


def test_keyboard_alone_opens_converts_plays_and_benchmarks(qtbot, studio) -> None:  # noqa: ANN001
    from studio.ui import focus_ring

    focus_ring.install(QApplication.instance())
    window = studio()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    ctrl = Qt.KeyboardModifier.ControlModifier

    press(qtbot, window, Qt.Key.Key_O, ctrl)  # open
    dialog = window.actions_.dialog
    assert isinstance(dialog, QFileDialog) and dialog.isVisible()
    name = dialog.findChild(QLineEdit, "fileNameEdit")
    dialog.selectFile(str(ZOO_AGENTS["ppo"]))  # Qt's own dialog: what the user types or browses to lands here
    press(qtbot, name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session.selected is not None and window.session.selected.loaded, timeout=60_000)
    entry = window.session.selected
    assert entry.path == ZOO_AGENTS["ppo"] and not dialog.isVisible()
    window.activateWindow()  # what the window manager does when a dialog closes (offscreen has none)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)

    press(qtbot, window, Qt.Key.Key_L, ctrl)  # the model list has the focus; Tab leaves it at once
    assert focused() is window.browser.table
    press(qtbot, focused(), Qt.Key.Key_Tab)
    assert focused() is not window.browser.table
    frame = window.findChild(QFocusFrame)  # a visible ring around the control that has the focus
    assert frame is not None and frame.isVisible() and frame.widget() is focused()

    with qtbot.waitSignal(window.pipeline.finished, timeout=300_000) as finished:
        press(qtbot, focused(), Qt.Key.Key_R, ctrl)  # convert (every stage restored: nothing changed)
    assert finished.args[0].status == "passed" and window.tabs.currentWidget() is window.pipeline_panel

    with qtbot.waitSignal(window.rollouts_controller.playing_changed, timeout=60_000,
                          check_params_cb=lambda playing: playing):
        press(qtbot, focused(), Qt.Key.Key_Space, ctrl)  # play
    assert window.tabs.currentWidget() is window.rollouts and window.rollouts.panes
    with qtbot.waitSignal(window.rollouts_controller.playing_changed, timeout=10_000):
        press(qtbot, focused(), Qt.Key.Key_Space, ctrl)  # pause
    step = window.rollouts.panes["sb3"].state["step"]
    with qtbot.waitSignal(window.rollouts_controller.snapshot, timeout=10_000):
        press(qtbot, focused(), Qt.Key.Key_Right, ctrl)  # one step
    qtbot.waitUntil(lambda: window.rollouts.panes["sb3"].state["step"] == step + 1, timeout=5_000)

    window.bench.calls.setValue(200)
    press(qtbot, focused(), Qt.Key.Key_B, ctrl)  # benchmark
    assert window.bench_controller.running and window.tabs.currentWidget() is window.bench
    qtbot.waitUntil(lambda: not window.bench_controller.running, timeout=300_000)
    assert entry.bench.results is not None and entry.bench.samples
    press(qtbot, focused(), Qt.Key.Key_B, ctrl)  # again, and Esc cancels it
    qtbot.waitUntil(lambda: bool(entry.bench.ready), timeout=120_000)
    press(qtbot, focused(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.bench_controller.running, timeout=60_000)
    assert "Cancelled" in window.bench.status.text() or entry.bench.results is None


def test_tab_walks_controls_not_table_cells(qtbot, studio) -> None:  # noqa: ANN001
    window = studio()
    open_both(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    window.browser.table.setFocus()
    seen = []
    for _ in range(80):
        press(qtbot, focused(), Qt.Key.Key_Tab)
        seen.append(focused())
        if focused() is window.browser.table:
            break
    assert seen[-1] is window.browser.table, "Tab never came back to the model list"
    assert len(seen) > 5 and len(set(map(id, seen))) == len(seen)  # a cycle through distinct controls
    assert window.pipeline_panel.run_button in seen and window.tabs.tabBar() in seen
    assert window.session.selected is not None  # Tab and Ctrl+Tab never clear the selection
    press(qtbot, focused(), Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert window.session.selected is not None


def check_every_tab(qtbot, window) -> list[str]:  # noqa: ANN001
    problems = []
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        qtbot.wait(100)
        assert len(visible_controls(window)) > 5  # the check sees the tab's controls, not an empty window
        problems += [f"{window.tabs.tabText(index)}: {p}" for p in layout_problems(window)]
        assert (window.width(), window.height()) == (1024, 700), "the window resized itself"
    return problems


def test_1024x700_every_control_reachable_and_no_text_cut(qtbot, studio) -> None:  # noqa: ANN001
    window = studio((1920, 1080))
    ppo, dqn = open_both(qtbot, window)
    window.tabs.setCurrentWidget(window.rollouts)
    play_one_episode(qtbot, window, ("sb3", "litert-fp32", "litert-int8", "litert-int8-plain"))
    assert window.rollouts.grid.columns == 2  # full HD: two by two; then the window shrinks
    window.resize(1024, 700)
    qtbot.wait(200)
    assert check_every_tab(qtbot, window) == []
    window.tabs.setCurrentWidget(window.rollouts)
    for name, box in window.rollouts.runtime_boxes.items():
        box.setChecked(name not in ("litert-fp16", "edgetpu"))
    with qtbot.waitSignal(window.rollouts_controller.snapshot, timeout=60_000):
        window.rollouts.reset()  # five panes appear
    qtbot.wait(200)
    assert len(window.rollouts.panes) == 5 and layout_problems(window) == []
    play_one_episode(qtbot, window)  # the summary's rows appear: still 1024x700, every row on show
    qtbot.wait(200)
    assert layout_problems(window) == [] and (window.width(), window.height()) == (1024, 700)
    table = window.rollouts.table
    assert table.viewport().height() >= table.rowCount() * table.rowHeight(0)
    assert window.bench.charts.plots.height() >= 150 or not window.bench.charts.isVisible()
    window.tabs.setCurrentWidget(window.bench)
    qtbot.wait(100)
    charts = window.bench.charts
    assert charts.plots.height() >= 150  # the latency charts are readable
    view = QRectF(charts.plots.viewport().rect()).adjusted(-1, -1, 1, 1)
    for plot in (charts.timeline, charts.histogram, charts.bars):  # each whole, none a sliver
        box = plot.sceneBoundingRect()
        assert view.contains(box) and box.height() >= 140 and box.width() >= 120, (plot.titleLabel.text, box)
    select(qtbot, window, ppo)
    assert check_every_tab(qtbot, window) == []
    assert (window.width(), window.height()) == (1024, 700)


def test_200_percent_scaling_at_1024x700(tmp_path: Path, runs_template: Path) -> None:
    """The same check in a child process whose Qt scales everything by two."""
    data = tmp_path / "data"
    shutil.copytree(runs_template, data / "sb3-studio" / "runs")
    env = dict(os.environ, QT_SCALE_FACTOR="2", QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=str(data))
    out = subprocess.run([sys.executable, str(Path(__file__).parent / "layout_probe.py"), str(ZOO_AGENTS["dqn"])],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["ratio"] == 2.0 and report["size"] == [1024, 700]
    assert report["problems"] == []


def test_closing_during_a_conversion_asks_first(qtbot, studio, tmp_path: Path) -> None:  # noqa: ANN001
    window = studio()
    window.open_model(ZOO_AGENTS["sac"])
    qtbot.waitUntil(lambda: window.session.selected is not None and window.session.selected.loaded, timeout=60_000)
    assert window.pipeline_panel.run()
    qtbot.waitUntil(lambda: window.pipeline_panel.stages.state.stages["tflite"].status == "running", timeout=120_000)
    assert not window.close()  # not closed: it asks
    box = window.actions_.dialog
    assert isinstance(box, QMessageBox) and box.isVisible() and "being converted" in box.text()
    next(b for b in box.buttons() if b.text() == "Keep working").click()
    assert window.isVisible() and window.pipeline.running
    window.close()
    box = window.actions_.dialog
    next(b for b in box.buttons() if b.text() == "Stop and quit").click()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60_000)
    assert not window.pipeline.running
    run = window.session.selected.run_dir
    assert not list(run.glob("*.tflite")) and not list(run.glob(".work-*"))  # nothing half-written


def test_exports_say_what_they_hold(qtbot, studio, tmp_path: Path) -> None:  # noqa: ANN001
    from PySide6.QtGui import QColor, QImage

    window = studio()
    open_both(qtbot, window)
    bench = window.bench
    window.tabs.setCurrentWidget(bench)
    bench._ask("csv", bench.save_csv)
    dialog = bench.dialog
    dialog.selectFile(str(tmp_path / "results"))  # no extension typed
    dialog.accept()
    assert (tmp_path / "results.csv").is_file() and not (tmp_path / "results").exists()
    assert bench.status.text() == f"Saved the results table to {tmp_path / 'results.csv'}"
    assert f"Saved the results table to {tmp_path / 'results.csv'}" in window.log.toPlainText()
    bench.save_png(tmp_path / "chart.png")
    image = QImage(str(tmp_path / "chart.png"))
    ratio = bench.views.currentWidget().grab().devicePixelRatio()
    assert image.height() == int((bench.views.currentWidget().height() + 46) * ratio)
    strip = [QColor(image.pixel(x, y)).lightness() for x in range(0, 300) for y in range(4, 40)]
    assert min(strip) < 100  # the title is written above the chart
    assert bench._what()[0].startswith("dqn/CartPole-v1_1") and RUN_NAMES["dqn"] in bench._what()[1]


def test_actions_that_cannot_act_say_why(qtbot, studio, tmp_path: Path) -> None:  # noqa: ANN001
    window = studio()
    actions = window.actions_
    actions.convert()
    assert "Nothing to convert: select a model" in window.pipeline_panel.status.text()
    empty = tmp_path / "empty"
    empty.mkdir()
    actions.open_paths([empty])
    assert f"No models in {empty}" in window.statusBar().currentMessage()
    actions.cancel()
    assert window.statusBar().currentMessage() == "Nothing to cancel on this tab."
    window.open_model(ZOO_AGENTS["a2c"])  # not converted
    qtbot.waitUntil(lambda: window.session.selected is not None and window.session.selected.loaded, timeout=60_000)
    actions.benchmark()
    assert window.bench.status.text().startswith("Convert a2c/Pendulum-v1_1 first")
    assert "Convert" in window.bench.run_button.toolTip()


def test_a_tflite_file_opened_directly_is_described_and_viewable(qtbot, studio, tmp_path: Path) -> None:  # noqa: ANN001
    window = studio()
    tflite = Path(os.environ["XDG_DATA_HOME"]) / "sb3-studio" / "runs" / RUN_NAMES["dqn"] / "policy_int8.tflite"
    window.open_model(tflite)
    qtbot.waitUntil(lambda: window.library.pending == 0, timeout=30_000)
    entry = window.session.selected
    assert entry.path == tflite and entry.loaded and entry.details["ops"] == 5
    model = window.browser.model
    assert model.data(model.index(0, 1)) == "TFLite"  # not "loading…"
    assert window.graph_panel.chooser.count() == 1 and window.graph_panel.show_button.isEnabled()
    assert not window.pipeline_panel.run_button.isEnabled() and "only SB3 models" in window.pipeline_panel.run_button.toolTip()


def test_two_models_with_the_same_name_are_told_apart(qtbot, studio) -> None:  # noqa: ANN001
    window = studio()
    window.open_model(ZOO_AGENTS["ppo"])
    window.open_model(REPO / "resources" / "demo" / "ppo" / "CartPole-v1_1" / "CartPole-v1.zip")
    model = window.browser.model
    assert sorted(model.data(model.index(r, 0)) for r in range(2)) == [
        "ppo/CartPole-v1_1 (demo)", "ppo/CartPole-v1_1 (zoo-sample)"]


def test_the_layout_check_sees_cut_text_and_hidden_controls(qtbot) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

    window = QWidget()
    qtbot.addWidget(window)
    row = QHBoxLayout(window)
    squeezed = QPushButton("Copy as CLI command")
    squeezed.setFixedWidth(40)
    row.addWidget(squeezed)
    outside = QPushButton("Run", window)
    window.resize(200, 60)
    window.show()
    outside.move(190, 10)
    problems = layout_problems(window)
    assert any("Copy as CLI command" in p and "text cut" in p for p in problems)
    assert any("'Run'" in p and "outside the window" in p for p in problems)


def test_deploy_runtimes_play_side_by_side_with_one_name_per_tab(qtbot, studio, deploy_runs) -> None:  # noqa: ANN001
    """A run with the deployment targets: TorchScript, TFLite Micro and onnxruntime-web under Node play
    beside the original in the Rollouts tab, and both runtime tabs call every runtime the same."""
    window = studio()
    runs = Path(os.environ["XDG_DATA_HOME"]) / "sb3-studio" / "runs"
    shutil.rmtree(runs / RUN_NAMES["ppo"])
    shutil.copytree(deploy_runs["ppo"], runs / RUN_NAMES["ppo"])
    window.open_model(ZOO_AGENTS["ppo"])
    qtbot.waitUntil(lambda: window.library.pending == 0 and window.session.selected is not None
                    and window.session.selected.loaded, timeout=60_000)
    rollouts, bench = window.rollouts, window.bench
    window.tabs.setCurrentWidget(rollouts)
    offered = list(rollouts.runtime_boxes)
    assert offered[0] == "sb3" and {"torchscript", "tflite-micro", "ort-web", "litert-int8"} <= set(offered)
    words = {name: box.text() for name, box in rollouts.runtime_boxes.items()}
    assert words["torchscript"] == "TorchScript" and words["tflite-micro"] == "TFLite Micro"
    assert words["ort-web"] == "onnxruntime-web (Node)" and words["litert-int8"] == "LiteRT int8"
    assert {name: action.text() for name, action in bench.runtime_actions.items() if name in words} == \
        {name: text for name, text in words.items() if name in bench.runtime_actions}
    play_one_episode(qtbot, window, ("sb3", "torchscript", "tflite-micro", "ort-web"))
    rows = {row["runtime"]: row for row in rollouts.table.rows}
    assert set(rows) == {"sb3", "torchscript", "tflite-micro", "ort-web"}, rollouts.message.text()
    assert rows["torchscript"]["agreement_percent"] == rows["ort-web"]["agreement_percent"] == 100.0
    assert rows["tflite-micro"]["mean_return"] is not None and rows["tflite-micro"]["agreement_percent"] > 50
