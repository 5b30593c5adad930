//! Validation of objects on create and update, with upstream's field paths and
//! messages (pkg/apis/core/validation, pkg/apis/apps/validation).

use crate::api::VecMap;
use std::collections::BTreeSet;

use crate::api::core::{Container, PodSpec, PodTemplateSpec, ResourceList, Service};
use crate::api::labels::LabelSelector;
use crate::api::meta::ObjectMeta;
use crate::api::status::{go_map_literal, go_quote, GoValue};
use crate::api::validation as names;
use crate::api::{FieldError, Object};

type Errs = Vec<FieldError>;

/// One step of a field path.
#[derive(Clone, Copy, Debug)]
pub enum Seg<'a> {
    Name(&'a str),
    Index(usize),
    Key(&'a str),
}

impl From<usize> for Seg<'_> {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

impl<'a> From<&'a str> for Seg<'a> {
    fn from(k: &'a str) -> Self {
        Seg::Key(k)
    }
}

impl<'a> From<&'a String> for Seg<'a> {
    fn from(k: &'a String) -> Self {
        Seg::Key(k)
    }
}

/// A field path (upstream's field.Path), built without allocating and printed only
/// when an error names it: `spec.containers[0].ports[1].containerPort`.
#[derive(Clone, Copy, Debug)]
pub struct Path<'a> {
    segs: [Seg<'a>; 12],
    len: usize,
}

impl<'a> Path<'a> {
    /// A root, possibly dotted (`spec`, `spec.template.spec`).
    pub fn new(root: &'a str) -> Path<'a> {
        let mut segs = [Seg::Index(0); 12];
        segs[0] = Seg::Name(root);
        Path { segs, len: 1 }
    }

    fn push(mut self, seg: Seg<'a>) -> Path<'a> {
        if self.len < self.segs.len() {
            self.segs[self.len] = seg;
            self.len += 1;
        }
        self
    }

    /// `path.name`.
    pub fn child(self, name: &'a str) -> Path<'a> {
        self.push(Seg::Name(name))
    }

    /// `path[i]` or `path[key]`.
    pub fn at(self, i: impl Into<Seg<'a>>) -> Path<'a> {
        self.push(i.into())
    }
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (n, seg) in self.segs[..self.len].iter().enumerate() {
            match seg {
                Seg::Name(s) if n == 0 => f.write_str(s)?,
                Seg::Name(s) => write!(f, ".{s}")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
                Seg::Key(k) => write!(f, "[{k}]")?,
            }
        }
        Ok(())
    }
}

impl From<Path<'_>> for String {
    fn from(p: Path<'_>) -> String {
        p.to_string()
    }
}

impl From<&Path<'_>> for String {
    fn from(p: &Path<'_>) -> String {
        p.to_string()
    }
}

/// Validates an object about to be created.
pub fn validate_create(obj: &Object) -> Errs {
    let mut errs = Errs::new();
    let rt = obj.resource_type();
    object_meta(
        obj.meta(),
        rt.namespaced,
        name_rule(obj),
        &Path::new("metadata"),
        &mut errs,
    );
    spec(obj, &mut errs);
    errs
}

/// Validates an update: the new object alone, then what may not change.
pub fn validate_update(new: &Object, old: &Object) -> Errs {
    let mut errs = validate_create(new);
    match (new, old) {
        (Object::Pod(n), Object::Pod(o))
            if pod_spec_mutable_view(&n.spec) != pod_spec_mutable_view(&o.spec) =>
        {
            errs.push(FieldError::forbidden(
                "spec",
                "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
            ));
        }
        (Object::Deployment(n), Object::Deployment(o)) if n.spec.selector != o.spec.selector => {
            errs.push(FieldError::invalid(
                "spec.selector",
                selector_go(n.spec.selector.as_ref()),
                "field is immutable",
            ));
        }
        (Object::ReplicaSet(n), Object::ReplicaSet(o)) if n.spec.selector != o.spec.selector => {
            errs.push(FieldError::invalid(
                "spec.selector",
                selector_go(n.spec.selector.as_ref()),
                "field is immutable",
            ));
        }
        (Object::Service(n), Object::Service(o))
            if !o.spec.cluster_ip.is_empty()
                && o.spec.cluster_ip != "None"
                && n.spec.cluster_ip != o.spec.cluster_ip
                && n.spec.kind != "ExternalName"
                && o.spec.kind != "ExternalName" =>
        {
            errs.push(FieldError::invalid(
                "spec.clusterIPs[0]",
                GoValue(format!(
                    "[]string{{{}}}",
                    n.spec
                        .cluster_ips
                        .iter()
                        .map(|s| go_quote(s))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                "may not change once set",
            ));
        }
        (Object::ConfigMap(n), Object::ConfigMap(o)) if o.immutable == Some(true) => {
            if n.data != o.data || n.binary_data != o.binary_data {
                errs.push(FieldError::forbidden(
                    "data",
                    "field is immutable when `immutable` is set",
                ));
            }
            if n.immutable != Some(true) {
                errs.push(FieldError::forbidden(
                    "immutable",
                    "field is immutable when `immutable` is set",
                ));
            }
        }
        (Object::Secret(n), Object::Secret(o)) => {
            if n.kind != o.kind {
                errs.push(FieldError::invalid(
                    "type",
                    n.kind.as_str(),
                    "field is immutable",
                ));
            }
            if o.immutable == Some(true) {
                if n.data != o.data {
                    errs.push(FieldError::forbidden(
                        "data",
                        "field is immutable when `immutable` is set",
                    ));
                }
                if n.immutable != Some(true) {
                    errs.push(FieldError::forbidden(
                        "immutable",
                        "field is immutable when `immutable` is set",
                    ));
                }
            }
        }
        (Object::RoleBinding(n), Object::RoleBinding(o)) if n.role_ref != o.role_ref => {
            errs.push(FieldError::invalid(
                "roleRef",
                GoValue(format!("{:?}", n.role_ref)),
                "cannot change roleRef",
            ));
        }
        (Object::ClusterRoleBinding(n), Object::ClusterRoleBinding(o))
            if n.role_ref != o.role_ref =>
        {
            errs.push(FieldError::invalid(
                "roleRef",
                GoValue(format!("{:?}", n.role_ref)),
                "cannot change roleRef",
            ));
        }
        _ => {}
    }
    errs
}

/// A pod spec with the fields that may change blanked out.
fn pod_spec_mutable_view(spec: &PodSpec) -> PodSpec {
    let mut s = spec.clone();
    for c in s.containers.iter_mut().chain(s.init_containers.iter_mut()) {
        c.image = None;
    }
    s.active_deadline_seconds = None;
    s.tolerations.clear();
    s.termination_grace_period_seconds = None;
    // Binding sets nodeName through its own subresource.
    s.node_name.clear();
    s
}

#[derive(Clone, Copy)]
enum NameRule {
    Subdomain,
    Label,
    Dns1035,
    PathSegment,
}

fn name_rule(obj: &Object) -> NameRule {
    match obj {
        Object::Namespace(_) => NameRule::Label,
        Object::Service(_) => NameRule::Dns1035,
        Object::Role(_)
        | Object::ClusterRole(_)
        | Object::RoleBinding(_)
        | Object::ClusterRoleBinding(_) => NameRule::PathSegment,
        _ => NameRule::Subdomain,
    }
}

fn check_name(rule: NameRule, name: &str, prefix: bool) -> Vec<String> {
    // A generateName prefix may end in '-': validate it as if it were followed by a letter.
    let candidate = if prefix {
        format!("{name}a")
    } else {
        name.to_string()
    };
    match rule {
        NameRule::Subdomain => names::is_dns1123_subdomain(&candidate),
        NameRule::Label => names::is_dns1123_label(&candidate),
        NameRule::Dns1035 => names::is_dns1035_label(&candidate),
        NameRule::PathSegment => {
            let mut out = Vec::new();
            if name == "." || name == ".." {
                out.push(format!("may not be '{name}'"));
            }
            for bad in ["/", "%"] {
                if name.contains(bad) {
                    out.push(format!("may not contain '{bad}'"));
                }
            }
            out
        }
    }
}

fn object_meta(meta: &ObjectMeta, namespaced: bool, rule: NameRule, path: &Path, errs: &mut Errs) {
    if meta.name.is_empty() && meta.generate_name.is_empty() {
        errs.push(FieldError::required(
            path.child("name"),
            "name or generateName is required",
        ));
    }
    if !meta.generate_name.is_empty() {
        for msg in check_name(rule, &meta.generate_name, true) {
            errs.push(FieldError::invalid(
                path.child("generateName"),
                &meta.generate_name,
                msg,
            ));
        }
    }
    if !meta.name.is_empty() {
        for msg in check_name(rule, &meta.name, false) {
            errs.push(FieldError::invalid(path.child("name"), &meta.name, msg));
        }
    }
    if namespaced {
        if meta.namespace.is_empty() {
            errs.push(FieldError::required(path.child("namespace"), ""));
        } else {
            for msg in names::is_dns1123_label(&meta.namespace) {
                errs.push(FieldError::invalid(
                    path.child("namespace"),
                    &meta.namespace,
                    msg,
                ));
            }
        }
    } else if !meta.namespace.is_empty() {
        errs.push(FieldError::forbidden(
            path.child("namespace"),
            "not allowed on this type",
        ));
    }
    labels(&meta.labels, &path.child("labels"), errs);
    annotations(&meta.annotations, &path.child("annotations"), errs);
    for (i, r) in meta.owner_references.iter().enumerate() {
        let p = path.child("ownerReferences").at(i);
        if r.api_version.is_empty() {
            errs.push(FieldError::invalid(
                p.child("apiVersion"),
                r.api_version.as_str(),
                "version must not be empty",
            ));
        }
        if r.kind.is_empty() {
            errs.push(FieldError::invalid(
                p.child("kind"),
                r.kind.as_str(),
                "kind must not be empty",
            ));
        }
        if r.name.is_empty() {
            errs.push(FieldError::invalid(
                p.child("name"),
                r.name.as_str(),
                "name must not be empty",
            ));
        }
        if r.uid.is_empty() {
            errs.push(FieldError::invalid(
                p.child("uid"),
                r.uid.as_str(),
                "uid must not be empty",
            ));
        }
    }
}

/// ValidateLabels: keys are qualified names, values label values.
pub fn labels(map: &VecMap<String, String>, path: &Path, errs: &mut Errs) {
    for (k, v) in map {
        for msg in names::is_qualified_name(k) {
            errs.push(FieldError::invalid(path, k.as_str(), msg));
        }
        for msg in names::is_valid_label_value(v) {
            errs.push(FieldError::invalid(path, v.as_str(), msg));
        }
    }
}

const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

fn annotations(map: &VecMap<String, String>, path: &Path, errs: &mut Errs) {
    let mut total = 0;
    for (k, v) in map {
        for msg in names::is_qualified_name(&k.to_ascii_lowercase()) {
            errs.push(FieldError::invalid(path, k.as_str(), msg));
        }
        total += k.len() + v.len();
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(FieldError {
            kind: crate::api::status::FieldErrorKind::TooLong,
            field: path.into(),
            value: None,
            detail: format!("must have at most {TOTAL_ANNOTATION_SIZE_LIMIT} bytes"),
        });
    }
}

fn spec(obj: &Object, errs: &mut Errs) {
    match obj {
        Object::Pod(p) => pod_spec(&p.spec, &Path::new("spec"), &[], errs),
        Object::Service(s) => service(s, errs),
        Object::Deployment(d) => {
            let s = &d.spec;
            replicas(s.replicas, &Path::new("spec.replicas"), errs);
            selector_matches_template(s.selector.as_ref(), Some(&s.template), "deployment", errs);
            pod_template(&s.template, &Path::new("spec.template"), &["Always"], errs);
            if let Some(st) = &s.strategy {
                match st.kind.as_deref() {
                    Some("Recreate") if st.rolling_update.is_some() => {
                        errs.push(FieldError::forbidden(
                            "spec.strategy.rollingUpdate",
                            "may not be specified when strategy `type` is 'Recreate'",
                        ))
                    }
                    Some("Recreate") | Some("RollingUpdate") | None => {}
                    Some(other) => errs.push(FieldError::not_supported(
                        "spec.strategy.type",
                        other,
                        &["Recreate", "RollingUpdate"],
                    )),
                }
                if let Some(ru) = &st.rolling_update {
                    let zero = |v: &Option<crate::api::intstr::IntOrString>| {
                        matches!(v.as_ref().map(|x| x.scaled_value(100, true)), Some(Ok(0)))
                    };
                    if zero(&ru.max_unavailable) && zero(&ru.max_surge) {
                        errs.push(FieldError::invalid(
                            "spec.strategy.rollingUpdate.maxUnavailable",
                            GoValue(format!(
                                "{}",
                                ru.max_unavailable.clone().unwrap_or_default()
                            )),
                            "may not be 0 when `maxSurge` is 0",
                        ));
                    }
                }
            }
        }
        Object::ReplicaSet(rs) => {
            replicas(rs.spec.replicas, &Path::new("spec.replicas"), errs);
            selector_matches_template(
                rs.spec.selector.as_ref(),
                rs.spec.template.as_ref(),
                "replicaset",
                errs,
            );
            if let Some(t) = &rs.spec.template {
                pod_template(t, &Path::new("spec.template"), &["Always"], errs);
            }
        }
        Object::ReplicationController(rc) => {
            replicas(rc.spec.replicas, &Path::new("spec.replicas"), errs);
            if rc.spec.selector.is_empty() {
                errs.push(FieldError::required("spec.selector", ""));
            } else {
                labels(&rc.spec.selector, &Path::new("spec.selector"), errs);
            }
            match &rc.spec.template {
                None => errs.push(FieldError::required("spec.template", "")),
                Some(t) => {
                    let sel = crate::api::labels::Selector::from_set(&rc.spec.selector);
                    if !rc.spec.selector.is_empty() && !sel.matches(&t.metadata.labels) {
                        errs.push(FieldError::invalid(
                            "spec.template.metadata.labels",
                            GoValue(go_map_literal(&t.metadata.labels)),
                            "`selector` does not match template `labels`",
                        ));
                    }
                    pod_template(t, &Path::new("spec.template"), &["Always"], errs);
                }
            }
        }
        Object::ConfigMap(cm) => {
            let mut seen = BTreeSet::new();
            for k in cm.data.keys() {
                config_key(k, &Path::new("data").at(k), errs);
                seen.insert(k);
            }
            for k in cm.binary_data.keys() {
                config_key(k, &Path::new("binaryData").at(k), errs);
                if seen.contains(k) {
                    errs.push(FieldError::invalid(
                        Path::new("data").at(k),
                        k.as_str(),
                        "duplicate of key present in binaryData",
                    ));
                }
            }
        }
        Object::Secret(s) => {
            for k in s.data.keys() {
                config_key(k, &Path::new("data").at(k), errs);
            }
            let need = |key: &'static str, errs: &mut Errs| {
                if !s.data.contains_key(key) {
                    errs.push(FieldError::required(Path::new("data").at(key), ""));
                }
            };
            match s.kind.as_str() {
                "kubernetes.io/dockercfg" => need(".dockercfg", errs),
                "kubernetes.io/dockerconfigjson" => need(".dockerconfigjson", errs),
                "kubernetes.io/ssh-auth" => need("ssh-privatekey", errs),
                "kubernetes.io/tls" => {
                    need("tls.crt", errs);
                    need("tls.key", errs);
                }
                "kubernetes.io/basic-auth"
                    if !s.data.contains_key("username") && !s.data.contains_key("password") =>
                {
                    errs.push(FieldError::required("data[username]", ""));
                    errs.push(FieldError::required("data[password]", ""));
                }
                "kubernetes.io/service-account-token"
                    if !s
                        .metadata
                        .annotations
                        .contains_key("kubernetes.io/service-account.name") =>
                {
                    errs.push(FieldError::required(
                        "metadata.annotations[kubernetes.io/service-account.name]",
                        "",
                    ));
                }
                _ => {}
            }
        }
        Object::Node(n) => {
            for (i, t) in n.spec.taints.iter().enumerate() {
                taint_effect(
                    &t.effect,
                    &Path::new("spec.taints").at(i).child("effect"),
                    errs,
                );
                for msg in names::is_qualified_name(&t.key) {
                    errs.push(FieldError::invalid(
                        Path::new("spec.taints").at(i).child("key"),
                        t.key.as_str(),
                        msg,
                    ));
                }
            }
        }
        Object::ResourceQuota(q) => {
            resource_list(&q.spec.hard, &Path::new("spec.hard"), errs);
            quota_scopes(&q.spec.scopes, errs);
        }
        Object::LimitRange(lr) => {
            for (i, item) in lr.spec.limits.iter().enumerate() {
                let p = Path::new("spec.limits").at(i);
                // Upstream checks only that no type appears twice (an empty type is allowed).
                if lr.spec.limits[..i].iter().any(|o| o.kind == item.kind) {
                    errs.push(FieldError::duplicate(p.child("type"), item.kind.as_str()));
                }
                for (field, list) in [
                    ("max", &item.max),
                    ("min", &item.min),
                    ("default", &item.default),
                    ("defaultRequest", &item.default_request),
                ] {
                    resource_list(list, &p.child(field), errs);
                }
                for (res, min) in &item.min {
                    if let Some(max) = item.max.get(res) {
                        if min > max {
                            errs.push(FieldError::invalid(
                                p.child("min").at(res),
                                min.to_string(),
                                format!("min value {min} is greater than max value {max}"),
                            ));
                        }
                    }
                }
                for (res, d) in &item.default_request {
                    if let Some(max) = item.max.get(res) {
                        if d > max {
                            errs.push(FieldError::invalid(
                                p.child("defaultRequest").at(res),
                                d.to_string(),
                                format!(
                                    "default request value {d} is greater than max value {max}"
                                ),
                            ));
                        }
                    }
                    if let Some(def) = item.default.get(res) {
                        if d > def {
                            errs.push(FieldError::invalid(
                                p.child("defaultRequest").at(res),
                                d.to_string(),
                                format!("default request value {d} is greater than default limit value {def}"),
                            ));
                        }
                    }
                }
                for (res, d) in &item.default {
                    if let Some(max) = item.max.get(res) {
                        if d > max {
                            errs.push(FieldError::invalid(
                                p.child("default").at(res),
                                d.to_string(),
                                format!("default value {d} is greater than max value {max}"),
                            ));
                        }
                    }
                    if let Some(min) = item.min.get(res) {
                        if d < min {
                            errs.push(FieldError::invalid(
                                p.child("default").at(res),
                                d.to_string(),
                                format!("min value {min} is greater than default value {d}"),
                            ));
                        }
                    }
                }
            }
        }
        Object::Ingress(ing) => {
            for (i, rule) in ing.spec.rules.iter().enumerate() {
                if let Some(http) = &rule.http {
                    for (j, path) in http.paths.iter().enumerate() {
                        let p = Path::new("spec.rules")
                            .at(i)
                            .child("http")
                            .child("paths")
                            .at(j);
                        match path.path_type.as_deref() {
                            None => errs.push(FieldError::required(
                                p.child("pathType"),
                                "pathType must be specified",
                            )),
                            Some("Exact" | "Prefix" | "ImplementationSpecific") => {}
                            Some(other) => errs.push(FieldError::not_supported(
                                p.child("pathType"),
                                other,
                                &["Exact", "ImplementationSpecific", "Prefix"],
                            )),
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

fn replicas(r: Option<i32>, path: &Path, errs: &mut Errs) {
    if let Some(n) = r {
        if n < 0 {
            errs.push(FieldError::invalid(
                path,
                n,
                "must be greater than or equal to 0",
            ));
        }
    }
}

/// `validateResourceQuotaScopes`: standard scopes only, and not both halves of a pair.
fn quota_scopes(scopes: &[String], errs: &mut Vec<FieldError>) {
    const STANDARD: &[&str] = &[
        "Terminating",
        "NotTerminating",
        "BestEffort",
        "NotBestEffort",
        "PriorityClass",
        "CrossNamespacePodAffinity",
    ];
    // Go prints the internal type's slice with %#v.
    let value = || {
        let items: Vec<String> = scopes.iter().map(|s| go_quote(s)).collect();
        GoValue(format!("[]core.ResourceQuotaScope{{{}}}", items.join(", ")))
    };
    for scope in scopes {
        if !STANDARD.contains(&scope.as_str()) {
            errs.push(FieldError::invalid(
                "spec.scopes",
                value(),
                "unsupported scope",
            ));
        }
    }
    for (a, b) in [
        ("BestEffort", "NotBestEffort"),
        ("Terminating", "NotTerminating"),
    ] {
        if scopes.iter().any(|s| s == a) && scopes.iter().any(|s| s == b) {
            errs.push(FieldError::invalid(
                "spec.scopes",
                value(),
                "conflicting scopes",
            ));
        }
    }
}

fn selector_go(s: Option<&LabelSelector>) -> GoValue {
    match s {
        None => GoValue("(*v1.LabelSelector)(nil)".into()),
        Some(s) => {
            let ml = if s.match_labels.is_empty() {
                "map[string]string(nil)".to_string()
            } else {
                go_map_literal(&s.match_labels)
            };
            let me = if s.match_expressions.is_empty() {
                "[]v1.LabelSelectorRequirement(nil)".to_string()
            } else {
                format!(
                    "[]v1.LabelSelectorRequirement{{{}}}",
                    s.match_expressions
                        .iter()
                        .map(|r| format!(
                            "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{:?}}}",
                            go_quote(&r.key),
                            go_quote(&r.operator),
                            r.values
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            GoValue(format!(
                "v1.LabelSelector{{MatchLabels:{ml}, MatchExpressions:{me}}}"
            ))
        }
    }
}

fn selector_matches_template(
    sel: Option<&LabelSelector>,
    template: Option<&PodTemplateSpec>,
    what: &str,
    errs: &mut Errs,
) {
    let Some(sel) = sel else {
        errs.push(FieldError::required("spec.selector", ""));
        return;
    };
    if sel.match_labels.is_empty() && sel.match_expressions.is_empty() {
        errs.push(FieldError::invalid(
            "spec.selector",
            selector_go(Some(sel)),
            format!("empty selector is invalid for {what}"),
        ));
        return;
    }
    labels(
        &sel.match_labels,
        &Path::new("spec.selector.matchLabels"),
        errs,
    );
    for (i, r) in sel.match_expressions.iter().enumerate() {
        let p = Path::new("spec.selector.matchExpressions").at(i);
        match r.operator.as_str() {
            "In" | "NotIn" if r.values.is_empty() => errs.push(FieldError::required(
                p.child("values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if !r.values.is_empty() => errs.push(FieldError::forbidden(
                p.child("values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => errs.push(FieldError::invalid(
                p.child("operator"),
                other,
                "not a valid selector operator",
            )),
        }
    }
    let Some(t) = template else {
        errs.push(FieldError::required("spec.template", ""));
        return;
    };
    match sel.to_selector() {
        Ok(s) if !s.matches(&t.metadata.labels) => errs.push(FieldError::invalid(
            "spec.template.metadata.labels",
            GoValue(go_map_literal(&t.metadata.labels)),
            "`selector` does not match template `labels`",
        )),
        _ => {}
    }
}

fn pod_template(t: &PodTemplateSpec, path: &Path, restart: &[&str], errs: &mut Errs) {
    labels(
        &t.metadata.labels,
        &path.child("metadata").child("labels"),
        errs,
    );
    annotations(
        &t.metadata.annotations,
        &path.child("metadata").child("annotations"),
        errs,
    );
    pod_spec(&t.spec, &path.child("spec"), restart, errs);
}

/// ValidatePodSpec, the parts that matter to a simulation and to people's typos.
/// `restart` narrows the allowed restart policies (templates of controllers: Always).
pub fn pod_spec(spec: &PodSpec, path: &Path, restart: &[&str], errs: &mut Errs) {
    let mut volumes = BTreeSet::new();
    for (i, v) in spec.volumes.iter().enumerate() {
        let p = path.child("volumes").at(i);
        if v.name.is_empty() {
            errs.push(FieldError::required(p.child("name"), ""));
        } else {
            for msg in names::is_dns1123_label(&v.name) {
                errs.push(FieldError::invalid(p.child("name"), v.name.as_str(), msg));
            }
            if !volumes.insert(v.name.as_str()) {
                errs.push(FieldError::duplicate(p.child("name"), v.name.as_str()));
            }
        }
        let sources = v.source_count();
        if sources == 0 {
            errs.push(FieldError::required(p, "must specify a volume type"));
        } else if sources > 1 {
            errs.push(FieldError::forbidden(
                p,
                "may not specify more than 1 volume type",
            ));
        }
    }
    if spec.containers.is_empty() {
        errs.push(FieldError::required(path.child("containers"), ""));
    }
    let mut seen = BTreeSet::new();
    for (field, list) in [
        ("initContainers", &spec.init_containers),
        ("containers", &spec.containers),
    ] {
        for (i, c) in list.iter().enumerate() {
            container(c, &path.child(field).at(i), &volumes, &mut seen, errs);
        }
    }
    let allowed_restart: &[&str] = if restart.is_empty() {
        &["Always", "Never", "OnFailure"]
    } else {
        restart
    };
    if let Some(rp) = &spec.restart_policy {
        if !allowed_restart.contains(&rp.as_str()) {
            errs.push(FieldError::not_supported(
                path.child("restartPolicy"),
                rp.as_str(),
                allowed_restart,
            ));
        }
    }
    if let Some(dp) = &spec.dns_policy {
        const DNS: &[&str] = &["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];
        if !DNS.contains(&dp.as_str()) {
            errs.push(FieldError::not_supported(
                path.child("dnsPolicy"),
                dp.as_str(),
                DNS,
            ));
        }
    }
    labels(&spec.node_selector, &path.child("nodeSelector"), errs);
    if !spec.node_name.is_empty() {
        for msg in names::is_dns1123_subdomain(&spec.node_name) {
            errs.push(FieldError::invalid(
                path.child("nodeName"),
                spec.node_name.as_str(),
                msg,
            ));
        }
    }
    if let Some(sa) = &spec.service_account_name {
        if !sa.is_empty() {
            for msg in names::is_dns1123_subdomain(sa) {
                errs.push(FieldError::invalid(
                    path.child("serviceAccountName"),
                    sa.as_str(),
                    msg,
                ));
            }
        }
    }
    for (i, t) in spec.tolerations.iter().enumerate() {
        let p = path.child("tolerations").at(i);
        match t.operator.as_deref() {
            None | Some("Equal") | Some("") => {
                if t.key.is_empty() {
                    errs.push(FieldError::invalid(p.child("operator"), t.operator.as_deref().unwrap_or(""), "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
                }
            }
            Some("Exists") => {
                if !t.value.is_empty() {
                    errs.push(FieldError::invalid(
                        p.child("operator"),
                        t.value.as_str(),
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            Some(other) => errs.push(FieldError::not_supported(
                p.child("operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        if !t.effect.is_empty() {
            taint_effect(&t.effect, &p.child("effect"), errs);
        }
        if t.toleration_seconds.is_some() && t.effect != "NoExecute" {
            errs.push(FieldError::invalid(
                p.child("effect"),
                t.effect.as_str(),
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
    }
    resource_list(&spec.overhead, &path.child("overhead"), errs);
    if let Some(aff) = &spec.affinity {
        if let Some(na) = &aff.node_affinity {
            if let Some(req) = &na.required_during_scheduling_ignored_during_execution {
                if req.node_selector_terms.is_empty() {
                    errs.push(FieldError::required(
                        path.child("affinity")
                            .child("nodeAffinity")
                            .child("requiredDuringSchedulingIgnoredDuringExecution")
                            .child("nodeSelectorTerms"),
                        "must have at least one node selector term",
                    ));
                }
            }
        }
    }
}

fn taint_effect(effect: &str, path: &Path, errs: &mut Errs) {
    const EFFECTS: &[&str] = &["NoExecute", "NoSchedule", "PreferNoSchedule"];
    if effect.is_empty() {
        errs.push(FieldError::required(path, ""));
    } else if !EFFECTS.contains(&effect) {
        errs.push(FieldError::not_supported(path, effect, EFFECTS));
    }
}

fn container(
    c: &Container,
    path: &Path,
    volumes: &BTreeSet<&str>,
    seen: &mut BTreeSet<String>,
    errs: &mut Errs,
) {
    if c.name.is_empty() {
        errs.push(FieldError::required(path.child("name"), ""));
    } else {
        for msg in names::is_dns1123_label(&c.name) {
            errs.push(FieldError::invalid(
                path.child("name"),
                c.name.as_str(),
                msg,
            ));
        }
        if !seen.insert(c.name.clone()) {
            errs.push(FieldError::duplicate(path.child("name"), c.name.as_str()));
        }
    }
    if c.image.as_deref().is_none_or(|i| i.trim().is_empty()) {
        errs.push(FieldError::required(path.child("image"), ""));
    }
    let mut port_names = BTreeSet::new();
    for (i, p) in c.ports.iter().enumerate() {
        let pp = path.child("ports").at(i);
        if let Some(name) = &p.name {
            for msg in port_name(name) {
                errs.push(FieldError::invalid(pp.child("name"), name.as_str(), msg));
            }
            if !port_names.insert(name.clone()) {
                errs.push(FieldError::duplicate(pp.child("name"), name.as_str()));
            }
        }
        if p.container_port == 0 {
            errs.push(FieldError::required(pp.child("containerPort"), ""));
        } else if !(1..=65535).contains(&p.container_port) {
            errs.push(FieldError::invalid(
                pp.child("containerPort"),
                p.container_port,
                "must be between 1 and 65535, inclusive",
            ));
        }
        if let Some(hp) = p.host_port {
            if hp != 0 && !(1..=65535).contains(&hp) {
                errs.push(FieldError::invalid(
                    pp.child("hostPort"),
                    hp,
                    "must be between 1 and 65535, inclusive",
                ));
            }
        }
        if let Some(proto) = &p.protocol {
            if !["SCTP", "TCP", "UDP"].contains(&proto.as_str()) {
                errs.push(FieldError::not_supported(
                    pp.child("protocol"),
                    proto.as_str(),
                    &["SCTP", "TCP", "UDP"],
                ));
            }
        }
    }
    if let Some(pp) = &c.image_pull_policy {
        const POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
        if !POLICIES.contains(&pp.as_str()) {
            errs.push(FieldError::not_supported(
                path.child("imagePullPolicy"),
                pp.as_str(),
                POLICIES,
            ));
        }
    }
    for (i, m) in c.volume_mounts.iter().enumerate() {
        let mp = path.child("volumeMounts").at(i);
        if m.name.is_empty() {
            errs.push(FieldError::required(mp.child("name"), ""));
        } else if !volumes.contains(m.name.as_str()) {
            errs.push(FieldError::not_found(mp.child("name"), m.name.as_str()));
        }
        if m.mount_path.is_empty() {
            errs.push(FieldError::required(mp.child("mountPath"), ""));
        }
    }
    for (i, e) in c.env.iter().enumerate() {
        if e.name.is_empty() {
            errs.push(FieldError::required(
                path.child("env").at(i).child("name"),
                "",
            ));
        }
    }
    let rp = path.child("resources");
    resource_list(&c.resources.limits, &rp.child("limits"), errs);
    resource_list(&c.resources.requests, &rp.child("requests"), errs);
    for (name, req) in &c.resources.requests {
        if let Some(limit) = c.resources.limits.get(name) {
            if req > limit {
                errs.push(FieldError::invalid(
                    rp.child("requests"),
                    req.to_string(),
                    format!("must be less than or equal to {name} limit of {limit}"),
                ));
            }
        }
    }
}

/// IsValidPortName (IANA_SVC_NAME).
fn port_name(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    if name.len() > 15 {
        out.push("must be no more than 15 characters".into());
    }
    if !name
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        out.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if name.contains("--") {
        out.push("must not contain consecutive hyphens".into());
    }
    if !name.bytes().any(|c| c.is_ascii_lowercase()) {
        out.push("must contain at least one letter (a-z)".into());
    }
    if name.starts_with('-') || name.ends_with('-') {
        out.push("must not begin or end with a hyphen".into());
    }
    out
}

fn resource_list(list: &ResourceList, path: &Path, errs: &mut Errs) {
    for (name, q) in list {
        if q.milli_value() < 0 {
            errs.push(FieldError::invalid(
                path.at(name),
                q.to_string(),
                "must be greater than or equal to 0",
            ));
        }
        let standard = name.contains('/')
            || [
                "cpu",
                "memory",
                "ephemeral-storage",
                "storage",
                "pods",
                "services",
                "configmaps",
                "secrets",
                "persistentvolumeclaims",
                "replicationcontrollers",
                "resourcequotas",
                "services.nodeports",
                "services.loadbalancers",
            ]
            .contains(&name.as_str())
            || name.starts_with("requests.")
            || name.starts_with("limits.")
            || name.starts_with("hugepages-")
            || name.starts_with("count/");
        if !standard {
            errs.push(FieldError::invalid(
                path.at(name),
                name.as_str(),
                "must be a standard resource type or fully qualified",
            ));
        }
    }
}

fn config_key(key: &str, path: &Path, errs: &mut Errs) {
    let ok = !key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.');
    if !ok {
        errs.push(FieldError::invalid(
            path,
            key,
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        ));
    }
    if key == "." || key == ".." {
        errs.push(FieldError::invalid(
            path,
            key,
            format!("must not be '{key}'"),
        ));
    } else if key.starts_with("..") {
        errs.push(FieldError::invalid(path, key, "must not start with '..'"));
    }
    if key.len() > 253 {
        errs.push(FieldError::invalid(
            path,
            key,
            "must be no more than 253 characters",
        ));
    }
}

fn service(s: &Service, errs: &mut Errs) {
    let spec = &s.spec;
    const TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    if !TYPES.contains(&spec.kind.as_str()) {
        errs.push(FieldError::not_supported(
            "spec.type",
            spec.kind.as_str(),
            TYPES,
        ));
    }
    let headless = spec.cluster_ip == "None";
    if spec.ports.is_empty() && !headless && spec.kind != "ExternalName" {
        errs.push(FieldError::required("spec.ports", ""));
    }
    if spec.kind == "ExternalName" && spec.external_name.is_empty() {
        errs.push(FieldError::required("spec.externalName", ""));
    }
    let mut port_names = BTreeSet::new();
    let mut port_protos = BTreeSet::new();
    for (i, p) in spec.ports.iter().enumerate() {
        let pp = Path::new("spec.ports").at(i);
        if spec.ports.len() > 1 && p.name.is_empty() {
            errs.push(FieldError::required(pp.child("name"), ""));
        } else if !p.name.is_empty() {
            for msg in names::is_dns1123_label(&p.name) {
                errs.push(FieldError::invalid(pp.child("name"), p.name.as_str(), msg));
            }
            if !port_names.insert(p.name.clone()) {
                errs.push(FieldError::duplicate(pp.child("name"), p.name.as_str()));
            }
        }
        if !(1..=65535).contains(&p.port) {
            errs.push(FieldError::invalid(
                pp.child("port"),
                p.port,
                "must be between 1 and 65535, inclusive",
            ));
        }
        let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
        if !["SCTP", "TCP", "UDP"].contains(&proto.as_str()) {
            errs.push(FieldError::not_supported(
                pp.child("protocol"),
                proto.as_str(),
                &["SCTP", "TCP", "UDP"],
            ));
        }
        if !port_protos.insert((p.port, proto.clone())) {
            errs.push(FieldError::duplicate(
                pp,
                GoValue(format!(
                    "core.ServicePort{{Name:{}, Protocol:{}, Port:{}}}",
                    go_quote(&p.name),
                    go_quote(&proto),
                    p.port
                )),
            ));
        }
        match &p.target_port {
            Some(crate::api::intstr::IntOrString::Int(t)) if !(1..=65535).contains(t) => {
                errs.push(FieldError::invalid(
                    pp.child("targetPort"),
                    *t,
                    "must be between 1 and 65535, inclusive",
                ))
            }
            Some(crate::api::intstr::IntOrString::String(n)) => {
                for msg in port_name(n) {
                    errs.push(FieldError::invalid(pp.child("targetPort"), n.as_str(), msg));
                }
            }
            _ => {}
        }
        if p.node_port != 0 && spec.kind != "NodePort" && spec.kind != "LoadBalancer" {
            errs.push(FieldError::forbidden(
                pp.child("nodePort"),
                "may not be used when `type` is 'ClusterIP'",
            ));
        }
    }
    labels(&spec.selector, &Path::new("spec.selector"), errs);
    if !["ClientIP", "None"].contains(&spec.session_affinity.as_str()) {
        errs.push(FieldError::not_supported(
            "spec.sessionAffinity",
            spec.session_affinity.as_str(),
            &["ClientIP", "None"],
        ));
    }
    if !spec.external_traffic_policy.is_empty() {
        if spec.kind != "NodePort" && spec.kind != "LoadBalancer" {
            errs.push(FieldError::invalid(
                "spec.externalTrafficPolicy",
                spec.external_traffic_policy.as_str(),
                "may only be set for externally-accessible services",
            ));
        } else if !["Cluster", "Local"].contains(&spec.external_traffic_policy.as_str()) {
            errs.push(FieldError::not_supported(
                "spec.externalTrafficPolicy",
                spec.external_traffic_policy.as_str(),
                &["Cluster", "Local"],
            ));
        }
    }
}
