"""Build and run the C++ checker: ``policy_check.cpp`` against the libtorch inside the torch wheel.

Compiling a libtorch program takes most of a minute, so the binary is cached in the user's cache
folder, keyed by the torch version, the compiler and the source: each conversion after the first
only runs it. Without a C++ compiler (or without libtorch's headers) the check is not available, and
says why and how to get it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..children import neutral_cwd
from ..errors import Cancelled, StageError
from ..runtimes.base import RuntimeUnavailable
from .tensor_file import read_tensor, write_tensor

SOURCE = Path(__file__).with_name("policy_check.cpp")
NAME = "libtorch (C++)"
COMPILER_HINT = "install a C++ compiler: apt-get install g++ (Debian/Ubuntu), or set CXX to one"
BUILD_TIMEOUT_S = 900
RUN_TIMEOUT_S = 300


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sb3-studio" / "torchscript-check"


def find_compiler() -> str:
    for candidate in (os.environ.get("CXX"), "g++", "c++", "clang++"):
        if candidate and shutil.which(candidate):
            return str(shutil.which(candidate))
    raise RuntimeUnavailable(NAME, "no C++ compiler found (looked for $CXX, g++, c++, clang++)", COMPILER_HINT)


def libtorch() -> Path:
    import torch

    root = Path(torch.__file__).parent
    if not (root / "include" / "torch" / "script.h").is_file() or not (root / "lib").is_dir():
        raise RuntimeUnavailable(NAME, f"the torch installation at {root} has no libtorch headers",
                                 "install torch from a wheel that ships torch/include (the PyPI CPU wheels do)")
    return root


def compile_flags(torch_root: str) -> list[str]:
    """Everything after the compiler and the source: the same for the studio and for build.sh."""
    import torch

    abi = int(torch._C._GLIBCXX_USE_CXX11_ABI)
    return ["-std=c++20", "-O2", f"-D_GLIBCXX_USE_CXX11_ABI={abi}",
            f"-I{torch_root}/include", f"-I{torch_root}/include/torch/csrc/api/include",
            f"-L{torch_root}/lib", f"-Wl,-rpath,{torch_root}/lib", "-ltorch", "-ltorch_cpu", "-lc10"]


def build_script() -> str:
    """``build.sh`` for the artifact: the studio's own build, finding torch (or $LIBTORCH) at build time."""
    flags = " ".join(shlex.quote(f) if "$" not in f else f'"{f}"' for f in compile_flags("$TORCH"))
    return (
        "#!/bin/sh\n"
        "# Build policy_check against libtorch: the one inside the torch wheel of $PYTHON (default python3), or\n"
        "# set LIBTORCH to an unpacked libtorch folder (https://pytorch.org, the same version as the studio's torch).\n"
        "set -e\n"
        "cd \"$(dirname \"$0\")\"\n"
        "if [ -z \"$LIBTORCH\" ]; then\n"
        "  LIBTORCH=$(\"${PYTHON:-python3}\" -c 'import os, torch; print(os.path.dirname(torch.__file__))') || {\n"
        "    echo \"no torch for ${PYTHON:-python3}: set PYTHON to a Python with torch, or LIBTORCH\" >&2; exit 1; }\n"
        "fi\n"
        "TORCH=$LIBTORCH\n"
        f"${{CXX:-c++}} policy_check.cpp -o policy_check {flags}\n"
    )


@dataclass
class Checker:
    binary: Path
    compiler: str
    torch_version: str
    cached: bool
    build_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {"compiler": self.compiler, "libtorch": f"torch {self.torch_version} wheel", "binary": str(self.binary),
                "cached": self.cached, "build_seconds": round(self.build_seconds, 1)}


def _compiler_version(compiler: str) -> str:
    try:
        out = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return Path(compiler).name
    return out.splitlines()[0].strip() if out else Path(compiler).name


def build_checker(check: Callable[[], None] = lambda: None, log: Callable[[str], None] = lambda line: None) -> Checker:
    """The compiled checker, from the cache when this torch, compiler and source have been built before."""
    import torch

    compiler = find_compiler()
    root = libtorch()
    version = _compiler_version(compiler)
    command_tail = compile_flags(str(root))
    key = hashlib.sha256(json.dumps([torch.__version__, version, command_tail, SOURCE.read_bytes().hex()]).encode())
    folder = cache_dir() / key.hexdigest()[:20]
    binary = folder / "policy_check"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:  # convert-many's parallel jobs: one builds, the others wait
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binary.is_file() and os.access(binary, os.X_OK):
            return Checker(binary, version, torch.__version__, True, 0.0)
        fd, partial = tempfile.mkstemp(prefix=".policy_check.", dir=folder)
        os.close(fd)
        command = [compiler, str(SOURCE), "-o", partial, *command_tail]
        log("compiling the C++ checker (cached afterwards): " + shlex.join(command))
        start = time.perf_counter()
        try:
            _run(command, BUILD_TIMEOUT_S, check, "compiling the C++ checker")
            os.chmod(partial, 0o755)  # mkstemp made it 0600; a linker may keep that
            os.replace(partial, binary)
        finally:
            Path(partial).unlink(missing_ok=True)
    return Checker(binary, version, torch.__version__, False, time.perf_counter() - start)


def _run(command: list[str], timeout: float, check: Callable[[], None], what: str) -> str:
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                             cwd=neutral_cwd())
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                out, err = child.communicate(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                check()
                if time.monotonic() > deadline:
                    raise StageError(Path(command[0]), f"{what} did not finish in {timeout:.0f} s") from None
    except (Cancelled, StageError):
        child.kill()
        child.wait()
        raise
    if child.returncode != 0:
        lines = [line for line in err.splitlines() if "error" in line.lower()] or err.splitlines()[-3:] or ["no output"]
        raise StageError(Path(command[0]), f"{what} failed (exit {child.returncode}): {lines[0].strip()}")
    return out


def run_checker(checker: Checker, model: Path, inputs: list[np.ndarray],
                check: Callable[[], None] = lambda: None) -> tuple[np.ndarray, dict[str, Any]]:
    """The C++ program's actions for a batch (one array per policy input), and what it printed."""
    with tempfile.TemporaryDirectory(prefix="sb3-studio-cpp-") as work:
        files = []
        for position, values in enumerate(inputs):
            files.append(Path(work) / f"in{position}.tensor")
            write_tensor(files[-1], values)
        out = Path(work) / "actions.tensor"
        printed = _run([str(checker.binary), str(Path(model).resolve()), str(out), *map(str, files)], RUN_TIMEOUT_S,
                       check, "the C++ checker")
        actions = read_tensor(out)
    try:
        info = json.loads(printed.strip().splitlines()[-1])
    except (ValueError, IndexError):
        info = {}
    return actions, info
