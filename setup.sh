#!/usr/bin/env bash
# One command: set everything up, then open the studio on the bundled demo model.
# On a machine with no display it describes the demo model on the command line instead.
set -euo pipefail
cd "$(dirname "$0")"
bash packaging/install.sh
demo=resources/demo/ppo/CartPole-v1_1/CartPole-v1.zip
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec .venv/bin/sb3-studio gui "$demo"
fi
echo "No display here: describing the demo model instead of opening the studio." >&2
exec .venv/bin/sb3-studio inspect "$demo"
