"""The studio window, offscreen: drop models, run stages to the end, cancel, errors, graph view."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from conftest import ZOO_AGENTS

pytest.importorskip("PySide6")
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QGuiApplication  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from studio.core.pipeline.events import RunFinished, StageLog  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    from studio.ui.main_window import MainWindow

    win = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.shutdown()


def drop(window, *paths: Path) -> None:  # noqa: ANN001
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    where = QPoint(400, 300)
    actions = Qt.DropAction.CopyAction
    for event in (
        QDragEnterEvent(where, actions, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier),
        QDragMoveEvent(where, actions, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier),
        QDropEvent(QPointF(where), actions, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier),
    ):
        QApplication.sendEvent(window, event)


def loaded(qtbot, window, count: int) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: len(window.browser.model.entries) == count and window.library.pending == 0, timeout=60_000)


def select_formats(window, *keys: str) -> None:  # noqa: ANN001
    for key, box in window.pipeline_panel.options.formats.items():
        box.setChecked(key in keys)


def set_output(window, folder: Path) -> None:  # noqa: ANN001
    """Type an output folder for the selected model, as a user would (the field applies when edited)."""
    output = window.pipeline_panel.options.output
    output.setText(str(folder))
    output.editingFinished.emit()


def statuses(panel) -> dict[str, str]:  # noqa: ANN001
    return {name: stage.status for name, stage in panel.stages.state.stages.items()}


def test_drop_a_zoo_model_and_see_what_it_is(qtbot, window) -> None:  # noqa: ANN001
    drop(window, ZOO_AGENTS["dqn"])
    loaded(qtbot, window, 1)
    model = window.browser.model
    assert [model.data(model.index(0, c)) for c in range(7)] == [
        "dqn/CartPole-v1_1", "DQN", "not converted", "CartPole-v1", "Box(4,)", "Discrete(2)", "135,172"]
    assert window.session.selected is window.session.entries[0]  # a newly opened model is selected
    assert "Algorithm      DQN" in window.browser.details.toPlainText()
    assert window.pipeline_panel.run_button.isEnabled()


def test_a_bad_file_shows_its_error(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    bad = tmp_path / "holiday.zip"
    bad.write_text("not a model")
    drop(window, bad, ZOO_AGENTS["ppo"])
    loaded(qtbot, window, 2)
    entries = {e.path.name: e for e in window.browser.model.entries}
    assert "not a zip file" in entries["holiday.zip"].error
    window.browser.table.selectRow(0)
    assert "This file cannot be used" in window.browser.details.toPlainText()
    assert not window.pipeline_panel.run_button.isEnabled()
    assert "cannot read" in window.log.toPlainText()


def test_drop_a_zoo_folder_finds_every_agent(qtbot, window) -> None:  # noqa: ANN001
    zoo = ZOO_AGENTS["ppo"].parents[2]
    agents = sorted(zoo.glob("*/*/*.zip"))
    drop(window, zoo)
    loaded(qtbot, window, len(agents))
    assert sorted(e.info["algorithm"] for e in window.browser.model.entries) == sorted(
        path.parts[-3].upper() for path in agents)


def test_run_onnx_and_tflite_stages_to_the_end(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    drop(window, ZOO_AGENTS["ppo"])
    loaded(qtbot, window, 1)
    panel = window.pipeline_panel
    select_formats(window, "onnx", "tflite-fp32", "tflite-int8")
    panel.options.episodes.setValue(3)
    set_output(window, tmp_path / "run")
    assert panel.command().startswith(f"sb3-studio convert {ZOO_AGENTS['ppo']} --to onnx,tflite-fp32,tflite-int8")
    with qtbot.waitSignal(window.pipeline.finished, timeout=120_000) as finished:
        panel.run_button.click()
        assert panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
    assert isinstance(finished.args[0], RunFinished) and finished.args[0].status == "passed"
    # int8 is measured by its verification (no green "passed" at any agreement) and judged by the repair.
    assert statuses(panel) == {"load": "passed", "observations": "passed", "onnx": "passed", "tflite": "passed",
                               "verify-tflite-fp32": "passed", "verify-tflite-int8": "measured",
                               "int8-repair": "passed", "edgetpu-readiness": "passed"}
    int8_row = panel.stages.names.index("verify-tflite-int8")
    assert panel.stages.item(int8_row, 4).text().startswith("measured; judged after repair: ")
    assert (tmp_path / "run" / "policy_int8.tflite").is_file()
    panel.stages.selectRow(panel.stages.names.index("edgetpu-readiness"))
    assert panel.details.ops.rowCount() == 7 and panel.details.ops.item(6, 0).text().endswith("ARG_MAX")
    assert window.browser.model.data(window.browser.model.index(0, 2)) == "ONNX ✓  fp32 ✓  int8 ✓"
    log = window.log.toPlainText()
    assert "[tflite]" in log and "cuDNN" not in log and "E0000" not in log  # TensorFlow's noise stays out
    QGuiApplication.clipboard().clear()
    panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == panel.command()


def test_cancel_mid_stage_leaves_no_partial_artifacts(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    drop(window, ZOO_AGENTS["sac"])
    loaded(qtbot, window, 1)
    panel = window.pipeline_panel
    set_output(window, tmp_path / "run")

    def cancel_when_onnx2tf_works(event: object) -> None:
        if isinstance(event, StageLog) and event.stage == "tflite":
            panel.cancel_button.click()

    window.pipeline.event.connect(cancel_when_onnx2tf_works)
    with qtbot.waitSignal(window.pipeline.finished, timeout=120_000) as finished:
        panel.run_button.click()
    assert finished.args[0].status == "cancelled"
    assert statuses(panel)["tflite"] == "cancelled" and statuses(panel)["verify-tflite-fp32"] == "not run"
    run = tmp_path / "run"
    assert not list(run.glob("*.tflite")) and not (run / "saved_model").exists() and not list(run.glob(".work-*"))
    assert (run / "policy.onnx").is_file()  # the ONNX stage had finished: a whole, verified artifact


def test_a_failed_stage_shows_the_error_in_plain_words(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    drop(window, ZOO_AGENTS["a2c"])
    loaded(qtbot, window, 1)
    panel = window.pipeline_panel
    select_formats(window, "onnx")
    panel.options.max_error.setText("1e-12")
    set_output(window, tmp_path / "run")
    with qtbot.waitSignal(window.pipeline.finished, timeout=60_000):
        panel.run_button.click()
    assert statuses(panel)["onnx"] == "failed"
    assert "verification failed" in panel.stages.item(panel.stages.names.index("onnx"), 4).text()
    panel.stages.selectRow(panel.stages.names.index("onnx"))
    assert "Traceback" in panel.details.error.toPlainText()
    assert panel.status.text().startswith("Run failed")


def test_graph_view_shows_an_artifact_offline(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    from studio.core.pipeline.runner import execute
    from studio.core.pipeline.spec import ConvertSpec

    execute(ConvertSpec(model=ZOO_AGENTS["dqn"], targets=["onnx"], out=tmp_path / "run"), emit=lambda e: None)
    onnx = tmp_path / "run" / "policy.onnx"
    with qtbot.waitSignal(window.graph.loaded, timeout=60_000) as page:
        window.show_graph(onnx)
    assert page.args == [True] and window.graph.url.startswith("http://127.0.0.1:")
    texts: list[str] = []

    def read_page() -> bool:
        window.graph.view.page().runJavaScript("document.body.innerText + ' ' + document.body.innerHTML.length",
                                               0, texts.append)
        return any("Gemm" in t or "ArgMax" in t for t in texts)

    qtbot.waitUntil(read_page, timeout=30_000)
    blocked = window.graph.interceptor.blocked
    # Netron 9.3.3 reports to an analytics service on load: that request must have been stopped here.
    assert any("analytics" in url for url in blocked)
    assert all(QUrl(url).host() not in ("127.0.0.1", "localhost") for url in blocked)


def test_models_saved_into_the_watched_folder_appear(qtbot, window) -> None:  # noqa: ANN001
    folder = window.watcher.folder
    assert folder is not None and folder.is_dir()
    shutil.copy(ZOO_AGENTS["qrdqn"], folder / "acrobot.zip")
    qtbot.waitUntil(lambda: any(e.path.name == "acrobot.zip" for e in window.browser.model.entries), timeout=10_000)
    assert window.session.selected is not None  # nothing was selected: the first model found is


def test_unexpected_errors_reach_a_dialog(qtbot, window) -> None:  # noqa: ANN001
    from studio.ui import errors

    relay = errors.install()
    try:
        raise ValueError("something nobody expected")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    qtbot.waitUntil(lambda: hasattr(relay, "last"), timeout=5_000)
    assert relay.last[0] == "ValueError: something nobody expected" and "Traceback" in relay.last[1]
    sys.excepthook = sys.__excepthook__


def test_rollout_viewer_plays_runtimes_side_by_side_and_records(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    from studio.core.library import run_dir_for
    from studio.core.pipeline.runner import execute
    from studio.core.pipeline.spec import ConvertSpec

    run = run_dir_for(ZOO_AGENTS["ppo"])
    execute(ConvertSpec(model=ZOO_AGENTS["ppo"], targets=["onnx", "tflite-fp32", "tflite-int8"], out=run, episodes=2),
            emit=lambda e: None)
    drop(window, ZOO_AGENTS["ppo"])
    loaded(qtbot, window, 1)
    panel = window.rollouts
    window.tabs.setCurrentWidget(panel)
    assert sorted(panel.runtime_boxes) == ["edgetpu", "litert-fp32", "litert-int8", "onnxruntime", "sb3"]
    panel.runtime_boxes["edgetpu"].setChecked(True)  # ticked, but it cannot run here: it must say so
    panel.episodes.setValue(1)
    panel.speed.setValue(240)
    panel.record.setChecked(True)
    with qtbot.waitSignal(window.rollouts_controller.snapshot, timeout=60_000):
        panel.reset_button.click()
    assert sorted(panel.panes) == ["litert-fp32", "litert-int8", "onnxruntime", "sb3"]
    assert "Edge TPU (Coral) is not shown" in panel.message.text() and "libedgetpu" in panel.message.text()
    assert not panel.runtime_boxes["edgetpu"].isEnabled()
    with qtbot.waitSignal(window.rollouts_controller.recorded, timeout=120_000) as recorded:
        panel.play_button.click()
    qtbot.waitUntil(lambda: len(panel.table.rows) == 4, timeout=10_000)
    rows = {row["runtime"]: row for row in panel.table.rows}
    assert rows["sb3"]["mean_return"] == 500.0 and rows["litert-fp32"]["score"] == pytest.approx(1.0)
    assert rows["onnxruntime"]["agreement_percent"] == 100.0
    assert panel.table.rowCount() == 4
    path, frames = recorded.args[0]
    assert frames == 501 and path.is_file() and path.parent == run / "rollouts"  # the first frame and one per step
    assert panel.panes["sb3"].state["step"] == 500
    assert "steps per second" in panel.rate_label.text()
    assert f"recorded to {path}" in panel.message.text()  # the recording says where it went
    entry = window.session.selected
    assert entry.rollout.recording == path
    kept = entry.run.rollouts()[0]  # kept in the run folder, with the rate it played at
    assert kept["recording"] == str(path) and kept["fps"]["measured"] > 0 and len(kept["rows"]) == 4


def test_benchmark_tab_charts_the_engine_samples_and_exports_them(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    import json

    import numpy as np

    from studio.core.library import run_dir_for
    from studio.core.pipeline.runner import execute
    from studio.core.pipeline.spec import ConvertSpec

    run = run_dir_for(ZOO_AGENTS["ppo"])
    execute(ConvertSpec(model=ZOO_AGENTS["ppo"], targets=["onnx", "tflite-fp32"], out=run, episodes=2),
            emit=lambda e: None)
    drop(window, ZOO_AGENTS["ppo"])
    loaded(qtbot, window, 1)
    panel = window.bench
    window.tabs.setCurrentWidget(panel)
    assert panel.run_button.isEnabled()
    panel.calls.setValue(200)
    panel.rounds.setValue(2)
    panel.run_button.click()
    entry = window.session.selected
    qtbot.waitUntil(lambda: entry.bench.results is not None and not window.bench_controller.running, timeout=120_000)
    charts = panel.charts
    charts._redraw()
    samples = entry.bench.samples
    assert sorted(samples) == ["litert-fp32", "onnxruntime", "sb3", "torch"]
    for name, values in samples.items():
        assert charts.samples[name] == values  # every sample the engine produced reached the chart
        assert entry.bench.results["runtimes"][name]["batches"]["1"]["calls"] == len(values) == 200
        np.testing.assert_allclose(charts.curves[name].yData, np.asarray(values) / 1e3)  # unlogged data
    text = panel.status.text()
    assert "Edge TPU (Coral): not available here" in text and "libedgetpu" in panel.status.toolTip()
    assert "harness overhead" in text
    ticks = charts.bars.getAxis("left")._tickLevels[0]  # the names on the bars' axis carry p50 / p99
    assert any(label.startswith("ONNX Runtime  ") and " / " in label for _, label in ticks)
    panel.save_png(tmp_path / "charts.png")
    panel.save_csv(tmp_path / "bench.csv")
    panel.save_json(tmp_path / "bench.json")
    assert (tmp_path / "charts.png").stat().st_size > 5_000
    assert panel.status.text() == f"Saved the results and every sample to {tmp_path / 'bench.json'}"
    csv_lines = (tmp_path / "bench.csv").read_text().splitlines()
    assert csv_lines[0].startswith("runtime,") and sum(line.startswith("litert-fp32,") for line in csv_lines) == 1
    assert "ppo/CartPole-v1_1" in csv_lines[1]  # every row names the model it measured
    exported = json.loads((tmp_path / "bench.json").read_text())
    assert exported["samples_ns"] == samples and exported["model"] == str(ZOO_AGENTS["ppo"])
    assert (run / "bench" / "bench.json").is_file() and len(list((run / "bench" / "history").glob("*.json"))) == 1
    assert panel.history.count() == 1  # "(nothing)": the run just made is the one on show
    panel.calls.setValue(100)
    panel.run_button.click()
    qtbot.waitUntil(lambda: not window.bench_controller.running, timeout=120_000)
    assert panel.history.count() == 2
    panel.history.setCurrentIndex(1)  # compare with the first: faint bars beside the current ones
    assert "earlier run" in charts.bars.titleLabel.text


def test_sweep_view_plots_latency_against_size(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    import json

    rows = [{"width": w, "depth": 2, "acting_parameters": p, "runtime": r, "batch": 1, "p50_us": v, "p99_us": v * 2}
            for (w, p) in ((64, 4482), (1024, 1054722)) for r, v in (("sb3", 100.0 + p / 1e4), ("litert-int8", 3.0 + p / 5e4))]
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(rows))
    window.bench.show_sweep(path)
    items = window.bench.sweep.listDataItems()
    assert sorted(item.name() for item in items) == ["LiteRT int8", "SB3 (original)"]
    sb3 = next(item for item in items if item.name() == "SB3 (original)")
    assert list(sb3.xData) == [4482, 1054722] and sb3.yData[1] > sb3.yData[0]


def test_families_show_their_graph_inputs_and_play_side_by_side(qtbot, window) -> None:  # noqa: ANN001
    """RecurrentPPO, MaskablePPO, CrossQ and a CNN agent in the browser like any model: the description
    names the extra graph inputs; the masked agent plays side by side with its ONNX graph, masks carried."""
    from studio.core.library import run_dir_for
    from studio.core.pipeline.runner import execute
    from studio.core.pipeline.spec import ConvertSpec

    agents = Path(__file__).parent / "data" / "agents"
    paths = sorted(agents.glob("*/*/*.zip"))
    masked = agents / "ppo_mask/WallGrid-v0_1/WallGrid-v0.zip"
    execute(ConvertSpec(model=masked, targets=["onnx"], out=run_dir_for(masked), episodes=2), emit=lambda e: None)
    drop(window, *paths)
    loaded(qtbot, window, 4)
    model = window.browser.model
    rows = {model.data(model.index(r, 1)): r for r in range(4)}
    assert sorted(rows) == ["CrossQ", "MaskablePPO", "PPO", "RecurrentPPO"]
    window.browser.table.selectRow(rows["RecurrentPPO"])
    qtbot.waitUntil(lambda: "lstm_state_in [2x1x1x32]" in window.browser.details.toPlainText(), timeout=10_000)
    window.browser.table.selectRow(rows["MaskablePPO"])
    qtbot.waitUntil(lambda: "action_mask [4]" in window.browser.details.toPlainText(), timeout=10_000)
    panel = window.rollouts
    window.tabs.setCurrentWidget(panel)
    panel.episodes.setValue(3)
    panel.speed.setValue(240)
    for name, box in panel.runtime_boxes.items():
        box.setChecked(name in ("sb3", "onnxruntime"))
    with qtbot.waitSignal(window.rollouts_controller.snapshot, timeout=60_000):
        panel.reset_button.click()
    with qtbot.waitSignal(window.rollouts_controller.summary, timeout=120_000):
        panel.play_button.click()
    qtbot.waitUntil(lambda: len(panel.table.rows) == 2, timeout=10_000)
    summary = {row["runtime"]: row for row in panel.table.rows}
    assert summary["onnxruntime"]["agreement_percent"] == 100.0
    assert summary["onnxruntime"]["mean_return"] == summary["sb3"]["mean_return"]
    assert summary["onnxruntime"]["score"] == pytest.approx(1.0)  # against random play among allowed moves
