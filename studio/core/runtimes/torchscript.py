"""A TorchScript policy (``--to torchscript``), run by torch's TorchScript interpreter in Python."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..deploy.torchscript import POLICY_IO_ENTRY
from ..policy_io import PolicyIO


class TorchScriptRuntime:
    name = "torchscript"

    def __init__(self, path: Path, threads: int = 1) -> None:
        import torch

        torch.set_num_threads(threads)
        self._torch = torch
        files = {POLICY_IO_ENTRY: ""}
        self.module = torch.jit.load(str(path), map_location="cpu", _extra_files=files)
        if not files[POLICY_IO_ENTRY]:
            raise ValueError(f"{path}: no SB3 Studio I/O description inside; export it with sb3-studio")
        self.io = PolicyIO.from_json(json.loads(files[POLICY_IO_ENTRY]))
        self._names = [spec.name for spec in self.io.inputs]

    def predict(self, observation: Any) -> np.ndarray:
        from_numpy = self._torch.from_numpy
        if self.io.plain and type(observation) is np.ndarray and observation.dtype == np.float32:
            inputs = [from_numpy(np.ascontiguousarray(observation).reshape((-1, *self.io.inputs[0].shape)))]
        else:
            feeds = self.io.feeds(observation)
            inputs = [from_numpy(feeds[name]) for name in self._names]
        with self._torch.inference_mode():
            return self.io.action_from(self.module(*inputs).numpy())
