"""The pipeline wizard's settings: target formats, calibration, verification thresholds, output."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.library import LibraryEntry
from studio.core.pipeline.spec import ConvertSpec
from studio.core.verification import Thresholds

FORMATS = [
    ("onnx", "ONNX", True),
    ("tflite-fp32", "TFLite float32", True),
    ("tflite-fp16", "TFLite float16", True),
    ("tflite-int8", "TFLite int8 (Coral)", True),
    ("tflite-full-int8", "TFLite int8 in and out", False),
    ("edgetpu", "Edge TPU", True),
    ("torchscript", "TorchScript (C++)", False),
    ("web", "Browser (onnxruntime-web)", False),
    ("tflite-micro", "Microcontroller (TFLite Micro)", False),
    ("bundle", "Device bundle (Raspberry Pi)", False),
]


def _spin(low: int, high: int, value: int, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    return box


class QtPipelineOptions(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.formats = {key: QCheckBox(label) for key, label, _ in FORMATS}
        formats = QGroupBox("Formats")
        grid = QVBoxLayout(formats)
        for key, _, default in FORMATS:
            self.formats[key].setChecked(default)
            grid.addWidget(self.formats[key])
        defaults = ConvertSpec(Path("x"))
        self.calibration_steps = _spin(0, 100_000, defaults.calibration_steps, 100)
        self.episodes = _spin(0, 1000, defaults.episodes)
        self.max_episodes = _spin(0, 10000, defaults.max_episodes)
        self.seed = _spin(0, 2**31 - 1, defaults.seed)
        self.samples = _spin(10, 100_000, defaults.samples, 100)
        self.rollout_steps = _spin(0, 100_000, defaults.rollout_steps, 100)
        calibration = QGroupBox("Observations and calibration")
        form = QFormLayout(calibration)
        form.addRow("Calibration steps (int8)", self.calibration_steps)
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
        form = QFormLayout(thresholds)
        form.addRow("Least agreement (%)", self.min_agreement)
        form.addRow("Error, x float's own", self.error_multiple)
        form.addRow("Largest action error", self.max_error)
        form.addRow("Least closed-loop score", self.min_score)
        form.addRow("int8: least score", self.int8_min_score)
        form.addRow("", self.repair_int8)
        self.output = QLineEdit()
        self.output.setPlaceholderText("the studio's runs folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.force = QCheckBox("Write into a folder that holds other files")
        out = QGroupBox("Output folder")
        row = QHBoxLayout()
        row.addWidget(self.output)
        row.addWidget(browse)
        column = QVBoxLayout(out)
        column.addLayout(row)
        column.addWidget(self.force)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for box in (formats, calibration, thresholds, out):
            layout.addWidget(box)
        layout.addStretch(1)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.output.text())
        if folder:
            self.output.setText(folder)

    def targets(self) -> list[str]:
        return [key for key, box in self.formats.items() if box.isChecked()]

    def spec_for(self, entry: LibraryEntry) -> ConvertSpec:
        """The conversion these settings ask for; ValueError names a setting that does not parse."""
        try:
            max_error = float(self.max_error.text()) if self.max_error.text().strip() else None
        except ValueError:
            raise ValueError(f"largest action error: '{self.max_error.text()}' is not a number") from None
        out = Path(self.output.text()) if self.output.text().strip() else entry.run_dir
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
