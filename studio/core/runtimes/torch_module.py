"""The exported PyTorch module (the graph ONNX is traced from), run eagerly on the CPU."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..loading import LoadedModel


class TorchRuntime:
    name = "torch"

    def __init__(self, loaded: LoadedModel, threads: int = 1) -> None:
        import torch

        from ..export.families import exact_module

        torch.set_num_threads(threads)
        self._torch = torch
        self.module = exact_module(loaded)
        self.io = self.module.io
        self._carrier = None
        if self.io.recurrent_state is not None:
            from ..carried import StateCarrier

            self._carrier = StateCarrier(self.io, lambda feeds: tuple(o.numpy() for o in self._run(feeds)))

    def _run(self, feeds: dict[str, np.ndarray]) -> Any:
        with self._torch.no_grad():
            return self.module(*(self._torch.from_numpy(feeds[spec.name]) for spec in self.io.graph_inputs))

    def predict(self, observation: Any) -> np.ndarray:
        feeds = self.io.feeds(observation)
        if self._carrier is not None:
            return self.io.action_from(self._carrier.actions(feeds))
        return self.io.action_from(self._run(feeds).numpy())

    def reset(self) -> None:
        if self._carrier is not None:
            self._carrier.reset()
