//! The garbage collector, as upstream's pkg/controller/garbagecollector (v1.31):
//! a graph of owners and dependents built from watches, and two queues of work.
//!
//! - attemptToDelete: a dependent whose owners are all gone (404, or another uid
//!   under that name) is deleted, with the policy its own finalizers ask for
//!   (background otherwise); owners that are gone are removed from a dependent that
//!   still has a live owner. An owner deleted in the foreground (a deletionTimestamp
//!   and the `foregroundDeletion` finalizer) has its dependents deleted, and when no
//!   dependent with `blockOwnerDeletion` is left, the finalizer is removed and the
//!   API server lets the owner go.
//! - attemptToOrphan: an owner with the `orphan` finalizer has its owner reference
//!   removed from every dependent, then the finalizer.
//!
//! Simplifications: the graph keeps every watched object except pods without owner
//! references (a pod as an owner is verified with a read instead); Events are not
//! watched (upstream ignores them too); cycles of foreground deletions are not
//! unblocked; the work is sequential.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::json;

use super::workload::WorkQueue;
use crate::api::meta::OwnerReference;
use crate::api::object::{resource_by_kind, ResourceType, EVENTS, PODS, RESOURCE_TYPES};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::ObjRef;
use crate::store::EventType;

const NAME: &str = "garbage-collector-controller";
pub const FOREGROUND: &str = "foregroundDeletion";
pub const ORPHAN: &str = "orphan";

struct Node {
    rt: &'static ResourceType,
    namespace: String,
    name: String,
    owners: Vec<OwnerReference>,
    deleting: bool,
    deleting_dependents: bool,
}

/// Work items: deletion attempts sort before orphaning.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Delete(String),
    Orphan(String),
}

pub struct GarbageCollector {
    who: Identity,
    /// The watched resource types, by watch index.
    types: Vec<&'static ResourceType>,
    nodes: BTreeMap<String, Node>,
    /// Dependents by owner uid.
    dependents: BTreeMap<String, BTreeSet<String>>,
    queue: WorkQueue<Item>,
}

impl Default for GarbageCollector {
    fn default() -> Self {
        let types = RESOURCE_TYPES
            .iter()
            .copied()
            .filter(|r| {
                r.stored
                    && !std::ptr::eq(*r, &EVENTS)
                    && r.verbs.contains(&"watch")
                    && r.verbs.contains(&"delete")
            })
            .collect();
        GarbageCollector {
            who: super::controller_identity(NAME, "generic-garbage-collector"),
            types,
            nodes: BTreeMap::new(),
            dependents: BTreeMap::new(),
            queue: WorkQueue::default(),
        }
    }
}

fn objref(n: &Node) -> Vec<ObjRef> {
    vec![ObjRef::new(n.rt.kind, &n.namespace, &n.name, 0)]
}

impl GarbageCollector {
    fn unlink(&mut self, uid: &str, owners: &[OwnerReference]) {
        for o in owners {
            if let Some(set) = self.dependents.get_mut(&o.uid) {
                set.remove(uid);
                if set.is_empty() {
                    self.dependents.remove(&o.uid);
                }
            }
        }
    }

    /// processGraphChanges.
    fn on_change(
        &mut self,
        ctx: &mut Ctx,
        rt: &'static ResourceType,
        kind: EventType,
        obj: &Object,
    ) {
        let m = obj.meta();
        // Pods without owners (most of a large cluster) cost no allocation.
        if std::ptr::eq(rt, &PODS)
            && m.owner_references.is_empty()
            && !self.nodes.contains_key(m.uid.as_str())
            && !self.dependents.contains_key(m.uid.as_str())
        {
            return;
        }
        let uid = m.uid.clone();
        if kind == EventType::Deleted {
            let Some(node) = self.nodes.remove(&uid) else {
                // Not in the graph (a pod without owners): its dependents, if any, are dangling.
                if let Some(deps) = self.dependents.get(&uid).cloned() {
                    for d in deps {
                        self.queue.add(ctx, Item::Delete(d));
                    }
                }
                return;
            };
            self.unlink(&uid, &node.owners);
            if let Some(deps) = self.dependents.get(&uid).cloned() {
                for d in deps {
                    self.queue.add(ctx, Item::Delete(d));
                }
            }
            for o in &node.owners {
                if self
                    .nodes
                    .get(&o.uid)
                    .is_some_and(|n| n.deleting_dependents)
                {
                    self.queue.add(ctx, Item::Delete(o.uid.clone()));
                }
            }
            return;
        }
        if std::ptr::eq(rt, &PODS)
            && m.owner_references.is_empty()
            && !self.nodes.contains_key(&uid)
        {
            return;
        }
        let deleting = m.deletion_timestamp.is_some();
        let node = Node {
            rt,
            namespace: m.namespace.clone(),
            name: m.name.clone(),
            owners: m.owner_references.to_vec(),
            deleting,
            deleting_dependents: deleting && m.finalizers.iter().any(|f| f == FOREGROUND),
        };
        let old = self.nodes.insert(uid.clone(), node);
        let (old_owners, was_deleting_dependents, was_orphaning) = match &old {
            Some(o) => (o.owners.clone(), o.deleting_dependents, o.deleting),
            None => (Vec::new(), false, false),
        };
        if old_owners != *m.owner_references {
            self.unlink(&uid, &old_owners);
            for o in &m.owner_references {
                self.dependents
                    .entry(o.uid.clone())
                    .or_default()
                    .insert(uid.clone());
            }
            // A removed reference may have been what a foreground deletion waited for.
            for o in old_owners
                .iter()
                .filter(|o| !m.owner_references.iter().any(|n| n.uid == o.uid))
            {
                if self
                    .nodes
                    .get(&o.uid)
                    .is_some_and(|n| n.deleting_dependents)
                {
                    self.queue.add(ctx, Item::Delete(o.uid.clone()));
                }
            }
            // An owner not in the graph is verified (it may never have existed).
            for o in &m.owner_references {
                let absent = !self.nodes.contains_key(&o.uid);
                let waiting = self
                    .nodes
                    .get(&o.uid)
                    .is_some_and(|n| n.deleting_dependents);
                if absent || waiting {
                    self.queue.add(ctx, Item::Delete(uid.clone()));
                }
            }
        }
        if deleting && m.finalizers.iter().any(|f| f == ORPHAN) && !was_orphaning {
            self.queue.add(ctx, Item::Orphan(uid.clone()));
        }
        let dd = self.nodes.get(&uid).is_some_and(|n| n.deleting_dependents);
        if dd && !was_deleting_dependents {
            if let Some(deps) = self.dependents.get(&uid).cloned() {
                for d in deps {
                    self.queue.add(ctx, Item::Delete(d));
                }
            }
            self.queue.add(ctx, Item::Delete(uid));
        }
    }

    /// attemptToDeleteItem.
    fn attempt_to_delete(&mut self, ctx: &mut Ctx, uid: &str) {
        let Some(node) = self.nodes.get(uid) else {
            return;
        };
        if node.deleting && !node.deleting_dependents {
            return;
        }
        let (rt, ns, name) = (node.rt, node.namespace.clone(), node.name.clone());
        let who = self.who.clone();
        let Ok(latest) = ctx.client(&who).get(rt, &ns, &name) else {
            return;
        };
        let lm = latest.meta();
        if lm.uid != uid {
            return;
        }
        if lm.deletion_timestamp.is_some() && lm.finalizers.iter().any(|f| f == FOREGROUND) {
            return self.process_deleting_dependents(ctx, uid);
        }
        if lm.owner_references.is_empty() {
            return;
        }
        let (mut solid, mut dangling, mut waiting) = (Vec::new(), Vec::new(), Vec::new());
        for r in &lm.owner_references {
            let Some(ort) = resource_by_kind(&r.api_version, &r.kind) else {
                solid.push(r.clone());
                continue;
            };
            let ons = if ort.namespaced { ns.as_str() } else { "" };
            match ctx.client(&who).get(ort, ons, &r.name) {
                Err(e) if e.code() == 404 => dangling.push(r.clone()),
                Err(_) => solid.push(r.clone()),
                Ok(o) if o.meta().uid != r.uid => dangling.push(r.clone()),
                Ok(o) => {
                    let om = o.meta();
                    if om.deletion_timestamp.is_some()
                        && om.finalizers.iter().any(|f| f == FOREGROUND)
                    {
                        waiting.push(r.clone());
                    } else {
                        solid.push(r.clone());
                    }
                }
            }
        }
        let n = self.nodes.get(uid).map(objref).unwrap_or_default();
        let names = |v: &[OwnerReference]| {
            v.iter()
                .map(|r| format!("{} {}", r.kind, r.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !solid.is_empty() {
            if dangling.is_empty() && waiting.is_empty() {
                return;
            }
            let gone: Vec<&OwnerReference> = dangling.iter().chain(waiting.iter()).collect();
            let keep: Vec<OwnerReference> = lm
                .owner_references
                .iter()
                .filter(|r| !gone.iter().any(|g| g.uid == r.uid))
                .cloned()
                .collect();
            ctx.note(
                NAME,
                format!("remove owner references from {} {ns}/{name}", rt.singular),
                format!(
                    "owners {} are gone or being deleted, but {} still owns it",
                    names(
                        &dangling
                            .iter()
                            .chain(waiting.iter())
                            .cloned()
                            .collect::<Vec<_>>()
                    ),
                    names(&solid)
                ),
                n,
            );
            let _ = ctx.client(&who).patch(
                rt,
                &ns,
                &name,
                "application/merge-patch+json",
                json!({"metadata": {"ownerReferences": keep, "uid": uid}}),
            );
            return;
        }
        let has_dependents = self.dependents.get(uid).is_some_and(|d| !d.is_empty());
        let policy = if !waiting.is_empty() && has_dependents {
            "Foreground"
        } else if lm.finalizers.iter().any(|f| f == ORPHAN) {
            "Orphan"
        } else if lm.finalizers.iter().any(|f| f == FOREGROUND) {
            "Foreground"
        } else {
            "Background"
        };
        let why = if dangling.is_empty() {
            format!(
                "its owners {} are being deleted in the foreground",
                names(&waiting)
            )
        } else if waiting.is_empty() {
            format!("its owners {} no longer exist", names(&dangling))
        } else {
            format!(
                "its owners {} no longer exist and {} are being deleted in the foreground",
                names(&dangling),
                names(&waiting)
            )
        };
        ctx.note(
            NAME,
            format!("delete {} {ns}/{name} ({policy})", rt.singular),
            why,
            n,
        );
        let _ = ctx.client(&who).delete_with_options(
            rt,
            &ns,
            &name,
            json!({"kind": "DeleteOptions", "apiVersion": "v1",
                   "propagationPolicy": policy, "preconditions": {"uid": uid}}),
        );
    }

    /// processDeletingDependentsItem.
    fn process_deleting_dependents(&mut self, ctx: &mut Ctx, uid: &str) {
        let blocking: Vec<String> = self
            .dependents
            .get(uid)
            .into_iter()
            .flatten()
            .filter(|d| {
                self.nodes.get(*d).is_some_and(|n| {
                    n.owners
                        .iter()
                        .any(|o| o.uid == uid && o.block_owner_deletion == Some(true))
                })
            })
            .cloned()
            .collect();
        let Some(node) = self.nodes.get(uid) else {
            return;
        };
        let n = objref(node);
        let (rt, ns, name) = (node.rt, node.namespace.clone(), node.name.clone());
        if blocking.is_empty() {
            ctx.note(
                NAME,
                format!(
                    "remove finalizer {FOREGROUND} from {} {ns}/{name}",
                    rt.singular
                ),
                "foreground deletion: no dependent that blocks the owner's deletion is left",
                n,
            );
            self.remove_finalizer(ctx, uid, FOREGROUND);
            return;
        }
        let waiting_for: Vec<String> = blocking
            .iter()
            .filter_map(|d| {
                self.nodes
                    .get(d)
                    .map(|n| format!("{} {}", n.rt.singular, n.name))
            })
            .collect();
        ctx.note(
            NAME,
            format!("wait for dependents of {} {ns}/{name}", rt.singular),
            format!(
                "foreground deletion: {} dependent(s) with blockOwnerDeletion remain: {}",
                blocking.len(),
                waiting_for.join(", ")
            ),
            n,
        );
        for d in blocking {
            if !self.nodes.get(&d).is_some_and(|n| n.deleting_dependents) {
                self.queue.add(ctx, Item::Delete(d));
            }
        }
    }

    /// orphanDependents, then the orphan finalizer goes.
    fn attempt_to_orphan(&mut self, ctx: &mut Ctx, uid: &str) {
        let Some(node) = self.nodes.get(uid) else {
            return;
        };
        let n = objref(node);
        let (rt, ns, name) = (node.rt, node.namespace.clone(), node.name.clone());
        let deps: Vec<String> = self
            .dependents
            .get(uid)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        ctx.note(
            NAME,
            format!("orphan the dependents of {} {ns}/{name}", rt.singular),
            format!(
                "it is being deleted with the {ORPHAN} finalizer: {} dependent(s) lose their owner reference and stay",
                deps.len()
            ),
            n,
        );
        let who = self.who.clone();
        for d in deps {
            let Some(dn) = self.nodes.get(&d) else {
                continue;
            };
            let (drt, dns, dname) = (dn.rt, dn.namespace.clone(), dn.name.clone());
            let Ok(latest) = ctx.client(&who).get(drt, &dns, &dname) else {
                continue;
            };
            let keep: Vec<OwnerReference> = latest
                .meta()
                .owner_references
                .iter()
                .filter(|r| r.uid != uid)
                .cloned()
                .collect();
            if keep.len() == latest.meta().owner_references.len() {
                continue;
            }
            let _ = ctx.client(&who).patch(
                drt,
                &dns,
                &dname,
                "application/merge-patch+json",
                json!({"metadata": {"ownerReferences": keep, "uid": latest.meta().uid}}),
            );
        }
        self.remove_finalizer(ctx, uid, ORPHAN);
    }

    /// removeFinalizer: read, drop the finalizer, write (the API server deletes the
    /// object when it was the last one).
    fn remove_finalizer(&mut self, ctx: &mut Ctx, uid: &str, finalizer: &str) {
        let Some(node) = self.nodes.get(uid) else {
            return;
        };
        let (rt, ns, name) = (node.rt, node.namespace.clone(), node.name.clone());
        let who = self.who.clone();
        let Ok(latest) = ctx.client(&who).get(rt, &ns, &name) else {
            return;
        };
        if latest.meta().uid != uid || !latest.meta().finalizers.iter().any(|f| f == finalizer) {
            return;
        }
        let mut obj = (*latest).clone();
        obj.meta_mut().finalizers.retain(|f| f != finalizer);
        let _ = ctx.client(&who).update(obj);
    }
}

impl Component for GarbageCollector {
    fn name(&self) -> String {
        NAME.into()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        self.types
            .iter()
            .map(|rt| WatchSpec::new(rt, NAME))
            .collect()
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>) {
        let Some(rt) = self.types.get(watch).copied() else {
            return;
        };
        self.on_change(ctx, rt, kind, obj);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, key: u64) {
        for item in self.queue.take(key) {
            match item {
                Item::Delete(uid) => self.attempt_to_delete(ctx, &uid),
                Item::Orphan(uid) => self.attempt_to_orphan(ctx, &uid),
            }
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
