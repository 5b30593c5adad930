//! The packet tracer: one packet walked hop by hop through a [`Fabric`], as the
//! `trace` step and the page show it. Each hop says where the packet is (node,
//! network namespace, interface), what decided (a route, a netfilter rule, a bridge,
//! a tunnel), why, and the packet's headers after it.
//!
//! A trace changes nothing: netfilter is walked with [`Netfilter::trace_hook`] (no
//! counters, no conntrack entries) and `-m statistic` draws from the trace's own
//! random stream, so the same trace twice gives the same path.
//!
//! The kernel's order on a node: a packet arriving on an interface meets
//! PREROUTING, then the routing decision on its (possibly DNATed) destination, then
//! INPUT (for the node itself) or FORWARD and POSTROUTING; a packet a local process
//! sends meets the routing decision, OUTPUT, a second routing decision when OUTPUT
//! changed its destination, and POSTROUTING. Each forwarding node takes one from the
//! TTL (64 to start); at zero the packet is dropped, as a routing loop ends.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Serialize;

use super::fabric::{
    lookup, Fabric, NodeNet, Plugin, PodNet, Route, FLANNEL_VXLAN_PORT, INGRESS_PORTS,
    OVS_VXLAN_PORT,
};
use super::netfilter::eval::{HookRecord, Step};
use super::netfilter::{Conntrack, Hook, Netfilter, Packet, Proto, TableName, Verdict};
use crate::kernel::rng::Rng;

/// Where the packet starts.
#[derive(Clone, Debug)]
pub enum Source {
    /// A pod (index into [`Fabric::pods`]): its own namespace, or the node's for a
    /// hostNetwork pod.
    Pod(usize),
    /// A process in a node's root namespace.
    Node(String),
    /// A client outside the cluster; the packet enters through this node (the one
    /// owning the destination address, or the one a cloud load balancer picked).
    External { ip: Ipv4Addr, via: Option<String> },
}

/// The headers shown at a hop.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Headers {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sport: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dport: Option<u16>,
    pub proto: String,
}

impl Headers {
    fn of(p: &Packet) -> Headers {
        let ports = p.proto.has_ports();
        Headers {
            src: p.src,
            dst: p.dst,
            sport: ports.then_some(p.sport),
            dport: ports.then_some(p.dport),
            proto: p.proto.name(),
        }
    }
}

/// The outer headers of an encapsulated packet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outer {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub proto: &'static str,
    pub dport: u16,
    pub vni: u32,
}

/// One hop of the path.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hop {
    pub node: String,
    pub netns: String,
    pub interface: String,
    /// dns, route, netfilter, veth, bridge, ovs, encap, wire, decap, local, deliver,
    /// drop.
    pub stage: &'static str,
    pub rule: String,
    pub why: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook: Option<Hook>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<TableName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Rules evaluated in this table that did not match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_matched: Option<usize>,
    /// The table's walk, rule by rule (runs of non-matching rules as one step).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    pub packet: Headers,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outer: Option<Outer>,
}

/// A whole trace: the `trace` step's output.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceResult {
    /// `delivered` or `dropped`.
    pub verdict: &'static str,
    pub from: String,
    /// Where it ended: `pod/NS/NAME:PORT`, `node/NAME:PORT`, `external:IP:PORT`, or
    /// the address it was sent to when dropped.
    pub to: String,
    pub proto: String,
    pub plugin: Plugin,
    pub hops: Vec<Hop>,
    /// What dropped it (a rule, a policy, a missing route or listener).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_by: Option<String>,
    /// The answer's way back, when the packet was delivered to a pod or a node:
    /// conntrack on each node turns the NAT of the way out around.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<Box<Reply>>,
}

/// The reply of a delivered packet, from the process that took it back to the
/// sender's socket.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reply {
    pub verdict: &'static str,
    pub to: String,
    pub hops: Vec<Hop>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_by: Option<String>,
}

/// Who took the packet (and answers it).
enum Responder {
    Pod(usize),
    Node(String),
}

enum At {
    /// Sent by a process in a pod's own namespace.
    PodSend(usize),
    /// Sent by a process in a node's root namespace.
    HostSend(String),
    /// Arrived on an interface of a node's root namespace.
    HostArrive(String, String),
}

enum End {
    Delivered(String),
    Dropped(String),
}

enum Flow {
    Next(At),
    Done(End),
}

struct Walk<'f, 'a> {
    f: &'f Fabric<'a>,
    rng: Rng,
    now: u64,
    hops: Vec<Hop>,
    ttl: u8,
    /// Each node's connection table as this trace changes it (copies: conntrack
    /// entries of the way out turn the reply's NAT around; the nodes' own tables
    /// never change).
    cts: BTreeMap<String, Conntrack>,
    empty: Netfilter,
    /// While walking a reply: the sender's socket it is for.
    reply_to: Option<(Ipv4Addr, u16)>,
    /// Where the last leg started (the sender's socket).
    leg_src: (Ipv4Addr, u16),
    responder: Option<Responder>,
    http_host: String,
    http_path: String,
    /// Connections opened by proxies on the way (an ingress controller).
    proxied: u16,
}

/// What to trace.
#[derive(Clone, Debug)]
pub struct Request {
    pub from: Source,
    /// Names the source in the result.
    pub from_label: String,
    /// Hops already taken (a DNS answer).
    pub first: Vec<Hop>,
    pub dst: Ipv4Addr,
    pub dport: u16,
    pub proto: Proto,
    /// The HTTP request's Host header and path, for an ingress controller (default:
    /// the destination address and `/`).
    pub host: Option<String>,
    pub path: Option<String>,
}

/// Walks one packet from `req.from` to `req.dst:req.dport`.
pub fn trace(f: &Fabric, req: Request, rng: Rng, now: u64) -> TraceResult {
    let Request {
        from,
        from_label,
        first,
        dst,
        dport,
        proto,
        host,
        path,
    } = req;
    let mut w = Walk {
        f,
        rng,
        now,
        hops: first,
        ttl: 64,
        cts: BTreeMap::new(),
        empty: Netfilter::new(),
        reply_to: None,
        leg_src: (Ipv4Addr::UNSPECIFIED, 0),
        responder: None,
        http_host: host.unwrap_or_else(|| dst.to_string()),
        http_path: path.unwrap_or_else(|| "/".into()),
        proxied: 0,
    };
    const SPORT: u16 = 40000;
    let src = match &from {
        Source::Pod(i) => f.pods.get(*i).map_or(Ipv4Addr::UNSPECIFIED, |p| p.ip),
        Source::Node(n) => f
            .nodes
            .get(n)
            .map_or(Ipv4Addr::UNSPECIFIED, |n| n.source_for(dst)),
        Source::External { ip, .. } => *ip,
    };
    let mut pkt = Packet::new(src, dst, proto, SPORT, dport);
    w.leg_src = (src, SPORT);
    let at = match &from {
        Source::Pod(i) => match f.pods.get(*i) {
            Some(p) if p.host_network => Some(At::HostSend(p.node.clone())),
            Some(_) => Some(At::PodSend(*i)),
            None => None,
        },
        Source::Node(n) => Some(At::HostSend(n.clone())),
        Source::External { via, .. } => w.enter_from_outside(&pkt, via.as_deref()),
    };
    let mut end = None;
    if at.is_none() && end.is_none() {
        let why = format!(
            "nothing outside the cluster routes {dst}: ClusterIPs are virtual and the pod network is not announced beyond the nodes"
        );
        w.hop_plain(
            "",
            "external",
            "",
            "drop",
            format!("no route to {dst}"),
            why.clone(),
            &pkt,
        );
        end = Some(End::Dropped(format!(
            "no route to {dst} outside the cluster"
        )));
    }
    let end = match end {
        Some(e) => e,
        None => w.walk(at, &mut pkt),
    };
    let (verdict, to, dropped_by) = match end {
        End::Delivered(to) => ("delivered", to, None),
        End::Dropped(by) => ("dropped", format!("{dst}:{dport}"), Some(by)),
    };
    let reply = match (verdict, w.responder.take()) {
        ("delivered", Some(r)) => Some(Box::new(w.reply(r, &pkt))),
        _ => None,
    };
    TraceResult {
        verdict,
        from: from_label,
        to,
        proto: proto.name(),
        plugin: f.plugin,
        hops: w.hops,
        dropped_by,
        reply,
    }
}

fn fresh_on_node(pkt: &mut Packet) {
    // Conntrack, marks and interfaces belong to the node the packet was on.
    pkt.ct = None;
    pkt.mark = 0;
    pkt.in_iface.clear();
    pkt.out_iface.clear();
}

impl<'f, 'a> Walk<'f, 'a> {
    #[allow(clippy::too_many_arguments)]
    fn hop_plain(
        &mut self,
        node: &str,
        netns: &str,
        iface: &str,
        stage: &'static str,
        rule: String,
        why: String,
        pkt: &Packet,
    ) {
        self.hops.push(Hop {
            node: node.into(),
            netns: netns.into(),
            interface: iface.into(),
            stage,
            rule,
            why,
            hook: None,
            table: None,
            chain: None,
            target: None,
            not_matched: None,
            steps: Vec::new(),
            packet: Headers::of(pkt),
            outer: None,
        });
    }

    /// Walks the answer to `pkt` (as delivered) back from its responder.
    fn reply(&mut self, r: Responder, pkt: &Packet) -> Reply {
        let forward = std::mem::take(&mut self.hops);
        self.reply_to = Some(self.leg_src);
        self.ttl = 64;
        let mut back = Packet::new(pkt.dst, pkt.src, pkt.proto, pkt.dport, pkt.sport);
        let at = Some(match r {
            Responder::Pod(i) => match self.f.pods.get(i) {
                Some(p) if p.host_network => At::HostSend(p.node.clone()),
                _ => At::PodSend(i),
            },
            Responder::Node(n) => At::HostSend(n),
        });
        let end = self.walk(at, &mut back);
        let hops = std::mem::replace(&mut self.hops, forward);
        match end {
            End::Delivered(to) => Reply {
                verdict: "delivered",
                to,
                hops,
                dropped_by: None,
            },
            End::Dropped(by) => Reply {
                verdict: "dropped",
                to: format!("{}:{}", self.leg_src.0, self.leg_src.1),
                hops,
                dropped_by: Some(by),
            },
        }
    }

    /// Steps the packet from `at` until it is delivered or dropped (a packet with
    /// nowhere to start is lost; 256 steps end a walk that goes round in circles).
    fn walk(&mut self, mut at: Option<At>, pkt: &mut Packet) -> End {
        for _ in 0..256 {
            let Some(a) = at.take() else {
                return End::Dropped("lost".into());
            };
            match self.step(a, pkt) {
                Flow::Next(n) => at = Some(n),
                Flow::Done(e) => return e,
            }
        }
        End::Dropped("the trace went round in circles".into())
    }

    /// A reply that reached the sender's socket.
    fn reply_arrived(
        &mut self,
        node: &str,
        netns: &str,
        iface: &str,
        pkt: &Packet,
        label: String,
    ) -> Option<End> {
        let (ip, port) = self.reply_to?;
        if pkt.dst != ip || (pkt.proto.has_ports() && pkt.dport != port) {
            return None;
        }
        self.hop_plain(
            node,
            netns,
            iface,
            "deliver",
            format!("{}:{} (the sender's socket)", pkt.dst, pkt.dport),
            format!("the reply comes from {}:{}, the address the sender sent to (conntrack undid the NAT on the way back), so the sender's connection takes it", pkt.src, pkt.sport),
            pkt,
        );
        Some(End::Delivered(format!("{label}:{}", pkt.dport)))
    }

    fn node(&self, name: &str) -> Option<&'f NodeNet<'a>> {
        let f: &'f Fabric<'a> = self.f;
        f.nodes.get(name)
    }

    fn enter_from_outside(&mut self, pkt: &Packet, via: Option<&str>) -> Option<At> {
        let f = self.f;
        let (node, why) = if let Some(n) = f.nodes.values().find(|n| n.ip == pkt.dst) {
            (
                n.name.clone(),
                format!(
                    "{} is {}'s address on the node network; the gateway delivers it to its eth0",
                    pkt.dst, n.name
                ),
            )
        } else if let Some(v) = via {
            (
                v.to_string(),
                format!("the cloud load balancer for {} sends the packet, unchanged, to node {v} (it picks among the nodes; kube-proxy's rules there match the load-balancer IP)", pkt.dst),
            )
        } else {
            return None;
        };
        let gw = f
            .nodes
            .get(&node)
            .map(|n| Ipv4Addr::from((u32::from(n.ip) & 0xffff_ff00) + 1))
            .unwrap_or(Ipv4Addr::UNSPECIFIED);
        self.hop_plain(
            &node,
            "external",
            "eth0",
            "wire",
            format!("{} -> gateway {gw} -> {node} eth0", pkt.src),
            why,
            pkt,
        );
        Some(At::HostArrive(node, "eth0".into()))
    }

    fn step(&mut self, at: At, pkt: &mut Packet) -> Flow {
        match at {
            At::PodSend(i) => self.pod_send(i, pkt),
            At::HostSend(n) => self.host_send(&n, pkt),
            At::HostArrive(n, iface) => self.host_arrive(&n, &iface, pkt),
        }
    }

    // ---- a pod's own namespace ----

    fn pod_send(&mut self, i: usize, pkt: &mut Packet) -> Flow {
        let f = self.f;
        let p = &f.pods[i];
        let netns = p.key();
        if pkt.dst == p.ip || pkt.dst.is_loopback() {
            self.hop_plain(
                &p.node,
                &netns,
                "lo",
                "local",
                format!("local {} dev lo table local", pkt.dst),
                "the address is the pod's own: the packet stays in its namespace".into(),
                pkt,
            );
            return Flow::Done(self.deliver_pod(p, pkt));
        }
        let Some(r) = lookup(&p.routes, pkt.dst).cloned() else {
            self.hop_plain(
                &p.node,
                &netns,
                "eth0",
                "drop",
                "no route".into(),
                "the pod's namespace has no route: Network is unreachable".into(),
                pkt,
            );
            return Flow::Done(End::Dropped(format!("no route to {} in {netns}", pkt.dst)));
        };
        let onlink = r.via.is_none();
        let why = if onlink {
            format!(
                "{} is on the pod's link: it is sent straight to its owner's MAC",
                pkt.dst
            )
        } else {
            format!(
                "{} is not on the pod's link: it goes to the gateway {}, the node's {}",
                pkt.dst,
                r.via.map(|v| v.to_string()).unwrap_or_default(),
                f.plugin.gateway_iface()
            )
        };
        self.hop_plain(&p.node, &netns, "eth0", "route", r.text.clone(), why, pkt);
        let Some(node) = self.node(&p.node).map(|n| n.name.clone()) else {
            return Flow::Done(End::Dropped(format!("node {} is unknown", p.node)));
        };
        let bridge = f.plugin.bridge();
        // The neighbour must be on the link.
        if onlink && f.plugin != Plugin::Ovs {
            let known = f.pod_on(&node, pkt.dst).is_some()
                || self.node(&node).and_then(|n| n.gateway_ip) == Some(pkt.dst);
            if !known {
                let elsewhere = f
                    .pods
                    .iter()
                    .find(|o| !o.host_network && o.ip == pkt.dst && o.node != node);
                let why = match (f.plugin, elsewhere) {
                    (Plugin::DockerBridge, Some(o)) => format!(
                        "{} belongs to {} on {}, behind that node's own docker0 with the same subnet {}: the ARP request on {node}'s docker0 gets no answer. Plain docker bridges on two nodes cannot reach each other without mapping host ports",
                        pkt.dst, o.key(), o.node, p.routes.get(1).map(|r| r.dst.to_string()).unwrap_or_default()
                    ),
                    _ => format!("nothing on {bridge} answers ARP for {}", pkt.dst),
                };
                self.hop_plain(
                    &node,
                    &netns,
                    "eth0",
                    "drop",
                    format!("arp who-has {} on {bridge}: no reply", pkt.dst),
                    why,
                    pkt,
                );
                return Flow::Done(End::Dropped(format!(
                    "no ARP reply for {} on {node}'s {bridge}",
                    pkt.dst
                )));
            }
        }
        self.hop_plain(
            &node,
            &netns,
            "eth0",
            "veth",
            format!("eth0 -> {} (veth pair)", p.veth),
            format!("the pod's eth0 and {} in the node's root namespace are the two ends of one veth pair", p.veth),
            pkt,
        );
        if f.plugin == Plugin::Ovs {
            if onlink {
                return self.ovs_switch(&node, pkt, &p.veth);
            }
            self.hop_plain(
                &node,
                "ovs/br0",
                &p.veth,
                "ovs",
                format!("in_port={},ip,nw_dst={} actions=output:tun0", p.veth, pkt.dst),
                "the destination is outside the pod network: br0 hands the packet to the host through its internal port tun0, so the host's routes and iptables (kube-proxy's rules) see it".into(),
                pkt,
            );
            return Flow::Next(At::HostArrive(node, "tun0".into()));
        }
        let gw = r.via.is_some();
        self.hop_plain(
            &node,
            &format!("node/{node}"),
            bridge,
            "bridge",
            format!("{} is a port of {bridge}", p.veth),
            if gw {
                format!("the frame is for {bridge}'s own MAC (the gateway): the bridge passes it up to the node's IP stack")
            } else {
                format!("{bridge} switches the frame to the destination's port; with br_netfilter (net.bridge.bridge-nf-call-iptables=1, which kube-proxy needs) the bridged packet still goes through the node's iptables")
            },
            pkt,
        );
        Flow::Next(At::HostArrive(node, bridge.into()))
    }

    fn deliver_pod(&mut self, p: &PodNet, pkt: &Packet) -> End {
        let netns = p.netns();
        if let Some(e) = self.reply_arrived(&p.node, &netns, "eth0", pkt, p.key()) {
            return e;
        }
        let ports: Vec<&(u16, String, bool)> = p
            .ports
            .iter()
            .filter(|(port, _, _)| *port == pkt.dport)
            .collect();
        if let Some((port, c, _)) = ports.iter().find(|(_, _, l)| *l) {
            self.hop_plain(
                &p.node,
                &netns,
                "eth0",
                "deliver",
                format!("{}:{port} container {c}", p.ip),
                format!("container {c} of {} listens on port {port}", p.key()),
                pkt,
            );
            let f = self.f;
            self.responder = f
                .pods
                .iter()
                .position(|q| std::ptr::eq(q, p))
                .map(Responder::Pod);
            return End::Delivered(format!("{}:{}", p.key(), pkt.dport));
        }
        let (rule, why, by) = match ports.first() {
            Some((port, c, _)) => (
                format!("{}:{port}: not listening yet", p.ip),
                format!("container {c}'s program opens port {port} only after its start-up delay"),
                format!("{}: nothing listens on port {port} yet", p.key()),
            ),
            None => (
                format!("{}:{}: connection refused", p.ip, pkt.dport),
                format!(
                    "no container of {} listens on port {}: the kernel answers {}",
                    p.key(),
                    pkt.dport,
                    refusal(pkt.proto)
                ),
                format!("{}: nothing listens on port {}", p.key(), pkt.dport),
            ),
        };
        self.hop_plain(&p.node, &netns, "eth0", "drop", rule, why, pkt);
        End::Dropped(by)
    }

    // ---- a node's root namespace ----

    fn down(&mut self, node: &str, pkt: &Packet) -> Option<Flow> {
        let up = self.node(node).is_some_and(|n| n.up);
        if up {
            return None;
        }
        self.hop_plain(
            node,
            &format!("node/{node}"),
            "eth0",
            "drop",
            format!("{node} is down"),
            "the machine is stopped: nothing receives or forwards".into(),
            pkt,
        );
        Some(Flow::Done(End::Dropped(format!("node {node} is down"))))
    }

    fn host_send(&mut self, node: &str, pkt: &mut Packet) -> Flow {
        if let Some(f) = self.down(node, pkt) {
            return f;
        }
        let Some(n) = self.node(node) else {
            return Flow::Done(End::Dropped(format!("node {node} is unknown")));
        };
        let netns = format!("node/{node}");
        if n.is_local(pkt.dst) {
            pkt.out_iface = "lo".into();
            self.hop_plain(
                node,
                &netns,
                "lo",
                "route",
                format!("local {} dev lo table local", pkt.dst),
                "the address is the node's own: the packet loops back".into(),
                pkt,
            );
            if let Err(e) = self.netfilter(n, Hook::Output, pkt) {
                return Flow::Done(e);
            }
            return self.loop_back(n, pkt);
        }
        let Some(r) = self.route(n, pkt, "a local process's packet") else {
            return Flow::Done(End::Dropped(format!("no route to {} on {node}", pkt.dst)));
        };
        pkt.out_iface = r.dev.clone();
        let before = pkt.dst;
        if let Err(e) = self.netfilter(n, Hook::Output, pkt) {
            return Flow::Done(e);
        }
        let mut r = r;
        if pkt.dst != before {
            if n.is_local(pkt.dst) {
                return self.loop_back(n, pkt);
            }
            let Some(r2) = self.route(
                n,
                pkt,
                "OUTPUT changed the destination, so the kernel routes again",
            ) else {
                return Flow::Done(End::Dropped(format!("no route to {} on {node}", pkt.dst)));
            };
            pkt.out_iface = r2.dev.clone();
            r = r2;
        }
        if let Err(e) = self.netfilter(n, Hook::Postrouting, pkt) {
            return Flow::Done(e);
        }
        self.egress(n, &r, pkt)
    }

    /// A local packet for one of the node's own addresses, after OUTPUT: POSTROUTING
    /// on lo, back in through INPUT, to the local process.
    fn loop_back(&mut self, n: &NodeNet, pkt: &mut Packet) -> Flow {
        pkt.out_iface = "lo".into();
        if let Err(e) = self.netfilter(n, Hook::Postrouting, pkt) {
            return Flow::Done(e);
        }
        pkt.in_iface = "lo".into();
        pkt.out_iface.clear();
        if let Err(e) = self.netfilter(n, Hook::Input, pkt) {
            return Flow::Done(e);
        }
        self.deliver_node(n, pkt)
    }

    fn host_arrive(&mut self, node: &str, iface: &str, pkt: &mut Packet) -> Flow {
        fresh_on_node(pkt);
        if let Some(f) = self.down(node, pkt) {
            return f;
        }
        let Some(n) = self.node(node) else {
            return Flow::Done(End::Dropped(format!("node {node} is unknown")));
        };
        pkt.in_iface = iface.into();
        if let Err(e) = self.netfilter(n, Hook::Prerouting, pkt) {
            return Flow::Done(e);
        }
        if n.is_local(pkt.dst) {
            self.hop_plain(node, &format!("node/{node}"), iface, "route", format!("local {} dev {} table local", pkt.dst, if pkt.dst == n.ip { "eth0" } else { iface }), "the destination is one of the node's own addresses: the packet is for a local process (INPUT)".into(), pkt);
            if let Err(e) = self.netfilter(n, Hook::Input, pkt) {
                return Flow::Done(e);
            }
            return self.deliver_node(n, pkt);
        }
        if self.ttl <= 1 {
            self.hop_plain(
                node,
                &format!("node/{node}"),
                iface,
                "drop",
                "TTL exceeded".into(),
                "the packet was forwarded 64 times: a routing loop".into(),
                pkt,
            );
            return Flow::Done(End::Dropped(format!("TTL exceeded on {node}")));
        }
        self.ttl -= 1;
        let Some(r) = self.route(
            n,
            pkt,
            "the packet is not for this node, which forwards it (net.ipv4.ip_forward=1)",
        ) else {
            return Flow::Done(End::Dropped(format!("no route to {} on {node}", pkt.dst)));
        };
        pkt.out_iface = r.dev.clone();
        if let Err(e) = self.netfilter(n, Hook::Forward, pkt) {
            return Flow::Done(e);
        }
        if let Err(e) = self.netfilter(n, Hook::Postrouting, pkt) {
            return Flow::Done(e);
        }
        self.egress(n, &r, pkt)
    }

    fn route(&mut self, n: &NodeNet, pkt: &Packet, why: &str) -> Option<Route> {
        let netns = format!("node/{}", n.name);
        match lookup(&n.routes, pkt.dst) {
            Some(r) => {
                let r = r.clone();
                self.hop_plain(
                    &n.name,
                    &netns,
                    &r.dev,
                    "route",
                    r.text.clone(),
                    format!(
                        "{why}: the most specific route for {} is {}",
                        pkt.dst, r.dst
                    ),
                    pkt,
                );
                Some(r)
            }
            None => {
                self.hop_plain(
                    &n.name,
                    &netns,
                    "",
                    "drop",
                    "no route".into(),
                    format!("{why}, but no route matches {}", pkt.dst),
                    pkt,
                );
                None
            }
        }
    }

    fn deliver_node(&mut self, n: &NodeNet, pkt: &mut Packet) -> Flow {
        match self.deliver_node_end(n, pkt) {
            Ok(end) => Flow::Done(end),
            Err(next) => next,
        }
    }

    /// An HTTP request to the ingress controller on `n`: the rule it matches, and a
    /// new connection from the node to an endpoint of the backend.
    fn ingress(&mut self, n: &NodeNet, pkt: &mut Packet) -> Flow {
        let netns = format!("node/{}", n.name);
        let f = self.f;
        let (host, path) = (self.http_host.clone(), self.http_path.clone());
        let Some(route) = super::ingress::select(&f.ingress, &host, &path) else {
            self.hop_plain(&n.name, &netns, "eth0", "drop", format!("GET {path} Host: {host} -> 404 Not Found"), "no Ingress rule matches this host and path, and no Ingress has a defaultBackend: the controller's default backend answers 404".into(), pkt);
            return Flow::Done(End::Dropped(format!(
                "ingress: no rule for host {host} path {path} (404 Not Found)"
            )));
        };
        let rule = if route.path_type == "default" {
            format!(
                "defaultBackend -> {} (ingress {})",
                route.backend, route.ingress
            )
        } else {
            format!(
                "host: {}, path: {} ({}) -> {} (ingress {})",
                if route.host.is_empty() {
                    "*"
                } else {
                    &route.host
                },
                route.path,
                route.path_type,
                route.backend,
                route.ingress
            )
        };
        if route.endpoints.is_empty() {
            self.hop_plain(&n.name, &netns, "eth0", "drop", rule, format!("GET {path} Host: {host}: the rule's Service has no ready endpoints, so the controller answers 503 Service Temporarily Unavailable"), pkt);
            return Flow::Done(End::Dropped(format!(
                "ingress: {} has no ready endpoints (503)",
                route.backend
            )));
        }
        let pick = self.rng.below(route.endpoints.len() as u64) as usize;
        let (ip, port) = route.endpoints[pick];
        self.proxied += 1;
        let sport = 40000 + self.proxied;
        let why = format!(
            "ingress-nginx (simulated) takes GET {path} with Host: {host}, matches this rule, and opens a new connection from the node to endpoint {ip}:{port} of {} ({} of {} ready endpoints, chosen at random; the controller reads EndpointSlices and does not use the ClusterIP)",
            route.backend,
            pick + 1,
            route.endpoints.len()
        );
        *pkt = Packet::new(n.ip, ip, pkt.proto, sport, port);
        self.leg_src = (n.ip, sport);
        self.hop_plain(&n.name, &netns, "eth0", "ingress", rule, why, pkt);
        Flow::Next(At::HostSend(n.name.clone()))
    }

    fn deliver_node_end(&mut self, n: &NodeNet, pkt: &mut Packet) -> Result<End, Flow> {
        let netns = format!("node/{}", n.name);
        let f = self.f;
        if let Some(e) =
            self.reply_arrived(&n.name, &netns, "eth0", pkt, format!("node/{}", n.name))
        {
            return Ok(e);
        }
        if let Some(p) = f.pods.iter().find(|p| {
            p.host_network
                && p.node == n.name
                && p.ports.iter().any(|(port, _, l)| *port == pkt.dport && *l)
        }) {
            let c = p
                .ports
                .iter()
                .find(|(port, _, _)| *port == pkt.dport)
                .map(|x| x.1.clone())
                .unwrap_or_default();
            self.hop_plain(&n.name, &netns, "eth0", "deliver", format!("{}:{} container {c}", pkt.dst, pkt.dport), format!("{} uses the node's network namespace (hostNetwork: docker's host mode) and its container {c} listens on port {}", p.key(), pkt.dport), pkt);
            self.responder = Some(Responder::Node(n.name.clone()));
            return Ok(End::Delivered(format!("{}:{}", p.key(), pkt.dport)));
        }
        // kube-proxy in userspace mode: its proxy port takes the REDIRECTed packet.
        if let Some(pp) = n.proxy_ports.iter().find(|p| p.port == pkt.dport) {
            let rule = format!(
                "kube-proxy (userspace, legacy) :{} for {}",
                pp.port, pp.service
            );
            let Some((ip, port)) = pp.endpoint else {
                self.hop_plain(&n.name, &netns, "lo", "drop", rule, pp.why.clone(), pkt);
                return Ok(End::Dropped(format!(
                    "kube-proxy closes the connection: {} has no endpoints",
                    pp.service
                )));
            };
            self.proxied += 1;
            let sport = 40000 + self.proxied;
            let src = n.source_for(ip);
            *pkt = Packet::new(src, ip, pkt.proto, sport, port);
            self.leg_src = (src, sport);
            self.hop_plain(&n.name, &netns, "lo", "proxy", rule, pp.why.clone(), pkt);
            return Err(Flow::Next(At::HostSend(n.name.clone())));
        }
        // The ingress controller (a hostNetwork pod that binds the port first wins:
        // in a real node the two could not both listen).
        if f.ingress_controller
            && INGRESS_PORTS.contains(&pkt.dport)
            && pkt.proto == Proto::Tcp
            && self.proxied < 8
        {
            return Err(self.ingress(n, pkt));
        }
        if let Some((port, who)) = n.listeners.iter().find(|(port, _)| *port == pkt.dport) {
            self.hop_plain(
                &n.name,
                &netns,
                "eth0",
                "deliver",
                format!("{}:{port} {who}", pkt.dst),
                format!("{who} listens on port {port} of the node"),
                pkt,
            );
            self.responder = Some(Responder::Node(n.name.clone()));
            return Ok(End::Delivered(format!("node/{}:{}", n.name, pkt.dport)));
        }
        self.hop_plain(
            &n.name,
            &netns,
            "eth0",
            "drop",
            format!("{}:{}: connection refused", pkt.dst, pkt.dport),
            format!(
                "no process on {} listens on port {}: the kernel answers {}",
                n.name,
                pkt.dport,
                refusal(pkt.proto)
            ),
            pkt,
        );
        Ok(End::Dropped(format!(
            "node/{}: nothing listens on port {}",
            n.name, pkt.dport
        )))
    }

    /// The packet leaves the root namespace by the route's device.
    fn egress(&mut self, n: &NodeNet, r: &Route, pkt: &mut Packet) -> Flow {
        let f = self.f;
        let netns = format!("node/{}", n.name);
        match r.dev.as_str() {
            "eth0" => {
                let next = r.via.unwrap_or(pkt.dst);
                if let Some(m) = f.node_by_ip(next).filter(|m| m.name != n.name) {
                    let to = m.name.clone();
                    self.hop_plain(
                        &n.name,
                        &netns,
                        "eth0",
                        "wire",
                        format!("{} eth0 -> {to} eth0", n.name),
                        format!("the node network carries the frame to {next}, {to}'s eth0"),
                        pkt,
                    );
                    return Flow::Next(At::HostArrive(to, "eth0".into()));
                }
                if f.cluster_cidr.contains(pkt.dst) || f.service_cidr.contains(pkt.dst) {
                    self.hop_plain(&n.name, &netns, "eth0", "drop", format!("gateway {next}: no route to {}", pkt.dst), format!("{} is in the cluster's ranges, but the network outside the nodes does not know them: the packet is lost and the sender waits for its timeout", pkt.dst), pkt);
                    return Flow::Done(End::Dropped(format!(
                        "the gateway has no route to {}",
                        pkt.dst
                    )));
                }
                let why = if self.reply_to.is_some_and(|(ip, _)| ip == pkt.dst) {
                    "the reply leaves the cluster back to the external sender"
                } else {
                    "the packet leaves the cluster; what lies beyond the gateway is not simulated"
                };
                self.hop_plain(
                    &n.name,
                    &netns,
                    "eth0",
                    "wire",
                    format!("{} eth0 -> gateway {next}", n.name),
                    why.into(),
                    pkt,
                );
                Flow::Done(End::Delivered(format!(
                    "external:{}:{}",
                    pkt.dst, pkt.dport
                )))
            }
            "flannel.1" => {
                let Some(m) = r
                    .via
                    .and_then(|v| f.node_by_ip(v))
                    .map(|m| (m.name.clone(), m.ip))
                else {
                    return Flow::Done(End::Dropped("no VXLAN peer".into()));
                };
                self.tunnel(n, &m.0, m.1, "flannel.1", FLANNEL_VXLAN_PORT, 1, pkt, "flannel.1 (VXLAN): flanneld wrote the peer's VTEP MAC and its node address into the ARP table and the forwarding database (from the node's flannel.alpha.coreos.com/public-ip annotation)");
                Flow::Next(At::HostArrive(m.0, "flannel.1".into()))
            }
            "tun0" => self.ovs_switch(&n.name, pkt, "tun0"),
            dev if dev == f.plugin.bridge() => {
                let Some(p) = f.pod_on(&n.name, pkt.dst) else {
                    self.hop_plain(
                        &n.name,
                        &netns,
                        dev,
                        "drop",
                        format!("arp who-has {} on {dev}: no reply", pkt.dst),
                        format!("no pod on {} has {}", n.name, pkt.dst),
                        pkt,
                    );
                    return Flow::Done(End::Dropped(format!(
                        "no ARP reply for {} on {}'s {dev}",
                        pkt.dst, n.name
                    )));
                };
                self.hop_plain(
                    &n.name,
                    &netns,
                    dev,
                    "bridge",
                    format!("{dev} -> port {}", p.veth),
                    format!("{dev} forwards the frame to the port of {}", p.key()),
                    pkt,
                );
                self.enter_pod(p, pkt)
            }
            "lo" => self.deliver_node(n, pkt),
            other => {
                self.hop_plain(
                    &n.name,
                    &netns,
                    other,
                    "drop",
                    format!("dev {other}"),
                    "the device is not modelled".into(),
                    pkt,
                );
                Flow::Done(End::Dropped(format!("device {other} is not modelled")))
            }
        }
    }

    fn enter_pod(&mut self, p: &PodNet, pkt: &mut Packet) -> Flow {
        fresh_on_node(pkt);
        // How the pause container got its network: docker made it in bridge mode on
        // docker0, or, under a CNI plug-in, in mode none with eth0 added after.
        let sandbox = if self.f.plugin == Plugin::DockerBridge {
            "started in docker's bridge mode, so docker gave it eth0 on docker0"
        } else {
            "started with docker's network mode none, then the network plug-in added eth0"
        };
        self.hop_plain(&p.node, &p.key(), "eth0", "veth", format!("{} -> eth0 (veth pair)", p.veth), format!("the other end of {} is eth0 in {}'s network namespace: the pause container holds it ({sandbox}) and every other container of the pod joins it (docker's container mode, --net=container:PAUSE), so they share one IP and reach each other on localhost", p.veth, p.key()), pkt);
        Flow::Done(self.deliver_pod(p, pkt))
    }

    #[allow(clippy::too_many_arguments)]
    fn tunnel(
        &mut self,
        n: &NodeNet,
        to: &str,
        to_ip: Ipv4Addr,
        dev: &str,
        port: u16,
        vni: u32,
        pkt: &Packet,
        why: &str,
    ) {
        let netns = format!("node/{}", n.name);
        let outer = Outer {
            src: n.ip,
            dst: to_ip,
            proto: "udp",
            dport: port,
            vni,
        };
        let mut h = Hop {
            node: n.name.clone(),
            netns: netns.clone(),
            interface: dev.into(),
            stage: "encap",
            rule: format!("{dev}: VXLAN VNI {vni} to {to_ip}:{port}"),
            why: format!(
                "{why}; the packet is wrapped in UDP from {} to {to_ip}:{port}",
                n.ip
            ),
            hook: None,
            table: None,
            chain: None,
            target: None,
            not_matched: None,
            steps: Vec::new(),
            packet: Headers::of(pkt),
            outer: Some(outer),
        };
        self.hops.push(h.clone());
        h.stage = "wire";
        h.interface = "eth0".into();
        h.rule = format!("{} eth0 -> {to} eth0", n.name);
        h.why = format!("the outer packet crosses the node network to {to} (simulated: it does not traverse the nodes' iptables)");
        self.hops.push(h.clone());
        h.stage = "decap";
        h.node = to.into();
        h.netns = format!("node/{to}");
        h.interface = dev.into();
        h.rule = format!("udp dport {port} -> {dev}");
        h.why = format!("{to}'s VXLAN device takes UDP port {port} and strips the outer headers; the inner packet arrives on {dev}");
        self.hops.push(h);
    }

    /// Open vSwitch's flows on `node`'s br0, for a packet entering from `in_port`.
    fn ovs_switch(&mut self, node: &str, pkt: &mut Packet, in_port: &str) -> Flow {
        let f = self.f;
        if let Some(p) = f.pod_on(node, pkt.dst) {
            self.hop_plain(node, "ovs/br0", in_port, "ovs", format!("ip,nw_dst={} actions=output:{}", pkt.dst, p.veth), format!("{} is a local pod: br0 outputs to its port directly (pod-to-pod traffic on OVS does not pass the host's iptables)", pkt.dst), pkt);
            return self.enter_pod(p, pkt);
        }
        if f.nodes.get(node).and_then(|n| n.gateway_ip) == Some(pkt.dst) {
            self.hop_plain(
                node,
                "ovs/br0",
                in_port,
                "ovs",
                format!("ip,nw_dst={} actions=output:tun0", pkt.dst),
                "the gateway address is the host's tun0".into(),
                pkt,
            );
            return Flow::Next(At::HostArrive(node.into(), "tun0".into()));
        }
        let remote = f
            .nodes
            .values()
            .find(|m| m.name != node && m.pod_cidr.is_some_and(|c| c.contains(pkt.dst)))
            .map(|m| (m.name.clone(), m.ip, m.pod_cidr));
        let Some((to, to_ip, cidr)) = remote else {
            self.hop_plain(
                node,
                "ovs/br0",
                in_port,
                "drop",
                format!("ip,nw_dst={} actions=drop", pkt.dst),
                "no flow matches: the address is in no node's pod network".into(),
                pkt,
            );
            return Flow::Done(End::Dropped(format!(
                "no OVS flow for {} on {node}",
                pkt.dst
            )));
        };
        let Some(n) = f.nodes.get(node) else {
            return Flow::Done(End::Dropped(format!("node {node} is unknown")));
        };
        let cidr = cidr.map(|c| c.to_string()).unwrap_or_default();
        self.hop_plain(node, "ovs/br0", in_port, "ovs", format!("ip,nw_dst={cidr} actions=set_field:{to_ip}->tun_dst,output:vxlan0"), format!("{cidr} is {to}'s pod network: the flow sends the packet through the vxlan0 port to {to_ip}"), pkt);
        self.tunnel(
            n,
            &to,
            to_ip,
            "vxlan0",
            OVS_VXLAN_PORT,
            0,
            pkt,
            "br0's vxlan0 port (VXLAN)",
        );
        if let Some(f2) = self.down(&to, pkt) {
            return f2;
        }
        fresh_on_node(pkt);
        self.ovs_switch(&to, pkt, "vxlan0")
    }

    // ---- netfilter ----

    /// One hook of a node; Err when the packet is dropped there.
    fn netfilter(&mut self, n: &NodeNet, hook: Hook, pkt: &mut Packet) -> Result<(), End> {
        let host = n.host(self.f.plugin);
        let nf = n.netfilter.unwrap_or(&self.empty);
        let ct = self
            .cts
            .entry(n.name.clone())
            .or_insert_with(|| nf.conntrack.clone());
        let before = Headers::of(pkt);
        let rec = nf.hook_with_conntrack(hook, pkt, &host, &mut self.rng, self.now, ct);
        self.hook_hops(n, &rec);
        // Rewritten by a rule that matched (a first packet's NAT), or else by
        // conntrack.
        let rewritten = rec.tables.iter().any(|t| {
            t.steps.iter().any(|s| matches!(s, Step::Match { .. }))
                && t.steps.iter().any(|s| matches!(s, Step::Rewrite { .. }))
        });
        let after = Headers::of(&rec.packet);
        if after != before && !rewritten {
            // Conntrack translated it: a later packet of a connection, or a reply.
            let iface = match hook {
                Hook::Prerouting | Hook::Input => rec.packet.in_iface.clone(),
                _ => rec.packet.out_iface.clone(),
            };
            let what = if after.dst != before.dst || after.dport != before.dport {
                format!(
                    "destination {}:{} -> {}:{}",
                    before.dst,
                    before.dport.unwrap_or(0),
                    after.dst,
                    after.dport.unwrap_or(0)
                )
            } else {
                format!(
                    "source {}:{} -> {}:{}",
                    before.src,
                    before.sport.unwrap_or(0),
                    after.src,
                    after.sport.unwrap_or(0)
                )
            };
            self.hops.push(Hop {
                node: n.name.clone(),
                netns: format!("node/{}", n.name),
                interface: iface,
                stage: "conntrack",
                rule: format!("{} conntrack: {}", hook.as_str(), rec.conntrack),
                why: format!(
                    "the packet belongs to a known connection, so the nat table is not consulted: conntrack applies the connection's translation ({what})"
                ),
                hook: Some(hook),
                table: None,
                chain: None,
                target: None,
                not_matched: None,
                steps: Vec::new(),
                packet: after,
                outer: None,
            });
        }
        match rec.verdict {
            Verdict::Accept => Ok(()),
            v => Err(End::Dropped(format!(
                "{}{}",
                rec.decided_by
                    .clone()
                    .unwrap_or_else(|| format!("{} policy", hook.as_str())),
                match v {
                    Verdict::Reject { with } => format!(" (REJECT --reject-with {with})"),
                    _ => String::new(),
                }
            ))),
        }
    }

    fn hook_hops(&mut self, n: &NodeNet, rec: &HookRecord) {
        let iface = match rec.hook {
            Hook::Prerouting | Hook::Input => rec.packet.in_iface.clone(),
            _ => rec.packet.out_iface.clone(),
        };
        let last = rec.tables.len();
        for (i, t) in rec.tables.iter().enumerate() {
            let mut not_matched = 0;
            let mut decided: Option<(String, String, String)> = None;
            let mut path: Vec<String> = Vec::new();
            let mut rewrites: Vec<String> = Vec::new();
            let mut policy = None;
            let mut any = false;
            // The policy decided when it came after the last rule that matched.
            let mut policy_after_match = false;
            for s in &t.steps {
                match s {
                    Step::Chain { chain } => path.push(chain.clone()),
                    Step::NoMatch { count, .. } => {
                        not_matched += count;
                        any = true;
                    }
                    Step::Match {
                        chain,
                        text,
                        target,
                        ..
                    } => {
                        decided = Some((chain.clone(), text.clone(), target.clone()));
                        any = true;
                        policy_after_match = false;
                    }
                    Step::Rewrite { what, from, to } => {
                        rewrites.push(format!("{what} {from} -> {to}"))
                    }
                    Step::Mark { from, to } => rewrites.push(format!("mark {from} -> {to}")),
                    Step::Policy { chain, policy: p } => {
                        policy = Some((chain.clone(), p.as_str()));
                        policy_after_match = true;
                    }
                    Step::Return { .. } | Step::Note { .. } => {}
                }
            }
            let dropped_here = i + 1 == last && t.verdict != Verdict::Accept;
            if !any && !dropped_here {
                continue;
            }
            let (chain, rule, target) = match (&decided, &policy) {
                (_, Some((c, p))) if dropped_here => {
                    (c.clone(), format!(":{c} {p}"), p.to_string())
                }
                (Some((c, text, tg)), _) => (c.clone(), text.clone(), tg.clone()),
                (None, Some((c, p))) => (c.clone(), format!(":{c} {p}"), p.to_string()),
                (None, None) => (String::new(), String::new(), String::new()),
            };
            let mut why = if path.is_empty() {
                String::new()
            } else {
                path.join(" -> ")
            };
            if not_matched > 0 {
                why.push_str(&format!("; {not_matched} rule(s) did not match"));
            }
            if decided.is_none() {
                why.push_str("; no rule matched: the chain's policy decides");
            } else if let (true, Some((c, p))) = (policy_after_match, &policy) {
                why.push_str(&format!(
                    "; the last rule that matched sent it back, and at the end of {c} the policy {p} decides"
                ));
            }
            for r in &rewrites {
                why.push_str("; ");
                why.push_str(r);
            }
            if !rec.conntrack.is_empty() && i == 0 {
                why.push_str(&format!("; conntrack: {}", rec.conntrack));
            }
            self.hops.push(Hop {
                node: n.name.clone(),
                netns: format!("node/{}", n.name),
                interface: iface.clone(),
                stage: "netfilter",
                rule,
                why: why.trim_start_matches("; ").to_string(),
                hook: Some(rec.hook),
                table: Some(t.table),
                chain: Some(chain),
                target: Some(target),
                not_matched: Some(not_matched),
                steps: t.steps.clone(),
                packet: Headers::of(&rec.packet),
                outer: None,
            });
        }
    }
}

fn refusal(p: Proto) -> &'static str {
    match p {
        Proto::Udp => "ICMP port unreachable",
        _ => "a TCP RST (connection refused)",
    }
}
