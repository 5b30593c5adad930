//! The data plane of a cluster as a packet meets it: each node's root network
//! namespace (eth0 with the node's address, the pod bridge, a tunnel device when the
//! plug-in has one, the route table, the node's iptables engine), and each pod's own
//! namespace (eth0, one end of a veth pair whose other end is a port of the bridge,
//! and its two routes). A hostNetwork pod has no namespace of its own: it lives in
//! the node's.
//!
//! The five plug-ins of `spec.cluster.network.plugin`, as the seed and their projects
//! describe them:
//! - `flannel-vxlan`: bridge `cni0` (the CNI bridge plug-in), device `flannel.1` with
//!   the node's pod network address as /32, and per other node a route
//!   `10.244.M.0/24 via 10.244.M.0 dev flannel.1 onlink`; packets to another node's
//!   pods are wrapped in UDP to port 8472 (VNI 1).
//! - `flannel-host-gw`: bridge `cni0`, and per other node a route
//!   `10.244.M.0/24 via NODE-M-IP dev eth0` (the nodes share one layer-2 network).
//! - `direct-routing`: bridge `cbr0` (kubenet's), and per other node a static route
//!   to its pod network through its address, as the seed's `route add` does.
//! - `ovs`: an Open vSwitch bridge `br0` holds the pods' veths, an internal port
//!   `tun0` (the gateway, .1) and a `vxlan0` port; its flows switch pod-to-pod traffic
//!   itself (local port, or VXLAN to UDP 4789 on the node owning the destination's
//!   pod network) and hand everything else to the host through `tun0`, as
//!   openshift-sdn did.
//! - `docker-bridge`: plain docker: `docker0` with 172.17.0.1/16 on every node and
//!   no route between nodes, so a container cannot reach one on another node (the
//!   seed's problem).
//!
//! Simplified, and said so: one layer-2 network joins the nodes' eth0 (a /24 per
//! node address, the gateway at .1); the outer packet of a tunnel does not traverse
//! the node's iptables; ARP, MAC addresses and the bridge's forwarding database are
//! not modelled (an address is "known on the bridge" when a pod or the bridge has it).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Serialize;

use super::netfilter::{Cidr, HostAddrs, Netfilter};

/// The ports the simulated ingress controller listens on, on every node.
pub const INGRESS_PORTS: [u16; 2] = [80, 443];

/// docker's default bridge network.
pub const DOCKER0_CIDR: &str = "172.17.0.0/16";
/// flannel's VXLAN port (the Linux kernel's default, not IANA's 4789).
pub const FLANNEL_VXLAN_PORT: u16 = 8472;
/// Open vSwitch's VXLAN port (IANA's).
pub const OVS_VXLAN_PORT: u16 = 4789;

/// How pods on different nodes reach each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Plugin {
    FlannelVxlan,
    FlannelHostGw,
    Ovs,
    DirectRouting,
    DockerBridge,
}

impl Plugin {
    pub fn parse(s: &str) -> Option<Plugin> {
        Some(match s {
            "flannel-vxlan" => Plugin::FlannelVxlan,
            "flannel-host-gw" => Plugin::FlannelHostGw,
            "ovs" => Plugin::Ovs,
            "direct-routing" => Plugin::DirectRouting,
            "docker-bridge" => Plugin::DockerBridge,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Plugin::FlannelVxlan => "flannel-vxlan",
            Plugin::FlannelHostGw => "flannel-host-gw",
            Plugin::Ovs => "ovs",
            Plugin::DirectRouting => "direct-routing",
            Plugin::DockerBridge => "docker-bridge",
        }
    }

    /// The bridge the pods' veths are ports of.
    pub fn bridge(self) -> &'static str {
        match self {
            Plugin::FlannelVxlan | Plugin::FlannelHostGw => "cni0",
            Plugin::Ovs => "br0",
            Plugin::DirectRouting => "cbr0",
            Plugin::DockerBridge => "docker0",
        }
    }

    /// The host's interface on the pod network (its address is the pods' gateway).
    pub fn gateway_iface(self) -> &'static str {
        match self {
            Plugin::Ovs => "tun0",
            p => p.bridge(),
        }
    }
}

/// One route of a table, with its `ip route` text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Route {
    #[serde(serialize_with = "cidr_text")]
    pub dst: Cidr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<Ipv4Addr>,
    pub dev: String,
    pub text: String,
}

fn cidr_text<S: serde::Serializer>(c: &Cidr, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&c.to_string())
}

impl Route {
    fn new(dst: Cidr, via: Option<Ipv4Addr>, dev: &str, extra: &str) -> Route {
        let d = if dst.prefix == 0 {
            "default".to_string()
        } else {
            dst.to_string()
        };
        let mut text = d;
        if let Some(v) = via {
            text.push_str(&format!(" via {v}"));
        }
        text.push_str(&format!(" dev {dev}"));
        if !extra.is_empty() {
            text.push(' ');
            text.push_str(extra);
        }
        Route {
            dst,
            via,
            dev: dev.into(),
            text,
        }
    }
}

/// The longest-prefix match of `dst` in a table.
pub fn lookup(routes: &[Route], dst: Ipv4Addr) -> Option<&Route> {
    routes
        .iter()
        .filter(|r| r.dst.contains(dst))
        .max_by_key(|r| r.dst.prefix)
}

/// A node's root network namespace.
#[derive(Clone, Debug)]
pub struct NodeNet<'a> {
    pub name: String,
    pub ip: Ipv4Addr,
    /// The machine runs (a stopped node answers nothing).
    pub up: bool,
    pub pod_cidr: Option<Cidr>,
    /// The host's address on the pod network (the bridge's, or tun0's).
    pub gateway_ip: Option<Ipv4Addr>,
    /// flannel.1's address (the node's pod network address, as /32).
    pub tunnel_ip: Option<Ipv4Addr>,
    pub routes: Vec<Route>,
    /// Ports local processes listen on: (port, who).
    pub listeners: Vec<(u16, String)>,
    pub netfilter: Option<&'a Netfilter>,
    /// kube-proxy's proxy ports in the legacy userspace mode.
    pub proxy_ports: Vec<ProxyPort>,
}

/// A port kube-proxy listens on in userspace mode, and what it does with a new
/// connection from the trace's client.
#[derive(Clone, Debug, PartialEq)]
pub struct ProxyPort {
    pub port: u16,
    /// `default/web:http`.
    pub service: String,
    /// The endpoint it connects to; None without endpoints.
    pub endpoint: Option<(Ipv4Addr, u16)>,
    pub why: String,
}

impl NodeNet<'_> {
    /// What the iptables engine needs to know of this namespace.
    pub fn host(&self, plugin: Plugin) -> HostAddrs {
        let mut ifaces: Vec<(&str, Ipv4Addr)> =
            vec![("eth0", self.ip), ("lo", Ipv4Addr::LOCALHOST)];
        if let Some(g) = self.gateway_ip {
            ifaces.push((plugin.gateway_iface(), g));
        }
        if let Some(t) = self.tunnel_ip {
            ifaces.push(("flannel.1", t));
        }
        let mut h = HostAddrs::new(&ifaces);
        h.routes = self.routes.iter().map(|r| (r.dst, r.dev.clone())).collect();
        h
    }

    /// The node's own addresses.
    pub fn is_local(&self, ip: Ipv4Addr) -> bool {
        ip == self.ip
            || ip.is_loopback()
            || Some(ip) == self.gateway_ip
            || Some(ip) == self.tunnel_ip
    }

    /// The address a local process's packet to `dst` leaves with (the route's
    /// preferred source).
    pub fn source_for(&self, dst: Ipv4Addr) -> Ipv4Addr {
        match lookup(&self.routes, dst).map(|r| r.dev.as_str()) {
            Some("flannel.1") => self.tunnel_ip.unwrap_or(self.ip),
            Some(d) if d != "eth0" => self.gateway_ip.unwrap_or(self.ip),
            _ => self.ip,
        }
    }
}

/// A pod's place on the network.
#[derive(Clone, Debug)]
pub struct PodNet {
    pub namespace: String,
    pub name: String,
    pub node: String,
    pub ip: Ipv4Addr,
    pub host_network: bool,
    /// The host end of its veth pair.
    pub veth: String,
    /// The pod's routes (empty for a hostNetwork pod).
    pub routes: Vec<Route>,
    /// (port, container, listening now).
    pub ports: Vec<(u16, String, bool)>,
}

impl PodNet {
    pub fn key(&self) -> String {
        format!("pod/{}/{}", self.namespace, self.name)
    }

    pub fn netns(&self) -> String {
        if self.host_network {
            format!("node/{}", self.node)
        } else {
            self.key()
        }
    }
}

/// The whole data plane.
#[derive(Clone, Debug)]
pub struct Fabric<'a> {
    pub plugin: Plugin,
    pub cluster_cidr: Cidr,
    pub service_cidr: Cidr,
    pub nodes: BTreeMap<String, NodeNet<'a>>,
    pub pods: Vec<PodNet>,
    /// The simulated ingress controller listens on every node with a kubelet.
    pub ingress_controller: bool,
    /// The Ingress rules, resolved to endpoints.
    pub ingress: Vec<super::ingress::Route>,
}

/// What the builder is told of a node.
pub struct NodeInput<'a> {
    pub name: String,
    pub ip: Ipv4Addr,
    pub up: bool,
    pub pod_cidr: Option<Cidr>,
    pub listeners: Vec<(u16, String)>,
    pub netfilter: Option<&'a Netfilter>,
}

/// What the builder is told of a pod with an address.
pub struct PodInput {
    pub namespace: String,
    pub name: String,
    pub node: String,
    pub ip: Ipv4Addr,
    pub host_network: bool,
    pub ports: Vec<(u16, String, bool)>,
}

/// The host end of a pod's veth pair: `veth` and 8 hex digits, as CNI's bridge
/// plug-in names it (here from the pod's key, so it is the same every run).
pub fn veth_name(namespace: &str, name: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in namespace.bytes().chain([b'/']).chain(name.bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("veth{h:08x}")
}

fn nth(c: Cidr, n: u32) -> Ipv4Addr {
    Ipv4Addr::from(c.addr.wrapping_add(n))
}

impl<'a> Fabric<'a> {
    /// Builds each namespace's interfaces and routes as the plug-in sets them up.
    pub fn build(
        plugin: Plugin,
        cluster_cidr: Cidr,
        service_cidr: Cidr,
        nodes: Vec<NodeInput<'a>>,
        pods: Vec<PodInput>,
    ) -> Fabric<'a> {
        let docker0 = Cidr::parse(DOCKER0_CIDR).unwrap_or(Cidr {
            addr: 0xac11_0000,
            prefix: 16,
        });
        let mut out = BTreeMap::new();
        for n in &nodes {
            let pod_cidr = if plugin == Plugin::DockerBridge {
                Some(docker0)
            } else {
                n.pod_cidr
            };
            let gateway_ip = pod_cidr.map(|c| nth(c, 1));
            let tunnel_ip = match (plugin, pod_cidr) {
                (Plugin::FlannelVxlan, Some(c)) => Some(nth(c, 0)),
                _ => None,
            };
            let link = Cidr {
                addr: u32::from(n.ip) & 0xffff_ff00,
                prefix: 24,
            };
            let mut routes = vec![
                Route::new(Cidr { addr: 0, prefix: 0 }, Some(nth(link, 1)), "eth0", ""),
                Route::new(
                    link,
                    None,
                    "eth0",
                    &format!("proto kernel scope link src {}", n.ip),
                ),
            ];
            match (plugin, pod_cidr, gateway_ip) {
                (Plugin::Ovs, _, Some(g)) => {
                    routes.push(Route::new(
                        cluster_cidr,
                        None,
                        "tun0",
                        &format!("scope link src {g}"),
                    ));
                    routes.push(Route::new(service_cidr, None, "tun0", ""));
                }
                (_, Some(c), Some(g)) => routes.push(Route::new(
                    c,
                    None,
                    plugin.bridge(),
                    &format!("proto kernel scope link src {g}"),
                )),
                _ => {}
            }
            for m in &nodes {
                let (Some(c), true) = (m.pod_cidr, m.name != n.name) else {
                    continue;
                };
                match plugin {
                    Plugin::FlannelVxlan => {
                        routes.push(Route::new(c, Some(nth(c, 0)), "flannel.1", "onlink"))
                    }
                    Plugin::FlannelHostGw => routes.push(Route::new(c, Some(m.ip), "eth0", "")),
                    Plugin::DirectRouting => {
                        routes.push(Route::new(c, Some(m.ip), "eth0", "proto static"))
                    }
                    Plugin::Ovs | Plugin::DockerBridge => {}
                }
            }
            out.insert(
                n.name.clone(),
                NodeNet {
                    name: n.name.clone(),
                    ip: n.ip,
                    up: n.up,
                    pod_cidr,
                    gateway_ip,
                    tunnel_ip,
                    routes,
                    listeners: n.listeners.clone(),
                    netfilter: n.netfilter,
                    proxy_ports: Vec::new(),
                },
            );
        }
        let pods = pods
            .into_iter()
            .map(|p| {
                let node = out.get(&p.node);
                let routes = match (
                    p.host_network,
                    node.and_then(|n| n.pod_cidr),
                    node.and_then(|n| n.gateway_ip),
                ) {
                    (false, Some(c), Some(g)) => {
                        let onlink = if plugin == Plugin::Ovs {
                            cluster_cidr
                        } else {
                            c
                        };
                        vec![
                            Route::new(Cidr { addr: 0, prefix: 0 }, Some(g), "eth0", ""),
                            Route::new(
                                onlink,
                                None,
                                "eth0",
                                &format!("proto kernel scope link src {}", p.ip),
                            ),
                        ]
                    }
                    _ => Vec::new(),
                };
                PodNet {
                    veth: veth_name(&p.namespace, &p.name),
                    namespace: p.namespace,
                    name: p.name,
                    node: p.node,
                    ip: p.ip,
                    host_network: p.host_network,
                    routes,
                    ports: p.ports,
                }
            })
            .collect();
        Fabric {
            plugin,
            cluster_cidr,
            service_cidr,
            nodes: out,
            pods,
            ingress_controller: false,
            ingress: Vec::new(),
        }
    }

    /// The pod with its own namespace holding `ip` on `node`'s bridge.
    pub fn pod_on(&self, node: &str, ip: Ipv4Addr) -> Option<&PodNet> {
        self.pods
            .iter()
            .find(|p| !p.host_network && p.node == node && p.ip == ip)
    }

    /// The node whose pod network holds `ip` (never for docker-bridge, where every
    /// node has the same one).
    pub fn node_of_pod_ip(&self, ip: Ipv4Addr) -> Option<&NodeNet<'a>> {
        if self.plugin == Plugin::DockerBridge {
            return None;
        }
        self.nodes
            .values()
            .find(|n| n.pod_cidr.is_some_and(|c| c.contains(ip)))
    }

    /// The node with this eth0 or tunnel address.
    pub fn node_by_ip(&self, ip: Ipv4Addr) -> Option<&NodeNet<'a>> {
        self.nodes
            .values()
            .find(|n| n.ip == ip || n.tunnel_ip == Some(ip))
    }
}
