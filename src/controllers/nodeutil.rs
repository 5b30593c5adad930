//! What the node controllers share (upstream `pkg/controller/util/node`,
//! `pkg/util/taints`, `component-helpers/node/topology` and client-go's legacy
//! event recorder): core/v1 Events, taint matching, tolerations, zones.

use serde_json::{json, Value};

use crate::api::core::{Event, EventSource, Node, ObjectReference, Taint, Toleration};
use crate::api::object::NODES;
use crate::api::time::{Time, EPOCH_UNIX};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::component::Ctx;

/// `v1.TaintNodeNotReady`.
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// `v1.TaintNodeUnreachable`.
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// `v1.TaintNodeUnschedulable`.
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
pub const TAINT_MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";
pub const TAINT_DISK_PRESSURE: &str = "node.kubernetes.io/disk-pressure";
pub const TAINT_PID_PRESSURE: &str = "node.kubernetes.io/pid-pressure";
pub const TAINT_NETWORK_UNAVAILABLE: &str = "node.kubernetes.io/network-unavailable";
/// `v1.TaintNodeOutOfService`.
pub const TAINT_OUT_OF_SERVICE: &str = "node.kubernetes.io/out-of-service";

/// Records a core/v1 Event as client-go's legacy recorder does (the recorder
/// node-controller, taint-eviction-controller and pod GC use): named
/// `<object>.<unix nanos in hex>`, in the object's namespace or `default`,
/// `count: 1`, first and last timestamps now. Repeats are not aggregated.
pub fn record_event(
    ctx: &mut Ctx,
    who: &Identity,
    component: &str,
    involved: ObjectReference,
    kind: &str,
    reason: &str,
    message: String,
) {
    let now = ctx.now();
    let unix_nanos = (EPOCH_UNIX as u128) * 1_000_000_000 + u128::from(now);
    let mut e = Event::default();
    e.metadata.namespace = if involved.namespace.is_empty() {
        "default".into()
    } else {
        involved.namespace.clone()
    };
    let base = involved.name.clone();
    e.involved_object = involved;
    e.reason = reason.into();
    e.message = message;
    e.kind = kind.into();
    e.count = 1;
    e.first_timestamp = Some(Time::from_virtual_nanos(now));
    e.last_timestamp = e.first_timestamp;
    e.reporting_component = component.into();
    e.source = EventSource {
        component: component.into(),
        host: String::new(),
    };
    for bump in 0..8u128 {
        let mut ev = e.clone();
        ev.metadata.name = format!("{base}.{:x}", unix_nanos + bump);
        match ctx.client(who).create(Object::from(ev)) {
            Err(err) if err.code() == 409 => continue,
            _ => return,
        }
    }
}

/// The reference an Event about a node carries (`RecordNodeEvent`,
/// `RecordNodeStatusChange`).
pub fn node_ref(node: &Node) -> ObjectReference {
    ObjectReference {
        kind: "Node".into(),
        api_version: "v1".into(),
        name: node.metadata.name.clone(),
        uid: node.metadata.uid.clone(),
        ..Default::default()
    }
}

/// `Taint.MatchTaint`: same key and effect.
pub fn match_taint(a: &Taint, b: &Taint) -> bool {
    a.key == b.key && a.effect == b.effect
}

/// `taintutils.TaintExists`.
pub fn taint_exists(taints: &[Taint], key: &str, effect: &str) -> bool {
    taints.iter().any(|t| t.key == key && t.effect == effect)
}

/// `Toleration.ToleratesTaint`: effect and key match when set; an empty or `Equal`
/// operator needs the same value, `Exists` any.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if !t.effect.is_empty() && t.effect != taint.effect {
        return false;
    }
    if !t.key.is_empty() && t.key != taint.key {
        return false;
    }
    match t.operator.as_deref() {
        None | Some("") | Some("Equal") => t.value == taint.value,
        Some("Exists") => true,
        _ => false,
    }
}

/// `nodetopology.GetZoneKey`: `region:\0:zone` from the topology labels (or their
/// deprecated beta forms), empty when the node has neither.
pub fn zone_key(node: &Node) -> String {
    let l = &node.metadata.labels;
    let get = |ga: &str, beta: &str| {
        l.get(ga)
            .or_else(|| l.get(beta))
            .cloned()
            .unwrap_or_default()
    };
    let region = get(
        "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/region",
    );
    let zone = get(
        "topology.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/zone",
    );
    if region.is_empty() && zone.is_empty() {
        return String::new();
    }
    format!("{region}:\x00:{zone}")
}

/// `taint.ToString()`: `key=value:Effect`, or `key:Effect` without a value.
pub fn taint_string(t: &Taint) -> String {
    if t.value.is_empty() {
        format!("{}:{}", t.key, t.effect)
    } else {
        format!("{}={}:{}", t.key, t.value, t.effect)
    }
}

/// `SwapNodeControllerTaint`: adds `add` (stamped `timeAdded` now) and removes
/// `remove`, as a strategic merge patch of `spec.taints` with the node's
/// resourceVersion as precondition, from `node` (the caller's latest copy). On a
/// conflict it reads the node again and retries, as upstream does. Returns the
/// node as written, or None when it failed.
pub fn swap_node_taints(
    ctx: &mut Ctx,
    who: &Identity,
    node: &Node,
    add: &[Taint],
    remove: &[Taint],
) -> Option<Node> {
    let now = Time::from_virtual_nanos(ctx.now());
    let mut current = node.clone();
    for _ in 0..5 {
        let mut taints: Vec<Taint> = current
            .spec
            .taints
            .iter()
            .filter(|t| !remove.iter().any(|r| match_taint(r, t)))
            .cloned()
            .collect();
        let mut changed = taints.len() != current.spec.taints.len();
        for a in add {
            let mut a = a.clone();
            a.time_added = Some(now);
            match taints.iter_mut().find(|t| match_taint(t, &a)) {
                Some(t) if t.value == a.value => {}
                Some(t) => {
                    *t = a;
                    changed = true;
                }
                None => {
                    taints.push(a);
                    changed = true;
                }
            }
        }
        if !changed {
            return Some(current);
        }
        let taints_json: Vec<Value> = taints
            .iter()
            .map(|t| serde_json::to_value(t).unwrap_or(Value::Null))
            .collect();
        let patch = json!({
            "metadata": {"resourceVersion": current.metadata.resource_version},
            "spec": {"taints": taints_json},
        });
        let name = current.metadata.name.clone();
        match ctx.client(who).patch(
            &NODES,
            "",
            &name,
            "application/strategic-merge-patch+json",
            patch,
        ) {
            Ok(o) => {
                return match o.as_ref() {
                    Object::Node(n) => Some((**n).clone()),
                    _ => None,
                }
            }
            Err(e) if e.code() == 409 => match ctx.client(who).get(&NODES, "", &name) {
                Ok(o) => match o.as_ref() {
                    Object::Node(n) => current = (**n).clone(),
                    _ => return None,
                },
                Err(_) => return None,
            },
            Err(_) => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn zone_keys_as_upstream() {
        let mut n = Node::default();
        assert_eq!(zone_key(&n), "");
        n.metadata
            .labels
            .insert("topology.kubernetes.io/zone".into(), "a".into());
        assert_eq!(zone_key(&n), ":\x00:a");
        n.metadata.labels.insert(
            "failure-domain.beta.kubernetes.io/region".into(),
            "r".into(),
        );
        assert_eq!(zone_key(&n), "r:\x00:a");
    }

    #[test]
    fn toleration_matching() {
        let taint = Taint {
            key: TAINT_UNREACHABLE.into(),
            effect: "NoExecute".into(),
            ..Default::default()
        };
        let exists = Toleration {
            key: TAINT_UNREACHABLE.into(),
            operator: Some("Exists".into()),
            effect: "NoExecute".into(),
            ..Default::default()
        };
        assert!(tolerates(&exists, &taint));
        let other = Toleration {
            key: TAINT_NOT_READY.into(),
            operator: Some("Exists".into()),
            ..Default::default()
        };
        assert!(!tolerates(&other, &taint));
        let all = Toleration {
            operator: Some("Exists".into()),
            ..Default::default()
        };
        assert!(tolerates(&all, &taint));
        assert_eq!(
            taint_string(&taint),
            "node.kubernetes.io/unreachable:NoExecute"
        );
    }
}
