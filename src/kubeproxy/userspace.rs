//! kube-proxy's legacy userspace mode (pkg/proxy/userspace, the mode the seed
//! describes; deprecated in v1.23 and removed in v1.26), selected with
//! `spec.cluster.network.proxyMode: userspace` and labelled legacy.
//!
//! kube-proxy itself is the proxy here: for every service port it opens a socket
//! (the *proxy port*), and iptables only sends the Service's traffic to that socket.
//! A connection accepted there is passed on to an endpoint chosen by the round-robin
//! load balancer, over a new connection kube-proxy opens. The rules, as upstream's
//! last version (v1.25) writes them with `iptables` calls, `EnsureRule` by `EnsureRule`:
//!
//! - nat `KUBE-PORTALS-CONTAINER` (from PREROUTING, first): per portal (ClusterIP,
//!   LoadBalancer ingress IP, external IP) and port, `-j REDIRECT --to-ports PROXY`:
//!   a packet from a container goes to the node's address on the bridge it came in
//!   by, at the proxy port (`--bind-address` is 0.0.0.0);
//! - nat `KUBE-PORTALS-HOST` (from OUTPUT, first): the same portals for the node's
//!   own processes, `-j DNAT --to-destination NODEIP:PROXY` (REDIRECT would send them
//!   to 127.0.0.1, whose replies come from the wrong address: upstream's comment);
//! - nat `KUBE-NODEPORT-CONTAINER` and `KUBE-NODEPORT-HOST` (from PREROUTING and
//!   OUTPUT, last, for `--dst-type LOCAL`): the node ports, REDIRECT and DNAT;
//! - filter `KUBE-NODEPORT-NON-LOCAL` (from INPUT, first): new connections to the
//!   proxy port are accepted, for default-deny firewalls.
//!
//! Every rule carries the service port's name (`default/web:http`) as its comment;
//! the jumps carry upstream's comments. The chains are flushed when kube-proxy starts
//! (the bound ports of a previous run are gone); a sync then ensures the jumps and
//! every portal, and a service port whose configuration changed is closed (its rules
//! deleted, its port released) and opened again on a new port.
//!
//! **Proxy ports.** `--proxy-port-range` is empty by default, so upstream's port
//! allocator hands out port 0 and the kernel picks the port when the socket binds:
//! Linux's `inet_csk_find_open_port` for a socket with SO_REUSEADDR (Go's listeners
//! set it): an odd port in the lower half of `ip_local_port_range` (32768–60999),
//! from a random offset, stepping by two; then the even ports; then the upper half.
//! The random offsets come from a stream derived from the scenario's seed and the
//! node's name (`Rng::derive`), so the main stream is not disturbed and the same
//! scenario gives the same ports.
//!
//! **Load balancing** (roundrobin.go): endpoints per service port from the v1
//! Endpoints object (this mode never read EndpointSlices), ready addresses only,
//! shuffled when they change (`ShuffleStrings`, with the same derived stream), then
//! taken in turn; with `sessionAffinity: ClientIP` a client's endpoint is kept until
//! it has been unused for the timeout (`timeoutSeconds`, 10800 by default), and
//! affinities of removed endpoints are dropped.
//!
//! Simplified, and said so: Go's map orders are replaced by name order (changes
//! processed by namespace/name, portals ensured by service port name, port names of
//! an Endpoints object in name order); TCP and UDP proxy ports come from one set
//! (so a port number names one socket; the kernel keeps two spaces) and UDP uses the
//! TCP rule above; the rule that catches external-IP traffic arriving from outside the
//! bridge (`-m physdev ! --physdev-is-in`) is not written (the engine has no physdev
//! match), the two other external-IP rules are; only IPv4; no UDP client cache, dial
//! timeouts or retries (a connection never fails to reach its endpoint here); the
//! socket held open on each node port is recorded, not opened.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::Ipv4Addr;

use serde::Serialize;

use crate::api::core::{Endpoints, Service};
use crate::kernel::rng::Rng;
use crate::kernel::{Nanos, NANOS_PER_SEC};
use crate::network::netfilter::save::rule_text;
use crate::network::netfilter::{Netfilter, TableName};

pub const KUBE_PORTALS_CONTAINER: &str = "KUBE-PORTALS-CONTAINER";
pub const KUBE_PORTALS_HOST: &str = "KUBE-PORTALS-HOST";
pub const KUBE_NODEPORT_CONTAINER: &str = "KUBE-NODEPORT-CONTAINER";
pub const KUBE_NODEPORT_HOST: &str = "KUBE-NODEPORT-HOST";
pub const KUBE_NODEPORT_NON_LOCAL: &str = "KUBE-NODEPORT-NON-LOCAL";

/// The comments of the jumps from the built-in chains (iptablesInit).
pub const COMMENT_PORTALS: &str = "handle ClusterIPs; NOTE: this must be before the NodePort rules";
pub const COMMENT_NODEPORTS: &str =
    "handle service NodePorts; NOTE: this must be the last rule in the chain";
pub const COMMENT_NON_LOCAL: &str = "Ensure that non-local NodePort traffic can flow";

/// Linux's default `net.ipv4.ip_local_port_range`.
pub const LOCAL_PORT_RANGE: (u16, u16) = (32768, 60999);
/// `v1.DefaultClientIPServiceAffinitySeconds`.
pub const DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS: u32 = 10800;

/// `proxy.ServicePortName`: printed `namespace/name:port`, or `namespace/name` for an
/// unnamed port.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServicePortName {
    pub namespace: String,
    pub name: String,
    pub port: String,
}

impl ServicePortName {
    pub fn new(namespace: &str, name: &str, port: &str) -> ServicePortName {
        ServicePortName {
            namespace: namespace.into(),
            name: name.into(),
            port: port.into(),
        }
    }
}

impl fmt::Display for ServicePortName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)?;
        if !self.port.is_empty() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- rules

/// One rule, its arguments written in iptables-save's order and normal form, so
/// that `EnsureRule` can find it in the chain by its saved text (as upstream falls
/// back to reading `iptables-save` on iptables without `-C`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSpec {
    pub table: TableName,
    pub chain: &'static str,
    pub args: String,
}

impl RuleSpec {
    /// The rule as `iptables-save` prints it.
    pub fn save_text(&self) -> String {
        format!("-A {} {}", self.chain, self.args)
    }
}

/// One `iptables` call of a sync, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IptOp {
    /// `EnsureChain`: `-N` unless it exists.
    EnsureChain(TableName, &'static str),
    /// `FlushChain`: `-F`.
    FlushChain(TableName, &'static str),
    /// `EnsureRule(Append|Prepend, ...)`: `-A` (or `-I CHAIN 1`) unless present.
    EnsureRule { rule: RuleSpec, prepend: bool },
    /// `DeleteRule`: `-D` with the rule's specification.
    DeleteRule(RuleSpec),
}

/// What the proxier's calls did to the node's tables.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub chains_created: usize,
    pub rules_added: usize,
    pub rules_deleted: usize,
    /// Calls that failed, in iptables' words.
    pub errors: Vec<String>,
}

/// Runs a sync's calls against the node's iptables engine, as kube-proxy's
/// `iptables` invocations would (the proxier itself touches no tables).
pub fn apply(nf: &mut Netfilter, ops: &[IptOp]) -> Applied {
    let mut out = Applied::default();
    // The saved text of each chain's rules, read once per chain and kept up to date
    // (every sync ensures every rule again).
    let mut known: BTreeMap<(TableName, &str), BTreeSet<String>> = BTreeMap::new();
    for op in ops {
        let r = match op {
            IptOp::EnsureChain(t, c) => {
                if nf.rules.chain(*t, c).is_some() {
                    continue;
                }
                out.chains_created += 1;
                nf.command(&format!("-t {t} -N {c}"))
            }
            IptOp::FlushChain(t, c) => {
                known.remove(&(*t, *c));
                nf.command(&format!("-t {t} -F {c}"))
            }
            IptOp::EnsureRule { rule, prepend } => {
                let want = rule.save_text();
                let texts = known.entry((rule.table, rule.chain)).or_insert_with(|| {
                    nf.rules
                        .chain(rule.table, rule.chain)
                        .map(|c| c.rules.iter().map(|r| rule_text(rule.chain, r)).collect())
                        .unwrap_or_default()
                });
                if texts.contains(&want) {
                    continue;
                }
                let how = if *prepend { "-I" } else { "-A" };
                let at = if *prepend { " 1" } else { "" };
                let r = nf.command(&format!(
                    "-t {} {how} {}{at} {}",
                    rule.table, rule.chain, rule.args
                ));
                if r.is_ok() {
                    out.rules_added += 1;
                    texts.insert(want);
                }
                r
            }
            IptOp::DeleteRule(rule) => {
                known.remove(&(rule.table, rule.chain));
                let r = nf.command(&format!(
                    "-t {} -D {} {}",
                    rule.table, rule.chain, rule.args
                ));
                if r.is_ok() {
                    out.rules_deleted += 1;
                }
                r
            }
        };
        if let Err(e) = r {
            out.errors.push(e.text());
        }
    }
    out
}

/// xtables' quoting of a string option (bare if only `[A-Za-z0-9_-]`).
fn quoted(v: &str) -> String {
    if !v.is_empty()
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
    {
        return v.to_string();
    }
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for ch in v.chars() {
        if matches!(ch, '"' | '\\' | '\'') {
            s.push('\\');
        }
        s.push(ch);
    }
    s.push('"');
    s
}

/// The jumps from the built-in chains and the chains themselves (iptablesInit).
fn init_ops() -> Vec<IptOp> {
    let portals = format!("-m comment --comment {}", quoted(COMMENT_PORTALS));
    let nodeports = format!(
        "-m addrtype --dst-type LOCAL -m comment --comment {}",
        quoted(COMMENT_NODEPORTS)
    );
    let rule = |table, chain, args: String| RuleSpec { table, chain, args };
    vec![
        IptOp::EnsureChain(TableName::Nat, KUBE_PORTALS_CONTAINER),
        IptOp::EnsureRule {
            rule: rule(
                TableName::Nat,
                "PREROUTING",
                format!("{portals} -j {KUBE_PORTALS_CONTAINER}"),
            ),
            prepend: true,
        },
        IptOp::EnsureChain(TableName::Nat, KUBE_PORTALS_HOST),
        IptOp::EnsureRule {
            rule: rule(
                TableName::Nat,
                "OUTPUT",
                format!("{portals} -j {KUBE_PORTALS_HOST}"),
            ),
            prepend: true,
        },
        IptOp::EnsureChain(TableName::Nat, KUBE_NODEPORT_CONTAINER),
        IptOp::EnsureRule {
            rule: rule(
                TableName::Nat,
                "PREROUTING",
                format!("{nodeports} -j {KUBE_NODEPORT_CONTAINER}"),
            ),
            prepend: false,
        },
        IptOp::EnsureChain(TableName::Nat, KUBE_NODEPORT_HOST),
        IptOp::EnsureRule {
            rule: rule(
                TableName::Nat,
                "OUTPUT",
                format!("{nodeports} -j {KUBE_NODEPORT_HOST}"),
            ),
            prepend: false,
        },
        IptOp::EnsureChain(TableName::Filter, KUBE_NODEPORT_NON_LOCAL),
        IptOp::EnsureRule {
            rule: rule(
                TableName::Filter,
                "INPUT",
                format!(
                    "-m comment --comment {} -j {KUBE_NODEPORT_NON_LOCAL}",
                    quoted(COMMENT_NON_LOCAL)
                ),
            ),
            prepend: true,
        },
    ]
}

/// iptablesFlush: the chains emptied when kube-proxy starts.
fn flush_ops() -> Vec<IptOp> {
    vec![
        IptOp::FlushChain(TableName::Nat, KUBE_PORTALS_CONTAINER),
        IptOp::FlushChain(TableName::Nat, KUBE_PORTALS_HOST),
        IptOp::FlushChain(TableName::Nat, KUBE_NODEPORT_CONTAINER),
        IptOp::FlushChain(TableName::Nat, KUBE_NODEPORT_HOST),
        IptOp::FlushChain(TableName::Filter, KUBE_NODEPORT_NON_LOCAL),
    ]
}

/// iptablesCommonPortalArgs, in save order: `-d` and `-p` first, then the comment,
/// the protocol's port match, and the addrtype match for external IPs.
fn common_args(
    dest: Option<Ipv4Addr>,
    dst_local: bool,
    port: u16,
    proto: &str,
    name: &ServicePortName,
) -> String {
    let mut s = String::with_capacity(128);
    if let Some(ip) = dest {
        s.push_str(&format!("-d {ip}/32 "));
    }
    s.push_str(&format!(
        "-p {proto} -m comment --comment {} -m {proto} --dport {port}",
        quoted(&name.to_string())
    ));
    if dst_local {
        s.push_str(" -m addrtype --dst-type LOCAL");
    }
    s
}

// ---------------------------------------------------------------- proxy ports

/// The proxy ports in use on the node, and the kernel's choice for a new one.
#[derive(Clone, Debug, Default)]
pub struct ProxyPorts {
    used: BTreeSet<u16>,
}

impl ProxyPorts {
    /// The port `bind(0)` gets for a socket with SO_REUSEADDR
    /// (`inet_csk_find_open_port`); None when every local port is taken.
    pub fn allocate(&mut self, rng: &mut Rng) -> Option<u16> {
        let (low, high) = (
            u32::from(LOCAL_PORT_RANGE.0),
            u32::from(LOCAL_PORT_RANGE.1) + 1,
        );
        let half = low + (((high - low) >> 2) << 1);
        for (lo, hi) in [(low, half), (half, high)] {
            let remaining = (hi - lo) & !1;
            if remaining == 0 {
                continue;
            }
            // "__inet_hash_connect() favors ports having @low parity; we do the
            // opposite to not pollute connect() users."
            let mut offset = rng.below(u64::from(remaining)) as u32 | 1;
            for _parity in 0..2 {
                let mut port = lo + offset;
                let mut i = 0;
                while i < remaining {
                    if port >= hi {
                        port -= remaining;
                    }
                    let p = port as u16;
                    if !self.used.contains(&p) {
                        self.used.insert(p);
                        return Some(p);
                    }
                    i += 2;
                    port += 2;
                }
                offset -= 1;
            }
        }
        None
    }

    pub fn release(&mut self, port: u16) {
        self.used.remove(&port);
    }

    pub fn in_use(&self) -> impl Iterator<Item = u16> + '_ {
        self.used.iter().copied()
    }
}

// ---------------------------------------------------------------- load balancer

/// A client's remembered endpoint (affinityState).
#[derive(Clone, Debug, PartialEq)]
pub struct AffinityState {
    pub endpoint: String,
    pub last_used: Nanos,
}

/// affinityPolicy: the affinity type, the clients' endpoints, the timeout.
#[derive(Clone, Debug, PartialEq)]
pub struct AffinityPolicy {
    pub affinity_type: String,
    pub clients: BTreeMap<Ipv4Addr, AffinityState>,
    pub ttl_seconds: u32,
}

/// balancerState: one service port's endpoints (`ip:port`, shuffled) and the next
/// one's index.
#[derive(Clone, Debug, PartialEq)]
pub struct BalancerState {
    pub endpoints: Vec<String>,
    pub index: usize,
    pub affinity: AffinityPolicy,
}

impl BalancerState {
    fn sticky(&self) -> bool {
        !(self.affinity.affinity_type.is_empty() || self.affinity.affinity_type == "None")
    }
}

/// How the load balancer picked an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "how", rename_all = "camelCase")]
pub enum Pick {
    /// The next endpoint in turn: `position` (0-based) of `of`; `remembered_for` is
    /// the affinity timeout when the client will be remembered with it.
    RoundRobin {
        position: usize,
        of: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        remembered_for: Option<u32>,
    },
    /// The endpoint this client used `seconds_ago` seconds ago, within the timeout.
    Affinity { seconds_ago: u64, ttl_seconds: u32 },
}

/// What `NextEndpoint` answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub endpoint: String,
    #[serde(flatten)]
    pub pick: Pick,
}

/// `NextEndpoint`'s errors, in upstream's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LbError {
    MissingServiceEntry,
    MissingEndpoints,
}

impl fmt::Display for LbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LbError::MissingServiceEntry => "missing service entry",
            LbError::MissingEndpoints => "missing endpoints",
        })
    }
}

/// `LoadBalancerRR`: round robin per service port, with ClientIP affinity.
#[derive(Clone, Debug, Default)]
pub struct LoadBalancerRR {
    pub services: BTreeMap<ServicePortName, BalancerState>,
}

/// BuildPortsToEndpointsMap: `ip:port` of the ready addresses per port name, in
/// subset and address order (port names in name order).
pub fn ports_to_endpoints(e: &Endpoints) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ss in &e.subsets {
        for p in &ss.ports {
            for a in &ss.addresses {
                if !a.ip.is_empty() && p.port > 0 {
                    m.entry(p.name.clone())
                        .or_default()
                        .push(format!("{}:{}", a.ip, p.port));
                }
            }
        }
    }
    m
}

/// `ShuffleStrings`: `shuffled[perm[i]] = s[i]` with Go's `rand.Perm`.
fn shuffle(s: &[String], rng: &mut Rng) -> Vec<String> {
    let n = s.len();
    let mut perm: Vec<usize> = vec![0; n];
    for i in 0..n {
        let j = rng.below(i as u64 + 1) as usize;
        perm[i] = perm[j];
        perm[j] = i;
    }
    let mut out = vec![String::new(); n];
    for (i, j) in perm.into_iter().enumerate() {
        out[j] = s[i].clone();
    }
    out
}

fn same_set(a: &[String], b: &[String]) -> bool {
    let mut x = a.to_vec();
    let mut y = b.to_vec();
    x.sort();
    y.sort();
    x == y
}

impl LoadBalancerRR {
    fn new_service_internal(
        &mut self,
        svc: &ServicePortName,
        affinity_type: &str,
        ttl_seconds: u32,
    ) -> &mut BalancerState {
        let ttl = if ttl_seconds == 0 {
            DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS
        } else {
            ttl_seconds
        };
        let state = self
            .services
            .entry(svc.clone())
            .or_insert_with(|| BalancerState {
                endpoints: Vec::new(),
                index: 0,
                affinity: AffinityPolicy {
                    affinity_type: affinity_type.to_string(),
                    clients: BTreeMap::new(),
                    ttl_seconds: ttl,
                },
            });
        // An existing entry (made by its endpoints) takes the type, not the timeout.
        if !affinity_type.is_empty() {
            state.affinity.affinity_type = affinity_type.to_string();
        }
        state
    }

    /// `NewService`.
    pub fn new_service(&mut self, svc: &ServicePortName, affinity_type: &str, ttl_seconds: u32) {
        self.new_service_internal(svc, affinity_type, ttl_seconds);
    }

    /// `DeleteService`.
    pub fn delete_service(&mut self, svc: &ServicePortName) {
        self.services.remove(svc);
    }

    /// `ServiceHasEndpoints`.
    pub fn has_endpoints(&self, svc: &ServicePortName) -> bool {
        self.services
            .get(svc)
            .is_some_and(|s| !s.endpoints.is_empty())
    }

    /// The choice `NextEndpoint` would make, changing nothing.
    pub fn peek(
        &self,
        svc: &ServicePortName,
        client: Ipv4Addr,
        reset: bool,
        now: Nanos,
    ) -> Result<Choice, LbError> {
        let state = self.services.get(svc).ok_or(LbError::MissingServiceEntry)?;
        if state.endpoints.is_empty() {
            return Err(LbError::MissingEndpoints);
        }
        let sticky = state.sticky();
        if sticky && !reset {
            if let Some(a) = state.affinity.clients.get(&client) {
                // `int(time.Since(lastUsed).Seconds()) < ttlSeconds`.
                let ago = now.saturating_sub(a.last_used) / NANOS_PER_SEC;
                if ago < u64::from(state.affinity.ttl_seconds) {
                    return Ok(Choice {
                        endpoint: a.endpoint.clone(),
                        pick: Pick::Affinity {
                            seconds_ago: ago,
                            ttl_seconds: state.affinity.ttl_seconds,
                        },
                    });
                }
            }
        }
        let i = state.index.min(state.endpoints.len() - 1);
        Ok(Choice {
            endpoint: state.endpoints[i].clone(),
            pick: Pick::RoundRobin {
                position: i,
                of: state.endpoints.len(),
                remembered_for: sticky.then_some(state.affinity.ttl_seconds),
            },
        })
    }

    /// `NextEndpoint`: the endpoint for a new connection from `client`, advancing
    /// the round robin and refreshing the client's affinity.
    pub fn next_endpoint(
        &mut self,
        svc: &ServicePortName,
        client: Ipv4Addr,
        reset: bool,
        now: Nanos,
    ) -> Result<Choice, LbError> {
        let choice = self.peek(svc, client, reset, now)?;
        let Some(state) = self.services.get_mut(svc) else {
            return Err(LbError::MissingServiceEntry);
        };
        if matches!(choice.pick, Pick::RoundRobin { .. }) {
            state.index = (state.index + 1) % state.endpoints.len();
        }
        if state.sticky() {
            state.affinity.clients.insert(
                client,
                AffinityState {
                    endpoint: choice.endpoint.clone(),
                    last_used: now,
                },
            );
        }
        Ok(choice)
    }

    /// `removeStaleAffinity`: clients of endpoints no longer listed are forgotten.
    fn remove_stale_affinity(&mut self, svc: &ServicePortName, new: &[String]) {
        let Some(state) = self.services.get_mut(svc) else {
            return;
        };
        let keep: BTreeSet<&String> = new.iter().collect();
        let gone: BTreeSet<String> = state
            .endpoints
            .iter()
            .filter(|e| !keep.contains(e))
            .cloned()
            .collect();
        state
            .affinity
            .clients
            .retain(|_, a| !gone.contains(&a.endpoint));
    }

    /// `resetService`: no endpoints, index 0, no affinities (the entry stays).
    fn reset_service(&mut self, svc: &ServicePortName) {
        if let Some(state) = self.services.get_mut(svc) {
            state.endpoints.clear();
            state.index = 0;
            state.affinity.clients.clear();
        }
    }

    /// `OnEndpointsAdd`; returns the service ports whose endpoints were set.
    pub fn on_endpoints_add(&mut self, e: &Endpoints, rng: &mut Rng) -> Vec<ServicePortName> {
        let mut set = Vec::new();
        for (port, eps) in ports_to_endpoints(e) {
            let svc = ServicePortName::new(&e.metadata.namespace, &e.metadata.name, &port);
            let state = self.new_service_internal(&svc, "", 0);
            state.endpoints = shuffle(&eps, rng);
            state.index = 0;
            set.push(svc);
        }
        set
    }

    /// `OnEndpointsUpdate`; returns the service ports whose endpoints changed.
    pub fn on_endpoints_update(
        &mut self,
        old: Option<&Endpoints>,
        e: &Endpoints,
        rng: &mut Rng,
    ) -> Vec<ServicePortName> {
        let mut changed = Vec::new();
        let mut registered = BTreeSet::new();
        for (port, eps) in ports_to_endpoints(e) {
            let svc = ServicePortName::new(&e.metadata.namespace, &e.metadata.name, &port);
            let same = self
                .services
                .get(&svc)
                .is_some_and(|s| same_set(&s.endpoints, &eps));
            if !same {
                self.remove_stale_affinity(&svc, &eps);
                let state = self.new_service_internal(&svc, "", 0);
                state.endpoints = shuffle(&eps, rng);
                state.index = 0;
                changed.push(svc.clone());
            }
            registered.insert(svc);
        }
        if let Some(old) = old {
            for port in ports_to_endpoints(old).into_keys() {
                let svc = ServicePortName::new(&old.metadata.namespace, &old.metadata.name, &port);
                if !registered.contains(&svc) {
                    self.reset_service(&svc);
                    changed.push(svc);
                }
            }
        }
        changed
    }

    /// `OnEndpointsDelete`.
    pub fn on_endpoints_delete(&mut self, e: &Endpoints) -> Vec<ServicePortName> {
        let mut changed = Vec::new();
        for port in ports_to_endpoints(e).into_keys() {
            let svc = ServicePortName::new(&e.metadata.namespace, &e.metadata.name, &port);
            self.reset_service(&svc);
            changed.push(svc);
        }
        changed
    }

    /// `CleanupStaleStickySessions`: affinities unused for the timeout are dropped.
    pub fn cleanup_stale_sticky_sessions(&mut self, svc: &ServicePortName, now: Nanos) {
        if let Some(state) = self.services.get_mut(svc) {
            let ttl = u64::from(state.affinity.ttl_seconds);
            state
                .affinity
                .clients
                .retain(|_, a| now.saturating_sub(a.last_used) / NANOS_PER_SEC < ttl);
        }
    }
}

// ---------------------------------------------------------------- the proxier

/// `ServiceInfo`: one proxied service port.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceInfo {
    pub portal_ip: Ipv4Addr,
    pub portal_port: u16,
    /// `TCP` or `UDP`.
    pub protocol: String,
    pub proxy_port: u16,
    pub node_port: u16,
    pub external_ips: Vec<String>,
    /// Load-balancer ingress as (ip, hostname).
    pub load_balancer: Vec<(String, String)>,
    pub session_affinity: String,
    pub sticky_max_age_seconds: u32,
}

impl ServiceInfo {
    fn proto(&self) -> String {
        self.protocol.to_ascii_lowercase()
    }
}

/// What a sync did, for the trace and the page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserspaceSync {
    /// The `iptables` calls, in order.
    pub ops: Vec<IptOp>,
    /// Service ports opened: `default/web:http on port 36527 (TCP), portal 10.96.0.20:80`.
    pub opened: Vec<String>,
    /// Service ports closed (deleted, or changed and opened again).
    pub closed: Vec<String>,
    /// What failed, in upstream's log words.
    pub errors: Vec<String>,
    /// Service ports proxied after the sync.
    pub service_ports: usize,
}

#[derive(Clone, Debug)]
struct Change {
    previous: Option<Service>,
    current: Option<Service>,
}

/// The userspace proxier of one node: Services and Endpoints in, `iptables` calls
/// and load-balancing decisions out. It reads no clock (time is given) and touches no
/// tables ([`apply`] runs its calls).
#[derive(Clone, Debug)]
pub struct UserspaceProxier {
    /// `hostIP`: the node's address, the DNAT target of the host rules.
    pub host_ip: Ipv4Addr,
    pub services: BTreeMap<ServicePortName, ServiceInfo>,
    pub lb: LoadBalancerRR,
    pub ports: ProxyPorts,
    /// Ports held open on the node (node ports and local portal IPs), by
    /// (ip or empty, port, protocol), with their owner (`claimNodePort`).
    pub claimed: BTreeMap<(String, u16, String), ServicePortName>,
    services_seen: BTreeMap<(String, String), Service>,
    endpoints_seen: BTreeMap<(String, String), Endpoints>,
    changes: BTreeMap<(String, String), Change>,
    rng: Rng,
    started: bool,
}

/// `ShouldSkipService` (and not IPv4: this proxier is IPv4 only).
fn skip(svc: &Service) -> Option<Ipv4Addr> {
    let spec = &svc.spec;
    if spec.cluster_ip.is_empty() || spec.cluster_ip == "None" || spec.kind == "ExternalName" {
        return None;
    }
    spec.cluster_ip.parse().ok()
}

fn sticky_seconds(svc: &Service) -> u32 {
    if svc.spec.session_affinity != "ClientIP" {
        return 0;
    }
    svc.spec
        .session_affinity_config
        .as_ref()
        .and_then(|c| c.pointer("/clientIP/timeoutSeconds"))
        .and_then(|v| v.as_u64())
        .map_or(DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS, |v| {
            v.min(u64::from(u32::MAX)) as u32
        })
}

fn lb_ingress(svc: &Service) -> Vec<(String, String)> {
    svc.status
        .load_balancer
        .ingress
        .iter()
        .map(|i| (i.ip.clone(), i.hostname.clone()))
        .collect()
}

impl UserspaceProxier {
    /// A proxier for the node at `host_ip`; `rng` is its own stream (ports, shuffles).
    pub fn new(host_ip: Ipv4Addr, rng: Rng) -> UserspaceProxier {
        UserspaceProxier {
            host_ip,
            services: BTreeMap::new(),
            lb: LoadBalancerRR::default(),
            ports: ProxyPorts::default(),
            claimed: BTreeMap::new(),
            services_seen: BTreeMap::new(),
            endpoints_seen: BTreeMap::new(),
            changes: BTreeMap::new(),
            rng,
            started: false,
        }
    }

    /// Changes waiting for a sync.
    pub fn pending_changes(&self) -> usize {
        self.changes.len()
    }

    fn service_change(
        &mut self,
        key: (String, String),
        previous: Option<Service>,
        current: Option<Service>,
    ) -> bool {
        let change = self.changes.entry(key.clone()).or_insert(Change {
            previous,
            current: None,
        });
        change.current = current;
        if change.previous == change.current {
            self.changes.remove(&key);
            return false;
        }
        true
    }

    /// `OnServiceAdd`/`OnServiceUpdate`; true when a sync is wanted.
    pub fn on_service_update(&mut self, svc: &Service) -> bool {
        let key = (svc.metadata.namespace.clone(), svc.metadata.name.clone());
        let previous = self.services_seen.insert(key.clone(), svc.clone());
        self.service_change(key, previous, Some(svc.clone()))
    }

    /// `OnServiceDelete`.
    pub fn on_service_delete(&mut self, namespace: &str, name: &str) -> bool {
        let key = (namespace.to_string(), name.to_string());
        let previous = self.services_seen.remove(&key);
        if previous.is_none() {
            return false;
        }
        self.service_change(key, previous, None)
    }

    /// `OnEndpointsAdd`/`OnEndpointsUpdate`: straight to the load balancer (no
    /// sync); returns the service ports whose endpoints were set.
    pub fn on_endpoints_update(&mut self, e: &Endpoints) -> Vec<ServicePortName> {
        let key = (e.metadata.namespace.clone(), e.metadata.name.clone());
        match self.endpoints_seen.insert(key, e.clone()) {
            None => self.lb.on_endpoints_add(e, &mut self.rng),
            Some(old) => self.lb.on_endpoints_update(Some(&old), e, &mut self.rng),
        }
    }

    /// `OnEndpointsDelete`.
    pub fn on_endpoints_delete(&mut self, namespace: &str, name: &str) -> Vec<ServicePortName> {
        let key = (namespace.to_string(), name.to_string());
        match self.endpoints_seen.remove(&key) {
            Some(old) => self.lb.on_endpoints_delete(&old),
            None => Vec::new(),
        }
    }

    /// The service port listening on a proxy port.
    pub fn service_on_port(&self, proxy_port: u16) -> Option<(&ServicePortName, &ServiceInfo)> {
        self.services
            .iter()
            .find(|(_, i)| i.proxy_port == proxy_port)
    }

    /// The rules of one portal (openOnePortal): from containers, then from the host.
    fn portal_rules(
        &self,
        name: &ServicePortName,
        info: &ServiceInfo,
        ip: Ipv4Addr,
        external: bool,
    ) -> Vec<RuleSpec> {
        let proto = info.proto();
        let port = info.portal_port;
        let redirect = format!("-j REDIRECT --to-ports {}", info.proxy_port);
        let dnat = format!(
            "-j DNAT --to-destination {}:{}",
            self.host_ip, info.proxy_port
        );
        let nat = |chain, args: String| RuleSpec {
            table: TableName::Nat,
            chain,
            args,
        };
        // For an external IP upstream first writes the container rule with
        // `-m physdev ! --physdev-is-in` (not modelled, see the module's notes), then
        // both rules for destinations local to the node (`--dst-type LOCAL`).
        vec![
            nat(
                KUBE_PORTALS_CONTAINER,
                format!(
                    "{} {redirect}",
                    common_args(Some(ip), external, port, &proto, name)
                ),
            ),
            nat(
                KUBE_PORTALS_HOST,
                format!(
                    "{} {dnat}",
                    common_args(Some(ip), external, port, &proto, name)
                ),
            ),
        ]
    }

    /// Every rule of a service port (openPortal), in the order they are ensured.
    pub fn service_rules(&self, name: &ServicePortName, info: &ServiceInfo) -> Vec<RuleSpec> {
        let mut v = self.portal_rules(name, info, info.portal_ip, false);
        for ip in &info.external_ips {
            if let Ok(ip) = ip.parse::<Ipv4Addr>() {
                v.extend(self.portal_rules(name, info, ip, true));
            }
        }
        for (ip, _) in &info.load_balancer {
            if let Ok(ip) = ip.parse::<Ipv4Addr>() {
                v.extend(self.portal_rules(name, info, ip, false));
            }
        }
        if info.node_port != 0 {
            let proto = info.proto();
            let np = info.node_port;
            v.push(RuleSpec {
                table: TableName::Nat,
                chain: KUBE_NODEPORT_CONTAINER,
                args: format!(
                    "{} -j REDIRECT --to-ports {}",
                    common_args(None, false, np, &proto, name),
                    info.proxy_port
                ),
            });
            v.push(RuleSpec {
                table: TableName::Nat,
                chain: KUBE_NODEPORT_HOST,
                args: format!(
                    "{} -j DNAT --to-destination {}:{}",
                    common_args(None, false, np, &proto, name),
                    self.host_ip,
                    info.proxy_port
                ),
            });
            v.push(RuleSpec {
                table: TableName::Filter,
                chain: KUBE_NODEPORT_NON_LOCAL,
                args: format!(
                    "{} -m state --state NEW -j ACCEPT",
                    common_args(None, false, info.proxy_port, &proto, name)
                ),
            });
        }
        v
    }

    /// The ports a service port holds open on the node (claimNodePort): its node
    /// port on every address, and portal ports on addresses that are the node's.
    fn claims(&self, info: &ServiceInfo) -> Vec<(String, u16, String)> {
        let mut v = Vec::new();
        let host = self.host_ip.to_string();
        for ip in std::iter::once(info.portal_ip.to_string())
            .chain(info.external_ips.iter().cloned())
            .chain(info.load_balancer.iter().map(|(ip, _)| ip.clone()))
        {
            if ip == host {
                v.push((ip, info.portal_port, info.protocol.clone()));
            }
        }
        if info.node_port != 0 {
            v.push((String::new(), info.node_port, info.protocol.clone()));
        }
        v
    }

    /// cleanupPortalAndProxy: the rules deleted, the claims and the port released.
    fn close(&mut self, name: &ServicePortName, out: &mut UserspaceSync) {
        let Some(info) = self.services.get(name).cloned() else {
            return;
        };
        for r in self.service_rules(name, &info) {
            out.ops.push(IptOp::DeleteRule(r));
        }
        for c in self.claims(&info) {
            if self.claimed.get(&c) == Some(name) {
                self.claimed.remove(&c);
            }
        }
        self.services.remove(name);
        self.ports.release(info.proxy_port);
        out.closed
            .push(format!("{name} (port {})", info.proxy_port));
    }

    fn same_config(
        info: &ServiceInfo,
        svc: &Service,
        ip: Ipv4Addr,
        port: &crate::api::core::ServicePort,
    ) -> bool {
        info.protocol == port.protocol.as_deref().unwrap_or("TCP")
            && i64::from(info.portal_port) == i64::from(port.port)
            && i64::from(info.node_port) == i64::from(port.node_port)
            && info.portal_ip == ip
            && info.external_ips == svc.spec.external_ips
            && info.load_balancer == lb_ingress(svc)
            && info.session_affinity == svc.spec.session_affinity
    }

    /// mergeService: opens the service ports that are new or changed; returns the
    /// port names the Service has.
    fn merge(&mut self, svc: &Service, out: &mut UserspaceSync) -> BTreeSet<String> {
        let mut existing = BTreeSet::new();
        let Some(ip) = skip(svc) else {
            return existing;
        };
        for port in &svc.spec.ports {
            let name =
                ServicePortName::new(&svc.metadata.namespace, &svc.metadata.name, &port.name);
            existing.insert(port.name.clone());
            match self
                .services
                .get(&name)
                .map(|i| Self::same_config(i, svc, ip, port))
            {
                Some(true) => continue,
                Some(false) => self.close(&name, out),
                None => {}
            }
            let protocol = port.protocol.clone().unwrap_or_else(|| "TCP".into());
            if protocol != "TCP" && protocol != "UDP" {
                out.errors.push(format!(
                    "Failed to start proxy for \"{name}\": unknown protocol \"{protocol}\""
                ));
                continue;
            }
            let Some(proxy_port) = self.ports.allocate(&mut self.rng) else {
                out.errors.push(format!("failed to allocate proxy port for service \"{name}\": bind: address already in use"));
                continue;
            };
            let info = ServiceInfo {
                portal_ip: ip,
                portal_port: u16::try_from(port.port).unwrap_or(0),
                protocol: protocol.clone(),
                proxy_port,
                node_port: u16::try_from(port.node_port).unwrap_or(0),
                external_ips: svc.spec.external_ips.clone(),
                load_balancer: lb_ingress(svc),
                session_affinity: svc.spec.session_affinity.clone(),
                sticky_max_age_seconds: sticky_seconds(svc),
            };
            self.open(&name, &info, out);
            self.lb
                .new_service(&name, &info.session_affinity, info.sticky_max_age_seconds);
            let mut text = format!(
                "{name} on port {proxy_port} ({protocol}), portal {}:{}",
                info.portal_ip, info.portal_port
            );
            if info.node_port != 0 {
                text.push_str(&format!(", nodePort {}", info.node_port));
            }
            out.opened.push(text);
            self.services.insert(name, info);
        }
        existing
    }

    /// openPortal: claims, then the rules (EnsureRule, appended).
    fn open(&mut self, name: &ServicePortName, info: &ServiceInfo, out: &mut UserspaceSync) {
        for c in self.claims(info) {
            match self.claimed.get(&c) {
                Some(owner) if owner != name => {
                    // A node port's key has no IP: Go prints the nil IP as `<nil>`.
                    let addr = if c.0.is_empty() {
                        format!("<nil>:{}", c.1)
                    } else {
                        format!("{}:{}", c.0, c.1)
                    };
                    out.errors.push(format!(
                        "Failed to open portal for \"{name}\": Port conflict detected on port {addr}/{}.  {name} vs {owner}",
                        c.2
                    ));
                    return;
                }
                _ => {
                    self.claimed.insert(c, name.clone());
                }
            }
        }
        for r in self.service_rules(name, info) {
            out.ops.push(IptOp::EnsureRule {
                rule: r,
                prepend: false,
            });
        }
    }

    /// unmergeService: closes the ports the previous Service had and the current
    /// one does not.
    fn unmerge(&mut self, svc: &Service, existing: &BTreeSet<String>, out: &mut UserspaceSync) {
        if skip(svc).is_none() {
            return;
        }
        for port in &svc.spec.ports {
            if existing.contains(&port.name) {
                continue;
            }
            let name =
                ServicePortName::new(&svc.metadata.namespace, &svc.metadata.name, &port.name);
            if !self.services.contains_key(&name) {
                out.errors.push(format!(
                    "Service \"{name}\" is being removed but doesn't exist"
                ));
                continue;
            }
            self.close(&name, out);
            self.lb.delete_service(&name);
        }
    }

    /// syncProxyRules (with createProxier's flush on the first call): the calls to
    /// make, in order. `now` ages the session affinities.
    pub fn sync(&mut self, now: Nanos) -> UserspaceSync {
        let mut out = UserspaceSync::default();
        if !self.started {
            out.ops.extend(init_ops());
            out.ops.extend(flush_ops());
            self.started = true;
        }
        out.ops.extend(init_ops());
        for (_, change) in std::mem::take(&mut self.changes) {
            let existing = match &change.current {
                Some(svc) => self.merge(svc, &mut out),
                None => BTreeSet::new(),
            };
            if let Some(prev) = &change.previous {
                self.unmerge(prev, &existing, &mut out);
            }
        }
        // ensurePortals.
        let names: Vec<ServicePortName> = self.services.keys().cloned().collect();
        for name in &names {
            if let Some(info) = self.services.get(name) {
                for r in self.service_rules(name, info) {
                    out.ops.push(IptOp::EnsureRule {
                        rule: r,
                        prepend: false,
                    });
                }
            }
        }
        for name in &names {
            self.lb.cleanup_stale_sticky_sessions(name, now);
        }
        out.service_ports = self.services.len();
        out
    }

    /// What kube-proxy does with a new connection on `proxy_port` from `client`,
    /// changing nothing (a trace).
    pub fn backend(&self, proxy_port: u16, client: Ipv4Addr, now: Nanos) -> Option<UserspaceHop> {
        let (name, info) = self.service_on_port(proxy_port)?;
        Some(hop(name, info, self.lb.peek(name, client, false, now)))
    }

    /// The same for a live connection: the round robin moves on and the client's
    /// affinity is refreshed.
    pub fn connect(
        &mut self,
        proxy_port: u16,
        client: Ipv4Addr,
        now: Nanos,
    ) -> Option<UserspaceHop> {
        let (name, info) = self.service_on_port(proxy_port)?;
        let (name, info) = (name.clone(), info.clone());
        let r = self.lb.next_endpoint(&name, client, false, now);
        Some(hop(&name, &info, r))
    }
}

/// One hop through kube-proxy's own socket in userspace mode, for the packet tracer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserspaceHop {
    /// The service port (`default/web:http`).
    pub service: String,
    pub proxy_port: u16,
    pub protocol: String,
    /// The endpoint (`10.244.1.5:8080`) kube-proxy connects to; None when the
    /// Service has no endpoints (kube-proxy closes the client's connection).
    pub endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choice: Option<Choice>,
    /// In plain words.
    pub why: String,
}

fn hop(name: &ServicePortName, info: &ServiceInfo, r: Result<Choice, LbError>) -> UserspaceHop {
    let head = format!("kube-proxy accepts on port {} for {name}", info.proxy_port);
    let (endpoint, why) = match &r {
        Ok(c) => {
            let how = match &c.pick {
                Pick::RoundRobin {
                    position,
                    of,
                    remembered_for,
                } => {
                    let mut s = format!("round robin (endpoint {} of {of})", position + 1);
                    if let Some(ttl) = remembered_for {
                        s.push_str(&format!(
                            "; sessionAffinity ClientIP keeps this client on it for {ttl}s"
                        ));
                    }
                    s
                }
                Pick::Affinity {
                    seconds_ago,
                    ttl_seconds,
                } => format!(
                    "sessionAffinity ClientIP: this client's endpoint, last used {seconds_ago}s ago (timeout {ttl_seconds}s)"
                ),
            };
            (
                Some(c.endpoint.clone()),
                format!("{head} and opens a new connection to {}, {how}", c.endpoint),
            )
        }
        Err(e) => (
            None,
            format!("{head} but has no endpoint to connect to ({e}); it closes the connection"),
        ),
    };
    UserspaceHop {
        service: name.to_string(),
        proxy_port: info.proxy_port,
        protocol: info.protocol.clone(),
        endpoint,
        choice: r.ok(),
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_zero_gives_odd_ports_in_the_lower_half() {
        let mut p = ProxyPorts::default();
        let mut rng = Rng::new(7);
        for _ in 0..200 {
            let x = p.allocate(&mut rng).unwrap_or(0);
            assert!(x % 2 == 1 && (32769..46884).contains(&x), "{x}");
        }
        assert_eq!(p.in_use().count(), 200);
    }

    #[test]
    fn rule_args_are_in_save_order() {
        let name = ServicePortName::new("default", "web", "http");
        assert_eq!(name.to_string(), "default/web:http");
        assert_eq!(
            ServicePortName::new("default", "web", "").to_string(),
            "default/web"
        );
        assert_eq!(
            common_args(Some(Ipv4Addr::new(10, 96, 0, 20)), false, 80, "tcp", &name),
            "-d 10.96.0.20/32 -p tcp -m comment --comment \"default/web:http\" -m tcp --dport 80"
        );
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let s: Vec<String> = (0..5).map(|i| format!("10.0.0.{i}:80")).collect();
        let mut rng = Rng::new(3);
        let mut t = shuffle(&s, &mut rng);
        t.sort();
        assert_eq!(t, s);
    }
}
