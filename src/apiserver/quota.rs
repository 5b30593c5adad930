//! Resource quota: the usage evaluators (pkg/quota/v1/evaluator/core and generic) and
//! the ResourceQuota admission plugin's check (plugin/pkg/admission/resourcequota,
//! v1.31), shared by admission and the ResourceQuota controller.
//!
//! Evaluators: pods (`pods`, `count/pods`, `cpu`/`memory`/`ephemeral-storage` as
//! requests, `requests.*`, `limits.*`, `hugepages-*`, `requests.<extended>`; containers
//! summed, the largest init container, sidecars and pod overhead as upstream's
//! `PodRequests`/`PodLimits`; terminal pods and pods past their deletion grace count only
//! in `count/pods`), services (`services`, `count/services`, `services.nodeports`,
//! `services.loadbalancers`) and every other kind by object count (`count/<resource>`
//! or `count/<resource>.<group>`, plus the legacy names `configmaps`, `secrets`,
//! `replicationcontrollers` and `resourcequotas`). Scopes: Terminating, NotTerminating,
//! BestEffort, NotBestEffort, PriorityClass (scopeSelector In/NotIn/Exists/DoesNotExist)
//! and CrossNamespacePodAffinity.
//!
//! Simplifications: no PersistentVolumeClaim evaluator (there are no PVCs here), no
//! admission configuration (limitedResources), and the in-place resize feature is off
//! (pods are charged on create only), as v1.31's defaults.

use serde_json::Value;

use crate::api::core::{Pod, ResourceList, ResourceQuota, Service};
use crate::api::object::{ResourceType, PODS, SERVICES};
use crate::api::quantity::{Format, Quantity};
use crate::api::Object;
use crate::kernel::Nanos;

/// The pod evaluator's resources (`podResources`).
const POD_RESOURCES: &[&str] = &[
    "count/pods",
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
];
const POD_RESOURCE_PREFIXES: &[&str] = &["hugepages-", "requests.hugepages-"];
const SERVICE_RESOURCES: &[&str] = &[
    "count/services",
    "services",
    "services.loadbalancers",
    "services.nodeports",
];
/// The resources for which a quota makes every container state a value.
const VALIDATION_SET: &[&str] = &[
    "cpu",
    "memory",
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
];

fn one() -> Quantity {
    Quantity::from_value(1, Format::DecimalSI)
}

/// `ObjectCountQuotaResourceNameFor`: `count/pods`, `count/deployments.apps`.
pub fn count_name(rt: &ResourceType) -> String {
    if rt.group.is_empty() {
        format!("count/{}", rt.plural)
    } else {
        format!("count/{}.{}", rt.plural, rt.group)
    }
}

/// The legacy object count names of core kinds.
fn legacy_name(rt: &ResourceType) -> Option<&'static str> {
    if !rt.group.is_empty() {
        return None;
    }
    match rt.plural {
        "configmaps" => Some("configmaps"),
        "resourcequotas" => Some("resourcequotas"),
        "replicationcontrollers" => Some("replicationcontrollers"),
        "secrets" => Some("secrets"),
        "persistentvolumeclaims" => Some("persistentvolumeclaims"),
        _ => None,
    }
}

/// `IsExtendedResourceName` (with the device-class names of implicit extended
/// resources, which upstream's current tree counts too).
fn is_extended(name: &str) -> bool {
    if name.starts_with("deviceclass.resource.kubernetes.io/") {
        return true;
    }
    crate::scheduler::framework::types::is_extended_resource_name(name)
}

fn is_extended_for_quota(name: &str) -> bool {
    name.strip_prefix("requests.").is_some_and(is_extended)
}

/// `MatchingResources`: the names of `hard` this kind's evaluator tracks.
pub fn matching_resources<'a>(
    rt: &ResourceType,
    hard: impl Iterator<Item = &'a String>,
) -> Vec<String> {
    let count = count_name(rt);
    let legacy = legacy_name(rt);
    hard.filter(|name| {
        let name = name.as_str();
        if std::ptr::eq(rt, &PODS) {
            POD_RESOURCES.contains(&name)
                || POD_RESOURCE_PREFIXES.iter().any(|p| name.starts_with(p))
                || is_extended_for_quota(name)
        } else if std::ptr::eq(rt, &SERVICES) {
            SERVICE_RESOURCES.contains(&name)
        } else {
            name == count || Some(name) == legacy
        }
    })
    .cloned()
    .collect()
}

/// `QuotaV1Pod`: whether a pod's compute resources are charged.
fn pod_is_charged(pod: &Pod, now: Nanos) -> bool {
    if matches!(pod.status.phase.as_str(), "Succeeded" | "Failed") {
        return false;
    }
    if let (Some(ts), Some(grace)) = (
        &pod.metadata.deletion_timestamp,
        pod.metadata.deletion_grace_period_seconds,
    ) {
        // Seconds precision: after deletion time plus grace means a whole second past.
        let end = ts.virtual_seconds() + grace.max(0);
        if (now / 1_000_000_000) as i64 > end {
            return false;
        }
    }
    true
}

/// Upstream's `resourcehelper.PodRequests`/`PodLimits` (overhead added to requests,
/// and to limits only for resources the pod limits).
pub fn pod_requests_limits(pod: &Pod) -> (ResourceList, ResourceList) {
    let (mut req, mut lim) = super::limitranger::pod_totals(pod);
    for (k, v) in &pod.spec.overhead {
        match req.get_mut(k) {
            Some(q) => q.add(v),
            None => {
                req.insert(k.clone(), v.clone());
            }
        }
        if let Some(q) = lim.get_mut(k) {
            q.add(v);
        }
    }
    (req, lim)
}

/// `podComputeUsageHelper`.
fn compute_usage(requests: &ResourceList, limits: &ResourceList) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("pods".into(), one());
    for (res, req_name) in [
        ("cpu", "requests.cpu"),
        ("memory", "requests.memory"),
        ("ephemeral-storage", "requests.ephemeral-storage"),
    ] {
        if let Some(q) = requests.get(res) {
            out.insert(res.into(), q.clone());
            out.insert(req_name.into(), q.clone());
        }
        if let Some(q) = limits.get(res) {
            out.insert(format!("limits.{res}"), q.clone());
        }
    }
    for (res, q) in requests {
        if res.starts_with("hugepages-") {
            out.insert(res.clone(), q.clone());
            out.insert(format!("requests.{res}"), q.clone());
        }
        if is_extended(res) {
            out.insert(format!("requests.{res}"), q.clone());
        }
    }
    out
}

/// `PodUsageFunc`.
pub fn pod_usage(pod: &Pod, now: Nanos) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("count/pods".into(), one());
    if !pod_is_charged(pod, now) {
        return out;
    }
    let (req, lim) = pod_requests_limits(pod);
    add(&mut out, &compute_usage(&req, &lim));
    out
}

/// The service evaluator's usage.
pub fn service_usage(svc: &Service) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("count/services".into(), one());
    out.insert("services".into(), one());
    let ports = svc.spec.ports.len() as i64;
    match svc.spec.kind.as_str() {
        "NodePort" => {
            out.insert(
                "services.nodeports".into(),
                Quantity::from_value(ports, Format::DecimalSI),
            );
        }
        "LoadBalancer" => {
            let n = if svc.spec.allocate_load_balancer_node_ports == Some(false) {
                svc.spec.ports.iter().filter(|p| p.node_port != 0).count() as i64
            } else {
                ports
            };
            out.insert(
                "services.nodeports".into(),
                Quantity::from_value(n, Format::DecimalSI),
            );
            out.insert("services.loadbalancers".into(), one());
        }
        _ => {}
    }
    out
}

/// What an object uses, by its kind's evaluator.
pub fn usage(obj: &Object, now: Nanos) -> ResourceList {
    match obj {
        Object::Pod(p) => pod_usage(p, now),
        Object::Service(s) => service_usage(s),
        _ => {
            let rt = obj.resource_type();
            let mut out = ResourceList::new();
            out.insert(count_name(rt), one());
            if let Some(l) = legacy_name(rt) {
                out.insert(l.into(), one());
            }
            out
        }
    }
}

/// `quota.Add`.
pub fn add(a: &mut ResourceList, b: &ResourceList) {
    super::limitranger::add_into(a, b);
}

/// A quota's scope selectors: `spec.scopes` as Exists, then `scopeSelector`.
struct ScopeRequirement {
    scope: String,
    operator: String,
    values: Vec<String>,
}

fn scope_requirements(q: &ResourceQuota) -> Vec<ScopeRequirement> {
    let mut out: Vec<ScopeRequirement> = q
        .spec
        .scopes
        .iter()
        .map(|s| ScopeRequirement {
            scope: s.clone(),
            operator: "Exists".into(),
            values: vec![],
        })
        .collect();
    if let Some(sel) = &q.spec.scope_selector {
        if let Some(Value::Array(exprs)) = sel.get("matchExpressions") {
            for e in exprs {
                let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                out.push(ScopeRequirement {
                    scope: s("scopeName"),
                    operator: s("operator"),
                    values: e
                        .get("values")
                        .and_then(Value::as_array)
                        .map(|v| {
                            v.iter()
                                .filter_map(|x| x.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                });
            }
        }
    }
    out
}

fn is_best_effort(pod: &Pod) -> bool {
    super::strategy::qos_class(pod) == "BestEffort"
}

fn is_terminating(pod: &Pod) -> bool {
    pod.spec.active_deadline_seconds.is_some_and(|s| s >= 0)
}

fn uses_cross_namespace_affinity(pod: &Pod) -> bool {
    let Some(aff) = &pod.spec.affinity else {
        return false;
    };
    let v = serde_json::to_value(aff.as_ref()).unwrap_or(Value::Null);
    ["podAffinity", "podAntiAffinity"].iter().any(|kind| {
        ["requiredDuringSchedulingIgnoredDuringExecution"]
            .iter()
            .chain(&["preferredDuringSchedulingIgnoredDuringExecution"])
            .any(|when| {
                v.get(kind)
                    .and_then(|k| k.get(when))
                    .and_then(Value::as_array)
                    .is_some_and(|terms| {
                        terms.iter().any(|t| {
                            let t = t.get("podAffinityTerm").unwrap_or(t);
                            t.get("namespaceSelector").is_some()
                                || t.get("namespaces")
                                    .and_then(Value::as_array)
                                    .is_some_and(|n| !n.is_empty())
                        })
                    })
            })
    })
}

fn pod_matches_scope(req: &ScopeRequirement, pod: &Pod) -> bool {
    match req.scope.as_str() {
        "Terminating" => is_terminating(pod),
        "NotTerminating" => !is_terminating(pod),
        "BestEffort" => is_best_effort(pod),
        "NotBestEffort" => !is_best_effort(pod),
        "PriorityClass" => {
            let pc = pod.spec.priority_class_name.as_deref().unwrap_or("");
            match req.operator.as_str() {
                "Exists" => !pc.is_empty(),
                "In" => req.values.iter().any(|v| v == pc),
                "NotIn" => !req.values.iter().any(|v| v == pc),
                _ => false,
            }
        }
        "CrossNamespacePodAffinity" => uses_cross_namespace_affinity(pod),
        _ => false,
    }
}

/// `Matches`: the quota tracks one of this kind's resources and every scope matches
/// (kinds other than pods match no scope).
pub fn matches(q: &ResourceQuota, obj: &Object) -> bool {
    let rt = obj.resource_type();
    if matching_resources(rt, q.status.hard.keys()).is_empty() {
        return false;
    }
    scope_requirements(q).iter().all(|r| match obj {
        Object::Pod(p) => pod_matches_scope(r, p),
        _ => false,
    })
}

/// `Constraints` of the pod evaluator: with cpu or memory under quota, every container
/// must state them.
fn pod_constraints(required: &[String], pod: &Pod) -> Option<String> {
    let required: Vec<&str> = required
        .iter()
        .map(String::as_str)
        .filter(|r| VALIDATION_SET.contains(r))
        .collect();
    let mut m: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
        Default::default();
    for c in pod.spec.containers.iter().chain(&pod.spec.init_containers) {
        let u = compute_usage(&c.resources.requests, &c.resources.limits);
        for r in &required {
            if !u.contains_key(*r) {
                m.entry(*r).or_default().insert(c.name.as_str());
            }
        }
    }
    if m.is_empty() {
        return None;
    }
    let parts: Vec<String> = m
        .iter()
        .map(|(r, names)| {
            format!(
                "{r} for: {}",
                names.iter().copied().collect::<Vec<_>>().join(",")
            )
        })
        .collect();
    Some(format!("must specify {}", parts.join("; ")))
}

/// `quota.Mask`.
fn mask(list: &ResourceList, names: &[String]) -> ResourceList {
    list.iter()
        .filter(|(k, _)| names.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `prettyPrint`: `cpu=500m,memory=1Gi`.
pub fn pretty(list: &ResourceList) -> String {
    list.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether the ResourceQuota admission plugin looks at this request at all
/// (`Handles`): pods on create, services on create and update, everything else on
/// create; never a subresource.
pub fn handles(rt: &ResourceType, subresource: &str, create: bool, update: bool) -> bool {
    if !subresource.is_empty() {
        return false;
    }
    if std::ptr::eq(rt, &SERVICES) {
        create || update
    } else {
        create
    }
}

/// `CheckRequest`: the quotas of the namespace (in name order) against a request.
/// Returns the quotas whose `status.used` changes, with the new usage, or the
/// Forbidden message (without the `pods "x" is forbidden: ` prefix).
pub fn check_request(
    quotas: &[&ResourceQuota],
    obj: &Object,
    old: Option<&Object>,
    now: Nanos,
) -> Result<Vec<ResourceQuota>, String> {
    let rt = obj.resource_type();
    let mut interesting = Vec::new();
    for q in quotas {
        if !matches(q, obj) {
            continue;
        }
        let restricted = matching_resources(rt, q.status.hard.keys());
        if let Object::Pod(p) = obj {
            if let Some(e) = pod_constraints(&restricted, p) {
                return Err(format!("failed quota: {}: {e}", q.metadata.name));
            }
        }
        let missing: Vec<&String> = restricted
            .iter()
            .filter(|r| !q.status.used.contains_key(*r))
            .collect();
        if !missing.is_empty() {
            let mut names: Vec<&str> = restricted.iter().map(String::as_str).collect();
            names.sort_unstable();
            return Err(format!(
                "status unknown for quota: {}, resources: {}",
                q.metadata.name,
                names.join(",")
            ));
        }
        interesting.push(*q);
    }
    let mut delta = usage(obj, now);
    let negative: Vec<&str> = delta
        .iter()
        .filter(|(_, v)| v.sign() < 0)
        .map(|(k, _)| k.as_str())
        .collect();
    if !negative.is_empty() {
        return Err(format!(
            "quota usage is negative for resource(s): {}",
            negative.join(",")
        ));
    }
    if let Some(old) = old {
        if !old.meta().resource_version.is_empty() {
            let prev = usage(old, now);
            for (k, v) in delta.iter_mut() {
                if let Some(p) = prev.get(k) {
                    v.sub(p);
                    if v.sign() < 0 {
                        *v = Quantity::zero();
                    }
                }
            }
        }
    }
    if delta.values().all(Quantity::is_zero) || interesting.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for q in interesting {
        let hard_names: Vec<String> = q.status.hard.keys().cloned().collect();
        let requested = mask(&delta, &hard_names);
        let mut new_used = q.status.used.clone();
        add(&mut new_used, &requested);
        let requested_names: Vec<String> = requested.keys().cloned().collect();
        let exceeded: Vec<String> = mask(&new_used, &requested_names)
            .iter()
            .filter(|(k, v)| q.status.hard.get(*k).is_some_and(|h| *v > h))
            .map(|(k, _)| k.clone())
            .collect();
        if !exceeded.is_empty() {
            return Err(format!(
                "exceeded quota: {}, requested: {}, used: {}, limited: {}",
                q.metadata.name,
                pretty(&mask(&requested, &exceeded)),
                pretty(&mask(&q.status.used, &exceeded)),
                pretty(&mask(&q.status.hard, &exceeded)),
            ));
        }
        let mut changed = (*q).clone();
        changed.status.used = new_used;
        out.push(changed);
    }
    Ok(out)
}

/// `CalculateUsage` for the quota controller: `status.used` for every resource of
/// `hard` from the namespace's objects (zero where nothing uses it).
pub fn calculate_usage<'a>(
    q: &ResourceQuota,
    hard: &ResourceList,
    objects: impl Iterator<Item = &'a Object>,
    now: Nanos,
) -> ResourceList {
    let names: Vec<String> = hard.keys().cloned().collect();
    let mut probe = q.clone();
    probe.status.hard = hard.clone();
    let mut used = ResourceList::new();
    for r in &names {
        // Resources some evaluator tracks show zero even with no objects.
        if tracked_by_any(r) {
            used.insert(r.clone(), Quantity::zero());
        }
    }
    for obj in objects {
        if !matches(&probe, obj) {
            continue;
        }
        let tracked = matching_resources(obj.resource_type(), names.iter());
        add(&mut used, &mask(&usage(obj, now), &tracked));
    }
    used
}

/// Whether any evaluator tracks this resource name (a quota's unknown names stay
/// without usage, as upstream).
pub fn tracked_by_any(name: &str) -> bool {
    POD_RESOURCES.contains(&name)
        || POD_RESOURCE_PREFIXES.iter().any(|p| name.starts_with(p))
        || is_extended_for_quota(name)
        || SERVICE_RESOURCES.contains(&name)
        || name.starts_with("count/")
        || matches!(
            name,
            "configmaps" | "secrets" | "replicationcontrollers" | "resourcequotas"
        )
}

/// The ResourceQuota admission plugin for one request: the namespace's quotas (read
/// as upstream reads its informer) checked against the object. Returns the trace's
/// note and the quotas whose usage the API server must write before it stores the
/// object, or the Forbidden error.
pub fn admit(
    store: &crate::store::Store,
    rt: &'static ResourceType,
    subresource: &str,
    obj: &Object,
    old: Option<&Object>,
    now: Nanos,
) -> Result<(Option<String>, Vec<ResourceQuota>), crate::api::ApiError> {
    if !handles(rt, subresource, old.is_none(), old.is_some()) {
        return Ok((None, Vec::new()));
    }
    let ns = obj.namespace();
    if ns.is_empty() {
        return Ok((None, Vec::new()));
    }
    let quotas: Vec<&ResourceQuota> = store
        .list(&crate::api::object::RESOURCEQUOTAS, Some(ns))
        .filter_map(|o| match o.as_ref() {
            Object::ResourceQuota(q) => Some(&**q),
            _ => None,
        })
        .collect();
    if quotas.is_empty() {
        return Ok((None, Vec::new()));
    }
    match check_request(&quotas, obj, old, now) {
        Err(why) => Err(crate::api::ApiError::forbidden(
            rt.group_resource(),
            obj.name(),
            &why,
        )),
        Ok(changed) if changed.is_empty() => Ok((
            Some("no quota of the namespace tracks what this request uses".into()),
            changed,
        )),
        Ok(changed) => {
            let parts: Vec<String> = changed
                .iter()
                .map(|q| format!("{} used {}", q.metadata.name, pretty(&q.status.used)))
                .collect();
            Ok((Some(format!("charged: {}", parts.join("; "))), changed))
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn pretty_prints_sorted() {
        let mut l = ResourceList::new();
        l.insert("memory".into(), Quantity::parse("1Gi").unwrap());
        l.insert("cpu".into(), Quantity::parse("500m").unwrap());
        assert_eq!(pretty(&l), "cpu=500m,memory=1Gi");
    }
}
