//! `kubeglass bench scheduler`: 150,000 pods onto 5,000 heterogeneous nodes with the
//! default profile, as a whole scenario run (parsing included), and the scheduler's
//! cycle alone. Native only: it reads the wall clock and /proc, which the simulation
//! never does.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};

use kubeglass::api::object::PODS;
use kubeglass::api::Object;
use kubeglass::apiserver::client::Identity;
use kubeglass::apiserver::ApiServer;
use kubeglass::component::Ctx;
use kubeglass::kernel::Kernel;
use kubeglass::scenario;
use kubeglass::scheduler::cache::Cache;
use kubeglass::scheduler::config;
use kubeglass::scheduler::framework::runtime::build_all;
use kubeglass::scheduler::framework::types::{PodInfo, ResourceModel};
use kubeglass::scheduler::schedule_one::{schedule_pod, CycleInput, Scratch};

/// The benchmark's size.
pub struct Size {
    pub nodes: usize,
    pub pods: usize,
}

fn node(i: usize) -> Value {
    const CPU: [&str; 5] = ["4", "8", "16", "32", "64"];
    const MEM: [&str; 5] = ["16Gi", "32Gi", "64Gi", "128Gi", "256Gi"];
    let k = (i * 7 + i / 5) % 5;
    let mut n = json!({
        "metadata": {
            "name": format!("node-{i:05}"),
            "annotations": {"kubeglass.dev/kubelet": "none"},
            "labels": {"topology.kubernetes.io/zone": format!("zone-{}", i % 3), "tier": if i % 4 == 0 { "gold" } else { "standard" }},
        },
        "status": {"capacity": {"cpu": CPU[k], "memory": MEM[k], "pods": "110", "ephemeral-storage": "200Gi"}},
    });
    if i % 10 == 0 {
        n["spec"] =
            json!({"taints": [{"key": "spot", "value": "true", "effect": "PreferNoSchedule"}]});
    }
    if i % 5 == 0 {
        n["status"]["images"] =
            json!([{"names": ["registry.k8s.io/nginx:1.27"], "sizeBytes": 70 * 1024 * 1024}]);
    }
    n
}

fn pod(i: usize) -> Value {
    let mut c = json!({"name": "app", "image": if i % 2 == 0 { "registry.k8s.io/nginx:1.27" } else { "registry.k8s.io/pause:3.10" }});
    if i % 10 != 9 {
        c["resources"] = json!({"requests": {"cpu": format!("{}m", 50 + (i % 8) * 50), "memory": format!("{}Mi", 64 + (i % 6) * 64)}});
    }
    let mut spec = json!({"containers": [c]});
    if i % 7 == 0 {
        spec["nodeSelector"] = json!({"tier": "gold"});
    }
    if i % 11 == 0 {
        spec["tolerations"] =
            json!([{"key": "spot", "operator": "Exists", "effect": "PreferNoSchedule"}]);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("pod-{i:06}"), "namespace": "default", "labels": {"app": format!("app-{}", i % 50)}}, "spec": spec})
}

/// The benchmark scenario as text.
pub fn scenario_text(size: &Size) -> String {
    let nodes: Vec<Value> = (0..size.nodes).map(node).collect();
    let pods: Vec<Value> = (0..size.pods).map(pod).collect();
    json!({
        "apiVersion": "kubeglass.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "bench-scheduler"},
        "spec": {
            "seed": 1,
            "cluster": {"nodes": nodes},
            "steps": [{"apply": {"apiVersion": "v1", "kind": "List", "items": pods}}, {"settle": {}}],
        },
    })
    .to_string()
}

/// Peak resident memory (VmHWM) in KiB, on Linux.
pub fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The whole run: parse, build, apply, settle. Returns a report.
pub fn whole_run(size: &Size) -> Result<String, String> {
    let text = scenario_text(size);
    let mb = text.len() as f64 / 1e6;
    let start = Instant::now();
    let s = scenario::parse(&text).map_err(|e| e.message)?;
    drop(text);
    let parsed = start.elapsed();
    // Consumed, as `kubeglass run` does: a copy kept aside would hold every pod's
    // parsed manifest for the whole run.
    let (results, runner) = scenario::run_owned(s).map_err(|e| e.message)?;
    let elapsed = start.elapsed();
    for r in &results {
        if !r.error.is_null() {
            return Err(format!("a step failed: {}", r.error));
        }
    }
    let bound = runner
        .cluster
        .api()
        .store()
        .list(&PODS, Some("default"))
        .filter(|p| p.as_pod().is_some_and(|p| p.node_name().is_some()))
        .count();
    let records = runner.cluster.scheduler().map_or(0, |s| s.records().len());
    let secs = elapsed.as_secs_f64();
    let report = format!(
        "whole run: {} pods onto {} nodes (scenario {mb:.1} MB): {bound} bound in {secs:.2}s ({:.0} pods/s; parse {:.2}s), peak RSS {} MiB, {records} decision records kept, {} trace entries kept",
        size.pods,
        size.nodes,
        size.pods as f64 / secs,
        parsed.as_secs_f64(),
        peak_rss_kib().map_or("?".into(), |k| (k / 1024).to_string()),
        runner.cluster.k.trace.len(),
    );
    // The cluster is dropped by the process exit.
    std::mem::forget(runner);
    if bound != size.pods {
        return Err(format!(
            "{report}\nonly {bound} of {} pods were bound",
            size.pods
        ));
    }
    Ok(report)
}

/// The scheduler alone: filter, score and select per pod on a cache of the same
/// nodes, assuming each placed pod (no API calls, no watch events).
pub fn scheduler_alone(size: &Size) -> Result<String, String> {
    let cfg = config::parse(None)?;
    let fws = build_all(&cfg)?;
    let fw = &fws[0];
    let names: Vec<Arc<str>> = fw.plugins.iter().map(|p| Arc::from(p.name())).collect();
    let mut cache = Cache::new(ResourceModel::Current);
    for i in 0..size.nodes {
        let mut v = node(i);
        v["apiVersion"] = json!("v1");
        v["kind"] = json!("Node");
        v["status"]["allocatable"] = v["status"]["capacity"].clone();
        let obj = Arc::new(Object::from_value(v).map_err(|e| e.to_string())?);
        cache.upsert_node(&obj);
    }
    let infos: Vec<Arc<PodInfo>> = (0..size.pods)
        .filter_map(|i| {
            let obj = Object::from_value(pod(i)).ok()?;
            PodInfo::new(Arc::new(obj), ResourceModel::Current).map(Arc::new)
        })
        .collect();
    let mut api = ApiServer::new(Default::default());
    let mut k = Kernel::new(1, 1024);
    let mut timers = Vec::new();
    let mut watches = Vec::new();
    let who = Identity::new("scheduler", "system:kube-scheduler", &[]);
    let nominated = Default::default();
    let mut scratch = Scratch::default();
    let mut start_index = 0;
    let mut placed = 0usize;
    let (mut evaluated, mut feasible) = (0usize, 0usize);
    let start = Instant::now();
    for (i, info) in infos.iter().enumerate() {
        let mut ctx = Ctx::new(&mut api, &mut k, &mut timers, &mut watches);
        let input = CycleInput {
            fw,
            profile_index: 0,
            names: &names,
            cache: &cache,
            pod: info,
            attempt: 1,
            cycle: i as u64 + 1,
            start_index,
            percentage: cfg.percentage_of_nodes_to_score,
            node_limit: kubeglass::scheduler::record::DEFAULT_NODE_LIMIT,
            nominated: &nominated,
            who: &who,
            objects: &[],
        };
        let out = schedule_pod(&input, &mut scratch, &mut ctx);
        start_index = out.next_start;
        evaluated += out.record.evaluated;
        feasible += out.record.feasible;
        if let Some(n) = out.chosen {
            cache.assume(info, n);
            placed += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(format!(
        "scheduler alone: {placed} of {} pods placed on {} nodes in {secs:.2}s ({:.0} pods/s, {:.1} µs per cycle; {:.0} nodes evaluated and {:.0} feasible per cycle)",
        size.pods,
        size.nodes,
        size.pods as f64 / secs,
        secs * 1e6 / size.pods as f64,
        evaluated as f64 / size.pods as f64,
        feasible as f64 / size.pods as f64,
    ))
}
