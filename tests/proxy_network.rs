//! The API server's proxy paths over the simulated network: the registry's
//! ResourceLocation picks the address (a pod's IP and port, a node's kubelet, a
//! random endpoint of a Service with the named port) and the program listening
//! there answers, or the dial fails with Go's words.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::scenario::{self, StepResult};

fn run(steps: &str) -> Vec<StepResult> {
    let text = format!(
        r#"apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {{name: proxy}}
spec:
  cluster:
    nodes:
    - metadata: {{name: node-1}}
  steps:
  - kubectl: create deployment web --image=gcr.io/google-samples/hello-app:1.0
  - kubectl: expose deployment web --port=8080
  - kubectl: run nginx --image=nginx:1.27 --port=80
  - settle: {{}}
{steps}"#
    );
    let s = scenario::parse(&text).unwrap_or_else(|e| panic!("scenario: {e}"));
    let (results, _) = scenario::run(&s).unwrap_or_else(|e| panic!("run: {e}"));
    for r in &results[..4] {
        assert!(r.error.is_null(), "setup: {}", r.error);
    }
    results[4..].to_vec()
}

fn get(path: &str) -> String {
    format!("  - request: {{method: GET, path: '{path}'}}\n")
}

#[test]
fn programs_answer_through_the_proxy_paths() {
    let r = run(&[
        get("/api/v1/namespaces/default/services/web:8080/proxy/"),
        get("/api/v1/namespaces/default/pods/nginx/proxy/"),
        get("/api/v1/proxy/namespaces/default/pods/nginx/index.html"),
        get("/api/v1/nodes/node-1/proxy/healthz"),
        get("/api/v1/nodes/node-1:10250/proxy/pods"),
        "  - kubectl: get --raw /api/v1/namespaces/default/services/http:web:8080/proxy/\n".into(),
    ]
    .concat());
    let out = |i: usize| &r[i].output;
    assert_eq!(out(0)["code"], 200);
    let body = out(0)["body"].as_str().unwrap_or_default();
    assert!(
        body.starts_with("Hello, world!\nVersion: 1.0.0\nHostname: web-"),
        "{body}"
    );
    assert_eq!(out(1)["code"], 200);
    assert!(out(1)["body"]
        .as_str()
        .unwrap_or_default()
        .contains("<title>Welcome to nginx!</title>"));
    assert_eq!(
        out(1),
        out(2),
        "the seed's /api/v1/proxy form reaches the same pod"
    );
    assert_eq!(out(3)["body"], "ok");
    // The kubelet's /pods lists the pods it runs.
    assert_eq!(out(4)["code"], 200);
    let pods: serde_json::Value =
        serde_json::from_str(out(4)["body"].as_str().unwrap_or("{}")).unwrap_or_default();
    assert_eq!(pods["kind"], "PodList");
    assert_eq!(pods["items"].as_array().map(Vec::len), Some(2));
    assert!(r[5]
        .output
        .as_str()
        .unwrap_or_default()
        .starts_with("Hello, world!"));
}

#[test]
fn dial_failures_are_upstreams_errors() {
    let r = run(&[
        get("/api/v1/namespaces/default/pods/nginx:81/proxy/"),
        get("/api/v1/namespaces/default/services/web:9999/proxy/"),
        get("/api/v1/namespaces/default/services/web:http/proxy/"),
        get("/api/v1/nodes/node-1/proxy/nope"),
        get("/api/v1/namespaces/default/pods/a:b:c:d/proxy/"),
        "  - fault: {nodeDown: node-1}\n".into(),
        get("/api/v1/namespaces/default/pods/nginx/proxy/"),
    ]
    .concat());
    let status = |i: usize| {
        (
            r[i].output["code"].clone(),
            r[i].output["body"]["message"].clone(),
        )
    };
    let (code, msg) = status(0);
    assert_eq!(code, 503);
    let msg = msg.as_str().unwrap_or_default().to_string();
    assert!(
        msg.starts_with("error trying to reach service: dial tcp 10.244.0."),
        "{msg}"
    );
    assert!(msg.ends_with(":81: connect: connection refused"), "{msg}");
    assert_eq!(
        status(1),
        (
            503.into(),
            "no service port 9999 found for service \"web\"".into()
        )
    );
    assert_eq!(
        status(2),
        (
            503.into(),
            "no endpoints available for service \"web:http\"".into()
        )
    );
    assert_eq!(r[3].output["code"], 404);
    assert_eq!(r[3].output["body"], "404 page not found\n");
    assert_eq!(r[4].output["code"], 400);
    let (code, msg) = status(6);
    assert_eq!(code, 503);
    assert!(
        msg.as_str()
            .unwrap_or_default()
            .ends_with(":80: connect: no route to host"),
        "{msg}"
    );
}
