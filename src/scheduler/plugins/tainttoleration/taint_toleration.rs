use crate::api::core::{Taint, Toleration};
use crate::scheduler::cache::Snapshot;
use crate::scheduler::framework::{
    ClusterEvent, Code, CycleState, Explanation, FilterPlugin, NodeInfo, NormalizeScore, Plugin,
    PluginCtx, PodInfo, PreScorePlugin, ScorePlugin, Status,
};

pub const NAME: &str = "TaintToleration";

/// `Toleration.ToleratesTaint`: effect and key match when set; an empty or `Equal`
/// operator needs the same value, `Exists` any.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if !t.effect.is_empty() && t.effect != taint.effect {
        return false;
    }
    if !t.key.is_empty() && t.key != taint.key {
        return false;
    }
    match t.operator.as_deref() {
        None | Some("") | Some("Equal") => t.value == taint.value,
        Some("Exists") => true,
        _ => false,
    }
}

/// `v1helper.TolerationsTolerateTaint`.
pub fn tolerations_tolerate_taint(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| tolerates(t, taint))
}

/// `v1helper.FindMatchingUntoleratedTaint` with `DoNotScheduleTaintsFilterFunc`: the
/// first NoSchedule or NoExecute taint the pod does not tolerate.
pub fn untolerated_do_not_schedule<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
) -> Option<&'a Taint> {
    taints.iter().find(|t| {
        (t.effect == "NoSchedule" || t.effect == "NoExecute")
            && !tolerations_tolerate_taint(tolerations, t)
    })
}

/// Filter, PreScore, Score: a node's NoSchedule/NoExecute taints must be tolerated;
/// among feasible nodes, fewer untolerated PreferNoSchedule taints score higher.
pub struct TaintToleration;

impl Plugin for TaintToleration {
    fn name(&self) -> &str {
        NAME
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
            ClusterEvent::NodeAdd,
            ClusterEvent::NodeTaintChange,
            ClusterEvent::PodUpdate,
        ]
    }
}

impl FilterPlugin for TaintToleration {
    fn filter(
        &self,
        _: PluginCtx,
        _: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) -> Status {
        if !node.has_taints {
            return Status::success();
        }
        let taints = &node.taints;
        match untolerated_do_not_schedule(taints, &pod.pod().spec.tolerations) {
            None => Status::success(),
            Some(t) => Status::new(
                Code::UnschedulableAndUnresolvable,
                format!("node(s) had untolerated taint {{{}: {}}}", t.key, t.value),
            ),
        }
    }
}

/// The pod's tolerations that apply to PreferNoSchedule taints.
#[derive(Clone)]
struct PreScoreState {
    tolerations: Vec<Toleration>,
}

fn prefer_no_schedule_tolerations(pod: &PodInfo) -> Vec<Toleration> {
    pod.pod()
        .spec
        .tolerations
        .iter()
        .filter(|t| t.effect.is_empty() || t.effect == "PreferNoSchedule")
        .cloned()
        .collect()
}

fn count_intolerable(taints: &[Taint], tolerations: &[Toleration]) -> i64 {
    taints
        .iter()
        .filter(|t| t.effect == "PreferNoSchedule" && !tolerations_tolerate_taint(tolerations, t))
        .count() as i64
}

impl PreScorePlugin for TaintToleration {
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
                tolerations: prefer_no_schedule_tolerations(pod),
            },
        );
        Status::success()
    }
}

impl ScorePlugin for TaintToleration {
    fn score(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) -> Result<i64, Status> {
        if !node.has_taints {
            return Ok(0);
        }
        let taints = &node.taints;
        Ok(match state.read_score::<PreScoreState>(pc.index) {
            Some(s) => count_intolerable(taints, &s.tolerations),
            None => count_intolerable(taints, &prefer_no_schedule_tolerations(pod)),
        })
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
        let computed;
        let tolerations: &[Toleration] = match state.read_score::<PreScoreState>(pc.index) {
            Some(s) => &s.tolerations,
            None => {
                computed = prefer_no_schedule_tolerations(pod);
                &computed
            }
        };
        out.clear();
        out.extend(nodes.iter().map(|n| {
            if n.has_taints {
                count_intolerable(&n.taints, tolerations)
            } else {
                0
            }
        }));
        Ok(())
    }

    fn normalize(&self) -> Option<&dyn NormalizeScore> {
        Some(self)
    }

    fn explanation(
        &self,
        _: PluginCtx,
        _: &CycleState,
        _: &PodInfo,
        _: &NodeInfo,
        _: &Snapshot,
        _: i64,
    ) -> Explanation {
        Explanation::None
    }

    fn render(&self, _: &Explanation, raw: i64) -> String {
        format!("{raw} untolerated PreferNoSchedule taint(s)")
    }
}

/// `helper.DefaultNormalizeScore`: scales to `0..=max` by the highest raw score;
/// `reverse` turns "more is worse" counts into scores.
pub fn default_normalize(max: i64, reverse: bool, scores: &mut [i64]) {
    let max_count = scores.iter().copied().max().unwrap_or(0).max(0);
    if max_count == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = max);
        }
        return;
    }
    for s in scores.iter_mut() {
        let v = max.saturating_mul(*s) / max_count;
        *s = if reverse { max - v } else { v };
    }
}

/// The arithmetic of [`default_normalize`] for one score.
pub fn explain_default_normalize(
    max: i64,
    reverse: bool,
    raw: i64,
    score: i64,
    max_raw: i64,
) -> String {
    let max_count = max_raw.max(0);
    match (max_count, reverse) {
        (0, true) => format!("no node has any: {max}"),
        (0, false) => "no node has any: 0".to_string(),
        (m, true) => format!("{max} − {max} × {raw} / {m} = {score}"),
        (m, false) => format!("{max} × {raw} / {m} = {score}"),
    }
}

impl NormalizeScore for TaintToleration {
    fn normalize_score(
        &self,
        pc: PluginCtx,
        _: &CycleState,
        _: &PodInfo,
        _: &[&NodeInfo],
        scores: &mut [i64],
    ) -> Status {
        default_normalize(pc.max_score, true, scores);
        Status::success()
    }

    fn explain_normalize(&self, pc: PluginCtx, raw: i64, score: i64, min: i64, max: i64) -> String {
        let _ = min;
        explain_default_normalize(pc.max_score, true, raw, score, max)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::scheduler::plugins::testing::{filter, pod, scores, world};
    use serde_json::json;

    fn node(name: &str, taints: serde_json::Value) -> serde_json::Value {
        json!({"metadata": {"name": name}, "spec": {"taints": taints}})
    }

    #[test]
    fn filter_table() {
        let cases = [
            (json!([]), json!([]), None),
            (
                json!([]),
                json!([{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]),
                Some("node(s) had untolerated taint {dedicated: user1}"),
            ),
            (
                json!([{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]),
                json!([{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]),
                None,
            ),
            (
                json!([{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"}]),
                json!([{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]),
                Some("node(s) had untolerated taint {dedicated: user1}"),
            ),
            (
                json!([{"key": "foo", "operator": "Exists"}]),
                json!([{"key": "foo", "value": "bar", "effect": "NoExecute"}]),
                None,
            ),
            // PreferNoSchedule taints never filter.
            (
                json!([]),
                json!([{"key": "foo", "value": "bar", "effect": "PreferNoSchedule"}]),
                None,
            ),
        ];
        for (tols, taints, want) in cases {
            let c = world(vec![node("n", taints)], vec![]);
            let st = filter(
                &c,
                &TaintToleration,
                &pod(json!({"spec": {"tolerations": tols}})),
                "n",
            );
            match want {
                None => assert!(st.is_success()),
                Some(r) => {
                    assert_eq!(st.code, Code::UnschedulableAndUnresolvable);
                    assert_eq!(st.message(), r);
                }
            }
        }
    }

    #[test]
    fn score_counts_untolerated_prefer_no_schedule() {
        // As upstream's "the more intolerable taints a node has, the lower score it gets".
        let c = world(
            vec![
                node("n1", json!([])),
                node(
                    "n2",
                    json!([{"key": "cpu-type", "value": "arm64", "effect": "PreferNoSchedule"}]),
                ),
                node(
                    "n3",
                    json!([
                        {"key": "cpu-type", "value": "arm64", "effect": "PreferNoSchedule"},
                        {"key": "disk-type", "value": "ssd", "effect": "PreferNoSchedule"}
                    ]),
                ),
            ],
            vec![],
        );
        let got = scores(&c, &TaintToleration, &pod(json!({"spec": {}}))).unwrap();
        assert_eq!(
            got,
            [("n1".into(), 100), ("n2".into(), 50), ("n3".into(), 0)]
        );
        let tolerating = pod(
            json!({"spec": {"tolerations": [{"key": "cpu-type", "operator": "Equal", "value": "arm64", "effect": "PreferNoSchedule"}]}}),
        );
        let got = scores(&c, &TaintToleration, &tolerating).unwrap();
        assert_eq!(
            got,
            [("n1".into(), 100), ("n2".into(), 100), ("n3".into(), 0)]
        );
    }
}
