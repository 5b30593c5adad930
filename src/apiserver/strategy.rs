//! What the registry does to an object around a write, per kind (upstream's
//! RESTCreateStrategy / RESTUpdateStrategy): reset or keep status, bump generation,
//! compute a pod's QoS class, turn a Secret's stringData into data.

use crate::api::core::{Pod, PodStatus};
use crate::api::object::{ResourceType, SCALES};
use crate::api::Object;

/// Kinds whose `metadata.generation` counts spec changes.
fn tracks_generation(obj: &Object) -> bool {
    matches!(
        obj,
        Object::Deployment(_)
            | Object::ReplicaSet(_)
            | Object::ReplicationController(_)
            | Object::Ingress(_)
    )
}

/// PrepareForCreate: what the server owns is reset.
pub fn prepare_for_create(obj: &mut Object) {
    if tracks_generation(obj) {
        obj.meta_mut().generation = 1;
    }
    match obj {
        Object::Pod(p) => {
            p.status = PodStatus {
                phase: "Pending".into(),
                qos_class: qos_class(p).into(),
                ..Default::default()
            };
        }
        Object::Deployment(d) => d.status = Default::default(),
        Object::ReplicaSet(r) => r.status = Default::default(),
        Object::ReplicationController(r) => r.status = Default::default(),
        Object::Service(s) => s.status = Default::default(),
        Object::Ingress(i) => i.status = Default::default(),
        Object::ResourceQuota(q) => q.status = Default::default(),
        Object::Namespace(n) => {
            n.status = crate::api::core::NamespaceStatus {
                phase: "Active".into(),
                ..Default::default()
            };
            if !n.spec.finalizers.iter().any(|f| f == "kubernetes") {
                n.spec.finalizers.push("kubernetes".into());
            }
        }
        Object::Secret(s) => string_data_to_data(s),
        _ => {}
    }
    if let Object::Namespace(n) = obj {
        let name = n.metadata.name.clone();
        n.metadata
            .labels
            .insert("kubernetes.io/metadata.name".into(), name);
    }
}

fn string_data_to_data(s: &mut crate::api::core::Secret) {
    for (k, v) in std::mem::take(&mut s.string_data) {
        s.data.insert(k, base64_encode(v.as_bytes()));
    }
}

/// Standard base64 with padding (what a Secret's data holds).
pub fn base64_encode(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Decodes standard base64; Go's error text on failure.
pub fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut buf = 0u32;
    let mut bits = 0;
    let mut pad = 0;
    for (i, c) in s.bytes().enumerate() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            b'\r' | b'\n' => continue,
            _ => return Err(format!("illegal base64 data at input byte {i}")),
        };
        if pad > 0 {
            return Err(format!("illegal base64 data at input byte {i}"));
        }
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    let len = s.bytes().filter(|c| !matches!(c, b'\r' | b'\n')).count();
    if len % 4 != 0 {
        return Err(format!(
            "illegal base64 data at input byte {}",
            len - len % 4
        ));
    }
    Ok(out)
}

/// PrepareForUpdate: the main resource keeps the old status; a status update keeps
/// everything but the status. Generation moves when the spec does.
pub fn prepare_for_update(new: &mut Object, old: &Object, subresource: &str) {
    {
        let (nm, om) = (new.meta().clone(), old.meta());
        let m = new.meta_mut();
        m.uid = om.uid.clone();
        m.creation_timestamp = om.creation_timestamp;
        m.deletion_timestamp = om.deletion_timestamp;
        m.deletion_grace_period_seconds = om.deletion_grace_period_seconds;
        m.generation = om.generation;
        let _ = nm;
    }
    if subresource == "status" {
        let status_only = replace_status(old.clone(), new);
        *new = status_only;
        return;
    }
    // The main resource cannot change status (nodes and namespaces excepted: their
    // owners write both).
    match (&mut *new, old) {
        (Object::Pod(n), Object::Pod(o)) => n.status = o.status.clone(),
        (Object::Deployment(n), Object::Deployment(o)) => {
            n.status = o.status.clone();
            if n.spec != o.spec {
                n.metadata.generation += 1;
            }
        }
        (Object::ReplicaSet(n), Object::ReplicaSet(o)) => {
            n.status = o.status.clone();
            if n.spec != o.spec {
                n.metadata.generation += 1;
            }
        }
        (Object::ReplicationController(n), Object::ReplicationController(o)) => {
            n.status = o.status.clone();
            if n.spec != o.spec {
                n.metadata.generation += 1;
            }
        }
        (Object::Ingress(n), Object::Ingress(o)) => {
            n.status = o.status.clone();
            if n.spec != o.spec {
                n.metadata.generation += 1;
            }
        }
        (Object::Service(n), Object::Service(o)) => {
            n.status = o.status.clone();
            drop_type_dependent_fields(n, o);
        }
        (Object::ResourceQuota(n), Object::ResourceQuota(o)) => n.status = o.status.clone(),
        (Object::Namespace(n), Object::Namespace(o)) => {
            n.status = o.status.clone();
            n.spec.finalizers = o.spec.finalizers.clone();
        }
        (Object::Secret(s), _) => string_data_to_data(s),
        _ => {}
    }
}

/// `dropTypeDependentFields`: on a type change, what the old type needed and the
/// user did not change goes (node ports, allocateLoadBalancerNodePorts,
/// loadBalancerClass, externalTrafficPolicy), and a Service that is no longer a
/// LoadBalancer loses its load-balancer status.
fn drop_type_dependent_fields(n: &mut crate::api::core::Service, o: &crate::api::core::Service) {
    let needs_node_port = |t: &str| t == "NodePort" || t == "LoadBalancer";
    let external = |s: &crate::api::core::Service| {
        needs_node_port(&s.spec.kind)
            || (s.spec.kind == "ClusterIP" && !s.spec.external_ips.is_empty())
    };
    if needs_node_port(&o.spec.kind) && !needs_node_port(&n.spec.kind) {
        let same = n.spec.ports.len() == o.spec.ports.len()
            && n.spec
                .ports
                .iter()
                .zip(&o.spec.ports)
                .all(|(a, b)| a.node_port == b.node_port);
        if same {
            for p in &mut n.spec.ports {
                p.node_port = 0;
            }
        }
    }
    if o.spec.kind == "LoadBalancer" && n.spec.kind != "LoadBalancer" {
        if n.spec.allocate_load_balancer_node_ports.is_some()
            && n.spec.allocate_load_balancer_node_ports == o.spec.allocate_load_balancer_node_ports
        {
            n.spec.allocate_load_balancer_node_ports = None;
        }
        if n.spec.load_balancer_class == o.spec.load_balancer_class {
            n.spec.load_balancer_class = None;
        }
    }
    if external(o)
        && !external(n)
        && n.spec.external_traffic_policy == o.spec.external_traffic_policy
    {
        n.spec.external_traffic_policy.clear();
    }
    if n.spec.kind != "LoadBalancer" {
        n.status.load_balancer = Default::default();
    }
}

/// The old object with the new one's status.
fn replace_status(mut old: Object, new: &Object) -> Object {
    let rv = new.meta().resource_version.clone();
    match (&mut old, new) {
        (Object::Pod(o), Object::Pod(n)) => o.status = n.status.clone(),
        (Object::Node(o), Object::Node(n)) => o.status = n.status.clone(),
        (Object::Deployment(o), Object::Deployment(n)) => {
            // deploymentStatusStrategy keeps the new metadata but for labels: the
            // controller writes the revision annotation with the status.
            o.status = n.status.clone();
            o.metadata.annotations = n.metadata.annotations.clone();
        }
        (Object::ReplicaSet(o), Object::ReplicaSet(n)) => o.status = n.status.clone(),
        (Object::ReplicationController(o), Object::ReplicationController(n)) => {
            o.status = n.status.clone()
        }
        (Object::Service(o), Object::Service(n)) => o.status = n.status.clone(),
        (Object::Namespace(o), Object::Namespace(n)) => o.status = n.status.clone(),
        (Object::ResourceQuota(o), Object::ResourceQuota(n)) => o.status = n.status.clone(),
        (Object::Ingress(o), Object::Ingress(n)) => o.status = n.status.clone(),
        _ => {}
    }
    old.meta_mut().resource_version = rv;
    old
}

/// True when a kind has a `scale` subresource.
pub fn has_scale(rt: &ResourceType) -> bool {
    rt.subresources.contains(&"scale") && !std::ptr::eq(rt, &SCALES)
}

/// GetPodQOS: Guaranteed when every container limits cpu and memory and requests
/// equal limits; BestEffort when nothing requests or limits anything; else Burstable.
pub fn qos_class(pod: &Pod) -> &'static str {
    let mut any = false;
    let mut guaranteed = true;
    for c in pod.spec.init_containers.iter().chain(&pod.spec.containers) {
        let r = &c.resources;
        for res in ["cpu", "memory"] {
            let req = r.requests.get(res).filter(|q| !q.is_zero());
            let lim = r.limits.get(res).filter(|q| !q.is_zero());
            if req.is_some() || lim.is_some() {
                any = true;
            }
            match (req, lim) {
                (_, None) => guaranteed = false,
                (Some(a), Some(b)) if a != b => guaranteed = false,
                _ => {}
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn base64_round_trips() {
        for s in ["", "a", "ab", "abc", "my-app", "39528$vdg7Jb"] {
            assert_eq!(
                base64_decode(&base64_encode(s.as_bytes())).unwrap(),
                s.as_bytes()
            );
        }
        assert_eq!(base64_encode(b"my-app"), "bXktYXBw");
        assert_eq!(
            base64_decode("bXk!").unwrap_err(),
            "illegal base64 data at input byte 3"
        );
        assert_eq!(
            base64_decode("bXk").unwrap_err(),
            "illegal base64 data at input byte 0"
        );
    }
}
