//! The legacy priority functions on the 0–10 scale (`MaxPriority = 10`), each a map
//! (per node) and, where upstream had one, a reduce (normalization).

use super::predicates::VolumeKind;
use crate::scheduler::cache::Snapshot;
use crate::scheduler::framework::{
    ClusterEvent, CycleState, NodeInfo, NormalizeScore, Plugin, PluginCtx, PodInfo, ScorePlugin,
    Status, MAX_PRIORITY,
};
use crate::scheduler::plugins::tainttoleration::{
    default_normalize, explain_default_normalize, tolerations_tolerate_taint,
};

/// What a legacy priority computes.
#[derive(Clone, Debug)]
pub enum PriorityKind {
    LeastRequested,
    MostRequested,
    /// With `volumes`, the BalanceAttachedNodeVolumes variant (the variance of cpu,
    /// memory and volume fractions).
    BalancedResourceAllocation {
        volumes: Option<VolumeKind>,
    },
    NodeLabel {
        label: String,
        presence: bool,
    },
    NodeAffinity,
    TaintToleration,
    Equal,
}

/// A legacy priority as a Score plugin.
pub struct LegacyPriority {
    name: String,
    kind: PriorityKind,
}

impl LegacyPriority {
    pub fn new(name: String, kind: PriorityKind) -> LegacyPriority {
        LegacyPriority { name, kind }
    }
}

impl Plugin for LegacyPriority {
    fn name(&self) -> &str {
        &self.name
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[]
    }
}

/// The old `leastRequestedScore`: ((capacity − requested) × 10) / capacity.
pub fn least_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_PRIORITY / capacity
}

/// The old `mostRequestedScore`: requested × 10 / capacity, 0 when over.
pub fn most_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    requested * MAX_PRIORITY / capacity
}

/// The old `fractionOfCapacity`: 1 when nothing is allocatable.
fn fraction(requested: i64, capacity: i64) -> f64 {
    if capacity == 0 {
        return 1.0;
    }
    requested as f64 / capacity as f64
}

/// (cpu requested with the pod, cpu allocatable, memory requested, memory allocatable),
/// non-zero requests as that scheduler used.
fn requested(pod: &PodInfo, node: &NodeInfo) -> (i64, i64, i64, i64) {
    (
        node.non_zero_cpu.saturating_add(pod.non_zero_cpu),
        node.allocatable.milli_cpu,
        node.non_zero_mem.saturating_add(pod.non_zero_mem),
        node.allocatable.memory,
    )
}

/// Volume fraction inputs: (requested volumes, allocatable volumes).
fn volume_counts(kind: VolumeKind, pod: &PodInfo, node: &NodeInfo) -> (i64, i64) {
    let (existing, new) = kind.counts(pod, node);
    (new, kind.limit(node) - existing)
}

fn balanced(cpu: f64, mem: f64, vol: Option<f64>) -> i64 {
    match vol {
        Some(v) => {
            if cpu >= 1.0 || mem >= 1.0 || v >= 1.0 {
                return 0;
            }
            let mean = (cpu + mem + v) / 3.0;
            let variance = ((cpu - mean) * (cpu - mean)
                + (mem - mean) * (mem - mean)
                + (v - mean) * (v - mean))
                / 3.0;
            ((1.0 - variance) * MAX_PRIORITY as f64) as i64
        }
        None => {
            if cpu >= 1.0 || mem >= 1.0 {
                return 0;
            }
            ((1.0 - (cpu - mem).abs()) * MAX_PRIORITY as f64) as i64
        }
    }
}

impl LegacyPriority {
    fn volume_fraction(&self, pod: &PodInfo, node: &NodeInfo) -> Option<(i64, i64)> {
        match self.kind {
            PriorityKind::BalancedResourceAllocation { volumes: Some(k) } => {
                let (req, alloc) = volume_counts(k, pod, node);
                (alloc > 0).then_some((req, alloc))
            }
            _ => None,
        }
    }
}

impl ScorePlugin for LegacyPriority {
    fn score(
        &self,
        _: PluginCtx,
        _: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) -> Result<i64, Status> {
        Ok(match &self.kind {
            PriorityKind::LeastRequested => {
                let (c, ca, m, ma) = requested(pod, node);
                (least_requested(c, ca) + least_requested(m, ma)) / 2
            }
            PriorityKind::MostRequested => {
                let (c, ca, m, ma) = requested(pod, node);
                (most_requested(c, ca) + most_requested(m, ma)) / 2
            }
            PriorityKind::BalancedResourceAllocation { .. } => {
                let (c, ca, m, ma) = requested(pod, node);
                let vol = self
                    .volume_fraction(pod, node)
                    .map(|(r, a)| r as f64 / a as f64);
                balanced(fraction(c, ca), fraction(m, ma), vol)
            }
            PriorityKind::NodeLabel { label, presence } => {
                if node.labels().contains_key(label) == *presence {
                    MAX_PRIORITY
                } else {
                    0
                }
            }
            PriorityKind::NodeAffinity => {
                let Some(na) = pod
                    .pod()
                    .spec
                    .affinity
                    .as_ref()
                    .and_then(|a| a.node_affinity.as_ref())
                else {
                    return Ok(0);
                };
                na.preferred_during_scheduling_ignored_during_execution
                    .iter()
                    .filter(|t| t.weight != 0)
                    .filter(|t| {
                        let ns = crate::api::core::NodeSelector {
                            node_selector_terms: vec![t.preference.clone()],
                        };
                        crate::scheduler::plugins::nodeaffinity::NodeSelectorMatcher::new(&ns)
                            .matches(node.node())
                    })
                    .map(|t| i64::from(t.weight))
                    .sum()
            }
            PriorityKind::TaintToleration => {
                let tolerations: Vec<_> = pod
                    .pod()
                    .spec
                    .tolerations
                    .iter()
                    .filter(|t| t.effect.is_empty() || t.effect == "PreferNoSchedule")
                    .cloned()
                    .collect();
                node.node()
                    .spec
                    .taints
                    .iter()
                    .filter(|t| {
                        t.effect == "PreferNoSchedule"
                            && !tolerations_tolerate_taint(&tolerations, t)
                    })
                    .count() as i64
            }
            PriorityKind::Equal => 1,
        })
    }

    fn normalize(&self) -> Option<&dyn NormalizeScore> {
        match self.kind {
            PriorityKind::NodeAffinity | PriorityKind::TaintToleration => Some(self),
            _ => None,
        }
    }

    fn explain(
        &self,
        _: PluginCtx,
        _: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
        raw: i64,
    ) -> String {
        let (c, ca, m, ma) = requested(pod, node);
        match &self.kind {
            PriorityKind::LeastRequested => {
                let part = |name: &str, r: i64, cap: i64| {
                    if cap == 0 || r > cap {
                        format!("{name} requested {r} of {cap} = 0")
                    } else {
                        format!(
                            "{name} (({cap} − {r}) × 10) / {cap} = {}",
                            least_requested(r, cap)
                        )
                    }
                };
                format!(
                    "{}; {}; ({} + {}) / 2 = {raw}",
                    part("cpu", c, ca),
                    part("memory", m, ma),
                    least_requested(c, ca),
                    least_requested(m, ma)
                )
            }
            PriorityKind::MostRequested => format!(
                "cpu {c} × 10 / {ca} = {}; memory {m} × 10 / {ma} = {}; average {raw}",
                most_requested(c, ca),
                most_requested(m, ma)
            ),
            PriorityKind::BalancedResourceAllocation { .. } => {
                let (fc, fm) = (fraction(c, ca), fraction(m, ma));
                match self.volume_fraction(pod, node) {
                    Some((r, a)) => format!(
                        "cpu {c}/{ca} = {fc:.3}, memory {m}/{ma} = {fm:.3}, volumes {r}/{a} = {:.3}; (1 − variance) × 10 = {raw}",
                        r as f64 / a as f64
                    ),
                    None if fc >= 1.0 || fm >= 1.0 => {
                        format!("cpu {c}/{ca} = {fc:.3}, memory {m}/{ma} = {fm:.3}: a fraction ≥ 1 scores 0")
                    }
                    None => format!(
                        "cpu {c}/{ca} = {fc:.3}, memory {m}/{ma} = {fm:.3}; (1 − |{fc:.3} − {fm:.3}|) × 10 = {raw}"
                    ),
                }
            }
            PriorityKind::NodeLabel { label, presence } => {
                let has = node.labels().contains_key(label);
                format!(
                    "label {label} {} (wanted {}): {raw}",
                    if has { "present" } else { "absent" },
                    if *presence { "present" } else { "absent" }
                )
            }
            PriorityKind::NodeAffinity => format!("sum of matching preferred term weights: {raw}"),
            PriorityKind::TaintToleration => format!("{raw} untolerated PreferNoSchedule taint(s)"),
            PriorityKind::Equal => "EqualPriority: 1".into(),
        }
    }
}

impl NormalizeScore for LegacyPriority {
    fn normalize_score(
        &self,
        _: PluginCtx,
        _: &CycleState,
        _: &PodInfo,
        _: &[&NodeInfo],
        scores: &mut [i64],
    ) -> Status {
        let reverse = matches!(self.kind, PriorityKind::TaintToleration);
        default_normalize(MAX_PRIORITY, reverse, scores);
        Status::success()
    }

    fn explain_normalize(&self, _: PluginCtx, raw: i64, score: i64, min: i64, max: i64) -> String {
        let reverse = matches!(self.kind, PriorityKind::TaintToleration);
        let _ = min;
        explain_default_normalize(MAX_PRIORITY, reverse, raw, score, max)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn old_formulas() {
        assert_eq!(least_requested(3000, 4000), 2);
        assert_eq!(
            (least_requested(3000, 4000) + least_requested(5000, 10000)) / 2,
            3
        );
        assert_eq!(balanced(0.75, 0.5, None), 7);
        assert_eq!(balanced(1.0, 0.0, None), 0);
        assert_eq!(balanced(3000.0 / 3500.0, 5000.0 / 40000.0, Some(0.2)), 8);
    }
}
