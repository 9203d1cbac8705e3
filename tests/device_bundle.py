"""A device bundle made by hand, exactly as BUNDLE.md lays it out, until ``--to bundle`` is on main.

The runner is ``tests/bundle_stub/sb3_runner.py`` (flat observations only); the golden vectors are
observations the original visits and its own actions.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
from helpers import visited_observations

from studio.core.loading import load_model
from studio.core.pipeline.run_folder import read_manifest

STUB = Path(__file__).with_name("bundle_stub") / "sb3_runner.py"
FILES = {"tflite_fp32": ("policy_float32.tflite", "float"), "tflite_int8": ("policy_int8.tflite", "int8"),
         "edgetpu": ("policy_int8_edgetpu.tflite", "int8")}


def make_bundle(run_dir: Path, golden_count: int = 200, runner: Path = STUB) -> Path:
    run = read_manifest(run_dir)
    loaded = load_model(run["model"].get("resolved") or run["model"]["file"])
    bundle = run_dir / "bundle"
    bundle.mkdir()
    observations = visited_observations(loaded, golden_count, seed=1).astype(np.float32)
    np.savez(bundle / "golden.npz", observation=observations, action=loaded.predict(observations))
    artifacts = {}
    for key, (name, kind) in FILES.items():
        if key not in run["artifacts"]:
            continue
        shutil.copy(run_dir / run["artifacts"][key]["path"], bundle / name)
        artifacts[key] = {"file": name, "sha256": hashlib.sha256((bundle / name).read_bytes()).hexdigest(), "kind": kind}
        if key == "edgetpu":
            artifacts[key]["delegate"] = "edgetpu"
    manifest = {
        "format": "sb3-studio-bundle/1",
        "model": {"algorithm": loaded.algo, "env_id": loaded.env_id, "source": loaded.path.name,
                  "sha256": run["model"].get("sha256")},
        "io": run["artifacts"]["onnx"]["io"],
        "artifacts": artifacts,
        "golden": {"file": "golden.npz", "count": golden_count},
        # int8 is measured and judged by the closed loop: this bound only fails a broken model.
        "bounds": {"float": {"min_agreement_percent": 100.0, "max_abs_error": 1e-5},
                   "int8": {"min_agreement_percent": 50.0, "max_abs_error": 0.5}},
    }
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2))
    shutil.copy(runner, bundle / "sb3_runner.py")
    (bundle / "README.md").write_text("Run: python3 sb3_runner.py check\n")
    return bundle
