"""The rollout summary: per runtime over the episodes played, return, score, agreement, departure."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from studio.core.labels import runtime_label

HEADERS = [
    ("Runtime", ""),
    ("Episodes", "episodes played"),
    ("Return", "mean ± standard deviation of the episode returns"),
    ("Score", "closed-loop score: 1 = as good as the original, 0 = as a random policy"),
    ("Agreement", "share of steps where it chose the original's action on the same observation"),
    ("First departure", "median step of the first departure from the original's action (never: it did not depart)"),
]


def cells(row: dict[str, Any]) -> list[str]:
    mean, std = row.get("mean_return"), row.get("std_return")
    return [
        runtime_label(row["runtime"]),
        str(row["episodes"]),
        f"{mean:.1f} ± {std:.1f}" if mean is not None else "–",
        f"{row['score']:.3f}" if row.get("score") is not None else "–",
        f"{row['agreement_percent']:.1f} %" if row.get("agreement_percent") is not None else "original",
        f"step {row['median_steps_to_departure']:.0f}" if row.get("median_steps_to_departure") is not None else "never",
    ]


class QtRolloutTable(QTableWidget):
    def __init__(self) -> None:
        super().__init__(0, len(HEADERS))
        self.setHorizontalHeaderLabels([name for name, _ in HEADERS])
        for column, (_, tip) in enumerate(HEADERS):
            self.horizontalHeaderItem(column).setToolTip(tip)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)
        self.setAccessibleName("Rollout summary")
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.rows: list[dict[str, Any]] = []

    def show_rows(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.setRowCount(len(rows))
        for index, row in enumerate(rows):
            for column, text in enumerate(cells(row)):
                self.setItem(index, column, QTableWidgetItem(text))

    def wanted_height(self) -> int:
        """Room for the header and every row (at least two), so no row hides below the fold."""
        rows = max(2, self.rowCount())
        return self.horizontalHeader().height() + rows * self.verticalHeader().defaultSectionSize() + 2 * self.frameWidth() + 2
