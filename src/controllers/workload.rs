//! What the workload controllers (ReplicaSet, ReplicationController, Deployment) and
//! the garbage collector share, after upstream's pkg/controller/controller_utils.go
//! and k8s.io/kubectl's pod helpers: pod readiness and availability, controller
//! references, Events as client-go's legacy recorder writes them, and a small work
//! queue that batches watch events into one sync per object, as a workqueue does.

use std::collections::{BTreeMap, BTreeSet};

use super::correlator::{EventCorrelator, Verdict, SPAM_BURST, SPAM_REFILL};
use crate::api::core::{Event, EventSource, ObjectReference, Pod};
use crate::api::meta::{Condition, ObjectMeta, OwnerReference};
use crate::api::object::EVENTS;
use crate::api::time::{Time, EPOCH_UNIX};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::component::Ctx;
use crate::kernel::{Nanos, NANOS_PER_SEC};

/// A namespaced object's key (namespace, name).
pub type Key = (String, String);

pub fn key_of(m: &ObjectMeta) -> Key {
    (m.namespace.clone(), m.name.clone())
}

/// `IsPodActive`: not Succeeded, not Failed, not being deleted.
pub fn is_pod_active(pod: &Pod) -> bool {
    pod.status.phase != "Succeeded"
        && pod.status.phase != "Failed"
        && pod.metadata.deletion_timestamp.is_none()
}

/// The pod's Ready condition, if any.
pub fn ready_condition(pod: &Pod) -> Option<&Condition> {
    pod.status.conditions.iter().find(|c| c.kind == "Ready")
}

/// `podutil.IsPodReady`: the Ready condition is True.
pub fn is_pod_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|c| c.status == "True")
}

/// `podutil.IsPodAvailable`: ready for at least `min_ready_seconds` (strictly
/// before now, as upstream compares with `Before`).
pub fn is_pod_available(pod: &Pod, min_ready_seconds: i32, now: Nanos) -> bool {
    let Some(c) = ready_condition(pod).filter(|c| c.status == "True") else {
        return false;
    };
    if min_ready_seconds <= 0 {
        return true;
    }
    match c.last_transition_time {
        Some(t) => {
            let ready_at = (t.0 - EPOCH_UNIX).saturating_add(i64::from(min_ready_seconds));
            let now_secs = (now / NANOS_PER_SEC) as i64;
            // Time has second precision: available once the whole second has passed.
            ready_at < now_secs || (ready_at == now_secs && now % NANOS_PER_SEC > 0)
        }
        None => false,
    }
}

/// The controller reference an owner puts on what it creates
/// (`metav1.NewControllerRef`: controller and blockOwnerDeletion true).
pub fn controller_ref(api_version: &str, kind: &str, m: &ObjectMeta) -> OwnerReference {
    OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name: m.name.clone(),
        uid: m.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The uid of the object's controller, if it has one.
pub fn controller_uid(m: &ObjectMeta) -> Option<&str> {
    m.controller_ref().map(|r| r.uid.as_str())
}

fn reference(api_version: &str, kind: &str, m: &ObjectMeta) -> ObjectReference {
    ObjectReference {
        kind: kind.into(),
        namespace: m.namespace.clone(),
        name: m.name.clone(),
        uid: m.uid.clone(),
        api_version: api_version.into(),
        resource_version: m.resource_version.clone(),
        field_path: String::new(),
    }
}

/// Records Events the way client-go's legacy recorder does (`record.EventRecorder`,
/// which kube-controller-manager's loops use): name `<object>.<unix nanos in hex>`,
/// source component, first and last timestamp, count 1, passed through the
/// recorder's [`EventCorrelator`] (similar Events aggregated, repeats counted, at
/// most 25 about one object and then one per 5 minutes). Events recorded at the
/// same virtual instant get successive nanoseconds, as real clocks would give them.
#[derive(Default)]
pub struct Recorder {
    last: u128,
    correlator: EventCorrelator,
}

impl Recorder {
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        ctx: &mut Ctx,
        who: &Identity,
        component: &'static str,
        api_version: &str,
        kind: &str,
        regarding: &ObjectMeta,
        event_type: &str,
        reason: &str,
        message: &str,
    ) {
        let now = ctx.now();
        let unix_nanos =
            ((EPOCH_UNIX as u128) * 1_000_000_000 + u128::from(now)).max(self.last + 1);
        self.last = unix_nanos;
        let mut e = Event::default();
        e.metadata.namespace = if regarding.namespace.is_empty() {
            "default".into()
        } else {
            regarding.namespace.clone()
        };
        e.metadata.name = format!("{}.{:x}", regarding.name, unix_nanos);
        e.involved_object = reference(api_version, kind, regarding);
        e.reason = reason.into();
        e.message = message.into();
        e.kind = event_type.into();
        e.source = EventSource {
            component: component.into(),
            host: String::new(),
        };
        let t = Time::from_virtual_nanos(now);
        e.first_timestamp = Some(t);
        e.last_timestamp = Some(t);
        e.count = 1;
        let aggregate_name = e.metadata.name.clone();
        let ns = e.metadata.namespace.clone();
        let e = match self.correlator.correlate(e, aggregate_name, now) {
            Verdict::Skip => {
                ctx.note(
                    component,
                    format!("drop a {reason} event about {kind} {ns}/{}", regarding.name),
                    format!(
                        "client-go's spam filter lets a source write {SPAM_BURST} Events about one object, then one per {}: this one is over",
                        crate::kernel::format_duration(SPAM_REFILL)
                    ),
                    Vec::new(),
                );
                return;
            }
            Verdict::Patch(e) => {
                let patch = serde_json::json!({
                    "count": e.count,
                    "lastTimestamp": e.last_timestamp.map(Time::to_rfc3339),
                    "message": e.message,
                });
                let r = ctx.client(who).patch(
                    &EVENTS,
                    &e.metadata.namespace,
                    &e.metadata.name,
                    "application/strategic-merge-patch+json",
                    patch,
                );
                match r {
                    Ok(written) => {
                        if let Object::Event(w) = written.as_ref() {
                            self.correlator.written(w);
                        }
                        return;
                    }
                    // Gone (expired or deleted): written anew, as upstream does.
                    Err(err) if err.code() == 404 => e,
                    Err(_) => return,
                }
            }
            Verdict::Create(e) => e,
        };
        let mut ev = e;
        for bump in 0..8u128 {
            if bump > 0 {
                ev.metadata.name = format!("{}.{:x}", regarding.name, unix_nanos + bump);
            }
            match ctx.client(who).create(Object::from(ev.clone())) {
                Err(err) if err.code() == 409 => {
                    self.last = unix_nanos + bump + 1;
                    continue;
                }
                Ok(written) => {
                    if let Object::Event(w) = written.as_ref() {
                        self.correlator.written(w);
                    }
                    return;
                }
                Err(_) => return,
            }
        }
    }
}

/// A work queue of keys: events mark keys dirty, and one timer at the current
/// instant syncs them all (after the watch events already queued for this instant,
/// as a workqueue collapses repeated adds). Delayed adds (`AddAfter`) get their own
/// timers.
pub struct WorkQueue<K: Ord + Clone> {
    dirty: BTreeSet<K>,
    armed: bool,
    delayed: BTreeMap<u64, K>,
    next_delay: u64,
}

impl<K: Ord + Clone> Default for WorkQueue<K> {
    fn default() -> Self {
        WorkQueue {
            dirty: BTreeSet::new(),
            armed: false,
            delayed: BTreeMap::new(),
            next_delay: 0,
        }
    }
}

/// The timer key that drains the queue; delayed keys use keys above it.
pub const DRAIN: u64 = 0;

impl<K: Ord + Clone> WorkQueue<K> {
    pub fn add(&mut self, ctx: &mut Ctx, key: K) {
        self.dirty.insert(key);
        if !self.armed {
            self.armed = true;
            ctx.after(0, DRAIN);
        }
    }

    pub fn add_after(&mut self, ctx: &mut Ctx, key: K, delay: Nanos) {
        self.next_delay += 1;
        self.delayed.insert(self.next_delay, key);
        ctx.after(delay, self.next_delay);
    }

    /// What a timer brings due: the dirty keys (for [`DRAIN`]) or one delayed key.
    pub fn take(&mut self, timer: u64) -> Vec<K> {
        if timer == DRAIN {
            self.armed = false;
            std::mem::take(&mut self.dirty).into_iter().collect()
        } else {
            self.delayed.remove(&timer).into_iter().collect()
        }
    }
}

/// A pod made from a controller's template (`controller.GetPodFromTemplate`):
/// labels, annotations and finalizers from the template, `generateName` of
/// `<owner>-`, and the controller reference.
pub fn pod_from_template(
    template: &crate::api::core::PodTemplateSpec,
    owner: &ObjectMeta,
    cref: OwnerReference,
) -> Pod {
    let mut pod = Pod::default();
    pod.metadata.namespace = owner.namespace.clone();
    pod.metadata.labels = template.metadata.labels.clone();
    pod.metadata.annotations = template.metadata.annotations.clone();
    pod.metadata.finalizers = template.metadata.finalizers.clone();
    // getPodsPrefix: `<name>-` unless that is no longer a valid name prefix.
    pod.metadata.generate_name = if owner.name.len() < 253 {
        format!("{}-", owner.name)
    } else {
        owner.name.clone()
    };
    pod.metadata.owner_references = vec![cref].into();
    pod.spec = template.spec.clone();
    pod
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn ready_at(secs: i64) -> Pod {
        let mut p = Pod::default();
        p.status.conditions.push(Condition {
            kind: "Ready".into(),
            status: "True".into(),
            last_transition_time: Some(Time(EPOCH_UNIX + secs)),
            ..Default::default()
        });
        p
    }

    #[test]
    fn availability_waits_for_min_ready_seconds() {
        let p = ready_at(10);
        assert!(is_pod_available(&p, 0, 10 * NANOS_PER_SEC));
        assert!(!is_pod_available(&p, 5, 15 * NANOS_PER_SEC));
        assert!(is_pod_available(&p, 5, 15 * NANOS_PER_SEC + 1));
        assert!(is_pod_available(&p, 5, 16 * NANOS_PER_SEC));
        assert!(!is_pod_ready(&Pod::default()));
    }
}
