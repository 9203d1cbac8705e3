"""Print pipeline events on a terminal: a live progress line per stage, then a summary table."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from .core.pipeline.events import RunFinished, StageLog, StageProgress, StageStarted, event_text

BAR = 24


def _bar(fraction: float) -> str:
    filled = int(round(fraction * BAR))
    return "[" + "#" * filled + "-" * (BAR - filled) + "]"


class ConsoleReporter:
    def __init__(self, stream: TextIO | None = None, verbose: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.verbose = verbose
        self._line_open = False

    def _print(self, text: str) -> None:
        if self._line_open:
            self.stream.write("\r\033[K")
            self._line_open = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def __call__(self, event: Any) -> None:
        if isinstance(event, StageProgress):
            if self.live:
                self.stream.write(f"\r\033[K  {_bar(event.fraction)} {event.fraction:4.0%} {event.message}")
                self.stream.flush()
                self._line_open = True
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
    if finished.run_dir is not None:
        lines.append(f"\nrun folder: {finished.run_dir}  ({finished.status})")
    else:
        lines.append(f"\nnothing written ({finished.status})")
    return "\n".join(lines)
