use std::collections::BTreeMap;

use super::common::{count_by_walk, node_has_all_keys, sums_apply, Constraint};
use super::plugin::PodTopologySpread;
use crate::api::core::Node;
use crate::scheduler::cache::Snapshot;
use crate::scheduler::framework::{
    Code, CycleState, FilterPlugin, NodeInfo, PluginCtx, PodInfo, PreFilterPlugin, PreFilterResult,
    Status,
};
use crate::scheduler::plugins::nodeaffinity::RequiredNodeAffinity;

/// `ErrReasonConstraintsNotMatch`.
pub const ERR_REASON_CONSTRAINTS_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints";
/// `ErrReasonNodeLabelNotMatch`.
pub const ERR_REASON_NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

/// `criticalPaths`: the two smallest (topology value, match count) pairs seen.
#[derive(Clone, Debug)]
struct CriticalPaths([(String, i64); 2]);

impl CriticalPaths {
    fn new() -> CriticalPaths {
        CriticalPaths([
            (String::new(), i64::from(i32::MAX)),
            (String::new(), i64::from(i32::MAX)),
        ])
    }

    fn update(&mut self, value: &str, num: i64) {
        let p = &mut self.0;
        let i = if value == p[0].0 {
            Some(0)
        } else if value == p[1].0 {
            Some(1)
        } else {
            None
        };
        match i {
            Some(i) => {
                p[i].1 = num;
                if p[0].1 > p[1].1 {
                    p.swap(0, 1);
                }
            }
            None => {
                if num < p[0].1 {
                    p[1] = p[0].clone();
                    p[0] = (value.to_string(), num);
                } else if num < p[1].1 {
                    p[1] = (value.to_string(), num);
                }
            }
        }
    }
}

#[derive(Clone)]
pub(super) struct PreFilterState {
    constraints: Vec<Constraint>,
    critical_paths: Vec<CriticalPaths>,
    /// Per constraint: topology value → matching pods.
    counts: Vec<BTreeMap<String, i64>>,
    namespace: String,
}

impl PreFilterState {
    /// `minMatchNum`: the global minimum, 0 while fewer than minDomains domains exist.
    fn min_match(&self, i: usize) -> i64 {
        if (self.counts[i].len() as i64) < self.constraints[i].min_domains {
            return 0;
        }
        self.critical_paths[i].0[0].1
    }

    fn update_with_pod(&mut self, other: &PodInfo, node: &Node, delta: i64) {
        if other.namespace() != self.namespace
            || !node_has_all_keys(&node.metadata.labels, &self.constraints)
        {
            return;
        }
        for (i, c) in self.constraints.iter().enumerate() {
            if !c.selector.matches(&other.pod().metadata.labels) {
                continue;
            }
            let v = node
                .metadata
                .labels
                .get(&c.topology_key)
                .cloned()
                .unwrap_or_default();
            let e = self.counts[i].entry(v.clone()).or_insert(0);
            *e += delta;
            let n = *e;
            self.critical_paths[i].update(&v, n);
        }
    }
}

impl PreFilterPlugin for PodTopologySpread {
    fn pre_filter(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        pod: &PodInfo,
        snap: &Snapshot,
    ) -> (PreFilterResult, Status) {
        let constraints = match self.constraints(pod, "DoNotSchedule", snap) {
            Ok(c) => c,
            Err(e) => {
                return (
                    PreFilterResult::default(),
                    Status::error(format!("get constraints from pod: {e}")),
                )
            }
        };
        if constraints.is_empty() {
            return (PreFilterResult::default(), Status::skip());
        }
        let required = RequiredNodeAffinity::of(pod);
        let mut counts: Vec<BTreeMap<String, i64>> = vec![BTreeMap::new(); constraints.len()];
        let memo_ids: Vec<u64> = constraints
            .iter()
            .map(|c| self.memo_id(&c.selector, pod.namespace()))
            .collect();
        // A node counts only with every constraint's key. The constraints that include
        // every such node read the sums kept between cycles; the others walk.
        let keys: Vec<String> = constraints.iter().map(|c| c.topology_key.clone()).collect();
        let mut walk = Vec::new();
        for (i, c) in constraints.iter().enumerate() {
            if !sums_apply(&required, c) {
                walk.push(i);
                continue;
            }
            counts[i] = self.domain_sums(snap, c, pod.namespace(), memo_ids[i], &keys);
            #[cfg(debug_assertions)]
            {
                let mut fresh = vec![BTreeMap::new(); constraints.len()];
                count_by_walk(
                    snap,
                    pod,
                    &constraints,
                    &[i],
                    &memo_ids,
                    true,
                    true,
                    &mut fresh,
                );
                debug_assert_eq!(counts[i], fresh[i], "domains of {}", c.topology_key);
            }
        }
        count_by_walk(
            snap,
            pod,
            &constraints,
            &walk,
            &memo_ids,
            true,
            true,
            &mut counts,
        );
        let critical_paths = counts
            .iter()
            .map(|m| {
                let mut cp = CriticalPaths::new();
                for (v, n) in m {
                    cp.update(v, *n);
                }
                cp
            })
            .collect();
        state.write(
            pc.index,
            PreFilterState {
                constraints,
                critical_paths,
                counts,
                namespace: pod.namespace().to_string(),
            },
        );
        (PreFilterResult::default(), Status::success())
    }

    fn add_pod(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        _: &PodInfo,
        other: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) {
        if let Some(s) = state.read_mut::<PreFilterState>(pc.index) {
            s.update_with_pod(other, node.node(), 1);
        }
    }

    fn remove_pod(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        _: &PodInfo,
        other: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) {
        if let Some(s) = state.read_mut::<PreFilterState>(pc.index) {
            s.update_with_pod(other, node.node(), -1);
        }
    }
}

impl FilterPlugin for PodTopologySpread {
    fn filter(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) -> Status {
        let Some(s) = state.read::<PreFilterState>(pc.index) else {
            return Status::error(
                "error reading \"PreFilterPodTopologySpread\" from cycleState: not found",
            );
        };
        let labels = &node.node().metadata.labels;
        let pod_labels = &pod.pod().metadata.labels;
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(v) = labels.get(&c.topology_key) else {
                return Status::new(
                    Code::UnschedulableAndUnresolvable,
                    ERR_REASON_NODE_LABEL_NOT_MATCH,
                );
            };
            let min = s.min_match(i);
            let self_match = i64::from(c.selector.matches(pod_labels));
            let matched = s.counts[i].get(v).copied().unwrap_or(0);
            if matched + self_match - min > c.max_skew {
                return Status::new(Code::Unschedulable, ERR_REASON_CONSTRAINTS_NOT_MATCH);
            }
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::scheduler::config::PodTopologySpreadArgs;
    use crate::scheduler::plugins::testing::{filter, pod, world};
    use serde_json::{json, Value};

    fn node(name: &str, zone: &str) -> Value {
        json!({"metadata": {"name": name, "labels": {"zone": zone, "node": name}}})
    }

    fn foo_on(node: &str) -> Value {
        json!({"metadata": {"labels": {"foo": ""}}, "spec": {"nodeName": node}})
    }

    #[test]
    fn skew_table() {
        // Upstream's "pods spread across zones as 3/3, all nodes fit the pod" and
        // "pods spread across zones as 3/1 (...) only node in zone2 fits".
        let p = PodTopologySpread::new(&PodTopologySpreadArgs::default());
        let incoming = pod(
            json!({"metadata": {"labels": {"foo": ""}}, "spec": {"topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchExpressions": [{"key": "foo", "operator": "Exists"}]}}
            ]}}),
        );
        let nodes = vec![
            node("node-a", "zone1"),
            node("node-b", "zone1"),
            node("node-x", "zone2"),
            node("node-y", "zone2"),
        ];
        let even = world(
            nodes.clone(),
            vec![
                foo_on("node-a"),
                foo_on("node-b"),
                foo_on("node-x"),
                foo_on("node-y"),
            ],
        );
        for n in ["node-a", "node-b", "node-x", "node-y"] {
            assert!(filter(&even, &p, &incoming, n).is_success(), "{n}");
        }
        let uneven = world(
            nodes,
            vec![
                foo_on("node-a"),
                foo_on("node-a"),
                foo_on("node-b"),
                foo_on("node-x"),
            ],
        );
        assert_eq!(
            filter(&uneven, &p, &incoming, "node-a").message(),
            ERR_REASON_CONSTRAINTS_NOT_MATCH
        );
        assert!(filter(&uneven, &p, &incoming, "node-y").is_success());
        let unlabelled = world(vec![json!({"metadata": {"name": "bare"}})], vec![]);
        assert_eq!(
            filter(&unlabelled, &p, &incoming, "bare").message(),
            ERR_REASON_NODE_LABEL_NOT_MATCH
        );
    }
}
