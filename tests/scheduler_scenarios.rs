//! The scheduler through scenarios: the FailedScheduling text, Events and the
//! PodScheduled condition as upstream writes them; preemption; a legacy Policy;
//! determinism and the decision record's shape.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::scenario::{self, StepResult};
use serde_json::Value;

fn run(text: &str) -> Vec<StepResult> {
    let s = scenario::parse(text).unwrap_or_else(|e| panic!("scenario: {e}"));
    scenario::run(&s).unwrap_or_else(|e| panic!("run: {e}")).0
}

fn ok(r: &StepResult) -> &Value {
    assert!(r.error.is_null(), "step failed: {}", r.error);
    &r.output
}

fn text(r: &StepResult) -> &str {
    ok(r).as_str().unwrap_or_default()
}

const NODES: &str = r#"
    nodes:
    - metadata: {name: node-1, annotations: {kubeglass.dev/kubelet: "none"}, labels: {disk: ssd}}
      status: {capacity: {cpu: "2", memory: 4Gi, pods: "110"}}
    - metadata: {name: node-2, annotations: {kubeglass.dev/kubelet: "none"}}
      status: {capacity: {cpu: "8", memory: 8Gi, pods: "110"}}
    - metadata: {name: node-3, annotations: {kubeglass.dev/kubelet: "none"}}
      status: {capacity: {cpu: "8", memory: 8Gi, pods: "110"}}
"#;

#[test]
fn failed_scheduling_text_event_and_condition() {
    let results = run(&format!(
        r#"
apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {{name: failed}}
spec:
  cluster:{NODES}
  steps:
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {{name: web}}
      spec:
        nodeSelector: {{disk: ssd}}
        containers:
        - name: web
          image: nginx
          resources: {{requests: {{cpu: "3"}}}}
  - explain: pod/default/web
  - kubectl: get events --field-selector reason=FailedScheduling -o jsonpath={{.items[0].message}}
  - kubectl: get pod web -o jsonpath={{.status.conditions[0].type}}/{{.status.conditions[0].status}}/{{.status.conditions[0].reason}}
  - kubectl: get pod web -o jsonpath={{.status.conditions[0].message}}
"#
    ));
    let want = "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling..";
    let record = ok(&results[1]);
    assert_eq!(record["node"], Value::Null);
    assert_eq!(record["message"], want);
    assert_eq!(text(&results[2]), want);
    assert_eq!(text(&results[3]), "PodScheduled/False/Unschedulable");
    assert_eq!(text(&results[4]), want);
    // Filters stop at a node's first failure; the record lists those that ran.
    let node1 = &record["nodes"][0];
    assert_eq!(node1["name"], "node-1");
    let filters: Vec<&str> = node1["filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["plugin"].as_str().unwrap())
        .collect();
    assert_eq!(
        filters,
        [
            "NodeUnschedulable",
            "NodeName",
            "TaintToleration",
            "NodeAffinity",
            "NodeResourcesFit"
        ]
    );
    assert_eq!(node1["filters"][4]["reasons"][0], "Insufficient cpu");
    assert_eq!(node1["filters"][4]["status"], "Unschedulable");
    assert_eq!(
        record["nodes"][1]["filters"][3]["status"],
        "UnschedulableAndUnresolvable"
    );
}

#[test]
fn scheduled_event_and_binding() {
    let results = run(&format!(
        r#"
apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {{name: bound}}
spec:
  cluster:{NODES}
  steps:
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {{name: web}}
      spec:
        containers:
        - {{name: web, image: nginx, resources: {{requests: {{cpu: "1"}}}}}}
  - kubectl: get pod web -o jsonpath={{.spec.nodeName}}
  - kubectl: get events --field-selector reason=Scheduled -o jsonpath={{.items[0].message}}
  - explain: pod/default/web
"#
    ));
    let node = text(&results[1]).to_string();
    assert!(["node-1", "node-2", "node-3"].contains(&node.as_str()));
    assert_eq!(
        text(&results[2]),
        format!("Successfully assigned default/web to {node}")
    );
    let record = ok(&results[3]);
    assert_eq!(record["node"], Value::from(node.clone()));
    // Every evaluated node carries its scores with weights, the total is the sum.
    for n in record["nodes"].as_array().unwrap() {
        let total: i64 = n["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["score"].as_i64().unwrap() * s["weight"].as_i64().unwrap())
            .sum();
        assert_eq!(n["total"].as_i64(), Some(total));
        assert!(n["scores"][0]["arithmetic"].is_string());
    }
    // Plugins that skipped at PreScore are absent from the scores.
    let plugins: Vec<&str> = record["nodes"][0]["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["plugin"].as_str().unwrap())
        .collect();
    assert_eq!(
        plugins,
        [
            "TaintToleration",
            "NodeResourcesFit",
            "NodeResourcesBalancedAllocation",
            "ImageLocality"
        ]
    );
}

#[test]
fn preemption_evicts_the_least_important_victims() {
    let results = run(r#"
apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {name: preemption}
spec:
  seed: 7
  cluster:
    nodes:
    - metadata: {name: node-1, annotations: {kubeglass.dev/kubelet: "none"}}
      status: {capacity: {cpu: "2", memory: 4Gi, pods: "110"}}
    - metadata: {name: node-2, annotations: {kubeglass.dev/kubelet: "none"}}
      status: {capacity: {cpu: "2", memory: 4Gi, pods: "110"}}
  steps:
  - apply: |
      apiVersion: scheduling.k8s.io/v1
      kind: PriorityClass
      metadata: {name: low}
      value: 10
      ---
      apiVersion: scheduling.k8s.io/v1
      kind: PriorityClass
      metadata: {name: medium}
      value: 20
      ---
      apiVersion: scheduling.k8s.io/v1
      kind: PriorityClass
      metadata: {name: high}
      value: 1000
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {name: batch-1}
      spec:
        nodeName: node-1
        priorityClassName: medium
        containers: [{name: c, image: busybox, resources: {requests: {cpu: 1500m}}}]
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: batch-2}
      spec:
        nodeName: node-2
        priorityClassName: low
        containers: [{name: c, image: busybox, resources: {requests: {cpu: "1"}}}]
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: batch-3}
      spec:
        nodeName: node-2
        priorityClassName: low
        containers: [{name: c, image: busybox, resources: {requests: {cpu: "1"}}}]
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {name: critical}
      spec:
        priorityClassName: high
        containers: [{name: c, image: busybox, resources: {requests: {cpu: "1"}}}]
  - explain: pod/default/critical
  - kubectl: get pod critical -o jsonpath={.status.nominatedNodeName}
  - kubectl: get events --field-selector reason=Preempted -o jsonpath={.items[0].involvedObject.name}
  - kubectl: get pods -o name
  - settle: {}
  - kubectl: get pod critical -o jsonpath={.spec.nodeName}
  - explain: pod/default/critical
"#);
    let record = ok(&results[3]);
    let p = &record["preemption"];
    assert_eq!(p["status"], "Success", "{record}");
    // node-2 needs one victim of priority 10; node-1 one of priority 20: the lower wins.
    assert_eq!(p["chosen"], "node-2");
    assert_eq!(p["whyChosen"], "lowest highest-priority victim");
    let victims = p["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["node"] == "node-2")
        .unwrap()["victims"]
        .clone();
    assert_eq!(
        victims.as_array().unwrap().len(),
        1,
        "a minimal set: {victims}"
    );
    assert_eq!(victims[0]["priority"], 10);
    assert!(victims[0]["reason"]
        .as_str()
        .unwrap()
        .contains("Insufficient cpu"));
    // The message of a successful preemption carries no preemption part.
    assert_eq!(
        record["message"],
        "0/2 nodes are available: 2 Insufficient cpu."
    );
    assert_eq!(text(&results[4]), "node-2");
    let victim = text(&results[5]).to_string();
    assert!(victim == "batch-2" || victim == "batch-3");
    assert!(!text(&results[6]).contains(&format!("pod/{victim}\n")));
    assert_eq!(text(&results[8]), "node-2");
    let after = ok(&results[9]);
    assert_eq!(after["node"], "node-2");
    assert_eq!(after["nodes"][0]["nominated"], true);
}

#[test]
fn legacy_policy_predicates_and_priorities() {
    let results = run(r#"
apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {name: legacy}
spec:
  cluster:
    nodes:
    - metadata: {name: node-1, annotations: {kubeglass.dev/kubelet: "none"}, labels: {zone: a, disk: ssd}}
      status: {capacity: {cpu: "4", memory: 8Gi, pods: "110"}}
    - metadata: {name: node-2, annotations: {kubeglass.dev/kubelet: "none"}, labels: {zone: b}}
      status: {capacity: {cpu: "4", memory: 8Gi, pods: "110"}}
    - metadata: {name: node-3, annotations: {kubeglass.dev/kubelet: "none"}}
      status: {capacity: {cpu: "4", memory: 8Gi, pods: "110"}}
    scheduler:
      kind: Policy
      apiVersion: v1
      predicates:
      - {name: PodFitsPorts}
      - {name: PodFitsResources}
      - {name: PodSelectorMatches}
      - {name: PodFitsHost}
      - {name: NoDiskConflict}
      - {name: zone-required, argument: {labelsPresence: {labels: [zone], presence: true}}}
      priorities:
      - {name: LeastRequestedPriority, weight: 1}
      - {name: BalancedResourceAllocation, weight: 1}
      - {name: ssd-preferred, weight: 2, argument: {labelPreference: {label: disk, presence: true}}}
  steps:
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {name: web}
      spec:
        containers: [{name: c, image: nginx, resources: {requests: {cpu: "1", memory: 2Gi}}}]
  - explain: pod/default/web
"#);
    let r = ok(&results[1]);
    assert_eq!(r["scale"], 10);
    assert_eq!(r["mode"], "legacy Policy");
    assert_eq!(r["node"], "node-1");
    let n1 = r["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "node-1")
        .unwrap();
    let filters: Vec<&str> = n1["filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["plugin"].as_str().unwrap())
        .collect();
    // The legacy scheduler's fixed predicate order, with the names as configured.
    assert_eq!(
        filters,
        [
            "PodFitsHost",
            "PodFitsPorts",
            "PodSelectorMatches",
            "PodFitsResources",
            "NoDiskConflict",
            "zone-required"
        ]
    );
    let scores: Vec<(String, i64, i64)> = n1["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["plugin"].as_str().unwrap().to_string(),
                s["score"].as_i64().unwrap(),
                s["weight"].as_i64().unwrap(),
            )
        })
        .collect();
    // cpu ((4000 − 1000) × 10) / 4000 = 7, memory ((8Gi − 2Gi) × 10) / 8Gi = 7 → 7;
    // balanced: 1 − |0.25 − 0.25| → 10; the label is there → 10 (weight 2).
    assert_eq!(
        scores,
        [
            ("LeastRequestedPriority".into(), 7, 1),
            ("BalancedResourceAllocation".into(), 10, 1),
            ("ssd-preferred".into(), 10, 2)
        ]
    );
    assert_eq!(n1["total"], 37);
    let n3 = r["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "node-3")
        .unwrap();
    let last = n3["filters"].as_array().unwrap().last().unwrap();
    assert_eq!(last["plugin"], "zone-required");
    assert_eq!(
        last["reasons"][0],
        "node(s) didn't have the requested labels"
    );
}

#[test]
fn invalid_configuration_is_a_read_error() {
    let bad = |sched: &str| {
        let text = format!(
            "apiVersion: kubeglass.dev/v1alpha1\nkind: Scenario\nmetadata: {{name: bad}}\nspec:\n  cluster:\n    scheduler: {sched}\n"
        );
        scenario::parse(&text).expect_err("invalid").message
    };
    assert!(bad("{kind: Policy, predicates: [{name: PodFitsMagic}]}")
        .contains("spec.cluster.scheduler: invalid predicate name \"PodFitsMagic\" specified - no corresponding function found"));
    assert!(bad("{apiVersion: kubescheduler.config.k8s.io/v1, kind: KubeSchedulerConfiguration, profiles: [{plugins: {filter: {enabled: [{name: Foo}]}}}]}")
        .contains("FilterPlugin \"Foo\" does not exist"));
    assert!(bad("{apiVersion: kubescheduler.config.k8s.io/v1, kind: KubeSchedulerConfiguration, profiles: [{plugins: {score: {enabled: [{name: NodeName}]}}}]}")
        .contains("plugin \"NodeName\" does not extend ScorePlugin plugin"));
    assert!(bad("{apiVersion: kubescheduler.config.k8s.io/v1, kind: KubeSchedulerConfiguration, profiles: [{plugins: {multiPoint: {disabled: [{name: \"*\"}]}}}]}")
        .contains("only one queue sort plugin required for profile with scheduler name \"default-scheduler\", but got 0"));
    assert!(bad("{apiVersion: kubescheduler.config.k8s.io/v1, kind: KubeSchedulerConfiguration, percentageOfNodesToScore: 101}")
        .contains("percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100]"));
}

#[test]
fn same_seed_same_decisions() {
    let scenario = |seed: u64| {
        format!(
            r#"
apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {{name: ties}}
spec:
  seed: {seed}
  cluster:
    nodes:
    - metadata: {{name: a, annotations: {{kubeglass.dev/kubelet: "none"}}}}
    - metadata: {{name: b, annotations: {{kubeglass.dev/kubelet: "none"}}}}
    - metadata: {{name: c, annotations: {{kubeglass.dev/kubelet: "none"}}}}
  steps:
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {{name: p1}}
      spec: {{containers: [{{name: c, image: nginx}}]}}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {{name: p2}}
      spec: {{containers: [{{name: c, image: nginx}}]}}
  - kubectl: get pods -o custom-columns=NAME:.metadata.name,NODE:.spec.nodeName
"#
        )
    };
    let first = text(&run(&scenario(3))[1]).to_string();
    assert_eq!(text(&run(&scenario(3))[1]), first);
}

/// PodTopologySpread's filter through a scenario, after the docs' "one constraint"
/// example: the counts per zone, the reason strings, a node without the key, a pod
/// whose node selector is ignored by `nodeAffinityPolicy: Ignore` (counted by walking
/// every node), and a zone whose only node went (no longer a domain).
#[test]
fn topology_spread_do_not_schedule() {
    let spread = |name: &str, extra: &str| {
        format!(
            r#"
  - apply: |
      kind: Pod
      apiVersion: v1
      metadata:
        name: {name}
        labels:
          foo: bar
      spec:
        topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: zone
          whenUnsatisfiable: DoNotSchedule
          labelSelector:
            matchLabels:
              foo: bar{extra}
        containers:
        - name: pause
          image: registry.k8s.io/pause:3.1
  - kubectl: get pod {name} -o jsonpath={{.spec.nodeName}}"#
        )
    };
    let bound = |name: &str, node: &str| {
        format!(
            r#"
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {{name: {name}, labels: {{foo: bar}}}}
      spec:
        nodeName: {node}
        containers: [{{name: pause, image: registry.k8s.io/pause:3.1}}]"#
        )
    };
    let node = |name: &str, zone: &str| {
        format!(
            r#"
    - metadata: {{name: {name}, annotations: {{kubeglass.dev/kubelet: "none"}}, labels: {{zone: {zone}, disk: {name}}}}}
      status: {{capacity: {{cpu: "8", memory: 8Gi, pods: "110"}}}}"#
        )
    };
    let mut steps = String::new();
    for (p, n) in [("p1", "node1"), ("p2", "node2"), ("p3", "node3")] {
        steps.push_str(&bound(p, n));
    }
    // Zone A holds two, zone B one: the pod goes to zone B.
    steps.push_str(&spread("mypod", ""));
    steps.push_str("\n  - explain: pod/default/mypod");
    // Now two and two; a pod held to node1 by its selector fits (the selector's
    // zone A is the only domain it counts) ...
    steps.push_str(&spread("held", "\n        nodeSelector: {disk: node1}"));
    // ... but not when the selector is ignored: zone A would hold four, zone B two.
    steps.push_str(&spread(
        "ignored",
        "\n          nodeAffinityPolicy: Ignore\n        nodeSelector: {disk: node1}",
    ));
    steps.push_str("\n  - kubectl: get events --field-selector involvedObject.name=ignored,reason=FailedScheduling -o jsonpath={.items[0].message}");
    // Zone A holds three, B and C one each: the next pod goes to B or C. Then zone
    // C's only node goes, and it is no longer a domain (were it still one, with no
    // pods, no node could take the last pod).
    steps.push_str("\n  - kubectl: delete pod ignored");
    steps.push_str(&spread("next", ""));
    steps.push_str("\n  - kubectl: delete node node5");
    steps.push_str(&spread("after", ""));
    let mut nodes = String::from("\n    nodes:");
    for (n, z) in [
        ("node1", "zoneA"),
        ("node2", "zoneA"),
        ("node3", "zoneB"),
        ("node4", "zoneB"),
        ("node5", "zoneC"),
    ] {
        nodes.push_str(&node(n, z));
    }
    // node6 has no zone label.
    nodes.push_str(
        r#"
    - metadata: {name: node6, annotations: {kubeglass.dev/kubelet: "none"}}
      status: {capacity: {cpu: "8", memory: 8Gi, pods: "110"}}"#,
    );
    let text_in = format!(
        "apiVersion: kubeglass.dev/v1alpha1\nkind: Scenario\nmetadata: {{name: spread}}\nspec:\n  cluster:{nodes}\n  steps:{steps}\n"
    );
    let results = run(&text_in);
    let placed = |i: usize| text(&results[i]).to_string();
    // Steps: 3 bound pods, then (apply, get) pairs.
    // Zone C (node5) has none: the pod goes there, the lowest count.
    assert_eq!(
        placed(4),
        "node5",
        "zone C is empty, so it is the critical path"
    );
    let record = ok(&results[5]);
    let node6 = record["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "node6")
        .expect("node6 in the record");
    let spread_filter = node6["filters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["plugin"] == "PodTopologySpread")
        .expect("PodTopologySpread ran on node6");
    assert_eq!(
        spread_filter["reasons"][0],
        "node(s) didn't match pod topology spread constraints (missing required label)"
    );
    assert_eq!(placed(7), "node1");
    assert_eq!(placed(9), "", "the ignored selector leaves the pod pending");
    assert_eq!(
        text(&results[10]),
        "0/6 nodes are available: 1 node(s) didn't match pod topology spread constraints, \
         5 node(s) didn't match Pod's node affinity/selector. preemption: 0/6 nodes are available: \
         1 No preemption victims found for incoming pod, 5 Preemption is not helpful for scheduling.."
    );
    let next = placed(13);
    assert!(
        ["node3", "node4", "node5"].contains(&next.as_str()),
        "{next}"
    );
    let after = placed(16);
    assert!(
        ["node3", "node4"].contains(&after.as_str()),
        "zone C is gone: the pod goes to zone B ({after})"
    );
}
