"""Latency charts: each call's latency per runtime, the distribution per runtime, and p50/p99 bars, all on
log scales (runtimes differ by decades: SB3's predict ~200 µs, LiteRT ~2 µs), with one legend above
them (never over the data) and units on every axis.

Curves are created once and fed from the model's buffers at 20 Hz (pyqtgraph's way), so thousands of
samples a second never reach the UI thread one by one.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from studio.core.labels import runtime_label
from studio.core.session import BenchState

from .chart_style import color_of, decade_ticks, style_plot


TITLE = "10pt"


class QtBenchCharts(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.legend = QLabel("")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.plots.setMinimumHeight(160)
        self.timeline = self.plots.addPlot()
        self.timeline.setTitle("Latency of each call", size=TITLE)
        style_plot(self.timeline, "call (in the order measured)", "latency (µs, log)")
        self.timeline.setLogMode(y=True)
        self.timeline.setDownsampling(mode="peak")
        self.timeline.setClipToView(True)
        self.histogram = self.plots.addPlot()
        self.histogram.setTitle("Distribution", size=TITLE)
        style_plot(self.histogram, "latency per call (µs, log)", "calls")
        self.histogram.setLogMode(x=True)
        self.bars = self.plots.addPlot()
        self.bars.setTitle("p50 and p99", size=TITLE)
        style_plot(self.bars, "latency (µs, log)", "")
        self.bars.setMouseEnabled(x=False, y=False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.legend)
        layout.addWidget(self.plots, 1)
        layout.addStretch(0)
        self.arrangement = ""
        self._arrange()
        self.state: BenchState | None = None
        self.curves: dict[str, Any] = {}
        self.hist_curves: dict[str, Any] = {}
        self.drawn: dict[str, int] = {}  # runtime -> samples drawn
        self.compare: dict[str, Any] | None = None
        self._bars_drawn = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._redraw)
        self._timer.start()

    def _arrange(self) -> None:
        """Tall room: the timeline above the distribution, the bars beside both. Short room (1024x700):
        the three side by side, so that none is squeezed to a sliver."""
        wanted = "row" if self.plots.height() < 380 else "grid"
        if wanted == self.arrangement:
            return
        self.arrangement = wanted
        layout = self.plots.ci
        for plot in (self.timeline, self.histogram, self.bars):
            layout.removeItem(plot)
        if wanted == "row":
            cells = [(self.timeline, 0, 0, 1), (self.histogram, 0, 1, 1), (self.bars, 0, 2, 1)]
        else:
            cells = [(self.timeline, 0, 0, 1), (self.histogram, 1, 0, 1), (self.bars, 0, 1, 2)]
        for plot, row, col, rowspan in cells:
            layout.addItem(plot, row=row, col=col, rowspan=rowspan)
        grid = layout.layout
        columns = (1, 1, 2) if wanted == "row" else (1, 1, 0)  # the bars' names need room
        for col, stretch in enumerate(columns):
            grid.setColumnStretchFactor(col, stretch)
        for row, stretch in enumerate((1, 0) if wanted == "row" else (1, 1)):
            grid.setRowStretchFactor(row, stretch)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._arrange()

    @property
    def samples(self) -> dict[str, list[int]]:
        return self.state.samples if self.state is not None else {}

    def show_state(self, state: BenchState | None, compare: dict[str, Any] | None = None) -> None:
        """Draw ``state`` from scratch (another model, a new benchmark or an earlier result)."""
        for plot in (self.timeline, self.histogram, self.bars):
            plot.clear()
        self.state, self.compare, self.curves, self.hist_curves, self.drawn = state, compare, {}, {}, {}
        self._redraw()
        self._draw_bars()
        self._draw_legend()

    def update_state(self) -> None:
        """New samples or results arrived for the state on show."""
        if self.state is not None and self.state.results is not None and not self.state.running:
            self._redraw()
            self._draw_bars()

    def _curves_for(self, runtime: str) -> None:
        pen = pg.mkPen(color_of(runtime), width=1)
        self.curves[runtime] = self.timeline.plot([], [], pen=pen, name=runtime_label(runtime))
        self.hist_curves[runtime] = self.histogram.plot([], [], pen=pg.mkPen(color_of(runtime), width=2), stepMode="center")

    def _redraw(self) -> None:
        samples = self.samples
        if all(self.drawn.get(name) == len(values) for name, values in samples.items()) and len(self.drawn) == len(samples):
            return
        for runtime, values in samples.items():
            if runtime not in self.curves:
                self._curves_for(runtime)
            micro = np.asarray(values, dtype=np.float64) / 1e3
            self.curves[runtime].setData(np.arange(len(micro)), micro)
            if len(micro) > 1:
                edges = np.logspace(np.log10(max(micro.min(), 0.1)), np.log10(micro.max() * 1.01), 40)
                counts, edges = np.histogram(micro, bins=edges)
                self.hist_curves[runtime].setData(edges, counts)  # the plot's log mode takes raw µs
            self.drawn[runtime] = len(values)
        self._draw_legend()
        now = time.monotonic()
        if now - self._bars_drawn > 0.25:  # percentiles of every sample: a few times a second is enough
            self._bars_drawn = now
            self._draw_bars()

    def _draw_legend(self) -> None:
        names = list(self.samples) or [n for n, e in self._runtimes().items() if e.get("available")]
        self.plots.setVisible(bool(names))
        if not names:
            self.legend.setText("No measurements of this model to show." if self.state is None or not self.state.running
                                else "Loading the runtimes…")
            return
        marks = [f"<span style='color:{color_of(n)}'>■</span>&nbsp;{runtime_label(n)}" for n in names]
        self.legend.setText("&nbsp;&nbsp; ".join(marks))

    def _runtimes(self) -> dict[str, Any]:
        results = self.state.results if self.state is not None else None
        return (results or {}).get("runtimes", {})

    def _bar_rows(self) -> tuple[list[tuple[str, dict[str, float]]], bool]:
        """p50 and p99 per runtime: the results', or while it measures the samples' so far (live)."""
        rows = [(name, entry["batches"]["1"]) for name, entry in self._runtimes().items()
                if entry.get("available") and "1" in entry.get("batches", {})]
        if rows or not self.samples:
            return rows, False
        live = []
        for name, values in self.samples.items():
            micro = np.asarray(values, dtype=np.float64) / 1e3
            live.append((name, {"p50_us": float(np.percentile(micro, 50)), "p99_us": float(np.percentile(micro, 99))}))
        return live, True

    def _draw_bars(self) -> None:
        """Horizontal p50 (dark) and p99 (light) bars per runtime at batch 1, on a log axis, with values."""
        self.bars.clear()
        rows, live = self._bar_rows()
        earlier = (self.compare or {}).get("runtimes", {})
        if not rows:
            self.bars.setTitle("p50 and p99", size=TITLE)
            return
        values = [v for _, s in rows for v in (s["p50_us"], s["p99_us"])]
        floor = math.floor(math.log10(max(min(values), 1e-3))) - 0.2
        top = math.log10(max(values)) + 0.15
        ticks = []
        for index, (name, stats) in enumerate(reversed(rows)):
            bars = [(stats["p50_us"], 0.18, 1.0), (stats["p99_us"], -0.18, 0.45)]
            before = earlier.get(name, {}).get("batches", {}).get("1")
            if before:
                bars = [(stats["p50_us"], 0.27, 1.0), (stats["p99_us"], 0.09, 0.45),
                        (before["p50_us"], -0.09, 0.25), (before["p99_us"], -0.27, 0.12)]
            height = 0.34 if not before else 0.17
            for value, offset, alpha in bars:
                color = pg.mkColor(color_of(name))
                color.setAlphaF(alpha)
                self.bars.addItem(pg.BarGraphItem(x0=[floor], y=[index + offset], width=[math.log10(value) - floor],
                                                  height=[height], brush=color, pen=pg.mkPen(color_of(name))))
            # The figures go with the name on the axis: never over a bar, never cut at the edge.
            ticks.append((index, f"{runtime_label(name)}  {stats['p50_us']:.1f} / {stats['p99_us']:.1f}"))
        left = self.bars.getAxis("left")
        left.setTicks([ticks])
        metrics = QFontMetrics(left.style["tickFont"] or self.font())
        left.setWidth(max(metrics.horizontalAdvance(text) for _, text in ticks) + 14)  # names never hidden
        self.bars.getAxis("bottom").setTicks(decade_ticks(floor, top))
        self.bars.setXRange(floor, top, padding=0)
        self.bars.setYRange(-0.6, len(rows) - 0.4, padding=0)
        title = "p50 (dark), p99 (light) so far" if live else "p50 (dark), p99 (light)"
        self.bars.setTitle(title + ("; faint: earlier run" if earlier else ""), size=TITLE)
