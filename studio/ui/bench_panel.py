"""The Benchmark tab: one button measures the selected model's runtimes while the charts fill; results
are kept in its run folder, compared with earlier ones, and exported to PNG, CSV and JSON."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QFileDialog, QMenu, QProgressBar, QPushButton, QSpinBox, QTabWidget, QVBoxLayout

from studio.core.labels import runtime_label
from studio.core.session import ModelEntry, Session

from .bench_charts import QtBenchCharts
from .bench_controller import BenchController, BenchRequest
from .bench_sweep import QtSweepChart
from .bench_table import QtBenchTable
from .device_picker import QtDevicePicker
from .elided_label import QtElidedLabel, QtNote
from .entry_view import EntryView
from .exports import ask_save, titled_image
from .flow_layout import FlowLayout, labelled


class QtBenchPanel(EntryView):
    """Signals ``said(str)``: a line for the log (exports written, why an action did nothing)."""

    said = Signal(str)

    def __init__(self, session: Session, controller: BenchController) -> None:
        super().__init__(session, ("bench", "run", "described"))
        self.controller = controller
        self.title = QtElidedLabel("Select a converted model to benchmark its runtimes.")
        self.title.setObjectName("title")
        self.calls = QSpinBox(minimum=10, maximum=1_000_000, value=2000, singleStep=500)
        self.rounds = QSpinBox(minimum=1, maximum=50, value=5)
        self.threads = QSpinBox(minimum=1, maximum=64, value=1)
        self.run_button = QPushButton("Benchmark")
        self.run_button.setObjectName("primary")
        self.run_button.setToolTip("Measure every ticked runtime, each in its own process (Ctrl+B)")
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(160)
        self.runtimes_button = QPushButton("Runtimes")
        self.runtimes_menu = QMenu(self.runtimes_button)
        self.runtimes_button.setMenu(self.runtimes_menu)
        self.runtime_actions: dict[str, QAction] = {}
        self.devices = QtDevicePicker()
        self.devices.setToolTip("After the local runtimes, run the run's device bundle on these devices over SSH "
                                "(Raspberry Pi, Coral); their rows join the results")
        self.history = QComboBox()
        self.history.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.history.setToolTip("Show an earlier benchmark of this run beside the current one")
        self.export_button = QPushButton("Export")
        export_menu = QMenu(self.export_button)
        self.export_png = export_menu.addAction("Chart on show as PNG…")
        self.export_csv = export_menu.addAction("Results table as CSV…")
        self.export_json = export_menu.addAction("Results and every sample as JSON…")
        self.export_button.setMenu(export_menu)
        self.status = QtNote()
        self.charts, self.table, self.sweep = QtBenchCharts(), QtBenchTable(), QtSweepChart()
        self.views = QTabWidget()
        self.views.addTab(self.charts, "Latency")
        self.views.addTab(self.table, "Table")
        self.views.addTab(self.sweep, "Sweep")
        self._layout()
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.history.currentIndexChanged.connect(self._compare)
        self.export_png.triggered.connect(lambda: self._ask("png", self.save_png))
        self.export_csv.triggered.connect(lambda: self._ask("csv", self.save_csv))
        self.export_json.triggered.connect(lambda: self._ask("json", self.save_json))
        self.sweep.load_button.clicked.connect(self._ask_sweep)
        controller.failed.connect(lambda text: self._say(f"Benchmark failed: {text}"))
        controller.running_changed.connect(lambda running: self._refresh())
        self.show_entry(session.selected)

    def _layout(self) -> None:
        controls = FlowLayout()
        controls.addWidgets(labelled("Calls", self.calls), labelled("Rounds", self.rounds), labelled("Threads", self.threads),
                            self.runtimes_button, self.devices, self.run_button, self.cancel_button, self.progress,
                            labelled("Compare with", self.history), self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.views, 1)

    # The selected model ---------------------------------------------------------------------------
    def _on_entry(self, entry: ModelEntry | None) -> None:
        self._build_runtimes()
        self._load_history()
        self.charts.show_state(entry.bench if entry is not None else None)
        self.table.show_results(entry.bench.results if entry is not None else None)
        self._refresh()

    def _on_bench(self, event: Any) -> None:
        state = self.entry.bench
        if event is None or self.charts.state is not state:
            self.charts.show_state(state)
        else:
            self.charts.update_state()
        self.table.show_results(state.results)
        self._refresh()

    def _on_run(self) -> None:
        self._build_runtimes()
        self._load_history()
        if self.charts.state is not self.entry.bench:
            self.charts.show_state(self.entry.bench)
            self.table.show_results(self.entry.bench.results)
        self._refresh()

    def _on_described(self) -> None:
        self._on_run()

    def _build_runtimes(self) -> None:
        """The runtimes to measure: the core's list for the model's run (a runtime added there appears here)."""
        from .bench_words import runtimes_for

        ticked = {name: action.isChecked() for name, action in self.runtime_actions.items()}
        self.runtimes_menu.clear()
        self.runtime_actions = {}
        for name in runtimes_for(self.entry):
            action = self.runtimes_menu.addAction(runtime_label(name))
            action.setCheckable(True)
            action.setChecked(ticked.get(name, True))
            action.toggled.connect(self._count_runtimes)
            self.runtime_actions[name] = action
        self._count_runtimes()

    def _count_runtimes(self) -> None:
        ticked = sum(action.isChecked() for action in self.runtime_actions.values())
        self.runtimes_button.setText(f"Runtimes: {ticked} of {len(self.runtime_actions)}")

    def _refresh(self) -> None:
        from .bench_words import buttons_state, status_text, title_text

        self.title.setText(title_text(self.entry))
        text, details = status_text(self.entry, self.controller)
        self.status.setText(text)
        self.status.setToolTip(details)
        state = self.entry.bench if self.entry is not None else None
        measuring = bool(state and state.running)
        self.progress.setVisible(measuring)
        self.progress.setValue(int(1000 * state.fraction) if measuring else 0)
        for name, (enabled, why) in buttons_state(self.entry, self.controller).items():
            widget = getattr(self, name)
            widget.setEnabled(enabled)
            widget.setToolTip(why)

    # Actions ----------------------------------------------------------------------------------------
    def run(self) -> bool:
        from .bench_words import why_not_run

        runtimes = [name for name, action in self.runtime_actions.items() if action.isChecked()]
        devices = self.devices.selected()
        why = why_not_run(self.entry, self.controller, runtimes, devices)
        if why is not None:
            self._say(why)
            return False
        self.history.setCurrentIndex(0)
        self.controller.start(self.entry, BenchRequest(self.entry.run_dir, self.calls.value(), self.rounds.value(),
                                                       (1,), self.threads.value(), runtimes, tuple(devices)))
        self.said.emit(f"benchmarking {self.entry.label}: {', '.join(runtimes)}"
                       + (f"; then the bundle on {', '.join(devices)}" if devices else ""))
        return True

    def cancel(self) -> bool:
        if not self.controller.running:
            return False
        self.controller.cancel()
        self._say("Cancelling: the benchmark stops after the current measurement.")
        return True

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setToolTip("")
        self.said.emit(text)

    def _load_history(self) -> None:
        self.history.blockSignals(True)
        self.history.clear()
        self.history.addItem("(nothing)", None)
        current = self.entry.bench.source if self.entry is not None else None
        for path in self.entry.run.bench_history() if self.entry is not None and self.entry.run else []:
            if path != current:
                self.history.addItem(path.stem, path)
        self.history.blockSignals(False)

    def _compare(self) -> None:
        from studio.core.session.runs import read_json

        path = self.history.currentData()
        earlier = read_json(path) if path else None
        if self.entry is not None:
            self.charts.show_state(self.entry.bench, earlier)
            self._say(f"Compared with the benchmark of {path.stem}: faint bars." if earlier else "")

    # Exports ----------------------------------------------------------------------------------------
    def _default_export(self, suffix: str) -> Path:
        entry = self.entry
        stem = f"{entry.label.replace('/', '-').replace(' ', '')}-bench-{time.strftime('%Y%m%d-%H%M%S')}"
        folder = entry.run_dir / "bench" if entry.run_dir and entry.run_dir.is_dir() else Path.home()
        return folder / f"{stem}.{suffix}"

    def _ask(self, kind: str, save: Any) -> None:
        if self.entry is None or self.entry.bench.results is None:
            self._say("Nothing to export yet: benchmark this model first (Ctrl+B).")
            return
        self.dialog = ask_save(self, kind, self._default_export(kind), save)

    def _what(self) -> tuple[str, str]:
        """The title and subtitle an export carries: model and run, and when it was measured."""
        entry = self.entry
        results = entry.bench.results or {}
        when = results.get("finished") or time.strftime("%Y-%m-%d %H:%M:%S")
        options = results.get("options", {})
        return (f"{entry.label}: latency per runtime (batch 1)",
                f"run {entry.run_dir} · measured {when} · {options.get('calls', '?')} calls in "
                f"{options.get('rounds', '?')} rounds, {options.get('threads', 1)} thread(s)")

    def _written(self, what: str, path: Path) -> None:
        self._say(f"Saved {what} to {path}")

    def save_png(self, path: Path) -> None:
        title, subtitle = self._what()
        if not titled_image(self.views.currentWidget(), title, subtitle).save(str(path)):
            self._say(f"Could not write {path}")
            return
        self._written(f"the {self.views.tabText(self.views.currentIndex()).lower()} chart", path)

    def save_csv(self, path: Path) -> None:
        from studio.core.atomic import atomic_write_csv
        from studio.core.bench.report import rows

        assert self.entry is not None and self.entry.bench.results is not None
        atomic_write_csv(path, [dict(row, model=self.entry.label, run=str(self.entry.run_dir))
                                for row in rows(self.entry.bench.results)])
        self._written("the results table", path)

    def save_json(self, path: Path) -> None:
        from studio.core.atomic import atomic_write_text

        assert self.entry is not None and self.entry.bench.results is not None
        data = dict(self.entry.bench.results, model=str(self.entry.path), run=str(self.entry.run_dir),
                    samples_ns=self.entry.bench.samples)
        atomic_write_text(path, json.dumps(data, indent=2, default=str))
        self._written("the results and every sample", path)

    def _ask_sweep(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Sweep results", "", "Sweep (sweep.json);;JSON (*.json)")
        if path:
            self.show_sweep(Path(path))

    def show_sweep(self, path: Path) -> None:
        try:
            rows = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            self._say(f"{path}: not a sweep result ({exc})")
            return
        self.sweep.show_rows(rows)
        self.views.setCurrentWidget(self.sweep)
        self._say(f"Sweep from {path}")
