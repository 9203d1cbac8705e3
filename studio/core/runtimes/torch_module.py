"""The exported PyTorch module (the graph ONNX is traced from), run eagerly on the CPU."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..loading import LoadedModel


class TorchRuntime:
    name = "torch"

    def __init__(self, loaded: LoadedModel, threads: int = 1) -> None:
        import torch

        from ..export.exact_policy import ExactPolicy

        torch.set_num_threads(threads)
        self._torch = torch
        self.module = ExactPolicy(loaded).eval()
        self.io = self.module.io

    def predict(self, observation: Any) -> np.ndarray:
        feeds = self.io.feeds(observation)
        with self._torch.no_grad():
            output = self.module(*(self._torch.from_numpy(feeds[spec.name]) for spec in self.io.inputs))
        return self.io.action_from(output.numpy())
