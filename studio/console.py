"""Print pipeline events on a terminal: a live progress line per stage, then a summary table."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from .core.pipeline.events import RunFinished, StageLog, StageProgress, StageStarted, event_text

BAR = 24
QUIET_SECONDS = 15.0  # without a terminal, a long stage's progress is printed at most this often


def _bar(fraction: float) -> str:
    filled = int(round(fraction * BAR))
    return "[" + "#" * filled + "-" * (BAR - filled) + "]"


class ConsoleReporter:
    def __init__(self, stream: TextIO | None = None, verbose: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.verbose = verbose
        self._line_open = False
        self._printed = time.monotonic()  # when a line was last printed (progress of a long stage, without a terminal)

    def _print(self, text: str) -> None:
        if self._line_open:
            self.stream.write("\r\033[K")
            self._line_open = False
        self.stream.write(text + "\n")
        self.stream.flush()
        self._printed = time.monotonic()

    def __call__(self, event: Any) -> None:
        if isinstance(event, StageProgress):
            if self.live:
                self.stream.write(f"\r\033[K  {_bar(event.fraction)} {event.fraction:4.0%} {event.message}")
                self.stream.flush()
                self._line_open = True
            elif event.message and time.monotonic() - self._printed >= QUIET_SECONDS:
                self._print(f"  [{event.fraction:4.0%}] {event.message}")  # a long stage (a repair) shows it lives
        elif isinstance(event, StageStarted):
            self._print(f"- {event.stage}: {event.description}")
        elif isinstance(event, StageLog) and not (self.verbose or event.warning):
            return
        elif isinstance(event, RunFinished):
            self._print(summary_table(event))
        else:
            text = event_text(event)
            if text is not None:
                self._print(f"  {text}")


def summary_table(finished: RunFinished) -> str:
    manifest = finished.manifest
    rows = [("stage", "status", "seconds", "result")]
    for stage in manifest.get("stages", []):
        result = stage.get("summary") or stage.get("error") or stage.get("reason") or ""
        status = stage.get("verdict", stage["status"]) if stage["status"] == "passed" else stage["status"]
        rows.append((stage["name"], status, f"{stage.get('seconds', 0):.2f}", result))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [""] + ["  ".join(f"{cell:<{widths[i]}}" if i < 3 else cell for i, cell in enumerate(row)) for row in rows]
    lines.insert(2, "  ".join("-" * w for w in widths) + "  ------")
    lines += int8_lines(manifest)
    if finished.run_dir is not None:
        lines.append(f"\nrun folder: {finished.run_dir}  ({finished.status})")
    else:
        lines.append(f"\nnothing written ({finished.status})")
    return "\n".join(lines)


def int8_lines(manifest: dict[str, Any]) -> list[str]:
    """Where int8 hurts (the diagnostics' one or two lines per int8 artifact) and what a repair cost."""
    lines = []
    for key, artifact in manifest.get("artifacts", {}).items():
        diagnostics = artifact.get("diagnostics") or {}
        if diagnostics.get("summary"):
            lines.append(f"\nint8 diagnostics of {artifact['path']}:")
            lines += [f"  {line}" for line in diagnostics["summary"]]
        repair = artifact.get("repair")
        if key == "tflite_int8" and repair:
            tried = ", ".join(f"{a['method']} {a['score']:.2f} ({a['seconds']:.0f} s)" for a in repair["attempts"][1:])
            lines.append(f"  int8 repair: kept {repair['kept']} after {repair['seconds']:.0f} s; tried: {tried}")
    return lines
