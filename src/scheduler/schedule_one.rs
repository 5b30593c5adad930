//! One scheduling cycle's algorithm (upstream `schedule_one.go`'s `schedulePod`,
//! `findNodesThatFitPod`, `prioritizeNodes` and `selectHost`): PreFilter, the nominated
//! node first, Filter from a rotating start index until enough feasible nodes are
//! found, PostFilter when none is, PreScore, Score, NormalizeScore and weights, then
//! reservoir sampling among the best totals with the simulation's seeded RNG.
//!
//! Everything here reads the cache; the caller assumes, binds and requeues.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::apiserver::client::Identity;
use crate::component::Ctx;
use crate::kernel::ObjRef;

use super::cache::{Cache, Snapshot};
use super::fit_error::{fit_error_message, NO_NODES_AVAILABLE};
use super::framework::runtime::{FilterOutcome, Framework, Point, PostFilterHandle};
use super::framework::{Code, CycleState, Explanation, NodeInfo, PodInfo, Status};
use super::record::{
    Attempt, FilterFailure, NodeRecord, Omitted, PluginNote, PreemptionRecord, ScoreColumn,
};

/// `minFeasibleNodesToFind`.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// `minFeasibleNodesPercentageToFind`.
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: i64 = 5;

/// `numFeasibleNodesToFind`: all nodes below 100; otherwise the percentage (adaptive
/// `50 − nodes/125`, at least 5%) of them, at least 100.
pub fn num_feasible_nodes_to_find(percentage: i32, num_all_nodes: usize) -> (usize, i64) {
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return (num_all_nodes, 100);
    }
    let mut pct = i64::from(percentage);
    if pct == 0 {
        pct = 50 - num_all_nodes as i64 / 125;
        if pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND {
            pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
        }
    }
    let n = (num_all_nodes as i64 * pct / 100) as usize;
    (n.max(MIN_FEASIBLE_NODES_TO_FIND), pct)
}

/// Buffers reused from cycle to cycle.
#[derive(Default)]
pub struct Scratch {
    nodes: Vec<u32>,
    /// Evaluated nodes in evaluation order, and whether each was the nominated node.
    evaluated: Vec<(u32, bool)>,
    feasible: Vec<u32>,
    rejected: Vec<(u32, FilterOutcome)>,
    raw: Vec<i64>,
    scores: Vec<i64>,
    totals: Vec<i64>,
    column: Vec<i64>,
    pub state: CycleState,
}

impl Scratch {
    /// The per-node lists of the cycle so far.
    fn lists(&self) -> Lists<'_> {
        Lists {
            evaluated: &self.evaluated,
            rejected: &self.rejected,
            totals: &self.totals,
        }
    }
}

/// The per-node lists a record is made from.
#[derive(Clone, Copy)]
struct Lists<'a> {
    evaluated: &'a [(u32, bool)],
    rejected: &'a [(u32, FilterOutcome)],
    totals: &'a [i64],
}

/// What the cycle decided.
pub struct CycleOutcome {
    /// The chosen node (an index into the cache's nodes).
    pub chosen: Option<u32>,
    /// Non-success: why the pod was not placed (its message is the FailedScheduling text).
    pub status: Status,
    /// The plugins that rejected the pod (for moving it back on cluster events).
    pub rejectors: BTreeSet<String>,
    /// Some(node): nominate it; Some(""): clear the nomination.
    pub nominate: Option<String>,
    pub next_start: usize,
    pub record: Attempt,
}

/// What the cycle is given.
pub struct CycleInput<'a> {
    pub fw: &'a Framework,
    pub profile_index: usize,
    pub names: &'a [Arc<str>],
    pub cache: &'a Cache,
    pub pod: &'a PodInfo,
    pub attempt: u32,
    pub cycle: u64,
    pub start_index: usize,
    pub percentage: i32,
    pub node_limit: usize,
    pub nominated: &'a BTreeMap<String, Vec<Arc<PodInfo>>>,
    pub who: &'a Identity,
    /// The pod, for the trace entries of the cycle.
    pub objects: &'a [ObjRef],
}

/// One trace entry per phase, written as the phase ends.
fn note(ctx: &mut Ctx, input: &CycleInput, action: String, reason: String) {
    ctx.note(super::NAME, action, reason, input.objects.to_vec());
}

fn failure_record(names: &[Arc<str>], out: &FilterOutcome) -> Vec<FilterFailure> {
    out.failure
        .iter()
        .chain(out.more.iter())
        .map(|(i, st)| FilterFailure {
            plugin: names[*i].clone(),
            code: st.code,
            reasons: st.reasons.iter().map(|r| Arc::from(r.as_ref())).collect(),
            insufficient: st.insufficient.clone(),
        })
        .collect()
}

/// Runs one cycle for `input.pod`.
pub fn schedule_pod(input: &CycleInput, scratch: &mut Scratch, ctx: &mut Ctx) -> CycleOutcome {
    let fw = input.fw;
    let names = input.names;
    let pod = input.pod;
    let snap = input.cache.snapshot();
    let all = snap.num_nodes();
    let mut record = Attempt {
        seq: 0,
        pod: pod.key.clone(),
        attempt: input.attempt,
        cycle: input.cycle,
        time: ctx.now(),
        profile: Arc::from(fw.scheduler_name.as_str()),
        profile_index: input.profile_index,
        max_score: fw.max_score,
        legacy: fw.legacy,
        node: None,
        message: String::new(),
        all_nodes: all,
        evaluated: 0,
        feasible: 0,
        filters: Arc::from(Vec::new()),
        score_plugins: Vec::new(),
        pre_filter: Vec::new(),
        pre_score: Vec::new(),
        nodes: Vec::new(),
        omitted: None,
        preemption: None,
        notes: Vec::new(),
    };
    let mut out = CycleOutcome {
        chosen: None,
        status: Status::success(),
        rejectors: BTreeSet::new(),
        nominate: None,
        next_start: input.start_index,
        record: record.clone(),
    };
    if all == 0 {
        record.message = NO_NODES_AVAILABLE.into();
        out.status = Status::new(Code::UnschedulableAndUnresolvable, NO_NODES_AVAILABLE);
        out.nominate = Some(String::new());
        note(
            ctx,
            input,
            "filter: no nodes".into(),
            "there are no nodes in the cluster".into(),
        );
        out.record = record;
        return out;
    }
    let state = &mut scratch.state;
    state.reset(fw.plugins.len());

    // PreFilter.
    let pre = fw.run_pre_filter(state, pod, &snap);
    for (i, code, node_names, msg) in &pre.results {
        if *code != Code::Success || node_names.is_some() {
            record.pre_filter.push(PluginNote {
                plugin: names[*i].clone(),
                code: *code,
                message: msg.clone(),
                node_names: node_names.clone(),
            });
        }
    }
    let filters: Vec<usize> = fw
        .at(Point::Filter)
        .iter()
        .copied()
        .filter(|i| !pre.skipped.contains(i))
        .collect();
    record.filters = filters
        .iter()
        .map(|&i| names[i].clone())
        .collect::<Vec<_>>()
        .into();

    scratch.feasible.clear();
    scratch.rejected.clear();
    scratch.evaluated.clear();
    let mut absent_code = Code::UnschedulableAndUnresolvable;
    let mut absent_reasons: Vec<String> = Vec::new();
    let mut pre_filter_msg = String::new();

    if let Some((i, st)) = &pre.rejected {
        pre_filter_msg = st.message();
        absent_code = st.code;
        absent_reasons = st.reasons.iter().map(|r| r.to_string()).collect();
        out.rejectors.insert(names[*i].to_string());
        note(
            ctx,
            input,
            format!("prefilter: {} rejected the pod", names[*i]),
            format!("{}: every node gets this status", pre_filter_msg),
        );
    } else {
        // The nominated node first (set by an earlier preemption).
        let nom = &pod.pod().status.nominated_node_name;
        let mut nominated_fit = false;
        let mut skip: Option<u32> = None;
        if !nom.is_empty() {
            if let Some(idx) = input.cache.node_index(nom) {
                let node = input.cache.node(idx);
                let noms = input
                    .nominated
                    .get(nom.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                let o = fw.run_filters_with_nominated(&filters, state, pod, node, &snap, noms);
                scratch.evaluated.push((idx, true));
                if o.is_success() {
                    scratch.feasible.push(idx);
                    nominated_fit = true;
                } else {
                    skip = Some(idx);
                    scratch.rejected.push((idx, o));
                }
            }
        }
        if !nominated_fit {
            scratch.nodes.clear();
            match &pre.node_names {
                None => {}
                Some(set) => {
                    scratch.nodes.extend(
                        snap.order
                            .iter()
                            .copied()
                            .filter(|&i| set.contains(&*snap.nodes[i as usize].name)),
                    );
                    absent_reasons = vec![format!(
                        "node(s) didn't satisfy plugin(s) [{}]",
                        pre.narrowed_by.join(" ")
                    )];
                }
            }
            let list: &[u32] = if pre.node_names.is_some() {
                &scratch.nodes
            } else {
                snap.order
            };
            let n = list.len();
            let has_scoring = !fw.at(Point::Score).is_empty();
            let (mut want, pct) = num_feasible_nodes_to_find(
                fw.percentage_of_nodes_to_score.unwrap_or(input.percentage),
                n,
            );
            if !has_scoring {
                want = 1;
            }
            let start = if n == 0 { 0 } else { input.start_index % n };
            let mut processed = n;
            if filters.is_empty() {
                for i in 0..want.min(n) {
                    let idx = list[(start + i) % n];
                    scratch.feasible.push(idx);
                    scratch.evaluated.push((idx, false));
                }
                processed = want.min(n);
            } else {
                for i in 0..n {
                    let idx = list[(start + i) % n];
                    if skip == Some(idx) {
                        continue;
                    }
                    let node = &snap.nodes[idx as usize];
                    // No lookup by name per node while nothing is nominated (the
                    // usual case).
                    let noms = if input.nominated.is_empty() {
                        &[]
                    } else {
                        input
                            .nominated
                            .get(&*node.name)
                            .map(Vec::as_slice)
                            .unwrap_or(&[])
                    };
                    let o = if noms.is_empty() {
                        fw.run_filters(&filters, state, pod, node, &snap)
                    } else {
                        fw.run_filters_with_nominated(&filters, state, pod, node, &snap, noms)
                    };
                    scratch.evaluated.push((idx, false));
                    if o.is_success() {
                        scratch.feasible.push(idx);
                        if scratch.feasible.len() >= want {
                            processed = i + 1;
                            break;
                        }
                    } else {
                        if o.code() == Code::Error {
                            let (p, st) = o
                                .failure
                                .clone()
                                .unwrap_or((0, Status::error("filter error")));
                            out.status = st.clone();
                            note(
                                ctx,
                                input,
                                format!("filter: {} failed", names[p]),
                                st.message(),
                            );
                            record.message = st.message();
                            out.nominate = Some(String::new());
                            out.next_start = (start + i + 1) % n.max(1);
                            finish_record(
                                &mut record,
                                scratch.lists(),
                                &snap,
                                names,
                                input.node_limit,
                                None,
                            );
                            out.record = record;
                            return out;
                        }
                        scratch.rejected.push((idx, o));
                    }
                }
            }
            out.next_start = if n == 0 { 0 } else { (start + processed) % n };
            let mut hist: BTreeMap<&str, usize> = BTreeMap::new();
            for (_, o) in &scratch.rejected {
                for (_, st) in o.failure.iter() {
                    for r in st.reasons.iter() {
                        *hist.entry(r.as_ref()).or_default() += 1;
                    }
                }
            }
            let rejected_text = if hist.is_empty() {
                String::new()
            } else {
                let mut items: Vec<String> = hist.iter().map(|(r, c)| format!("{c} {r}")).collect();
                items.sort();
                items.truncate(8);
                format!("; rejected: {}", items.join(", "))
            };
            note(ctx, input,
                format!("filter: {} of {} evaluated node(s) fit", scratch.feasible.len(), scratch.evaluated.len()),
                format!(
                    "ran {} filter(s) from node index {start} of {n}, stopping at {want} feasible node(s) (percentageOfNodesToScore {pct}%){rejected_text}",
                    filters.len()
                ),
            );
        } else {
            note(
                ctx,
                input,
                format!("filter: nominated node {nom} fits"),
                "a node nominated by an earlier preemption is tried first; it passed every filter"
                    .into(),
            );
        }
    }
    record.evaluated = scratch.evaluated.len();
    record.feasible = scratch.feasible.len();

    // No node fits: the FitError, then PostFilter (preemption).
    if scratch.feasible.is_empty() {
        for (_, o) in &scratch.rejected {
            for (p, st) in o.failure.iter() {
                if st.is_rejected() {
                    out.rejectors.insert(names[*p].to_string());
                }
            }
        }
        if !pre.narrowed_by.is_empty() && pre.rejected.is_none() {
            out.rejectors.extend(pre.narrowed_by.iter().cloned());
        }
        let counted: Vec<Vec<String>> = scratch
            .rejected
            .iter()
            .map(|(_, o)| {
                o.failure
                    .iter()
                    .flat_map(|(_, s)| s.reasons.iter().map(|r| r.to_string()))
                    .collect()
            })
            .collect();
        let absent = all.saturating_sub(scratch.rejected.len());
        let statuses: BTreeMap<u32, Code> = scratch
            .rejected
            .iter()
            .map(|(i, o)| (*i, o.code()))
            .collect();
        let mut post_msg = String::new();
        let mut preemption: Option<PreemptionRecord> = None;
        let post = fw.at(Point::PostFilter);
        if !post.is_empty() {
            let mut handle = PostFilterHandle {
                fw,
                state,
                snap: &snap,
                filters: &filters,
                statuses: &statuses,
                absent: absent_code,
                nominated: input.nominated,
                ctx,
                who: input.who,
                record: &mut preemption,
            };
            let mut msgs = Vec::new();
            for &i in post {
                let Some(pf) = fw.plugins[i].as_post_filter() else {
                    continue;
                };
                let (res, st) = pf.post_filter(fw.pc(i), &mut handle, pod);
                if let Some(r) = res {
                    if let Some(n) = r.nominated_node_name {
                        out.nominate = Some(n);
                    }
                }
                if st.is_success() {
                    msgs.clear();
                    break;
                }
                msgs.push(st.message());
            }
            post_msg = msgs.join(", ");
        } else {
            out.nominate = Some(String::new());
        }
        let msg = fit_error_message(
            all,
            &pre_filter_msg,
            &counted,
            absent,
            &absent_reasons,
            &post_msg,
        );
        if let Some(p) = &preemption {
            note(
                ctx,
                input,
                format!("preemption: {}", p.status),
                if p.status == "Success" {
                    p.message.clone()
                } else {
                    format!("no victims to evict: {}", p.message)
                },
            );
        }
        record.preemption = preemption;
        record.message = msg.clone();
        out.status = Status::new(Code::Unschedulable, msg);
        finish_record(
            &mut record,
            scratch.lists(),
            &snap,
            names,
            input.node_limit,
            None,
        );
        out.record = record;
        return out;
    }

    // One feasible node: no scoring.
    if scratch.feasible.len() == 1 {
        let chosen = scratch.feasible[0];
        record.node = Some(snap.nodes[chosen as usize].name.clone());
        record
            .notes
            .push("only one node is feasible: it is chosen without scoring".into());
        note(
            ctx,
            input,
            format!(
                "score: skipped, {} is the only feasible node",
                snap.nodes[chosen as usize].name
            ),
            "upstream does not score a single feasible node".into(),
        );
        out.chosen = Some(chosen);
        finish_record(
            &mut record,
            scratch.lists(),
            &snap,
            names,
            input.node_limit,
            Some(chosen),
        );
        out.record = record;
        return out;
    }

    // PreScore and Score.
    let feasible_nodes: Vec<&NodeInfo> = scratch
        .feasible
        .iter()
        .map(|&i| &snap.nodes[i as usize])
        .collect();
    let mut score_plugins: Vec<usize> = Vec::new();
    let has_score = !fw.at(Point::Score).is_empty();
    if has_score {
        let mut skipped = BTreeSet::new();
        for &i in fw.at(Point::PreScore) {
            let Some(ps) = fw.plugins[i].as_pre_score() else {
                continue;
            };
            let st = ps.pre_score(fw.pc(i), state, pod, &feasible_nodes, &snap);
            match st.code {
                Code::Success => {}
                Code::Skip => {
                    skipped.insert(i);
                    record.pre_score.push(PluginNote {
                        plugin: names[i].clone(),
                        code: Code::Skip,
                        message: String::new(),
                        node_names: None,
                    });
                }
                _ => {
                    let msg = format!("running PreScore plugin \"{}\": {}", names[i], st.message());
                    return error_outcome(
                        ctx,
                        input,
                        out,
                        record,
                        msg,
                        scratch.lists(),
                        &snap,
                        names,
                    );
                }
            }
        }
        score_plugins = fw
            .at(Point::Score)
            .iter()
            .copied()
            .filter(|i| !skipped.contains(i))
            .collect();
    }
    let nf = scratch.feasible.len();
    let np = score_plugins.len();
    scratch.raw.clear();
    scratch.raw.resize(nf * np, 0);
    scratch.scores.clear();
    scratch.scores.resize(nf * np, 0);
    scratch.totals.clear();
    scratch.totals.resize(nf, if has_score { 0 } else { 1 });
    for (j, &pi) in score_plugins.iter().enumerate() {
        let Some(sp) = fw.plugins[pi].as_score() else {
            continue;
        };
        if let Err(st) = sp.score_nodes(
            fw.pc(pi),
            state,
            pod,
            &feasible_nodes,
            &snap,
            &mut scratch.column,
        ) {
            let msg = format!("running Score plugin \"{}\": {}", names[pi], st.message());
            return error_outcome(ctx, input, out, record, msg, scratch.lists(), &snap, names);
        }
        for (i, v) in scratch.column.iter().enumerate() {
            scratch.raw[i * np + j] = *v;
        }
        if let Some(norm) = sp.normalize() {
            let st =
                norm.normalize_score(fw.pc(pi), state, pod, &feasible_nodes, &mut scratch.column);
            if !st.is_success() {
                let msg = format!("running Normalize on Score plugins: {}", st.message());
                return error_outcome(ctx, input, out, record, msg, scratch.lists(), &snap, names);
            }
        }
        let w = fw.weight(pi);
        for (i, v) in scratch.column.iter().enumerate() {
            if *v > fw.max_score || *v < 0 {
                let msg = format!(
                    "plugin \"{}\" returns an invalid score {v}, it should in the range of [0, {}] after normalizing",
                    names[pi], fw.max_score
                );
                return error_outcome(ctx, input, out, record, msg, scratch.lists(), &snap, names);
            }
            scratch.scores[i * np + j] = *v;
            scratch.totals[i] = scratch.totals[i].saturating_add(v.saturating_mul(w));
        }
    }
    record.score_plugins = score_plugins
        .iter()
        .enumerate()
        .map(|(j, &i)| ScoreColumn {
            plugin: names[i].clone(),
            weight: fw.weight(i),
            index: i,
            range: fw.plugins[i]
                .as_score()
                .and_then(|sp| sp.normalize())
                .map(|_| {
                    let col = (0..nf).map(|k| scratch.raw[k * np + j]);
                    (col.clone().min().unwrap_or(0), col.max().unwrap_or(0))
                }),
        })
        .collect();

    // selectHost: reservoir sampling among the highest totals.
    let mut best = 0usize;
    let mut ties = 1u64;
    for i in 1..nf {
        if scratch.totals[i] > scratch.totals[best] {
            best = i;
            ties = 1;
        } else if scratch.totals[i] == scratch.totals[best] {
            ties += 1;
            if ctx.k.rng.below(ties) == 0 {
                best = i;
            }
        }
    }
    let chosen = scratch.feasible[best];
    let chosen_name = snap.nodes[chosen as usize].name.clone();
    record.node = Some(chosen_name.clone());
    let plugins_text: Vec<String> = score_plugins
        .iter()
        .map(|&i| format!("{}×{}", names[i], fw.weight(i)))
        .collect();
    note(
        ctx,
        input,
        format!("score: {chosen_name} wins with {}", scratch.totals[best]),
        format!(
            "scored {nf} feasible node(s) with {}{}",
            if plugins_text.is_empty() {
                "no score plugins (every node scores 1)".to_string()
            } else {
                plugins_text.join(", ")
            },
            if ties > 1 {
                format!("; {ties} node(s) shared the top total, the seeded RNG picked one (reservoir sampling)")
            } else {
                String::new()
            }
        ),
    );
    out.chosen = Some(chosen);
    let positions = finish_record(
        &mut record,
        // Field by field: `state` still borrows the scratch's cycle state.
        Lists {
            evaluated: &scratch.evaluated,
            rejected: &scratch.rejected,
            totals: &scratch.totals,
        },
        &snap,
        names,
        input.node_limit,
        Some(chosen),
    );
    // What the recorded feasible nodes' arithmetic needs (written when asked).
    for (nr, pos) in record.nodes.iter_mut().zip(positions) {
        let Some(i) = pos else { continue };
        if np == 0 {
            nr.total = Some(1);
            continue;
        }
        let node = feasible_nodes[i];
        nr.scores = (0..np)
            .map(|j| (scratch.raw[i * np + j], scratch.scores[i * np + j]))
            .collect();
        nr.total = Some(scratch.totals[i]);
        nr.explanations = score_plugins
            .iter()
            .enumerate()
            .map(|(j, &pi)| match fw.plugins[pi].as_score() {
                Some(sp) => {
                    sp.explanation(fw.pc(pi), state, pod, node, &snap, scratch.raw[i * np + j])
                }
                None => Explanation::None,
            })
            .collect();
    }
    out.record = record;
    out
}

#[allow(clippy::too_many_arguments)]
fn error_outcome(
    ctx: &mut Ctx,
    input: &CycleInput,
    mut out: CycleOutcome,
    mut record: Attempt,
    msg: String,
    scratch: Lists,
    snap: &Snapshot,
    names: &[Arc<str>],
) -> CycleOutcome {
    out.status = Status::error(msg.clone());
    note(ctx, input, "score: error".into(), msg.clone());
    out.nominate = Some(String::new());
    record.message = msg;
    finish_record(&mut record, scratch, snap, names, input.node_limit, None);
    out.record = record;
    out
}

/// Fills the record's nodes: all of them, or within the limit the chosen node, the
/// best-scoring feasible ones and the first rejected ones (the rest counted).
/// Returns, per recorded node, its position among the feasible nodes.
fn finish_record(
    record: &mut Attempt,
    scratch: Lists,
    snap: &Snapshot,
    names: &[Arc<str>],
    limit: usize,
    chosen: Option<u32>,
) -> Vec<Option<usize>> {
    let small = scratch.evaluated.len() <= limit;
    let rejected_quota = scratch.rejected.len().min((limit / 2).max(1));
    let top_quota = limit.saturating_sub(rejected_quota + 1);
    // (position, Ok(feasible index) | Err(rejected index))
    let mut keep: Vec<(usize, Result<usize, usize>)> = Vec::new();
    // (total, position, feasible index) of the best feasible nodes so far.
    let mut top: Vec<(i64, usize, usize)> = Vec::new();
    let mut om = Omitted::default();
    let mut omitted_rejected: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut fi, mut ri) = (0usize, 0usize);
    for (pos, (idx, _)) in scratch.evaluated.iter().enumerate() {
        // Feasible and rejected nodes are both kept in evaluation order.
        let c = if scratch.rejected.get(ri).is_some_and(|(r, _)| r == idx) {
            ri += 1;
            Err(ri - 1)
        } else {
            fi += 1;
            Ok(fi - 1)
        };
        if small {
            keep.push((pos, c));
            continue;
        }
        match c {
            Ok(k) if chosen == Some(*idx) => keep.push((pos, Ok(k))),
            Ok(k) => {
                let t = scratch.totals.get(k).copied().unwrap_or(0);
                if top.len() < top_quota {
                    top.push((t, pos, k));
                } else {
                    om.feasible += 1;
                    if let Some(m) = top
                        .iter_mut()
                        .min_by_key(|(tt, pp, _)| (*tt, std::cmp::Reverse(*pp)))
                    {
                        if t > m.0 {
                            *m = (t, pos, k);
                        }
                    }
                }
            }
            Err(k) => {
                if k < rejected_quota {
                    keep.push((pos, Err(k)));
                } else {
                    let r = scratch.rejected[k]
                        .1
                        .failure
                        .as_ref()
                        .and_then(|(_, s)| s.reasons.first().map(|r| r.as_ref()))
                        .unwrap_or("");
                    *omitted_rejected.entry(r).or_default() += 1;
                }
            }
        }
    }
    if !small {
        keep.extend(top.into_iter().map(|(_, pos, k)| (pos, Ok(k))));
        keep.sort_by_key(|(p, _)| *p);
        om.rejected = omitted_rejected
            .into_iter()
            .map(|(r, n)| (r.to_string(), n))
            .collect();
        record.omitted = Some(om);
    }
    let nfilters = record.filters.len();
    let mut positions = Vec::with_capacity(keep.len());
    record.nodes = keep
        .iter()
        .map(|(pos, c)| {
            let (idx, nominated) = scratch.evaluated[*pos];
            let node = &snap.nodes[idx as usize];
            match c {
                Err(k) => {
                    positions.push(None);
                    let o = &scratch.rejected[*k].1;
                    NodeRecord {
                        name: node.name.clone(),
                        passed: o.passed as u8,
                        failures: failure_record(names, o),
                        scores: Vec::new(),
                        explanations: Vec::new(),
                        total: None,
                        nominated,
                    }
                }
                Ok(k) => {
                    positions.push(Some(*k));
                    NodeRecord {
                        name: node.name.clone(),
                        passed: nfilters as u8,
                        failures: Vec::new(),
                        scores: Vec::new(),
                        explanations: Vec::new(),
                        total: None,
                        nominated,
                    }
                }
            }
        })
        .collect();
    positions
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn adaptive_percentage() {
        assert_eq!(num_feasible_nodes_to_find(0, 50), (50, 100));
        assert_eq!(num_feasible_nodes_to_find(0, 100), (100, 50));
        // 5000 nodes: 50 − 40 = 10% → 500.
        assert_eq!(num_feasible_nodes_to_find(0, 5000), (500, 10));
        // 6000 nodes: 50 − 48 = 2% → at least 5% → 300.
        assert_eq!(num_feasible_nodes_to_find(0, 6000), (300, 5));
        // 1000 nodes at 1%: 10, raised to 100.
        assert_eq!(num_feasible_nodes_to_find(1, 1000), (100, 1));
    }
}
