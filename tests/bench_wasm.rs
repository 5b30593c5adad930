//! The API pipeline and kube-proxy benchmarks in the browser: `scripts/bench.sh`
//! runs them with `wasm-pack test --release --headless --chrome -- --features bench --test bench_wasm`.
//! It prints figures; it asserts nothing about time.
#![cfg(all(target_arch = "wasm32", feature = "bench"))]

use wasm_bindgen_test::{console_log, wasm_bindgen_test};

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn create_150k_pods_through_the_api_pipeline() {
    let clock = || js_sys::Date::now() / 1000.0;
    let report = kubeglass::bench::create_pods(150_000, &clock);
    console_log!("BENCH browser {}", report.line());
    let pages = core::arch::wasm32::memory_size(0);
    console_log!("BENCH browser wasm memory: {} MiB", pages * 64 / 1024);
}

/// kube-proxy in the browser: the full sync of 10,000 Services × 10 endpoints (about
/// 320,000 rules) cold and warm, its restore into a node's iptables engine, one
/// Service added (partial sync and its restore), one packet traced through the node.
#[wasm_bindgen_test]
fn kube_proxy_full_and_partial_sync_of_10k_services() {
    let clock = || js_sys::Date::now() / 1000.0;
    for report in kubeglass::kubeproxy::bench::run(10_000, 10, &clock) {
        console_log!("BENCH browser {}", report.line());
    }
    let pages = core::arch::wasm32::memory_size(0);
    console_log!("BENCH browser wasm memory: {} MiB", pages * 64 / 1024);
}
