#!/usr/bin/env bash
# Installs what kubeglass needs to build and test, at pinned versions, from the package
# registries only (crates.io, Debian, npm). Installs only what is missing.
#   scripts/setup.sh          the wasm target and the Rust tools (wasm-bindgen-cli, trunk)
#   scripts/setup.sh test     also wasm-pack, Chromium with its driver, and the e2e packages
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

WASM_PACK_VERSION=0.15.1
TRUNK_VERSION=0.21.14
# wasm-bindgen-cli must equal the wasm-bindgen that Cargo.lock pins.
WASM_BINDGEN_VERSION=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
mode=${1:-serve}

say() { printf '==> %s\n' "$*"; }
tool_version() { "$1" --version 2>/dev/null | awk '{print $2}' || true; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
if [ "$(tool_version wasm-bindgen)" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
if [ "$(tool_version trunk)" != "$TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION"
  cargo install trunk --version "$TRUNK_VERSION" --locked --force
fi

if [ "$mode" = test ]; then
  if [ "$(tool_version wasm-pack)" != "$WASM_PACK_VERSION" ]; then
    say "installing wasm-pack $WASM_PACK_VERSION"
    cargo install wasm-pack --version "$WASM_PACK_VERSION" --force
  fi
  missing=""
  command -v chromium >/dev/null || missing="$missing chromium"
  command -v chromedriver >/dev/null || missing="$missing chromium-driver"
  command -v node >/dev/null || missing="$missing nodejs"
  command -v npm >/dev/null || missing="$missing npm"
  if [ -n "$missing" ]; then
    say "installing from Debian:$missing"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
  fi
  if [ ! -d tests/e2e/node_modules/playwright-core ]; then
    say "installing the end-to-end test's npm packages (playwright-core, no browser download)"
    (cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
say "tools ready"
