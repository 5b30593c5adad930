//! The scenario contract: files, steps, results, errors with positions, determinism,
//! and the `kubeglass run` tool.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::scenario::{self, run_json};
use serde_json::json;

const SMALL: &str = include_str!("../examples/small-cluster.yaml");
const CHAPTER: &str = include_str!("../examples/apiserver-chapter.yaml");

#[test]
fn example_scenarios_run_with_one_result_per_step() {
    for (text, steps) in [(SMALL, 5), (CHAPTER, 15)] {
        let (v, ok) = run_json(text);
        assert!(ok, "{v}");
        let results = v["steps"].as_array().unwrap();
        assert_eq!(results.len(), steps);
        for r in results {
            assert!(r.get("output").is_some() && r.get("error").is_some(), "{r}");
        }
    }
    let (v, _) = run_json(CHAPTER);
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps[0]["output"]["body"]["gitVersion"], "v1.31.0");
    assert_eq!(steps[3]["output"]["code"], 201);
    assert_eq!(steps[8]["output"]["code"], 404);
    assert_eq!(
        steps[8]["output"]["body"]["message"],
        "pods \"nope\" not found"
    );
    assert_eq!(steps[9]["output"]["code"], 422);
    assert_eq!(steps[14]["output"], "pod \"web\" deleted\n");
    assert_eq!(steps[14]["error"], serde_json::Value::Null);
}

#[test]
fn step_results_follow_the_contract() {
    let text = r#"
apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {name: contract}
spec:
  seed: 7
  cluster:
    apiserver:
      tokens: [{token: t0k3n, user: alice, uid: "42", groups: [dev]}]
  steps:
  - apply:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: one}
  - apply: [{apiVersion: v1, kind: ConfigMap, metadata: {name: two}}, {apiVersion: v1, kind: ConfigMap, metadata: {name: BAD}}]
  - kubectl: get cm -o name
  - kubectl: get nothing
  - advance: 90s
  - settle: {}
  - request: {method: GET, path: /api/v1/namespaces/default/configmaps/one}
    as: {token: t0k3n}
  - request: {method: GET, path: /api/v1/namespaces/default/configmaps/one}
    as: {token: wrong}
  - request: {method: POST, path: /api/v1/namespaces/default/configmaps, body: "{not json"}
  - explain: pod/default/web
"#;
    let (v, ok) = run_json(text);
    assert!(ok, "{v}");
    let s = v["steps"].as_array().unwrap();
    assert_eq!(
        s[0],
        json!({"output": "configmap/one created", "error": null})
    );
    assert_eq!(s[1]["output"], "configmap/two created");
    assert!(
        s[1]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("The ConfigMap \"BAD\" is invalid"),
        "{}",
        s[1]
    );
    assert_eq!(
        s[2]["output"],
        "configmap/kube-root-ca.crt\nconfigmap/one\nconfigmap/two\n"
    );
    assert_eq!(
        s[3]["error"]["message"],
        "error: the server doesn't have a resource type \"nothing\""
    );
    assert_eq!(s[4]["output"], "1m30s");
    assert_eq!(s[5]["output"], "1m30s");
    assert_eq!(s[6]["output"]["code"], 200);
    assert_eq!(s[7]["output"]["code"], 401);
    assert_eq!(s[8]["output"]["code"], 400);
    assert!(s[9]["error"]["message"].is_string());
}

#[test]
fn unreadable_scenarios_say_what_and_where() {
    let cases = [
        ("apiVersion: kubeglass.dev/v1alpha1\nkind: Scenario\nspec:\n  steps:\n  - kubectl: get pods\n  - frobnicate: yes\n", "unknown step \"frobnicate\"", Some(6)),
        ("apiVersion: kubeglass.dev/v1alpha1\nkind: Scenario\nspec:\n  steps: [\n", "", None),
        ("apiVersion: kubeglass.dev/v1alpha1\nkind: Scenario\nspec:\n  cluster:\n    network: {plugin: calico}\n", "spec.cluster.network.plugin: Unsupported value: \"calico\"", None),
        ("apiVersion: kubeglass.dev/v1alpha1\nkind: Scenario\nspec:\n  cluster:\n    network: {serviceClusterIPRange: 10.96.0.0/99}\n", "invalid CIDR address", None),
        ("apiVersion: kubeglass.dev/v1alpha1\nkind: Scenario\nspec:\n  stepz: []\n", "spec: unknown field \"stepz\"", Some(4)),
        ("apiVersion: v1\nkind: Pod\n", "apiVersion must be \"kubeglass.dev/v1alpha1\"", Some(1)),
        ("apiVersion: kubeglass.dev/v1alpha1\nkind: Scenario\nspec:\n  steps:\n  - advance: soon\n", "time: invalid duration \"soon\"", Some(5)),
        ("apiVersion: kubeglass.dev/v1alpha1\nkind: Scenario\nspec:\n  cluster:\n    apiserver: {admissionPlugins: {enable: [Frob]}}\n", "plugin \"Frob\" is unknown", None),
        ("apiVersion: kubeglass.dev/v1alpha1\nkind: Scenario\nspec:\n  cluster:\n    nodes:\n    - metadata: {name: n1}\n      spec: {unschedulabel: true}\n", "unknown field \"spec.unschedulabel\"", None),
    ];
    for (text, want, line) in cases {
        let (v, ok) = run_json(text);
        assert!(!ok, "{text}");
        assert_eq!(v["steps"], json!([]));
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(want), "{msg:?} should contain {want:?}");
        if let Some(l) = line {
            assert_eq!(v["error"]["line"], l, "{v}");
        }
    }
    // YAML syntax errors carry their line and column.
    let (v, _) = run_json("apiVersion: kubeglass.dev/v1alpha1\nkind: Scenario\nspec:\n  steps:\n  - kubectl: 'get pods\n");
    assert!(
        v["error"]["line"].is_number() && v["error"]["column"].is_number(),
        "{v}"
    );
}

/// FNV-1a, to compare traces across platforms by a constant.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn the_same_scenario_gives_the_same_trace_here_and_in_the_browser() {
    let s = scenario::parse(CHAPTER).unwrap();
    let (_, a) = scenario::run(&s).unwrap();
    let (_, b) = scenario::run(&s).unwrap();
    let ta = a.cluster.k.trace.render();
    assert_eq!(ta, b.cluster.k.trace.render());
    // The same constant natively and in wasm (this test runs in both).
    assert_eq!(fnv(&ta), TRACE_HASH, "the trace changed:\n{ta}");
    // A different seed changes the random parts (uids, generated names, IPs).
    let mut other = s.clone();
    other.settings.seed = 2;
    let (_, c) = scenario::run(&other).unwrap();
    assert_ne!(ta, c.cluster.k.trace.render());
}

/// The hash of the apiserver chapter's trace: update it (deliberately) when the
/// simulation's behaviour changes (scripts/trace-hash.sh prints the new value).
const TRACE_HASH: u64 = 15726481406881974460;

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn the_cli_prints_json_results_and_exit_codes() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let bin = env!("CARGO_BIN_EXE_kubeglass");
    let run = |input: &str, args: &[&str]| {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(SMALL, &["run", "-", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["steps"].as_array().unwrap().len(), 5);
    let out = run("spec: [\n", &["run", "-", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["error"]["message"].is_string());
    assert_eq!(v["steps"], json!([]));
    let out = run(SMALL, &["run", "-"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(
            "$ kubectl get nodes -o wide\nNAME     STATUS   ROLES    AGE   VERSION   INTERNAL-IP"
        ),
        "{text}"
    );
    let out = run(SMALL, &["run", "-", "--trace"]);
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("serviceaccount-controller: ensure serviceaccount default/default"));
}
