"""The runtime interface."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class RuntimeUnavailable(Exception):
    """This runtime cannot run here; ``reason`` says why and ``hint`` how to get it."""

    def __init__(self, runtime: str, reason: str, hint: str) -> None:
        self.runtime, self.reason, self.hint = runtime, reason, hint
        super().__init__(f"{runtime} not available: {reason} ({hint})")


class Runtime(Protocol):
    name: str

    def predict(self, observation: Any) -> np.ndarray:
        """Environment actions for a batch of raw environment observations."""
        ...
