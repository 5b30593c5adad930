//! The scheduler benchmark in headless Chrome, in a dedicated web worker as the page
//! runs the simulation: 150,000 pods onto 5,000 heterogeneous nodes as a whole run
//! (the scenario text parsed, the List applied, settled until every pod is bound).
//! `scripts/bench.sh` runs it with
//! `wasm-pack test --release --headless --chrome -- --features bench --test bench_wasm_worker`.
//! It prints figures; it asserts nothing about time. `KG_BENCH_PODS` and
//! `KG_BENCH_NODES`, read at build time, make it smaller.
//!
//! Issue 5's Deployment benchmark runs here too when `KG_BENCH_DEPLOYMENT` (replicas)
//! and `KG_BENCH_DEPLOYMENT_NODES` are set at build time: a Deployment of that many
//! replicas with simulated kubelets, all Running, then a rolling update.
#![cfg(all(target_arch = "wasm32", feature = "bench"))]

use wasm_bindgen_test::{console_log, wasm_bindgen_test};

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

fn size(var: Option<&str>, default: usize) -> usize {
    var.and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[wasm_bindgen_test]
fn scheduler_150k_pods_onto_5k_nodes_in_a_worker() {
    let pods = size(option_env!("KG_BENCH_PODS"), 150_000);
    let nodes = size(option_env!("KG_BENCH_NODES"), 5_000);
    let clock = || js_sys::Date::now() / 1000.0;
    let report = kubeglass::bench::scheduler_whole_run(nodes, pods, &clock)
        .unwrap_or_else(|e| panic!("the scheduler benchmark did not bind every pod: {e}"));
    console_log!("BENCH worker {}", report.line());
    let pages = core::arch::wasm32::memory_size(0);
    console_log!("BENCH worker wasm memory: {} MiB", pages * 64 / 1024);
}

#[wasm_bindgen_test]
fn deployment_all_running_then_rolled_in_a_worker() {
    let Some(replicas) = option_env!("KG_BENCH_DEPLOYMENT").and_then(|v| v.parse().ok()) else {
        console_log!("BENCH worker deployment: skipped (KG_BENCH_DEPLOYMENT not set)");
        return;
    };
    let nodes = size(option_env!("KG_BENCH_DEPLOYMENT_NODES"), 5_000);
    let clock = || js_sys::Date::now() / 1000.0;
    let report = kubeglass::bench::deployment_whole_run(replicas, nodes, &clock)
        .unwrap_or_else(|e| panic!("the Deployment benchmark did not finish: {e}"));
    console_log!("BENCH worker {}", report.line());
    let pages = core::arch::wasm32::memory_size(0);
    console_log!("BENCH worker wasm memory: {} MiB", pages * 64 / 1024);
}
