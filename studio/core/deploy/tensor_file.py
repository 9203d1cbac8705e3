"""The ``.tensor`` files the C++ checker reads and writes: small, and trivial to parse in C++.

"SB3T", uint32 dtype (0 float32, 1 int64), uint32 rank, int64 dims[rank], then the values; all
little-endian, row-major.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

MAGIC = b"SB3T"
DTYPES = {0: np.dtype("<f4"), 1: np.dtype("<i8")}


def write_tensor(path: Path, values: np.ndarray) -> None:
    values = np.asarray(values)
    code = 1 if np.issubdtype(values.dtype, np.integer) else 0
    values = np.ascontiguousarray(values, dtype=DTYPES[code])
    header = MAGIC + struct.pack("<II", code, values.ndim) + struct.pack(f"<{values.ndim}q", *values.shape)
    Path(path).write_bytes(header + values.tobytes())


def read_tensor(path: Path) -> np.ndarray:
    data = Path(path).read_bytes()
    if len(data) < 12 or data[:4] != MAGIC:
        raise ValueError(f"{path}: not a .tensor file")
    code, rank = struct.unpack("<II", data[4:12])
    if code not in DTYPES or rank > 8 or len(data) < 12 + 8 * rank:
        raise ValueError(f"{path}: not a .tensor file")
    dims = struct.unpack(f"<{rank}q", data[12:12 + 8 * rank])
    body = data[12 + 8 * rank:]
    if any(d < 0 for d in dims) or len(body) != int(np.prod(dims, dtype=np.int64)) * DTYPES[code].itemsize:
        raise ValueError(f"{path}: truncated or damaged .tensor file")
    return np.frombuffer(body, dtype=DTYPES[code]).reshape(dims).copy()
