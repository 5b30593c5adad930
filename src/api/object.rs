//! The registry of resource types and the [`Object`] enum that holds any stored kind.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::apps::{Deployment, ReplicaSet, Scale};
use super::core::{
    Binding, ConfigMap, Endpoints, Event, LimitRange, Namespace, Node, Pod, ReplicationController,
    ResourceQuota, Secret, Service, ServiceAccount,
};
use super::meta::ObjectMeta;
use super::networking::{EndpointSlice, Ingress, IngressClass, Lease, PriorityClass};
use super::rbac::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};

/// What the API server knows of one resource: its group, version and kind, its
/// names, its scope and verbs (what discovery and `kubectl api-resources` print).
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceType {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub short_names: &'static [&'static str],
    pub namespaced: bool,
    pub verbs: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Subresources served under `{name}/...` (status, scale, binding, proxy, log).
    pub subresources: &'static [&'static str],
    /// False for kinds that are only ever posted to a subresource (Binding, Scale).
    pub stored: bool,
}

impl ResourceType {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> &'static str {
        match (self.group, self.version) {
            ("", "v1") => "v1",
            ("apps", "v1") => "apps/v1",
            ("autoscaling", "v1") => "autoscaling/v1",
            ("rbac.authorization.k8s.io", "v1") => "rbac.authorization.k8s.io/v1",
            ("networking.k8s.io", "v1") => "networking.k8s.io/v1",
            ("discovery.k8s.io", "v1") => "discovery.k8s.io/v1",
            ("coordination.k8s.io", "v1") => "coordination.k8s.io/v1",
            ("scheduling.k8s.io", "v1") => "scheduling.k8s.io/v1",
            _ => "v1",
        }
    }

    /// The group and resource as errors name it (`pods`, `deployments.apps`).
    pub fn group_resource(&self) -> super::status::GroupResource<'static> {
        super::status::GroupResource {
            group: self.group,
            resource: self.plural,
        }
    }

    /// The path prefix of this resource's group version (`/api/v1`, `/apis/apps/v1`).
    pub fn group_version_path(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    /// The collection path (`/api/v1/namespaces/default/pods`).
    pub fn collection_path(&self, namespace: &str) -> String {
        if self.namespaced && !namespace.is_empty() {
            format!(
                "{}/namespaces/{}/{}",
                self.group_version_path(),
                namespace,
                self.plural
            )
        } else {
            format!("{}/{}", self.group_version_path(), self.plural)
        }
    }

    /// One object's path.
    pub fn object_path(&self, namespace: &str, name: &str) -> String {
        format!("{}/{}", self.collection_path(namespace), name)
    }
}

const RW: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const NS_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

macro_rules! resource {
    ($name:ident, $group:expr, $kind:expr, $plural:expr, $singular:expr, [$($short:expr),*], $ns:expr, $verbs:expr, [$($cat:expr),*], [$($sub:expr),*], $stored:expr) => {
        pub static $name: ResourceType = ResourceType {
            group: $group,
            version: "v1",
            kind: $kind,
            plural: $plural,
            singular: $singular,
            short_names: &[$($short),*],
            namespaced: $ns,
            verbs: $verbs,
            categories: &[$($cat),*],
            subresources: &[$($sub),*],
            stored: $stored,
        };
    };
}

resource!(
    BINDINGS,
    "",
    "Binding",
    "bindings",
    "binding",
    [],
    true,
    &["create"],
    [],
    [],
    false
);
resource!(
    CONFIGMAPS,
    "",
    "ConfigMap",
    "configmaps",
    "configmap",
    ["cm"],
    true,
    RW,
    [],
    [],
    true
);
resource!(
    ENDPOINTS,
    "",
    "Endpoints",
    "endpoints",
    "endpoints",
    ["ep"],
    true,
    RW,
    [],
    [],
    true
);
resource!(
    EVENTS,
    "",
    "Event",
    "events",
    "event",
    ["ev"],
    true,
    RW,
    [],
    [],
    true
);
resource!(
    LIMITRANGES,
    "",
    "LimitRange",
    "limitranges",
    "limitrange",
    ["limits"],
    true,
    RW,
    [],
    [],
    true
);
resource!(
    NAMESPACES,
    "",
    "Namespace",
    "namespaces",
    "namespace",
    ["ns"],
    false,
    NS_VERBS,
    [],
    ["finalize", "status"],
    true
);
resource!(
    NODES,
    "",
    "Node",
    "nodes",
    "node",
    ["no"],
    false,
    RW,
    [],
    ["proxy", "status"],
    true
);
resource!(
    PODS,
    "",
    "Pod",
    "pods",
    "pod",
    ["po"],
    true,
    RW,
    ["all"],
    [
        "attach",
        "binding",
        "eviction",
        "exec",
        "log",
        "portforward",
        "proxy",
        "status"
    ],
    true
);
resource!(
    REPLICATIONCONTROLLERS,
    "",
    "ReplicationController",
    "replicationcontrollers",
    "replicationcontroller",
    ["rc"],
    true,
    RW,
    ["all"],
    ["scale", "status"],
    true
);
resource!(
    RESOURCEQUOTAS,
    "",
    "ResourceQuota",
    "resourcequotas",
    "resourcequota",
    ["quota"],
    true,
    RW,
    [],
    ["status"],
    true
);
resource!(
    SECRETS,
    "",
    "Secret",
    "secrets",
    "secret",
    [],
    true,
    RW,
    [],
    [],
    true
);
resource!(
    SERVICEACCOUNTS,
    "",
    "ServiceAccount",
    "serviceaccounts",
    "serviceaccount",
    ["sa"],
    true,
    RW,
    [],
    ["token"],
    true
);
resource!(
    SERVICES,
    "",
    "Service",
    "services",
    "service",
    ["svc"],
    true,
    &[
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch"
    ],
    ["all"],
    ["proxy", "status"],
    true
);
resource!(
    DEPLOYMENTS,
    "apps",
    "Deployment",
    "deployments",
    "deployment",
    ["deploy"],
    true,
    RW,
    ["all"],
    ["scale", "status"],
    true
);
resource!(
    REPLICASETS,
    "apps",
    "ReplicaSet",
    "replicasets",
    "replicaset",
    ["rs"],
    true,
    RW,
    ["all"],
    ["scale", "status"],
    true
);
resource!(
    SCALES,
    "autoscaling",
    "Scale",
    "scales",
    "scale",
    [],
    true,
    &["get", "patch", "update"],
    [],
    [],
    false
);
resource!(
    LEASES,
    "coordination.k8s.io",
    "Lease",
    "leases",
    "lease",
    [],
    true,
    RW,
    [],
    [],
    true
);
resource!(
    ENDPOINTSLICES,
    "discovery.k8s.io",
    "EndpointSlice",
    "endpointslices",
    "endpointslice",
    [],
    true,
    RW,
    [],
    [],
    true
);
resource!(
    INGRESSCLASSES,
    "networking.k8s.io",
    "IngressClass",
    "ingressclasses",
    "ingressclass",
    [],
    false,
    RW,
    [],
    [],
    true
);
resource!(
    INGRESSES,
    "networking.k8s.io",
    "Ingress",
    "ingresses",
    "ingress",
    ["ing"],
    true,
    RW,
    [],
    ["status"],
    true
);
resource!(
    CLUSTERROLEBINDINGS,
    "rbac.authorization.k8s.io",
    "ClusterRoleBinding",
    "clusterrolebindings",
    "clusterrolebinding",
    [],
    false,
    RW,
    [],
    [],
    true
);
resource!(
    CLUSTERROLES,
    "rbac.authorization.k8s.io",
    "ClusterRole",
    "clusterroles",
    "clusterrole",
    [],
    false,
    RW,
    [],
    [],
    true
);
resource!(
    ROLEBINDINGS,
    "rbac.authorization.k8s.io",
    "RoleBinding",
    "rolebindings",
    "rolebinding",
    [],
    true,
    RW,
    [],
    [],
    true
);
resource!(
    ROLES,
    "rbac.authorization.k8s.io",
    "Role",
    "roles",
    "role",
    [],
    true,
    RW,
    [],
    [],
    true
);
resource!(
    PRIORITYCLASSES,
    "scheduling.k8s.io",
    "PriorityClass",
    "priorityclasses",
    "priorityclass",
    ["pc"],
    false,
    RW,
    [],
    [],
    true
);

/// Every resource type, in the order discovery lists them (by group, then name).
pub static RESOURCE_TYPES: &[&ResourceType] = &[
    &BINDINGS,
    &CONFIGMAPS,
    &ENDPOINTS,
    &EVENTS,
    &LIMITRANGES,
    &NAMESPACES,
    &NODES,
    &PODS,
    &REPLICATIONCONTROLLERS,
    &RESOURCEQUOTAS,
    &SECRETS,
    &SERVICEACCOUNTS,
    &SERVICES,
    &DEPLOYMENTS,
    &REPLICASETS,
    &LEASES,
    &ENDPOINTSLICES,
    &INGRESSCLASSES,
    &INGRESSES,
    &CLUSTERROLEBINDINGS,
    &CLUSTERROLES,
    &ROLEBINDINGS,
    &ROLES,
    &PRIORITYCLASSES,
];

/// The API groups, in discovery order, with their one served version.
pub static API_GROUPS: &[&str] = &[
    "apps",
    "autoscaling",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "scheduling.k8s.io",
];

/// Finds a resource type by group and plural name.
pub fn resource_by_plural(group: &str, plural: &str) -> Option<&'static ResourceType> {
    RESOURCE_TYPES
        .iter()
        .copied()
        .find(|r| r.group == group && r.plural == plural)
}

/// Finds a resource type by `apiVersion` and `kind`.
pub fn resource_by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    RESOURCE_TYPES
        .iter()
        .copied()
        .chain([&SCALES])
        .find(|r| r.api_version() == api_version && r.kind == kind)
}

/// True when some resource is served in that `apiVersion`.
pub fn is_served_version(api_version: &str) -> bool {
    RESOURCE_TYPES
        .iter()
        .any(|r| r.api_version() == api_version)
}

/// Why a JSON object could not become a typed object.
#[derive(Clone, Debug, PartialEq)]
pub enum DecodeError {
    /// No `kind` (kubectl: `Object 'Kind' is missing in '...'`).
    MissingKind,
    /// No `apiVersion`.
    MissingApiVersion,
    /// `no matches for kind "Foo" in version "v1"`.
    NoKindMatch { kind: String, api_version: String },
    /// Not an object at all.
    NotAnObject,
    /// The body did not fit the kind's schema (Go's strict decoding error).
    Strict {
        kind: String,
        api_version: String,
        message: String,
    },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::MissingKind => f.write_str("Object 'Kind' is missing"),
            DecodeError::MissingApiVersion => f.write_str("Object 'apiVersion' is missing"),
            DecodeError::NoKindMatch { kind, api_version } => {
                write!(
                    f,
                    "no matches for kind \"{kind}\" in version \"{api_version}\""
                )
            }
            DecodeError::NotAnObject => {
                f.write_str("couldn't get version/kind; json parse error: expected an object")
            }
            DecodeError::Strict {
                kind,
                api_version,
                message,
            } => {
                let version = api_version.rsplit('/').next().unwrap_or(api_version);
                write!(
                    f,
                    "{kind} in version \"{version}\" cannot be handled as a {kind}: {message}"
                )
            }
        }
    }
}

/// Decodes a JSON value strictly into `T`, with upstream's wording for the failures.
///
/// Field names match case-insensitively, as Go's encoding/json matched them (a docs
/// example writes `gRPC:` for `grpc:`): a key that differs from a known field only in
/// case is renamed to it, and the decode tried again.
fn decode_strict<T: DeserializeOwned>(mut value: Value) -> Result<T, String> {
    for _ in 0..64 {
        let err = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(t) => return Ok(t),
            Err(err) => err,
        };
        let segments: Vec<serde_path_to_error::Segment> = err.path().iter().cloned().collect();
        let path = err.path().to_string();
        let inner = err.into_inner().to_string();
        if let Some(rest) = inner.strip_prefix("unknown field `") {
            let field = rest.split('`').next().unwrap_or_default();
            let expected = rest
                .split_once("expected")
                .map(|(_, e)| e)
                .unwrap_or_default();
            let known = expected
                .split('`')
                .skip(1)
                .step_by(2)
                .find(|k| k.eq_ignore_ascii_case(field))
                .map(str::to_string);
            if let Some(known) = known {
                if rename_key(&mut value, &segments, &known) {
                    continue;
                }
            }
            // serde_path_to_error's path already ends with the unknown field.
            return Err(format!("strict decoding error: unknown field \"{path}\""));
        }
        return Err(if path == "." || path.is_empty() {
            format!("json: {inner}")
        } else {
            format!("json: cannot unmarshal into Go struct field {path}: {inner}")
        });
    }
    Err("strict decoding error: too many mismatched field names".into())
}

/// Renames the key the last path segment names to `to`, in its parent map.
fn rename_key(value: &mut Value, path: &[serde_path_to_error::Segment], to: &str) -> bool {
    use serde_path_to_error::Segment;
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut cur = value;
    for seg in parents {
        cur = match (seg, cur) {
            (Segment::Map { key }, Value::Object(m)) => match m.get_mut(key) {
                Some(v) => v,
                None => return false,
            },
            (Segment::Seq { index }, Value::Array(a)) => match a.get_mut(*index) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, cur) {
        // When both spellings are present, the differently cased key (the newer
        // input, as a patch adds it) wins.
        (Segment::Map { key }, Value::Object(m)) => match m.remove(key) {
            Some(v) => {
                m.insert(to.to_string(), v);
                true
            }
            None => false,
        },
        _ => false,
    }
}

macro_rules! objects {
    ($($variant:ident($ty:ty) => $rt:ident),* $(,)?) => {
        /// Any object the API server stores or accepts, typed by kind.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Object {
            $($variant(Box<$ty>)),*
        }

        impl Object {
            pub fn meta(&self) -> &ObjectMeta {
                match self { $(Object::$variant(o) => &o.metadata),* }
            }

            pub fn meta_mut(&mut self) -> &mut ObjectMeta {
                match self { $(Object::$variant(o) => &mut o.metadata),* }
            }

            pub fn resource_type(&self) -> &'static ResourceType {
                match self { $(Object::$variant(_) => &$rt),* }
            }

            /// The object as JSON with `apiVersion` and `kind`, keys sorted as kubectl prints.
            pub fn to_value(&self) -> Value {
                let body = match self { $(Object::$variant(o) => to_json(o)),* };
                with_type_meta(body, self.resource_type())
            }

            /// Decodes `value` as the kind `rt` names, strictly: unknown fields are errors.
            pub fn from_value_as(rt: &'static ResourceType, mut value: Value) -> Result<Object, DecodeError> {
                if let Value::Object(map) = &mut value {
                    map.remove("apiVersion");
                    map.remove("kind");
                }
                let strict = |message: String| DecodeError::Strict {
                    kind: rt.kind.to_string(),
                    api_version: rt.api_version().to_string(),
                    message,
                };
                $(
                    if std::ptr::eq(rt, &$rt) {
                        return decode_strict::<$ty>(value).map(|o| Object::$variant(Box::new(o))).map_err(strict);
                    }
                )*
                Err(DecodeError::NoKindMatch { kind: rt.kind.to_string(), api_version: rt.api_version().to_string() })
            }
        }

        $(
            impl From<$ty> for Object {
                fn from(o: $ty) -> Object { Object::$variant(Box::new(o)) }
            }
        )*
    };
}

objects! {
    Binding(Binding) => BINDINGS,
    ConfigMap(ConfigMap) => CONFIGMAPS,
    Endpoints(Endpoints) => ENDPOINTS,
    Event(Event) => EVENTS,
    LimitRange(LimitRange) => LIMITRANGES,
    Namespace(Namespace) => NAMESPACES,
    Node(Node) => NODES,
    Pod(Pod) => PODS,
    ReplicationController(ReplicationController) => REPLICATIONCONTROLLERS,
    ResourceQuota(ResourceQuota) => RESOURCEQUOTAS,
    Secret(Secret) => SECRETS,
    ServiceAccount(ServiceAccount) => SERVICEACCOUNTS,
    Service(Service) => SERVICES,
    Deployment(Deployment) => DEPLOYMENTS,
    ReplicaSet(ReplicaSet) => REPLICASETS,
    Scale(Scale) => SCALES,
    Lease(Lease) => LEASES,
    EndpointSlice(EndpointSlice) => ENDPOINTSLICES,
    IngressClass(IngressClass) => INGRESSCLASSES,
    Ingress(Ingress) => INGRESSES,
    ClusterRoleBinding(ClusterRoleBinding) => CLUSTERROLEBINDINGS,
    ClusterRole(ClusterRole) => CLUSTERROLES,
    RoleBinding(RoleBinding) => ROLEBINDINGS,
    Role(Role) => ROLES,
    PriorityClass(PriorityClass) => PRIORITYCLASSES,
}

fn to_json<T: Serialize>(o: &T) -> Value {
    // Serializing our own types to a Value cannot fail: every map key is a string.
    serde_json::to_value(o).unwrap_or(Value::Null)
}

fn with_type_meta(body: Value, rt: &ResourceType) -> Value {
    let mut map = match body {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    map.insert("apiVersion".into(), Value::String(rt.api_version().into()));
    map.insert("kind".into(), Value::String(rt.kind.into()));
    Value::Object(map)
}

impl Object {
    /// Decodes a JSON object by its own `apiVersion` and `kind`.
    pub fn from_value(value: Value) -> Result<Object, DecodeError> {
        let map = value.as_object().ok_or(DecodeError::NotAnObject)?;
        let kind = map
            .get("kind")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or(DecodeError::MissingKind)?;
        let api_version = map
            .get("apiVersion")
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .ok_or(DecodeError::MissingApiVersion)?;
        let rt = resource_by_kind(api_version, kind).ok_or_else(|| DecodeError::NoKindMatch {
            kind: kind.to_string(),
            api_version: api_version.to_string(),
        })?;
        Object::from_value_as(rt, value)
    }

    pub fn name(&self) -> &str {
        &self.meta().name
    }

    pub fn namespace(&self) -> &str {
        &self.meta().namespace
    }

    pub fn kind(&self) -> &'static str {
        self.resource_type().kind
    }

    /// `pod/web`, as kubectl names objects in its messages.
    pub fn kubectl_name(&self) -> String {
        let rt = self.resource_type();
        if rt.group.is_empty() {
            format!("{}/{}", rt.singular, self.name())
        } else {
            format!("{}.{}/{}", rt.singular, rt.group, self.name())
        }
    }

    pub fn as_pod(&self) -> Option<&super::core::Pod> {
        match self {
            Object::Pod(p) => Some(p),
            _ => None,
        }
    }

    pub fn as_node(&self) -> Option<&super::core::Node> {
        match self {
            Object::Node(n) => Some(n),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use serde_json::json;

    use super::*;

    #[test]
    fn decodes_by_kind_and_rejects_unknown_fields() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                         "spec": {"containers": [{"name": "web", "image": "nginx"}]}});
        let obj = Object::from_value(pod).unwrap();
        assert_eq!(obj.kubectl_name(), "pod/web");
        assert_eq!(obj.to_value()["spec"]["containers"][0]["image"], "nginx");

        let bad = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                         "spec": {"containers": [{"name": "web", "imagePullPolisy": "Always"}]}});
        let err = Object::from_value(bad).unwrap_err().to_string();
        assert_eq!(
            err,
            "Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \"spec.containers[0].imagePullPolisy\""
        );

        let foo = json!({"apiVersion": "v1", "kind": "Foo", "metadata": {"name": "x"}});
        assert_eq!(
            Object::from_value(foo).unwrap_err().to_string(),
            "no matches for kind \"Foo\" in version \"v1\""
        );
    }

    #[test]
    fn deployment_round_trips_with_group_version() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                       "spec": {"selector": {"matchLabels": {"app": "x"}},
                                "template": {"metadata": {"labels": {"app": "x"}},
                                             "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
        let obj = Object::from_value(d.clone()).unwrap();
        assert_eq!(
            obj.resource_type().collection_path("ns"),
            "/apis/apps/v1/namespaces/ns/deployments"
        );
        let back = obj.to_value();
        assert_eq!(back["apiVersion"], "apps/v1");
        assert_eq!(back["spec"], d["spec"]);
    }
}
