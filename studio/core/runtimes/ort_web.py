"""onnxruntime-web under Node: a web folder's own ``policy.js``, driven from Python.

One Node process per runtime keeps the policy loaded; each :meth:`predict` sends a batch of raw
observations (one JSON line, the arrays as base64 float32) and Node answers with one action per
observation, calling the module's ``predict`` for each exactly as a page would. The pipe costs tens of
microseconds per call: :meth:`latency_in_node` times ``predict`` and the bare ``session.run`` inside
Node instead.
"""

from __future__ import annotations

import base64
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..children import neutral_cwd
from ..policy_io import PolicyIO
from .base import RuntimeUnavailable


class OrtWebRuntime:
    name = "ort-web"

    def __init__(self, folder: Path) -> None:
        from ..deploy.web import NODE_RUNNER, find_node

        node, self.node_version = find_node()
        if not (Path(folder) / "policy.js").is_file():
            raise RuntimeUnavailable(self.name, f"{folder} is not a web folder of sb3-studio (no policy.js)",
                                     "convert with --to web")
        self._stderr = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: it can never fill up and block Node
        self._child = subprocess.Popen([node, str(NODE_RUNNER), str(Path(folder).resolve())], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=self._stderr, text=True, cwd=neutral_cwd())
        ready = self._receive()
        self.io = PolicyIO.from_json(ready["io"])
        self.ort_version = ready.get("ort")

    def _receive(self) -> dict[str, Any]:
        assert self._child.stdout is not None
        line = self._child.stdout.readline()
        if not line:
            self._child.kill()
            self._child.wait()
            self._stderr.seek(0)
            error = self._stderr.read().strip().splitlines()
            raise RuntimeError(f"onnxruntime-web under Node ended: {error[-1] if error else 'no output'}")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"onnxruntime-web under Node: {reply['error']}")
        return reply

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._child.stdin is not None
        self._child.stdin.write(json.dumps(request) + "\n")
        self._child.stdin.flush()
        return self._receive()

    def predict(self, observation: Any) -> np.ndarray:
        inputs, rows = {}, 0
        for spec in self.io.inputs:
            value = observation[spec.name] if self.io.dict_observation else observation
            value = np.ascontiguousarray(value, dtype="<f4").reshape((-1, int(np.prod(spec.shape, dtype=np.int64))))
            inputs[spec.name], rows = base64.b64encode(value.tobytes()).decode(), len(value)
        actions = self._ask({"predict": {"rows": rows, "inputs": inputs}})["actions"]
        return np.asarray(actions, dtype=self.io.action.env_dtype).reshape((-1, *self.io.action.shape))

    def latency_in_node(self, calls: int = 2000, warmup: int = 200) -> dict[str, float]:
        """Median microseconds per call inside Node: the module's ``predict`` and the bare ``session.run``."""
        reply = self._ask({"bench": {"calls": calls, "warmup": warmup}})
        return {"predict_p50_us": float(np.median(reply["predict_us"])), "raw_p50_us": float(np.median(reply["raw_us"])),
                "calls": calls}

    def close(self) -> None:
        if self._child.poll() is None:
            assert self._child.stdin is not None
            self._child.stdin.close()
            try:
                self._child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait()

    def __del__(self) -> None:
        child = getattr(self, "_child", None)
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
