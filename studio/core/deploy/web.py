"""The browser target: the ONNX graph, ``policy.js`` (onnxruntime-web), a demo page, and the runtime's
own files copied in (no CDN). Verified by running that same ``policy.js`` under Node.

onnxruntime-web comes from npm (``packaging/install.sh`` runs ``npm ci --prefix packaging/web``); it is
found at ``$SB3_STUDIO_ORT_WEB`` (the package's folder) or in ``packaging/web/node_modules`` beside the
studio's source. Node 18 or newer runs the check.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..runtimes.base import RuntimeUnavailable

FILES = Path(__file__).with_name("web_files")
NODE_RUNNER = FILES / "node_runner.mjs"
ORT_ENV = "SB3_STUDIO_ORT_WEB"
ORT_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
ORT_HINT = (f"run 'npm ci --prefix packaging/web' in the studio's source folder (packaging/install.sh does), "
            f"or set {ORT_ENV} to an onnxruntime-web package folder")
NODE_HINT = "install Node.js 18 or newer (apt-get install nodejs, or https://nodejs.org)"
NODE_MIN = 18


@dataclass(frozen=True)
class OrtWeb:
    folder: Path  # the npm package: package.json, dist/, LICENSE
    version: str


def ort_web_candidates() -> list[Path]:
    """Where onnxruntime-web is looked for: ``$SB3_STUDIO_ORT_WEB``, then beside the studio's source."""
    source_root = Path(__file__).resolve().parents[3]
    candidates = [Path(os.environ[ORT_ENV])] if os.environ.get(ORT_ENV) else []
    return [*candidates, source_root / "packaging" / "web" / "node_modules" / "onnxruntime-web"]


def find_ort_web(candidates: list[Path] | None = None) -> OrtWeb:
    """The onnxruntime-web package, or :class:`RuntimeUnavailable` saying where it was looked for."""
    candidates = ort_web_candidates() if candidates is None else candidates
    for folder in candidates:
        try:
            package = json.loads((folder / "package.json").read_text())
        except (OSError, ValueError):
            continue
        if package.get("name") == "onnxruntime-web" and all((folder / "dist" / f).is_file() for f in ORT_FILES):
            return OrtWeb(folder, str(package.get("version")))
    looked = ", ".join(str(c) for c in candidates)
    raise RuntimeUnavailable("onnxruntime-web", f"onnxruntime-web (npm) was not found (looked in {looked})", ORT_HINT)


def find_node() -> tuple[str, str]:
    """The ``node`` executable and its version, or :class:`RuntimeUnavailable`."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeUnavailable("node", "node was not found on PATH", NODE_HINT)
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise RuntimeUnavailable("node", f"{node} does not run ({exc})", NODE_HINT) from None
    match = re.match(r"v(\d+)", version)
    if not match or int(match.group(1)) < NODE_MIN:
        raise RuntimeUnavailable("node", f"{node} is {version or 'of unknown version'}; needs {NODE_MIN} or newer",
                                 NODE_HINT)
    return node, version


def write_web_folder(folder: Path, onnx: Path, io: dict[str, Any], env_shapes: dict[str, list[int]],
                     examples: dict[str, Any], ort: OrtWeb) -> None:
    """Everything a page needs, in ``folder``: model, module, page, examples and onnxruntime-web's files."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(onnx, folder / "policy.onnx")
    template = (FILES / "policy.js").read_text()
    # JSON is JavaScript; json.dumps escapes every non-ASCII character (U+2028 included).
    module = (template.replace("__SB3_STUDIO_IO__", json.dumps(io))
              .replace("__SB3_STUDIO_ENV_SHAPES__", json.dumps(env_shapes)))
    (folder / "policy.js").write_text(module)
    shutil.copyfile(FILES / "index.html", folder / "index.html")
    (folder / "examples.json").write_text(json.dumps(examples) + "\n")
    runtime = folder / "ort"
    runtime.mkdir(exist_ok=True)
    for name in ORT_FILES:
        shutil.copyfile(ort.folder / "dist" / name, runtime / name)
    (runtime / "NOTICE.txt").write_text(
        f"onnxruntime-web {ort.version} (npm), copied unchanged from its dist/ folder.\n"
        "Copyright (c) Microsoft Corporation. Licensed under the MIT License (see the header of ort.wasm.min.mjs).\n")
