//! The workload controllers (ReplicaSet, ReplicationController, Deployment) and the
//! garbage collector, through scenarios, REST and kubectl: pods made from templates
//! with owner references, scaling with upstream's deletion ranking, adoption and
//! release, expectations, rolling updates step by step, rollout history, undo,
//! pause and resume, cascading deletion, and the seed's legacy rolling-update.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use std::collections::BTreeMap;

use kubeglass::scenario::{self, Action, ApplyInput, Runner, Step, StepResult};
use serde_json::{json, Value};

const NODES: &str = r#"
apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {name: workloads}
spec:
  cluster:
    nodes:
    - metadata: {name: node-1, annotations: {kubeglass.dev/kubelet: "none"}}
      status: {capacity: {cpu: "8", memory: 16Gi, pods: "110"}}
    - metadata: {name: node-2, annotations: {kubeglass.dev/kubelet: "none"}}
      status: {capacity: {cpu: "8", memory: 16Gi, pods: "110"}}
  steps: []
"#;

struct Sim {
    r: Runner,
}

impl Sim {
    fn new() -> Sim {
        let s = scenario::parse(NODES).unwrap_or_else(|e| panic!("scenario: {e}"));
        Sim {
            r: Runner::new(s.settings).unwrap_or_else(|e| panic!("cluster: {e}")),
        }
    }

    fn step(&mut self, action: Action) -> StepResult {
        self.r.take_step(Step {
            action,
            credentials: None,
        })
    }

    fn apply(&mut self, yaml: &str) -> String {
        let r = self.step(Action::Apply(ApplyInput::Text(yaml.into())));
        assert!(r.error.is_null(), "apply failed: {}", r.error);
        r.output.as_str().unwrap_or_default().to_string()
    }

    /// kubectl: stdout, or panics with stderr.
    fn k(&mut self, line: &str) -> String {
        let r = self.step(Action::Kubectl(line.into()));
        assert!(r.error.is_null(), "kubectl {line} failed: {}", r.error);
        r.output
            .as_str()
            .unwrap_or_default()
            .trim_end_matches('\n')
            .to_string()
    }

    /// kubectl expected to fail: its error message.
    fn k_err(&mut self, line: &str) -> String {
        let r = self.step(Action::Kubectl(line.into()));
        assert!(
            !r.error.is_null(),
            "kubectl {line} should fail: {}",
            r.output
        );
        r.error["message"].as_str().unwrap_or_default().to_string()
    }

    fn req(&mut self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.req_with(method, path, body, &[])
    }

    fn req_with(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let r = self.step(Action::Request {
            method: method.into(),
            path: path.into(),
            body,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        });
        assert!(r.error.is_null(), "request failed: {}", r.error);
        (
            r.output["code"].as_u64().unwrap_or(0) as u16,
            r.output["body"].clone(),
        )
    }

    fn get(&mut self, path: &str) -> Value {
        let (code, body) = self.req("GET", path, None);
        assert_eq!(code, 200, "GET {path}: {body}");
        body
    }

    fn advance(&mut self, d: &str) {
        let n = kubeglass::kernel::parse_duration(d).expect("duration");
        self.step(Action::Advance(n));
    }

    /// The pods of the namespace with a label selector, as JSON objects (by name).
    fn pods(&mut self, selector: &str) -> Vec<Value> {
        let body = self.get(&format!(
            "/api/v1/namespaces/default/pods?labelSelector={selector}"
        ));
        body["items"].as_array().cloned().unwrap_or_default()
    }

    fn active_pods(&mut self, selector: &str) -> Vec<Value> {
        self.pods(selector)
            .into_iter()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .collect()
    }

    /// Marks a pod Running and Ready as a kubelet would (the status subresource).
    fn make_ready(&mut self, name: &str) {
        let path = format!("/api/v1/namespaces/default/pods/{name}/status");
        let now = self.r.cluster.now();
        let t = kubeglass::api::time::Time::from_virtual_nanos(now).to_rfc3339();
        let (code, body) = self.req_with(
            "PATCH",
            &path,
            Some(json!({"status": {"phase": "Running", "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": t}]}})),
            &[("Content-Type", "application/merge-patch+json")],
        );
        assert_eq!(code, 200, "ready {name}: {body}");
    }

    /// Makes every active pod matching the selector Ready.
    fn make_all_ready(&mut self, selector: &str) {
        for p in self.active_pods(selector) {
            let ready = p["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
            if !ready {
                let name = p["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                self.make_ready(&name);
            }
        }
    }

    fn events(&mut self, reason: &str) -> Vec<String> {
        let body = self.get(&format!(
            "/api/v1/namespaces/default/events?fieldSelector=reason%3D{reason}"
        ));
        body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

fn name(v: &Value) -> String {
    v["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

const RS: &str = r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: frontend, labels: {tier: frontend}}
spec:
  replicas: 3
  selector: {matchLabels: {tier: frontend}}
  template:
    metadata: {labels: {tier: frontend}}
    spec:
      containers:
      - {name: php-redis, image: "us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5"}
"#;

#[test]
fn replicaset_creates_pods_with_owner_references() {
    let mut s = Sim::new();
    assert_eq!(s.apply(RS), "replicaset.apps/frontend created");
    let rs = s.get("/apis/apps/v1/namespaces/default/replicasets/frontend");
    let uid = rs["metadata"]["uid"].as_str().unwrap().to_string();
    let pods = s.pods("tier%3Dfrontend");
    assert_eq!(pods.len(), 3);
    for p in &pods {
        let m = &p["metadata"];
        assert_eq!(m["generateName"], "frontend-");
        assert!(name(p).starts_with("frontend-") && name(p).len() == "frontend-".len() + 5);
        assert_eq!(m["labels"], json!({"tier": "frontend"}));
        assert_eq!(
            m["ownerReferences"],
            json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "frontend",
                    "uid": uid, "controller": true, "blockOwnerDeletion": true}])
        );
    }
    let rs = s.get("/apis/apps/v1/namespaces/default/replicasets/frontend");
    assert_eq!(rs["status"]["replicas"], 3);
    assert_eq!(rs["status"]["fullyLabeledReplicas"], 3);
    assert_eq!(rs["status"]["observedGeneration"], 1);
    assert_eq!(rs["status"]["readyReplicas"], Value::Null);
    let mut created = s.events("SuccessfulCreate");
    created.sort();
    let mut want: Vec<String> = pods
        .iter()
        .map(|p| format!("Created pod: {}", name(p)))
        .collect();
    want.sort();
    assert_eq!(created, want);
    println!("{}", s.k("get rs frontend"));
}

fn deployment(replicas: u32, image: &str, strategy: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, labels: {{app: web}}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  strategy: {strategy}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - {{name: nginx, image: "{image}"}}
"#
    )
}

/// (name, spec.replicas, status.availableReplicas) of the Deployment's ReplicaSets, oldest first.
fn replicasets(s: &mut Sim) -> Vec<(String, i64, i64)> {
    let body = s.get("/apis/apps/v1/namespaces/default/replicasets");
    let mut v: Vec<(String, String, i64, i64)> = body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                name(r),
                r["spec"]["replicas"].as_i64().unwrap_or(0),
                r["status"]["availableReplicas"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    v.sort();
    v.into_iter().map(|(_, n, r, a)| (n, r, a)).collect()
}

#[test]
fn deployment_rolls_out_within_max_surge_and_max_unavailable() {
    let mut s = Sim::new();
    let strategy = "{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}";
    assert_eq!(
        s.apply(&deployment(4, "nginx:1.14.2", strategy)),
        "deployment.apps/web created"
    );
    let rss = replicasets(&mut s);
    assert_eq!(rss.len(), 1);
    assert_eq!(rss[0].1, 4);
    s.make_all_ready("app%3Dweb");
    let d = s.get("/apis/apps/v1/namespaces/default/deployments/web");
    println!("{}", serde_json::to_string_pretty(&d["status"]).unwrap());
    println!("{}", s.k("get deploy,rs,pods -o wide"));
    s.apply(&deployment(4, "nginx:1.16.1", strategy));
    for step in 0..20 {
        let rss = replicasets(&mut s);
        let pods = s.active_pods("app%3Dweb");
        println!("step {step}: {rss:?} pods {}", pods.len());
        assert!(pods.len() <= 5, "more than replicas + maxSurge pods");
        let available: i64 = rss.iter().map(|r| r.2).sum();
        assert!(
            available >= 3 || step == 0,
            "fewer than replicas - maxUnavailable available"
        );
        if rss.len() == 2 && rss[0].1 == 0 && rss[1].2 == 4 {
            break;
        }
        s.make_all_ready("app%3Dweb");
    }
    let d = s.get("/apis/apps/v1/namespaces/default/deployments/web");
    println!("{}", serde_json::to_string_pretty(&d["status"]).unwrap());
    println!("{:?}", s.events("ScalingReplicaSet"));
}

fn pod_count(s: &mut Sim, selector: &str) -> usize {
    s.pods(selector).len()
}

#[test]
fn garbage_collector_cascades_in_background_foreground_and_orphan() {
    // Background (kubectl's default): the ReplicaSet goes at once, its pods after.
    let mut s = Sim::new();
    s.apply(RS);
    assert_eq!(pod_count(&mut s, "tier%3Dfrontend"), 3);
    assert_eq!(
        s.k("delete rs frontend"),
        "replicaset.apps \"frontend\" deleted"
    );
    assert_eq!(pod_count(&mut s, "tier%3Dfrontend"), 0);

    // Orphan: the pods stay, without owner references.
    s.apply(RS);
    assert_eq!(
        s.k("delete rs frontend --cascade=orphan"),
        "replicaset.apps \"frontend\" deleted"
    );
    let (code, _) = s.req(
        "GET",
        "/apis/apps/v1/namespaces/default/replicasets/frontend",
        None,
    );
    assert_eq!(code, 404);
    let pods = s.pods("tier%3Dfrontend");
    assert_eq!(pods.len(), 3);
    for p in &pods {
        assert!(p["metadata"]["ownerReferences"].is_null(), "{p}");
    }
    // A new ReplicaSet adopts the orphans instead of creating pods.
    s.apply(RS);
    let pods = s.pods("tier%3Dfrontend");
    assert_eq!(pods.len(), 3);
    for p in &pods {
        assert_eq!(p["metadata"]["ownerReferences"][0]["name"], "frontend");
    }
    for p in &pods {
        let n = name(p);
        let (code, _) = s.req(
            "DELETE",
            &format!("/api/v1/namespaces/default/pods/{n}"),
            None,
        );
        assert_eq!(code, 200);
    }

    // Foreground through REST: the owner waits, with its finalizer, until its
    // dependents are gone.
    let (code, body) = s.req(
        "DELETE",
        "/apis/apps/v1/namespaces/default/replicasets/frontend",
        Some(
            json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"}),
        ),
    );
    assert_eq!(code, 200);
    assert_eq!(
        body["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );
    assert!(!body["metadata"]["deletionTimestamp"].is_null());
    assert_eq!(pod_count(&mut s, "tier%3Dfrontend"), 0);
    let (code, _) = s.req(
        "GET",
        "/apis/apps/v1/namespaces/default/replicasets/frontend",
        None,
    );
    assert_eq!(code, 404);
}
