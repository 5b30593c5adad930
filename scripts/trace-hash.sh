#!/usr/bin/env bash
# Prints the hash the determinism test expects for the API server chapter's trace.
# Run it when the simulation's behaviour changes on purpose, and update TRACE_HASH
# in tests/scenarios.rs (the same constant is checked natively and in the browser).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --quiet --test scenarios the_same_scenario 2>&1 | sed -n 's/^ *left: \([0-9]*\)$/\1/p' | head -1
