//! Helpers for the plugins' table tests: pods and nodes from JSON, a cache holding
//! them, and one plugin run through its extension points as the framework would.

use std::sync::Arc;

use serde_json::Value;

use crate::api::Object;
use crate::scheduler::cache::Cache;
use crate::scheduler::framework::types::{PodInfo, ResourceModel};
use crate::scheduler::framework::{Code, CycleState, Plugin, PluginCtx, Status, MAX_NODE_SCORE};

pub fn object(kind: &str, mut v: Value) -> Arc<Object> {
    v["apiVersion"] = "v1".into();
    v["kind"] = kind.into();
    if v.get("metadata").is_none() {
        v["metadata"] = serde_json::json!({});
    }
    if v["metadata"].get("namespace").is_none() && kind == "Pod" {
        v["metadata"]["namespace"] = "default".into();
    }
    Arc::new(Object::from_value(v).expect("test object decodes"))
}

/// A pod (named `p` unless the JSON names it).
pub fn pod(mut v: Value) -> PodInfo {
    if v.get("metadata").and_then(|m| m.get("name")).is_none() {
        v["metadata"]["name"] = "p".into();
    }
    PodInfo::new(object("Pod", v), ResourceModel::Current).expect("a pod")
}

pub fn pod_model(mut v: Value, model: ResourceModel) -> PodInfo {
    if v.get("metadata").and_then(|m| m.get("name")).is_none() {
        v["metadata"]["name"] = "p".into();
    }
    PodInfo::new(object("Pod", v), model).expect("a pod")
}

/// A cache with these nodes and (bound) pods.
pub fn world(nodes: Vec<Value>, pods: Vec<Value>) -> Cache {
    world_model(nodes, pods, ResourceModel::Current)
}

pub fn world_model(nodes: Vec<Value>, pods: Vec<Value>, model: ResourceModel) -> Cache {
    let mut c = Cache::new(model);
    for n in nodes {
        c.upsert_node(&object("Node", n));
    }
    for (i, mut p) in pods.into_iter().enumerate() {
        if p.get("metadata").and_then(|m| m.get("name")).is_none() {
            p["metadata"]["name"] = format!("existing-{i}").into();
        }
        c.upsert_pod(&object("Pod", p));
    }
    c
}

pub const PC: PluginCtx = PluginCtx {
    index: 0,
    max_score: MAX_NODE_SCORE,
};

/// Runs PreFilter (if the plugin has one) and Filter for `pod` on `node`.
pub fn filter(c: &Cache, plugin: &dyn Plugin, pod: &PodInfo, node: &str) -> Status {
    let snap = c.snapshot();
    let mut state = CycleState::new(1);
    if let Some(pf) = plugin.as_pre_filter() {
        let (res, st) = pf.pre_filter(PC, &mut state, pod, &snap);
        if st.code == Code::Skip {
            return Status::success();
        }
        if !st.is_success() {
            return st;
        }
        if let Some(names) = res.node_names {
            if !names.iter().any(|n| n == node) {
                return Status::new(Code::UnschedulableAndUnresolvable, "not in PreFilterResult");
            }
        }
    }
    let Some(i) = c.node_index(node) else {
        return Status::error("no such node");
    };
    plugin
        .as_filter()
        .expect("a filter plugin")
        .filter(PC, &state, pod, c.node(i), &snap)
}

/// Runs PreScore, Score and NormalizeScore over every node; returns (node, score),
/// or the status of a PreScore that did not succeed (Skip included).
pub fn scores(c: &Cache, plugin: &dyn Plugin, pod: &PodInfo) -> Result<Vec<(String, i64)>, Status> {
    scores_with(c, plugin, pod, PC, true)
}

pub fn scores_with(
    c: &Cache,
    plugin: &dyn Plugin,
    pod: &PodInfo,
    pc: PluginCtx,
    run_pre_score: bool,
) -> Result<Vec<(String, i64)>, Status> {
    let snap = c.snapshot();
    let nodes: Vec<_> = snap.list().collect();
    let mut state = CycleState::new(1);
    if let Some(pf) = plugin.as_pre_filter() {
        let (_, st) = pf.pre_filter(pc, &mut state, pod, &snap);
        if !st.is_success() && st.code != Code::Skip {
            return Err(st);
        }
    }
    if run_pre_score {
        if let Some(ps) = plugin.as_pre_score() {
            let st = ps.pre_score(pc, &mut state, pod, &nodes, &snap);
            if !st.is_success() {
                return Err(st);
            }
        }
    }
    let sp = plugin.as_score().expect("a score plugin");
    let mut raw = Vec::new();
    for n in &nodes {
        raw.push(sp.score(pc, &state, pod, n, &snap)?);
    }
    if let Some(norm) = sp.normalize() {
        let st = norm.normalize_score(pc, &state, pod, &nodes, &mut raw);
        if !st.is_success() {
            return Err(st);
        }
    }
    Ok(nodes.iter().map(|n| n.name.to_string()).zip(raw).collect())
}
