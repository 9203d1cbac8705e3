"""The benchmark's figures per runtime (batch 1), as a table: what the charts show, in numbers."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from studio.core.labels import runtime_label

COLUMNS = [
    ("Runtime", None, ""),
    ("p50 µs", "p50_us", "{:.1f}"),
    ("p99 µs", "p99_us", "{:.1f}"),
    ("p99/p50", "spread_p99_p50", "{:.2f}"),
    ("× SB3", "speedup_vs_sb3_p50", "{:.1f}"),
    ("obs/s", "throughput_obs_per_s", "{:,.0f}"),
    ("load ms", "load_ms", "{:.0f}"),
    ("size KiB", "file_bytes", "{:.0f}"),
    ("peak MB", "peak_rss_mb", "{:.0f}"),
]


class QtBenchTable(QTableWidget):
    def __init__(self) -> None:
        super().__init__(0, len(COLUMNS))
        self.setHorizontalHeaderLabels([name for name, _, _ in COLUMNS])
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)

    def show_results(self, results: dict[str, Any] | None) -> None:
        runtimes = (results or {}).get("runtimes", {})
        self.setRowCount(len(runtimes))
        for row, (name, entry) in enumerate(runtimes.items()):
            stats = dict(entry.get("batches", {}).get("1", {}), load_ms=entry.get("load_ms"),
                         peak_rss_mb=entry.get("peak_rss_mb"))
            if entry.get("file_bytes"):
                stats["file_bytes"] = entry["file_bytes"] / 1024
            for column, (_, key, fmt) in enumerate(COLUMNS):
                if key is None:
                    text = runtime_label(name)
                elif not entry.get("available"):
                    text = "not available" if column == 1 else ""
                else:
                    value = stats.get(key)
                    text = fmt.format(value) if value is not None else "–"
                item = QTableWidgetItem(text)
                if not entry.get("available") and column == 1:
                    item.setToolTip(f"{entry.get('reason')}; to install: {entry.get('hint')}")
                self.setItem(row, column, item)
