//! Manifests as `kubectl apply -f -` reads them: YAML/JSON text to objects, strictly
//! decoded, then applied to a cluster. Nothing may panic.
#![no_main]
use kubeglass::apiserver::request::Credentials;
use kubeglass::cluster::{Cluster, Settings};
use kubeglass::kubectl::{apply, Kubectl};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(values) = apply::read_values(text, "STDIN") {
        for v in values.iter().cloned() {
            let _ = kubeglass::api::Object::from_value(v);
        }
        if values.len() <= 8 {
            if let Ok(mut c) = Cluster::new(Settings::default()) {
                let mut kc = Kubectl::new(&mut c, Credentials::Admin);
                let _ = apply::apply_values(&mut kc, values, "STDIN", "default", false, false);
                c.run_due();
            }
        }
    }
});
