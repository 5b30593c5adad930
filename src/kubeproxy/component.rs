//! kube-proxy as a running component: one per node with a simulated kubelet. It
//! watches Services and EndpointSlices through the API server (with upstream's
//! informer label selector `!service.kubernetes.io/service-proxy-name,
//! !service.kubernetes.io/headless`) and its own Node, feeds them to the
//! [`Proxier`], and loads each sync's `iptables-restore` text into the node's
//! iptables engine (`--noflush`, as kube-proxy runs it), installing its jumps from
//! the built-in chains on the first full sync.
//!
//! Timing, as v1.31's iptables mode: no sync before the node's IP is known (upstream
//! reads it from the Node at start); a change syncs after `minSyncPeriod` (1s) since
//! the last sync, at once if that has passed (the BoundedFrequencyRunner).
//!
//! Simplified, and said so: the node's iptables engine lives in this component until
//! the node's network namespaces are modelled (so a stopped node still answers
//! `iptables-save`); the periodic 30s resync is not run (nothing but a person's
//! `iptables-restore` changes the rules behind kube-proxy's back, and upstream's
//! resync would then rewrite only kube-proxy's own chains: run `iptables-restore`
//! after a change to see the result); no conntrack clean-up of stale UDP flows.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::api::labels::Selector;
use crate::api::object::{ENDPOINTSLICES, NODES, SERVICES};
use crate::api::Object;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::trace::Text;
use crate::kernel::{Nanos, ObjRef, NANOS_PER_SEC};
use crate::network::netfilter::{Netfilter, RestoreOptions};
use crate::store::EventType;

use super::iptables::{Proxier, ProxierConfig};

/// The legacy userspace mode's side of the component.
mod legacy;

/// `--iptables-min-sync-period`'s default.
pub const MIN_SYNC_PERIOD: Nanos = NANOS_PER_SEC;

/// The label selector of kube-proxy's Service and EndpointSlice informers.
const INFORMER_SELECTOR: &str =
    "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless";

const TIMER_SYNC: u64 = 1;

/// One node's kube-proxy (iptables mode).
pub struct KubeProxy {
    node: String,
    actor: Arc<str>,
    cluster_cidr: String,
    /// Created once the node's InternalIP is known.
    proxier: Option<Proxier>,
    /// What arrived before the proxier existed, replayed into it.
    early: BTreeMap<(u8, String, String), Option<Arc<Object>>>,
    netfilter: Netfilter,
    jumps_installed: bool,
    last_sync: Option<Nanos>,
    sync_pending: bool,
    dirty: bool,
    /// `proxyMode: userspace` (legacy): the userspace proxier, once the node's IP is known.
    userspace_mode: bool,
    userspace: Option<super::userspace::UserspaceProxier>,
}

impl KubeProxy {
    /// `proxy_mode` is `spec.cluster.network.proxyMode`: `iptables` or `userspace`.
    pub fn new(node: &str, cluster_cidr: &str, proxy_mode: &str) -> KubeProxy {
        let actor: Arc<str> = format!("kube-proxy/{node}").into();
        KubeProxy {
            node: node.into(),
            actor,
            cluster_cidr: cluster_cidr.into(),
            proxier: None,
            early: BTreeMap::new(),
            netfilter: Netfilter::new(),
            jumps_installed: false,
            last_sync: None,
            sync_pending: false,
            dirty: false,
            userspace_mode: proxy_mode == "userspace",
            userspace: None,
        }
    }

    pub fn node_name(&self) -> &str {
        &self.node
    }

    /// The node's iptables engine.
    pub fn netfilter(&self) -> &Netfilter {
        &self.netfilter
    }

    /// The node's iptables engine, for a person's `iptables-restore`.
    pub fn netfilter_mut(&mut self) -> &mut Netfilter {
        &mut self.netfilter
    }

    fn note(&self, ctx: &mut Ctx, action: impl Into<Text>, reason: impl Into<Text>) {
        let objects = vec![ObjRef::new("Node", "", &self.node, 0)];
        ctx.note_by(Text::Shared(self.actor.clone()), action, reason, objects);
    }

    /// Feeds one watch event to the proxier (or keeps it until there is one).
    fn feed(&mut self, watch: u8, kind: EventType, obj: &Arc<Object>) -> bool {
        let Some(p) = self.proxier.as_mut() else {
            let m = obj.meta();
            let key = (watch, m.namespace.clone(), m.name.clone());
            let value = (kind != EventType::Deleted).then(|| obj.clone());
            self.early.insert(key, value);
            return false;
        };
        match (kind, obj.as_ref()) {
            (EventType::Deleted, Object::Service(s)) => {
                p.on_service_delete(&s.metadata.namespace, &s.metadata.name)
            }
            (_, Object::Service(s)) => p.on_service_update(s),
            (EventType::Deleted, Object::EndpointSlice(s)) => p.on_endpoint_slice_delete(s),
            (_, Object::EndpointSlice(s)) => p.on_endpoint_slice_update(s),
            _ => false,
        }
    }

    /// Asks for a sync, no sooner than `minSyncPeriod` after the last one.
    fn request_sync(&mut self, ctx: &mut Ctx) {
        self.dirty = true;
        if self.sync_pending || (self.proxier.is_none() && self.userspace.is_none()) {
            return;
        }
        let now = ctx.now();
        let at = self
            .last_sync
            .map_or(now, |t| (t + MIN_SYNC_PERIOD).max(now));
        self.sync_pending = true;
        ctx.after(at - now, TIMER_SYNC);
    }

    fn sync(&mut self, ctx: &mut Ctx) {
        if self.userspace_mode {
            return self.sync_userspace(ctx);
        }
        self.sync_pending = false;
        if !self.dirty {
            return;
        }
        let Some(p) = self.proxier.as_mut() else {
            return;
        };
        self.dirty = false;
        let now = ctx.now();
        self.last_sync = Some(now);
        let r = p.sync(now);
        let jumps = if !self.jumps_installed && r.full_sync {
            p.jump_rules()
        } else {
            Vec::new()
        };
        let loaded = self.netfilter.restore(
            &r.restore,
            RestoreOptions {
                noflush: true,
                counters: false,
            },
        );
        let what = if r.full_sync { "full" } else { "partial" };
        match loaded {
            Ok(_) => {
                for j in &jumps {
                    let line = format!("-t {} -I {} {}", j.table, j.chain, j.args);
                    let _ = self.netfilter.command(&line);
                }
                if !jumps.is_empty() {
                    self.jumps_installed = true;
                }
                self.note(
                    ctx,
                    format!(
                        "iptables-restore --noflush: {what} sync, {} filter and {} nat rules written ({} nat rules in all), {} service port(s) rewritten{}",
                        r.filter_rules,
                        r.nat_rules,
                        r.nat_rules_total,
                        r.service_ports_written,
                        if jumps.is_empty() {
                            String::new()
                        } else {
                            format!(", {} jumps from the built-in chains", jumps.len())
                        }
                    ),
                    format!(
                        "Services or EndpointSlices changed; the rules must send each of the {} Service(s)' traffic to its ready endpoints",
                        r.services
                    ),
                );
            }
            Err(e) => {
                // Upstream logs the failure and forces a full sync next time.
                p.force_full_sync();
                self.dirty = true;
                let text = e.text();
                self.note(
                    ctx,
                    "iptables-restore failed",
                    format!("the node refused kube-proxy's rules: {text}"),
                );
            }
        }
    }
}

impl Component for KubeProxy {
    fn name(&self) -> String {
        self.actor.to_string()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        let selector =
            Selector::parse(INFORMER_SELECTOR).unwrap_or_else(|_| Selector::everything());
        let mut svc = WatchSpec::new(&SERVICES, self.actor.to_string());
        svc.labels = selector.clone();
        // The userspace mode read v1 Endpoints to its end.
        let eps_kind = if self.userspace_mode {
            &crate::api::object::ENDPOINTS
        } else {
            &ENDPOINTSLICES
        };
        let mut eps = WatchSpec::new(eps_kind, self.actor.to_string());
        eps.labels = selector;
        let mut node = WatchSpec::new(&NODES, self.actor.to_string());
        node.fields =
            crate::api::fields::FieldSelector::parse(&format!("metadata.name={}", self.node))
                .unwrap_or_default();
        vec![svc, eps, node]
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>) {
        if self.userspace_mode {
            return self.on_event_userspace(ctx, watch, kind, obj);
        }
        match (watch, obj.as_ref()) {
            (0 | 1, _) if self.feed(watch as u8, kind, obj) => self.request_sync(ctx),
            (2, Object::Node(n)) if kind != EventType::Deleted => {
                if self.proxier.is_none() {
                    let Some(ip) = n
                        .status
                        .addresses
                        .iter()
                        .find(|a| a.kind == "InternalIP")
                        .map(|a| a.address.clone())
                    else {
                        return;
                    };
                    let mut p = Proxier::new(ProxierConfig::node(
                        &self.node,
                        Some(&ip),
                        &self.cluster_cidr,
                    ));
                    p.on_node_labels(&n.metadata.labels);
                    for ((w, _, _), o) in std::mem::take(&mut self.early) {
                        match (w, o.as_deref()) {
                            (0, Some(Object::Service(s))) => {
                                p.on_service_update(s);
                            }
                            (1, Some(Object::EndpointSlice(s))) => {
                                p.on_endpoint_slice_update(s);
                            }
                            _ => {}
                        }
                    }
                    self.proxier = Some(p);
                    self.note(
                        ctx,
                        format!("start kube-proxy in iptables mode on node IP {ip}"),
                        "the Node object gives this node's InternalIP, which NodePort rules need",
                    );
                    self.request_sync(ctx);
                } else if let Some(p) = self.proxier.as_mut() {
                    if p.on_node_labels(&n.metadata.labels) {
                        self.request_sync(ctx);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, key: u64) {
        if key == TIMER_SYNC {
            self.sync(ctx);
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
