#!/usr/bin/env bash
# One command: set everything up, then run the studio's main job on the bundled demo model.
set -euo pipefail
cd "$(dirname "$0")"
bash packaging/install.sh
exec .venv/bin/sb3-studio inspect resources/demo/ppo/CartPole-v1_1/CartPole-v1.zip
