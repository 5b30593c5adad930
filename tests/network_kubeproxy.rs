//! kube-proxy's rules, as the proxier writes them, loaded into a node's iptables
//! engine and walked by packets: the two halves of the network chapter meet through
//! the text (the proxier writes `iptables-restore` input; the engine reads it).
//! A pod reaching a ClusterIP is DNATed to one of the Service's endpoints and keeps
//! it for the connection; a Service without endpoints rejects; a NodePort from
//! outside is DNATed and marked for masquerade, and leaves with the node's address;
//! a partial sync after a Service is added still loads and saves round trip.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use std::net::Ipv4Addr;

use kubeglass::api::core::Service;
use kubeglass::api::networking::EndpointSlice;
use kubeglass::api::Object;
use kubeglass::kernel::rng::Rng;
use kubeglass::kubeproxy::iptables::{Proxier, ProxierConfig};
use kubeglass::network::netfilter::eval::{Origin, Passage, Step};
use kubeglass::network::netfilter::{Cidr, HostAddrs, Netfilter, Packet, RestoreOptions, Verdict};
use serde_json::{json, Value};

const NODE_IP: &str = "192.168.0.10";

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
}

fn service(v: Value) -> Service {
    match Object::from_value(v) {
        Ok(Object::Service(s)) => *s,
        other => panic!("not a Service: {other:?}"),
    }
}

fn slice(v: Value) -> EndpointSlice {
    match Object::from_value(v) {
        Ok(Object::EndpointSlice(s)) => *s,
        other => panic!("not an EndpointSlice: {other:?}"),
    }
}

fn svc(name: &str, spec: Value) -> Service {
    service(json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"namespace": "default", "name": name}, "spec": spec}))
}

fn eps(svc: &str, ips: &[(&str, &str)], port: u16) -> EndpointSlice {
    let endpoints: Vec<Value> = ips
        .iter()
        .map(|(ip, node)| {
            json!({"addresses": [ip], "conditions": {"ready": true}, "nodeName": node})
        })
        .collect();
    slice(
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                 "metadata": {"namespace": "default", "name": format!("{svc}-abcde"),
                              "labels": {"kubernetes.io/service-name": svc}},
                 "addressType": "IPv4", "endpoints": endpoints,
                 "ports": [{"name": "http", "port": port, "protocol": "TCP"}]}),
    )
}

/// node-1's proxier with a ClusterIP Service of two endpoints, a NodePort Service of
/// one, and a Service with none.
fn proxier() -> Proxier {
    let mut p = Proxier::new(ProxierConfig::node(
        "node-1",
        Some(NODE_IP),
        "10.244.0.0/16",
    ));
    p.on_service_update(&svc(
        "web",
        json!({"clusterIP": "10.96.0.20",
               "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}),
    ));
    p.on_endpoint_slice_update(&eps(
        "web",
        &[("10.244.1.5", "node-1"), ("10.244.2.5", "node-2")],
        8080,
    ));
    p.on_service_update(&svc(
        "front",
        json!({"type": "NodePort", "clusterIP": "10.96.0.30",
               "ports": [{"name": "http", "port": 80, "targetPort": 80, "nodePort": 30080,
                          "protocol": "TCP"}]}),
    ));
    p.on_endpoint_slice_update(&eps("front", &[("10.244.2.7", "node-2")], 80));
    p.on_service_update(&svc(
        "empty",
        json!({"clusterIP": "10.96.0.40",
               "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}),
    ));
    p
}

/// A node's engine loaded as kube-proxy loads it: the restore text with `--noflush`,
/// then its jumps from the built-in chains with `iptables -I`.
fn node(p: &mut Proxier) -> Netfilter {
    let mut nf = Netfilter::new();
    let sync = p.sync(0);
    assert!(sync.full_sync, "the first sync is a full one");
    let r = nf.restore(
        &sync.restore,
        RestoreOptions {
            noflush: true,
            counters: false,
        },
    );
    assert!(
        r.is_ok(),
        "kube-proxy's text loads: {r:?}\n{}",
        sync.restore
    );
    for j in p.jump_rules() {
        let line = format!("iptables -t {} -I {} {}", j.table, j.chain, j.args);
        let r = nf.command(&line);
        assert!(r.is_ok(), "{line}: {r:?}");
    }
    nf
}

/// node-1: eth0 on the node network, its pods (10.244.1.0/24) on the cni0 bridge,
/// everything else (the other nodes' pods, by direct routing) out of eth0.
fn host() -> HostAddrs {
    let mut h = HostAddrs::new(&[("eth0", ip(NODE_IP)), ("cni0", ip("10.244.1.1"))]);
    for (cidr, dev) in [("0.0.0.0/0", "eth0"), ("10.244.1.0/24", "cni0")] {
        let c = Cidr::parse(cidr).expect("a CIDR");
        h.routes.push((c, dev.to_string()));
    }
    h
}

fn dnat(p: &Passage) -> Option<String> {
    p.hooks
        .iter()
        .flat_map(|h| &h.tables)
        .flat_map(|t| &t.steps)
        .find_map(|s| match s {
            Step::Rewrite { what, to, .. } if what.starts_with("DNAT") => Some(to.clone()),
            _ => None,
        })
}

fn pod_packet(dst: &str, dport: u16, sport: u16) -> Packet {
    let mut pkt = Packet::tcp(ip("10.244.1.9"), sport, ip(dst), dport);
    pkt.in_iface = "cni0".into();
    pkt
}

#[test]
fn a_pod_reaches_a_cluster_ip_through_kube_proxys_rules() {
    let mut p = proxier();
    let mut nf = node(&mut p);
    let h = host();
    let mut rng = Rng::new(3);
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..200u16 {
        let mut pkt = pod_packet("10.96.0.20", 80, 30000 + i);
        let pass = nf.traverse(Origin::Arrived, &mut pkt, &h, &mut rng, 0);
        assert_eq!(pass.verdict, Verdict::Accept, "{pass:?}");
        let to = dnat(&pass).unwrap_or_default();
        assert!(
            to == "10.244.1.5:8080" || to == "10.244.2.5:8080",
            "DNAT to an endpoint, got {to:?}"
        );
        assert_eq!(pkt.dport, 8080);
        assert_eq!(format!("{}:{}", pkt.dst, pkt.dport), to);
        seen.insert(to);
        // The connection's next packet keeps its endpoint (conntrack, no new draw).
        let mut again = pod_packet("10.96.0.20", 80, 30000 + i);
        let pass2 = nf.traverse(Origin::Arrived, &mut again, &h, &mut rng, 1);
        assert_eq!(pass2.verdict, Verdict::Accept);
        assert_eq!(again.dst, pkt.dst, "packet {i} kept its endpoint");
    }
    assert_eq!(
        seen.len(),
        2,
        "both endpoints are chosen over 200 connections"
    );
}

#[test]
fn a_service_without_endpoints_rejects() {
    let mut p = proxier();
    let nf = node(&mut p);
    let mut pkt = pod_packet("10.96.0.40", 80, 40000);
    let pass = nf.trace(Origin::Arrived, &mut pkt, &host(), &mut Rng::new(1), 0);
    assert!(
        matches!(pass.verdict, Verdict::Reject { .. }),
        "REJECT, got {:?}",
        pass.verdict
    );
    let decided = pass
        .hooks
        .iter()
        .flat_map(|h| &h.tables)
        .flat_map(|t| &t.steps)
        .any(|s| format!("{s:?}").contains("default/empty:http has no endpoints"));
    assert!(
        decided,
        "the deciding rule is the no-endpoints REJECT: {pass:?}"
    );
}

#[test]
fn a_node_port_from_outside_is_dnated_and_masqueraded() {
    let mut p = proxier();
    let nf = node(&mut p);
    let mut pkt = Packet::tcp(ip("203.0.113.7"), 50000, ip(NODE_IP), 30080);
    pkt.in_iface = "eth0".into();
    let pass = nf.trace(Origin::Arrived, &mut pkt, &host(), &mut Rng::new(1), 0);
    assert_eq!(pass.verdict, Verdict::Accept, "{pass:?}");
    assert_eq!(dnat(&pass).as_deref(), Some("10.244.2.7:80"));
    assert_eq!(pkt.dst, ip("10.244.2.7"));
    // KUBE-MARK-MASQ set 0x4000; KUBE-POSTROUTING cleared it (xor) and masqueraded
    // to the node's address on the way out (the endpoint is on another node).
    assert_eq!(
        pkt.mark & 0x4000,
        0,
        "the mark is cleared once it is acted on"
    );
    assert_eq!(
        pkt.src,
        ip(NODE_IP),
        "the source is the node's eth0 address"
    );
    assert_eq!(pkt.out_iface, "eth0");
    assert!(!pass.delivered_locally);
    let masq = pass
        .hooks
        .iter()
        .flat_map(|h| &h.tables)
        .flat_map(|t| &t.steps)
        .any(|s| matches!(s, Step::Rewrite { what, .. } if what.contains("MASQUERADE")));
    assert!(masq, "MASQUERADE on the way out: {pass:?}");
}

#[test]
fn a_partial_sync_loads_and_the_ruleset_saves_round_trip() {
    let mut p = proxier();
    let mut nf = node(&mut p);
    p.on_service_update(&svc(
        "api",
        json!({"clusterIP": "10.96.0.50",
               "ports": [{"name": "http", "port": 443, "targetPort": 8443, "protocol": "TCP"}]}),
    ));
    p.on_endpoint_slice_update(&eps("api", &[("10.244.1.8", "node-1")], 8443));
    let sync = p.sync(1_000_000_000);
    assert!(!sync.full_sync, "a change alone is a partial sync");
    assert_eq!(sync.service_ports_written, 1);
    let r = nf.restore(
        &sync.restore,
        RestoreOptions {
            noflush: true,
            counters: false,
        },
    );
    assert!(r.is_ok(), "{r:?}");
    // The new Service answers, and the old ones still do.
    let h = host();
    let mut pkt = pod_packet("10.96.0.50", 443, 41000);
    let pass = nf.trace(Origin::Arrived, &mut pkt, &h, &mut Rng::new(1), 0);
    assert_eq!(dnat(&pass).as_deref(), Some("10.244.1.8:8443"));
    let mut pkt = pod_packet("10.96.0.30", 80, 41001);
    let pass = nf.trace(Origin::Arrived, &mut pkt, &h, &mut Rng::new(1), 0);
    assert_eq!(dnat(&pass).as_deref(), Some("10.244.2.7:80"));
    // iptables-save of the whole node, restored into a fresh engine, saves the same.
    let saved = nf.save(0);
    assert!(saved.contains("-A KUBE-SERVICES -d 10.96.0.50/32 -p tcp -m comment --comment \"default/api:http cluster IP\""), "{saved}");
    let mut copy = Netfilter::new();
    let r = copy.restore(&saved, RestoreOptions::default());
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(copy.save(0), saved);
}
