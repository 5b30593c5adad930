//! The Endpoints controller (pkg/controller/endpoint, v1.31): for every Service with a
//! selector, an Endpoints object of the same name listing the matching pods that have
//! an IP: ready pods (or every pod, with `publishNotReadyAddresses`) under
//! `addresses`, the others under `notReadyAddresses`, each with its `nodeName` and a
//! `targetRef` to the pod; ports are the Service's, a named `targetPort` resolved per
//! pod from its container ports (a pod without that port is left out of that port's
//! subset). The `endpoints.kubernetes.io/last-change-trigger-time` annotation carries
//! the oldest change not yet written (a Service's creation, a pod's Ready transition).
//!
//! Services without a selector (the `kubernetes` Service, whose Endpoints the API
//! server keeps) are left alone; a deleted Service's Endpoints are deleted.
//!
//! Changes seen at one instant are synced together once (upstream's work queue
//! deduplicates keys the same way). Simplifications: an empty selector counts as no
//! selector (Go tells `{}` from nil, the simulation's types do not); subsets are
//! ordered by their ports and addresses by IP (upstream orders subsets by a hash);
//! the 1000-address capacity annotation is not written.

use crate::api::VecMap;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::api::core::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service,
    ServicePort,
};
use crate::api::intstr::IntOrString;
use crate::api::object::{ENDPOINTS, PODS, SERVICES};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::ObjRef;
use crate::store::EventType;

const NAME: &str = "endpoint-controller";
/// The annotation with the time of the change the object reflects.
pub const TRIGGER_TIME: &str = "endpoints.kubernetes.io/last-change-trigger-time";
const KEY_SYNC: u64 = 1;

/// A subset's ports: (name, port, protocol).
type PortList = Vec<(String, i32, String)>;
/// Ready and not-ready addresses.
type Addresses = (Vec<EndpointAddress>, Vec<EndpointAddress>);

/// `podutil.IsPodReady`.
pub fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .conditions
        .iter()
        .any(|c| c.kind == "Ready" && c.status == "True")
}

/// The pod's IPv4 address, if it has one.
pub fn pod_ipv4(pod: &Pod) -> Option<&str> {
    std::iter::once(pod.status.pod_ip.as_str())
        .chain(pod.status.pod_ips.iter().map(|p| p.ip.as_str()))
        .find(|ip| !ip.is_empty() && !ip.contains(':'))
}

/// `endpointutil.ShouldPodBeInEndpoints`.
pub fn should_be_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    if pod_ipv4(pod).is_none() {
        return false;
    }
    if !include_terminating && pod.metadata.deletion_timestamp.is_some() {
        return false;
    }
    match pod.spec.restart_policy.as_deref() {
        Some("Never") => !matches!(pod.status.phase.as_str(), "Failed" | "Succeeded"),
        Some("OnFailure") => pod.status.phase != "Succeeded",
        _ => true,
    }
}

/// `podutil.FindPort`: a Service port's target port on this pod.
pub fn find_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    match &port.target_port {
        Some(IntOrString::String(name)) => {
            let proto = port.protocol.as_deref().unwrap_or("TCP");
            pod.spec.containers.iter().find_map(|c| {
                c.ports.iter().find_map(|p| {
                    (p.name.as_deref() == Some(name.as_str())
                        && p.protocol.as_deref().unwrap_or("TCP") == proto)
                        .then_some(p.container_port)
                })
            })
        }
        Some(IntOrString::Int(n)) => Some(*n),
        None => Some(port.port),
    }
}

/// `endpointutil.ShouldSetHostname`.
pub fn hostname(pod: &Pod, svc: &Service) -> Option<String> {
    let h = pod.spec.hostname.as_deref().filter(|h| !h.is_empty())?;
    (pod.spec.subdomain.as_deref() == Some(svc.metadata.name.as_str())
        && pod.metadata.namespace == svc.metadata.namespace)
        .then(|| h.to_string())
}

/// The pod's trigger time: its Ready condition's last transition (seconds).
pub fn pod_trigger_time(pod: &Pod) -> Option<i64> {
    pod.status
        .conditions
        .iter()
        .find(|c| c.kind == "Ready")
        .and_then(|c| c.last_transition_time)
        .map(|t| t.0)
}

/// Whether a selector (a Service's, non-empty) selects these labels.
pub fn selects(selector: &VecMap<String, String>, labels: &VecMap<String, String>) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// What an informer holds: services and pods by namespace and name.
#[derive(Default)]
pub struct Informers {
    pub services: BTreeMap<(String, String), Arc<Object>>,
    pub pods: BTreeMap<String, BTreeMap<String, Arc<Object>>>,
}

impl Informers {
    /// Services of `ns` whose selector matches any of these label sets.
    pub fn services_selecting(&self, ns: &str, labels: &[&VecMap<String, String>]) -> Vec<String> {
        if self.services.is_empty() {
            return Vec::new();
        }
        self.services
            .range((ns.to_string(), String::new())..)
            .take_while(|((n, _), _)| n == ns)
            .filter(|(_, o)| match o.as_ref() {
                Object::Service(s) => labels.iter().any(|l| selects(&s.spec.selector, l)),
                _ => false,
            })
            .map(|((_, name), _)| name.clone())
            .collect()
    }

    /// Pods of `ns` the selector selects, by name.
    pub fn selected<'a>(
        &'a self,
        ns: &str,
        selector: &'a VecMap<String, String>,
    ) -> impl Iterator<Item = &'a Pod> + 'a {
        self.pods
            .get(ns)
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(|o| match o.as_ref() {
                Object::Pod(p) => Some(&**p),
                _ => None,
            })
            .filter(move |p| selects(selector, &p.metadata.labels))
    }

    /// Applies a pod event; returns the pod as it was, if it was known.
    pub fn pod_event(&mut self, kind: EventType, obj: &Arc<Object>) -> Option<Arc<Object>> {
        let m = obj.meta();
        if kind == EventType::Deleted {
            return self.pods.get_mut(&m.namespace)?.remove(&m.name);
        }
        if !self.pods.contains_key(&m.namespace) {
            self.pods.insert(m.namespace.clone(), BTreeMap::new());
        }
        let pods = self.pods.get_mut(&m.namespace)?;
        // A modified pod keeps its key: no new name is allocated.
        if let Some(held) = pods.get_mut(&m.name) {
            return Some(std::mem::replace(held, obj.clone()));
        }
        pods.insert(m.name.clone(), obj.clone())
    }

    pub fn service_event(&mut self, kind: EventType, obj: &Arc<Object>) {
        let m = obj.meta();
        let key = (m.namespace.clone(), m.name.clone());
        if kind == EventType::Deleted {
            self.services.remove(&key);
        } else {
            self.services.insert(key, obj.clone());
        }
    }
}

/// Per service, what the trigger time tracker last saw: whether the service was
/// synced before, and each pod's trigger time.
#[derive(Default)]
pub struct TriggerTracker {
    seen: BTreeMap<(String, String), BTreeMap<String, Option<i64>>>,
}

impl TriggerTracker {
    /// `ComputeEndpointLastChangeTriggerTime`: the oldest trigger not yet reflected.
    pub fn compute(&mut self, svc: &Service, pods: &[&Pod]) -> Option<i64> {
        let key = (svc.metadata.namespace.clone(), svc.metadata.name.clone());
        let first = !self.seen.contains_key(&key);
        let state = self.seen.entry(key).or_default();
        let mut min: Option<i64> = None;
        let mut take = |t: Option<i64>| {
            if let Some(t) = t {
                min = Some(min.map_or(t, |m: i64| m.min(t)));
            }
        };
        if first {
            take(svc.metadata.creation_timestamp.map(|t| t.0));
        }
        let mut next = BTreeMap::new();
        for p in pods {
            let t = pod_trigger_time(p);
            if state.get(&p.metadata.name) != Some(&t) {
                take(t);
            }
            next.insert(p.metadata.name.clone(), t);
        }
        *state = next;
        min
    }

    pub fn forget(&mut self, ns: &str, name: &str) {
        self.seen.remove(&(ns.to_string(), name.to_string()));
    }
}

/// Go's RFC3339Nano of a whole-second time.
pub fn trigger_text(t: i64) -> String {
    crate::api::time::Time(t).to_rfc3339()
}

pub struct EndpointsController {
    who: Identity,
    inf: Informers,
    /// Endpoints that exist, by namespace and name.
    existing: BTreeMap<(String, String), Arc<Object>>,
    tracker: TriggerTracker,
    dirty: BTreeSet<(String, String)>,
    armed: bool,
}

impl Default for EndpointsController {
    fn default() -> Self {
        EndpointsController {
            who: super::controller_identity(NAME, "endpoint-controller"),
            inf: Informers::default(),
            existing: BTreeMap::new(),
            tracker: TriggerTracker::default(),
            dirty: BTreeSet::new(),
            armed: false,
        }
    }
}

impl EndpointsController {
    fn enqueue(&mut self, ctx: &mut Ctx, ns: &str, name: String) {
        self.dirty.insert((ns.to_string(), name));
        if !self.armed {
            self.armed = true;
            ctx.after(0, KEY_SYNC);
        }
    }

    /// The subsets a Service wants, and how many addresses are ready and not.
    fn desired(&self, svc: &Service, pods: &[&Pod]) -> (Vec<EndpointSubset>, usize, usize) {
        let tolerate = svc.spec.publish_not_ready_addresses;
        // Repacked: one subset per distinct port list.
        let mut by_ports: BTreeMap<PortList, Addresses> = BTreeMap::new();
        let (mut ready, mut not_ready) = (0, 0);
        for pod in pods {
            if !should_be_in_endpoints(pod, tolerate) {
                continue;
            }
            let Some(ip) = pod_ipv4(pod) else { continue };
            let addr = EndpointAddress {
                ip: ip.to_string(),
                hostname: hostname(pod, svc).unwrap_or_default(),
                node_name: Some(pod.spec.node_name.clone()).filter(|n| !n.is_empty()),
                target_ref: Some(ObjectReference {
                    kind: "Pod".into(),
                    namespace: pod.metadata.namespace.clone(),
                    name: pod.metadata.name.clone(),
                    uid: pod.metadata.uid.clone(),
                    ..Default::default()
                }),
            };
            let is_ready = tolerate || pod_ready(pod);
            let mut port_sets: Vec<PortList> = Vec::new();
            if svc.spec.ports.is_empty() {
                if svc.spec.cluster_ip == "None" {
                    port_sets.push(Vec::new());
                }
            } else {
                // Each service port is its own subset before repacking, as upstream.
                for sp in &svc.spec.ports {
                    if let Some(n) = find_port(pod, sp) {
                        port_sets.push(vec![(
                            sp.name.clone(),
                            n,
                            sp.protocol.clone().unwrap_or_else(|| "TCP".into()),
                        )]);
                    }
                }
            }
            for ports in port_sets {
                let entry = by_ports.entry(ports).or_default();
                if is_ready {
                    entry.0.push(addr.clone());
                    ready += 1;
                } else {
                    entry.1.push(addr.clone());
                    not_ready += 1;
                }
            }
        }
        // Repack: addresses with the same set of ports go in one subset.
        let mut per_addr: BTreeMap<(bool, String, String), PortList> = BTreeMap::new();
        let mut addr_of: BTreeMap<(bool, String, String), EndpointAddress> = BTreeMap::new();
        for (ports, (r, nr)) in by_ports {
            for (is_ready, list) in [(true, r), (false, nr)] {
                for a in list {
                    let uid = a
                        .target_ref
                        .as_ref()
                        .map(|t| t.uid.clone())
                        .unwrap_or_default();
                    let key = (is_ready, a.ip.clone(), uid);
                    per_addr
                        .entry(key.clone())
                        .or_default()
                        .extend(ports.iter().cloned());
                    addr_of.insert(key, a);
                }
            }
        }
        let mut subsets: BTreeMap<PortList, EndpointSubset> = BTreeMap::new();
        for (key, mut ports) in per_addr {
            ports.sort();
            let Some(a) = addr_of.remove(&key) else {
                continue;
            };
            let s = subsets
                .entry(ports.clone())
                .or_insert_with(|| EndpointSubset {
                    ports: ports
                        .iter()
                        .map(|(name, port, proto)| EndpointPort {
                            name: name.clone(),
                            port: *port,
                            protocol: Some(proto.clone()),
                            app_protocol: None,
                        })
                        .collect(),
                    ..Default::default()
                });
            if key.0 {
                s.addresses.push(a);
            } else {
                s.not_ready_addresses.push(a);
            }
        }
        (subsets.into_values().collect(), ready, not_ready)
    }

    fn sync(&mut self, ctx: &mut Ctx, ns: &str, name: &str) {
        let key = (ns.to_string(), name.to_string());
        let who = self.who.clone();
        let svc = match self.inf.services.get(&key).map(|o| o.as_ref()) {
            Some(Object::Service(s)) => s.clone(),
            _ => {
                // The Service is gone: so are its Endpoints.
                self.tracker.forget(ns, name);
                if self.existing.contains_key(&key) {
                    ctx.note(
                        NAME,
                        format!("delete endpoints {ns}/{name}"),
                        format!("service {ns}/{name} no longer exists"),
                        vec![ObjRef::new("Endpoints", ns, name, 0)],
                    );
                    let _ = ctx.client(&who).delete(&ENDPOINTS, ns, name, None);
                }
                return;
            }
        };
        if svc.spec.selector.is_empty() {
            return;
        }
        let pods: Vec<&Pod> = self.inf.selected(ns, &svc.spec.selector).collect();
        let (subsets, ready, not_ready) = self.desired(&svc, &pods);
        let trigger = self.tracker.compute(&svc, &pods);
        let selected = pods.len();
        let current = self.existing.get(&key).and_then(|o| match o.as_ref() {
            Object::Endpoints(e) => Some((**e).clone()),
            _ => None,
        });
        let mut labels = svc.metadata.labels.clone();
        if svc.spec.cluster_ip == "None" {
            labels.insert("service.kubernetes.io/headless".into(), String::new());
        }
        let observed = format!(
            "service {ns}/{name} selects {selected} pod(s): {ready} ready address(es), {not_ready} not ready"
        );
        if let Some(cur) = &current {
            if cur.subsets == subsets && cur.metadata.labels == labels {
                ctx.note(
                    NAME,
                    format!("sync endpoints {ns}/{name}"),
                    format!("{observed}; the Endpoints already list them"),
                    vec![ObjRef::new("Service", ns, name, 0)],
                );
                return;
            }
        }
        let mut ep = current.clone().unwrap_or_else(|| {
            let mut e = Endpoints::default();
            e.metadata.name = name.into();
            e.metadata.namespace = ns.into();
            e
        });
        ep.metadata.labels = labels;
        ep.subsets = subsets;
        match trigger {
            Some(t) => {
                ep.metadata
                    .annotations
                    .insert(TRIGGER_TIME.into(), trigger_text(t));
            }
            None => {
                ep.metadata.annotations.remove(TRIGGER_TIME);
            }
        }
        ctx.note(
            NAME,
            format!(
                "{} endpoints {ns}/{name}",
                if current.is_some() {
                    "update"
                } else {
                    "create"
                }
            ),
            format!("{observed}; the Endpoints must list exactly those"),
            vec![ObjRef::new("Service", ns, name, 0)],
        );
        let res = if current.is_some() {
            ctx.client(&who).update(Object::from(ep))
        } else {
            ctx.client(&who).create(Object::from(ep))
        };
        if let Ok(stored) = res {
            self.existing.insert(key, stored);
        }
    }
}

impl Component for EndpointsController {
    fn name(&self) -> String {
        NAME.into()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        vec![
            WatchSpec::new(&SERVICES, NAME),
            WatchSpec::new(&PODS, NAME),
            WatchSpec::new(&ENDPOINTS, NAME),
        ]
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>) {
        let m = obj.meta();
        match watch {
            0 => {
                self.inf.service_event(kind, obj);
                let (ns, name) = (m.namespace.clone(), m.name.clone());
                self.enqueue(ctx, &ns, name);
            }
            1 => {
                let before = self.inf.pod_event(kind, obj);
                let ns = m.namespace.as_str();
                let services = match &before {
                    Some(b) => self
                        .inf
                        .services_selecting(ns, &[&m.labels, &b.meta().labels]),
                    None => self.inf.services_selecting(ns, &[&m.labels]),
                };
                for svc in services {
                    self.enqueue(ctx, ns, svc);
                }
            }
            2 => {
                let key = (m.namespace.clone(), m.name.clone());
                if kind == EventType::Deleted {
                    self.existing.remove(&key);
                    // A deleted Endpoints of a selecting Service is written again.
                    if self.inf.services.contains_key(&key) {
                        self.enqueue(ctx, &key.0, key.1.clone());
                    }
                } else {
                    self.existing.insert(key, obj.clone());
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, key: u64) {
        if key != KEY_SYNC {
            return;
        }
        self.armed = false;
        let dirty = std::mem::take(&mut self.dirty);
        for (ns, name) in dirty {
            self.sync(ctx, &ns, &name);
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
