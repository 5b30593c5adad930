//! The iptables engine through its public interface: iptables-restore text in
//! (kube-proxy's, from upstream's proxier tests in tests/data/iptables.json, and a
//! person's), iptables-save text out, and packets through the hooks: the DNAT
//! probability ladder, masquerade by mark, REJECT for a service without endpoints,
//! conntrack keeping a connection's endpoint and un-NATing replies, session affinity
//! through `recent`, negation, multiport, and a DROP rule inserted with -I.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use std::net::Ipv4Addr;

use kubeglass::kernel::rng::Rng;
use kubeglass::network::netfilter::{
    eval::{HookRecord, Step},
    parse::ErrorKind,
    Hook, HostAddrs, Netfilter, Packet, Proto, RestoreOptions, TableName, Verdict,
};
use serde_json::Value;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
}

/// Upstream's expected kube-proxy restore input (the visible case).
fn kube_proxy_text() -> String {
    let data: Value = serde_json::from_str(include_str!("data/iptables.json")).unwrap_or_default();
    data["cases"][0]["expectedIptablesRestore"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The jumps kube-proxy installs from the built-in chains (with `iptables -I`), as a
/// node carries them, plus a CNI's masquerade rule.
const NODE_BASE: &str = r#"*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A INPUT -j KUBE-FIREWALL
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -j KUBE-FIREWALL
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:FLANNEL-POSTRTG - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
-A FLANNEL-POSTRTG -s 10.0.0.0/8 -d 10.0.0.0/8 -m comment --comment "flanneld masq" -j RETURN
COMMIT
"#;

fn node() -> Netfilter {
    let mut nf = Netfilter::new();
    let r = nf.restore(NODE_BASE, RestoreOptions::default());
    assert!(r.is_ok(), "{r:?}");
    let r = nf.restore(
        &kube_proxy_text(),
        RestoreOptions {
            noflush: true,
            counters: true,
        },
    );
    assert!(r.is_ok(), "{r:?}");
    nf
}

fn host() -> HostAddrs {
    HostAddrs::new(&[("eth0", ip("192.168.0.10")), ("cni0", ip("10.0.2.1"))])
}

/// A forwarded packet through PREROUTING, FORWARD, POSTROUTING (live).
fn forward(nf: &mut Netfilter, pkt: &mut Packet, rng: &mut Rng, now: u64) -> Vec<HookRecord> {
    let h = host();
    let mut out = Vec::new();
    for hook in [Hook::Prerouting, Hook::Forward, Hook::Postrouting] {
        let r = nf.hook(hook, pkt, &h, rng, now);
        let stop = r.verdict != Verdict::Accept;
        out.push(r);
        if stop {
            break;
        }
    }
    out
}

fn trace(nf: &Netfilter, pkt: &mut Packet, rng: &mut Rng) -> Vec<HookRecord> {
    let h = host();
    let mut out = Vec::new();
    for hook in [Hook::Prerouting, Hook::Forward, Hook::Postrouting] {
        let r = nf.trace_hook(hook, pkt, &h, rng, 0);
        let stop = r.verdict != Verdict::Accept;
        out.push(r);
        if stop {
            break;
        }
    }
    out
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

#[test]
fn kube_proxy_restore_text_loads_and_saves_in_iptables_save_form() {
    let nf = node();
    let saved = nf.save(0);
    let l = lines(&saved);
    // Tables in iptables-nft-save's order, each framed by its header and footer.
    assert_eq!(
        l[0],
        "# Generated by iptables-save v1.8.9 on Tue Aug 13 00:00:00 2024"
    );
    assert_eq!(l[1], "*mangle");
    assert_eq!(l[2], ":PREROUTING ACCEPT [0:0]");
    let tables: Vec<&&str> = l.iter().filter(|x| x.starts_with('*')).collect();
    assert_eq!(tables, [&"*mangle", &"*raw", &"*filter", &"*nat"]);
    assert_eq!(l.last(), Some(&"# Completed on Tue Aug 13 00:00:00 2024"));
    // Options in iptables-save's order and normal forms.
    for want in [
        ":KUBE-SVC-AQI2S6QIMU7PVVRP - [0:0]",
        "-A KUBE-SERVICES -d 172.30.1.1/32 -p tcp -m comment --comment \"ns1/svc1 cluster IP\" -m tcp --dport 80 -j KUBE-SVC-AQI2S6QIMU7PVVRP",
        "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS",
        "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
        "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE",
        "-A KUBE-SEP-3JOIVZTXZZRGORX4 -s 10.0.1.1/32 -m comment --comment \"ns1/svc1\" -j KUBE-MARK-MASQ",
        "-A KUBE-SEP-3JOIVZTXZZRGORX4 -p tcp -m comment --comment \"ns1/svc1\" -m tcp -j DNAT --to-destination 10.0.1.1:80",
        "-A KUBE-SVC-AQI2S6QIMU7PVVRP ! -s 10.0.0.0/8 -d 172.30.1.1/32 -p tcp -m comment --comment \"ns1/svc1 cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ",
        "-A KUBE-SVC-AQI2S6QIMU7PVVRP -m comment --comment \"ns1/svc1 -> 10.0.1.1:80\" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-3JOIVZTXZZRGORX4",
        "-A KUBE-SVC-AQI2S6QIMU7PVVRP -m comment --comment \"ns1/svc1 -> 10.0.1.2:80\" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-IO5XOSKPAXIFQXAJ",
        "-A KUBE-SVC-AQI2S6QIMU7PVVRP -m comment --comment \"ns1/svc1 -> 10.0.1.3:80\" -j KUBE-SEP-XGJFVO3L2O5SRFNT",
        "-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment \"block incoming localnet connections\" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
        "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
        "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL",
        "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING",
    ] {
        assert!(l.contains(&want), "missing {want}\n{saved}");
    }
    // Built-in chains first (hook order), then user chains by name.
    let nat_start = l.iter().position(|x| *x == "*nat").unwrap_or(0);
    assert_eq!(
        &l[nat_start + 1..nat_start + 6],
        [
            ":PREROUTING ACCEPT [0:0]",
            ":INPUT ACCEPT [0:0]",
            ":OUTPUT ACCEPT [0:0]",
            ":POSTROUTING ACCEPT [0:0]",
            ":FLANNEL-POSTRTG - [0:0]"
        ]
    );
    // kube-proxy's text has 20 rules; the node base 16.
    assert_eq!(nf.rules.rule_count(), 20 + 16);
}

#[test]
fn restore_of_save_gives_the_same_ruleset() {
    let nf = node();
    let saved = nf.save(42_000_000_000);
    let mut again = Netfilter::new();
    let r = again.restore(&saved, RestoreOptions::default());
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(again.rules, nf.rules);
    assert_eq!(again.save(42_000_000_000), saved);
    // The summary counts what the text held.
    let s = r.unwrap_or_default();
    assert_eq!(s.tables, TableName::ALL.to_vec());
    assert_eq!(s.rules, 36);
}

#[test]
fn counters_round_trip_with_dash_c() {
    let mut nf = node();
    let mut rng = Rng::new(1);
    let mut p = Packet::tcp(ip("10.0.2.5"), 40000, ip("172.30.1.1"), 80);
    forward(&mut nf, &mut p, &mut rng, 0);
    let text = kubeglass::network::netfilter::save::save(
        &nf.rules,
        &kubeglass::network::netfilter::save::SaveOptions {
            now: 0,
            counters: true,
        },
    );
    assert!(text.contains("[1:60] -A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"), "{text}");
    assert!(text.contains(":FORWARD ACCEPT [1:60]"), "{text}");
    let mut again = Netfilter::new();
    let r = again.restore(
        &text,
        RestoreOptions {
            noflush: false,
            counters: true,
        },
    );
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(again.rules, nf.rules);
}

/// Which endpoint the probability ladder picks for a sequence of draws, computed
/// from the kernel's test: (random & 0x7FFFFFFF) < probability.
fn ladder(rng: &mut Rng) -> &'static str {
    let p = [715_827_883u32, 1_073_741_824];
    let eps = ["10.0.1.1", "10.0.1.2", "10.0.1.3"];
    for (i, prob) in p.iter().enumerate() {
        if ((rng.next_u64() as u32) & 0x7FFF_FFFF) < *prob {
            return eps[i];
        }
    }
    eps[2]
}

fn dnat_to(recs: &[HookRecord]) -> Option<String> {
    recs.iter()
        .flat_map(|r| &r.tables)
        .flat_map(|t| &t.steps)
        .find_map(|s| match s {
            Step::Rewrite { what, to, .. } if what.starts_with("DNAT") => Some(to.clone()),
            _ => None,
        })
}

#[test]
fn dnat_follows_the_probability_ladder_with_a_seeded_rng() {
    let mut nf = node();
    let mut rng = Rng::new(7);
    let mut model = Rng::new(7);
    let mut counts = std::collections::BTreeMap::new();
    for i in 0..3000u16 {
        let mut p = Packet::tcp(ip("10.0.2.5"), 20000 + i, ip("172.30.1.1"), 80);
        let recs = forward(&mut nf, &mut p, &mut rng, 0);
        let want = ladder(&mut model);
        assert_eq!(dnat_to(&recs), Some(format!("{want}:80")), "packet {i}");
        assert_eq!(p.dst, ip(want));
        *counts.entry(want).or_insert(0) += 1;
    }
    // Each endpoint gets about a third.
    for (ep, n) in &counts {
        assert!((850..=1150).contains(n), "{ep}: {n} of 3000");
    }
    assert_eq!(nf.conntrack.len(), 3000);
    // The rule counters saw every first packet.
    let svc = nf
        .rules
        .chain(TableName::Nat, "KUBE-SVC-AQI2S6QIMU7PVVRP")
        .map(|c| c.rules.iter().map(|r| r.packets).collect::<Vec<_>>());
    let svc = svc.unwrap_or_default();
    assert_eq!(
        svc[0], 0,
        "pod-sourced traffic is not marked for masquerade"
    );
    assert_eq!(svc[1] as usize, counts["10.0.1.1"]);
}

#[test]
fn the_record_explains_the_path_and_summarizes_rules_that_did_not_match() {
    let nf = node();
    let mut rng = Rng::new(3);
    let mut p = Packet::tcp(ip("10.0.2.5"), 40000, ip("172.30.1.1"), 80);
    let recs = trace(&nf, &mut p, &mut rng);
    let pre = &recs[0];
    assert_eq!(pre.hook, Hook::Prerouting);
    assert_eq!(pre.conntrack, "NEW: first packet of a connection");
    let nat = pre.tables.iter().find(|t| t.table == TableName::Nat);
    let steps = nat.map(|t| t.steps.clone()).unwrap_or_default();
    assert_eq!(
        steps[0],
        Step::Chain {
            chain: "PREROUTING".into()
        }
    );
    assert!(
        matches!(&steps[1], Step::Match { chain, rule: 1, target, .. } if chain == "PREROUTING" && target == "KUBE-SERVICES")
    );
    assert!(matches!(&steps[3], Step::Match { chain, rule: 1, .. } if chain == "KUBE-SERVICES"));
    // In the service chain the masquerade rule did not match (a pod source): it
    // leads a run of rules that did not match.
    assert!(steps.iter().any(|s| matches!(s, Step::NoMatch { chain, from: 1, .. } if chain == "KUBE-SVC-AQI2S6QIMU7PVVRP")), "{steps:?}");
    let json = serde_json::to_value(pre).unwrap_or_default();
    assert_eq!(json["verdict"], "accept");
    assert_eq!(json["hook"], "PREROUTING");
}

#[test]
fn traffic_from_outside_the_cluster_is_marked_and_masqueraded() {
    let mut nf = node();
    let mut rng = Rng::new(11);
    let mut p = Packet::tcp(ip("192.168.0.99"), 50000, ip("172.30.1.1"), 80);
    p.in_iface = "eth0".into();
    p.out_iface = "cni0".into();
    let recs = forward(&mut nf, &mut p, &mut rng, 0);
    assert!(recs.iter().all(|r| r.verdict == Verdict::Accept));
    // KUBE-MARK-MASQ set 0x4000; KUBE-POSTROUTING cleared it and masqueraded to the
    // address of the interface the packet leaves by.
    let post = &recs[2];
    let nat = post.tables.iter().find(|t| t.table == TableName::Nat);
    let steps = nat.map(|t| t.steps.clone()).unwrap_or_default();
    assert!(steps.contains(&Step::Mark {
        from: "0x4000".into(),
        to: "0x0".into()
    }));
    assert!(steps.contains(&Step::Rewrite {
        what: "MASQUERADE",
        from: "192.168.0.99:50000".into(),
        to: "10.0.2.1:50000".into()
    }));
    assert_eq!(p.src, ip("10.0.2.1"));
    assert_eq!(p.mark, 0);
    // A pod's own traffic returns from KUBE-POSTROUTING unmarked (`! --mark`).
    let mut q = Packet::tcp(ip("10.0.2.5"), 50001, ip("172.30.1.1"), 80);
    q.out_iface = "cni0".into();
    forward(&mut nf, &mut q, &mut rng, 0);
    assert_eq!(q.src, ip("10.0.2.5"));
}

#[test]
fn a_service_without_endpoints_rejects() {
    let mut nf = node();
    let r = nf.restore(
        "*filter\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m comment --comment \"ns2/svc2:p80 has no endpoints\" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j REJECT\nCOMMIT\n",
        RestoreOptions {
            noflush: true,
            counters: false,
        },
    );
    assert!(r.is_ok(), "{r:?}");
    let mut rng = Rng::new(1);
    let mut p = Packet::tcp(ip("10.0.2.5"), 40000, ip("172.30.0.42"), 80);
    let recs = forward(&mut nf, &mut p, &mut rng, 0);
    let last = recs
        .last()
        .map(|r| (r.hook, r.verdict, r.decided_by.clone()));
    assert_eq!(
        last,
        Some((
            Hook::Forward,
            Verdict::Reject {
                with: "icmp-port-unreachable"
            },
            Some("-A KUBE-SERVICES -d 172.30.0.42/32 -p tcp -m comment --comment \"ns2/svc2:p80 has no endpoints\" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable".into())
        ))
    );
    // A rejected packet leaves no connection behind.
    assert_eq!(nf.conntrack.len(), 0);
}

#[test]
fn conntrack_keeps_the_endpoint_and_un_nats_replies() {
    let mut nf = node();
    let mut rng = Rng::new(5);
    let mut first = Packet::tcp(ip("10.0.2.5"), 40000, ip("172.30.1.1"), 80);
    forward(&mut nf, &mut first, &mut rng, 0);
    let endpoint = first.dst;
    assert_eq!(nf.conntrack.len(), 1);
    // Later packets of the connection do not consult the nat table: whatever the
    // random stream says, they go to the same endpoint.
    for seed in 0..20 {
        let mut r2 = Rng::new(seed);
        let mut p = Packet::tcp(ip("10.0.2.5"), 40000, ip("172.30.1.1"), 80);
        let recs = forward(&mut nf, &mut p, &mut r2, 1_000_000_000);
        assert_eq!(p.dst, endpoint);
        assert_eq!(dnat_to(&recs), Some(format!("{endpoint}:80")));
        assert!(recs[0].conntrack.starts_with("NEW (original direction)"));
    }
    // The reply comes from the endpoint and leaves with the service's address.
    let mut reply = Packet::tcp(endpoint, 80, ip("10.0.2.5"), 40000);
    let recs = forward(&mut nf, &mut reply, &mut rng, 2_000_000_000);
    assert!(recs[0]
        .conntrack
        .starts_with("ESTABLISHED (reply direction)"));
    assert_eq!((reply.src, reply.sport), (ip("172.30.1.1"), 80));
    let un_dnat = recs[2].tables.iter().flat_map(|t| &t.steps).any(|s| {
        matches!(s, Step::Rewrite { what: "un-DNAT (conntrack)", to, .. } if to == "172.30.1.1:80")
    });
    assert!(un_dnat, "{:?}", recs[2]);
    // Now the connection is established both ways.
    let mut again = Packet::tcp(ip("10.0.2.5"), 40000, ip("172.30.1.1"), 80);
    let recs = forward(&mut nf, &mut again, &mut rng, 3_000_000_000);
    assert!(recs[0]
        .conntrack
        .starts_with("ESTABLISHED (original direction)"));
    let listing = nf.conntrack.list(3_000_000_000);
    assert!(
        listing.starts_with(&format!("tcp      6 86400 ESTABLISHED src=10.0.2.5 dst=172.30.1.1 sport=40000 dport=80 src={endpoint} dst=10.0.2.5 sport=80 dport=40000 [ASSURED]")),
        "{listing}"
    );
    // An established connection is not dropped by KUBE-FIREWALL's DNAT exception,
    // and after the TCP timeout the entry is gone.
    assert_eq!(
        nf.conntrack.expire(3_000_000_000 + 86_401 * 1_000_000_000),
        1
    );
}

#[test]
fn a_trace_changes_nothing() {
    let nf = node();
    let before_rules = nf.rules.clone();
    let mut rng = Rng::derive(1, "trace");
    let mut p = Packet::tcp(ip("10.0.2.5"), 40000, ip("172.30.1.1"), 80);
    let recs = trace(&nf, &mut p, &mut rng);
    assert!(dnat_to(&recs).is_some());
    assert_eq!(nf.rules, before_rules);
    assert_eq!(nf.conntrack.len(), 0);
    // Repeatable: the same stream gives the same records.
    let mut rng2 = Rng::derive(1, "trace");
    let mut p2 = Packet::tcp(ip("10.0.2.5"), 40000, ip("172.30.1.1"), 80);
    assert_eq!(trace(&nf, &mut p2, &mut rng2), recs);
}

#[test]
fn a_drop_rule_inserted_with_dash_i_kills_the_packet() {
    let mut nf = node();
    let r = nf.restore(
        "*filter\n-I FORWARD 1 -s 10.0.2.5/32 -p tcp -m comment --comment \"no more\" -j DROP\nCOMMIT\n",
        RestoreOptions {
            noflush: true,
            counters: false,
        },
    );
    assert!(r.is_ok(), "{r:?}");
    let saved = nf.save(0);
    let i = saved.find("-A FORWARD ").unwrap_or(0);
    assert!(saved[i..].starts_with(
        "-A FORWARD -s 10.0.2.5/32 -p tcp -m comment --comment \"no more\" -j DROP\n"
    ));
    let mut rng = Rng::new(1);
    let mut p = Packet::tcp(ip("10.0.2.5"), 40000, ip("172.30.1.1"), 80);
    let recs = forward(&mut nf, &mut p, &mut rng, 0);
    let last = &recs[recs.len() - 1];
    assert_eq!(last.hook, Hook::Forward);
    assert_eq!(last.verdict, Verdict::Drop);
    assert_eq!(
        last.decided_by.as_deref(),
        Some("-A FORWARD -s 10.0.2.5/32 -p tcp -m comment --comment \"no more\" -j DROP")
    );
    let fwd = nf.rules.chain(TableName::Filter, "FORWARD");
    assert_eq!(fwd.map(|c| c.rules[0].packets), Some(1));
    // Another source passes; a single command removes the rule again.
    let mut q = Packet::tcp(ip("10.0.2.6"), 40000, ip("172.30.1.1"), 80);
    assert!(forward(&mut nf, &mut q, &mut rng, 0)
        .iter()
        .all(|r| r.verdict == Verdict::Accept));
    assert!(nf.command("iptables -D FORWARD 1").is_ok());
    let mut p = Packet::tcp(ip("10.0.2.5"), 40001, ip("172.30.1.1"), 80);
    assert!(forward(&mut nf, &mut p, &mut rng, 0)
        .iter()
        .all(|r| r.verdict == Verdict::Accept));
}

#[test]
fn negation_and_multiport() {
    let mut nf = Netfilter::new();
    let r = nf.restore(
        "*filter\n:INPUT DROP [0:0]\n-A INPUT ! -i eth0 -j ACCEPT\n-A INPUT -p tcp -m multiport --dports 22,80,8000:8080 -j ACCEPT\n-A INPUT -p udp -m multiport ! --dports 53 -j REJECT\nCOMMIT\n",
        RestoreOptions::default(),
    );
    assert!(r.is_ok(), "{r:?}");
    let h = host();
    let mut rng = Rng::new(1);
    let mut verdict = |src: &str, iface: &str, proto: Proto, port: u16| {
        let mut p = Packet::new(ip(src), ip("192.168.0.10"), proto, 1234, port);
        p.in_iface = iface.into();
        nf.hook(Hook::Input, &mut p, &h, &mut rng, 0).verdict
    };
    assert_eq!(
        verdict("10.0.2.5", "cni0", Proto::Tcp, 443),
        Verdict::Accept
    );
    assert_eq!(verdict("1.2.3.4", "eth0", Proto::Tcp, 22), Verdict::Accept);
    assert_eq!(
        verdict("1.2.3.4", "eth0", Proto::Tcp, 8050),
        Verdict::Accept
    );
    assert_eq!(verdict("1.2.3.4", "eth0", Proto::Tcp, 443), Verdict::Drop);
    assert_eq!(
        verdict("1.2.3.4", "eth0", Proto::Udp, 123),
        Verdict::Reject {
            with: "icmp-port-unreachable"
        }
    );
    assert_eq!(verdict("1.2.3.4", "eth0", Proto::Udp, 53), Verdict::Drop);
    let saved = nf.save(0);
    assert!(saved.contains(":INPUT DROP [2:120]"), "{saved}");
    assert!(saved.contains("-A INPUT ! -i eth0 -j ACCEPT\n"));
    assert!(saved.contains("-A INPUT -p tcp -m multiport --dports 22,80,8000:8080 -j ACCEPT\n"));
    assert!(saved.contains("-A INPUT -p udp -m multiport ! --dports 53 -j REJECT --reject-with icmp-port-unreachable\n"));
}

#[test]
fn session_affinity_through_recent() {
    let text = r#"*nat
:KUBE-SERVICES - [0:0]
:KUBE-SVC-A - [0:0]
:KUBE-SEP-1 - [0:0]
:KUBE-SEP-2 - [0:0]
-A PREROUTING -j KUBE-SERVICES
-A KUBE-SERVICES -m comment --comment "ns/a cluster IP" -m tcp -p tcp -d 172.30.0.7 --dport 80 -j KUBE-SVC-A
-A KUBE-SVC-A -m comment --comment "ns/a -> 10.0.1.1:80" -m recent --name KUBE-SEP-1 --rcheck --seconds 10800 --reap -j KUBE-SEP-1
-A KUBE-SVC-A -m comment --comment "ns/a -> 10.0.1.2:80" -m recent --name KUBE-SEP-2 --rcheck --seconds 10800 --reap -j KUBE-SEP-2
-A KUBE-SVC-A -m comment --comment "ns/a -> 10.0.1.1:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-1
-A KUBE-SVC-A -m comment --comment "ns/a -> 10.0.1.2:80" -j KUBE-SEP-2
-A KUBE-SEP-1 -m comment --comment ns/a -m recent --name KUBE-SEP-1 --set -m tcp -p tcp -j DNAT --to-destination 10.0.1.1:80
-A KUBE-SEP-2 -m comment --comment ns/a -m recent --name KUBE-SEP-2 --set -m tcp -p tcp -j DNAT --to-destination 10.0.1.2:80
COMMIT
"#;
    let mut nf = Netfilter::new();
    let r = nf.restore(text, RestoreOptions::default());
    assert!(r.is_ok(), "{r:?}");
    let saved = nf.save(0);
    assert!(saved.contains("-A KUBE-SVC-A -m comment --comment \"ns/a -> 10.0.1.1:80\" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-1 --mask 255.255.255.255 --rsource -j KUBE-SEP-1\n"), "{saved}");
    assert!(saved.contains("-A KUBE-SEP-1 -p tcp -m comment --comment \"ns/a\" -m recent --set --name KUBE-SEP-1 --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.0.1.1:80\n"), "{saved}");
    let h = host();
    let mut rng = Rng::new(99);
    let mut dst_for = |nf: &mut Netfilter, client: &str, sport: u16, now: u64| {
        let mut p = Packet::tcp(ip(client), sport, ip("172.30.0.7"), 80);
        nf.hook(Hook::Prerouting, &mut p, &h, &mut rng, now);
        nf.hook(Hook::Postrouting, &mut p, &h, &mut rng, now);
        p.dst
    };
    let first = dst_for(&mut nf, "10.0.2.5", 1000, 0);
    // Every new connection from the same client, for three hours, lands there.
    for i in 1..50u16 {
        assert_eq!(
            dst_for(&mut nf, "10.0.2.5", 1000 + i, u64::from(i) * 60_000_000_000),
            first
        );
    }
    assert!(nf
        .recent
        .get(
            &format!("KUBE-SEP-{}", if first == ip("10.0.1.1") { 1 } else { 2 }),
            ip("10.0.2.5")
        )
        .is_some());
    // Other clients spread over both endpoints.
    let mut seen = std::collections::BTreeSet::new();
    for c in 0..40u8 {
        seen.insert(dst_for(&mut nf, &format!("10.0.3.{c}"), 1000, 0));
    }
    assert_eq!(seen.len(), 2);
}

#[test]
fn errors_name_line_and_column_and_apply_nothing() {
    let mut nf = node();
    let before = nf.rules.clone();
    let bad = "*filter\n:KUBE-X - [0:0]\n-A KUBE-X -p tcp --dprt 80 -j ACCEPT\nCOMMIT\n";
    let e = nf
        .restore(
            bad,
            RestoreOptions {
                noflush: true,
                counters: false,
            },
        )
        .err();
    let e = e.unwrap_or_else(|| panic!("accepted"));
    assert_eq!((e.line, e.column, e.kind), (3, 18, ErrorKind::Parameter));
    assert_eq!(e.message, "unknown option \"--dprt\"");
    assert_eq!(
        e.text(),
        "iptables-restore v1.8.9 (nf_tables): unknown option \"--dprt\"\nError occurred at line: 3\nTry `iptables-restore -h' or 'iptables-restore --help' for more information."
    );
    assert_eq!(nf.rules, before);

    // A jump to a chain nobody declared.
    let e = nf
        .restore(
            "*nat\n-A PREROUTING -j KUBE-NOPE\nCOMMIT\n",
            RestoreOptions::default(),
        )
        .err();
    let e = e.unwrap_or_else(|| panic!("accepted"));
    assert_eq!((e.line, e.column), (2, 18));
    assert_eq!(
        e.message,
        "Couldn't load target `KUBE-NOPE':No such file or directory"
    );
    // Appending to a chain that does not exist fails the line.
    let e = nf
        .restore(
            "*filter\n-A NOPE -j ACCEPT\nCOMMIT\n",
            RestoreOptions::default(),
        )
        .err();
    let e = e.unwrap_or_else(|| panic!("accepted"));
    assert_eq!(
        e.text(),
        "iptables-restore: line 2 failed: No chain/target/match by that name."
    );
    // The second table fails: the first is not applied either.
    let e = nf
        .restore(
            "*filter\n:INPUT DROP [0:0]\nCOMMIT\n*nat\n-A POSTROUTING -j MASQUERADE --bogus\nCOMMIT\n",
            RestoreOptions::default(),
        )
        .err();
    let e = e.unwrap_or_else(|| panic!("accepted"));
    assert_eq!((e.line, e.column), (5, 30));
    // No COMMIT.
    let e = nf
        .restore("*filter\n-A INPUT -j ACCEPT\n", RestoreOptions::default())
        .err();
    let e = e.unwrap_or_else(|| panic!("accepted"));
    assert_eq!(e.text(), "iptables-restore: COMMIT expected at line 3");
    // A bad table; a DNAT outside nat; an unknown match; a quote left open.
    for (text, line, col, msg) in [
        ("*filtre\nCOMMIT\n", 1, 2, "iptables-restore: line 1 table name 'filtre' invalid"),
        ("*filter\n-A INPUT -j DNAT --to-destination 10.0.0.1\nCOMMIT\n", 2, 13, "Invalid argument. Run `dmesg' for more information. (DNAT target: only valid in nat table, not filter)"),
        ("*filter\n-A INPUT -m frob -j ACCEPT\nCOMMIT\n", 2, 13, "Couldn't load match `frob':No such file or directory"),
        ("*filter\n-A INPUT -m comment --comment \"open -j ACCEPT\nCOMMIT\n", 2, 31, "Unterminated quote in parameter"),
        ("*filter\n-A INPUT -s 10.0.0.300 -j ACCEPT\nCOMMIT\n", 2, 13, "host/network `10.0.0.300' not found"),
        ("*nat\n-A PREROUTING -m statistic --mode random --probability 1.5 -j ACCEPT\nCOMMIT\n", 2, 56, "statistic: Value \"1.5\" for \"--probability\" option is out of range [0,1]"),
    ] {
        let e = nf.restore(text, RestoreOptions::default()).err();
        let e = e.unwrap_or_else(|| panic!("accepted {text}"));
        assert_eq!((e.line, e.column, e.message.as_str()), (line, col, msg), "{text}");
    }
    assert_eq!(nf.rules, before);
}

#[test]
fn noflush_keeps_other_chains_and_flushes_declared_ones() {
    let mut nf = node();
    // kube-proxy's partial sync: only the changed chain is declared and refilled;
    // a stale endpoint chain is declared (flushed) and deleted.
    let r = nf.restore(
        "*nat\n:KUBE-SVC-AQI2S6QIMU7PVVRP - [0:0]\n:KUBE-SEP-XGJFVO3L2O5SRFNT - [0:0]\n-A KUBE-SVC-AQI2S6QIMU7PVVRP -m comment --comment \"ns1/svc1 -> 10.0.1.1:80\" -j KUBE-SEP-3JOIVZTXZZRGORX4\n-X KUBE-SEP-XGJFVO3L2O5SRFNT\nCOMMIT\n",
        RestoreOptions { noflush: true, counters: false },
    );
    assert!(r.is_ok(), "{r:?}");
    let s = r.unwrap_or_default();
    assert_eq!((s.chains, s.rules, s.deleted_chains), (2, 1, 1));
    let nat = nf.rules.table(TableName::Nat);
    assert_eq!(
        nat.chain("KUBE-SVC-AQI2S6QIMU7PVVRP")
            .map(|c| c.rules.len()),
        Some(1)
    );
    assert!(nat.chain("KUBE-SEP-XGJFVO3L2O5SRFNT").is_none());
    assert_eq!(nat.chain("KUBE-SERVICES").map(|c| c.rules.len()), Some(2));
    // Deleting a chain that is still jumped to fails at the -X line.
    let e = nf
        .restore(
            "*nat\n-X KUBE-SEP-3JOIVZTXZZRGORX4\nCOMMIT\n",
            RestoreOptions {
                noflush: true,
                counters: false,
            },
        )
        .err();
    assert_eq!(
        e.map(|e| (e.line, e.kind)),
        Some((2, ErrorKind::LineFailed))
    );
    // Without --noflush a table starts afresh.
    let r = nf.restore("*nat\nCOMMIT\n", RestoreOptions::default());
    assert!(r.is_ok());
    assert_eq!(nf.rules.table(TableName::Nat).rule_count(), 0);
    assert!(nf.rules.table(TableName::Filter).rule_count() > 0);
}

/// Rules a node carries besides kube-proxy's: docker's, flannel's and the CNI portmap
/// plug-in's, as iptables-save prints them; they load and print back unchanged.
#[test]
fn docker_flannel_and_cni_rules_round_trip_verbatim() {
    let text = r#"# Generated by iptables-save v1.8.9 on Tue Aug 13 00:00:00 2024
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-PROXY-CANARY - [0:0]
COMMIT
# Completed on Tue Aug 13 00:00:00 2024
# Generated by iptables-save v1.8.9 on Tue Aug 13 00:00:00 2024
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp -m udp --dport 8472 -j CT --notrack
COMMIT
# Completed on Tue Aug 13 00:00:00 2024
# Generated by iptables-save v1.8.9 on Tue Aug 13 00:00:00 2024
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
:FLANNEL-FWD - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
COMMIT
# Completed on Tue Aug 13 00:00:00 2024
# Generated by iptables-save v1.8.9 on Tue Aug 13 00:00:00 2024
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:CNI-DN-4c4a6a2b3c1d0e9f8a7b6 - [0:0]
:CNI-HOSTPORT-DNAT - [0:0]
:CNI-HOSTPORT-MASQ - [0:0]
:CNI-HOSTPORT-SETMARK - [0:0]
:DOCKER - [0:0]
:FLANNEL-POSTRTG - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
-A CNI-DN-4c4a6a2b3c1d0e9f8a7b6 -s 10.244.1.0/24 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK
-A CNI-DN-4c4a6a2b3c1d0e9f8a7b6 -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK
-A CNI-DN-4c4a6a2b3c1d0e9f8a7b6 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.244.1.7:80
-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \"cbr0\" id: \"0123abcd\"" -m multiport --dports 8080 -j CNI-DN-4c4a6a2b3c1d0e9f8a7b6
-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE
-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.17.0.2:80
-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s 10.244.1.0/24 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
COMMIT
# Completed on Tue Aug 13 00:00:00 2024
"#;
    let mut nf = Netfilter::new();
    let r = nf.restore(text, RestoreOptions::default());
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(nf.save(0), text);
    // A host port: traffic to the node's port 8080 reaches the pod, marked for
    // masquerade when it comes from the pod's own subnet.
    let h = host();
    let mut rng = Rng::new(1);
    let mut p = Packet::tcp(ip("10.244.1.9"), 5555, ip("192.168.0.10"), 8080);
    let rec = nf.hook(Hook::Prerouting, &mut p, &h, &mut rng, 0);
    assert_eq!((p.dst, p.dport, p.mark), (ip("10.244.1.7"), 80, 0x2000));
    assert_eq!(rec.matched().len(), 5, "{rec:?}");
    // The flannel VXLAN port is not tracked.
    let mut v = Packet::udp(ip("192.168.0.11"), 4000, ip("192.168.0.10"), 8472);
    let rec = nf.hook(Hook::Prerouting, &mut v, &h, &mut rng, 0);
    assert!(rec.conntrack.starts_with("UNTRACKED"), "{rec:?}");
}

#[test]
fn a_packet_through_a_whole_node_routes_between_hooks() {
    let mut nf = node();
    let mut h = host();
    h.routes.push((
        kubeglass::network::netfilter::Cidr::parse("10.0.1.0/24")
            .unwrap_or(kubeglass::network::netfilter::Cidr { addr: 0, prefix: 0 }),
        "flannel.1".into(),
    ));
    let mut rng = Rng::new(2);
    // To a Service from a pod: DNAT at PREROUTING, forwarded out of flannel.1.
    let mut p = Packet::tcp(ip("10.0.2.5"), 40000, ip("172.30.1.1"), 80);
    let trace = nf.trace(
        kubeglass::network::netfilter::Origin::Arrived,
        &mut p,
        &h,
        &mut rng,
        0,
    );
    let hooks: Vec<Hook> = trace.hooks.iter().map(|r| r.hook).collect();
    assert_eq!(hooks, [Hook::Prerouting, Hook::Forward, Hook::Postrouting]);
    assert_eq!(p.out_iface, "flannel.1");
    assert!(!trace.delivered_locally);
    assert_eq!(nf.conntrack.len(), 0);
    // To the node itself: INPUT, delivered; live, so the connection is tracked.
    let mut q = Packet::tcp(ip("10.0.2.5"), 40001, ip("192.168.0.10"), 10250);
    let live = nf.traverse(
        kubeglass::network::netfilter::Origin::Arrived,
        &mut q,
        &h,
        &mut rng,
        0,
    );
    let hooks: Vec<Hook> = live.hooks.iter().map(|r| r.hook).collect();
    assert_eq!(hooks, [Hook::Prerouting, Hook::Input]);
    assert!(live.delivered_locally);
    assert_eq!(nf.conntrack.len(), 1);
    let json = serde_json::to_value(&live).unwrap_or_default();
    assert_eq!(json["verdict"], "accept");
    assert_eq!(json["hooks"][1]["hook"], "INPUT");
}

/// Bad input never panics: lines built from iptables' own vocabulary, most of them
/// valid, some not, either load (and then print and load back the same) or fail with
/// a line and column.
#[test]
fn random_input_fails_cleanly() {
    const HEADS: [&str; 6] = [
        "-A KUBE-X",
        "-A INPUT",
        "-I INPUT 1",
        "-N KUBE-Y",
        "-F KUBE-X",
        "-A FORWARD",
    ];
    const PARTS: [&str; 22] = [
        "-s 10.0.0.0/8",
        "! -d 10.1.2.3",
        "-p tcp",
        "-p udp",
        "-m tcp --dport 80",
        "--dport 8080:8090",
        "-m comment --comment \"a b\"",
        "-m mark ! --mark 0x4000/0x4000",
        "-j ACCEPT",
        "-j KUBE-X",
        "-m statistic --mode random --probability 0.25",
        "-i eth0",
        "! -o cni0+",
        "-m conntrack --ctstate NEW,ESTABLISHED",
        "-m addrtype ! --src-type LOCAL",
        "-j MARK --or-mark 0x1",
        "-m multiport --dports 80,443",
        "-j REJECT --reject-with tcp-reset",
        "--bogus",
        "\"open",
        "!",
        "-m recent --name X --rcheck --seconds 5 --reap",
    ];
    let mut rng = Rng::new(2024);
    let mut ok = 0;
    for _ in 0..2000 {
        let mut text = String::from("*filter\n:KUBE-X - [0:0]\n");
        for _ in 0..3 {
            let mut line = HEADS[rng.below(HEADS.len() as u64) as usize].to_string();
            for _ in 0..rng.below(4) {
                line.push(' ');
                line.push_str(PARTS[rng.below(PARTS.len() as u64) as usize]);
            }
            text.push_str(&line);
            text.push('\n');
        }
        if rng.below(8) > 0 {
            text.push_str("COMMIT\n");
        }
        let mut nf = Netfilter::new();
        match nf.restore(&text, RestoreOptions::default()) {
            Ok(_) => {
                ok += 1;
                let mut again = Netfilter::new();
                assert_eq!(
                    again.restore(&nf.save(0), RestoreOptions::default()).err(),
                    None,
                    "{text}"
                );
                assert_eq!(again.rules, nf.rules, "{text}");
            }
            Err(e) => {
                assert!((3..=6).contains(&e.line), "{text}\n{e}");
                assert!(e.column >= 1);
            }
        }
    }
    assert!(ok > 100, "{ok} of 2000 loaded");
}
