//! The `trace` step (scenario.md, "The `trace` result"): one packet walked hop by
//! hop through pods' namespaces, veth pairs, the bridge, each node's routes and
//! iptables (kube-proxy's rules as loaded), tunnels between nodes, and delivered to
//! a listening container or dropped, and by what; for each network plug-in.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::scenario::{self, Runner, StepResult};
use serde_json::Value;

/// client on node-1, web-a (nginx, port 80) on node-2, Service web (NodePort 30080,
/// ClusterIP 10.96.0.20), a Service with no endpoints, and a headless Service.
const SETUP: &str = r#"  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {name: client}
      spec:
        nodeName: node-1
        containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: web-a, labels: {app: web}}
      spec:
        nodeName: node-2
        containers: [{name: nginx, image: nginx:1.27, ports: [{containerPort: 80}]}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: web}
      spec:
        type: NodePort
        selector: {app: web}
        clusterIP: 10.96.0.20
        ports: [{name: http, port: 80, targetPort: 80, nodePort: 30080}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: empty}
      spec:
        selector: {app: nothing}
        clusterIP: 10.96.0.30
        ports: [{port: 80}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: web-headless}
      spec:
        clusterIP: None
        selector: {app: web}
        ports: [{name: http, port: 80}]
  - settle: {}
"#;

fn run(plugin: &str, steps: &str) -> (Vec<StepResult>, Runner) {
    run_in(&format!("{{plugin: {plugin}}}"), steps)
}

fn run_in(network: &str, steps: &str) -> (Vec<StepResult>, Runner) {
    let text = format!(
        r#"apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {{name: trace}}
spec:
  cluster:
    network: {network}
    nodes:
    - metadata: {{name: node-1}}
    - metadata: {{name: node-2}}
  steps:
{SETUP}{steps}"#
    );
    let s = scenario::parse(&text).unwrap_or_else(|e| panic!("scenario: {e}"));
    let (mut results, runner) = scenario::run(&s).unwrap_or_else(|e| panic!("run: {e}"));
    for r in results.iter().take(2) {
        assert!(r.error.is_null(), "setup failed: {}", r.error);
    }
    results.drain(..2);
    (results, runner)
}

fn ok(r: &StepResult) -> &Value {
    assert!(r.error.is_null(), "step failed: {}", r.error);
    &r.output
}

fn hops(t: &Value) -> &Vec<Value> {
    t["hops"].as_array().expect("hops")
}

fn stages(t: &Value) -> Vec<&str> {
    hops(t).iter().filter_map(|h| h["stage"].as_str()).collect()
}

fn last(t: &Value) -> &Value {
    hops(t).last().expect("a hop")
}

#[test]
fn a_pod_reaches_a_service_through_kube_proxys_dnat() {
    let (r, runner) = run(
        "flannel-vxlan",
        "  - trace: {from: pod/default/client, to: 'svc/default/web:80'}\n  - trace: {from: pod/default/client, to: 'svc/default/web:http'}\n",
    );
    let t = ok(&r[0]);
    assert_eq!(t["verdict"], "delivered", "{t:#}");
    assert_eq!(t["to"], "pod/default/web-a:80");
    assert_eq!(t["from"], "pod/default/client");
    assert_eq!(t["plugin"], "flannel-vxlan");
    let h = hops(t);
    // Leaves the pod by its default route to the bridge's address.
    assert_eq!(h[0]["stage"], "route");
    assert_eq!(h[0]["netns"], "pod/default/client");
    assert_eq!(h[0]["rule"], "default via 10.244.0.1 dev eth0");
    assert_eq!(h[0]["packet"]["src"], "10.244.0.2");
    assert_eq!(h[0]["packet"]["dst"], "10.96.0.20");
    assert_eq!(h[0]["packet"]["sport"], 40000);
    assert_eq!(h[1]["stage"], "veth");
    assert_eq!(h[2]["stage"], "bridge");
    assert_eq!(h[2]["interface"], "cni0");
    // PREROUTING's nat table: KUBE-SERVICES -> KUBE-SVC -> KUBE-SEP, DNAT.
    let dnat = h
        .iter()
        .find(|x| x["target"] == "DNAT")
        .expect("a DNAT hop");
    assert_eq!(dnat["node"], "node-1");
    assert_eq!(dnat["hook"], "PREROUTING");
    assert_eq!(dnat["table"], "nat");
    assert!(
        dnat["chain"]
            .as_str()
            .unwrap_or("")
            .starts_with("KUBE-SEP-"),
        "{dnat:#}"
    );
    assert!(
        dnat["rule"]
            .as_str()
            .unwrap_or("")
            .ends_with("-j DNAT --to-destination 10.244.1.2:80"),
        "{dnat:#}"
    );
    assert_eq!(dnat["packet"]["dst"], "10.244.1.2");
    assert!(dnat["why"]
        .as_str()
        .unwrap_or("")
        .contains("KUBE-SERVICES -> KUBE-SVC-"));
    // Across to node-2 in VXLAN, then the bridge and the pod's veth.
    let encap = h.iter().find(|x| x["stage"] == "encap").expect("encap");
    assert_eq!(
        encap["outer"],
        serde_json::json!({"src": "10.0.0.2", "dst": "10.0.0.3", "proto": "udp", "dport": 8472, "vni": 1})
    );
    assert_eq!(encap["interface"], "flannel.1");
    let decap = h.iter().find(|x| x["stage"] == "decap").expect("decap");
    assert_eq!(decap["node"], "node-2");
    let end = last(t);
    assert_eq!(end["stage"], "deliver");
    assert_eq!(end["netns"], "pod/default/web-a");
    assert_eq!(end["packet"]["dst"], "10.244.1.2");
    assert_eq!(end["packet"]["dport"], 80);
    // A named port resolves to the same path.
    assert_eq!(ok(&r[1]), t);
    // The trace changed nothing: no counters, no conntrack entries.
    for node in ["node-1", "node-2"] {
        let nf = runner.cluster.node_netfilter(node).expect("netfilter");
        assert_eq!(nf.conntrack.len(), 0);
        let counted: u64 = nf
            .rules
            .tables()
            .flat_map(|t| t.chains_in_order())
            .flat_map(|c| c.rules.iter().map(|r| r.packets))
            .sum();
        assert_eq!(counted, 0, "{node}'s counters moved");
    }
}

#[test]
fn traces_are_repeatable_and_dns_names_resolve() {
    let (r, _) = run(
        "flannel-vxlan",
        "  - trace: {from: pod/default/client, to: 'web.default.svc.cluster.local:80'}\n  - trace: {from: pod/default/client, to: 'web.default.svc.cluster.local:80'}\n  - trace: {from: pod/default/client, to: 'web-headless.default.svc.cluster.local:80'}\n",
    );
    let a = ok(&r[0]);
    assert_eq!(a, ok(&r[1]), "the same trace twice gives the same path");
    assert_web_answered(a, "");
    assert_eq!(a["verdict"], "delivered");
    // A headless Service's name answers with the pod's own address: no DNAT.
    let h = ok(&r[2]);
    assert_eq!(
        hops(h)[0]["rule"],
        "web-headless.default.svc.cluster.local. 30 IN A 10.244.1.2"
    );
    assert_eq!(h["verdict"], "delivered");
    assert!(hops(h).iter().all(|x| x["target"] != "DNAT"));
}

#[test]
fn each_plugin_carries_pod_to_pod_traffic_its_own_way() {
    let step = "  - trace: {from: pod/default/client, to: 'pod/default/web-a:80'}\n";
    // host-gw: a route through node-2's address, no tunnel.
    let (r, _) = run("flannel-host-gw", step);
    let t = ok(&r[0]);
    assert_eq!(t["verdict"], "delivered");
    assert!(hops(t)
        .iter()
        .any(|h| h["rule"] == "10.244.1.0/24 via 10.0.0.3 dev eth0"));
    assert!(!stages(t).contains(&"encap"));
    assert!(stages(t).contains(&"wire"));
    // direct routing: the seed's static routes, kubenet's cbr0.
    let (r, _) = run("direct-routing", step);
    let t = ok(&r[0]);
    assert_eq!(t["verdict"], "delivered");
    assert!(hops(t)
        .iter()
        .any(|h| h["rule"] == "10.244.1.0/24 via 10.0.0.3 dev eth0 proto static"));
    assert_eq!(hops(t)[2]["interface"], "cbr0");
    // flannel vxlan: the flannel.1 route and encapsulation.
    let (r, _) = run("flannel-vxlan", step);
    let t = ok(&r[0]);
    assert!(hops(t)
        .iter()
        .any(|h| h["rule"] == "10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink"));
    // Open vSwitch: br0's flows switch it to vxlan0; the hosts' iptables never see it.
    let (r, _) = run("ovs", step);
    let t = ok(&r[0]);
    assert_eq!(t["verdict"], "delivered", "{t:#}");
    assert!(!stages(t).contains(&"netfilter"), "{t:#}");
    let flow = hops(t)
        .iter()
        .find(|h| h["stage"] == "ovs")
        .expect("ovs hop");
    assert_eq!(
        flow["rule"],
        "ip,nw_dst=10.244.1.0/24 actions=set_field:10.0.0.3->tun_dst,output:vxlan0"
    );
    let encap = hops(t)
        .iter()
        .find(|h| h["stage"] == "encap")
        .expect("encap");
    assert_eq!(encap["outer"]["dport"], 4789);
}

#[test]
fn plain_docker_bridges_cannot_reach_each_other() {
    // Every node's docker0 is 172.17.0.0/16: web-b on node-2 gets an address that
    // nothing on node-1 has, and node-1's docker0 cannot find it.
    let (r, _) = run(
        "docker-bridge",
        r#"  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {name: web-b, labels: {app: other}}
      spec:
        nodeName: node-2
        containers: [{name: nginx, image: nginx:1.27, ports: [{containerPort: 80}]}]
  - settle: {}
  - kubectl: get pods -o wide
  - trace: {from: pod/default/client, to: 'pod/default/web-b:80'}
  - trace: {from: node/node-2, to: 'pod/default/web-b:80'}
  - trace: {from: node/node-1, to: 'pod/default/web-a:80'}
"#,
    );
    let pods = ok(&r[2]).as_str().unwrap_or_default().to_string();
    assert!(pods.contains("172.17.0.2 "), "{pods}");
    assert!(pods.contains("172.17.0.3 "), "{pods}");
    let t = ok(&r[3]);
    assert_eq!(t["verdict"], "dropped", "{t:#}");
    let end = last(t);
    assert_eq!(end["stage"], "drop");
    assert_eq!(end["rule"], "arp who-has 172.17.0.3 on docker0: no reply");
    assert!(
        end["why"].as_str().unwrap_or("").contains("same subnet"),
        "{end:#}"
    );
    // On its own node the pod is reached over docker0; docker made its pause
    // container in bridge mode, and the pod's containers join it.
    let t = ok(&r[4]);
    assert_eq!(t["verdict"], "delivered", "{t:#}");
    let veth = hops(t)
        .iter()
        .find(|h| h["stage"] == "veth" && h["interface"] == "eth0")
        .unwrap_or_else(|| panic!("no veth hop into the pod: {t:#}"));
    let why = veth["why"].as_str().unwrap_or_default();
    assert!(
        why.contains("started in docker's bridge mode, so docker gave it eth0 on docker0")
            && why.contains("docker's container mode, --net=container:PAUSE"),
        "{why}"
    );
    // Node-1 cannot reach web-a on node-2 either: web-a's address (172.17.0.2) is
    // also the client's, on node-1's own docker0, so the packet goes to the wrong pod.
    let t = ok(&r[5]);
    assert_eq!(t["verdict"], "dropped", "{t:#}");
    assert_eq!(
        t["droppedBy"],
        "pod/default/client: nothing listens on port 80"
    );
}

#[test]
fn nodeports_from_outside_are_dnated_and_masqueraded() {
    let (r, _) = run(
        "flannel-vxlan",
        "  - trace: {from: external, to: '10.0.0.2:30080'}\n  - trace: {from: 'external:198.51.100.7', to: '10.96.0.20:80'}\n",
    );
    let t = ok(&r[0]);
    assert_eq!(t["from"], "external:203.0.113.10");
    assert_eq!(t["verdict"], "delivered", "{t:#}");
    let h = hops(t);
    assert_eq!(h[0]["stage"], "wire");
    assert_eq!(h[0]["node"], "node-1");
    let dnat = h.iter().find(|x| x["target"] == "DNAT").expect("DNAT");
    assert_eq!(dnat["packet"]["dst"], "10.244.1.2");
    assert!(
        dnat["why"]
            .as_str()
            .unwrap_or("")
            .contains("KUBE-NODEPORTS"),
        "{dnat:#}"
    );
    let masq = h
        .iter()
        .find(|x| x["target"] == "MASQUERADE")
        .expect("MASQUERADE");
    assert_eq!(masq["hook"], "POSTROUTING");
    // Leaving by flannel.1, the source becomes flannel.1's address.
    assert_eq!(masq["packet"]["src"], "10.244.0.0");
    assert_eq!(last(t)["packet"]["src"], "10.244.0.0");
    // A ClusterIP means nothing outside the cluster.
    let t = ok(&r[1]);
    assert_eq!(t["verdict"], "dropped");
    assert!(t["droppedBy"].as_str().unwrap_or("").contains("10.96.0.20"));
}

#[test]
fn drops_say_by_what() {
    let (r, _) = run(
        "flannel-vxlan",
        r#"  - trace: {from: pod/default/client, to: 'svc/default/empty:80'}
  - trace: {from: pod/default/client, to: '10.244.1.2:8080'}
  - iptables-restore:
      node: node-2
      noflush: true
      rules: |
        *filter
        -I FORWARD 1 -d 10.244.1.2/32 -p tcp --dport 80 -j DROP
        COMMIT
  - trace: {from: pod/default/client, to: '10.244.1.2:80'}
  - fault: {nodeDown: node-2}
  - trace: {from: pod/default/client, to: '10.244.1.2:80'}
  - trace: {from: node/node-1, to: 'svc/default/empty:80'}
"#,
    );
    // A Service without endpoints. From a node, kube-proxy's REJECT in the filter
    // table's OUTPUT path refuses at once.
    let t = ok(&r[6]);
    assert_eq!(t["verdict"], "dropped", "{t:#}");
    let end = last(t);
    assert_eq!(end["target"], "REJECT");
    assert_eq!(end["hook"], "OUTPUT");
    assert!(
        end["rule"]
            .as_str()
            .unwrap_or("")
            .contains("has no endpoints"),
        "{end:#}"
    );
    assert!(
        t["droppedBy"]
            .as_str()
            .unwrap_or("")
            .contains("icmp-port-unreachable"),
        "{t:#}"
    );
    // From a pod the packet is forwarded, and flanneld's FLANNEL-FWD (inserted first
    // in FORWARD after kube-proxy's jumps) accepts it before kube-proxy's REJECT is
    // reached: it leaves for the gateway and is lost (a client times out), the
    // real-world interaction of kubernetes#60124 and calico#1055.
    let t = ok(&r[0]);
    assert_eq!(t["verdict"], "dropped", "{t:#}");
    let fwd = hops(t)
        .iter()
        .find(|h| h["hook"] == "FORWARD")
        .expect("a FORWARD hop");
    assert_eq!(fwd["chain"], "FLANNEL-FWD");
    assert_eq!(fwd["target"], "ACCEPT");
    assert_eq!(t["droppedBy"], "the gateway has no route to 10.96.0.30");
    // Nothing listens on 8080.
    let t = ok(&r[1]);
    assert_eq!(t["verdict"], "dropped");
    assert_eq!(last(t)["rule"], "10.244.1.2:8080: connection refused");
    assert_eq!(
        t["droppedBy"],
        "pod/default/web-a: nothing listens on port 8080"
    );
    // A person's rule on node-2 drops it in FORWARD.
    let t = ok(&r[3]);
    assert_eq!(t["verdict"], "dropped");
    let end = last(t);
    assert_eq!(end["node"], "node-2");
    assert_eq!(end["hook"], "FORWARD");
    assert_eq!(
        end["rule"],
        "-A FORWARD -d 10.244.1.2/32 -p tcp -m tcp --dport 80 -j DROP"
    );
    // A stopped node forwards nothing.
    let t = ok(&r[5]);
    assert_eq!(t["verdict"], "dropped");
    assert_eq!(t["droppedBy"], "node node-2 is down");
}

#[test]
fn host_network_pods_share_the_nodes_address() {
    let (r, _) = run(
        "flannel-vxlan",
        r#"  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {name: hostweb}
      spec:
        nodeName: node-2
        hostNetwork: true
        containers: [{name: nginx, image: nginx:1.27, ports: [{containerPort: 80}]}]
  - settle: {}
  - kubectl: get pod hostweb -o wide
  - trace: {from: pod/default/client, to: 'pod/default/hostweb:80'}
  - trace: {from: pod/default/hostweb, to: 'svc/default/web:80'}
"#,
    );
    let out = ok(&r[2]).as_str().unwrap_or_default().to_string();
    assert!(out.contains(" 10.0.0.3 "), "{out}");
    let t = ok(&r[3]);
    assert_eq!(t["verdict"], "delivered", "{t:#}");
    assert_eq!(t["to"], "pod/default/hostweb:80");
    let end = last(t);
    assert_eq!(end["netns"], "node/node-2");
    assert!(end["why"].as_str().unwrap_or("").contains("hostNetwork"));
    // From a hostNetwork pod the packet starts in the node's namespace (OUTPUT).
    let t = ok(&r[4]);
    assert_eq!(t["verdict"], "delivered", "{t:#}");
    assert_eq!(hops(t)[0]["netns"], "node/node-2");
    assert!(hops(t)
        .iter()
        .any(|h| h["hook"] == "OUTPUT" && h["target"] == "DNAT"));
}

#[test]
fn ends_that_cannot_be_resolved_are_errors() {
    let (r, _) = run(
        "flannel-vxlan",
        r#"  - trace: {from: pod/default/nobody, to: '10.96.0.20:80'}
  - trace: {from: pod/default/client, to: 'svc/default/web-headless:80'}
  - trace: {from: pod/default/client, to: 'svc/default/missing:80'}
  - trace: {from: pod/default/client, to: 'nowhere'}
  - trace: {from: pod/default/client, to: '10.96.0.20:80', proto: icmp}
  - trace: {from: node/node-9, to: '10.96.0.20:80'}
  - trace: {to: '10.96.0.20:80'}
"#,
    );
    let msg = |i: usize| r[i].error.to_string();
    assert!(r.iter().all(|x| x.output.is_null()));
    assert!(
        msg(0).contains(r#"pods \"nobody\" not found"#),
        "{}",
        msg(0)
    );
    assert!(msg(1).contains("has no cluster IP"), "{}", msg(1));
    assert!(
        msg(2).contains(r#"services \"missing\" not found"#),
        "{}",
        msg(2)
    );
    assert!(msg(3).contains("give IP:PORT"), "{}", msg(3));
    assert!(
        msg(4).contains(r#"unsupported protocol \"icmp\""#),
        "{}",
        msg(4)
    );
    assert!(
        msg(5).contains(r#"nodes \"node-9\" not found"#),
        "{}",
        msg(5)
    );
    assert!(msg(6).contains("give {from:"), "{}", msg(6));
}

#[test]
fn an_ingress_routes_by_host_and_path_to_an_endpoint() {
    // The minikube tutorial's Ingress, with a second path.
    let (r, _) = run(
        "flannel-vxlan",
        r#"  - apply: |
      apiVersion: networking.k8s.io/v1
      kind: Ingress
      metadata:
        name: example-ingress
      spec:
        ingressClassName: nginx
        rules:
          - host: hello-world.example
            http:
              paths:
                - path: /
                  pathType: Prefix
                  backend:
                    service:
                      name: web
                      port:
                        number: 80
                - path: /empty
                  pathType: Exact
                  backend:
                    service:
                      name: empty
                      port:
                        number: 80
  - settle: {}
  - kubectl: get ingress example-ingress
  - trace: {from: external, to: '10.0.0.2:80', host: hello-world.example, path: /index.html}
  - trace: {from: external, to: '10.0.0.2:80', host: hello-world.example, path: /empty}
  - trace: {from: external, to: '10.0.0.2:80', host: other.example}
"#,
    );
    let out = ok(&r[2]).as_str().unwrap_or_default().to_string();
    assert!(
        out.contains("10.0.0.2,10.0.0.3"),
        "the controller publishes the nodes: {out}"
    );
    let t = ok(&r[3]);
    assert_eq!(t["verdict"], "delivered", "{t:#}");
    assert_eq!(t["to"], "pod/default/web-a:80");
    let ing = hops(t)
        .iter()
        .find(|h| h["stage"] == "ingress")
        .expect("ingress hop");
    assert_eq!(
        ing["rule"],
        "host: hello-world.example, path: / (Prefix) -> service web:80 (ingress default/example-ingress)"
    );
    // A new connection from the node straight to the endpoint.
    assert_eq!(ing["packet"]["src"], "10.0.0.2");
    assert_eq!(ing["packet"]["dst"], "10.244.1.2");
    assert!(hops(t).iter().any(|h| h["stage"] == "encap"));
    // The Exact path's Service has no endpoints: 503.
    let t = ok(&r[4]);
    assert_eq!(t["verdict"], "dropped");
    assert!(
        t["droppedBy"].as_str().unwrap_or("").contains("503"),
        "{t:#}"
    );
    // No rule for the host: 404.
    let t = ok(&r[5]);
    assert_eq!(t["verdict"], "dropped");
    assert_eq!(
        t["droppedBy"],
        "ingress: no rule for host other.example path / (404 Not Found)"
    );
}

#[test]
fn replies_come_back_with_the_nat_undone_by_conntrack() {
    let (r, _) = run(
        "flannel-vxlan",
        "  - trace: {from: pod/default/client, to: 'svc/default/web:80'}\n  - trace: {from: external, to: '10.0.0.2:30080'}\n  - trace: {from: pod/default/client, to: '10.244.1.2:8080'}\n",
    );
    // The client sees the answer come from the ClusterIP it called.
    let t = ok(&r[0]);
    let reply = &t["reply"];
    assert_eq!(reply["verdict"], "delivered", "{reply:#}");
    assert_eq!(reply["to"], "pod/default/client:40000");
    let hs = reply["hops"].as_array().expect("reply hops");
    assert_eq!(hs[0]["netns"], "pod/default/web-a");
    assert_eq!(hs[0]["packet"]["src"], "10.244.1.2");
    assert_eq!(hs[0]["packet"]["dst"], "10.244.0.2");
    let undo = hs
        .iter()
        .find(|h| h["stage"] == "conntrack")
        .expect("a conntrack hop");
    assert!(
        undo["rule"]
            .as_str()
            .unwrap_or("")
            .contains("ESTABLISHED (reply direction)"),
        "{undo:#}"
    );
    let end = hs.last().expect("a hop");
    assert_eq!(end["stage"], "deliver");
    assert_eq!(end["netns"], "pod/default/client");
    assert_eq!(end["packet"]["src"], "10.96.0.20");
    assert_eq!(end["packet"]["sport"], 80);
    // From outside: the reply leaves node-1 from the NodePort address and port.
    let t = ok(&r[1]);
    let reply = &t["reply"];
    assert_eq!(reply["verdict"], "delivered", "{reply:#}");
    let end = reply["hops"]
        .as_array()
        .and_then(|h| h.last())
        .expect("a hop");
    assert_eq!(end["stage"], "wire");
    assert_eq!(end["node"], "node-1");
    assert_eq!(end["packet"]["src"], "10.0.0.2");
    assert_eq!(end["packet"]["sport"], 30080);
    assert_eq!(end["packet"]["dst"], "203.0.113.10");
    // Nothing answered: no reply.
    assert!(ok(&r[2]).get("reply").is_none());
}

#[test]
fn the_legacy_userspace_proxy_accepts_and_connects_again() {
    let (r, _) = run_in(
        "{plugin: flannel-vxlan, proxyMode: userspace}",
        "  - trace: {from: pod/default/client, to: 'svc/default/web:80'}\n  - trace: {from: pod/default/client, to: 'svc/default/empty:80'}\n",
    );
    let t = ok(&r[0]);
    assert_eq!(t["verdict"], "delivered", "{t:#}");
    assert_eq!(t["to"], "pod/default/web-a:80");
    let h = hops(t);
    // The portal REDIRECTs the packet to kube-proxy's port on the bridge address.
    let redirect = h
        .iter()
        .find(|x| x["target"] == "REDIRECT")
        .expect("a REDIRECT hop");
    assert_eq!(redirect["chain"], "KUBE-PORTALS-CONTAINER");
    assert_eq!(redirect["packet"]["dst"], "10.244.0.1");
    let port = redirect["packet"]["dport"].as_u64().unwrap_or(0);
    let proxy = h
        .iter()
        .find(|x| x["stage"] == "proxy")
        .expect("a proxy hop");
    assert_eq!(
        proxy["rule"],
        format!("kube-proxy (userspace, legacy) :{port} for default/web:http")
    );
    // A second connection, from the node to the endpoint.
    assert_eq!(proxy["packet"]["dst"], "10.244.1.2");
    assert_eq!(proxy["packet"]["dport"], 80);
    assert!(
        proxy["why"].as_str().unwrap_or("").contains("round robin"),
        "{proxy:#}"
    );
    // Without endpoints kube-proxy closes the connection.
    let t = ok(&r[1]);
    assert_eq!(t["verdict"], "dropped", "{t:#}");
    assert_eq!(
        t["droppedBy"],
        "kube-proxy closes the connection: default/empty has no endpoints"
    );
}

#[test]
fn the_plugins_own_rules_masquerade_traffic_leaving_the_cluster() {
    let (r, _) = run(
        "flannel-vxlan",
        "  - iptables-save: node-2\n  - trace: {from: pod/default/client, to: '93.184.216.34:443'}\n",
    );
    let saved = ok(&r[0]).as_str().unwrap_or_default().to_string();
    for line in [
        "-A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG",
        "-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment \"flanneld masq\" -j RETURN",
        "-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT",
    ] {
        assert!(saved.contains(line), "missing {line}\n{saved}");
    }
    let t = ok(&r[1]);
    assert_eq!(t["verdict"], "delivered", "{t:#}");
    assert_eq!(t["to"], "external:93.184.216.34:443");
    let masq = hops(t)
        .iter()
        .find(|h| h["target"] == "MASQUERADE")
        .expect("masquerade");
    assert_eq!(masq["chain"], "FLANNEL-POSTRTG");
    assert_eq!(last(t)["packet"]["src"], "10.0.0.2");
    // Plain docker and kubenet write their own.
    let (r, _) = run("docker-bridge", "  - iptables-save: node-1\n");
    let saved = ok(&r[0]).as_str().unwrap_or_default().to_string();
    assert!(
        saved.contains("-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"),
        "{saved}"
    );
    assert!(
        saved.contains("-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP"),
        "{saved}"
    );
    let (r, _) = run("direct-routing", "  - iptables-save: node-1\n");
    let saved = ok(&r[0]).as_str().unwrap_or_default().to_string();
    assert!(saved.contains("-A POSTROUTING ! -d 10.244.0.0/16 -m comment --comment \"kubenet: SNAT for outbound traffic from cluster\" -m addrtype ! --dst-type LOCAL -j MASQUERADE"), "{saved}");
}

/// A pod looks names up through the resolv.conf the kubelet writes for its
/// dnsPolicy: with ClusterFirst, the search list of its namespace and ndots:5, so
/// `web` means the Service in its own namespace and `web.default` the one in
/// `default`; a hostNetwork pod uses the node's resolver unless its dnsPolicy is
/// ClusterFirstWithHostNet.
#[test]
fn pods_resolve_short_names_through_their_search_list() {
    let (r, _) = run(
        "flannel-vxlan",
        r#"  - kubectl: create namespace shop
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {name: buyer, namespace: shop}
      spec:
        nodeName: node-1
        containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: hostpod}
      spec:
        nodeName: node-1
        hostNetwork: true
        containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: hostpod-dns}
      spec:
        nodeName: node-2
        hostNetwork: true
        dnsPolicy: ClusterFirstWithHostNet
        containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
  - settle: {}
  - trace: {from: pod/default/client, to: 'web:http'}
  - trace: {from: pod/shop/buyer, to: 'web:80'}
  - trace: {from: pod/shop/buyer, to: 'web.default:80'}
  - trace: {from: pod/default/hostpod, to: 'web:80'}
  - trace: {from: pod/default/hostpod-dns, to: 'web:80'}
  - trace: {from: node/node-1, to: 'web.default:80'}
"#,
    );
    for x in &r[..3] {
        assert!(x.error.is_null(), "{}", x.error);
    }
    // `web` from default: the first search domain answers.
    let t = ok(&r[3]);
    assert_web_answered(t, "the pod's resolv.conf (nameserver: the cluster DNS; search default.svc.cluster.local svc.cluster.local cluster.local; options ndots:5); the cluster DNS answers");
    assert_eq!(t["verdict"], "delivered");
    // `web` from shop: no such Service there, nor anywhere the list leads.
    assert_eq!(
        r[4].error["message"],
        "trace: web: NXDOMAIN (tried web.shop.svc.cluster.local, web.svc.cluster.local, web.cluster.local, web)"
    );
    // `web.default` from shop: the first name misses, the second answers.
    assert_web_answered(
        ok(&r[5]),
        "options ndots:5): web.default.shop.svc.cluster.local: NXDOMAIN; ",
    );
    // A hostNetwork pod with the default dnsPolicy uses the node's resolver.
    assert_eq!(
        r[6].error["message"],
        "trace: web: cannot resolve: the pod uses the node's resolv.conf (dnsPolicy ClusterFirst on a hostNetwork pod falls back to Default), which does not point at the cluster DNS"
    );
    assert_eq!(ok(&r[7])["verdict"], "delivered");
    // From a node, the name is completed to the cluster domain.
    assert_web_answered(ok(&r[8]), "");
}

/// The trace's first hop is the DNS answer for Service `web` in `default`, and its
/// reason contains `why`.
fn assert_web_answered(t: &Value, why: &str) {
    let dns = &hops(t)[0];
    assert_eq!(dns["stage"], "dns");
    assert_eq!(
        dns["rule"],
        "web.default.svc.cluster.local. 30 IN A 10.96.0.20"
    );
    assert!(
        dns["why"].as_str().unwrap_or_default().contains(why),
        "{}",
        dns["why"]
    );
}

/// flanneld checks its rules every 5 seconds (`--iptables-resync`): a rule a person
/// deleted comes back, with its jumps first again, and the trace says why; while
/// they are all there it does nothing. kubenet's rule, written once, stays deleted.
#[test]
fn flanneld_writes_its_rules_again_when_one_is_missing() {
    let (r, runner) = run(
        "flannel-vxlan",
        r#"  - iptables-save: node-1
  - iptables-restore:
      node: node-1
      noflush: true
      rules: "*nat\n-D POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG\n-I POSTROUTING 1 -s 10.9.9.9 -j RETURN\nCOMMIT\n*filter\n-D FLANNEL-FWD 2\nCOMMIT\n"
  - iptables-save: node-1
  - advance: 5s
  - iptables-save: node-1
  - advance: 30s
"#,
    );
    let rules = |i: usize| -> Vec<String> {
        ok(&r[i])
            .as_str()
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with('-'))
            .map(String::from)
            .collect()
    };
    let jump = "-A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG";
    let fwd = "-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT";
    let mine = "-A POSTROUTING -s 10.9.9.9/32 -j RETURN";
    let before = rules(0);
    assert!(before.iter().any(|l| l == jump) && before.iter().any(|l| l == fwd));
    let cut = rules(2);
    assert!(
        !cut.iter().any(|l| l == jump) && !cut.iter().any(|l| l == fwd),
        "{cut:#?}"
    );
    // Five seconds later flanneld has put them back: its jump first in POSTROUTING,
    // before the person's own rule, which it leaves alone.
    let back = rules(4);
    let postrouting: Vec<&String> = back
        .iter()
        .filter(|l| l.starts_with("-A POSTROUTING"))
        .collect();
    assert_eq!(
        postrouting.first().map(|l| l.as_str()),
        Some(jump),
        "{back:#?}"
    );
    assert!(back.iter().any(|l| l == mine), "{back:#?}");
    assert!(back.iter().any(|l| l == fwd), "{back:#?}");
    assert_eq!(
        back.iter().filter(|l| *l == jump).count(),
        1,
        "one jump, not two: {back:#?}"
    );
    // Once, with its reason; then quiet.
    let repairs: Vec<String> = runner
        .cluster
        .k
        .trace
        .entries()
        .filter(|e| e.action.starts_with("Some iptables rules are missing"))
        .map(|e| format!("{} {}", e.actor, e.reason))
        .collect();
    assert_eq!(repairs.len(), 1, "{repairs:#?}");
    assert!(
        repairs[0].starts_with("flanneld/node-1 flanneld checks its rules every 5s (--iptables-resync): 2 of its 9 rule(s) are gone"),
        "{repairs:#?}"
    );

    // kubenet writes its rule once: deleted, it stays deleted.
    let (r, _) = run(
        "direct-routing",
        r#"  - iptables-restore:
      node: node-1
      noflush: true
      rules: "*nat\n-F POSTROUTING\nCOMMIT\n"
  - advance: 30s
  - iptables-save: node-1
"#,
    );
    let saved = ok(&r[2]).as_str().unwrap_or_default().to_string();
    assert!(!saved.contains("kubenet: SNAT"), "{saved}");
}
