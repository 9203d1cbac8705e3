"""Read the weights in an SB3 file (``policy.pth``, a ``torch.save`` of a state dict) without torch's
unpickler and with every size checked before anything is allocated.

``torch.load(weights_only=True)`` runs no code, but it trusts the sizes a file declares: the old
(pre-zip) format allocates each storage at its declared size before reading it, so a 100-byte file can
ask for gigabytes. This reader handles both formats torch has written since 1.0:

* the zip format (torch >= 1.6): ``*/data.pkl`` plus one record per storage, ``*/data/KEY``;
* the legacy format: three small pickles, the state dict's pickle, the storage keys, then each storage
  as an 8-byte element count and its bytes.

The pickles resolve only what a state dict holds (tensors, storages, ``OrderedDict``); a storage must
exist and hold exactly what was declared, every tensor view must lie inside its storage, and the total
is capped. Anything else is a :class:`WeightsError` naming the problem.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from typing import Any, BinaryIO


MAX_TENSORS = 10_000
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

# torch storage class names -> (numpy dtype name or None, torch dtype name, element size)
_STORAGES = {
    "FloatStorage": ("float32", "float32", 4), "DoubleStorage": ("float64", "float64", 8),
    "HalfStorage": ("float16", "float16", 2), "BFloat16Storage": (None, "bfloat16", 2),
    "LongStorage": ("int64", "int64", 8), "IntStorage": ("int32", "int32", 4), "ShortStorage": ("int16", "int16", 2),
    "CharStorage": ("int8", "int8", 1), "ByteStorage": ("uint8", "uint8", 1), "BoolStorage": ("bool", "bool", 1),
}


class WeightsError(ValueError):
    pass


class ForbiddenInWeights(WeightsError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"names {name}, which a state dict does not hold")


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name


class _Storage:
    def __init__(self, kind: str, data: bytes) -> None:
        self.kind, self.data = kind, data


def _element(kind: str) -> tuple[str | None, str, int]:
    if kind not in _STORAGES:
        raise WeightsError(f"a tensor of unsupported type {kind}")
    return _STORAGES[kind]


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *_: Any) -> Any:
    """``torch._utils._rebuild_tensor_v2`` with every index checked against the storage."""
    import torch

    if not isinstance(storage, _Storage):
        raise WeightsError("a tensor without a storage")
    if not (isinstance(offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
            and len(size) == len(stride) <= 8 and all(isinstance(v, int) and v >= 0 for v in (offset, *size, *stride))):
        raise WeightsError("a tensor with a malformed shape")
    numpy_dtype, torch_dtype, item = _element(storage.kind)
    count = len(storage.data) // item
    last = offset + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else offset - 1
    if last >= count or offset > count:
        raise WeightsError("a tensor reaches past the end of its storage")
    flat = torch.frombuffer(bytearray(storage.data), dtype=getattr(torch, torch_dtype)) if count else \
        torch.empty(0, dtype=getattr(torch, torch_dtype))
    if not all(size):
        return torch.empty(size, dtype=flat.dtype)
    return torch.as_strided(flat, size, stride, offset).clone()


class _WeightsUnpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, storages: Any) -> None:
        super().__init__(file)
        self._storages = storages
        self.tensors = 0

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return self._counted
        if module == "torch._utils" and name == "_rebuild_parameter":
            return lambda tensor, requires_grad=False, hooks=None: tensor
        if module == "torch" and name in _STORAGES:
            return _StorageType(name)
        raise ForbiddenInWeights(f"{module}.{name}")

    def _counted(self, *args: Any) -> Any:
        self.tensors += 1
        if self.tensors > MAX_TENSORS:
            raise WeightsError(f"more than {MAX_TENSORS} tensors")
        return _rebuild_tensor(*args)

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise WeightsError("an unknown persistent reference")
        return self._storages(pid[1].name, str(pid[2]), pid[4])


def _check_total(declared: int, cap: int) -> None:
    if declared > cap:
        raise WeightsError(f"declares {declared / 2**20:.0f} MiB of weights, more than the {cap / 2**20:.0f} MiB allowed")


def _load_zip(raw: bytes, cap: int) -> Any:
    archive = zipfile.ZipFile(io.BytesIO(raw))
    infos = archive.infolist()
    if len(infos) > MAX_TENSORS + 16:
        raise WeightsError("too many records")
    _check_total(sum(i.file_size for i in infos), cap)
    pickles = [i for i in infos if i.filename.endswith("/data.pkl") or i.filename == "data.pkl"]
    if len(pickles) != 1:
        raise WeightsError("not a torch checkpoint (no data.pkl)")
    prefix = pickles[0].filename[: -len("data.pkl")]
    records = {i.filename: i for i in infos}

    def storage(kind: str, key: str, numel: Any) -> _Storage:
        _, _, item = _element(kind)
        info = records.get(f"{prefix}data/{key}")
        if info is None or not isinstance(numel, int) or numel < 0 or info.file_size != numel * item:
            raise WeightsError(f"storage {key} is missing or does not hold what it declares")
        return _Storage(kind, archive.read(info))

    return _WeightsUnpickler(io.BytesIO(archive.read(pickles[0])), _memo(storage)).load()


def _load_legacy(raw: bytes, cap: int) -> Any:
    stream = io.BytesIO(raw)
    plain = lambda: _WeightsUnpickler(stream, lambda *a: (_ for _ in ()).throw(WeightsError("a storage in a header"))).load()  # noqa: E731
    if plain() != LEGACY_MAGIC:
        raise WeightsError("not a torch checkpoint")
    plain()  # protocol version
    plain()  # system info
    declared: dict[str, tuple[str, int]] = {}

    def placeholder(kind: str, key: str, numel: Any) -> _Storage:
        _, _, item = _element(kind)
        if not isinstance(numel, int) or numel < 0:
            raise WeightsError("a storage of malformed size")
        declared[key] = (kind, numel)
        _check_total(sum(n * _element(k)[2] for k, n in declared.values()), cap)
        return _Storage(kind, b"")

    # First pass: what storages the state dict declares; no tensor is built (their views are checked later).
    header_end = stream.tell()
    _LegacyScan(stream, _memo(placeholder)).load()
    keys = pickle.loads(_restricted(stream))
    if not isinstance(keys, list) or sorted(map(str, keys)) != sorted(declared):
        raise WeightsError("the storage list does not match the state dict")
    storages = {}
    for key in keys:
        kind, numel = declared[str(key)]
        (count,) = struct.unpack("<q", stream.read(8) or b"\0" * 8)
        data = stream.read(numel * _element(kind)[2])
        if count != numel or len(data) != numel * _element(kind)[2]:
            raise WeightsError(f"storage {key} does not hold what it declares")
        storages[str(key)] = _Storage(kind, data)
    stream.seek(header_end)
    return _WeightsUnpickler(stream, lambda kind, key, numel: storages[key]).load()


class _LegacyScan(_WeightsUnpickler):
    """The first pass over a legacy state dict: storages are placeholders, tensors are not built."""

    def _counted(self, *args: Any) -> Any:
        self.tensors += 1
        if self.tensors > MAX_TENSORS:
            raise WeightsError(f"more than {MAX_TENSORS} tensors")
        return None


def _restricted(stream: BinaryIO) -> bytes:
    """The bytes of the next pickle in ``stream`` (a list of strings), read by a restricted unpickler."""
    start = stream.tell()
    _WeightsUnpickler(stream, lambda *a: None).load()
    end = stream.tell()
    stream.seek(start)
    return stream.read(end - start)


def _memo(make: Any) -> Any:
    made: dict[str, _Storage] = {}

    def storage(kind: str, key: str, numel: Any) -> _Storage:
        if key not in made:
            made[key] = make(kind, key, numel)
        return made[key]
    return storage


def load_state_dict(raw: bytes, cap: int) -> dict[str, Any]:
    """The state dict in ``raw`` (a ``torch.save`` output), at most ``cap`` bytes of weights."""
    try:
        result = _load_zip(raw, cap) if raw[:4] == b"PK\x03\x04" else _load_legacy(raw, cap)
    except WeightsError:
        raise
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, OverflowError, RecursionError, RuntimeError, struct.error, MemoryError) as exc:
        raise WeightsError(f"cannot be read ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not isinstance(result, dict) or not all(isinstance(k, str) for k in result):
        raise WeightsError("does not hold a state dict")
    import torch

    if not all(isinstance(v, torch.Tensor) for v in result.values()):
        raise WeightsError("holds something other than tensors")
    return dict(result)
