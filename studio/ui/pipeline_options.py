"""The pipeline wizard's settings: target formats, calibration, verification thresholds, output."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.labels import target_label
from studio.core.pipeline.spec import ALL, TARGETS, ConvertSpec
from studio.core.session import ModelEntry
from studio.core.verification import Thresholds


def _form(box: QGroupBox) -> QFormLayout:
    """A form whose labels go above their fields when the column is narrow."""
    form = QFormLayout(box)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return form


def _spin(low: int, high: int, value: int, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    return box


class QtPipelineOptions(QWidget):
    """Signals ``changed()`` when a format is ticked or unticked."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        # The formats are the core's targets: one added there appears here.
        self.formats = {key: QCheckBox(target_label(key)) for key in TARGETS}
        formats = QGroupBox("Formats")
        grid = QVBoxLayout(formats)
        for key, box in self.formats.items():
            box.setChecked(key in ALL)
            box.toggled.connect(lambda checked: self.changed.emit())
            grid.addWidget(box)
        defaults = ConvertSpec(Path("x"))
        self.calibration_steps = _spin(0, 100_000, defaults.calibration_steps, 100)
        self.episodes = _spin(0, 1000, defaults.episodes)
        self.max_episodes = _spin(0, 10000, defaults.max_episodes)
        self.seed = _spin(0, 2**31 - 1, defaults.seed)
        self.samples = _spin(10, 100_000, defaults.samples, 100)
        self.rollout_steps = _spin(0, 100_000, defaults.rollout_steps, 100)
        calibration = QGroupBox("Observations and calibration")
        form = _form(calibration)
        form.addRow("Calibration steps", self.calibration_steps)
        self.calibration_steps.setToolTip("int8: observations the original visits, to calibrate on")
        form.addRow("Closed-loop episodes", self.episodes)
        form.addRow("…up to, when undecided", self.max_episodes)
        form.addRow("Seed", self.seed)
        form.addRow("Sampled observations", self.samples)
        form.addRow("Rollout steps", self.rollout_steps)
        self.env_module = QLineEdit()
        self.env_module.setPlaceholderText("none")
        self.env_module.setToolTip("Your own Gymnasium environment module, a dotted name or a .py file. "
                                   "The studio imports it before making the environment: THIS RUNS YOUR CODE.")
        form.addRow("Environment module (runs your code)", self.env_module)
        self.min_agreement = QDoubleSpinBox(decimals=2, minimum=0, maximum=100, value=defaults.thresholds.min_agreement)
        self.error_multiple = QDoubleSpinBox(decimals=1, minimum=1, maximum=1000, value=defaults.thresholds.error_multiple)
        self.error_multiple.setToolTip("float artifacts may err this many times the original's own float32 error "
                                       "(measured against a float64 evaluation)")
        self.max_error = QLineEdit("")
        self.max_error.setPlaceholderText("none")
        self.min_score = QDoubleSpinBox(decimals=3, minimum=-10, maximum=1, singleStep=0.01,
                                        value=defaults.thresholds.min_score)
        self.int8_min_score = QDoubleSpinBox(decimals=3, minimum=-10, maximum=1, singleStep=0.01,
                                             value=defaults.int8_min_score)
        self.repair_int8 = QCheckBox("Repair int8 below it")
        self.repair_int8.setChecked(defaults.repair_int8)
        thresholds = QGroupBox("Verification thresholds")
        form = _form(thresholds)
        form.addRow("Least agreement (%)", self.min_agreement)
        form.addRow("Error, x float's own", self.error_multiple)
        form.addRow("Largest action error", self.max_error)
        form.addRow("Least score", self.min_score)
        self.min_score.setToolTip("closed-loop score of the float artifacts: 1 = as good as the original, 0 = random")
        form.addRow("int8: least score", self.int8_min_score)
        form.addRow("", self.repair_int8)
        self.output = QLineEdit()
        self.output.setPlaceholderText("the studio's runs folder")
        self.output.setClearButtonEnabled(True)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.force = QCheckBox("Write into a non-empty folder")
        self.force.setToolTip("Also write into a folder that holds files sb3-studio did not write (--force)")
        out = QGroupBox("Output folder")
        column = QVBoxLayout(out)
        column.addWidget(self.output)
        row = QHBoxLayout()
        row.addWidget(browse)
        row.addStretch(1)
        column.addLayout(row)
        column.addWidget(self.force)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for box in (formats, calibration, thresholds, out):
            layout.addWidget(box)
        layout.addStretch(1)
        for form in self.findChildren(QFormLayout):  # a long label wraps instead of widening the column
            for row in range(form.rowCount()):
                item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
                if item is not None and isinstance(item.widget(), QLabel):
                    item.widget().setWordWrap(True)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.output.text())
        if folder:
            self.output.setText(folder)
            self.output.editingFinished.emit()

    def show_output(self, entry: ModelEntry | None) -> None:
        """The selected model's output folder: the one chosen for it, or its default as the placeholder."""
        self.output.blockSignals(True)
        self.output.setText(str(entry.out) if entry is not None and entry.out else "")
        self.output.blockSignals(False)
        default = entry.default_run if entry is not None else None
        self.output.setPlaceholderText(str(default) if default else "the studio's runs folder")
        self.output.setToolTip(self.output.placeholderText())

    def chosen_output(self) -> Path | None:
        text = self.output.text().strip()
        return Path(text).expanduser() if text else None

    def targets(self) -> list[str]:
        return [key for key, box in self.formats.items() if box.isChecked()]

    def spec_for(self, entry: ModelEntry) -> ConvertSpec:
        """The conversion these settings ask for; ValueError names a setting that does not parse."""
        try:
            max_error = float(self.max_error.text()) if self.max_error.text().strip() else None
        except ValueError:
            raise ValueError(f"largest action error: '{self.max_error.text()}' is not a number") from None
        out = entry.run_dir
        if out is None:
            raise ValueError(f"{entry.label} is not an SB3 model: nothing to convert")
        return ConvertSpec(
            model=entry.path,
            env_module=self.env_module.text().strip() or None,
            targets=self.targets() or ["onnx"],
            out=out,
            force=self.force.isChecked(),
            seed=self.seed.value(),
            samples=self.samples.value(),
            rollout_steps=self.rollout_steps.value(),
            calibration_steps=self.calibration_steps.value(),
            episodes=self.episodes.value(),
            max_episodes=max(self.episodes.value(), self.max_episodes.value()),
            thresholds=Thresholds(self.min_agreement.value(), self.error_multiple.value(), max_error,
                                  self.min_score.value()),
            int8_min_score=self.int8_min_score.value(),
            repair_int8=self.repair_int8.isChecked(),
        )
