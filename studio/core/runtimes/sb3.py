"""The original: SB3's own ``predict(obs, deterministic=True)`` after VecNormalize."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..loading import LoadedModel


class SB3Runtime:
    name = "sb3"

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded

    def predict(self, observation: Any) -> np.ndarray:
        return self.loaded.predict(observation)
