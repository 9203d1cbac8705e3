"""TensorFlow Lite Micro's interpreter (the ``tflite-micro`` package), as a microcontroller runs the model.

Each observation is run on its own (the model has a static batch of one); an int8 model with float32
input and output takes the raw observation as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..policy_io import PolicyIO
from .base import RuntimeUnavailable


class TFLiteMicroRuntime:
    name = "tflite-micro"

    def __init__(self, path: Path, io: PolicyIO, arena_size: int | None = None) -> None:
        try:
            from tflite_micro.python.tflite_micro import runtime
        except ImportError:
            raise RuntimeUnavailable(self.name, "tflite-micro is not installed", "pip install tflite-micro") from None
        from ..deploy.micro import input_names

        self.io = io
        data = Path(path).read_bytes()
        self.interpreter = runtime.Interpreter.from_bytes(data, arena_size=arena_size)
        names = input_names(data)
        self._inputs = []  # per policy input: (the model's input index, shape, dtype, NCHW -> NHWC)
        for position, spec in enumerate(io.inputs):
            index = names.index(f"serving_default_{spec.name}:0") if f"serving_default_{spec.name}:0" in names \
                else position
            detail = self.interpreter.get_input_details(index)
            self._inputs.append((index, tuple(int(d) for d in detail["shape"]), detail["dtype"], spec.channels_first))

    def predict(self, observation: Any) -> np.ndarray:
        feeds = self.io.feeds(observation)
        names = [spec.name for spec in self.io.inputs]
        rows = []
        for row in range(len(feeds[names[0]])):
            for (index, shape, dtype, channels_first), name in zip(self._inputs, names):
                value = feeds[name][row:row + 1]
                if channels_first:
                    value = value.transpose(0, 2, 3, 1)  # the graph's NCHW; the TFLite model takes NHWC
                self.interpreter.set_input(np.ascontiguousarray(value, dtype=dtype).reshape(shape), index)
            self.interpreter.invoke()
            rows.append(self.interpreter.get_output(0))
        return self.io.action_from(np.concatenate(rows))
