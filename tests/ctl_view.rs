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
        assert!(sim.step(), "work left but nothing to step");
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

#[test]
fn a_rollout_is_a_series_of_old_and_new_counts_within_the_bounds() {
    let sim = rollout();
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
    assert_eq!(
        v.sets,
        [
            ("web-1".to_string(), "1".to_string()),
            ("web-2".to_string(), "2".to_string())
        ]
    );
    let series: Vec<(Option<u16>, [i32; 6])> = v.points.iter().map(|p| (p.new, p.counts)).collect();
    assert_eq!(
        series,
        [
            (None, [0, 0, 0, 0, 0, 0]),
            (Some(0), [4, 0, 0, 0, 0, 0]),
            (Some(0), [4, 4, 4, 0, 0, 0]),
            (Some(1), [2, 0, 0, 4, 4, 4]),
            (Some(1), [2, 0, 0, 3, 4, 4]),
            (Some(1), [2, 2, 2, 3, 4, 4]),
            (Some(1), [2, 2, 2, 1, 4, 4]),
        ]
    );
    // 4 desired: 30% surge rounds up to 2, 30% unavailable down to 1.
    assert!(v
        .points
        .iter()
        .all(|p| p.desired == 4 && p.bounds == Some((6, 3))));
    let times: Vec<u64> = v.points.iter().map(|p| p.time / NANOS_PER_SEC).collect();
    assert_eq!(times, [0, 0, 0, 1, 1, 1, 2]);
    // Each point names the request that made the change.
    let trace = &sim.cluster().k.trace;
    for p in &v.points {
        let e = trace.get(p.seq).expect("the change's trace entry");
        assert!(
            matches!(e.detail, kubeglass::kernel::TraceDetail::Request { .. }),
            "{e:?}"
        );
        assert!(e.objects.iter().any(|o| o.revision == p.revision));
    }
    assert_eq!(
        trace.get(v.points[4].seq).unwrap().action.as_str(),
        "patch replicasets/scale default/web-1"
    );
    // Asked by name; an unknown name has no points.
    assert_eq!(rollout_view(&sim, "default/web").points.len(), 7);
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

const LEASE: &str = r#"  - apply: |
      apiVersion: coordination.k8s.io/v1
      kind: Lease
      metadata: {name: node-1, namespace: kube-node-lease}
      spec: {holderIdentity: node-1, leaseDurationSeconds: 40, renewTime: "2024-08-13T00:00:00.000000Z"}
"#;

fn pod(name: &str, node: &str) -> String {
    format!(
        r#"  - apply: |
      apiVersion: v1
      kind: Pod
      metadata:
        name: {name}
        ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: 3c5e9a42-0000-4000-8000-000000000001, controller: true}}]
      spec: {{nodeName: {node}, containers: [{{name: web, image: nginx}}]}}
"#
    )
}

fn renew(secs: u32) -> String {
    format!("  - advance: 10s\n  - kubectl: patch lease node-1 -n kube-node-lease --type=merge -p '{{\"spec\":{{\"renewTime\":\"2024-08-13T00:00:{secs:02}.000000Z\"}}}}'\n")
}

#[test]
fn a_node_failure_runs_from_missed_heartbeats_to_rescheduled_pods() {
    let text = format!(
        "{HEAD}{LEASE}{}{}{}  - advance: 45s\n{}{}  - kubectl: delete pod web-a --wait=false\n{}",
        renew(10),
        renew(20),
        pod("web-a", "node-1"),
        "  - kubectl: patch node node-1 --subresource=status --type=merge -p '{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"Unknown\",\"reason\":\"NodeStatusUnknown\",\"message\":\"Kubelet stopped posting node status.\"}]}}'\n",
        "  - kubectl: patch node node-1 -p '{\"spec\":{\"taints\":[{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\"}]}}'\n",
        pod("web-b", "node-2"),
    );
    let sim = run(&text);
    // The node that is not Ready is the one shown first.
    let v = node_failure_view(&sim, "");
    assert_eq!(v.node, "node-1");
    assert_eq!(v.nodes, ["node-1", "node-2"]);
    assert_eq!((v.renewals, v.interval), (3, 10));
    assert_eq!(v.last_renew, Some(20 * NANOS_PER_SEC));
    let got: Vec<(FailKind, u64, &str, &str, &str)> = v
        .items
        .iter()
        .map(|i| {
            (
                i.kind,
                i.time / NANOS_PER_SEC,
                i.actor.as_str(),
                i.subject.as_str(),
                i.detail.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                FailKind::Ready,
                0,
                "kubelet/node-1",
                "True",
                "KubeletReady: kubelet is posting ready status"
            ),
            (
                FailKind::Renewed,
                20,
                "kubectl",
                "3",
                "2024-08-13T00:00:20.000000Z"
            ),
            (FailKind::Missed, 30, "", "1", ""),
            (FailKind::Missed, 40, "", "2", ""),
            (FailKind::Missed, 50, "", "3", ""),
            (FailKind::Missed, 60, "", "4", ""),
            (
                FailKind::Ready,
                65,
                "kubectl",
                "Unknown",
                "NodeStatusUnknown: Kubelet stopped posting node status."
            ),
            (
                FailKind::TaintAdded,
                65,
                "kubectl",
                "node.kubernetes.io/unreachable:NoExecute",
                ""
            ),
            (
                FailKind::PodDeleted,
                65,
                "kubectl",
                "default/web-a",
                got_reason(&v)
            ),
            (
                FailKind::PodCreated,
                65,
                "kubectl",
                "default/web-b",
                "ReplicaSet/web-1"
            ),
            (FailKind::PodBound, 65, "kubectl", "default/web-b", "node-2"),
        ]
    );
    // Every item but a missed heartbeat points at its trace entry.
    for i in v.items.iter().filter(|i| i.kind != FailKind::Missed) {
        assert!(sim.cluster().k.trace.get(i.seq).is_some(), "{i:?}");
    }
    // A healthy node shows no missed heartbeat.
    let healthy = node_failure_view(&sim, "node-2");
    assert!(healthy.items.iter().all(|i| i.kind != FailKind::Missed));
    assert_eq!(healthy.renewals, 0);
}

fn got_reason(v: &kubeglass::protocol::NodeFailView) -> &str {
    v.items
        .iter()
        .find(|i| i.kind == FailKind::PodDeleted)
        .map_or("", |i| i.detail.as_str())
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
