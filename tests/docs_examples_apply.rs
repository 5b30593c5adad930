//! Every manifest from the Kubernetes docs applies unchanged, after what it depends on
//! (index.json), as on a real cluster; applying it again changes nothing.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::apiserver::request::Credentials;
use kubeglass::cluster::{Cluster, Settings};
use kubeglass::kubectl::{apply, Kubectl};
use kubeglass::scenario;

include!(concat!(env!("OUT_DIR"), "/k8s_docs_examples.rs"));

fn file(path: &str) -> &'static str {
    K8S_DOCS_EXAMPLES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("no example {path}"))
}

fn cluster() -> Cluster {
    let s = scenario::parse(
        "apiVersion: kubeglass.dev/v1alpha1\nkind: Scenario\nspec:\n  cluster:\n    nodes:\n    - metadata: {name: node-1}\n    - metadata: {name: node-2}\n",
    )
    .unwrap();
    Cluster::new(Settings { ..s.settings }).unwrap()
}

fn apply(c: &mut Cluster, path: &str) -> kubeglass::kubectl::Output {
    let mut kc = Kubectl::new(c, Credentials::Admin);
    apply::apply_text(&mut kc, file(path), path, "default", false, false)
}

fn apply_with_deps(c: &mut Cluster, index: &serde_json::Value, path: &str, done: &mut Vec<String>) {
    if done.iter().any(|d| d == path) {
        return;
    }
    let entry = index
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == path)
        .unwrap();
    ensure_namespace(c, entry);
    for dep in entry["dependsOn"].as_array().unwrap() {
        apply_with_deps(c, index, dep.as_str().unwrap(), done);
    }
    let out = apply(c, path);
    assert_eq!(out.code, 0, "{path}: {}", out.stderr);
    c.run_due();
    done.push(path.to_string());
}

/// The docs create the namespace an example lives in first (`kubectl create namespace X`).
fn ensure_namespace(c: &mut Cluster, entry: &serde_json::Value) {
    if let Some(ns) = entry["namespace"].as_str() {
        let mut kc = Kubectl::new(c, Credentials::Admin);
        if kc.run(&format!("get namespace {ns}")).code != 0 {
            let out = kc.run(&format!("create namespace {ns}"));
            assert_eq!(out.code, 0, "{}", out.stderr);
        }
    }
    // Time passes between commands: the namespace gets its default service account.
    c.run_due();
}

/// Objects whose manifest says a value in a form the server stores differently, so a
/// second `kubectl apply` reports them `configured`, as real kubectl does: quantities
/// stored canonically (`"1000"` cpu is `1k`, `"0.1"` is `100m`) and a Secret's
/// stringData (moved into data on write); a field spelled in another case (`gRPC`),
/// which the server stores under its own name; and a default the server fills in
/// inside a list kubectl replaces whole (a downward API item's fieldRef.apiVersion).
const RENORMALIZED: &[(&str, &str)] = &[
    (
        "admin/resource/quota-objects-priority.yaml",
        "resourcequota/pods-high configured",
    ),
    (
        "admin/sched/my-scheduler.yaml",
        "deployment.apps/my-scheduler configured",
    ),
    ("pods/config/redis-pod.yaml", "pod/redis configured"),
    (
        "pods/storage/projected-secret-downwardapi-configmap.yaml",
        "pod/volume-test configured",
    ),
    (
        "pods/probe/grpc-liveness.yaml",
        "pod/etcd-with-grpc configured",
    ),
    (
        "pods/resource/cpu-request-limit.yaml",
        "pod/cpu-demo configured",
    ),
    (
        "secret/basicauth-secret.yaml",
        "secret/secret-basic-auth configured",
    ),
];

#[test]
fn every_docs_example_applies_unchanged_and_reapplies_as_unchanged() {
    let index: serde_json::Value = serde_json::from_str(file("index.json")).unwrap();
    let entries = index.as_array().unwrap();
    assert_eq!(entries.len(), 111);
    let mut failures = Vec::new();
    for e in entries {
        let path = e["path"].as_str().unwrap();
        let mut c = cluster();
        let mut done = Vec::new();
        ensure_namespace(&mut c, e);
        for dep in e["dependsOn"].as_array().unwrap() {
            apply_with_deps(&mut c, &index, dep.as_str().unwrap(), &mut done);
        }
        let first = apply(&mut c, path);
        let kinds = e["kinds"].as_array().unwrap().len();
        if first.code != 0
            || first
                .stdout
                .lines()
                .filter(|l| l.ends_with(" created"))
                .count()
                != kinds
        {
            failures.push(format!(
                "{path}: first apply:\n{}{}",
                first.stdout, first.stderr
            ));
            continue;
        }
        c.run_due();
        let again = apply(&mut c, path);
        let changed: Vec<&str> = again
            .stdout
            .lines()
            .filter(|l| l.ends_with(" configured"))
            .collect();
        let unchanged = again
            .stdout
            .lines()
            .filter(|l| l.ends_with(" unchanged"))
            .count();
        let want_changed: Vec<&str> = RENORMALIZED
            .iter()
            .filter(|(p, _)| *p == path)
            .map(|(_, o)| *o)
            .collect();
        if again.code != 0 || unchanged + changed.len() != kinds || changed != want_changed {
            failures.push(format!(
                "{path}: second apply:\n{}{}",
                again.stdout, again.stderr
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 111 failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
