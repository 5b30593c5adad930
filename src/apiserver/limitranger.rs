//! The LimitRanger admission plugin (plugin/pkg/admission/limitranger, v1.31).
//!
//! Mutating half: every container and init container of a new pod gets the
//! `default` (limits) and `defaultRequest` (requests) of the namespace's LimitRanges'
//! `Container` items for the resources it does not name, and the pod is annotated
//! `kubernetes.io/limit-ranger` with what was set. Validating half: each `Container`
//! item's `min`, `max` and `maxLimitRequestRatio` per container, each `Pod` item's on
//! the pod's total (containers summed, the largest init container, sidecars as
//! upstream's `podRequests`), with upstream's messages. Pod updates and subresources
//! are not checked, as upstream (containers' resources are immutable).
//!
//! Simplifications: PersistentVolumeClaim items are not enforced (there are no PVCs);
//! upstream walks the LimitRange's maps in Go's random order, so with several
//! violations its message lists them in any order; here resources go in name order.

use crate::api::core::{Container, LimitRange, Pod, ResourceList};
use crate::api::object::LIMITRANGES;
use crate::api::quantity::Quantity;
use crate::api::Object;

/// The annotation upstream writes on a defaulted pod.
pub const ANNOTATION: &str = "kubernetes.io/limit-ranger";

/// Upstream's `resource.MaxMilliValue`.
const MAX_MILLI_VALUE: i64 = i64::MAX / 1000;

/// The namespace's LimitRanges, in name order (what upstream's lister returns).
pub fn limit_ranges<'a>(
    store: &'a crate::store::Store,
    namespace: &'a str,
) -> impl Iterator<Item = &'a LimitRange> + 'a {
    store
        .list(&LIMITRANGES, Some(namespace))
        .filter_map(|o| match o.as_ref() {
            Object::LimitRange(lr) => Some(&**lr),
            _ => None,
        })
}

/// `PodMutateLimitFunc` for every LimitRange in turn. Returns what was set (the
/// annotation's text) when anything was.
pub fn mutate<'a>(ranges: impl Iterator<Item = &'a LimitRange>, pod: &mut Pod) -> Option<String> {
    let mut last = None;
    for lr in ranges {
        let (mut requests, mut limits) = (ResourceList::new(), ResourceList::new());
        for item in lr.spec.limits.iter().filter(|i| i.kind == "Container") {
            for (k, v) in &item.default_request {
                requests.insert(k.clone(), v.clone());
            }
            for (k, v) in &item.default {
                limits.insert(k.clone(), v.clone());
            }
        }
        let mut parts: Vec<String> = Vec::new();
        for c in pod.spec.containers.iter_mut() {
            merge(c, &requests, &limits, "container", &mut parts);
        }
        for c in pod.spec.init_containers.iter_mut() {
            merge(c, &requests, &limits, "init container", &mut parts);
        }
        if !parts.is_empty() {
            let val = format!("LimitRanger plugin set: {}", parts.join("; "));
            pod.metadata
                .annotations
                .insert(ANNOTATION.into(), val.clone());
            last = Some(val);
        }
    }
    last
}

/// `mergeContainerResources`: names the resources it set, sorted (BTreeMap order).
fn merge(
    c: &mut Container,
    requests: &ResourceList,
    limits: &ResourceList,
    prefix: &str,
    parts: &mut Vec<String>,
) {
    let mut set_requests = Vec::new();
    let mut set_limits = Vec::new();
    for (k, v) in limits {
        if !c.resources.limits.contains_key(k) {
            c.resources.limits.insert(k.clone(), v.clone());
            set_limits.push(k.as_str());
        }
    }
    for (k, v) in requests {
        if !c.resources.requests.contains_key(k) {
            c.resources.requests.insert(k.clone(), v.clone());
            set_requests.push(k.as_str());
        }
    }
    if !set_requests.is_empty() {
        parts.push(format!(
            "{} request for {prefix} {}",
            set_requests.join(", "),
            c.name
        ));
    }
    if !set_limits.is_empty() {
        parts.push(format!(
            "{} limit for {prefix} {}",
            set_limits.join(", "),
            c.name
        ));
    }
}

/// `PodValidateLimitFunc` for one LimitRange: the aggregate of every violation, as
/// `utilerrors.NewAggregate` prints it, or `None`.
pub fn validate(lr: &LimitRange, pod: &Pod) -> Option<String> {
    let mut errs: Vec<String> = Vec::new();
    for item in &lr.spec.limits {
        let kind = item.kind.as_str();
        let check = |req: &ResourceList, lim: &ResourceList, errs: &mut Vec<String>| {
            for (k, v) in &item.min {
                errs.extend(min_constraint(kind, k, v, req, lim));
            }
            for (k, v) in &item.max {
                errs.extend(max_constraint(kind, k, v, req, lim));
            }
            for (k, v) in &item.max_limit_request_ratio {
                errs.extend(ratio_constraint(kind, k, v, req, lim));
            }
        };
        match kind {
            "Container" => {
                for c in pod.spec.containers.iter().chain(&pod.spec.init_containers) {
                    check(&c.resources.requests, &c.resources.limits, &mut errs);
                }
            }
            "Pod" => {
                let (req, lim) = pod_totals(pod);
                check(&req, &lim, &mut errs);
            }
            _ => {}
        }
    }
    aggregate(errs)
}

/// `utilerrors.NewAggregate(errs).Error()`: one message alone, several in brackets
/// (repeated messages once).
fn aggregate(errs: Vec<String>) -> Option<String> {
    let mut seen: Vec<String> = Vec::new();
    for e in errs {
        if !seen.contains(&e) {
            seen.push(e);
        }
    }
    match seen.len() {
        0 => None,
        1 => seen.pop(),
        _ => Some(format!("[{}]", seen.join(", "))),
    }
}

/// `requestLimitEnforcedValues`: milli-units when nothing would overflow, else units.
fn enforced_values(
    req: Option<&Quantity>,
    lim: Option<&Quantity>,
    enforced: &Quantity,
) -> (i64, i64, i64) {
    let zero = Quantity::zero();
    let (r, l) = (req.unwrap_or(&zero), lim.unwrap_or(&zero));
    let (rv, lv, ev) = (r.value(), l.value(), enforced.value());
    if rv <= MAX_MILLI_VALUE && lv <= MAX_MILLI_VALUE && ev <= MAX_MILLI_VALUE {
        (r.milli_value(), l.milli_value(), enforced.milli_value())
    } else {
        (rv, lv, ev)
    }
}

fn min_constraint(
    kind: &str,
    res: &str,
    enforced: &Quantity,
    request: &ResourceList,
    limit: &ResourceList,
) -> Option<String> {
    let (req, lim) = (request.get(res), limit.get(res));
    let (r, l, e) = enforced_values(req, lim, enforced);
    match (req, lim) {
        (None, _) => Some(format!(
            "minimum {res} usage per {kind} is {enforced}.  No request is specified"
        )),
        (Some(req), _) if r < e => Some(format!(
            "minimum {res} usage per {kind} is {enforced}, but request is {req}"
        )),
        (_, Some(lim)) if l < e => Some(format!(
            "minimum {res} usage per {kind} is {enforced}, but limit is {lim}"
        )),
        _ => None,
    }
}

fn max_constraint(
    kind: &str,
    res: &str,
    enforced: &Quantity,
    request: &ResourceList,
    limit: &ResourceList,
) -> Option<String> {
    let (req, lim) = (request.get(res), limit.get(res));
    let (r, l, e) = enforced_values(req, lim, enforced);
    match (req, lim) {
        (_, None) => Some(format!(
            "maximum {res} usage per {kind} is {enforced}.  No limit is specified"
        )),
        (_, Some(lim)) if l > e => Some(format!(
            "maximum {res} usage per {kind} is {enforced}, but limit is {lim}"
        )),
        (Some(req), _) if r > e => Some(format!(
            "maximum {res} usage per {kind} is {enforced}, but request is {req}"
        )),
        _ => None,
    }
}

fn ratio_constraint(
    kind: &str,
    res: &str,
    enforced: &Quantity,
    request: &ResourceList,
    limit: &ResourceList,
) -> Option<String> {
    let (req, lim) = (request.get(res), limit.get(res));
    let (r, l, _) = enforced_values(req, lim, enforced);
    if req.is_none() || r == 0 {
        return Some(format!("{res} max limit to request ratio per {kind} is {enforced}, but no request is specified or request is 0"));
    }
    if lim.is_none() || l == 0 {
        return Some(format!("{res} max limit to request ratio per {kind} is {enforced}, but no limit is specified or limit is 0"));
    }
    let observed = l as f64 / r as f64;
    let (mut scaled, mut max) = (observed, enforced.value() as f64);
    if enforced.value() <= MAX_MILLI_VALUE {
        scaled = observed * 1000.0;
        max = enforced.milli_value() as f64;
    }
    (scaled > max).then(|| {
        format!("{res} max limit to request ratio per {kind} is {enforced}, but provided ratio is {observed:.6}")
    })
}

/// Upstream's `podRequests`/`podLimits` in the plugin: containers summed (and
/// restartable init containers, the sidecars, with them), then the larger of that and
/// each init container plus the sidecars started before it. Pod overhead is not added.
pub fn pod_totals(pod: &Pod) -> (ResourceList, ResourceList) {
    let total = |pick: fn(&Container) -> &ResourceList| {
        let mut sum = ResourceList::new();
        for c in &pod.spec.containers {
            add_into(&mut sum, pick(c));
        }
        let mut sidecars = ResourceList::new();
        let mut init_max = ResourceList::new();
        for c in &pod.spec.init_containers {
            let own = pick(c);
            let this = if c.restart_policy.as_deref() == Some("Always") {
                add_into(&mut sum, own);
                add_into(&mut sidecars, own);
                sidecars.clone()
            } else {
                let mut tmp = own.clone();
                add_into(&mut tmp, &sidecars);
                tmp
            };
            max_into(&mut init_max, &this);
        }
        max_into(&mut sum, &init_max);
        sum
    };
    (
        total(|c| &c.resources.requests),
        total(|c| &c.resources.limits),
    )
}

/// `addResourceList`: adds every quantity of `b` into `a`.
pub fn add_into(a: &mut ResourceList, b: &ResourceList) {
    for (k, v) in b {
        match a.get_mut(k) {
            Some(q) => q.add(v),
            None => {
                a.insert(k.clone(), v.clone());
            }
        }
    }
}

/// `maxResourceList`: keeps the larger quantity per resource.
pub fn max_into(a: &mut ResourceList, b: &ResourceList) {
    for (k, v) in b {
        match a.get_mut(k) {
            Some(q) if *v > *q => *q = v.clone(),
            Some(_) => {}
            None => {
                a.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }

    fn list(items: &[(&str, &str)]) -> ResourceList {
        items.iter().map(|(k, v)| (k.to_string(), q(v))).collect()
    }

    #[test]
    fn messages_are_upstreams() {
        assert_eq!(
            max_constraint(
                "Container",
                "cpu",
                &q("2"),
                &list(&[]),
                &list(&[("cpu", "4")])
            ),
            Some("maximum cpu usage per Container is 2, but limit is 4".into())
        );
        assert_eq!(
            ratio_constraint(
                "Container",
                "cpu",
                &q("2"),
                &list(&[("cpu", "1")]),
                &list(&[("cpu", "4")])
            ),
            Some(
                "cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000"
                    .into()
            )
        );
        assert_eq!(
            min_constraint("Pod", "memory", &q("100Mi"), &list(&[]), &list(&[])),
            Some("minimum memory usage per Pod is 100Mi.  No request is specified".into())
        );
        assert_eq!(
            aggregate(vec!["a".into(), "b".into(), "a".into()]),
            Some("[a, b]".into())
        );
    }
}
