//! The Deployment controller, as upstream's pkg/controller/deployment (v1.31).
//!
//! A sync of one Deployment: claim its ReplicaSets (adopt matching orphans, release
//! those that no longer match), then, in upstream's order: status only while it is
//! being deleted; the paused condition; `sync` (proportional scaling, history
//! cleanup) when paused or when `replicas` changed; else a rollout by its strategy.
//!
//! - The new ReplicaSet of a template is `<deployment>-<pod-template-hash>`, its
//!   selector and template labels carrying `pod-template-hash`; revisions are the
//!   annotation `deployment.kubernetes.io/revision`, with `desired-replicas` and
//!   `max-replicas` beside it.
//! - RollingUpdate: scale the new ReplicaSet up within `replicas + maxSurge`
//!   (surge rounds up), then the old ones down while at least `replicas -
//!   maxUnavailable` (unavailable rounds down) stay available, unhealthy old
//!   replicas first. Recreate: old ReplicaSets to zero, wait for their pods to go,
//!   then the new one up.
//! - Conditions Progressing and Available with upstream's reasons and messages; a
//!   rollout that shows no progress for `progressDeadlineSeconds` is
//!   ProgressDeadlineExceeded. Old ReplicaSets beyond `revisionHistoryLimit` are
//!   deleted once they are empty.
//!
//! Deviation: upstream hashes the pod template with Go's deep object printer
//! (`hashutil.DeepHashObject`) and FNV-32a; here the FNV-32a is over the template's
//! canonical JSON (fields in declaration order, maps sorted), then `collisionCount`
//! as four little-endian bytes, then `rand.SafeEncodeString` of the decimal sum, as
//! upstream does. The names therefore look like upstream's but differ from a real
//! cluster's for the same template. Within one sync the controller uses the objects
//! its own writes returned (upstream keeps its stale informer copies and meets
//! conflicts on the next write).

use crate::api::VecMap;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use super::workload::{controller_ref, controller_uid, key_of, Key, Recorder, WorkQueue};
use crate::api::apps::{Deployment, DeploymentStatus, ReplicaSet};
use crate::api::core::PodTemplateSpec;
use crate::api::labels::LabelSelector;
use crate::api::meta::Condition;
use crate::api::object::{DEPLOYMENTS, PODS, REPLICASETS};
use crate::api::time::{Time, EPOCH_UNIX};
use crate::api::{ApiError, Object};
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::{Nanos, ObjRef, NANOS_PER_SEC};
use crate::store::EventType;

const NAME: &str = "deployment-controller";

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
const DEPRECATED_ROLLBACK_TO: &str = "deprecated.deployment.rollback.to";
/// `maxRevHistoryLengthInChars`.
const MAX_REV_HISTORY_CHARS: usize = 2000;

/// Annotations not copied between a Deployment and its ReplicaSets.
pub fn skip_copy_annotation(k: &str) -> bool {
    matches!(
        k,
        LAST_APPLIED
            | REVISION
            | REVISION_HISTORY
            | DESIRED_REPLICAS
            | MAX_REPLICAS
            | DEPRECATED_ROLLBACK_TO
    )
}

fn replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.replicas.unwrap_or(1)
}

fn d_replicas(d: &Deployment) -> i32 {
    d.spec.replicas.unwrap_or(1)
}

fn is_rolling(d: &Deployment) -> bool {
    d.spec
        .strategy
        .as_ref()
        .and_then(|s| s.kind.as_deref())
        .unwrap_or("RollingUpdate")
        == "RollingUpdate"
}

/// `ResolveFenceposts`: (maxSurge rounded up, maxUnavailable rounded down); both
/// zero becomes unavailable 1.
pub fn resolve_fenceposts(d: &Deployment) -> (i32, i32) {
    let ru = d
        .spec
        .strategy
        .as_ref()
        .and_then(|s| s.rolling_update.as_ref());
    let desired = d_replicas(d);
    let surge = ru
        .and_then(|r| r.max_surge.as_ref())
        .map(|v| v.scaled_value(desired, true).unwrap_or(0))
        .unwrap_or(0);
    let mut unavailable = ru
        .and_then(|r| r.max_unavailable.as_ref())
        .map(|v| v.scaled_value(desired, false).unwrap_or(0))
        .unwrap_or(0);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

pub fn max_surge(d: &Deployment) -> i32 {
    if !is_rolling(d) {
        return 0;
    }
    resolve_fenceposts(d).0
}

pub fn max_unavailable(d: &Deployment) -> i32 {
    if !is_rolling(d) || d_replicas(d) == 0 {
        return 0;
    }
    resolve_fenceposts(d).1.min(d_replicas(d))
}

/// The pod-template-hash of a template (see the module's deviation note).
pub fn compute_hash(t: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let text = serde_json::to_string(t).unwrap_or_default();
    let mut h: u32 = 0x811c_9dc5;
    let mut feed = |b: u8| {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    };
    for b in text.bytes() {
        feed(b);
    }
    if let Some(c) = collision_count {
        for b in (c as u32).to_le_bytes() {
            feed(b);
        }
    }
    safe_encode(&h.to_string())
}

/// `rand.SafeEncodeString`: each byte mapped onto consonants and digits that spell
/// no words.
pub fn safe_encode(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

/// `EqualIgnoreHash`: templates equal but for the pod-template-hash label.
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    let mut a = a.clone();
    let mut b = b.clone();
    a.metadata.labels.remove(POD_TEMPLATE_HASH);
    b.metadata.labels.remove(POD_TEMPLATE_HASH);
    a == b
}

pub fn revision_of(annotations: &VecMap<String, String>) -> Option<i64> {
    match annotations.get(REVISION) {
        None => Some(0),
        Some(v) => v.parse().ok(),
    }
}

fn max_revision(rss: &[ReplicaSet]) -> i64 {
    rss.iter()
        .filter_map(|r| revision_of(&r.metadata.annotations))
        .max()
        .unwrap_or(0)
        .max(0)
}

fn by_creation(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    a.metadata
        .creation_timestamp
        .cmp(&b.metadata.creation_timestamp)
        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

fn condition<'a>(s: &'a DeploymentStatus, kind: &str) -> Option<&'a Condition> {
    s.conditions.iter().find(|c| c.kind == kind)
}

fn new_condition(kind: &str, status: &str, reason: &str, message: String, now: Nanos) -> Condition {
    let t = Some(Time::from_virtual_nanos(now));
    Condition {
        kind: kind.into(),
        status: status.into(),
        last_update_time: t,
        last_transition_time: t,
        reason: reason.into(),
        message,
        ..Default::default()
    }
}

/// `SetDeploymentCondition`: no change when status and reason are the same; the
/// transition time kept when only the reason changes.
fn set_condition(s: &mut DeploymentStatus, mut c: Condition) {
    if let Some(cur) = condition(s, &c.kind) {
        if cur.status == c.status && cur.reason == c.reason {
            return;
        }
        if cur.status == c.status {
            c.last_transition_time = cur.last_transition_time;
        }
    }
    s.conditions.retain(|x| x.kind != c.kind);
    s.conditions.push(c);
}

fn remove_condition(s: &mut DeploymentStatus, kind: &str) {
    s.conditions.retain(|x| x.kind != kind);
}

fn has_progress_deadline(d: &Deployment) -> bool {
    d.spec
        .progress_deadline_seconds
        .is_some_and(|p| p != i32::MAX)
}

/// `DeploymentComplete`.
fn deployment_complete(d: &Deployment, s: &DeploymentStatus) -> bool {
    let n = d_replicas(d);
    s.updated_replicas == n
        && s.replicas == n
        && s.available_replicas == n
        && s.observed_generation >= d.metadata.generation
}

/// What a sync found: the Deployment's ReplicaSets as this sync sees them.
struct Sync {
    d: Deployment,
    rss: Vec<ReplicaSet>,
    /// Pods per ReplicaSet uid (for Recreate).
    pods_by_rs: BTreeMap<String, Vec<Arc<Object>>>,
}

pub struct DeploymentController {
    who: Identity,
    deployments: BTreeMap<Key, Arc<Object>>,
    rss: BTreeMap<Key, Arc<Object>>,
    rs_by_uid: BTreeMap<String, Key>,
    /// Pods whose controller is a ReplicaSet, by that ReplicaSet's uid.
    pods_by_rs: BTreeMap<String, BTreeMap<Key, Arc<Object>>>,
    queue: WorkQueue<Key>,
    recorder: Recorder,
}

impl Default for DeploymentController {
    fn default() -> Self {
        DeploymentController {
            who: super::controller_identity(NAME, "deployment-controller"),
            deployments: BTreeMap::new(),
            rss: BTreeMap::new(),
            rs_by_uid: BTreeMap::new(),
            pods_by_rs: BTreeMap::new(),
            queue: WorkQueue::default(),
            recorder: Recorder::default(),
        }
    }
}

impl DeploymentController {
    /// The Deployment a controller reference points at, if it exists.
    fn resolve(&self, m: &crate::api::meta::ObjectMeta) -> Option<Key> {
        let r = m.controller_ref()?;
        if r.kind != "Deployment" {
            return None;
        }
        let key = (m.namespace.clone(), r.name.clone());
        let d = self.deployments.get(&key)?;
        (d.meta().uid == r.uid).then_some(key)
    }

    /// Deployments whose selector matches an orphan ReplicaSet's labels.
    fn matching(&self, rs: &ReplicaSet) -> Vec<Key> {
        let ns = &rs.metadata.namespace;
        self.deployments
            .range((ns.clone(), String::new())..)
            .take_while(|(k, _)| &k.0 == ns)
            .filter(|(_, o)| match o.as_ref() {
                Object::Deployment(d) => d
                    .spec
                    .selector
                    .as_ref()
                    .and_then(|s| s.to_selector().ok())
                    .is_some_and(|s| !s.is_empty() && s.matches(&rs.metadata.labels)),
                _ => false,
            })
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn on_rs(&mut self, ctx: &mut Ctx, kind: EventType, obj: &Arc<Object>) {
        let Object::ReplicaSet(rs) = obj.as_ref() else {
            return;
        };
        let key = key_of(&rs.metadata);
        let old = if kind == EventType::Deleted {
            self.rs_by_uid.remove(&rs.metadata.uid);
            self.rss.remove(&key)
        } else {
            self.rs_by_uid.insert(rs.metadata.uid.clone(), key.clone());
            self.rss.insert(key, obj.clone())
        };
        if let Some(Object::ReplicaSet(o)) = old.as_deref() {
            if o.metadata.controller_ref() != rs.metadata.controller_ref() {
                if let Some(d) = self.resolve(&o.metadata) {
                    self.queue.add(ctx, d);
                }
            }
        }
        if let Some(d) = self.resolve(&rs.metadata) {
            self.queue.add(ctx, d);
        } else if rs.metadata.controller_ref().is_none() && kind != EventType::Deleted {
            for d in self.matching(rs) {
                self.queue.add(ctx, d);
            }
        }
    }

    fn on_pod(&mut self, ctx: &mut Ctx, kind: EventType, obj: &Arc<Object>) {
        let m = obj.meta();
        let Some(r) = m.controller_ref().filter(|r| r.kind == "ReplicaSet") else {
            return;
        };
        let key = key_of(m);
        if kind == EventType::Deleted {
            if let Some(set) = self.pods_by_rs.get_mut(&r.uid) {
                set.remove(&key);
                if set.is_empty() {
                    self.pods_by_rs.remove(&r.uid);
                }
            }
            // Recreate waits for the old pods to be gone.
            let owner = self
                .rs_by_uid
                .get(&r.uid)
                .and_then(|k| self.rss.get(k))
                .and_then(|rs| self.resolve(rs.meta()));
            if let Some(d) = owner {
                let recreate = self
                    .deployments
                    .get(&d)
                    .is_some_and(|o| matches!(o.as_ref(), Object::Deployment(d) if !is_rolling(d)));
                if recreate {
                    self.queue.add(ctx, d);
                }
            }
        } else {
            self.pods_by_rs
                .entry(r.uid.clone())
                .or_default()
                .insert(key, obj.clone());
        }
    }

    fn note(&self, ctx: &mut Ctx, d: &Deployment, action: String, reason: String) {
        let rv = d.metadata.resource_version.parse().unwrap_or(0);
        ctx.note(
            NAME,
            action,
            reason,
            vec![ObjRef::new(
                "Deployment",
                &d.metadata.namespace,
                &d.metadata.name,
                rv,
            )],
        );
    }

    fn event(&mut self, ctx: &mut Ctx, d: &Deployment, kind: &str, reason: &str, msg: &str) {
        self.recorder.record(
            ctx,
            &self.who,
            NAME,
            "apps/v1",
            "Deployment",
            &d.metadata,
            kind,
            reason,
            msg,
        );
    }

    /// syncDeployment.
    fn sync(&mut self, ctx: &mut Ctx, key: &Key) {
        let Some(Object::Deployment(d)) = self.deployments.get(key).map(|o| o.as_ref().clone())
        else {
            return;
        };
        let everything = LabelSelector::default();
        if d.spec.selector.as_ref() == Some(&everything) {
            self.event(
                ctx,
                &d,
                "Warning",
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
            );
            if d.status.observed_generation < d.metadata.generation {
                let mut d2 = d.clone();
                d2.status.observed_generation = d.metadata.generation;
                let who = self.who.clone();
                let _ = ctx.client(&who).update_status(Object::Deployment(d2));
            }
            return;
        }
        let Some(rss) = self.claim_replicasets(ctx, &d) else {
            return;
        };
        // Only Recreate reads the pods (and collecting them costs a pass over all).
        let pods_by_rs = rss
            .iter()
            .filter(|_| !is_rolling(&d))
            .map(|rs| {
                let pods = self
                    .pods_by_rs
                    .get(&rs.metadata.uid)
                    .map(|m| m.values().cloned().collect())
                    .unwrap_or_default();
                (rs.metadata.uid.clone(), pods)
            })
            .collect();
        let mut s = Sync {
            d: *d,
            rss,
            pods_by_rs,
        };
        if s.d.metadata.deletion_timestamp.is_some() {
            let (new_rs, old) = self.all_rss_and_sync_revision(ctx, &mut s, false);
            let _ = self.sync_deployment_status(ctx, &mut s, new_rs.as_ref(), &old);
            return;
        }
        self.check_paused_conditions(ctx, &mut s);
        if s.d.spec.paused {
            self.note(
                ctx,
                &s.d,
                format!("sync paused deployment {}/{}", key.0, key.1),
                "the deployment is paused: only scaling and history cleanup, no rollout".into(),
            );
            return self.sync_scale(ctx, &mut s);
        }
        if self.is_scaling_event(ctx, &mut s) {
            self.note(
                ctx,
                &s.d,
                format!("scale deployment {}/{}", key.0, key.1),
                format!(
                    "spec.replicas ({}) differs from the desired-replicas annotation of its active replica sets: a scaling event, not a rollout",
                    d_replicas(&s.d)
                ),
            );
            return self.sync_scale(ctx, &mut s);
        }
        if is_rolling(&s.d) {
            self.rollout_rolling(ctx, &mut s);
        } else {
            self.rollout_recreate(ctx, &mut s);
        }
    }

    /// getReplicaSetsForDeployment: adopt and release by selector.
    fn claim_replicasets(&mut self, ctx: &mut Ctx, d: &Deployment) -> Option<Vec<ReplicaSet>> {
        let selector = match d.spec.selector.as_ref().map(|s| s.to_selector()) {
            Some(Ok(s)) => s,
            _ => {
                self.note(
                    ctx,
                    d,
                    format!(
                        "skip deployment {}/{}",
                        d.metadata.namespace, d.metadata.name
                    ),
                    "its selector is missing or invalid".into(),
                );
                return None;
            }
        };
        let ns = &d.metadata.namespace;
        let uid = &d.metadata.uid;
        let candidates: Vec<ReplicaSet> = self
            .rss
            .range((ns.clone(), String::new())..)
            .take_while(|(k, _)| &k.0 == ns)
            .filter_map(|(_, o)| match o.as_ref() {
                Object::ReplicaSet(rs) => Some((**rs).clone()),
                _ => None,
            })
            .collect();
        let who = self.who.clone();
        let deleting = d.metadata.deletion_timestamp.is_some();
        let mut out = Vec::new();
        for rs in candidates {
            let matches = selector.matches(&rs.metadata.labels);
            match controller_uid(&rs.metadata) {
                Some(u) if u == uid => {
                    if matches {
                        out.push(rs);
                    } else if !deleting {
                        let refs: Vec<_> = rs
                            .metadata
                            .owner_references
                            .iter()
                            .filter(|r| &r.uid != uid)
                            .cloned()
                            .collect();
                        self.note(
                            ctx,
                            d,
                            format!("release replicaset {ns}/{}", rs.metadata.name),
                            "its labels no longer match the deployment's selector".into(),
                        );
                        let _ = ctx.client(&who).patch(
                            &REPLICASETS,
                            ns,
                            &rs.metadata.name,
                            "application/merge-patch+json",
                            json!({"metadata": {"ownerReferences": refs, "uid": rs.metadata.uid}}),
                        );
                    }
                }
                Some(_) => {}
                None => {
                    if deleting || !matches || rs.metadata.deletion_timestamp.is_some() {
                        continue;
                    }
                    let mut refs = rs.metadata.owner_references.clone();
                    refs.push(controller_ref("apps/v1", "Deployment", &d.metadata));
                    self.note(
                        ctx,
                        d,
                        format!("adopt replicaset {ns}/{}", rs.metadata.name),
                        "the replica set has no controller and matches the deployment's selector"
                            .into(),
                    );
                    if let Ok(o) = ctx.client(&who).patch(
                        &REPLICASETS,
                        ns,
                        &rs.metadata.name,
                        "application/merge-patch+json",
                        json!({"metadata": {"ownerReferences": refs, "uid": rs.metadata.uid}}),
                    ) {
                        if let Object::ReplicaSet(rs) = o.as_ref() {
                            out.push((**rs).clone());
                        }
                    }
                }
            }
        }
        Some(out)
    }

    fn update_rs(
        &self,
        ctx: &mut Ctx,
        s: &mut Sync,
        rs: ReplicaSet,
    ) -> Result<ReplicaSet, ApiError> {
        let who = self.who.clone();
        let o = ctx.client(&who).update(Object::from(rs))?;
        let Object::ReplicaSet(new) = o.as_ref() else {
            return Err(ApiError::internal("expected a ReplicaSet"));
        };
        if let Some(slot) = s
            .rss
            .iter_mut()
            .find(|r| r.metadata.uid == new.metadata.uid)
        {
            *slot = (**new).clone();
        }
        Ok((**new).clone())
    }

    fn update_status(&self, ctx: &mut Ctx, s: &mut Sync) -> Result<(), ApiError> {
        let who = self.who.clone();
        let o = ctx.client(&who).update_status(Object::from(s.d.clone()))?;
        s.d.metadata.resource_version = o.meta().resource_version.clone();
        Ok(())
    }

    /// getAllReplicaSetsAndSyncRevision: (new, all old).
    fn all_rss_and_sync_revision(
        &mut self,
        ctx: &mut Ctx,
        s: &mut Sync,
        create: bool,
    ) -> (Option<ReplicaSet>, Vec<ReplicaSet>) {
        let new_rs = self.find_new(s);
        let old: Vec<ReplicaSet> = s
            .rss
            .iter()
            .filter(|r| {
                new_rs
                    .as_ref()
                    .is_none_or(|n| n.metadata.uid != r.metadata.uid)
            })
            .cloned()
            .collect();
        let new_rs = self.get_new_rs(ctx, s, new_rs, &old, create);
        (new_rs, old)
    }

    /// FindNewReplicaSet: the oldest ReplicaSet whose template equals the Deployment's.
    fn find_new(&self, s: &Sync) -> Option<ReplicaSet> {
        let mut rss: Vec<&ReplicaSet> = s.rss.iter().collect();
        rss.sort_by(|a, b| by_creation(a, b));
        rss.into_iter()
            .find(|r| {
                r.spec
                    .template
                    .as_ref()
                    .is_some_and(|t| equal_ignore_hash(t, &s.d.spec.template))
            })
            .cloned()
    }

    /// getNewReplicaSet.
    fn get_new_rs(
        &mut self,
        ctx: &mut Ctx,
        s: &mut Sync,
        existing: Option<ReplicaSet>,
        old: &[ReplicaSet],
        create: bool,
    ) -> Option<ReplicaSet> {
        let now = ctx.now();
        let new_revision = (max_revision(old) + 1).to_string();
        if let Some(rs) = existing {
            let mut copy = rs.clone();
            let changed = set_new_rs_annotations(&s.d, &mut copy, &new_revision, true);
            let min_ready_changed = copy.spec.min_ready_seconds != s.d.spec.min_ready_seconds;
            if changed || min_ready_changed {
                copy.spec.min_ready_seconds = s.d.spec.min_ready_seconds;
                self.note(
                    ctx,
                    &s.d,
                    format!("update replicaset {}/{}", copy.metadata.namespace, copy.metadata.name),
                    format!("its template is the deployment's: it is the new replica set, at revision {}", copy.metadata.annotations.get(REVISION).cloned().unwrap_or_default()),
                );
                return self.update_rs(ctx, s, copy).ok();
            }
            let rev = copy
                .metadata
                .annotations
                .get(REVISION)
                .cloned()
                .unwrap_or_default();
            let mut needs_update = set_deployment_revision(&mut s.d, &rev);
            if has_progress_deadline(&s.d) && condition(&s.d.status, "Progressing").is_none() {
                let msg = format!("Found new replica set \"{}\"", copy.metadata.name);
                set_condition(
                    &mut s.d.status,
                    new_condition("Progressing", "True", "FoundNewReplicaSet", msg, now),
                );
                needs_update = true;
            }
            if needs_update {
                let _ = self.update_status(ctx, s);
            }
            return Some(copy);
        }
        if !create {
            return None;
        }
        let mut template = s.d.spec.template.clone();
        let hash = compute_hash(&template, s.d.status.collision_count);
        template
            .metadata
            .labels
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut selector = s.d.spec.selector.clone().unwrap_or_default();
        selector
            .match_labels
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut rs = ReplicaSet::default();
        rs.metadata.name = format!("{}-{hash}", s.d.metadata.name);
        rs.metadata.namespace = s.d.metadata.namespace.clone();
        rs.metadata.owner_references =
            vec![controller_ref("apps/v1", "Deployment", &s.d.metadata)].into();
        rs.metadata.labels = template.metadata.labels.clone();
        rs.spec.replicas = Some(0);
        rs.spec.min_ready_seconds = s.d.spec.min_ready_seconds;
        rs.spec.selector = Some(selector);
        rs.spec.template = Some(template);
        let mut all: Vec<ReplicaSet> = old.to_vec();
        all.push(rs.clone());
        let count = new_rs_new_replicas(&s.d, &all, &rs);
        rs.spec.replicas = Some(count);
        set_new_rs_annotations(&s.d, &mut rs, &new_revision, false);
        self.note(
            ctx,
            &s.d,
            format!("create replicaset {}/{}", rs.metadata.namespace, rs.metadata.name),
            format!(
                "no replica set has the deployment's template (pod-template-hash {hash}): a new one at revision {new_revision} with {count} replica(s)"
            ),
        );
        let who = self.who.clone();
        let mut already = false;
        let created = match ctx.client(&who).create(Object::from(rs.clone())) {
            Ok(o) => match o.as_ref() {
                Object::ReplicaSet(r) => (**r).clone(),
                _ => return None,
            },
            Err(e) if e.code() == 409 => {
                let existing = ctx
                    .client(&who)
                    .get(&REPLICASETS, &rs.metadata.namespace, &rs.metadata.name)
                    .ok();
                let same = existing.as_deref().and_then(|o| match o {
                    Object::ReplicaSet(r)
                        if controller_uid(&r.metadata) == Some(s.d.metadata.uid.as_str())
                            && r.spec
                                .template
                                .as_ref()
                                .is_some_and(|t| equal_ignore_hash(t, &s.d.spec.template)) =>
                    {
                        Some((**r).clone())
                    }
                    _ => None,
                });
                match same {
                    Some(r) => {
                        already = true;
                        r
                    }
                    None => {
                        let c = s.d.status.collision_count.unwrap_or(0);
                        s.d.status.collision_count = Some(c + 1);
                        self.note(
                            ctx,
                            &s.d,
                            format!("count a hash collision for deployment {}/{}", s.d.metadata.namespace, s.d.metadata.name),
                            format!("replica set {} exists with another template: collisionCount becomes {}, so the next hash differs", rs.metadata.name, c + 1),
                        );
                        let _ = self.update_status(ctx, s);
                        return None;
                    }
                }
            }
            Err(e) => {
                let msg = format!(
                    "Failed to create new replica set \"{}\": {}",
                    rs.metadata.name,
                    e.message()
                );
                if has_progress_deadline(&s.d) {
                    set_condition(
                        &mut s.d.status,
                        new_condition(
                            "Progressing",
                            "False",
                            "ReplicaSetCreateError",
                            msg.clone(),
                            now,
                        ),
                    );
                    let _ = self.update_status(ctx, s);
                }
                self.event(ctx, &s.d.clone(), "Warning", "ReplicaSetCreateError", &msg);
                return None;
            }
        };
        if !already {
            s.rss.push(created.clone());
        }
        if !already && count > 0 {
            let msg = format!("Scaled up replica set {} to {count}", created.metadata.name);
            self.event(ctx, &s.d.clone(), "Normal", "ScalingReplicaSet", &msg);
        }
        let mut needs_update = set_deployment_revision(&mut s.d, &new_revision);
        if !already && has_progress_deadline(&s.d) {
            let msg = format!("Created new replica set \"{}\"", created.metadata.name);
            set_condition(
                &mut s.d.status,
                new_condition("Progressing", "True", "NewReplicaSetCreated", msg, now),
            );
            needs_update = true;
        }
        if needs_update {
            let _ = self.update_status(ctx, s);
        }
        Some(created)
    }

    /// checkPausedConditions.
    fn check_paused_conditions(&mut self, ctx: &mut Ctx, s: &mut Sync) {
        if !has_progress_deadline(&s.d) {
            return;
        }
        let cond = condition(&s.d.status, "Progressing");
        if cond.is_some_and(|c| c.reason == "ProgressDeadlineExceeded") {
            return;
        }
        let paused_exists = cond.is_some_and(|c| c.reason == "DeploymentPaused");
        let now = ctx.now();
        let c = if s.d.spec.paused && !paused_exists {
            new_condition(
                "Progressing",
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused".into(),
                now,
            )
        } else if !s.d.spec.paused && paused_exists {
            new_condition(
                "Progressing",
                "Unknown",
                "DeploymentResumed",
                "Deployment is resumed".into(),
                now,
            )
        } else {
            return;
        };
        set_condition(&mut s.d.status, c);
        let _ = self.update_status(ctx, s);
    }

    /// isScalingEvent.
    fn is_scaling_event(&mut self, ctx: &mut Ctx, s: &mut Sync) -> bool {
        let (new_rs, old) = self.all_rss_and_sync_revision(ctx, s, false);
        let want = d_replicas(&s.d);
        old.iter()
            .chain(new_rs.iter())
            .filter(|r| replicas(r) > 0)
            .filter_map(|r| r.metadata.annotations.get(DESIRED_REPLICAS))
            .filter_map(|v| v.parse::<i32>().ok())
            .any(|desired| desired != want)
    }

    /// sync: scale, clean up when paused, status.
    fn sync_scale(&mut self, ctx: &mut Ctx, s: &mut Sync) {
        let (new_rs, old) = self.all_rss_and_sync_revision(ctx, s, false);
        if self.scale(ctx, s, new_rs.as_ref(), &old).is_err() {
            return;
        }
        let old = self.refresh(s, &old);
        let new_rs = new_rs.map(|n| self.refresh(s, &[n]).remove(0));
        if s.d.spec.paused {
            self.cleanup(ctx, s, &old);
        }
        let _ = self.sync_deployment_status(ctx, s, new_rs.as_ref(), &old);
    }

    /// The ReplicaSets as this sync last wrote them.
    fn refresh(&self, s: &Sync, rss: &[ReplicaSet]) -> Vec<ReplicaSet> {
        rss.iter()
            .map(|r| {
                s.rss
                    .iter()
                    .find(|x| x.metadata.uid == r.metadata.uid)
                    .cloned()
                    .unwrap_or_else(|| r.clone())
            })
            .collect()
    }

    /// scale: proportional scaling across active ReplicaSets.
    fn scale(
        &mut self,
        ctx: &mut Ctx,
        s: &mut Sync,
        new_rs: Option<&ReplicaSet>,
        old: &[ReplicaSet],
    ) -> Result<(), ApiError> {
        let want = d_replicas(&s.d);
        // FindActiveOrLatest.
        let mut olds: Vec<ReplicaSet> = old.to_vec();
        olds.sort_by(|a, b| by_creation(b, a));
        let mut all: Vec<ReplicaSet> = olds.clone();
        if let Some(n) = new_rs {
            all.push(n.clone());
        }
        let active: Vec<ReplicaSet> = all.iter().filter(|r| replicas(r) > 0).cloned().collect();
        let active_or_latest = match active.len() {
            0 => new_rs.cloned().or_else(|| olds.first().cloned()),
            1 => Some(active[0].clone()),
            _ => None,
        };
        if let Some(rs) = active_or_latest {
            if replicas(&rs) == want {
                return Ok(());
            }
            return self.scale_rs_and_record(ctx, s, &rs, want).map(|_| ());
        }
        if let Some(n) = new_rs.filter(|n| is_saturated(&s.d, n)) {
            let _ = n;
            for o in old.iter().filter(|r| replicas(r) > 0) {
                self.scale_rs_and_record(ctx, s, o, 0)?;
            }
            return Ok(());
        }
        if !is_rolling(&s.d) {
            return Ok(());
        }
        let mut all = active;
        let all_replicas: i32 = all.iter().map(replicas).sum();
        let allowed = if want > 0 { want + max_surge(&s.d) } else { 0 };
        let to_add = allowed - all_replicas;
        let op = match to_add.cmp(&0) {
            Ordering::Greater => {
                all.sort_by(|a, b| {
                    replicas(b)
                        .cmp(&replicas(a))
                        .then_with(|| by_creation(b, a))
                });
                "up"
            }
            Ordering::Less => {
                all.sort_by(|a, b| {
                    replicas(b)
                        .cmp(&replicas(a))
                        .then_with(|| by_creation(a, b))
                });
                "down"
            }
            Ordering::Equal => "",
        };
        let mut added = 0;
        let mut sizes: Vec<i32> = Vec::new();
        for rs in &all {
            if to_add != 0 {
                let p = proportion(rs, &s.d, to_add, added);
                sizes.push(replicas(rs) + p);
                added += p;
            } else {
                sizes.push(replicas(rs));
            }
        }
        self.note(
            ctx,
            &s.d,
            format!("scale deployment {}/{} proportionally", s.d.metadata.namespace, s.d.metadata.name),
            format!(
                "{} active replica sets hold {all_replicas} replicas; {allowed} allowed (replicas + maxSurge): {to_add:+} spread by their max-replicas annotations",
                all.len()
            ),
        );
        for (i, rs) in all.iter().enumerate() {
            let mut size = sizes[i];
            if i == 0 && to_add != 0 {
                size = (size + to_add - added).max(0);
            }
            self.scale_rs(ctx, s, rs, size, op)?;
        }
        Ok(())
    }

    fn scale_rs_and_record(
        &mut self,
        ctx: &mut Ctx,
        s: &mut Sync,
        rs: &ReplicaSet,
        to: i32,
    ) -> Result<(bool, ReplicaSet), ApiError> {
        if replicas(rs) == to {
            return Ok((false, rs.clone()));
        }
        let op = if replicas(rs) < to { "up" } else { "down" };
        self.scale_rs(ctx, s, rs, to, op)
    }

    /// scaleReplicaSet: replicas and the replicas annotations in one update; an
    /// Event when the size changed.
    fn scale_rs(
        &mut self,
        ctx: &mut Ctx,
        s: &mut Sync,
        rs: &ReplicaSet,
        to: i32,
        op: &str,
    ) -> Result<(bool, ReplicaSet), ApiError> {
        let want = d_replicas(&s.d);
        let max = want + max_surge(&s.d);
        let size_changes = replicas(rs) != to;
        let mut copy = rs.clone();
        let annotations_change = set_replicas_annotations(&mut copy, want, max);
        if !size_changes && !annotations_change {
            return Ok((false, rs.clone()));
        }
        let from = replicas(rs);
        copy.spec.replicas = Some(to);
        let updated = self.update_rs(ctx, s, copy)?;
        if size_changes {
            let msg = format!(
                "Scaled {op} replica set {} to {to} from {from}",
                updated.metadata.name
            );
            self.event(ctx, &s.d.clone(), "Normal", "ScalingReplicaSet", &msg);
        }
        Ok((size_changes, updated))
    }

    /// rolloutRolling.
    fn rollout_rolling(&mut self, ctx: &mut Ctx, s: &mut Sync) {
        let (new_rs, old) = self.all_rss_and_sync_revision(ctx, s, true);
        let Some(new_rs) = new_rs else {
            return;
        };
        let mut all = old.clone();
        all.push(new_rs.clone());
        let (surge, unavailable) = (max_surge(&s.d), max_unavailable(&s.d));
        let want = d_replicas(&s.d);
        // Scale up, if we can.
        let scaled_up = match replicas(&new_rs).cmp(&want) {
            Ordering::Equal => false,
            Ordering::Greater => self
                .scale_rs_and_record(ctx, s, &new_rs, want)
                .map(|r| r.0)
                .unwrap_or(false),
            Ordering::Less => {
                let to = new_rs_new_replicas(&s.d, &all, &new_rs);
                let total: i32 = all.iter().map(replicas).sum();
                self.note(
                    ctx,
                    &s.d,
                    format!("roll deployment {}/{} forward", s.d.metadata.namespace, s.d.metadata.name),
                    format!(
                        "maxSurge {surge} (rounded up), maxUnavailable {unavailable} (rounded down): at most {} pods in all, {total} now; new replica set {} from {} to {to}",
                        want + surge,
                        new_rs.metadata.name,
                        replicas(&new_rs)
                    ),
                );
                self.scale_rs_and_record(ctx, s, &new_rs, to)
                    .map(|r| r.0)
                    .unwrap_or(false)
            }
        };
        if scaled_up {
            return self.sync_rollout_status(ctx, s, Some(&new_rs), &old);
        }
        let active_old: Vec<ReplicaSet> = old.iter().filter(|r| replicas(r) > 0).cloned().collect();
        if self.reconcile_old(ctx, s, &all, active_old, &new_rs) {
            let old = self.refresh(s, &old);
            return self.sync_rollout_status(ctx, s, Some(&new_rs), &old);
        }
        if deployment_complete(&s.d, &s.d.status.clone()) {
            self.cleanup(ctx, s, &old);
        }
        let old = self.refresh(s, &old);
        self.sync_rollout_status(ctx, s, Some(&new_rs), &old);
    }

    /// reconcileOldReplicaSets.
    fn reconcile_old(
        &mut self,
        ctx: &mut Ctx,
        s: &mut Sync,
        all: &[ReplicaSet],
        mut old: Vec<ReplicaSet>,
        new_rs: &ReplicaSet,
    ) -> bool {
        let old_count: i32 = old.iter().map(replicas).sum();
        if old_count == 0 {
            return false;
        }
        let all_count: i32 = all.iter().map(replicas).sum();
        let max_unavail = max_unavailable(&s.d);
        let min_available = d_replicas(&s.d) - max_unavail;
        let new_unavailable = replicas(new_rs) - new_rs.status.available_replicas;
        let max_scaled_down = all_count - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            self.note(
                ctx,
                &s.d,
                format!("hold old replica sets of deployment {}/{}", s.d.metadata.namespace, s.d.metadata.name),
                format!(
                    "{all_count} pods in all, at least {min_available} must stay available (replicas - maxUnavailable {max_unavail}) and {new_unavailable} new pod(s) are not available yet: nothing can be scaled down"
                ),
            );
            return false;
        }
        // cleanupUnhealthyReplicas: old replicas that are not available go first.
        old.sort_by(by_creation);
        let mut cleaned = 0;
        for slot in old.iter_mut() {
            if cleaned >= max_scaled_down {
                break;
            }
            let rs = slot.clone();
            if replicas(&rs) == 0 || replicas(&rs) == rs.status.available_replicas {
                continue;
            }
            let n = (max_scaled_down - cleaned).min(replicas(&rs) - rs.status.available_replicas);
            let to = replicas(&rs) - n;
            self.note(
                ctx,
                &s.d,
                format!("scale down unhealthy replicas of replicaset {}", rs.metadata.name),
                format!("{} of its {} replicas are not available; removing them does not lower availability", replicas(&rs) - rs.status.available_replicas, replicas(&rs)),
            );
            match self.scale_rs_and_record(ctx, s, &rs, to) {
                Ok((_, updated)) => {
                    cleaned += n;
                    *slot = updated;
                }
                Err(_) => return false,
            }
        }
        // scaleDownOldReplicaSetsForRollingUpdate.
        let mut all2 = old.clone();
        all2.push(new_rs.clone());
        let available: i32 = all2.iter().map(|r| r.status.available_replicas).sum();
        let mut scaled = 0;
        if available > min_available {
            let total = available - min_available;
            self.note(
                ctx,
                &s.d,
                format!("scale down old replica sets of deployment {}/{}", s.d.metadata.namespace, s.d.metadata.name),
                format!("{available} pods available, at least {min_available} must stay (replicas - maxUnavailable {max_unavail}): removing up to {total} old replica(s), oldest replica set first"),
            );
            old.sort_by(by_creation);
            for rs in &old {
                if scaled >= total {
                    break;
                }
                if replicas(rs) == 0 {
                    continue;
                }
                let n = replicas(rs).min(total - scaled);
                if self
                    .scale_rs_and_record(ctx, s, rs, replicas(rs) - n)
                    .is_err()
                {
                    break;
                }
                scaled += n;
            }
        }
        cleaned + scaled > 0
    }

    /// rolloutRecreate.
    fn rollout_recreate(&mut self, ctx: &mut Ctx, s: &mut Sync) {
        let (mut new_rs, mut old) = self.all_rss_and_sync_revision(ctx, s, false);
        let mut scaled_down = false;
        for rs in old.iter().filter(|r| replicas(r) > 0) {
            self.note(
                ctx,
                &s.d,
                format!("scale down replicaset {} to 0", rs.metadata.name),
                "strategy Recreate: every old pod goes before a new one is created".into(),
            );
            if let Ok((true, _)) = self.scale_rs_and_record(ctx, s, rs, 0) {
                scaled_down = true;
            }
        }
        if scaled_down {
            let old = self.refresh(s, &old);
            return self.sync_rollout_status(ctx, s, new_rs.as_ref(), &old);
        }
        // oldPodsRunning.
        let old_actual: i32 = old.iter().map(|r| r.status.replicas).sum();
        let running = old_actual > 0
            || s.pods_by_rs.iter().any(|(uid, pods)| {
                new_rs.as_ref().is_none_or(|n| &n.metadata.uid != uid)
                    && pods.iter().any(|p| match p.as_ref() {
                        Object::Pod(pod) => {
                            pod.status.phase != "Failed" && pod.status.phase != "Succeeded"
                        }
                        _ => false,
                    })
            });
        if running {
            self.note(
                ctx,
                &s.d,
                format!(
                    "wait for old pods of deployment {}/{}",
                    s.d.metadata.namespace, s.d.metadata.name
                ),
                "strategy Recreate: old pods are still running; the new replica set waits".into(),
            );
            return self.sync_rollout_status(ctx, s, new_rs.as_ref(), &old);
        }
        if new_rs.is_none() {
            let (n, o) = self.all_rss_and_sync_revision(ctx, s, true);
            new_rs = n;
            old = o;
        }
        if let Some(n) = &new_rs {
            let want = d_replicas(&s.d);
            if self.scale_rs_and_record(ctx, s, n, want).is_err() {
                return;
            }
        }
        if deployment_complete(&s.d, &s.d.status.clone()) {
            self.cleanup(ctx, s, &old);
        }
        self.sync_rollout_status(ctx, s, new_rs.as_ref(), &old);
    }

    /// cleanupDeployment: old ReplicaSets beyond revisionHistoryLimit, empty ones only.
    fn cleanup(&mut self, ctx: &mut Ctx, s: &mut Sync, old: &[ReplicaSet]) {
        let Some(limit) = s.d.spec.revision_history_limit.filter(|l| *l != i32::MAX) else {
            return;
        };
        let mut cleanable: Vec<&ReplicaSet> = old
            .iter()
            .filter(|r| r.metadata.deletion_timestamp.is_none())
            .collect();
        let diff = cleanable.len() as i64 - i64::from(limit);
        if diff <= 0 {
            return;
        }
        cleanable.sort_by(|a, b| {
            let ra = revision_of(&a.metadata.annotations).unwrap_or(0);
            let rb = revision_of(&b.metadata.annotations).unwrap_or(0);
            ra.cmp(&rb).then_with(|| by_creation(a, b))
        });
        let who = self.who.clone();
        for rs in cleanable.into_iter().take(diff as usize) {
            if rs.status.replicas != 0
                || replicas(rs) != 0
                || rs.metadata.generation > rs.status.observed_generation
            {
                continue;
            }
            self.note(
                ctx,
                &s.d,
                format!(
                    "delete old replicaset {}/{}",
                    rs.metadata.namespace, rs.metadata.name
                ),
                format!("revisionHistoryLimit is {limit}: the oldest empty revisions beyond it go"),
            );
            let _ = ctx.client(&who).delete(
                &REPLICASETS,
                &rs.metadata.namespace,
                &rs.metadata.name,
                None,
            );
        }
    }

    /// calculateStatus.
    fn calculate_status(
        &self,
        s: &Sync,
        new_rs: Option<&ReplicaSet>,
        old: &[ReplicaSet],
        now: Nanos,
    ) -> DeploymentStatus {
        let all: Vec<&ReplicaSet> = old.iter().chain(new_rs).collect();
        let available: i32 = all.iter().map(|r| r.status.available_replicas).sum();
        let total: i32 = all.iter().map(|r| replicas(r)).sum();
        let mut st = DeploymentStatus {
            observed_generation: s.d.metadata.generation,
            replicas: all.iter().map(|r| r.status.replicas).sum(),
            updated_replicas: new_rs.map(|r| r.status.replicas).unwrap_or(0),
            ready_replicas: all.iter().map(|r| r.status.ready_replicas).sum(),
            available_replicas: available,
            unavailable_replicas: (total - available).max(0),
            conditions: s.d.status.conditions.clone(),
            collision_count: s.d.status.collision_count,
        };
        if available >= d_replicas(&s.d) - max_unavailable(&s.d) {
            set_condition(
                &mut st,
                new_condition(
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.".into(),
                    now,
                ),
            );
        } else {
            set_condition(
                &mut st,
                new_condition(
                    "Available",
                    "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.".into(),
                    now,
                ),
            );
        }
        st
    }

    /// syncDeploymentStatus.
    fn sync_deployment_status(
        &mut self,
        ctx: &mut Ctx,
        s: &mut Sync,
        new_rs: Option<&ReplicaSet>,
        old: &[ReplicaSet],
    ) -> Result<(), ApiError> {
        let st = self.calculate_status(s, new_rs, old, ctx.now());
        if st == s.d.status {
            return Ok(());
        }
        s.d.status = st;
        self.update_status(ctx, s)
    }

    /// syncRolloutStatus: the Progressing condition, replica failures, and a resync
    /// at the progress deadline.
    fn sync_rollout_status(
        &mut self,
        ctx: &mut Ctx,
        s: &mut Sync,
        new_rs: Option<&ReplicaSet>,
        old: &[ReplicaSet],
    ) {
        let now = ctx.now();
        let mut st = self.calculate_status(s, new_rs, old, now);
        if !has_progress_deadline(&s.d) {
            remove_condition(&mut st, "Progressing");
        }
        let current = condition(&s.d.status, "Progressing").cloned();
        let complete_before = st.replicas == st.updated_replicas
            && current
                .as_ref()
                .is_some_and(|c| c.reason == "NewReplicaSetAvailable");
        let name = &s.d.metadata.name;
        if has_progress_deadline(&s.d) && !complete_before {
            if deployment_complete(&s.d, &st) {
                let msg = match new_rs {
                    Some(r) => format!(
                        "ReplicaSet \"{}\" has successfully progressed.",
                        r.metadata.name
                    ),
                    None => format!("Deployment \"{name}\" has successfully progressed."),
                };
                set_condition(
                    &mut st,
                    new_condition("Progressing", "True", "NewReplicaSetAvailable", msg, now),
                );
            } else if progressing(&s.d.status, &st) {
                let msg = match new_rs {
                    Some(r) => format!("ReplicaSet \"{}\" is progressing.", r.metadata.name),
                    None => format!("Deployment \"{name}\" is progressing."),
                };
                let mut c = new_condition("Progressing", "True", "ReplicaSetUpdated", msg, now);
                if let Some(cur) = &current {
                    if cur.status == "True" {
                        c.last_transition_time = cur.last_transition_time;
                    }
                    remove_condition(&mut st, "Progressing");
                }
                set_condition(&mut st, c);
            } else if timed_out(&s.d, &st, now) {
                let msg = match new_rs {
                    Some(r) => format!(
                        "ReplicaSet \"{}\" has timed out progressing.",
                        r.metadata.name
                    ),
                    None => format!("Deployment \"{name}\" has timed out progressing."),
                };
                set_condition(
                    &mut st,
                    new_condition("Progressing", "False", "ProgressDeadlineExceeded", msg, now),
                );
            }
        }
        // Replica failures of the new ReplicaSet first, else of any.
        let failure = new_rs
            .into_iter()
            .chain(old.iter())
            .flat_map(|r| r.status.conditions.iter())
            .find(|c| c.kind == "ReplicaFailure")
            .cloned();
        match failure {
            Some(c) => set_condition(
                &mut st,
                Condition {
                    kind: c.kind,
                    status: c.status,
                    last_update_time: c.last_transition_time,
                    last_transition_time: c.last_transition_time,
                    reason: c.reason,
                    message: c.message,
                    ..Default::default()
                },
            ),
            None => remove_condition(&mut st, "ReplicaFailure"),
        }
        if st == s.d.status {
            self.requeue_stuck(ctx, s, &st, now);
            return;
        }
        let progressing_cond =
            condition(&st, "Progressing").map(|c| (c.reason.clone(), c.message.clone()));
        s.d.status = st.clone();
        if let Some((reason, message)) = progressing_cond {
            if reason == "ProgressDeadlineExceeded" {
                self.note(
                    ctx,
                    &s.d,
                    format!("mark deployment {}/{} failed", s.d.metadata.namespace, name),
                    format!(
                        "{message} No progress for progressDeadlineSeconds ({}s)",
                        s.d.spec.progress_deadline_seconds.unwrap_or(0)
                    ),
                );
            }
        }
        let _ = self.update_status(ctx, s);
    }

    /// requeueStuckDeployment: look again when the progress deadline passes.
    fn requeue_stuck(&mut self, ctx: &mut Ctx, s: &Sync, st: &DeploymentStatus, now: Nanos) {
        let Some(c) = condition(st, "Progressing") else {
            return;
        };
        if !has_progress_deadline(&s.d)
            || c.reason == "ProgressDeadlineExceeded"
            || deployment_complete(&s.d, st)
        {
            return;
        }
        let Some(t) = c.last_update_time else { return };
        let deadline = i64::from(s.d.spec.progress_deadline_seconds.unwrap_or(600));
        let at_secs = t.0 - EPOCH_UNIX + deadline;
        let at = (at_secs.max(0) as u64) * NANOS_PER_SEC;
        let key = key_of(&s.d.metadata);
        if at <= now + NANOS_PER_SEC {
            return;
        }
        // Wake just past the deadline (timed out means strictly after it).
        self.queue.add_after(ctx, key, at - now + 1);
    }
}

/// `SetNewReplicaSetAnnotations`.
fn set_new_rs_annotations(
    d: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: &str,
    exists: bool,
) -> bool {
    let mut changed = false;
    for (k, v) in &d.metadata.annotations {
        if skip_copy_annotation(k) || rs.metadata.annotations.get(k) == Some(v) {
            continue;
        }
        rs.metadata.annotations.insert(k.clone(), v.clone());
        changed = true;
    }
    let old = rs.metadata.annotations.get(REVISION).cloned();
    let old_int = match &old {
        Some(v) => match v.parse::<i64>() {
            Ok(n) => n,
            Err(_) => return false,
        },
        None => 0,
    };
    let Ok(new_int) = new_revision.parse::<i64>() else {
        return false;
    };
    if old_int < new_int {
        rs.metadata
            .annotations
            .insert(REVISION.into(), new_revision.into());
        changed = true;
        if let Some(old) = old {
            let history = rs
                .metadata
                .annotations
                .get(REVISION_HISTORY)
                .cloned()
                .unwrap_or_default();
            if history.is_empty() {
                rs.metadata.annotations.insert(REVISION_HISTORY.into(), old);
            } else {
                let mut parts: Vec<&str> = history.split(',').collect();
                let mut total = history.len() + old.len() + 1;
                let mut start = 0;
                while total > MAX_REV_HISTORY_CHARS && start < parts.len() {
                    total -= parts[start].len() + 1;
                    start += 1;
                }
                if total <= MAX_REV_HISTORY_CHARS {
                    parts = parts.split_off(start);
                    parts.push(&old);
                    let joined = parts.join(",");
                    rs.metadata
                        .annotations
                        .insert(REVISION_HISTORY.into(), joined);
                }
            }
        }
    }
    if !exists && set_replicas_annotations(rs, d_replicas(d), d_replicas(d) + max_surge(d)) {
        changed = true;
    }
    changed
}

fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let mut changed = false;
    for (k, v) in [(DESIRED_REPLICAS, desired), (MAX_REPLICAS, max)] {
        let v = v.to_string();
        if rs.metadata.annotations.get(k) != Some(&v) {
            rs.metadata.annotations.insert(k.into(), v);
            changed = true;
        }
    }
    changed
}

fn set_deployment_revision(d: &mut Deployment, revision: &str) -> bool {
    if d.metadata.annotations.get(REVISION).map(String::as_str) != Some(revision) {
        d.metadata
            .annotations
            .insert(REVISION.into(), revision.into());
        return true;
    }
    false
}

/// `NewRSNewReplicas`.
fn new_rs_new_replicas(d: &Deployment, all: &[ReplicaSet], new_rs: &ReplicaSet) -> i32 {
    let want = d_replicas(d);
    if !is_rolling(d) {
        return want;
    }
    let surge = d
        .spec
        .strategy
        .as_ref()
        .and_then(|s| s.rolling_update.as_ref())
        .and_then(|r| r.max_surge.as_ref())
        .map(|v| v.scaled_value(want, true).unwrap_or(0))
        .unwrap_or(0);
    let current: i32 = all.iter().map(replicas).sum();
    let max_total = want + surge;
    if current >= max_total {
        return replicas(new_rs);
    }
    let up = (max_total - current).min(want - replicas(new_rs));
    replicas(new_rs) + up
}

/// `IsSaturated`.
fn is_saturated(d: &Deployment, rs: &ReplicaSet) -> bool {
    let want = d_replicas(d);
    let desired = rs
        .metadata
        .annotations
        .get(DESIRED_REPLICAS)
        .and_then(|v| v.parse::<i32>().ok());
    desired == Some(want) && replicas(rs) == want && rs.status.available_replicas == want
}

/// `GetProportion`.
fn proportion(rs: &ReplicaSet, d: &Deployment, to_add: i32, added: i32) -> i32 {
    if replicas(rs) == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = if d_replicas(d) == 0 {
        -replicas(rs)
    } else {
        let total = d_replicas(d) + max_surge(d);
        let annotated = rs
            .metadata
            .annotations
            .get(MAX_REPLICAS)
            .and_then(|v| v.parse::<i32>().ok())
            .unwrap_or(d.status.replicas);
        if annotated == 0 {
            0
        } else {
            let size = f64::from(replicas(rs)) * f64::from(total) / f64::from(annotated);
            size.round() as i32 - replicas(rs)
        }
    };
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

/// `DeploymentProgressing`.
fn progressing(old: &DeploymentStatus, new: &DeploymentStatus) -> bool {
    let old_old = old.replicas - old.updated_replicas;
    let new_old = new.replicas - new.updated_replicas;
    new.updated_replicas > old.updated_replicas
        || new_old < old_old
        || new.ready_replicas > old.ready_replicas
        || new.available_replicas > old.available_replicas
}

/// `DeploymentTimedOut`.
fn timed_out(d: &Deployment, st: &DeploymentStatus, now: Nanos) -> bool {
    if !has_progress_deadline(d) {
        return false;
    }
    let Some(c) = condition(st, "Progressing") else {
        return false;
    };
    if c.reason == "NewReplicaSetAvailable" {
        return false;
    }
    if c.reason == "ProgressDeadlineExceeded" {
        return true;
    }
    let Some(from) = c.last_update_time else {
        return false;
    };
    let deadline = i64::from(d.spec.progress_deadline_seconds.unwrap_or(600));
    let limit = ((from.0 - EPOCH_UNIX + deadline).max(0) as u64) * NANOS_PER_SEC;
    limit < now
}

impl Component for DeploymentController {
    fn name(&self) -> String {
        NAME.into()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        vec![
            WatchSpec::new(&DEPLOYMENTS, NAME),
            WatchSpec::new(&REPLICASETS, NAME),
            WatchSpec::new(&PODS, NAME),
        ]
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>) {
        match watch {
            0 => {
                let key = key_of(obj.meta());
                if kind == EventType::Deleted {
                    self.deployments.remove(&key);
                } else {
                    self.deployments.insert(key.clone(), obj.clone());
                    self.queue.add(ctx, key);
                }
            }
            1 => self.on_rs(ctx, kind, obj),
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
    use crate::api::apps::{DeploymentStrategy, RollingUpdateDeployment};
    use crate::api::intstr::IntOrString;

    fn dep(replicas: i32, surge: IntOrString, unavail: IntOrString) -> Deployment {
        let mut d = Deployment::default();
        d.spec.replicas = Some(replicas);
        d.spec.strategy = Some(DeploymentStrategy {
            kind: Some("RollingUpdate".into()),
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: Some(surge),
                max_unavailable: Some(unavail),
            }),
        });
        d
    }

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down() {
        let pct = |s: &str| IntOrString::String(s.into());
        assert_eq!(resolve_fenceposts(&dep(10, pct("25%"), pct("25%"))), (3, 2));
        assert_eq!(resolve_fenceposts(&dep(3, pct("25%"), pct("25%"))), (1, 0));
        assert_eq!(resolve_fenceposts(&dep(1, pct("0%"), pct("1%"))), (0, 1));
        assert_eq!(
            resolve_fenceposts(&dep(2, IntOrString::Int(0), IntOrString::Int(0))),
            (0, 1)
        );
    }

    #[test]
    fn safe_encode_maps_digits_as_upstream() {
        // '0'..'9' are bytes 48..57; 48 % 27 = 21 -> '4'.
        assert_eq!(safe_encode("0123456789"), "456789bcdf");
        let t = PodTemplateSpec::default();
        assert_eq!(compute_hash(&t, None), compute_hash(&t, None));
        assert_ne!(compute_hash(&t, None), compute_hash(&t, Some(1)));
    }
}
