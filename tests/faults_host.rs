//! The inspector's fault and node buttons through the worker host: each action is
//! taken as the `fault` step or the kubectl command it stands for, its result says
//! what changed (or kubectl's error), it is recorded in the inputs log, and a replay
//! of the log (directly, and in a restarted session) rebuilds the same trace.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use std::cell::Cell;

use kubeglass::api::object::{NODES, PODS};
use kubeglass::host::sim::Replay;
use kubeglass::host::{Session, Sim};
use kubeglass::kernel::TraceDetail;
use kubeglass::protocol::{
    decode, encode, ActResult, Fault, FromWorker, InputsLog, ObjKey, PersonAction, Query, Reply,
    Source, Speed, Stamp, ToWorker, LOG_VERSION,
};

const SCENARIO: &str = r#"
apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {name: faults}
spec:
  seed: 3
  cluster:
    nodes:
    - metadata: {name: node-1}
    - metadata: {name: node-2}
  steps:
  - apply: |
      apiVersion: v1
      kind: List
      items:
      - apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          nodeName: node-1
          containers:
          - {name: web, image: "nginx:1.27"}
          - {name: sidecar, image: "busybox:1.36", command: ["sleep", "3600"]}
      - apiVersion: v1
        kind: Pod
        metadata: {name: solo}
        spec:
          nodeName: node-2
          containers: [{name: job, image: "busybox:1.36", command: ["sleep", "3600"]}]
"#;

/// A fake wall clock: every reading is half a millisecond later.
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

/// Plays (fast) until virtual time reaches `secs` seconds, then pauses.
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

/// Takes a fault action and returns its result (and where the reply went).
fn act(s: &mut Session, clock: &dyn Fn() -> f64, id: u64, f: Fault) -> ActResult {
    let out = s.handle(
        ToWorker::Act {
            id,
            action: PersonAction::Fault(f),
            fork_at: None,
        },
        clock,
    );
    out.into_iter()
        .find_map(|m| match m {
            FromWorker::Reply {
                id: got,
                reply: Reply::Acted { source, result },
            } if got == id => {
                assert_eq!(source, Source::Inspector, "the reply goes to the inspector");
                Some(result)
            }
            _ => None,
        })
        .expect("an action is answered")
}

fn replay_log(log: &InputsLog) -> Sim {
    let mut sim = Sim::new(&log.scenario_text).unwrap();
    let mut next = 0;
    let r = sim
        .replay(&log.inputs, &mut next, log.head, &mut || false)
        .unwrap();
    assert_eq!(r, Replay::Done);
    assert_eq!(sim.stamp(), log.head);
    sim
}

fn render(sim: &Sim) -> String {
    sim.cluster().k.trace.render()
}

fn ready_status(sim: &Sim, node: &str) -> String {
    let obj = sim.cluster().api().store().get(&NODES, "", node).unwrap();
    let kubeglass::api::Object::Node(n) = obj.as_ref() else {
        panic!("not a node")
    };
    n.status
        .conditions
        .iter()
        .find(|c| c.kind == "Ready")
        .map(|c| c.status.clone())
        .unwrap_or_default()
}

fn unschedulable(sim: &Sim, node: &str) -> bool {
    let obj = sim.cluster().api().store().get(&NODES, "", node).unwrap();
    let kubeglass::api::Object::Node(n) = obj.as_ref() else {
        panic!("not a node")
    };
    n.spec.unschedulable
}

/// Whether the trace holds a note by `actor` whose action is `action`.
fn noted(sim: &Sim, actor: &str, action: &str) -> bool {
    sim.cluster()
        .k
        .trace
        .entries()
        .any(|e| e.actor == actor && e.action == action)
}

/// Every button's action on a small cluster; returns the session.
fn session_with_faults(clock: &dyn Fn() -> f64) -> Session {
    let mut s = Session::new();
    s.handle(
        ToWorker::Start {
            log: Some(log_of(SCENARIO)),
        },
        clock,
    );
    play_to(&mut s, clock, 30);

    let r = act(
        &mut s,
        clock,
        1,
        Fault::Crash {
            namespace: "default".into(),
            pod: "web".into(),
            container: "sidecar".into(),
        },
    );
    assert!(r.ok, "{r:?}");
    assert_eq!(
        r.command,
        r#"fault {"container":"sidecar","crash":"pod/default/web"}"#
    );
    assert!(
        r.stdout
            .starts_with("container sidecar of pod default/web exited with code 1 (Error)"),
        "{}",
        r.stdout
    );
    assert!(noted(
        s.sim(),
        "kubelet/node-1",
        "container sidecar of pod default/web exits with code 1"
    ));

    let r = act(
        &mut s,
        clock,
        2,
        Fault::Crash {
            namespace: "default".into(),
            pod: "web".into(),
            container: "nope".into(),
        },
    );
    assert!(!r.ok);
    assert_eq!(r.stderr, "container \"nope\" is not valid for pod web");

    let r = act(
        &mut s,
        clock,
        3,
        Fault::NodeDown {
            node: "node-1".into(),
        },
    );
    assert!(r.ok, "{r:?}");
    assert!(
        r.stdout
            .starts_with("node node-1 is down: its kubelet stopped"),
        "{}",
        r.stdout
    );
    assert!(noted(s.sim(), "kubelet/node-1", "node node-1 stops"));
    // Past nodeMonitorGracePeriod (40s) the node controller marks it Unknown.
    play_to(&mut s, clock, 90);
    assert_eq!(ready_status(s.sim(), "node-1"), "Unknown");

    let r = act(
        &mut s,
        clock,
        4,
        Fault::NodeUp {
            node: "node-1".into(),
        },
    );
    assert!(r.ok, "{r:?}");
    assert!(r.stdout.contains("is up again"), "{}", r.stdout);
    assert_eq!(ready_status(s.sim(), "node-1"), "True");

    let r = act(
        &mut s,
        clock,
        5,
        Fault::Partition {
            node: "node-2".into(),
        },
    );
    assert!(r.ok, "{r:?}");
    assert!(
        r.stdout.starts_with("node node-2 is partitioned"),
        "{}",
        r.stdout
    );
    let r = act(
        &mut s,
        clock,
        6,
        Fault::NodeUp {
            node: "node-2".into(),
        },
    );
    assert!(r.stdout.contains("the partition healed"), "{}", r.stdout);

    let r = act(
        &mut s,
        clock,
        7,
        Fault::Cordon {
            node: "node-2".into(),
        },
    );
    assert_eq!((r.ok, r.command.as_str()), (true, "kubectl cordon node-2"));
    assert_eq!(r.stdout.trim_end(), "node/node-2 cordoned");
    assert!(unschedulable(s.sim(), "node-2"));
    let r = act(
        &mut s,
        clock,
        8,
        Fault::Uncordon {
            node: "node-2".into(),
        },
    );
    assert_eq!(r.stdout.trim_end(), "node/node-2 uncordoned");
    assert!(!unschedulable(s.sim(), "node-2"));

    // A pod without a controller makes drain refuse, as kubectl does; the node is
    // cordoned first all the same.
    let r = act(
        &mut s,
        clock,
        9,
        Fault::Drain {
            node: "node-2".into(),
        },
    );
    assert!(!r.ok, "{r:?}");
    assert_eq!(
        r.command,
        "kubectl drain node-2 --ignore-daemonsets --delete-emptydir-data"
    );
    assert!(
        r.stderr.contains(
            "cannot delete cannot delete Pods that declare no controller (use --force to override): default/solo"
        ),
        "{}",
        r.stderr
    );
    assert!(unschedulable(s.sim(), "node-2"));

    let r = act(
        &mut s,
        clock,
        10,
        Fault::DeletePod {
            namespace: "default".into(),
            pod: "solo".into(),
        },
    );
    assert!(r.ok, "{r:?}");
    assert_eq!(r.command, "kubectl delete pod solo -n default");
    assert!(r.stdout.starts_with("pod \"solo\" deleted"), "{}", r.stdout);
    play_to(&mut s, clock, 130);
    assert!(s
        .sim()
        .cluster()
        .api()
        .store()
        .get(&PODS, "default", "solo")
        .is_none());
    s
}

#[test]
fn fault_actions_are_applied_logged_and_replayed_identically() {
    let wall = Wall(Cell::new(0.0));
    let clock = || wall.read();
    let s = session_with_faults(&clock);
    let log = s.log().clone();
    let faults = log
        .inputs
        .iter()
        .filter(|i| matches!(i.action, PersonAction::Fault(_)))
        .count();
    assert_eq!(faults, 10, "every button press is an input");
    // The trace says a person did it, with the step it stands for.
    let inputs: Vec<String> = s
        .sim()
        .cluster()
        .k
        .trace
        .entries()
        .filter_map(|e| match &e.detail {
            TraceDetail::Input { step } if e.reason == "a person's action" => Some(step.clone()),
            _ => None,
        })
        .collect();
    assert!(
        inputs.contains(&r#"fault {"nodeDown":"node-1"}"#.to_string()),
        "{inputs:?}"
    );
    assert!(
        inputs.contains(&"kubectl cordon node-2".to_string()),
        "{inputs:?}"
    );

    let live = render(s.sim());
    assert_eq!(
        render(&replay_log(&log)),
        live,
        "replay rebuilds the same trace"
    );
    assert_eq!(render(&replay_log(&log)), live, "and again");

    // Through the codec and a restarted session, as after a worker crash.
    let back: InputsLog = decode(&encode(&log)).unwrap();
    let mut restarted = Session::new();
    restarted.handle(ToWorker::Start { log: Some(back) }, &clock);
    let mut guard = 0;
    while restarted.rebuilding() {
        restarted.tick(&clock);
        guard += 1;
        assert!(guard < 100_000);
    }
    assert_eq!(render(restarted.sim()), live);
}

#[test]
fn a_refused_button_changes_nothing_and_is_not_logged() {
    let wall = Wall(Cell::new(0.0));
    let clock = || wall.read();
    let mut s = Session::new();
    s.handle(
        ToWorker::Start {
            log: Some(log_of(SCENARIO)),
        },
        &clock,
    );
    let before = render(s.sim());
    let r = act(
        &mut s,
        &clock,
        1,
        Fault::DeletePod {
            namespace: "default".into(),
            pod: "web --all".into(),
        },
    );
    assert!(!r.ok);
    assert!(
        r.stderr.starts_with("invalid pod name \"web --all\""),
        "{}",
        r.stderr
    );
    assert!(s.log().inputs.is_empty());
    assert_eq!(render(s.sim()), before);

    // A node with no simulated kubelet: the fault step's own error, logged.
    let r = act(
        &mut s,
        &clock,
        2,
        Fault::NodeDown {
            node: "node-9".into(),
        },
    );
    assert!(!r.ok);
    assert_eq!(r.stderr, "fault: node \"node-9\" not found");
    assert_eq!(s.log().inputs.len(), 1);
}

#[test]
fn a_pods_containers_come_with_it_for_the_crash_button() {
    let wall = Wall(Cell::new(0.0));
    let clock = || wall.read();
    let mut s = Session::new();
    s.handle(
        ToWorker::Start {
            log: Some(log_of(SCENARIO)),
        },
        &clock,
    );
    play_to(&mut s, &clock, 1);
    let out = s.handle(
        ToWorker::Query {
            id: 7,
            query: Query::Object {
                key: ObjKey::new("Pod", "default", "web"),
                at: None,
            },
        },
        &clock,
    );
    let view = out
        .into_iter()
        .find_map(|m| match m {
            FromWorker::Reply {
                reply: Reply::Object(o),
                ..
            } => Some(o),
            _ => None,
        })
        .unwrap();
    assert_eq!(view.containers, vec!["web".to_string(), "sidecar".into()]);
    let out = s.handle(
        ToWorker::Query {
            id: 8,
            query: Query::Object {
                key: ObjKey::new("Node", "", "node-1"),
                at: None,
            },
        },
        &clock,
    );
    assert!(out.iter().any(|m| matches!(
        m,
        FromWorker::Reply { reply: Reply::Object(o), .. } if o.containers.is_empty() && o.yaml.is_some()
    )));
}
