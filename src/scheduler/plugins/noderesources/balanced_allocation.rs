use super::resource_allocation::{PreScoreState, Scorer, Strategy};
use crate::scheduler::cache::Snapshot;
use crate::scheduler::config::ResourceSpec;
use crate::scheduler::framework::{
    ClusterEvent, CycleState, Explanation, NodeInfo, Plugin, PluginCtx, PodInfo, PreScorePlugin,
    ScorePlugin, Status,
};

pub const NAME: &str = "NodeResourcesBalancedAllocation";

/// PreScore, Score: favours nodes whose resource use would be balanced across the
/// configured resources: `(1 − std(requested/allocatable)) × 100`, on actual requests.
///
/// A pod that requests none of the resources (best effort) is skipped at PreScore, as
/// upstream does since kubernetes/kubernetes#129138 (after v1.31; the conformance
/// vectors expect it).
pub struct BalancedAllocation {
    scorer: Scorer,
}

impl BalancedAllocation {
    pub fn new(resources: &[ResourceSpec]) -> Result<BalancedAllocation, String> {
        let resources = if resources.is_empty() {
            crate::scheduler::config::FitArgs::default()
                .scoring_strategy
                .resources
        } else {
            resources.to_vec()
        };
        Ok(BalancedAllocation {
            scorer: Scorer::new(resources, true, Strategy::Balanced),
        })
    }
}

impl Plugin for BalancedAllocation {
    fn name(&self) -> &str {
        NAME
    }
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[]
    }
}

impl PreScorePlugin for BalancedAllocation {
    fn pre_score(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        pod: &PodInfo,
        _: &[&NodeInfo],
        _: &Snapshot,
    ) -> Status {
        let pod_requests = self.scorer.pod_requests(pod);
        if pod_requests.iter().all(|r| *r == 0) {
            return Status::skip();
        }
        state.write_score(pc.index, PreScoreState { pod_requests });
        Status::success()
    }
}

impl ScorePlugin for BalancedAllocation {
    fn score(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) -> Result<i64, Status> {
        let req = self.scorer.cycle_requests(state, pc.index, pod);
        self.scorer.score(node, &req)
    }

    fn score_nodes(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        _: &Snapshot,
        out: &mut Vec<i64>,
    ) -> Result<(), Status> {
        let req = self.scorer.cycle_requests(state, pc.index, pod);
        self.scorer.score_all(&req, nodes, out)
    }

    fn explanation(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
        raw: i64,
    ) -> Explanation {
        let req = self.scorer.cycle_requests(state, pc.index, pod);
        self.scorer.explanation(node, &req, raw)
    }

    fn render(&self, e: &Explanation, raw: i64) -> String {
        self.scorer.render(e, raw)
    }

    fn explain(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
        raw: i64,
    ) -> String {
        let e = self.explanation(pc, state, pod, node, snap, raw);
        self.render(&e, raw)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::scheduler::framework::Code;
    use crate::scheduler::plugins::testing::{pod, scores, world};
    use serde_json::{json, Value};

    fn node(name: &str, cpu: &str, mem: &str, gpu: Option<&str>) -> Value {
        let mut alloc = json!({"cpu": cpu, "memory": mem});
        if let Some(g) = gpu {
            alloc["nvidia.com/gpu"] = g.into();
        }
        json!({"metadata": {"name": name}, "status": {"allocatable": alloc.clone(), "capacity": alloc}})
    }

    fn cpu_and_memory(node: &str) -> Value {
        json!({"spec": {"nodeName": node, "containers": [
            {"name": "a", "resources": {"requests": {"cpu": "1000m", "memory": "2000"}}},
            {"name": "b", "resources": {"requests": {"cpu": "2000m", "memory": "3000"}}}
        ]}})
    }

    #[test]
    fn table() {
        let three = [
            ResourceSpec {
                name: "cpu".into(),
                weight: 1,
            },
            ResourceSpec {
                name: "memory".into(),
                weight: 1,
            },
            ResourceSpec {
                name: "nvidia.com/gpu".into(),
                weight: 1,
            },
        ];
        let p = BalancedAllocation::new(&[]).unwrap();
        // "nothing scheduled, resources requested, differently sized nodes": 87, 100.
        let c = world(
            vec![
                node("node1", "4000m", "10000", None),
                node("node2", "6000m", "10000", None),
            ],
            vec![],
        );
        assert_eq!(
            scores(&c, &p, &pod(cpu_and_memory(""))).unwrap(),
            [("node1".into(), 87), ("node2".into(), 100)]
        );
        // A best-effort pod is skipped.
        assert_eq!(
            scores(&c, &p, &pod(json!({"spec": {}}))).unwrap_err().code,
            Code::Skip
        );
        // "include scalar resource on a node": 70, 65.
        let p3 = BalancedAllocation::new(&three).unwrap();
        let gpu_pod = json!({"spec": {"nodeName": "node1", "containers": [
            {"name": "a", "resources": {"requests": {"cpu": "1000m", "memory": "2000"}}},
            {"name": "b", "resources": {"requests": {"cpu": "2000m", "memory": "3000", "nvidia.com/gpu": "3"}}}
        ]}});
        let mut other = cpu_and_memory("node2");
        other["metadata"] = json!({"name": "cm"});
        let c = world(
            vec![
                node("node1", "3500m", "40000", Some("8")),
                node("node2", "3500m", "40000", Some("8")),
            ],
            vec![other, gpu_pod],
        );
        let incoming = pod(
            json!({"spec": {"containers": [{"name": "a", "resources": {"requests": {"memory": "0", "nvidia.com/gpu": "1"}}}]}}),
        );
        assert_eq!(
            scores(&c, &p3, &incoming).unwrap(),
            [("node1".into(), 70), ("node2".into(), 65)]
        );
    }
}
