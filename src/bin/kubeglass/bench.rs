//! `kubeglass bench scheduler`: 150,000 pods onto 5,000 heterogeneous nodes with the
//! default profile, as a whole scenario run (parsing included), and the scheduler's
//! cycle alone. Native only: it reads the wall clock and /proc, which the simulation
//! never does.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use kubeglass::api::Object;
use kubeglass::apiserver::client::Identity;
use kubeglass::apiserver::ApiServer;
use kubeglass::component::Ctx;
use kubeglass::kernel::Kernel;
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

/// The whole run: parse, build, apply, settle, with the peak resident memory.
pub fn whole_run(size: &Size) -> Result<String, String> {
    let start = Instant::now();
    let clock = || start.elapsed().as_secs_f64();
    let report = kubeglass::bench::scheduler_whole_run(size.nodes, size.pods, &clock)?;
    Ok(format!(
        "{}, peak RSS {} MiB",
        report.line(),
        peak_rss_kib().map_or("?".into(), |k| (k / 1024).to_string()),
    ))
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
        let mut v = kubeglass::bench::scheduler_node(i);
        v["apiVersion"] = json!("v1");
        v["kind"] = json!("Node");
        v["status"]["allocatable"] = v["status"]["capacity"].clone();
        let obj = Arc::new(Object::from_value(v).map_err(|e| e.to_string())?);
        cache.upsert_node(&obj);
    }
    let infos: Vec<Arc<PodInfo>> = (0..size.pods)
        .filter_map(|i| {
            let obj = Object::from_value(kubeglass::bench::scheduler_pod(i)).ok()?;
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
