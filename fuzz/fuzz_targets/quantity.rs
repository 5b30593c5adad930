//! Resource quantities: parse, print, parse again, arithmetic. Nothing may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kubeglass::api::fuzz::quantity(data);
});
