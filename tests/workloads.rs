//! The workload controllers (ReplicaSet, ReplicationController, Deployment) and the
//! garbage collector, through scenarios, REST and kubectl: pods made from templates
//! with owner references, scaling with upstream's deletion ranking, adoption and
//! release, expectations, rolling updates step by step, rollout history, undo,
//! pause and resume, cascading deletion, and the seed's legacy rolling-update.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

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
                .collect(),
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

/// Rolls the Deployment's pods forward as kubelets would make them Ready, checking
/// at every step that no more than `replicas + surge` pods exist and at least
/// `replicas - unavailable` are available; returns the ReplicaSet sizes seen.
fn roll(s: &mut Sim, replicas: i64, surge: i64, unavailable: i64) -> Vec<Vec<(String, i64, i64)>> {
    let mut seen = Vec::new();
    for _ in 0..30 {
        let rss = replicasets(s);
        let total: i64 = rss.iter().map(|r| r.1).sum();
        let available: i64 = rss.iter().map(|r| r.2).sum();
        assert!(
            total <= replicas + surge,
            "{rss:?}: more than replicas + maxSurge"
        );
        assert!(
            available >= replicas - unavailable,
            "{rss:?}: fewer than replicas - maxUnavailable available"
        );
        let pods = s.active_pods("app%3Dweb").len() as i64;
        assert!(pods <= replicas + surge, "{pods} pods");
        seen.push(rss.clone());
        let last = rss.last().cloned().unwrap_or_default();
        if last.1 == replicas && last.2 == replicas && rss[..rss.len() - 1].iter().all(|r| r.1 == 0)
        {
            break;
        }
        s.make_all_ready("app%3Dweb");
    }
    seen
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
    let first = rss[0].0.clone();
    assert!(
        first.starts_with("web-") && first.len() == "web-".len() + 10,
        "{first}"
    );
    let rs = s.get(&format!(
        "/apis/apps/v1/namespaces/default/replicasets/{first}"
    ));
    let hash = &first["web-".len()..];
    assert_eq!(rs["metadata"]["labels"]["pod-template-hash"], hash);
    assert_eq!(
        rs["spec"]["selector"]["matchLabels"],
        json!({"app": "web", "pod-template-hash": hash})
    );
    assert_eq!(
        rs["metadata"]["annotations"],
        json!({
        "deployment.kubernetes.io/revision": "1",
        "deployment.kubernetes.io/desired-replicas": "4",
        "deployment.kubernetes.io/max-replicas": "5"})
    );
    assert_eq!(rs["metadata"]["ownerReferences"][0]["kind"], "Deployment");
    s.make_all_ready("app%3Dweb");
    let d = s.get("/apis/apps/v1/namespaces/default/deployments/web");
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
    assert_eq!(d["status"]["availableReplicas"], 4);
    assert_eq!(d["status"]["updatedReplicas"], 4);
    let conds: Vec<(String, String)> = d["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap().to_string(),
                c["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        conds,
        [
            ("Available".into(), "MinimumReplicasAvailable".into()),
            ("Progressing".into(), "NewReplicaSetAvailable".into())
        ]
    );
    assert_eq!(
        s.k("rollout status deployment/web"),
        "deployment \"web\" successfully rolled out"
    );

    assert_eq!(
        s.k("set image deployment/web nginx=nginx:1.16.1"),
        "deployment.apps/web image updated"
    );
    // Surge first: the new ReplicaSet gets 1 (4 + 1 allowed), the old one loses 1
    // (4 - 1 must stay available).
    let rss = replicasets(&mut s);
    assert_eq!(rss.len(), 2);
    assert_eq!((rss[0].1, rss[1].1), (3, 2), "{rss:?}");
    assert_eq!(
        s.k("rollout status deployment/web --watch=false"),
        "Waiting for deployment \"web\" rollout to finish: 2 out of 4 new replicas have been updated..."
    );
    let steps = roll(&mut s, 4, 1, 1);
    let last = steps.last().unwrap();
    assert_eq!((last[0].1, last[1].1, last[1].2), (0, 4, 4));
    let events = s.events("ScalingReplicaSet");
    let second = &last[1].0;
    assert!(
        events.contains(&format!("Scaled up replica set {first} to 4")),
        "{events:?}"
    );
    assert!(
        events.contains(&format!("Scaled up replica set {second} to 1")),
        "{events:?}"
    );
    assert!(
        events.contains(&format!("Scaled down replica set {first} to 3 from 4")),
        "{events:?}"
    );
    assert!(
        events.contains(&format!("Scaled down replica set {first} to 0 from 1")),
        "{events:?}"
    );
    let d = s.get("/apis/apps/v1/namespaces/default/deployments/web");
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    assert_eq!(
        d["status"]["conditions"][1]["message"],
        format!("ReplicaSet \"{second}\" has successfully progressed.")
    );
    let r = s.step(Action::Kubectl("rollout history deployment/web".into()));
    assert_eq!(
        r.output,
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n"
    );
}

#[test]
fn deployment_default_strategy_rounds_surge_up_and_unavailable_down() {
    // 25% of 3: surge 1 (rounded up), unavailable 0 (rounded down).
    let mut s = Sim::new();
    s.apply(&deployment(3, "nginx:1.14.2", "{}"));
    s.make_all_ready("app%3Dweb");
    s.k("set image deploy/web nginx=nginx:1.16.1");
    let rss = replicasets(&mut s);
    assert_eq!((rss[0].1, rss[1].1), (3, 1), "{rss:?}");
    let steps = roll(&mut s, 3, 1, 0);
    assert!(steps.len() >= 4, "{steps:?}");
}

#[test]
fn recreate_scales_old_pods_away_before_creating_new_ones() {
    let mut s = Sim::new();
    s.apply(&deployment(3, "nginx:1.14.2", "{type: Recreate}"));
    s.make_all_ready("app%3Dweb");
    s.k("set image deploy/web nginx=nginx:1.16.1");
    let rss = replicasets(&mut s);
    assert_eq!(rss.len(), 2);
    // The old pods are gone (no kubelet keeps them terminating) and only then the
    // new ReplicaSet is scaled up.
    assert_eq!((rss[0].1, rss[1].1), (0, 3), "{rss:?}");
    let events = s.events("ScalingReplicaSet");
    assert_eq!(
        events[1],
        format!("Scaled down replica set {} to 0 from 3", rss[0].0)
    );
    assert_eq!(
        events[2],
        format!("Scaled up replica set {} to 3", rss[1].0)
    );
    let rs = s.get(&format!(
        "/apis/apps/v1/namespaces/default/replicasets/{}",
        rss[1].0
    ));
    assert_eq!(
        rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"],
        "3"
    );
}

#[test]
fn rollout_undo_pause_resume_restart_and_history() {
    let mut s = Sim::new();
    s.apply(&deployment(2, "nginx:1.14.2", "{}"));
    s.make_all_ready("app%3Dweb");
    s.k("set image deployment/web nginx=nginx:1.16.1");
    roll(&mut s, 2, 1, 0);
    let before = replicasets(&mut s);
    assert_eq!(
        s.k("rollout undo deployment/web"),
        "deployment.apps/web rolled back"
    );
    roll(&mut s, 2, 1, 0);
    let d = s.get("/apis/apps/v1/namespaces/default/deployments/web");
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.14.2"
    );
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );
    // The first ReplicaSet is the new one again, at revision 3 with its history.
    let rs = s.get(&format!(
        "/apis/apps/v1/namespaces/default/replicasets/{}",
        before[0].0
    ));
    assert_eq!(
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );
    assert_eq!(
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"],
        "1"
    );
    let r = s.step(Action::Kubectl("rollout history deploy/web".into()));
    assert_eq!(
        r.output,
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n\n"
    );
    let rev = s.k("rollout history deploy/web --revision=2");
    assert!(
        rev.starts_with("deployment.apps/web with revision #2\nPod Template:\n"),
        "{rev}"
    );
    assert!(rev.contains("nginx:1.16.1"), "{rev}");
    assert_eq!(
        s.k_err("rollout undo deploy/web --to-revision=7"),
        "error: unable to find specified revision 7 in history"
    );
    assert_eq!(
        s.k("rollout undo deploy/web --to-revision=3"),
        "deployment.apps/web skipped rollback (current template already matches revision 3)"
    );

    assert_eq!(
        s.k("rollout pause deployment/web"),
        "deployment.apps/web paused"
    );
    assert_eq!(
        s.k_err("rollout pause deployment/web"),
        "error: deployments.apps \"web\" is already paused"
    );
    let d = s.get("/apis/apps/v1/namespaces/default/deployments/web");
    let progressing = d["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap()
        .clone();
    assert_eq!(
        (
            progressing["status"].as_str(),
            progressing["reason"].as_str()
        ),
        (Some("Unknown"), Some("DeploymentPaused"))
    );
    // While paused, a new template makes no new ReplicaSet.
    s.k("set image deployment/web nginx=nginx:1.17");
    assert_eq!(replicasets(&mut s).len(), 2);
    assert!(s
        .k_err("rollout undo deployment/web")
        .starts_with("error: you cannot rollback a paused deployment"));
    assert_eq!(
        s.k("rollout resume deployment/web"),
        "deployment.apps/web resumed"
    );
    assert_eq!(
        s.k_err("rollout resume deployment/web"),
        "error: deployments.apps \"web\" is not paused"
    );
    assert_eq!(replicasets(&mut s).len(), 3);
    roll(&mut s, 2, 1, 0);
    assert_eq!(
        s.k("rollout restart deployment/web"),
        "deployment.apps/web restarted"
    );
    let d = s.get("/apis/apps/v1/namespaces/default/deployments/web");
    assert_eq!(
        d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
        "2024-08-13T00:00:00Z"
    );
    assert_eq!(replicasets(&mut s).len(), 4);
    assert_eq!(
        s.k_err("rollout status rs/x"),
        "error: no status viewer has been implemented for ReplicaSet"
    );
    assert_eq!(
        s.k_err("set image deployment/web foo=bar"),
        "error: unable to find container named \"foo\""
    );
}

#[test]
fn rollout_status_watches_until_the_rollout_finishes_or_times_out() {
    let mut s = Sim::new();
    s.apply(&deployment(2, "nginx:1.14.2", "{}"));
    // No kubelet makes the pods ready: the watch gives up at --timeout.
    let err = s.k_err("rollout status deployment/web --timeout=5s");
    assert_eq!(err, "error: timed out waiting for the condition");
    let r = s.step(Action::Kubectl(
        "rollout status deployment/web --timeout=5s".into(),
    ));
    assert_eq!(r.output, "Waiting for deployment \"web\" rollout to finish: 0 of 2 updated replicas are available...\n");
}

#[test]
fn progress_deadline_exceeded_when_no_pod_becomes_available() {
    let mut s = Sim::new();
    s.apply(
        &deployment(2, "nginx:1.14.2", "{}")
            .replace("replicas: 2", "replicas: 2\n  progressDeadlineSeconds: 30"),
    );
    s.advance("31s");
    let d = s.get("/apis/apps/v1/namespaces/default/deployments/web");
    let p = d["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap()
        .clone();
    assert_eq!(p["reason"], "ProgressDeadlineExceeded");
    assert_eq!(p["status"], "False");
    assert!(p["message"]
        .as_str()
        .unwrap()
        .ends_with("has timed out progressing."));
    assert_eq!(
        s.k_err("rollout status deploy/web"),
        "error: deployment \"web\" exceeded its progress deadline"
    );
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

#[test]
fn scaling_down_deletes_unready_pods_first() {
    let mut s = Sim::new();
    s.apply(&RS.replace("replicas: 3", "replicas: 4"));
    let pods = s.pods("tier%3Dfrontend");
    assert_eq!(pods.len(), 4);
    let mut names: Vec<String> = pods.iter().map(name).collect();
    names.sort();
    // Two pods become Running and Ready; the two others stay Pending.
    s.make_ready(&names[1]);
    s.make_ready(&names[3]);
    assert_eq!(
        s.k("scale rs frontend --replicas=2"),
        "replicaset.apps/frontend scaled"
    );
    let mut left: Vec<String> = s.pods("tier%3Dfrontend").iter().map(name).collect();
    left.sort();
    assert_eq!(left, [names[1].clone(), names[3].clone()]);
    let mut deleted = s.events("SuccessfulDelete");
    deleted.sort();
    assert_eq!(
        deleted,
        [
            format!("Deleted pod: {}", names[0]),
            format!("Deleted pod: {}", names[2])
        ]
    );
    let rs = s.get("/apis/apps/v1/namespaces/default/replicasets/frontend");
    assert_eq!(rs["status"]["replicas"], 2);
    assert_eq!(rs["status"]["readyReplicas"], 2);
    assert_eq!(rs["status"]["availableReplicas"], 2);
    assert_eq!(rs["status"]["observedGeneration"], 2);
    // Scaling up creates pods again, named from the template.
    assert_eq!(
        s.k("scale rs/frontend --replicas=5"),
        "replicaset.apps/frontend scaled"
    );
    assert_eq!(s.pods("tier%3Dfrontend").len(), 5);
}

#[test]
fn adoption_and_release_follow_the_selector() {
    let mut s = Sim::new();
    // An orphan pod that matches is adopted: the ReplicaSet creates only two.
    s.apply(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: lone, labels: {tier: frontend}}\nspec:\n  containers: [{name: c, image: nginx}]\n",
    );
    s.apply(RS);
    let pods = s.pods("tier%3Dfrontend");
    assert_eq!(pods.len(), 3);
    let lone = s.get("/api/v1/namespaces/default/pods/lone");
    assert_eq!(lone["metadata"]["ownerReferences"][0]["name"], "frontend");
    assert_eq!(lone["metadata"]["ownerReferences"][0]["controller"], true);
    assert_eq!(s.events("SuccessfulCreate").len(), 2);
    // Relabelled, it no longer matches: released, and replaced.
    assert_eq!(
        s.k("label pod lone tier=debug --overwrite"),
        "pod/lone labeled"
    );
    let lone = s.get("/api/v1/namespaces/default/pods/lone");
    assert!(lone["metadata"]["ownerReferences"].is_null(), "{lone}");
    assert_eq!(s.pods("tier%3Dfrontend").len(), 3);
    assert_eq!(s.events("SuccessfulCreate").len(), 3);
}

const RC: &str = r#"
apiVersion: v1
kind: ReplicationController
metadata: {name: kubia}
spec:
  replicas: 3
  selector: {app: kubia}
  template:
    metadata: {labels: {app: kubia}}
    spec:
      containers:
      - {name: kubia, image: "luksa/kubia:v1"}
"#;

#[test]
fn replication_controller_replaces_a_lost_pod_and_scales() {
    let mut s = Sim::new();
    assert_eq!(s.apply(RC), "replicationcontroller/kubia created");
    let pods = s.pods("app%3Dkubia");
    assert_eq!(pods.len(), 3);
    assert_eq!(
        pods[0]["metadata"]["ownerReferences"][0]["kind"],
        "ReplicationController"
    );
    assert_eq!(
        pods[0]["metadata"]["ownerReferences"][0]["apiVersion"],
        "v1"
    );
    // The seed's rescheduling: a pod is lost (its node died, or it was deleted),
    // and the controller creates a replacement.
    let victim = name(&pods[0]);
    let r = s.k(&format!("delete pod {victim}"));
    assert_eq!(r, format!("pod \"{victim}\" deleted"));
    let after: Vec<String> = s.pods("app%3Dkubia").iter().map(name).collect();
    assert_eq!(after.len(), 3);
    assert!(!after.contains(&victim));
    let ev = s.get("/api/v1/namespaces/default/events?fieldSelector=reason%3DSuccessfulCreate");
    assert_eq!(
        ev["items"][0]["source"]["component"],
        "replication-controller"
    );
    assert_eq!(
        ev["items"][0]["involvedObject"]["kind"],
        "ReplicationController"
    );
    assert_eq!(
        s.k("scale rc kubia --replicas=5"),
        "replicationcontroller/kubia scaled"
    );
    assert_eq!(s.pods("app%3Dkubia").len(), 5);
    let rc = s.get("/api/v1/namespaces/default/replicationcontrollers/kubia");
    assert_eq!(rc["status"]["replicas"], 5);
    s.apply(&deployment(2, "nginx", "{}"));
    assert_eq!(
        s.k("scale deploy web --replicas=3"),
        "deployment.apps/web scaled"
    );
    assert_eq!(s.active_pods("app%3Dweb").len(), 3);
}

#[test]
fn deleting_a_replication_controller_through_rest_orphans_its_pods() {
    // A v1 ReplicationController's default policy is Orphan (backward compatibility);
    // kubectl sends Background.
    let mut s = Sim::new();
    s.apply(RC);
    let (code, body) = s.req(
        "DELETE",
        "/api/v1/namespaces/default/replicationcontrollers/kubia",
        None,
    );
    assert_eq!(code, 200);
    assert_eq!(body["metadata"]["finalizers"], json!(["orphan"]));
    let (code, _) = s.req(
        "GET",
        "/api/v1/namespaces/default/replicationcontrollers/kubia",
        None,
    );
    assert_eq!(code, 404);
    let pods = s.pods("app%3Dkubia");
    assert_eq!(pods.len(), 3);
    assert!(pods
        .iter()
        .all(|p| p["metadata"]["ownerReferences"].is_null()));
    s.apply(RC);
    assert_eq!(s.pods("app%3Dkubia").len(), 3);
    assert_eq!(
        s.k("delete rc kubia --cascade=foreground"),
        "replicationcontroller \"kubia\" deleted"
    );
    assert_eq!(s.pods("app%3Dkubia").len(), 0);
}

#[test]
fn legacy_rolling_update_replaces_a_replication_controller() {
    let mut s = Sim::new();
    s.apply(RC);
    s.make_all_ready("app%3Dkubia");
    // Without a kubelet the new pods never become ready: the update stops making
    // progress and times out, as kubectl did.
    let r = s.step(Action::Kubectl(
        "rolling-update kubia kubia-v2 --image=luksa/kubia:v2 --update-period=1s --timeout=10s"
            .into(),
    ));
    let err = r.error["message"].as_str().unwrap_or_default();
    assert!(err.starts_with("Command \"rolling-update\" is deprecated, use \"rollout\" instead (kubeglass: the seed's legacy command"), "{err}");
    assert!(
        err.ends_with("\nerror: timed out waiting for any update progress to be made"),
        "{err}"
    );
    let out = r.output.as_str().unwrap_or_default().to_string();
    assert!(out.starts_with("Created kubia-v2\nScaling up kubia-v2 from 0 to 3, scaling down kubia from 3 to 0 (keep 3 pods available, don't exceed 4 pods)\nScaling kubia-v2 up to 1\n"), "{out}");
    // Pods made Ready (as a kubelet would), run again: it resumes and finishes.
    let mut out = String::new();
    for _ in 0..6 {
        s.make_all_ready("app%3Dkubia");
        let r = s.step(Action::Kubectl(
            "rolling-update kubia kubia-v2 --image=luksa/kubia:v2 --update-period=1s --timeout=3s"
                .into(),
        ));
        out = r.output.as_str().unwrap_or_default().to_string();
        if r.error.is_null() {
            break;
        }
    }
    assert!(
        out.starts_with("Found existing update in progress (kubia-v2), resuming.\n"),
        "{out}"
    );
    assert!(out.ends_with("Update succeeded. Deleting kubia\nreplicationcontroller/kubia-v2 rolling updated to \"kubia-v2\"\n"), "{out}");
    let (code, _) = s.req(
        "GET",
        "/api/v1/namespaces/default/replicationcontrollers/kubia",
        None,
    );
    assert_eq!(code, 404);
    let pods = s.active_pods("app%3Dkubia");
    assert_eq!(pods.len(), 3);
    assert!(pods
        .iter()
        .all(|p| p["spec"]["containers"][0]["image"] == "luksa/kubia:v2"));
}

#[test]
fn a_scenario_file_drives_a_deployment_through_kubectl() {
    let text = r#"
apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {name: deployment}
spec:
  cluster:
    nodes:
    - metadata: {name: node-1, annotations: {kubeglass.dev/kubelet: "none"}}
      status: {capacity: {cpu: "4", memory: 8Gi, pods: "110"}}
  steps:
  - kubectl: create deployment web --image=nginx:1.14.2 --replicas=2
  - kubectl: get rs -o jsonpath={.items[0].spec.replicas}/{.items[0].status.replicas}
  - kubectl: describe deployment web
  - kubectl: delete deployment web
  - kubectl: get rs,pods
"#;
    let (out, ok) = scenario::run_json(text);
    assert!(ok, "{out}");
    let steps = out["steps"].as_array().unwrap();
    assert_eq!(steps[0]["output"], "deployment.apps/web created\n");
    assert_eq!(steps[1]["output"], "2/2");
    let describe = steps[2]["output"].as_str().unwrap();
    assert!(describe.contains("NewReplicaSet:"), "{describe}");
    assert!(describe.contains("ScalingReplicaSet"), "{describe}");
    assert!(describe.contains("deployment-controller"), "{describe}");
    assert_eq!(steps[3]["output"], "deployment.apps \"web\" deleted\n");
    // The garbage collector removed the ReplicaSet, then its pods.
    assert_eq!(steps[4]["output"], "");
    assert!(steps[4]["error"].is_null());
}

#[test]
fn failed_pods_do_not_count_and_availability_waits_for_min_ready_seconds() {
    let mut s = Sim::new();
    s.apply(&RS.replace("replicas: 3", "replicas: 3\n  minReadySeconds: 10"));
    s.make_all_ready("tier%3Dfrontend");
    let rs = s.get("/apis/apps/v1/namespaces/default/replicasets/frontend");
    assert_eq!(rs["status"]["readyReplicas"], 3);
    assert_eq!(rs["status"]["availableReplicas"], Value::Null);
    s.advance("11s");
    let rs = s.get("/apis/apps/v1/namespaces/default/replicasets/frontend");
    assert_eq!(rs["status"]["availableReplicas"], 3);
    // A pod that failed is not active: a replacement is created, and it stays.
    let victim = name(&s.pods("tier%3Dfrontend")[0]);
    let (code, _) = s.req_with(
        "PATCH",
        &format!("/api/v1/namespaces/default/pods/{victim}/status"),
        Some(json!({"status": {"phase": "Failed", "conditions": null}})),
        &[("Content-Type", "application/merge-patch+json")],
    );
    assert_eq!(code, 200);
    let pods = s.pods("tier%3Dfrontend");
    assert_eq!(pods.len(), 4);
    let active = pods
        .iter()
        .filter(|p| p["status"]["phase"] != "Failed")
        .count();
    assert_eq!(active, 3);
    let rs = s.get("/apis/apps/v1/namespaces/default/replicasets/frontend");
    assert_eq!(rs["status"]["replicas"], 3);
}

#[test]
fn a_failed_creation_stops_the_batch_and_sets_replica_failure() {
    let mut s = Sim::new();
    s.apply(&RS.replace(
        "      containers:",
        "      serviceAccountName: missing\n      containers:",
    ));
    assert_eq!(s.pods("tier%3Dfrontend").len(), 0);
    let failed = s.events("FailedCreate");
    // Slow start: the first batch of one failed, so the other two were not tried
    // (the status update's event brings one more sync, and one more attempt).
    let stops: Vec<String> =
        s.r.cluster
            .k
            .trace
            .entries()
            .filter(|e| e.action.as_str() == "stop scaling up replicaset default/frontend")
            .map(|e| e.reason.to_string())
            .collect();
    assert_eq!(stops.len(), failed.len(), "{stops:?}");
    assert!(
        stops[0].starts_with("a creation failed: 3 pod(s) not created"),
        "{stops:?}"
    );
    assert!(failed[0].starts_with("Error creating: pods "), "{failed:?}");
    assert!(
        failed[0].contains("serviceaccount \"missing\" not found"),
        "{failed:?}"
    );
    let rs = s.get("/apis/apps/v1/namespaces/default/replicasets/frontend");
    let c = &rs["status"]["conditions"][0];
    assert_eq!(c["type"], "ReplicaFailure");
    assert_eq!(c["status"], "True");
    assert_eq!(c["reason"], "FailedCreate");
    assert_eq!(
        c["message"],
        failed[0].trim_start_matches("Error creating: ")
    );
}

#[test]
fn proportional_scaling_during_a_stuck_rollout_matches_the_docs_example() {
    // The Kubernetes docs' example: 10 replicas, maxSurge 3, maxUnavailable 2, a new
    // image whose pods never become ready, then a scale to 15.
    let mut s = Sim::new();
    let strategy = "{type: RollingUpdate, rollingUpdate: {maxSurge: 3, maxUnavailable: 2}}";
    s.apply(&deployment(10, "nginx:1.14.2", strategy));
    s.make_all_ready("app%3Dweb");
    s.k("set image deployment/web nginx=nginx:1.161");
    let rss = replicasets(&mut s);
    assert_eq!((rss[0].1, rss[1].1), (8, 5), "{rss:?}");
    assert_eq!(
        s.k("scale deployment/web --replicas=15"),
        "deployment.apps/web scaled"
    );
    let rss = replicasets(&mut s);
    assert_eq!((rss[0].1, rss[1].1), (11, 7), "{rss:?}");
    let events = s.events("ScalingReplicaSet");
    assert!(
        events.contains(&format!("Scaled up replica set {} to 11 from 8", rss[0].0)),
        "{events:?}"
    );
    assert!(
        events.contains(&format!("Scaled up replica set {} to 7 from 5", rss[1].0)),
        "{events:?}"
    );
    let rs = s.get(&format!(
        "/apis/apps/v1/namespaces/default/replicasets/{}",
        rss[1].0
    ));
    assert_eq!(
        rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"],
        "15"
    );
    assert_eq!(
        rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"],
        "18"
    );
}

#[test]
fn revision_history_limit_deletes_the_oldest_empty_replica_sets() {
    let mut s = Sim::new();
    s.apply(
        &deployment(1, "nginx:1.14.2", "{}")
            .replace("replicas: 1", "replicas: 1\n  revisionHistoryLimit: 1"),
    );
    for image in ["nginx:1.15", "nginx:1.16", "nginx:1.17"] {
        s.make_all_ready("app%3Dweb");
        s.k(&format!("set image deployment/web nginx={image}"));
        roll(&mut s, 1, 1, 0);
    }
    let rss = replicasets(&mut s);
    // The new one and one old revision are kept.
    assert_eq!(rss.len(), 2, "{rss:?}");
    let r = s.step(Action::Kubectl("rollout history deployment/web".into()));
    assert_eq!(
        r.output,
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n3         <none>\n4         <none>\n\n"
    );
}

#[test]
fn max_surge_and_max_unavailable_both_zero_is_invalid() {
    let mut s = Sim::new();
    let r = s.step(Action::Apply(ApplyInput::Text(deployment(
        2,
        "nginx",
        "{type: RollingUpdate, rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}",
    ))));
    let e = r.error["message"].as_str().unwrap_or_default();
    assert!(
        e.contains("spec.strategy.rollingUpdate.maxUnavailable"),
        "{e}"
    );
    assert!(e.contains("may not be 0 when `maxSurge` is 0"), "{e}");
}

/// client-go's event correlator, through the API: a ReplicaSet creating 30 pods
/// writes nine `SuccessfulCreate` Events as they are, then one aggregate that counts
/// the next ones, and stops at 25 (the spam filter's burst per object).
#[test]
fn a_large_replicaset_aggregates_its_events_and_stops_at_the_spam_burst() {
    let mut s = Sim::new();
    s.apply(&RS.replace("replicas: 3", "replicas: 30"));
    assert_eq!(s.pods("tier%3Dfrontend").len(), 30);
    let body = s.get("/api/v1/namespaces/default/events?fieldSelector=reason%3DSuccessfulCreate");
    let events = body["items"].as_array().cloned().unwrap_or_default();
    let (combined, plain): (Vec<&Value>, Vec<&Value>) = events.iter().partition(|e| {
        e["message"].as_str().is_some_and(|m| {
            m.starts_with("(combined from similar events): Created pod: frontend-")
        })
    });
    assert_eq!(plain.len(), 9, "{events:#?}");
    assert!(plain.iter().all(|e| e["count"] == 1
        && e["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Created pod: frontend-"))));
    // Events 10 to 25 counted on one aggregate; 26 to 30 dropped.
    assert_eq!(combined.len(), 1, "{events:#?}");
    assert_eq!(combined[0]["count"], 16);
    assert_eq!(combined[0]["source"]["component"], "replicaset-controller");
    // kubectl describe shows it as a real cluster does.
    let d = s.k("describe rs frontend");
    let line = d
        .lines()
        .find(|l| l.contains("(combined from similar events)"))
        .unwrap_or_else(|| panic!("{d}"));
    assert!(line.contains("(x16 over"), "{line}");
    assert_eq!(d.matches("SuccessfulCreate").count(), 10, "{d}");
}
