//! The network page's second part through the worker host: a node's topology (its
//! root namespace's interfaces and `ip route`, its pods' namespaces joined by veth
//! pairs, hostNetwork pods in the node's own, the other nodes and the way to their
//! pods) as each plug-in builds it; a trace's reply read into typed hops; and the
//! plug-in comparison, which replays the session's logged inputs into fresh
//! clusters that differ only in `spec.cluster.network.plugin` and traces the same
//! packet in each (a query: nothing logged, nothing changed).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use std::cell::Cell;

use kubeglass::host::Session;
use kubeglass::protocol::{
    FromWorker, Input, InputsLog, NetCompareView, PacketTraceView, PersonAction, PluginRunView,
    Query, Reply, Speed, Stamp, ToWorker, TopologyView, LOG_VERSION,
};

fn scenario(plugin: &str) -> String {
    format!(
        r#"
apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {{name: netpage2}}
spec:
  seed: 7
  cluster:
    network: {{plugin: {plugin}}}
    nodes:
    - metadata: {{name: node-1}}
    - metadata: {{name: node-2}}
  steps:
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {{name: client}}
      spec:
        nodeName: node-1
        containers: [{{name: c, image: "busybox:1.36"}}]
      ---
      apiVersion: v1
      kind: Pod
      metadata: {{name: agent}}
      spec:
        nodeName: node-1
        hostNetwork: true
        containers: [{{name: a, image: "busybox:1.36"}}]
"#
    )
}

/// A pod the person adds (an input of the log, which the comparison replays).
const WEB: &str = r#"apiVersion: v1
kind: Pod
metadata: {name: web-2, labels: {app: web}}
spec:
  nodeName: node-2
  containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}]
"#;

struct Wall(Cell<f64>);

impl Wall {
    fn read(&self) -> f64 {
        self.0.set(self.0.get() + 0.5);
        self.0.get()
    }
}

fn log_of(text: &str) -> InputsLog {
    InputsLog {
        version: LOG_VERSION,
        scenario: String::new(),
        scenario_text: text.into(),
        inputs: Vec::new(),
        head: Stamp::default(),
    }
}

fn play_to(s: &mut Session, clock: &dyn Fn() -> f64, secs: u64) {
    s.handle(
        ToWorker::Play {
            speed: Speed::Times(1000.0),
        },
        clock,
    );
    let mut guard = 0;
    while s.sim().now() < secs * 1_000_000_000 {
        s.tick(clock);
        guard += 1;
        assert!(guard < 100_000, "play got stuck at {}", s.sim().now());
    }
    s.handle(ToWorker::Pause, clock);
}

fn ask(s: &mut Session, clock: &dyn Fn() -> f64, id: u64, query: Query) -> Reply {
    s.handle(ToWorker::Query { id, query }, clock)
        .into_iter()
        .find_map(|m| match m {
            FromWorker::Reply { id: got, reply } if got == id => Some(reply),
            _ => None,
        })
        .expect("a query is answered at once")
}

/// A session of the scenario under `plugin`, with web-2 applied by a person, played
/// to 30 s.
fn session(plugin: &str, clock: &dyn Fn() -> f64) -> Session {
    let mut s = Session::new();
    s.handle(
        ToWorker::Start {
            log: Some(log_of(&scenario(plugin))),
        },
        clock,
    );
    play_to(&mut s, clock, 5);
    let out = s.handle(
        ToWorker::Act {
            id: 1,
            action: PersonAction::Apply { text: WEB.into() },
            fork_at: None,
        },
        clock,
    );
    assert!(
        out.iter().any(|m| matches!(m, FromWorker::Reply { reply: Reply::Acted { result, .. }, .. } if result.ok)),
        "{out:?}"
    );
    play_to(&mut s, clock, 30);
    s
}

fn topology(s: &mut Session, clock: &dyn Fn() -> f64, node: &str) -> TopologyView {
    match ask(s, clock, 50, Query::Topology { node: node.into() }) {
        Reply::Topology(v) => *v,
        other => panic!("not a topology: {other:?}"),
    }
}

#[test]
fn a_nodes_topology_shows_its_namespaces_veths_and_routes() {
    let wall = Wall(Cell::new(0.0));
    let clock = || wall.read();
    let mut s = session("flannel-vxlan", &clock);
    let v = topology(&mut s, &clock, "");
    assert_eq!(v.plugin, "flannel-vxlan");
    assert_eq!(v.nodes, ["node-1", "node-2"]);
    assert_eq!(v.node, "node-1", "the first node when none is asked");
    let root = v.root.as_ref().expect("node-1's root namespace");
    assert!(root.up);
    let names: Vec<&str> = root.ifaces.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["eth0", "cni0", "flannel.1"]);
    let cidr = root.pod_cidr.clone();
    let net = cidr.trim_end_matches(".0/24");
    assert!(cidr.ends_with(".0/24"), "{cidr}");
    // The bridge holds the pods' gateway (.1), flannel.1 the network address /32.
    assert_eq!(root.ifaces[1].addr, format!("{net}.1/24"));
    assert_eq!(root.ifaces[2].addr, format!("{net}.0/32"));
    assert!(root.ifaces[0].addr.ends_with("/24"));
    let node_ip = root.ifaces[0].addr.trim_end_matches("/24").to_string();
    assert!(
        root.routes
            .iter()
            .any(|r| r == &format!("{cidr} dev cni0 proto kernel scope link src {net}.1")),
        "{:?}",
        root.routes
    );
    assert!(
        root.routes[0].starts_with("default via "),
        "{:?}",
        root.routes
    );
    // Pods by name: agent shares the node's namespace, client has a veth on cni0.
    let pods: Vec<&str> = v.pods.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(pods, ["agent", "client"]);
    let agent = &v.pods[0];
    assert!(agent.host_network);
    assert_eq!(
        agent.ip, node_ip,
        "a hostNetwork pod has the node's address"
    );
    assert!(agent.veth.is_empty() && agent.routes.is_empty());
    let client = &v.pods[1];
    assert!(!client.host_network);
    assert_eq!(
        client.veth,
        kubeglass::network::fabric::veth_name("default", "client")
    );
    assert!(client.veth.starts_with("veth") && client.veth.len() == 12);
    assert!(client.ip.starts_with(&format!("{net}.")), "{}", client.ip);
    assert_eq!(client.routes[0], format!("default via {net}.1 dev eth0"));
    assert_eq!(v.more_pods, 0);
    // node-2 through flannel.1: its network's address as the gateway, onlink.
    assert_eq!(v.peers.len(), 1);
    let peer = &v.peers[0];
    assert_eq!(peer.node, "node-2");
    let pnet = peer.pod_cidr.trim_end_matches(".0/24");
    assert_eq!(
        peer.route,
        format!("{} via {pnet}.0 dev flannel.1 onlink", peer.pod_cidr)
    );
    // node-2 has web-2 (added by the person) on its bridge.
    let v2 = topology(&mut s, &clock, "node-2");
    assert_eq!(v2.pods.len(), 1);
    assert_eq!(v2.pods[0].name, "web-2");
    // A node that is not there says so.
    let none = topology(&mut s, &clock, "node-9");
    assert!(none.root.is_none());
    assert!(none.missing.contains("node-9"), "{}", none.missing);
}

#[test]
fn ovs_and_host_gw_topologies_differ_in_their_devices_and_routes() {
    let wall = Wall(Cell::new(0.0));
    let clock = || wall.read();
    let mut s = session("ovs", &clock);
    let v = topology(&mut s, &clock, "node-1");
    let root = v.root.as_ref().expect("root");
    let kinds: Vec<(&str, &str)> = root
        .ifaces
        .iter()
        .map(|i| (i.name.as_str(), i.kind.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("eth0", "nic"),
            ("br0", "ovs"),
            ("tun0", "internal"),
            ("vxlan0", "vxlan-port")
        ]
    );
    assert!(root.ifaces[2].addr.ends_with(".1/24"));
    // The whole cluster network through tun0; node-2's pods by an OVS flow.
    assert!(
        root.routes
            .iter()
            .any(|r| r.starts_with("10.244.0.0/16 dev tun0")),
        "{:?}",
        root.routes
    );
    assert!(
        v.peers[0].route.contains("output:vxlan0"),
        "{}",
        v.peers[0].route
    );
    assert!(v.peers[0].route.contains("4789"));

    let mut s = session("flannel-host-gw", &clock);
    let v = topology(&mut s, &clock, "node-1");
    let root = v.root.as_ref().expect("root");
    let names: Vec<&str> = root.ifaces.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["eth0", "cni0"], "host-gw has no tunnel device");
    let peer = &v.peers[0];
    assert_eq!(
        peer.route,
        format!("{} via {} dev eth0", peer.pod_cidr, peer.ip)
    );
}

fn run<'a>(v: &'a NetCompareView, plugin: &str) -> &'a PluginRunView {
    v.runs
        .iter()
        .find(|r| r.plugin == plugin)
        .unwrap_or_else(|| panic!("no run for {plugin}: {v:?}"))
}

#[test]
fn the_comparison_replays_the_inputs_under_each_plugin() {
    let wall = Wall(Cell::new(0.0));
    let clock = || wall.read();
    let mut s = session("flannel-vxlan", &clock);
    let stamp = s.sim().stamp();
    let inputs = s.log().inputs.len();
    let v = match ask(
        &mut s,
        &clock,
        60,
        Query::NetCompare {
            from: "pod/default/client".into(),
            to: "pod/default/web-2:80".into(),
            proto: "tcp".into(),
            host: String::new(),
            path: String::new(),
        },
    ) {
        Reply::NetCompare(v) => *v,
        other => panic!("not a comparison: {other:?}"),
    };
    assert_eq!(v.error, "");
    assert_eq!(v.current, "flannel-vxlan");
    let plugins: Vec<&str> = v.runs.iter().map(|r| r.plugin.as_str()).collect();
    assert_eq!(
        plugins,
        ["flannel-vxlan", "flannel-host-gw", "ovs", "direct-routing"]
    );
    // web-2 exists only through the person's input: each replay has it.
    for r in &v.runs {
        assert_eq!(r.error, "", "{}: {}", r.plugin, r.error);
        assert_eq!(r.verdict, "delivered", "{r:?}");
        assert_eq!(r.reply, "delivered", "{r:?}");
        assert_eq!(r.hops as usize, r.stages.len());
        assert_eq!(r.stages.last().map(String::as_str), Some("deliver"));
        assert_eq!(
            r.netfilter as usize,
            r.stages.iter().filter(|s| *s == "netfilter").count()
        );
    }
    // Node addresses from node-2's topology (the same in every replay).
    let node2 = topology(&mut s, &clock, "node-2");
    let node2_ip = node2.root.expect("root").ifaces[0]
        .addr
        .trim_end_matches("/24")
        .to_string();
    let vx = run(&v, "flannel-vxlan");
    assert!(vx.stages.iter().any(|s| s == "encap"), "{vx:?}");
    assert!(
        vx.inter_node
            .iter()
            .any(|l| l.starts_with("encap ") && l.contains(&format!("{node2_ip}:8472"))),
        "{vx:?}"
    );
    assert!(
        vx.netfilter > 0,
        "flannel's packets pass the host's iptables"
    );
    let ovs = run(&v, "ovs");
    assert!(ovs.stages.iter().any(|s| s == "ovs"), "{ovs:?}");
    assert_eq!(ovs.netfilter, 0, "OVS switches pod-to-pod packets itself");
    assert!(
        ovs.inter_node.iter().any(|l| l.contains(":4789")),
        "{ovs:?}"
    );
    for p in ["flannel-host-gw", "direct-routing"] {
        let r = run(&v, p);
        assert!(!r.stages.iter().any(|s| s == "encap"), "{r:?}");
        assert!(
            r.inter_node
                .iter()
                .any(|l| l.starts_with("route ") && l.contains(&format!("via {node2_ip} dev eth0"))),
            "{p}: {r:?}"
        );
    }
    // A query: nothing logged, nothing run.
    assert_eq!(s.sim().stamp(), stamp);
    assert_eq!(s.log().inputs.len(), inputs);
}

#[test]
fn a_session_too_big_to_replay_is_refused_and_a_reply_is_read() {
    let wall = Wall(Cell::new(0.0));
    let clock = || wall.read();
    let mut s = session("flannel-vxlan", &clock);
    let mut log = s.log().clone();
    let input = Input {
        at: Stamp::default(),
        action: PersonAction::Kubectl {
            line: "kubectl get pods".into(),
        },
    };
    log.inputs = vec![input; kubeglass::host::net::COMPARE_MAX_INPUTS + 1];
    let v = kubeglass::host::net::net_compare(
        s.sim(),
        &log,
        ["pod/default/client", "pod/default/web-2:80", "tcp", "", ""],
    );
    assert!(v.runs.is_empty());
    assert!(v.error.contains("too big"), "{}", v.error);
    assert!(v.error.contains("301 inputs (at most 300)"), "{}", v.error);

    // The trace panel's data: the way out, then the reply back to the client.
    let t: PacketTraceView = match ask(
        &mut s,
        &clock,
        61,
        Query::PacketTrace {
            from: "pod/default/client".into(),
            to: "pod/default/web-2:80".into(),
            proto: String::new(),
            host: "shop.example".into(),
            path: "/cart".into(),
        },
    ) {
        Reply::PacketTrace(t) => *t,
        other => panic!("not a trace: {other:?}"),
    };
    assert_eq!(t.error, "");
    assert_eq!(
        (t.host.as_str(), t.path.as_str()),
        ("shop.example", "/cart")
    );
    assert_eq!(t.verdict, "delivered");
    let reply = t.reply.as_ref().expect("a delivered packet is answered");
    assert_eq!(reply.verdict, "delivered");
    assert!(reply.to.starts_with("pod/default/client"), "{}", reply.to);
    assert!(!reply.hops.is_empty());
    assert_eq!(reply.hops[0].netns, "pod/default/web-2");
    assert!(
        t.extra.iter().all(|(k, _)| k != "reply"),
        "the reply is read, not left as text"
    );
}
