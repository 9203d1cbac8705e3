"""One onnx2tf run in a child process, offline, in its own work folder.

:func:`prepare` is pure: it builds the exact arguments and says what the run reads and writes (tested
apart from TensorFlow). :class:`Onnx2TfJob` starts the child early (TensorFlow takes seconds to
import, so the runner starts it when a run begins), hands it the plan, streams its log, and ends its
process group at once on cancel. The studio's own process never imports TensorFlow.

onnx2tf downloads a sample-image file for models whose inputs are all 4-D with 3 channels, even when
calibration data is given, and crashes offline. It first looks in its working directory, so the job
puts such a file there (made from the calibration observations) and points any web request at a
closed local port, so that a download attempt fails at once instead of reaching out.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TextIO

import numpy as np

from ..children import neutral_cwd, python_module
from ..errors import StageError
from ..policy_io import STATE_IN, PolicyIO, flat_state_shape

SAMPLE_FILE = "calibration_image_sample_data_20x128x128x3_float32.npy"
# onnx2tf's outputs for a model named "policy", by the studio's artifact key.
OUTPUTS = {
    "tflite_fp32": "policy_float32.tflite",
    "tflite_fp16": "policy_float16.tflite",
    "tflite_int8": "policy_integer_quant.tflite",
    "tflite_full_int8": "policy_full_integer_quant.tflite",
}
_OFFLINE = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "no_proxy": "",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "CUDA_VISIBLE_DEVICES": "",
}


@dataclass
class Onnx2TfPlan:
    argv: list[str]  # onnx2tf's command-line arguments
    workdir: Path
    calibration: dict[str, Path]  # input name -> .npy the job writes before it starts
    outputs: dict[str, Path]  # artifact key -> file onnx2tf writes
    saved_model: Path
    # Graphs with an input whose first axis is not the batch (the LSTM state): int8 by the studio's own
    # quantiser on onnx2tf's SavedModel (see studio.core.tflite.quantize), not by onnx2tf.
    quantize: dict[str, Any] | None = None
    # int8 with activation ranges of the studio's choosing (see studio.core.tflite.ranges), made by the child
    # from onnx2tf's SavedModel instead of onnx2tf's own min/max int8.
    ranges: dict[str, Any] | None = None


def _calibration_layout(io: PolicyIO, batch: np.ndarray, name: str) -> np.ndarray:
    """Calibration data as TensorFlow sees the input: images channels last (NHWC)."""
    spec = next(s for s in io.graph_inputs if s.name == name)
    data = np.asarray(batch, dtype=np.float32)
    if spec.channels_first:
        return np.transpose(data, (0, 2, 3, 1)) if data.shape[1:] == tuple(spec.shape) else data
    return data.reshape((-1, *spec.shape))


def prepare(onnx_path: Path, workdir: Path, io: PolicyIO, int8: bool, per_tensor: bool = False,
            ranges: str = "minmax") -> Onnx2TfPlan:
    """The exact onnx2tf arguments for ``onnx_path`` (batch fixed to 1: the Edge TPU needs static shapes).
    ``ranges``: "minmax" (onnx2tf's int8, TFLite's calibration), "percentile" or "mse" (see :mod:`.ranges`; int8
    with float input and output only)."""
    out = workdir / "out"
    command = ["-i", str(onnx_path), "-o", str(out), "-osd", "-b", "1"]
    calibration: dict[str, Path] = {}
    if int8 and ranges != "minmax":
        calibration = {spec.name: workdir / f"calibration_{spec.name}.npy" for spec in io.inputs}
        outputs = {key: out / OUTPUTS[key] for key in ("tflite_fp32", "tflite_fp16", "tflite_int8")}
        request = {"saved_model": str(out), "inputs": {k: str(v) for k, v in calibration.items()},
                   "per_tensor": per_tensor, "method": ranges, "output": str(outputs["tflite_int8"])}
        return Onnx2TfPlan(command, workdir, calibration, outputs, out, ranges=request)
    own = int8 and io.recurrent_state is not None
    if int8:
        for spec in io.graph_inputs:
            calibration[spec.name] = workdir / f"calibration_{spec.name}.npy"
    if int8 and not own:
        command += ["-oiqt", "-qt", "per-tensor" if per_tensor else "per-channel"]
        for name, path in calibration.items():  # one -cind per input, data already in raw units
            command += ["-cind", name, str(path), "[0.0]", "[1.0]"]
    outputs = {key: out / name for key, name in OUTPUTS.items() if int8 or key in ("tflite_fp32", "tflite_fp16")}
    quantize = None
    if own:
        quantize = {"saved_model": str(out), "inputs": {k: str(v) for k, v in calibration.items()},
                    "unbatched": {STATE_IN: flat_state_shape(io.recurrent_state.shape)}, "per_tensor": per_tensor,
                    "outputs": {k: str(v) for k, v in outputs.items() if "int8" in k}}
    return Onnx2TfPlan(command, workdir, calibration, outputs, out, quantize)


def write_inputs(plan: Onnx2TfPlan, io: PolicyIO, calibration: dict[str, np.ndarray]) -> None:
    """Write the calibration arrays and, for image models, the sample file onnx2tf would download."""
    plan.workdir.mkdir(parents=True, exist_ok=True)
    for name, path in plan.calibration.items():
        np.save(path, _calibration_layout(io, calibration[name], name))
    images = [np.load(path) for path in plan.calibration.values() if np.load(path).ndim == 4]
    if any(spec.channels_first for spec in io.inputs):
        source = images[0] if images else np.zeros((20, 128, 128, 3), np.float32)
        np.save(plan.workdir / SAMPLE_FILE, _sample_images(source))


def _sample_images(nhwc: np.ndarray) -> np.ndarray:
    """Twenty 128x128 RGB frames in [0, 1] from the calibration images (nearest-neighbour resize)."""
    frames = nhwc[np.linspace(0, len(nhwc) - 1, 20).astype(int)]
    rows = np.linspace(0, frames.shape[1] - 1, 128).astype(int)
    cols = np.linspace(0, frames.shape[2] - 1, 128).astype(int)
    frames = frames[:, rows][:, :, cols]
    channels = frames.shape[-1]
    frames = frames[..., :3] if channels >= 3 else np.repeat(frames[..., :1], 3, axis=-1)
    scale = 255.0 if frames.max() > 1.0 else 1.0
    return (frames / scale).astype(np.float32)


class Onnx2TfJob:
    """An onnx2tf child process. :meth:`start` it early; :meth:`run` hands it a plan and waits."""

    def __init__(self) -> None:
        self.child: subprocess.Popen | None = None

    def start(self) -> "Onnx2TfJob":
        self.child = subprocess.Popen(
            python_module("studio.core.tflite.onnx2tf_child"),
            cwd=neutral_cwd(),  # it moves to the run's work folder once it is told the job
            env=dict(os.environ, **_OFFLINE),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,  # its own process group: cancel ends TensorFlow's threads too
        )
        return self

    def close(self) -> None:
        """End the child if it is still there (never used, failed, or cancelled)."""
        if self.child is not None:
            _end(self.child)
            self.child = None

    def run(self, plan: Onnx2TfPlan, log: Callable[[str], None], check: Callable[[], None], log_file: Path) -> None:
        """Run ``plan`` to the end; raises :class:`Cancelled` (child ended) or :class:`StageError`."""
        if self.child is None:
            self.start()
        child = self.child
        assert child is not None and child.stdin is not None
        try:
            with log_file.open("w") as sink:
                sink.write("$ onnx2tf " + " ".join(plan.argv) + "\n")
                request = {"argv": plan.argv, "cwd": str(plan.workdir), "quantize": plan.quantize, "ranges": plan.ranges}
                child.stdin.write(json.dumps(request) + "\n")
                child.stdin.close()
                self._pump(child, sink, log, check)
        except BaseException:
            self.close()
            raise
        self.child = None
        if child.returncode != 0:
            tail = [line for line in log_file.read_text().splitlines() if line.strip()][-3:]
            raise StageError(log_file, f"onnx2tf failed (exit {child.returncode}): " + " | ".join(tail))
        missing = [str(p.name) for p in plan.outputs.values() if not p.is_file()]
        if missing:
            raise StageError(log_file, "onnx2tf did not write " + ", ".join(missing))

    @staticmethod
    def _pump(child: subprocess.Popen, sink: TextIO, log: Callable[[str], None], check: Callable[[], None]) -> None:
        """Copy the child's output to the log file and ``log`` while checking for cancel every 50 ms."""
        assert child.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()

        def read() -> None:
            for line in child.stdout:  # type: ignore[union-attr]
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        while True:
            check()
            try:
                line = lines.get(timeout=0.05)
            except queue.Empty:
                continue
            if line is None:
                break
            sink.write(line)
            if line.strip() and not is_noise(line):
                log(_plain(line))
        child.wait()


# TensorFlow's C++ logging (absl): "E0000 00:00:1795294573.298743   12165 cuda_dnn.cc:8579] Unable to
# register cuDNN factory..." and the like. They say nothing about the conversion, look like errors, and
# fill the studio's log: they stay in the log file and never reach the stage's log lines.
_ABSL = re.compile(r"^[EWIF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w.]+:\d+\] ")
_NOISE = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",)


def is_noise(line: str) -> bool:
    """TensorFlow's start-up and converter chatter (cuDNN/cuBLAS factories, MLIR passes, ignored flags)."""
    text = _plain(line).strip()
    return bool(_ABSL.match(text)) or text in _NOISE


def _plain(line: str) -> str:
    """Without terminal colour codes."""
    return re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip()


def _end(child: subprocess.Popen) -> None:
    if child.poll() is None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    child.wait()
