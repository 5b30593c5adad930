//! The service controller of the cloud controller manager (cloud-provider's
//! controllers/service, v1.31) with a simulated cloud: a Service of type
//! LoadBalancer without `spec.loadBalancerClass` gets the
//! `service.kubernetes.io/load-balancer-cleanup` finalizer and the Event
//! `EnsuringLoadBalancer`; after the cloud's delay (2s) an external IP from the
//! simulated pool, 203.0.113.0/24 (TEST-NET-3, from .1 in order; a free
//! `spec.loadBalancerIP` in the pool is honoured), goes into
//! `status.loadBalancer.ingress` (ipMode VIP) with the Event `EnsuredLoadBalancer`.
//! When the Service is deleted or stops wanting a load balancer (another type, or a
//! class), the IP is released (`DeletingLoadBalancer`, `DeletedLoadBalancer`), the
//! status cleared and the finalizer removed. A type change also records the `Type`
//! Event (`LoadBalancer -> ClusterIP`), as upstream.
//!
//! Simplifications: the cloud never fails (no `SyncLoadBalancerFailed` retries), no
//! node set is sent to the cloud (no `UpdateLoadBalancer` on node changes), and the
//! delay is fixed.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use crate::api::core::{Event, EventSource, ObjectReference, Service};
use crate::api::object::SERVICES;
use crate::api::time::{Time, EPOCH_UNIX};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::{Nanos, ObjRef};
use crate::store::EventType;

const NAME: &str = "service-controller";
pub const FINALIZER: &str = "service.kubernetes.io/load-balancer-cleanup";
/// How long the simulated cloud takes to provision a load balancer.
pub const CLOUD_DELAY: Nanos = 2_000_000_000;
/// The simulated cloud's address pool: 203.0.113.0/24 (TEST-NET-3), .1 to .254.
const POOL_BASE: u32 = u32::from_be_bytes([203, 0, 113, 0]);
const POOL_SIZE: u32 = 254;

pub struct ServiceController {
    who: Identity,
    services: BTreeMap<(String, String), Arc<Object>>,
    /// The simulated cloud's load balancers: service key → IP.
    cloud: BTreeMap<(String, String), u32>,
    /// Provisioning in flight: timer key → service key.
    pending: BTreeMap<u64, (String, String)>,
    next_key: u64,
    /// Services (by uid) whose load balancer was deleted and finalizer removed.
    cleaned: std::collections::BTreeSet<String>,
}

impl Default for ServiceController {
    fn default() -> Self {
        ServiceController {
            who: super::controller_identity(NAME, "service-controller"),
            services: BTreeMap::new(),
            cloud: BTreeMap::new(),
            pending: BTreeMap::new(),
            next_key: 1,
            cleaned: Default::default(),
        }
    }
}

/// `wantsLoadBalancer`: type LoadBalancer and the default class.
fn wants_lb(s: &Service) -> bool {
    s.spec.kind == "LoadBalancer" && s.spec.load_balancer_class.is_none()
}

fn has_finalizer(s: &Service) -> bool {
    s.metadata.finalizers.iter().any(|f| f == FINALIZER)
}

fn ip_text(ip: u32) -> String {
    crate::apiserver::format_ipv4(ip)
}

impl ServiceController {
    /// Records a core/v1 Event about a Service, as upstream's event recorder does.
    fn event(&mut self, ctx: &mut Ctx, svc: &Service, kind: &str, reason: &str, message: &str) {
        let now = ctx.now();
        let unix_nanos = (EPOCH_UNIX as u128) * 1_000_000_000 + u128::from(now);
        let t = Time::from_virtual_nanos(now);
        let mut e = Event::default();
        e.metadata.namespace = svc.metadata.namespace.clone();
        e.involved_object = ObjectReference {
            kind: "Service".into(),
            namespace: svc.metadata.namespace.clone(),
            name: svc.metadata.name.clone(),
            uid: svc.metadata.uid.clone(),
            api_version: "v1".into(),
            resource_version: svc.metadata.resource_version.clone(),
            field_path: String::new(),
        };
        e.reason = reason.into();
        e.message = message.into();
        e.kind = kind.into();
        e.source = EventSource {
            component: NAME.into(),
            host: String::new(),
        };
        e.first_timestamp = Some(t);
        e.last_timestamp = Some(t);
        e.count = 1;
        let who = self.who.clone();
        for bump in 0..8u128 {
            let mut ev = e.clone();
            ev.metadata.name = format!("{}.{:x}", svc.metadata.name, unix_nanos + bump);
            match ctx.client(&who).create(Object::from(ev)) {
                Err(err) if err.code() == 409 => continue,
                _ => return,
            }
        }
    }

    fn allocate(&self, svc: &Service) -> Option<u32> {
        let used: std::collections::BTreeSet<u32> = self.cloud.values().copied().collect();
        if let Some(want) = crate::apiserver::parse_ipv4(&svc.spec.load_balancer_ip) {
            if want > POOL_BASE && want <= POOL_BASE + POOL_SIZE && !used.contains(&want) {
                return Some(want);
            }
        }
        (1..=POOL_SIZE)
            .map(|i| POOL_BASE + i)
            .find(|ip| !used.contains(ip))
    }

    fn sync(&mut self, ctx: &mut Ctx, key: &(String, String)) {
        let Some(Object::Service(svc)) = self.services.get(key).map(|o| o.as_ref().clone()) else {
            return;
        };
        let (ns, name) = (key.0.as_str(), key.1.as_str());
        let who = self.who.clone();
        let cleanup =
            has_finalizer(&svc) && (svc.metadata.deletion_timestamp.is_some() || !wants_lb(&svc));
        if cleanup && !self.cleaned.insert(svc.metadata.uid.clone()) {
            // Already cleaned up; the events of our own writes are still arriving.
            return;
        }
        if cleanup {
            let why = if svc.metadata.deletion_timestamp.is_some() {
                "the service is being deleted"
            } else if svc.spec.kind != "LoadBalancer" {
                "the service is no longer of type LoadBalancer"
            } else {
                "the service names a loadBalancerClass another controller serves"
            };
            let released = self.cloud.remove(key);
            self.pending.retain(|_, k| k != key);
            ctx.note(
                NAME,
                format!("delete load balancer for {ns}/{name}"),
                format!(
                    "{why}; the cloud releases {}",
                    released.map(ip_text).unwrap_or_else(|| "nothing".into())
                ),
                vec![ObjRef::new("Service", ns, name, 0)],
            );
            self.event(
                ctx,
                &svc,
                "Normal",
                "DeletingLoadBalancer",
                "Deleting load balancer",
            );
            if !svc.status.load_balancer.ingress.is_empty() {
                let _ = ctx.client(&who).patch_status(
                    &SERVICES,
                    ns,
                    name,
                    "application/merge-patch+json",
                    json!({"status": {"loadBalancer": {"ingress": null}}}),
                );
            }
            let rest: Vec<&String> = svc
                .metadata
                .finalizers
                .iter()
                .filter(|f| *f != FINALIZER)
                .collect();
            let _ = ctx.client(&who).patch(
                &SERVICES,
                ns,
                name,
                "application/merge-patch+json",
                json!({"metadata": {"finalizers": rest}}),
            );
            self.event(
                ctx,
                &svc,
                "Normal",
                "DeletedLoadBalancer",
                "Deleted load balancer",
            );
            return;
        }
        if !wants_lb(&svc) || svc.metadata.deletion_timestamp.is_some() {
            return;
        }
        let provisioned = self.cloud.get(key).copied();
        let in_flight = self.pending.values().any(|k| k == key);
        let has_status = provisioned.is_some_and(|ip| {
            svc.status
                .load_balancer
                .ingress
                .iter()
                .any(|i| i.ip == ip_text(ip))
        });
        if has_status && has_finalizer(&svc) {
            return;
        }
        if in_flight {
            return;
        }
        self.cleaned.remove(&svc.metadata.uid);
        ctx.note(
            NAME,
            format!("ensure load balancer for {ns}/{name}"),
            "a Service of type LoadBalancer (default class) has no load balancer in its status; the simulated cloud provisions one",
            vec![ObjRef::new("Service", ns, name, 0)],
        );
        self.event(
            ctx,
            &svc,
            "Normal",
            "EnsuringLoadBalancer",
            "Ensuring load balancer",
        );
        if !has_finalizer(&svc) {
            let mut finalizers = svc.metadata.finalizers.clone();
            finalizers.push(FINALIZER.into());
            let _ = ctx.client(&who).patch(
                &SERVICES,
                ns,
                name,
                "application/merge-patch+json",
                json!({"metadata": {"finalizers": finalizers}}),
            );
        }
        let k = self.next_key;
        self.next_key += 1;
        self.pending.insert(k, key.clone());
        ctx.after(CLOUD_DELAY, k);
    }

    /// The cloud has provisioned: an IP from the pool, written to the status.
    fn provisioned(&mut self, ctx: &mut Ctx, key: &(String, String)) {
        let Some(Object::Service(svc)) = self.services.get(key).map(|o| o.as_ref().clone()) else {
            return;
        };
        if !wants_lb(&svc) || svc.metadata.deletion_timestamp.is_some() {
            return;
        }
        let (ns, name) = (key.0.as_str(), key.1.as_str());
        let ip = match self.cloud.get(key) {
            Some(ip) => *ip,
            None => match self.allocate(&svc) {
                Some(ip) => ip,
                None => {
                    ctx.note(
                        NAME,
                        format!("ensure load balancer for {ns}/{name}"),
                        "the simulated cloud's pool 203.0.113.0/24 is exhausted",
                        vec![ObjRef::new("Service", ns, name, 0)],
                    );
                    self.event(
                        ctx,
                        &svc,
                        "Warning",
                        "SyncLoadBalancerFailed",
                        "Error syncing load balancer: failed to ensure load balancer: no free address in 203.0.113.0/24",
                    );
                    return;
                }
            },
        };
        self.cloud.insert(key.clone(), ip);
        let text = ip_text(ip);
        ctx.note(
            NAME,
            format!("load balancer for {ns}/{name} is ready"),
            format!("the simulated cloud assigned {text} (next free address of 203.0.113.0/24) after {}s", CLOUD_DELAY / 1_000_000_000),
            vec![ObjRef::new("Service", ns, name, 0)],
        );
        let who = self.who.clone();
        let _ = ctx.client(&who).patch_status(
            &SERVICES,
            ns,
            name,
            "application/merge-patch+json",
            json!({"status": {"loadBalancer": {"ingress": [{"ip": text, "ipMode": "VIP"}]}}}),
        );
        self.event(
            ctx,
            &svc,
            "Normal",
            "EnsuredLoadBalancer",
            "Ensured load balancer",
        );
    }
}

impl Component for ServiceController {
    fn name(&self) -> String {
        NAME.into()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        vec![WatchSpec::new(&SERVICES, NAME)]
    }

    fn on_event(&mut self, ctx: &mut Ctx, _watch: usize, kind: EventType, obj: &Arc<Object>) {
        let Object::Service(svc) = obj.as_ref() else {
            return;
        };
        let key = (svc.metadata.namespace.clone(), svc.metadata.name.clone());
        if kind == EventType::Deleted {
            self.services.remove(&key);
            self.cleaned.remove(&svc.metadata.uid);
            if let Some(ip) = self.cloud.remove(&key) {
                ctx.note(
                    NAME,
                    format!("release {} of {}/{}", ip_text(ip), key.0, key.1),
                    "the service is gone",
                    vec![ObjRef::new("Service", &key.0, &key.1, 0)],
                );
            }
            self.pending.retain(|_, k| *k != key);
            return;
        }
        let rv = |o: &Object| o.meta().resource_version.parse::<u64>().unwrap_or(0);
        if self.services.get(&key).is_some_and(|o| rv(o) > rv(obj)) {
            // Older than what this controller already wrote and holds.
            return;
        }
        let old_type = self.services.get(&key).and_then(|o| match o.as_ref() {
            Object::Service(s) => Some(s.spec.kind.clone()),
            _ => None,
        });
        self.services.insert(key.clone(), obj.clone());
        if let Some(old) = old_type {
            if old != svc.spec.kind && (old == "LoadBalancer" || svc.spec.kind == "LoadBalancer") {
                let svc = svc.clone();
                self.event(
                    ctx,
                    &svc,
                    "Normal",
                    "Type",
                    &format!("{old} -> {}", svc.spec.kind),
                );
            }
        }
        if wants_lb(svc) || has_finalizer(svc) {
            self.sync(ctx, &key);
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, key: u64) {
        if let Some(svc) = self.pending.remove(&key) {
            self.provisioned(ctx, &svc);
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
