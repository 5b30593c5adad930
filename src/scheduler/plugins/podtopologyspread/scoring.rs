use std::collections::{BTreeMap, BTreeSet};

use super::common::{count_by_walk, count_matching_on, node_has_all_keys, sums_apply, Constraint};
use super::plugin::PodTopologySpread;
use crate::scheduler::cache::{Snapshot, LABEL_HOSTNAME};
use crate::scheduler::framework::{
    CycleState, NodeInfo, NormalizeScore, PluginCtx, PodInfo, PreScorePlugin, ScorePlugin, Status,
};
use crate::scheduler::plugins::nodeaffinity::RequiredNodeAffinity;

#[derive(Clone)]
struct PreScoreState {
    constraints: Vec<Constraint>,
    /// Feasible nodes that lack a topology key: they score 0.
    ignored: BTreeSet<String>,
    /// Per constraint (except hostname ones): topology value → matching pods.
    counts: Vec<BTreeMap<String, i64>>,
    weights: Vec<f64>,
    /// Per constraint: the id nodes memoize their matching count under.
    memo_ids: Vec<u64>,
}

/// `topologyNormalizingWeight`: ln(size + 2).
fn normalizing_weight(size: usize) -> f64 {
    ((size + 2) as f64).ln()
}

/// `scoreForCount`.
fn score_for_count(cnt: i64, max_skew: i64, weight: f64) -> f64 {
    cnt as f64 * weight + (max_skew - 1) as f64
}

impl PreScorePlugin for PodTopologySpread {
    fn pre_score(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        snap: &Snapshot,
    ) -> Status {
        if snap.num_nodes() == 0 {
            return Status::success();
        }
        let p = pod.pod();
        let require_all = !p.spec.topology_spread_constraints.is_empty() || !self.system_defaulted;
        let constraints = match self.constraints(pod, "ScheduleAnyway", snap) {
            Ok(c) => c,
            Err(e) => return Status::error(format!("calculating preScoreState: {e}")),
        };
        if constraints.is_empty() {
            return Status::skip();
        }
        let memo_ids = constraints
            .iter()
            .map(|c| self.memo_id(&c.selector, pod.namespace()))
            .collect();
        let mut s = PreScoreState {
            ignored: BTreeSet::new(),
            counts: vec![BTreeMap::new(); constraints.len()],
            weights: Vec::new(),
            constraints,
            memo_ids,
        };
        let mut sizes = vec![0usize; s.constraints.len()];
        for n in nodes {
            let labels = &n.node().metadata.labels;
            if require_all && !node_has_all_keys(labels, &s.constraints) {
                s.ignored.insert(n.name.to_string());
                continue;
            }
            for (i, c) in s.constraints.iter().enumerate() {
                if c.topology_key == LABEL_HOSTNAME {
                    continue;
                }
                let v = labels.get(&c.topology_key).map_or("", String::as_str);
                if !s.counts[i].contains_key(v) {
                    s.counts[i].insert(v.to_string(), 0);
                    sizes[i] += 1;
                }
            }
        }
        s.weights = s
            .constraints
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let size = if c.topology_key == LABEL_HOSTNAME {
                    nodes.len() - s.ignored.len()
                } else {
                    sizes[i]
                };
                normalizing_weight(size)
            })
            .collect();
        let required = RequiredNodeAffinity::of(pod);
        let required_keys: Vec<String> = if require_all {
            s.constraints
                .iter()
                .map(|c| c.topology_key.clone())
                .collect()
        } else {
            Vec::new()
        };
        // A constraint every node's count is kept for reads the kept sums; the
        // others walk every node.
        let mut walk = Vec::new();
        for (i, c) in s.constraints.iter().enumerate() {
            if s.counts[i].is_empty() {
                continue;
            }
            if !sums_apply(&required, c) {
                walk.push(i);
                continue;
            }
            let sums = self.domain_sums(snap, c, pod.namespace(), s.memo_ids[i], &required_keys);
            for (v, cnt) in s.counts[i].iter_mut() {
                *cnt = sums.get(v).copied().unwrap_or(0);
                #[cfg(debug_assertions)]
                debug_assert_eq!(
                    *cnt,
                    super::common::fresh_sum(snap, c, pod.namespace(), &required_keys, v),
                    "domain {v} of {}",
                    c.topology_key
                );
            }
        }
        count_by_walk(
            snap,
            pod,
            &s.constraints,
            &walk,
            &s.memo_ids,
            require_all,
            false,
            &mut s.counts,
        );
        state.write_score(pc.index, s);
        Status::success()
    }
}

impl PodTopologySpread {
    /// Per constraint whose key the node has: (key, matching pods, weight, score).
    fn parts<'a>(
        &self,
        s: &'a PreScoreState,
        pod: &'a PodInfo,
        node: &'a NodeInfo,
    ) -> impl Iterator<Item = (&'a str, i64, f64, f64)> + 'a {
        let labels = &node.node().metadata.labels;
        s.constraints.iter().enumerate().filter_map(move |(i, c)| {
            let v = labels.get(&c.topology_key)?;
            let cnt = if c.topology_key == LABEL_HOSTNAME {
                count_matching_on(node, &c.selector, pod.namespace(), s.memo_ids[i])
            } else {
                s.counts[i].get(v).copied().unwrap_or(0)
            };
            Some((
                c.topology_key.as_str(),
                cnt,
                s.weights[i],
                score_for_count(cnt, c.max_skew, s.weights[i]),
            ))
        })
    }
}

impl ScorePlugin for PodTopologySpread {
    fn score(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) -> Result<i64, Status> {
        let Some(s) = state.read_score::<PreScoreState>(pc.index) else {
            return Err(Status::error(
                "error reading \"PreScorePodTopologySpread\" from cycleState: not found",
            ));
        };
        if s.ignored.contains(&*node.name) {
            return Ok(0);
        }
        let total: f64 = self.parts(s, pod, node).map(|p| p.3).sum();
        Ok(total.round() as i64)
    }

    fn normalize(&self) -> Option<&dyn NormalizeScore> {
        Some(self)
    }

    fn explain(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
        raw: i64,
    ) -> String {
        let Some(s) = state.read_score::<PreScoreState>(pc.index) else {
            return format!("{raw}");
        };
        if s.ignored.contains(&*node.name) {
            return "the node lacks a constraint's topology key: 0".into();
        }
        let parts: Vec<String> = self
            .parts(s, pod, node)
            .map(|(k, cnt, w, _)| {
                format!("{k}: {cnt} matching × ln(domains + 2) {w:.3} + (maxSkew − 1)")
            })
            .collect();
        format!(
            "{} ≈ {raw} (fewer matching pods is better)",
            parts.join(" + ")
        )
    }
}

impl NormalizeScore for PodTopologySpread {
    fn normalize_score(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        _: &PodInfo,
        nodes: &[&NodeInfo],
        scores: &mut [i64],
    ) -> Status {
        let Some(s) = state.read_score::<PreScoreState>(pc.index) else {
            return Status::success();
        };
        let mut min = i64::MAX;
        let mut max = 0i64;
        for (n, v) in nodes.iter().zip(scores.iter()) {
            if s.ignored.contains(&*n.name) {
                continue;
            }
            min = min.min(*v);
            max = max.max(*v);
        }
        for (n, v) in nodes.iter().zip(scores.iter_mut()) {
            if s.ignored.contains(&*n.name) {
                *v = 0;
            } else if max == 0 {
                *v = pc.max_score;
            } else {
                *v = pc.max_score * (max + min - *v) / max;
            }
        }
        Status::success()
    }

    fn explain_normalize(&self, pc: PluginCtx, raw: i64, score: i64, min: i64, max: i64) -> String {
        let max = max.max(0);
        if max == 0 {
            return format!("no matching pods anywhere: {}", pc.max_score);
        }
        format!(
            "{} × ({max} + {min} − {raw}) / {max} = {score}",
            pc.max_score
        )
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::scheduler::config::PodTopologySpreadArgs;
    use crate::scheduler::plugins::testing::{pod, scores, world};
    use serde_json::{json, Value};

    fn node(name: &str) -> Value {
        json!({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}}})
    }

    #[test]
    fn spreads_by_hostname() {
        // Upstream's "one constraint on node, all 4 nodes are candidates": 2/1/0/3
        // matching pods; raw round(n × ln(6)) = 4, 2, 0, 5 → 100 × (5 + 0 − raw) / 5.
        let p = PodTopologySpread::new(&PodTopologySpreadArgs::default());
        let foo = |n: &str| json!({"metadata": {"labels": {"foo": ""}}, "spec": {"nodeName": n}});
        let c = world(
            vec![
                node("node-a"),
                node("node-b"),
                node("node-c"),
                node("node-d"),
            ],
            vec![
                foo("node-a"),
                foo("node-a"),
                foo("node-b"),
                foo("node-d"),
                foo("node-d"),
                foo("node-d"),
            ],
        );
        let incoming = pod(
            json!({"metadata": {"labels": {"foo": ""}}, "spec": {"topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchExpressions": [{"key": "foo", "operator": "Exists"}]}}
            ]}}),
        );
        let got = scores(&c, &p, &incoming).unwrap();
        assert_eq!(
            got,
            [
                ("node-a".into(), 20),
                ("node-b".into(), 60),
                ("node-c".into(), 100),
                ("node-d".into(), 0)
            ]
        );
    }
}
