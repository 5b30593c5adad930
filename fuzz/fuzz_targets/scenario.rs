//! Scenario files: read, and when short, run. Nothing may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(s) = kubeglass::scenario::parse(text) {
        let light = s.steps.len() <= 6 && s.settings.nodes.len() <= 8;
        if light {
            let _ = kubeglass::scenario::run_owned(s);
        }
    }
});
