//! Benchmarks shared by the native `kubeglass bench` command and the browser bench:
//! each takes a wall clock from its host (the core itself reads no clock) and
//! returns figures to print.

use serde_json::{json, Value};

use crate::api::core::{Container, Pod, ResourceRequirements};
use crate::api::object::PODS;
use crate::api::quantity::Quantity;
use crate::api::Object;
use crate::apiserver::request::{Body, Method, Request};
use crate::cluster::{Cluster, Settings};

/// What one benchmark measured.
#[derive(Clone, Debug)]
pub struct Report {
    pub name: String,
    pub items: usize,
    pub seconds: f64,
    /// Extra figures (name, value).
    pub notes: Vec<(String, String)>,
}

impl Report {
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.items as f64 / self.seconds
        } else {
            f64::INFINITY
        }
    }

    pub fn line(&self) -> String {
        let mut s = format!(
            "{}: {} in {:.3} s = {:.0}/s",
            self.name,
            self.items,
            self.seconds,
            self.per_second()
        );
        for (k, v) in &self.notes {
            s.push_str(&format!(", {k} {v}"));
        }
        s
    }
}

/// A node declared without a kubelet, as benchmarks and tests use them.
pub fn standin_node(name: &str) -> Value {
    json!({"metadata": {"name": name, "annotations": {"kubeglass.dev/kubelet": "none"}}})
}

/// A small pod, as a typed object.
pub fn pod(namespace: &str, name: &str, app: &str) -> Pod {
    let mut p = Pod::default();
    p.metadata.namespace = namespace.into();
    p.metadata.name = name.into();
    p.metadata.labels.insert("app".into(), app.into());
    let mut requests = std::collections::BTreeMap::new();
    if let (Ok(cpu), Ok(mem)) = (Quantity::parse("100m"), Quantity::parse("64Mi")) {
        requests.insert("cpu".into(), cpu);
        requests.insert("memory".into(), mem);
    }
    p.spec.containers.push(Container {
        name: "app".into(),
        image: Some("registry.k8s.io/pause:3.9".into()),
        resources: ResourceRequirements {
            requests,
            ..Default::default()
        },
        ..Default::default()
    });
    p
}

/// Creates `n` pods through the whole API pipeline (authentication, authorization,
/// decoding with defaults, admission, validation, storage) with the controllers
/// watching, and delivers every watch event. `now` is the host's wall clock in
/// seconds.
pub fn create_pods(n: usize, now: &dyn Fn() -> f64) -> Report {
    let mut settings = Settings::default();
    if let Ok(t) = std::env::var("KG_TRACE") {
        settings.trace_capacity = t.parse().unwrap_or(1);
    }
    if let Ok(t) = std::env::var("KG_HIST") {
        settings.apiserver.history = t.parse().unwrap_or(1);
    }
    if let Ok(Object::Node(node)) =
        Object::from_value_as(&crate::api::object::NODES, standin_node("node-1"))
    {
        settings.nodes.push(node);
    }
    let mut cluster =
        Cluster::new(settings).unwrap_or_else(|e| panic!("a default cluster starts: {e}"));
    let path = PODS.collection_path("default");
    // The client's work (building the objects) is done before the clock starts.
    // The pods name a scheduler the cluster does not run, so this measures the API
    // pipeline alone (`bench scheduler` measures scheduling).
    let pods: Vec<Pod> = (0..n)
        .map(|i| {
            let mut p = pod("default", &format!("pod-{i}"), "bench");
            p.spec.scheduler_name = Some("unscheduled".into());
            p
        })
        .collect();
    let start = now();
    let mut failed = 0usize;
    for (i, p) in pods.into_iter().enumerate() {
        let resp = cluster.request(
            Request::new(Method::Post, path.clone())
                .with_body(Body::Object(Box::new(Object::Pod(p)))),
        );
        if resp.code != 201 {
            failed += 1;
        }
        if i % 1024 == 1023 {
            cluster.run_due();
        }
    }
    cluster.run_due();
    let seconds = now() - start;
    Report {
        name: "create pods through the API pipeline".into(),
        items: n,
        seconds,
        notes: vec![
            ("failed".into(), failed.to_string()),
            (
                "revision".into(),
                cluster.api().store().revision().to_string(),
            ),
            (
                "trace entries kept".into(),
                cluster.k.trace.len().to_string(),
            ),
        ],
    }
}

/// A scenario that applies `n` pods as one List to a cluster of `nodes` nodes
/// without kubelets, then settles (for `kubeglass run` as a whole process). Like
/// [`create_pods`], the pods name a scheduler the cluster does not run, so the run
/// measures the API pipeline (`bench scheduler` measures scheduling).
pub fn pods_scenario(n: usize, nodes: usize) -> String {
    let node_list: Vec<Value> = (1..=nodes)
        .map(|i| standin_node(&format!("node-{i}")))
        .collect();
    let items: Vec<Value> = (0..n)
        .map(|i| {
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": format!("pod-{i}"), "labels": {"app": "bench"}},
                   "spec": {"schedulerName": "unscheduled",
                            "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.9",
                                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}})
        })
        .collect();
    let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
    let scenario = json!({
        "apiVersion": "kubeglass.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": format!("bench-{n}-pods")},
        "spec": {"cluster": {"nodes": node_list}, "steps": [{"apply": list}, {"settle": {}}]}
    });
    scenario.to_string()
}

/// Nodes with simulated kubelets, as issue 5's benchmarks use them.
fn kubelet_nodes(n: usize) -> Vec<Value> {
    (1..=n)
        .map(|i| json!({"metadata": {"name": format!("node-{i}")}}))
        .collect()
}

/// A Deployment of `replicas` nginx pods (10m cpu each, so 5,000 nodes hold them and
/// a surge), rolling 25%/25% by default.
fn deployment(replicas: usize) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web"},
           "spec": {"replicas": replicas,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "web", "image": "nginx:1.26",
                                                          "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}})
}

/// Issue 5's benchmark as a scenario for `kubeglass run` as a whole process:
/// `nodes` nodes with kubelets, a Deployment of `replicas` that settles with every
/// pod Running, then a rolling update (`kubectl set image`) that settles again. The
/// `kubectl` steps print the Deployment's READY column after each phase.
pub fn deployment_scenario(replicas: usize, nodes: usize) -> String {
    let scenario = json!({
        "apiVersion": "kubeglass.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": format!("bench-deployment-{replicas}-on-{nodes}")},
        "spec": {"cluster": {"nodes": kubelet_nodes(nodes)},
                 "steps": [
                     {"apply": deployment(replicas)},
                     {"settle": {"max": "2h"}},
                     {"kubectl": "get deployment web"},
                     {"kubectl": "set image deployment/web web=nginx:1.27"},
                     {"settle": {"max": "2h"}},
                     {"kubectl": "get deployment web"},
                     {"kubectl": "rollout status deployment/web --watch=false"}]}
    });
    scenario.to_string()
}

/// Issue 5's node failure: a node running `pods` pods of a Deployment (the other
/// nodes cordoned while they start, then uncordoned) goes down; returns the virtual
/// time until every pod runs on another node (the report's `items` are the pods, its
/// `seconds` the wall time the simulation needed, notes the virtual time).
pub fn node_failure(pods: usize, nodes: usize, now: &dyn Fn() -> f64) -> Result<Report, String> {
    use crate::scenario::{Action, ApplyInput, Step};
    let settings = Settings {
        nodes: kubelet_nodes(nodes)
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect(),
        ..Settings::default()
    };
    let mut runner = crate::scenario::Runner::new(settings).map_err(|e| e.message)?;
    let step = |runner: &mut crate::scenario::Runner, action: Action| {
        let r = runner.take_step(Step {
            action,
            credentials: None,
        });
        match r.error {
            Value::Null => Ok(r.output),
            e => Err(e.to_string()),
        }
    };
    for i in 2..=nodes {
        step(&mut runner, Action::Kubectl(format!("cordon node-{i}")))?;
    }
    step(
        &mut runner,
        Action::Apply(ApplyInput::Objects(vec![deployment(pods)])),
    )?;
    step(
        &mut runner,
        Action::Settle(3600 * crate::kernel::NANOS_PER_SEC),
    )?;
    for i in 2..=nodes {
        step(&mut runner, Action::Kubectl(format!("uncordon node-{i}")))?;
    }
    let running_elsewhere = |runner: &crate::scenario::Runner| {
        runner
            .cluster
            .api()
            .store()
            .list(&PODS, Some("default"))
            .filter(|o| match o.as_ref() {
                Object::Pod(p) => {
                    p.status.phase == "Running"
                        && p.metadata.deletion_timestamp.is_none()
                        && p.node_name().is_some_and(|n| n != "node-1")
                }
                _ => false,
            })
            .count()
    };
    let start = now();
    let t0 = runner.cluster.now();
    step(&mut runner, Action::Fault(json!({"nodeDown": "node-1"})))?;
    let limit = t0 + 3600 * crate::kernel::NANOS_PER_SEC;
    while running_elsewhere(&runner) < pods {
        if runner.cluster.now() >= limit {
            return Err(format!(
                "after an hour of virtual time only {} of {pods} pods run elsewhere",
                running_elsewhere(&runner)
            ));
        }
        runner.cluster.advance(crate::kernel::NANOS_PER_SEC);
    }
    let virtual_secs = (runner.cluster.now() - t0) as f64 / crate::kernel::NANOS_PER_SEC as f64;
    Ok(Report {
        name: format!("node failure: {pods} pods rescheduled off node-1 of {nodes}"),
        items: pods,
        seconds: now() - start,
        notes: vec![("virtual time".into(), format!("{virtual_secs:.1} s"))],
    })
}
