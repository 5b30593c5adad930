//! The controllers' views built by the worker host from the trace and the store's
//! history: control loops and their reconciles, a Deployment's rollout with the
//! rolling update's bounds, and a node's failure from its missed heartbeats to its
//! pods' replacements. The scenarios make every object through kubectl, so the
//! views are checked without any particular controller.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::api::intstr::IntOrString;
use kubeglass::api::object::DEPLOYMENTS;
use kubeglass::host::ctl::{controllers_view, fenceposts, node_failure_view, rollout_view};
use kubeglass::host::Sim;
use kubeglass::kernel::NANOS_PER_SEC;
use kubeglass::protocol::{encode, DetailView, FailKind, Query, Reply};

const HEAD: &str = r#"
apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {name: ctl-view}
spec:
  cluster:
    nodes:
    - metadata: {name: node-1, annotations: {kubeglass.dev/kubelet: "none"}}
    - metadata: {name: node-2, annotations: {kubeglass.dev/kubelet: "none"}}
  steps:
"#;

const DEPLOYMENT: &str = r#"  - apply: |
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec:
        replicas: 4
        selector: {matchLabels: {app: web}}
        strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 30%, maxUnavailable: 30%}}
        template:
          metadata: {labels: {app: web}}
          spec: {containers: [{name: web, image: nginx}]}
"#;

fn replica_set(name: &str, revision: u32, replicas: u32, uid: &str) -> String {
    format!(
        r#"  - apply: |
      apiVersion: apps/v1
      kind: ReplicaSet
      metadata:
        name: {name}
        annotations: {{deployment.kubernetes.io/revision: "{revision}"}}
        ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: web, uid: {uid}, controller: true}}]
      spec:
        replicas: {replicas}
        selector: {{matchLabels: {{app: web, rev: "{revision}"}}}}
        template:
          metadata: {{labels: {{app: web, rev: "{revision}"}}}}
          spec: {{containers: [{{name: web, image: "nginx:{revision}"}}]}}
"#
    )
}

fn status(rs: &str, n: u32) -> String {
    format!("  - kubectl: patch rs {rs} --subresource=status --type=merge -p '{{\"status\":{{\"replicas\":{n},\"readyReplicas\":{n},\"availableReplicas\":{n}}}}}'\n")
}

/// Runs a sim until its scenario is done and no work is due now.
fn finish(sim: &mut Sim) {
    loop {
        let (done, all) = sim.scenario_progress();
        if done == all && !sim.op_ready() {
            return;
        }
        if !sim.step() {
            // Only periodic work (heartbeats) is left once the last step ran.
            let (done, all) = sim.scenario_progress();
            assert_eq!(done, all, "work left but nothing to step");
            return;
        }
    }
}

fn run(text: &str) -> Sim {
    let mut sim = Sim::new(text).unwrap();
    finish(&mut sim);
    sim
}

/// The rollout scenario: the Deployment first (its uid is deterministic), then
/// its ReplicaSets owned by that uid, scaled and updated as a rolling update would.
fn rollout() -> Sim {
    let first = run(&format!("{HEAD}{DEPLOYMENT}"));
    let uid = first
        .cluster()
        .api()
        .store()
        .get(&DEPLOYMENTS, "default", "web")
        .unwrap()
        .meta()
        .uid
        .clone();
    let text = format!(
        "{HEAD}{DEPLOYMENT}{}{}  - advance: 1s\n{}  - kubectl: scale rs web-1 --replicas=3\n{}  - advance: 1s\n  - kubectl: scale rs web-1 --replicas=1\n",
        replica_set("web-1", 1, 4, &uid),
        status("web-1", 4),
        replica_set("web-2", 2, 2, &uid),
        status("web-2", 2),
    );
    run(&text)
}

#[test]
fn fenceposts_round_as_upstream() {
    let pct = |s: &str| IntOrString::String(s.into());
    // Surge rounds up, unavailable rounds down.
    assert_eq!(fenceposts(Some(&pct("25%")), Some(&pct("25%")), 10), (3, 2));
    assert_eq!(fenceposts(Some(&pct("30%")), Some(&pct("30%")), 4), (2, 1));
    // Both zero: one may be unavailable, or the rollout could never progress.
    assert_eq!(
        fenceposts(Some(&IntOrString::Int(0)), Some(&pct("10%")), 5),
        (0, 1)
    );
    assert_eq!(fenceposts(Some(&IntOrString::Int(2)), None, 5), (2, 0));
}

const REAL_HEAD: &str = r#"
apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {name: ctl-view-real}
spec:
  cluster:
    nodes:
    - metadata: {name: node-1}
    - metadata: {name: node-2}
  steps:
"#;

#[test]
fn a_rollout_is_a_series_of_old_and_new_counts_within_the_bounds() {
    // The Deployment controller and the kubelets do the rolling update.
    let sim = run(&format!(
        "{REAL_HEAD}{DEPLOYMENT}  - settle: {{}}\n  - kubectl: set image deployment/web web=nginx:1.27\n  - settle: {{}}\n"
    ));
    let v = rollout_view(&sim, "");
    assert_eq!(v.deployment, "default/web");
    assert_eq!(v.deployments, ["default/web"]);
    assert_eq!(
        (
            v.strategy.as_str(),
            v.max_surge.as_str(),
            v.max_unavailable.as_str()
        ),
        ("RollingUpdate", "30%", "30%")
    );
    let revisions: Vec<&str> = v.sets.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(revisions, ["1", "2"]);
    assert!(v.sets.iter().all(|(name, _)| name.starts_with("web-")));
    // 4 desired: 30% surge rounds up to 2, 30% unavailable down to 1.
    assert!(v
        .points
        .iter()
        .all(|p| p.desired == 4 && p.bounds == Some((6, 3))));
    // Within the bounds at every step: never more than 6 pods wanted, and once the
    // first ReplicaSet was fully available, never fewer than 3 available.
    let mut started = false;
    for p in &v.points {
        let [new_spec, _, new_avail, old_spec, _, old_avail] = p.counts;
        assert!(new_spec + old_spec <= 6, "{p:?}");
        if started {
            assert!(new_avail + old_avail >= 3, "{p:?}");
        }
        started |= p.new == Some(0) && new_avail == 4;
    }
    assert!(started);
    // Both ReplicaSets were scaled in turn, and the rollout ends on the new one.
    assert!(v
        .points
        .iter()
        .any(|p| p.new == Some(1) && p.counts[3] == 4 && p.counts[0] > 0));
    let last = v.points.last().unwrap();
    assert_eq!((last.new, last.counts), (Some(1), [4, 4, 4, 0, 0, 0]));
    // Each point names the trace entry of its change.
    let trace = &sim.cluster().k.trace;
    for p in &v.points {
        let e = trace.get(p.seq).expect("the change's trace entry");
        assert!(e.objects.iter().any(|o| o.revision == p.revision), "{e:?}");
    }
    assert!(rollout_view(&sim, "default/nope").points.is_empty());
}

#[test]
fn loops_are_listed_and_their_reconciles_stepped_through() {
    let sim = rollout();
    let v = controllers_view(&sim, Some("serviceaccount-controller"), Some(0));
    let names: Vec<&str> = v.loops.iter().map(|l| l.name.as_str()).collect();
    assert!(names.contains(&"serviceaccount-controller"), "{names:?}");
    assert!(
        !names.contains(&"kubectl") && !names.contains(&"apiserver"),
        "{names:?}"
    );
    // The kubelets that registered the nodes are one group.
    let kubelet = v.loops.iter().find(|l| l.name == "kubelet").unwrap();
    assert_eq!((kubelet.members, kubelet.reconciles), (2, 2));
    assert_eq!(kubelet.recent, ["create nodes", "create nodes"]);
    let sa = v
        .loops
        .iter()
        .find(|l| l.name == "serviceaccount-controller")
        .unwrap();
    assert_eq!(sa.reconciles, 4);
    // One reconcile per namespace: the watch event it observed, the note saying what
    // it wanted and why, and the request that did it.
    let r = v.reconcile.unwrap();
    assert_eq!(
        (r.index, r.total, r.actor.as_str()),
        (0, 4, "serviceaccount-controller")
    );
    assert_eq!(r.observed.len(), 1);
    assert_eq!(r.observed[0].action, "watch event ADDED namespace default");
    let actions: Vec<&str> = r.actions.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "ensure serviceaccount default/default",
            "create serviceaccounts in default"
        ]
    );
    assert_eq!(
        r.actions[0].reason,
        "namespace default is active and has no \"default\" service account"
    );
    assert!(
        matches!(&r.actions[1].detail, DetailView::Request { code: 201, user, .. } if user == "system:serviceaccount:kube-system:service-account-controller")
    );
    // Stepping goes by trace entry, so it stays put as the trace grows: the next
    // reconcile is the next namespace's, and it leads back to this one.
    assert_eq!((r.prev, r.seq), (0, r.actions[0].seq));
    let next = controllers_view(&sim, Some("serviceaccount-controller"), Some(r.next))
        .reconcile
        .unwrap();
    assert_eq!((next.index, next.prev, next.seq), (1, r.seq, r.next));
    assert_eq!(
        next.actions[0].action,
        "ensure serviceaccount kube-node-lease/default"
    );
    // An entry inside a reconcile shows that reconcile; past the end, the last one.
    let inside = controllers_view(&sim, Some("serviceaccount-controller"), Some(next.seq + 1))
        .reconcile
        .unwrap();
    assert_eq!(inside.index, 1);
    let last = controllers_view(&sim, Some("serviceaccount-controller"), Some(u64::MAX))
        .reconcile
        .unwrap();
    assert_eq!(
        (last.index, last.next, last.actions[0].action.as_str()),
        (3, 0, "ensure serviceaccount kube-system/default")
    );
    // Unnamed: the loop that acted last.
    let newest = controllers_view(&sim, None, None);
    assert!(!newest.name.is_empty());
    assert_eq!(
        newest.reconcile.unwrap().index + 1,
        newest
            .loops
            .iter()
            .find(|l| l.name == newest.name)
            .unwrap()
            .reconciles
    );
    // An unknown loop: listed loops, nothing to step through.
    assert!(controllers_view(&sim, Some("nope"), None)
        .reconcile
        .is_none());
}

#[test]
fn a_node_failure_runs_from_missed_heartbeats_to_rescheduled_pods() {
    // The pod lands on node-1 (node-2 is cordoned), then node-1 goes down: the node
    // lifecycle controller marks it Unknown and taints it, the taint-eviction
    // controller evicts the pod after its 300s toleration, and the ReplicaSet's
    // replacement runs on node-2.
    let text = format!(
        "{REAL_HEAD}  - kubectl: cordon node-2\n{}  - settle: {{}}\n  - kubectl: uncordon node-2\n  - fault: {{nodeDown: node-1}}\n  - advance: 400s\n",
        r#"  - apply: |
      apiVersion: apps/v1
      kind: ReplicaSet
      metadata: {name: web}
      spec:
        replicas: 1
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec: {containers: [{name: web, image: nginx}]}
"#
    );
    let sim = run(&text);
    let v = node_failure_view(&sim, "");
    assert_eq!(v.node, "node-1");
    assert_eq!(v.nodes, ["node-1", "node-2"]);
    assert_eq!(v.interval, 10);
    assert!(v.renewals > 0);
    let first = |kind: FailKind| {
        v.items
            .iter()
            .find(|i| i.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} in {:#?}", v.items))
    };
    let up = first(FailKind::Ready);
    assert_eq!(
        (up.actor.as_str(), up.subject.as_str()),
        ("kubelet/node-1", "True")
    );
    let missed = first(FailKind::Missed);
    let unknown = v
        .items
        .iter()
        .find(|i| i.kind == FailKind::Ready && i.subject == "Unknown")
        .expect("Ready went Unknown");
    assert_eq!(unknown.actor, "node-lifecycle-controller");
    assert_eq!(
        unknown.detail,
        "NodeStatusUnknown: Kubelet stopped posting node status."
    );
    let last_renew = v.last_renew.unwrap();
    // Unknown past the 40s grace period, found by a 5s monitor pass.
    let grace = unknown.time - last_renew;
    assert!(
        (40 * NANOS_PER_SEC..=50 * NANOS_PER_SEC).contains(&grace),
        "{grace}"
    );
    let taint = v
        .items
        .iter()
        .find(|i| {
            i.kind == FailKind::TaintAdded
                && i.subject == "node.kubernetes.io/unreachable:NoExecute"
        })
        .expect("the NoExecute taint");
    let deleted = first(FailKind::PodDeleted);
    assert_eq!(deleted.actor, "taint-eviction-controller");
    // DefaultTolerationSeconds gave the pod 300s.
    assert_eq!(deleted.time - taint.time, 300 * NANOS_PER_SEC);
    let created = first(FailKind::PodCreated);
    assert_eq!(created.detail, "ReplicaSet/web");
    let bound = first(FailKind::PodBound);
    assert_eq!(
        (bound.subject.as_str(), bound.detail.as_str()),
        (created.subject.as_str(), "node-2")
    );
    // In that order.
    let order = [
        up.seq,
        missed.seq,
        unknown.seq,
        taint.seq,
        deleted.seq,
        created.seq,
        bound.seq,
    ];
    assert!(
        order
            .windows(2)
            .all(|w| w[0] <= w[1] || w[0] == 0 || w[1] == 0),
        "{order:?}"
    );
    assert!(missed.time > last_renew && missed.time < unknown.time);
    // Every item but a missed heartbeat points at its trace entry.
    for i in v.items.iter().filter(|i| i.kind != FailKind::Missed) {
        assert!(sim.cluster().k.trace.get(i.seq).is_some(), "{i:?}");
    }
    // A healthy node shows no missed heartbeat.
    let healthy = node_failure_view(&sim, "node-2");
    assert!(healthy.items.iter().all(|i| i.kind != FailKind::Missed));
}

#[test]
fn the_session_answers_the_views_and_they_cross_the_codec() {
    let sim = rollout();
    for q in [
        Query::Controllers {
            name: None,
            at: None,
        },
        Query::Rollout {
            deployment: String::new(),
        },
        Query::NodeFailure {
            node: String::new(),
        },
    ] {
        let r = kubeglass::host::session::answer(&sim, &q).unwrap();
        assert!(matches!(
            (&q, &r),
            (Query::Controllers { .. }, Reply::Controllers(_))
                | (Query::Rollout { .. }, Reply::Rollout(_))
                | (Query::NodeFailure { .. }, Reply::NodeFailure(_))
        ));
        let bytes = encode(&r);
        assert_eq!(kubeglass::protocol::decode::<Reply>(&bytes).unwrap(), r);
    }
}
