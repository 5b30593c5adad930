//! kubectl command lines against a small cluster. Nothing may panic.
#![no_main]
use std::cell::RefCell;

use kubeglass::apiserver::request::Credentials;
use kubeglass::cluster::{Cluster, Settings};
use kubeglass::kubectl::Kubectl;
use libfuzzer_sys::fuzz_target;

thread_local! {
    static CLUSTER: RefCell<Option<Cluster>> = const { RefCell::new(None) };
}

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else { return };
    // `-w` lets time pass; keep each run short.
    if line.contains("-w") || line.contains("watch") || line.len() > 512 {
        return;
    }
    CLUSTER.with(|c| {
        let mut c = c.borrow_mut();
        let cluster = c.get_or_insert_with(|| Cluster::new(Settings::default()).expect("a default cluster starts"));
        let _ = Kubectl::new(cluster, Credentials::Admin).run(line);
        cluster.run_due();
    });
});
