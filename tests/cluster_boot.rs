#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::api::object::{CONFIGMAPS, NAMESPACES, SERVICEACCOUNTS, SERVICES};
use kubeglass::cluster::{Cluster, Settings};

#[test]
fn a_fresh_cluster_holds_what_v1_31_holds() {
    let c = Cluster::new(Settings::default()).unwrap();
    let store = c.api().store();
    let ns: Vec<&str> = store.list(&NAMESPACES, None).map(|o| o.name()).collect();
    assert_eq!(
        ns,
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    );
    for n in &ns {
        assert!(
            store.get(&SERVICEACCOUNTS, n, "default").is_some(),
            "default SA in {n}"
        );
        assert!(
            store.get(&CONFIGMAPS, n, "kube-root-ca.crt").is_some(),
            "root CA in {n}"
        );
    }
    let svc = store.get(&SERVICES, "default", "kubernetes").unwrap();
    let v = svc.to_value();
    assert_eq!(v["spec"]["clusterIP"], "10.96.0.1");
    println!("{}", c.k.trace.render());
}
