//! Nodes that stop, come back and are drained, through scenarios, REST and kubectl:
//! the node lifecycle controller (40s grace period, 60s at startup, Ready=Unknown
//! and its messages, the unreachable and not-ready taints added, swapped and
//! removed, pods marked not ready, zones fully disrupted), the
//! taint-eviction-controller (at once, after tolerationSeconds, cancelled), pod GC
//! of orphans, the eviction subresource, and kubectl cordon, uncordon and drain.
//!
//! Nodes created through the API have no kubelet behind them, so the tests renew
//! their Leases and post their status with `request` steps, as a kubelet would.
//! The controller's passes run every 5s (at 0s, 5s, 10s, ...) and see a node
//! created after the pass at 0s first at 5s.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::scenario::{self, Runner, StepResult};
use serde_json::{json, Value};

/// A cluster driven one step at a time.
struct Sim {
    runner: Runner,
    now: u64,
}

fn ts(secs: u64) -> String {
    format!("2024-08-13T00:{:02}:{:02}Z", secs / 60, secs % 60)
}

fn micro(secs: u64) -> String {
    format!("2024-08-13T00:{:02}:{:02}.000000Z", secs / 60, secs % 60)
}

impl Sim {
    /// `nodes`: the scenario's `spec.cluster.nodes`.
    fn new(nodes: Value) -> Sim {
        let doc = json!({
            "apiVersion": "kubeglass.dev/v1alpha1",
            "kind": "Scenario",
            "metadata": {"name": "nodelifecycle"},
            "spec": {"cluster": {"nodes": nodes}, "steps": []},
        });
        let s = scenario::parse(&doc.to_string()).unwrap_or_else(|e| panic!("scenario: {e}"));
        let (_, runner) = scenario::run_owned(s).unwrap_or_else(|e| panic!("run: {e}"));
        Sim { runner, now: 0 }
    }

    fn step(&mut self, step: Value) -> StepResult {
        let doc = json!({
            "apiVersion": "kubeglass.dev/v1alpha1",
            "kind": "Scenario",
            "metadata": {"name": "step"},
            "spec": {"steps": [step]},
        });
        let mut s = scenario::parse(&doc.to_string()).unwrap_or_else(|e| panic!("step: {e}"));
        let st = s.steps.remove(0);
        self.runner.take_step(st)
    }

    fn kubectl(&mut self, line: &str) -> String {
        let r = self.step(json!({"kubectl": line}));
        assert!(r.error.is_null(), "kubectl {line}: {}", r.error);
        r.output.as_str().unwrap_or_default().trim_end().to_string()
    }

    /// kubectl that must fail: its stdout and stderr.
    fn kubectl_fails(&mut self, line: &str) -> (String, String) {
        let r = self.step(json!({"kubectl": line}));
        let err = r.error["message"].as_str().unwrap_or_default().to_string();
        assert!(!err.is_empty(), "kubectl {line} should fail");
        (
            r.output.as_str().unwrap_or_default().trim_end().to_string(),
            err,
        )
    }

    fn request(&mut self, method: &str, path: &str, body: Option<Value>) -> (u64, Value) {
        let mut req = json!({"method": method, "path": path});
        if let Some(b) = body {
            req["body"] = b;
        }
        let r = self.step(json!({"request": req}));
        assert!(r.error.is_null(), "{method} {path}: {}", r.error);
        (
            r.output["code"].as_u64().unwrap_or(0),
            r.output["body"].clone(),
        )
    }

    fn patch(&mut self, path: &str, content_type: &str, body: Value) -> u64 {
        let r = self.step(json!({"request": {
            "method": "PATCH", "path": path, "body": body,
            "headers": {"Content-Type": content_type},
        }}));
        assert!(r.error.is_null(), "PATCH {path}: {}", r.error);
        r.output["code"].as_u64().unwrap_or(0)
    }

    fn get(&mut self, path: &str) -> Value {
        let (code, body) = self.request("GET", path, None);
        assert_eq!(code, 200, "GET {path}: {body}");
        body
    }

    fn exists(&mut self, path: &str) -> bool {
        self.request("GET", path, None).0 == 200
    }

    /// Advances virtual time to `secs` seconds.
    fn to(&mut self, secs: u64) {
        assert!(secs >= self.now, "time only moves forward");
        if secs > self.now {
            let r = self.step(json!({"advance": format!("{}s", secs - self.now)}));
            assert!(r.error.is_null(), "{}", r.error);
        }
        self.now = secs;
    }

    /// Creates a node through the API, Ready (and without pressure) at `secs`
    /// unless `status` is false, and its Lease when `lease` is true.
    fn create_node(&mut self, name: &str, status: bool, lease: bool) {
        let mut node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}});
        if status {
            let t = ts(self.now);
            let c = |kind: &str, st: &str, reason: &str| {
                json!({"type": kind, "status": st, "reason": reason, "message": "",
                       "lastHeartbeatTime": t, "lastTransitionTime": t})
            };
            node["status"] = json!({"conditions": [
                c("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                c("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                c("PIDPressure", "False", "KubeletHasSufficientPID"),
                c("Ready", "True", "KubeletReady"),
            ]});
        }
        let (code, body) = self.request("POST", "/api/v1/nodes", Some(node));
        assert_eq!(code, 201, "{body}");
        if lease {
            let lease = json!({
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": name, "namespace": "kube-node-lease"},
                "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": micro(self.now)},
            });
            let (code, body) = self.request(
                "POST",
                "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
                Some(lease),
            );
            assert_eq!(code, 201, "{body}");
        }
    }

    /// What the kubelet's lease controller does every 10s.
    fn renew_lease(&mut self, name: &str) {
        let code = self.patch(
            &format!("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}"),
            "application/merge-patch+json",
            json!({"spec": {"renewTime": micro(self.now)}}),
        );
        assert_eq!(code, 200);
    }

    /// What a kubelet posts: the Ready condition with a fresh heartbeat.
    fn post_ready(&mut self, name: &str, status: &str, reason: &str, message: &str) {
        let t = ts(self.now);
        let code = self.patch(
            &format!("/api/v1/nodes/{name}/status"),
            "application/strategic-merge-patch+json",
            json!({"status": {"conditions": [{"type": "Ready", "status": status, "reason": reason,
                   "message": message, "lastHeartbeatTime": t, "lastTransitionTime": t}]}}),
        );
        assert_eq!(code, 200);
    }

    fn condition(&mut self, node: &str, kind: &str) -> Value {
        let n = self.get(&format!("/api/v1/nodes/{node}"));
        n["status"]["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == kind).cloned())
            .unwrap_or(Value::Null)
    }

    /// The node's taints as `key:Effect@timeAdded`.
    fn taints(&mut self, node: &str) -> Vec<String> {
        let n = self.get(&format!("/api/v1/nodes/{node}"));
        n["spec"]["taints"]
            .as_array()
            .map(|ts| {
                ts.iter()
                    .map(|t| {
                        format!(
                            "{}:{}@{}",
                            t["key"].as_str().unwrap_or(""),
                            t["effect"].as_str().unwrap_or(""),
                            t["timeAdded"].as_str().unwrap_or("-")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn pod(&mut self, name: &str, node: &str, tolerations: Value) {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node, "tolerations": tolerations,
                     "containers": [{"name": "c", "image": "nginx"}]},
        });
        let r = self.step(json!({"apply": pod}));
        assert!(r.error.is_null(), "{}", r.error);
    }

    fn pod_exists(&mut self, name: &str) -> bool {
        self.exists(&format!("/api/v1/namespaces/default/pods/{name}"))
    }

    /// Events (reason, message, type, source) in `default`, oldest first.
    fn events(&mut self) -> Vec<(String, String, String, String, String)> {
        let list = self.get("/api/v1/namespaces/default/events");
        list["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|e| {
                        let s = |v: &Value| v.as_str().unwrap_or("").to_string();
                        (
                            s(&e["involvedObject"]["name"]),
                            s(&e["reason"]),
                            s(&e["message"]),
                            s(&e["type"]),
                            s(&e["source"]["component"]),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every watch event of pods in `default` from `rv` on.
    fn pod_history(&mut self, rv: &str) -> Vec<Value> {
        let r = self.step(json!({"request": {"method": "GET",
            "path": format!("/api/v1/namespaces/default/pods?watch=true&resourceVersion={rv}")}}));
        assert!(r.error.is_null(), "{}", r.error);
        r.output["body"]["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn rv(&mut self, path: &str) -> String {
        self.get(path)["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("0")
            .to_string()
    }
}

/// One declared node served by the stand-in (its heartbeats count as fresh), so
/// the zone is never fully disrupted by the API-created nodes going silent.
fn one_healthy_node() -> Value {
    json!([{"metadata": {"name": "node-1"}}])
}

fn cond_fields(c: &Value) -> (String, String, String, String, String) {
    let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
    (
        s("status"),
        s("reason"),
        s("message"),
        s("lastHeartbeatTime"),
        s("lastTransitionTime"),
    )
}

#[test]
fn a_silent_node_goes_unknown_after_the_grace_period_and_a_fresh_one_stays_ready() {
    let mut sim = Sim::new(one_healthy_node());
    sim.create_node("fresh", true, true);
    sim.create_node("silent", true, true);
    sim.create_node("never", false, false);
    // The fresh node's kubelet renews its Lease every 10s; the silent one's does not.
    for t in [10, 20, 30, 40] {
        sim.to(t);
        sim.renew_lease("fresh");
    }
    // Both were first seen at the pass at 5s: 40s later (45s) is not yet past the
    // grace period; the pass at 50s is.
    sim.to(45);
    assert_eq!(sim.condition("silent", "Ready")["status"], "True");
    sim.to(50);
    sim.renew_lease("fresh");
    assert_eq!(
        cond_fields(&sim.condition("silent", "Ready")),
        (
            "Unknown".into(),
            "NodeStatusUnknown".into(),
            "Kubelet stopped posting node status.".into(),
            ts(0),
            ts(50)
        )
    );
    for kind in ["MemoryPressure", "DiskPressure", "PIDPressure"] {
        let c = sim.condition("silent", kind);
        assert_eq!(c["status"], "Unknown", "{kind}");
        assert_eq!(c["reason"], "NodeStatusUnknown", "{kind}");
    }
    assert_eq!(sim.condition("fresh", "Ready")["status"], "True");
    assert_eq!(sim.condition("node-1", "Ready")["status"], "True");
    let out = sim.kubectl("get nodes");
    assert!(
        out.lines()
            .any(|l| l.starts_with("silent ") && l.contains(" NotReady ")),
        "{out}"
    );
    // A node that never posted its status gets nodeStartupGracePeriod, 60s from
    // its creation: the pass at 60s is not past it, the one at 65s is.
    sim.to(60);
    assert_eq!(sim.condition("never", "Ready"), Value::Null);
    sim.renew_lease("fresh");
    sim.to(65);
    assert_eq!(
        cond_fields(&sim.condition("never", "Ready")),
        (
            "Unknown".into(),
            "NodeStatusNeverUpdated".into(),
            "Kubelet never posted node status.".into(),
            ts(0),
            ts(65)
        )
    );
    assert_eq!(
        sim.condition("never", "PIDPressure")["message"],
        "Kubelet never posted node status."
    );
    assert_eq!(sim.condition("fresh", "Ready")["status"], "True");
    let events = sim.events();
    let find = |reason: &str, node: &str| {
        events
            .iter()
            .find(|e| e.1 == reason && e.0 == node)
            .cloned()
    };
    assert_eq!(
        find("NodeNotReady", "silent"),
        Some((
            "silent".into(),
            "NodeNotReady".into(),
            "Node silent status is now: NodeNotReady".into(),
            "Normal".into(),
            "node-controller".into()
        ))
    );
    assert_eq!(
        find("RegisteredNode", "fresh").map(|e| e.2),
        Some("Node fresh event: Registered Node fresh in Controller".to_string())
    );
    assert!(find("NodeNotReady", "fresh").is_none());
}

#[test]
fn taints_follow_the_ready_condition() {
    let mut sim = Sim::new(one_healthy_node());
    sim.create_node("n1", true, true);
    sim.to(50);
    // At 50s Ready became Unknown: the NoSchedule taint follows the condition at
    // once; the NoExecute one comes with the next pass, which sees Unknown.
    assert_eq!(
        sim.taints("n1"),
        vec![format!(
            "node.kubernetes.io/unreachable:NoSchedule@{}",
            ts(50)
        )]
    );
    sim.to(55);
    assert_eq!(
        sim.taints("n1"),
        vec![
            format!("node.kubernetes.io/unreachable:NoSchedule@{}", ts(50)),
            format!("node.kubernetes.io/unreachable:NoExecute@{}", ts(55)),
        ]
    );
    // The kubelet comes back but reports NotReady: unreachable becomes not-ready
    // (NoSchedule at once, NoExecute swapped at the next pass, not rate-limited).
    sim.to(57);
    sim.renew_lease("n1");
    sim.post_ready(
        "n1",
        "False",
        "KubeletNotReady",
        "container runtime is down",
    );
    assert_eq!(
        sim.taints("n1"),
        vec![
            format!("node.kubernetes.io/unreachable:NoExecute@{}", ts(55)),
            format!("node.kubernetes.io/not-ready:NoSchedule@{}", ts(57)),
        ]
    );
    sim.to(60);
    assert_eq!(
        sim.taints("n1"),
        vec![
            format!("node.kubernetes.io/not-ready:NoSchedule@{}", ts(57)),
            format!("node.kubernetes.io/not-ready:NoExecute@{}", ts(60)),
        ]
    );
    // Ready again: both taints go.
    sim.to(62);
    sim.renew_lease("n1");
    sim.post_ready(
        "n1",
        "True",
        "KubeletReady",
        "kubelet is posting ready status",
    );
    assert_eq!(
        sim.taints("n1"),
        vec![format!("node.kubernetes.io/not-ready:NoExecute@{}", ts(60))]
    );
    sim.to(65);
    assert!(sim.taints("n1").is_empty());
    // Pressure conditions and spec.unschedulable have their NoSchedule taints too.
    let t = ts(66);
    sim.to(66);
    sim.patch(
        "/api/v1/nodes/n1/status",
        "application/strategic-merge-patch+json",
        json!({"status": {"conditions": [{"type": "MemoryPressure", "status": "True",
               "reason": "KubeletHasInsufficientMemory", "message": "",
               "lastHeartbeatTime": t, "lastTransitionTime": t}]}}),
    );
    sim.kubectl("cordon n1");
    assert_eq!(
        sim.taints("n1"),
        vec![
            format!("node.kubernetes.io/memory-pressure:NoSchedule@{}", ts(66)),
            format!("node.kubernetes.io/unschedulable:NoSchedule@{}", ts(66)),
        ]
    );
}

#[test]
fn pods_on_an_unreachable_node_are_marked_not_ready_then_evicted_after_their_toleration() {
    let mut sim = Sim::new(one_healthy_node());
    sim.create_node("n1", true, true);
    // DefaultTolerationSeconds gives this one 300s for unreachable and not-ready.
    sim.pod("web", "n1", json!([]));
    sim.pod(
        "short",
        "n1",
        json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                "effect": "NoExecute", "tolerationSeconds": 60}]),
    );
    sim.pod("forever", "n1", json!([{"operator": "Exists"}]));
    let tol = sim.get("/api/v1/namespaces/default/pods/web")["spec"]["tolerations"].clone();
    assert_eq!(tol[1]["key"], "node.kubernetes.io/unreachable");
    assert_eq!(tol[1]["tolerationSeconds"], 300);
    // The kubelet had reported the pod Ready.
    let code = sim.patch(
        "/api/v1/namespaces/default/pods/web/status",
        "application/strategic-merge-patch+json",
        json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
    );
    assert_eq!(code, 200);
    sim.to(50);
    let ready = sim.get("/api/v1/namespaces/default/pods/web")["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready").cloned())
        .unwrap_or(Value::Null);
    assert_eq!(ready["status"], "False");
    assert_eq!(ready["lastTransitionTime"], ts(50));
    let events = sim.events();
    assert!(events.contains(&(
        "web".into(),
        "NodeNotReady".into(),
        "Node is not ready".into(),
        "Warning".into(),
        "node-controller".into()
    )));
    // Tainted NoExecute at 55s: short goes 60s later, web 300s later.
    sim.to(114);
    assert!(sim.pod_exists("short"));
    let rv = sim.rv("/api/v1/namespaces/default/pods/short");
    sim.to(115);
    assert!(!sim.pod_exists("short"));
    let history = sim.pod_history(&rv);
    let marked = history.iter().find(|e| {
        e["object"]["metadata"]["name"] == "short"
            && e["object"]["status"]["conditions"]
                .as_array()
                .is_some_and(|cs| cs.iter().any(|c| c["type"] == "DisruptionTarget"))
    });
    let cond = marked.expect("the DisruptionTarget condition before the deletion")["object"]
        ["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "DisruptionTarget").cloned())
        .unwrap_or(Value::Null);
    assert_eq!(cond["reason"], "DeletionByTaintManager");
    assert_eq!(
        cond["message"],
        "Taint manager: deleting due to NoExecute taint"
    );
    assert!(sim.pod_exists("web"));
    sim.to(354);
    assert!(sim.pod_exists("web"));
    sim.to(355);
    assert!(!sim.pod_exists("web"));
    sim.to(1000);
    assert!(sim.pod_exists("forever"));
    let events = sim.events();
    for pod in ["short", "web"] {
        assert!(
            events.contains(&(
                pod.to_string(),
                "TaintManagerEviction".into(),
                format!("Marking for deletion Pod default/{pod}"),
                "Normal".into(),
                "taint-eviction-controller".into()
            )),
            "{events:?}"
        );
    }
}

#[test]
fn an_intolerant_pod_goes_at_once_and_a_cancelled_eviction_leaves_the_pod() {
    let mut sim = Sim::new(json!([
        {"metadata": {"name": "node-1", "annotations": {"kubeglass.dev/kubelet": "none"}}}
    ]));
    sim.pod("plain", "node-1", json!([]));
    sim.pod(
        "patient",
        "node-1",
        json!([{"key": "dedicated", "operator": "Equal", "value": "gpu",
                "effect": "NoExecute", "tolerationSeconds": 60}]),
    );
    sim.to(10);
    sim.patch(
        "/api/v1/nodes/node-1",
        "application/merge-patch+json",
        json!({"spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoExecute"}]}}),
    );
    assert!(!sim.pod_exists("plain"), "deleted at once");
    assert!(sim.pod_exists("patient"));
    sim.to(40);
    sim.patch(
        "/api/v1/nodes/node-1",
        "application/merge-patch+json",
        json!({"spec": {"taints": null}}),
    );
    sim.to(200);
    assert!(sim.pod_exists("patient"));
    let events = sim.events();
    assert!(events.contains(&(
        "plain".into(),
        "TaintManagerEviction".into(),
        "Marking for deletion Pod default/plain".into(),
        "Normal".into(),
        "taint-eviction-controller".into()
    )));
    assert!(events.contains(&(
        "patient".into(),
        "TaintManagerEviction".into(),
        "Cancelling deletion of Pod default/patient".into(),
        "Normal".into(),
        "taint-eviction-controller".into()
    )));
    // A kwok-style node keeps its declared status: never marked Unknown.
    assert_eq!(sim.condition("node-1", "Ready")["status"], "True");
}

#[test]
fn a_pod_tolerating_for_60s_goes_60s_after_the_taint() {
    let mut sim = Sim::new(json!([
        {"metadata": {"name": "node-1", "annotations": {"kubeglass.dev/kubelet": "none"}}}
    ]));
    sim.pod(
        "sixty",
        "node-1",
        json!([{"key": "dedicated", "operator": "Exists", "effect": "NoExecute",
                "tolerationSeconds": 60}]),
    );
    sim.to(7);
    sim.patch(
        "/api/v1/nodes/node-1",
        "application/merge-patch+json",
        json!({"spec": {"taints": [{"key": "dedicated", "effect": "NoExecute"}]}}),
    );
    sim.to(66);
    assert!(sim.pod_exists("sixty"));
    sim.to(67);
    assert!(!sim.pod_exists("sixty"));
}

#[test]
fn when_every_node_is_down_no_pod_is_evicted() {
    // No declared node: both API-created nodes go silent, the zone is fully
    // disrupted, and the controller lifts taints instead of evicting.
    let mut sim = Sim::new(json!([]));
    sim.create_node("a", true, true);
    sim.create_node("b", true, true);
    sim.pod("web", "a", json!([]));
    sim.to(50);
    assert_eq!(sim.condition("a", "Ready")["status"], "Unknown");
    assert_eq!(sim.condition("b", "Ready")["status"], "Unknown");
    sim.to(400);
    let taints = sim.taints("a");
    assert!(
        !taints.iter().any(|t| t.contains("NoExecute")),
        "{taints:?}"
    );
    assert!(sim.pod_exists("web"));
}

#[test]
fn pod_gc_deletes_orphans_after_the_quarantine() {
    let mut sim = Sim::new(one_healthy_node());
    // Bound to a node that never existed: noticed at the pass at 0s, quarantined
    // for 40s, deleted at the pass at 40s.
    sim.pod("lost", "ghost", json!([]));
    let rv = sim.rv("/api/v1/namespaces/default/pods/lost");
    sim.to(39);
    assert!(sim.pod_exists("lost"));
    sim.to(40);
    assert!(!sim.pod_exists("lost"));
    let history = sim.pod_history(&rv);
    let failed = history
        .iter()
        .find(|e| e["object"]["status"]["phase"] == "Failed")
        .expect("marked Failed before the deletion");
    let cond = failed["object"]["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "DisruptionTarget").cloned())
        .unwrap_or(Value::Null);
    assert_eq!(cond["reason"], "DeletionByPodGC");
    assert_eq!(cond["message"], "PodGC: node no longer exists");
    // A node deleted with a pod on it: noticed at the pass at 60s, gone at 100s.
    sim.create_node("doomed", true, true);
    sim.pod("stranded", "doomed", json!([]));
    sim.to(41);
    let (code, _) = sim.request("DELETE", "/api/v1/nodes/doomed", None);
    assert_eq!(code, 200);
    sim.to(99);
    assert!(sim.pod_exists("stranded"));
    sim.to(100);
    assert!(!sim.pod_exists("stranded"));
}

fn two_kwok_nodes() -> Value {
    json!([
        {"metadata": {"name": "n1", "annotations": {"kubeglass.dev/kubelet": "none"}}},
        {"metadata": {"name": "n2", "annotations": {"kubeglass.dev/kubelet": "none"}}},
    ])
}

#[test]
fn cordon_and_uncordon_print_as_kubectl_and_the_scheduler_avoids_a_cordoned_node() {
    let mut sim = Sim::new(two_kwok_nodes());
    assert_eq!(sim.kubectl("cordon n1"), "node/n1 cordoned");
    assert_eq!(sim.kubectl("cordon n1"), "node/n1 already cordoned");
    let nodes = sim.kubectl("get nodes");
    assert!(nodes.contains("n1     Ready,SchedulingDisabled"), "{nodes}");
    assert_eq!(
        sim.taints("n1"),
        vec![format!(
            "node.kubernetes.io/unschedulable:NoSchedule@{}",
            ts(0)
        )]
    );
    for i in 0..4 {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("p{i}")},
                         "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
        let r = sim.step(json!({"apply": pod}));
        assert!(r.error.is_null());
    }
    sim.step(json!({"settle": {}}));
    let placed = sim.kubectl("get pods -o jsonpath={.items[*].spec.nodeName}");
    assert_eq!(placed, "n2 n2 n2 n2");
    assert_eq!(sim.kubectl("uncordon n1"), "node/n1 uncordoned");
    assert_eq!(sim.kubectl("uncordon n1"), "node/n1 already uncordoned");
    assert!(sim.taints("n1").is_empty());
    assert_eq!(
        sim.kubectl("cordon n1 --dry-run=client"),
        "node/n1 cordoned (dry run)"
    );
    assert_eq!(
        sim.kubectl("cordon n1 --dry-run=server"),
        "node/n1 cordoned (server dry run)"
    );
    assert_eq!(
        sim.get("/api/v1/nodes/n1")["spec"]["unschedulable"],
        Value::Null
    );
    assert_eq!(
        sim.kubectl("cordon -l kubernetes.io/hostname=n2"),
        "node/n2 cordoned"
    );
    let (_, err) = sim.kubectl_fails("cordon nope");
    assert_eq!(
        err,
        "Error from server (NotFound): nodes \"nope\" not found"
    );
    let (_, err) = sim.kubectl_fails("cordon");
    assert_eq!(
        err,
        "error: USAGE: cordon NODE [flags]\nSee 'kubectl cordon -h' for help and examples"
    );
}

/// A pod with a controller the simulation does not serve (a StatefulSet or DaemonSet
/// that is not stored): the garbage collector leaves it, as upstream's leaves owners
/// it cannot resolve, where a missing ReplicaSet owner would have its pods collected.
fn owned_pod(name: &str, node: &str, kind: &str, namespace: &str, volumes: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": namespace,
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": kind, "name": "owner",
                                             "uid": "00000000-0000-0000-0000-000000000001", "controller": true}]},
           "spec": {"nodeName": node, "volumes": volumes,
                    "containers": [{"name": "c", "image": "nginx"}]}})
}

#[test]
fn drain_refuses_as_kubectl_then_evicts() {
    let mut sim = Sim::new(two_kwok_nodes());
    sim.pod("bare", "n1", json!([]));
    for pod in [
        owned_pod("web-1", "n1", "StatefulSet", "default", json!([])),
        owned_pod("ds-1", "n1", "DaemonSet", "kube-system", json!([])),
        owned_pod(
            "scratch",
            "n1",
            "StatefulSet",
            "default",
            json!([{"name": "s", "emptyDir": {}}]),
        ),
        owned_pod("other", "n2", "StatefulSet", "default", json!([])),
    ] {
        let r = sim.step(json!({"apply": pod}));
        assert!(r.error.is_null(), "{}", r.error);
    }
    let (out, err) = sim.kubectl_fails("drain n1");
    assert_eq!(out, "node/n1 cordoned");
    let refusals = "cannot delete cannot delete Pods that declare no controller (use --force to override): default/bare, \
cannot delete Pods with local storage (use --delete-emptydir-data to override): default/scratch, \
cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/ds-1";
    assert_eq!(
        err,
        format!(
            "error: unable to drain node \"n1\" due to error: [{refusals}], continuing command...\n\
There are pending nodes to be drained:\n n1\n\
cannot delete cannot delete Pods that declare no controller (use --force to override): default/bare\n\
cannot delete Pods with local storage (use --delete-emptydir-data to override): default/scratch\n\
cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/ds-1"
        )
    );
    let (out, err) = sim.kubectl_fails("drain n1 --ignore-daemonsets --delete-emptydir-data");
    assert_eq!(out, "node/n1 already cordoned");
    assert_eq!(
        err,
        "error: unable to drain node \"n1\" due to error: cannot delete cannot delete Pods that declare no controller (use --force to override): default/bare, continuing command...\n\
There are pending nodes to be drained:\n n1\n\
cannot delete cannot delete Pods that declare no controller (use --force to override): default/bare"
    );
    assert_eq!(
        sim.kubectl("drain n1 --ignore-daemonsets --delete-emptydir-data --force --dry-run=client"),
        "node/n1 already cordoned (dry run)\n\
evicting pod default/bare (dry run)\n\
evicting pod default/scratch (dry run)\n\
evicting pod default/web-1 (dry run)\n\
node/n1 drained (dry run)"
    );
    assert!(sim.pod_exists("web-1"));
    let rv = sim.rv("/api/v1/namespaces/default/pods/web-1");
    let r =
        sim.step(json!({"kubectl": "drain n1 --ignore-daemonsets --delete-emptydir-data --force"}));
    assert!(r.error.is_null(), "{}", r.error);
    assert_eq!(
        r.output.as_str().unwrap_or_default().trim_end(),
        "node/n1 already cordoned\n\
evicting pod default/bare\n\
evicting pod default/scratch\n\
evicting pod default/web-1\n\
pod/bare evicted\n\
pod/scratch evicted\n\
pod/web-1 evicted\n\
node/n1 drained"
    );
    assert_eq!(
        r.stderr,
        "Warning: deleting Pods that declare no controller: default/bare; ignoring DaemonSet-managed Pods: kube-system/ds-1\n"
    );
    let left = sim.kubectl("get pods -A -o name");
    assert_eq!(left, "pod/other\npod/ds-1");
    let history = sim.pod_history(&rv);
    let cond = history
        .iter()
        .filter(|e| e["object"]["metadata"]["name"] == "web-1")
        .filter_map(|e| {
            e["object"]["status"]["conditions"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == "DisruptionTarget").cloned())
        })
        .next()
        .expect("the eviction's DisruptionTarget condition");
    assert_eq!(cond["reason"], "EvictionByEvictionAPI");
    assert_eq!(cond["message"], "Eviction API: evicting");
    // Nothing left to evict; the node stays cordoned until uncordoned.
    assert_eq!(
        sim.kubectl("drain n1 --ignore-daemonsets"),
        "node/n1 already cordoned\nnode/n1 drained"
    );
    assert_eq!(sim.kubectl("uncordon n1"), "node/n1 uncordoned");
}

#[test]
fn drain_with_a_timeout_waits_in_virtual_time_and_fails_as_kubectl() {
    let mut sim = Sim::new(two_kwok_nodes());
    // A finalizer keeps the pod after its deletion, as a slow termination would.
    let mut pod = owned_pod("held", "n1", "StatefulSet", "default", json!([]));
    pod["metadata"]["finalizers"] = json!(["example.com/hold"]);
    let r = sim.step(json!({"apply": pod}));
    assert!(r.error.is_null());
    let r = sim.step(json!({"kubectl": "drain n1 --timeout=10s --grace-period=5"}));
    assert_eq!(
        r.output.as_str().unwrap_or_default(),
        "node/n1 cordoned\nevicting pod default/held\n"
    );
    assert_eq!(
        r.error["message"],
        "There are pending pods in node \"n1\" when an error occurred: drain did not complete within 10s\n\
pod/held\n\
error: unable to drain node \"n1\" due to error: drain did not complete within 10s, continuing command...\n\
There are pending nodes to be drained:\n n1\n\
error: drain did not complete within 10s"
    );
    let held = sim.get("/api/v1/namespaces/default/pods/held");
    assert_eq!(held["metadata"]["deletionGracePeriodSeconds"], 0);
    assert!(held["metadata"]["deletionTimestamp"].is_string());
    // Without --timeout drain does not wait: it reports the pods gone at this instant.
    let mut sim = Sim::new(two_kwok_nodes());
    let r = sim.step(json!({"apply": pod}));
    assert!(r.error.is_null());
    assert_eq!(
        sim.kubectl("drain n1"),
        "node/n1 cordoned\nevicting pod default/held\nnode/n1 drained"
    );
    assert!(sim.pod_exists("held"));
}

#[test]
fn the_eviction_subresource_over_rest() {
    let mut sim = Sim::new(two_kwok_nodes());
    sim.pod("web", "n1", json!([]));
    let eviction = |name: &str, opts: Value| {
        json!({"apiVersion": "policy/v1", "kind": "Eviction",
               "metadata": {"name": name, "namespace": "default"}, "deleteOptions": opts})
    };
    let (code, body) = sim.request(
        "POST",
        "/api/v1/namespaces/default/pods/web/eviction",
        Some(eviction("other", json!({}))),
    );
    assert_eq!(code, 400);
    assert_eq!(
        body["message"],
        "name in URL does not match name in Eviction object"
    );
    let (code, _) = sim.request(
        "POST",
        "/api/v1/namespaces/default/pods/web/eviction",
        Some(eviction("web", json!({"dryRun": ["All"]}))),
    );
    assert_eq!(code, 201);
    assert!(sim.pod_exists("web"));
    let (code, body) = sim.request(
        "POST",
        "/api/v1/namespaces/default/pods/web/eviction",
        Some(eviction("web", json!({"gracePeriodSeconds": 0}))),
    );
    assert_eq!(code, 201);
    assert_eq!(body["status"], "Success");
    assert!(!sim.pod_exists("web"));
    let (code, body) = sim.request(
        "POST",
        "/api/v1/namespaces/default/pods/web/eviction",
        Some(eviction("web", json!({}))),
    );
    assert_eq!(code, 404);
    assert_eq!(body["message"], "pods \"web\" not found");
}

#[test]
fn the_trace_says_why() {
    let mut sim = Sim::new(one_healthy_node());
    sim.create_node("n1", true, true);
    sim.pod("web", "n1", json!([]));
    sim.to(360);
    let trace: Vec<_> = sim.runner.cluster.k.trace.entries().collect();
    let said = |actor: &str, action: &str| {
        trace
            .iter()
            .find(|e| e.actor.as_str() == actor && e.action.as_str() == action)
            .map(|e| (e.time, e.reason.as_str().to_string()))
    };
    let (t, why) = said("node-lifecycle-controller", "mark node n1 Ready=Unknown").expect("marked");
    assert_eq!(t, 50_000_000_000);
    assert!(why.contains("nodeMonitorGracePeriod 40s"), "{why}");
    let (t, _) = said(
        "node-lifecycle-controller",
        "taint node n1 node.kubernetes.io/unreachable:NoExecute",
    )
    .expect("tainted");
    assert_eq!(t, 55_000_000_000);
    let (t, why) = said(
        "taint-eviction-controller",
        "schedule deletion of pod default/web in 5m0s",
    )
    .expect("scheduled");
    assert_eq!(t, 55_000_000_000);
    assert!(why.contains("tolerates for 5m0s"), "{why}");
    let (t, _) = said("taint-eviction-controller", "delete pod default/web").expect("deleted");
    assert_eq!(t, 355_000_000_000);
}
