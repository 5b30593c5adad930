//! What the scheduler writes besides bindings (upstream `pkg/scheduler/util` and the
//! event recorder): pod status patches (PodScheduled, nominatedNodeName,
//! DisruptionTarget), deletions of preemption victims, and Events.

use serde_json::{json, Value};

use crate::api::core::{Event, EventSource, ObjectReference, Pod};
use crate::api::meta::Condition;
use crate::api::object::PODS;
use crate::api::time::{MicroTime, EPOCH_UNIX};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::component::Ctx;

/// `validation.NoteLengthLimit`.
pub const NOTE_LENGTH_LIMIT: usize = 1024;

/// `truncateMessage`.
pub fn truncate_message(msg: &str) -> String {
    if msg.len() <= NOTE_LENGTH_LIMIT {
        return msg.to_string();
    }
    let suffix = " ...";
    let mut cut = NOTE_LENGTH_LIMIT - suffix.len();
    while !msg.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", &msg[..cut])
}

/// `UpdatePodCondition`'s test: would setting `cond` change the pod's status?
pub fn condition_changes(pod: &Pod, cond: &Condition) -> bool {
    match pod.status.conditions.iter().find(|c| c.kind == cond.kind) {
        None => true,
        Some(old) => {
            old.status != cond.status || old.reason != cond.reason || old.message != cond.message
        }
    }
}

/// `updatePod`: patches pods/status with the condition (if it changes anything) and
/// the nominated node (Some: set, Some(""): clear). Returns whether it wrote.
pub fn patch_pod_status(
    ctx: &mut Ctx,
    who: &Identity,
    pod: &Pod,
    cond: Option<Condition>,
    nominated: Option<&str>,
) -> bool {
    let cond = cond.filter(|c| condition_changes(pod, c));
    let nominate = nominated.filter(|n| *n != pod.status.nominated_node_name);
    if cond.is_none() && nominate.is_none() {
        return false;
    }
    let mut status = serde_json::Map::new();
    if let Some(mut c) = cond {
        let old = pod.status.conditions.iter().find(|o| o.kind == c.kind);
        c.last_transition_time = match old {
            Some(o) if o.status == c.status => o.last_transition_time,
            _ => Some(crate::api::time::Time::from_virtual_nanos(ctx.now())),
        };
        let mut v = serde_json::to_value(&c).unwrap_or(Value::Null);
        v["lastProbeTime"] = Value::Null;
        status.insert("conditions".into(), json!([v]));
    }
    if let Some(n) = nominate {
        status.insert(
            "nominatedNodeName".into(),
            if n.is_empty() { Value::Null } else { json!(n) },
        );
    }
    let ns = pod.metadata.namespace.clone();
    let name = pod.metadata.name.clone();
    ctx.client(who)
        .patch_status(
            &PODS,
            &ns,
            &name,
            "application/strategic-merge-patch+json",
            json!({"status": Value::Object(status)}),
        )
        .is_ok()
}

fn reference(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: "Pod".into(),
        namespace: pod.metadata.namespace.clone(),
        name: pod.metadata.name.clone(),
        uid: pod.metadata.uid.clone(),
        api_version: "v1".into(),
        resource_version: pod.metadata.resource_version.clone(),
        field_path: String::new(),
    }
}

/// Records an Event about a pod, as the scheduler's events recorder does (name
/// `<pod>.<unix nanos in hex>`); returns the name it got.
#[allow(clippy::too_many_arguments)]
pub fn record_event(
    ctx: &mut Ctx,
    who: &Identity,
    reporting: &str,
    regarding: &Pod,
    related: Option<&Pod>,
    kind: &str,
    reason: &str,
    action: &str,
    message: &str,
) -> Option<String> {
    let now = ctx.now();
    let unix_nanos = (EPOCH_UNIX as u128) * 1_000_000_000 + u128::from(now);
    let mut e = Event::default();
    e.metadata.namespace = regarding.metadata.namespace.clone();
    e.involved_object = reference(regarding);
    e.related = related.map(reference);
    e.reason = reason.into();
    e.message = message.into();
    e.kind = kind.into();
    e.action = action.into();
    e.event_time = Some(MicroTime::from_virtual_nanos(now));
    e.reporting_component = reporting.into();
    e.reporting_instance = format!("{reporting}-kubeglass");
    e.source = EventSource {
        component: reporting.into(),
        host: String::new(),
    };
    for bump in 0..8u128 {
        let mut ev = e.clone();
        ev.metadata.name = format!("{}.{:x}", regarding.metadata.name, unix_nanos + bump);
        let name = ev.metadata.name.clone();
        match ctx.client(who).create(Object::from(ev)) {
            Err(err) if err.code() == 409 => continue,
            Err(_) => return None,
            Ok(_) => return Some(name),
        }
    }
    None
}

/// `util.DeletePod`: DELETE with the pod's own grace period.
pub fn delete_pod(ctx: &mut Ctx, who: &Identity, pod: &Pod) -> bool {
    ctx.client(who)
        .delete(&PODS, &pod.metadata.namespace, &pod.metadata.name, None)
        .is_ok()
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn truncates_as_upstream() {
        let long = "x".repeat(2000);
        let t = truncate_message(&long);
        assert_eq!(t.len(), NOTE_LENGTH_LIMIT);
        assert!(t.ends_with(" ..."));
        assert_eq!(truncate_message("short"), "short");
    }
}
