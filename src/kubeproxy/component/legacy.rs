//! The component's side of the legacy userspace mode (`proxyMode: userspace`): the
//! same watches (v1 Endpoints instead of EndpointSlices, as that mode read them), the
//! same timing (no sync before the node's IP is known, `minSyncPeriod` apart), and
//! the [`UserspaceProxier`]'s `iptables` calls run against the node's engine, each
//! sync and each proxy port opened or closed leaving a trace note labelled legacy.

use std::net::Ipv4Addr;
use std::sync::Arc;

use crate::api::Object;
use crate::component::Ctx;
use crate::kernel::rng::Rng;
use crate::kernel::Nanos;
use crate::kubeproxy::userspace::{apply, UserspaceHop, UserspaceProxier};
use crate::store::EventType;

use super::KubeProxy;

impl KubeProxy {
    /// The userspace proxier (None in iptables mode and before the node's IP is known).
    pub fn userspace(&self) -> Option<&UserspaceProxier> {
        self.userspace.as_ref()
    }

    /// For the packet tracer: what kube-proxy does with a new connection accepted on
    /// `proxy_port` from `client` (the service port, the endpoint it connects to and
    /// why), changing nothing. None when no service port listens there.
    pub fn userspace_backend(
        &self,
        proxy_port: u16,
        client: Ipv4Addr,
        now: Nanos,
    ) -> Option<UserspaceHop> {
        self.userspace.as_ref()?.backend(proxy_port, client, now)
    }

    /// The same for a live connection: the round robin moves on and the client's
    /// ClientIP affinity is refreshed.
    pub fn userspace_connect(
        &mut self,
        proxy_port: u16,
        client: Ipv4Addr,
        now: Nanos,
    ) -> Option<UserspaceHop> {
        self.userspace.as_mut()?.connect(proxy_port, client, now)
    }

    pub(super) fn on_event_userspace(
        &mut self,
        ctx: &mut Ctx,
        watch: usize,
        kind: EventType,
        obj: &Arc<Object>,
    ) {
        match (watch, obj.as_ref()) {
            (0 | 1, _) => {
                if self.userspace.is_none() {
                    let m = obj.meta();
                    let key = (watch as u8, m.namespace.clone(), m.name.clone());
                    let value = (kind != EventType::Deleted).then(|| obj.clone());
                    self.early.insert(key, value);
                    return;
                }
                if self.feed_userspace(ctx, kind, obj, true) {
                    self.request_sync_userspace(ctx);
                }
            }
            (2, Object::Node(n)) if kind != EventType::Deleted && self.userspace.is_none() => {
                let Some(addr) = n
                    .status
                    .addresses
                    .iter()
                    .find(|a| a.kind == "InternalIP")
                    .map(|a| a.address.clone())
                else {
                    return;
                };
                let Ok(ip) = addr.parse::<Ipv4Addr>() else {
                    self.note(
                        ctx,
                        format!("legacy userspace mode: cannot proxy on node IP {addr}"),
                        "the userspace proxier is simulated for IPv4 only",
                    );
                    return;
                };
                // Its own stream: proxy ports and endpoint shuffles do not disturb
                // the main one, and the same scenario gives the same ports.
                let rng = Rng::derive(ctx.k.seed, &format!("{} userspace", self.actor));
                self.userspace = Some(UserspaceProxier::new(ip, rng));
                for ((_, _, _), o) in std::mem::take(&mut self.early) {
                    if let Some(o) = o {
                        self.feed_userspace(ctx, EventType::Added, &o, false);
                    }
                }
                self.note(
                    ctx,
                    format!("start kube-proxy in userspace mode (legacy) on node IP {ip}"),
                    "proxyMode: userspace, the mode of the seed's era (removed in v1.26): kube-proxy proxies each Service port itself on a local port, and iptables only redirects Service traffic to it",
                );
                self.request_sync_userspace(ctx);
            }
            _ => {}
        }
    }

    /// One Service or Endpoints event to the userspace proxier; true when a sync is
    /// wanted (Endpoints go straight to the load balancer, as upstream's did).
    pub(super) fn feed_userspace(
        &mut self,
        ctx: &mut Ctx,
        kind: EventType,
        obj: &Arc<Object>,
        notes: bool,
    ) -> bool {
        let Some(p) = self.userspace.as_mut() else {
            return false;
        };
        let changed = match (kind, obj.as_ref()) {
            (EventType::Deleted, Object::Service(s)) => {
                return p.on_service_delete(&s.metadata.namespace, &s.metadata.name)
            }
            (_, Object::Service(s)) => return p.on_service_update(s),
            (EventType::Deleted, Object::Endpoints(e)) => {
                p.on_endpoints_delete(&e.metadata.namespace, &e.metadata.name)
            }
            (_, Object::Endpoints(e)) => p.on_endpoints_update(e),
            _ => return false,
        };
        if notes && !changed.is_empty() {
            let lines: Vec<String> = changed
                .iter()
                .map(|name| {
                    let eps =
                        p.lb.services
                            .get(name)
                            .map(|s| s.endpoints.join(", "))
                            .unwrap_or_default();
                    format!("{name}: [{eps}]")
                })
                .collect();
            self.note(
                ctx,
                format!(
                    "legacy userspace mode: load balancer endpoints set, round robin restarts: {}",
                    lines.join("; ")
                ),
                "the Endpoints object changed; kube-proxy balances connections itself (endpoints shuffled, then taken in turn), so no iptables rule changes",
            );
        }
        false
    }

    /// Asks for a userspace sync, no sooner than minSyncPeriod after the last one.
    fn request_sync_userspace(&mut self, ctx: &mut Ctx) {
        self.us.dirty = true;
        if self.us.pending || self.userspace.is_none() {
            return;
        }
        let now = ctx.now();
        let at = self
            .us
            .last_sync
            .map_or(now, |t| (t + super::MIN_SYNC_PERIOD).max(now));
        self.us.pending = true;
        ctx.after(at - now, super::KEY_USERSPACE_SYNC);
    }

    pub(super) fn sync_userspace(&mut self, ctx: &mut Ctx) {
        self.us.pending = false;
        if !self.us.dirty {
            return;
        }
        let Some(p) = self.userspace.as_mut() else {
            return;
        };
        self.us.dirty = false;
        let now = ctx.now();
        self.us.last_sync = Some(now);
        let r = p.sync(now);
        let host = p.host_ip;
        let Some(nf) = ctx.netfilter(&self.node) else {
            return;
        };
        let applied = apply(nf, &r.ops);
        for c in &r.closed {
            self.note(
                ctx,
                format!("legacy userspace mode: close the proxy port of {c}"),
                "the service port was deleted or its configuration changed: its portal rules are deleted and the port released",
            );
        }
        for o in &r.opened {
            self.note(
                ctx,
                format!("legacy userspace mode: proxy {o}"),
                format!(
                    "a new or changed service port: kube-proxy listens on a port the kernel picks (bind to port 0; --proxy-port-range is empty) and iptables sends the portal's traffic there: REDIRECT from containers (KUBE-PORTALS-CONTAINER), DNAT to {host} at that port from the node itself (KUBE-PORTALS-HOST)"
                ),
            );
        }
        for e in r.errors.iter().chain(&applied.errors) {
            self.note(
                ctx,
                format!("legacy userspace mode: {e}"),
                "upstream logs the failure and tries again at the next sync",
            );
        }
        self.note(
            ctx,
            format!(
                "legacy userspace mode: iptables rules ensured, {} added, {} deleted, {} chain(s) created; {} service port(s) proxied",
                applied.rules_added,
                applied.rules_deleted,
                applied.chains_created,
                r.service_ports
            ),
            "Services changed; in userspace mode kube-proxy ensures its chains, its jumps and every portal rule one iptables call at a time (EnsureRule), as syncProxyRules did until the mode was removed in v1.26",
        );
    }
}
