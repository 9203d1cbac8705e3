"""Latency against model size per runtime, from ``bench --sweep`` results (log-log), legend above."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from studio.core.labels import runtime_label

from .chart_style import color_of, style_plot


class QtSweepChart(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.load_button = QPushButton("Load sweep…")
        self.load_button.setToolTip("Read the sweep.json that sb3-studio bench --sweep writes")
        self.legend = QLabel("Latency against model size, from sb3-studio bench --sweep: Load sweep… reads its sweep.json.")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.plot = pg.PlotWidget(title="p50 latency against acting parameters (log-log)")
        self.plot.setBackground("w")
        self.plot.setLogMode(x=True, y=True)
        style_plot(self.plot.getPlotItem(), "acting parameters (log)", "p50 latency (µs, log)")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.load_button)
        row.addWidget(self.legend, 1)
        layout.addLayout(row)
        layout.addWidget(self.plot, 1)
        self.rows: list[dict[str, Any]] = []

    def listDataItems(self) -> list[Any]:  # noqa: N802 - as pyqtgraph's PlotWidget
        return self.plot.listDataItems()

    def show_rows(self, rows: list[dict[str, Any]]) -> None:
        self.plot.clear()
        self.rows = rows
        marks = []
        for runtime in sorted({row["runtime"] for row in rows}):
            points = sorted((row["acting_parameters"], row["p50_us"]) for row in rows
                            if row["runtime"] == runtime and row.get("batch", 1) == 1)
            if points:
                x, y = zip(*points)
                color = color_of(runtime)
                self.plot.plot(list(x), list(y), pen=pg.mkPen(color, width=2), symbol="o", symbolSize=6,
                               symbolBrush=color, name=runtime_label(runtime))
                marks.append(f"<span style='color:{color}'>■</span>&nbsp;{runtime_label(runtime)}")
        self.legend.setText("&nbsp;&nbsp; ".join(marks))
