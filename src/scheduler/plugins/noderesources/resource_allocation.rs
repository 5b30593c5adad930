//! `resourceAllocationScorer`: the arithmetic NodeResourcesFit's scoring strategies and
//! NodeResourcesBalancedAllocation share: per configured resource, what the node can
//! allocate and what would be requested on it with the pod, then a strategy's formula.

use std::borrow::Cow;

use crate::scheduler::config::{ResourceSpec, ShapePoint};
use crate::scheduler::framework::types::is_scalar_resource_name;
use crate::scheduler::framework::{
    CycleState, Explanation, NodeInfo, PodInfo, Status, EXPLANATION_NUMS, MAX_NODE_SCORE,
};

/// What NodeResourcesFit and NodeResourcesBalancedAllocation keep from PreScore: the
/// pod's requests per scored resource (upstream's `preScoreState.podRequests`).
#[derive(Clone)]
pub struct PreScoreState {
    pub pod_requests: Vec<i64>,
}

/// A configured resource, resolved once.
#[derive(Clone, Debug)]
enum Res {
    Cpu,
    Memory,
    EphemeralStorage,
    Scalar(String),
    /// A name that is not a scalar resource (`pods`, `foo`): never scored.
    Other,
}

fn resolve(name: &str) -> Res {
    match name {
        "cpu" => Res::Cpu,
        "memory" => Res::Memory,
        "ephemeral-storage" => Res::EphemeralStorage,
        n if is_scalar_resource_name(n) => Res::Scalar(n.to_string()),
        _ => Res::Other,
    }
}

/// The strategy's formula.
#[derive(Clone, Debug)]
pub enum Strategy {
    LeastAllocated,
    MostAllocated,
    /// The shape, with scores already scaled to 0–100.
    RequestedToCapacityRatio(Vec<ShapePoint>),
    Balanced,
}

/// The scorer.
#[derive(Clone, Debug)]
pub struct Scorer {
    pub resources: Vec<ResourceSpec>,
    res: Vec<Res>,
    /// Actual requests (true) or non-zero ones with the 100m/200Mi defaults (false).
    pub use_requested: bool,
    pub strategy: Strategy,
}

/// The largest number of resources scored without allocating.
const INLINE: usize = 8;

impl Scorer {
    /// The pod's requests per scored resource: those PreScore kept in the plugin's
    /// slot, or computed now when PreScore did not run this cycle.
    pub fn cycle_requests<'a>(
        &self,
        state: &'a CycleState,
        plugin: usize,
        pod: &PodInfo,
    ) -> Cow<'a, [i64]> {
        match state.read_score::<PreScoreState>(plugin) {
            Some(s) => Cow::Borrowed(&s.pod_requests),
            None => Cow::Owned(self.pod_requests(pod)),
        }
    }

    /// Scores every node, in order, into `out`.
    pub fn score_all(
        &self,
        pod_requests: &[i64],
        nodes: &[&NodeInfo],
        out: &mut Vec<i64>,
    ) -> Result<(), Status> {
        out.clear();
        for n in nodes {
            out.push(self.score(n, pod_requests)?);
        }
        Ok(())
    }

    pub fn new(resources: Vec<ResourceSpec>, use_requested: bool, strategy: Strategy) -> Scorer {
        let res = resources.iter().map(|r| resolve(&r.name)).collect();
        Scorer {
            resources,
            res,
            use_requested,
            strategy,
        }
    }

    /// `calculatePodResourceRequestList`: the pod's request per configured resource.
    pub fn pod_requests(&self, pod: &PodInfo) -> Vec<i64> {
        self.res
            .iter()
            .map(|r| match r {
                Res::Cpu if self.use_requested => pod.requests.milli_cpu,
                Res::Cpu => pod.non_zero_cpu,
                Res::Memory if self.use_requested => pod.requests.memory,
                Res::Memory => pod.non_zero_mem,
                Res::EphemeralStorage => pod.requests.ephemeral_storage,
                Res::Scalar(n) => pod.requests.scalar(n),
                Res::Other => 0,
            })
            .collect()
    }

    /// `calculateResourceAllocatableRequest`: (allocatable, requested with the pod);
    /// (0, 0) skips the resource.
    fn alloc_request(&self, i: usize, node: &NodeInfo, pod_req: i64) -> (i64, i64) {
        match &self.res[i] {
            Res::Cpu => {
                let used = if self.use_requested {
                    node.requested.milli_cpu
                } else {
                    node.non_zero_cpu
                };
                (node.allocatable.milli_cpu, used.saturating_add(pod_req))
            }
            Res::Memory => {
                let used = if self.use_requested {
                    node.requested.memory
                } else {
                    node.non_zero_mem
                };
                (node.allocatable.memory, used.saturating_add(pod_req))
            }
            Res::EphemeralStorage => (
                node.allocatable.ephemeral_storage,
                node.requested.ephemeral_storage.saturating_add(pod_req),
            ),
            Res::Scalar(n) => {
                if pod_req == 0 || !node.allocatable.has_scalar(n) {
                    (0, 0)
                } else {
                    (
                        node.allocatable.scalar(n),
                        node.requested.scalar(n).saturating_add(pod_req),
                    )
                }
            }
            Res::Other => (0, 0),
        }
    }

    /// The node's score for the pod.
    pub fn score(&self, node: &NodeInfo, pod_requests: &[i64]) -> Result<i64, Status> {
        if self.resources.is_empty() {
            return Err(Status::error("resources not found"));
        }
        let n = self.res.len();
        let mut inline = [(0i64, 0i64); INLINE];
        let mut heap = Vec::new();
        let rows: &mut [(i64, i64)] = if n <= INLINE {
            &mut inline[..n]
        } else {
            heap.resize(n, (0, 0));
            &mut heap
        };
        for (i, row) in rows.iter_mut().enumerate() {
            let (alloc, req) =
                self.alloc_request(i, node, pod_requests.get(i).copied().unwrap_or(0));
            if alloc != 0 {
                *row = (alloc, req);
            }
        }
        Ok(self.combine(rows))
    }

    /// The strategy's formula over (allocatable, requested) rows; rows with 0
    /// allocatable do not count.
    fn combine(&self, rows: &[(i64, i64)]) -> i64 {
        match &self.strategy {
            Strategy::LeastAllocated | Strategy::MostAllocated => {
                let (mut sum, mut weights) = (0i64, 0i64);
                for (i, &(alloc, req)) in rows.iter().enumerate() {
                    if alloc == 0 {
                        continue;
                    }
                    let w = self.resources[i].weight;
                    let s = match self.strategy {
                        Strategy::LeastAllocated => least_requested_score(req, alloc),
                        _ => most_requested_score(req, alloc),
                    };
                    sum = sum.saturating_add(s.saturating_mul(w));
                    weights += w;
                }
                if weights == 0 {
                    0
                } else {
                    sum / weights
                }
            }
            Strategy::RequestedToCapacityRatio(shape) => {
                let (mut sum, mut weights) = (0i64, 0i64);
                for (i, &(alloc, req)) in rows.iter().enumerate() {
                    if alloc == 0 {
                        continue;
                    }
                    let s = rtcr_resource_score(shape, req, alloc);
                    if s > 0 {
                        let w = self.resources[i].weight;
                        sum = sum.saturating_add(s.saturating_mul(w));
                        weights += w;
                    }
                }
                if weights == 0 {
                    0
                } else {
                    (sum as f64 / weights as f64).round() as i64
                }
            }
            Strategy::Balanced => {
                let std = balanced_std_rows(rows);
                ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
            }
        }
    }

    /// What the record keeps: (allocatable, requested) per configured resource.
    pub fn explanation(&self, node: &NodeInfo, pod_requests: &[i64], score: i64) -> Explanation {
        if 2 * self.res.len() > EXPLANATION_NUMS {
            return Explanation::Text(self.explain(node, pod_requests, score));
        }
        let mut nums = [0i64; EXPLANATION_NUMS];
        for i in 0..self.res.len() {
            let (a, r) = self.alloc_request(i, node, pod_requests.get(i).copied().unwrap_or(0));
            nums[2 * i] = a;
            nums[2 * i + 1] = r;
        }
        Explanation::nums(&nums[..2 * self.res.len()])
    }

    /// The arithmetic from what [`Scorer::explanation`] kept.
    pub fn render(&self, e: &Explanation, score: i64) -> String {
        match e {
            Explanation::Text(t) => t.clone(),
            _ => {
                let n = e.numbers();
                let rows: Vec<(usize, i64, i64)> = (0..n.len() / 2)
                    .map(|i| (i, n[2 * i], n[2 * i + 1]))
                    .filter(|(_, a, _)| *a != 0)
                    .collect();
                self.explain_rows(&rows, score)
            }
        }
    }

    /// The arithmetic behind [`Scorer::score`], for the decision record.
    pub fn explain(&self, node: &NodeInfo, pod_requests: &[i64], score: i64) -> String {
        let rows: Vec<(usize, i64, i64)> = (0..self.res.len())
            .map(|i| {
                let (a, r) = self.alloc_request(i, node, pod_requests.get(i).copied().unwrap_or(0));
                (i, a, r)
            })
            .filter(|(_, a, _)| *a != 0)
            .collect();
        self.explain_rows(&rows, score)
    }

    fn explain_rows(&self, rows: &[(usize, i64, i64)], score: i64) -> String {
        if rows.is_empty() {
            return format!("no configured resource is allocatable on the node: {score}");
        }
        let name = |i: usize| self.resources[i].name.as_str();
        match &self.strategy {
            Strategy::LeastAllocated | Strategy::MostAllocated => {
                let parts: Vec<(usize, i64, String)> = rows
                    .iter()
                    .map(|&(i, a, r)| match self.strategy {
                        Strategy::LeastAllocated => {
                            let s = least_requested_score(r, a);
                            let text = if r > a {
                                format!("{} requested {r} > allocatable {a} = 0", name(i))
                            } else {
                                format!("{} ({a} − {r}) × 100 / {a} = {s}", name(i))
                            };
                            (i, s, text)
                        }
                        _ => {
                            let s = most_requested_score(r, a);
                            let capped = r.min(a);
                            (i, s, format!("{} {capped} × 100 / {a} = {s}", name(i)))
                        }
                    })
                    .collect();
                weighted(&parts, &self.resources, score)
            }
            Strategy::RequestedToCapacityRatio(shape) => {
                let parts: Vec<(usize, i64, String)> = rows
                    .iter()
                    .map(|&(i, a, r)| {
                        let s = rtcr_resource_score(shape, r, a);
                        let util = if a == 0 || r > a { 100 } else { r * 100 / a };
                        (i, s, format!("{} utilization {util}% → {s}", name(i)))
                    })
                    .collect();
                let counted: Vec<(usize, i64, String)> =
                    parts.iter().filter(|(_, s, _)| *s > 0).cloned().collect();
                if counted.len() <= 1 {
                    let texts: Vec<&str> = parts.iter().map(|(_, _, t)| t.as_str()).collect();
                    return format!("{} = {score}", texts.join("; "));
                }
                let texts: Vec<&str> = parts.iter().map(|(_, _, t)| t.as_str()).collect();
                let num: Vec<String> = counted
                    .iter()
                    .map(|(i, s, _)| format!("{s}×{}", self.resources[*i].weight))
                    .collect();
                let den: i64 = counted
                    .iter()
                    .map(|(i, _, _)| self.resources[*i].weight)
                    .sum();
                format!(
                    "{}; round(({}) / {den}) = {score}",
                    texts.join("; "),
                    num.join(" + ")
                )
            }
            Strategy::Balanced => {
                let fr =
                    balanced_fractions(&rows.iter().map(|&(_, a, r)| (a, r)).collect::<Vec<_>>());
                let parts: Vec<String> = rows
                    .iter()
                    .zip(&fr)
                    .map(|(&(i, a, r), f)| format!("{} {r}/{a} = {f:.3}", name(i)))
                    .collect();
                let std = balanced_std(&fr);
                let how = match fr.len() {
                    2 => format!("std |{:.3} − {:.3}| / 2 = {std:.3}", fr[0], fr[1]),
                    1 => "std 0 (one resource)".to_string(),
                    _ => format!("std {std:.3}"),
                };
                format!(
                    "{}; {how}; (1 − {std:.3}) × 100 = {score}",
                    parts.join(", ")
                )
            }
        }
    }
}

fn weighted(parts: &[(usize, i64, String)], resources: &[ResourceSpec], score: i64) -> String {
    let texts: Vec<&str> = parts.iter().map(|(_, _, t)| t.as_str()).collect();
    if parts.len() == 1 && resources[parts[0].0].weight == 1 {
        return texts[0].to_string();
    }
    let num: Vec<String> = parts
        .iter()
        .map(|(i, s, _)| format!("{s}×{}", resources[*i].weight))
        .collect();
    let den: i64 = parts.iter().map(|(i, _, _)| resources[*i].weight).sum();
    format!(
        "{}; ({}) / {den} = {score}",
        texts.join("; "),
        num.join(" + ")
    )
}

/// `leastRequestedScore`: (capacity − requested) × 100 / capacity, 0 when over.
pub fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested).saturating_mul(MAX_NODE_SCORE) / capacity
}

/// `mostRequestedScore`: requested (capped at capacity) × 100 / capacity.
pub fn most_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    requested.min(capacity).saturating_mul(MAX_NODE_SCORE) / capacity
}

/// `helper.BuildBrokenLinearFunction` applied to a utilization percentage.
pub fn broken_linear(shape: &[ShapePoint], p: i64) -> i64 {
    for (i, pt) in shape.iter().enumerate() {
        if p <= pt.utilization {
            if i == 0 {
                return pt.score;
            }
            let prev = shape[i - 1];
            let du = pt.utilization - prev.utilization;
            if du == 0 {
                return pt.score;
            }
            return prev.score + (pt.score - prev.score) * (p - prev.utilization) / du;
        }
    }
    shape.last().map_or(0, |p| p.score)
}

fn rtcr_resource_score(shape: &[ShapePoint], requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return broken_linear(shape, 100);
    }
    broken_linear(shape, requested.saturating_mul(100) / capacity)
}

fn balanced_fractions(rows: &[(i64, i64)]) -> Vec<f64> {
    rows.iter()
        .filter(|(a, _)| *a != 0)
        .map(|&(a, r)| (r as f64 / a as f64).min(1.0))
        .collect()
}

/// [`balanced_std`] of the rows' fractions, without collecting them.
fn balanced_std_rows(rows: &[(i64, i64)]) -> f64 {
    let fraction = |&(a, r): &(i64, i64)| (r as f64 / a as f64).min(1.0);
    let counted = || rows.iter().filter(|(a, _)| *a != 0);
    let n = counted().count();
    match n {
        0 | 1 => 0.0,
        2 => {
            let mut it = counted().map(fraction);
            let (x, y) = (it.next().unwrap_or(0.0), it.next().unwrap_or(0.0));
            ((x - y) / 2.0).abs()
        }
        _ => {
            let mean = counted().map(fraction).sum::<f64>() / n as f64;
            let sum: f64 = counted()
                .map(fraction)
                .map(|f| (f - mean) * (f - mean))
                .sum();
            (sum / n as f64).sqrt()
        }
    }
}

/// The standard deviation of the fractions (`|f1 − f2| / 2` for two).
fn balanced_std(fr: &[f64]) -> f64 {
    match fr.len() {
        0 | 1 => 0.0,
        2 => ((fr[0] - fr[1]) / 2.0).abs(),
        n => {
            let mean = fr.iter().sum::<f64>() / n as f64;
            let sum: f64 = fr.iter().map(|f| (f - mean) * (f - mean)).sum();
            (sum / n as f64).sqrt()
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn formulas() {
        assert_eq!(least_requested_score(2500, 4000), 37);
        assert_eq!(least_requested_score(5000, 4000), 0);
        assert_eq!(most_requested_score(5000, 4000), 100);
        let shape = [
            ShapePoint {
                utilization: 0,
                score: 0,
            },
            ShapePoint {
                utilization: 100,
                score: 100,
            },
        ];
        assert_eq!(broken_linear(&shape, 62), 62);
        assert!((balanced_std(&[0.75, 0.5]) - 0.125).abs() < 1e-12);
    }
}
