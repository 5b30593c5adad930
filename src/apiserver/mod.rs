//! Layer 4, the API server: every request passes named stages (authentication,
//! authorization, decoding with defaults, mutating admission, validation,
//! validating admission, storage), and each leaves a trace entry that lists them
//! with their decisions.
//!
//! Callers outside the simulation send JSON; components inside send typed objects
//! through [`client::Client`]. Both go through [`ApiServer::handle`].

pub mod admission;
pub mod auth;
pub mod client;
pub mod defaults;
pub mod discovery;
mod eviction;
pub mod fields;
pub mod legacy_tokens;
pub mod limitranger;
pub mod patch;
pub mod quota;
pub mod request;
pub mod strategy;
mod table_columns;
pub mod tables;
pub mod validation;
pub mod watch;

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{json, Value};

use self::admission::Operation;
use self::auth::{Attributes, Decision, UserInfo};
use self::request::{
    route, split_query, Body, Method, ObjectList, Query, ResourcePath, Response, ResponseBody,
    Target, WatchItem,
};
use self::watch::{WatchId, WatchRegistry, WatchSpec};
use crate::api::core::{Binding, Pod};
use crate::api::fields::FieldSelector;
use crate::api::labels::Selector;
use crate::api::object::{ResourceType, BINDINGS, ENDPOINTS, PODS, SCALES};
use crate::api::status::GroupResource;
use crate::api::time::Time;
use crate::api::{ApiError, Object};
use crate::kernel::trace::Text;
use crate::kernel::{Kernel, ObjRef, Stage, TraceDetail};
use crate::store::{EventType, Store, StoreError, WatchEvent};

/// Upstream's limit on a request body (3 MiB).
pub const MAX_REQUEST_BYTES: usize = 3 * 1024 * 1024;

/// The API server's flags, as kube-apiserver names them.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `--authorization-mode`, in order.
    pub authorization_modes: Vec<String>,
    /// The enabled admission plugins, in order.
    pub admission_plugins: Vec<String>,
    /// `--service-cluster-ip-range`.
    pub service_cidr: Cidr,
    /// `--service-node-port-range`.
    pub node_port_range: (u16, u16),
    /// The address kubectl reaches the server at (`/api`'s serverAddressByClientCIDRs).
    pub advertise_address: String,
    /// Watch events kept for watches and reads at old revisions.
    pub history: usize,
    /// The authentication and ABAC settings of a scenario (`tokens`, `basicAuth`,
    /// `clientCertificates`, `abacPolicy`), as given.
    pub security: std::collections::BTreeMap<String, Value>,
    /// The seed's token Secrets: the ServiceAccount plugin mounts them (legacy mode).
    pub legacy_service_account_tokens: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            authorization_modes: vec!["AlwaysAllow".into()],
            admission_plugins: admission::DEFAULT_PLUGINS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            service_cidr: Cidr::parse("10.96.0.0/12").unwrap_or(Cidr {
                base: 0x0a60_0000,
                prefix: 12,
            }),
            node_port_range: (30000, 32767),
            advertise_address: "10.0.0.1:6443".into(),
            history: crate::store::DEFAULT_HISTORY,
            security: Default::default(),
            legacy_service_account_tokens: false,
        }
    }
}

/// An IPv4 network (`10.96.0.0/12`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub base: u32,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (ip, prefix) = s.split_once('/')?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32)?;
        let base = parse_ipv4(ip)?;
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        };
        Some(Cidr {
            base: base & mask,
            prefix,
        })
    }

    pub fn size(&self) -> u64 {
        1u64 << (32 - self.prefix)
    }

    pub fn contains(&self, ip: u32) -> bool {
        let mask = if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        };
        ip & mask == self.base
    }

    /// The address at `offset` from the network address.
    pub fn nth(&self, offset: u64) -> u32 {
        self.base.wrapping_add(offset as u32)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", format_ipv4(self.base), self.prefix)
    }
}

pub fn parse_ipv4(s: &str) -> Option<u32> {
    let mut parts = s.split('.');
    let mut v = 0u32;
    for _ in 0..4 {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        v = (v << 8) | p.parse::<u8>().ok()? as u32;
    }
    parts.next().is_none().then_some(v)
}

pub fn format_ipv4(ip: u32) -> String {
    format!(
        "{}.{}.{}.{}",
        ip >> 24,
        (ip >> 16) & 255,
        (ip >> 8) & 255,
        ip & 255
    )
}

/// Where a proxy request should go; the composition root connects it (to a
/// kubelet, a pod or a service over the simulated network).
#[derive(Clone, Debug)]
pub struct ConnectTarget {
    pub resource: &'static ResourceType,
    pub object: Arc<Object>,
    /// `web`, or for services possibly `web:http` / `https:web:443`.
    pub name: String,
    pub method: Method,
    /// The path after `/proxy`, with its query.
    pub path: String,
    /// Where the registry's ResourceLocation sends the request: the address and
    /// port to dial (the pod's IP, a node's address, a Service endpoint chosen at
    /// random), and the pod behind it if one is known. None for `log` and `exec`.
    pub location: Option<Location>,
}

/// A proxy request's destination, as the registries' ResourceLocation computes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Location {
    pub scheme: String,
    pub ip: String,
    /// Empty when the path named none and the pod declares no port.
    pub port: String,
    /// The pod behind the address: (namespace, name).
    pub pod: Option<(String, String)>,
}

/// `[scheme:]name[:port]`, as utilnet.SplitSchemeNamePort splits a proxy id.
pub fn split_scheme_name_port(id: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = id.split(':').collect();
    let (scheme, name, port) = match parts.as_slice() {
        [n] => ("", *n, ""),
        [n, p] => ("", *n, *p),
        [s, n, p] => (*s, *n, *p),
        _ => return None,
    };
    if name.is_empty() || !matches!(scheme, "" | "http" | "https") {
        return None;
    }
    Some((scheme.into(), name.into(), port.into()))
}

/// Reaches what a proxy path names.
pub trait Connector {
    fn connect(&mut self, k: &mut Kernel, target: &ConnectTarget) -> Response;
}

/// The connector of a cluster with no kubelets or network: nothing answers.
pub struct NoNetwork;

impl Connector for NoNetwork {
    fn connect(&mut self, _k: &mut Kernel, target: &ConnectTarget) -> Response {
        let msg = match target.object.as_ref() {
            Object::Node(n) => {
                let ip = n
                    .status
                    .addresses
                    .iter()
                    .find(|a| a.kind == "InternalIP")
                    .map(|a| a.address.clone());
                format!(
                    "error trying to reach service: dial tcp {}:10250: connect: connection refused",
                    ip.unwrap_or_default()
                )
            }
            Object::Service(s) => {
                format!("no endpoints available for service \"{}\"", s.metadata.name)
            }
            Object::Pod(p) if p.status.pod_ip.is_empty() => {
                format!(
                    "error trying to reach service: pod {} has no IP address",
                    p.metadata.name
                )
            }
            Object::Pod(p) => format!(
                "error trying to reach service: dial tcp {}:80: connect: connection refused",
                p.status.pod_ip
            ),
            _ => "no route".into(),
        };
        Response::error(&ApiError::new(503, "ServiceUnavailable", msg, None))
    }
}

type Result<T> = std::result::Result<T, ApiError>;

/// The container a `log` or `exec` request is for, checked as the pod REST's
/// LogLocation and ExecLocation do.
fn pod_container_for(obj: &Object, query: &request::Query) -> Result<String> {
    let Object::Pod(pod) = obj else {
        return Err(ApiError::bad_request("expected a pod"));
    };
    let name = &pod.metadata.name;
    let container = match query.get("container").filter(|c| !c.is_empty()) {
        Some(c) => c.clone(),
        None => match pod.spec.containers.as_slice() {
            [only] => only.name.clone(),
            list => {
                let names: Vec<&str> = list.iter().map(|c| c.name.as_str()).collect();
                let mut msg = format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    names.join(" ")
                );
                if !pod.spec.init_containers.is_empty() {
                    let init: Vec<&str> = pod
                        .spec
                        .init_containers
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect();
                    msg.push_str(&format!(
                        " or one of the init containers: [{}]",
                        init.join(" ")
                    ));
                }
                return Err(ApiError::bad_request(msg));
            }
        },
    };
    let known = pod
        .spec
        .containers
        .iter()
        .chain(pod.spec.init_containers.iter())
        .any(|c| c.name == container);
    if !known {
        return Err(ApiError::bad_request(format!(
            "container {container} is not valid for pod {name}"
        )));
    }
    if pod.spec.node_name.is_empty() {
        return Err(ApiError::bad_request(format!(
            "pod {name} does not have a host assigned"
        )));
    }
    Ok(container)
}

/// What one request did, gathered for its trace entry.
#[derive(Default)]
struct Record {
    stages: Vec<Stage>,
    objects: Vec<ObjRef>,
    action: Text,
    user: Text,
}

/// A user as authentication found them, with the trace's words for it, kept per
/// credentials (the settings do not change during a run).
#[derive(Clone, Debug)]
struct Authenticated {
    user: Arc<UserInfo>,
    name: Arc<str>,
    why: Arc<str>,
}

impl Record {
    fn stage(&mut self, name: &'static str, reason: impl Into<crate::kernel::trace::Text>) {
        self.stages.push(Stage::passed(name, reason));
    }
    fn touched(&mut self, obj: &Object) {
        let m = obj.meta();
        self.objects.push(ObjRef::new(
            obj.kind(),
            &m.namespace,
            &m.name,
            m.resource_version.parse().unwrap_or(0),
        ));
    }
}

/// Options of a DELETE (metav1.DeleteOptions), from the body or the query.
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    pub grace_period_seconds: Option<i64>,
    pub propagation_policy: Option<String>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
    pub dry_run: bool,
}

/// Phrases of the trace that requests repeat, kept once and shared by every entry.
#[derive(Clone, Debug, Default)]
struct Phrases {
    /// (client, user, code): `kubectl as kubernetes-admin: 201 Created`.
    reasons: Vec<(String, Text, u16, Arc<str>)>,
    /// Actions on collections: `create pods in default`.
    actions: Vec<(Attributes, Arc<str>)>,
    /// Per kind: `v1 Pod decoded, defaults applied`.
    decoded: Vec<(&'static ResourceType, Arc<str>)>,
}

/// Phrases kept per list (a bounded cache; past it, phrases are formatted each time).
const PHRASES_KEPT: usize = 64;

/// The API server.
#[derive(Clone, Debug)]
pub struct ApiServer {
    phrases: Phrases,
    store: Store,
    settings: Settings,
    authn_cache: std::collections::HashMap<request::Credentials, Authenticated>,
    watches: WatchRegistry,
    cluster_ips: BTreeSet<u32>,
    node_ports: BTreeSet<u16>,
}

impl ApiServer {
    pub fn new(settings: Settings) -> ApiServer {
        ApiServer {
            store: Store::with_history(settings.history),
            phrases: Phrases::default(),
            settings,
            authn_cache: Default::default(),
            watches: WatchRegistry::default(),
            cluster_ips: BTreeSet::new(),
            node_ports: BTreeSet::new(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Read-only access to the store, for views outside the simulation (the page's
    /// inspector) and for admission plugins. Components use requests instead.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Opens a watch for a component; returns its id. Recorded like the request a
    /// real watch is.
    pub fn open_watch(&mut self, k: &mut Kernel, spec: WatchSpec) -> WatchId {
        let mut path = spec.resource.collection_path(&spec.namespace);
        let mut q = vec!["watch=true".to_string()];
        if !spec.labels.is_empty() {
            q.push(format!("labelSelector={}", spec.labels));
        }
        if !spec.fields.is_empty() {
            q.push(format!("fieldSelector={}", spec.fields));
        }
        path.push('?');
        path.push_str(&q.join("&"));
        k.trace.record(
            k.clock.now(),
            "apiserver",
            format!("watch {}", spec.resource.plural),
            format!("{} watches {path}", spec.owner),
            vec![],
            TraceDetail::Request {
                method: "GET",
                path,
                user: Text::Owned(spec.owner.clone()),
                code: 200,
                stages: vec![Stage::passed(
                    "storage",
                    "watch opened at the current revision",
                )],
            },
        );
        self.watches.add(spec)
    }

    pub fn close_watch(&mut self, id: WatchId) {
        self.watches.remove(id);
    }

    pub fn watches(&self) -> &WatchRegistry {
        &self.watches
    }

    /// The watches that see the store event at `revision`, with what each sees.
    pub fn fanout(&self, revision: u64) -> Option<(WatchEvent, Vec<(WatchId, EventType)>)> {
        let ev = self.store.event_at(revision)?.clone();
        Some(self.fanout_event(ev))
    }

    /// The watches that see `ev` (an event held since it was written), and what each sees.
    pub fn fanout_event(&self, ev: WatchEvent) -> (WatchEvent, Vec<(WatchId, EventType)>) {
        let targets = self.watches.fanout(&ev);
        (ev, targets)
    }

    /// Serves a request with no network behind the proxy paths.
    pub fn handle(&mut self, k: &mut Kernel, req: request::Request) -> Response {
        self.handle_with(k, req, &mut NoNetwork)
    }

    /// Where a proxy request goes, as the registries' ResourceLocation computes it
    /// (v1.31): a pod's IP and the given port (else its first declared container
    /// port); a node's InternalIP and port (default the kubelet's 10250, https); a
    /// Service's endpoint, from its Endpoints, a random subset and address having the
    /// named port (a port number is first turned into the Service port's name).
    fn resource_location(
        &self,
        k: &mut Kernel,
        obj: &Arc<Object>,
        scheme: &str,
        port: &str,
    ) -> Result<Location> {
        let unavailable = |m: String| ApiError::new(503, "ServiceUnavailable", m, None);
        match obj.as_ref() {
            Object::Pod(p) => {
                let mut port = port.to_string();
                if port.is_empty() {
                    if let Some(c) = p.spec.containers.iter().find(|c| !c.ports.is_empty()) {
                        port = c.ports[0].container_port.to_string();
                    }
                }
                Ok(Location {
                    scheme: scheme.into(),
                    ip: p.status.pod_ip.clone(),
                    port,
                    pod: Some((p.metadata.namespace.clone(), p.metadata.name.clone())),
                })
            }
            Object::Node(n) => {
                let ip = n
                    .status
                    .addresses
                    .iter()
                    .find(|a| a.kind == "InternalIP")
                    .or_else(|| n.status.addresses.first())
                    .map(|a| a.address.clone())
                    .unwrap_or_default();
                Ok(Location {
                    scheme: if scheme.is_empty() {
                        "https".into()
                    } else {
                        scheme.into()
                    },
                    ip,
                    port: if port.is_empty() {
                        "10250".into()
                    } else {
                        port.into()
                    },
                    pod: None,
                })
            }
            Object::Service(svc) => {
                let name = &svc.metadata.name;
                let mut port_name = port.to_string();
                if let Ok(num) = port.parse::<i32>() {
                    match svc.spec.ports.iter().find(|p| p.port == num) {
                        Some(p) => port_name = p.name.clone(),
                        None => {
                            return Err(unavailable(format!(
                                "no service port {num} found for service \"{name}\""
                            )))
                        }
                    }
                }
                let eps = match self
                    .store
                    .get(&ENDPOINTS, &svc.metadata.namespace, name)
                    .map(|o| o.as_ref())
                {
                    Some(Object::Endpoints(e)) => e.subsets.clone(),
                    _ => Vec::new(),
                };
                if eps.is_empty() {
                    return Err(unavailable(format!(
                        "no endpoints available for service \"{name}\""
                    )));
                }
                let seed = k.rng.below(eps.len() as u64) as usize;
                for i in 0..eps.len() {
                    let ss = &eps[(seed + i) % eps.len()];
                    if ss.addresses.is_empty() {
                        continue;
                    }
                    if let Some(sp) = ss.ports.iter().find(|p| p.name == port_name) {
                        let a = &ss.addresses[k.rng.below(ss.addresses.len() as u64) as usize];
                        let pod = a
                            .target_ref
                            .as_ref()
                            .filter(|r| r.kind == "Pod")
                            .map(|r| (r.namespace.clone(), r.name.clone()));
                        return Ok(Location {
                            scheme: scheme.into(),
                            ip: a.ip.clone(),
                            port: sp.port.to_string(),
                            pod,
                        });
                    }
                }
                Err(unavailable(format!(
                    "no endpoints available for service \"{}\"",
                    if port.is_empty() {
                        name.clone()
                    } else {
                        format!("{name}:{port}")
                    }
                )))
            }
            _ => Err(ApiError::bad_request("this resource has no proxy")),
        }
    }

    /// Serves a request; proxy paths go to `connector`.
    pub fn handle_with(
        &mut self,
        k: &mut Kernel,
        mut req: request::Request,
        connector: &mut dyn Connector,
    ) -> Response {
        let mut rec = Record::default();
        let method = req.method;
        let full_path = req.path.clone();
        // Serving does not read the client's name: it is moved out, not copied.
        let client = std::mem::take(&mut req.client);
        let as_table = req.header("accept").is_some_and(tables::wants_table);
        let mut result = self.serve(k, req, &mut rec, connector);
        if as_table {
            if let Ok(resp) = &mut result {
                let now = k.clock.now();
                let table = match &resp.body {
                    ResponseBody::Object(o) => Some(tables::table(
                        o.kind(),
                        std::slice::from_ref(o),
                        self.store.revision(),
                        "",
                        now,
                    )),
                    ResponseBody::List(l) => Some(tables::table(
                        l.resource.kind,
                        &l.items,
                        l.resource_version,
                        &l.continue_token,
                        now,
                    )),
                    ResponseBody::Events(evs) => Some(Value::Array(
                        evs.iter()
                            .map(|e| {
                                let t = tables::table(
                                    e.object.kind(),
                                    std::slice::from_ref(&e.object),
                                    self.store.revision(),
                                    "",
                                    now,
                                );
                                json!({"type": e.kind, "object": t})
                            })
                            .collect(),
                    )),
                    _ => None,
                };
                if let Some(t) = table {
                    resp.body = ResponseBody::Json(t);
                }
            }
        }
        let user = if rec.user.is_empty() {
            Text::Owned(client.clone())
        } else {
            rec.user
        };
        let (response, why) = match result {
            Ok(resp) => {
                let why = self.ok_reason(&client, &user, resp.code);
                (resp, why)
            }
            Err(e) => {
                rec.stages
                    .push(Stage::failed("response", e.message().to_string()));
                let why = format!(
                    "{client} as {user}: {} {}: {}",
                    e.code(),
                    e.reason(),
                    e.message()
                );
                (Response::error(&e), Text::Owned(why))
            }
        };
        let action = if rec.action.is_empty() {
            Text::Owned(format!("{method} {full_path}"))
        } else {
            rec.action
        };
        k.trace.record(
            k.clock.now(),
            "apiserver",
            action,
            why,
            rec.objects,
            TraceDetail::Request {
                method: method.as_str(),
                path: full_path,
                user,
                code: response.code,
                stages: rec.stages,
            },
        );
        response
    }

    /// The trace's reason for a successful request (`kubectl as kubernetes-admin: 201
    /// Created`): the same few phrases over and over, so they are kept and shared.
    fn ok_reason(&mut self, client: &str, user: &str, code: u16) -> Text {
        if let Some((_, _, _, t)) = self
            .phrases
            .reasons
            .iter()
            .find(|(c, u, n, _)| *n == code && c == client && &**u == user)
        {
            return Text::Shared(t.clone());
        }
        let t: Arc<str> = format!("{client} as {user}: {code} {}", status_text(code)).into();
        if self.phrases.reasons.len() < PHRASES_KEPT {
            self.phrases
                .reasons
                .push((client.into(), Text::Owned(user.into()), code, t.clone()));
        }
        Text::Shared(t)
    }

    /// The trace's action for a request (`create pods in default`); those on a
    /// collection repeat, so they are kept and shared.
    fn action(&mut self, attrs: &Attributes) -> Text {
        if attrs.path.is_some() || !attrs.name.is_empty() {
            return Text::Owned(describe(attrs));
        }
        let found = self.phrases.actions.iter().find(|(a, _)| {
            a.verb == attrs.verb
                && a.resource == attrs.resource
                && a.subresource == attrs.subresource
                && a.namespace == attrs.namespace
        });
        if let Some((_, t)) = found {
            return Text::Shared(t.clone());
        }
        let t: Arc<str> = describe(attrs).into();
        if self.phrases.actions.len() < PHRASES_KEPT {
            self.phrases.actions.push((attrs.clone(), t.clone()));
        }
        Text::Shared(t)
    }

    /// The decoding stage's reason (`v1 Pod decoded, defaults applied`), one per kind.
    fn decoded(&mut self, rt: &'static ResourceType) -> Text {
        if let Some((_, t)) = self
            .phrases
            .decoded
            .iter()
            .find(|(r, _)| std::ptr::eq(*r, rt))
        {
            return Text::Shared(t.clone());
        }
        let t: Arc<str> =
            format!("{} {} decoded, defaults applied", rt.api_version(), rt.kind).into();
        self.phrases.decoded.push((rt, t.clone()));
        Text::Shared(t)
    }

    fn serve(
        &mut self,
        k: &mut Kernel,
        req: request::Request,
        rec: &mut Record,
        connector: &mut dyn Connector,
    ) -> Result<Response> {
        if req.body.wire_len() > MAX_REQUEST_BYTES {
            return Err(ApiError::too_large(MAX_REQUEST_BYTES));
        }
        let authenticated = match self.authn_cache.get(&req.credentials) {
            Some(a) => a.clone(),
            None => {
                let (user, how) =
                    auth::authenticate(&req.credentials, &self.settings.security, &self.store)
                        .map_err(|why| {
                            rec.stages.push(Stage::failed("authentication", why));
                            ApiError::unauthorized()
                        })?;
                let why: Arc<str> = format!(
                    "user \"{}\" (groups {}) by {how}",
                    user.name,
                    user.groups.join(", ")
                )
                .into();
                let name: Arc<str> = user.name.as_str().into();
                let a = Authenticated {
                    user: Arc::new(user),
                    name,
                    why,
                };
                // A service-account token is good only while its Secret and account
                // last: it is checked again on every request.
                if !a.name.starts_with("system:serviceaccount:") {
                    self.authn_cache.insert(req.credentials.clone(), a.clone());
                }
                a
            }
        };
        let user = authenticated.user;
        rec.user = Text::Shared(authenticated.name);
        rec.stage("authentication", Text::Shared(authenticated.why));
        let (path, query) = split_query(&req.path);
        let target = route(&path).map_err(|_| ApiError::path_not_found())?;
        let attrs = attributes(&target, req.method, &query, &path);
        rec.action = self.action(&attrs);
        match auth::authorize(&self.settings.authorization_modes, &user, &attrs) {
            Decision::Allow(why) => rec.stage("authorization", why),
            Decision::Deny(why) | Decision::NoOpinion(why) => {
                rec.stages.push(Stage::failed("authorization", why));
                let reason = attrs.forbidden_reason(&user);
                return Err(match &target {
                    Target::Resource(p) => {
                        ApiError::forbidden(p.resource.group_resource(), &p.name, &reason)
                    }
                    Target::Proxy { resource, name, .. } => {
                        ApiError::forbidden(resource.group_resource(), name, &reason)
                    }
                    _ => ApiError::new(
                        403,
                        "Forbidden",
                        format!("forbidden: {reason}"),
                        Some(Default::default()),
                    ),
                });
            }
        }
        match target {
            Target::Healthz(_) => Ok(Response::ok(ResponseBody::Text("ok".into()))),
            Target::Version => Ok(Response::ok(ResponseBody::Json(discovery::version()))),
            Target::ApiVersions => Ok(Response::ok(ResponseBody::Json(discovery::api_versions(
                &self.settings.advertise_address,
            )))),
            Target::ApiGroupList => Ok(Response::ok(ResponseBody::Json(
                discovery::api_group_list(),
            ))),
            Target::ApiGroup(g) => Ok(Response::ok(ResponseBody::Json(discovery::api_group(&g)))),
            Target::ResourceList { group, .. } => Ok(Response::ok(ResponseBody::Json(
                discovery::resource_list(&group),
            ))),
            Target::Proxy {
                resource,
                namespace,
                name,
                rest,
            } => {
                // [scheme:]name[:port] for pods, services and nodes alike.
                let Some((scheme, object_name, port)) = split_scheme_name_port(&name) else {
                    return Err(ApiError::bad_request(format!("invalid request {name}")));
                };
                let obj = self
                    .store
                    .get(resource, &namespace, &object_name)
                    .cloned()
                    .ok_or_else(|| ApiError::not_found(resource.group_resource(), &object_name))?;
                rec.stage(
                    "proxy",
                    format!(
                        "forwarding {} {rest} to {} {}",
                        req.method, resource.singular, name
                    ),
                );
                let q = req
                    .path
                    .split_once('?')
                    .map(|(_, q)| format!("?{q}"))
                    .unwrap_or_default();
                let location = Some(self.resource_location(k, &obj, &scheme, &port)?);
                let t = ConnectTarget {
                    resource,
                    object: obj,
                    name,
                    method: req.method,
                    path: format!("{rest}{q}"),
                    location,
                };
                Ok(connector.connect(k, &t))
            }
            Target::Resource(p)
                if std::ptr::eq(p.resource, &PODS)
                    && matches!(
                        (req.method, p.subresource.as_str()),
                        (Method::Get, "log") | (Method::Get | Method::Post, "exec")
                    ) =>
            {
                let pod = self.get_object(p.resource, &p.namespace, &p.name)?;
                let container = pod_container_for(&pod, &query)?;
                rec.stage(
                    "proxy",
                    format!(
                        "forwarding {} to the kubelet of node {}, container {container}",
                        p.subresource,
                        pod.as_pod()
                            .map(|x| x.spec.node_name.as_str())
                            .unwrap_or("")
                    ),
                );
                let q = req.path.split_once('?').map_or("", |(_, q)| q);
                let t = ConnectTarget {
                    resource: p.resource,
                    object: pod,
                    name: p.subresource.clone(),
                    method: req.method,
                    path: format!("?container={}&{q}", request::percent_encode(&container)),
                    location: None,
                };
                Ok(connector.connect(k, &t))
            }
            Target::Resource(p) => {
                self.resource(k, req.method, &p, &query, req.body, req.headers, &user, rec)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn resource(
        &mut self,
        k: &mut Kernel,
        method: Method,
        p: &ResourcePath,
        query: &Query,
        body: Body,
        headers: crate::api::VecMap<String, String>,
        user: &UserInfo,
        rec: &mut Record,
    ) -> Result<Response> {
        let dry_run = query.get("dryRun").is_some_and(|v| v == "All");
        let content_type = headers.get("content-type").cloned().unwrap_or_default();
        match (method, p.name.is_empty(), p.subresource.as_str()) {
            (Method::Get, true, _) => {
                if p.watch_prefix || query.get("watch").is_some_and(|w| w == "true" || w == "1") {
                    self.watch(p, query, rec)
                } else {
                    self.list(p, query, rec)
                }
            }
            (Method::Get, false, "") | (Method::Get, false, "status") => {
                let obj = self.get_object(p.resource, &p.namespace, &p.name)?;
                rec.stage(
                    "storage",
                    format!("read at revision {}", obj.meta().resource_version),
                );
                Ok(Response::ok(ResponseBody::Object(obj)))
            }
            (Method::Get, false, "scale") => {
                let obj = self.get_object(p.resource, &p.namespace, &p.name)?;
                rec.stage(
                    "storage",
                    format!("read at revision {}", obj.meta().resource_version),
                );
                Ok(Response::ok(ResponseBody::Object(Arc::new(scale_of(&obj)))))
            }
            (Method::Post, true, "") => {
                let obj = self.decode(p.resource, body, &p.namespace, rec)?;
                let created = self.create(k, obj, p, user, dry_run, rec)?;
                Ok(Response {
                    code: 201,
                    body: ResponseBody::Object(created),
                })
            }
            (Method::Post, false, "binding") => {
                let obj = self.decode(&BINDINGS, body, &p.namespace, rec)?;
                let Object::Binding(b) = obj else {
                    return Err(ApiError::bad_request("expected a Binding"));
                };
                self.bind(k, p, *b, user, rec)?;
                Ok(Response {
                    code: 201,
                    body: ResponseBody::Json(
                        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
                    ),
                })
            }
            (Method::Post, false, "eviction") => self.evict(k, p, body, dry_run, user, rec),
            (Method::Put, false, sub @ ("" | "status" | "finalize")) => {
                let obj = self.decode(p.resource, body, &p.namespace, rec)?;
                if obj.name() != p.name {
                    return Err(ApiError::bad_request(format!(
                        "the name of the object ({}) does not match the name on the URL ({})",
                        obj.name(),
                        p.name
                    )));
                }
                let expected = obj.meta().resource_version.parse::<u64>().ok();
                let sub = if sub == "finalize" { "finalize" } else { sub };
                let updated = self.update(k, obj, p, sub, expected, user, dry_run, rec)?;
                Ok(Response::ok(ResponseBody::Object(updated)))
            }
            (Method::Put | Method::Patch, false, "scale") => {
                let current = self.get_object(p.resource, &p.namespace, &p.name)?;
                let scale = match method {
                    Method::Put => self.decode(&SCALES, body, &p.namespace, rec)?,
                    _ => {
                        let mut v = scale_of(&current).to_value();
                        apply_patch(&mut v, &content_type, body)?;
                        Object::from_value_as(&SCALES, v)
                            .map_err(|e| ApiError::bad_request(e.to_string()))?
                    }
                };
                let Object::Scale(scale) = scale else {
                    return Err(ApiError::bad_request("expected a Scale"));
                };
                let mut obj = (*current).clone();
                set_replicas(&mut obj, scale.spec.replicas);
                rec.stage(
                    "decoding",
                    format!("scale to {} replicas", scale.spec.replicas),
                );
                let updated = self.update(k, obj, p, "", None, user, dry_run, rec)?;
                Ok(Response::ok(ResponseBody::Object(Arc::new(scale_of(
                    &updated,
                )))))
            }
            (Method::Patch, false, sub @ ("" | "status")) => {
                let current = match self.store.get(p.resource, &p.namespace, &p.name) {
                    Some(c) => c.clone(),
                    None if content_type.starts_with("application/apply-patch") => {
                        // Server-side apply of an object that does not exist creates it.
                        let obj = self.decode(p.resource, body, &p.namespace, rec)?;
                        let created = self.create(k, obj, p, user, dry_run, rec)?;
                        return Ok(Response {
                            code: 201,
                            body: ResponseBody::Object(created),
                        });
                    }
                    None => return Err(ApiError::not_found(p.resource.group_resource(), &p.name)),
                };
                let mut v = current.to_value();
                let before_rv = current.meta().resource_version.clone();
                apply_patch(&mut v, &content_type, body)?;
                rec.stage(
                    "decoding",
                    format!(
                        "{} applied to revision {before_rv}",
                        patch_name(&content_type)
                    ),
                );
                let mut patched = Object::from_value_as(p.resource, v)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
                defaults::apply(&mut patched);
                // A patch that sets resourceVersion is a precondition on it.
                let expected = match patched.meta().resource_version.as_str() {
                    rv if rv != before_rv => Some(rv.parse::<u64>().unwrap_or(0)),
                    _ => None,
                };
                if patched.name() != p.name || patched.namespace() != p.namespace {
                    return Err(ApiError::bad_request(
                        "the name or namespace of the object cannot be changed by a patch",
                    ));
                }
                let updated = self.update(k, patched, p, sub, expected, user, dry_run, rec)?;
                Ok(Response::ok(ResponseBody::Object(updated)))
            }
            (Method::Delete, false, "") => {
                let opts = delete_options(query, body)?;
                let obj = self.delete(k, p, opts, user, rec)?;
                Ok(Response::ok(ResponseBody::Object(obj)))
            }
            (Method::Delete, true, "") => {
                let opts = delete_options(query, Body::Empty)?;
                let list = self.list(p, query, rec)?;
                let ResponseBody::List(mut l) = list.body else {
                    return Ok(list);
                };
                let mut deleted = Vec::new();
                for item in std::mem::take(&mut l.items) {
                    let one = ResourcePath {
                        name: item.name().to_string(),
                        namespace: item.namespace().to_string(),
                        ..p.clone()
                    };
                    deleted.push(self.delete(k, &one, opts.clone(), user, rec)?);
                }
                l.items = deleted;
                Ok(Response::ok(ResponseBody::List(l)))
            }
            (Method::Get, false, "log" | "exec" | "attach" | "portforward")
            | (Method::Post, false, "exec" | "attach" | "portforward") => {
                Err(ApiError::bad_request(format!(
                    "{} needs the kubelet of the pod's node, which this cluster does not run yet",
                    p.subresource
                )))
            }
            (m, _, sub) => {
                let action = match m {
                    Method::Get => "get",
                    Method::Post => "create",
                    Method::Put => "update",
                    Method::Patch => "patch",
                    Method::Delete => "delete",
                };
                let gr = if sub.is_empty() {
                    p.resource.group_resource()
                } else {
                    GroupResource {
                        group: p.resource.group,
                        resource: p.resource.plural,
                    }
                };
                Err(ApiError::method_not_supported(gr, action))
            }
        }
    }

    fn get_object(&self, rt: &'static ResourceType, ns: &str, name: &str) -> Result<Arc<Object>> {
        self.store
            .get(rt, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(rt.group_resource(), name))
    }

    /// Decoding: the body becomes a typed object of the path's kind, with defaults.
    fn decode(
        &mut self,
        rt: &'static ResourceType,
        body: Body,
        namespace: &str,
        rec: &mut Record,
    ) -> Result<Object> {
        let mut obj = match body {
            Body::Object(o) => o,
            other => {
                let v = other.into_json()?;
                if let Some(m) = v.as_object() {
                    let kind = m.get("kind").and_then(Value::as_str).unwrap_or_default();
                    let api_version = m
                        .get("apiVersion")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if !kind.is_empty() && kind != rt.kind {
                        return Err(ApiError::bad_request(format!(
                            "the kind in the data ({kind}) does not match the expected kind ({})",
                            rt.kind
                        )));
                    }
                    if !api_version.is_empty() && api_version != rt.api_version() {
                        return Err(ApiError::bad_request(format!(
                            "the API version in the data ({api_version}) does not match the expected API version ({})",
                            rt.api_version()
                        )));
                    }
                }
                Object::from_value_as(rt, v).map_err(|e| ApiError::bad_request(e.to_string()))?
            }
        };
        if !std::ptr::eq(obj.resource_type(), rt) {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({}) does not match the expected kind ({})",
                obj.kind(),
                rt.kind
            )));
        }
        if !rt.namespaced {
            // Cluster-scoped objects carry no namespace (rest.BeforeCreate clears it).
            obj.meta_mut().namespace.clear();
        } else if !namespace.is_empty() {
            let m = obj.meta_mut();
            if m.namespace.is_empty() {
                m.namespace = namespace.to_string();
            } else if m.namespace != namespace {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
        defaults::apply(&mut obj);
        let why = self.decoded(rt);
        rec.stage("decoding", why);
        Ok(obj)
    }

    fn admission_ctx<'a>(
        &'a self,
        op: Operation,
        p: &'a ResourcePath,
        name: &'a str,
        namespace: &'a str,
        user: &'a UserInfo,
    ) -> admission::Context<'a> {
        admission::Context {
            op,
            resource: p.resource,
            subresource: &p.subresource,
            namespace,
            name,
            user,
            store: &self.store,
            legacy_tokens: self.settings.legacy_service_account_tokens,
        }
    }

    /// The ResourceQuota admission plugin, last in the validating chain: it checks the
    /// namespace's quotas and, as upstream's does, writes their new `status.used`
    /// before the object is stored.
    fn charge_quota(
        &mut self,
        k: &mut Kernel,
        p: &ResourcePath,
        obj: &Object,
        old: Option<&Object>,
        dry_run: bool,
        rec: &mut Record,
    ) -> Result<()> {
        if !self
            .settings
            .admission_plugins
            .iter()
            .any(|n| n == "ResourceQuota")
        {
            return Ok(());
        }
        let (note, changed) = quota::admit(
            &self.store,
            p.resource,
            &p.subresource,
            obj,
            old,
            k.clock.now(),
        )
        .inspect_err(|e| {
            rec.stages.push(Stage::failed(
                "validating admission",
                format!("ResourceQuota: {}", e.message()),
            ))
        })?;
        let Some(note) = note else { return Ok(()) };
        rec.stage("validating admission", format!("ResourceQuota: {note}"));
        if dry_run {
            return Ok(());
        }
        for q in changed {
            let q = Object::from(q);
            if let Ok(stored) = self.store.update(q, None) {
                rec.stage(
                    "validating admission",
                    format!(
                        "ResourceQuota: wrote resourcequota {}/{} status at revision {}",
                        stored.namespace(),
                        stored.name(),
                        stored.meta().resource_version
                    ),
                );
                rec.touched(&stored);
            }
        }
        Ok(())
    }

    fn create(
        &mut self,
        k: &mut Kernel,
        mut obj: Object,
        p: &ResourcePath,
        user: &UserInfo,
        dry_run: bool,
        rec: &mut Record,
    ) -> Result<Arc<Object>> {
        if !obj.meta().resource_version.is_empty() {
            return Err(ApiError::bad_request(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        {
            let m = obj.meta_mut();
            if m.name.is_empty() && !m.generate_name.is_empty() {
                m.name = format!("{}{}", m.generate_name, k.rng.k8s_suffix(5));
            }
            m.uid = k.rng.uuid();
            m.creation_timestamp = Some(Time::from_virtual_nanos(k.clock.now()));
            m.deletion_timestamp = None;
            m.deletion_grace_period_seconds = None;
            m.self_link.clear();
        }
        strategy::prepare_for_create(&mut obj);
        let (name, namespace) = (obj.name().to_string(), obj.namespace().to_string());
        let notes = {
            let ctx = self.admission_ctx(Operation::Create, p, &name, &namespace, user);
            admission::mutate(&self.settings.admission_plugins, &ctx, &mut obj, &mut k.rng)
        }
        .inspect_err(|e| {
            rec.stages
                .push(Stage::failed("mutating admission", e.message().to_string()))
        })?;
        rec.stage(
            "mutating admission",
            join_or(notes, "no plugin changed the object"),
        );
        if let Object::Pod(pod) = &mut obj {
            // The registry computes the QoS class after mutating admission (LimitRanger).
            pod.status.qos_class = strategy::qos_class(pod).into();
        }
        let errs = validation::validate_create(&obj);
        if !errs.is_empty() {
            let e = ApiError::invalid(p.resource.kind, p.resource.group, obj.name(), &errs);
            rec.stages
                .push(Stage::failed("validation", e.message().to_string()));
            return Err(e);
        }
        if let Object::Service(_) = obj {
            self.allocate_service(&mut obj, None, &mut k.rng)
                .inspect_err(|e| {
                    rec.stages
                        .push(Stage::failed("validation", e.message().to_string()))
                })?;
        }
        rec.stage("validation", "valid");
        let notes = {
            let ctx = self.admission_ctx(Operation::Create, p, &name, &namespace, user);
            admission::validate(&self.settings.admission_plugins, &ctx, Some(&obj))
        }
        .inspect_err(|e| {
            rec.stages.push(Stage::failed(
                "validating admission",
                e.message().to_string(),
            ));
        })?;
        rec.stage("validating admission", join_or(notes, "no plugin objected"));
        self.charge_quota(k, p, &obj, None, dry_run, rec)?;
        if dry_run {
            rec.stage("storage", "dry run: not stored");
            return Ok(Arc::new(obj));
        }
        match self.store.create(obj) {
            Ok(stored) => {
                rec.stage(
                    "storage",
                    Text::Owned(["created at revision ", &stored.meta().resource_version].concat()),
                );
                rec.touched(&stored);
                Ok(stored)
            }
            Err(_) => {
                let e = ApiError::already_exists(p.resource.group_resource(), &name);
                rec.stages
                    .push(Stage::failed("storage", e.message().to_string()));
                Err(e)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn update(
        &mut self,
        k: &mut Kernel,
        mut obj: Object,
        p: &ResourcePath,
        sub: &str,
        expected: Option<u64>,
        user: &UserInfo,
        dry_run: bool,
        rec: &mut Record,
    ) -> Result<Arc<Object>> {
        let gr = p.resource.group_resource();
        let old = self.get_object(p.resource, &p.namespace, &p.name)?;
        if let Some(rv) = expected {
            if old.meta().resource_version != rv.to_string() {
                let e = ApiError::conflict(gr, &p.name, ApiError::MODIFIED);
                rec.stages
                    .push(Stage::failed("storage", e.message().to_string()));
                return Err(e);
            }
        }
        if sub == "finalize" {
            // PUT namespaces/{name}/finalize changes only spec.finalizers.
            let (Object::Namespace(new_ns), Object::Namespace(old_ns)) = (&obj, old.as_ref())
            else {
                return Err(ApiError::bad_request("finalize applies to namespaces"));
            };
            let mut n = old_ns.clone();
            n.spec.finalizers = new_ns.spec.finalizers.clone();
            obj = Object::Namespace(n);
        } else {
            strategy::prepare_for_update(&mut obj, &old, sub);
        }
        let (name, namespace) = (obj.name().to_string(), obj.namespace().to_string());
        let notes = {
            let ctx = self.admission_ctx(Operation::Update, p, &name, &namespace, user);
            admission::mutate(&self.settings.admission_plugins, &ctx, &mut obj, &mut k.rng)
        }
        .inspect_err(|e| {
            rec.stages
                .push(Stage::failed("mutating admission", e.message().to_string()))
        })?;
        rec.stage(
            "mutating admission",
            join_or(notes, "no plugin changed the object"),
        );
        let errs = validation::validate_update(&obj, &old);
        if !errs.is_empty() {
            let e = ApiError::invalid(p.resource.kind, p.resource.group, &name, &errs);
            rec.stages
                .push(Stage::failed("validation", e.message().to_string()));
            return Err(e);
        }
        if let Object::Service(_) = obj {
            self.allocate_service(&mut obj, Some(&old), &mut k.rng)
                .inspect_err(|e| {
                    rec.stages
                        .push(Stage::failed("validation", e.message().to_string()))
                })?;
        }
        rec.stage("validation", "valid");
        let notes = {
            let ctx = self.admission_ctx(Operation::Update, p, &name, &namespace, user);
            admission::validate(&self.settings.admission_plugins, &ctx, Some(&obj))
        }
        .inspect_err(|e| {
            rec.stages.push(Stage::failed(
                "validating admission",
                e.message().to_string(),
            ))
        })?;
        rec.stage("validating admission", join_or(notes, "no plugin objected"));
        self.charge_quota(k, p, &obj, Some(&old), dry_run, rec)?;
        // An update that changes nothing writes nothing (no new revision).
        obj.meta_mut().resource_version = old.meta().resource_version.clone();
        if obj == *old {
            rec.stage(
                "storage",
                format!("unchanged at revision {}", old.meta().resource_version),
            );
            rec.touched(&old);
            return Ok(old);
        }
        if dry_run {
            rec.stage("storage", "dry run: not stored");
            return Ok(Arc::new(obj));
        }
        // An object marked for deletion goes once its last finalizer is removed.
        let finished = obj.meta().deletion_timestamp.is_some()
            && obj.meta().finalizers.is_empty()
            && match &obj {
                Object::Namespace(n) => n.spec.finalizers.is_empty(),
                Object::Pod(_) => obj.meta().deletion_grace_period_seconds == Some(0),
                _ => true,
            };
        let stored = self
            .store
            .update(obj, None)
            .map_err(|e| store_error(e, gr, &name))?;
        rec.stage(
            "storage",
            Text::Owned(["updated at revision ", &stored.meta().resource_version].concat()),
        );
        rec.touched(&stored);
        if finished {
            let gone = self
                .store
                .delete(p.resource, &namespace, &name, None)
                .map_err(|e| store_error(e, gr, &name))?;
            self.release(&gone);
            rec.stage(
                "storage",
                format!(
                    "no finalizers left: deleted at revision {}",
                    gone.meta().resource_version
                ),
            );
            rec.touched(&gone);
        }
        Ok(stored)
    }

    fn bind(
        &mut self,
        k: &mut Kernel,
        p: &ResourcePath,
        b: Binding,
        user: &UserInfo,
        rec: &mut Record,
    ) -> Result<()> {
        let gr = PODS.group_resource();
        let pod_name = if b.metadata.name.is_empty() {
            p.name.clone()
        } else {
            b.metadata.name.clone()
        };
        let current = self.get_object(&PODS, &p.namespace, &pod_name)?;
        let Object::Pod(pod) = current.as_ref() else {
            return Err(ApiError::not_found(gr, &pod_name));
        };
        if b.target.kind != "Node" && !b.target.kind.is_empty() {
            return Err(ApiError::bad_request(format!(
                "binding target of kind {} is not supported",
                b.target.kind
            )));
        }
        if pod.metadata.deletion_timestamp.is_some() {
            return Err(ApiError::conflict(
                gr,
                &pod_name,
                &format!("pod {pod_name} is being deleted, cannot be assigned to a host"),
            ));
        }
        if !pod.spec.node_name.is_empty() {
            let e = ApiError::conflict(
                gr,
                &pod_name,
                &format!(
                    "pod {pod_name} is already assigned to node \"{}\"",
                    pod.spec.node_name
                ),
            );
            rec.stages
                .push(Stage::failed("storage", e.message().to_string()));
            return Err(e);
        }
        let mut bound: Pod = (**pod).clone();
        bound.spec.node_name = b.target.name.clone();
        for (k2, v) in &b.metadata.annotations {
            bound.metadata.annotations.insert(k2.clone(), v.clone());
        }
        let now = Time::from_virtual_nanos(k.clock.now());
        let cond = crate::api::meta::Condition {
            kind: "PodScheduled".into(),
            status: "True".into(),
            last_transition_time: Some(now),
            ..Default::default()
        };
        match bound
            .status
            .conditions
            .iter_mut()
            .find(|c| c.kind == "PodScheduled")
        {
            Some(c) => *c = cond,
            None => {
                bound.status.conditions.reserve_exact(1);
                bound.status.conditions.push(cond)
            }
        }
        let _ = user;
        rec.action = Text::Owned(format!(
            "bind pod {}/{} to node {}",
            p.namespace, pod_name, b.target.name
        ));
        rec.stage("validation", "valid: the pod is not yet bound");
        let stored = self
            .store
            .update(Object::from(bound), None)
            .map_err(|e| store_error(e, gr, &pod_name))?;
        rec.stage(
            "storage",
            format!(
                "spec.nodeName set at revision {}",
                stored.meta().resource_version
            ),
        );
        rec.touched(&stored);
        Ok(())
    }

    fn delete(
        &mut self,
        k: &mut Kernel,
        p: &ResourcePath,
        opts: DeleteOptions,
        user: &UserInfo,
        rec: &mut Record,
    ) -> Result<Arc<Object>> {
        let gr = p.resource.group_resource();
        let current = self.get_object(p.resource, &p.namespace, &p.name)?;
        if let Some(uid) = &opts.precondition_uid {
            if *uid != current.meta().uid {
                return Err(ApiError::conflict(
                    gr,
                    &p.name,
                    &format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                        current.meta().uid
                    ),
                ));
            }
        }
        if let Some(rv) = &opts.precondition_rv {
            if *rv != current.meta().resource_version {
                return Err(ApiError::conflict(
                    gr,
                    &p.name,
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                        current.meta().resource_version
                    ),
                ));
            }
        }
        let notes = {
            let ctx = self.admission_ctx(Operation::Delete, p, &p.name, &p.namespace, user);
            admission::validate(&self.settings.admission_plugins, &ctx, None)
        }
        .inspect_err(|e| {
            rec.stages.push(Stage::failed(
                "validating admission",
                e.message().to_string(),
            ))
        })?;
        rec.stage("validating admission", join_or(notes, "no plugin objected"));
        if opts.dry_run {
            rec.stage("storage", "dry run: not deleted");
            return Ok(current);
        }
        let now = Time::from_virtual_nanos(k.clock.now());
        let mut obj = (*current).clone();
        let propagation = opts.propagation_policy.as_deref();
        // Graceful deletion: a pod bound to a node is marked, and its kubelet
        // finishes the job once the containers have stopped.
        let grace = match &obj {
            Object::Pod(pod) => {
                let default = pod.spec.termination_grace_period_seconds.unwrap_or(30);
                let terminal = pod.status.phase == "Succeeded" || pod.status.phase == "Failed";
                if pod.spec.node_name.is_empty() || terminal {
                    0
                } else {
                    opts.grace_period_seconds.unwrap_or(default).max(0)
                }
            }
            _ => 0,
        };
        // shouldOrphanDependents / shouldDeleteDependents: an explicit policy wins,
        // then a finalizer already set, then the kind's default (a v1
        // ReplicationController orphans, for backward compatibility).
        let has_gc_finalizer = obj
            .meta()
            .finalizers
            .iter()
            .any(|f| f == "orphan" || f == "foregroundDeletion");
        let propagation = match propagation {
            None if !has_gc_finalizer && matches!(obj, Object::ReplicationController(_)) => {
                Some("Orphan")
            }
            p => p,
        };
        let mut finalizers_to_add = Vec::new();
        match propagation {
            Some("Foreground") => finalizers_to_add.push("foregroundDeletion"),
            Some("Orphan") => finalizers_to_add.push("orphan"),
            _ => {}
        }
        if propagation.is_some() {
            // The policy replaces any garbage-collection finalizer already there.
            obj.meta_mut()
                .finalizers
                .retain(|f| f != "orphan" && f != "foregroundDeletion");
        }
        let has_namespace_finalizers =
            matches!(&obj, Object::Namespace(n) if !n.spec.finalizers.is_empty());
        let wait = grace > 0
            || !obj.meta().finalizers.is_empty()
            || !finalizers_to_add.is_empty()
            || has_namespace_finalizers;
        if wait {
            if obj.meta().deletion_timestamp.is_some() {
                // Already being deleted: a shorter grace period may still apply.
                let shorter =
                    matches!(obj.meta().deletion_grace_period_seconds, Some(g) if grace < g);
                if !shorter {
                    rec.stage("storage", "already being deleted");
                    rec.touched(&current);
                    return Ok(current);
                }
            }
            let m = obj.meta_mut();
            m.deletion_timestamp = Some(Time(now.0 + grace));
            m.deletion_grace_period_seconds = Some(grace);
            for f in finalizers_to_add {
                if !m.finalizers.iter().any(|x| x == f) {
                    m.finalizers.push(f.to_string());
                }
            }
            if let Object::Namespace(n) = &mut obj {
                n.status.phase = "Terminating".into();
            }
            let stored = self
                .store
                .update(obj, None)
                .map_err(|e| store_error(e, gr, &p.name))?;
            let why = if grace > 0 {
                format!("marked for deletion in {grace}s (graceful termination)")
            } else if has_namespace_finalizers {
                "marked Terminating; the namespace controller empties it, then its finalizer is removed".to_string()
            } else {
                format!(
                    "marked for deletion; waiting for finalizers {:?}",
                    stored.meta().finalizers
                )
            };
            rec.stage(
                "storage",
                format!("{why} at revision {}", stored.meta().resource_version),
            );
            rec.touched(&stored);
            return Ok(stored);
        }
        let gone = self
            .store
            .delete(p.resource, &p.namespace, &p.name, None)
            .map_err(|e| store_error(e, gr, &p.name))?;
        self.release(&gone);
        rec.stage(
            "storage",
            Text::Owned(["deleted at revision ", &gone.meta().resource_version].concat()),
        );
        rec.touched(&gone);
        Ok(gone)
    }

    /// Frees what a deleted object held (a Service's cluster IP and node ports).
    fn release(&mut self, obj: &Object) {
        if let Object::Service(s) = obj {
            for ip in s
                .spec
                .cluster_ips
                .iter()
                .chain(std::iter::once(&s.spec.cluster_ip))
            {
                if let Some(v) = parse_ipv4(ip) {
                    self.cluster_ips.remove(&v);
                }
            }
            for port in &s.spec.ports {
                if let Ok(np) = u16::try_from(port.node_port) {
                    self.node_ports.remove(&np);
                }
            }
        }
    }

    /// Allocates a Service's cluster IP and node ports (random, from the upper band
    /// of each range, as upstream's static-subrange allocators do).
    fn allocate_service(
        &mut self,
        obj: &mut Object,
        old: Option<&Object>,
        rng: &mut crate::kernel::Rng,
    ) -> Result<()> {
        let Object::Service(svc) = obj else {
            return Ok(());
        };
        let name = svc.metadata.name.clone();
        let old_svc = match old {
            Some(Object::Service(o)) => Some(o),
            _ => None,
        };
        let cidr = self.settings.service_cidr;
        let mut new_ips: Vec<u32> = Vec::new();
        let mut new_ports: Vec<u16> = Vec::new();
        let invalid = |field: &str, value: String, detail: String| {
            ApiError::invalid(
                "Service",
                "",
                &name,
                &[crate::api::FieldError::invalid(
                    field,
                    crate::api::status::GoValue(value),
                    detail,
                )],
            )
        };
        if svc.spec.kind == "ExternalName" {
            svc.spec.cluster_ip.clear();
            svc.spec.cluster_ips.clear();
        } else if let Some(o) = old_svc.filter(|o| !o.spec.cluster_ip.is_empty()) {
            if svc.spec.cluster_ip.is_empty() {
                svc.spec.cluster_ip = o.spec.cluster_ip.clone();
                svc.spec.cluster_ips = o.spec.cluster_ips.clone();
            }
        } else if svc.spec.cluster_ip == "None" {
            svc.spec.cluster_ips = vec!["None".into()];
        } else if svc.spec.cluster_ip.is_empty() {
            let size = cidr.size().saturating_sub(2).max(1);
            let band = (size / 16).clamp(16, 256).min(size);
            let upper = size - band;
            let mut chosen = None;
            for attempt in 0..size {
                let offset = if upper > 0 && attempt < upper {
                    band + 1 + (rng.below(upper) + attempt) % upper
                } else {
                    1 + attempt % size
                };
                let ip = cidr.nth(offset);
                if !self.cluster_ips.contains(&ip) {
                    chosen = Some(ip);
                    break;
                }
            }
            let ip = chosen.ok_or_else(|| {
                ApiError::internal("failed to allocate a serviceIP: range is full")
            })?;
            svc.spec.cluster_ip = format_ipv4(ip);
            svc.spec.cluster_ips = vec![svc.spec.cluster_ip.clone()];
            new_ips.push(ip);
        } else {
            let ip_text = svc.spec.cluster_ip.clone();
            let list = format!("[]string{{\"{ip_text}\"}}");
            let ip = parse_ipv4(&ip_text).ok_or_else(|| {
                invalid(
                    "spec.clusterIPs[0]",
                    format!("\"{ip_text}\""),
                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)".into(),
                )
            })?;
            if !cidr.contains(ip) {
                return Err(invalid(
                    "spec.clusterIPs",
                    list,
                    format!("failed to allocate IP {ip_text}: the provided IP ({ip_text}) is not in the valid range. The range of valid IPs is {cidr}"),
                ));
            }
            if self.cluster_ips.contains(&ip) {
                return Err(invalid(
                    "spec.clusterIPs",
                    list,
                    format!("failed to allocate IP {ip_text}: provided IP is already allocated"),
                ));
            }
            svc.spec.cluster_ips = vec![ip_text];
            new_ips.push(ip);
        }
        if svc.spec.kind != "ExternalName" {
            if svc.spec.ip_families.is_empty() {
                svc.spec.ip_families = vec!["IPv4".into()];
            }
            svc.spec
                .ip_family_policy
                .get_or_insert_with(|| "SingleStack".into());
        }
        let wants_node_ports = svc.spec.kind == "NodePort"
            || (svc.spec.kind == "LoadBalancer"
                && svc.spec.allocate_load_balancer_node_ports != Some(false));
        let (lo, hi) = self.settings.node_port_range;
        if wants_node_ports {
            for i in 0..svc.spec.ports.len() {
                let port = &svc.spec.ports[i];
                let kept = old_svc
                    .and_then(|o| {
                        o.spec
                            .ports
                            .iter()
                            .find(|op| op.port == port.port && op.protocol == port.protocol)
                    })
                    .map(|op| op.node_port)
                    .filter(|np| *np != 0 && (port.node_port == 0 || port.node_port == *np));
                if let Some(np) = kept {
                    svc.spec.ports[i].node_port = np;
                    continue;
                }
                let field = format!("spec.ports[{i}].nodePort");
                if port.node_port != 0 {
                    let np = port.node_port;
                    if np < i32::from(lo) || np > i32::from(hi) {
                        return Err(invalid(
                            &field,
                            np.to_string(),
                            format!("provided port is not in the valid range. The range of valid ports is {lo}-{hi}"),
                        ));
                    }
                    let np = np as u16;
                    if self.node_ports.contains(&np) || new_ports.contains(&np) {
                        return Err(invalid(
                            &field,
                            np.to_string(),
                            "provided port is already allocated".into(),
                        ));
                    }
                    new_ports.push(np);
                } else {
                    let size = u64::from(hi - lo) + 1;
                    let band = (size / 16).clamp(16, 128).min(size);
                    let upper = size - band;
                    let mut chosen = None;
                    for attempt in 0..size {
                        let offset = if upper > 0 && attempt < upper {
                            band + (rng.below(upper) + attempt) % upper
                        } else {
                            attempt % size
                        };
                        let np = lo + offset as u16;
                        if !self.node_ports.contains(&np) && !new_ports.contains(&np) {
                            chosen = Some(np);
                            break;
                        }
                    }
                    let np = chosen.ok_or_else(|| {
                        ApiError::internal("failed to allocate a nodePort: range is full")
                    })?;
                    svc.spec.ports[i].node_port = i32::from(np);
                    new_ports.push(np);
                }
            }
        } else {
            for p in &mut svc.spec.ports {
                if svc.spec.kind == "ClusterIP" || svc.spec.kind == "ExternalName" {
                    p.node_port = 0;
                }
            }
        }
        // Ports that an update no longer uses are released.
        if let Some(o) = old_svc {
            for op in &o.spec.ports {
                if op.node_port != 0 && !svc.spec.ports.iter().any(|p| p.node_port == op.node_port)
                {
                    self.node_ports.remove(&(op.node_port as u16));
                }
            }
        }
        self.cluster_ips.extend(new_ips);
        self.node_ports.extend(new_ports);
        Ok(())
    }

    fn list(&self, p: &ResourcePath, query: &Query, rec: &mut Record) -> Result<Response> {
        let (labels, fields) = selectors(p.resource, query)?;
        let ns = (!p.namespace.is_empty()).then_some(p.namespace.as_str());
        let limit: usize = match query.get("limit") {
            Some(l) => l
                .parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("invalid limit: {l}")))?
                .max(0) as usize,
            None => 0,
        };
        let start = match query.get("continue").filter(|c| !c.is_empty()) {
            Some(token) => Some(decode_continue(token)?),
            None => None,
        };
        let mut items = Vec::new();
        let mut remaining = 0i64;
        let mut next = String::new();
        for obj in self.store.list(p.resource, ns) {
            let key = format!("{}/{}", obj.namespace(), obj.name());
            if let Some(s) = &start {
                if key.as_str() <= s.as_str() {
                    continue;
                }
            }
            if !labels.matches(&obj.meta().labels) || !fields.matches(|f| fields::value(obj, f)) {
                continue;
            }
            if limit > 0 && items.len() == limit {
                remaining += 1;
                if next.is_empty() {
                    let last: &Arc<Object> = items.last().unwrap_or(obj);
                    next = encode_continue(
                        &format!("{}/{}", last.namespace(), last.name()),
                        self.store.revision(),
                    );
                }
                continue;
            }
            items.push(obj.clone());
        }
        let selector_used = !labels.is_empty() || !fields.is_empty();
        rec.stage(
            "storage",
            format!(
                "listed {} {} at revision {}",
                items.len(),
                p.resource.plural,
                self.store.revision()
            ),
        );
        Ok(Response::ok(ResponseBody::List(ObjectList {
            resource: p.resource,
            resource_version: self.store.revision(),
            continue_token: next.clone(),
            remaining_item_count: (!next.is_empty() && !selector_used).then_some(remaining),
            items,
        })))
    }

    /// A watch request answered with the events from its resourceVersion up to now.
    fn watch(&self, p: &ResourcePath, query: &Query, rec: &mut Record) -> Result<Response> {
        let (labels, fields) = selectors(p.resource, query)?;
        let spec = WatchSpec {
            resource: p.resource,
            namespace: p.namespace.clone(),
            labels,
            fields,
            owner: String::new(),
        };
        let rv = query
            .get("resourceVersion")
            .map(String::as_str)
            .unwrap_or("");
        let mut events = Vec::new();
        if rv.is_empty() || rv == "0" {
            // "Get state and start at most recent": the current objects as ADDED.
            let ns = (!p.namespace.is_empty()).then_some(p.namespace.as_str());
            for obj in self.store.list(p.resource, ns) {
                if spec.matches(obj) {
                    events.push(WatchItem {
                        kind: "ADDED",
                        object: obj.clone(),
                    });
                }
            }
        } else {
            let from: u64 = rv
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?;
            let iter = self.store.watch_from(from).map_err(|e| match e {
                StoreError::Compacted { requested, oldest } => {
                    ApiError::expired(format!("too old resource version: {requested} ({oldest})"))
                }
                _ => ApiError::internal("watch failed"),
            })?;
            for ev in iter {
                if !std::ptr::eq(ev.object.resource_type(), p.resource) {
                    continue;
                }
                if let Some(t) = spec.translate(ev) {
                    events.push(WatchItem {
                        kind: t.as_str(),
                        object: ev.object.clone(),
                    });
                }
            }
        }
        rec.stage(
            "storage",
            format!(
                "{} watch events up to revision {}",
                events.len(),
                self.store.revision()
            ),
        );
        Ok(Response::ok(ResponseBody::Events(events)))
    }
}

/// Admission's notes, or `none` when no plugin had any.
fn join_or(notes: String, none: &'static str) -> Text {
    if notes.is_empty() {
        Text::Static(none)
    } else {
        Text::Owned(notes)
    }
}

fn status_text(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        _ => "",
    }
}

fn store_error(e: StoreError, gr: GroupResource, name: &str) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found(gr, name),
        StoreError::AlreadyExists => ApiError::already_exists(gr, name),
        StoreError::Conflict => ApiError::conflict(gr, name, ApiError::MODIFIED),
        StoreError::Compacted { requested, oldest } => {
            ApiError::expired(format!("too old resource version: {requested} ({oldest})"))
        }
    }
}

/// The request's verb and resource, as authorizers see them.
fn attributes(target: &Target, method: Method, query: &Query, path: &str) -> Attributes {
    let http_verb = match method {
        Method::Get => "get",
        Method::Post => "create",
        Method::Put => "update",
        Method::Patch => "patch",
        Method::Delete => "delete",
    };
    match target {
        Target::Resource(p) => {
            let verb = match (method, p.name.is_empty()) {
                (Method::Get, true)
                    if p.watch_prefix
                        || query.get("watch").is_some_and(|w| w == "true" || w == "1") =>
                {
                    "watch"
                }
                (Method::Get, true) => "list",
                (Method::Delete, true) => "deletecollection",
                _ => http_verb,
            };
            Attributes {
                verb: verb.into(),
                api_group: p.resource.group.into(),
                resource: p.resource.plural.into(),
                subresource: p.subresource.clone(),
                namespace: p.namespace.clone(),
                name: p.name.clone(),
                path: None,
            }
        }
        Target::Proxy {
            resource,
            namespace,
            name,
            ..
        } => Attributes {
            verb: http_verb.into(),
            api_group: resource.group.into(),
            resource: resource.plural.into(),
            subresource: "proxy".into(),
            namespace: namespace.clone(),
            name: name.clone(),
            path: None,
        },
        _ => Attributes {
            verb: http_verb.into(),
            api_group: String::new(),
            resource: String::new(),
            subresource: String::new(),
            namespace: String::new(),
            name: String::new(),
            path: Some(path.into()),
        },
    }
}

/// A short description of a request for the trace (`create pods default/web`).
fn describe(a: &Attributes) -> String {
    if let Some(p) = &a.path {
        return format!("{} {p}", a.verb);
    }
    let res = if a.subresource.is_empty() {
        a.resource.clone()
    } else {
        format!("{}/{}", a.resource, a.subresource)
    };
    let obj = match (a.namespace.is_empty(), a.name.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" in {}", a.namespace),
        (true, false) => format!(" {}", a.name),
        (false, false) => format!(" {}/{}", a.namespace, a.name),
    };
    format!("{} {res}{obj}", a.verb)
}

/// Parses the labelSelector and fieldSelector of a list or watch.
fn selectors(rt: &ResourceType, query: &Query) -> Result<(Selector, FieldSelector)> {
    let labels = match query.get("labelSelector") {
        Some(s) => Selector::parse(s)
            .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?,
        None => Selector::everything(),
    };
    let fields = match query.get("fieldSelector") {
        Some(s) => FieldSelector::parse(s)
            .and_then(|f| f.validate_for_kind(rt.kind))
            .map_err(|e| ApiError::bad_request(e.to_string()))?,
        None => FieldSelector::everything(),
    };
    Ok((labels, fields))
}

fn encode_continue(key: &str, rv: u64) -> String {
    let raw = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{key}\u{0}")}).to_string();
    strategy::base64_encode(raw.as_bytes())
}

fn decode_continue(token: &str) -> Result<String> {
    let bad = || {
        ApiError::bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    };
    let raw = strategy::base64_decode(token).map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let start = v.get("start").and_then(Value::as_str).ok_or_else(bad)?;
    Ok(start.trim_end_matches('\u{0}').to_string())
}

fn delete_options(query: &Query, body: Body) -> Result<DeleteOptions> {
    let mut o = DeleteOptions::default();
    if !body.is_empty() {
        let v = body.into_json()?;
        o.grace_period_seconds = v.get("gracePeriodSeconds").and_then(Value::as_i64);
        o.propagation_policy = v
            .get("propagationPolicy")
            .and_then(Value::as_str)
            .map(String::from);
        // The deprecated orphanDependents, when no policy is given.
        if o.propagation_policy.is_none() {
            if let Some(orphan) = v.get("orphanDependents").and_then(Value::as_bool) {
                o.propagation_policy = Some(if orphan { "Orphan" } else { "Background" }.into());
            }
        }
        if let Some(pre) = v.get("preconditions") {
            o.precondition_uid = pre.get("uid").and_then(Value::as_str).map(String::from);
            o.precondition_rv = pre
                .get("resourceVersion")
                .and_then(Value::as_str)
                .map(String::from);
        }
        o.dry_run = v
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x == "All"));
    }
    if let Some(g) = query.get("gracePeriodSeconds") {
        o.grace_period_seconds = Some(
            g.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid gracePeriodSeconds: {g}")))?,
        );
    }
    if let Some(pp) = query.get("propagationPolicy") {
        o.propagation_policy = Some(pp.clone());
    }
    if query.get("dryRun").is_some_and(|v| v == "All") {
        o.dry_run = true;
    }
    if let Some(pp) = &o.propagation_policy {
        if !["Orphan", "Background", "Foreground"].contains(&pp.as_str()) {
            return Err(ApiError::invalid(
                "DeleteOptions",
                "",
                "",
                &[crate::api::FieldError::not_supported(
                    "propagationPolicy",
                    pp.as_str(),
                    &["Foreground", "Background", "Orphan", "nil"],
                )],
            ));
        }
    }
    Ok(o)
}

fn patch_name(content_type: &str) -> &'static str {
    match content_type.split(';').next().unwrap_or_default().trim() {
        "application/json-patch+json" => "JSON patch",
        "application/merge-patch+json" => "merge patch",
        "application/strategic-merge-patch+json" => "strategic merge patch",
        "application/apply-patch+yaml" => "apply patch",
        _ => "patch",
    }
}

fn apply_patch(target: &mut Value, content_type: &str, body: Body) -> Result<()> {
    let ct = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let patch = body.into_json()?;
    match ct.as_str() {
        "application/json-patch+json" => {
            patch::json_patch(target, &patch).map_err(|e| ApiError::new(422, "Invalid", e, None))
        }
        "application/merge-patch+json" | "application/apply-patch+yaml" => {
            patch::merge_patch(target, &patch);
            Ok(())
        }
        "application/strategic-merge-patch+json" => {
            patch::strategic_merge(target, &patch).map_err(ApiError::bad_request)
        }
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

/// The Scale subresource view of a Deployment, ReplicaSet or ReplicationController.
fn scale_of(obj: &Object) -> Object {
    let mut s = crate::api::apps::Scale::default();
    let m = obj.meta();
    s.metadata.name = m.name.clone();
    s.metadata.namespace = m.namespace.clone();
    s.metadata.uid = m.uid.clone();
    s.metadata.resource_version = m.resource_version.clone();
    s.metadata.creation_timestamp = m.creation_timestamp;
    match obj {
        Object::Deployment(d) => {
            s.spec.replicas = d.spec.replicas.unwrap_or(1);
            s.status.replicas = d.status.replicas;
            s.status.selector = d
                .spec
                .selector
                .as_ref()
                .and_then(|l| l.to_selector().ok())
                .map(|x| x.to_string())
                .unwrap_or_default();
        }
        Object::ReplicaSet(r) => {
            s.spec.replicas = r.spec.replicas.unwrap_or(1);
            s.status.replicas = r.status.replicas;
            s.status.selector = r
                .spec
                .selector
                .as_ref()
                .and_then(|l| l.to_selector().ok())
                .map(|x| x.to_string())
                .unwrap_or_default();
        }
        Object::ReplicationController(r) => {
            s.spec.replicas = r.spec.replicas.unwrap_or(1);
            s.status.replicas = r.status.replicas;
            s.status.selector = Selector::from_set(&r.spec.selector).to_string();
        }
        _ => {}
    }
    Object::from(s)
}

fn set_replicas(obj: &mut Object, n: i32) {
    match obj {
        Object::Deployment(d) => d.spec.replicas = Some(n),
        Object::ReplicaSet(r) => r.spec.replicas = Some(n),
        Object::ReplicationController(r) => r.spec.replicas = Some(n),
        _ => {}
    }
}
