#!/usr/bin/env bash
# Runs every test: formatting and lints, the native tests, the core's tests in headless
# Chromium (wasm-pack), and the page's end-to-end test. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh test
cargo fetch --locked

say() { printf '\n==> %s\n' "$*"; }

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy (native, then wasm32 with the web feature)"
cargo clippy --locked --all-targets -- -D warnings
cargo clippy --locked --target wasm32-unknown-unknown --all-targets --features web -- -D warnings

say "native tests"
cargo test --locked

say "the core's tests in headless Chromium"
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}
wasm-pack test --headless --chrome --mode no-install

say "all tests passed"
