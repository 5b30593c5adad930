//! kube-proxy's iptables mode against upstream: the chain-name hashes and every case
//! of `tests/data/iptables.json` (from upstream's `proxier_test.go`; its `notes` say
//! how the text is normalized before comparing), then cases of our own for the
//! features that file does not reach, and the partial sync.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::api::core::Service;
use kubeglass::api::networking::EndpointSlice;
use kubeglass::api::Object;
use kubeglass::kubeproxy::hash;
use kubeglass::kubeproxy::iptables::{IpFamily, LocalDetector, Proxier, ProxierConfig};
use serde_json::{json, Value};

const DATA: &str = include_str!("data/iptables.json");

fn data() -> Value {
    serde_json::from_str(DATA).expect("iptables.json parses")
}

// ---------------------------------------------------------------------------
// upstream's sortIPTablesRules

struct Table {
    name: String,
    chains: Vec<(String, String)>,
    rules: Vec<(String, String)>,
}

fn comment(rule: &str) -> Option<&str> {
    let at = rule.find("--comment ")? + "--comment ".len();
    let rest = &rule[at..];
    if let Some(quoted) = rest.strip_prefix('"') {
        Some(&quoted[..quoted.find('"').unwrap_or(quoted.len())])
    } else {
        Some(&rest[..rest.find(' ').unwrap_or(rest.len())])
    }
}

/// The service name a rule's comment starts with (up to the first space or colon).
fn service_of(rule: &str) -> Option<&str> {
    let c = comment(rule)?;
    Some(&c[..c.find([' ', ':']).unwrap_or(c.len())])
}

fn chain_rank(name: &str) -> (u8, &str) {
    match name {
        "KUBE-NODEPORTS" => (0, ""),
        "KUBE-SERVICES" => (1, ""),
        n if n.starts_with("KUBE-") => (2, n),
        n => (3, n),
    }
}

/// Tables by name, chains KUBE-NODEPORTS, KUBE-SERVICES, then KUBE-* and others
/// alphabetically; rules grouped by chain in their order, except KUBE-NODEPORTS and
/// KUBE-SERVICES, stably sorted by service name (nat KUBE-SERVICES' last rule last).
fn normalize(text: &str) -> String {
    let mut tables: Vec<Table> = Vec::new();
    for line in text.trim_start().lines() {
        if let Some(name) = line.strip_prefix('*') {
            tables.push(Table {
                name: name.into(),
                chains: Vec::new(),
                rules: Vec::new(),
            });
        } else if line == "COMMIT" || line.is_empty() {
            continue;
        } else if let Some(t) = tables.last_mut() {
            if let Some(decl) = line.strip_prefix(':') {
                let name = decl.split(' ').next().unwrap_or("").to_string();
                t.chains.push((name, line.to_string()));
            } else {
                let chain = line.split(' ').nth(1).unwrap_or("").to_string();
                t.rules.push((chain, line.to_string()));
            }
        } else {
            panic!("line outside a table: {line}");
        }
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = String::new();
    for t in &mut tables {
        t.chains
            .sort_by(|a, b| chain_rank(&a.0).cmp(&chain_rank(&b.0)));
        out.push_str(&format!("*{}\n", t.name));
        for (_, line) in &t.chains {
            out.push_str(line);
            out.push('\n');
        }
        let mut chains: Vec<&str> = t.chains.iter().map(|(n, _)| n.as_str()).collect();
        for (c, _) in &t.rules {
            if !chains.contains(&c.as_str()) {
                chains.push(c);
            }
        }
        for chain in chains {
            let mut rules: Vec<&str> = t
                .rules
                .iter()
                .filter(|(c, _)| c == chain)
                .map(|(_, r)| r.as_str())
                .collect();
            if chain == "KUBE-NODEPORTS" || chain == "KUBE-SERVICES" {
                let last = |r: &str| {
                    t.name == "nat"
                        && chain == "KUBE-SERVICES"
                        && comment(r).is_some_and(|c| c.contains("must be the last rule"))
                };
                rules.sort_by(|a, b| {
                    (last(a), service_of(a).unwrap_or(""))
                        .cmp(&(last(b), service_of(b).unwrap_or("")))
                });
            }
            for r in rules {
                out.push_str(r);
                out.push('\n');
            }
        }
        out.push_str("COMMIT\n");
    }
    out
}

fn assert_rules(expected: &str, got: &str, what: &str) {
    let (e, g) = (normalize(expected), normalize(got));
    if e != g {
        let mut diff = String::new();
        for l in e.lines().filter(|l| !g.lines().any(|x| x == *l)) {
            diff.push_str(&format!("- {l}\n"));
        }
        for l in g.lines().filter(|l| !e.lines().any(|x| x == *l)) {
            diff.push_str(&format!("+ {l}\n"));
        }
        panic!("{what}: rules differ\n{diff}\nfull result:\n{g}");
    }
}

// ---------------------------------------------------------------------------
// Objects

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

/// upstream's NewFakeProxier: node "test-hostname" at 192.168.0.2, pods in
/// 10.0.0.0/8, mark 0x4000, localhost node ports and nfacct counters, no
/// `--random-fully`.
fn fake_config(hostname: &str) -> ProxierConfig {
    ProxierConfig {
        masquerade_mark: "0x4000".into(),
        random_fully: false,
        ..ProxierConfig::node(hostname, Some("192.168.0.2"), "10.0.0.0/8")
    }
}

fn sync_all(config: ProxierConfig, services: &[Value], slices: &[Value]) -> String {
    let mut p = Proxier::new(config);
    for s in services {
        p.on_service_update(&service(s.clone()));
    }
    for s in slices {
        p.on_endpoint_slice_update(&slice(s.clone()));
    }
    p.sync(0).restore
}

// ---------------------------------------------------------------------------
// The conformance file

#[test]
fn chain_names_match_upstream_hash_examples() {
    let d = data();
    let examples = d["hashExamples"].as_array().expect("hashExamples");
    assert!(!examples.is_empty());
    for ex in examples {
        let name = ex["servicePortName"].as_str().expect("servicePortName");
        let proto = ex["protocol"].as_str().expect("protocol");
        if let Some(endpoint) = ex["endpoint"].as_str() {
            assert_eq!(
                hash::service_port_endpoint_chain(name, proto, endpoint),
                ex["chain"].as_str().expect("chain"),
                "{ex}"
            );
            continue;
        }
        let h = ex["hash"].as_str().expect("hash");
        assert_eq!(hash::port_proto_hash(name, proto), h, "{ex}");
        let chains = ex["chains"].as_object().expect("chains");
        assert_eq!(chains.len(), 4, "{ex}");
        for (prefix, want) in chains {
            let got = match prefix.as_str() {
                "KUBE-SVC-" => hash::service_port_policy_cluster_chain(name, proto),
                "KUBE-SVL-" => hash::service_port_policy_local_chain(name, proto),
                "KUBE-EXT-" => hash::service_external_chain(name, proto),
                "KUBE-FW-" => hash::service_firewall_chain(name, proto),
                other => panic!("unknown chain prefix {other}"),
            };
            assert_eq!(got, want.as_str().expect("chain"), "{ex}");
        }
    }
}

/// The proxier a case describes. Cases from releases before the nfacct counters
/// (v1.29) do not say so in `proxierConfig`: their expected text, which has no
/// `--nfacct-name`, tells which proxier wrote it.
fn case_config(case: &Value) -> ProxierConfig {
    let c = &case["proxierConfig"];
    let expected = case["expectedIptablesRestore"].as_str().unwrap_or("");
    let hostname = c["hostname"].as_str().unwrap_or("<this node>");
    let mut config = fake_config(hostname);
    config.ip_family = match c["ipFamily"].as_str().unwrap_or("IPv4") {
        "IPv4" => IpFamily::V4,
        "IPv6" => IpFamily::V6,
        other => panic!("unknown ipFamily {other}"),
    };
    if let Some(mark) = c["masqueradeMark"].as_str() {
        config.masquerade_mark = mark.into();
    }
    let det = &c["localTrafficDetector"];
    config.local_detector = match det["mode"].as_str() {
        None => LocalDetector::None,
        Some("ClusterCIDR") | Some("NodeCIDR") => {
            let cidr = det
                .as_object()
                .and_then(|o| {
                    o.iter()
                        .find(|(k, _)| k.to_ascii_lowercase().ends_with("cidr"))
                        .and_then(|(_, v)| v.as_str())
                })
                .expect("a CIDR for the local traffic detector");
            LocalDetector::Cidr(cidr.into())
        }
        Some("BridgeInterface") => LocalDetector::BridgeInterface(
            det["bridgeInterface"]
                .as_str()
                .expect("bridgeInterface")
                .into(),
        ),
        Some("InterfaceNamePrefix") => LocalDetector::InterfaceNamePrefix(
            det["interfaceNamePrefix"]
                .as_str()
                .expect("interfaceNamePrefix")
                .into(),
        ),
        Some(other) => panic!("unknown local traffic detector {other}"),
    };
    if let Some(ip) = c["nodeIP"].as_str() {
        config.node_ip = ip.parse().ok();
    }
    if let Some(b) = c["localhostNodePorts"].as_bool() {
        config.localhost_node_ports = b;
    }
    if let Some(b) = c["masqueradeAll"].as_bool() {
        config.masquerade_all = b;
    }
    config.nfacct = c["nfacct"]
        .as_bool()
        .unwrap_or_else(|| expected.contains("--nfacct-name"));
    config
}

#[test]
fn upstream_cases() {
    let d = data();
    let cases = d["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    for case in cases {
        let id = case["id"].as_str().expect("id");
        let services = case["services"].as_array().expect("services");
        let slices = case["endpointSlices"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let expected = case["expectedIptablesRestore"]
            .as_str()
            .expect("expectedIptablesRestore");
        // upstream's expected text is already in sortIPTablesRules' order.
        assert_eq!(
            normalize(expected),
            expected.trim_start(),
            "{id}: normalizer"
        );
        let got = sync_all(case_config(case), services, &slices);
        assert_rules(expected, &got, id);
    }
}

// ---------------------------------------------------------------------------
// Our own cases (upstream's fake proxier settings; node "test-hostname")

fn svc(ns: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Service",
           "metadata": {"namespace": ns, "name": name}, "spec": spec})
}

fn eps(ns: &str, svc: &str, name: &str, endpoints: Value, ports: Value) -> Value {
    json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
           "metadata": {"namespace": ns, "name": name,
                        "labels": {"kubernetes.io/service-name": svc}},
           "addressType": "IPv4", "endpoints": endpoints, "ports": ports})
}

fn p80() -> Value {
    json!([{"name": "p80", "port": 80, "protocol": "TCP"}])
}

const FILTER_TAIL: &str = r#"-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
"#;

const FILTER_CHAINS: &str = "*filter
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
";

const NAT_FIXED: &str = r#"-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
"#;

const LAST_RULE: &str = r#"-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
"#;

/// TestOverallIPTablesRules: ClusterIP, LoadBalancer with Local policy, NodePort,
/// external IP, LoadBalancer with source ranges and ClientIP affinity, no endpoints.
#[test]
fn overall_rules_as_upstream() {
    let services = [
        svc(
            "ns1",
            "svc1",
            json!({"clusterIP": "172.30.0.41", "ports": p80()}),
        ),
        svc(
            "ns2",
            "svc2",
            json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                   "clusterIP": "172.30.0.42", "externalIPs": ["192.168.99.22"],
                   "healthCheckNodePort": 30000,
                   "ports": [{"name": "p80", "port": 80, "protocol": "TCP", "nodePort": 3001}]}),
        ),
        svc(
            "ns3",
            "svc3",
            json!({"type": "NodePort", "clusterIP": "172.30.0.43",
                   "ports": [{"name": "p80", "port": 80, "protocol": "TCP", "nodePort": 3003}]}),
        ),
        svc(
            "ns4",
            "svc4",
            json!({"type": "NodePort", "clusterIP": "172.30.0.44", "externalIPs": ["192.168.99.33"],
                   "ports": [{"name": "p80", "port": 80, "protocol": "TCP", "targetPort": 80}]}),
        ),
        svc(
            "ns5",
            "svc5",
            json!({"type": "LoadBalancer", "externalTrafficPolicy": "Cluster",
                   "clusterIP": "172.30.0.45", "healthCheckNodePort": 30000,
                   "loadBalancerSourceRanges": [" 203.0.113.0/25"],
                   "sessionAffinity": "ClientIP",
                   "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
                   "ports": [{"name": "p80", "port": 80, "protocol": "TCP", "nodePort": 3002}]}),
        ),
        svc(
            "ns6",
            "svc6",
            json!({"type": "ClusterIP", "clusterIP": "172.30.0.46",
                   "ports": [{"name": "p80", "port": 80, "protocol": "TCP", "targetPort": 80}]}),
        ),
    ];
    let mut services = services.to_vec();
    services[1]["status"] = json!({"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}});
    services[4]["status"] = json!({"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}]}});
    let slices = [
        eps(
            "ns1",
            "svc1",
            "svc1-1",
            json!([{"addresses": ["10.180.0.1"]}]),
            p80(),
        ),
        eps(
            "ns2",
            "svc2",
            "svc2-1",
            json!([{"addresses": ["10.180.0.2"]}]),
            p80(),
        ),
        eps(
            "ns3",
            "svc3",
            "svc3-1",
            json!([{"addresses": ["10.180.0.3"]}]),
            p80(),
        ),
        eps(
            "ns4",
            "svc4",
            "svc4-1",
            json!([{"addresses": ["10.180.0.4"]},
                   {"addresses": ["10.180.0.5"], "nodeName": "test-hostname"}]),
            p80(),
        ),
        eps(
            "ns5",
            "svc5",
            "svc5-1",
            json!([{"addresses": ["10.180.0.3"]}]),
            p80(),
        ),
    ];
    let got = sync_all(fake_config("test-hostname"), &services, &slices);
    let expected = format!(
        r#"{FILTER_CHAINS}-A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j DROP
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP
{FILTER_TAIL}-A KUBE-PROXY-FIREWALL -m comment --comment "ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP
COMMIT
*nat
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-EXT-4SW47YFZTEDKD3PK - [0:0]
:KUBE-EXT-GNZBNJ2PO5MGZ6GT - [0:0]
:KUBE-EXT-NUKIZ6OKUXPJNT4C - [0:0]
:KUBE-EXT-X27LE4BHSL4DOUIK - [0:0]
:KUBE-FW-NUKIZ6OKUXPJNT4C - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]
:KUBE-SEP-I77PXRDZVX7PMWMN - [0:0]
:KUBE-SEP-OYPFS5VJICHGATKP - [0:0]
:KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
:KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
:KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]
:KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
:KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]
:KUBE-SVC-NUKIZ6OKUXPJNT4C - [0:0]
:KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3001 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3003 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-X27LE4BHSL4DOUIK
-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3003 -j KUBE-EXT-X27LE4BHSL4DOUIK
-A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3002 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-NUKIZ6OKUXPJNT4C
-A KUBE-NODEPORTS -m comment --comment ns5/svc5:p80 -m tcp -p tcp --dport 3002 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
-A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK
-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.33 --dport 80 -j KUBE-EXT-4SW47YFZTEDKD3PK
-A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C
-A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 loadbalancer IP" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j KUBE-FW-NUKIZ6OKUXPJNT4C
{LAST_RULE}-A KUBE-EXT-4SW47YFZTEDKD3PK -m comment --comment "masquerade traffic for ns4/svc4:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-4SW47YFZTEDKD3PK -j KUBE-SVC-4SW47YFZTEDKD3PK
-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "pod traffic for ns2/svc2:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
-A KUBE-EXT-NUKIZ6OKUXPJNT4C -m comment --comment "masquerade traffic for ns5/svc5:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-NUKIZ6OKUXPJNT4C -j KUBE-SVC-NUKIZ6OKUXPJNT4C
-A KUBE-EXT-X27LE4BHSL4DOUIK -m comment --comment "masquerade traffic for ns3/svc3:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-X27LE4BHSL4DOUIK -j KUBE-SVC-X27LE4BHSL4DOUIK
-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-NUKIZ6OKUXPJNT4C
-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"
{NAT_FIXED}-A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j KUBE-MARK-MASQ
-A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.5:80
-A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
-A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
-A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
-A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
-A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ
-A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
-A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4 -j KUBE-MARK-MASQ
-A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.4:80
-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC
-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.5:80" -j KUBE-SEP-C6EBXVWJJZMIWKLZ
-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 -> 10.180.0.2:80" -j KUBE-SEP-RS4RBKLTHTF2IUXJ
-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --rcheck --seconds 10800 --reap -j KUBE-SEP-I77PXRDZVX7PMWMN
-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -j KUBE-SEP-I77PXRDZVX7PMWMN
-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.180.0.3:80" -j KUBE-SEP-OYPFS5VJICHGATKP
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ
COMMIT
"#
    );
    assert_eq!(normalize(&expected), expected);
    assert_rules(&expected, &got, "TestOverallIPTablesRules");
}

fn svc_chain(kind: &str, name: &str) -> String {
    format!("KUBE-{kind}-{}", hash::port_proto_hash(name, "tcp"))
}

fn sep_chain(name: &str, endpoint: &str) -> String {
    hash::service_port_endpoint_chain(name, "tcp", endpoint)
}

/// TestNoEndpointsReject: without endpoints, the cluster IP, the external IP, the
/// load-balancer IP and the node port all REJECT in the filter table; the nat table
/// has nothing for the Service.
#[test]
fn no_endpoints_reject() {
    let mut s = svc(
        "ns1",
        "svc1",
        json!({"type": "LoadBalancer", "clusterIP": "172.30.0.41",
               "externalIPs": ["192.168.99.11"],
               "ports": [{"name": "p80", "port": 80, "protocol": "TCP", "nodePort": 3001}]}),
    );
    s["status"] = json!({"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}});
    let got = sync_all(fake_config("test-hostname"), &[s], &[]);
    let expected = format!(
        r#"{FILTER_CHAINS}-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j REJECT
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 192.168.99.11 --dport 80 -j REJECT
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j REJECT
-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j REJECT
{FILTER_TAIL}COMMIT
*nat
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
{LAST_RULE}{NAT_FIXED}COMMIT
"#
    );
    assert_rules(&expected, &got, "no endpoints");
}

/// externalTrafficPolicy Local on a NodePort Service with one endpoint here and one
/// on host2: external traffic goes to the KUBE-SVL chain (this node's endpoint
/// only), pod and host traffic short-circuits to KUBE-SVC (both).
#[test]
fn external_traffic_policy_local() {
    let s = svc(
        "ns1",
        "svc1",
        json!({"type": "NodePort", "externalTrafficPolicy": "Local", "clusterIP": "172.30.0.41",
               "ports": [{"name": "p80", "port": 80, "protocol": "TCP", "nodePort": 3001}]}),
    );
    let e = eps(
        "ns1",
        "svc1",
        "svc1-abcde",
        json!([{"addresses": ["10.180.1.1"], "nodeName": "host2"},
               {"addresses": ["10.180.0.1"], "nodeName": "test-hostname"}]),
        p80(),
    );
    let got = sync_all(fake_config("test-hostname"), &[s], &[e]);
    let n = "ns1/svc1:p80";
    let (svc_c, svl, ext) = (
        svc_chain("SVC", n),
        svc_chain("SVL", n),
        svc_chain("EXT", n),
    );
    let (sep1, sep2) = (sep_chain(n, "10.180.0.1:80"), sep_chain(n, "10.180.1.1:80"));
    assert_eq!(svc_c, "KUBE-SVC-XPGD46QRK7WJZT7O");
    assert_eq!(sep1, "KUBE-SEP-SXIVWICOYRO3J4NJ");
    let mut chains = [
        ext.clone(),
        "KUBE-MARK-MASQ".into(),
        "KUBE-POSTROUTING".into(),
        sep1.clone(),
        sep2.clone(),
        svc_c.clone(),
        svl.clone(),
    ];
    chains.sort();
    let chains: String = chains.iter().map(|c| format!(":{c} - [0:0]\n")).collect();
    let expected = format!(
        r#"{FILTER_CHAINS}{FILTER_TAIL}COMMIT
*nat
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
{chains}-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3001 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j {ext}
-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 3001 -j {ext}
-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j {svc_c}
{LAST_RULE}-A {ext} -m comment --comment "pod traffic for ns1/svc1:p80 external destinations" -s 10.0.0.0/8 -j {svc_c}
-A {ext} -m comment --comment "masquerade LOCAL traffic for ns1/svc1:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
-A {ext} -m comment --comment "route LOCAL traffic for ns1/svc1:p80 external destinations" -m addrtype --src-type LOCAL -j {svc_c}
-A {ext} -j {svl}
{NAT_FIXED}-A {sep1} -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
-A {sep1} -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
-A {sep2} -m comment --comment ns1/svc1:p80 -s 10.180.1.1 -j KUBE-MARK-MASQ
-A {sep2} -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.1.1:80
-A {svc_c} -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A {svc_c} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m statistic --mode random --probability 0.5000000000 -j {sep1}
-A {svc_c} -m comment --comment "ns1/svc1:p80 -> 10.180.1.1:80" -j {sep2}
-A {svl} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j {sep1}
COMMIT
"#
    );
    // KUBE-SEP order: the normalizer sorts chains by name.
    let (a, b) = (normalize(&expected), normalize(&got));
    assert_eq!(a, b, "externalTrafficPolicy Local\n{b}");

    // Without a local endpoint, external traffic is dropped but pods still reach it.
    let s = svc(
        "ns1",
        "svc1",
        json!({"type": "NodePort", "externalTrafficPolicy": "Local", "clusterIP": "172.30.0.41",
               "ports": [{"name": "p80", "port": 80, "protocol": "TCP", "nodePort": 3001}]}),
    );
    let e = eps(
        "ns1",
        "svc1",
        "svc1-abcde",
        json!([{"addresses": ["10.180.1.1"], "nodeName": "host2"}]),
        p80(),
    );
    let got = sync_all(fake_config("test-hostname"), &[s], &[e]);
    assert!(got.contains(r#"-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP"#), "{got}");
    assert!(!got.contains(&format!("-A {ext} -j {svl}")), "{got}");
    assert!(!got.contains(&format!(":{svl} ")), "{got}");
    assert!(got.contains(&format!("-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 3001 -j {ext}")), "{got}");
}

/// sessionAffinity ClientIP: `recent --rcheck` rules for every endpoint come before
/// the probability ladder, and each endpoint chain `--set`s its own list.
#[test]
fn session_affinity_client_ip() {
    let s = svc(
        "ns1",
        "svc1",
        json!({"clusterIP": "172.30.0.41", "sessionAffinity": "ClientIP",
               "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
               "ports": p80()}),
    );
    let e = eps(
        "ns1",
        "svc1",
        "svc1-abcde",
        json!([{"addresses": ["10.180.0.2"]}, {"addresses": ["10.180.0.1"]}]),
        p80(),
    );
    let got = normalize(&sync_all(fake_config("test-hostname"), &[s], &[e]));
    let n = "ns1/svc1:p80";
    let svc_c = svc_chain("SVC", n);
    let (s1, s2) = (sep_chain(n, "10.180.0.1:80"), sep_chain(n, "10.180.0.2:80"));
    let svc_rules: Vec<&str> = got
        .lines()
        .filter(|l| l.starts_with(&format!("-A {svc_c} ")))
        .collect();
    assert_eq!(
        svc_rules,
        [
            format!("-A {svc_c} -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ"),
            format!("-A {svc_c} -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -m recent --name {s1} --rcheck --seconds 600 --reap -j {s1}"),
            format!("-A {svc_c} -m comment --comment \"ns1/svc1:p80 -> 10.180.0.2:80\" -m recent --name {s2} --rcheck --seconds 600 --reap -j {s2}"),
            format!("-A {svc_c} -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -m statistic --mode random --probability 0.5000000000 -j {s1}"),
            format!("-A {svc_c} -m comment --comment \"ns1/svc1:p80 -> 10.180.0.2:80\" -j {s2}"),
        ]
    );
    assert!(got.contains(&format!("-A {s2} -m comment --comment ns1/svc1:p80 -m recent --name {s2} --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80")), "{got}");
}

/// A Service without a selector takes its endpoints from EndpointSlices applied by
/// hand; kube-proxy merges all slices of the Service (deduplicated, sorted by
/// `ip:port`), skips endpoints that are not ready, and ignores slices of another
/// address family or without the service-name label.
#[test]
fn selectorless_service_merges_hand_made_slices() {
    let s = svc(
        "ns1",
        "svc1",
        json!({"clusterIP": "172.30.1.1", "ports": [{"port": 80, "protocol": "TCP"}]}),
    );
    let port = json!([{"name": "", "port": 80, "protocol": "TCP"}]);
    let a = eps(
        "ns1",
        "svc1",
        "svc1-a",
        json!([{"addresses": ["10.0.1.3"], "nodeName": "host2"},
               {"addresses": ["10.0.1.1"]}]),
        port.clone(),
    );
    let b = eps(
        "ns1",
        "svc1",
        "svc1-b",
        json!([{"addresses": ["10.0.1.2"], "nodeName": "host1"},
               {"addresses": ["10.0.1.1"], "nodeName": "test-hostname"},
               {"addresses": ["10.0.1.4"], "conditions": {"ready": false}}]),
        port.clone(),
    );
    let mut v6 = eps(
        "ns1",
        "svc1",
        "svc1-v6",
        json!([{"addresses": ["fd00::1"]}]),
        port.clone(),
    );
    v6["addressType"] = json!("IPv6");
    let mut unlabeled = eps(
        "ns1",
        "svc1",
        "stray",
        json!([{"addresses": ["10.0.1.9"]}]),
        port,
    );
    unlabeled["metadata"]["labels"] = json!({});
    let got = sync_all(fake_config("test-hostname"), &[s], &[a, b, v6, unlabeled]);
    let n = "ns1/svc1";
    let svc_c = svc_chain("SVC", n);
    assert_eq!(svc_c, "KUBE-SVC-AQI2S6QIMU7PVVRP");
    let seps = [
        sep_chain(n, "10.0.1.1:80"),
        sep_chain(n, "10.0.1.2:80"),
        sep_chain(n, "10.0.1.3:80"),
    ];
    assert_eq!(
        seps,
        [
            "KUBE-SEP-3JOIVZTXZZRGORX4",
            "KUBE-SEP-IO5XOSKPAXIFQXAJ",
            "KUBE-SEP-XGJFVO3L2O5SRFNT"
        ]
    );
    let expected = format!(
        r#"{FILTER_CHAINS}{FILTER_TAIL}COMMIT
*nat
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-3JOIVZTXZZRGORX4 - [0:0]
:KUBE-SEP-IO5XOSKPAXIFQXAJ - [0:0]
:KUBE-SEP-XGJFVO3L2O5SRFNT - [0:0]
:KUBE-SVC-AQI2S6QIMU7PVVRP - [0:0]
-A KUBE-SERVICES -m comment --comment "ns1/svc1 cluster IP" -m tcp -p tcp -d 172.30.1.1 --dport 80 -j KUBE-SVC-AQI2S6QIMU7PVVRP
{LAST_RULE}{NAT_FIXED}-A KUBE-SEP-3JOIVZTXZZRGORX4 -m comment --comment ns1/svc1 -s 10.0.1.1 -j KUBE-MARK-MASQ
-A KUBE-SEP-3JOIVZTXZZRGORX4 -m comment --comment ns1/svc1 -m tcp -p tcp -j DNAT --to-destination 10.0.1.1:80
-A KUBE-SEP-IO5XOSKPAXIFQXAJ -m comment --comment ns1/svc1 -s 10.0.1.2 -j KUBE-MARK-MASQ
-A KUBE-SEP-IO5XOSKPAXIFQXAJ -m comment --comment ns1/svc1 -m tcp -p tcp -j DNAT --to-destination 10.0.1.2:80
-A KUBE-SEP-XGJFVO3L2O5SRFNT -m comment --comment ns1/svc1 -s 10.0.1.3 -j KUBE-MARK-MASQ
-A KUBE-SEP-XGJFVO3L2O5SRFNT -m comment --comment ns1/svc1 -m tcp -p tcp -j DNAT --to-destination 10.0.1.3:80
-A KUBE-SVC-AQI2S6QIMU7PVVRP -m comment --comment "ns1/svc1 cluster IP" -m tcp -p tcp -d 172.30.1.1 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-AQI2S6QIMU7PVVRP -m comment --comment "ns1/svc1 -> 10.0.1.1:80" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-3JOIVZTXZZRGORX4
-A KUBE-SVC-AQI2S6QIMU7PVVRP -m comment --comment "ns1/svc1 -> 10.0.1.2:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-IO5XOSKPAXIFQXAJ
-A KUBE-SVC-AQI2S6QIMU7PVVRP -m comment --comment "ns1/svc1 -> 10.0.1.3:80" -j KUBE-SEP-XGJFVO3L2O5SRFNT
COMMIT
"#
    );
    assert_rules(&expected, &got, "two slices merged");
}

/// LoadBalancer with externalTrafficPolicy Local and a source range that holds the
/// node's own IP: the health check node port is accepted, the KUBE-FW chain lets the
/// range and (for hairpin from this node) the VIP itself through.
#[test]
fn load_balancer_source_ranges_and_health_check() {
    let mut s = svc(
        "ns1",
        "svc1",
        json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local",
               "clusterIP": "172.30.0.41", "healthCheckNodePort": 30000,
               "loadBalancerSourceRanges": ["192.168.0.0/24", "203.0.113.0/25"],
               "ports": [{"name": "p80", "port": 80, "protocol": "TCP", "nodePort": 3001}]}),
    );
    s["status"] =
        json!({"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}, {"hostname": "lb.example.com"}]}});
    let e = eps(
        "ns1",
        "svc1",
        "svc1-abcde",
        json!([{"addresses": ["10.180.0.1"], "nodeName": "test-hostname"}]),
        p80(),
    );
    let got = sync_all(fake_config("test-hostname"), &[s], &[e]);
    let n = "ns1/svc1:p80";
    let (fw, ext) = (svc_chain("FW", n), svc_chain("EXT", n));
    for line in [
        "-A KUBE-NODEPORTS -m comment --comment \"ns1/svc1:p80 health check node port\" -m tcp -p tcp --dport 30000 -j ACCEPT".to_string(),
        format!("-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 loadbalancer IP\" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j {fw}"),
        format!("-A KUBE-PROXY-FIREWALL -m comment --comment \"ns1/svc1:p80 traffic not accepted by {fw}\" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP"),
        format!("-A {fw} -m comment --comment \"ns1/svc1:p80 loadbalancer IP\" -s 192.168.0.0/24 -j {ext}"),
        format!("-A {fw} -m comment --comment \"ns1/svc1:p80 loadbalancer IP\" -s 203.0.113.0/25 -j {ext}"),
        format!("-A {fw} -m comment --comment \"ns1/svc1:p80 loadbalancer IP\" -s 1.2.3.4 -j {ext}"),
        format!("-A {fw} -m comment --comment \"other traffic to ns1/svc1:p80 will be dropped by KUBE-PROXY-FIREWALL\""),
        format!(":{fw} - [0:0]"),
    ] {
        assert!(got.lines().any(|l| l == line), "missing {line}\n{got}");
    }
    // The fw chain's rules keep upstream's order: ranges, the VIP, the final comment.
    let fw_rules: Vec<&str> = got
        .lines()
        .filter(|l| l.starts_with(&format!("-A {fw} ")))
        .collect();
    assert_eq!(fw_rules.len(), 4);
    assert!(fw_rules[2].contains("-s 1.2.3.4"));
}

/// internalTrafficPolicy Local without an endpoint on this node: the cluster IP
/// DROPs in the filter table and no chain is written for it.
#[test]
fn internal_traffic_policy_local_without_local_endpoints() {
    let s = svc(
        "ns1",
        "svc1",
        json!({"clusterIP": "172.30.0.41", "internalTrafficPolicy": "Local", "ports": p80()}),
    );
    let e = eps(
        "ns1",
        "svc1",
        "svc1-abcde",
        json!([{"addresses": ["10.180.1.1"], "nodeName": "host2"}]),
        p80(),
    );
    let got = sync_all(fake_config("test-hostname"), std::slice::from_ref(&s), &[e]);
    assert!(got.contains(r#"-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no local endpoints" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j DROP"#), "{got}");
    assert!(
        !got.contains("KUBE-SVC-") && !got.contains("KUBE-SEP-"),
        "{got}"
    );

    // With one here, the cluster IP goes to KUBE-SVL with that endpoint only.
    let e = eps(
        "ns1",
        "svc1",
        "svc1-abcde",
        json!([{"addresses": ["10.180.1.1"], "nodeName": "host2"},
               {"addresses": ["10.180.0.1"], "nodeName": "test-hostname"}]),
        p80(),
    );
    let got = sync_all(fake_config("test-hostname"), &[s], &[e]);
    let svl = svc_chain("SVL", "ns1/svc1:p80");
    assert!(got.contains(&format!("-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j {svl}")), "{got}");
    assert!(got.contains(&format!("-A {svl} -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ")), "{got}");
    assert!(!got.contains("10.180.1.1"), "{got}");
}

/// With no ready endpoint, serving terminating ones are used.
#[test]
fn terminating_endpoints_are_a_fallback() {
    let s = svc(
        "ns1",
        "svc1",
        json!({"clusterIP": "172.30.0.41", "ports": p80()}),
    );
    let e = eps(
        "ns1",
        "svc1",
        "svc1-abcde",
        json!([{"addresses": ["10.180.0.1"], "conditions": {"ready": false, "serving": true, "terminating": true}},
               {"addresses": ["10.180.0.2"], "conditions": {"ready": false, "serving": false, "terminating": true}}]),
        p80(),
    );
    let got = sync_all(fake_config("test-hostname"), &[s], &[e]);
    assert!(got.contains("--to-destination 10.180.0.1:80"), "{got}");
    assert!(!got.contains("10.180.0.2"), "{got}");
}

/// Partial syncs: only changed Services' chains are written, KUBE-SERVICES always;
/// a deleted Service's chains are flushed and deleted (`-X`); `force_full_sync`
/// and an hour without one bring a full sync back.
#[test]
fn partial_sync_rewrites_only_changed_services() {
    let mut p = Proxier::new(fake_config("test-hostname"));
    for i in 1..=3 {
        let ns = format!("ns{i}");
        let name = format!("svc{i}");
        p.on_service_update(&service(svc(
            &ns,
            &name,
            json!({"clusterIP": format!("172.30.0.{}", 40 + i), "ports": p80()}),
        )));
        p.on_endpoint_slice_update(&slice(eps(
            &ns,
            &name,
            &format!("{name}-1"),
            json!([{"addresses": [format!("10.180.0.{i}")]}]),
            p80(),
        )));
    }
    let first = p.sync(0);
    assert!(first.full_sync);
    assert_eq!(first.service_ports_written, 3);
    let svc1 = svc_chain("SVC", "ns1/svc1:p80");
    let svc2 = svc_chain("SVC", "ns2/svc2:p80");
    assert!(first.restore.contains(&format!(":{svc1} - [0:0]")));

    // A new endpoint for svc2 only.
    assert!(p.on_endpoint_slice_update(&slice(eps(
        "ns2",
        "svc2",
        "svc2-1",
        json!([{"addresses": ["10.180.0.2"]}, {"addresses": ["10.180.0.22"]}]),
        p80(),
    ))));
    // Applying the same slice again changes nothing.
    assert!(!p.on_endpoint_slice_update(&slice(eps(
        "ns2",
        "svc2",
        "svc2-1",
        json!([{"addresses": ["10.180.0.22"]}, {"addresses": ["10.180.0.2"]}]),
        p80(),
    ))));
    let second = p.sync(1_000_000_000);
    assert!(!second.full_sync);
    assert_eq!(second.service_ports_written, 1);
    assert!(!second.restore.contains(&format!(":{svc1} ")));
    assert!(second.restore.contains(&format!(":{svc2} - [0:0]")));
    assert!(second.restore.contains("--probability 0.5000000000"));
    // KUBE-SERVICES is whole in every sync.
    assert_eq!(
        second
            .restore
            .lines()
            .filter(|l| l.starts_with("-A KUBE-SERVICES") && l.contains("cluster IP"))
            .count(),
        3
    );
    assert_eq!(second.nat_rules_total, first.nat_rules_total + 3);

    // svc1 deleted: its chains are flushed and deleted.
    assert!(p.on_service_delete("ns1", "svc1"));
    let third = p.sync(2_000_000_000);
    let sep1 = sep_chain("ns1/svc1:p80", "10.180.0.1:80");
    for line in [
        format!(":{svc1} - [0:0]"),
        format!("-X {svc1}"),
        format!(":{sep1} - [0:0]"),
        format!("-X {sep1}"),
    ] {
        assert!(
            third.restore.lines().any(|l| l == line),
            "missing {line}\n{}",
            third.restore
        );
    }
    assert_eq!(third.deleted_chains, 2);
    assert!(!third.restore.contains("ns1/svc1:p80 cluster IP"));

    // Nothing changed: a partial sync writes no service chain.
    let fourth = p.sync(3_000_000_000);
    assert!(!fourth.full_sync);
    assert_eq!(fourth.service_ports_written, 0);
    assert!(!fourth.restore.contains("KUBE-SEP-"));

    p.force_full_sync();
    let fifth = p.sync(4_000_000_000);
    assert!(fifth.full_sync);
    assert_eq!(fifth.service_ports_written, 2);
    let hour = 3600 * 1_000_000_000u64;
    // FullSyncPeriod after the last full sync, the next is full (virtual time has no
    // gap between the sync and the runner's hourly timer: an hour exactly counts).
    assert!(!p.sync(3_999_999_999 + hour).full_sync);
    assert!(p.sync(4_000_000_000 + hour).full_sync);
}

/// Above 1,000 endpoints the proxier drops the comments of endpoint rules.
#[test]
fn large_cluster_mode_drops_endpoint_comments() {
    let mut p = Proxier::new(fake_config("test-hostname"));
    p.on_service_update(&service(svc(
        "ns1",
        "svc1",
        json!({"clusterIP": "172.30.0.41", "ports": p80()}),
    )));
    let endpoints: Vec<Value> = (0..1001)
        .map(|i| json!({"addresses": [format!("10.181.{}.{}", i / 250, i % 250 + 1)]}))
        .collect();
    p.on_endpoint_slice_update(&slice(eps(
        "ns1",
        "svc1",
        "svc1-1",
        Value::Array(endpoints),
        p80(),
    )));
    let r = p.sync(0);
    assert!(r.large_cluster_mode);
    assert_eq!(r.endpoints, 1001);
    let sep = sep_chain("ns1/svc1:p80", "10.181.0.1:80");
    assert!(r
        .restore
        .lines()
        .any(|l| l == format!("-A {sep} -s 10.181.0.1 -j KUBE-MARK-MASQ")));
    assert!(r.restore.contains("--probability 0.0009990010 -j"));
    // 1 KUBE-SERVICES + 1 masquerade + 1001 ladder + 2 × 1001 endpoint rules + 5 fixed.
    assert_eq!(r.nat_rules, 1 + 1 + 1001 + 2002 + 5);
}

/// A v1.31 node's defaults: mark bit 14 printed as Go's `%#08x`, `--random-fully`,
/// and the jumps from the built-in chains a full sync makes sure of.
#[test]
fn node_defaults_and_jump_rules() {
    let mut p = Proxier::new(ProxierConfig::node(
        "node-1",
        Some("192.168.0.11"),
        "10.244.0.0/16",
    ));
    let r = p.sync(0);
    for line in [
        "-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000",
        "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully",
        "-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000",
    ] {
        assert!(r.restore.lines().any(|l| l == line), "missing {line}\n{}", r.restore);
    }
    assert!(r.full_sync);
    let jumps = p.jump_rules();
    assert!(jumps.iter().any(|j| j.table == "nat"
        && j.chain == "PREROUTING"
        && j.args == "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"));
    assert!(jumps.iter().any(|j| j.table == "filter"
        && j.chain == "FORWARD"
        && j.args
            == "-m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES"));
    assert_eq!(jumps.len(), 14);
}
