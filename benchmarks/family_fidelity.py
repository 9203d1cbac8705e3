"""The agents of the families beyond the zoo sample (RecurrentPPO, MaskablePPO, CrossQ, a CNN policy),
through every format: the original against random, and each artifact's fidelity.

Each agent of ``tests/data/agents`` goes through the default ``sb3-studio convert --to all``. Printed per
agent: the original's and a random policy's mean return over the run's closed-loop episodes; per
format, open-loop fidelity on the states the original visits (agreement, or the max error in action
units) and the closed-loop score (1 = as good as the original, 0 = random); for int8, how the kept
model was made; and the Edge TPU readiness line.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from converted import convert

AGENTS = Path(__file__).resolve().parents[1] / "tests" / "data" / "agents"
FORMATS = [("onnx", "ONNX"), ("tflite_fp32", "float32"), ("tflite_fp16", "float16"), ("tflite_int8", "int8")]


def _fidelity(artifact: dict) -> str:
    verification = artifact["verification"]
    visited = verification["sources"].get("rollout") or next(iter(verification["sources"].values()))
    open_loop = (f"{visited['agreement_percent']:.1f} %" if "agreement_percent" in visited
                 else f"{visited['max_abs_error']:.1e}")
    closed = verification.get("closed_loop")
    return open_loop + (f", score {closed['score']:.2f}" if closed and closed.get("score") is not None else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, help="run folders here (kept; a second run restores what is unchanged)")
    args = parser.parse_args()
    models = args.models or sorted(AGENTS.glob("*/*/*.zip"))
    out = args.out or Path(tempfile.mkdtemp(prefix="sb3-studio-families-"))
    for model in models:
        manifest, seconds = convert(model, "all", out)
        reference = manifest["closed_loop"]
        artifacts = manifest["artifacts"]
        cells = [_fidelity(artifacts[key]) if key in artifacts else "-" for key, _ in FORMATS]
        how = artifacts.get("tflite_int8", {}).get("method", "plain")
        if "tflite_int8_plain" in artifacts:
            how += f" (plain int8: {_fidelity(artifacts['tflite_int8_plain'])})"
        readiness = next((stage["summary"] for stage in manifest["stages"] if stage["name"] == "edgetpu-readiness"), "")
        print(f"{manifest['model']['algorithm']} {reference['env_id']}: original {reference['original']['mean']:.2f} "
              f"vs random {reference['random']['mean']:.2f} ({reference['episodes']} episodes); "
              + "; ".join(f"{label} {cell}" for (_, label), cell in zip(FORMATS, cells))
              + f"; int8 kept: {how}; Edge TPU: {readiness}; {seconds:.0f} s, status {manifest['status']}", flush=True)


if __name__ == "__main__":
    main()
