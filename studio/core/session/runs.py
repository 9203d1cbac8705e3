"""One run folder as the studio sees it: its artifacts and their verdicts, benchmark results, rollout
results and recordings. Everything here is read from (and written to) the folder itself, so a restart
shows what the last session left.

    RUN/run.json                  the conversion (stages, artifacts, verification)
    RUN/bench/history/*.json      every benchmark of the run (bench.json: the latest)
    RUN/rollouts/*.json, *.mp4    rollout results, and recordings
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..labels import artifact_label
from ..pipeline.run_folder import read_manifest

GRAPH_SUFFIXES = (".onnx", ".tflite")


@dataclass(frozen=True)
class ArtifactInfo:
    key: str
    label: str
    path: Path
    bytes: int
    verdict: str  # "passed", "failed", "measured" (figures only) or "made" (not verified)

    @property
    def title(self) -> str:
        """What a chooser shows: "TFLite int8 · policy_int8.tflite"."""
        return f"{self.label} · {self.path.name}"


def _stage_status(manifest: dict[str, Any], name: str) -> str | None:
    return next((s.get("status") for s in manifest.get("stages", []) if s.get("name") == name), None)


def verdict_of(key: str, artifact: dict[str, Any], manifest: dict[str, Any]) -> str:
    verification = artifact.get("verification")
    if verification is None:
        return "made"
    if not verification.get("passed"):
        return "failed"
    if str(verification.get("thresholds", "")).startswith("none"):
        # int8 is measured by its verification and judged by the repair stage (closed-loop score).
        repair = _stage_status(manifest, "int8-repair") if key == "tflite_int8" else None
        return {"passed": "passed", "cached": "passed", "failed": "failed"}.get(repair or "", "measured")
    return "passed"


class RunRecord:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.manifest: dict[str, Any] | None = None
        self.reload()

    def reload(self) -> None:
        self.manifest = read_manifest(self.folder)

    @property
    def exists(self) -> bool:
        return self.manifest is not None

    @property
    def status(self) -> str:
        return (self.manifest or {}).get("status", "")

    def artifacts(self) -> list[ArtifactInfo]:
        """The run's artifacts whose files are still there, in the order the run made them."""
        manifest = self.manifest or {}
        found = []
        for key, data in manifest.get("artifacts", {}).items():
            path = self.folder / data.get("path", "")
            if data.get("path") and path.exists():
                found.append(ArtifactInfo(key, artifact_label(key), path, int(data.get("bytes") or 0),
                                          verdict_of(key, data, manifest)))
        return found

    def graphs(self) -> list[ArtifactInfo]:
        """The artifacts Netron can show (ONNX and TFLite files)."""
        return [a for a in self.artifacts() if a.path.suffix in GRAPH_SUFFIXES]

    def conversions(self) -> dict[str, str]:
        """Target artifact key -> verdict (the browser's "Conversions" column)."""
        by_products = ("saved_model", "int8_student_onnx", "tflite_int8_plain")  # made on the way to a target
        return {a.key: a.verdict for a in self.artifacts() if a.key not in by_products}

    # Benchmarks -----------------------------------------------------------------------------------
    def bench_history(self) -> list[Path]:
        """Every benchmark of this run, newest first."""
        folder = self.folder / "bench" / "history"
        return sorted(folder.glob("*.json"), key=_when, reverse=True) if folder.is_dir() else []

    def latest_bench(self) -> dict[str, Any] | None:
        history = self.bench_history()
        return read_json(history[0]) if history else None

    def save_bench(self, results: dict[str, Any], samples_ns: dict[str, list[int]] | None = None) -> Path:
        """Keep a finished benchmark: ``bench/bench.json`` and ``.csv`` (the latest) and its history entry,
        which also keeps every call's latency so that its charts can be drawn again."""
        from ..bench import report

        stamp = time.strftime("%Y%m%d-%H%M%S")
        results = dict(results, run=str(self.folder), finished=time.strftime("%Y-%m-%d %H:%M:%S"))
        report.write(results, self.folder / "bench")
        path = _free(self.folder / "bench" / "history", stamp)
        atomic_write_text(path, json.dumps(dict(results, samples_ns=samples_ns or {}), default=str))
        return path

    # Rollouts -------------------------------------------------------------------------------------
    def rollouts(self) -> list[dict[str, Any]]:
        """Rollout results, newest first (each with its recording, when one was made)."""
        folder = self.folder / "rollouts"
        paths = sorted(folder.glob("rollout-*.json"), key=_when, reverse=True) if folder.is_dir() else []
        results = [read_json(p) for p in paths]
        return [r for r in results if r is not None]

    def recordings(self) -> list[Path]:
        folder = self.folder / "rollouts"
        return sorted(folder.glob("*.mp4"), reverse=True) if folder.is_dir() else []

    def save_rollout(self, result: dict[str, Any]) -> Path:
        path = _free(self.folder / "rollouts", "rollout-" + time.strftime("%Y%m%d-%H%M%S"))
        atomic_write_text(path, json.dumps(dict(result, finished=time.strftime("%Y-%m-%d %H:%M:%S")),
                                           indent=2, default=str))
        return path


def _when(path: Path) -> tuple[int, ...]:
    """The order results were kept in: the date, the time, then the number added in the same second."""
    numbers = [int(n) for n in re.findall(r"\d+", path.stem)]
    return tuple(numbers + [0] * (3 - len(numbers)))


def _free(folder: Path, stem: str) -> Path:
    """``folder/STEM.json``, or ``STEM-2.json``... when two results land in the same second."""
    path, index = folder / f"{stem}.json", 1
    while path.exists():
        index += 1
        path = folder / f"{stem}-{index}.json"
    return path


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
