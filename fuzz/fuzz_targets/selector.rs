//! Label and field selectors: parse, print, parse again, match. Nothing may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kubeglass::api::fuzz::label_selector(data);
    kubeglass::api::fuzz::field_selector(data);
});
