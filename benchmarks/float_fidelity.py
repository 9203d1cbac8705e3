"""Fidelity of the float formats on the zoo sample (and any models given): open loop against float's
own error, closed loop against the original's noise floor.

Each model goes through ``sb3-studio convert --to onnx,tflite-fp32,tflite-fp16``. Per format the table
shows the worst error against a float64 evaluation of the original as a multiple of the original's own
float32 error (Box actions; float16 against the original with float16 weights) or the agreement (discrete
actions), on visited and on sampled observations, and the closed-loop score with its 95 % interval beside
the noise floor's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ZOO = Path(__file__).resolve().parents[2] / "shared" / "zoo-sample"
FORMATS = {"onnx": "ONNX", "tflite_fp32": "float32", "tflite_fp16": "float16"}


def _open_loop(verification: dict) -> str:
    parts = []
    for name, m in verification.get("sources", {}).items():
        if "float64" in m:
            parts.append(f"{m['float64']['ratio']:.1f}x")
        elif "agreement_percent" in m:
            parts.append(f"{m['agreement_percent']:.1f}%")
    return " / ".join(parts)


def _closed(verification: dict) -> str:
    closed = verification.get("closed_loop")
    if not closed or closed.get("score") is None:
        return "-"
    low, high = closed["score_interval"]
    return f"{closed['score']:.2f} [{low:.2f}, {high:.2f}]"


def main() -> None:
    models = [Path(p) for p in sys.argv[1:]] or sorted(ZOO.glob("*/*/*.zip"))
    out = Path(tempfile.mkdtemp(prefix="sb3-studio-float-"))
    print("| agent | environment made as | ONNX | float32 | float16 | float32 closed loop | noise floor | episodes |")
    print("|---|---|---|---|---|---|---|---|")
    for model in models:
        run = out / f"{model.parent.parent.name}-{model.stem}"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "studio.cli", "convert", str(model), "--to", "onnx,tflite-fp32,tflite-fp16",
                        "--out", str(run)], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        manifest = json.loads((run / "run.json").read_text())
        artifacts = manifest["artifacts"]
        env = manifest.get("environment", {})
        made = env.get("env_id", "not made here") + "".join(f" + {w['name']}" for w in env.get("wrappers", []))
        closed = artifacts["tflite_fp32"]["verification"].get("closed_loop") or {}
        floor = (f"{closed['floor_score']:.2f} [{closed['floor_interval'][0]:.2f}, {closed['floor_interval'][1]:.2f}]"
                 if closed.get("floor_score") is not None else "-")
        cells = [_open_loop(artifacts[k]["verification"]) for k in FORMATS]
        print(f"| {model.parent.parent.name.upper()} {manifest['model']['environment']['id']} | {made} | "
              f"{' | '.join(cells)} | {_closed(artifacts['tflite_fp32']['verification'])} | {floor} | "
              f"{closed.get('episodes', '-')} |", flush=True)
        print(f"{model}: {seconds:.0f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
