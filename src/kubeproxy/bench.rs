//! The kube-proxy benchmark: a full sync of N Services with M endpoints each
//! (10,000 × 10 make about 320,000 rules), then one Service added and the partial
//! sync that follows. The host lends its wall clock; the proxier reads none.

use crate::api::core::{Service, ServicePort};
use crate::api::networking::{Endpoint, EndpointConditions, EndpointSlice, EndpointSlicePort};
use crate::bench::Report;

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
        "node-0",
        Some("192.168.0.10"),
        "10.0.0.0/8",
    ));
    let t0 = now();
    for (s, e) in &objects {
        proxier.on_service_update(s);
        proxier.on_endpoint_slice_update(e);
    }
    let t1 = now();
    // The machine may be shared: each sync runs three times and the fastest counts.
    let full = proxier.sync(0);
    let mut full_times = vec![now() - t1];
    for round in 1..3u64 {
        proxier.force_full_sync();
        let t = now();
        let again = proxier.sync(round);
        full_times.push(now() - t);
        debug_assert_eq!(again.restore.len(), full.restore.len());
    }
    let mut reports = vec![
        Report {
            name: "kube-proxy: apply Services and EndpointSlices".into(),
            items: services,
            seconds: t1 - t0,
            notes: vec![("endpoints".into(), (services * endpoints).to_string())],
        },
        Report {
            name: "kube-proxy: full sync".into(),
            items: full.filter_rules + full.nat_rules_total,
            seconds: fastest(&full_times),
            notes: vec![
                ("services".into(), full.services.to_string()),
                ("nat rules".into(), full.nat_rules_total.to_string()),
                ("filter rules".into(), full.filter_rules.to_string()),
                ("restore bytes".into(), full.restore.len().to_string()),
                (
                    "large cluster mode".into(),
                    full.large_cluster_mode.to_string(),
                ),
                ("runs (s)".into(), runs(&full_times)),
            ],
        },
    ];
    drop(full);
    let mut partial_times = Vec::new();
    let mut partial = None;
    for round in 0..3 {
        let (s, e) = (
            service(services + round),
            endpoint_slice(services + round, endpoints),
        );
        let t = now();
        proxier.on_service_update(&s);
        proxier.on_endpoint_slice_update(&e);
        let r = proxier.sync(1_000_000_000 * (round as u64 + 1));
        partial_times.push(now() - t);
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
    reports
}

fn fastest(times: &[f64]) -> f64 {
    times.iter().copied().fold(f64::INFINITY, f64::min)
}

fn runs(times: &[f64]) -> String {
    let v: Vec<String> = times.iter().map(|t| format!("{t:.4}")).collect();
    v.join("/")
}
