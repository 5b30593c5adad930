//! The kube-proxy benchmark: a full sync of N Services with M endpoints each
//! (10,000 × 10 make about 320,000 rules), cold and warm; its text loaded into a
//! node's iptables engine; one Service added, the partial sync that follows and its
//! restore; one packet traced through the loaded node. The host lends its wall
//! clock; the proxier and the engine read none.

use crate::api::core::{Service, ServicePort};
use crate::api::networking::{Endpoint, EndpointConditions, EndpointSlice, EndpointSlicePort};
use std::net::Ipv4Addr;

use crate::bench::Report;
use crate::kernel::Rng;
use crate::network::netfilter::{Cidr, HostAddrs, Netfilter, Origin, Packet, RestoreOptions};

use super::iptables::{Proxier, ProxierConfig, LABEL_SERVICE_NAME};

/// A ClusterIP Service `ns-{i/100}/svc-{i}` with one named TCP port.
pub fn service(i: usize) -> Service {
    let mut s = Service::default();
    s.metadata.namespace = format!("ns-{}", i / 100);
    s.metadata.name = format!("svc-{i}");
    s.spec.kind = "ClusterIP".into();
    s.spec.cluster_ip = format!("10.96.{}.{}", (i / 250) % 256, i % 250 + 1);
    s.spec.ports.push(ServicePort {
        name: "http".into(),
        protocol: Some("TCP".into()),
        port: 80,
        ..Default::default()
    });
    s
}

/// The Service's one EndpointSlice: `endpoints` ready pods spread over 100 nodes.
pub fn endpoint_slice(i: usize, endpoints: usize) -> EndpointSlice {
    let mut e = EndpointSlice::default();
    e.metadata.namespace = format!("ns-{}", i / 100);
    e.metadata.name = format!("svc-{i}-abcde");
    e.metadata
        .labels
        .insert(LABEL_SERVICE_NAME.into(), format!("svc-{i}"));
    e.address_type = "IPv4".into();
    e.ports.push(EndpointSlicePort {
        name: Some("http".into()),
        protocol: Some("TCP".into()),
        port: Some(8080),
        ..Default::default()
    });
    for j in 0..endpoints {
        let n = i * endpoints + j;
        e.endpoints.push(Endpoint {
            addresses: vec![format!(
                "10.{}.{}.{}",
                64 + (n >> 16) % 64,
                (n >> 8) & 255,
                n & 255
            )],
            conditions: EndpointConditions {
                ready: Some(true),
                serving: Some(true),
                terminating: Some(false),
            },
            node_name: Some(format!("node-{}", n % 100)),
            ..Default::default()
        });
    }
    e
}

/// Runs the benchmark; `now` is the host's wall clock in seconds.
pub fn run(services: usize, endpoints: usize, now: &dyn Fn() -> f64) -> Vec<Report> {
    let objects: Vec<(Service, EndpointSlice)> = (0..services)
        .map(|i| (service(i), endpoint_slice(i, endpoints)))
        .collect();
    let mut proxier = Proxier::new(ProxierConfig::node(
        NODE,
        Some("192.168.0.10"),
        "10.0.0.0/8",
    ));
    let t0 = now();
    for (s, e) in &objects {
        proxier.on_service_update(s);
        proxier.on_endpoint_slice_update(e);
    }
    let t1 = now();
    // Cold: the first sync, with its buffers and chain names made for the first time.
    let full = proxier.sync(0);
    let cold = now() - t1;
    // Warm: forced full syncs after it (as after a flush); the machine may be shared,
    // so the fastest of two counts.
    let mut warm_times = Vec::new();
    for round in 1..3u64 {
        proxier.force_full_sync();
        let t = now();
        let again = proxier.sync(round);
        warm_times.push(now() - t);
        debug_assert_eq!(again.restore.len(), full.restore.len());
    }
    let full_notes = |times: &[f64]| {
        vec![
            ("services".into(), full.services.to_string()),
            ("nat rules".into(), full.nat_rules_total.to_string()),
            ("filter rules".into(), full.filter_rules.to_string()),
            ("restore bytes".into(), full.restore.len().to_string()),
            (
                "large cluster mode".into(),
                full.large_cluster_mode.to_string(),
            ),
            ("runs (s)".into(), runs(times)),
        ]
    };
    let rules = full.filter_rules + full.nat_rules_total;
    let mut reports = vec![
        Report {
            name: "kube-proxy: apply Services and EndpointSlices".into(),
            items: services,
            seconds: t1 - t0,
            notes: vec![("endpoints".into(), (services * endpoints).to_string())],
        },
        Report {
            name: "kube-proxy: full sync, cold".into(),
            items: rules,
            seconds: cold,
            notes: full_notes(&[cold]),
        },
        Report {
            name: "kube-proxy: full sync, warm".into(),
            items: rules,
            seconds: fastest(&warm_times),
            notes: full_notes(&warm_times),
        },
    ];

    // The node's iptables engine loads the text as kube-proxy runs it (--noflush),
    // after the jumps from the built-in chains.
    let mut nf = Netfilter::new();
    for j in proxier.jump_rules() {
        let _ = nf.command(&format!("-t {} -N {}", j.table, j.target));
        let _ = nf.command(&format!("-t {} -I {} {}", j.table, j.chain, j.args));
    }
    let opts = RestoreOptions {
        noflush: true,
        counters: false,
    };
    let t = now();
    let loaded = nf.restore(&full.restore, opts);
    let restore_seconds = now() - t;
    reports.push(Report {
        name: "kube-proxy: iptables-restore of the full sync into the node".into(),
        items: rules,
        seconds: restore_seconds,
        notes: vec![
            ("ok".into(), loaded.is_ok().to_string()),
            (
                "rules in the node".into(),
                nf.rules.rule_count().to_string(),
            ),
        ],
    });
    drop(full);

    let mut partial_times = Vec::new();
    let mut partial_restore_times = Vec::new();
    let mut partial = None;
    let mut partial_ok = true;
    let mut partial_reused = 0;
    for round in 0..3 {
        let (s, e) = (
            service(services + round),
            endpoint_slice(services + round, endpoints),
        );
        let t = now();
        proxier.on_service_update(&s);
        proxier.on_endpoint_slice_update(&e);
        let r = proxier.sync(1_000_000_000 * (round as u64 + 1));
        let t_sync = now();
        partial_times.push(t_sync - t);
        match nf.restore(&r.restore, opts) {
            Ok(s) => partial_reused = s.reused,
            Err(_) => partial_ok = false,
        }
        partial_restore_times.push(now() - t_sync);
        partial.get_or_insert(r);
    }
    let Some(partial) = partial else {
        return reports;
    };
    reports.push(Report {
        name: "kube-proxy: one Service added, partial sync".into(),
        items: partial.filter_rules + partial.nat_rules,
        seconds: fastest(&partial_times),
        notes: vec![
            ("full".into(), partial.full_sync.to_string()),
            (
                "service ports rewritten".into(),
                partial.service_ports_written.to_string(),
            ),
            (
                "nat rules total".into(),
                partial.nat_rules_total.to_string(),
            ),
            ("restore bytes".into(), partial.restore.len().to_string()),
            ("runs (s)".into(), runs(&partial_times)),
        ],
    });
    reports.push(Report {
        name: "kube-proxy: one Service added, iptables-restore --noflush of the partial sync"
            .into(),
        items: partial.filter_rules + partial.nat_rules,
        seconds: fastest(&partial_restore_times),
        notes: vec![
            ("ok".into(), partial_ok.to_string()),
            ("rules reused".into(), partial_reused.to_string()),
            ("runs (s)".into(), runs(&partial_restore_times)),
        ],
    });

    // One packet from a pod on this node to the last Service's cluster IP, traced
    // through the loaded node (PREROUTING, the routing decision, FORWARD,
    // POSTROUTING), changing nothing.
    let last = service(services + 2);
    let host = node_host();
    let mut trace_times = Vec::new();
    let mut outcome = String::new();
    for seed in 0..3u64 {
        let mut pkt = Packet::tcp(
            Ipv4Addr::new(10, 244, 1, 9),
            40000,
            last.spec
                .cluster_ip
                .parse()
                .unwrap_or(Ipv4Addr::UNSPECIFIED),
            80,
        );
        pkt.in_iface = "cni0".into();
        let t = now();
        let pass = nf.trace(Origin::Arrived, &mut pkt, &host, &mut Rng::new(seed), 0);
        trace_times.push(now() - t);
        outcome = format!(
            "{:?} to {}:{} after {} rules",
            pass.verdict,
            pkt.dst,
            pkt.dport,
            pass.hooks
                .iter()
                .map(|h| h.rules_not_matched() + h.matched().len())
                .sum::<usize>()
        );
    }
    reports.push(Report {
        name: "kube-proxy: one packet traced through the loaded node".into(),
        items: 1,
        seconds: fastest(&trace_times),
        notes: vec![
            ("packet".into(), outcome),
            ("runs (s)".into(), runs(&trace_times)),
        ],
    });
    reports
}

const NODE: &str = "node-0";

/// The benchmark's node: eth0 on the node network, its pods on cni0, the rest of
/// the pod network out of eth0.
fn node_host() -> HostAddrs {
    let mut h = HostAddrs::new(&[
        ("eth0", Ipv4Addr::new(192, 168, 0, 10)),
        ("cni0", Ipv4Addr::new(10, 244, 1, 1)),
    ]);
    for (cidr, dev) in [("0.0.0.0/0", "eth0"), ("10.244.1.0/24", "cni0")] {
        if let Some(c) = Cidr::parse(cidr) {
            h.routes.push((c, dev.to_string()));
        }
    }
    h
}

fn fastest(times: &[f64]) -> f64 {
    times.iter().copied().fold(f64::INFINITY, f64::min)
}

fn runs(times: &[f64]) -> String {
    let v: Vec<String> = times.iter().map(|t| format!("{t:.4}")).collect();
    v.join("/")
}
