"""The device bundle (``--to bundle``): a folder to copy to a Raspberry Pi or any Linux board, which
proves the TFLite models on the device itself. The contract (``manifest.json``, ``sb3_runner.py``'s
commands and JSON) is ``sb3-studio-bundle/1``; see ``sb3_runner.py``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..observations import ObservationSet
from .sb3_runner import FORMAT, MANIFEST

RUNNER = Path(__file__).with_name("sb3_runner.py")
GOLDEN = "golden.npz"
# Bundle file names per run.json artifact key (the contract's names).
FILES = {"tflite_fp32": "policy_float32.tflite", "tflite_int8": "policy_int8.tflite",
         "edgetpu": "policy_int8_edgetpu.tflite"}
KINDS = {"tflite_fp32": "float", "tflite_int8": "int8", "edgetpu": "int8"}
GOLDEN_MAX_BYTES = 16 << 20  # image observations: keep the bundle small enough to copy around


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def golden_arrays(sources: list[ObservationSet], reference: Any, thresholds: Any, studio: dict[str, Any],
                  dict_observation: bool) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The golden pairs and the float judgement written out per source.

    Arrays: observations (float32, the environment's layout), the original's actions, each one's source,
    the studio's own actions from each artifact (``studio[key](batch)``), and what the studio judges float
    artifacts against: the original's float64 actions (Box) or its float-precision ties (discrete).
    ``reference`` is the run's :class:`~studio.core.float_reference.FloatReference`.
    """
    from ..verification import error_bound, fallback_bound, float_ties

    arrays: dict[str, list[np.ndarray]] = {}
    per_source: dict[str, Any] = {}
    for number, source in enumerate(sources):
        ref = reference.of(source, "float32")
        batch = source.batch
        rows = len(source)
        size = sum(np.asarray(v).nbytes for v in (batch.values() if isinstance(batch, dict) else [batch])) / max(rows, 1)
        keep = max(1, min(rows, int(GOLDEN_MAX_BYTES / max(1, len(sources)) / max(size, 1))))
        batch = {k: v[:keep] for k, v in batch.items()} if isinstance(batch, dict) else batch[:keep]
        parts = {f"observation.{k}": v for k, v in batch.items()} if dict_observation else {"observation": batch}
        for key, value in parts.items():
            arrays.setdefault(key, []).append(np.asarray(value, dtype=np.float32))
        arrays.setdefault("action", []).append(np.asarray(ref.actions[:keep]))
        arrays.setdefault("source", []).append(np.full(keep, number, dtype=np.int64))
        for key, predict in studio.items():
            arrays.setdefault(f"studio.{key}", []).append(np.asarray(predict(batch)))
        if reference.discrete:
            arrays.setdefault("float_tie", []).append(float_ties(ref, thresholds)[:keep])
            per_source[source.source] = {}
        elif ref.actions64 is not None and ref.own_error is not None:
            arrays.setdefault("action64", []).append(ref.actions64[:keep])
            per_source[source.source] = {"max_error_vs_float64": error_bound(ref, thresholds)}
        else:
            per_source[source.source] = {"max_error": fallback_bound(ref.actions)}
    golden = {key: np.concatenate(parts) for key, parts in arrays.items()}
    return golden, {**thresholds.to_json(), "sources": per_source}


def write_bundle(folder: Path, run_dir: Path, artifacts: dict[str, Any], model: dict[str, Any], io: dict[str, Any],
                 golden: dict[str, np.ndarray], sources: list[str], bounds: dict[str, Any]) -> dict[str, Any]:
    """Write ``folder`` (models, runner, golden pairs, manifest, README); returns the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = {}
    for key, name in FILES.items():
        if key not in artifacts:
            continue
        shutil.copyfile(run_dir / artifacts[key].path, folder / name)
        entries[key] = {"file": name, "sha256": _sha256(folder / name), "kind": KINDS[key]}
        if "io" in artifacts[key].details:  # a repaired int8 model's own I/O (an input transform on the float side)
            entries[key]["io"] = artifacts[key].details["io"]
        if key == "edgetpu":
            entries[key]["delegate"] = "edgetpu"
    for key, value in golden.items():
        if np.issubdtype(value.dtype, np.integer):
            golden[key] = value.astype(np.int64)
        elif np.issubdtype(value.dtype, np.floating) and key != "action64":
            golden[key] = value.astype(np.float32)
    np.savez(folder / GOLDEN, **golden)
    shutil.copyfile(RUNNER, folder / RUNNER.name)
    manifest = {
        "format": FORMAT,
        "model": model,
        "io": io,
        "artifacts": entries,
        "golden": {"file": GOLDEN, "sha256": _sha256(folder / GOLDEN), "count": int(len(golden["action"])),
                   "sources": sources},
        "bounds": bounds,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    (folder / "README.md").write_text(readme(manifest))
    return manifest


def run_check(folder: Path, calls: int = 1000, warmup: int = 100, python: str | None = None) -> tuple[int, dict[str, Any]]:
    """``sb3_runner.py check --json`` in ``folder`` with ``python`` (default: this one, isolated: ``-I``
    keeps the working folder and user site off the path, so the runner sees nothing of the studio)."""
    folder = folder.resolve()
    command = [python or sys.executable, "-I", str(folder / RUNNER.name), "check", "--json", "--calls", str(calls),
               "--warmup", str(warmup)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=folder, timeout=600)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        report = {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return done.returncode, report


def readme(manifest: dict[str, Any]) -> str:
    model = manifest["model"]
    listed = "\n".join(f"- `{entry['file']}`: {key} ({entry['kind']}"
                       f"{', Edge TPU delegate' if entry.get('delegate') == 'edgetpu' else ''})"
                       for key, entry in manifest["artifacts"].items())
    return f"""# {model.get('algorithm')} {model.get('env_id') or ''}: a device bundle from SB3 Studio

Copy this folder to the device (a Raspberry Pi, any Linux board) and check it there:

    python3 -m pip install numpy ai-edge-litert      # or tflite-runtime where ai-edge-litert has no wheel
    python3 sb3_runner.py check                      # every model on the golden observations, and its latency
    python3 sb3_runner.py check --json               # the same, as JSON
    python3 sb3_runner.py probe                      # Python, interpreter, Edge TPU delegate
    python3 sb3_runner.py predict observations.npy   # actions for a batch of observations

`check` runs each model on the {manifest['golden']['count']} golden observations in `golden.npz`, compares its
actions with the original policy's as the studio did (float models: the studio's float bounds; int8 models:
measured and reported, as in the studio), and times `predict` and the bare `set_tensor`/`invoke`/`get_tensor`
call. Exit code 0: everything that could run passed; 1: a check failed; 2: bad usage or a damaged bundle.

{listed}

Python 3.9 or newer, numpy and a TFLite interpreter are all it needs; the Edge TPU model also needs
`libedgetpu.so.1` (Coral's `libedgetpu1-std`) and a Coral device. In your own code:

    import json, numpy as np
    from sb3_runner import TFLitePolicy, load_interpreter
    manifest = json.load(open("manifest.json"))
    io = manifest["artifacts"]["tflite_int8"].get("io") or manifest["io"]  # a repaired int8 model's own I/O
    policy = TFLitePolicy(load_interpreter("policy_int8.tflite"), io)
    action = policy.predict(np.asarray(observation, np.float32)[None])[0]
"""
