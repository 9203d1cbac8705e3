"""The benchmark tab: one button measures every runtime of the selected run while the charts fill;
results persist per run, compare with earlier ones, and export to PNG, CSV and JSON."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core.bench.engine import BenchFinished, RoundSamples, RuntimeNotAvailable, RuntimeReady

from .bench_charts import QtBenchCharts, QtSweepChart
from .bench_controller import BenchController, BenchRequest


class QtBenchPanel(QWidget):
    def __init__(self, controller: BenchController) -> None:
        super().__init__()
        self.controller = controller
        self.run_dir: Path | None = None
        self.results: dict[str, Any] | None = None
        self.received: dict[str, list[int]] = {}
        self.title = QLabel("Select a converted model to benchmark its runtimes.")
        self.title.setObjectName("title")
        self.calls = QSpinBox(minimum=10, maximum=1_000_000, value=2000, singleStep=500)
        self.rounds = QSpinBox(minimum=1, maximum=50, value=5)
        self.threads = QSpinBox(minimum=1, maximum=64, value=1)
        self.run_button = QPushButton("Benchmark every runtime")
        self.run_button.setObjectName("primary")
        self.cancel_button = QPushButton("Cancel")
        self.history = QComboBox()
        self.history.setMinimumWidth(220)
        self.export_png, self.export_csv, self.export_json = QPushButton("PNG…"), QPushButton("CSV…"), QPushButton("JSON…")
        self.load_sweep = QPushButton("Load sweep…")
        controls = QHBoxLayout()
        for label, widget in (("Calls", self.calls), ("Rounds", self.rounds), ("Threads", self.threads)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addWidget(self.run_button)
        controls.addWidget(self.cancel_button)
        controls.addStretch(1)
        second = QHBoxLayout()
        second.addWidget(QLabel("Compare with"))
        second.addWidget(self.history)
        second.addWidget(QLabel("Export"))
        for button in (self.export_png, self.export_csv, self.export_json, self.load_sweep):
            second.addWidget(button)
        second.addStretch(1)
        self.availability = QLabel("Each runtime is measured in its own process, in interleaved rounds.")
        self.availability.setWordWrap(True)
        self.availability.setTextFormat(Qt.TextFormat.RichText)
        self.charts = QtBenchCharts()
        self.sweep = QtSweepChart()
        self.views = QTabWidget()
        self.views.addTab(self.charts, "Latency")
        self.views.addTab(self.sweep, "Sweep")
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(controls)
        layout.addLayout(second)
        layout.addWidget(self.availability)
        layout.addWidget(self.views, 1)
        self.lines: dict[str, str] = {}
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(controller.cancel)
        self.history.currentIndexChanged.connect(self._compare)
        self.export_png.clicked.connect(lambda: self._ask("PNG image (*.png)", self.save_png))
        self.export_csv.clicked.connect(lambda: self._ask("CSV (*.csv)", self.save_csv))
        self.export_json.clicked.connect(lambda: self._ask("JSON (*.json)", self.save_json))
        self.load_sweep.clicked.connect(self._ask_sweep)
        controller.event.connect(self._on_event)
        controller.failed.connect(lambda text: self.availability.setText(f"<b>Benchmark failed:</b> {text}"))
        controller.running_changed.connect(self._update_buttons)
        self._update_buttons(False)

    def set_run(self, run_dir: Path | None, name: str = "") -> None:
        from studio.core.pipeline.run_folder import read_manifest

        manifest = read_manifest(run_dir) if run_dir else None
        self.run_dir = run_dir if manifest and "onnx" in manifest.get("artifacts", {}) else None
        self.title.setText(f"{name}: benchmark every runtime of {run_dir}" if self.run_dir
                           else "Convert the model first (Pipeline tab): the benchmark measures its artifacts.")
        self._load_history()
        self._update_buttons(self.controller.running)

    def _update_buttons(self, running: bool) -> None:
        self.run_button.setEnabled(self.run_dir is not None and not running)
        self.cancel_button.setEnabled(running)
        for button in (self.export_png, self.export_csv, self.export_json):
            button.setEnabled(self.results is not None and not running)

    def run(self) -> None:
        if self.run_dir is None:
            return
        self.charts.clear_all()
        self.received, self.lines, self.results = {}, {}, None
        self.availability.setText("Starting one process per runtime…")
        self.controller.start(BenchRequest(self.run_dir, self.calls.value(), self.rounds.value(), (1,), self.threads.value()))

    def _on_event(self, event: Any) -> None:
        if isinstance(event, RuntimeReady):
            self.lines[event.runtime] = f"<b>{event.runtime}</b>: loaded in {event.load_ms:.0f} ms"
        elif isinstance(event, RuntimeNotAvailable):
            label = "edgetpu (Coral)" if event.runtime == "edgetpu" else event.runtime
            self.lines[event.runtime] = (f"<b>{label}</b>: <span style='color:#c62828'>not available: "
                                         f"{event.reason}</span>; to install: {event.hint}")
        elif isinstance(event, RoundSamples):
            self.received.setdefault(event.runtime, []).extend(event.durations_ns)
            self.charts.add_samples(event.runtime, event.durations_ns)
        elif isinstance(event, BenchFinished):
            self.results = event.results
            self._persist(event.results)
            self.charts.show_results(event.results)
            for name, entry in event.results["runtimes"].items():
                stats = entry.get("batches", {}).get("1")
                if stats:
                    self.lines[name] = (f"<b>{name}</b>: p50 {stats['p50_us']:.1f} µs, p99 {stats['p99_us']:.1f} µs, "
                                        f"{stats.get('speedup_vs_sb3_p50', 0):.1f}× SB3")
        self.availability.setText("<br>".join(self.lines.values()))
        self._update_buttons(self.controller.running)

    def _history_dir(self) -> Path | None:
        return self.run_dir / "bench" / "history" if self.run_dir else None

    def _persist(self, results: dict[str, Any]) -> None:
        from studio.core.atomic import atomic_write_text
        from studio.core.bench import report

        assert self.run_dir is not None
        results = dict(results, run=str(self.run_dir), finished=time.strftime("%Y-%m-%d %H:%M:%S"))
        report.write(results, self.run_dir / "bench")
        history = self._history_dir()
        atomic_write_text(history / f"{time.strftime('%Y%m%d-%H%M%S')}.json", json.dumps(results, indent=2, default=str))
        self._load_history()

    def _load_history(self) -> None:
        self.history.blockSignals(True)
        self.history.clear()
        self.history.addItem("(nothing)", None)
        folder = self._history_dir()
        if folder and folder.is_dir():
            for path in sorted(folder.glob("*.json"), reverse=True):
                self.history.addItem(path.stem, path)
        self.history.blockSignals(False)

    def _compare(self) -> None:
        path = self.history.currentData()
        if self.results is None:
            if path is None:
                return
            self.results = json.loads(Path(path).read_text())
            self.charts.show_results(self.results)
            return
        earlier = json.loads(Path(path).read_text()) if path else None
        self.charts.show_results(self.results, earlier)

    def _ask(self, kind: str, save: Any) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export", "", kind)
        if path:
            save(Path(path))

    def save_png(self, path: Path) -> None:
        self.views.currentWidget().grab().save(str(path))

    def save_csv(self, path: Path) -> None:
        from studio.core.atomic import atomic_write_csv
        from studio.core.bench.report import rows

        assert self.results is not None
        atomic_write_csv(path, rows(self.results))

    def save_json(self, path: Path) -> None:
        from studio.core.atomic import atomic_write_text

        assert self.results is not None
        data = dict(self.results, samples_ns=self.received)
        atomic_write_text(path, json.dumps(data, indent=2, default=str))

    def _ask_sweep(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Sweep results", "", "Sweep (sweep.json)")
        if path:
            self.show_sweep(Path(path))

    def show_sweep(self, path: Path) -> None:
        self.sweep.show_rows(json.loads(path.read_text()))
        self.views.setCurrentWidget(self.sweep)
