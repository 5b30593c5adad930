//! The network view through the worker host: the view lists the trace's ends and a
//! node's iptables chains as kube-proxy wrote them; a packet trace is a query (it
//! is answered and changes nothing, nothing is logged); the iptables-restore
//! editor's action is the `iptables-restore` step, logged, with a parse error's
//! line and column, and a restarted session replays it to the same rules.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use std::cell::Cell;

use kubeglass::host::Session;
use kubeglass::protocol::{
    ActResult, FromWorker, InputsLog, IptablesView, NetworkView, PacketTraceView, PersonAction,
    Query, Reply, Source, Speed, Stamp, ToWorker, LOG_VERSION,
};

const SCENARIO: &str = r#"
apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {name: netpage}
spec:
  seed: 5
  cluster:
    nodes:
    - metadata: {name: node-1}
    - metadata: {name: node-2}
  steps:
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {name: web-1, labels: {app: web}}
      spec:
        nodeName: node-2
        containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 8080}]}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: web}
      spec:
        selector: {app: web}
        clusterIP: 10.96.0.20
        ports: [{name: http, port: 80, targetPort: 8080}]
"#;

const RULE: &str = "-A FORWARD -d 10.244.1.0/24 -p tcp -m tcp --dport 8080 -j DROP";

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

fn network(s: &mut Session, clock: &dyn Fn() -> f64, node: &str) -> NetworkView {
    match ask(
        s,
        clock,
        90,
        Query::Network {
            node: node.into(),
            lit: vec![],
        },
    ) {
        Reply::Network(v) => *v,
        other => panic!("not a network view: {other:?}"),
    }
}

fn restore(s: &mut Session, clock: &dyn Fn() -> f64, id: u64, rules: &str) -> ActResult {
    s.handle(
        ToWorker::Act {
            id,
            action: PersonAction::IptablesRestore {
                node: "node-1".into(),
                rules: rules.into(),
                noflush: true,
            },
            fork_at: None,
        },
        clock,
    )
    .into_iter()
    .find_map(|m| match m {
        FromWorker::Reply {
            id: got,
            reply: Reply::Acted { source, result },
        } if got == id => {
            assert_eq!(
                source,
                Source::Network,
                "the reply goes to the network view"
            );
            Some(result)
        }
        _ => None,
    })
    .expect("an action is answered")
}

fn chain<'a>(v: &'a IptablesView, table: &str, chain: &str) -> &'a kubeglass::protocol::ChainView {
    v.tables
        .iter()
        .find(|t| t.name == table)
        .and_then(|t| t.chains.iter().find(|c| c.name == chain))
        .unwrap_or_else(|| panic!("no chain {table}/{chain}"))
}

fn rule_texts(v: &IptablesView, table: &str, name: &str) -> Vec<String> {
    chain(v, table, name)
        .rules
        .iter()
        .map(|r| r.text.clone())
        .collect()
}

#[test]
fn the_network_view_lists_ends_and_a_nodes_chains() {
    let wall = Wall(Cell::new(0.0));
    let clock = || wall.read();
    let mut s = Session::new();
    s.handle(
        ToWorker::Start {
            log: Some(log_of(SCENARIO)),
        },
        &clock,
    );
    play_to(&mut s, &clock, 20);
    let v = network(&mut s, &clock, "");
    assert_eq!(v.node, "node-1", "the first node with rules");
    assert_eq!(
        v.nodes,
        vec![("node-1".to_string(), true), ("node-2".to_string(), true)]
    );
    assert!(
        v.ends.contains(&"pod/default/web-1".to_string()),
        "{:?}",
        v.ends
    );
    assert!(v.ends.contains(&"node/node-2".to_string()));
    assert_eq!(v.ends.last().map(String::as_str), Some("external"));
    assert!(v.services.contains(&"svc/default/web:80".to_string()));
    assert!(v
        .services
        .contains(&"svc/default/kubernetes:443".to_string()));
    let ipt = v.iptables.expect("node-1 has rules");
    // Tables in iptables-save's order, built-in chains first with their policies.
    let names: Vec<&str> = ipt.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["mangle", "raw", "filter", "nat"]);
    let pre = chain(&ipt, "nat", "PREROUTING");
    assert_eq!(pre.policy, "ACCEPT");
    let jump = pre
        .rules
        .iter()
        .find(|r| r.jump == "KUBE-SERVICES")
        .expect("kube-proxy's jump from PREROUTING");
    assert_eq!(jump.number, 1);
    assert!(jump.text.starts_with("-A PREROUTING "), "{}", jump.text);
    let services = chain(&ipt, "nat", "KUBE-SERVICES");
    assert_eq!(services.policy, "", "a user chain has no policy");
    assert!(
        services
            .rules
            .iter()
            .any(|r| r.text.contains("10.96.0.20/32") && r.jump.starts_with("KUBE-SVC-")),
        "{:?}",
        services.rules
    );
    assert_eq!(
        ipt.rules as usize,
        ipt.tables
            .iter()
            .flat_map(|t| &t.chains)
            .map(|c| c.rules.len() + c.more as usize)
            .sum::<usize>()
    );
    // A node that is not there says so.
    let v = network(&mut s, &clock, "node-9");
    assert!(v.iptables.is_none());
    assert!(v.missing.contains("node-9"), "{}", v.missing);
}

#[test]
fn a_trace_is_a_query_and_a_restore_is_logged_and_replayed() {
    let wall = Wall(Cell::new(0.0));
    let clock = || wall.read();
    let mut s = Session::new();
    s.handle(
        ToWorker::Start {
            log: Some(log_of(SCENARIO)),
        },
        &clock,
    );
    play_to(&mut s, &clock, 20);
    let stamp = s.sim().stamp();

    // The trace: answered at once, with what was asked, and nothing logged or run.
    let t: PacketTraceView = match ask(
        &mut s,
        &clock,
        1,
        Query::PacketTrace {
            from: "pod/default/web-1".into(),
            to: "svc/default/web:80".into(),
            proto: "tcp".into(),
            host: String::new(),
            path: String::new(),
        },
    ) {
        Reply::PacketTrace(t) => *t,
        other => panic!("not a trace: {other:?}"),
    };
    assert_eq!(
        t.asked,
        (
            "pod/default/web-1".to_string(),
            "svc/default/web:80".to_string(),
            "tcp".to_string()
        )
    );
    assert!(
        !t.error.is_empty() || !t.hops.is_empty(),
        "an error or a path: {t:?}"
    );
    assert_eq!(s.sim().stamp(), stamp, "a trace changes nothing");
    assert!(s.log().inputs.is_empty(), "a trace is not logged");

    // A bad restore: iptables-restore's error with its line and column, nothing applied.
    let r = restore(
        &mut s,
        &clock,
        2,
        "*filter\n-A FORWARD -p tcp --dport 8080 -j NOPE\nCOMMIT\n",
    );
    assert!(!r.ok, "{r:?}");
    assert_eq!(r.command, "iptables-restore --noflush  # on node-1");
    assert!(
        r.stderr.contains("line 2") || r.stderr.contains("line: 2"),
        "{}",
        r.stderr
    );
    assert_eq!(r.position.map(|p| p.0), Some(2), "{r:?}");
    let before = network(&mut s, &clock, "node-1").iptables.unwrap();
    assert!(!rule_texts(&before, "filter", "FORWARD").contains(&RULE.to_string()));

    // A good one: in the tables, in the log.
    let r = restore(
        &mut s,
        &clock,
        3,
        "*filter\n-I FORWARD 1 -d 10.244.1.0/24 -p tcp --dport 8080 -j DROP\nCOMMIT\n",
    );
    assert!(r.ok, "{r:?}");
    let after = network(&mut s, &clock, "node-1").iptables.unwrap();
    let forward = rule_texts(&after, "filter", "FORWARD");
    assert_eq!(
        forward.first().map(String::as_str),
        Some(RULE),
        "{forward:?}"
    );
    assert!(
        forward.iter().any(|r| r.contains("KUBE-FORWARD")),
        "--noflush keeps kube-proxy's rules: {forward:?}"
    );
    let log = s.log().clone();
    assert_eq!(log.inputs.len(), 2, "both restores are logged");
    assert!(matches!(
        &log.inputs[1].action,
        PersonAction::IptablesRestore { node, noflush: true, .. } if node == "node-1"
    ));

    // A fresh session replays the log to the same rules.
    let mut fresh = Session::new();
    fresh.handle(ToWorker::Start { log: Some(log) }, &clock);
    let mut guard = 0;
    while fresh.rebuilding() {
        fresh.tick(&clock);
        guard += 1;
        assert!(guard < 100_000, "the replay got stuck");
    }
    assert_eq!(fresh.sim().stamp(), s.sim().stamp());
    let replayed = network(&mut fresh, &clock, "node-1").iptables.unwrap();
    assert_eq!(replayed, after, "the same rules after a replay");
}

#[test]
fn the_network_messages_survive_the_codec() {
    use kubeglass::protocol::{decode, encode};
    let trace = kubeglass::host::net::trace_view(
        "pod/default/client",
        "10.96.0.10:53",
        "udp",
        Ok(serde_json::json!({
            "verdict": "dropped", "from": "pod/default/client", "to": "10.96.0.10:53", "proto": "udp",
            "hops": [{"node": "node-1", "stage": "netfilter", "notMatched": 3,
                      "packet": {"src": "10.244.1.5", "dst": "10.96.0.10", "sport": 40000, "dport": 53},
                      "outer": {"vni": 1}}]
        })),
    );
    let msg = FromWorker::Reply {
        id: 7,
        reply: Reply::PacketTrace(Box::new(trace.clone())),
    };
    assert_eq!(decode::<FromWorker>(&encode(&msg)).unwrap(), msg);
    assert_eq!(trace.hops[0].not_matched, Some(3));
    let msg = ToWorker::Act {
        id: 8,
        action: PersonAction::IptablesRestore {
            node: "node-1".into(),
            rules: "*filter\nCOMMIT\n".into(),
            noflush: false,
        },
        fork_at: None,
    };
    assert_eq!(decode::<ToWorker>(&encode(&msg)).unwrap(), msg);
    let msg = ToWorker::Query {
        id: 9,
        query: Query::Network {
            node: "node-1".into(),
            lit: vec!["nat -A KUBE-SERVICES -j X".into()],
        },
    };
    assert_eq!(decode::<ToWorker>(&encode(&msg)).unwrap(), msg);
}
