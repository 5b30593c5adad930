use crate::api::VecMap;
use std::collections::BTreeMap;

use super::plugin::{merge_namespaces, InterPodAffinity};
use crate::api::core::{Node, Pod};
use crate::scheduler::cache::Snapshot;
use crate::scheduler::framework::types::{AffinityTerm, WeightedAffinityTerm};
use crate::scheduler::framework::{
    CycleState, NodeInfo, NormalizeScore, PluginCtx, PodInfo, PreScorePlugin, ScorePlugin, Status,
};

/// Topology key → value → score.
type ScoreMap = BTreeMap<String, BTreeMap<String, i64>>;

#[derive(Clone)]
struct PreScoreState {
    topology_score: ScoreMap,
}

fn process_term(
    m: &mut ScoreMap,
    term: &AffinityTerm,
    weight: i64,
    pod: &Pod,
    ns: Option<&VecMap<String, String>>,
    node: &Node,
) {
    if term.matches(pod, ns) {
        if let Some(v) = node.metadata.labels.get(&term.topology_key) {
            *m.entry(term.topology_key.clone())
                .or_default()
                .entry(v.clone())
                .or_insert(0) += weight;
        }
    }
}

fn process_terms(
    m: &mut ScoreMap,
    terms: &[WeightedAffinityTerm],
    pod: &Pod,
    ns: Option<&VecMap<String, String>>,
    node: &Node,
    sign: i64,
) {
    for t in terms {
        process_term(m, &t.term, i64::from(t.weight) * sign, pod, ns, node);
    }
}

impl PreScorePlugin for InterPodAffinity {
    fn pre_score(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        snap: &Snapshot,
    ) -> Status {
        if nodes.is_empty() {
            return Status::skip();
        }
        let has_constraints =
            !pod.preferred_affinity.is_empty() || !pod.preferred_anti_affinity.is_empty();
        if self.args.ignore_preferred_terms_of_existing_pods && !has_constraints {
            return Status::skip();
        }
        if !has_constraints && snap.pods_with_affinity == 0 {
            return Status::skip();
        }
        let mut preferred = pod.preferred_affinity.clone();
        let mut preferred_anti = pod.preferred_anti_affinity.clone();
        for t in preferred.iter_mut().chain(preferred_anti.iter_mut()) {
            merge_namespaces(&mut t.term, snap);
        }
        let ns = snap.namespace_labels(pod.namespace());
        let incoming = pod.pod();
        let mut m = ScoreMap::new();
        for n in snap.list() {
            if !has_constraints && n.pods_with_affinity == 0 {
                continue;
            }
            let node = n.node();
            if node.metadata.labels.is_empty() {
                continue;
            }
            for existing in &n.pods {
                if !has_constraints && !existing.has_affinity() {
                    continue;
                }
                process_terms(&mut m, &preferred, existing.pod(), None, node, 1);
                process_terms(&mut m, &preferred_anti, existing.pod(), None, node, -1);
                if self.args.hard_pod_affinity_weight > 0 {
                    for t in &existing.required_affinity {
                        process_term(
                            &mut m,
                            t,
                            self.args.hard_pod_affinity_weight,
                            incoming,
                            ns,
                            node,
                        );
                    }
                }
                process_terms(&mut m, &existing.preferred_affinity, incoming, ns, node, 1);
                process_terms(
                    &mut m,
                    &existing.preferred_anti_affinity,
                    incoming,
                    ns,
                    node,
                    -1,
                );
            }
        }
        if m.is_empty() {
            return Status::skip();
        }
        state.write_score(pc.index, PreScoreState { topology_score: m });
        Status::success()
    }
}

impl ScorePlugin for InterPodAffinity {
    fn score(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        _: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) -> Result<i64, Status> {
        let Some(s) = state.read_score::<PreScoreState>(pc.index) else {
            return Err(Status::error(
                "error reading \"PreScoreInterPodAffinity\" from cycleState: not found",
            ));
        };
        let labels = &node.node().metadata.labels;
        Ok(s.topology_score
            .iter()
            .filter_map(|(k, vals)| labels.get(k).and_then(|v| vals.get(v)))
            .sum())
    }

    fn normalize(&self) -> Option<&dyn NormalizeScore> {
        Some(self)
    }

    fn explain(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        _: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
        raw: i64,
    ) -> String {
        let Some(s) = state.read_score::<PreScoreState>(pc.index) else {
            return format!("{raw}");
        };
        let labels = &node.node().metadata.labels;
        let parts: Vec<String> = s
            .topology_score
            .iter()
            .filter_map(|(k, vals)| {
                labels
                    .get(k)
                    .and_then(|v| vals.get(v).map(|s| format!("{k}={v}: {s}")))
            })
            .collect();
        if parts.is_empty() {
            "no matching (anti-)affinity term in the node's topologies: 0".into()
        } else {
            format!("{} = {raw}", parts.join(" + "))
        }
    }
}

impl NormalizeScore for InterPodAffinity {
    fn normalize_score(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        _: &PodInfo,
        _: &[&NodeInfo],
        scores: &mut [i64],
    ) -> Status {
        let Some(s) = state.read_score::<PreScoreState>(pc.index) else {
            return Status::success();
        };
        if s.topology_score.is_empty() {
            return Status::success();
        }
        let min = scores.iter().copied().min().unwrap_or(0);
        let max = scores.iter().copied().max().unwrap_or(0);
        let diff = max - min;
        for v in scores.iter_mut() {
            let f = if diff > 0 {
                pc.max_score as f64 * ((*v - min) as f64 / diff as f64)
            } else {
                0.0
            };
            *v = f as i64;
        }
        Status::success()
    }

    fn explain_normalize(&self, pc: PluginCtx, raw: i64, score: i64, min: i64, max: i64) -> String {
        if max == min {
            return format!("all nodes score {raw}: 0");
        }
        format!(
            "{} × ({raw} − {min}) / ({max} − {min}) = {score}",
            pc.max_score
        )
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::scheduler::config::InterPodAffinityArgs;
    use crate::scheduler::framework::Code;
    use crate::scheduler::plugins::testing::{pod, scores, world};
    use serde_json::json;

    #[test]
    fn preferred_affinity_scores_by_topology() {
        let p = InterPodAffinity::new(&InterPodAffinityArgs::default());
        let c = world(
            vec![
                json!({"metadata": {"name": "m1", "labels": {"region": "China"}}}),
                json!({"metadata": {"name": "m2", "labels": {"region": "India"}}}),
                json!({"metadata": {"name": "m3", "labels": {"az": "az1"}}}),
            ],
            vec![json!({"metadata": {"labels": {"security": "S1"}}, "spec": {"nodeName": "m1"}})],
        );
        let incoming = pod(
            json!({"spec": {"affinity": {"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 5, "podAffinityTerm": {"labelSelector": {"matchExpressions": [{"key": "security", "operator": "In", "values": ["S1"]}]}, "topologyKey": "region"}}
            ]}}}}),
        );
        // Upstream's "Affinity: pod that matches topology key & pods in nodes will get high score".
        assert_eq!(
            scores(&c, &p, &incoming).unwrap(),
            [("m1".into(), 100), ("m2".into(), 0), ("m3".into(), 0)]
        );
        // Nothing has affinity: skipped.
        assert_eq!(
            scores(&c, &p, &pod(json!({"spec": {}}))).unwrap_err().code,
            Code::Skip
        );
    }
}
