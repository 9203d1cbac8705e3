"""int8 before and after repair, for the zoo sample (and any models given): closed-loop scores.

Each model goes through the default ``sb3-studio convert --to tflite-int8``; the table shows the
original's return, plain post-training int8 and the int8 artifact the studio keeps (repaired or not),
with the closed-loop score (1 = as good as the original, 0 = random) over the run's episodes.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from converted import convert

ZOO = Path(__file__).resolve().parents[2] / "shared" / "zoo-sample"


def main() -> None:
    models = [Path(p) for p in sys.argv[1:]] or sorted(ZOO.glob("*/*/*.zip"))
    out = Path(tempfile.mkdtemp(prefix="sb3-studio-int8-"))
    rows = []
    for model in models:
        manifest, seconds = convert(model, "tflite-int8", out)
        kept = manifest["artifacts"]["tflite_int8"]
        plain = manifest["artifacts"].get("tflite_int8_plain", kept)
        closed_plain = plain["verification"]["closed_loop"]
        closed_kept = kept["verification"]["closed_loop"]
        rows.append((f"{model.parent.parent.name} {manifest['model']['environment']['id']}",
                     closed_kept["original_mean"], closed_plain["mean"], closed_plain["score"], closed_kept["mean"],
                     closed_kept["score"], kept.get("method", "plain (no repair needed)"), seconds))
        print(f"{rows[-1][0]}: done in {seconds:.0f} s", file=sys.stderr, flush=True)
    print(f"{'agent':<34} {'original':>9} {'plain int8':>11} {'score':>6} {'kept int8':>10} {'score':>6}  how (seconds)")
    for name, original, plain, plain_score, kept, kept_score, method, seconds in rows:
        print(f"{name:<34} {original:9.1f} {plain:11.1f} {plain_score:6.2f} {kept:10.1f} {kept_score:6.2f}  "
              f"{method} ({seconds:.0f} s)")


if __name__ == "__main__":
    main()
