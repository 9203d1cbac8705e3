"""Build a corpus of malformed and malicious inputs, by class, from a real zoo agent.

    python tests/hostile/corpus.py OUT_FOLDER     # writes the corpus and prints its index

Each case is a zoo-style folder ``OUT/NAME/ppo/CartPole-v1_1/CartPole-v1.zip`` (model, ``config.yml``,
``args.yml``, ``vecnormalize.pkl`` where the case needs them) and what the studio must do with it:
refuse it with one line naming the file and the problem (``error``), or use it (``ok``: a legitimate
file with something odd about it). Payloads that would run code write ``OUT/PWNED``; no case may create it.
"""

from __future__ import annotations

import base64
import copyreg
import io
import json
import os
import pickle
import struct
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ZOO = HERE.parents[2] / "shared" / "zoo-sample"
BASE = ZOO / "ppo/CartPole-v1_1/CartPole-v1.zip"
NORMALIZED = ZOO / "a2c/Pendulum-v1_1/Pendulum-v1.zip"


@dataclass
class Case:
    name: str
    kind: str  # which class of input
    model: Path
    expect: str  # "error" or "ok"
    says: str = ""  # a phrase the one-line error must contain
    heavy: bool = False  # worth a memory measurement in its own process


class Marker:
    """Unpickling runs a command that creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (os.system, (f"touch {self.marker}",))


class _Raw:
    """Pickles as a call of ``func`` with ``args``, whatever func is (how hostile pickles are made)."""

    def __init__(self, func: Any, *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self):  # noqa: ANN204
        return (self.func, self.args)


def _files(source: Path = BASE) -> dict[str, bytes]:
    with zipfile.ZipFile(source) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write_zip(path: Path, files: dict[str, bytes], compress: int = zipfile.ZIP_STORED) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=compress) as archive:
        for name, raw in files.items():
            archive.writestr(name, raw)
    return path


def _data(files: dict[str, bytes]) -> dict[str, Any]:
    return json.loads(files["data"])


def _with_data(files: dict[str, bytes], data: Any) -> dict[str, bytes]:
    return dict(files, data=json.dumps(data).encode() if not isinstance(data, bytes) else data)


def _pickled(value: Any) -> dict[str, str]:
    return {":type:": "<class 'object'>", ":serialized:": base64.b64encode(pickle.dumps(value, protocol=4)).decode()}


def _entry(files: dict[str, bytes], key: str, value: Any) -> dict[str, bytes]:
    data = _data(files)
    data[key] = value
    return _with_data(files, data)


def _space_state(space: Any) -> Any:
    return space


def _weights(tensors: dict[str, Any]) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    return buffer.getvalue()


def _base_weights() -> dict[str, Any]:
    import torch

    return torch.load(io.BytesIO(_files()["policy.pth"]), weights_only=True)


def _zoo(root: Path, name: str) -> Path:
    folder = root / name / "ppo" / "CartPole-v1_1"
    (folder / "CartPole-v1").mkdir(parents=True, exist_ok=True)
    return folder / "CartPole-v1.zip"


def build(root: Path) -> list[Case]:
    """Write every case below ``root``; the list says what each must do."""
    root.mkdir(parents=True, exist_ok=True)
    marker = root / "PWNED"
    cases: list[Case] = []

    def model(name: str, kind: str, files: dict[str, bytes] | bytes, expect: str = "error", says: str = "",
              heavy: bool = False, compress: int = zipfile.ZIP_STORED) -> Path:
        path = _zoo(root, name)
        if isinstance(files, bytes):
            path.write_bytes(files)
        else:
            _write_zip(path, files, compress)
        cases.append(Case(name, kind, path, expect, says, heavy))
        return path

    base = _files()

    # Not a model at all.
    model("text-as-zip", "container", b"these are my notes\n", says="not a zip file")
    model("empty-file", "container", b"", says="not a zip file")
    model("truncated-zip", "container", BASE.read_bytes()[: len(BASE.read_bytes()) // 2], says="truncated")
    model("zip-without-data", "container", {k: v for k, v in base.items() if k != "data"}, says="no 'data'")
    model("zip-without-weights", "container", {k: v for k, v in base.items() if k != "policy.pth"}, says="no policy.pth")
    model("zip-of-many-entries", "container", {f"e{i}": b"" for i in range(5000)}, says="entries")
    encrypted = model("encrypted-member", "container", base)
    _set_flag(encrypted, "data", 0x1)
    unknown = model("unknown-compression", "container", base)
    _set_method(unknown, "policy.pth", 99)
    model("bomb-policy-pth", "resources", dict(base, **{"policy.pth": b"\0" * (600 * 2**20)}), says="policy.pth",
          heavy=True, compress=zipfile.ZIP_DEFLATED)
    model("unused-huge-member", "resources", dict(base, **{"junk.bin": b"\0" * (2 * 2**30)}), expect="ok",
          heavy=True, compress=zipfile.ZIP_DEFLATED)
    directory = _zoo(root, "a-folder")
    directory.mkdir()
    cases.append(Case("a-folder", "special file", directory, "error", "folder"))
    fifo = _zoo(root, "named-pipe")
    os.mkfifo(fifo)
    cases.append(Case("named-pipe", "special file", fifo, "error", "not a regular file"))
    cases.append(Case("dev-zero", "special file", Path("/dev/zero"), "error", "not a regular file"))
    link = _zoo(root, "link-to-dev-zero")
    link.symlink_to("/dev/zero")
    cases.append(Case("link-to-dev-zero", "special file", link, "error", "not a regular file"))

    # The data JSON.
    model("data-not-json", "json", _with_data(base, b"\x80\x81not json"), says="not SB3's JSON")
    model("data-a-list", "json", _with_data(base, [1, 2, 3]), says="not SB3's JSON")
    model("data-deeply-nested", "json", _with_data(base, b"[" * 200_000 + b"]" * 200_000), says="'data'")
    model("data-huge-integer", "json", _with_data(base, b'{"x": ' + b"9" * 100_000 + b"}"), says="'data'")
    model("data-missing-spaces", "json", _with_data(base, {k: v for k, v in _data(base).items()
                                                           if k != "observation_space"}), says="observation_space")
    for name, value in [("list", [64, 64]), ("string", "dict(net_arch=[64])"), ("number", 3)]:
        model(f"policy-kwargs-{name}", "json", _entry(base, "policy_kwargs", value), says="policy_kwargs")
    model("policy-kwargs-pickled-list", "json", _entry(base, "policy_kwargs", _pickled([1, 2])), says="policy_kwargs")

    # Spaces and architectures no real policy has.
    from gymnasium import spaces

    for name, space, says in [
        ("discrete-zero", _Raw(spaces.Discrete, 0), "observation_space"),
        ("box-low-above-high", None, "observation_space"),
        ("box-huge-shape", _Raw(_fake_box, (100_000, 100_000)), "observation_space"),
        ("box-nan-bounds", _Raw(_fake_box, (4,), float("nan")), "observation_space"),
    ]:
        value = space
        if name == "box-low-above-high":
            value = _swapped_box()
        model(f"space-{name}", "fields", _entry(base, "observation_space", _pickled(value)), says=says)
    model("discrete-action-string-n", "fields", _entry(base, "action_space", _pickled(_Raw(_fake_discrete, "3"))),
          says="action_space")
    for name, kwargs, says in [
        ("net-arch-absurd", {"net_arch": [60_000, 60_000, 60_000]}, "policy_kwargs declare a network"),
        ("net-arch-beyond-width", {"net_arch": [10**7]}, "net_arch"),
        ("net-arch-strings", {"net_arch": ["a", "b"]}, "net_arch"),
        ("net-arch-negative", {"net_arch": [-4]}, "net_arch"),
        ("n-critics-huge", {"n_critics": 10**6}, "n_critics"),
    ]:
        model(f"kwargs-{name}", "fields", _entry(base, "policy_kwargs", _pickled(kwargs)), says=says)

    # Pickles that would run code, or allocate without end.
    for entry in ("observation_space", "policy_kwargs", "_last_obs", "something_else"):
        model(f"payload-in-{entry}", "code", _entry(base, entry, _pickled(Marker(marker))), says="posix.system")
    model("payload-in-weights", "code", dict(base, **{"policy.pth": _weights({"w": Marker(marker)})}),
          says="posix.system")
    from numpy.core.multiarray import _reconstruct

    model("pickle-huge-ndarray", "resources", _entry(base, "_last_obs", _pickled(_Raw(_reconstruct, np.ndarray,
                                                                                       (10**10,), b"f"))),
          says="an array of", heavy=True)
    model("pickle-huge-bytearray", "resources", _entry(base, "_last_obs", _pickled(_Raw(bytearray, 10**10))),
          says="bytearray", heavy=True)
    model("pickle-reconstructor-bytearray", "resources",
          _entry(base, "_last_obs", _pickled(_Raw(copyreg._reconstructor, dict, bytearray, 10**10))),
          says="_reconstructor", heavy=True)

    # Weights.
    import torch

    weights = _base_weights()
    model("weights-empty", "weights", dict(base, **{"policy.pth": b""}), says="policy.pth")
    model("weights-not-torch", "weights", dict(base, **{"policy.pth": pickle.dumps([1, 2, 3])}), says="policy.pth")
    model("weights-wrong-shape", "weights", dict(base, **{"policy.pth": _weights(
        {k: torch.zeros(v.shape[0] + 1, *v.shape[1:]) for k, v in weights.items()})}), says="does not fit")
    model("weights-foreign", "weights", dict(base, **{"policy.pth": _weights({"layer.weight": torch.zeros(3)})}),
          says="does not fit")
    model("weights-nan", "weights", dict(base, **{"policy.pth": _weights(
        {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in weights.items()})}),
          says="NaN")
    model("weights-inf", "weights", dict(base, **{"policy.pth": _weights(
        {k: torch.full_like(v, float("inf")) if v.is_floating_point() else v for k, v in weights.items()})}),
          says="infinite")
    model("weights-storage-missing", "weights", dict(base, **{"policy.pth": _drop_record(_files()["policy.pth"])}),
          says="policy.pth")
    model("weights-legacy-huge-storage", "weights", dict(base, **{"policy.pth": _legacy_bomb()}), says="policy.pth",
          heavy=True)
    inner_bomb = io.BytesIO()
    with zipfile.ZipFile(inner_bomb, "w", zipfile.ZIP_DEFLATED) as inner:
        inner.writestr("archive/data.pkl", pickle.dumps({}))
        inner.writestr("archive/data/0", b"\0" * (600 * 2**20))
    model("weights-inner-zip-bomb", "resources", dict(base, **{"policy.pth": inner_bomb.getvalue()}),
          says="policy.pth", heavy=True, compress=zipfile.ZIP_DEFLATED)

    # VecNormalize statistics beside the model.
    for name, content, says in [
        ("vecnormalize-payload", pickle.dumps(Marker(marker)), "posix.system"),
        ("vecnormalize-garbage", b"\x00\x01garbage", "vecnormalize"),
        ("vecnormalize-wrong-types", _vecnormalize(mean="abc"), "statistics"),
        ("vecnormalize-negative-var", _vecnormalize(var=-np.ones(3)), "negative"),
        ("vecnormalize-nan", _vecnormalize(mean=np.full(3, np.nan)), "NaN"),
        ("vecnormalize-wrong-shape", _vecnormalize(mean=np.zeros(5), var=np.ones(5)), "do not fit"),
        ("vecnormalize-bad-epsilon", _vecnormalize(epsilon=-1.0), "epsilon"),
        ("vecnormalize-bad-clip", _vecnormalize(clip_obs=0.0), "clip_obs"),
    ]:
        path = model(name, "vecnormalize", _files(NORMALIZED), says=says)
        (path.with_suffix("") / "vecnormalize.pkl").write_bytes(content)
    special = model("vecnormalize-dev-zero", "vecnormalize", _files(NORMALIZED), says="regular file")
    (special.with_suffix("") / "vecnormalize.pkl").symlink_to("/dev/zero")

    # The zoo's YAML beside the model: a legitimate model, whose environment is then not made as the zoo made it.
    for name, text, says in [
        ("config-not-utf8", b"\xff\xfe\x00bad", "UTF-8"),
        ("config-a-list", b"- 1\n- 2\n", ""),
        ("config-alias-bomb", b"a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                              b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nenv_wrapper: [*c, *c, *c]\n", "aliases"),
        ("config-python-tag", b"env_wrapper: !!python/object/apply:os.system ['touch PWNED']\n", "cannot read"),
        ("config-deep", b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", "cannot read"),
        ("config-evil-wrapper", b"env_wrapper: os.system\n", "allow-list"),
    ]:
        path = model(name, "yaml", base, expect="ok", says=says)
        (path.with_suffix("") / "config.yml").write_bytes(text)
    path = model("args-module-env", "yaml", base, expect="ok", says="never imports a module a file names")
    (path.with_suffix("") / "args.yml").write_text("env: evil_module:CartPole-v1\n")
    for place in (path.parent, path.with_suffix("")):
        (place / "evil_module.py").write_text(f"open({str(marker)!r}, 'w').write('imported')\n")
    path = model("args-gym-packages", "yaml", base, expect="ok", says="evil_module")
    (path.with_suffix("") / "args.yml").write_text("env: CartPole-v1\ngym_packages: [evil_module]\n")
    (path.parent / "evil_module.py").write_text(f"open({str(marker)!r}, 'w').write('imported')\n")
    path = model("args-not-a-dict", "yaml", base, expect="ok")
    (path.with_suffix("") / "args.yml").write_text("just a string\n")

    (root / "index.json").write_text(json.dumps([{**c.__dict__, "model": str(c.model)} for c in cases], indent=1))
    return cases


def _fake_box(shape: tuple[int, ...], fill: float = 0.0) -> Any:
    from studio.core.safe_pickle import record_class

    record = record_class("space.Box")()
    record.state = {"low": np.full((1,), fill, np.float32), "high": np.full((1,), fill, np.float32), "_shape": shape,
                    "dtype": np.dtype(np.float32)}
    return record


def _fake_discrete(n: Any) -> Any:
    from studio.core.safe_pickle import record_class

    record = record_class("space.Discrete")()
    record.state = {"n": n}
    return record


def _swapped_box() -> Any:
    from gymnasium import spaces

    space = spaces.Box(-1.0, 1.0, (4,), np.float32)
    space.low, space.high = np.full(4, 2.0, np.float32), np.full(4, 1.0, np.float32)
    return space


def _vecnormalize(mean: Any = None, var: Any = None, epsilon: float = 1e-8, clip_obs: float = 10.0) -> bytes:
    """A VecNormalize pickle as SB3 writes it (its state), with the given statistics."""
    from stable_baselines3.common.running_mean_std import RunningMeanStd
    from stable_baselines3.common.vec_env.vec_normalize import VecNormalize

    rms = RunningMeanStd(shape=(3,))
    rms.mean = np.zeros(3) if mean is None else mean
    rms.var = np.ones(3) if var is None else var
    norm = VecNormalize.__new__(VecNormalize)
    norm.__dict__.update(obs_rms=rms, ret_rms=RunningMeanStd(shape=()), clip_obs=clip_obs, clip_reward=10.0,
                         norm_obs=True, norm_reward=False, epsilon=epsilon, gamma=0.99, training=False,
                         venv=None, class_attributes={}, returns=None)
    return pickle.dumps(norm)


def _drop_record(raw: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    records = [i.filename for i in source.infolist() if "/data/" in i.filename]
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename != records[0]:
                target.writestr(info, source.read(info))
    return out.getvalue()


def _legacy_bomb() -> bytes:
    """A pre-zip torch checkpoint whose one storage declares 2^30 floats (4 GiB) and holds ten."""
    import torch

    out = io.BytesIO()
    torch.save({"w": torch.zeros(10)}, out, _use_new_zipfile_serialization=False)
    raw = out.getvalue()
    at = raw.index(b"FloatStorage")
    numel = raw.index(b"K\n", at)  # BININT1 10: the storage's element count
    return raw[:numel] + b"J" + struct.pack("<i", 2**30) + raw[numel + 2:]


def _set_flag(path: Path, member: str, flag: int) -> None:
    """Set a general-purpose flag bit of ``member`` in both the local and the central header."""
    raw = bytearray(path.read_bytes())
    name = member.encode()
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := raw.find(signature, start)) >= 0:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if raw[name_at:name_at + len(name)] == name:
                struct.pack_into("<H", raw, start + offset, struct.unpack_from("<H", raw, start + offset)[0] | flag)
            start += 4
    path.write_bytes(bytes(raw))


def _set_method(path: Path, member: str, method: int) -> None:
    raw = bytearray(path.read_bytes())
    name = member.encode()
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (start := raw.find(signature, start)) >= 0:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if raw[name_at:name_at + len(name)] == name:
                struct.pack_into("<H", raw, start + offset, method)
            start += 4
    path.write_bytes(bytes(raw))


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[1]))
    built = build(Path(sys.argv[1]))
    for case in built:
        print(f"{case.kind:<14} {case.expect:<5} {case.name}")
    print(f"{len(built)} cases in {sys.argv[1]}")
