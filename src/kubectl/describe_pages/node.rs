//! Nodes (describeNode, describeNodeLease, describeNodeResource).

use std::collections::BTreeMap;

use serde_json::Value;

use super::tabwriter::{PrefixWriter, LEVEL_0, LEVEL_1};
use super::{
    annotations_multiline, arr, boolean, go_f64_to_i64, labels_multiline, obj_map, resource_list,
    rfc1123z, s, since, str_map, strs, Cx,
};
use crate::api::quantity::Quantity;

/// `findNodeRoles`: `node-role.kubernetes.io/<role>` keys and `kubernetes.io/role` values.
fn node_roles(node: &Value) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    for (k, v) in str_map(&node["metadata"]["labels"]) {
        if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.push(role.to_string());
            }
        } else if k == "kubernetes.io/role" && !v.is_empty() {
            roles.push(v.to_string());
        }
    }
    roles.sort();
    roles.dedup();
    roles
}

/// `describeNode`.
pub(crate) fn describe_node(w: &mut PrefixWriter, node: &Value, cx: &Cx) {
    let m = &node["metadata"];
    let spec = &node["spec"];
    let status = &node["status"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    let roles = node_roles(node);
    if roles.is_empty() {
        w.write(LEVEL_0, "Roles:\t<none>\n");
    } else {
        w.write(LEVEL_0, &format!("Roles:\t{}\n", roles.join(",")));
    }
    labels_multiline(w, "Labels", &m["labels"]);
    annotations_multiline(w, "Annotations", &m["annotations"]);
    w.write(
        LEVEL_0,
        &format!(
            "CreationTimestamp:\t{}\n",
            rfc1123z(&m["creationTimestamp"])
        ),
    );
    describe_taints(w, &spec["taints"]);
    w.write(
        LEVEL_0,
        &format!("Unschedulable:\t{}\n", boolean(&spec["unschedulable"])),
    );
    match &cx.rel.lease {
        Some(Ok(lease)) => describe_node_lease(w, lease),
        Some(Err(e)) => w.write(LEVEL_0, &format!("Lease:\tFailed to get lease: {e}\n")),
        None => {}
    }
    let conditions = arr(&status["conditions"]);
    if !conditions.is_empty() {
        w.write(
            LEVEL_0,
            "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n",
        );
        w.write(
            LEVEL_1,
            "----\t------\t-----------------\t------------------\t------\t-------\n",
        );
        for c in conditions {
            w.write(
                LEVEL_1,
                &format!(
                    "{} \t{} \t{} \t{} \t{} \t{}\n",
                    s(&c["type"]),
                    s(&c["status"]),
                    rfc1123z(&c["lastHeartbeatTime"]),
                    rfc1123z(&c["lastTransitionTime"]),
                    s(&c["reason"]),
                    s(&c["message"])
                ),
            );
        }
    }
    w.write(LEVEL_0, "Addresses:\n");
    for a in arr(&status["addresses"]) {
        w.write(
            LEVEL_1,
            &format!("{}:\t{}\n", s(&a["type"]), s(&a["address"])),
        );
    }
    for (field, title) in [("capacity", "Capacity"), ("allocatable", "Allocatable")] {
        let list = resource_list(&status[field]);
        if list.is_empty() {
            continue;
        }
        w.write(LEVEL_0, &format!("{title}:\n"));
        for (name, q) in list {
            w.write(LEVEL_0, &format!("  {name}:\t{q}\n"));
        }
    }
    let info = &status["nodeInfo"];
    w.write(LEVEL_0, "System Info:\n");
    for (title, field) in [
        ("Machine ID", "machineID"),
        ("System UUID", "systemUUID"),
        ("Boot ID", "bootID"),
        ("Kernel Version", "kernelVersion"),
        ("OS Image", "osImage"),
        ("Operating System", "operatingSystem"),
        ("Architecture", "architecture"),
        ("Container Runtime Version", "containerRuntimeVersion"),
        ("Kubelet Version", "kubeletVersion"),
        ("Kube-Proxy Version", "kubeProxyVersion"),
    ] {
        w.write(LEVEL_0, &format!("  {title}:\t{}\n", s(&info[field])));
    }
    let cidr = s(&spec["podCIDR"]);
    if !cidr.is_empty() {
        w.write(LEVEL_0, &format!("PodCIDR:\t{cidr}\n"));
    }
    let cidrs = strs(&spec["podCIDRs"]);
    if !cidrs.is_empty() {
        w.write(LEVEL_0, &format!("PodCIDRs:\t{}\n", cidrs.join(",")));
    }
    let provider = s(&spec["providerID"]);
    if !provider.is_empty() {
        w.write(LEVEL_0, &format!("ProviderID:\t{provider}\n"));
    }
    match &cx.rel.pods {
        Some(Ok(pods)) => describe_node_resource(w, pods, node, cx),
        _ => w.write(LEVEL_0, "Pods:\tnot authorized\n"),
    }
    cx.events(w);
}

/// `printNodeTaintsMultiline`: sorted by effect, then key.
fn describe_taints(w: &mut PrefixWriter, taints: &Value) {
    w.write(LEVEL_0, "Taints:\t");
    let mut list: Vec<&Value> = arr(taints).iter().collect();
    if list.is_empty() {
        w.write_line("<none>");
        return;
    }
    list.sort_by_key(|t| format!("{},{}", s(&t["effect"]), s(&t["key"])));
    for (i, t) in list.into_iter().enumerate() {
        if i != 0 {
            w.write(LEVEL_0, "");
            w.write(LEVEL_0, "\t");
        }
        let value = s(&t["value"]);
        let text = if value.is_empty() {
            format!("{}:{}", s(&t["key"]), s(&t["effect"]))
        } else {
            format!("{}={value}:{}", s(&t["key"]), s(&t["effect"]))
        };
        w.write(LEVEL_0, &format!("{text}\n"));
    }
}

/// `describeNodeLease`.
fn describe_node_lease(w: &mut PrefixWriter, lease: &Value) {
    let spec = &lease["spec"];
    w.write(LEVEL_0, "Lease:\n");
    let holder = spec["holderIdentity"].as_str().unwrap_or("<unset>");
    w.write(LEVEL_1, &format!("HolderIdentity:\t{holder}\n"));
    for (field, title) in [("acquireTime", "AcquireTime"), ("renewTime", "RenewTime")] {
        let t = if spec[field].is_null() {
            "<unset>".to_string()
        } else {
            rfc1123z(&spec[field])
        };
        w.write(LEVEL_1, &format!("{title}:\t{t}\n"));
    }
}

/// `resourcehelper.PodRequestsAndLimits`: the pod's effective requests and limits.
pub(crate) fn pod_requests_and_limits(
    pod: &Value,
) -> (BTreeMap<String, Quantity>, BTreeMap<String, Quantity>) {
    let spec = &pod["spec"];
    let status = &pod["status"];
    let statuses: BTreeMap<&str, &Value> = arr(&status["containerStatuses"])
        .iter()
        .map(|cs| (s(&cs["name"]), cs))
        .collect();
    let infeasible = s(&status["resize"]) == "Infeasible";
    let mut reqs = BTreeMap::new();
    let mut limits = BTreeMap::new();
    for c in arr(&spec["containers"]) {
        let mut creqs = resource_list(&c["resources"]["requests"]);
        if let Some(cs) = statuses.get(s(&c["name"])) {
            let allocated = resource_list(&cs["allocatedResources"]);
            if infeasible {
                creqs = allocated;
            } else {
                // max(requests, allocated) per resource.
                for (k, v) in allocated {
                    match creqs.get(&k) {
                        Some(r) if v.cmp(r) != std::cmp::Ordering::Greater => {}
                        _ => {
                            creqs.insert(k, v);
                        }
                    }
                }
            }
        }
        add_list(&mut reqs, &creqs);
        add_list(&mut limits, &resource_list(&c["resources"]["limits"]));
    }
    for (field, total) in [("requests", &mut reqs), ("limits", &mut limits)] {
        let mut restartable = BTreeMap::new();
        let mut init = BTreeMap::new();
        for c in arr(&spec["initContainers"]) {
            let own = resource_list(&c["resources"][field]);
            let effective = if s(&c["restartPolicy"]) == "Always" {
                add_list(total, &own);
                add_list(&mut restartable, &own);
                restartable.clone()
            } else {
                let mut tmp = BTreeMap::new();
                add_list(&mut tmp, &own);
                add_list(&mut tmp, &restartable);
                tmp
            };
            max_list(&mut init, &effective);
        }
        max_list(total, &init);
    }
    let overhead = resource_list(&spec["overhead"]);
    add_list(&mut reqs, &overhead);
    for (k, q) in overhead {
        if let Some(v) = limits.get_mut(&k) {
            if !v.is_zero() {
                v.add(&q);
            }
        }
    }
    (reqs, limits)
}

fn add_list(list: &mut BTreeMap<String, Quantity>, new: &BTreeMap<String, Quantity>) {
    for (k, q) in new {
        match list.get_mut(k) {
            Some(v) => v.add(q),
            None => {
                list.insert(k.clone(), q.clone());
            }
        }
    }
}

fn max_list(list: &mut BTreeMap<String, Quantity>, new: &BTreeMap<String, Quantity>) {
    for (k, q) in new {
        match list.get(k) {
            Some(v) if q.cmp(v) != std::cmp::Ordering::Greater => {}
            _ => {
                list.insert(k.clone(), q.clone());
            }
        }
    }
}

/// `float64(a) / float64(b) * 100` truncated as Go's `int64(...)`.
fn percent(a: i64, b: i64) -> i64 {
    go_f64_to_i64(a as f64 / b as f64 * 100.0)
}

/// `describeNodeResource`: the Non-terminated Pods table and Allocated resources.
fn describe_node_resource(w: &mut PrefixWriter, pods: &[Value], node: &Value, cx: &Cx) {
    w.write(
        LEVEL_0,
        &format!("Non-terminated Pods:\t({} in total)\n", pods.len()),
    );
    w.write(
        LEVEL_1,
        "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n",
    );
    w.write(
        LEVEL_1,
        "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n",
    );
    let status = &node["status"];
    let allocatable = if obj_map(&status["allocatable"]).is_some_and(|m| !m.is_empty()) {
        resource_list(&status["allocatable"])
    } else {
        resource_list(&status["capacity"])
    };
    let get = |list: &BTreeMap<String, Quantity>, k: &str| list.get(k).cloned().unwrap_or_default();
    let alloc_cpu = get(&allocatable, "cpu").milli_value();
    let alloc_mem = get(&allocatable, "memory").value();
    for pod in pods {
        let (req, limit) = pod_requests_and_limits(pod);
        let (cr, cl, mr, ml) = (
            get(&req, "cpu"),
            get(&limit, "cpu"),
            get(&req, "memory"),
            get(&limit, "memory"),
        );
        w.write(
            LEVEL_1,
            &format!(
                "{}\t{}\t\t{cr} ({}%)\t{cl} ({}%)\t{mr} ({}%)\t{ml} ({}%)\t{}\n",
                s(&pod["metadata"]["namespace"]),
                s(&pod["metadata"]["name"]),
                percent(cr.milli_value(), alloc_cpu),
                percent(cl.milli_value(), alloc_cpu),
                percent(mr.value(), alloc_mem),
                percent(ml.value(), alloc_mem),
                since(&pod["metadata"]["creationTimestamp"], cx.now)
            ),
        );
    }
    w.write(
        LEVEL_0,
        "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n",
    );
    w.write(LEVEL_1, "Resource\tRequests\tLimits\n");
    w.write(LEVEL_1, "--------\t--------\t------\n");
    let mut reqs = BTreeMap::new();
    let mut limits = BTreeMap::new();
    for pod in pods {
        let (r, l) = pod_requests_and_limits(pod);
        add_list(&mut reqs, &r);
        add_list(&mut limits, &l);
    }
    let guarded = |a: i64, b: i64| if b != 0 { percent(a, b) } else { 0 };
    for (name, by_milli) in [
        ("cpu", true),
        ("memory", false),
        ("ephemeral-storage", false),
    ] {
        let (r, l, a) = (
            get(&reqs, name),
            get(&limits, name),
            get(&allocatable, name),
        );
        let (rv, lv, av) = if by_milli {
            (r.milli_value(), l.milli_value(), a.milli_value())
        } else {
            (r.value(), l.value(), a.value())
        };
        w.write(
            LEVEL_1,
            &format!(
                "{name}\t{r} ({}%)\t{l} ({}%)\n",
                guarded(rv, av),
                guarded(lv, av)
            ),
        );
    }
    for (name, a) in &allocatable {
        if !name.starts_with("hugepages-") {
            continue;
        }
        let (r, l) = (get(&reqs, name), get(&limits, name));
        w.write(
            LEVEL_1,
            &format!(
                "{name}\t{r} ({}%)\t{l} ({}%)\n",
                guarded(r.value(), a.value()),
                guarded(l.value(), a.value())
            ),
        );
    }
    for name in allocatable.keys() {
        let standard = matches!(
            name.as_str(),
            "cpu" | "memory" | "ephemeral-storage" | "pods"
        ) || name.starts_with("hugepages-");
        if standard {
            continue;
        }
        w.write(
            LEVEL_1,
            &format!("{name}\t{}\t{}\n", get(&reqs, name), get(&limits, name)),
        );
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use serde_json::json;

    use super::super::tests::NOW;
    use super::super::{describe, Related};
    use super::*;

    fn node() -> Value {
        let cond = |t: &str, st: &str, reason: &str, msg: &str| {
            json!({"type": t, "status": st, "reason": reason, "message": msg,
                   "lastHeartbeatTime": "2024-08-13T00:09:00Z", "lastTransitionTime": "2024-08-13T00:00:00Z"})
        };
        json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "node-1", "uid": "n1",
                         "labels": {"kubernetes.io/hostname": "node-1", "node-role.kubernetes.io/control-plane": ""},
                         "creationTimestamp": "2024-08-13T00:00:00Z"},
            "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"],
                     "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
                                {"key": "dedicated", "value": "infra", "effect": "NoExecute"}]},
            "status": {
                "addresses": [{"type": "InternalIP", "address": "10.0.0.2"}, {"type": "Hostname", "address": "node-1"}],
                "capacity": {"cpu": "4", "ephemeral-storage": "100Gi", "memory": "16Gi", "pods": "110", "example.com/gpu": "2"},
                "allocatable": {"cpu": "4", "ephemeral-storage": "100Gi", "memory": "16Gi", "pods": "110", "example.com/gpu": "2"},
                "conditions": [
                    cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    cond("Ready", "True", "KubeletReady", "kubelet is posting ready status")
                ],
                "nodeInfo": {"machineID": "m1", "systemUUID": "s1", "bootID": "b1", "kernelVersion": "6.8.0",
                             "osImage": "Ubuntu 24.04 LTS", "operatingSystem": "linux", "architecture": "amd64",
                             "containerRuntimeVersion": "containerd://1.7.20", "kubeletVersion": "v1.31.0"}
            }
        })
    }

    fn pod(name: &str, reqs: Value, limits: Value) -> Value {
        json!({"metadata": {"name": name, "namespace": "default", "creationTimestamp": "2024-08-13T00:05:00Z"},
               "spec": {"containers": [{"name": "c", "resources": {"requests": reqs, "limits": limits}}]}})
    }

    #[test]
    fn node_page_matches_describe_node() {
        // describeNode: roles from labels, taints sorted by effect then key, Lease,
        // Conditions with trailing spaces in cells, resources by name, System Info,
        // PodCIDR(s), describeNodeResource (percent of allocatable, truncated), Events.
        let rel = Related {
            lease: Some(Ok(
                json!({"spec": {"holderIdentity": "node-1", "renewTime": "2024-08-13T00:09:58.000000Z"}}),
            )),
            pods: Some(Ok(vec![
                pod(
                    "web",
                    json!({"cpu": "250m", "memory": "64Mi"}),
                    json!({"memory": "128Mi"}),
                ),
                pod(
                    "db",
                    json!({"cpu": "1", "memory": "1Gi", "example.com/gpu": "1"}),
                    json!({"cpu": "2", "memory": "1Gi", "example.com/gpu": "1"}),
                ),
            ])),
            ..Default::default()
        };
        let got = describe("Node", &node(), Some(&[]), &rel, NOW).unwrap();
        let want = "\
Name:               node-1
Roles:              control-plane
Labels:             kubernetes.io/hostname=node-1
                    node-role.kubernetes.io/control-plane=
Annotations:        <none>
CreationTimestamp:  Tue, 13 Aug 2024 00:00:00 +0000
Taints:             dedicated=infra:NoExecute
                    node-role.kubernetes.io/control-plane:NoSchedule
Unschedulable:      false
Lease:
  HolderIdentity:  node-1
  AcquireTime:     <unset>
  RenewTime:       Tue, 13 Aug 2024 00:09:58 +0000
Conditions:
  Type             Status  LastHeartbeatTime                 LastTransitionTime                Reason                       Message
  ----             ------  -----------------                 ------------------                ------                       -------
  MemoryPressure   False   Tue, 13 Aug 2024 00:09:00 +0000   Tue, 13 Aug 2024 00:00:00 +0000   KubeletHasSufficientMemory   kubelet has sufficient memory available
  Ready            True    Tue, 13 Aug 2024 00:09:00 +0000   Tue, 13 Aug 2024 00:00:00 +0000   KubeletReady                 kubelet is posting ready status
Addresses:
  InternalIP:  10.0.0.2
  Hostname:    node-1
Capacity:
  cpu:                4
  ephemeral-storage:  100Gi
  example.com/gpu:    2
  memory:             16Gi
  pods:               110
Allocatable:
  cpu:                4
  ephemeral-storage:  100Gi
  example.com/gpu:    2
  memory:             16Gi
  pods:               110
System Info:
  Machine ID:                 m1
  System UUID:                s1
  Boot ID:                    b1
  Kernel Version:             6.8.0
  OS Image:                   Ubuntu 24.04 LTS
  Operating System:           linux
  Architecture:               amd64
  Container Runtime Version:  containerd://1.7.20
  Kubelet Version:            v1.31.0
  Kube-Proxy Version:         
PodCIDR:                      10.244.0.0/24
PodCIDRs:                     10.244.0.0/24
Non-terminated Pods:          (2 in total)
  Namespace                   Name    CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age
  ---------                   ----    ------------  ----------  ---------------  -------------  ---
  default                     web     250m (6%)     0 (0%)      64Mi (0%)        128Mi (0%)     5m
  default                     db      1 (25%)       2 (50%)     1Gi (6%)         1Gi (6%)       5m
Allocated resources:
  (Total limits may be over 100 percent, i.e., overcommitted.)
  Resource           Requests     Limits
  --------           --------     ------
  cpu                1250m (31%)  2 (50%)
  memory             1088Mi (6%)  1152Mi (7%)
  ephemeral-storage  0 (0%)       0 (0%)
  example.com/gpu    1            1
Events:              <none>
";
        assert_eq!(got, want);
    }

    #[test]
    fn node_without_lease_or_pod_access() {
        let rel = Related {
            lease: Some(Err("leases.coordination.k8s.io \"node-1\" not found".into())),
            pods: Some(Err("forbidden".into())),
            ..Default::default()
        };
        let mut n = node();
        n["spec"] = json!({"unschedulable": true});
        n["status"] = json!({});
        n["metadata"]["labels"] = json!({"kubernetes.io/role": "worker"});
        let got = describe("Node", &n, None, &rel, NOW).unwrap();
        let want = "\
Name:               node-1
Roles:              worker
Labels:             kubernetes.io/role=worker
Annotations:        <none>
CreationTimestamp:  Tue, 13 Aug 2024 00:00:00 +0000
Taints:             <none>
Unschedulable:      true
Lease:              Failed to get lease: leases.coordination.k8s.io \"node-1\" not found
Addresses:
System Info:
  Machine ID:                 
  System UUID:                
  Boot ID:                    
  Kernel Version:             
  OS Image:                   
  Operating System:           
  Architecture:               
  Container Runtime Version:  
  Kubelet Version:            
  Kube-Proxy Version:         
Pods:                         not authorized
";
        assert_eq!(got, want);
    }

    #[test]
    fn sidecars_and_overhead_count_like_pod_requests_and_limits() {
        // A restartable init container adds to the total; a plain one only raises the max.
        let p = json!({"spec": {
            "initContainers": [
                {"name": "setup", "resources": {"requests": {"cpu": "2"}}},
                {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "200m"}}}
            ],
            "containers": [{"name": "app", "resources": {"requests": {"cpu": "500m"}, "limits": {"cpu": "1"}}}],
            "overhead": {"cpu": "10m"}
        }});
        let (r, l) = pod_requests_and_limits(&p);
        assert_eq!(r["cpu"].to_string(), "2010m");
        assert_eq!(l["cpu"].to_string(), "1210m");
    }
}
