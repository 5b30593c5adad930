//! The ReplicaSet controller and the ReplicationController manager, one loop with
//! two flavours as upstream's pkg/controller/replicaset (v1.31) is (the RC manager is
//! `replicaset.NewBaseController` over ReplicationControllers).
//!
//! A sync of one owner: claim the active pods (adopt matching orphans, release owned
//! pods that no longer match), then, if the owner's expectations are satisfied and
//! it is not being deleted, create or delete pods to reach `replicas`, then write
//! the status. Creations go in slow-start batches (1, 2, 4, ... at most
//! `burstReplicas`, 500, per sync); a batch with a failure stops the rest. Pods to
//! delete are ranked as `getPodsToDelete` ranks them (unassigned before assigned,
//! Pending before Unknown before Running, not ready before ready, lower
//! pod-deletion-cost first, more co-located siblings first, ready more recently
//! first on a logarithmic scale, more restarts first, newer first on a logarithmic
//! scale).
//!
//! Expectations: after asking for N creations (or deletions) the owner is not acted
//! on again until the watch has shown them (or 5 minutes have passed), so an
//! informer that lags behind the API server does not cause double creation.
//!
//! Simplifications: requests of a batch are sent one after the other (upstream sends
//! them in parallel); the ranking's logarithm is an integer log2 of nanoseconds; a
//! pod's ready time and creation time have second precision. The loop's cache keeps
//! only the pods that concern it (those its kind controls, and orphans an owner
//! selects), so a new owner or selector lists the orphans it selects, a request
//! upstream's all-pods informer does not need. After a failed creation or deletion
//! upstream requeues the owner with exponential backoff (5ms to 1000s); here the next
//! event about the owner (its own status update among them) retries, so that a
//! cluster with a failing owner still settles.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::json;

use super::workload::{
    controller_ref, controller_uid, is_pod_active, is_pod_available, is_pod_ready, key_of,
    pod_from_template, ready_condition, Key, Recorder, WorkQueue,
};
use crate::api::core::{Pod, PodTemplateSpec};
use crate::api::labels::Selector;
use crate::api::meta::{Condition, ObjectMeta};
use crate::api::object::{ResourceType, PODS, REPLICASETS, REPLICATIONCONTROLLERS};
use crate::api::time::{Time, EPOCH_UNIX};
use crate::api::{ApiError, Object};
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::{Nanos, ObjRef, NANOS_PER_SEC};
use crate::store::EventType;

/// Upstream's `BurstReplicas`: at most this many creations or deletions per sync.
pub const BURST_REPLICAS: usize = 500;
/// `controller.SlowStartInitialBatchSize`.
pub const SLOW_START_INITIAL_BATCH_SIZE: usize = 1;
/// `controller.ExpectationsTimeout`.
pub const EXPECTATIONS_TIMEOUT: Nanos = 5 * 60 * NANOS_PER_SEC;
/// The annotation that orders pods for deletion (`controller.kubernetes.io/pod-deletion-cost`).
pub const POD_DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

/// Which owners this loop keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    ReplicaSet,
    ReplicationController,
}

impl Flavor {
    fn actor(self) -> &'static str {
        match self {
            Flavor::ReplicaSet => "replicaset-controller",
            Flavor::ReplicationController => "replication-controller",
        }
    }
    fn rt(self) -> &'static ResourceType {
        match self {
            Flavor::ReplicaSet => &REPLICASETS,
            Flavor::ReplicationController => &REPLICATIONCONTROLLERS,
        }
    }
    fn api_version(self) -> &'static str {
        match self {
            Flavor::ReplicaSet => "apps/v1",
            Flavor::ReplicationController => "v1",
        }
    }
    fn kind(self) -> &'static str {
        match self {
            Flavor::ReplicaSet => "ReplicaSet",
            Flavor::ReplicationController => "ReplicationController",
        }
    }
    /// The word in notes (`replicaset default/web`).
    fn word(self) -> &'static str {
        match self {
            Flavor::ReplicaSet => "replicaset",
            Flavor::ReplicationController => "replicationcontroller",
        }
    }
}

/// The status fields both kinds share.
#[derive(Clone, Debug, Default, PartialEq)]
struct Counts {
    replicas: i32,
    fully_labeled: i32,
    ready: i32,
    available: i32,
    observed_generation: i64,
    conditions: Vec<Condition>,
}

/// An RS or RC seen through what the loop reads.
struct OwnerView<'a> {
    meta: &'a ObjectMeta,
    replicas: i32,
    min_ready_seconds: i32,
    selector: Result<Selector, String>,
    template: Option<&'a PodTemplateSpec>,
    status: Counts,
}

fn view(obj: &Object) -> Option<OwnerView<'_>> {
    match obj {
        Object::ReplicaSet(rs) => Some(OwnerView {
            meta: &rs.metadata,
            replicas: rs.spec.replicas.unwrap_or(1),
            min_ready_seconds: rs.spec.min_ready_seconds,
            selector: match &rs.spec.selector {
                Some(s) => s.to_selector().map_err(|e| e.message().to_string()),
                None => Ok(Selector::nothing()),
            },
            template: rs.spec.template.as_ref(),
            status: Counts {
                replicas: rs.status.replicas,
                fully_labeled: rs.status.fully_labeled_replicas,
                ready: rs.status.ready_replicas,
                available: rs.status.available_replicas,
                observed_generation: rs.status.observed_generation,
                conditions: rs.status.conditions.clone(),
            },
        }),
        Object::ReplicationController(rc) => Some(OwnerView {
            meta: &rc.metadata,
            replicas: rc.spec.replicas.unwrap_or(1),
            min_ready_seconds: rc.spec.min_ready_seconds,
            selector: Ok(if rc.spec.selector.is_empty() {
                Selector::nothing()
            } else {
                Selector::from_set(&rc.spec.selector)
            }),
            template: rc.spec.template.as_ref(),
            status: Counts {
                replicas: rc.status.replicas,
                fully_labeled: rc.status.fully_labeled_replicas,
                ready: rc.status.ready_replicas,
                available: rc.status.available_replicas,
                observed_generation: rc.status.observed_generation,
                conditions: rc.status.conditions.clone(),
            },
        }),
        _ => None,
    }
}

fn with_status(obj: &Object, c: &Counts) -> Object {
    let mut o = obj.clone();
    match &mut o {
        Object::ReplicaSet(rs) => {
            let s = &mut rs.status;
            s.replicas = c.replicas;
            s.fully_labeled_replicas = c.fully_labeled;
            s.ready_replicas = c.ready;
            s.available_replicas = c.available;
            s.observed_generation = c.observed_generation;
            s.conditions = c.conditions.clone();
        }
        Object::ReplicationController(rc) => {
            let s = &mut rc.status;
            s.replicas = c.replicas;
            s.fully_labeled_replicas = c.fully_labeled;
            s.ready_replicas = c.ready;
            s.available_replicas = c.available;
            s.observed_generation = c.observed_generation;
            s.conditions = c.conditions.clone();
        }
        _ => {}
    }
    o
}

/// `UIDTrackingControllerExpectations` for one owner.
#[derive(Clone, Debug, Default)]
struct Expectations {
    add: i64,
    del: i64,
    at: Nanos,
    /// The pods whose deletion is expected (their keys).
    deleting: BTreeSet<Key>,
}

/// What an owner's own pods add up to, kept as pods come and go so that a sync of a
/// large owner does not walk all its pods (an index upstream does not need: its
/// parallel workers walk them). Counted against the selector and template labels it
/// was built with; a sync with others rebuilds it.
#[derive(Clone, Debug)]
struct Tally {
    selector: Selector,
    template: Selector,
    /// Active pods the selector matches (claimed).
    replicas: i32,
    /// Of those, the ones with every template label.
    fully_labeled: i32,
    /// Of those, the ready ones.
    ready: i32,
    /// Active pods the selector no longer matches (a sync releases them).
    strays: usize,
}

impl Tally {
    fn new(selector: Selector, template: Selector) -> Tally {
        Tally {
            selector,
            template,
            replicas: 0,
            fully_labeled: 0,
            ready: 0,
            strays: 0,
        }
    }

    /// Adds (`sign` 1) or removes (`sign` -1) one owned pod.
    fn count(&mut self, obj: &Object, sign: i32) {
        let Object::Pod(pod) = obj else {
            return;
        };
        if !is_pod_active(pod) {
            return;
        }
        let labels = &pod.metadata.labels;
        if self.selector.is_empty() || !self.selector.matches(labels) {
            self.strays = (self.strays as i64 + i64::from(sign)) as usize;
            return;
        }
        self.replicas += sign;
        if self.template.matches(labels) {
            self.fully_labeled += sign;
        }
        if is_pod_ready(pod) {
            self.ready += sign;
        }
    }
}

/// The selector `write_status` counts fully labeled pods with.
fn template_selector(v: &OwnerView) -> Selector {
    v.template
        .map(|t| Selector::from_set(&t.metadata.labels))
        .unwrap_or_else(Selector::everything)
}

/// The loop. One instance per flavour.
pub struct ReplicaSetController {
    flavor: Flavor,
    who: Identity,
    owners: BTreeMap<Key, Arc<Object>>,
    owner_by_uid: BTreeMap<String, Key>,
    pods: BTreeMap<Key, Arc<Object>>,
    /// Pods by their controller's uid, with what the deletion ranking reads of them.
    by_controller: BTreeMap<String, Owned>,
    /// Node names as small numbers, for the ranking's per-node counts.
    node_ids: BTreeMap<String, u32>,
    /// Pods without a controller, by namespace.
    orphans: BTreeMap<String, BTreeSet<String>>,
    /// What each owner's pods in `by_controller` add up to, by owner uid.
    tallies: BTreeMap<String, Tally>,
    expectations: BTreeMap<Key, Expectations>,
    queue: WorkQueue<Key>,
    recorder: Recorder,
    /// How many owners and cached pods each namespace has: a pod event in a
    /// namespace with neither is dismissed without allocating.
    owners_in: BTreeMap<String, usize>,
    pods_in: BTreeMap<String, usize>,
}

fn count(map: &mut BTreeMap<String, usize>, ns: &str, up: bool) {
    if up {
        *map.entry(ns.to_string()).or_default() += 1;
    } else if let Some(n) = map.get_mut(ns) {
        *n -= 1;
        if *n == 0 {
            map.remove(ns);
        }
    }
}

impl ReplicaSetController {
    pub fn new(flavor: Flavor) -> ReplicaSetController {
        let sa = match flavor {
            Flavor::ReplicaSet => "replicaset-controller",
            Flavor::ReplicationController => "replication-controller",
        };
        ReplicaSetController {
            flavor,
            who: super::controller_identity(flavor.actor(), sa),
            owners: BTreeMap::new(),
            owner_by_uid: BTreeMap::new(),
            pods: BTreeMap::new(),
            by_controller: BTreeMap::new(),
            node_ids: BTreeMap::new(),
            orphans: BTreeMap::new(),
            tallies: BTreeMap::new(),
            expectations: BTreeMap::new(),
            queue: WorkQueue::default(),
            recorder: Recorder::default(),
            owners_in: BTreeMap::new(),
            pods_in: BTreeMap::new(),
        }
    }

    fn satisfied(&self, key: &Key, now: Nanos) -> bool {
        match self.expectations.get(key) {
            None => true,
            Some(e) => {
                (e.add <= 0 && e.del <= 0) || now.saturating_sub(e.at) > EXPECTATIONS_TIMEOUT
            }
        }
    }

    fn creation_observed(&mut self, key: &Key) {
        if let Some(e) = self.expectations.get_mut(key) {
            e.add -= 1;
        }
    }

    fn deletion_observed(&mut self, key: &Key, pod: &Key) {
        if let Some(e) = self.expectations.get_mut(key) {
            if e.deleting.remove(pod) {
                e.del -= 1;
            }
        }
    }

    /// The owner a controller reference points at, if it is one of ours.
    fn resolve(&self, m: &ObjectMeta) -> Option<Key> {
        let r = m.controller_ref()?;
        if r.kind != self.flavor.kind() {
            return None;
        }
        let key = self.owner_by_uid.get(&r.uid)?;
        (key.0 == m.namespace).then(|| key.clone())
    }

    /// Owners in the pod's namespace whose selector matches it (`getPodReplicaSets`).
    fn matching_owners(&self, pod: &Pod) -> Vec<Key> {
        if !self.owners_in.contains_key(pod.metadata.namespace.as_str()) {
            return Vec::new();
        }
        let ns = pod.metadata.namespace.clone();
        self.owners
            .range((ns.clone(), String::new())..)
            .take_while(|(k, _)| k.0 == ns)
            .filter(|(_, o)| {
                view(o).is_some_and(|v| {
                    v.selector
                        .as_ref()
                        .is_ok_and(|s| !s.is_empty() && s.matches(&pod.metadata.labels))
                })
            })
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn index_pod(&mut self, obj: &Arc<Object>) {
        let m = obj.meta();
        let key = key_of(m);
        self.unindex_pod(&key);
        match controller_uid(m) {
            Some(uid) => {
                if let Some(t) = self.tallies.get_mut(uid) {
                    t.count(obj, 1);
                }
                if let Object::Pod(pod) = obj.as_ref() {
                    let node = match self.node_ids.get(pod.spec.node_name.as_str()) {
                        Some(&id) => id,
                        None => {
                            let id = self.node_ids.len() as u32;
                            self.node_ids.insert(pod.spec.node_name.clone(), id);
                            id
                        }
                    };
                    self.by_controller
                        .entry(uid.to_string())
                        .or_default()
                        .insert(key.clone(), obj.clone(), Facts::of(pod, node));
                }
            }
            None => {
                self.orphans
                    .entry(key.0.clone())
                    .or_default()
                    .insert(key.1.clone());
            }
        }
        count(&mut self.pods_in, &key.0, true);
        self.pods.insert(key, obj.clone());
    }

    fn unindex_pod(&mut self, key: &Key) {
        let Some(old) = self.pods.remove(key) else {
            return;
        };
        count(&mut self.pods_in, &key.0, false);
        match controller_uid(old.meta()) {
            Some(uid) => {
                if let Some(t) = self.tallies.get_mut(uid) {
                    t.count(&old, -1);
                }
                if let Some(owned) = self.by_controller.get_mut(uid) {
                    owned.remove(key);
                    if owned.pods.is_empty() {
                        self.by_controller.remove(uid);
                    }
                }
            }
            None => {
                if let Some(set) = self.orphans.get_mut(&key.0) {
                    set.remove(&key.1);
                    if set.is_empty() {
                        self.orphans.remove(&key.0);
                    }
                }
            }
        }
    }

    fn on_owner(&mut self, ctx: &mut Ctx, kind: EventType, obj: &Arc<Object>) {
        let m = obj.meta();
        let key = key_of(m);
        if kind == EventType::Deleted {
            if self.owners.remove(&key).is_some() {
                count(&mut self.owners_in, &key.0, false);
            }
            self.owner_by_uid.remove(&m.uid);
            self.tallies.remove(&m.uid);
            self.expectations.remove(&key);
            return;
        }
        self.owner_by_uid.insert(m.uid.clone(), key.clone());
        let old = self.owners.insert(key.clone(), obj.clone());
        if old.is_none() {
            count(&mut self.owners_in, &key.0, true);
        }
        let selector = |o: &Object| view(o).map(|v| v.selector.ok().map(|s| s.to_string()));
        if old.as_deref().map(selector) != Some(selector(obj)) {
            self.seed_orphans(ctx, obj);
        }
        self.queue.add(ctx, key);
    }

    /// The cache keeps only pods that concern this loop (those its kind controls, and
    /// orphans some owner selects), so that a cluster of unowned pods costs nothing.
    /// A new owner, or a new selector, lists the orphans it selects (where upstream's
    /// informer already holds every pod).
    fn seed_orphans(&mut self, ctx: &mut Ctx, obj: &Object) {
        let Some(Ok(sel)) = view(obj).map(|v| v.selector) else {
            return;
        };
        if sel.is_empty() || sel.is_nothing() {
            return;
        }
        let who = self.who.clone();
        let Ok(pods) = ctx
            .client(&who)
            .list(&PODS, obj.namespace(), &sel.to_string(), "")
        else {
            return;
        };
        for p in pods {
            if p.meta().controller_ref().is_none() && !self.pods.contains_key(&key_of(p.meta())) {
                self.index_pod(&p);
            }
        }
    }

    /// Whether the cache keeps this pod.
    fn relevant(&self, pod: &Pod) -> bool {
        match pod.metadata.controller_ref() {
            Some(r) => r.kind == self.flavor.kind(),
            None => !self.matching_owners(pod).is_empty(),
        }
    }

    fn on_pod(&mut self, ctx: &mut Ctx, kind: EventType, obj: &Arc<Object>) {
        let Object::Pod(pod) = obj.as_ref() else {
            return;
        };
        let ns = pod.metadata.namespace.as_str();
        let ours = pod
            .metadata
            .controller_ref()
            .is_some_and(|r| r.kind == self.flavor.kind());
        if !ours && !self.owners_in.contains_key(ns) && !self.pods_in.contains_key(ns) {
            return;
        }
        let key = key_of(&pod.metadata);
        let old = self.pods.get(&key).cloned();
        let relevant = kind != EventType::Deleted && self.relevant(pod);
        if old.is_none() && !relevant {
            return;
        }
        match kind {
            EventType::Deleted => {
                self.unindex_pod(&key);
                self.pod_deleted(ctx, pod);
            }
            EventType::Modified if old.is_none() => {
                // A pod that now concerns this loop (it came to match a selector).
                self.index_pod(obj);
                if let Some(owner) = self.resolve(&pod.metadata) {
                    self.queue.add(ctx, owner);
                } else if controller_uid(&pod.metadata).is_none() {
                    for owner in self.matching_owners(pod) {
                        self.queue.add(ctx, owner);
                    }
                }
            }
            EventType::Added if old.is_none() => {
                self.index_pod(obj);
                if pod.metadata.deletion_timestamp.is_some() {
                    // A pod that shows up already being deleted counts as a deletion.
                    self.pod_deleted(ctx, pod);
                    return;
                }
                if let Some(owner) = self.resolve(&pod.metadata) {
                    self.creation_observed(&owner);
                    self.queue.add(ctx, owner);
                    return;
                }
                if controller_uid(&pod.metadata).is_none() {
                    for owner in self.matching_owners(pod) {
                        self.queue.add(ctx, owner);
                    }
                }
            }
            _ => {
                if relevant {
                    self.index_pod(obj);
                } else {
                    self.unindex_pod(&key);
                }
                let Some(Object::Pod(old_pod)) = old.as_deref() else {
                    return;
                };
                if old_pod.metadata.resource_version == pod.metadata.resource_version {
                    return;
                }
                let label_changed = old_pod.metadata.labels != pod.metadata.labels;
                if pod.metadata.deletion_timestamp.is_some() {
                    self.pod_deleted(ctx, pod);
                    if label_changed {
                        self.pod_deleted(ctx, old_pod);
                    }
                    return;
                }
                let cur_ref = pod.metadata.controller_ref();
                let old_ref = old_pod.metadata.controller_ref();
                let ref_changed = cur_ref != old_ref;
                if ref_changed && old_ref.is_some() {
                    if let Some(owner) = self.resolve(&old_pod.metadata) {
                        self.queue.add(ctx, owner);
                    }
                }
                if cur_ref.is_some() {
                    if let Some(owner) = self.resolve(&pod.metadata) {
                        let min_ready = self
                            .owners
                            .get(&owner)
                            .and_then(|o| view(o).map(|v| v.min_ready_seconds))
                            .unwrap_or(0);
                        self.queue.add(ctx, owner.clone());
                        if !is_pod_ready(old_pod) && is_pod_ready(pod) && min_ready > 0 {
                            // Checked again once the pod may have become available (plus a
                            // second, as upstream adds against clock skew).
                            self.queue.add_after(
                                ctx,
                                owner,
                                (min_ready as u64 + 1) * NANOS_PER_SEC,
                            );
                        }
                    }
                    return;
                }
                if label_changed || ref_changed {
                    for owner in self.matching_owners(pod) {
                        self.queue.add(ctx, owner);
                    }
                }
            }
        }
    }

    fn pod_deleted(&mut self, ctx: &mut Ctx, pod: &Pod) {
        if let Some(owner) = self.resolve(&pod.metadata) {
            self.deletion_observed(&owner, &key_of(&pod.metadata));
            self.queue.add(ctx, owner);
        }
    }

    /// syncReplicaSet.
    fn sync(&mut self, ctx: &mut Ctx, key: &Key) {
        let Some(obj) = self.owners.get(key).cloned() else {
            self.expectations.remove(key);
            return;
        };
        let Some(v) = view(&obj) else { return };
        let actor = self.flavor.actor();
        let word = self.flavor.word();
        let rv = v.meta.resource_version.parse().unwrap_or(0);
        let kind_name = self.flavor.kind();
        let objref = || vec![ObjRef::new(kind_name, &key.0, &key.1, rv)];
        let now = ctx.now();
        let needs_sync = self.satisfied(key, now);
        let selector = match &v.selector {
            Ok(s) => s.clone(),
            Err(e) => {
                ctx.note(
                    actor,
                    format!("skip {word} {}/{}", key.0, key.1),
                    format!("its selector is invalid: {e}"),
                    objref(),
                );
                return;
            }
        };
        let deleting = v.meta.deletion_timestamp.is_some();
        let uid = v.meta.uid.clone();
        let template = template_selector(&v);
        // Without orphans to adopt and owned pods to release (or when the owner is
        // being deleted and does neither), claiming keeps exactly the active owned
        // pods the selector matches, which the tally counts.
        let tally = self.tally(&uid, &selector, &template).clone();
        let quiet = deleting || (tally.strays == 0 && !self.orphans.contains_key(&key.0));
        if quiet {
            let mut manage_err: Option<ApiError> = None;
            if needs_sync && !deleting {
                manage_err = self.manage(ctx, &obj, &v, tally.replicas as usize, None, key);
            } else if !needs_sync {
                self.note_waiting(ctx, key, objref());
            }
            let available = if v.min_ready_seconds > 0 {
                self.claimed_owned(&uid, &selector)
                    .iter()
                    .filter(|p| match p.as_ref() {
                        Object::Pod(pod) => is_pod_available(pod, v.min_ready_seconds, now),
                        _ => false,
                    })
                    .count() as i32
            } else {
                tally.ready
            };
            let counted = (tally.replicas, tally.fully_labeled, tally.ready, available);
            self.write_status(ctx, &obj, &v, counted, manage_err.as_ref(), now);
            return;
        }
        // Candidates: the active pods we own and the active orphans of the namespace.
        let mut candidates: Vec<Key> = self
            .by_controller
            .get(&uid)
            .map(|o| o.pods.keys().cloned().collect())
            .unwrap_or_default();
        if let Some(names) = self.orphans.get(&key.0) {
            candidates.extend(names.iter().map(|n| (key.0.clone(), n.clone())));
        }
        candidates.sort();
        let mut claimed: Vec<Arc<Object>> = Vec::new();
        let mut adopt_ok: Option<Result<(), ApiError>> = None;
        for pk in candidates {
            let Some(p) = self.pods.get(&pk).cloned() else {
                continue;
            };
            let Object::Pod(pod) = p.as_ref() else {
                continue;
            };
            if !is_pod_active(pod) {
                continue;
            }
            let matches = !selector.is_empty() && selector.matches(&pod.metadata.labels);
            let ours = controller_uid(&pod.metadata) == Some(uid.as_str());
            if ours {
                if matches {
                    claimed.push(p.clone());
                    continue;
                }
                if deleting {
                    continue;
                }
                if self.can_adopt(ctx, &obj, &mut adopt_ok).is_err() {
                    continue;
                }
                self.release(ctx, pod, &uid, &key.1);
                continue;
            }
            if deleting || !matches || pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            if self.can_adopt(ctx, &obj, &mut adopt_ok).is_err() {
                continue;
            }
            if let Some(adopted) = self.adopt(ctx, pod, v.meta) {
                claimed.push(adopted);
            }
        }
        let mut manage_err: Option<ApiError> = None;
        if needs_sync && !deleting {
            manage_err = self.manage(ctx, &obj, &v, claimed.len(), Some(&claimed), key);
        } else if !needs_sync {
            self.note_waiting(ctx, key, objref());
        }
        let counted = count_claimed(&claimed, &template, v.min_ready_seconds, now);
        self.write_status(ctx, &obj, &v, counted, manage_err.as_ref(), now);
    }

    fn note_waiting(&self, ctx: &mut Ctx, key: &Key, objects: Vec<ObjRef>) {
        let e = self.expectations.get(key).cloned().unwrap_or_default();
        ctx.note(
            self.flavor.actor(),
            format!("wait for {} {}/{}", self.flavor.word(), key.0, key.1),
            format!(
                "expectations not yet met: {} creation(s) and {} deletion(s) not yet seen in the watch; no pods are created or deleted until they are (or 5m pass)",
                e.add.max(0),
                e.del.max(0)
            ),
            objects,
        );
    }

    /// The owner's tally, rebuilt from its pods if it was counted against another
    /// selector or template (or never).
    fn tally(&mut self, uid: &str, selector: &Selector, template: &Selector) -> &Tally {
        let fresh = self
            .tallies
            .get(uid)
            .is_some_and(|t| &t.selector == selector && &t.template == template);
        if !fresh {
            let mut t = Tally::new(selector.clone(), template.clone());
            for (p, _) in self
                .by_controller
                .get(uid)
                .into_iter()
                .flat_map(|o| o.pods.values())
            {
                t.count(p, 1);
            }
            self.tallies.insert(uid.to_string(), t);
        }
        &self.tallies[uid]
    }

    /// The active owned pods the selector matches, in key order: what claiming keeps
    /// when there is nothing to adopt or release.
    fn claimed_owned(&self, uid: &str, selector: &Selector) -> Vec<Arc<Object>> {
        self.by_controller
            .get(uid)
            .into_iter()
            .flat_map(|o| o.pods.values())
            .map(|(p, _)| p)
            .filter(|p| match p.as_ref() {
                Object::Pod(pod) => {
                    is_pod_active(pod)
                        && !selector.is_empty()
                        && selector.matches(&pod.metadata.labels)
                }
                _ => false,
            })
            .cloned()
            .collect()
    }

    /// `RecheckDeletionTimestamp`: before the first adoption or release, a fresh read
    /// of the owner must show the same uid and no deletion.
    fn can_adopt(
        &mut self,
        ctx: &mut Ctx,
        obj: &Object,
        memo: &mut Option<Result<(), ApiError>>,
    ) -> Result<(), ApiError> {
        if let Some(r) = memo {
            return r.clone();
        }
        let m = obj.meta();
        let who = self.who.clone();
        let r = match ctx
            .client(&who)
            .get(self.flavor.rt(), &m.namespace, &m.name)
        {
            Ok(fresh) if fresh.meta().uid != m.uid => Err(ApiError::internal(format!(
                "original {}/{} is gone: got uid {}, wanted {}",
                m.namespace,
                m.name,
                fresh.meta().uid,
                m.uid
            ))),
            Ok(fresh) if fresh.meta().deletion_timestamp.is_some() => {
                Err(ApiError::internal(format!(
                    "{}/{} has just been deleted at {}",
                    m.namespace,
                    m.name,
                    fresh
                        .meta()
                        .deletion_timestamp
                        .map(Time::to_rfc3339)
                        .unwrap_or_default()
                )))
            }
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        };
        *memo = Some(r.clone());
        r
    }

    /// Adopts an orphan: a patch that adds our controller reference (with the pod's
    /// uid as precondition).
    fn adopt(&mut self, ctx: &mut Ctx, pod: &Pod, owner: &ObjectMeta) -> Option<Arc<Object>> {
        let cref = controller_ref(self.flavor.api_version(), self.flavor.kind(), owner);
        let mut refs = pod.metadata.owner_references.clone();
        refs.push(cref);
        ctx.note(
            self.flavor.actor(),
            format!(
                "adopt pod {}/{}",
                pod.metadata.namespace, pod.metadata.name
            ),
            format!(
                "the pod has no controller and matches the selector of {} {}, which takes it as its own",
                self.flavor.word(),
                owner.name
            ),
            vec![ObjRef::new("Pod", &pod.metadata.namespace, &pod.metadata.name, 0)],
        );
        let who = self.who.clone();
        let patch = json!({"metadata": {"ownerReferences": refs, "uid": pod.metadata.uid}});
        ctx.client(&who)
            .patch(
                &PODS,
                &pod.metadata.namespace,
                &pod.metadata.name,
                "application/merge-patch+json",
                patch,
            )
            .ok()
    }

    /// Releases an owned pod that no longer matches the selector: a patch that drops
    /// our owner reference.
    fn release(&mut self, ctx: &mut Ctx, pod: &Pod, uid: &str, owner_name: &str) {
        let refs: Vec<_> = pod
            .metadata
            .owner_references
            .iter()
            .filter(|r| r.uid != uid)
            .cloned()
            .collect();
        ctx.note(
            self.flavor.actor(),
            format!(
                "release pod {}/{}",
                pod.metadata.namespace, pod.metadata.name
            ),
            format!(
                "its labels no longer match the selector of {} {owner_name}, so it is orphaned (its owner reference removed)",
                self.flavor.word()
            ),
            vec![ObjRef::new("Pod", &pod.metadata.namespace, &pod.metadata.name, 0)],
        );
        let who = self.who.clone();
        let patch = json!({"metadata": {"ownerReferences": refs, "uid": pod.metadata.uid}});
        let _ = ctx.client(&who).patch(
            &PODS,
            &pod.metadata.namespace,
            &pod.metadata.name,
            "application/merge-patch+json",
            patch,
        );
    }

    /// manageReplicas: create or delete to reach `replicas`.
    fn manage(
        &mut self,
        ctx: &mut Ctx,
        obj: &Object,
        v: &OwnerView,
        active: usize,
        pods: Option<&[Arc<Object>]>,
        key: &Key,
    ) -> Option<ApiError> {
        let actor = self.flavor.actor();
        let word = self.flavor.word();
        let rv = v.meta.resource_version.parse().unwrap_or(0);
        let objref = vec![ObjRef::new(self.flavor.kind(), &key.0, &key.1, rv)];
        let diff = active as i64 - i64::from(v.replicas);
        let now = ctx.now();
        if diff == 0 {
            return None;
        }
        let who = self.who.clone();
        if diff < 0 {
            let want = ((-diff) as usize).min(BURST_REPLICAS);
            let template = v.template?;
            self.expectations.insert(
                key.clone(),
                Expectations {
                    add: want as i64,
                    del: 0,
                    at: now,
                    deleting: BTreeSet::new(),
                },
            );
            ctx.note(
                actor,
                format!("scale up {word} {}/{}", key.0, key.1),
                format!(
                    "{} active pod(s), {} wanted: creating {want} in slow-start batches of 1, 2, 4, ... (at most {BURST_REPLICAS} per sync); expecting {want} creation(s)",
                    active,
                    v.replicas
                ),
                objref.clone(),
            );
            let cref = controller_ref(self.flavor.api_version(), self.flavor.kind(), v.meta);
            let mut remaining = want;
            let mut batch = remaining.min(SLOW_START_INITIAL_BATCH_SIZE);
            let mut successes = 0usize;
            let mut first_err: Option<ApiError> = None;
            while batch > 0 {
                let mut failed = false;
                for _ in 0..batch {
                    let pod = pod_from_template(template, v.meta, cref.clone());
                    match ctx.client(&who).create(Object::from(pod)) {
                        Ok(created) => {
                            successes += 1;
                            let msg = format!("Created pod: {}", created.name());
                            self.event(ctx, v.meta, "Normal", "SuccessfulCreate", &msg);
                        }
                        Err(e) => {
                            failed = true;
                            let msg = format!("Error creating: {}", e.message());
                            self.event(ctx, v.meta, "Warning", "FailedCreate", &msg);
                            first_err.get_or_insert(e);
                        }
                    }
                }
                if failed {
                    break;
                }
                remaining -= batch;
                batch = (2 * batch).min(remaining);
            }
            let skipped = want - successes;
            if skipped > 0 {
                if let Some(e) = self.expectations.get_mut(key) {
                    e.add -= skipped as i64;
                }
                ctx.note(
                    actor,
                    format!("stop scaling up {word} {}/{}", key.0, key.1),
                    format!("a creation failed: {skipped} pod(s) not created and no longer expected; the next sync tries again"),
                    objref,
                );
            }
            return first_err;
        }
        let n = (diff as usize).min(BURST_REPLICAS);
        let on_node = self.related_on_node(obj);
        let colocated = |node: u32| on_node.get(node as usize).map_or(0, |&c| c as usize);
        let victims = match pods {
            Some(pods) => {
                // Claimed by this sync (adopted pods among them): read afresh. A node
                // no cached pod of ours has been on counts no siblings.
                let facts: Vec<(&Arc<Object>, Facts)> = pods
                    .iter()
                    .filter_map(|p| match p.as_ref() {
                        Object::Pod(pod) => {
                            let node = self.node_ids.get(pod.spec.node_name.as_str());
                            Some((p, Facts::of(pod, node.copied().unwrap_or(u32::MAX))))
                        }
                        _ => None,
                    })
                    .collect();
                let cands = facts.iter().map(|(p, f)| (*p, f));
                rank_victims(cands, facts.len(), &colocated, n, now)
            }
            None => {
                // The tally counted no strays, so the claimed pods are exactly the
                // active owned ones, ranked from the facts cached with them.
                let cands = self
                    .by_controller
                    .get(&v.meta.uid)
                    .into_iter()
                    .flat_map(|o| o.pods.values())
                    .filter(|(_, f)| f.active)
                    .map(|(p, f)| (p, f));
                rank_victims(cands, active, &colocated, n, now)
            }
        };
        let keys: BTreeSet<Key> = victims.iter().map(|p| key_of(p.meta())).collect();
        self.expectations.insert(
            key.clone(),
            Expectations {
                add: 0,
                del: keys.len() as i64,
                at: now,
                deleting: keys,
            },
        );
        ctx.note(
            actor,
            format!("scale down {word} {}/{}", key.0, key.1),
            format!(
                "{} active pod(s), {} wanted: deleting {n}, ranked unassigned before assigned, Pending before Running, not ready before ready, then by deletion cost, co-located siblings, ready time, restarts and age: {}",
                active,
                v.replicas,
                victims.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
            ),
            objref,
        );
        let mut first_err = None;
        for p in victims {
            let pk = key_of(p.meta());
            match ctx.client(&who).delete(&PODS, &pk.0, &pk.1, None) {
                Ok(_) => {
                    let msg = format!("Deleted pod: {}", pk.1);
                    self.event(ctx, v.meta, "Normal", "SuccessfulDelete", &msg);
                }
                Err(e) => {
                    self.deletion_observed(key, &pk);
                    if e.code() != 404 {
                        let msg = format!("Error deleting: {}", e.message());
                        self.event(ctx, v.meta, "Warning", "FailedDelete", &msg);
                        first_err.get_or_insert(e);
                    }
                }
            }
        }
        first_err
    }

    /// What `getPodsRankedByRelatedPodsOnSameNode` counts: the active pods, per node
    /// id, of every owner with the same controller (`getIndirectlyRelatedPods`: the
    /// ReplicaSets of one Deployment), or of this owner alone. Summed from counts each
    /// owner keeps, so a sync does not walk the pods.
    fn related_on_node(&self, obj: &Object) -> Vec<u32> {
        let m = obj.meta();
        let mut out = vec![0u32; self.node_ids.len()];
        let mut add = |uid: &str| {
            for (&node, &c) in self
                .by_controller
                .get(uid)
                .map(|o| &o.active_on_node)
                .into_iter()
                .flatten()
            {
                out[node as usize] += c;
            }
        };
        match controller_uid(m) {
            Some(cuid) => self
                .owners
                .range((m.namespace.clone(), String::new())..)
                .take_while(|(k, _)| k.0 == m.namespace)
                .filter(|(_, o)| controller_uid(o.meta()) == Some(cuid))
                .for_each(|(_, o)| add(&o.meta().uid)),
            None => add(&m.uid),
        }
        out
    }

    fn event(&mut self, ctx: &mut Ctx, m: &ObjectMeta, kind: &str, reason: &str, msg: &str) {
        self.recorder.record(
            ctx,
            &self.who,
            self.flavor.actor(),
            self.flavor.api_version(),
            self.flavor.kind(),
            m,
            kind,
            reason,
            msg,
        );
    }

    /// calculateStatus and updateReplicaSetStatus.
    fn write_status(
        &mut self,
        ctx: &mut Ctx,
        obj: &Object,
        v: &OwnerView,
        (replicas, fully, ready, available): (i32, i32, i32, i32),
        err: Option<&ApiError>,
        now: Nanos,
    ) {
        let mut s = v.status.clone();
        let has_failure = s.conditions.iter().any(|c| c.kind == "ReplicaFailure");
        match err {
            Some(e) if !has_failure => {
                let diff = i64::from(replicas) - i64::from(v.replicas);
                let reason = if diff < 0 {
                    "FailedCreate"
                } else if diff > 0 {
                    "FailedDelete"
                } else {
                    ""
                };
                s.conditions.push(Condition {
                    kind: "ReplicaFailure".into(),
                    status: "True".into(),
                    last_transition_time: Some(Time::from_virtual_nanos(now)),
                    reason: reason.into(),
                    message: e.message().to_string(),
                    ..Default::default()
                });
            }
            None if has_failure => s.conditions.retain(|c| c.kind != "ReplicaFailure"),
            _ => {}
        }
        s.replicas = replicas;
        s.fully_labeled = fully;
        s.ready = ready;
        s.available = available;
        let generation = v.meta.generation;
        if s == v.status && s.observed_generation == generation {
            return self.resync_for_min_ready(ctx, v, &s, err);
        }
        s.observed_generation = generation;
        let who = self.who.clone();
        let updated = with_status(obj, &s);
        if let Err(e) = ctx.client(&who).update_status(updated) {
            if e.code() == 409 {
                // One retry on a fresh copy, as updateReplicaSetStatus does.
                let rt = self.flavor.rt();
                if let Ok(fresh) = ctx.client(&who).get(rt, &v.meta.namespace, &v.meta.name) {
                    if fresh.meta().uid == v.meta.uid {
                        let _ = ctx.client(&who).update_status(with_status(&fresh, &s));
                    }
                }
            }
        }
        self.resync_for_min_ready(ctx, v, &s, err);
    }

    fn resync_for_min_ready(
        &mut self,
        ctx: &mut Ctx,
        v: &OwnerView,
        s: &Counts,
        err: Option<&ApiError>,
    ) {
        if err.is_none()
            && v.min_ready_seconds > 0
            && s.ready == v.replicas
            && s.available != v.replicas
        {
            self.queue.add_after(
                ctx,
                key_of(v.meta),
                v.min_ready_seconds as u64 * NANOS_PER_SEC,
            );
        }
    }
}

/// `calculateStatus`'s counts over the claimed pods: (replicas, fully labeled, ready,
/// available).
fn count_claimed(
    pods: &[Arc<Object>],
    template: &Selector,
    min_ready_seconds: i32,
    now: Nanos,
) -> (i32, i32, i32, i32) {
    let (mut fully, mut ready, mut available) = (0, 0, 0);
    for p in pods {
        let Object::Pod(pod) = p.as_ref() else {
            continue;
        };
        if template.matches(&pod.metadata.labels) {
            fully += 1;
        }
        if is_pod_ready(pod) {
            ready += 1;
            if is_pod_available(pod, min_ready_seconds, now) {
                available += 1;
            }
        }
    }
    (pods.len() as i32, fully, ready, available)
}

/// The pods to delete when scaling down by `n` (`getPodsToDelete`), ranking `pods`
/// against the active pods of `related` on the same node.
pub fn pods_to_delete(
    pods: &[Arc<Object>],
    related: &[Arc<Object>],
    n: usize,
    now: Nanos,
) -> Vec<Arc<Object>> {
    let mut ids: BTreeMap<&str, u32> = BTreeMap::new();
    let mut id = |name| {
        let next = ids.len() as u32;
        *ids.entry(name).or_insert(next)
    };
    let mut on_node: Vec<u32> = Vec::new();
    for p in related {
        if let Object::Pod(pod) = p.as_ref() {
            if is_pod_active(pod) {
                let i = id(pod.spec.node_name.as_str()) as usize;
                if on_node.len() <= i {
                    on_node.resize(i + 1, 0);
                }
                on_node[i] += 1;
            }
        }
    }
    let facts: Vec<(&Arc<Object>, Facts)> = pods
        .iter()
        .filter_map(|p| match p.as_ref() {
            Object::Pod(pod) => Some((p, Facts::of(pod, id(pod.spec.node_name.as_str())))),
            _ => None,
        })
        .collect();
    let colocated = |node: u32| on_node.get(node as usize).map_or(0, |&c| c as usize);
    let cands = facts.iter().map(|(p, f)| (*p, f));
    rank_victims(cands, facts.len(), &colocated, n, now)
}

/// The first `n` of `total` candidates in deletion order; `colocated` gives the
/// active related pods on a node.
fn rank_victims<'a>(
    cands: impl Iterator<Item = (&'a Arc<Object>, &'a Facts)>,
    total: usize,
    colocated: &dyn Fn(u32) -> usize,
    n: usize,
    now: Nanos,
) -> Vec<Arc<Object>> {
    let ranked = cands.map(|(p, f)| (Rank::of(f, p, colocated(f.node), now), p));
    // Upstream's ranking is a Less function that need not be a total order (its
    // logarithmic age buckets, co-location counts and deletion costs can tie
    // intransitively); Go's sort accepts that, Rust's `sort_by` may panic on it.
    // A merge sort only asks "does b go strictly before a?", so any Less works.
    let before = |a: &(Rank, &Arc<Object>), b: &(Rank, &Arc<Object>)| deletes_first(&a.0, &b.0);
    let ranked = if n >= total {
        // Every pod goes: no need to rank them.
        ranked.collect()
    } else if n.saturating_mul(64) < total {
        // A rolling update scales the old set down a few pods at a time: keep
        // only the best `n` instead of sorting every pod each time.
        first_n(ranked, n, &before)
    } else {
        merge_sort(ranked.collect(), &before)
    };
    ranked.into_iter().take(n).map(|(_, p)| p.clone()).collect()
}

/// A stable merge sort by a "goes strictly before" predicate that may be inconsistent:
/// it never panics, and with a consistent predicate it sorts as `sort_by` does.
fn merge_sort<T>(mut v: Vec<T>, before: &dyn Fn(&T, &T) -> bool) -> Vec<T> {
    if v.len() <= 1 {
        return v;
    }
    let right = v.split_off(v.len() / 2);
    let (left, right) = (merge_sort(v, before), merge_sort(right, before));
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut l, mut r) = (left.into_iter().peekable(), right.into_iter().peekable());
    while let (Some(a), Some(b)) = (l.peek(), r.peek()) {
        // Take from the right only when it goes strictly first: ties keep their order.
        let next = if before(b, a) { r.next() } else { l.next() };
        out.extend(next);
    }
    out.extend(l);
    out.extend(r);
    out
}

/// The first `n` of a stable sort by `before`, without sorting the rest: each item
/// goes after every kept item it does not strictly precede (as a stable sort puts
/// it), and the buffer never grows past `n`. With a consistent `before` this is the
/// merge sort's prefix; with an inconsistent one it still never panics.
fn first_n<T>(v: impl IntoIterator<Item = T>, n: usize, before: &dyn Fn(&T, &T) -> bool) -> Vec<T> {
    let mut best: Vec<T> = Vec::with_capacity(n + 1);
    if n == 0 {
        return best;
    }
    for x in v {
        if best.len() == n && best.last().is_none_or(|last| !before(&x, last)) {
            continue;
        }
        let at = best.partition_point(|e| !before(&x, e));
        best.insert(at, x);
        best.truncate(n);
    }
    best
}

fn phase_ordinal(phase: &str) -> u8 {
    match phase {
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    }
}

fn deletion_cost(pod: &Pod) -> i32 {
    pod.metadata
        .annotations
        .get(POD_DELETION_COST)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn max_restarts(pod: &Pod) -> i32 {
    pod.status
        .container_statuses
        .iter()
        .map(|c| c.restart_count)
        .max()
        .unwrap_or(0)
}

/// `logarithmicRankDiff`: the difference of floor(log2(age in nanoseconds)).
fn log_rank(t: Time, now: Nanos) -> i64 {
    let at = (t.0 - EPOCH_UNIX) as i128 * NANOS_PER_SEC as i128;
    let d = now as i128 - at;
    if d > 0 {
        127 - i64::from((d as u128).leading_zeros())
    } else {
        -1
    }
}

/// What the deletion ranking reads of a pod that depends neither on the moment nor
/// on its siblings: read once when the pod is cached, not on every scale-down.
#[derive(Clone, Debug)]
struct Facts {
    active: bool,
    unassigned: bool,
    phase: u8,
    ready: bool,
    cost: i32,
    /// The node's id in the loop's table of node names.
    node: u32,
    /// The Ready condition's transition time, when ready.
    ready_at: Option<Time>,
    restarts: i32,
    created: Option<Time>,
    /// The uid's first 16 bytes, big-endian: orders as the uid does unless equal.
    uid_prefix: u128,
}

/// The first 16 bytes of a string as a number that orders as they do (zero-padded).
fn prefix_key(s: &str) -> u128 {
    let mut b = [0u8; 16];
    for (d, c) in b.iter_mut().zip(s.bytes()) {
        *d = c;
    }
    u128::from_be_bytes(b)
}

impl Facts {
    fn of(pod: &Pod, node: u32) -> Facts {
        let ready = is_pod_ready(pod);
        Facts {
            active: is_pod_active(pod),
            unassigned: pod.spec.node_name.is_empty(),
            phase: phase_ordinal(&pod.status.phase),
            ready,
            cost: deletion_cost(pod),
            node,
            ready_at: if ready {
                ready_condition(pod).and_then(|c| c.last_transition_time)
            } else {
                None
            },
            restarts: max_restarts(pod),
            created: pod.metadata.creation_timestamp,
            uid_prefix: prefix_key(&pod.metadata.uid),
        }
    }
}

/// An owner's cached pods, and how many of them are active on each node.
#[derive(Default)]
struct Owned {
    pods: BTreeMap<Key, (Arc<Object>, Facts)>,
    active_on_node: BTreeMap<u32, u32>,
}

impl Owned {
    fn insert(&mut self, key: Key, pod: Arc<Object>, facts: Facts) {
        if facts.active {
            *self.active_on_node.entry(facts.node).or_default() += 1;
        }
        if let Some((_, old)) = self.pods.insert(key, (pod, facts)) {
            self.uncount(&old);
        }
    }

    fn remove(&mut self, key: &Key) {
        if let Some((_, old)) = self.pods.remove(key) {
            self.uncount(&old);
        }
    }

    fn uncount(&mut self, f: &Facts) {
        if !f.active {
            return;
        }
        if let Some(c) = self.active_on_node.get_mut(&f.node) {
            *c -= 1;
            if *c == 0 {
                self.active_on_node.remove(&f.node);
            }
        }
    }
}

/// What `ActivePodsWithRanks.Less` compares, computed once per ranking rather than
/// once per comparison.
struct Rank<'a> {
    unassigned: bool,
    phase: u8,
    ready: bool,
    cost: i32,
    /// Active pods of the same owners on the pod's node.
    colocated: usize,
    /// The Ready condition's transition time (when ready) and its logarithmic age.
    ready_at: Option<(Time, i64)>,
    restarts: i32,
    created: Option<(Time, i64)>,
    uid_prefix: u128,
    /// The pod, read for its whole uid only when two uids share their prefix.
    pod: &'a Arc<Object>,
}

impl<'a> Rank<'a> {
    fn of(f: &Facts, pod: &'a Arc<Object>, colocated: usize, now: Nanos) -> Rank<'a> {
        let with_rank = |t: Option<Time>| t.map(|t| (t, log_rank(t, now)));
        Rank {
            unassigned: f.unassigned,
            phase: f.phase,
            ready: f.ready,
            cost: f.cost,
            colocated,
            ready_at: with_rank(f.ready_at),
            restarts: f.restarts,
            created: with_rank(f.created),
            uid_prefix: f.uid_prefix,
            pod,
        }
    }
}

/// Whether `a` ranks before `b` for deletion (`ActivePodsWithRanks.Less`).
fn deletes_first(a: &Rank, b: &Rank) -> bool {
    // Different nodes, one of them none: the unassigned pod goes first.
    if a.unassigned != b.unassigned {
        return a.unassigned;
    }
    if a.phase != b.phase {
        return a.phase < b.phase;
    }
    if a.ready != b.ready {
        return !a.ready;
    }
    if a.cost != b.cost {
        return a.cost < b.cost;
    }
    if a.colocated != b.colocated {
        return a.colocated > b.colocated;
    }
    let by_time = |ta: Option<(Time, i64)>, tb: Option<(Time, i64)>| -> Option<bool> {
        if ta.map(|t| t.0) == tb.map(|t| t.0) {
            return None;
        }
        match (ta, tb) {
            (None, _) => Some(true),
            (_, None) => Some(false),
            (Some((_, x)), Some((_, y))) => {
                let d = x - y;
                if d == 0 {
                    let by_uid = a
                        .uid_prefix
                        .cmp(&b.uid_prefix)
                        .then_with(|| a.pod.meta().uid.as_str().cmp(b.pod.meta().uid.as_str()));
                    (by_uid != Ordering::Equal).then_some(by_uid == Ordering::Less)
                } else {
                    Some(d < 0)
                }
            }
        }
    };
    if a.ready && b.ready {
        if let Some(r) = by_time(a.ready_at, b.ready_at) {
            return r;
        }
    }
    if a.restarts != b.restarts {
        return a.restarts > b.restarts;
    }
    if let Some(r) = by_time(a.created, b.created) {
        return r;
    }
    false
}

impl Component for ReplicaSetController {
    fn name(&self) -> String {
        self.flavor.actor().into()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        vec![
            WatchSpec::new(self.flavor.rt(), self.flavor.actor()),
            WatchSpec::new(&PODS, self.flavor.actor()),
        ]
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>) {
        match watch {
            0 => self.on_owner(ctx, kind, obj),
            _ => self.on_pod(ctx, kind, obj),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, key: u64) {
        for k in self.queue.take(key) {
            self.sync(ctx, &k);
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

    fn pod(name: &str, node: &str, phase: &str, ready: bool, created: i64) -> Arc<Object> {
        let mut p = Pod::default();
        p.metadata.name = name.into();
        p.metadata.uid = format!("uid-{name}");
        p.metadata.creation_timestamp = Some(Time(EPOCH_UNIX + created));
        p.spec.node_name = node.into();
        p.status.phase = phase.into();
        if ready {
            p.status.conditions.push(Condition {
                kind: "Ready".into(),
                status: "True".into(),
                last_transition_time: Some(Time(EPOCH_UNIX + created)),
                ..Default::default()
            });
        }
        Arc::new(Object::from(p))
    }

    #[test]
    fn first_n_is_the_stable_sort_prefix() {
        // Keys with many ties, in a scrambled order: the kept prefix must be the
        // merge sort's, ties in their original order.
        let v: Vec<(u32, usize)> = (0..2000)
            .map(|i| (((i * 7919) % 97) as u32 % 13, i))
            .collect();
        let by_key = |a: &(u32, usize), b: &(u32, usize)| a.0 < b.0;
        for n in [1, 2, 5, 31, 500] {
            let sorted = merge_sort(v.clone(), &by_key);
            assert_eq!(first_n(v.clone(), n, &by_key), sorted[..n], "n = {n}");
        }
        assert!(first_n(v.clone(), 0, &by_key).is_empty());
        // Rock, paper, scissors: no total order, and no panic.
        let beats = |a: &u8, b: &u8| (a + 1) % 3 == *b;
        let out = first_n((0..300).map(|i| (i % 3) as u8), 4, &beats);
        assert_eq!(out.len(), 4);
    }

    #[test]
    fn merge_sort_is_stable_and_survives_an_intransitive_order() {
        let v = vec![(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e')];
        let sorted = merge_sort(v, &|a: &(i32, char), b: &(i32, char)| a.0 < b.0);
        assert_eq!(sorted, [(1, 'b'), (1, 'e'), (2, 'd'), (3, 'a'), (3, 'c')]);
        // Rock, paper, scissors: no total order, and no panic.
        let beats = |a: &u8, b: &u8| (a + 1) % 3 == *b;
        let out = merge_sort((0..300).map(|i| (i % 3) as u8).collect(), &beats);
        assert_eq!(out.len(), 300);
    }

    #[test]
    fn deletion_ranking_follows_upstream_order() {
        let now = 1000 * NANOS_PER_SEC;
        let pods = vec![
            pod("running-ready-old", "n4", "Running", true, 10),
            pod("running-notready", "n1", "Running", false, 10),
            pod("pending-assigned", "n2", "Pending", false, 10),
            pod("unassigned", "", "Pending", false, 10),
            pod("running-ready-new", "n3", "Running", true, 900),
        ];
        let names = |n| {
            pods_to_delete(&pods, &pods, n, now)
                .iter()
                .map(|p| p.name().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(4),
            [
                "unassigned",
                "pending-assigned",
                "running-notready",
                "running-ready-new"
            ]
        );
    }

    #[test]
    fn cached_per_node_counts_follow_pods_as_they_come_change_and_go() {
        let mut c = ReplicaSetController::new(Flavor::ReplicaSet);
        let owner = ObjectMeta {
            namespace: "default".into(),
            name: "web".into(),
            uid: "rs-uid".into(),
            ..Default::default()
        };
        let cref = controller_ref("apps/v1", "ReplicaSet", &owner);
        let owned = |name: &str, node: &str, phase: &str| {
            let mut p = pod(name, node, phase, true, 10);
            if let Some(Object::Pod(pod)) = Arc::get_mut(&mut p) {
                pod.metadata.namespace = "default".into();
                pod.metadata.owner_references = vec![cref.clone()].into();
            }
            p
        };
        let rs = Object::from(crate::api::apps::ReplicaSet {
            metadata: owner.clone(),
            ..Default::default()
        });
        let count_on = |c: &ReplicaSetController, node: &str| {
            let id = c.node_ids[node] as usize;
            c.related_on_node(&rs)[id]
        };
        c.index_pod(&owned("a", "n1", "Running"));
        c.index_pod(&owned("b", "n1", "Running"));
        c.index_pod(&owned("c", "n2", "Running"));
        assert_eq!((count_on(&c, "n1"), count_on(&c, "n2")), (2, 1));
        // A pod that finishes no longer counts; one that moves counts on its node.
        c.index_pod(&owned("a", "n1", "Succeeded"));
        c.index_pod(&owned("c", "n1", "Running"));
        assert_eq!((count_on(&c, "n1"), count_on(&c, "n2")), (2, 0));
        c.unindex_pod(&("default".to_string(), "b".to_string()));
        assert_eq!(count_on(&c, "n1"), 1);
        // The ranking from the cache agrees with the ranking from the pods.
        c.index_pod(&owned("d", "n2", "Running"));
        let pods: Vec<Arc<Object>> = c.by_controller["rs-uid"]
            .pods
            .values()
            .map(|(p, _)| p.clone())
            .collect();
        let now = 1000 * NANOS_PER_SEC;
        let on_node = c.related_on_node(&rs);
        let cands = c.by_controller["rs-uid"]
            .pods
            .values()
            .filter(|(_, f)| f.active)
            .map(|(p, f)| (p, f));
        let colocated = |n: u32| on_node.get(n as usize).map_or(0, |&x| x as usize);
        let cached = rank_victims(cands, 2, &colocated, 1, now);
        let direct = pods_to_delete(
            &pods
                .iter()
                .filter(|p| p.name() != "a")
                .cloned()
                .collect::<Vec<_>>(),
            &pods,
            1,
            now,
        );
        assert_eq!(cached[0].name(), direct[0].name());
    }

    #[test]
    fn uids_order_by_their_prefix_and_then_whole() {
        let uids = [
            "",
            "a",
            "ab",
            "abc",
            "0123456789abcdef",
            "0123456789abcdefX",
            "0123456789abcdeg",
            "f",
        ];
        for a in uids {
            for b in uids {
                if prefix_key(a) != prefix_key(b) {
                    assert_eq!(prefix_key(a).cmp(&prefix_key(b)), a.cmp(b), "{a} {b}");
                }
            }
        }
        // Ready a second apart (one logarithmic bucket), uids alike in their first
        // 16 bytes: the whole uid decides.
        let now = 1000 * NANOS_PER_SEC;
        let pods = vec![
            pod("samesixteenchars-b", "n1", "Running", true, 10),
            pod("samesixteenchars-a", "n2", "Running", true, 11),
        ];
        let first = pods_to_delete(&pods, &pods, 1, now);
        assert_eq!(first[0].name(), "samesixteenchars-a");
    }

    #[test]
    fn co_located_pods_go_first() {
        let now = 1000 * NANOS_PER_SEC;
        let pods = vec![
            pod("alone", "n1", "Running", true, 10),
            pod("double-a", "n2", "Running", true, 10),
            pod("double-b", "n2", "Running", true, 10),
        ];
        let first = pods_to_delete(&pods, &pods, 1, now);
        assert!(first[0].name().starts_with("double"));
    }

    #[test]
    fn expectations_hold_back_a_sync_until_the_creations_are_seen() {
        use super::super::workload::DRAIN;
        use crate::api::apps::ReplicaSet;
        use crate::api::core::Namespace;
        use crate::apiserver::client::Client;
        use crate::apiserver::{ApiServer, Settings};
        use crate::kernel::Kernel;

        let mut api = ApiServer::new(Settings::default());
        let mut k = Kernel::new(1, 1000);
        let admin = Identity::new("test", "admin", &["system:masters"]);
        let rs: ReplicaSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
        }))
        .unwrap();
        let created = {
            let mut c = Client {
                api: &mut api,
                k: &mut k,
                who: &admin,
            };
            let mut ns = Namespace::default();
            ns.metadata.name = "default".into();
            c.create(Object::from(ns)).unwrap();
            let mut sa = crate::api::core::ServiceAccount::default();
            sa.metadata.name = "default".into();
            sa.metadata.namespace = "default".into();
            c.create(Object::from(sa)).unwrap();
            c.create(Object::from(rs)).unwrap()
        };
        let mut ctl = ReplicaSetController::new(Flavor::ReplicaSet);
        let (mut timers, mut watches) = (Vec::new(), Vec::new());
        let pods = |api: &ApiServer| api.store().list(&PODS, Some("default")).count();
        {
            let mut ctx = Ctx::new(&mut api, &mut k, &mut timers, &mut watches);
            ctl.on_event(&mut ctx, 0, EventType::Added, &created);
            ctl.on_timer(&mut ctx, DRAIN);
        }
        assert_eq!(pods(&api), 3);
        // The watch has not shown the pods yet (a slow informer); another event
        // about the ReplicaSet must not create three more.
        {
            let mut ctx = Ctx::new(&mut api, &mut k, &mut timers, &mut watches);
            ctl.on_event(&mut ctx, 0, EventType::Modified, &created);
            ctl.on_timer(&mut ctx, DRAIN);
        }
        assert_eq!(pods(&api), 3);
        let note = k
            .trace
            .entries()
            .rev()
            .find(|e| e.actor.as_str() == "replicaset-controller")
            .unwrap();
        assert!(
            note.reason
                .as_str()
                .starts_with("expectations not yet met: 3 creation(s)"),
            "{}",
            note.reason
        );
        // Past the expectations' 5 minutes the controller acts on what it sees.
        k.clock.advance_to(EXPECTATIONS_TIMEOUT + 1);
        {
            let mut ctx = Ctx::new(&mut api, &mut k, &mut timers, &mut watches);
            ctl.on_event(&mut ctx, 0, EventType::Modified, &created);
            ctl.on_timer(&mut ctx, DRAIN);
        }
        assert_eq!(pods(&api), 6);
    }
}
