//! The scheduling view the page steps through, built from the scheduler's decision
//! records: the queue, and for one pod the filter matrix, the score table with
//! each cell's arithmetic, the totals, the winner and the binding request.
//!
//! Bounded at any scale: the record itself keeps a limited number of nodes per
//! attempt and counts the rest per reason; the view sends a page of those rows,
//! the rejections counted per reason, and a page of the queue.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api::object::PODS;
use crate::api::Object;
use crate::kernel::TraceDetail;
use crate::protocol::{
    AttemptSummary, CompareView, DecisionView, EntryView, FilterCell, NodeRow, QueueView,
    QueuedPodView, ReasonCount, SchedView, ScoreCell, ScoreColumnView,
};
use crate::scheduler::queue::Place;
use crate::scheduler::record::{Attempt, Missing};
use crate::scheduler::Scheduler;

use super::sim::Sim;

/// Rows (nodes, queued pods, recent attempts) a view sends at most when asked for none.
pub const PAGE: u32 = 20;
/// Rows a view sends at most, whatever it is asked for.
pub const MAX_PAGE: u32 = 200;

/// The configuration offered for editing when the scenario gives none: v1.31's
/// default scoring, spelled out so that weights and the strategy can be changed.
pub const DEFAULT_CONFIG: &str = "apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
  plugins:
    score:
      enabled:
      - name: NodeResourcesFit
        weight: 1
      - name: NodeResourcesBalancedAllocation
        weight: 1
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: LeastAllocated
        resources:
        - name: cpu
          weight: 1
        - name: memory
          weight: 1
";

fn page(limit: u32) -> usize {
    if limit == 0 {
        PAGE as usize
    } else {
        limit.min(MAX_PAGE) as usize
    }
}

fn place_order(p: Place) -> u8 {
    match p {
        Place::InFlight => 0,
        Place::Active => 1,
        Place::Backoff => 2,
        Place::Unschedulable => 3,
    }
}

/// The queue as the page shows it.
pub fn queue_view(s: &Scheduler, limit: u32) -> QueueView {
    let q = s.queue();
    let (active, backoff, unschedulable) = q.counts();
    let mut pods: Vec<_> = q.pods().collect();
    let n = page(limit).min(pods.len());
    let key = |p: &&crate::scheduler::queue::QueuedPod| (place_order(p.place), p.info.key.clone());
    if n < pods.len() {
        pods.select_nth_unstable_by_key(n, key);
        pods.truncate(n);
    }
    pods.sort_unstable_by_key(key);
    let records = s.records();
    QueueView {
        active: active as u64,
        backoff: backoff as u64,
        unschedulable: unschedulable as u64,
        pods: pods
            .into_iter()
            .map(|p| QueuedPodView {
                pod: p.info.key.to_string(),
                place: p.place.as_str().into(),
                attempts: p.attempts,
                plugins: p.unschedulable_plugins.iter().cloned().collect(),
            })
            .collect(),
        recent: records
            .iter()
            .rev()
            .take(page(limit))
            .map(|a| AttemptSummary {
                seq: a.seq,
                pod: a.pod.to_string(),
                node: a.node.as_deref().unwrap_or_default().into(),
                time: a.time,
            })
            .collect(),
        attempts: records.next_seq().saturating_sub(1),
    }
}

/// The latest attempt of a pod (None: the latest attempt of any pod).
fn find<'a>(s: &'a Scheduler, pod: Option<&str>) -> Result<&'a Attempt, String> {
    let records = s.records();
    match pod {
        None => records
            .iter()
            .next_back()
            .ok_or_else(|| "the scheduler has made no attempt yet".to_string()),
        Some(pod) => records.latest(pod).map_err(|m| match m {
            Missing::Never => format!("pod {pod} was never attempted by the scheduler"),
            Missing::Evicted { seq, window } => format!(
                "the latest scheduling record of pod {pod} (attempt #{seq}) has left the record window: only the last {window} attempts are kept"
            ),
        }),
    }
}

/// One attempt as the page steps through it, its nodes from `offset` (at most `limit`).
pub fn decision_view(sim: &Sim, a: &Attempt, offset: u32, limit: u32) -> DecisionView {
    let Some(s) = sim.cluster().scheduler() else {
        return DecisionView::default();
    };
    // Rows: the winner, then feasible nodes by total, then rejected nodes, by name.
    let mut order: Vec<usize> = (0..a.nodes.len()).collect();
    let winner = a.node.as_deref();
    order.sort_by(|&i, &j| {
        let (x, y) = (&a.nodes[i], &a.nodes[j]);
        let rank = |n: &crate::scheduler::record::NodeRecord| {
            (
                Some(&*n.name) != winner,
                n.total.is_none(),
                std::cmp::Reverse(n.total.unwrap_or(0)),
            )
        };
        rank(x).cmp(&rank(y)).then_with(|| x.name.cmp(&y.name))
    });
    let rows = order
        .iter()
        .skip(offset as usize)
        .take(page(limit))
        .map(|&i| {
            let n = &a.nodes[i];
            let mut filters: Vec<FilterCell> = Vec::with_capacity(a.filters.len());
            for f in a.filters.iter() {
                let cell = if filters.len() < n.passed as usize {
                    FilterCell::Passed
                } else if let Some(fail) = n.failures.iter().find(|x| x.plugin == *f) {
                    FilterCell::Failed {
                        status: fail.code.as_str().into(),
                        reasons: fail.reasons.iter().map(|r| r.to_string()).collect(),
                    }
                } else {
                    FilterCell::NotRun
                };
                filters.push(cell);
            }
            // A failure by a plugin that is not among the filter columns (PreFilter's).
            for fail in &n.failures {
                if !a.filters.contains(&fail.plugin) {
                    filters.push(FilterCell::Failed {
                        status: fail.code.as_str().into(),
                        reasons: fail
                            .reasons
                            .iter()
                            .map(|r| format!("{}: {r}", fail.plugin))
                            .collect(),
                    });
                }
            }
            let scores = n
                .scores
                .iter()
                .enumerate()
                .map(|(i, (raw, score))| {
                    let col = a.score_plugins.get(i);
                    let arithmetic = match (col, n.explanations.get(i)) {
                        (Some(c), Some(e)) => s.arithmetic(a, c, e, *raw, *score),
                        _ => format!("{raw}"),
                    };
                    ScoreCell {
                        raw: *raw,
                        score: *score,
                        weighted: score * col.map_or(1, |c| c.weight),
                        arithmetic,
                    }
                })
                .collect();
            NodeRow {
                name: n.name.to_string(),
                filters,
                scores,
                total: n.total,
                nominated: n.nominated,
            }
        })
        .collect();
    let mut rejected: BTreeMap<String, u64> = BTreeMap::new();
    for n in &a.nodes {
        for f in &n.failures {
            for r in &f.reasons {
                *rejected.entry(r.to_string()).or_default() += 1;
            }
        }
    }
    let mut omitted_feasible = 0;
    if let Some(o) = &a.omitted {
        omitted_feasible = o.feasible as u64;
        for (r, c) in &o.rejected {
            *rejected.entry(r.clone()).or_default() += *c as u64;
        }
    }
    let mut rejected: Vec<ReasonCount> = rejected
        .into_iter()
        .map(|(reason, count)| ReasonCount { reason, count })
        .collect();
    rejected.sort_by(|x, y| y.count.cmp(&x.count).then_with(|| x.reason.cmp(&y.reason)));
    let mut notes = Vec::new();
    for (point, list) in [("PreFilter", &a.pre_filter), ("PreScore", &a.pre_score)] {
        for n in list {
            let mut line = format!("{point} {}: {}", n.plugin, n.code.as_str());
            if !n.message.is_empty() {
                line.push_str(": ");
                line.push_str(&n.message);
            }
            notes.push(line);
        }
    }
    notes.extend(a.notes.iter().cloned());
    if let Some(p) = &a.preemption {
        let mut line = format!("PostFilter (preemption): {}", p.status);
        if !p.message.is_empty() {
            line.push_str(": ");
            line.push_str(&p.message);
        }
        if let Some(c) = &p.chosen {
            let victims: Vec<&str> = p
                .candidates
                .iter()
                .find(|(n, _)| n == c)
                .map(|(_, vs)| vs.iter().map(|v| v.pod.as_str()).collect())
                .unwrap_or_default();
            line.push_str(&format!(
                "; node {c} chosen ({}), victims: {}",
                p.why_chosen,
                victims.join(", ")
            ));
        }
        notes.push(line);
    }
    DecisionView {
        pod: a.pod.to_string(),
        seq: a.seq,
        attempt: a.attempt,
        cycle: a.cycle,
        time: a.time,
        profile: a.profile.to_string(),
        scale: a.max_score,
        legacy: a.legacy,
        node: winner.unwrap_or_default().into(),
        message: a.message.clone(),
        all_nodes: a.all_nodes as u64,
        evaluated: a.evaluated as u64,
        feasible: a.feasible as u64,
        filters: a.filters.iter().map(|f| f.to_string()).collect(),
        scores: a
            .score_plugins
            .iter()
            .map(|c| ScoreColumnView {
                plugin: c.plugin.to_string(),
                weight: c.weight,
            })
            .collect(),
        rows_total: a.nodes.len() as u32,
        offset,
        rows,
        rejected,
        omitted_feasible,
        notes,
        bind: winner.and_then(|_| bind_entry(sim, a)),
    }
}

/// Trace entries looked through, newest first, for an attempt's binding request.
pub const BIND_SEARCH: usize = 50_000;

/// The binding request of an attempt, if the trace still holds it (and it is
/// among the newest [`BIND_SEARCH`] entries).
fn bind_entry(sim: &Sim, a: &Attempt) -> Option<EntryView> {
    let (ns, name) = a.pod.split_once('/')?;
    let path = format!("{}/{name}/binding", PODS.collection_path(ns));
    let trace = &sim.cluster().k.trace;
    trace
        .entries()
        .rev()
        .take(BIND_SEARCH)
        .take_while(|e| e.time >= a.time)
        .find(|e| {
            matches!(&e.detail, TraceDetail::Request { path: p, code, .. } if *p == path && *code < 300)
                && e.objects.iter().any(|o| o.kind == "Pod")
        })
        .map(|e| EntryView::new(e, sim.rev_at(e.seq)))
}

/// The configuration the scenario gives, as YAML, or [`DEFAULT_CONFIG`].
pub fn config_text(sim: &Sim) -> String {
    match &sim.cluster().settings().scheduler {
        Some(v) => crate::yaml::to_yaml_string(v),
        None => DEFAULT_CONFIG.into(),
    }
}

/// The scheduling view: the queue, and the decision of `pod` (None: the latest attempt).
pub fn scheduling_view(sim: &Sim, pod: Option<&str>, offset: u32, limit: u32) -> SchedView {
    let config = config_text(sim);
    let Some(s) = sim.cluster().scheduler() else {
        return SchedView {
            missing: "the cluster runs no scheduler".into(),
            config,
            ..SchedView::default()
        };
    };
    let (decision, missing) = match find(s, pod) {
        Ok(a) => (Some(decision_view(sim, a, offset, limit)), String::new()),
        Err(m) if pod.is_none() => (None, m),
        Err(m) => (None, m),
    };
    SchedView {
        queue: queue_view(s, limit),
        decision,
        missing,
        config,
    }
}

/// Reads a scheduler configuration from the page's text (YAML or JSON; empty:
/// v1.31's default profile) and checks it as kube-scheduler would at start-up.
pub fn parse_config(text: &str) -> Result<Option<Value>, String> {
    let docs = crate::yaml::parse_documents(text).map_err(|e| e.to_string())?;
    let Some(doc) = docs.into_iter().next() else {
        return Ok(None);
    };
    if !doc.value.is_object() {
        return Err("the configuration must be a KubeSchedulerConfiguration or a Policy".into());
    }
    crate::scheduler::validate(Some(&doc.value))?;
    Ok(Some(doc.value))
}

/// Compares two simulations of the same inputs: the pod's decision in `other`,
/// and which pods were placed differently.
pub fn compare_view(
    sim: &Sim,
    other: &Sim,
    config: &str,
    pod: Option<&str>,
    limit: u32,
) -> CompareView {
    let mut view = CompareView {
        config: config.into(),
        ..CompareView::default()
    };
    match other.cluster().scheduler() {
        Some(s) => match find(s, pod) {
            Ok(a) => view.decision = Some(decision_view(other, a, 0, limit)),
            Err(m) => view.missing = m,
        },
        None => view.missing = "the cluster runs no scheduler".into(),
    }
    let here = sim.cluster().api().store();
    let there = other.cluster().api().store();
    let node_of = |o: Option<&std::sync::Arc<Object>>| match o.map(|o| o.as_ref()) {
        Some(Object::Pod(p)) => p.spec.node_name.clone(),
        _ => String::new(),
    };
    let mut count = |key: (&str, &str), a: String, b: String| {
        if a.is_empty() && b.is_empty() {
            return;
        }
        view.pods += 1;
        if a != b {
            view.differ += 1;
            if view.differences.len() < page(limit) {
                view.differences
                    .push((format!("{}/{}", key.0, key.1), a, b));
            }
        }
    };
    for o in here.list(&PODS, None) {
        let key = (o.namespace(), o.name());
        count(
            key,
            node_of(Some(o)),
            node_of(there.get(&PODS, key.0, key.1)),
        );
    }
    for o in there.list(&PODS, None) {
        let key = (o.namespace(), o.name());
        if here.get(&PODS, key.0, key.1).is_none() {
            count(key, String::new(), node_of(Some(o)));
        }
    }
    view
}
