//! The `fault` step: a node goes down, comes back, is partitioned; a container
//! crashes. The kubelet stops or resumes; what follows (NotReady, taints, evictions)
//! is the node lifecycle controller's, with upstream's timings.

use serde_json::Value;

use crate::cluster::Cluster;
use crate::scenario::StepResult;

/// Performs a `fault` step; the output says what changed.
pub fn perform(cluster: &mut Cluster, v: &Value) -> StepResult {
    match run(cluster, v) {
        Ok(text) => StepResult::ok(Value::String(text)),
        Err(e) => StepResult::fail(Value::Null, e),
    }
}

fn node_of(cluster: &Cluster, v: &Value, key: &str) -> Result<String, String> {
    let node = v
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("fault: {key} needs a node name"))?;
    if cluster.kubelet(node).is_none() {
        let exists = cluster
            .settings()
            .nodes
            .iter()
            .any(|n| n.metadata.name == node);
        return Err(if exists {
            format!("fault: node {node} runs no simulated kubelet (annotated kubeglass.dev/kubelet: none)")
        } else {
            format!("fault: node \"{node}\" not found")
        });
    }
    Ok(node.to_string())
}

fn run(cluster: &mut Cluster, v: &Value) -> Result<String, String> {
    let m = v
        .as_object()
        .ok_or("fault: give {nodeDown: N}, {nodeUp: N}, {partition: N} or {crash: pod/NS/NAME, container?: C}")?;
    if let Some(n) = m.get("nodeDown") {
        let node = node_of(cluster, n, "nodeDown")?;
        let out = cluster
            .with_kubelet(&node, |k, ctx| k.node_down(ctx))
            .ok_or_else(|| format!("fault: node {node} runs no kubelet"))?;
        cluster.machine_power(&node, false);
        return Ok(out);
    }
    if let Some(n) = m.get("nodeUp") {
        let node = node_of(cluster, n, "nodeUp")?;
        let out = cluster
            .with_kubelet(&node, |k, ctx| k.node_up(ctx))
            .ok_or_else(|| format!("fault: node {node} runs no kubelet"))?;
        cluster.machine_power(&node, true);
        return Ok(out);
    }
    if let Some(n) = m.get("partition") {
        let node = node_of(cluster, n, "partition")?;
        return cluster
            .with_kubelet(&node, |k, ctx| k.partition(ctx))
            .ok_or_else(|| format!("fault: node {node} runs no kubelet"));
    }
    if let Some(target) = m.get("crash") {
        let t = target.as_str().unwrap_or_default();
        let parts: Vec<&str> = t.split('/').collect();
        let (ns, name) = match parts.as_slice() {
            ["pod" | "pods" | "po", ns, name] if !ns.is_empty() && !name.is_empty() => (*ns, *name),
            ["pod" | "pods" | "po", name] if !name.is_empty() => ("default", *name),
            _ => {
                return Err(format!(
                    "fault: crash needs pod/NAMESPACE/NAME, not \"{t}\""
                ))
            }
        };
        let container = m.get("container").and_then(Value::as_str);
        let node = cluster
            .api()
            .store()
            .get(&crate::api::object::PODS, ns, name)
            .and_then(|o| o.as_pod().map(|p| p.spec.node_name.clone()))
            .ok_or_else(|| format!("fault: pod {ns}/{name} not found"))?;
        if node.is_empty() {
            return Err(format!("fault: pod {ns}/{name} is not bound to a node"));
        }
        let node = node_of(cluster, &Value::String(node), "crash")?;
        return cluster
            .with_kubelet(&node, |k, ctx| k.crash(ctx, ns, name, container))
            .unwrap_or_else(|| Err(format!("fault: node {node} runs no kubelet")));
    }
    Err("fault: give {nodeDown: N}, {nodeUp: N}, {partition: N} or {crash: pod/NS/NAME, container?: C}".into())
}
