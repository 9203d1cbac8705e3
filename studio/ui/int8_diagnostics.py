"""Where int8 hurts, in the window: an int8 artifact's diagnostics from ``run.json``.

A summary (the diagnostics' lines, the repair kept and what each attempt scored and cost), then three
tables: every tensor with its int8 error against the float32 graph and, side by side, its float32 and
int8 values on the observation where the action errs most; the input features with their int8 steps;
the constants that lose values to zero. Rows past the thresholds are marked. Shown in the stage
details of the int8 stages and beside the graph of an int8 model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHeaderView,
    QPlainTextEdit,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core.int8.diagnostics import FEATURE_ERROR, JUMP, MIN_STEPS, ROUNDING

MARKED = QBrush(QColor(255, 214, 153))
TENSOR_COLUMNS = ["Tensor", "Op", "Scale", "Float range (visited)", "Steps", "Error, steps RMS (calibration)",
                  "Error, steps RMS (visited)", "Error / spread", "Saturated %", "float32 values", "int8 values"]
FEATURE_COLUMNS = ["Feature", "Visited range", "Input scale", "int8 steps", "Worst error / spread", "At"]
CONSTANT_COLUMNS = ["Constant", "Used by", "Values", "Lost to 0", "Scale", "Float range", "Worst relative error"]
INT8_KEYS = ("tflite_int8", "tflite_int8_plain", "tflite_full_int8")
NONE = "No int8 diagnostics: convert to tflite-int8 to see where int8 hurts."
LABELS = {"tflite_int8": "int8 (kept)", "tflite_int8_plain": "int8, plain post-training", "tflite_full_int8": "full int8"}


def _table(columns: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setTabKeyNavigation(False)
    return table


def _fill(table: QTableWidget, rows: list[tuple[list[str], bool]]) -> None:
    table.setRowCount(len(rows))
    for index, (cells, marked) in enumerate(rows):
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if marked:
                item.setBackground(MARKED)
            table.setItem(index, column, item)


def _num(value: Any, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}g}"


def _values(values: list[float] | None) -> str:
    return ", ".join(f"{v:.4g}" for v in values) if values else ""


class QtInt8Diagnostics(QWidget):
    """Shows one run's int8 diagnostics; :meth:`show_manifest` picks the int8 artifacts that have them."""

    def __init__(self) -> None:
        super().__init__()
        self.chooser = QComboBox()
        self.chooser.setAccessibleName("int8 artifact")
        # A scrolling text, not a label: in a short window a label's last lines would be cut.
        self.summary = QPlainTextEdit(NONE)
        self.summary.setReadOnly(True)
        self.summary.setTabChangesFocus(True)
        self.summary.setFrameShape(QFrame.Shape.NoFrame)
        self.summary.setToolTip(threshold_words())
        self.summary.setMinimumHeight(2 * self.fontMetrics().lineSpacing() + 8)
        self.tensors = _table(TENSOR_COLUMNS)
        self.features = _table(FEATURE_COLUMNS)
        self.constants = _table(CONSTANT_COLUMNS)
        self.tables = QTabWidget()
        self.tables.addTab(self.tensors, "Tensors: int8 against float32")
        self.tables.addTab(self.features, "Input features")
        self.tables.addTab(self.constants, "Constants")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.chooser)
        split = QSplitter(Qt.Orientation.Vertical)  # the user can give the summary or the tables more room
        split.addWidget(self.summary)
        split.addWidget(self.tables)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)
        self.artifacts: dict[str, dict[str, Any]] = {}
        self.chooser.currentIndexChanged.connect(self._on_chosen)
        self.chooser.hide()

    def show_manifest(self, manifest: dict[str, Any] | None, prefer: str | None = None) -> bool:
        """Show the int8 artifacts of ``manifest`` that carry diagnostics; False when there is none."""
        artifacts = (manifest or {}).get("artifacts", {})
        self.artifacts = {key: artifacts[key] for key in INT8_KEYS if (artifacts.get(key) or {}).get("diagnostics")}
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for key, artifact in self.artifacts.items():
            self.chooser.addItem(f"{LABELS[key]}: {artifact['path']}", key)
        index = self.chooser.findData(prefer) if prefer else 0
        self.chooser.setCurrentIndex(max(0, index))
        self.chooser.blockSignals(False)
        self.chooser.setVisible(len(self.artifacts) > 1)
        self._on_chosen()
        return bool(self.artifacts)

    def _on_chosen(self) -> None:
        key = self.chooser.currentData()
        artifact = self.artifacts.get(key) if key else None
        if artifact is None:
            self.summary.setPlainText(NONE)
            for table in (self.tensors, self.features, self.constants):
                table.setRowCount(0)
            return
        self.show_diagnostics(artifact["diagnostics"], artifact.get("repair"))

    def show_diagnostics(self, diagnostics: dict[str, Any], repair: dict[str, Any] | None = None) -> None:
        lines = list(diagnostics.get("summary") or [])
        if diagnostics.get("error"):
            lines.insert(0, f"diagnostics failed: {diagnostics['error']}")
        if repair:
            lines.append(f"repair: kept {repair['kept']} after {repair['seconds']:.0f} s")
            lines += [f"  {a['method']}: score {a['score']:.3f}"
                      + (f" [{a['score_interval'][0]:.3f}, {a['score_interval'][1]:.3f}]" if a.get("score_interval") else "")
                      + f", {a.get('verdict') or ''}, {a['seconds']:.0f} s" for a in repair["attempts"]]
        self.summary.setPlainText("\n".join(lines))
        example = (diagnostics.get("example") or {}).get("values", {})
        rows = []
        for tensor in diagnostics.get("tensors", []):
            sources = tensor["sources"]
            visited, calibration = sources.get("visited") or {}, sources.get("calibration") or {}
            shown = visited or calibration
            values = example.get(tensor["name"], {})
            marked = (shown.get("rmse_over_scale") or 0.0) > JUMP * ROUNDING
            rows.append(([tensor["name"].split(";")[0], tensor["op"], _num(tensor["scale"]),
                          "{} .. {}".format(*(_num(v) for v in shown.get("float_range", [None, None]))),
                          _num(shown.get("steps"), 4), _num(calibration.get("rmse_over_scale")),
                          _num(visited.get("rmse_over_scale")), _num(shown.get("relative_error")),
                          _num(shown.get("saturated_percent")), _values(values.get("float")), _values(values.get("int8"))],
                         marked))
        _fill(self.tensors, rows)
        _fill(self.features, [([f"{f['input']}[{f['index']}]", "{} .. {}".format(*(_num(v) for v in f["visited_range"])),
                                _num(f["input_scale"]), _num(f["steps"], 4), _num(f["worst_relative_error"]),
                                (f["at"] or "").split(";")[0]], f["flagged"]) for f in diagnostics.get("features", [])])
        _fill(self.constants, [([c["float_name"], c["op"], str(c["values"]), str(c["lost_to_zero"]),
                                 _num(c["scale"]) if c["scale"] is not None else f"{c['per_channel_scales']} per channel",
                                 "{} .. {}".format(*(_num(v) for v in c["float_range"])), _num(c["max_relative_error"])],
                                c["lost_to_zero"] > 0 and c["op"] != "FULLY_CONNECTED")
                               for c in diagnostics.get("constants", [])])
        flagged = [f for f in diagnostics.get("features", []) if f["flagged"]]
        self.tables.setTabText(1, f"Input features ({len(flagged)} losing resolution)" if flagged else "Input features")


def threshold_words() -> str:
    return (f"Marked rows: a tensor whose error exceeds {JUMP:g} times rounding's ({JUMP * ROUNDING:.2f} steps RMS); "
            f"a feature spanning fewer than {MIN_STEPS} int8 steps at the input or erring by over {FEATURE_ERROR:.0%} "
            "of its spread; a constant losing values to zero.")


class QtInt8Beside(QtInt8Diagnostics):
    """The diagnostics of the int8 model shown in the graph view, beside Netron; hidden for other files."""

    def show_for_file(self, path: Path) -> None:
        from studio.core.pipeline.run_folder import read_manifest

        manifest = read_manifest(path.parent)
        key = next((k for k, a in ((manifest or {}).get("artifacts") or {}).items()
                    if k in INT8_KEYS and a.get("path") == path.name), None)
        self.setVisible(key is not None and self.show_manifest(manifest, key))
        if key is not None:  # this file only: the other int8 artifact has its own graph
            self.chooser.hide()


def diagnostics_beside() -> QtInt8Beside:
    widget = QtInt8Beside()
    widget.hide()
    return widget
