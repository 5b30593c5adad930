//! The page's scheduling view, built by the worker host: the queue, the filter
//! matrix with upstream's reasons, the score table with each cell's arithmetic,
//! the winner and its binding request; and the same inputs replayed under
//! another scheduler configuration.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use std::cell::Cell;

use kubeglass::host::sched::{parse_config, scheduling_view, DEFAULT_CONFIG};
use kubeglass::host::{Session, Sim};
use kubeglass::protocol::{
    CompareView, DetailView, FilterCell, FromWorker, InputsLog, PersonAction, Query, Reply,
    SchedView, ToWorker, LOG_VERSION,
};

const SCENARIO: &str = r#"
apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {name: sched-view}
spec:
  cluster:
    nodes:
    - metadata: {name: node-1, annotations: {kubeglass.dev/kubelet: "none"}, labels: {disk: ssd}}
      status: {capacity: {cpu: "2", memory: 4Gi, pods: "110"}}
    - metadata: {name: node-2, annotations: {kubeglass.dev/kubelet: "none"}}
      status: {capacity: {cpu: "4", memory: 8Gi, pods: "110"}}
    - metadata: {name: node-3, annotations: {kubeglass.dev/kubelet: "none"}}
      status: {capacity: {cpu: "8", memory: 8Gi, pods: "110"}}
  steps:
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {name: web}
      spec:
        containers:
        - name: web
          image: nginx
          resources: {requests: {cpu: 2500m, memory: 1Gi}}
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {name: picky}
      spec:
        nodeSelector: {disk: ssd}
        containers:
        - name: picky
          image: nginx
          resources: {requests: {cpu: "3"}}
"#;

/// Runs a sim until its scenario is done and no work is due now.
fn finish(sim: &mut Sim) {
    loop {
        let (done, all) = sim.scenario_progress();
        if done == all && !sim.op_ready() {
            return;
        }
        assert!(sim.step(), "work left but nothing to step");
    }
}

fn sim() -> Sim {
    let mut sim = Sim::new(SCENARIO).unwrap();
    finish(&mut sim);
    sim
}

#[test]
fn filter_matrix_shows_each_filters_verdict_and_reason() {
    let sim = sim();
    let v = scheduling_view(&sim, Some("default/web"), 0, 0);
    assert_eq!(v.missing, "");
    let d = v.decision.expect("a decision for default/web");
    assert_eq!(d.pod, "default/web");
    assert_eq!(d.node, "node-3");
    assert_eq!((d.all_nodes, d.evaluated, d.feasible), (3, 3, 2));
    assert_eq!(d.rows_total, 3);
    // The winner first, then the other feasible node, then the rejected one.
    let names: Vec<&str> = d.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["node-3", "node-2", "node-1"]);
    let fit = d
        .filters
        .iter()
        .position(|f| f == "NodeResourcesFit")
        .unwrap();
    let node1 = &d.rows[2];
    assert_eq!(node1.filters.len(), d.filters.len());
    assert_eq!(
        node1.filters[fit],
        FilterCell::Failed {
            status: "Unschedulable".into(),
            reasons: vec!["Insufficient cpu".into()]
        }
    );
    // Filters before the failure passed; those after it did not run.
    assert!(node1.filters[..fit]
        .iter()
        .all(|c| *c == FilterCell::Passed));
    assert!(node1.filters[fit + 1..]
        .iter()
        .all(|c| *c == FilterCell::NotRun));
    assert!(node1.scores.is_empty() && node1.total.is_none());
    assert_eq!(d.rejected.len(), 1);
    assert_eq!(d.rejected[0].reason, "Insufficient cpu");
    assert_eq!(d.rejected[0].count, 1);
}

#[test]
fn score_table_shows_the_arithmetic_and_the_weighted_total() {
    let sim = sim();
    let d = scheduling_view(&sim, Some("default/web"), 0, 0)
        .decision
        .unwrap();
    let fit = d
        .scores
        .iter()
        .position(|c| c.plugin == "NodeResourcesFit")
        .unwrap();
    let node2 = d.rows.iter().find(|r| r.name == "node-2").unwrap();
    let cell = &node2.scores[fit];
    assert_eq!(cell.score, 62);
    assert!(
        cell.arithmetic
            .contains("cpu (4000 \u{2212} 2500) \u{d7} 100 / 4000 = 37"),
        "{}",
        cell.arithmetic
    );
    // The total is the weighted sum of the cells.
    for row in d.rows.iter().filter(|r| r.total.is_some()) {
        let sum: i64 = row.scores.iter().map(|c| c.weighted).sum();
        assert_eq!(row.total, Some(sum), "{}", row.name);
        for (c, col) in row.scores.iter().zip(&d.scores) {
            assert_eq!(c.weighted, c.score * col.weight);
        }
    }
    // The winner has the highest total.
    let best = d.rows.iter().filter_map(|r| r.total).max();
    assert_eq!(d.rows[0].total, best);
    // The binding went through the API server.
    let bind = d.bind.expect("the binding request");
    match bind.detail {
        DetailView::Request {
            method, path, code, ..
        } => {
            assert_eq!(method, "POST");
            assert_eq!(path, "/api/v1/namespaces/default/pods/web/binding");
            assert_eq!(code, 201);
        }
        other => panic!("not a request: {other:?}"),
    }
}

#[test]
fn an_unschedulable_pod_waits_in_the_queue_with_upstreams_message() {
    let sim = sim();
    let v = scheduling_view(&sim, Some("default/picky"), 0, 0);
    assert_eq!(v.queue.unschedulable, 1);
    let q = v
        .queue
        .pods
        .iter()
        .find(|p| p.pod == "default/picky")
        .unwrap();
    assert_eq!(q.place, "unschedulablePods");
    assert!(v.queue.recent.iter().any(|a| a.pod == "default/web"));
    let d = v.decision.unwrap();
    assert_eq!(d.node, "");
    assert!(
        d.message.starts_with("0/3 nodes are available:"),
        "{}",
        d.message
    );
    assert!(d.bind.is_none());
    let reasons: Vec<&str> = d.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert!(reasons.contains(&"node(s) didn't match Pod's node affinity/selector"));
    // Never attempted: said so.
    let v = scheduling_view(&sim, Some("default/nope"), 0, 0);
    assert!(v.decision.is_none());
    assert!(v.missing.contains("never attempted"), "{}", v.missing);
    // No pod asked: the latest attempt.
    let v = scheduling_view(&sim, None, 0, 0);
    assert!(v.decision.is_some());
}

#[test]
fn rows_come_in_pages() {
    let sim = sim();
    let d = scheduling_view(&sim, Some("default/web"), 1, 1)
        .decision
        .unwrap();
    assert_eq!(d.rows_total, 3);
    assert_eq!(d.offset, 1);
    assert_eq!(d.rows.len(), 1);
    assert_eq!(d.rows[0].name, "node-2");
}

#[test]
fn the_default_config_is_editable_and_bad_configs_are_refused() {
    assert!(parse_config(DEFAULT_CONFIG).unwrap().is_some());
    assert!(parse_config("").unwrap().is_none());
    assert!(parse_config("kind: Nope").is_err());
    let v = scheduling_view(&sim(), None, 0, 0);
    assert_eq!(v.config, DEFAULT_CONFIG);
}

/// A fake wall clock: every reading is half a millisecond later.
struct Wall(Cell<f64>);

impl Wall {
    fn read(&self) -> f64 {
        self.0.set(self.0.get() + 0.5);
        self.0.get()
    }
}

fn session() -> (Session, Wall) {
    let wall = Wall(Cell::new(0.0));
    let log = InputsLog {
        version: LOG_VERSION,
        scenario: String::new(),
        scenario_text: SCENARIO.into(),
        inputs: Vec::new(),
        head: Default::default(),
    };
    let clock = || wall.read();
    let (mut s, _) = Session::boot(Some(log), &clock);
    // Run the scenario (its unschedulable pod keeps a periodic flush armed, so
    // step only through the work due now), then one more pod as a person's action.
    while s.sim().op_ready() {
        s.handle(ToWorker::Step, &clock);
    }
    s.handle(
        ToWorker::Act {
            id: 1,
            action: PersonAction::Apply {
                text: "apiVersion: v1\nkind: Pod\nmetadata: {name: small}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    resources: {requests: {cpu: 100m, memory: 100Mi}}\n".into(),
            },
            fork_at: None,
        },
        &clock,
    );
    while s.sim().op_ready() {
        s.handle(ToWorker::Step, &clock);
    }
    (s, wall)
}

fn ask(s: &mut Session, wall: &Wall, query: Query) -> Reply {
    let clock = || wall.read();
    let mut out = s.handle(ToWorker::Query { id: 7, query }, &clock);
    for _ in 0..100_000 {
        if let Some(reply) = out.iter().find_map(|m| match m {
            FromWorker::Reply { id: 7, reply } => Some(reply.clone()),
            _ => None,
        }) {
            return reply;
        }
        out = s.tick(&clock);
    }
    panic!("no answer");
}

#[test]
fn the_worker_answers_the_scheduling_query() {
    let (mut s, wall) = session();
    let Reply::Scheduling(view) = ask(
        &mut s,
        &wall,
        Query::Scheduling {
            pod: Some("default/small".into()),
            offset: 0,
            limit: 10,
        },
    ) else {
        panic!("not a scheduling view")
    };
    let SchedView { decision, .. } = *view;
    assert_eq!(decision.unwrap().pod, "default/small");
}

#[test]
fn another_configuration_replays_the_same_pods_and_compares() {
    let (mut s, wall) = session();
    // MostAllocated packs: web goes to the smaller node that fits it (node-2)
    // rather than the emptiest (node-3).
    let most = DEFAULT_CONFIG.replace("LeastAllocated", "MostAllocated");
    let Reply::Compare(view) = ask(
        &mut s,
        &wall,
        Query::Compare {
            config: most.clone(),
            pod: Some("default/small".into()),
            limit: 10,
        },
    ) else {
        panic!("not a comparison")
    };
    let CompareView {
        error,
        decision,
        pods,
        differ,
        differences,
        ..
    } = *view;
    assert_eq!(error, "");
    let d = decision.expect("the small pod was scheduled there too");
    assert_eq!(d.pod, "default/small");
    assert_eq!(pods, 2, "web and small are bound in either run");
    assert!(differ >= 1, "{differences:?}");
    assert!(
        differences.contains(&("default/web".into(), "node-3".into(), "node-2".into())),
        "{differences:?}"
    );
    assert_eq!(differ as usize, differences.len());
    // The same configuration again is answered from the finished replay.
    let Reply::Compare(again) = ask(
        &mut s,
        &wall,
        Query::Compare {
            config: most,
            pod: Some("default/web".into()),
            limit: 10,
        },
    ) else {
        panic!("not a comparison")
    };
    assert_eq!(again.decision.unwrap().pod, "default/web");
    // A configuration kube-scheduler would refuse is reported, not run.
    let Reply::Compare(bad) = ask(
        &mut s,
        &wall,
        Query::Compare {
            config: "kind: Nope".into(),
            pod: None,
            limit: 10,
        },
    ) else {
        panic!("not a comparison")
    };
    assert!(!bad.error.is_empty());
}

#[test]
fn five_thousand_nodes_make_a_bounded_view() {
    let mut nodes = String::new();
    for i in 0..5000 {
        let cpu = if i % 2 == 0 { "1" } else { "8" };
        nodes.push_str(&format!(
            "    - metadata: {{name: node-{i:04}, annotations: {{kubeglass.dev/kubelet: \"none\"}}}}\n      status: {{capacity: {{cpu: \"{cpu}\", memory: 8Gi, pods: \"110\"}}}}\n"
        ));
    }
    let text = format!(
        r#"
apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {{name: big}}
spec:
  cluster:
    nodes:
{nodes}
  steps:
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {{name: web}}
      spec:
        containers:
        - name: web
          image: nginx
          resources: {{requests: {{cpu: "2"}}}}
"#
    );
    let mut sim = Sim::new(&text).unwrap();
    finish(&mut sim);
    let v = scheduling_view(&sim, Some("default/web"), 0, 0);
    let d = v.decision.clone().unwrap();
    assert_eq!(d.all_nodes, 5000);
    assert!(!d.node.is_empty());
    // A page of rows from a record that keeps a bounded number of nodes; the
    // rest are counted.
    assert!(d.rows.len() <= kubeglass::host::sched::PAGE as usize);
    assert!(d.rows_total <= 64, "{}", d.rows_total);
    let rejected: u64 = d.rejected.iter().map(|r| r.count).sum();
    assert_eq!(d.rejected[0].reason, "Insufficient cpu");
    assert_eq!(rejected + d.feasible, d.evaluated);
    let bytes = kubeglass::protocol::encode(&Reply::Scheduling(Box::new(v)));
    assert!(bytes.len() < 64 * 1024, "{} bytes", bytes.len());
}
