//! The pod garbage collector (v1.31 `pkg/controller/podgc`). Every 20s
//! (`gcCheckPeriod`) it:
//!
//! - deletes the oldest terminated pods (phase neither Pending, Running nor
//!   Unknown; evicted ones first) beyond `--terminated-pod-gc-threshold` (12500);
//! - force-deletes terminating pods on nodes that are not Ready and carry the
//!   `node.kubernetes.io/out-of-service` taint;
//! - deletes pods bound to nodes that do not exist, once a node has been missing for
//!   the 40s quarantine (`quarantineTime`) and a GET confirms it is gone, with the
//!   `DisruptionTarget` condition (reason `DeletionByPodGC`, "PodGC: node no longer
//!   exists");
//! - force-deletes terminating pods that were never scheduled.
//!
//! Each pod not yet terminal is first marked `Failed` (a status patch), then deleted
//! with grace period 0.
//!
//! Simplified: instead of listing every pod from an informer each pass, it keeps
//! only the pods it may act on (terminated and terminating ones) and the names of
//! missing nodes that pods were seen bound to (a node's deletion, or a pod bound to
//! an unknown node); a quarantined node's pods are read with one LIST by
//! `spec.nodeName`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::api::core::Pod;
use crate::api::meta::Condition;
use crate::api::object::{NODES, PODS};
use crate::api::time::Time;
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::{Nanos, ObjRef, NANOS_PER_SEC};
use crate::store::EventType;

use super::nodeutil::TAINT_OUT_OF_SERVICE;

const NAME: &str = "pod-garbage-collector";
const KEY_GC: u64 = 0;

/// `gcCheckPeriod`.
pub const GC_CHECK_PERIOD: Nanos = 20 * NANOS_PER_SEC;
/// `quarantineTime`.
pub const QUARANTINE_TIME: Nanos = 40 * NANOS_PER_SEC;
/// `--terminated-pod-gc-threshold`'s default.
pub const TERMINATED_POD_GC_THRESHOLD: usize = 12500;

type Key = (String, String);

/// What the sort by eviction and creation needs of a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Tracked {
    node: String,
    evicted: bool,
    created: Option<Time>,
    terminal: bool,
}

pub struct PodGcController {
    who: Identity,
    threshold: usize,
    /// Existing nodes: Ready, and whether they have the out-of-service taint.
    nodes: BTreeMap<String, (bool, bool)>,
    terminated: BTreeMap<Key, Tracked>,
    terminating: BTreeMap<Key, Tracked>,
    /// Missing nodes pods were seen bound to, to quarantine at the next pass.
    suspects: BTreeSet<String>,
    /// Quarantined nodes and when their quarantine ends.
    quarantine: BTreeMap<String, Nanos>,
    pass_at: Option<Nanos>,
    last_pass: Option<Nanos>,
}

impl Default for PodGcController {
    fn default() -> Self {
        Self::with_threshold(TERMINATED_POD_GC_THRESHOLD)
    }
}

/// `isPodTerminated`.
fn is_terminated(pod: &Pod) -> bool {
    !matches!(
        pod.status.phase.as_str(),
        "Pending" | "Running" | "Unknown" | ""
    )
}

fn tracked(pod: &Pod) -> Tracked {
    Tracked {
        node: pod.spec.node_name.clone(),
        evicted: pod.status.phase == "Failed" && pod.status.reason == "Evicted",
        created: pod.metadata.creation_timestamp,
        terminal: matches!(pod.status.phase.as_str(), "Succeeded" | "Failed"),
    }
}

/// `byEvictionAndCreationTimestamp`.
fn sorted<'a>(pods: impl Iterator<Item = (&'a Key, &'a Tracked)>) -> Vec<(Key, Tracked)> {
    let mut v: Vec<(Key, Tracked)> = pods.map(|(k, t)| (k.clone(), t.clone())).collect();
    v.sort_by(|(ka, a), (kb, b)| {
        b.evicted
            .cmp(&a.evicted)
            .then(a.created.cmp(&b.created))
            .then(ka.1.cmp(&kb.1))
            .then(ka.0.cmp(&kb.0))
    });
    v
}

impl PodGcController {
    pub fn with_threshold(threshold: usize) -> Self {
        PodGcController {
            who: super::controller_identity(NAME, "pod-garbage-collector"),
            threshold,
            nodes: BTreeMap::new(),
            terminated: BTreeMap::new(),
            terminating: BTreeMap::new(),
            suspects: BTreeSet::new(),
            quarantine: BTreeMap::new(),
            pass_at: None,
            last_pass: None,
        }
    }

    /// `markFailedAndDeletePodWithCondition`.
    fn mark_failed_and_delete(
        &mut self,
        ctx: &mut Ctx,
        key: &Key,
        terminal: bool,
        condition: Option<Condition>,
        action: String,
        why: String,
    ) {
        let (ns, name) = key;
        ctx.note(NAME, action, why, vec![ObjRef::new("Pod", ns, name, 0)]);
        let who = self.who.clone();
        if !terminal {
            let mut status = json!({"phase": "Failed"});
            if let Some(mut c) = condition {
                c.last_transition_time = Some(Time::from_virtual_nanos(ctx.now()));
                let mut v = serde_json::to_value(&c).unwrap_or(Value::Null);
                v["lastProbeTime"] = Value::Null;
                status["conditions"] = json!([v]);
            }
            if ctx
                .client(&who)
                .patch_status(
                    &PODS,
                    ns,
                    name,
                    "application/strategic-merge-patch+json",
                    json!({"status": status}),
                )
                .is_err()
            {
                return;
            }
        }
        let _ = ctx.client(&who).delete(&PODS, ns, name, Some(0));
    }

    fn gc(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        // gcTerminated
        if self.threshold > 0 && self.terminated.len() > self.threshold {
            let count = self.terminated.len() - self.threshold;
            let total = self.terminated.len();
            let victims = sorted(self.terminated.iter());
            for (key, t) in victims.into_iter().take(count) {
                self.mark_failed_and_delete(
                    ctx,
                    &key,
                    t.terminal,
                    None,
                    format!("delete terminated pod {}/{}", key.0, key.1),
                    format!("{total} terminated pods exceed --terminated-pod-gc-threshold {}: the oldest go first (evicted ones before the rest)", self.threshold),
                );
            }
        }
        // gcTerminating: on out-of-service nodes that are not Ready.
        let out_of_service: Vec<(Key, Tracked)> =
            sorted(self.terminating.iter().filter(|(_, t)| {
                self.nodes
                    .get(&t.node)
                    .is_some_and(|(ready, oos)| !ready && *oos)
            }));
        for (key, t) in out_of_service {
            self.mark_failed_and_delete(
                ctx,
                &key,
                t.terminal,
                None,
                format!("force delete pod {}/{}", key.0, key.1),
                format!("the pod is terminating on node {}, which is not Ready and has the {TAINT_OUT_OF_SERVICE} taint: its kubelet will not confirm, so the pod is removed", t.node),
            );
        }
        // gcOrphaned
        let suspects: Vec<String> = std::mem::take(&mut self.suspects).into_iter().collect();
        for node in suspects {
            if !self.nodes.contains_key(&node) {
                self.quarantine.entry(node).or_insert(now + QUARANTINE_TIME);
            }
        }
        let due: Vec<String> = self
            .quarantine
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(n, _)| n.clone())
            .collect();
        let who = self.who.clone();
        for node in due {
            self.quarantine.remove(&node);
            if self.nodes.contains_key(&node) {
                continue;
            }
            match ctx.client(&who).get(&NODES, "", &node) {
                Err(e) if e.code() == 404 => {}
                _ => continue,
            }
            let selector = format!("spec.nodeName={node}");
            let Ok(pods) = ctx.client(&who).list(&PODS, "", "", &selector) else {
                continue;
            };
            for obj in pods {
                let Object::Pod(p) = obj.as_ref() else {
                    continue;
                };
                if p.spec.node_name != node {
                    continue;
                }
                let key = (p.metadata.namespace.clone(), p.metadata.name.clone());
                let cond = Condition {
                    kind: "DisruptionTarget".into(),
                    status: "True".into(),
                    reason: "DeletionByPodGC".into(),
                    message: "PodGC: node no longer exists".into(),
                    ..Default::default()
                };
                self.mark_failed_and_delete(
                    ctx,
                    &key,
                    tracked(p).terminal,
                    Some(cond),
                    format!("delete orphaned pod {}/{}", key.0, key.1),
                    format!("the pod is bound to node {node}, which has not existed for the {}s quarantine (and a GET confirms it is gone)", QUARANTINE_TIME / NANOS_PER_SEC),
                );
            }
        }
        // gcUnscheduledTerminating
        let unscheduled: Vec<(Key, Tracked)> = self
            .terminating
            .iter()
            .filter(|(_, t)| t.node.is_empty())
            .map(|(k, t)| (k.clone(), t.clone()))
            .collect();
        for (key, t) in unscheduled {
            self.mark_failed_and_delete(
                ctx,
                &key,
                t.terminal,
                None,
                format!("force delete pod {}/{}", key.0, key.1),
                "the pod is terminating and was never scheduled: no kubelet will confirm it, so it is removed".to_string(),
            );
        }
    }
}

impl Component for PodGcController {
    fn name(&self) -> String {
        NAME.into()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        vec![WatchSpec::new(&NODES, NAME), WatchSpec::new(&PODS, NAME)]
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>) {
        self.observe(watch, kind, obj);
        self.ensure_pass(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, key: u64) {
        if key == KEY_GC {
            self.pass_at = None;
            self.last_pass = Some(ctx.now());
            self.gc(ctx);
            self.ensure_pass(ctx);
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl PodGcController {
    fn observe(&mut self, watch: usize, kind: EventType, obj: &Arc<Object>) {
        match (watch, obj.as_ref()) {
            (0, Object::Node(n)) => {
                let name = n.metadata.name.clone();
                if kind == EventType::Deleted {
                    self.nodes.remove(&name);
                    self.suspects.insert(name);
                    return;
                }
                let ready = n.condition("Ready").is_some_and(|c| c.status == "True");
                let oos = n.spec.taints.iter().any(|t| t.key == TAINT_OUT_OF_SERVICE);
                self.nodes.insert(name, (ready, oos));
            }
            (1, Object::Pod(p)) => {
                let deleted = kind == EventType::Deleted;
                if let Some(node) = p.node_name().filter(|_| !deleted) {
                    if !self.nodes.contains_key(node) {
                        self.suspects.insert(node.to_string());
                    }
                }
                let terminated = !deleted && is_terminated(p);
                let terminating = !deleted && p.metadata.deletion_timestamp.is_some();
                // Most pods are neither: decide that without allocating.
                if !terminated
                    && !terminating
                    && self.terminated.is_empty()
                    && self.terminating.is_empty()
                {
                    return;
                }
                let key = (p.metadata.namespace.clone(), p.metadata.name.clone());
                if terminated {
                    self.terminated.insert(key.clone(), tracked(p));
                } else {
                    self.terminated.remove(&key);
                }
                if terminating {
                    self.terminating.insert(key, tracked(p));
                } else {
                    self.terminating.remove(&key);
                }
            }
            _ => {}
        }
    }

    /// Schedules the next pass on the `gcCheckPeriod` grid (20s, 40s, ...) while
    /// there is anything a pass could act on; a pass that would find nothing is
    /// skipped, so the loop rests in a quiet cluster.
    fn ensure_pass(&mut self, ctx: &mut Ctx) {
        let busy = !self.suspects.is_empty()
            || !self.quarantine.is_empty()
            || self.terminating.values().any(|t| {
                t.node.is_empty()
                    || self
                        .nodes
                        .get(&t.node)
                        .is_some_and(|(ready, oos)| !ready && *oos)
            })
            || (self.threshold > 0 && self.terminated.len() > self.threshold);
        if !busy || self.pass_at.is_some() {
            return;
        }
        let now = ctx.now();
        let mut at = now.div_ceil(GC_CHECK_PERIOD) * GC_CHECK_PERIOD;
        if self.last_pass == Some(at) {
            at += GC_CHECK_PERIOD;
        }
        self.pass_at = Some(at);
        ctx.every(at - now, KEY_GC);
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn evicted_then_oldest_first() {
        let t = |evicted, secs| Tracked {
            node: String::new(),
            evicted,
            created: Some(Time(secs)),
            terminal: true,
        };
        let mut m = BTreeMap::new();
        m.insert(("d".to_string(), "new".to_string()), t(false, 30));
        m.insert(("d".to_string(), "old".to_string()), t(false, 10));
        m.insert(("d".to_string(), "evicted".to_string()), t(true, 50));
        let order: Vec<String> = sorted(m.iter()).into_iter().map(|(k, _)| k.1).collect();
        assert_eq!(order, ["evicted", "old", "new"]);
    }
}
