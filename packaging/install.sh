#!/usr/bin/env bash
# Create .venv (if missing) with the pinned dependency set. Used by setup.sh and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
# torch first, from its CPU wheel: any unpinned torch requirement would otherwise pull CUDA builds (GBs).
.venv/bin/pip install --quiet --disable-pip-version-check torch==2.13.0
.venv/bin/pip install --quiet --disable-pip-version-check -c packaging/constraints.txt -e ".[dev]"
# onnxruntime-web for the browser target (copied into web artifacts, and run under Node to verify them).
if command -v npm >/dev/null 2>&1; then
  npm ci --prefix packaging/web --no-audit --no-fund --loglevel=error
else
  echo "npm not found: the browser target (--to web) will report itself unavailable" >&2
fi
# The studio in the desktop's menus (~/.local/share/applications, or $XDG_DATA_HOME): only on a desktop
# user's machine, never in CI or where SB3_STUDIO_NO_DESKTOP is set. Running it again changes nothing.
if [ -z "${CI:-}${SB3_STUDIO_NO_DESKTOP:-}" ]; then
  .venv/bin/sb3-studio desktop || echo "could not add the desktop entry (the studio works without it)" >&2
fi
