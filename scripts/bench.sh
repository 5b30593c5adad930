#!/usr/bin/env bash
# Prints the benchmark figures (nothing here asserts on time):
#   the API pipeline natively and in headless Chromium (150,000 pods),
#   the same as a whole `kubeglass run` of one 150,000-pod List,
#   the scheduler: 150,000 pods onto 5,000 nodes, alone and as a whole run,
#   kube-proxy: 10,000 Services x 10 endpoints (natively and in headless Chromium),
#   the scheduler's whole run in headless Chromium, in a dedicated web worker,
#   a Deployment with kubelets reaching all Running, then rolled (issue 5): a whole
#   `kubeglass run` natively (DEPLOY replicas on DEPLOY_NODES nodes, default 150,000 on
#   5,000) and in the worker (CHROME_DEPLOY on CHROME_DEPLOY_NODES, default 15,000 on
#   500: the full size needs more than wasm32's 4 GiB today).
# The page's figures (wasm size, time to ready, long tasks) come from scripts/test.sh's
# end-to-end test.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh test
PODS=${PODS:-150000}

say() { printf '\n==> %s\n' "$*"; }

cargo build --release --locked --bin kubeglass
kg=target/release/kubeglass

say "API pipeline, natively"
"$kg" bench api --pods "$PODS"

say "API pipeline as a whole kubeglass run (one List of $PODS pods; parsing included)"
scenario=$(mktemp)
trap 'rm -f "$scenario"' EXIT
"$kg" bench scenario --pods "$PODS" --nodes 3 > "$scenario"
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "whole run: %e s wall, %U s user, peak RSS %M KiB" "$kg" run "$scenario" > /dev/null
else
  time "$kg" run "$scenario" > /dev/null
fi

say "Deployment: ${DEPLOY:-150000} replicas on ${DEPLOY_NODES:-5000} nodes, all Running, then a rolling update (a whole kubeglass run)"
"$kg" bench deployment --pods "${DEPLOY:-150000}" --nodes "${DEPLOY_NODES:-5000}" > "$scenario"
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "whole run: %e s wall, %U s user, peak RSS %M KiB" "$kg" run "$scenario" | tail -4
else
  time "$kg" run "$scenario" | tail -4
fi

say "Scheduler: $PODS pods onto 5,000 nodes"
"$kg" bench scheduler --pods "$PODS"

say "kube-proxy: 10,000 Services x 10 endpoints, full and partial sync, restore, one trace"
"$kg" bench kube-proxy

say "API pipeline and kube-proxy in headless Chromium"
WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-900} \
  wasm-pack test --release --headless --chrome --mode no-install -- --features bench --test bench_wasm -- --nocapture 2>&1 \
  | grep -E "BENCH|test result" || true

say "Scheduler ($PODS pods onto 5,000 nodes) and Deployment (${CHROME_DEPLOY:-15000} replicas) whole runs in headless Chromium, in a web worker"
KG_BENCH_PODS="$PODS" KG_BENCH_DEPLOYMENT="${CHROME_DEPLOY:-15000}" \
KG_BENCH_DEPLOYMENT_NODES="${CHROME_DEPLOY_NODES:-500}" WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-900} \
  wasm-pack test --release --headless --chrome --mode no-install -- --features bench --test bench_wasm_worker -- --nocapture 2>&1 \
  | grep -E "BENCH|test result" || true
