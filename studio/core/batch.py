"""Convert every model below a folder (a whole RL Zoo tree works) in parallel processes.

Each model is converted by its own ``sb3-studio convert`` child process into ``OUT/NAME``; a model
whose run folder already holds a finished run of the same file is not converted again, so a batch
that was stopped resumes where it stopped. One summary table covers them all: CSV, JSON and HTML.
"""

from __future__ import annotations

import html
import json
import stat
import subprocess
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .atomic import atomic_write_csv, atomic_write_text, sha256_file
from .children import neutral_cwd, python_module
from .errors import OutputExistsError
from .pipeline.run_folder import read_manifest

FINISHED = ("passed", "failed")
SUMMARY_FILES = ("summary.csv", "summary.json", "report.html")
MARKER = ".sb3-studio-batch.json"  # the checksums of the summary files the studio wrote here


def looks_like_model(path: Path) -> bool:
    """A regular file (a pipe would hang the search, a device never end) that is a zip with SB3's ``data`` and
    ``policy.pth`` members. Whether it really is a usable model is the conversion's to say, on its own row."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return False
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist()[:10_000])
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    return "data" in names and "policy.pth" in names


def find_models(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.zip") if looks_like_model(p))


def run_name(model: Path, folder: Path) -> str:
    rel = model.relative_to(folder)
    parts = list(rel.parts[:-1])
    if parts and parts[-1].startswith(model.stem):
        return "-".join(parts)  # the zoo's ALGO/ENV_1/ENV.zip -> ALGO-ENV_1
    return "-".join([*parts, model.stem])


@dataclass
class BatchItem:
    model: Path
    run_dir: Path
    status: str = "pending"  # pending, resumed, passed, failed, error
    seconds: float = 0.0
    message: str = ""


def _finished_before(item: BatchItem) -> bool:
    manifest = read_manifest(item.run_dir)
    return bool(manifest and manifest.get("status") in FINISHED
                and manifest.get("model", {}).get("sha256") == sha256_file(item.model))


def check_summary_files(out: Path, force: bool = False) -> None:
    """Refuse to overwrite summary files the studio did not write in ``out`` (unless ``force``)."""
    if force:
        return
    try:
        ours = json.loads((out / MARKER).read_text())
    except (OSError, ValueError):
        ours = {}
    for name in SUMMARY_FILES:
        path = out / name
        if path.is_symlink() or (path.exists() and (not path.is_file() or ours.get(name) != sha256_file(path))):
            raise OutputExistsError(path, "exists and was not written by sb3-studio", "choose another --out, or --force")


def convert_many(
    folder: Path,
    out: Path,
    jobs: int,
    convert_args: list[str],
    on_update: Callable[[BatchItem], None] = lambda item: None,
    force: bool = False,
) -> list[BatchItem]:
    check_summary_files(out, force)
    items = [BatchItem(m, out / run_name(m, folder)) for m in find_models(folder)]
    out.mkdir(parents=True, exist_ok=True)
    children: set[subprocess.Popen] = set()
    lock = threading.Lock()
    stopping = threading.Event()

    def work(item: BatchItem) -> BatchItem:
        if stopping.is_set():
            return item
        if _finished_before(item):
            item.status = "resumed"
            on_update(item)
            return item
        start = time.perf_counter()
        command = python_module("studio.cli", "convert", str(item.model), "--out", str(item.run_dir), *convert_args)
        with lock:
            child = subprocess.Popen(command, cwd=neutral_cwd(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, errors="replace")
            children.add(child)
        _, stderr = child.communicate()
        with lock:
            children.discard(child)
        item.seconds = time.perf_counter() - start
        manifest = read_manifest(item.run_dir)
        item.status = manifest.get("status", "error") if manifest else "error"
        if item.status != "passed":
            failed = [f"{st['name']}: {st.get('error', '')}" for st in (manifest or {}).get("stages", [])
                      if st.get("status") == "failed"]
            item.message = "; ".join(failed) or (stderr.strip().splitlines() or ["no output"])[-1]
        on_update(item)
        return item

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        list(pool.map(work, items))
    except BaseException:
        # Interrupted (SIGINT, SIGTERM): each child cleans up after a SIGTERM of its own.
        stopping.set()
        with lock:
            for child in children:
                child.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    write_summary(out, items)
    return items


def family_name(env_id: str | None) -> str:
    """The environment family a model belongs to, for the per-family report."""
    from .envs.families import family_of

    if not env_id:
        return "unknown environment"
    family = family_of(env_id.split(":")[-1])
    if family is not None:
        return family.name
    import re

    if re.fullmatch(r"(CartPole|MountainCar|MountainCarContinuous|Pendulum|Acrobot)(NoVel)?-v\d+", env_id):
        return "classic control"
    return "other"


def _outcome(manifest: dict[str, Any]) -> tuple[bool, bool, bool | None]:
    """(loaded, converted, plays): plays is None when the environment could not be made here."""
    stages = manifest.get("stages", [])
    loaded = any(s["name"] == "load" and s.get("status") in ("passed", "cached") for s in stages)
    converted = loaded and not any(s.get("status") in ("failed", "not run", "cancelled") for s in stages
                                   if not s["name"].startswith(("verify", "int8-repair")))
    verdicts = [(a.get("verification") or {}).get("closed_loop", {}).get("verdict")
                for key, a in manifest.get("artifacts", {}).items() if key != "tflite_int8_plain"]
    verdicts = [v for v in verdicts if v]
    if not verdicts:
        return loaded, converted, None
    return loaded, converted, "failed" not in verdicts


def family_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per environment family: how many models, loaded, converted, and play like the original."""
    table: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = table.setdefault(row["family"], {"family": row["family"], "models": 0, "loaded": 0, "converted": 0,
                                                 "plays": 0, "no environment here": 0})
        entry["models"] += 1
        entry["loaded"] += bool(row["loaded"])
        entry["converted"] += bool(row["converted"])
        entry["plays"] += row["plays"] is True
        entry["no environment here"] += row["plays"] is None and bool(row["loaded"])
    return sorted(table.values(), key=lambda e: e["family"])


def _fidelity(artifact: dict[str, Any]) -> str:
    verification = artifact.get("verification") or {}
    if "check" in verification:  # the device bundle: its own runner's verdict per model
        return ", ".join(f"{r['artifact']} {r['status']}" for r in verification["check"].get("results", []))
    parts = []
    for source, m in verification.get("sources", {}).items():
        if "agreement_percent" in m:
            parts.append(f"{source} {m['agreement_percent']:.1f}%")
        else:
            parts.append(f"{source} {m['max_abs_error']:.2g}")
    closed = verification.get("closed_loop")
    if closed and closed.get("score") is not None:
        parts.append(f"score {closed['score']:.2f}")
    if "cpp_check" in artifact:
        parts.append(f"C++ {artifact['cpp_check']['status']}")
    return ", ".join(parts)


def summary_rows(items: list[BatchItem]) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        manifest = read_manifest(item.run_dir) or {}
        model = manifest.get("model", {})
        stages = {s["name"]: s for s in manifest.get("stages", [])}
        row: dict[str, Any] = {
            "model": str(item.model),
            "run": str(item.run_dir),
            "algorithm": model.get("algorithm"),
            "environment": (model.get("environment") or {}).get("id"),
            "family": family_name((model.get("environment") or {}).get("id") or _zoo_env(item.model)),
            "status": manifest.get("status", item.status),
            "seconds": round(sum(s.get("seconds", 0) for s in stages.values()), 2),
        }
        for key, artifact in manifest.get("artifacts", {}).items():
            if key == "saved_model":
                continue
            row[f"{key}"] = _fidelity(artifact) or "made"
        edgetpu = stages.get("edgetpu")
        if edgetpu:
            reason = (edgetpu.get("reason") or "").split(";")[0]
            row["edgetpu"] = edgetpu.get("summary") or (f"skipped, {reason}" if reason else edgetpu["status"])
        row["loaded"], row["converted"], row["plays"] = _outcome(manifest)
        if item.message:
            row["message"] = item.message
        rows.append(row)
    return rows


def _zoo_env(model: Path) -> str | None:
    """The env id a zoo layout implies (ENV_1/ENV.zip), for models that did not even load."""
    return model.stem if model.parent.name.startswith(model.stem) else None


def write_summary(out: Path, items: list[BatchItem]) -> list[dict[str, Any]]:
    rows = summary_rows(items)
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    families = family_table(rows)
    atomic_write_csv(out / "summary.csv", rows)
    atomic_write_text(out / "summary.json", json.dumps({"families": families, "models": rows}, indent=2) + "\n")
    atomic_write_text(out / "report.html", _html(rows, columns, families))
    atomic_write_text(out / MARKER, json.dumps({name: sha256_file(out / name) for name in SUMMARY_FILES}) + "\n")
    return rows


def _table(rows: list[dict[str, Any]], columns: list[str]) -> tuple[str, str]:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return head, body


def _html(rows: list[dict[str, Any]], columns: list[str], families: list[dict[str, Any]]) -> str:
    family_head, family_body = _table(families, list(families[0]) if families else [])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cls = {"passed": "ok", "failed": "bad"}.get(str(row.get("status")), "")
        cells = "".join(f"<td>{html.escape(str(row.get(c, '')))}</td>" for c in columns)
        body.append(f'<tr class="{cls}">{cells}</tr>')
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>SB3 Studio batch report</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; }}
th {{ background: #f0f0f0; }} tr.ok td:nth-child(5) {{ color: #1a7f37; }} tr.bad td:nth-child(5) {{ color: #c62828; font-weight: bold; }}
</style></head><body>
<h1>SB3 Studio batch report</h1>
<h2>Per environment family</h2>
<p>Loaded: read safely and rebuilt. Converted: every requested format made. Plays: in closed loop no
artifact is distinguishably worse than the original's noise floor.</p>
<table><thead><tr>{family_head}</tr></thead><tbody>{family_body}</tbody></table>
<h2>Per model</h2>
<p>{len(rows)} models; {sum(r.get('status') == 'passed' for r in rows)} passed every stage.
Fidelity: agreement (discrete) or max absolute error in action units (Box) per observation source,
and the closed-loop score (1 = as good as the original, 0 = random).</p>
<table><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(body)}
</tbody></table></body></html>
"""
