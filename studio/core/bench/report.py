"""Bench results as a table on screen and as JSON and CSV files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_csv, atomic_write_text


def rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, entry in results["runtimes"].items():
        if not entry.get("available"):
            out.append({"runtime": name, "available": False, "reason": entry.get("reason"), "hint": entry.get("hint")})
            continue
        for batch, stats in entry.get("batches", {}).items():
            out.append({
                "runtime": name, "available": True, "batch": int(batch),
                **{k: round(v, 3) if isinstance(v, float) else v for k, v in stats.items() if k not in ("batch", "raw")},
                "raw_p50_us": round(stats["raw"]["p50_us"], 3) if "raw" in stats else None,
                "load_ms": round(entry["load_ms"], 1), "first_call_us": round(entry["first_call_us"], 1),
                "file_bytes": entry.get("file_bytes"), "peak_rss_mb": round(entry.get("peak_rss_mb") or 0, 1),
                "agreement_with_sb3_percent": entry.get("agreement_with_sb3_percent"),
            })
    return out


def table(results: dict[str, Any]) -> str:
    header = ("runtime", "batch", "p50 us", "raw p50", "wrapper", "p90 us", "p99 us", "max us", "p99/p50", "obs/s",
              "x SB3", "load ms", "first us", "size KiB", "peak MB")
    lines = [header]
    notes = []
    for row in rows(results):
        if not row["available"]:
            notes.append(f"{row['runtime']}: not available: {row['reason']} ({row['hint']})")
            continue
        size = f"{row['file_bytes'] / 1024:.0f}" if row.get("file_bytes") else "-"
        speedup = f"{row['speedup_vs_sb3_p50']:.1f}" if row.get("speedup_vs_sb3_p50") else "-"
        raw = f"{row['raw_p50_us']:.2f}" if row.get("raw_p50_us") is not None else "-"
        wrapper = f"{row['wrapper_overhead_percent']:+.1f}%" if row.get("wrapper_overhead_percent") is not None else "-"
        lines.append((row["runtime"], str(row["batch"]), f"{row['p50_us']:.2f}", raw, wrapper, f"{row['p90_us']:.1f}",
                      f"{row['p99_us']:.1f}", f"{row['max_us']:.1f}", f"{row['spread_p99_p50']:.2f}",
                      f"{row['throughput_obs_per_s']:,.0f}", speedup, f"{row['load_ms']:.0f}",
                      f"{row['first_call_us']:.0f}", size, f"{row['peak_rss_mb']:.0f}"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.rjust(widths[i]) if i else cell.ljust(widths[i]) for i, cell in enumerate(line))
            for line in lines]
    overheads = {row["harness_overhead_us"] for row in rows(results) if row.get("available")}
    if overheads:
        text.append(f"\nharness overhead per call (an empty call through the same loop): "
                    f"{min(overheads):.2f}-{max(overheads):.2f} us, included in the figures above")
    if any(row.get("raw_p50_us") is not None for row in rows(results)):
        text.append("raw p50: the bare runtime call (set_tensor/invoke/get_tensor, session.run) on prepared inputs, "
                    "timed in alternating chunks with predict; wrapper: what the studio's predict adds to it")
    return "\n".join(text + ([""] + notes if notes else []))


def write(results: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "bench.json", json.dumps(results, indent=2, default=str) + "\n")
    atomic_write_csv(folder / "bench.csv", rows(results))
