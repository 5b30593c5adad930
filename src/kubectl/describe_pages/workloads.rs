//! Deployments, ReplicaSets and ReplicationControllers (describeDeployment,
//! describeReplicaSet, describeReplicationController).

use serde_json::Value;

use super::pod::{describe_pod_template, int_or_string};
use super::tabwriter::{PrefixWriter, LEVEL_0, LEVEL_1};
use super::{
    annotations_multiline, arr, controlled_by, controller_uid, format_label_selector,
    format_labels, int, labels_multiline, micros, rfc1123z, s, selector_string, Cx,
};

/// `metav1.IsControlledBy(rs, owner)`.
fn owned_by(obj: &Value, owner: &Value) -> bool {
    let uid = s(&owner["metadata"]["uid"]);
    controller_uid(obj).is_some_and(|u| u == uid)
}

/// A pod template with the `pod-template-hash` label removed and empty values dropped,
/// for `equalIgnoreHash` (apiequality.Semantic treats empty and absent alike).
fn normalized_template(t: &Value) -> Value {
    let mut t = t.clone();
    if let Some(labels) = t["metadata"]["labels"].as_object_mut() {
        labels.remove("pod-template-hash");
    }
    prune(t)
}

fn prune(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, prune(v)))
                .filter(|(_, v)| !is_empty(v))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(prune).collect()),
        other => other,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// `deploymentutil.GetAllReplicaSets`: the old ReplicaSets that still want replicas and
/// the new one (the oldest whose template equals the Deployment's).
fn old_and_new<'a>(d: &Value, all: &'a [Value]) -> (Vec<&'a Value>, Vec<&'a Value>) {
    let mut owned: Vec<&Value> = all.iter().filter(|rs| owned_by(rs, d)).collect();
    owned.sort_by(|a, b| {
        let t = |v: &Value| micros(&v["metadata"]["creationTimestamp"]).unwrap_or(i64::MIN);
        t(a).cmp(&t(b))
            .then_with(|| s(&a["metadata"]["name"]).cmp(s(&b["metadata"]["name"])))
    });
    let want = normalized_template(&d["spec"]["template"]);
    let new = owned
        .iter()
        .copied()
        .find(|rs| normalized_template(&rs["spec"]["template"]) == want);
    let new_uid = new.map(|rs| s(&rs["metadata"]["uid"]));
    let old = owned
        .into_iter()
        .filter(|rs| new_uid != Some(s(&rs["metadata"]["uid"])))
        .filter(|rs| int(&rs["spec"]["replicas"]) != 0)
        .collect();
    (old, new.into_iter().collect())
}

/// `printReplicaSetsByLabels`.
fn replica_sets_text(list: &[&Value]) -> String {
    let text = list
        .iter()
        .map(|rs| {
            format!(
                "{} ({}/{} replicas created)",
                s(&rs["metadata"]["name"]),
                int(&rs["status"]["replicas"]),
                int(&rs["spec"]["replicas"])
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    super::or_none(&text)
}

/// The Conditions table of workloads: `Type \tStatus\tReason`.
fn workload_conditions(w: &mut PrefixWriter, conditions: &Value) {
    let list = arr(conditions);
    if list.is_empty() {
        return;
    }
    w.write(LEVEL_0, "Conditions:\n  Type\tStatus\tReason\n");
    w.write(LEVEL_1, "----\t------\t------\n");
    for c in list {
        w.write(
            LEVEL_1,
            &format!(
                "{} \t{}\t{}\n",
                s(&c["type"]),
                s(&c["status"]),
                s(&c["reason"])
            ),
        );
    }
}

/// `describeDeployment`. Fails, as upstream does, on an invalid selector.
pub(crate) fn describe_deployment(w: &mut PrefixWriter, d: &Value, cx: &Cx) -> Result<(), String> {
    let selector = selector_string(&d["spec"]["selector"])?;
    let m = &d["metadata"];
    let spec = &d["spec"];
    let status = &d["status"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    w.write(LEVEL_0, &format!("Namespace:\t{}\n", s(&m["namespace"])));
    w.write(
        LEVEL_0,
        &format!(
            "CreationTimestamp:\t{}\n",
            rfc1123z(&m["creationTimestamp"])
        ),
    );
    labels_multiline(w, "Labels", &m["labels"]);
    annotations_multiline(w, "Annotations", &m["annotations"]);
    w.write(LEVEL_0, &format!("Selector:\t{selector}\n"));
    w.write(
        LEVEL_0,
        &format!(
            "Replicas:\t{} desired | {} updated | {} total | {} available | {} unavailable\n",
            int(&spec["replicas"]),
            int(&status["updatedReplicas"]),
            int(&status["replicas"]),
            int(&status["availableReplicas"]),
            int(&status["unavailableReplicas"])
        ),
    );
    w.write(
        LEVEL_0,
        &format!("StrategyType:\t{}\n", s(&spec["strategy"]["type"])),
    );
    w.write(
        LEVEL_0,
        &format!("MinReadySeconds:\t{}\n", int(&spec["minReadySeconds"])),
    );
    let ru = &spec["strategy"]["rollingUpdate"];
    if ru.is_object() {
        w.write(
            LEVEL_0,
            &format!(
                "RollingUpdateStrategy:\t{} max unavailable, {} max surge\n",
                int_or_string(&ru["maxUnavailable"]),
                int_or_string(&ru["maxSurge"])
            ),
        );
    }
    describe_pod_template(w, &spec["template"]);
    workload_conditions(w, &status["conditions"]);
    if let Some(all) = &cx.rel.replica_sets {
        let (old, new) = old_and_new(d, all);
        if !old.is_empty() || !new.is_empty() {
            w.write(
                LEVEL_0,
                &format!("OldReplicaSets:\t{}\n", replica_sets_text(&old)),
            );
            w.write(
                LEVEL_0,
                &format!("NewReplicaSet:\t{}\n", replica_sets_text(&new)),
            );
        }
    }
    cx.events(w);
    Ok(())
}

/// `getPodStatusForController`: the phases of the pods the controller owns.
fn pod_phases(pods: &[Value], owner: &Value) -> (usize, usize, usize, usize) {
    let mut counts = (0, 0, 0, 0);
    for p in pods.iter().filter(|p| owned_by(p, owner)) {
        match s(&p["status"]["phase"]) {
            "Running" => counts.0 += 1,
            "Pending" => counts.1 += 1,
            "Succeeded" => counts.2 += 1,
            "Failed" => counts.3 += 1,
            _ => {}
        }
    }
    counts
}

/// `describeReplicaSet`.
pub(crate) fn describe_replica_set(w: &mut PrefixWriter, rs: &Value, cx: &Cx) {
    let m = &rs["metadata"];
    let spec = &rs["spec"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    w.write(LEVEL_0, &format!("Namespace:\t{}\n", s(&m["namespace"])));
    w.write(
        LEVEL_0,
        &format!("Selector:\t{}\n", format_label_selector(&spec["selector"])),
    );
    labels_multiline(w, "Labels", &m["labels"]);
    annotations_multiline(w, "Annotations", &m["annotations"]);
    let by = controlled_by(rs);
    if !by.is_empty() {
        w.write(LEVEL_0, &format!("Controlled By:\t{by}\n"));
    }
    w.write(
        LEVEL_0,
        &format!(
            "Replicas:\t{} current / {} desired\n",
            int(&rs["status"]["replicas"]),
            int(&spec["replicas"])
        ),
    );
    w.write(LEVEL_0, "Pods Status:\t");
    match &cx.rel.pods {
        Some(Err(e)) => w.write(LEVEL_0, &format!("error in fetching pods: {e}\n")),
        Some(Ok(pods)) => {
            let (r, wt, su, f) = pod_phases(pods, rs);
            w.write(
                LEVEL_0,
                &format!("{r} Running / {wt} Waiting / {su} Succeeded / {f} Failed\n"),
            );
        }
        None => w.write(LEVEL_0, "0 Running / 0 Waiting / 0 Succeeded / 0 Failed\n"),
    }
    describe_pod_template(w, &spec["template"]);
    workload_conditions(w, &rs["status"]["conditions"]);
    cx.events(w);
}

/// `describeReplicationController`. Fails when its pods could not be listed.
pub(crate) fn describe_replication_controller(
    w: &mut PrefixWriter,
    rc: &Value,
    cx: &Cx,
) -> Result<(), String> {
    let (r, wt, su, f) = match &cx.rel.pods {
        Some(Err(e)) => return Err(e.clone()),
        Some(Ok(pods)) => pod_phases(pods, rc),
        None => (0, 0, 0, 0),
    };
    let m = &rc["metadata"];
    let spec = &rc["spec"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    w.write(LEVEL_0, &format!("Namespace:\t{}\n", s(&m["namespace"])));
    w.write(
        LEVEL_0,
        &format!("Selector:\t{}\n", format_labels(&spec["selector"])),
    );
    labels_multiline(w, "Labels", &m["labels"]);
    annotations_multiline(w, "Annotations", &m["annotations"]);
    w.write(
        LEVEL_0,
        &format!(
            "Replicas:\t{} current / {} desired\n",
            int(&rc["status"]["replicas"]),
            int(&spec["replicas"])
        ),
    );
    w.write(
        LEVEL_0,
        &format!("Pods Status:\t{r} Running / {wt} Waiting / {su} Succeeded / {f} Failed\n"),
    );
    describe_pod_template(w, &spec["template"]);
    workload_conditions(w, &rc["status"]["conditions"]);
    cx.events(w);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use serde_json::json;

    use super::super::tests::NOW;
    use super::super::{describe, Related};
    use super::*;

    fn template(image: &str, hash: Option<&str>) -> Value {
        let mut labels = json!({"app": "nginx"});
        if let Some(h) = hash {
            labels["pod-template-hash"] = json!(h);
        }
        json!({"metadata": {"labels": labels},
               "spec": {"containers": [{"name": "nginx", "image": image,
                                        "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}})
    }

    fn deployment() -> Value {
        json!({
            "metadata": {"name": "nginx", "namespace": "default", "uid": "d1", "labels": {"app": "nginx"},
                         "annotations": {"deployment.kubernetes.io/revision": "2"},
                         "creationTimestamp": "2024-08-13T00:00:00Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "nginx"}},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                     "template": template("nginx:1.16", None)},
            "status": {"replicas": 4, "updatedReplicas": 2, "availableReplicas": 3, "unavailableReplicas": 1,
                       "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                                      {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}]}
        })
    }

    fn rs(
        name: &str,
        uid: &str,
        image: &str,
        hash: &str,
        replicas: i64,
        created: &str,
        owner: &str,
    ) -> Value {
        json!({"metadata": {"name": name, "namespace": "default", "uid": uid, "creationTimestamp": created,
                            "ownerReferences": [{"kind": "Deployment", "name": "nginx", "uid": owner, "controller": true}]},
               "spec": {"replicas": replicas, "template": template(image, Some(hash))},
               "status": {"replicas": replicas}})
    }

    #[test]
    fn deployment_page_matches_describe_deployment() {
        // describeDeployment: Replicas line, RollingUpdateStrategy from the IntOrStrings,
        // DescribePodTemplate, Conditions, Old/NewReplicaSet found as
        // deploymentutil.GetAllReplicaSets finds them (not owned and scaled-to-zero
        // ReplicaSets left out).
        let rel = Related {
            replica_sets: Some(vec![
                rs(
                    "nginx-old",
                    "r1",
                    "nginx:1.14",
                    "aaa",
                    2,
                    "2024-08-13T00:00:00Z",
                    "d1",
                ),
                rs(
                    "nginx-new",
                    "r2",
                    "nginx:1.16",
                    "bbb",
                    2,
                    "2024-08-13T00:05:00Z",
                    "d1",
                ),
                rs(
                    "nginx-older",
                    "r0",
                    "nginx:1.12",
                    "ccc",
                    0,
                    "2024-08-12T00:00:00Z",
                    "d1",
                ),
                rs(
                    "other",
                    "r3",
                    "nginx:1.16",
                    "ddd",
                    1,
                    "2024-08-13T00:00:00Z",
                    "someone-else",
                ),
            ]),
            ..Default::default()
        };
        let got = describe("Deployment", &deployment(), Some(&[]), &rel, NOW).unwrap();
        let want = "\
Name:                   nginx
Namespace:              default
CreationTimestamp:      Tue, 13 Aug 2024 00:00:00 +0000
Labels:                 app=nginx
Annotations:            deployment.kubernetes.io/revision: 2
Selector:               app=nginx
Replicas:               3 desired | 2 updated | 4 total | 3 available | 1 unavailable
StrategyType:           RollingUpdate
MinReadySeconds:        0
RollingUpdateStrategy:  25% max unavailable, 25% max surge
Pod Template:
  Labels:  app=nginx
  Containers:
   nginx:
    Image:         nginx:1.16
    Port:          80/TCP
    Host Port:     0/TCP
    Environment:   <none>
    Mounts:        <none>
  Volumes:         <none>
  Node-Selectors:  <none>
  Tolerations:     <none>
Conditions:
  Type           Status  Reason
  ----           ------  ------
  Available      True    MinimumReplicasAvailable
  Progressing    True    ReplicaSetUpdated
OldReplicaSets:  nginx-old (2/2 replicas created)
NewReplicaSet:   nginx-new (2/2 replicas created)
Events:          <none>
";
        assert_eq!(got, want);
        // Without ReplicaSets the two lines are left out; an invalid selector fails.
        let got = describe("Deployment", &deployment(), None, &Related::default(), NOW).unwrap();
        assert!(!got.contains("OldReplicaSets"));
        let mut bad = deployment();
        bad["spec"]["selector"] = json!({"matchExpressions": [{"key": "a", "operator": "Near"}]});
        assert!(describe("Deployment", &bad, None, &Related::default(), NOW).is_err());
    }

    #[test]
    fn replica_set_page_matches_describe_replica_set() {
        let mut r = rs(
            "nginx-new",
            "r2",
            "nginx:1.16",
            "bbb",
            3,
            "2024-08-13T00:05:00Z",
            "d1",
        );
        r["metadata"]["labels"] = json!({"app": "nginx", "pod-template-hash": "bbb"});
        r["spec"]["selector"] =
            json!({"matchLabels": {"app": "nginx", "pod-template-hash": "bbb"}});
        let owned = |phase: &str, uid: &str| json!({"metadata": {"ownerReferences": [{"uid": uid, "controller": true}]}, "status": {"phase": phase}});
        let rel = Related {
            pods: Some(Ok(vec![
                owned("Running", "r2"),
                owned("Running", "r2"),
                owned("Pending", "r2"),
                owned("Running", "other"),
            ])),
            ..Default::default()
        };
        let got = describe("ReplicaSet", &r, Some(&[]), &rel, NOW).unwrap();
        let want = "\
Name:           nginx-new
Namespace:      default
Selector:       app=nginx,pod-template-hash=bbb
Labels:         app=nginx
                pod-template-hash=bbb
Annotations:    <none>
Controlled By:  Deployment/nginx
Replicas:       3 current / 3 desired
Pods Status:    2 Running / 1 Waiting / 0 Succeeded / 0 Failed
Pod Template:
  Labels:  app=nginx
           pod-template-hash=bbb
  Containers:
   nginx:
    Image:         nginx:1.16
    Port:          80/TCP
    Host Port:     0/TCP
    Environment:   <none>
    Mounts:        <none>
  Volumes:         <none>
  Node-Selectors:  <none>
  Tolerations:     <none>
Events:            <none>
";
        assert_eq!(got, want);
        let rel = Related {
            pods: Some(Err("pods is forbidden".into())),
            ..Default::default()
        };
        let got = describe("ReplicaSet", &r, None, &rel, NOW).unwrap();
        assert!(got.contains("Pods Status:    error in fetching pods: pods is forbidden\n"));
    }

    #[test]
    fn replication_controller_page() {
        let rc = json!({
            "metadata": {"name": "frontend", "namespace": "default", "uid": "rc1"},
            "spec": {"replicas": 2, "selector": {"app": "fe"}, "template": {"metadata": {"labels": {"app": "fe"}},
                     "spec": {"containers": [{"name": "fe", "image": "fe:1"}]}}},
            "status": {"replicas": 1, "conditions": [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate"}]}
        });
        let rel = Related {
            pods: Some(Ok(vec![
                json!({"metadata": {"ownerReferences": [{"uid": "rc1", "controller": true}]},
                                      "status": {"phase": "Failed"}}),
            ])),
            ..Default::default()
        };
        let got = describe("ReplicationController", &rc, Some(&[]), &rel, NOW).unwrap();
        let want = "\
Name:         frontend
Namespace:    default
Selector:     app=fe
Labels:       <none>
Annotations:  <none>
Replicas:     1 current / 2 desired
Pods Status:  0 Running / 0 Waiting / 0 Succeeded / 1 Failed
Pod Template:
  Labels:  app=fe
  Containers:
   fe:
    Image:         fe:1
    Port:          <none>
    Host Port:     <none>
    Environment:   <none>
    Mounts:        <none>
  Volumes:         <none>
  Node-Selectors:  <none>
  Tolerations:     <none>
Conditions:
  Type             Status  Reason
  ----             ------  ------
  ReplicaFailure   True    FailedCreate
Events:            <none>
";
        assert_eq!(got, want);
        let rel = Related {
            pods: Some(Err("boom".into())),
            ..Default::default()
        };
        assert_eq!(
            describe("ReplicationController", &rc, None, &rel, NOW),
            Err("boom".into())
        );
    }
}
