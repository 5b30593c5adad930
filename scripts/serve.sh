#!/usr/bin/env bash
# Builds the playground and serves it on http://127.0.0.1:8080 (installing what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh serve
cargo fetch --locked
TRUNK_OFFLINE=true exec trunk serve --release --address 127.0.0.1 --port "${PORT:-8080}"
