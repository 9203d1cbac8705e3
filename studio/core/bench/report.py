"""Bench results as a table on screen and as JSON and CSV files.

Rows measured on a device (``DEVICE:RUNTIME``) carry what the device's runner measures: latency
percentiles of ``predict`` and of the bare call, and its check against the golden vectors; figures
it does not measure show as "-".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_csv, atomic_write_text

_DEVICE_FIELDS = ("device", "artifact", "delegate", "status")


def rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, entry in results["runtimes"].items():
        where = {k: entry[k] for k in _DEVICE_FIELDS if k in entry}
        if not entry.get("available"):
            out.append({"runtime": name, **where, "available": False, "reason": entry.get("reason"),
                        "hint": entry.get("hint")})
            continue
        for batch, stats in entry.get("batches", {}).items():
            out.append({
                "runtime": name, **where, "available": True, "batch": int(batch),
                **{k: _round(v, 3) for k, v in stats.items() if k not in ("batch", "raw")},
                "raw_p50_us": _round(stats["raw"]["p50_us"], 3) if "raw" in stats else None,
                "load_ms": _round(entry.get("load_ms"), 1), "first_call_us": _round(entry.get("first_call_us"), 1),
                "file_bytes": entry.get("file_bytes"), "peak_rss_mb": _round(entry.get("peak_rss_mb"), 1),
                "agreement_with_sb3_percent": entry.get("agreement_with_sb3_percent"),
                **({"reason": entry["reason"]} if entry.get("reason") else {}),
            })
    return out


def _round(value: Any, digits: int) -> Any:
    return round(value, digits) if isinstance(value, float) else value


def _cell(value: Any, form: str, scale: float = 1.0) -> str:
    return "-" if value is None else format(value / scale, form)


def table(results: dict[str, Any]) -> str:
    header = ("runtime", "batch", "p50 us", "raw p50", "wrapper", "p90 us", "p99 us", "max us", "p99/p50", "obs/s",
              "x SB3", "load ms", "first us", "size KiB", "peak MB")
    lines = [header]
    notes = []
    for row in rows(results):
        if not row["available"]:
            notes.append(f"{row['runtime']}: not available: {row['reason']}" + (f" ({row['hint']})" if row.get("hint") else ""))
            continue
        if row.get("reason"):
            notes.append(f"{row['runtime']}: check failed: {row['reason']}")
        lines.append((row["runtime"], str(row["batch"]), _cell(row["p50_us"], ".2f"), _cell(row.get("raw_p50_us"), ".2f"),
                      _cell(row.get("wrapper_overhead_percent"), "+.1f") + ("%" if row.get("wrapper_overhead_percent") is not None else ""),
                      _cell(row["p90_us"], ".1f"), _cell(row["p99_us"], ".1f"), _cell(row["max_us"], ".1f"),
                      _cell(row.get("spread_p99_p50"), ".2f"), _cell(row.get("throughput_obs_per_s"), ",.0f"),
                      _cell(row.get("speedup_vs_sb3_p50"), ".1f"), _cell(row.get("load_ms"), ".0f"),
                      _cell(row.get("first_call_us"), ".0f"), _cell(row.get("file_bytes"), ".0f", 1024),
                      _cell(row.get("peak_rss_mb"), ".0f")))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.rjust(widths[i]) if i else cell.ljust(widths[i]) for i, cell in enumerate(line))
            for line in lines]
    overheads = {row["harness_overhead_us"] for row in rows(results) if row.get("harness_overhead_us") is not None}
    if overheads:
        text.append(f"\nharness overhead per call (an empty call through the same loop): "
                    f"{min(overheads):.2f}-{max(overheads):.2f} us, included in the figures above")
    if any(row.get("raw_p50_us") is not None for row in rows(results)):
        text.append("raw p50: the bare runtime call (set_tensor/invoke/get_tensor, session.run) on prepared inputs, "
                    "timed in alternating chunks with predict; wrapper: what the studio's predict adds to it")
    for name, device in results.get("devices", {}).items():
        probe = device.get("probe") or {}
        if probe:
            text.append(f"{name} ({device['url']}): Python {probe.get('python')} on {probe.get('machine')}, "
                        f"{probe.get('interpreter') or 'no TFLite interpreter'}; measured by the bundle's runner there")
    return "\n".join(text + ([""] + notes if notes else []))


def write(results: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "bench.json", json.dumps(results, indent=2, default=str) + "\n")
    atomic_write_csv(folder / "bench.csv", rows(results))
