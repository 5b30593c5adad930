#!/usr/bin/env bash
# Runs every test: formatting and lints, the native tests, the core's tests and the
# page's component tests in headless Chromium (wasm-pack), then builds the page with
# Trunk and drives it end to end in headless Chromium (tests/e2e, playwright-core),
# printing the benchmark figures. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh test
cargo fetch --locked

say() { printf '\n==> %s\n' "$*"; }
disk() { df -h . | awk 'NR == 2 { print "    (disk: " $4 " free of " $2 ")" }'; }

# A one-shot run needs no incremental cache (gigabytes on disk), and Chromium's
# profiles, which chromedriver leaves behind when a test runner ends its session
# abruptly, go to a folder of ours that is emptied after each browser stage.
export CARGO_INCREMENTAL=0
export TMPDIR="$PWD/target/test-tmp"
mkdir -p "$TMPDIR"
tidy_tmp() { rm -rf "${TMPDIR:?}"/* 2>/dev/null || true; }
disk

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy (native, then wasm32 with the web feature)"
cargo clippy --locked --all-targets -- -D warnings
cargo clippy --locked --target wasm32-unknown-unknown --all-targets --features web -- -D warnings

say "native tests"
cargo test --locked
disk

say "the core's tests in headless Chromium"
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}
wasm-pack test --headless --chrome --mode no-install
tidy_tmp; disk

say "the page's component tests in headless Chromium"
wasm-pack test --headless --chrome --mode no-install -- --features web --test ui
tidy_tmp; disk

say "the page, built by Trunk as scripts/serve.sh serves it"
TRUNK_OFFLINE=true trunk build --release

say "the page end to end in headless Chromium (and its benchmark figures)"
node tests/e2e/run.mjs dist
tidy_tmp; disk

say "all tests passed"
