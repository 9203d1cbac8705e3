"""Live latency charts: latency over calls per runtime, the distribution per runtime, p50/p99 bars.

Curves are created once and fed from buffers at 20 Hz (pyqtgraph's way), so thousands of samples a
second never reach the UI thread one by one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


class QtBenchCharts(pg.GraphicsLayoutWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setBackground("w")
        self.timeline = self.addPlot(row=0, col=0, colspan=2, title="Latency of each call (µs, log scale)")
        self.timeline.setLogMode(y=True)
        self.timeline.setLabel("bottom", "call")
        self.timeline.addLegend(offset=(10, 10))
        self.timeline.setDownsampling(mode="peak")
        self.timeline.setClipToView(True)
        self.histogram = self.addPlot(row=1, col=0, title="Distribution (µs, log scale)")
        self.histogram.setLogMode(x=True)
        self.bars = self.addPlot(row=1, col=1, title="p50 and p99 (µs): press the button to measure")
        self.bars.setLogMode(y=False)
        self.samples: dict[str, list[int]] = {}
        self.curves: dict[str, Any] = {}
        self.hist_curves: dict[str, Any] = {}
        self.results: dict[str, Any] | None = None
        self.compare: dict[str, Any] | None = None
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._redraw)
        self._timer.start()

    def clear_all(self) -> None:
        for plot in (self.timeline, self.histogram, self.bars):
            plot.clear()
        self.samples, self.curves, self.hist_curves, self.results = {}, {}, {}, None
        self.timeline.addLegend(offset=(10, 10))
        self.bars.setTitle("p50 and p99 (µs): shown when the last round ends")

    def _color(self, runtime: str) -> str:
        names = list(self.samples)
        return COLORS[names.index(runtime) % len(COLORS)] if runtime in names else COLORS[0]

    def add_samples(self, runtime: str, durations_ns: list[int]) -> None:
        if runtime not in self.samples:
            self.samples[runtime] = []
            pen = pg.mkPen(self._color(runtime), width=1)
            self.curves[runtime] = self.timeline.plot([], [], pen=pen, name=runtime)
            self.hist_curves[runtime] = self.histogram.plot([], [], pen=pen, stepMode="center")
        self.samples[runtime].extend(durations_ns)
        self._dirty = True

    def _redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        for runtime, values in self.samples.items():
            micro = np.asarray(values, dtype=np.float64) / 1e3
            self.curves[runtime].setData(np.arange(len(micro)), micro)
            if len(micro) > 1:
                edges = np.logspace(np.log10(max(micro.min(), 0.1)), np.log10(micro.max() * 1.01), 40)
                counts, edges = np.histogram(micro, bins=edges)
                self.hist_curves[runtime].setData(edges, counts)  # the plot's log mode takes raw µs

    def show_results(self, results: dict[str, Any], compare: dict[str, Any] | None = None) -> None:
        """p50/p99 bars per runtime (batch 1), beside an earlier run's when ``compare`` is given."""
        self.results, self.compare = results, compare
        self._redraw()
        self.bars.clear()
        names = [n for n, e in results["runtimes"].items() if e.get("available") and "1" in e.get("batches", {})]
        ticks = []
        width = 0.2 if compare else 0.35
        for index, name in enumerate(names):
            stats = results["runtimes"][name]["batches"]["1"]
            values = [(stats["p50_us"], -width * (1.5 if compare else 0.5), "#1f77b4"),
                      (stats["p99_us"], width * (0.5 if not compare else -0.5), "#ff7f0e")]
            earlier = (compare or {}).get("runtimes", {}).get(name, {}).get("batches", {}).get("1")
            if earlier:
                values += [(earlier["p50_us"], width * 0.5, "#9ecae1"), (earlier["p99_us"], width * 1.5, "#fdd0a2")]
            for height, offset, color in values:
                self.bars.addItem(pg.BarGraphItem(x=[index + offset], height=[height], width=width, brush=color))
            ticks.append((index, name))
        self.bars.getAxis("bottom").setTicks([ticks])
        overhead = [e["batches"]["1"]["harness_overhead_us"] for e in results["runtimes"].values()
                    if e.get("available") and "1" in e.get("batches", {})]
        legend = "blue p50, orange p99" + ("; pale: the earlier run" if compare else "")
        if overhead:
            legend += f"; harness overhead {min(overhead):.2f} µs per call (included)"
        self.bars.setTitle(f"p50 and p99 (µs): {legend}")


class QtSweepChart(pg.PlotWidget):
    """Latency against model size per runtime, from ``bench --sweep`` results."""

    def __init__(self) -> None:
        super().__init__(title="Sweep: p50 latency against acting parameters (log-log)")
        self.setBackground("w")
        self.setLogMode(x=True, y=True)
        self.setLabel("bottom", "acting parameters")
        self.setLabel("left", "p50 latency (µs)")
        self.addLegend(offset=(10, 10))
        self.rows: list[dict[str, Any]] = []

    def show_rows(self, rows: list[dict[str, Any]]) -> None:
        self.clear()
        self.rows = rows
        runtimes = sorted({row["runtime"] for row in rows})
        for index, runtime in enumerate(runtimes):
            points = sorted((row["acting_parameters"], row["p50_us"]) for row in rows
                            if row["runtime"] == runtime and row.get("batch", 1) == 1)
            if points:
                x, y = zip(*points)
                self.plot(list(x), list(y), pen=pg.mkPen(COLORS[index % len(COLORS)], width=2), symbol="o",
                          symbolSize=6, symbolBrush=COLORS[index % len(COLORS)], name=runtime)
