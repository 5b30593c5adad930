//! The API pipeline benchmark in the browser: `scripts/bench.sh` runs it with
//! `wasm-pack test --release --headless --chrome -- --features bench --test bench_wasm`.
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
