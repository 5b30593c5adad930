//! The page's components in headless Chrome (wasm-bindgen-test, browser mode), with
//! no worker: a state is rendered, the DOM is read, clicks are made, and what the
//! page would send to the worker is checked.
//!
//! Run by scripts/test.sh as
//! `wasm-pack test --headless --chrome --mode no-install -- --features web --test ui`.
#![cfg(all(feature = "web", target_arch = "wasm32"))]

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test as test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

use kubeglass::protocol::{
    DetailView, EntryView, Head, KindCount, MapDelta, NodeCounts, NodeView, ObjKey, ObjRefView,
    ObjectView, Phase, PodView, StageView, ToWorker,
};
use kubeglass::web::app::Shell;
use kubeglass::web::context::AppContext;
use kubeglass::web::i18n::{en, tf, Key, ALL_KEYS};
use kubeglass::web::link::Link;
use kubeglass::web::state::{AppState, MapState};

wasm_bindgen_test_configure!(run_in_browser);

const EVIL: &str = "<script>window.__kubeglassXss=1</script>";
const EVIL_IMG: &str = "<img src=x onerror=\"window.__kubeglassXss=2\">";

#[derive(Properties, PartialEq)]
struct HarnessProps {
    state: Rc<AppState>,
    link: Link,
}

/// The app's layout over a given state, with a link that has no worker.
#[component]
fn Harness(p: &HarnessProps) -> Html {
    let state = {
        let initial = (*p.state).clone();
        use_reducer(move || initial)
    };
    let context = {
        let link = p.link.clone();
        let dispatcher = state.dispatcher();
        use_memo((), move |_| AppContext {
            link,
            dispatcher,
            latest: Rc::new(RefCell::new(Rc::new(AppState::default()))),
        })
    };
    html! { <Shell state={Rc::new((*state).clone())} context={(*context).clone()} /> }
}

/// Renders a state into a fresh element; returns the element and the link.
async fn render(state: AppState) -> (Element, Link) {
    let doc = gloo::utils::document();
    let root = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&root).unwrap();
    let link = Link::new(Callback::noop());
    yew::Renderer::<Harness>::with_root_and_props(
        root.clone(),
        HarnessProps {
            state: Rc::new(state),
            link: link.clone(),
        },
    )
    .render();
    yew::scheduler::flush().await;
    (root, link)
}

fn find(root: &Element, selector: &str) -> Element {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no {selector}"))
}

fn count(root: &Element, selector: &str) -> u32 {
    root.query_selector_all(selector).unwrap().length()
}

async fn click(root: &Element, selector: &str) {
    find(root, selector).unchecked_into::<HtmlElement>().click();
    yew::scheduler::flush().await;
}

fn node(name: &str) -> NodeView {
    NodeView {
        name: name.into(),
        ready: true,
        unschedulable: false,
        zone: "zone-a".into(),
        pod_capacity: 110,
    }
}

fn request_entry(seq: u64, reason: &str) -> EntryView {
    EntryView {
        seq,
        time: seq * 1_000_000,
        actor: "apiserver".into(),
        action: "create pods in default".into(),
        reason: reason.into(),
        objects: vec![ObjRefView {
            key: ObjKey::new("Pod", "default", EVIL),
            revision: seq,
        }],
        detail: DetailView::Request {
            method: "POST".into(),
            path: "/api/v1/namespaces/default/pods".into(),
            user: "kubernetes-admin".into(),
            code: 422,
            stages: vec![
                StageView {
                    name: "authentication".into(),
                    outcome: "passed".into(),
                    reason: "x509 client certificate".into(),
                },
                StageView {
                    name: "validation".into(),
                    outcome: "failed".into(),
                    reason: format!("metadata.name: Invalid value: \"{EVIL}\""),
                },
            ],
        },
        revision: seq,
    }
}

/// A state as the worker would have filled it: a small cluster with hostile names.
fn hostile_state() -> AppState {
    let map = MapState::from_delta(MapDelta {
        reset: true,
        detailed: true,
        nodes: vec![node("node-1")],
        pods: vec![PodView {
            namespace: "default".into(),
            name: EVIL.into(),
            node: "node-1".into(),
            phase: Phase::Running,
            owner: format!("ReplicaSet/{EVIL_IMG}"),
            deleting: false,
        }],
        counts: vec![NodeCounts {
            node: "node-1".into(),
            counts: [0, 1, 0, 0, 0],
        }],
        total_pods: 1,
        ..MapDelta::default()
    });
    let entries = (1..=5)
        .map(|i| (i, Rc::new(request_entry(i, EVIL_IMG))))
        .collect();
    let key = ObjKey::new("Pod", "default", EVIL);
    AppState {
        ready: true,
        head: Head {
            first_seq: 1,
            last_seq: 5,
            revision: 5,
            ..Head::default()
        },
        entries: Rc::new(entries),
        map: Rc::new(map),
        kinds: Rc::new(vec![KindCount {
            kind: "Pod".into(),
            count: 1,
        }]),
        selected: Some(key.clone()),
        inspected: Some(Rc::new(ObjectView {
            key,
            at: None,
            revision: 5,
            yaml: Some(format!(
                "metadata:\n  annotations:\n    note: '{EVIL_IMG}'\n"
            )),
            replayed: false,
            containers: vec![],
        })),
        ..AppState::default()
    }
}

#[test]
async fn names_and_labels_stay_text() {
    let (root, _) = render(hostile_state()).await;
    assert_eq!(count(&root, "script"), 0, "no element from a name");
    assert_eq!(count(&root, "img"), 0, "no element from an annotation");
    let text = root.text_content().unwrap_or_default();
    assert!(text.contains(EVIL), "the pod's name is shown as text");
    assert!(text.contains(EVIL_IMG), "the YAML is shown as text");
    let pod = find(&root, "[data-testid=pod]");
    assert_eq!(
        pod.get_attribute("data-pod").as_deref(),
        Some(format!("default/{EVIL}").as_str())
    );
    let yaml = find(&root, "[data-testid=inspector-yaml]");
    assert!(yaml.text_content().unwrap_or_default().contains(EVIL_IMG));
    assert_eq!(yaml.children().length(), 0, "the YAML is one text node");
    let ran = js_sys::Reflect::get(&js_sys::global(), &"__kubeglassXss".into()).unwrap();
    assert!(ran.is_undefined(), "no script ran");
}

#[test]
async fn a_large_cluster_is_drawn_as_counts_per_node() {
    let mut s = hostile_state();
    s.map = Rc::new(MapState::from_delta(MapDelta {
        reset: true,
        detailed: false,
        nodes: vec![node("node-1"), node("node-2")],
        counts: vec![
            NodeCounts {
                node: "node-1".into(),
                counts: [75_000, 0, 0, 0, 0],
            },
            NodeCounts {
                node: "node-2".into(),
                counts: [70_000, 5_000, 0, 0, 0],
            },
        ],
        total_pods: 150_000,
        ..MapDelta::default()
    }));
    let (root, _) = render(s).await;
    let map = find(&root, "[data-testid=map]");
    assert_eq!(map.get_attribute("data-detailed").as_deref(), Some("false"));
    assert_eq!(
        count(&map, "[data-testid=pod]"),
        0,
        "no pod drawn one by one"
    );
    assert_eq!(count(&map, "[data-testid=map-box]"), 2);
    let text = map.text_content().unwrap_or_default();
    assert!(text.contains("150,000 pods"), "{text}");
    assert!(text.contains("Running 5,000"), "{text}");
}

#[test]
async fn the_timeline_shows_a_requests_stages() {
    let (root, _) = render(hostile_state()).await;
    assert_eq!(count(&root, "[data-testid=entry]"), 5);
    let focused = find(&root, ".kg-entry.kg-focused");
    assert_eq!(focused.get_attribute("data-seq").as_deref(), Some("5"));
    let stages = focused.query_selector_all(".kg-stage").unwrap().length();
    assert_eq!(stages, 2);
    let text = focused.text_content().unwrap_or_default();
    assert!(
        text.contains("Authentication") && text.contains("failed"),
        "{text}"
    );
    assert!(text.contains("422"), "{text}");
}

#[test]
async fn the_step_button_asks_the_worker_to_step() {
    let (root, link) = render(hostile_state()).await;
    click(&root, "[data-testid=step]").await;
    assert!(link.take_sent().contains(&ToWorker::Step));
}

#[test]
async fn moving_the_cursor_back_shows_the_past_and_changes_nothing() {
    let (root, link) = render(hostile_state()).await;
    link.take_sent();
    click(&root, "[data-testid=tl-prev]").await;
    let timeline = find(&root, "[data-testid=timeline]");
    assert_eq!(timeline.get_attribute("data-focus").as_deref(), Some("4"));
    assert_eq!(
        timeline.get_attribute("data-live").as_deref(),
        Some("false")
    );
    assert!(root
        .query_selector("[data-testid=past-banner]")
        .unwrap()
        .is_some());
    let sent = link.take_sent();
    assert!(
        sent.iter().all(|m| matches!(m, ToWorker::Query { .. })),
        "looking only asks: {sent:?}"
    );
    assert!(sent.iter().any(|m| matches!(
        m,
        ToWorker::Query {
            query: kubeglass::protocol::Query::Object { at: Some(4), .. },
            ..
        }
    )));
}

#[test]
async fn acting_in_the_past_asks_before_it_forks() {
    let (root, link) = render(hostile_state()).await;
    click(&root, "[data-testid=tl-first]").await;
    link.take_sent();
    click(&root, "[data-testid=apply]").await;
    assert!(
        !link
            .take_sent()
            .iter()
            .any(|m| matches!(m, ToWorker::Act { .. })),
        "nothing is done before the person confirms"
    );
    assert!(root
        .query_selector("[data-testid=fork-confirm]")
        .unwrap()
        .is_some());
    click(&root, "[data-testid=fork-yes]").await;
    let sent = link.take_sent();
    assert!(
        sent.iter().any(|m| matches!(
            m,
            ToWorker::Act {
                fork_at: Some(1),
                ..
            }
        )),
        "{sent:?}"
    );
    assert!(root
        .query_selector("[data-testid=fork-confirm]")
        .unwrap()
        .is_none());
}

#[test]
async fn the_root_says_when_it_is_ready() {
    let (root, _) = render(AppState::default()).await;
    let el = find(&root, "[data-testid=root]");
    assert_eq!(el.get_attribute("data-ready").as_deref(), Some("false"));
    let (root, _) = render(hostile_state()).await;
    let el = find(&root, "[data-testid=root]");
    assert_eq!(el.get_attribute("data-ready").as_deref(), Some("true"));
}

#[test]
fn every_catalog_key_has_english() {
    let mut seen = std::collections::BTreeSet::new();
    for k in ALL_KEYS {
        assert!(seen.insert(*k), "{k:?} listed twice");
        assert!(!en(*k).is_empty(), "{k:?}");
    }
    assert_eq!(tf(Key::EntryOf, &["3", "9"]), "entry #3 of #9");
    assert_eq!(kubeglass::web::format::count(150_000), "150,000");
    assert_eq!(kubeglass::web::format::clock(65_250_000_000), "0:01:05.250");
}

/// A scheduling view as the worker sends it: three nodes, one with a hostile name.
fn sched_view() -> kubeglass::protocol::SchedView {
    use kubeglass::protocol::{
        AttemptSummary, DecisionView, FilterCell, NodeRow, QueueView, QueuedPodView, ReasonCount,
        SchedView, ScoreCell, ScoreColumnView,
    };
    let fit_cell = |score: i64, arithmetic: &str| ScoreCell {
        raw: score,
        score,
        weighted: score,
        arithmetic: arithmetic.into(),
    };
    SchedView {
        queue: QueueView {
            active: 0,
            backoff: 0,
            unschedulable: 1,
            pods: vec![QueuedPodView {
                pod: "default/picky".into(),
                place: "unschedulablePods".into(),
                attempts: 1,
                plugins: vec!["NodeAffinity".into()],
            }],
            recent: vec![AttemptSummary {
                seq: 1,
                pod: "default/web".into(),
                node: "node-3".into(),
                time: 0,
            }],
            attempts: 2,
        },
        decision: Some(DecisionView {
            pod: "default/web".into(),
            seq: 1,
            attempt: 1,
            cycle: 1,
            profile: "default-scheduler".into(),
            scale: 100,
            node: "node-3".into(),
            all_nodes: 3,
            evaluated: 3,
            feasible: 2,
            filters: vec!["NodeName".into(), "NodeResourcesFit".into()],
            scores: vec![ScoreColumnView {
                plugin: "NodeResourcesFit".into(),
                weight: 1,
            }],
            rows_total: 3,
            rows: vec![
                NodeRow {
                    name: "node-3".into(),
                    filters: vec![FilterCell::Passed, FilterCell::Passed],
                    scores: vec![fit_cell(68, "cpu (8000 − 2500) × 100 / 8000 = 68")],
                    total: Some(68),
                    nominated: false,
                },
                NodeRow {
                    name: "node-2".into(),
                    filters: vec![FilterCell::Passed, FilterCell::Passed],
                    scores: vec![fit_cell(37, "cpu (4000 − 2500) × 100 / 4000 = 37")],
                    total: Some(37),
                    nominated: false,
                },
                NodeRow {
                    name: EVIL.into(),
                    filters: vec![
                        FilterCell::Passed,
                        FilterCell::Failed {
                            status: "Unschedulable".into(),
                            reasons: vec!["Insufficient cpu".into()],
                        },
                    ],
                    scores: vec![],
                    total: None,
                    nominated: false,
                },
            ],
            rejected: vec![ReasonCount {
                reason: "Insufficient cpu".into(),
                count: 1,
            }],
            ..DecisionView::default()
        }),
        missing: String::new(),
        config: "kind: KubeSchedulerConfiguration".into(),
    }
}

#[test]
async fn the_scheduling_view_steps_through_the_phases() {
    let mut s = hostile_state();
    s.tab = "scheduling";
    let view = sched_view();
    s.compare = Some(Rc::new(kubeglass::protocol::CompareView {
        config: view.config.clone(),
        decision: view.decision.clone(),
        pods: 2,
        differ: 1,
        differences: vec![(EVIL.into(), "node-3".into(), "node-2".into())],
        ..Default::default()
    }));
    s.sched = Some(Rc::new(view));
    let (root, link) = render(s).await;
    assert!(
        link.take_sent().iter().any(|m| matches!(
            m,
            ToWorker::Query {
                query: kubeglass::protocol::Query::Scheduling { .. },
                ..
            }
        )),
        "the view asks the worker"
    );
    let phase = || find(&root, "[data-testid=sched-phase]");
    assert_eq!(
        phase().get_attribute("data-phase").as_deref(),
        Some("filter")
    );
    let filters = find(&root, "[data-testid=sched-filters]");
    let text = filters.text_content().unwrap_or_default();
    assert!(text.contains("Insufficient cpu"), "{text}");
    assert!(text.contains(EVIL), "a node's name is text: {text}");
    assert_eq!(count(&root, "script"), 0);
    assert!(find(&root, "[data-testid=sched-queue]")
        .text_content()
        .unwrap_or_default()
        .contains("default/picky"));
    // Forward: the score table with each cell's arithmetic.
    click(&root, "[data-testid=sched-next]").await;
    assert_eq!(
        phase().get_attribute("data-phase").as_deref(),
        Some("score")
    );
    let text = find(&root, "[data-testid=sched-scores]")
        .text_content()
        .unwrap_or_default();
    assert!(text.contains("(4000 − 2500) × 100 / 4000 = 37"), "{text}");
    // Forward to the totals and the winner, back one phase, forward again.
    click(&root, "[data-testid=sched-next]").await;
    assert_eq!(
        phase().get_attribute("data-phase").as_deref(),
        Some("total")
    );
    click(&root, "[data-testid=sched-next]").await;
    assert_eq!(
        phase().get_attribute("data-phase").as_deref(),
        Some("winner")
    );
    assert!(find(&root, "[data-testid=sched-winner]")
        .text_content()
        .unwrap_or_default()
        .contains("node-3"));
    click(&root, "[data-testid=sched-prev]").await;
    assert_eq!(
        phase().get_attribute("data-phase").as_deref(),
        Some("total")
    );
    click(&root, "[data-testid=sched-prev]").await;
    click(&root, "[data-testid=sched-prev]").await;
    assert_eq!(
        phase().get_attribute("data-phase").as_deref(),
        Some("filter")
    );
    // Picking a queued pod asks for its decision; the replay button asks for a comparison.
    link.take_sent();
    click(&root, "[data-testid=sched-pick][data-pod='default/picky']").await;
    assert!(link.take_sent().iter().any(|m| matches!(
        m,
        ToWorker::Query {
            query: kubeglass::protocol::Query::Scheduling { pod: Some(p), .. },
            ..
        } if p == "default/picky"
    )));
    click(&root, "[data-testid=sched-replay]").await;
    assert!(link.take_sent().iter().any(|m| matches!(
        m,
        ToWorker::Query {
            query: kubeglass::protocol::Query::Compare { config, .. },
            ..
        } if config == "kind: KubeSchedulerConfiguration"
    )));
    // The comparison's answer for that configuration shows side by side.
    let result = find(&root, "[data-testid=sched-compare-result]");
    let text = result.text_content().unwrap_or_default();
    assert!(text.contains("1 of 2 pods placed differently"), "{text}");
    assert!(text.contains(EVIL), "{text}");
    assert_eq!(count(&root, "script"), 0);
}

fn ctl_entry(seq: u64, actor: &str, action: &str) -> EntryView {
    EntryView {
        seq,
        time: seq * 1_000_000_000,
        actor: actor.into(),
        action: action.into(),
        reason: EVIL.into(),
        objects: vec![ObjRefView {
            key: ObjKey::new("ServiceAccount", "default", EVIL),
            revision: seq,
        }],
        detail: DetailView::Note,
        revision: seq,
    }
}

#[test]
async fn the_controllers_view_steps_through_reconciles_and_draws_a_rollout() {
    use kubeglass::protocol::{
        CtlView, LoopSummary, Query, ReconcileView, RolloutPoint, RolloutView,
    };
    let mut s = hostile_state();
    s.tab = "controllers";
    s.ctl = Some(Rc::new(CtlView {
        loops: vec![LoopSummary {
            name: "serviceaccount-controller".into(),
            members: 1,
            reconciles: 4,
            last_time: 0,
            recent: vec!["ensure serviceaccount".into()],
        }],
        name: "serviceaccount-controller".into(),
        reconcile: Some(ReconcileView {
            index: 0,
            total: 4,
            seq: 4,
            prev: 0,
            next: 9,
            actor: "serviceaccount-controller".into(),
            time: 0,
            observed: vec![ctl_entry(
                3,
                "apiserver",
                "watch event ADDED namespace default",
            )],
            actions: vec![ctl_entry(
                4,
                "serviceaccount-controller",
                "ensure serviceaccount",
            )],
            more: 0,
        }),
        window: 100,
    }));
    s.rollout = Some(Rc::new(RolloutView {
        deployment: "default/web".into(),
        deployments: vec!["default/web".into()],
        strategy: "RollingUpdate".into(),
        max_surge: "30%".into(),
        max_unavailable: "30%".into(),
        sets: vec![("web-1".into(), "1".into()), (EVIL.into(), "2".into())],
        points: vec![
            RolloutPoint {
                seq: 5,
                time: 0,
                revision: 9,
                desired: 4,
                bounds: Some((6, 3)),
                new: Some(0),
                counts: [4, 4, 4, 0, 0, 0],
            },
            RolloutPoint {
                seq: 6,
                time: 1,
                revision: 10,
                desired: 4,
                bounds: Some((6, 3)),
                new: Some(1),
                counts: [2, 0, 0, 4, 4, 4],
            },
        ],
        dropped: 0,
    }));
    let (root, link) = render(s).await;
    let asked = |m: &ToWorker, want: &dyn Fn(&Query) -> bool| matches!(m, ToWorker::Query { query, .. } if want(query));
    assert!(link.take_sent().iter().any(|m| asked(m, &|q| matches!(
        q,
        Query::Controllers {
            name: None,
            at: None
        }
    ))));
    let text = find(&root, "[data-testid=ctl-reconcile]")
        .text_content()
        .unwrap_or_default();
    assert!(text.contains("reconcile 1 of 4"), "{text}");
    assert!(text.contains(EVIL), "reasons and names are text: {text}");
    assert_eq!(count(&root, "script"), 0);
    // Next asks for the loop's next reconcile, by the trace entry it starts at.
    click(&root, "[data-testid=ctl-next]").await;
    assert!(link
        .take_sent()
        .iter()
        .any(|m| asked(m, &|q| matches!(q, Query::Controllers { at: Some(9), .. }))));
    // An object opens in the inspector.
    click(&root, "[data-testid=ctl-object]").await;
    let title = find(&root, "[data-testid=inspector-title]")
        .text_content()
        .unwrap_or_default();
    assert_eq!(title, format!("ServiceAccount default/{EVIL}"));
    // The rollout: a step chart with the bounds, and a row per change.
    click(&root, "[data-testid=ctl-part-rollout]").await;
    assert!(link
        .take_sent()
        .iter()
        .any(|m| asked(m, &|q| matches!(q, Query::Rollout { .. }))));
    assert_eq!(count(&root, "[data-testid=ctl-chart] polyline"), 7);
    assert_eq!(count(&root, "[data-testid=ctl-points] tbody tr"), 2);
    let text = find(&root, "[data-testid=ctl-points]")
        .text_content()
        .unwrap_or_default();
    assert!(text.contains("3…6") && text.contains(EVIL), "{text}");
    assert_eq!(count(&root, "script"), 0);
}

/// The state with a Node or a Pod selected and shown by the inspector.
fn inspecting(key: ObjKey, containers: &[&str]) -> AppState {
    AppState {
        selected: Some(key.clone()),
        inspected: Some(Rc::new(ObjectView {
            key,
            at: None,
            revision: 5,
            yaml: Some("metadata:\n  name: x\n".into()),
            replayed: false,
            containers: containers.iter().map(|c| c.to_string()).collect(),
        })),
        ..hostile_state()
    }
}

/// The fault actions the page sent.
fn sent_faults(link: &Link) -> Vec<kubeglass::protocol::Fault> {
    link.take_sent()
        .into_iter()
        .filter_map(|m| match m {
            ToWorker::Act {
                action: kubeglass::protocol::PersonAction::Fault(f),
                fork_at: None,
                ..
            } => Some(f),
            _ => None,
        })
        .collect()
}

#[test]
async fn the_fault_buttons_send_their_actions() {
    use kubeglass::protocol::Fault;
    let (root, link) = render(inspecting(ObjKey::new("Node", "", "node-1"), &[])).await;
    assert_eq!(
        count(&root, "[data-testid=fault-crash]"),
        0,
        "no pod buttons on a node"
    );
    let node = || "node-1".to_string();
    for (id, want) in [
        ("fault-node-down", Fault::NodeDown { node: node() }),
        ("fault-node-up", Fault::NodeUp { node: node() }),
        ("fault-partition", Fault::Partition { node: node() }),
        ("fault-cordon", Fault::Cordon { node: node() }),
        ("fault-uncordon", Fault::Uncordon { node: node() }),
        ("fault-drain", Fault::Drain { node: node() }),
    ] {
        link.take_sent();
        click(&root, &format!("[data-testid={id}]")).await;
        assert_eq!(sent_faults(&link), vec![want], "{id}");
    }
    let stop = find(&root, "[data-testid=fault-node-down]");
    assert_eq!(stop.text_content().as_deref(), Some(en(Key::FaultNodeDown)));

    let pod = ObjKey::new("Pod", "default", "web");
    let (root, link) = render(inspecting(pod.clone(), &["web", "sidecar"])).await;
    assert_eq!(
        count(&root, "[data-testid=fault-drain]"),
        0,
        "no node buttons on a pod"
    );
    link.take_sent();
    click(&root, "[data-testid=fault-crash]").await;
    let crash = |c: &str| Fault::Crash {
        namespace: "default".into(),
        pod: "web".into(),
        container: c.into(),
    };
    assert_eq!(
        sent_faults(&link),
        vec![crash("web")],
        "the first container by default"
    );
    let select =
        find(&root, "[data-testid=fault-container]").unchecked_into::<web_sys::HtmlSelectElement>();
    select.set_value("sidecar");
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let change = web_sys::Event::new_with_event_init_dict("change", &init).unwrap();
    select.dispatch_event(&change).unwrap();
    yew::scheduler::flush().await;
    click(&root, "[data-testid=fault-crash]").await;
    assert_eq!(
        sent_faults(&link),
        vec![crash("sidecar")],
        "the chosen container"
    );
    click(&root, "[data-testid=fault-delete-pod]").await;
    assert_eq!(
        sent_faults(&link),
        vec![Fault::DeletePod {
            namespace: "default".into(),
            pod: "web".into()
        }]
    );

    // One container: no choice to make.
    let (root, _) = render(inspecting(pod, &["web"])).await;
    assert_eq!(count(&root, "[data-testid=fault-container]"), 0);
    assert_eq!(count(&root, "[data-testid=fault-crash]"), 1);
}

#[test]
async fn a_fault_buttons_result_is_shown_in_the_inspector() {
    let mut s = inspecting(ObjKey::new("Node", "", "node-2"), &[]);
    s.inspector_result = Some(Rc::new(kubeglass::protocol::ActResult {
        command: "kubectl drain node-2 --ignore-daemonsets --delete-emptydir-data".into(),
        stderr: format!("error: cannot delete {EVIL}"),
        ..Default::default()
    }));
    let (root, _) = render(s).await;
    let result = find(&root, "[data-testid=fault-result]");
    let text = result.text_content().unwrap_or_default();
    assert!(text.contains("kubectl drain node-2"), "{text}");
    assert!(text.contains(EVIL), "the error is shown as text: {text}");
    assert_eq!(count(&root, "script"), 0);
    assert!(result.class_name().contains("kg-failed"));
}

/// A packet trace as the tracer answers it (with a hostile `why` and a stage the
/// page does not know), read by the worker's reader.
fn packet_trace(verdict: &str) -> kubeglass::protocol::PacketTraceView {
    let after_dnat = serde_json::json!({"src": "10.244.1.5", "dst": "10.244.2.7", "sport": 40000, "dport": 8080, "proto": "tcp"});
    let v = serde_json::json!({
        "verdict": verdict, "from": "pod/default/client", "to": "pod/default/web-1:8080",
        "proto": "tcp", "plugin": "flannel-vxlan",
        "hops": [
            {"node": "node-1", "netns": "pod/default/client", "interface": "eth0", "stage": "route",
             "rule": "default via 10.244.1.1 dev eth0", "why": "the pod's default route",
             "packet": {"src": "10.244.1.5", "dst": "10.96.0.20", "sport": 40000, "dport": 80, "proto": "tcp"}},
            {"node": "node-1", "netns": "node/node-1", "interface": "cni0", "stage": "netfilter",
             "hook": "PREROUTING", "table": "nat", "chain": "KUBE-SEP-ABC", "target": "DNAT", "notMatched": 12,
             "rule": "-A KUBE-SEP-ABC -p tcp -m tcp -j DNAT --to-destination 10.244.2.7:8080",
             "why": EVIL, "packet": after_dnat},
            {"node": "node-1", "netns": "node/node-1", "interface": "flannel.1", "stage": "encap",
             "why": "to node-2's pod CIDR through the VXLAN device", "packet": after_dnat,
             "outer": {"src": "10.0.0.2", "dst": "10.0.0.3", "proto": "udp", "dport": 8472, "vni": 1}},
            {"node": "node-2", "netns": "pod/default/web-1", "interface": "eth0", "stage": "teleport",
             "why": "a stage the page does not know", "packet": after_dnat},
            {"node": "node-2", "netns": "node/node-2", "stage": "drop", "table": "filter", "chain": "FORWARD",
             "target": "DROP", "rule": "-A FORWARD -p tcp -m tcp --dport 8080 -j DROP", "why": "a person's rule"}
        ]
    });
    kubeglass::host::net::trace_view("pod/default/client", "svc/default/web:80", "tcp", Ok(v))
}

fn network_view() -> kubeglass::protocol::NetworkView {
    use kubeglass::protocol::{ChainView, IptablesView, NetworkView, RuleView, TableView};
    let rule = |n: u32, text: &str, jump: &str| RuleView {
        number: n,
        text: text.into(),
        jump: jump.into(),
        packets: u64::from(n) * 3,
        bytes: u64::from(n) * 180,
    };
    let chain = |name: &str, policy: &str, rules: Vec<RuleView>| ChainView {
        name: name.into(),
        policy: policy.into(),
        rules,
        ..ChainView::default()
    };
    NetworkView {
        nodes: vec![("node-1".into(), true), ("node-2".into(), false)],
        ends: vec!["pod/default/client".into(), "node/node-1".into(), "external".into()],
        services: vec!["svc/default/web:80".into()],
        node: "node-1".into(),
        iptables: Some(IptablesView {
            node: "node-1".into(),
            rules: 4,
            tables: vec![TableView {
                name: "nat".into(),
                chains: vec![
                    chain(
                        "PREROUTING",
                        "ACCEPT",
                        vec![rule(
                            1,
                            "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
                            "KUBE-SERVICES",
                        )],
                    ),
                    chain(
                        "KUBE-SERVICES",
                        "",
                        vec![
                            rule(1, &format!("-A KUBE-SERVICES -m comment --comment \"{EVIL}\" -j KUBE-SEP-ABC"), "KUBE-SEP-ABC"),
                            rule(2, "-A KUBE-SERVICES -d 10.96.0.30/32 -j KUBE-SVC-GONE", "KUBE-SVC-GONE"),
                        ],
                    ),
                    chain(
                        "KUBE-SEP-ABC",
                        "",
                        vec![rule(1, "-A KUBE-SEP-ABC -p tcp -m tcp -j DNAT --to-destination 10.244.2.7:8080", "")],
                    ),
                ],
                more_chains: 0,
            }],
        }),
        missing: String::new(),
    }
}

fn network_state(verdict: &str) -> AppState {
    let map = MapState::from_delta(MapDelta {
        reset: true,
        detailed: true,
        nodes: vec![node("node-1"), node("node-2")],
        pods: ["client", "web-1"]
            .iter()
            .zip(["node-1", "node-2"])
            .map(|(name, node)| PodView {
                namespace: "default".into(),
                name: (*name).into(),
                node: node.into(),
                phase: Phase::Running,
                owner: String::new(),
                deleting: false,
            })
            .collect(),
        total_pods: 2,
        ..MapDelta::default()
    });
    AppState {
        ready: true,
        tab: "network",
        map: Rc::new(map),
        network: Some(Rc::new(network_view())),
        packet_trace: Some(Rc::new(packet_trace(verdict))),
        ..AppState::default()
    }
}

fn attr(el: &Element, name: &str) -> String {
    el.get_attribute(name).unwrap_or_default()
}

#[test]
async fn the_network_view_steps_through_a_packet_trace() {
    use kubeglass::protocol::Query;
    let (root, link) = render(network_state("delivered")).await;
    assert!(
        link.take_sent().iter().any(|m| matches!(
            m,
            ToWorker::Query {
                query: Query::Network { .. },
                ..
            }
        )),
        "the view asks the worker for the ends and a node's rules"
    );
    assert!(find(&root, "[data-testid=net-simplified]")
        .text_content()
        .unwrap_or_default()
        .starts_with("Packets are simulated"));
    let verdict = find(&root, "[data-testid=net-verdict]");
    assert_eq!(attr(&verdict, "data-verdict"), "delivered");
    assert_eq!(
        verdict.text_content().as_deref(),
        Some("Delivered to pod/default/web-1:8080")
    );
    assert_eq!(
        count(&root, "[data-testid=net-hop]"),
        5,
        "every hop is shown"
    );
    let hop = |i: u32| find(&root, &format!("[data-testid=net-hop]:nth-child({i})"));
    // The first hop is the current one; the first headers have nothing to compare with.
    assert!(hop(1).class_name().contains("kg-current"));
    assert_eq!(count(&hop(1), "[data-changed=true]"), 0);
    // DNAT: the destination and its port changed, the source did not.
    let dst = find(&hop(2), "[data-field=dst]");
    assert_eq!(attr(&dst, "data-changed"), "true");
    assert!(dst.class_name().contains("kg-changed"));
    assert_eq!(
        dst.text_content().as_deref(),
        Some("dst 10.96.0.20 → 10.244.2.7")
    );
    assert_eq!(
        attr(&find(&hop(2), "[data-field=dport]"), "data-changed"),
        "true"
    );
    assert_eq!(
        attr(&find(&hop(2), "[data-field=src]"), "data-changed"),
        "false"
    );
    let text = hop(2).text_content().unwrap_or_default();
    assert!(
        text.contains("PREROUTING › nat › KUBE-SEP-ABC › DNAT"),
        "{text}"
    );
    assert!(text.contains("12 rules before it did not match"), "{text}");
    assert!(text.contains(EVIL), "the why is text: {text}");
    assert_eq!(count(&root, "script"), 0);
    // Encapsulation shows the outer headers; an unknown stage is drawn plainly.
    let outer = find(&hop(3), "[data-kind=outer]");
    assert!(outer.text_content().unwrap_or_default().contains("vni 1"));
    assert_eq!(
        count(&hop(3), "[data-changed=true]"),
        0,
        "nothing changed at the encap hop"
    );
    assert!(find(&hop(4), ".kg-net-stage")
        .class_name()
        .contains("kg-stage-other"));
    assert_eq!(attr(&hop(4), "data-stage"), "teleport");

    // The packet on the map: the client pod and its node.
    assert_eq!(count(&root, "[data-testid=map-packet]"), 1);
    assert!(attr(
        &find(&root, "[data-testid=pod][data-pod='default/client']"),
        "class"
    )
    .contains("kg-packet-here"));
    // Stepping moves the current hop, and the packet, to node-2's pod.
    for _ in 0..3 {
        click(&root, "[data-testid=net-next]").await;
    }
    assert_eq!(
        find(&root, "[data-testid=net-hop-of]")
            .text_content()
            .as_deref(),
        Some("hop 4 of 5")
    );
    assert!(hop(4).class_name().contains("kg-current"));
    assert!(hop(5).class_name().contains("kg-ahead"));
    assert!(attr(
        &find(&root, "[data-testid=pod][data-pod='default/web-1']"),
        "class"
    )
    .contains("kg-packet-here"));
    assert!(!attr(
        &find(&root, "[data-testid=pod][data-pod='default/client']"),
        "class"
    )
    .contains("kg-packet-here"));
    click(&root, "[data-testid=net-prev]").await;
    assert!(hop(3).class_name().contains("kg-current"));

    // The form asks the worker for a trace: a query, not an action.
    let set = |sel: &str, v: &str| {
        find(&root, sel)
            .unchecked_into::<web_sys::HtmlInputElement>()
            .set_value(v)
    };
    set("[data-testid=net-from]", "external:203.0.113.10");
    set("[data-testid=net-to]", "web.default.svc.cluster.local:80");
    find(&root, "[data-testid=net-proto]")
        .unchecked_into::<web_sys::HtmlSelectElement>()
        .set_value("udp");
    link.take_sent();
    click(&root, "[data-testid=net-trace]").await;
    let sent = link.take_sent();
    assert!(
        sent.iter().any(|m| matches!(
            m,
            ToWorker::Query { query: Query::PacketTrace { from, to, proto, .. }, .. }
                if from == "external:203.0.113.10" && to == "web.default.svc.cluster.local:80" && proto == "udp"
        )),
        "{sent:?}"
    );
    assert!(!sent.iter().any(|m| matches!(m, ToWorker::Act { .. })));
}

#[test]
async fn a_dropped_packet_and_a_tracer_error_are_shown() {
    let (root, _) = render(network_state("dropped")).await;
    let verdict = find(&root, "[data-testid=net-verdict]");
    assert!(verdict.class_name().contains("kg-dropped"));
    assert_eq!(
        verdict.text_content().as_deref(),
        Some("Dropped by -A FORWARD -p tcp -m tcp --dport 8080 -j DROP")
    );
    let mut s = network_state("dropped");
    s.packet_trace = Some(Rc::new(kubeglass::host::net::trace_view(
        "pod/default/client",
        "svc/default/nope:80",
        "tcp",
        Err(format!("trace: no service {EVIL}")),
    )));
    let (root, _) = render(s).await;
    let e = find(&root, "[data-testid=net-trace-error]");
    assert!(e.text_content().unwrap_or_default().contains(EVIL));
    assert_eq!(count(&root, "[data-testid=net-hop]"), 0);
    assert_eq!(count(&root, "script"), 0);
}

#[test]
async fn the_iptables_view_draws_chains_lights_the_trace_and_restores() {
    use kubeglass::protocol::{rule_key, PersonAction, Query};
    let (root, link) = render(network_state("delivered")).await;
    click(&root, "[data-testid=net-part-iptables]").await;
    let sent = link.take_sent();
    let want = rule_key(
        "nat",
        "KUBE-SEP-ABC",
        "-A KUBE-SEP-ABC -p tcp -m tcp -j DNAT --to-destination 10.244.2.7:8080",
    );
    assert!(
        sent.iter().any(|m| matches!(
            m,
            ToWorker::Query { query: Query::Network { lit, .. }, .. } if *lit == vec![want.clone()]
        )),
        "the trace's rules on the node are asked for: {sent:?}"
    );
    assert_eq!(count(&root, "[data-testid=ipt-chain]"), 3);
    let chain = |name: &str| {
        find(
            &root,
            &format!("[data-testid=ipt-chain][data-chain='{name}']"),
        )
    };
    let pre = chain("PREROUTING");
    assert!(pre
        .text_content()
        .unwrap_or_default()
        .contains("policy ACCEPT [0:0]"));
    // Jumps are links to their chains; a chain not shown cannot be followed.
    let jump = find(&pre, "[data-testid=ipt-jump]");
    assert_eq!(attr(&jump, "data-chain"), "KUBE-SERVICES");
    assert!(gloo::utils::document()
        .get_element_by_id("kg-ipt-nat-KUBE-SERVICES")
        .is_some());
    click(
        &root,
        "[data-testid=ipt-chain][data-chain='PREROUTING'] [data-testid=ipt-jump]",
    )
    .await;
    let gone = find(&root, "[data-testid=ipt-jump][data-chain='KUBE-SVC-GONE']");
    assert!(gone.has_attribute("disabled"));
    // Counters, and hostile comments as text.
    let services = chain("KUBE-SERVICES");
    let text = services.text_content().unwrap_or_default();
    assert!(
        text.contains("[3:180]") && text.contains("[6:360]"),
        "{text}"
    );
    assert!(text.contains(EVIL));
    assert_eq!(count(&root, "script"), 0);
    // The rule the trace met is lit, and its chain; the others are not.
    let sep = chain("KUBE-SEP-ABC");
    assert!(sep.class_name().contains("kg-lit-chain"));
    assert_eq!(
        attr(&find(&sep, "[data-testid=ipt-rule]"), "data-lit"),
        "true"
    );
    assert_eq!(
        attr(&find(&pre, "[data-testid=ipt-rule]"), "data-lit"),
        "false"
    );
    assert!(!pre.class_name().contains("kg-lit-chain"));
    // Stepping to the netfilter hop outlines its rule.
    click(&root, "[data-testid=net-part-trace]").await;
    click(&root, "[data-testid=net-next]").await;
    click(&root, "[data-testid=net-part-iptables]").await;
    assert!(find(
        &root,
        "[data-testid=ipt-chain][data-chain='KUBE-SEP-ABC'] [data-testid=ipt-rule]"
    )
    .class_name()
    .contains("kg-current"));

    // The editor sends the restore as a person's action, --noflush unless unticked.
    let restores = |link: &Link| -> Vec<(String, String, bool)> {
        link.take_sent()
            .into_iter()
            .filter_map(|m| match m {
                ToWorker::Act {
                    action:
                        PersonAction::IptablesRestore {
                            node,
                            rules,
                            noflush,
                        },
                    ..
                } => Some((node, rules, noflush)),
                _ => None,
            })
            .collect()
    };
    link.take_sent();
    click(&root, "[data-testid=ipt-apply]").await;
    let default = kubeglass::web::components::network::DEFAULT_RULES.to_string();
    assert_eq!(
        restores(&link),
        vec![("node-1".to_string(), default.clone(), true)]
    );
    find(&root, "[data-testid=ipt-noflush]")
        .unchecked_into::<web_sys::HtmlInputElement>()
        .set_checked(false);
    click(&root, "[data-testid=ipt-apply]").await;
    assert_eq!(
        restores(&link),
        vec![("node-1".to_string(), default, false)]
    );

    // A parse error shows its line and column under the text.
    let mut s = network_state("delivered");
    s.net_result = Some(Rc::new(kubeglass::protocol::ActResult {
        command: "iptables-restore --noflush  # on node-1".into(),
        stderr: "iptables-restore v1.8.9 (nf_tables): unknown option \"--dportx\"\nError occurred at line: 2".into(),
        position: Some((2, 30)),
        ..Default::default()
    }));
    let (root, _) = render(s).await;
    click(&root, "[data-testid=net-part-iptables]").await;
    let place = find(&root, "[data-testid=ipt-error-place]");
    let text = place.text_content().unwrap_or_default();
    assert!(text.contains("line 2, column 30"), "{text}");
    assert!(
        text.contains("-I FORWARD 1 -p tcp"),
        "the line itself: {text}"
    );
    assert!(find(&root, "[data-testid=ipt-result]")
        .class_name()
        .contains("kg-failed"));
}

/// A delivered trace with its reply, as the tracer answers it.
fn traced_with_reply() -> kubeglass::protocol::PacketTraceView {
    let out = serde_json::json!({"src": "10.244.1.5", "dst": "10.244.2.7", "sport": 40000, "dport": 80, "proto": "tcp"});
    let back = serde_json::json!({"src": "10.244.2.7", "dst": "10.244.1.5", "sport": 80, "dport": 40000, "proto": "tcp"});
    let v = serde_json::json!({
        "verdict": "delivered", "from": "pod/default/client", "to": "pod/default/web-2:80",
        "proto": "tcp", "plugin": "flannel-vxlan",
        "hops": [
            {"node": "node-1", "netns": "pod/default/client", "interface": "eth0", "stage": "route",
             "rule": "default via 10.244.1.1 dev eth0", "why": "the pod's default route", "packet": out},
            {"node": "node-1", "netns": "node/node-1", "interface": "cni0", "stage": "bridge",
             "why": "the bridge takes it to the host", "packet": out},
            {"node": "node-2", "netns": "pod/default/web-2", "interface": "eth0", "stage": "deliver",
             "why": "nginx listens on 80", "packet": out}
        ],
        "reply": {
            "verdict": "delivered", "to": "pod/default/client:40000",
            "hops": [
                {"node": "node-2", "netns": "pod/default/web-2", "interface": "eth0", "stage": "route",
                 "rule": "default via 10.244.2.1 dev eth0", "why": "the answer leaves by the default route", "packet": back},
                {"node": "node-1", "netns": "node/node-1", "interface": "vethabcdef01", "stage": "conntrack",
                 "why": "conntrack: the reply of an ESTABLISHED connection", "packet": back},
                {"node": "node-1", "netns": "pod/default/client", "interface": "eth0", "stage": "deliver",
                 "why": "to the client's socket", "packet": back}
            ]
        }
    });
    kubeglass::host::net::trace_view("pod/default/client", "pod/default/web-2:80", "tcp", Ok(v))
}

fn topology_view() -> kubeglass::protocol::TopologyView {
    use kubeglass::protocol::{IfaceView, PeerView, PodNsView, RootNsView, TopologyView};
    let iface = |name: &str, addr: &str, kind: &str| IfaceView {
        name: name.into(),
        addr: addr.into(),
        kind: kind.into(),
        note: String::new(),
    };
    TopologyView {
        plugin: "flannel-vxlan".into(),
        nodes: vec!["node-1".into(), "node-2".into()],
        node: "node-1".into(),
        missing: String::new(),
        root: Some(RootNsView {
            up: true,
            pod_cidr: "10.244.1.0/24".into(),
            ifaces: vec![
                iface("eth0", "10.0.0.2/24", "nic"),
                iface("cni0", "10.244.1.1/24", "bridge"),
                iface("flannel.1", "10.244.1.0/32", "tunnel"),
            ],
            routes: vec![
                "default via 10.0.0.1 dev eth0".into(),
                "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink".into(),
                EVIL.into(),
            ],
            listeners: vec![(10250, "kubelet".into())],
        }),
        pods: vec![
            PodNsView {
                namespace: "default".into(),
                name: "agent".into(),
                ip: "10.0.0.2".into(),
                host_network: true,
                veth: String::new(),
                routes: vec![],
            },
            PodNsView {
                namespace: "default".into(),
                name: "client".into(),
                ip: "10.244.1.5".into(),
                host_network: false,
                veth: "vethabcdef01".into(),
                routes: vec!["default via 10.244.1.1 dev eth0".into()],
            },
        ],
        more_pods: 7,
        peers: vec![PeerView {
            node: "node-2".into(),
            ip: "10.0.0.3".into(),
            pod_cidr: "10.244.2.0/24".into(),
            route: "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink".into(),
        }],
    }
}

#[test]
async fn the_reply_follows_the_way_out_and_is_stepped_into() {
    let mut s = network_state("delivered");
    s.packet_trace = Some(Rc::new(traced_with_reply()));
    let (root, _link) = render(s).await;
    assert_eq!(count(&root, "[data-testid=net-hop]"), 6);
    assert_eq!(count(&root, "[data-testid=net-hop][data-dir=reply]"), 3);
    let head = find(&root, "[data-testid=net-reply-head]");
    assert!(head
        .text_content()
        .unwrap_or_default()
        .contains("pod/default/client:40000"));
    let rv = find(&root, "[data-testid=net-reply-verdict]");
    assert_eq!(attr(&rv, "data-verdict"), "delivered");
    assert_eq!(rv.text_content().as_deref(), Some("Reply: delivered"));
    // The reply's hops are in their own list, after the way out's.
    let reply_hops = find(&root, "[data-testid=net-reply-hops]");
    assert_eq!(count(&reply_hops, "[data-testid=net-hop]"), 3);
    assert_eq!(attr(&reply_hops, "start"), "4");
    assert_eq!(
        count(&find(&root, "[data-testid=net-hops]"), "[data-dir=reply]"),
        0
    );
    // Stepping goes on past the way out into the reply.
    for _ in 0..4 {
        click(&root, "[data-testid=net-next]").await;
    }
    let of = find(&root, "[data-testid=net-hop-of]");
    assert_eq!(of.text_content().as_deref(), Some("replyhop 5 of 6"));
    let current = find(&root, ".kg-net-hop.kg-current");
    assert_eq!(attr(&current, "data-dir"), "reply");
    assert_eq!(attr(&current, "data-stage"), "conntrack");
    assert!(find(&current, ".kg-net-stage")
        .class_name()
        .contains("kg-stage-conntrack"));
    // The packet on the map follows the reply to node-1.
    assert_eq!(count(&root, "[data-testid=map-packet]"), 1);
    click(&root, "[data-testid=net-next]").await;
    click(&root, "[data-testid=net-next]").await;
    assert!(
        find(&root, "[data-testid=net-next]").has_attribute("disabled"),
        "the reply's last hop is the last"
    );
    assert_eq!(
        attr(&find(&root, ".kg-net-hop.kg-current"), "data-stage"),
        "deliver"
    );
    // Host and path are asked with the trace.
    assert_eq!(count(&root, "[data-testid=net-host]"), 1);
    assert_eq!(count(&root, "[data-testid=net-path]"), 1);
}

#[test]
async fn the_topology_lights_the_current_hop_and_the_plugins_are_compared() {
    use kubeglass::protocol::Query;
    let mut s = network_state("delivered");
    s.packet_trace = Some(Rc::new(traced_with_reply()));
    s.topology = Some(Rc::new(topology_view()));
    let (root, link) = render(s).await;
    link.take_sent();
    click(&root, "[data-testid=net-part-topology]").await;
    let sent = link.take_sent();
    assert!(
        sent.iter().any(|m| matches!(
            m,
            ToWorker::Query { query: Query::Topology { node }, .. } if node == "node-1"
        )),
        "the current hop's node is asked for: {sent:?}"
    );
    let list = root.query_selector_all("[data-testid=topo-iface]").unwrap();
    let names: Vec<String> = (0..list.length())
        .filter_map(|i| list.item(i))
        .map(|n| attr(n.unchecked_ref::<Element>(), "data-name"))
        .collect();
    assert_eq!(names, ["eth0", "cni0", "flannel.1"]);
    assert!(find(&root, "[data-testid=topo-iface][data-name=cni0]")
        .text_content()
        .unwrap_or_default()
        .contains("10.244.1.1/24"));
    assert_eq!(count(&root, "[data-testid=topo-route]"), 3);
    assert_eq!(count(&root, "script"), 0, "routes are text");
    let agent = find(&root, "[data-testid=topo-pod][data-pod='default/agent']");
    assert_eq!(attr(&agent, "data-host-network"), "true");
    assert_eq!(count(&agent, "[data-testid=topo-veth]"), 0);
    assert_eq!(count(&agent, "[data-testid=topo-hostnet]"), 1);
    let client = find(&root, "[data-testid=topo-pod][data-pod='default/client']");
    assert_eq!(
        find(&client, "[data-testid=topo-veth]")
            .text_content()
            .as_deref(),
        Some("eth0 10.244.1.5 ⇄ vethabcdef01 @ cni0")
    );
    // Hop 1 is in the client's namespace: its box is lit, the root is not.
    assert_eq!(attr(&client, "data-lit"), "true");
    assert_eq!(
        attr(&find(&root, "[data-testid=topo-root]"), "data-lit"),
        "false"
    );
    assert_eq!(
        find(&root, "[data-testid=topo-more]")
            .text_content()
            .as_deref(),
        Some("7 more pods not shown")
    );
    let peer = find(&root, "[data-testid=topo-peer]");
    assert!(peer
        .text_content()
        .unwrap_or_default()
        .contains("via 10.244.2.0 dev flannel.1 onlink"));
    assert_eq!(attr(&peer, "data-lit"), "false");
    // Hop 2 is on cni0 in node-1's root namespace.
    click(&root, "[data-testid=net-part-trace]").await;
    click(&root, "[data-testid=net-next]").await;
    click(&root, "[data-testid=net-part-topology]").await;
    assert_eq!(
        attr(&find(&root, "[data-testid=topo-root]"), "data-lit"),
        "true"
    );
    assert_eq!(
        attr(
            &find(&root, "[data-testid=topo-iface][data-name=cni0]"),
            "data-lit"
        ),
        "true"
    );
    assert_eq!(
        attr(
            &find(&root, "[data-testid=topo-iface][data-name=eth0]"),
            "data-lit"
        ),
        "false"
    );
    assert_eq!(
        attr(
            &find(&root, "[data-testid=topo-pod][data-pod='default/client']"),
            "data-lit"
        ),
        "false"
    );

    // The comparison asks for the shown trace's packet.
    click(&root, "[data-testid=net-part-compare]").await;
    link.take_sent();
    click(&root, "[data-testid=cmp-ask]").await;
    let sent = link.take_sent();
    assert!(
        sent.iter().any(|m| matches!(
            m,
            ToWorker::Query { query: Query::NetCompare { from, to, .. }, .. }
                if from == "pod/default/client" && to == "pod/default/web-2:80"
        )),
        "{sent:?}"
    );
    assert!(!sent.iter().any(|m| matches!(m, ToWorker::Act { .. })));
}

#[test]
async fn the_plugins_are_shown_side_by_side() {
    use kubeglass::protocol::{NetCompareView, PluginRunView};
    let run = |plugin: &str, stages: &[&str], inter: &[&str]| PluginRunView {
        plugin: plugin.into(),
        verdict: "delivered".into(),
        hops: stages.len() as u32,
        stages: stages.iter().map(|s| s.to_string()).collect(),
        inter_node: inter.iter().map(|s| s.to_string()).collect(),
        netfilter: stages.iter().filter(|s| **s == "netfilter").count() as u32,
        reply: "delivered".into(),
        ..PluginRunView::default()
    };
    let mut s = network_state("delivered");
    s.packet_trace = Some(Rc::new(traced_with_reply()));
    s.net_compare = Some(Rc::new(NetCompareView {
        asked: (
            "pod/default/client".into(),
            "svc/default/web:80".into(),
            "tcp".into(),
        ),
        error: String::new(),
        current: "flannel-vxlan".into(),
        runs: vec![
            run(
                "flannel-vxlan",
                &["route", "netfilter", "encap", "wire", "decap", "deliver"],
                &["encap node-1 flannel.1: outer udp 10.0.0.2 → 10.0.0.3:8472 vni 1"],
            ),
            run(
                "ovs",
                &["route", "veth", "ovs", "ovs", "deliver"],
                &["ovs node-1 vethabcdef01: ip,nw_dst=10.244.2.0/24 actions=output:vxlan0"],
            ),
            PluginRunView {
                plugin: "direct-routing".into(),
                error: EVIL.into(),
                ..PluginRunView::default()
            },
        ],
    }));
    // The view's `asked` is that of the trace shown.
    let asked = s.packet_trace.as_ref().unwrap().asked.clone();
    Rc::make_mut(s.net_compare.as_mut().unwrap()).asked = asked;
    let (root, _link) = render(s).await;
    click(&root, "[data-testid=net-part-compare]").await;
    assert_eq!(count(&root, "[data-testid=cmp-run]"), 3);
    let vx = find(&root, "[data-testid=cmp-run][data-plugin=flannel-vxlan]");
    assert!(vx.class_name().contains("kg-current-plugin"));
    assert_eq!(attr(&vx, "data-netfilter"), "1");
    assert!(find(&vx, "[data-testid=cmp-inter]")
        .text_content()
        .unwrap_or_default()
        .contains(":8472"));
    assert_eq!(count(&vx, "[data-testid=cmp-stages] .kg-net-stage"), 6);
    let ovs = find(&root, "[data-testid=cmp-run][data-plugin=ovs]");
    assert_eq!(attr(&ovs, "data-netfilter"), "0");
    assert_eq!(
        find(&ovs, "[data-testid=cmp-netfilter]")
            .text_content()
            .as_deref(),
        Some("0 netfilter hops")
    );
    let dr = find(&root, "[data-testid=cmp-run][data-plugin=direct-routing]");
    assert_eq!(
        find(&dr, "[data-testid=cmp-run-error]")
            .text_content()
            .as_deref(),
        Some(EVIL)
    );
    assert_eq!(count(&root, "script"), 0);
}
