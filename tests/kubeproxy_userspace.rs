//! kube-proxy's legacy userspace mode (`spec.cluster.network.proxyMode: userspace`):
//! per service port a proxy port kube-proxy opens on the node, the
//! KUBE-PORTALS-CONTAINER/-HOST and KUBE-NODEPORT-CONTAINER/-HOST/-NON-LOCAL rules
//! with upstream's shapes and comments (REDIRECT for containers, DNAT to
//! nodeIP:proxyPort for the host), packets through those rules in the node's iptables
//! engine, and the round-robin load balancer with ClientIP affinity (roundrobin.go).
//! iptables mode stays the default and unchanged.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use std::net::Ipv4Addr;

use kubeglass::api::core::Endpoints;
use kubeglass::api::Object;
use kubeglass::kernel::rng::Rng;
use kubeglass::kernel::NANOS_PER_SEC;
use kubeglass::kubeproxy::userspace::{LoadBalancerRR, Pick, ServicePortName, UserspaceProxier};
use kubeglass::network::netfilter::eval::Step;
use kubeglass::network::netfilter::{Hook, HostAddrs, Packet, Verdict};
use kubeglass::scenario::{self, Runner, StepResult};
use serde_json::json;

const NODE1_IP: &str = "10.0.0.2";

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
}

fn run(mode: Option<&str>, steps: &str) -> (Vec<StepResult>, Runner) {
    let network = match mode {
        Some(m) => format!("    network: {{proxyMode: {m}}}\n"),
        None => String::new(),
    };
    let text = format!(
        r#"apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {{name: userspace}}
spec:
  cluster:
{network}    nodes:
    - metadata: {{name: node-1}}
    - metadata: {{name: node-2}}
  steps:
{steps}"#
    );
    let s = scenario::parse(&text).unwrap_or_else(|e| panic!("scenario: {e}"));
    scenario::run(&s).unwrap_or_else(|e| panic!("run: {e}"))
}

fn text(r: &StepResult) -> &str {
    assert!(r.error.is_null(), "step failed: {}", r.error);
    r.output.as_str().unwrap_or_default()
}

fn trace(runner: &Runner) -> String {
    runner
        .cluster
        .k
        .trace
        .entries()
        .map(|e| format!("{} {}: {} | {}", e.time, e.actor, e.action, e.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

const WEB: &str = r#"  - apply: |
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec:
        replicas: 2
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            nodeSelector: {kubernetes.io/hostname: node-2}
            containers:
            - name: nginx
              image: nginx:1.25
              ports: [{containerPort: 8080}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: web}
      spec:
        selector: {app: web}
        clusterIP: 10.96.0.20
        ports: [{name: http, port: 80, targetPort: 8080}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: np}
      spec:
        type: NodePort
        selector: {app: web}
        clusterIP: 10.96.0.30
        sessionAffinity: ClientIP
        ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]
"#;

/// The proxy port of a service port on a node.
fn proxy_port(runner: &Runner, node: &str, svc: &str) -> u16 {
    let kp = runner.cluster.kube_proxy(node);
    let us = kp.and_then(|k| k.userspace());
    let port = us.and_then(|u| {
        u.services
            .iter()
            .find(|(n, _)| n.to_string() == svc)
            .map(|(_, i)| i.proxy_port)
    });
    port.unwrap_or_else(|| panic!("no proxy port for {svc} on {node}"))
}

#[test]
fn userspace_mode_writes_the_portal_rules_with_the_proxy_ports() {
    let steps = format!("{WEB}  - settle: {{}}\n  - iptables-save: node-1\n");
    let (r, runner) = run(Some("userspace"), &steps);
    let save = text(&r[2]);
    let web = proxy_port(&runner, "node-1", "default/web:http");
    let np = proxy_port(&runner, "node-1", "default/np:http");
    let api = proxy_port(&runner, "node-1", "default/kubernetes:https");
    // Ports as the kernel gives bind(0) with SO_REUSEADDR: odd, lower half of the
    // local port range, all different.
    for p in [web, np, api] {
        assert!(p % 2 == 1 && (32768..46884).contains(&p), "{p}");
    }
    assert!(web != np && np != api && web != api);
    let nat: Vec<&str> = save
        .split("*nat\n")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .collect();
    let prerouting: Vec<&&str> = nat
        .iter()
        .filter(|l| l.starts_with("-A PREROUTING "))
        .collect();
    let output: Vec<&&str> = nat.iter().filter(|l| l.starts_with("-A OUTPUT ")).collect();
    // The jumps: portals first, node ports last, with upstream's comments.
    assert_eq!(
        prerouting,
        vec![
            &"-A PREROUTING -m comment --comment \"handle ClusterIPs; NOTE: this must be before the NodePort rules\" -j KUBE-PORTALS-CONTAINER",
            &"-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment \"handle service NodePorts; NOTE: this must be the last rule in the chain\" -j KUBE-NODEPORT-CONTAINER",
        ]
    );
    assert_eq!(
        output,
        vec![
            &"-A OUTPUT -m comment --comment \"handle ClusterIPs; NOTE: this must be before the NodePort rules\" -j KUBE-PORTALS-HOST",
            &"-A OUTPUT -m addrtype --dst-type LOCAL -m comment --comment \"handle service NodePorts; NOTE: this must be the last rule in the chain\" -j KUBE-NODEPORT-HOST",
        ]
    );
    for line in [
        ":KUBE-PORTALS-CONTAINER - [0:0]".to_string(),
        ":KUBE-NODEPORT-NON-LOCAL - [0:0]".to_string(),
        "-A INPUT -m comment --comment \"Ensure that non-local NodePort traffic can flow\" -j KUBE-NODEPORT-NON-LOCAL".to_string(),
        // ClusterIP portals: REDIRECT from containers, DNAT to the node from the host.
        format!("-A KUBE-PORTALS-CONTAINER -d 10.96.0.20/32 -p tcp -m comment --comment \"default/web:http\" -m tcp --dport 80 -j REDIRECT --to-ports {web}"),
        format!("-A KUBE-PORTALS-HOST -d 10.96.0.20/32 -p tcp -m comment --comment \"default/web:http\" -m tcp --dport 80 -j DNAT --to-destination {NODE1_IP}:{web}"),
        format!("-A KUBE-PORTALS-CONTAINER -d 10.96.0.1/32 -p tcp -m comment --comment \"default/kubernetes:https\" -m tcp --dport 443 -j REDIRECT --to-ports {api}"),
        format!("-A KUBE-PORTALS-CONTAINER -d 10.96.0.30/32 -p tcp -m comment --comment \"default/np:http\" -m tcp --dport 80 -j REDIRECT --to-ports {np}"),
        // The node port: REDIRECT, DNAT, and the filter rule on the proxy port.
        format!("-A KUBE-NODEPORT-CONTAINER -p tcp -m comment --comment \"default/np:http\" -m tcp --dport 30080 -j REDIRECT --to-ports {np}"),
        format!("-A KUBE-NODEPORT-HOST -p tcp -m comment --comment \"default/np:http\" -m tcp --dport 30080 -j DNAT --to-destination {NODE1_IP}:{np}"),
        format!("-A KUBE-NODEPORT-NON-LOCAL -p tcp -m comment --comment \"default/np:http\" -m tcp --dport {np} -m state --state NEW -j ACCEPT"),
    ] {
        assert!(save.lines().any(|l| l == line), "missing {line:?} in\n{save}");
    }
    // None of the iptables mode's chains.
    assert!(!save.contains("KUBE-SERVICES"), "{save}");
    assert!(!save.contains("KUBE-SVC-"), "{save}");
    // Each rule once, though every sync ensures them all again.
    let portals = save
        .lines()
        .filter(|l| l.contains("\"default/web:http\""))
        .count();
    assert_eq!(portals, 2, "{save}");
    // The trace says what, why, and that this is the legacy mode.
    let t = trace(&runner);
    for needle in [
        "kube-proxy/node-1: start kube-proxy in userspace mode (legacy) on node IP 10.0.0.2",
        &format!("legacy userspace mode: proxy default/web:http on port {web} (TCP), portal 10.96.0.20:80"),
        &format!("legacy userspace mode: proxy default/np:http on port {np} (TCP), portal 10.96.0.30:80, nodePort 30080"),
        "legacy userspace mode: load balancer endpoints set",
    ] {
        assert!(t.contains(needle), "missing {needle:?} in\n{t}");
    }
}

#[test]
fn the_same_scenario_gives_the_same_ports_and_nodes_draw_their_own() {
    let steps = format!("{WEB}  - settle: {{}}\n");
    let (_, a) = run(Some("userspace"), &steps);
    let (_, b) = run(Some("userspace"), &steps);
    for svc in [
        "default/web:http",
        "default/np:http",
        "default/kubernetes:https",
    ] {
        assert_eq!(proxy_port(&a, "node-1", svc), proxy_port(&b, "node-1", svc));
    }
    let n1: Vec<u16> = ["default/web:http", "default/np:http"]
        .iter()
        .map(|s| proxy_port(&a, "node-1", s))
        .collect();
    let n2: Vec<u16> = ["default/web:http", "default/np:http"]
        .iter()
        .map(|s| proxy_port(&a, "node-2", s))
        .collect();
    assert_ne!(n1, n2);
}

#[test]
fn iptables_mode_is_the_default_and_unchanged() {
    let steps = format!("{WEB}  - settle: {{}}\n  - iptables-save: node-1\n");
    let (r, runner) = run(None, &steps);
    let save = text(&r[2]);
    assert!(save.contains("-A KUBE-SERVICES -d 10.96.0.20/32 -p tcp -m comment --comment \"default/web:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-"), "{save}");
    assert!(!save.contains("KUBE-PORTALS"), "{save}");
    assert!(!save.contains("REDIRECT"), "{save}");
    assert!(runner
        .cluster
        .kube_proxy("node-1")
        .is_some_and(|k| k.userspace().is_none()));
    let (r2, _) = run(Some("iptables"), &steps);
    assert_eq!(text(&r2[2]), save);
}

#[test]
fn packets_from_pods_are_redirected_and_from_the_host_dnated_to_the_proxy_port() {
    let steps = format!(
        "{WEB}  - settle: {{}}\n  - kubectl: get pods -o jsonpath={{.items[*].status.podIP}}\n"
    );
    let (r, runner) = run(Some("userspace"), &steps);
    let pods: Vec<String> = text(&r[2]).split_whitespace().map(String::from).collect();
    assert_eq!(pods.len(), 2, "{pods:?}");
    let web = proxy_port(&runner, "node-1", "default/web:http");
    let kp = runner.cluster.kube_proxy("node-1");
    let Some(kp) = kp else {
        panic!("no kube-proxy on node-1");
    };
    let Some(nf) = runner.cluster.node_netfilter("node-1") else {
        panic!("no netfilter on node-1");
    };
    let host = HostAddrs::new(&[
        ("eth0", ip(NODE1_IP)),
        ("cni0", ip("10.244.0.1")),
        ("lo", ip("127.0.0.1")),
    ]);
    let now = runner.cluster.now();
    let mut rng = Rng::new(1);
    // A pod on node-1 connects to the ClusterIP: REDIRECT to the bridge's address.
    let mut p = Packet::tcp(ip("10.244.0.7"), 41000, ip("10.96.0.20"), 80);
    p.in_iface = "cni0".into();
    let rec = nf.trace_hook(Hook::Prerouting, &mut p, &host, &mut rng, now);
    assert_eq!(rec.verdict, Verdict::Accept);
    assert_eq!((p.dst, p.dport), (ip("10.244.0.1"), web));
    let matched: Vec<(&str, usize)> = rec.matched().iter().map(|(_, c, n)| (*c, *n)).collect();
    assert_eq!(matched.first(), Some(&("PREROUTING", 1)), "{matched:?}");
    assert!(
        matched.iter().any(|(c, _)| *c == "KUBE-PORTALS-CONTAINER"),
        "{matched:?}"
    );
    // The node itself connects: DNAT to nodeIP:proxyPort.
    let mut h = Packet::tcp(ip(NODE1_IP), 41001, ip("10.96.0.20"), 80);
    let rec = nf.trace_hook(Hook::Output, &mut h, &host, &mut rng, now);
    assert_eq!((h.dst, h.dport), (ip(NODE1_IP), web));
    let dnat = rec.tables.iter().flat_map(|t| &t.steps).any(|s| {
        matches!(s, Step::Rewrite { what: "DNAT", to, .. } if *to == format!("{NODE1_IP}:{web}"))
    });
    assert!(dnat, "{rec:?}");
    // A NodePort from outside: REDIRECT on eth0's address.
    let np = proxy_port(&runner, "node-1", "default/np:http");
    let mut o = Packet::tcp(ip("192.168.7.7"), 50000, ip(NODE1_IP), 30080);
    o.in_iface = "eth0".into();
    nf.trace_hook(Hook::Prerouting, &mut o, &host, &mut rng, now);
    assert_eq!((o.dst, o.dport), (ip(NODE1_IP), np));
    // What kube-proxy does with the connection it accepts there: one of the pods.
    let hop = kp.userspace_backend(web, ip("10.244.0.7"), now);
    let Some(hop) = hop else {
        panic!("nobody listens on {web}");
    };
    assert_eq!(hop.service, "default/web:http");
    let ep = hop.endpoint.clone().unwrap_or_default();
    assert!(
        pods.iter().any(|p| ep == format!("{p}:8080")),
        "{ep} not in {pods:?}"
    );
    assert_eq!(
        hop.why,
        format!("kube-proxy accepts on port {web} for default/web:http and opens a new connection to {ep}, round robin (endpoint 1 of 2)")
    );
    // A trace changes nothing: asked again, the same answer.
    assert_eq!(kp.userspace_backend(web, ip("10.244.0.7"), now), Some(hop));
    assert!(kp.userspace_backend(1, ip("10.244.0.7"), now).is_none());
}

#[test]
fn live_connections_take_endpoints_in_turn_and_clientip_sticks() {
    let steps = format!("{WEB}  - settle: {{}}\n");
    let (_, mut runner) = run(Some("userspace"), &steps);
    let web = proxy_port(&runner, "node-1", "default/web:http");
    let np = proxy_port(&runner, "node-1", "default/np:http");
    let now = runner.cluster.now();
    let Some(kp) = runner.cluster.kube_proxy_mut("node-1") else {
        panic!("no kube-proxy");
    };
    let a = ip("10.244.0.7");
    let b = ip("10.244.0.8");
    let order: Vec<String> = (0..4)
        .filter_map(|i| kp.userspace_connect(web, if i % 2 == 0 { a } else { b }, now))
        .filter_map(|h| h.endpoint)
        .collect();
    assert_eq!(order.len(), 4);
    assert_ne!(order[0], order[1]);
    assert_eq!(order[0], order[2]);
    assert_eq!(order[1], order[3]);
    // ClientIP: the same client keeps its endpoint; another takes the next one.
    let first = kp.userspace_connect(np, a, now);
    let again = kp.userspace_connect(np, a, now + 5 * NANOS_PER_SEC);
    let other = kp.userspace_connect(np, b, now + 6 * NANOS_PER_SEC);
    let (Some(first), Some(again), Some(other)) = (first, again, other) else {
        panic!("no hop");
    };
    assert_eq!(first.endpoint, again.endpoint);
    assert_ne!(first.endpoint, other.endpoint);
    assert!(
        again.why.contains(
            "sessionAffinity ClientIP: this client's endpoint, last used 5s ago (timeout 10800s)"
        ),
        "{}",
        again.why
    );
    assert!(first.why.contains("round robin (endpoint 1 of 2); sessionAffinity ClientIP keeps this client on it for 10800s"), "{}", first.why);
}

#[test]
fn a_deleted_service_closes_its_port_and_a_changed_one_reopens_on_a_new_one() {
    let steps = format!(
        "{WEB}  - settle: {{}}\n  - kubectl: delete service np\n  - kubectl: patch service web --type merge -p '{{\"spec\":{{\"ports\":[{{\"name\":\"http\",\"port\":81,\"targetPort\":8080}}]}}}}'\n  - settle: {{}}\n  - iptables-save: node-1\n"
    );
    let (r, runner) = run(Some("userspace"), &steps);
    text(&r[3]);
    let save = text(&r[5]);
    assert!(!save.contains("default/np:http"), "{save}");
    let web = proxy_port(&runner, "node-1", "default/web:http");
    assert!(save.lines().any(|l| l == format!("-A KUBE-PORTALS-CONTAINER -d 10.96.0.20/32 -p tcp -m comment --comment \"default/web:http\" -m tcp --dport 81 -j REDIRECT --to-ports {web}")), "{save}");
    assert!(!save.contains("--dport 80 -j REDIRECT"), "{save}");
    let t = trace(&runner);
    assert!(
        t.contains("legacy userspace mode: close the proxy port of default/np:http"),
        "{t}"
    );
    assert!(
        t.contains("legacy userspace mode: close the proxy port of default/web:http"),
        "{t}"
    );
}

fn endpoints(ips: &[&str]) -> Endpoints {
    let addrs: Vec<_> = ips.iter().map(|i| json!({"ip": i})).collect();
    let v = json!({"apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"namespace": "default", "name": "web"},
        "subsets": [{"addresses": addrs, "notReadyAddresses": [{"ip": "10.244.9.9"}],
                     "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]});
    match Object::from_value(v) {
        Ok(Object::Endpoints(e)) => *e,
        other => panic!("not Endpoints: {other:?}"),
    }
}

#[test]
fn round_robin_and_affinity_follow_roundrobin_go() {
    let svc = ServicePortName::new("default", "web", "http");
    let mut lb = LoadBalancerRR::default();
    let mut rng = Rng::new(5);
    // Endpoints before the Service: an entry with affinity type "" and the default
    // timeout; NewService then sets the type (not the timeout).
    lb.on_endpoints_add(
        &endpoints(&["10.244.1.5", "10.244.1.6", "10.244.1.7"]),
        &mut rng,
    );
    lb.new_service(&svc, "ClientIP", 60);
    let state = lb.services.get(&svc).cloned();
    let Some(state) = state else {
        panic!("no state");
    };
    assert_eq!(state.affinity.ttl_seconds, 10800);
    let mut sorted = state.endpoints.clone();
    sorted.sort();
    // Ready addresses only.
    assert_eq!(
        sorted,
        vec!["10.244.1.5:8080", "10.244.1.6:8080", "10.244.1.7:8080"]
    );
    // In turn, in the shuffled order, for new clients.
    let c = |i: u8| Ipv4Addr::new(10, 244, 2, i);
    let picks: Vec<String> = (0..3)
        .filter_map(|i| lb.next_endpoint(&svc, c(i), false, 0).ok())
        .map(|ch| ch.endpoint)
        .collect();
    assert_eq!(picks, state.endpoints);
    // A client within the timeout keeps its endpoint (whole seconds, `<`)...
    let late = 10799 * NANOS_PER_SEC;
    let ch = lb.next_endpoint(&svc, c(1), false, late);
    assert!(
        matches!(
            ch.as_ref().map(|c| &c.pick),
            Ok(Pick::Affinity {
                seconds_ago: 10799,
                ttl_seconds: 10800
            })
        ),
        "{ch:?}"
    );
    assert_eq!(ch.map(|c| c.endpoint).ok(), Some(picks[1].clone()));
    // ...and takes the next in turn once that much time has passed unused.
    let ch = lb.peek(&svc, c(2), false, 10800 * NANOS_PER_SEC);
    assert!(
        matches!(
            ch.as_ref().map(|c| &c.pick),
            Ok(Pick::RoundRobin {
                position: 0,
                of: 3,
                ..
            })
        ),
        "{ch:?}"
    );
    // A removed endpoint takes its clients' affinity with it; the order restarts.
    let gone = picks[1].trim_end_matches(":8080").to_string();
    let keep: Vec<&str> = ["10.244.1.5", "10.244.1.6", "10.244.1.7"]
        .into_iter()
        .filter(|i| *i != gone)
        .collect();
    let changed = lb.on_endpoints_update(
        Some(&endpoints(&["10.244.1.5", "10.244.1.6", "10.244.1.7"])),
        &endpoints(&keep),
        &mut rng,
    );
    assert_eq!(changed, vec![svc.clone()]);
    let st = lb.services.get(&svc).cloned();
    assert!(st
        .as_ref()
        .is_some_and(|s| s.index == 0 && s.endpoints.len() == 2));
    assert!(st.is_some_and(
        |s| !s.affinity.clients.contains_key(&c(1)) && s.affinity.clients.contains_key(&c(0))
    ));
    // The same set again changes nothing.
    assert!(lb
        .on_endpoints_update(Some(&endpoints(&keep)), &endpoints(&keep), &mut rng)
        .is_empty());
    // Stale sessions are dropped at a sync's cleanup.
    lb.cleanup_stale_sticky_sessions(&svc, 20000 * NANOS_PER_SEC);
    assert!(lb
        .services
        .get(&svc)
        .is_some_and(|s| s.affinity.clients.is_empty()));
    // Deleted Endpoints: the entry stays, without endpoints.
    assert!(!lb.on_endpoints_delete(&endpoints(&keep)).is_empty());
    assert_eq!(
        lb.peek(&svc, c(0), false, 0).map_err(|e| e.to_string()),
        Err("missing endpoints".to_string())
    );
    let unknown = ServicePortName::new("default", "nope", "");
    assert_eq!(
        lb.peek(&unknown, c(0), false, 0).map_err(|e| e.to_string()),
        Err("missing service entry".to_string())
    );
}

#[test]
fn a_service_without_endpoints_is_accepted_then_closed() {
    let mut p = UserspaceProxier::new(ip(NODE1_IP), Rng::new(9));
    let svc = match Object::from_value(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"namespace": "default", "name": "lonely"},
        "spec": {"clusterIP": "10.96.0.40", "ports": [{"port": 53, "protocol": "UDP"}]}}))
    {
        Ok(Object::Service(s)) => s,
        other => panic!("not a Service: {other:?}"),
    };
    assert!(p.on_service_update(&svc));
    let r = p.sync(0);
    assert_eq!(r.opened.len(), 1, "{r:?}");
    let Some((name, info)) = p
        .services
        .iter()
        .next()
        .map(|(n, i)| (n.to_string(), i.clone()))
    else {
        panic!("no service port");
    };
    assert_eq!(name, "default/lonely");
    let hop = p.backend(info.proxy_port, ip("10.244.0.7"), 0);
    assert_eq!(hop.as_ref().and_then(|h| h.endpoint.clone()), None);
    assert_eq!(
        hop.map(|h| h.why),
        Some(format!("kube-proxy accepts on port {} for default/lonely but has no endpoint to connect to (missing endpoints); it closes the connection", info.proxy_port))
    );
    // Unchanged, nothing to do; the rules for UDP say udp.
    assert!(!p.on_service_update(&svc));
    let rules = p.service_rules(&ServicePortName::new("default", "lonely", ""), &info);
    assert_eq!(
        rules[0].save_text(),
        format!("-A KUBE-PORTALS-CONTAINER -d 10.96.0.40/32 -p udp -m comment --comment \"default/lonely\" -m udp --dport 53 -j REDIRECT --to-ports {}", info.proxy_port)
    );
}

#[test]
fn every_rule_is_written_as_iptables_save_prints_it_and_ensured_once() {
    use kubeglass::kubeproxy::userspace::apply;
    use kubeglass::network::netfilter::Netfilter;
    let mut p = UserspaceProxier::new(ip(NODE1_IP), Rng::new(11));
    let svc = match Object::from_value(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"namespace": "shop", "name": "front"},
        "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.50", "externalIPs": ["192.168.50.5"],
                 "ports": [{"name": "web", "port": 80, "nodePort": 31000, "protocol": "TCP"}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}}))
    {
        Ok(Object::Service(s)) => s,
        other => panic!("not a Service: {other:?}"),
    };
    p.on_service_update(&svc);
    let mut nf = Netfilter::new();
    let first = apply(&mut nf, &p.sync(0).ops);
    assert!(first.errors.is_empty(), "{first:?}");
    let name = ServicePortName::new("shop", "front", "web");
    let Some(info) = p.services.get(&name).cloned() else {
        panic!("not proxied");
    };
    let rules = p.service_rules(&name, &info);
    let save = nf.save(0);
    for r in &rules {
        assert!(
            save.lines().any(|l| l == r.save_text()),
            "{} not in\n{save}",
            r.save_text()
        );
    }
    // ClusterIP, external IP (for local destinations), ingress IP: two rules each;
    // the node port: three.
    assert_eq!(rules.len(), 9);
    let pp = info.proxy_port;
    assert!(save.lines().any(|l| l == format!("-A KUBE-PORTALS-CONTAINER -d 192.168.50.5/32 -p tcp -m comment --comment \"shop/front:web\" -m tcp --dport 80 -m addrtype --dst-type LOCAL -j REDIRECT --to-ports {pp}")), "{save}");
    assert!(save.lines().any(|l| l == format!("-A KUBE-PORTALS-HOST -d 203.0.113.10/32 -p tcp -m comment --comment \"shop/front:web\" -m tcp --dport 80 -j DNAT --to-destination {NODE1_IP}:{pp}")), "{save}");
    assert_eq!(first.rules_added, 5 + 9);
    assert_eq!(first.chains_created, 5);
    // The next sync ensures everything again and adds nothing.
    p.on_service_update(&svc);
    let again = apply(&mut nf, &p.sync(NANOS_PER_SEC).ops);
    assert_eq!((again.rules_added, again.rules_deleted), (0, 0));
    assert_eq!(nf.save(0), save);
}
