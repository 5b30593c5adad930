//! Admission control: plugins that may change (mutating) or refuse (validating) a
//! request after it is authorized, named and ordered as upstream's.
//!
//! The plugins read cluster state the way upstream's read their informers' caches;
//! here that is a read-only view of the store.

use super::auth::UserInfo;
use crate::api::core::{
    ConfigMapProjection, DownwardApiProjection, DownwardApiVolumeFile, KeyToPath,
    ObjectFieldSelector, ProjectedVolumeSource, ServiceAccountTokenProjection, Toleration, Volume,
    VolumeMount, VolumeProjection,
};
use crate::api::object::{INGRESSCLASSES, NAMESPACES, PRIORITYCLASSES, SERVICEACCOUNTS};
use crate::api::status::GroupResource;
use crate::api::{ApiError, Object, ResourceType, Shared};
use crate::kernel::trace::Text;
use crate::kernel::Rng;
use crate::store::Store;

/// The operation being admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

/// What a plugin may look at.
pub struct Context<'a> {
    pub op: Operation,
    pub resource: &'static ResourceType,
    pub subresource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub user: &'a UserInfo,
    pub store: &'a Store,
    /// `legacyServiceAccountTokens`: mount token Secrets (see `legacy_tokens`).
    pub legacy_tokens: bool,
}

/// The plugins v1.31 enables by default, in upstream's order. Those kubeglass does not
/// simulate are accepted by name and do nothing (they are listed in the UI as such).
pub const DEFAULT_PLUGINS: &[&str] = &[
    "NamespaceLifecycle",
    "LimitRanger",
    "ServiceAccount",
    "TaintNodesByCondition",
    "PodSecurity",
    "Priority",
    "DefaultTolerationSeconds",
    "DefaultStorageClass",
    "StorageObjectInUseProtection",
    "PersistentVolumeClaimResize",
    "RuntimeClass",
    "CertificateApproval",
    "CertificateSigning",
    "ClusterTrustBundleAttest",
    "CertificateSubjectRestriction",
    "DefaultIngressClass",
    "MutatingAdmissionWebhook",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionWebhook",
    "ResourceQuota",
];

/// Other plugin names upstream knows, accepted in `admissionPlugins.enable`.
pub const OTHER_KNOWN_PLUGINS: &[&str] = &[
    "AlwaysAdmit",
    "AlwaysDeny",
    "AlwaysPullImages",
    "DenyServiceExternalIPs",
    "EventRateLimit",
    "ExtendedResourceToleration",
    "ImagePolicyWebhook",
    "LimitPodHardAntiAffinityTopology",
    "NamespaceAutoProvision",
    "NamespaceExists",
    "NodeRestriction",
    "OwnerReferencesPermissionEnforcement",
    "PodNodeSelector",
    "PodTolerationRestriction",
    "SecurityContextDeny",
];

/// Plugins kubeglass simulates; the rest of the enabled set is accepted and inert.
pub const SIMULATED: &[&str] = &[
    "NamespaceLifecycle",
    "LimitRanger",
    "ResourceQuota",
    "ServiceAccount",
    "TaintNodesByCondition",
    "Priority",
    "DefaultTolerationSeconds",
    "DefaultIngressClass",
    "AlwaysAdmit",
    "AlwaysDeny",
    "AlwaysPullImages",
    "NamespaceExists",
    "NamespaceAutoProvision",
];

/// The enabled plugins, in order, after `enable`/`disable`. Unknown names are errors.
pub fn enabled_plugins(enable: &[String], disable: &[String]) -> Result<Vec<String>, String> {
    for name in enable.iter().chain(disable) {
        if !DEFAULT_PLUGINS.contains(&name.as_str())
            && !OTHER_KNOWN_PLUGINS.contains(&name.as_str())
        {
            return Err(format!(
                "enable-admission-plugins plugin \"{name}\" is unknown"
            ));
        }
    }
    let mut out: Vec<String> = Vec::new();
    // Upstream orders plugins by its fixed AllOrderedPlugins list; the extra ones
    // named in `enable` go where that list puts them, approximated here as first.
    for name in enable {
        if !DEFAULT_PLUGINS.contains(&name.as_str()) && !out.contains(name) {
            out.push(name.clone());
        }
    }
    for name in DEFAULT_PLUGINS {
        if !disable.iter().any(|d| d == name) {
            out.push(name.to_string());
        }
    }
    Ok(out.into_iter().filter(|n| !disable.contains(n)).collect())
}

/// Adds `plugin: note` to the trace's notes, `; ` between plugins.
fn push_note(notes: &mut String, plugin: &str, note: &str) {
    if notes.is_empty() {
        notes.reserve(160);
    } else {
        notes.push_str("; ");
    }
    notes.push_str(plugin);
    notes.push_str(": ");
    notes.push_str(note);
}

/// Runs the mutating half of every enabled plugin. Returns, for the trace, a
/// `plugin: note` per plugin that acted, joined by `; ` (empty when none did).
pub fn mutate(
    plugins: &[String],
    ctx: &Context,
    obj: &mut Object,
    rng: &mut Rng,
) -> Result<String, ApiError> {
    let mut notes = String::new();
    for p in plugins {
        let note = match p.as_str() {
            // NamespaceLifecycle is a mutating plugin upstream, first in the chain.
            "NamespaceLifecycle" => namespace_lifecycle(ctx)?,
            "LimitRanger" => limit_ranger_mutate(ctx, obj).map(Text::Owned),
            "ServiceAccount" => service_account(ctx, obj, rng)?,
            "TaintNodesByCondition" => taint_nodes_by_condition(ctx, obj).map(Text::Owned),
            "Priority" => priority(ctx, obj)?,
            "DefaultTolerationSeconds" => default_toleration_seconds(ctx, obj),
            "DefaultIngressClass" => default_ingress_class(ctx, obj).map(Text::Owned),
            "AlwaysPullImages" => always_pull_images(ctx, obj).map(Text::Owned),
            _ => None,
        };
        if let Some(n) = note {
            push_note(&mut notes, p, &n);
        }
    }
    Ok(notes)
}

/// Runs the validating half of every enabled plugin; notes as [`mutate`]'s.
pub fn validate(
    plugins: &[String],
    ctx: &Context,
    obj: Option<&Object>,
) -> Result<String, ApiError> {
    let mut notes = String::new();
    for p in plugins {
        let note = match p.as_str() {
            // Deletes pass only this half of the chain here; the lifecycle check
            // keeps the immortal namespaces.
            "NamespaceLifecycle" if ctx.op == Operation::Delete => namespace_lifecycle(ctx)?,
            "NamespaceExists" => namespace_exists(ctx)?,
            "LimitRanger" => limit_ranger_validate(ctx, obj)?.map(Text::Owned),
            "AlwaysDeny" => {
                return Err(ApiError::forbidden(
                    ctx.resource.group_resource(),
                    ctx.name,
                    "admission control is denying all modifications",
                ))
            }
            _ => None,
        };
        if let Some(n) = note {
            push_note(&mut notes, p, &n);
        }
    }
    Ok(notes)
}

/// Whether LimitRanger looks at this request: pod creations, no subresource.
fn limit_ranger_applies(ctx: &Context) -> bool {
    std::ptr::eq(ctx.resource, &crate::api::object::PODS)
        && ctx.subresource.is_empty()
        && ctx.op == Operation::Create
}

fn limit_ranger_mutate(ctx: &Context, obj: &mut Object) -> Option<String> {
    let Object::Pod(pod) = obj else { return None };
    if !limit_ranger_applies(ctx) {
        return None;
    }
    super::limitranger::mutate(
        super::limitranger::limit_ranges(ctx.store, ctx.namespace),
        pod,
    )
    .map(|set| format!("annotated {}: {set}", super::limitranger::ANNOTATION))
}

fn limit_ranger_validate(ctx: &Context, obj: Option<&Object>) -> Result<Option<String>, ApiError> {
    let Some(Object::Pod(pod)) = obj else {
        return Ok(None);
    };
    if !limit_ranger_applies(ctx) {
        return Ok(None);
    }
    let mut names = Vec::new();
    for lr in super::limitranger::limit_ranges(ctx.store, ctx.namespace) {
        if let Some(why) = super::limitranger::validate(lr, pod) {
            return Err(ApiError::forbidden(
                ctx.resource.group_resource(),
                ctx.name,
                &why,
            ));
        }
        names.push(lr.metadata.name.as_str());
    }
    Ok((!names.is_empty()).then(|| format!("within LimitRange {}", names.join(", "))))
}

const IMMORTAL_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public"];

fn namespace_lifecycle(ctx: &Context) -> Result<Option<Text>, ApiError> {
    if std::ptr::eq(ctx.resource, &NAMESPACES) {
        if ctx.op == Operation::Delete && IMMORTAL_NAMESPACES.contains(&ctx.name) {
            return Err(ApiError::forbidden(
                NAMESPACES.group_resource(),
                ctx.name,
                "this namespace may not be deleted",
            ));
        }
        return Ok(None);
    }
    if !ctx.resource.namespaced || ctx.op != Operation::Create || ctx.namespace.is_empty() {
        return Ok(None);
    }
    match ctx
        .store
        .get(&NAMESPACES, "", ctx.namespace)
        .and_then(|o| match o.as_ref() {
            Object::Namespace(n) => Some(n),
            _ => None,
        }) {
        None => Err(ApiError::not_found(
            NAMESPACES.group_resource(),
            ctx.namespace,
        )),
        Some(ns) if ns.is_terminating() || ns.metadata.deletion_timestamp.is_some() => {
            // Events and the like may still be written while a namespace is deleted.
            let gr = ctx.resource.group_resource();
            let mut e = ApiError::forbidden(
                gr,
                ctx.name,
                &format!(
                    "unable to create new content in namespace {} because it is being terminated",
                    ctx.namespace
                ),
            );
            e.0.reason = "Forbidden".into();
            e.0.details.get_or_insert_with(Default::default).causes =
                vec![crate::api::status::StatusCause {
                    reason: "NamespaceTerminating".into(),
                    message: format!("namespace {} is being terminated", ctx.namespace),
                    field: "metadata.namespace".into(),
                }];
            Err(e)
        }
        Some(_) => Ok(Some(Text::Owned(
            ["namespace \"", ctx.namespace, "\" is active"].concat(),
        ))),
    }
}

fn namespace_exists(ctx: &Context) -> Result<Option<Text>, ApiError> {
    if !ctx.resource.namespaced || ctx.namespace.is_empty() || ctx.op != Operation::Create {
        return Ok(None);
    }
    if ctx.store.get(&NAMESPACES, "", ctx.namespace).is_none() {
        return Err(ApiError::not_found(
            NAMESPACES.group_resource(),
            ctx.namespace,
        ));
    }
    Ok(None)
}

/// The ServiceAccount plugin: every pod runs as an account (`default` unless it says
/// otherwise) that must exist, and gets the account's API token as a projected volume.
fn service_account(
    ctx: &Context,
    obj: &mut Object,
    rng: &mut Rng,
) -> Result<Option<Text>, ApiError> {
    let Object::Pod(pod) = obj else {
        return Ok(None);
    };
    if ctx.op != Operation::Create || !ctx.subresource.is_empty() {
        return Ok(None);
    }
    // Mirror pods (static pods) are left alone.
    if pod
        .metadata
        .annotations
        .contains_key("kubernetes.io/config.mirror")
    {
        return Ok(None);
    }
    // The notes, `; ` between them.
    let mut notes = String::new();
    let note = |notes: &mut String, n: &[&str]| {
        if !notes.is_empty() {
            notes.push_str("; ");
        }
        for part in n {
            notes.push_str(part);
        }
    };
    let sa_name = pod
        .spec
        .service_account_name
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            note(&mut notes, &["set serviceAccountName \"default\""]);
            "default".into()
        });
    pod.spec.service_account_name = Some(sa_name.clone());
    pod.spec.service_account = Some(sa_name.clone());
    let sa = match ctx
        .store
        .get(&SERVICEACCOUNTS, ctx.namespace, &sa_name)
        .map(|o| o.as_ref())
    {
        Some(Object::ServiceAccount(sa)) => sa,
        _ => {
            return Err(ApiError::forbidden(
                GroupResource {
                    group: "",
                    resource: "pods",
                },
                &pod.metadata.name,
                &format!(
                    "error looking up service account {}/{}: serviceaccount \"{}\" not found",
                    ctx.namespace, sa_name, sa_name
                ),
            ))
        }
    };
    if pod.spec.image_pull_secrets.is_empty() && !sa.image_pull_secrets.is_empty() {
        pod.spec.image_pull_secrets = sa.image_pull_secrets.clone();
        note(
            &mut notes,
            &[
                "added imagePullSecrets of service account \"",
                &sa_name,
                "\"",
            ],
        );
    }
    let automount = pod
        .spec
        .automount_service_account_token
        .or(sa.automount_service_account_token)
        .unwrap_or(true);
    const MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
    let already = pod
        .spec
        .containers
        .iter()
        .any(|c| c.volume_mounts.iter().any(|m| m.mount_path == MOUNT_PATH));
    if automount && ctx.legacy_tokens {
        if let Some(n) = super::legacy_tokens::mount_token_secret(ctx, pod, sa, rng)? {
            note(&mut notes, &[&n]);
        }
    } else if automount && !already {
        let volume_name = format!("kube-api-access-{}", rng.k8s_suffix(5));
        // Exact capacity: a pod holds these for its life, and a push into an empty
        // Vec would reserve room for four.
        pod.spec.volumes.reserve_exact(1);
        pod.spec.volumes.push(Volume {
            name: volume_name.clone(),
            projected: Some(api_access_source()),
            ..Default::default()
        });
        for c in pod
            .spec
            .init_containers
            .iter_mut()
            .chain(pod.spec.containers.iter_mut())
        {
            c.volume_mounts.reserve_exact(1);
            c.volume_mounts.push(VolumeMount {
                name: volume_name.clone(),
                read_only: Some(true),
                mount_path: MOUNT_PATH.into(),
                ..Default::default()
            });
        }
        note(
            &mut notes,
            &[
                "mounted the account's token as projected volume \"",
                &volume_name,
                "\" at ",
                MOUNT_PATH,
            ],
        );
    }
    if notes.is_empty() {
        note(&mut notes, &["service account \"", &sa_name, "\" exists"]);
    }
    Ok(Some(Text::Owned(notes)))
}

/// The source of every `kube-api-access-xxxxx` volume (v1.31's
/// `TokenVolumeSource`: the token, the cluster's CA and the namespace). It is the
/// same for every pod, so every pod shares one copy.
fn api_access_source() -> Shared<ProjectedVolumeSource> {
    static SOURCE: std::sync::OnceLock<Shared<ProjectedVolumeSource>> = std::sync::OnceLock::new();
    SOURCE
        .get_or_init(|| {
            Shared::new(ProjectedVolumeSource {
                default_mode: Some(420),
                sources: vec![
                    VolumeProjection {
                        service_account_token: Some(ServiceAccountTokenProjection {
                            expiration_seconds: Some(3607),
                            path: "token".into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                    VolumeProjection {
                        config_map: Some(ConfigMapProjection {
                            name: Some(crate::controllers::rootca::CONFIGMAP.into()),
                            items: vec![KeyToPath {
                                key: "ca.crt".into(),
                                path: "ca.crt".into(),
                                mode: None,
                            }],
                            optional: None,
                        }),
                        ..Default::default()
                    },
                    VolumeProjection {
                        downward_api: Some(DownwardApiProjection {
                            items: vec![DownwardApiVolumeFile {
                                path: "namespace".into(),
                                field_ref: Some(ObjectFieldSelector {
                                    api_version: Some("v1".into()),
                                    field_path: "metadata.namespace".into(),
                                }),
                                ..Default::default()
                            }],
                        }),
                        ..Default::default()
                    },
                ],
            })
        })
        .clone()
}

fn taint_nodes_by_condition(ctx: &Context, obj: &mut Object) -> Option<String> {
    let Object::Node(node) = obj else { return None };
    if ctx.op != Operation::Create {
        return None;
    }
    // Upstream taints every new node not-ready and lets the node lifecycle controller
    // lift the taint once the node reports Ready; a node declared Ready is not tainted.
    let ready = node.condition("Ready").is_some_and(|c| c.status == "True");
    let key = "node.kubernetes.io/not-ready";
    if ready
        || node
            .spec
            .taints
            .iter()
            .any(|t| t.key == key && t.effect == "NoSchedule")
    {
        return None;
    }
    node.spec.taints.push(crate::api::core::Taint {
        key: key.into(),
        effect: "NoSchedule".into(),
        ..Default::default()
    });
    Some(format!(
        "tainted {key}:NoSchedule because the node is not Ready yet"
    ))
}

/// The built-in priority classes.
pub const SYSTEM_PRIORITY_CLASSES: &[(&str, i32)] = &[
    ("system-cluster-critical", 2_000_000_000),
    ("system-node-critical", 2_000_001_000),
];

fn priority(ctx: &Context, obj: &mut Object) -> Result<Option<Text>, ApiError> {
    let Object::Pod(pod) = obj else {
        return Ok(None);
    };
    if ctx.op != Operation::Create {
        return Ok(None);
    }
    let classes: Vec<&crate::api::networking::PriorityClass> = ctx
        .store
        .list(&PRIORITYCLASSES, None)
        .filter_map(|o| match o.as_ref() {
            Object::PriorityClass(pc) => Some(&**pc),
            _ => None,
        })
        .collect();
    let (name, value, policy) = match pod
        .spec
        .priority_class_name
        .as_deref()
        .filter(|n| !n.is_empty())
    {
        Some(name) => {
            if let Some((_, v)) = SYSTEM_PRIORITY_CLASSES.iter().find(|(n, _)| *n == name) {
                (name.to_string(), *v, None)
            } else if let Some(pc) = classes.iter().find(|pc| pc.metadata.name == name) {
                (name.to_string(), pc.value, pc.preemption_policy.clone())
            } else {
                return Err(ApiError::forbidden(
                    GroupResource {
                        group: "",
                        resource: "pods",
                    },
                    &pod.metadata.name,
                    &format!("no PriorityClass with name {name} was found"),
                ));
            }
        }
        None => match classes.iter().find(|pc| pc.global_default == Some(true)) {
            Some(pc) => (
                pc.metadata.name.clone(),
                pc.value,
                pc.preemption_policy.clone(),
            ),
            None => (String::new(), 0, None),
        },
    };
    if let Some(given) = pod.spec.priority {
        if given != value {
            return Err(ApiError::forbidden(
                GroupResource { group: "", resource: "pods" },
                &pod.metadata.name,
                &format!(
                    "the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {value} from the given PriorityClass name"
                ),
            ));
        }
    }
    pod.spec.priority = Some(value);
    if !name.is_empty() {
        pod.spec.priority_class_name = Some(name.clone());
    }
    pod.spec
        .preemption_policy
        .get_or_insert_with(|| policy.unwrap_or_else(|| "PreemptLowerPriority".into()));
    Ok(Some(if name.is_empty() {
        Text::Static("priority 0 (no PriorityClass named, none is the global default)")
    } else {
        Text::Owned(format!("priority {value} from PriorityClass \"{name}\""))
    }))
}

fn default_toleration_seconds(ctx: &Context, obj: &mut Object) -> Option<Text> {
    let Object::Pod(pod) = obj else { return None };
    if ctx.op != Operation::Create {
        return None;
    }
    const KEYS: [&str; 2] = [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ];
    let toleration = |key: &str| Toleration {
        key: key.into(),
        operator: Some("Exists".into()),
        effect: "NoExecute".into(),
        toleration_seconds: Some(300),
        ..Default::default()
    };
    let mut added = [false; 2];
    if pod.spec.tolerations.is_empty() {
        // The usual case: both, and every such pod shares one list.
        static BOTH: std::sync::OnceLock<Shared<Vec<Toleration>>> = std::sync::OnceLock::new();
        pod.spec.tolerations = BOTH
            .get_or_init(|| KEYS.iter().map(|k| toleration(k)).collect())
            .clone();
        added = [true, true];
    }
    for (i, key) in KEYS.into_iter().enumerate() {
        let tolerated = pod.spec.tolerations.iter().any(|t| {
            (t.key == key || (t.key.is_empty() && t.operator.as_deref() == Some("Exists")))
                && (t.effect.is_empty() || t.effect == "NoExecute")
        });
        if !tolerated {
            pod.spec.tolerations.reserve_exact(1);
            pod.spec.tolerations.push(toleration(key));
            added[i] = true;
        }
    }
    match added {
        [true, true] => Some(Text::Static(
            "tolerate node.kubernetes.io/not-ready and node.kubernetes.io/unreachable for 300s",
        )),
        [true, false] => Some(Text::Static(
            "tolerate node.kubernetes.io/not-ready for 300s",
        )),
        [false, true] => Some(Text::Static(
            "tolerate node.kubernetes.io/unreachable for 300s",
        )),
        [false, false] => None,
    }
}

fn default_ingress_class(ctx: &Context, obj: &mut Object) -> Option<String> {
    let Object::Ingress(ing) = obj else {
        return None;
    };
    if ctx.op != Operation::Create || ing.spec.ingress_class_name.is_some() {
        return None;
    }
    if ing
        .metadata
        .annotations
        .contains_key("kubernetes.io/ingress.class")
    {
        return None;
    }
    let default = ctx
        .store
        .list(&INGRESSCLASSES, None)
        .find_map(|o| match o.as_ref() {
            Object::IngressClass(c)
                if c.metadata
                    .annotations
                    .get("ingressclass.kubernetes.io/is-default-class")
                    .map(String::as_str)
                    == Some("true") =>
            {
                Some(c.metadata.name.clone())
            }
            _ => None,
        })?;
    ing.spec.ingress_class_name = Some(default.clone());
    Some(format!(
        "set ingressClassName \"{default}\" (the default IngressClass)"
    ))
}

fn always_pull_images(ctx: &Context, obj: &mut Object) -> Option<String> {
    let Object::Pod(pod) = obj else { return None };
    if ctx.op != Operation::Create && ctx.op != Operation::Update {
        return None;
    }
    for c in pod
        .spec
        .init_containers
        .iter_mut()
        .chain(pod.spec.containers.iter_mut())
    {
        c.image_pull_policy = Some("Always".into());
    }
    Some("set imagePullPolicy Always on every container".into())
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn plugin_lists_follow_enable_and_disable() {
        let all = enabled_plugins(&[], &[]).unwrap();
        assert_eq!(all.len(), DEFAULT_PLUGINS.len());
        let some =
            enabled_plugins(&["AlwaysPullImages".into()], &["ServiceAccount".into()]).unwrap();
        assert!(some.contains(&"AlwaysPullImages".to_string()));
        assert!(!some.contains(&"ServiceAccount".to_string()));
        assert_eq!(
            enabled_plugins(&["Frobnicate".into()], &[]).unwrap_err(),
            "enable-admission-plugins plugin \"Frobnicate\" is unknown"
        );
    }
}
