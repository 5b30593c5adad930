//! The EndpointSlice controller (pkg/controller/endpointslice, v1.31): for every
//! Service with a selector, EndpointSlices (discovery.k8s.io/v1, addressType IPv4)
//! named `<service>-<suffix>` (generateName), labelled
//! `kubernetes.io/service-name` and `endpointslice.kubernetes.io/managed-by:
//! endpointslice-controller.k8s.io`, owned by the Service, with at most 100 endpoints
//! each (`--max-endpoints-per-slice`). Each pod with an IP is an endpoint with the
//! conditions `ready` (ready and not terminating, or `publishNotReadyAddresses`),
//! `serving` and `terminating`, its `nodeName`, its node's zone and a `targetRef`.
//! Pods whose ports differ (a named `targetPort` resolved per pod) go in different
//! slices. A Service with no endpoints keeps one empty placeholder slice.
//!
//! Simplifications: the reconciler refills the Service's slices in order (endpoints by
//! pod name) instead of upstream's churn-minimizing packing; slices are rewritten only
//! when their content changes; no topology hints, no EndpointSlice mirroring (the
//! `kubernetes` Service has no selector and is left alone).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::endpoints::{
    find_port, hostname, pod_ipv4, pod_ready, should_be_in_endpoints, trigger_text, Informers,
    TriggerTracker, TRIGGER_TIME,
};
use crate::api::core::{ObjectReference, Pod, Service};
use crate::api::meta::OwnerReference;
use crate::api::networking::{Endpoint, EndpointConditions, EndpointSlice, EndpointSlicePort};
use crate::api::object::{ENDPOINTSLICES, NODES, PODS, SERVICES};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::ObjRef;
use crate::store::EventType;

const NAME: &str = "endpointslice-controller";
pub const MANAGED_BY: &str = "endpointslice-controller.k8s.io";
/// `--max-endpoints-per-slice`.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;
const KEY_SYNC: u64 = 1;

type Ports = Vec<(String, i32, String)>;

pub struct EndpointSliceController {
    who: Identity,
    inf: Informers,
    /// Node name → zone label.
    zones: BTreeMap<String, String>,
    /// This controller's slices, by namespace, service and slice name.
    slices: SliceCache,
    tracker: TriggerTracker,
    dirty: BTreeSet<(String, String)>,
    armed: bool,
}

impl Default for EndpointSliceController {
    fn default() -> Self {
        EndpointSliceController {
            who: super::controller_identity(NAME, "endpointslice-controller"),
            inf: Informers::default(),
            zones: BTreeMap::new(),
            slices: BTreeMap::new(),
            tracker: TriggerTracker::default(),
            dirty: BTreeSet::new(),
            armed: false,
        }
    }
}

fn endpoint(pod: &Pod, svc: &Service, zone: Option<&String>) -> Option<Endpoint> {
    let ip = pod_ipv4(pod)?;
    let serving = svc.spec.publish_not_ready_addresses || pod_ready(pod);
    let terminating = pod.metadata.deletion_timestamp.is_some();
    let ready = svc.spec.publish_not_ready_addresses || (serving && !terminating);
    Some(Endpoint {
        addresses: vec![ip.to_string()],
        conditions: EndpointConditions {
            ready: Some(ready),
            serving: Some(serving),
            terminating: Some(terminating),
        },
        hostname: hostname(pod, svc),
        target_ref: Some(ObjectReference {
            kind: "Pod".into(),
            namespace: pod.metadata.namespace.clone(),
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        }),
        node_name: Some(pod.spec.node_name.clone()).filter(|n| !n.is_empty()),
        zone: zone.cloned(),
        ..Default::default()
    })
}

fn slice_ports(ports: &Ports) -> Vec<EndpointSlicePort> {
    ports
        .iter()
        .map(|(name, port, proto)| EndpointSlicePort {
            name: Some(name.clone()),
            protocol: Some(proto.clone()),
            port: Some(*port),
            app_protocol: None,
        })
        .collect()
}

impl EndpointSliceController {
    fn enqueue(&mut self, ctx: &mut Ctx, ns: &str, name: String) {
        self.dirty.insert((ns.to_string(), name));
        if !self.armed {
            self.armed = true;
            ctx.after(0, KEY_SYNC);
        }
    }

    fn new_slice(svc: &Service, ports: &Ports) -> EndpointSlice {
        let mut s = EndpointSlice::default();
        let name = &svc.metadata.name;
        let prefix = format!("{name}-");
        s.metadata.generate_name = if prefix.len() <= 253 - 5 {
            prefix
        } else {
            name.clone()
        };
        s.metadata.namespace = svc.metadata.namespace.clone();
        s.metadata.owner_references = vec![OwnerReference {
            api_version: "v1".into(),
            kind: "Service".into(),
            name: name.clone(),
            uid: svc.metadata.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }]
        .into();
        s.address_type = "IPv4".into();
        s.ports = slice_ports(ports);
        s
    }

    fn sync(&mut self, ctx: &mut Ctx, ns: &str, name: &str) {
        let key = (ns.to_string(), name.to_string());
        let who = self.who.clone();
        let svc = match self.inf.services.get(&key).map(|o| o.as_ref()) {
            Some(Object::Service(s)) if !s.spec.selector.is_empty() => s.clone(),
            _ => {
                // Deleted services' slices go with them (the garbage collector, through
                // the owner reference, upstream).
                self.tracker.forget(ns, name);
                let gone: Vec<String> = self
                    .slices
                    .get(&key)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                if !gone.is_empty() && !self.inf.services.contains_key(&key) {
                    ctx.note(
                        NAME,
                        format!("delete endpointslices of {ns}/{name}"),
                        format!("service {ns}/{name} no longer exists"),
                        vec![ObjRef::new("Service", ns, name, 0)],
                    );
                    for s in gone {
                        let _ = ctx.client(&who).delete(&ENDPOINTSLICES, ns, &s, None);
                    }
                }
                return;
            }
        };
        let pods: Vec<&Pod> = self.inf.selected(ns, &svc.spec.selector).collect();
        let trigger = self.tracker.compute(&svc, &pods);
        // Desired endpoints grouped by their port list.
        let mut desired: BTreeMap<Ports, Vec<Endpoint>> = BTreeMap::new();
        for pod in &pods {
            if !should_be_in_endpoints(pod, true) {
                continue;
            }
            let zone = self.zones.get(&pod.spec.node_name);
            let Some(ep) = endpoint(pod, &svc, zone) else {
                continue;
            };
            let mut ports: Ports = Vec::new();
            for sp in &svc.spec.ports {
                if let Some(n) = find_port(pod, sp) {
                    ports.push((
                        sp.name.clone(),
                        n,
                        sp.protocol.clone().unwrap_or_else(|| "TCP".into()),
                    ));
                }
            }
            desired.entry(ports).or_default().push(ep);
        }
        let total: usize = desired.values().map(Vec::len).sum();
        // The slices wanted: chunks of at most 100, or one placeholder.
        let mut wanted: Vec<(Ports, Vec<Endpoint>)> = Vec::new();
        for (ports, eps) in desired {
            for chunk in eps.chunks(MAX_ENDPOINTS_PER_SLICE) {
                wanted.push((ports.clone(), chunk.to_vec()));
            }
        }
        if wanted.is_empty() {
            wanted.push((Vec::new(), Vec::new()));
        }
        let mut labels = svc.metadata.labels.clone();
        labels.insert("kubernetes.io/service-name".into(), name.into());
        labels.insert(
            "endpointslice.kubernetes.io/managed-by".into(),
            MANAGED_BY.into(),
        );
        if svc.spec.cluster_ip == "None" {
            labels.insert("service.kubernetes.io/headless".into(), String::new());
        }
        let mut existing: Vec<EndpointSlice> = self
            .slices
            .get(&key)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        let (mut created, mut updated, mut kept) = (0, 0, 0);
        let mut plan: Vec<(Option<EndpointSlice>, EndpointSlice)> = Vec::new();
        for (ports, eps) in wanted {
            // Reuse an existing slice with the same ports first, then any.
            let sp = slice_ports(&ports);
            let pos = existing
                .iter()
                .position(|s| s.ports == sp)
                .or(if existing.is_empty() { None } else { Some(0) });
            let old = pos.map(|i| existing.remove(i));
            let mut s = old.clone().unwrap_or_else(|| Self::new_slice(&svc, &ports));
            s.ports = sp;
            s.endpoints = eps;
            s.metadata.labels = labels.clone();
            match trigger {
                Some(t) => {
                    s.metadata
                        .annotations
                        .insert(TRIGGER_TIME.into(), trigger_text(t));
                }
                None => {
                    if let Some(o) = &old {
                        // Unchanged content keeps its annotation.
                        if o.endpoints == s.endpoints && o.ports == s.ports {
                            s.metadata.annotations = o.metadata.annotations.clone();
                        } else {
                            s.metadata.annotations.remove(TRIGGER_TIME);
                        }
                    }
                }
            }
            plan.push((old, s));
        }
        for (old, s) in plan {
            match old {
                Some(o)
                    if o.endpoints == s.endpoints
                        && o.ports == s.ports
                        && o.metadata.labels == s.metadata.labels =>
                {
                    kept += 1;
                }
                Some(_) => {
                    updated += 1;
                    if let Ok(stored) = ctx.client(&who).update(Object::from(s)) {
                        remember(&mut self.slices, &key, &stored);
                    }
                }
                None => {
                    created += 1;
                    if let Ok(stored) = ctx.client(&who).create(Object::from(s)) {
                        remember(&mut self.slices, &key, &stored);
                    }
                }
            }
        }
        let deleted = existing.len();
        for s in existing {
            let _ = ctx
                .client(&who)
                .delete(&ENDPOINTSLICES, ns, &s.metadata.name, None);
        }
        ctx.note(
            NAME,
            format!("sync endpointslices of {ns}/{name}"),
            format!(
                "service {ns}/{name} selects {} pod(s), {total} endpoint(s) with an IP; slices: {created} created, {updated} updated, {deleted} deleted, {kept} unchanged",
                pods.len()
            ),
            vec![ObjRef::new("Service", ns, name, 0)],
        );
    }
}

type SliceCache = BTreeMap<(String, String), BTreeMap<String, EndpointSlice>>;

fn remember(slices: &mut SliceCache, key: &(String, String), obj: &Arc<Object>) {
    {
        if let Object::EndpointSlice(s) = obj.as_ref() {
            slices
                .entry(key.clone())
                .or_default()
                .insert(s.metadata.name.clone(), (**s).clone());
        }
    }
}

impl Component for EndpointSliceController {
    fn name(&self) -> String {
        NAME.into()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        let mut slices = WatchSpec::new(&ENDPOINTSLICES, NAME);
        slices.labels = crate::api::labels::Selector::parse(&format!(
            "endpointslice.kubernetes.io/managed-by={MANAGED_BY}"
        ))
        .unwrap_or_else(|_| crate::api::labels::Selector::everything());
        vec![
            WatchSpec::new(&SERVICES, NAME),
            WatchSpec::new(&PODS, NAME),
            slices,
            WatchSpec::new(&NODES, NAME),
        ]
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>) {
        let m = obj.meta();
        match (watch, obj.as_ref()) {
            (0, _) => {
                self.inf.service_event(kind, obj);
                let (ns, name) = (m.namespace.clone(), m.name.clone());
                self.enqueue(ctx, &ns, name);
            }
            (1, _) => {
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
            (2, Object::EndpointSlice(s)) => {
                let Some(svc) = s.metadata.labels.get("kubernetes.io/service-name") else {
                    return;
                };
                let key = (m.namespace.clone(), svc.clone());
                if kind == EventType::Deleted {
                    if let Some(mine) = self.slices.get_mut(&key) {
                        mine.remove(&m.name);
                    }
                    if self.inf.services.contains_key(&key) {
                        self.enqueue(ctx, &key.0, key.1.clone());
                    }
                } else {
                    self.slices
                        .entry(key)
                        .or_default()
                        .insert(m.name.clone(), (**s).clone());
                }
            }
            (3, Object::Node(n)) => {
                if kind == EventType::Deleted {
                    self.zones.remove(&m.name);
                } else if let Some(z) = n.metadata.labels.get("topology.kubernetes.io/zone") {
                    self.zones.insert(m.name.clone(), z.clone());
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
