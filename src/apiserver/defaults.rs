//! Defaulting, as upstream's SetDefaults_* functions apply it when a request is
//! decoded (pkg/apis/core/v1/defaults.go, pkg/apis/apps/v1/defaults.go).

use serde_json::Value;

use crate::api::apps::{DeploymentStrategy, RollingUpdateDeployment};
use crate::api::core::{Container, PodSpec, PodTemplateSpec, Probe, Service};
use crate::api::intstr::IntOrString;
use crate::api::Object;

/// Applies every default for the object's kind.
pub fn apply(obj: &mut Object) {
    match obj {
        Object::Pod(p) => pod_spec(&mut p.spec),
        Object::ReplicationController(rc) => {
            if let Some(t) = rc.spec.template.as_mut() {
                pod_spec(&mut t.spec);
                // An RC's selector and labels default to its template's labels.
                if rc.spec.selector.is_empty() {
                    rc.spec.selector = (*t.metadata.labels).clone();
                }
                if rc.metadata.labels.is_empty() {
                    rc.metadata.labels = t.metadata.labels.clone();
                }
            }
            rc.spec.replicas.get_or_insert(1);
        }
        Object::ReplicaSet(rs) => {
            rs.spec.replicas.get_or_insert(1);
            if let Some(t) = rs.spec.template.as_mut() {
                pod_spec(&mut t.spec);
            }
        }
        Object::Deployment(d) => {
            d.spec.replicas.get_or_insert(1);
            let strategy = d
                .spec
                .strategy
                .get_or_insert_with(DeploymentStrategy::default);
            let kind = strategy.kind.get_or_insert_with(|| "RollingUpdate".into());
            if kind == "RollingUpdate" {
                let ru = strategy
                    .rolling_update
                    .get_or_insert_with(RollingUpdateDeployment::default);
                ru.max_unavailable
                    .get_or_insert(IntOrString::String("25%".into()));
                ru.max_surge
                    .get_or_insert(IntOrString::String("25%".into()));
            }
            d.spec.revision_history_limit.get_or_insert(10);
            d.spec.progress_deadline_seconds.get_or_insert(600);
            template(&mut d.spec.template);
        }
        Object::Service(s) => service(s),
        Object::Namespace(ns) if ns.status.phase.is_empty() => ns.status.phase = "Active".into(),
        Object::Secret(s) if s.kind.is_empty() => s.kind = "Opaque".into(),
        Object::Endpoints(ep) => {
            for subset in &mut ep.subsets {
                for p in &mut subset.ports {
                    p.protocol.get_or_insert_with(|| "TCP".into());
                }
            }
        }
        Object::LimitRange(lr) => {
            // SetDefaults_LimitRangeItem: a Container item's default limit is its max,
            // its default request the default limit, else the min.
            for item in lr.spec.limits.iter_mut().filter(|i| i.kind == "Container") {
                for (k, v) in &item.max {
                    item.default.entry(k.clone()).or_insert_with(|| v.clone());
                }
                for (k, v) in &item.default {
                    item.default_request
                        .entry(k.clone())
                        .or_insert_with(|| v.clone());
                }
                for (k, v) in &item.min {
                    item.default_request
                        .entry(k.clone())
                        .or_insert_with(|| v.clone());
                }
            }
        }
        Object::EndpointSlice(s) => {
            for p in &mut s.ports {
                p.protocol.get_or_insert_with(|| "TCP".into());
                if p.name.is_none() {
                    p.name = Some(String::new());
                }
            }
        }
        _ => {}
    }
}

fn template(t: &mut PodTemplateSpec) {
    pod_spec(&mut t.spec);
}

/// SetDefaults_PodSpec and the container defaults.
pub fn pod_spec(spec: &mut PodSpec) {
    spec.restart_policy.get_or_insert_with(|| "Always".into());
    spec.dns_policy.get_or_insert_with(|| "ClusterFirst".into());
    spec.termination_grace_period_seconds.get_or_insert(30);
    spec.security_context
        .get_or_insert_with(|| Box::new(Value::Object(Default::default())));
    spec.scheduler_name
        .get_or_insert_with(|| "default-scheduler".into());
    spec.enable_service_links.get_or_insert(true);
    if let Some(sa) = spec.service_account_name.clone() {
        // v1 carries the deprecated serviceAccount field as a copy of serviceAccountName.
        spec.service_account.get_or_insert(sa);
    } else if let Some(sa) = spec.service_account.clone() {
        spec.service_account_name = Some(sa);
    }
    if spec.host_network {
        // hostNetwork pods default their container ports' hostPort to the containerPort.
        for c in spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut())
        {
            for p in &mut c.ports {
                p.host_port.get_or_insert(p.container_port);
            }
        }
    }
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut())
    {
        container(c);
    }
    for v in &mut spec.volumes {
        for field in [&mut v.secret, &mut v.config_map, &mut v.downward_api] {
            if let Some(Value::Object(m)) = field.as_deref_mut() {
                m.entry("defaultMode").or_insert(Value::from(420));
            }
        }
        // SetDefaults_ObjectFieldSelector: every fieldRef names its API version.
        if let Some(Value::Object(m)) = v.downward_api.as_deref_mut() {
            for item in m
                .get_mut("items")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(Value::Object(fr)) = item.get_mut("fieldRef") {
                    fr.entry("apiVersion").or_insert(Value::String("v1".into()));
                }
            }
        }
        if let Some(p) = v.projected.as_deref_mut() {
            p.default_mode.get_or_insert(420);
            for src in &mut p.sources {
                if let Some(d) = src.downward_api.as_mut() {
                    for item in &mut d.items {
                        if let Some(f) = item.field_ref.as_mut() {
                            f.api_version.get_or_insert_with(|| "v1".into());
                        }
                    }
                }
            }
        }
        if let Some(Value::Object(m)) = v.host_path.as_deref_mut() {
            m.entry("type").or_insert(Value::String(String::new()));
        }
    }
}

fn container(c: &mut Container) {
    c.termination_message_path
        .get_or_insert_with(|| "/dev/termination-log".into());
    c.termination_message_policy
        .get_or_insert_with(|| "File".into());
    if c.image_pull_policy.is_none() {
        c.image_pull_policy =
            Some(default_pull_policy(c.image.as_deref().unwrap_or_default()).into());
    }
    for p in &mut c.ports {
        p.protocol.get_or_insert_with(|| "TCP".into());
    }
    // Requests default to limits for resources that have a limit and no request.
    let limits = c.resources.limits.clone();
    for (name, q) in limits {
        c.resources.requests.entry(name).or_insert(q);
    }
    for probe in [
        &mut c.liveness_probe,
        &mut c.readiness_probe,
        &mut c.startup_probe,
    ]
    .into_iter()
    .flatten()
    {
        self::probe(probe);
    }
    for e in &mut c.env {
        if let Some(Value::Object(vf)) = e.value_from.as_deref_mut() {
            if let Some(Value::Object(fr)) = vf.get_mut("fieldRef") {
                fr.entry("apiVersion").or_insert(Value::String("v1".into()));
            }
        }
    }
}

/// `Always` for `:latest` or untagged images, else `IfNotPresent`.
pub fn default_pull_policy(image: &str) -> &'static str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    if image.contains('@') {
        return "IfNotPresent";
    }
    match last.split_once(':') {
        Some((_, tag)) if tag != "latest" => "IfNotPresent",
        _ => "Always",
    }
}

fn probe(p: &mut Probe) {
    p.timeout_seconds.get_or_insert(1);
    p.period_seconds.get_or_insert(10);
    p.success_threshold.get_or_insert(1);
    p.failure_threshold.get_or_insert(3);
    if let Some(Value::Object(h)) = p.http_get.as_deref_mut() {
        h.entry("scheme").or_insert(Value::String("HTTP".into()));
        h.entry("path").or_insert(Value::String("/".into()));
    }
    if let Some(Value::Object(g)) = p.grpc.as_deref_mut() {
        g.entry("service").or_insert(Value::String(String::new()));
    }
}

fn service(s: &mut Service) {
    let spec = &mut s.spec;
    if spec.kind.is_empty() {
        spec.kind = "ClusterIP".into();
    }
    if spec.session_affinity.is_empty() {
        spec.session_affinity = "None".into();
    }
    for p in &mut spec.ports {
        p.protocol.get_or_insert_with(|| "TCP".into());
        if p.target_port.is_none() || p.target_port == Some(IntOrString::Int(0)) {
            p.target_port = Some(IntOrString::Int(p.port));
        }
    }
    if spec.kind != "ExternalName" {
        spec.internal_traffic_policy
            .get_or_insert_with(|| "Cluster".into());
    }
    if (spec.kind == "NodePort" || spec.kind == "LoadBalancer")
        && spec.external_traffic_policy.is_empty()
    {
        spec.external_traffic_policy = "Cluster".into();
    }
    if spec.kind == "LoadBalancer" {
        spec.allocate_load_balancer_node_ports.get_or_insert(true);
    }
    if spec.session_affinity == "ClientIP" && spec.session_affinity_config.is_none() {
        spec.session_affinity_config = Some(Box::new(
            serde_json::json!({"clientIP": {"timeoutSeconds": 10800}}),
        ));
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn pull_policy_follows_the_tag() {
        for (image, want) in [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("nginx:1.14.2", "IfNotPresent"),
            ("registry.k8s.io:5000/pause", "Always"),
            ("registry.k8s.io:5000/pause:3.9", "IfNotPresent"),
            ("busybox@sha256:abc", "IfNotPresent"),
        ] {
            assert_eq!(default_pull_policy(image), want, "{image}");
        }
    }
}
