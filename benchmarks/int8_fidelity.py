"""int8 before and after repair, per agent: closed-loop scores with their intervals, the repair kept and its cost.

    .venv/bin/python benchmarks/int8_fidelity.py [MODEL.zip ...] [--markdown] [--out DIR]

Each model goes through the default ``sb3-studio convert --to tflite-int8`` in its own process (the
zoo sample's ten agents, and the agents of int8's failure classes trained here, when no model is
given). Printed per agent: the original's return, plain post-training int8's and the kept int8's
closed-loop score (1 = as good as the original, 0 = random) with its 95 % interval and the episodes
it took, the verdict against the noise floor, the repair kept, the repair's own seconds (from
``run.json``) and the whole conversion's. ``--markdown`` prints the README's table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from converted import convert

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO.parent / "shared" / "zoo-sample"
TRAINED = REPO / "tests" / "data" / "int8_agents"


def row(model: Path, manifest: dict, seconds: float) -> dict:
    artifacts = manifest["artifacts"]
    kept = artifacts["tflite_int8"]
    plain = artifacts.get("tflite_int8_plain", kept)
    closed_plain, closed_kept = plain["verification"]["closed_loop"], kept["verification"]["closed_loop"]
    repair = kept.get("repair") or {}
    stage = next((s for s in manifest["stages"] if s["name"] == "int8-repair"), {})
    return {
        "agent": f"{model.parent.parent.name.upper()} {manifest['model']['environment']['id']}",
        "original": closed_kept["original_mean"],
        "plain": (closed_plain["score"], closed_plain.get("score_interval"), closed_plain["episodes"], closed_plain["verdict"]),
        "kept": (closed_kept["score"], closed_kept.get("score_interval"), closed_kept["episodes"], closed_kept["verdict"]),
        "how": kept.get("method", "plain (no repair needed)") if kept.get("repaired") else
        ("plain (no repair needed)" if not repair else f"none kept: best was {repair.get('kept')}"),
        "repair_seconds": repair.get("seconds", stage.get("seconds", 0.0)),
        "seconds": seconds,
        "status": stage.get("status"),
    }


def _score(value: tuple) -> str:
    score, interval, episodes, verdict = value
    if score is None:
        return "not scored"
    low, high = interval or (score, score)
    return f"{score:.2f} [{low:.2f}, {high:.2f}] ({episodes} ep., {verdict})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    models = args.models or [*sorted(ZOO.glob("*/*/*.zip")), *sorted(TRAINED.glob("*/*/*.zip"))]
    out = args.out or Path(tempfile.mkdtemp(prefix="sb3-studio-int8-"))
    rows = []
    for model in models:
        manifest, seconds = convert(model, "tflite-int8", out)
        rows.append(row(model, manifest, seconds))
        print(f"{rows[-1]['agent']}: {_score(rows[-1]['kept'])} in {seconds:.0f} s", file=sys.stderr, flush=True)
    if args.markdown:
        print("| agent | original return | plain int8 score [95 % interval] | kept int8 score [95 % interval] | "
              "how | repair seconds |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            plain = f"**{_score(r['plain'])}**" if r["plain"][3] == "failed" else _score(r["plain"])
            print(f"| {r['agent']} | {r['original']:.1f} | {plain} | {_score(r['kept'])} | {r['how']} | "
                  f"{r['repair_seconds']:.0f} |")
        return
    print(f"{'agent':<38} {'original':>9}  {'plain int8':<44} {'kept int8':<44} how (repair s / all s)")
    for r in rows:
        print(f"{r['agent']:<38} {r['original']:9.1f}  {_score(r['plain']):<44} {_score(r['kept']):<44} "
              f"{r['how']} ({r['repair_seconds']:.0f} / {r['seconds']:.0f})")


if __name__ == "__main__":
    main()
