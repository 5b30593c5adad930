//! kube-proxy's iptables mode (pkg/proxy/iptables/proxier.go, v1.31) as a pure
//! function: Services and EndpointSlices go in through the change handlers
//! (`on_service_update`, `on_endpoint_slice_update`, ...), and `sync` returns the
//! `iptables-restore` text `syncProxyRules` writes, with the same chains, rules,
//! comments and order.
//!
//! What the model keeps from upstream:
//! - the service port map (`newBaseServiceInfo`: cluster IP of the proxier's family,
//!   external IPs, VIP-mode load-balancer ingress IPs, trimmed source ranges,
//!   session affinity timeout, health check node port only for LoadBalancer with
//!   `externalTrafficPolicy: Local`), and the endpoints map built from every
//!   EndpointSlice of a Service (`EndpointSliceCache`: slices merged, endpoints
//!   deduplicated by `ip:port` preferring the local one, sorted by that string;
//!   ready/serving default true, terminating false; local means `nodeName` is this
//!   node);
//! - `CategorizeEndpoints` (Cluster and Local policy endpoints, topology hints,
//!   the fallback to serving terminating endpoints);
//! - the rules: KUBE-SERVICES, KUBE-NODEPORTS, KUBE-EXTERNAL-SERVICES,
//!   KUBE-PROXY-FIREWALL, KUBE-FORWARD, KUBE-FIREWALL (localhost node ports),
//!   KUBE-MARK-MASQ, KUBE-POSTROUTING and the KUBE-SVC-/SVL-/EXT-/FW-/SEP- chains,
//!   the probability ladder (`%0.10f` of 1/(n-i)), REJECT without endpoints, DROP
//!   without local endpoints, `recent` matches for ClientIP affinity, and the
//!   large-cluster mode (more than 1,000 endpoints: no comments on endpoint rules,
//!   stale chains deleted at most once per sync period);
//! - full and partial syncs: a full sync on the first sync, after `force_full_sync`
//!   (upstream: iptables flushed under it, node labels changed) or an hour after the
//!   last full one; otherwise only the chains of Services whose ports or endpoints
//!   changed are rewritten, while the top-level chains are rewritten as always.
//!
//! Simplifications: stale chains are found from what this proxier wrote before, not
//! from `iptables-save` (the same unless something else edits the tables); the jump
//! rules from the built-in chains are returned by `jump_rules` for the caller to
//! install, as upstream installs them with separate `iptables -I` calls; no conntrack
//! cleanup, health check servers or metrics beyond the rule counts in `SyncResult`.

use crate::api::VecMap;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use crate::api::core::Service;
use crate::api::networking::EndpointSlice;

use super::hash::hash16;

/// The bit of the packet mark kube-proxy uses for masquerading (`--iptables-masquerade-bit`).
pub const DEFAULT_MASQUERADE_BIT: u32 = 14;
/// Above this many endpoints the proxier is in "large cluster mode".
pub const LARGE_CLUSTER_ENDPOINTS_THRESHOLD: usize = 1000;
/// `proxyutil.FullSyncPeriod`: a partial sync becomes a full one after this long.
pub const FULL_SYNC_PERIOD_NS: u64 = 3600 * 1_000_000_000;
/// The default `--iptables-sync-period`.
pub const DEFAULT_SYNC_PERIOD_NS: u64 = 30 * 1_000_000_000;
/// The API server's default `sessionAffinityConfig.clientIP.timeoutSeconds`.
pub const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS: i64 = 10800;
/// The label that ties an EndpointSlice to its Service.
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// nfacct counters kube-proxy creates (pkg/proxy/metrics).
pub const NFACCT_INVALID_DROPPED: &str = "ct_state_invalid_dropped_pkts";
pub const NFACCT_LOCALHOST_NODEPORT_ACCEPTED: &str = "localhost_nps_accepted_pkts";

pub const KUBE_SERVICES: &str = "KUBE-SERVICES";
pub const KUBE_EXTERNAL_SERVICES: &str = "KUBE-EXTERNAL-SERVICES";
pub const KUBE_NODEPORTS: &str = "KUBE-NODEPORTS";
pub const KUBE_POSTROUTING: &str = "KUBE-POSTROUTING";
pub const KUBE_MARK_MASQ: &str = "KUBE-MARK-MASQ";
pub const KUBE_FORWARD: &str = "KUBE-FORWARD";
pub const KUBE_PROXY_FIREWALL: &str = "KUBE-PROXY-FIREWALL";
pub const KUBE_FIREWALL: &str = "KUBE-FIREWALL";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpFamily {
    V4,
    V6,
}

impl IpFamily {
    fn of(ip: &IpAddr) -> IpFamily {
        match ip {
            IpAddr::V4(_) => IpFamily::V4,
            IpAddr::V6(_) => IpFamily::V6,
        }
    }

    /// The EndpointSlice `addressType` this family reads.
    pub fn address_type(self) -> &'static str {
        match self {
            IpFamily::V4 => "IPv4",
            IpFamily::V6 => "IPv6",
        }
    }
}

/// How the proxier tells pod traffic from other traffic (`--detect-local-mode`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalDetector {
    /// Not implemented: no masquerade rule for off-cluster traffic to a cluster IP.
    None,
    /// ClusterCIDR or NodeCIDR mode: `-s CIDR` / `! -s CIDR`.
    Cidr(String),
    /// BridgeInterface mode: `-i NAME` / `! -i NAME`.
    BridgeInterface(String),
    /// InterfaceNamePrefix mode: `-i PREFIX+` / `! -i PREFIX+`.
    InterfaceNamePrefix(String),
}

impl LocalDetector {
    fn args(&self) -> Option<(String, String)> {
        match self {
            LocalDetector::None => None,
            LocalDetector::Cidr(c) => {
                let c = IpNet::parse(c).map(|n| n.to_string()).unwrap_or(c.clone());
                Some((format!("-s {c}"), format!("! -s {c}")))
            }
            LocalDetector::BridgeInterface(i) => Some((format!("-i {i}"), format!("! -i {i}"))),
            LocalDetector::InterfaceNamePrefix(p) => {
                Some((format!("-i {p}+"), format!("! -i {p}+")))
            }
        }
    }
}

/// What the proxier is told at start (flags and host facts).
#[derive(Clone, Debug)]
pub struct ProxierConfig {
    pub ip_family: IpFamily,
    /// This node's name: endpoints with this `nodeName` are local.
    pub hostname: String,
    /// This node's IP (a load-balancer source range containing it lets the node reach the VIP).
    pub node_ip: Option<IpAddr>,
    /// The masquerade mark as written in the rules (upstream `%#08x` of 1<<bit).
    pub masquerade_mark: String,
    pub masquerade_all: bool,
    pub local_detector: LocalDetector,
    /// `iptables.localhostNodePorts` (default true): node ports answer on 127.0.0.1.
    pub localhost_node_ports: bool,
    /// Whether the nfacct counters could be created (the kernel's nfnetlink_acct).
    pub nfacct: bool,
    /// Whether iptables supports `MASQUERADE --random-fully`.
    pub random_fully: bool,
    /// `net.netfilter.nf_conntrack_tcp_be_liberal` set: no DROP of INVALID packets.
    pub conntrack_tcp_liberal: bool,
    /// `--nodeport-addresses` resolved to this node's IPs; `None` accepts every local address.
    pub node_port_addresses: Option<Vec<String>>,
    /// `--iptables-sync-period`.
    pub sync_period_ns: u64,
}

impl ProxierConfig {
    /// A v1.31 node with the defaults: masquerade bit 14, ClusterCIDR detection,
    /// localhost node ports, nfacct and `--random-fully` available.
    pub fn node(hostname: &str, node_ip: Option<&str>, cluster_cidr: &str) -> ProxierConfig {
        ProxierConfig {
            ip_family: IpFamily::V4,
            hostname: hostname.into(),
            node_ip: node_ip.and_then(|ip| ip.parse().ok()),
            masquerade_mark: masquerade_mark(DEFAULT_MASQUERADE_BIT),
            masquerade_all: false,
            local_detector: LocalDetector::Cidr(cluster_cidr.into()),
            localhost_node_ports: true,
            nfacct: true,
            random_fully: true,
            conntrack_tcp_liberal: false,
            node_port_addresses: None,
            sync_period_ns: DEFAULT_SYNC_PERIOD_NS,
        }
    }
}

/// The mark string as NewProxier formats it: Go's `%#08x` pads the digits to eight
/// (`0x00004000` for bit 14).
pub fn masquerade_mark(bit: u32) -> String {
    format!("0x{:08x}", 1u64 << bit.min(31))
}

/// An IP network, masked to its network address as Go's `net.ParseCIDR` returns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Option<IpNet> {
        let (ip, prefix) = s.split_once('/')?;
        let addr: IpAddr = ip.parse().ok()?;
        let prefix: u8 = prefix.parse().ok()?;
        let addr = match addr {
            IpAddr::V4(a) if prefix <= 32 => {
                let mask = if prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - prefix)
                };
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) if prefix <= 128 => {
                let mask = if prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - prefix)
                };
                IpAddr::V6((u128::from(a) & mask).into())
            }
            _ => return None,
        };
        Some(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: &IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.prefix)
                };
                u32::from(*a) & mask == u32::from(n)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.prefix)
                };
                u128::from(*a) & mask == u128::from(n)
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A Service's namespace and name.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceKey {
    pub namespace: String,
    pub name: String,
}

/// upstream `proxy.ServicePortName`: a Service, a port name and a protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServicePortName {
    pub key: ServiceKey,
    pub port: String,
    /// Upper case, as in the API (`TCP`).
    pub protocol: String,
}

impl std::fmt::Display for ServicePortName {
    /// `namespace/name:port`, or `namespace/name` for an unnamed port.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.key.namespace, self.key.name)?;
        if !self.port.is_empty() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// The kinds of per-service chains, named by their prefix and the service port's hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChainKind {
    Svc,
    Svl,
    Ext,
    Fw,
    Sep,
}

impl ChainKind {
    fn prefix(self) -> &'static str {
        match self {
            ChainKind::Svc => "KUBE-SVC-",
            ChainKind::Svl => "KUBE-SVL-",
            ChainKind::Ext => "KUBE-EXT-",
            ChainKind::Fw => "KUBE-FW-",
            ChainKind::Sep => "KUBE-SEP-",
        }
    }
}

/// A per-service chain (KUBE-SVC-XPGD46QRK7WJZT7O), kept as its prefix and hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Chain {
    pub kind: ChainKind,
    pub hash: [u8; 16],
}

impl Chain {
    pub fn name(&self) -> ChainName {
        let mut buf = [0u8; 25];
        let prefix = self.kind.prefix().as_bytes();
        buf[..prefix.len()].copy_from_slice(prefix);
        buf[prefix.len()..prefix.len() + 16].copy_from_slice(&self.hash);
        ChainName {
            buf,
            len: (prefix.len() + 16) as u8,
        }
    }
}

/// A chain's name on the stack.
#[derive(Clone, Copy)]
pub struct ChainName {
    buf: [u8; 25],
    len: u8,
}

impl ChainName {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len as usize]).unwrap_or("")
    }
}

/// One port of a Service as the proxier keeps it (upstream `servicePortInfo`).
#[derive(Clone, Debug, PartialEq)]
struct ServicePortInfo {
    name_string: String,
    cluster_ip: String,
    port: String,
    node_port: String,
    lb_vips: Vec<String>,
    external_ips: Vec<String>,
    lb_source_ranges: Vec<IpNet>,
    client_ip_affinity: bool,
    sticky_max_age_seconds: String,
    health_check_node_port: String,
    external_policy_local: bool,
    internal_policy_local: bool,
    hash: [u8; 16],
    /// `-m tcp -p tcp`
    m_proto: String,
    /// `-m comment --comment "ns/svc:port cluster IP"`
    cluster_ip_comment: String,
}

impl ServicePortInfo {
    fn externally_accessible(&self) -> bool {
        !self.node_port.is_empty() || !self.lb_vips.is_empty() || !self.external_ips.is_empty()
    }

    fn uses_cluster_endpoints(&self) -> bool {
        !self.internal_policy_local || self.externally_accessible()
    }

    fn uses_local_endpoints(&self) -> bool {
        self.internal_policy_local || (self.external_policy_local && self.externally_accessible())
    }
}

/// One endpoint of a service port (upstream `BaseEndpointInfo` plus its chain).
#[derive(Clone, Debug, PartialEq)]
struct EndpointInfo {
    ip: String,
    /// `ip:port` (`[ip]:port` for IPv6).
    endpoint: String,
    is_local: bool,
    ready: bool,
    serving: bool,
    terminating: bool,
    zone_hints: Vec<String>,
    chain: [u8; 16],
}

#[derive(Clone, Debug, PartialEq)]
struct SlicePort {
    name: String,
    port: i32,
    protocol: String,
}

#[derive(Clone, Debug, PartialEq)]
struct SliceEndpoint {
    address: String,
    node_name: Option<String>,
    ready: bool,
    serving: bool,
    terminating: bool,
    zone_hints: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
struct SliceInfo {
    ports: Vec<SlicePort>,
    endpoints: Vec<SliceEndpoint>,
}

/// What a sync wrote for one service port, kept so a partial sync can leave it in place.
#[derive(Clone, Debug, Default)]
struct Installed {
    chains: Vec<Chain>,
    /// Rules in those chains.
    nat_rules: usize,
    /// The Service's rules in the top-level chains (KUBE-SERVICES, KUBE-NODEPORTS, the
    /// filter chains), which every sync writes: the same text until the Service changes.
    top_nat: Box<str>,
    top_nat_lines: usize,
    top_filter: Box<str>,
    top_filter_lines: usize,
}

/// A service port and what the last sync wrote for it.
#[derive(Clone, Debug)]
struct PortEntry {
    info: ServicePortInfo,
    installed: Option<Installed>,
}

/// One sync's output and figures.
#[derive(Clone, Debug, Default)]
pub struct SyncResult {
    /// The `iptables-restore` input (`--noflush`): filter then nat.
    pub restore: String,
    pub full_sync: bool,
    pub large_cluster_mode: bool,
    /// Service ports whose SVC/SVL/EXT/FW/SEP chains this restore rewrote.
    pub service_ports_written: usize,
    pub filter_rules: usize,
    /// nat rules in this restore (upstream `sync_proxy_rules_iptables_last`).
    pub nat_rules: usize,
    /// nat rules in the table after it, unchanged chains included
    /// (upstream `sync_proxy_rules_iptables_total`).
    pub nat_rules_total: usize,
    pub deleted_chains: usize,
    pub services: usize,
    pub endpoints: usize,
}

/// A jump from a built-in chain into kube-proxy's chains, installed with
/// `iptables -t TABLE -I CHAIN ARGS` before a full sync (upstream `iptablesJumpChains`
/// and the kubelet's KUBE-FIREWALL jumps).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JumpRule {
    pub table: &'static str,
    pub chain: &'static str,
    pub target: &'static str,
    /// The rule's arguments after `-I CHAIN`, as `iptables-save` would print them.
    pub args: String,
}

/// kube-proxy's iptables proxier for one node and one IP family.
pub struct Proxier {
    config: ProxierConfig,
    if_local: String,
    if_not_local: String,
    detector: bool,
    svc_ports: BTreeMap<ServicePortName, PortEntry>,
    /// Endpoints of all service ports (upstream's `totalEndpoints`), kept up to date.
    total_endpoints: usize,
    endpoints: BTreeMap<ServicePortName, Vec<EndpointInfo>>,
    slices: BTreeMap<ServiceKey, BTreeMap<String, SliceInfo>>,
    node_labels: VecMap<String, String>,
    changed: BTreeSet<ServiceKey>,
    stale: BTreeMap<Chain, ServicePortName>,
    /// The stale chains the last sync's restore deletes (given back if it fails).
    last_deleted: Vec<(Chain, ServicePortName)>,
    need_full_sync: bool,
    last_full_sync: Option<u64>,
    last_cleanup: Option<u64>,
    probabilities: Vec<String>,
    filter_chains: Lines,
    filter_rules: Lines,
    nat_chains: Lines,
    nat_rules: Lines,
    scratch: String,
}

#[derive(Default)]
struct Lines {
    text: String,
    lines: usize,
}

impl Lines {
    fn clear(&mut self) {
        self.text.clear();
        self.lines = 0;
    }

    /// One line: the non-empty parts joined by spaces.
    fn write(&mut self, parts: &[&str]) {
        let mut first = true;
        for p in parts {
            if p.is_empty() {
                continue;
            }
            if !first {
                self.text.push(' ');
            }
            first = false;
            self.text.push_str(p);
        }
        self.text.push('\n');
        self.lines += 1;
    }

    /// `-A CHAIN COMMENT -m P -p P -d IP --dport PORT -j TARGET`: the shape of a
    /// service's rules in the top-level chains.
    fn dest_rule(
        &mut self,
        chain: &str,
        comment: &str,
        m_proto: &str,
        ip: &str,
        port: &str,
        target: &str,
    ) {
        self.write(&[
            "-A", chain, comment, m_proto, "-d", ip, "--dport", port, "-j", target,
        ]);
    }

    fn chain(&mut self, name: &str) {
        self.text.push(':');
        self.text.push_str(name);
        self.text.push_str(" - [0:0]\n");
        self.lines += 1;
    }
}

impl Proxier {
    pub fn new(config: ProxierConfig) -> Proxier {
        let (if_local, if_not_local, detector) = match config.local_detector.args() {
            Some((l, n)) => (l, n, true),
            None => (String::new(), String::new(), false),
        };
        Proxier {
            config,
            if_local,
            if_not_local,
            detector,
            svc_ports: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            slices: BTreeMap::new(),
            node_labels: VecMap::new(),
            changed: BTreeSet::new(),
            total_endpoints: 0,
            stale: BTreeMap::new(),
            last_deleted: Vec::new(),
            need_full_sync: true,
            last_full_sync: None,
            last_cleanup: None,
            probabilities: vec!["<bad value>".into()],
            filter_chains: Lines::default(),
            filter_rules: Lines::default(),
            nat_chains: Lines::default(),
            nat_rules: Lines::default(),
            scratch: String::new(),
        }
    }

    pub fn config(&self) -> &ProxierConfig {
        &self.config
    }

    /// Whether the next sync will be a full one (before `now`'s hour check).
    pub fn needs_full_sync(&self) -> bool {
        self.need_full_sync
    }

    /// Services with changes the next sync will write.
    pub fn pending_changes(&self) -> usize {
        self.changed.len()
    }

    /// Forces the next sync to be a full one (upstream `forceSyncProxyRules`: the
    /// canary chain vanished, i.e. someone flushed the tables).
    pub fn force_full_sync(&mut self) {
        self.need_full_sync = true;
    }

    /// Whether a sync at `now` is a full one (upstream `doFullSync`: `needFullSync`, or
    /// at least `FullSyncPeriod` since the last full sync). Upstream compares with `>`;
    /// there the runner's hourly timer is reset only after `lastFullSync` was taken,
    /// so when it fires strictly more than an hour has passed. Virtual time has no
    /// such gap, hence `>=`.
    pub fn full_sync_due(&self, now: u64) -> bool {
        self.need_full_sync
            || self
                .last_full_sync
                .is_none_or(|t| now.saturating_sub(t) >= FULL_SYNC_PERIOD_NS)
    }

    /// The restore of the last sync failed (upstream's deferred `!success` branch):
    /// the changes it consumed are lost, so the next sync is a full one, and the stale
    /// chains it meant to delete are still there to delete (upstream finds them again
    /// in `iptables-save`).
    pub fn sync_failed(&mut self) {
        self.need_full_sync = true;
        for (chain, owner) in std::mem::take(&mut self.last_deleted) {
            self.stale.insert(chain, owner);
        }
    }

    /// This node's labels changed (topology): upstream forces a full sync.
    pub fn on_node_labels(&mut self, labels: &VecMap<String, String>) -> bool {
        if &self.node_labels == labels {
            return false;
        }
        self.node_labels = labels.clone();
        self.need_full_sync = true;
        true
    }

    /// A Service was added or changed. Returns whether its ports changed (upstream
    /// then asks for a sync).
    pub fn on_service_update(&mut self, service: &Service) -> bool {
        let key = ServiceKey {
            namespace: service.metadata.namespace.clone(),
            name: service.metadata.name.clone(),
        };
        let ports = service_ports(service, self.config.ip_family);
        self.replace_ports(key, ports)
    }

    /// A Service was deleted.
    pub fn on_service_delete(&mut self, namespace: &str, name: &str) -> bool {
        let key = ServiceKey {
            namespace: namespace.into(),
            name: name.into(),
        };
        self.replace_ports(key, Vec::new())
    }

    fn replace_ports(
        &mut self,
        key: ServiceKey,
        ports: Vec<(ServicePortName, ServicePortInfo)>,
    ) -> bool {
        let old: Vec<ServicePortName> = range_of(&self.svc_ports, &key)
            .map(|(k, _)| k.clone())
            .collect();
        let same = old.len() == ports.len()
            && ports
                .iter()
                .all(|(k, v)| self.svc_ports.get(k).is_some_and(|o| &o.info == v));
        if same {
            return false;
        }
        self.total_endpoints -= self.endpoints_counted(&key);
        let mut previous: BTreeMap<ServicePortName, Option<Installed>> = BTreeMap::new();
        for k in old {
            if let Some(entry) = self.svc_ports.remove(&k) {
                previous.insert(k, entry.installed);
            }
        }
        for (k, info) in ports {
            let installed = previous.remove(&k).flatten();
            self.svc_ports.insert(k, PortEntry { info, installed });
        }
        // Ports that are gone leave their chains to be deleted.
        for (k, installed) in previous {
            for c in installed.map(|i| i.chains).unwrap_or_default() {
                self.stale.insert(c, k.clone());
            }
        }
        self.total_endpoints += self.endpoints_counted(&key);
        self.changed.insert(key);
        true
    }

    /// The endpoints of a Service's ports that count toward `total_endpoints`.
    fn endpoints_counted(&self, key: &ServiceKey) -> usize {
        range_of(&self.svc_ports, key)
            .map(|(k, _)| self.endpoints.get(k).map_or(0, Vec::len))
            .sum()
    }

    /// An EndpointSlice was added or changed. Slices of another address family, or
    /// without the `kubernetes.io/service-name` label, are ignored as upstream does.
    pub fn on_endpoint_slice_update(&mut self, slice: &EndpointSlice) -> bool {
        self.slice_change(slice, false)
    }

    /// An EndpointSlice was deleted.
    pub fn on_endpoint_slice_delete(&mut self, slice: &EndpointSlice) -> bool {
        self.slice_change(slice, true)
    }

    fn slice_change(&mut self, slice: &EndpointSlice, remove: bool) -> bool {
        if slice.address_type != self.config.ip_family.address_type() {
            return false;
        }
        let Some(service) = slice.metadata.labels.get(LABEL_SERVICE_NAME) else {
            return false;
        };
        if service.is_empty() || slice.metadata.name.is_empty() {
            return false;
        }
        let key = ServiceKey {
            namespace: slice.metadata.namespace.clone(),
            name: service.clone(),
        };
        let by_name = self.slices.entry(key.clone()).or_default();
        if remove {
            if by_name.remove(&slice.metadata.name).is_none() {
                return false;
            }
        } else {
            let info = slice_info(slice);
            if by_name.get(&slice.metadata.name) == Some(&info) {
                return false;
            }
            by_name.insert(slice.metadata.name.clone(), info);
        }
        let empty = by_name.is_empty();
        let fresh = self.endpoints_of(&key);
        if empty {
            self.slices.remove(&key);
        }
        let old: Vec<ServicePortName> = range_of(&self.endpoints, &key)
            .map(|(k, _)| k.clone())
            .collect();
        let same = old.len() == fresh.len()
            && fresh
                .iter()
                .all(|(k, v)| self.endpoints.get(k).is_some_and(|o| o == v));
        if same {
            return false;
        }
        self.total_endpoints -= self.endpoints_counted(&key);
        for k in old {
            self.endpoints.remove(&k);
        }
        for (k, v) in fresh {
            self.endpoints.insert(k, v);
        }
        self.total_endpoints += self.endpoints_counted(&key);
        self.changed.insert(key);
        true
    }

    /// The endpoints map entries of one Service from all its slices (upstream
    /// `EndpointSliceCache.endpointInfoByServicePort` and `endpointsMapFromEndpointInfo`).
    fn endpoints_of(&self, key: &ServiceKey) -> Vec<(ServicePortName, Vec<EndpointInfo>)> {
        let Some(by_name) = self.slices.get(key) else {
            return Vec::new();
        };
        let mut by_port: BTreeMap<ServicePortName, BTreeMap<String, EndpointInfo>> =
            BTreeMap::new();
        for info in by_name.values() {
            for port in &info.ports {
                let spn = ServicePortName {
                    key: key.clone(),
                    port: port.name.clone(),
                    protocol: port.protocol.clone(),
                };
                let name_string = spn.to_string();
                let protocol = port.protocol.to_ascii_lowercase();
                let set = by_port.entry(spn).or_default();
                for ep in &info.endpoints {
                    let Ok(ip) = ep.address.parse::<IpAddr>() else {
                        continue;
                    };
                    if IpFamily::of(&ip) != self.config.ip_family {
                        continue;
                    }
                    let ip = ip.to_string();
                    let endpoint = match self.config.ip_family {
                        IpFamily::V4 => format!("{ip}:{}", port.port),
                        IpFamily::V6 => format!("[{ip}]:{}", port.port),
                    };
                    let is_local = !self.config.hostname.is_empty()
                        && ep.node_name.as_deref() == Some(self.config.hostname.as_str());
                    if set.contains_key(&endpoint) && !is_local {
                        continue;
                    }
                    let chain = hash16(&[&name_string, &protocol, &endpoint]);
                    set.insert(
                        endpoint.clone(),
                        EndpointInfo {
                            ip,
                            endpoint,
                            is_local,
                            ready: ep.ready,
                            serving: ep.serving,
                            terminating: ep.terminating,
                            zone_hints: ep.zone_hints.clone(),
                            chain,
                        },
                    );
                }
            }
        }
        by_port
            .into_iter()
            .filter(|(_, set)| !set.is_empty())
            .map(|(k, set)| (k, set.into_values().collect()))
            .collect()
    }

    fn probability(&mut self, n: usize) -> &str {
        while self.probabilities.len() <= n {
            let k = self.probabilities.len();
            self.probabilities.push(go_fixed10(1.0 / k as f64));
        }
        &self.probabilities[n]
    }

    /// The jump rules from the built-in chains a full sync makes sure of.
    pub fn jump_rules(&self) -> Vec<JumpRule> {
        const NEW: &str = "-m conntrack --ctstate NEW ";
        let j = |table, chain, target, extra: &str, comment: &str| JumpRule {
            table,
            chain,
            target,
            args: if comment.is_empty() {
                format!("{extra}-j {target}")
            } else {
                format!("{extra}-m comment --comment \"{comment}\" -j {target}")
            },
        };
        let ext = "kubernetes externally-visible service portals";
        vec![
            j("filter", "INPUT", KUBE_EXTERNAL_SERVICES, NEW, ext),
            j("filter", "FORWARD", KUBE_EXTERNAL_SERVICES, NEW, ext),
            j(
                "filter",
                "INPUT",
                KUBE_NODEPORTS,
                "",
                "kubernetes health check service ports",
            ),
            j(
                "filter",
                "FORWARD",
                KUBE_SERVICES,
                NEW,
                "kubernetes service portals",
            ),
            j(
                "filter",
                "OUTPUT",
                KUBE_SERVICES,
                NEW,
                "kubernetes service portals",
            ),
            j(
                "filter",
                "FORWARD",
                KUBE_FORWARD,
                "",
                "kubernetes forwarding rules",
            ),
            j(
                "filter",
                "INPUT",
                KUBE_PROXY_FIREWALL,
                NEW,
                "kubernetes load balancer firewall",
            ),
            j(
                "filter",
                "OUTPUT",
                KUBE_PROXY_FIREWALL,
                NEW,
                "kubernetes load balancer firewall",
            ),
            j(
                "filter",
                "FORWARD",
                KUBE_PROXY_FIREWALL,
                NEW,
                "kubernetes load balancer firewall",
            ),
            j(
                "nat",
                "OUTPUT",
                KUBE_SERVICES,
                "",
                "kubernetes service portals",
            ),
            j(
                "nat",
                "PREROUTING",
                KUBE_SERVICES,
                "",
                "kubernetes service portals",
            ),
            j(
                "nat",
                "POSTROUTING",
                KUBE_POSTROUTING,
                "",
                "kubernetes postrouting rules",
            ),
            j("filter", "INPUT", KUBE_FIREWALL, "", ""),
            j("filter", "OUTPUT", KUBE_FIREWALL, "", ""),
        ]
    }

    /// upstream `syncProxyRules`: the restore text for the current state. `now` is
    /// virtual time in nanoseconds (for the hourly full sync and the large-cluster
    /// cleanup period).
    pub fn sync(&mut self, now: u64) -> SyncResult {
        let full = self.full_sync_due(now);
        self.last_deleted.clear();
        let v6 = self.config.ip_family == IpFamily::V6;
        let mark = self.config.masquerade_mark.clone();
        let mark_mask = format!("{mark}/{mark}");

        self.filter_chains.clear();
        self.filter_rules.clear();
        self.nat_chains.clear();
        self.nat_rules.clear();

        for c in [
            KUBE_SERVICES,
            KUBE_EXTERNAL_SERVICES,
            KUBE_FORWARD,
            KUBE_NODEPORTS,
            KUBE_PROXY_FIREWALL,
        ] {
            self.filter_chains.chain(c);
        }
        for c in [
            KUBE_SERVICES,
            KUBE_NODEPORTS,
            KUBE_POSTROUTING,
            KUBE_MARK_MASQ,
        ] {
            self.nat_chains.chain(c);
        }
        self.nat_rules.write(&[
            "-A",
            KUBE_POSTROUTING,
            "-m mark ! --mark",
            &mark_mask,
            "-j RETURN",
        ]);
        self.nat_rules
            .write(&["-A", KUBE_POSTROUTING, "-j MARK --xor-mark", &mark]);
        self.nat_rules.write(&[
            "-A",
            KUBE_POSTROUTING,
            "-m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE",
            if self.config.random_fully {
                "--random-fully"
            } else {
                ""
            },
        ]);
        self.nat_rules
            .write(&["-A", KUBE_MARK_MASQ, "-j MARK --or-mark", &mark]);
        if !v6 && self.config.localhost_node_ports {
            self.filter_chains.chain(KUBE_FIREWALL);
            self.filter_rules.write(&[
                "-A",
                KUBE_FIREWALL,
                "-m comment --comment \"block incoming localnet connections\" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
            ]);
        }

        let total_endpoints = self.total_endpoints;
        let large = total_endpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;

        let mut skipped_nat_rules = 0usize;
        let mut written = 0usize;
        let mut svc_ports = std::mem::take(&mut self.svc_ports);
        let endpoints = std::mem::take(&mut self.endpoints);
        let empty: Vec<EndpointInfo> = Vec::new();
        for (spn, entry) in svc_ports.iter_mut() {
            let write_chains = full || self.changed.contains(&spn.key);
            if !write_chains {
                if let Some(i) = &entry.installed {
                    // Unchanged: its top-level rules as last time, its chains left in place.
                    self.nat_rules.text.push_str(&i.top_nat);
                    self.nat_rules.lines += i.top_nat_lines;
                    self.filter_rules.text.push_str(&i.top_filter);
                    self.filter_rules.lines += i.top_filter_lines;
                    skipped_nat_rules += i.nat_rules;
                    continue;
                }
            }
            let eps = endpoints.get(spn).unwrap_or(&empty);
            let installed = self.write_service_port(&entry.info, eps, large);
            written += 1;
            if let Some(old) = entry.installed.take() {
                for c in old.chains {
                    if !installed.chains.contains(&c) {
                        self.stale.insert(c, spn.clone());
                    }
                }
            }
            entry.installed = Some(installed);
        }
        let services = svc_ports.len();
        self.svc_ports = svc_ports;
        self.endpoints = endpoints;

        let mut deleted = 0usize;
        let cleanup = !large
            || self
                .last_cleanup
                .is_none_or(|t| now.saturating_sub(t) > self.config.sync_period_ns);
        if cleanup {
            let stale = std::mem::take(&mut self.stale);
            for (chain, owner) in stale {
                let active = self
                    .svc_ports
                    .get(&owner)
                    .and_then(|e| e.installed.as_ref())
                    .is_some_and(|i| i.chains.contains(&chain));
                if active {
                    continue;
                }
                let name = chain.name();
                self.nat_chains.chain(name.as_str());
                self.nat_rules.write(&["-X", name.as_str()]);
                deleted += 1;
                self.last_deleted.push((chain, owner));
            }
            self.last_cleanup = Some(now);
        }

        const LAST: &str = "-m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\"";
        match &self.config.node_port_addresses {
            None => {
                let extra = if v6 {
                    "! -d ::1/128"
                } else if !self.config.localhost_node_ports {
                    "! -d 127.0.0.0/8"
                } else {
                    ""
                };
                self.nat_rules.write(&[
                    "-A",
                    KUBE_SERVICES,
                    LAST,
                    "-m addrtype --dst-type LOCAL",
                    extra,
                    "-j",
                    KUBE_NODEPORTS,
                ]);
            }
            Some(ips) => {
                for ip in ips {
                    let Ok(addr) = ip.parse::<IpAddr>() else {
                        continue;
                    };
                    if addr.is_loopback() && (v6 || !self.config.localhost_node_ports) {
                        continue;
                    }
                    let addr = addr.to_string();
                    self.nat_rules.write(&[
                        "-A",
                        KUBE_SERVICES,
                        LAST,
                        "-d",
                        &addr,
                        "-j",
                        KUBE_NODEPORTS,
                    ]);
                }
            }
        }

        if !self.config.conntrack_tcp_liberal {
            self.filter_rules.write(&[
                "-A",
                KUBE_FORWARD,
                "-m conntrack --ctstate INVALID",
                if self.config.nfacct {
                    "-m nfacct --nfacct-name ct_state_invalid_dropped_pkts"
                } else {
                    ""
                },
                "-j DROP",
            ]);
        }
        self.filter_rules.write(&[
            "-A",
            KUBE_FORWARD,
            "-m comment --comment \"kubernetes forwarding rules\" -m mark --mark",
            &mark_mask,
            "-j ACCEPT",
        ]);
        self.filter_rules.write(&[
            "-A",
            KUBE_FORWARD,
            "-m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        ]);

        let mut restore = String::with_capacity(
            32 + self.filter_chains.text.len()
                + self.filter_rules.text.len()
                + self.nat_chains.text.len()
                + self.nat_rules.text.len(),
        );
        restore.push_str("*filter\n");
        restore.push_str(&self.filter_chains.text);
        restore.push_str(&self.filter_rules.text);
        restore.push_str("COMMIT\n*nat\n");
        restore.push_str(&self.nat_chains.text);
        restore.push_str(&self.nat_rules.text);
        restore.push_str("COMMIT\n");

        self.need_full_sync = false;
        if full {
            self.last_full_sync = Some(now);
        }
        self.changed.clear();
        SyncResult {
            restore,
            full_sync: full,
            large_cluster_mode: large,
            service_ports_written: written,
            filter_rules: self.filter_rules.lines,
            nat_rules: self.nat_rules.lines - deleted,
            nat_rules_total: self.nat_rules.lines + skipped_nat_rules - deleted,
            deleted_chains: deleted,
            services,
            endpoints: total_endpoints,
        }
    }

    /// The rules of one service port (the body of upstream's loop). Writes the
    /// top-level rules always and the service's own chains when `write_chains`.
    fn write_service_port(
        &mut self,
        svc: &ServicePortInfo,
        eps: &[EndpointInfo],
        large: bool,
    ) -> Installed {
        let (nat_start, nat_lines) = (self.nat_rules.text.len(), self.nat_rules.lines);
        let (filter_start, filter_lines) = (self.filter_rules.text.len(), self.filter_rules.lines);
        let zone = self
            .node_labels
            .get("topology.kubernetes.io/zone")
            .map(String::as_str);
        let cat = categorize(eps, svc, zone);
        let name = svc.name_string.as_str();
        let chain = |kind| Chain {
            kind,
            hash: svc.hash,
        };
        let cluster_chain = chain(ChainKind::Svc);
        let local_chain = chain(ChainKind::Svl);
        let ext_chain = chain(ChainKind::Ext);
        let fw_chain = chain(ChainKind::Fw);
        let (svc_n, svl_n, ext_n, fw_n) = (
            cluster_chain.name(),
            local_chain.name(),
            ext_chain.name(),
            fw_chain.name(),
        );
        let has_endpoints = cat.has_any;
        let uses_cluster = !cat.cluster.is_empty() && svc.uses_cluster_endpoints();
        let uses_local = !cat.local.is_empty() && svc.uses_local_endpoints();
        let (internal_chain, has_internal) = if svc.internal_policy_local {
            (&svl_n, has_endpoints && !cat.local.is_empty())
        } else {
            (&svc_n, has_endpoints)
        };
        let (external_policy_chain, has_external) = if svc.external_policy_local {
            (&svl_n, has_endpoints && !cat.local.is_empty())
        } else {
            (&svc_n, has_endpoints)
        };
        let uses_ext = has_endpoints && svc.externally_accessible();
        let uses_fw = has_endpoints && !svc.lb_vips.is_empty() && !svc.lb_source_ranges.is_empty();
        let lb_chain = if uses_fw { &fw_n } else { &ext_n };

        let (int_target, int_comment, ext_target, ext_comment) = if !has_endpoints {
            let c = format!("-m comment --comment \"{name} has no endpoints\"");
            ("REJECT", c.clone(), "REJECT", c)
        } else {
            let none = || format!("-m comment --comment \"{name} has no local endpoints\"");
            let (it, ic) = if has_internal {
                ("", String::new())
            } else {
                ("DROP", none())
            };
            let (et, ec) = if has_external {
                ("", String::new())
            } else {
                ("DROP", none())
            };
            (it, ic, et, ec)
        };
        let m_proto = svc.m_proto.as_str();
        let cluster_ip_comment = svc.cluster_ip_comment.as_str();

        // Capture the cluster IP.
        if has_internal {
            self.nat_rules.dest_rule(
                KUBE_SERVICES,
                cluster_ip_comment,
                m_proto,
                &svc.cluster_ip,
                &svc.port,
                internal_chain.as_str(),
            );
        } else {
            self.filter_rules.dest_rule(
                KUBE_SERVICES,
                &int_comment,
                m_proto,
                &svc.cluster_ip,
                &svc.port,
                int_target,
            );
        }
        // External IPs.
        if !svc.external_ips.is_empty() {
            let comment = format!("-m comment --comment \"{name} external IP\"");
            for ip in &svc.external_ips {
                if has_endpoints {
                    self.nat_rules.dest_rule(
                        KUBE_SERVICES,
                        &comment,
                        m_proto,
                        ip,
                        &svc.port,
                        ext_n.as_str(),
                    );
                }
                if !has_external {
                    self.filter_rules.dest_rule(
                        KUBE_EXTERNAL_SERVICES,
                        &ext_comment,
                        m_proto,
                        ip,
                        &svc.port,
                        ext_target,
                    );
                }
            }
        }
        // Load-balancer ingress IPs.
        if !svc.lb_vips.is_empty() {
            let comment = format!("-m comment --comment \"{name} loadbalancer IP\"");
            let fw_comment = format!(
                "-m comment --comment \"{name} traffic not accepted by {}\"",
                fw_n.as_str()
            );
            for ip in &svc.lb_vips {
                if has_endpoints {
                    self.nat_rules.dest_rule(
                        KUBE_SERVICES,
                        &comment,
                        m_proto,
                        ip,
                        &svc.port,
                        lb_chain.as_str(),
                    );
                }
                if uses_fw {
                    self.filter_rules.dest_rule(
                        KUBE_PROXY_FIREWALL,
                        &fw_comment,
                        m_proto,
                        ip,
                        &svc.port,
                        "DROP",
                    );
                }
            }
            if !has_external {
                for ip in &svc.lb_vips {
                    self.filter_rules.dest_rule(
                        KUBE_EXTERNAL_SERVICES,
                        &ext_comment,
                        m_proto,
                        ip,
                        &svc.port,
                        ext_target,
                    );
                }
            }
        }
        // Node ports.
        if !svc.node_port.is_empty() {
            if has_endpoints {
                if self.config.localhost_node_ports
                    && self.config.ip_family == IpFamily::V4
                    && self.config.nfacct
                {
                    self.nat_rules.write(&[
                        "-A",
                        KUBE_NODEPORTS,
                        "-m comment --comment",
                        name,
                        m_proto,
                        "-d 127.0.0.0/8 --dport",
                        &svc.node_port,
                        "-m nfacct --nfacct-name",
                        NFACCT_LOCALHOST_NODEPORT_ACCEPTED,
                        "-j",
                        ext_n.as_str(),
                    ]);
                }
                self.nat_rules.write(&[
                    "-A",
                    KUBE_NODEPORTS,
                    "-m comment --comment",
                    name,
                    m_proto,
                    "--dport",
                    &svc.node_port,
                    "-j",
                    ext_n.as_str(),
                ]);
            }
            if !has_external {
                self.filter_rules.write(&[
                    "-A",
                    KUBE_EXTERNAL_SERVICES,
                    &ext_comment,
                    "-m addrtype --dst-type LOCAL",
                    m_proto,
                    "--dport",
                    &svc.node_port,
                    "-j",
                    ext_target,
                ]);
            }
        }
        // Health check node port.
        if !svc.health_check_node_port.is_empty() {
            self.filter_rules.write(&[
                "-A",
                KUBE_NODEPORTS,
                &format!("-m comment --comment \"{name} health check node port\""),
                "-m tcp -p tcp --dport",
                &svc.health_check_node_port,
                "-j ACCEPT",
            ]);
        }

        let top_nat: Box<str> = self.nat_rules.text[nat_start..].into();
        let top_nat_lines = self.nat_rules.lines - nat_lines;
        let top_filter: Box<str> = self.filter_rules.text[filter_start..].into();
        let top_filter_lines = self.filter_rules.lines - filter_lines;
        let before = self.nat_rules.lines;
        let mut chains = Vec::with_capacity(cat.all.len() + 2);

        // Internal traffic.
        if has_internal {
            if self.config.masquerade_all {
                self.nat_rules.dest_rule(
                    internal_chain.as_str(),
                    cluster_ip_comment,
                    m_proto,
                    &svc.cluster_ip,
                    &svc.port,
                    KUBE_MARK_MASQ,
                );
            } else if self.detector {
                self.nat_rules.write(&[
                    "-A",
                    internal_chain.as_str(),
                    cluster_ip_comment,
                    m_proto,
                    "-d",
                    &svc.cluster_ip,
                    "--dport",
                    &svc.port,
                    &self.if_not_local,
                    "-j",
                    KUBE_MARK_MASQ,
                ]);
            }
        }
        // External traffic.
        if uses_ext {
            self.nat_chains.chain(ext_n.as_str());
            chains.push(ext_chain);
            if !svc.external_policy_local {
                self.nat_rules.write(&[
                    "-A",
                    ext_n.as_str(),
                    &format!(
                        "-m comment --comment \"masquerade traffic for {name} external destinations\""
                    ),
                    "-j",
                    KUBE_MARK_MASQ,
                ]);
            } else {
                if self.detector {
                    self.nat_rules.write(&[
                        "-A",
                        ext_n.as_str(),
                        &format!(
                            "-m comment --comment \"pod traffic for {name} external destinations\""
                        ),
                        &self.if_local,
                        "-j",
                        svc_n.as_str(),
                    ]);
                }
                self.nat_rules.write(&[
                    "-A",
                    ext_n.as_str(),
                    &format!("-m comment --comment \"masquerade LOCAL traffic for {name} external destinations\""),
                    "-m addrtype --src-type LOCAL -j",
                    KUBE_MARK_MASQ,
                ]);
                self.nat_rules.write(&[
                    "-A",
                    ext_n.as_str(),
                    &format!("-m comment --comment \"route LOCAL traffic for {name} external destinations\""),
                    "-m addrtype --src-type LOCAL -j",
                    svc_n.as_str(),
                ]);
            }
            if has_external {
                self.nat_rules
                    .write(&["-A", ext_n.as_str(), "-j", external_policy_chain.as_str()]);
            }
        }
        // Load-balancer source ranges.
        if uses_fw {
            self.nat_chains.chain(fw_n.as_str());
            chains.push(fw_chain);
            let comment = format!("-m comment --comment \"{name} loadbalancer IP\"");
            let mut allow_from_node = false;
            for cidr in &svc.lb_source_ranges {
                self.scratch.clear();
                let _ = write!(self.scratch, "{cidr}");
                self.nat_rules.write(&[
                    "-A",
                    fw_n.as_str(),
                    &comment,
                    "-s",
                    &self.scratch,
                    "-j",
                    ext_n.as_str(),
                ]);
                if self.config.node_ip.is_some_and(|ip| cidr.contains(&ip)) {
                    allow_from_node = true;
                }
            }
            if allow_from_node {
                for ip in &svc.lb_vips {
                    self.nat_rules.write(&[
                        "-A",
                        fw_n.as_str(),
                        &comment,
                        "-s",
                        ip,
                        "-j",
                        ext_n.as_str(),
                    ]);
                }
            }
            self.nat_rules.write(&[
                "-A",
                fw_n.as_str(),
                &format!("-m comment --comment \"other traffic to {name} will be dropped by KUBE-PROXY-FIREWALL\""),
            ]);
        }
        if uses_cluster {
            self.nat_chains.chain(svc_n.as_str());
            chains.push(cluster_chain);
            self.write_service_to_endpoint_rules(svc, &svc_n, &cat.cluster, large);
        }
        if uses_local {
            self.nat_chains.chain(svl_n.as_str());
            chains.push(local_chain);
            self.write_service_to_endpoint_rules(svc, &svl_n, &cat.local, large);
        }
        // The endpoint chains.
        let comment = if large {
            String::new()
        } else {
            format!("-m comment --comment {name}")
        };
        for ep in &cat.all {
            let sep = Chain {
                kind: ChainKind::Sep,
                hash: ep.chain,
            };
            let sep_n = sep.name();
            self.nat_chains.chain(sep_n.as_str());
            chains.push(sep);
            self.nat_rules.write(&[
                "-A",
                sep_n.as_str(),
                &comment,
                "-s",
                &ep.ip,
                "-j",
                KUBE_MARK_MASQ,
            ]);
            self.nat_rules.write(&[
                "-A",
                sep_n.as_str(),
                &comment,
                if svc.client_ip_affinity {
                    "-m recent --name"
                } else {
                    ""
                },
                if svc.client_ip_affinity {
                    sep_n.as_str()
                } else {
                    ""
                },
                if svc.client_ip_affinity { "--set" } else { "" },
                m_proto,
                "-j DNAT --to-destination",
                &ep.endpoint,
            ]);
        }
        Installed {
            chains,
            nat_rules: self.nat_rules.lines - before,
            top_nat,
            top_nat_lines,
            top_filter,
            top_filter_lines,
        }
    }

    fn write_service_to_endpoint_rules(
        &mut self,
        svc: &ServicePortInfo,
        chain: &ChainName,
        endpoints: &[&EndpointInfo],
        large: bool,
    ) {
        let name = svc.name_string.as_str();
        let comment = |ep: &EndpointInfo| {
            if large {
                String::new()
            } else {
                format!("-m comment --comment \"{name} -> {}\"", ep.endpoint)
            }
        };
        if svc.client_ip_affinity {
            for ep in endpoints {
                let sep = Chain {
                    kind: ChainKind::Sep,
                    hash: ep.chain,
                }
                .name();
                self.nat_rules.write(&[
                    "-A",
                    chain.as_str(),
                    &comment(ep),
                    "-m recent --name",
                    sep.as_str(),
                    "--rcheck --seconds",
                    &svc.sticky_max_age_seconds,
                    "--reap -j",
                    sep.as_str(),
                ]);
            }
        }
        let n = endpoints.len();
        for (i, ep) in endpoints.iter().enumerate() {
            let sep = Chain {
                kind: ChainKind::Sep,
                hash: ep.chain,
            }
            .name();
            let c = comment(ep);
            if i + 1 < n {
                let p = self.probability(n - i).to_string();
                self.nat_rules.write(&[
                    "-A",
                    chain.as_str(),
                    &c,
                    "-m statistic --mode random --probability",
                    &p,
                    "-j",
                    sep.as_str(),
                ]);
            } else {
                self.nat_rules
                    .write(&["-A", chain.as_str(), &c, "-j", sep.as_str()]);
            }
        }
    }
}

struct Categorized<'a> {
    cluster: Vec<&'a EndpointInfo>,
    local: Vec<&'a EndpointInfo>,
    all: Vec<&'a EndpointInfo>,
    has_any: bool,
}

/// upstream `CategorizeEndpoints`.
fn categorize<'a>(
    eps: &'a [EndpointInfo],
    svc: &ServicePortInfo,
    zone: Option<&str>,
) -> Categorized<'a> {
    let mut cluster = Vec::new();
    let mut local = Vec::new();
    let mut has_any = false;
    let mut use_topology = false;
    let mut serving_terminating = false;
    if svc.uses_cluster_endpoints() {
        use_topology = can_use_topology(eps, zone);
        cluster = eps
            .iter()
            .filter(|e| e.ready && (!use_topology || zone.is_some_and(|z| has_hint(e, z))))
            .collect();
        if cluster.is_empty() {
            cluster = eps.iter().filter(|e| e.serving && e.terminating).collect();
        }
        has_any = !cluster.is_empty();
    }
    if !svc.uses_local_endpoints() {
        let all = cluster.clone();
        return Categorized {
            cluster,
            local,
            all,
            has_any,
        };
    }
    let (mut local_ready, mut local_serving_terminating) = (false, false);
    for e in eps {
        if e.ready {
            has_any = true;
            local_ready |= e.is_local;
        } else if e.serving && e.terminating {
            has_any = true;
            local_serving_terminating |= e.is_local;
        }
    }
    if local_ready {
        local = eps.iter().filter(|e| e.is_local && e.ready).collect();
    } else if local_serving_terminating {
        serving_terminating = true;
        local = eps
            .iter()
            .filter(|e| e.is_local && e.serving && e.terminating)
            .collect();
    }
    if !svc.uses_cluster_endpoints() {
        let all = local.clone();
        return Categorized {
            cluster,
            local,
            all,
            has_any,
        };
    }
    let all = if !use_topology && !serving_terminating {
        cluster.clone()
    } else {
        let mut all = cluster.clone();
        for e in &local {
            if !all.iter().any(|a| a.endpoint == e.endpoint) {
                all.push(e);
            }
        }
        all
    };
    Categorized {
        cluster,
        local,
        all,
        has_any,
    }
}

fn has_hint(e: &EndpointInfo, zone: &str) -> bool {
    e.zone_hints.iter().any(|z| z == zone)
}

/// upstream `canUseTopology`: every ready endpoint has zone hints, the node has a
/// zone, and some endpoint is hinted for it.
fn can_use_topology(eps: &[EndpointInfo], zone: Option<&str>) -> bool {
    let mut for_zone = false;
    for e in eps.iter().filter(|e| e.ready) {
        if e.zone_hints.is_empty() {
            return false;
        }
        let Some(z) = zone.filter(|z| !z.is_empty()) else {
            return false;
        };
        for_zone |= has_hint(e, z);
    }
    for_zone
}

/// The entries of a map keyed by service port name that belong to one Service.
fn range_of<'a, V>(
    map: &'a BTreeMap<ServicePortName, V>,
    key: &'a ServiceKey,
) -> impl Iterator<Item = (&'a ServicePortName, &'a V)> + 'a {
    let start = ServicePortName {
        key: key.clone(),
        port: String::new(),
        protocol: String::new(),
    };
    map.range(start..).take_while(move |(k, _)| &k.key == key)
}

/// upstream `newBaseServiceInfo` for every port of a Service, or nothing for a
/// Service kube-proxy skips (headless, ExternalName, no cluster IP of the family).
fn service_ports(service: &Service, family: IpFamily) -> Vec<(ServicePortName, ServicePortInfo)> {
    let spec = &service.spec;
    if spec.cluster_ip.is_empty() || spec.cluster_ip == "None" || spec.kind == "ExternalName" {
        return Vec::new();
    }
    let of_family = |s: &str| {
        s.trim()
            .parse::<IpAddr>()
            .ok()
            .filter(|ip| IpFamily::of(ip) == family)
    };
    let cluster_ip = if spec.cluster_ips.is_empty() {
        of_family(&spec.cluster_ip)
    } else {
        spec.cluster_ips.iter().find_map(|s| of_family(s))
    };
    let Some(cluster_ip) = cluster_ip else {
        return Vec::new();
    };
    let kind = if spec.kind.is_empty() {
        "ClusterIP"
    } else {
        spec.kind.as_str()
    };
    let externally_accessible = kind == "LoadBalancer"
        || kind == "NodePort"
        || (kind == "ClusterIP" && !spec.external_ips.is_empty());
    let external_policy_local = externally_accessible && spec.external_traffic_policy == "Local";
    let internal_policy_local = spec.internal_traffic_policy.as_deref() == Some("Local");
    let client_ip_affinity = spec.session_affinity == "ClientIP";
    let sticky = if client_ip_affinity {
        spec.session_affinity_config
            .as_ref()
            .and_then(|c| c.pointer("/clientIP/timeoutSeconds"))
            .and_then(|v| v.as_i64())
            .unwrap_or(DEFAULT_CLIENT_IP_TIMEOUT_SECONDS)
    } else {
        0
    };
    let external_ips: Vec<String> = spec
        .external_ips
        .iter()
        .filter_map(|s| of_family(s))
        .map(|ip| ip.to_string())
        .collect();
    let lb_source_ranges: Vec<IpNet> = spec
        .load_balancer_source_ranges
        .iter()
        .filter_map(|s| IpNet::parse(s.trim()))
        .filter(|n| IpFamily::of(&n.addr) == family)
        .collect();
    let lb_vips: Vec<String> = service
        .status
        .load_balancer
        .ingress
        .iter()
        .filter(|i| !i.ip.is_empty() && i.ip_mode.as_deref().is_none_or(|m| m == "VIP"))
        .filter_map(|i| of_family(&i.ip))
        .map(|ip| ip.to_string())
        .collect();
    let needs_health_check = kind == "LoadBalancer" && external_policy_local;
    let health_check_node_port = if needs_health_check && spec.health_check_node_port != 0 {
        spec.health_check_node_port.to_string()
    } else {
        String::new()
    };
    let cluster_ip = cluster_ip.to_string();
    spec.ports
        .iter()
        .map(|port| {
            let protocol = port.protocol.clone().unwrap_or_else(|| "TCP".into());
            let spn = ServicePortName {
                key: ServiceKey {
                    namespace: service.metadata.namespace.clone(),
                    name: service.metadata.name.clone(),
                },
                port: port.name.clone(),
                protocol: protocol.clone(),
            };
            let name_string = spn.to_string();
            let lower = protocol.to_ascii_lowercase();
            let hash = hash16(&[&name_string, &lower]);
            let info = ServicePortInfo {
                cluster_ip: cluster_ip.clone(),
                port: port.port.to_string(),
                node_port: if port.node_port != 0 {
                    port.node_port.to_string()
                } else {
                    String::new()
                },
                lb_vips: lb_vips.clone(),
                external_ips: external_ips.clone(),
                lb_source_ranges: lb_source_ranges.clone(),
                client_ip_affinity,
                sticky_max_age_seconds: sticky.to_string(),
                health_check_node_port: health_check_node_port.clone(),
                external_policy_local,
                internal_policy_local,
                hash,
                m_proto: format!("-m {lower} -p {lower}"),
                cluster_ip_comment: format!("-m comment --comment \"{name_string} cluster IP\""),
                name_string,
            };
            (spn, info)
        })
        .collect()
}

/// What kube-proxy keeps of a slice (upstream `newEndpointSliceInfo`). A port without
/// a name or protocol gets the API server's defaults (`""`, TCP); a port without a
/// number is ignored.
fn slice_info(slice: &EndpointSlice) -> SliceInfo {
    let mut ports: Vec<SlicePort> = slice
        .ports
        .iter()
        .filter_map(|p| {
            let port = p.port.filter(|n| *n != 0)?;
            Some(SlicePort {
                name: p.name.clone().unwrap_or_default(),
                port,
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
            })
        })
        .collect();
    ports.sort_by_key(|p| p.port);
    let mut endpoints: Vec<SliceEndpoint> = slice
        .endpoints
        .iter()
        .filter_map(|e| {
            let address = e.addresses.first()?.clone();
            let zone_hints = e
                .hints
                .as_ref()
                .and_then(|h| h.get("forZones"))
                .and_then(|z| z.as_array())
                .map(|zones| {
                    zones
                        .iter()
                        .filter_map(|z| z.get("name").and_then(|n| n.as_str()))
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            Some(SliceEndpoint {
                address,
                node_name: e.node_name.clone(),
                ready: e.conditions.ready.unwrap_or(true),
                serving: e.conditions.serving.unwrap_or(true),
                terminating: e.conditions.terminating.unwrap_or(false),
                zone_hints,
            })
        })
        .collect();
    endpoints.sort_by(|a, b| a.address.cmp(&b.address));
    SliceInfo { ports, endpoints }
}

/// Go's `fmt.Sprintf("%0.10f", x)` for 0 < x <= 1: round half to even on the exact
/// binary value, as Go's strconv does.
pub fn go_fixed10(x: f64) -> String {
    // Enough digits to hold any 1/n of interest exactly past the tenth place.
    let long = format!("{x:.120}");
    let Some((int, frac)) = long.split_once('.') else {
        return format!("{x:.10}");
    };
    let digits: Vec<u8> = frac.bytes().map(|b| b - b'0').collect();
    let mut head: Vec<u8> = digits[..10].to_vec();
    let rest = &digits[10..];
    let round_up = match rest.first() {
        Some(d) if *d > 5 => true,
        Some(5) => rest[1..].iter().any(|d| *d != 0) || head[9] % 2 == 1,
        _ => false,
    };
    let mut int: u64 = int.parse().unwrap_or(0);
    if round_up {
        let mut i = 10;
        loop {
            if i == 0 {
                int += 1;
                break;
            }
            i -= 1;
            if head[i] == 9 {
                head[i] = 0;
            } else {
                head[i] += 1;
                break;
            }
        }
    }
    let mut s = int.to_string();
    s.push('.');
    for d in head {
        s.push((b'0' + d) as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_as_go_prints_them() {
        assert_eq!(go_fixed10(1.0 / 3.0), "0.3333333333");
        assert_eq!(go_fixed10(1.0 / 2.0), "0.5000000000");
        assert_eq!(go_fixed10(1.0 / 6.0), "0.1666666667");
        assert_eq!(go_fixed10(1.0), "1.0000000000");
        // 1/2048 = 0.00048828125 exactly: a tie, rounded to even.
        assert_eq!(go_fixed10(1.0 / 2048.0), "0.0004882812");
        assert_eq!(go_fixed10(1.0 / 1000.0), "0.0010000000");
    }

    #[test]
    fn masquerade_mark_pads_like_go() {
        assert_eq!(masquerade_mark(14), "0x00004000");
    }

    #[test]
    fn cidrs_are_masked() {
        let n = IpNet::parse("203.0.113.7/25").expect("cidr");
        assert_eq!(n.to_string(), "203.0.113.0/25");
        assert!(n.contains(&"203.0.113.2".parse().expect("ip")));
        assert!(!n.contains(&"203.0.113.130".parse().expect("ip")));
    }
}
