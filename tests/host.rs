//! The worker host, natively (and in headless Chrome with the core's wasm tests):
//! replay from the inputs log is exact, forks drop later history, questions about
//! the past change nothing, and the map travels as deltas and aggregates.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use std::cell::Cell;

use kubeglass::host::examples::EXAMPLES;
use kubeglass::host::sim::{trace_hash, Replay};
use kubeglass::host::{Session, Sim};
use kubeglass::protocol::{
    DetailView, FromWorker, InputsLog, LogUpdate, MapDelta, ObjKey, PersonAction, Query, Reply,
    Speed, ToWorker,
};

const POD_A: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  nodeName: node-1\n  containers:\n  - name: c\n    image: nginx\n";
const POD_B: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\nspec:\n  containers:\n  - name: c\n    image: nginx\n";
const POD_C: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: c\nspec:\n  containers:\n  - name: c\n    image: nginx\n";

/// A fake wall clock: every reading is half a millisecond later.
struct Wall(Cell<f64>);

impl Wall {
    fn new() -> Wall {
        Wall(Cell::new(0.0))
    }
    fn read(&self) -> f64 {
        self.0.set(self.0.get() + 0.5);
        self.0.get()
    }
}

fn apply(text: &str) -> PersonAction {
    PersonAction::Apply { text: text.into() }
}

fn kubectl(line: &str) -> PersonAction {
    PersonAction::Kubectl { line: line.into() }
}

/// Runs a sim until its scenario is done and no work is due.
fn finish(sim: &mut Sim) {
    loop {
        let (done, all) = sim.scenario_progress();
        if done == all && !sim.op_ready() {
            return;
        }
        assert!(sim.step(), "work left but nothing to step");
    }
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

#[test]
fn stepping_a_scenario_gives_the_clis_trace() {
    for (id, text) in EXAMPLES {
        let scenario = kubeglass::scenario::parse(text).unwrap();
        let (_, runner) = kubeglass::scenario::run(&scenario).unwrap();
        let mut sim = Sim::new(text).unwrap();
        finish(&mut sim);
        assert_eq!(
            render(&sim),
            runner.cluster.k.trace.render(),
            "{id}: one op at a time must give the same trace as `kubeglass run`"
        );
    }
}

/// Plays with uneven slices, acting between them, and returns the session's log and trace.
fn play_and_act(seed: u64) -> (InputsLog, String) {
    let wall = Wall::new();
    let clock = || wall.read();
    let mut s = Session::new();
    s.handle(
        ToWorker::Load {
            scenario: "pods-on-nodes".into(),
        },
        &clock,
    );
    let mut rng = seed;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let actions = [
        apply(POD_A),
        kubectl("get pods -o wide"),
        kubectl("label pod a tier=web"),
        apply(POD_B),
        PersonAction::Request {
            method: "GET".into(),
            path: "/api/v1/namespaces/default/pods/a".into(),
            body: String::new(),
            content_type: String::new(),
        },
        kubectl("delete pod b"),
    ];
    s.handle(
        ToWorker::Play {
            speed: Speed::Times(3.0),
        },
        &clock,
    );
    for (i, a) in actions.into_iter().enumerate() {
        for _ in 0..(next() % 5) {
            s.tick(&clock);
        }
        if next() % 3 == 0 {
            s.handle(ToWorker::Step, &clock);
            s.handle(
                ToWorker::Play {
                    speed: Speed::Times(0.5 + (next() % 20) as f64),
                },
                &clock,
            );
        }
        s.handle(
            ToWorker::Act {
                id: i as u64,
                action: a,
                fork_at: None,
            },
            &clock,
        );
    }
    for _ in 0..3 {
        s.tick(&clock);
    }
    s.handle(ToWorker::Pause, &clock);
    (s.log().clone(), render(s.sim()))
}

#[test]
fn the_inputs_log_replays_to_the_same_trace() {
    for seed in [1u64, 7, 42, 99] {
        let (log, live) = play_and_act(seed);
        assert_eq!(log.inputs.len(), 6);
        let once = render(&replay_log(&log));
        let twice = render(&replay_log(&log));
        assert_eq!(once, twice, "seed {seed}: replay is deterministic");
        assert_eq!(
            once, live,
            "seed {seed}: replay rebuilds what the person saw"
        );
    }
}

#[test]
fn the_log_survives_serialization_and_a_restarted_session_rebuilds_it() {
    let (log, live) = play_and_act(5);
    let json = serde_json::to_string(&log).unwrap();
    let back: InputsLog = serde_json::from_str(&json).unwrap();
    let wall = Wall::new();
    let clock = || wall.read();
    let mut s = Session::new();
    let out = s.handle(ToWorker::Start { log: Some(back) }, &clock);
    assert!(matches!(out[0], FromWorker::Ready { replaying: 6, .. }));
    assert!(matches!(out[1], FromWorker::Busy { done: 0, .. }));
    assert!(s.rebuilding());
    // Messages wait for the rebuild.
    s.handle(ToWorker::Step, &clock);
    let mut guard = 0;
    while s.rebuilding() {
        s.tick(&clock);
        guard += 1;
        assert!(guard < 10_000);
    }
    let mut rebuilt = render(s.sim());
    // The deferred Step ran after the rebuild.
    assert!(rebuilt.len() >= live.len());
    rebuilt.truncate(live.len());
    assert_eq!(rebuilt, live);
}

fn drain(s: &mut Session, clock: &dyn Fn() -> f64) -> Vec<FromWorker> {
    let mut out = Vec::new();
    let mut guard = 0;
    while s.wants_tick() == Some(0.0) {
        out.extend(s.tick(clock));
        guard += 1;
        assert!(guard < 100_000);
    }
    out
}

fn find_seq(s: &Session, action: &str) -> u64 {
    s.sim()
        .cluster()
        .k
        .trace
        .entries()
        .find(|e| e.action.contains(action))
        .map(|e| e.seq)
        .unwrap_or_else(|| panic!("no entry {action}"))
}

/// The request entry that created pod `name`.
fn created(s: &Session, name: &str) -> u64 {
    s.sim()
        .cluster()
        .k
        .trace
        .entries()
        .find(|e| {
            matches!(&e.detail, kubeglass::kernel::TraceDetail::Request { method, .. } if *method == "POST")
                && e.objects.iter().any(|o| o.kind == "Pod" && o.name == name)
        })
        .map(|e| e.seq)
        .unwrap_or_else(|| panic!("pod {name} was never created"))
}

#[test]
fn acting_in_the_past_forks_and_drops_later_history() {
    let wall = Wall::new();
    let clock = || wall.read();
    let mut s = Session::new();
    s.handle(ToWorker::Start { log: None }, &clock);
    let act = |s: &mut Session, id, a, fork_at| {
        s.handle(
            ToWorker::Act {
                id,
                action: a,
                fork_at,
            },
            &clock,
        )
    };
    act(&mut s, 1, apply(POD_A), None);
    while s.sim().op_ready() {
        s.handle(ToWorker::Step, &clock);
    }
    let a_created = created(&s, "a");
    act(&mut s, 2, apply(POD_B), None);
    assert!(created(&s, "b") > a_created);
    // Looking at the past changes nothing.
    let head = s.sim().stamp();
    let out = s.handle(
        ToWorker::Query {
            id: 3,
            query: Query::Object {
                key: ObjKey::new("Pod", "default", "b"),
                at: Some(a_created),
            },
        },
        &clock,
    );
    match &out[0] {
        FromWorker::Reply {
            reply: Reply::Object(o),
            ..
        } => assert_eq!(o.yaml, None, "b did not exist yet"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.sim().stamp(), head);
    // Acting there forks.
    let out = act(&mut s, 4, apply(POD_C), Some(a_created));
    assert!(matches!(out.first(), Some(FromWorker::Busy { .. })));
    let out = drain(&mut s, &clock);
    assert!(out.iter().any(|m| matches!(
        m,
        FromWorker::Reply {
            id: 4,
            reply: Reply::Acted { .. }
        }
    )));
    let store = s.sim().cluster().api().store();
    let names: Vec<&str> = store
        .list(&kubeglass::api::object::PODS, None)
        .map(|o| o.name())
        .collect();
    assert_eq!(names, ["a", "c"]);
    let texts: Vec<String> = s
        .log()
        .inputs
        .iter()
        .map(|i| match &i.action {
            PersonAction::Apply { text } => text.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(texts, [POD_A, POD_C]);
    // And the forked log replays to the same place.
    assert_eq!(render(&replay_log(s.log())), render(s.sim()));
}

#[test]
fn a_yaml_error_is_located_and_not_logged() {
    let wall = Wall::new();
    let clock = || wall.read();
    let mut s = Session::new();
    s.handle(ToWorker::Start { log: None }, &clock);
    let out = s.handle(
        ToWorker::Act {
            id: 1,
            action: apply("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   bad: [\n"),
            fork_at: None,
        },
        &clock,
    );
    let result = out
        .iter()
        .find_map(|m| match m {
            FromWorker::Reply {
                reply: Reply::Acted { result, .. },
                ..
            } => Some(result.clone()),
            _ => None,
        })
        .unwrap();
    assert!(!result.ok);
    let (line, column) = result.position.unwrap();
    assert!(line >= 4, "line {line}: {}", result.stderr);
    assert!(column >= 1);
    assert!(s.log().inputs.is_empty());
}

#[test]
fn a_raw_request_reports_its_stages() {
    let wall = Wall::new();
    let clock = || wall.read();
    let mut s = Session::new();
    s.handle(ToWorker::Start { log: None }, &clock);
    let out = s.handle(
        ToWorker::Act {
            id: 1,
            action: PersonAction::Request {
                method: "POST".into(),
                path: "/api/v1/namespaces/default/pods".into(),
                body: r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"Bad_Name"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"#.into(),
                content_type: "application/json".into(),
            },
            fork_at: None,
        },
        &clock,
    );
    let result = out
        .iter()
        .find_map(|m| match m {
            FromWorker::Reply {
                reply: Reply::Acted { result, .. },
                ..
            } => Some(result.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(result.code, Some(422));
    assert!(result.stdout.contains("Bad_Name"), "{}", result.stdout);
    let entry = result.entry.unwrap();
    match entry.detail {
        DetailView::Request { stages, code, .. } => {
            assert_eq!(code, 422);
            let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
            assert!(names.contains(&"authentication"), "{names:?}");
            assert!(stages.iter().any(|s| s.outcome == "failed"));
        }
        other => panic!("{other:?}"),
    }
}

fn map_deltas(out: &[FromWorker]) -> Vec<MapDelta> {
    out.iter()
        .filter_map(|m| match m {
            FromWorker::Frame(f) => f.map.clone(),
            _ => None,
        })
        .collect()
}

#[test]
fn a_large_cluster_travels_as_counts_per_node() {
    let wall = Wall::new();
    let clock = || wall.read();
    let mut s = Session::new();
    let out = s.handle(ToWorker::Start { log: None }, &clock);
    let first = map_deltas(&out);
    assert_eq!(first.len(), 1);
    assert!(first[0].reset && first[0].detailed);
    assert_eq!(first[0].nodes.len(), 3);
    let out = s.handle(
        ToWorker::Act {
            id: 1,
            action: PersonAction::ScaleTest { pods: 1000 },
            fork_at: None,
        },
        &clock,
    );
    assert!(out
        .iter()
        .any(|m| matches!(m, FromWorker::Log(LogUpdate::Append(_)))));
    let out = drain(&mut s, &clock);
    let deltas = map_deltas(&out);
    assert!(deltas.len() > 1, "frames while the pods are created");
    let last = deltas.last().unwrap();
    assert!(!last.detailed);
    assert!(last.pods.is_empty(), "no pod one by one beyond the limit");
    assert_eq!(last.total_pods, 1000);
    // Every delta is small: counts per node, never every pod.
    for d in &deltas {
        assert!(
            d.pods.len() as u64 <= kubeglass::host::map::DETAIL_LIMIT,
            "{}",
            d.pods.len()
        );
    }
    let counts: u64 = s
        .handle(
            ToWorker::Query {
                id: 2,
                query: Query::MapAt { seq: u64::MAX },
            },
            &clock,
        )
        .iter()
        .find_map(|m| match m {
            FromWorker::Reply {
                reply: Reply::Map { map, .. },
                ..
            } => Some(
                map.counts
                    .iter()
                    .map(|c| c.counts.iter().sum::<u64>())
                    .sum(),
            ),
            _ => None,
        })
        .unwrap();
    assert_eq!(counts, 1000);
    // The map of the past: before the scale test, no pod.
    let before = find_seq(&s, "scale test");
    let out = s.handle(
        ToWorker::Query {
            id: 3,
            query: Query::MapAt { seq: before },
        },
        &clock,
    );
    match &out[0] {
        FromWorker::Reply {
            reply: Reply::Map { map, .. },
            ..
        } => {
            assert_eq!(map.total_pods, 0);
            assert!(map.detailed);
        }
        other => panic!("{other:?}"),
    }
}

/// Native only: a hundred thousand writes are slow in a debug wasm build.
#[test]
#[cfg(not(target_arch = "wasm32"))]
fn beyond_the_history_window_the_past_is_rebuilt_by_replay() {
    let wall = Wall::new();
    let clock = || wall.read();
    let mut s = Session::new();
    s.handle(ToWorker::Start { log: None }, &clock);
    s.handle(
        ToWorker::Act {
            id: 1,
            action: apply(POD_A),
            fork_at: None,
        },
        &clock,
    );
    let a_created = created(&s, "a");
    // Enough writes to push the pod's creation out of the store's history window.
    let history = kubeglass::store::DEFAULT_HISTORY as u32;
    s.handle(
        ToWorker::Act {
            id: 2,
            action: PersonAction::ScaleTest { pods: history + 10 },
            fork_at: None,
        },
        &clock,
    );
    drain(&mut s, &clock);
    assert!(s.sim().cluster().api().store().oldest_watchable() > s.sim().rev_at(a_created));
    let out = s.handle(
        ToWorker::Query {
            id: 3,
            query: Query::Object {
                key: ObjKey::new("Pod", "default", "a"),
                at: Some(a_created),
            },
        },
        &clock,
    );
    assert!(out.is_empty(), "the answer waits for a replay");
    let out = drain(&mut s, &clock);
    let o = out
        .iter()
        .find_map(|m| match m {
            FromWorker::Reply {
                id: 3,
                reply: Reply::Object(o),
            } => Some(o.clone()),
            _ => None,
        })
        .unwrap();
    assert!(o.replayed);
    assert!(o.yaml.unwrap().contains("name: a"));
}

#[test]
fn scale_test_pods_stamp_the_same_trace_when_replayed() {
    let wall = Wall::new();
    let clock = || wall.read();
    let mut s = Session::new();
    s.handle(ToWorker::Start { log: None }, &clock);
    s.handle(
        ToWorker::Act {
            id: 1,
            action: PersonAction::ScaleTest { pods: 750 },
            fork_at: None,
        },
        &clock,
    );
    for _ in 0..3 {
        s.tick(&clock);
    }
    s.handle(
        ToWorker::Act {
            id: 2,
            action: kubectl("get pods --no-headers -l app=scale-test"),
            fork_at: None,
        },
        &clock,
    );
    drain(&mut s, &clock);
    s.handle(ToWorker::Pause, &clock);
    assert_eq!(render(&replay_log(s.log())), render(s.sim()));
    assert_eq!(
        trace_hash(&render(s.sim())),
        replay_log(s.log()).trace_hash()
    );
}

#[test]
#[should_panic(expected = "a crash asked for")]
#[cfg(not(target_arch = "wasm32"))]
fn crash_panics_on_purpose() {
    let wall = Wall::new();
    let clock = || wall.read();
    let mut s = Session::new();
    s.handle(ToWorker::Crash, &clock);
}
