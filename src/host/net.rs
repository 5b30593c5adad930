//! The network view's data: the ends a packet trace can start from and go to, one
//! node's iptables tables as chains of rules with their counters and jumps, the
//! packet tracer's answer read into typed hops (the way out, then the reply's way
//! back), one node's topology (its root namespace's interfaces and `ip route`, its
//! pods' namespaces and veth pairs, the way to the other nodes' pods, from
//! `Cluster::fabric`), the plug-in comparison, and the editor's `iptables-restore`
//! as the scenario step it stands for.
//!
//! The comparison replays the session's inputs (up to its head, by virtual time,
//! as the scheduler comparison does) into one fresh cluster per plug-in that
//! differs only in `spec.cluster.network.plugin`, at once rather than in slices:
//! it is refused for sessions above [`COMPARE_MAX_ENTRIES`] trace entries,
//! [`COMPARE_MAX_PODS`] pods or [`COMPARE_MAX_INPUTS`] inputs. The session's own
//! plug-in is traced on the session itself.
//!
//! The tracer's JSON (`Cluster::trace_packet`, the `trace` step's output) is read
//! field by field with every field optional, so a field the tracer adds later is
//! kept as text and a stage the page does not know is drawn generically. A trace
//! is a query: it changes nothing and is not logged. A restore changes a node's
//! tables, so it is a person's action, logged and replayed like the others.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use serde_json::{json, Map, Value};

use crate::api::object::{NODES, PODS, SERVICES};
use crate::api::Object;
use crate::network::fabric::{Plugin, DOCKER0_CIDR, FLANNEL_VXLAN_PORT, OVS_VXLAN_PORT};
use crate::network::netfilter::{save, Netfilter};
use crate::network::tracer::{Hop, TraceResult};
use crate::protocol::{
    rule_key, ChainView, HopView, IfaceView, Input, InputsLog, IptablesView, NetCompareView,
    NetworkView, PacketTraceView, PeerView, PluginRunView, PodNsView, RootNsView, RuleView,
    TableView, TopologyView, TraceReplyView,
};
use crate::scenario::Action;

use super::sim::{Replay, Sim};

/// Names the view lists at most (nodes, pods, services).
pub const PAGE: usize = 200;
/// Chains sent per table, rules per chain, and rules in all.
pub const CHAINS_PER_TABLE: usize = 300;
pub const RULES_PER_CHAIN: usize = 60;
pub const RULES_TOTAL: usize = 3000;

/// The header fields a packet is shown with first, in this order; others follow
/// by name.
const HEADER_ORDER: [&str; 5] = ["src", "sport", "dst", "dport", "proto"];

/// The editor's restore as the scenario step `iptables-restore {node, rules, noflush}`.
pub fn restore_step(node: &str, rules: &str, noflush: bool) -> Action {
    Action::IptablesRestore(json!({"node": node, "rules": rules, "noflush": noflush}))
}

/// The command line the console shows for a restore.
pub fn restore_command(node: &str, noflush: bool) -> String {
    let flag = if noflush { " --noflush" } else { "" };
    format!("iptables-restore{flag}  # on {node}")
}

/// The network view: nodes, trace ends and services, and one node's tables.
pub fn network_view(sim: &Sim, node: &str, lit: &[String]) -> NetworkView {
    let c = sim.cluster();
    let store = c.api().store();
    let nodes: Vec<(String, bool)> = store
        .list(&NODES, None)
        .take(PAGE)
        .map(|n| {
            let name = n.name().to_string();
            let has = c.node_netfilter(&name).is_some();
            (name, has)
        })
        .collect();
    let mut ends: Vec<String> = store
        .list(&PODS, None)
        .take(PAGE)
        .map(|p| format!("pod/{}/{}", p.namespace(), p.name()))
        .collect();
    ends.extend(nodes.iter().map(|(n, _)| format!("node/{n}")));
    ends.push("external".into());
    let mut services = Vec::new();
    for o in store.list(&SERVICES, None) {
        let Object::Service(s) = o.as_ref() else {
            continue;
        };
        for p in &s.spec.ports {
            services.push(format!("svc/{}/{}:{}", o.namespace(), o.name(), p.port));
        }
        if services.len() >= PAGE {
            break;
        }
    }
    let shown = if node.is_empty() {
        nodes
            .iter()
            .find(|(_, has)| *has)
            .map(|(n, _)| n.clone())
            .unwrap_or_default()
    } else {
        node.to_string()
    };
    let (iptables, missing) = match c.node_netfilter(&shown) {
        Some(nf) => (Some(iptables_view(&shown, nf, lit)), String::new()),
        None if shown.is_empty() => (None, "no node has iptables rules here".to_string()),
        None => (
            None,
            format!(
                "node \"{shown}\" has no iptables rules here: it is not a node of this cluster, or it runs no simulated kubelet and kube-proxy"
            ),
        ),
    };
    NetworkView {
        nodes,
        ends,
        services,
        node: shown,
        iptables,
        missing,
    }
}

/// A node's tables, bounded; rules whose key is in `lit` are always sent.
pub fn iptables_view(node: &str, nf: &Netfilter, lit: &[String]) -> IptablesView {
    let lit: BTreeSet<&str> = lit.iter().map(String::as_str).collect();
    // `table -A chain`: the chains with a rule to light, whose rules are all read.
    let lit_chains: BTreeSet<(&str, &str)> = lit
        .iter()
        .filter_map(|k| {
            let (table, rest) = k.split_once(" -A ")?;
            Some((table, rest.split(' ').next().unwrap_or(rest)))
        })
        .collect();
    let mut budget = RULES_TOTAL;
    let mut tables = Vec::new();
    for table in nf.rules.tables() {
        let tname = table.name.as_str();
        let mut chains = Vec::new();
        let mut more_chains = 0u32;
        for (i, chain) in table.chains_in_order().enumerate() {
            if i >= CHAINS_PER_TABLE {
                more_chains += 1;
                continue;
            }
            let mut rules = Vec::new();
            let mut more = 0u32;
            let search = lit_chains.contains(&(tname, chain.name.as_str()));
            for (j, r) in chain.rules.iter().enumerate() {
                let paged = j < RULES_PER_CHAIN && budget > 0;
                if !paged && !search {
                    more += 1;
                    continue;
                }
                let text = save::rule_text(&chain.name, r);
                if paged || lit.contains(rule_key(tname, &chain.name, &text).as_str()) {
                    budget = budget.saturating_sub(1);
                    rules.push(RuleView {
                        number: j as u32 + 1,
                        jump: r.target.chain().unwrap_or_default().to_string(),
                        text,
                        packets: r.packets,
                        bytes: r.bytes,
                    });
                } else {
                    more += 1;
                }
            }
            chains.push(ChainView {
                name: chain.name.clone(),
                policy: chain
                    .policy
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
                packets: chain.packets,
                bytes: chain.bytes,
                rules,
                more,
            });
        }
        tables.push(TableView {
            name: tname.to_string(),
            chains,
            more_chains,
        });
    }
    IptablesView {
        node: node.to_string(),
        rules: nf.rules.rule_count() as u64,
        tables,
    }
}

/// Follows a packet through the cluster (changes nothing); `host` and `path`
/// (empty: none) are the HTTP request's, for an ingress controller on the way.
pub fn packet_trace(
    sim: &Sim,
    from: &str,
    to: &str,
    proto: &str,
    host: &str,
    path: &str,
) -> PacketTraceView {
    let opt = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string);
    let (p, h, pa) = (opt(proto), opt(host), opt(path));
    let result = sim
        .cluster()
        .trace_http(from, to, p.as_deref(), h.as_deref(), pa.as_deref());
    let mut v = trace_view(from, to, proto, result);
    v.host = host.trim().to_string();
    v.path = path.trim().to_string();
    v
}

/// Pods the topology view shows per node.
pub const TOPOLOGY_PODS: usize = 100;

/// The plug-ins the comparison replays the session under.
pub const COMPARE_PLUGINS: [&str; 4] =
    ["flannel-vxlan", "flannel-host-gw", "ovs", "direct-routing"];
/// The biggest session the comparison replays (it replays it once per plug-in, at
/// once, in the worker): trace entries, pods and inputs. A session of about 600
/// entries replays four times in some 40 ms natively (release), so the limit keeps
/// the worker busy for about a second at most in the browser.
pub const COMPARE_MAX_ENTRIES: u64 = 5_000;
pub const COMPARE_MAX_PODS: usize = 300;
pub const COMPARE_MAX_INPUTS: usize = 300;

fn with_prefix(ip: Option<Ipv4Addr>, prefix: Option<u8>) -> String {
    match (ip, prefix) {
        (Some(ip), Some(p)) => format!("{ip}/{p}"),
        (Some(ip), None) => ip.to_string(),
        _ => String::new(),
    }
}

fn iface(name: &str, addr: String, kind: &str, note: String) -> IfaceView {
    IfaceView {
        name: name.into(),
        addr,
        kind: kind.into(),
        note,
    }
}

/// One node's network namespaces as the data plane has them: its root namespace's
/// interfaces and routes, its pods' namespaces joined by their veth pairs (a page of
/// them), and how it reaches the other nodes' pods.
pub fn topology_view(sim: &Sim, node: &str) -> TopologyView {
    let f = sim.cluster().fabric();
    let nodes: Vec<String> = f.nodes.keys().take(PAGE).cloned().collect();
    let shown = if node.is_empty() {
        nodes.first().cloned().unwrap_or_default()
    } else {
        node.to_string()
    };
    let mut v = TopologyView {
        plugin: f.plugin.as_str().to_string(),
        nodes,
        node: shown.clone(),
        ..TopologyView::default()
    };
    let Some(n) = f.nodes.get(&shown) else {
        v.missing = if shown.is_empty() {
            "no node has an InternalIP address here".to_string()
        } else {
            format!("node \"{shown}\" is not a node of this cluster with an InternalIP address")
        };
        return v;
    };
    let prefix = n.pod_cidr.map(|c| c.prefix);
    let mut ifaces = vec![iface(
        "eth0",
        format!("{}/24", n.ip),
        "nic",
        "the node's address on the network joining the nodes".into(),
    )];
    match f.plugin {
        Plugin::Ovs => {
            ifaces.push(iface(
                "br0",
                String::new(),
                "ovs",
                "Open vSwitch bridge: the pods' veths, tun0 and vxlan0 are its ports; its flows switch pod-to-pod packets".into(),
            ));
            ifaces.push(iface(
                "tun0",
                with_prefix(n.gateway_ip, prefix),
                "internal",
                "br0's internal port: the pods' gateway, the way into the host (and its iptables)"
                    .into(),
            ));
            ifaces.push(iface(
                "vxlan0",
                String::new(),
                "vxlan-port",
                format!("br0's VXLAN port: to the other nodes' br0 over UDP {OVS_VXLAN_PORT}"),
            ));
        }
        p => {
            let note = if p == Plugin::DockerBridge {
                format!(
                    "docker's bridge: the same {DOCKER0_CIDR} on every node, no route between them"
                )
            } else {
                "Linux bridge: the pods' veths are its ports; its address is the pods' gateway"
                    .to_string()
            };
            ifaces.push(iface(
                p.bridge(),
                with_prefix(n.gateway_ip, prefix),
                "bridge",
                note,
            ));
        }
    }
    if let Some(t) = n.tunnel_ip {
        ifaces.push(iface(
            "flannel.1",
            format!("{t}/32"),
            "tunnel",
            format!("flannel's VXLAN device (VNI 1, UDP {FLANNEL_VXLAN_PORT}): wraps packets for the other nodes' pods"),
        ));
    }
    v.root = Some(RootNsView {
        up: n.up,
        pod_cidr: n.pod_cidr.map(|c| c.to_string()).unwrap_or_default(),
        ifaces,
        routes: n.routes.iter().map(|r| r.text.clone()).collect(),
        listeners: n.listeners.clone(),
    });
    let mut pods: Vec<&crate::network::fabric::PodNet> =
        f.pods.iter().filter(|p| p.node == shown).collect();
    pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    v.more_pods = pods.len().saturating_sub(TOPOLOGY_PODS) as u32;
    v.pods = pods
        .into_iter()
        .take(TOPOLOGY_PODS)
        .map(|p| PodNsView {
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            ip: p.ip.to_string(),
            host_network: p.host_network,
            veth: if p.host_network {
                String::new()
            } else {
                p.veth.clone()
            },
            routes: p.routes.iter().map(|r| r.text.clone()).collect(),
        })
        .collect();
    v.peers = f
        .nodes
        .values()
        .filter(|m| m.name != shown)
        .take(PAGE)
        .map(|m| {
            let route = match (f.plugin, m.pod_cidr) {
                (Plugin::DockerBridge, _) => {
                    "no route to its containers: its docker0 has the same addresses".to_string()
                }
                (_, None) => "no pod network assigned".to_string(),
                (Plugin::Ovs, Some(c)) => format!(
                    "br0 flow ip,nw_dst={c} actions=set_field:{}->tun_dst,output:vxlan0 (UDP {OVS_VXLAN_PORT})",
                    m.ip
                ),
                (_, Some(c)) => n
                    .routes
                    .iter()
                    .find(|r| r.dst == c)
                    .map(|r| r.text.clone())
                    .unwrap_or_else(|| format!("no route to {c}")),
            };
            PeerView {
                node: m.name.clone(),
                ip: m.ip.to_string(),
                pod_cidr: m.pod_cidr.map(|c| c.to_string()).unwrap_or_default(),
                route,
            }
        })
        .collect();
    v
}

/// The same packet under each plug-in of [`COMPARE_PLUGINS`]: the session's inputs
/// (up to its head) replayed into a fresh cluster that differs only in
/// `spec.cluster.network.plugin`, and traced there. `ask` is from, to, proto, host,
/// path. Changes nothing and is not logged; refused for a session too big to
/// replay four times at once.
pub fn net_compare(sim: &Sim, log: &InputsLog, ask: [&str; 5]) -> NetCompareView {
    let [from, to, proto, host, path] = ask;
    let c = sim.cluster();
    let mut v = NetCompareView {
        asked: (from.to_string(), to.to_string(), proto.to_string()),
        current: c.settings().network.plugin.clone(),
        ..NetCompareView::default()
    };
    let entries = c.k.trace.next_seq().saturating_sub(1);
    let pods = c.api().store().count(&PODS);
    let target = sim.stamp();
    let inputs: Vec<Input> = log
        .inputs
        .iter()
        .filter(|i| i.at.ops < target.ops)
        .cloned()
        .collect();
    if entries > COMPARE_MAX_ENTRIES || pods > COMPARE_MAX_PODS || inputs.len() > COMPARE_MAX_INPUTS
    {
        v.error = format!(
            "this session is too big to compare here: the comparison replays it once per plug-in ({} times) at once; it has {entries} trace entries (at most {COMPARE_MAX_ENTRIES}), {pods} pods (at most {COMPARE_MAX_PODS}) and {} inputs (at most {COMPARE_MAX_INPUTS})",
            COMPARE_PLUGINS.len(),
            inputs.len()
        );
        return v;
    }
    fn opt(s: &str) -> Option<&str> {
        Some(s.trim()).filter(|s| !s.is_empty())
    }
    for plugin in COMPARE_PLUGINS {
        let traced = if plugin == v.current {
            c.trace_packet_typed(from, to, opt(proto), opt(host), opt(path))
        } else {
            match Sim::with_plugin(&log.scenario_text, plugin) {
                Err(e) => Err(format!(
                    "the scenario does not build with this plug-in: {e}"
                )),
                Ok(mut other) => {
                    let mut next = 0;
                    match other.replay_by_time(&inputs, &mut next, target.time, &mut || false) {
                        Replay::Done => other.cluster().trace_packet_typed(
                            from,
                            to,
                            opt(proto),
                            opt(host),
                            opt(path),
                        ),
                        Replay::Pending => Err("the replay did not finish".to_string()),
                    }
                }
            }
        };
        v.runs.push(plugin_run(plugin, traced));
    }
    v
}

/// A hop between nodes: encapsulation, the wire, OVS flows, and a root
/// namespace's route through another node (`via`), as one line.
fn inter_node(h: &Hop) -> Option<String> {
    let what = match h.stage {
        "encap" | "wire" | "decap" => match &h.outer {
            Some(o) => format!(
                "outer {} {} → {}:{} vni {}",
                o.proto, o.src, o.dst, o.dport, o.vni
            ),
            None => h.rule.clone(),
        },
        "ovs" => h.rule.clone(),
        "route" if h.netns.starts_with("node/") && h.rule.contains(" via ") => h.rule.clone(),
        _ => return None,
    };
    Some(format!("{} {} {}: {what}", h.stage, h.node, h.interface))
}

/// One plug-in's trace summed up.
pub fn plugin_run(plugin: &str, traced: Result<TraceResult, String>) -> PluginRunView {
    let r = match traced {
        Ok(r) => r,
        Err(error) => {
            return PluginRunView {
                plugin: plugin.to_string(),
                error,
                ..PluginRunView::default()
            }
        }
    };
    PluginRunView {
        plugin: plugin.to_string(),
        error: String::new(),
        verdict: r.verdict.to_string(),
        dropped_by: r.dropped_by.clone().unwrap_or_default(),
        hops: r.hops.len() as u32,
        stages: r.hops.iter().map(|h| h.stage.to_string()).collect(),
        inter_node: r.hops.iter().filter_map(inter_node).collect(),
        netfilter: r.hops.iter().filter(|h| h.stage == "netfilter").count() as u32,
        reply: r
            .reply
            .as_ref()
            .map(|x| x.verdict.to_string())
            .unwrap_or_default(),
    }
}

/// A value as the page shows it: strings as they are, other values as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn field(o: &Map<String, Value>, key: &str) -> String {
    o.get(key).map(text).unwrap_or_default()
}

/// A header object as (field, value), the usual fields first.
fn headers(v: Option<&Value>) -> Vec<(String, String)> {
    let Some(o) = v.and_then(Value::as_object) else {
        return match v {
            None | Some(Value::Null) => Vec::new(),
            Some(other) => vec![(String::new(), text(other))],
        };
    };
    let mut out: Vec<(String, String)> = HEADER_ORDER
        .iter()
        .filter_map(|k| o.get(*k).map(|v| ((*k).to_string(), text(v))))
        .collect();
    out.extend(
        o.iter()
            .filter(|(k, _)| !HEADER_ORDER.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), text(v))),
    );
    out
}

/// Fields not in `known`, as (name, text).
fn extra(o: &Map<String, Value>, known: &[&str]) -> Vec<(String, String)> {
    o.iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), text(v)))
        .collect()
}

const HOP_FIELDS: [&str; 13] = [
    "node",
    "netns",
    "interface",
    "stage",
    "rule",
    "why",
    "hook",
    "table",
    "chain",
    "target",
    "notMatched",
    "packet",
    "outer",
];

fn hop(v: &Value) -> HopView {
    let Some(o) = v.as_object() else {
        return HopView {
            why: text(v),
            ..HopView::default()
        };
    };
    HopView {
        node: field(o, "node"),
        netns: field(o, "netns"),
        interface: field(o, "interface"),
        stage: field(o, "stage"),
        rule: field(o, "rule"),
        why: field(o, "why"),
        hook: field(o, "hook"),
        table: field(o, "table"),
        chain: field(o, "chain"),
        target: field(o, "target"),
        not_matched: o.get("notMatched").and_then(Value::as_u64),
        packet: headers(o.get("packet")),
        outer: headers(o.get("outer")),
        extra: extra(o, &HOP_FIELDS),
    }
}

/// Reads the tracer's answer (or error) into the page's view.
pub fn trace_view(
    from: &str,
    to: &str,
    proto: &str,
    result: Result<Value, String>,
) -> PacketTraceView {
    let asked = (from.to_string(), to.to_string(), proto.to_string());
    let v = match result {
        Ok(v) => v,
        Err(error) => {
            return PacketTraceView {
                asked,
                error,
                ..PacketTraceView::default()
            }
        }
    };
    let json = serde_json::to_string_pretty(&v).unwrap_or_default();
    let Some(o) = v.as_object() else {
        return PacketTraceView {
            asked,
            extra: vec![("result".into(), text(&v))],
            json,
            ..PacketTraceView::default()
        };
    };
    PacketTraceView {
        asked,
        error: String::new(),
        verdict: field(o, "verdict"),
        from: field(o, "from"),
        to: field(o, "to"),
        proto: field(o, "proto"),
        plugin: field(o, "plugin"),
        hops: hops(o),
        extra: extra(
            o,
            &[
                "verdict",
                "from",
                "to",
                "proto",
                "plugin",
                "hops",
                "droppedBy",
                "reply",
            ],
        ),
        json,
        dropped_by: field(o, "droppedBy"),
        reply: o
            .get("reply")
            .and_then(Value::as_object)
            .map(|r| TraceReplyView {
                verdict: field(r, "verdict"),
                to: field(r, "to"),
                hops: hops(r),
                dropped_by: field(r, "droppedBy"),
            }),
        host: String::new(),
        path: String::new(),
    }
}

fn hops(o: &Map<String, Value>) -> Vec<HopView> {
    o.get("hops")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(hop).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn a_trace_is_read_field_by_field() {
        let v = json!({
            "verdict": "delivered", "from": "pod/default/client", "to": "pod/default/web-1:8080",
            "proto": "tcp", "plugin": "flannel-vxlan", "elapsed": 3,
            "hops": [
                {"node": "node-1", "netns": "node/node-1", "interface": "cni0", "stage": "netfilter",
                 "hook": "PREROUTING", "table": "nat", "chain": "KUBE-SEP-ABC", "target": "DNAT",
                 "notMatched": 12, "rule": "-A KUBE-SEP-ABC -p tcp -j DNAT --to-destination 10.244.2.7:8080",
                 "packet": {"proto": "tcp", "dport": 8080, "dst": "10.244.2.7", "src": "10.244.1.5", "ttl": 64},
                 "colour": "blue"},
                {"stage": "teleport"},
                "a bare string"
            ]
        });
        let t = trace_view("pod/default/client", "svc/default/web:80", "tcp", Ok(v));
        assert_eq!(t.verdict, "delivered");
        assert_eq!(t.plugin, "flannel-vxlan");
        assert_eq!(t.extra, vec![("elapsed".to_string(), "3".to_string())]);
        assert_eq!(t.hops.len(), 3);
        let h = &t.hops[0];
        assert_eq!(h.not_matched, Some(12));
        let fields: Vec<&str> = h.packet.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(fields, ["src", "dst", "dport", "proto", "ttl"]);
        assert_eq!(h.packet[2].1, "8080");
        assert_eq!(h.extra, vec![("colour".to_string(), "blue".to_string())]);
        assert_eq!(t.hops[1].stage, "teleport");
        assert_eq!(t.hops[2].why, "a bare string");
        let e = trace_view("a", "b", "", Err("nope".into()));
        assert_eq!(e.error, "nope");
        assert!(e.hops.is_empty());
    }

    #[test]
    fn a_chain_is_paged_but_its_lit_rules_are_sent() {
        let mut text = String::from("*nat\n:KUBE-SERVICES - [0:0]\n");
        for i in 0..100 {
            text.push_str(&format!(
                "-A KUBE-SERVICES -d 10.96.0.{i}/32 -p tcp -m tcp --dport 80 -j ACCEPT\n"
            ));
        }
        text.push_str("-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n");
        let mut nf = Netfilter::new();
        nf.restore(&text, Default::default()).unwrap();
        let lit = rule_key(
            "nat",
            "KUBE-SERVICES",
            "-d 10.96.0.90/32 -p tcp -m tcp --dport 80 -j ACCEPT",
        );
        let v = iptables_view("node-1", &nf, &[lit]);
        assert_eq!(v.rules, 101);
        let nat = v.tables.iter().find(|t| t.name == "nat").unwrap();
        let pre = nat.chains.iter().find(|c| c.name == "PREROUTING").unwrap();
        assert_eq!(pre.policy, "ACCEPT");
        assert_eq!(pre.rules[0].jump, "KUBE-SERVICES");
        let svc = nat
            .chains
            .iter()
            .find(|c| c.name == "KUBE-SERVICES")
            .unwrap();
        assert_eq!(svc.rules.len(), RULES_PER_CHAIN + 1);
        assert_eq!(svc.more as usize, 100 - RULES_PER_CHAIN - 1);
        let last = svc.rules.last().unwrap();
        assert_eq!(last.number, 91);
        assert!(last.text.contains("10.96.0.90/32"), "{}", last.text);
        // Chains in iptables-save's order: built-ins in hook order, then user chains.
        let names: Vec<&str> = nat.chains.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "PREROUTING",
                "INPUT",
                "OUTPUT",
                "POSTROUTING",
                "KUBE-SERVICES"
            ]
        );
    }

    #[test]
    fn rule_keys_ignore_the_append_and_spacing() {
        assert_eq!(
            rule_key(
                "nat",
                "KUBE-SERVICES",
                "-A KUBE-SERVICES  -d 10.96.0.1/32 -j X"
            ),
            rule_key("nat", "KUBE-SERVICES", "-d 10.96.0.1/32 -j X")
        );
        assert_ne!(
            rule_key("nat", "A", "-A A -j X"),
            rule_key("filter", "A", "-A A -j X")
        );
    }
}
