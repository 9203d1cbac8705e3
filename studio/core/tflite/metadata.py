"""The policy's I/O description inside a TFLite file, as in the ONNX file's metadata.

TFLite models carry named metadata entries (``Model.metadata``: a name and a buffer). The studio
writes :class:`~studio.core.policy_io.PolicyIO` as JSON under the same key as in ONNX, so a TFLite
artifact says by itself how to feed it (an input transform computed on the float side included).
Written and read with LiteRT's own flatbuffer schema: no TensorFlow in the studio's process.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..policy_io import ONNX_METADATA_KEY, PolicyIO

MAX_METADATA_BYTES = 1 << 20  # a PolicyIO is a few kilobytes; a larger entry is not ours


def with_policy_io(data: bytes, io: PolicyIO) -> bytes:
    """``data`` (a TFLite model) with ``io`` as its ``sb3_studio.policy_io`` metadata (replacing any earlier)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(bytearray(data), 0))
    if any(buffer.offset for buffer in model.buffers or []):
        raise ValueError("TFLite models with out-of-line buffers (over 2 GB) cannot take metadata here")
    text = io.dumps().encode()
    model.metadata = [m for m in (model.metadata or []) if _name(m.name) != ONNX_METADATA_KEY]
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(text, np.uint8)
    model.buffers = [*(model.buffers or []), buffer]
    entry = schema.MetadataT()
    entry.name = ONNX_METADATA_KEY
    entry.buffer = len(model.buffers) - 1
    model.metadata.append(entry)
    builder = flatbuffers.Builder(len(data) + len(text) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def read_policy_io(path: Path) -> PolicyIO | None:
    """The PolicyIO stored in a TFLite file, or None when it has none."""
    from ai_edge_litert import schema_py_generated as schema

    data = bytearray(Path(path).read_bytes())
    model = schema.Model.GetRootAs(data, 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if _name(entry.Name()) != ONNX_METADATA_KEY:
            continue
        buffer = model.Buffers(entry.Buffer())
        if buffer is None or buffer.DataLength() > MAX_METADATA_BYTES:
            return None
        return PolicyIO.from_json(json.loads(buffer.DataAsNumpy().tobytes().decode()))
    return None


def _name(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")
