//! The taint-eviction-controller (v1.31 `pkg/controller/tainteviction`, run apart
//! from the node lifecycle controller as v1.31 does by default): a pod bound to a
//! node with a NoExecute taint it does not tolerate is deleted at once; a pod that
//! tolerates every such taint, some for a limited `tolerationSeconds`, is deleted
//! when the shortest of them has passed since the taints appeared (the
//! DefaultTolerationSeconds admission plugin gives every pod 300s for
//! `node.kubernetes.io/not-ready` and `node.kubernetes.io/unreachable`). When the
//! taints go, or the pod goes, the scheduled deletion is cancelled.
//!
//! Before deleting, it records `TaintManagerEviction` "Marking for deletion Pod
//! NS/NAME" and sets the pod's `DisruptionTarget` condition (reason
//! `DeletionByTaintManager`), then deletes the pod with its own grace period; a
//! cancellation records "Cancelling deletion of Pod NS/NAME".
//!
//! Simplified: pods of a node whose NoExecute taints change are read with one LIST by
//! `spec.nodeName` (upstream reads its informer's index); a cancelled deletion's
//! timer still fires (and does nothing), so `settle` may run up to its time.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::api::core::{ObjectReference, Pod, Taint, Toleration};
use crate::api::meta::Condition;
use crate::api::object::{NODES, PODS};
use crate::api::time::Time;
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::{format_duration, Nanos, ObjRef, NANOS_PER_SEC};
use crate::store::EventType;

use super::nodeutil::{record_event, taint_string, tolerates};

const NAME: &str = "taint-eviction-controller";

type Key = (String, String);

#[derive(Clone, Debug)]
struct Work {
    created: Nanos,
    timer: u64,
    node: String,
    /// Fired already (upstream keeps the key with a nil worker).
    done: bool,
}

pub struct TaintEvictionController {
    who: Identity,
    /// The NoExecute taints of each node that has some.
    tainted: BTreeMap<String, Vec<Taint>>,
    works: BTreeMap<Key, Work>,
    timers: BTreeMap<u64, Key>,
    next_timer: u64,
    /// What was last processed of each pod on a tainted node (node, tolerations),
    /// so updates that change neither are skipped, as upstream's PodUpdated does.
    seen: BTreeMap<Key, (String, Vec<Toleration>)>,
}

impl Default for TaintEvictionController {
    fn default() -> Self {
        TaintEvictionController {
            who: super::controller_identity(NAME, NAME),
            tainted: BTreeMap::new(),
            works: BTreeMap::new(),
            timers: BTreeMap::new(),
            next_timer: 0,
            seen: BTreeMap::new(),
        }
    }
}

/// `GetMatchingTolerations`: whether every taint is tolerated, and the tolerations
/// used (the first matching one per taint).
fn matching_tolerations<'a>(
    taints: &[Taint],
    tolerations: &'a [Toleration],
) -> (bool, Vec<&'a Toleration>) {
    let mut used = Vec::new();
    for taint in taints {
        match tolerations.iter().find(|t| tolerates(t, taint)) {
            Some(t) => used.push(t),
            None => return (false, Vec::new()),
        }
    }
    (true, used)
}

/// `getMinTolerationTime`: 0 with no tolerations, the shortest tolerationSeconds
/// (0 or less means at once), or None when every one tolerates forever.
fn min_toleration_time(tolerations: &[&Toleration]) -> Option<Nanos> {
    if tolerations.is_empty() {
        return Some(0);
    }
    let mut min: Option<i64> = None;
    for t in tolerations {
        if let Some(s) = t.toleration_seconds {
            if s <= 0 {
                return Some(0);
            }
            min = Some(min.map_or(s, |m| m.min(s)));
        }
    }
    min.map(|s| s as Nanos * NANOS_PER_SEC)
}

fn pod_ref(ns: &str, name: &str) -> ObjectReference {
    ObjectReference {
        kind: "Pod".into(),
        api_version: "v1".into(),
        namespace: ns.into(),
        name: name.into(),
        ..Default::default()
    }
}

fn untolerated<'a>(taints: &'a [Taint], tolerations: &[Toleration]) -> Vec<&'a Taint> {
    taints
        .iter()
        .filter(|t| !tolerations.iter().any(|x| tolerates(x, t)))
        .collect()
}

impl TaintEvictionController {
    fn cancel(&mut self, ctx: &mut Ctx, key: &Key, why: &str) {
        let Some(w) = self.works.remove(key) else {
            return;
        };
        self.timers.remove(&w.timer);
        if w.done {
            return;
        }
        let (ns, name) = key;
        ctx.note(
            NAME,
            format!("cancel deletion of pod {ns}/{name}"),
            why.to_string(),
            vec![ObjRef::new("Pod", ns, name, 0)],
        );
        let who = self.who.clone();
        record_event(
            ctx,
            &who,
            NAME,
            pod_ref(ns, name),
            "Normal",
            "TaintManagerEviction",
            format!("Cancelling deletion of Pod {ns}/{name}"),
        );
    }

    fn add_work(&mut self, ctx: &mut Ctx, key: Key, node: &str, created: Nanos, fire: Nanos) {
        if self.works.contains_key(&key) {
            return;
        }
        let now = ctx.now();
        let timer = self.next_timer;
        self.next_timer += 1;
        self.timers.insert(timer, key.clone());
        self.works.insert(
            key,
            Work {
                created,
                timer,
                node: node.to_string(),
                done: false,
            },
        );
        ctx.after(fire.saturating_sub(now), timer);
    }

    /// `processPodOnNode`.
    fn process_pod(&mut self, ctx: &mut Ctx, pod: &Pod, node: &str) {
        let key: Key = (pod.metadata.namespace.clone(), pod.metadata.name.clone());
        let (ns, name) = (&key.0, &key.1);
        let obj = || {
            vec![
                ObjRef::new("Pod", ns, name, 0),
                ObjRef::new("Node", "", node, 0),
            ]
        };
        let taints = self.tainted.get(node).cloned().unwrap_or_default();
        self.seen.insert(
            key.clone(),
            (node.to_string(), pod.spec.tolerations.to_vec()),
        );
        if taints.is_empty() {
            self.cancel(ctx, &key, "its node has no NoExecute taint any more");
            return;
        }
        let now = ctx.now();
        let (all, used) = matching_tolerations(&taints, &pod.spec.tolerations);
        if !all {
            let bad = untolerated(&taints, &pod.spec.tolerations);
            ctx.note(
                NAME,
                format!("evict pod {ns}/{name} now"),
                format!(
                    "its node {node} has the NoExecute taint {} and the pod does not tolerate it",
                    bad.iter()
                        .map(|t| taint_string(t))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                obj(),
            );
            self.cancel(ctx, &key, "the pod is to be deleted at once instead");
            self.add_work(ctx, key, node, now, now);
            return;
        }
        let Some(min) = min_toleration_time(&used) else {
            if self.works.get(&key).is_some_and(|w| !w.done) {
                self.cancel(
                    ctx,
                    &key,
                    "the pod now tolerates its node's NoExecute taints forever",
                );
            }
            ctx.note(
                NAME,
                format!("leave pod {ns}/{name} on node {node}"),
                "the pod tolerates every NoExecute taint of its node without tolerationSeconds, that is forever",
                obj(),
            );
            return;
        };
        let mut start = now;
        let trigger = now + min;
        if let Some(w) = self.works.get(&key) {
            if !w.done {
                start = w.created;
                if start + min < trigger {
                    return;
                }
            }
            self.cancel(ctx, &key, "the pod's tolerations changed");
        }
        let fire = start + min;
        ctx.note(
            NAME,
            format!("schedule deletion of pod {ns}/{name} in {}", format_duration(fire.saturating_sub(now))),
            format!(
                "its node {node} has the NoExecute taint {}, which the pod tolerates for {} (the shortest tolerationSeconds of the tolerations used)",
                taints.iter().map(taint_string).collect::<Vec<_>>().join(", "),
                format_duration(min)
            ),
            obj(),
        );
        self.add_work(ctx, key, node, start, fire);
    }

    /// The deletion itself (`deletePodHandler`, `addConditionAndDeletePod`).
    fn fire(&mut self, ctx: &mut Ctx, key: Key) {
        let (ns, name) = (key.0.clone(), key.1.clone());
        let who = self.who.clone();
        let node = match self.works.get_mut(&key) {
            Some(w) => {
                w.done = true;
                w.node.clone()
            }
            None => return,
        };
        ctx.note(
            NAME,
            format!("delete pod {ns}/{name}"),
            format!("the pod's time on node {node} under a NoExecute taint it does not tolerate (or tolerates no longer) is over"),
            vec![ObjRef::new("Pod", &ns, &name, 0)],
        );
        record_event(
            ctx,
            &who,
            NAME,
            pod_ref(&ns, &name),
            "Normal",
            "TaintManagerEviction",
            format!("Marking for deletion Pod {ns}/{name}"),
        );
        let Ok(current) = ctx.client(&who).get(&PODS, &ns, &name) else {
            return;
        };
        let Object::Pod(pod) = current.as_ref() else {
            return;
        };
        let cond = Condition {
            kind: "DisruptionTarget".into(),
            status: "True".into(),
            reason: "DeletionByTaintManager".into(),
            message: "Taint manager: deleting due to NoExecute taint".into(),
            ..Default::default()
        };
        let changes = match pod.status.conditions.iter().find(|c| c.kind == cond.kind) {
            None => true,
            Some(o) => {
                o.status != cond.status || o.reason != cond.reason || o.message != cond.message
            }
        };
        if changes {
            let mut c = cond;
            c.last_transition_time = Some(Time::from_virtual_nanos(ctx.now()));
            let mut v = serde_json::to_value(&c).unwrap_or(Value::Null);
            v["lastProbeTime"] = Value::Null;
            let patch =
                json!({"metadata": {"uid": pod.metadata.uid}, "status": {"conditions": [v]}});
            if ctx
                .client(&who)
                .patch_status(
                    &PODS,
                    &ns,
                    &name,
                    "application/strategic-merge-patch+json",
                    patch,
                )
                .is_err()
            {
                return;
            }
        }
        let _ = ctx.client(&who).delete(&PODS, &ns, &name, None);
    }

    fn node_changed(&mut self, ctx: &mut Ctx, name: &str, taints: Vec<Taint>) {
        let old = self.tainted.get(name).cloned().unwrap_or_default();
        if old == taints {
            return;
        }
        if taints.is_empty() {
            self.tainted.remove(name);
            let keys: Vec<Key> = self
                .works
                .iter()
                .filter(|(_, w)| w.node == name)
                .map(|(k, _)| k.clone())
                .collect();
            for k in keys {
                self.cancel(ctx, &k, "its node has no NoExecute taint any more");
            }
            self.seen.retain(|_, (n, _)| n != name);
            return;
        }
        self.tainted.insert(name.to_string(), taints);
        let who = self.who.clone();
        let selector = format!("spec.nodeName={name}");
        let Ok(pods) = ctx.client(&who).list(&PODS, "", "", &selector) else {
            return;
        };
        for obj in pods {
            if let Object::Pod(p) = obj.as_ref() {
                if p.spec.node_name == name {
                    self.process_pod(ctx, p, name);
                }
            }
        }
    }
}

impl Component for TaintEvictionController {
    fn name(&self) -> String {
        NAME.into()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        vec![WatchSpec::new(&NODES, NAME), WatchSpec::new(&PODS, NAME)]
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>) {
        match (watch, obj.as_ref()) {
            (0, Object::Node(n)) => {
                let name = n.metadata.name.clone();
                if kind == EventType::Deleted {
                    self.tainted.remove(&name);
                    return;
                }
                let taints: Vec<Taint> = n
                    .spec
                    .taints
                    .iter()
                    .filter(|t| t.effect == "NoExecute")
                    .cloned()
                    .collect();
                self.node_changed(ctx, &name, taints);
            }
            (1, Object::Pod(p)) => {
                // Most pods are on untainted nodes with nothing scheduled: decide that
                // without allocating (150,000-pod clusters run through here).
                let idle = self.works.is_empty() && self.seen.is_empty();
                let on_tainted = p.node_name().is_some_and(|n| self.tainted.contains_key(n));
                if idle && !on_tainted {
                    return;
                }
                let key: Key = (p.metadata.namespace.clone(), p.metadata.name.clone());
                if kind == EventType::Deleted {
                    self.seen.remove(&key);
                    self.cancel(ctx, &key, "the pod is gone");
                    return;
                }
                let Some(node) = p.node_name() else { return };
                if let Some((n, tol)) = self.seen.get(&key) {
                    if n == node && *tol == *p.spec.tolerations {
                        return;
                    }
                }
                if on_tainted {
                    let node = node.to_string();
                    self.process_pod(ctx, p, &node);
                } else if self.works.contains_key(&key) {
                    self.cancel(ctx, &key, "its node has no NoExecute taint");
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, key: u64) {
        let Some(k) = self.timers.remove(&key) else {
            return;
        };
        if self
            .works
            .get(&k)
            .is_some_and(|w| w.timer == key && !w.done)
        {
            self.fire(ctx, k);
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn tol(key: &str, secs: Option<i64>) -> Toleration {
        Toleration {
            key: key.into(),
            operator: Some("Exists".into()),
            effect: "NoExecute".into(),
            toleration_seconds: secs,
            ..Default::default()
        }
    }

    #[test]
    fn min_toleration_time_as_upstream() {
        let a = tol("a", Some(300));
        let b = tol("b", Some(60));
        let forever = tol("c", None);
        let zero = tol("d", Some(0));
        assert_eq!(min_toleration_time(&[]), Some(0));
        assert_eq!(min_toleration_time(&[&a, &b]), Some(60 * NANOS_PER_SEC));
        assert_eq!(min_toleration_time(&[&forever]), None);
        assert_eq!(
            min_toleration_time(&[&forever, &a]),
            Some(300 * NANOS_PER_SEC)
        );
        assert_eq!(min_toleration_time(&[&a, &zero]), Some(0));
    }

    #[test]
    fn every_taint_needs_a_toleration() {
        let taints = vec![
            Taint {
                key: "a".into(),
                effect: "NoExecute".into(),
                ..Default::default()
            },
            Taint {
                key: "b".into(),
                effect: "NoExecute".into(),
                ..Default::default()
            },
        ];
        let only_a = vec![tol("a", Some(1))];
        assert!(!matching_tolerations(&taints, &only_a).0);
        let both = vec![tol("a", Some(1)), tol("b", None)];
        let (all, used) = matching_tolerations(&taints, &both);
        assert!(all);
        assert_eq!(used.len(), 2);
    }
}
