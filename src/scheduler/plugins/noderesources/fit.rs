use std::borrow::Cow;
use std::collections::BTreeSet;

use super::resource_allocation::{PreScoreState, Scorer, Strategy};
use crate::scheduler::cache::Snapshot;
use crate::scheduler::config::{validate_fit_args, FitArgs, ScoringStrategyType, ShapePoint};
use crate::scheduler::framework::types::{is_extended_resource_name, Resource};
use crate::scheduler::framework::{
    ClusterEvent, Code, CycleState, Explanation, FilterPlugin, InsufficientResource, NodeInfo,
    Plugin, PluginCtx, PodInfo, PreFilterPlugin, PreFilterResult, PreScorePlugin, ScorePlugin,
    Status,
};

pub const NAME: &str = "NodeResourcesFit";
/// The reason when a node already holds as many pods as it allows.
pub const ERR_REASON_TOO_MANY_PODS: &str = "Too many pods";

/// `config.MaxCustomPriorityScore`: RequestedToCapacityRatio shape scores go to 10.
pub const MAX_CUSTOM_PRIORITY_SCORE: i64 = 10;

/// PreFilter, Filter, PreScore, Score: the pod's requests (init containers, sidecars
/// and overhead included) must fit in what the node has left; scoring follows the
/// configured strategy (LeastAllocated by default) over non-zero requests.
pub struct Fit {
    ignored_resources: BTreeSet<String>,
    ignored_groups: BTreeSet<String>,
    pub scorer: Scorer,
}

impl Fit {
    /// `NewFit`: the args are validated as given (internal types, no defaulting).
    pub fn new(args: &FitArgs) -> Result<Fit, String> {
        let errs = validate_fit_args(args, "");
        if let Some(e) = errs.first() {
            return Err(if errs.len() == 1 {
                e.to_string()
            } else {
                format!(
                    "[{}]",
                    errs.iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
        }
        let strategy = match args.scoring_strategy.kind {
            ScoringStrategyType::LeastAllocated => Strategy::LeastAllocated,
            ScoringStrategyType::MostAllocated => Strategy::MostAllocated,
            ScoringStrategyType::RequestedToCapacityRatio => Strategy::RequestedToCapacityRatio(
                args.scoring_strategy
                    .shape
                    .iter()
                    .map(|p| ShapePoint {
                        utilization: p.utilization,
                        score: p.score
                            * (crate::scheduler::framework::MAX_NODE_SCORE
                                / MAX_CUSTOM_PRIORITY_SCORE),
                    })
                    .collect(),
            ),
        };
        Ok(Fit {
            ignored_resources: args.ignored_resources.iter().cloned().collect(),
            ignored_groups: args.ignored_resource_groups.iter().cloned().collect(),
            scorer: Scorer::new(args.scoring_strategy.resources.clone(), false, strategy),
        })
    }
}

impl Plugin for Fit {
    fn name(&self) -> &str {
        NAME
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[
            ClusterEvent::AssignedPodDelete,
            ClusterEvent::NodeAdd,
            ClusterEvent::NodeAllocatableChange,
        ]
    }
}

/// `fitsRequest`: every resource the pod requests that the node lacks (the pod count
/// first), with what was requested, used and allocatable.
pub fn fits_request(
    req: &Resource,
    node: &NodeInfo,
    ignored: &BTreeSet<String>,
    ignored_groups: &BTreeSet<String>,
) -> Vec<(Cow<'static, str>, InsufficientResource)> {
    let mut out = Vec::new();
    let alloc = &node.allocatable;
    let used = &node.requested;
    let pods = node.pods.len() as i64;
    if pods + 1 > alloc.allowed_pod_number {
        out.push((
            Cow::Borrowed(ERR_REASON_TOO_MANY_PODS),
            InsufficientResource {
                resource_name: "pods".into(),
                requested: 1,
                used: pods,
                capacity: alloc.allowed_pod_number,
            },
        ));
    }
    if req.is_zero_request() {
        return out;
    }
    let mut check = |name: &'static str, want: i64, have: i64, used: i64| {
        if want > 0 && want > have.saturating_sub(used) {
            out.push((
                Cow::Borrowed(match name {
                    "cpu" => "Insufficient cpu",
                    "memory" => "Insufficient memory",
                    _ => "Insufficient ephemeral-storage",
                }),
                InsufficientResource {
                    resource_name: name.into(),
                    requested: want,
                    used,
                    capacity: have,
                },
            ));
        }
    };
    check("cpu", req.milli_cpu, alloc.milli_cpu, used.milli_cpu);
    check("memory", req.memory, alloc.memory, used.memory);
    check(
        "ephemeral-storage",
        req.ephemeral_storage,
        alloc.ephemeral_storage,
        used.ephemeral_storage,
    );
    for (name, want) in &req.scalar {
        if *want == 0 {
            continue;
        }
        if is_extended_resource_name(name) {
            let group = name.split('/').next().unwrap_or("");
            if ignored.contains(&**name)
                || (!ignored_groups.is_empty() && ignored_groups.contains(group))
            {
                continue;
            }
        }
        let have = alloc.scalar(name);
        let u = used.scalar(name);
        if *want > have.saturating_sub(u) {
            out.push((
                Cow::Owned(format!("Insufficient {name}")),
                InsufficientResource {
                    resource_name: name.to_string(),
                    requested: *want,
                    used: u,
                    capacity: have,
                },
            ));
        }
    }
    out
}

/// The insufficient resources as a filter status.
pub fn insufficient_status(list: Vec<(Cow<'static, str>, InsufficientResource)>) -> Status {
    let mut st = Status::code_only(Code::Unschedulable);
    for (reason, ir) in list {
        st.reasons.push(reason);
        st.insufficient.push(ir);
    }
    st
}

#[derive(Clone)]
struct PreFilterState {
    request: Resource,
}

impl PreFilterPlugin for Fit {
    fn pre_filter(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        pod: &PodInfo,
        _: &Snapshot,
    ) -> (PreFilterResult, Status) {
        state.write(
            pc.index,
            PreFilterState {
                request: pod.fit_request.clone(),
            },
        );
        (PreFilterResult::default(), Status::success())
    }
}

impl FilterPlugin for Fit {
    fn filter(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) -> Status {
        let req = match state.read::<PreFilterState>(pc.index) {
            Some(s) => &s.request,
            None => {
                return Status::error(format!(
                    "error reading \"PreFilter{NAME}\" from cycleState: not found"
                ))
            }
        };
        let _ = pod;
        let list = fits_request(req, node, &self.ignored_resources, &self.ignored_groups);
        if list.is_empty() {
            Status::success()
        } else {
            insufficient_status(list)
        }
    }
}

impl PreScorePlugin for Fit {
    fn pre_score(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        pod: &PodInfo,
        _: &[&NodeInfo],
        _: &Snapshot,
    ) -> Status {
        state.write_score(
            pc.index,
            PreScoreState {
                pod_requests: self.scorer.pod_requests(pod),
            },
        );
        Status::success()
    }
}

impl ScorePlugin for Fit {
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
        format!("{}: {}", self.strategy_name(), self.scorer.render(e, raw))
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

impl Fit {
    fn strategy_name(&self) -> &'static str {
        match self.scorer.strategy {
            Strategy::LeastAllocated => "LeastAllocated",
            Strategy::MostAllocated => "MostAllocated",
            Strategy::RequestedToCapacityRatio(_) => "RequestedToCapacityRatio",
            Strategy::Balanced => "Balanced",
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::scheduler::config::{ResourceSpec, ScoringStrategy};
    use crate::scheduler::plugins::testing::{filter, pod, scores, world};
    use serde_json::{json, Value};

    fn node(cpu: &str, mem: &str, pods: &str) -> Value {
        json!({"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": cpu, "memory": mem, "pods": pods}, "capacity": {"cpu": cpu, "memory": mem, "pods": pods}}})
    }

    fn req(cpu: &str, mem: &str) -> Value {
        json!({"spec": {"nodeName": "n", "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": mem}}}]}})
    }

    #[test]
    fn filter_table() {
        let fit = Fit::new(&FitArgs::default()).unwrap();
        let cases: Vec<(Value, Vec<Value>, Vec<&str>)> = vec![
            (req("1m", "1"), vec![req("9m", "19")], vec![]),
            (
                req("2m", "1"),
                vec![req("9m", "5")],
                vec!["Insufficient cpu"],
            ),
            (
                req("2m", "2"),
                vec![req("9m", "19")],
                vec!["Insufficient cpu", "Insufficient memory"],
            ),
            (json!({"spec": {}}), vec![req("10m", "20")], vec![]),
        ];
        for (i, (p, existing, reasons)) in cases.into_iter().enumerate() {
            let c = world(vec![node("10m", "20", "32")], existing);
            let st = filter(&c, &fit, &pod(p), "n");
            let got: Vec<String> = st.reasons.iter().map(|r| r.to_string()).collect();
            assert_eq!(got, reasons, "case {i}");
            if !reasons.is_empty() {
                assert_eq!(st.code, Code::Unschedulable);
            }
        }
        let c = world(vec![node("10m", "20", "1")], vec![req("5m", "5")]);
        let st = filter(&c, &fit, &pod(req("1m", "1")), "n");
        assert_eq!(st.message(), ERR_REASON_TOO_MANY_PODS);
        assert_eq!(st.insufficient[0].capacity, 1);
    }

    fn strategy(kind: ScoringStrategyType, shape: Vec<ShapePoint>) -> FitArgs {
        FitArgs {
            scoring_strategy: ScoringStrategy {
                kind,
                resources: vec![
                    ResourceSpec {
                        name: "cpu".into(),
                        weight: 1,
                    },
                    ResourceSpec {
                        name: "memory".into(),
                        weight: 1,
                    },
                ],
                shape,
            },
            ..FitArgs::default()
        }
    }

    #[test]
    fn requested_to_capacity_ratio_table() {
        // A shape that falls from 10 at 0% to 0 at 100% (scores scaled ×10).
        let fit = Fit::new(&strategy(
            ScoringStrategyType::RequestedToCapacityRatio,
            vec![
                ShapePoint {
                    utilization: 0,
                    score: 10,
                },
                ShapePoint {
                    utilization: 100,
                    score: 0,
                },
            ],
        ))
        .unwrap();
        let nodes = vec![
            json!({"metadata": {"name": "node1"}, "status": {"allocatable": {"cpu": "4000", "memory": "10000", "pods": "32"}}}),
            json!({"metadata": {"name": "node2"}, "status": {"allocatable": {"cpu": "6000", "memory": "10000", "pods": "32"}}}),
        ];
        let c = world(nodes, vec![]);
        let p = pod(json!({"spec": {"containers": [
            {"name": "a", "resources": {"requests": {"cpu": "1000", "memory": "2000"}}},
            {"name": "b", "resources": {"requests": {"cpu": "2000", "memory": "3000"}}}
        ]}}));
        let got = scores(&c, &fit, &p).unwrap();
        // cpu 75% → 25, memory 50% → 50: round(75/2) = 38; node2 cpu 50% → 50: 50.
        assert_eq!(got, [("node1".into(), 38), ("node2".into(), 50)]);
    }

    #[test]
    fn explain_shows_the_arithmetic() {
        let fit = Fit::new(&strategy(ScoringStrategyType::LeastAllocated, vec![])).unwrap();
        let c = world(
            vec![
                json!({"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": "4000m", "memory": "10000", "pods": "32"}}}),
            ],
            vec![],
        );
        let p = pod(
            json!({"spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": "2500m", "memory": "5000"}}}]}}),
        );
        let snap = c.snapshot();
        let state = CycleState::new(1);
        let n = c.node(0);
        let raw = fit
            .score(crate::scheduler::plugins::testing::PC, &state, &p, n, &snap)
            .unwrap();
        assert_eq!(raw, 43);
        let text = fit.explain(
            crate::scheduler::plugins::testing::PC,
            &state,
            &p,
            n,
            &snap,
            raw,
        );
        assert_eq!(
            text,
            "LeastAllocated: cpu (4000 − 2500) × 100 / 4000 = 37; memory (10000 − 5000) × 100 / 10000 = 50; (37×1 + 50×1) / 2 = 43"
        );
    }
}
