use std::collections::BTreeMap;
use std::sync::Arc;

use crate::api::meta::Condition;
use crate::scheduler::config::DefaultPreemptionArgs;
use crate::scheduler::fit_error::fit_error_message;
use crate::scheduler::framework::runtime::{Point, PostFilterHandle};
use crate::scheduler::framework::{
    ClusterEvent, Code, CycleState, NodeInfo, Plugin, PluginCtx, PodInfo, PostFilterPlugin,
    PostFilterResult, Status,
};
use crate::scheduler::record::{PreemptionRecord, Victim};
use crate::scheduler::util::{delete_pod, patch_pod_status, record_event};

pub const NAME: &str = "DefaultPreemption";
pub const MSG_POLICY_NEVER: &str = "not eligible due to preemptionPolicy=Never.";
pub const MSG_TERMINATING: &str = "not eligible due to a terminating pod on the nominated node.";
pub const MSG_NO_VICTIMS: &str = "No preemption victims found for incoming pod";
pub const MSG_NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";

/// PostFilter: when no node fits, find the node where evicting the fewest,
/// least important lower-priority pods makes room, evict them, and nominate the node.
/// PodDisruptionBudgets are not simulated, so no victim ever violates one.
pub struct DefaultPreemption {
    args: DefaultPreemptionArgs,
    scheduler_name: String,
}

impl DefaultPreemption {
    pub fn new(args: &DefaultPreemptionArgs, scheduler_name: &str) -> DefaultPreemption {
        DefaultPreemption {
            args: args.clone(),
            scheduler_name: scheduler_name.to_string(),
        }
    }

    /// `calculateNumCandidates`.
    pub fn num_candidates(&self, nodes: i64) -> i64 {
        let mut n = nodes * self.args.min_candidate_nodes_percentage / 100;
        if n < self.args.min_candidate_nodes_absolute {
            n = self.args.min_candidate_nodes_absolute;
        }
        n.min(nodes)
    }
}

impl Plugin for DefaultPreemption {
    fn name(&self) -> &str {
        NAME
    }
    fn as_post_filter(&self) -> Option<&dyn PostFilterPlugin> {
        Some(self)
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[]
    }
}

/// A pod's start time for ordering victims (pods that never started count as now).
fn start_time(p: &PodInfo, now: i64) -> i64 {
    p.pod().status.start_time.map_or(now, |t| t.0)
}

/// `util.MoreImportantPod`: higher priority, then the earlier start.
fn more_important(a: &PodInfo, b: &PodInfo, now: i64) -> std::cmp::Ordering {
    b.priority
        .cmp(&a.priority)
        .then(start_time(a, now).cmp(&start_time(b, now)))
}

/// Whether a pod is terminating because the scheduler preempted it.
fn terminating_by_preemption(p: &PodInfo) -> bool {
    let pod = p.pod();
    pod.metadata.deletion_timestamp.is_some()
        && pod.status.conditions.iter().any(|c| {
            c.kind == "DisruptionTarget"
                && c.status == "True"
                && c.reason == "PreemptionByScheduler"
        })
}

struct Candidate {
    node: u32,
    victims: Vec<Arc<PodInfo>>,
    why: Vec<String>,
}

impl DefaultPreemption {
    /// `PodEligibleToPreemptOthers`.
    fn eligible(&self, h: &PostFilterHandle, pod: &PodInfo) -> Result<(), &'static str> {
        let spec = &pod.pod().spec;
        if spec.preemption_policy.as_deref() == Some("Never") {
            return Err(MSG_POLICY_NEVER);
        }
        let nom = &pod.pod().status.nominated_node_name;
        if !nom.is_empty() {
            let Some(idx) = h
                .snap
                .order
                .iter()
                .copied()
                .find(|&i| *h.snap.nodes[i as usize].name == **nom)
            else {
                return Ok(());
            };
            if h.status(idx) == Code::UnschedulableAndUnresolvable {
                return Ok(());
            }
            let info = &h.snap.nodes[idx as usize];
            if info
                .pods
                .iter()
                .any(|p| p.priority < pod.priority && terminating_by_preemption(p))
            {
                return Err(MSG_TERMINATING);
            }
        }
        Ok(())
    }

    /// Runs the cycle's filters with the pods nominated to the node.
    fn fits(
        &self,
        h: &PostFilterHandle,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> crate::scheduler::framework::runtime::FilterOutcome {
        let nominated: &[Arc<PodInfo>] = h
            .nominated
            .get(&*node.name)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        h.fw.run_filters_with_nominated(h.filters, state, pod, node, h.snap, nominated)
    }

    fn remove(
        &self,
        h: &PostFilterHandle,
        state: &mut CycleState,
        node: &mut NodeInfo,
        pod: &PodInfo,
        victim: &PodInfo,
    ) {
        node.remove_pod(&victim.key);
        for &i in h.fw.at(Point::PreFilter) {
            if let Some(pf) = h.fw.plugins[i].as_pre_filter() {
                pf.remove_pod(h.fw.pc(i), state, pod, victim, node, h.snap);
            }
        }
    }

    fn add(
        &self,
        h: &PostFilterHandle,
        state: &mut CycleState,
        node: &mut NodeInfo,
        pod: &PodInfo,
        victim: &Arc<PodInfo>,
    ) {
        node.add_pod(victim.clone());
        for &i in h.fw.at(Point::PreFilter) {
            if let Some(pf) = h.fw.plugins[i].as_pre_filter() {
                pf.add_pod(h.fw.pc(i), state, pod, victim, node, h.snap);
            }
        }
    }

    /// `SelectVictimsOnNode`: remove every lower-priority pod; if the pod then fits,
    /// put back the most important ones that still let it fit. The rest are victims.
    fn select_victims(
        &self,
        h: &PostFilterHandle,
        pod: &PodInfo,
        idx: u32,
    ) -> Result<Candidate, Status> {
        let now = h.ctx.now() as i64;
        let mut node = h.snap.nodes[idx as usize].clone();
        let mut state = h.state.clone();
        let mut potential: Vec<Arc<PodInfo>> = node
            .pods
            .iter()
            .filter(|p| p.priority < pod.priority)
            .cloned()
            .collect();
        for v in &potential {
            self.remove(h, &mut state, &mut node, pod, v);
        }
        if potential.is_empty() {
            return Err(Status::new(
                Code::UnschedulableAndUnresolvable,
                MSG_NO_VICTIMS,
            ));
        }
        let all_removed = self.fits(h, &state, pod, &node);
        if let Some((_, st)) = all_removed.failure {
            return Err(st);
        }
        potential.sort_by(|a, b| more_important(a, b, now));
        let mut victims = Vec::new();
        let mut why = Vec::new();
        for p in potential {
            self.add(h, &mut state, &mut node, pod, &p);
            let out = self.fits(h, &state, pod, &node);
            if let Some((plugin, st)) = out.failure {
                self.remove(h, &mut state, &mut node, pod, &p);
                why.push(format!(
                    "priority {} < {}; keeping it fails {}: {}",
                    p.priority,
                    pod.priority,
                    h.fw.name(plugin),
                    st.message()
                ));
                victims.push(p);
            }
        }
        Ok(Candidate {
            node: idx,
            victims,
            why,
        })
    }

    /// `pickOneNodeForPreemption`: fewest PDB violations (none here), lowest highest
    /// victim priority, lowest priority sum, fewest victims, latest start.
    fn pick(&self, cands: &[Candidate], now: i64) -> (usize, String) {
        if cands.len() == 1 {
            return (0, "the only candidate".into());
        }
        type ScoreFn<'a> = (&'a str, Box<dyn Fn(&Candidate) -> i64 + 'a>);
        let funcs: Vec<ScoreFn> = vec![
            (
                "lowest highest-priority victim",
                Box::new(|c: &Candidate| -i64::from(c.victims.first().map_or(0, |v| v.priority))),
            ),
            (
                "lowest sum of victim priorities",
                Box::new(|c: &Candidate| {
                    -c.victims
                        .iter()
                        .map(|v| i64::from(v.priority) + i64::from(i32::MAX) + 1)
                        .sum::<i64>()
                }),
            ),
            (
                "fewest victims",
                Box::new(|c: &Candidate| -(c.victims.len() as i64)),
            ),
            (
                "latest start time of the highest-priority victims",
                Box::new(move |c: &Candidate| {
                    let top = c.victims.first().map_or(0, |v| v.priority);
                    c.victims
                        .iter()
                        .filter(|v| v.priority == top)
                        .map(|v| start_time(v, now))
                        .min()
                        .unwrap_or(i64::MIN)
                }),
            ),
        ];
        let mut all: Vec<usize> = (0..cands.len()).collect();
        for (name, f) in &funcs {
            let best = all.iter().map(|&i| f(&cands[i])).max().unwrap_or(0);
            let sel: Vec<usize> = all
                .iter()
                .copied()
                .filter(|&i| f(&cands[i]) == best)
                .collect();
            if sel.len() == 1 {
                return (sel[0], name.to_string());
            }
            all = sel;
        }
        (all[0], "still tied: the first candidate found".into())
    }
}

impl PostFilterPlugin for DefaultPreemption {
    fn post_filter(
        &self,
        _: PluginCtx,
        h: &mut PostFilterHandle<'_, '_>,
        pod: &PodInfo,
    ) -> (Option<PostFilterResult>, Status) {
        let mut rec = PreemptionRecord::default();
        let fail =
            |rec: &mut PreemptionRecord, h: &mut PostFilterHandle, msg: String, clear: bool| {
                rec.status = "Unschedulable".into();
                rec.message = msg.clone();
                *h.record = Some(std::mem::take(rec));
                let result = clear.then(|| PostFilterResult {
                    nominated_node_name: Some(String::new()),
                });
                (
                    result,
                    Status::new(Code::Unschedulable, format!("preemption: {msg}")),
                )
            };
        if let Err(msg) = self.eligible(h, pod) {
            return fail(&mut rec, h, msg.to_string(), false);
        }
        let all_nodes = h.snap.num_nodes();
        let potential: Vec<u32> = h
            .snap
            .order
            .iter()
            .copied()
            .filter(|&i| h.status(i) == Code::Unschedulable)
            .collect();
        let mut statuses: BTreeMap<u32, Status> = BTreeMap::new();
        let mut candidates: Vec<Candidate> = Vec::new();
        if !potential.is_empty() {
            let n = potential.len() as i64;
            let offset = h.ctx.k.rng.below(n as u64) as usize;
            let want = self.num_candidates(n);
            for i in 0..potential.len() {
                let idx = potential[(offset + i) % potential.len()];
                match self.select_victims(h, pod, idx) {
                    Ok(c) if !c.victims.is_empty() => {
                        candidates.push(c);
                        if candidates.len() as i64 >= want {
                            break;
                        }
                    }
                    Ok(c) => {
                        statuses.insert(
                            c.node,
                            Status::error(format!(
                                "expected at least one victim pod on node \"{}\"",
                                h.snap.nodes[c.node as usize].name
                            )),
                        );
                    }
                    Err(st) => {
                        statuses.insert(idx, st);
                    }
                }
            }
        }
        for (idx, st) in &statuses {
            rec.rejected
                .push((h.snap.nodes[*idx as usize].name.to_string(), st.message()));
        }
        if candidates.is_empty() {
            let counted: Vec<Vec<String>> = statuses
                .values()
                .map(|s| s.reasons.iter().map(|r| r.to_string()).collect())
                .collect();
            let absent = all_nodes.saturating_sub(statuses.len());
            let msg = fit_error_message(
                all_nodes,
                "",
                &counted,
                absent,
                &[MSG_NOT_HELPFUL.to_string()],
                "",
            );
            if !pod.pod().status.nominated_node_name.is_empty() && potential.is_empty() {
                rec.cleared_nominations.push(pod.key.to_string());
            }
            return fail(&mut rec, h, msg, true);
        }
        let now = h.ctx.now() as i64;
        let (best, why) = self.pick(&candidates, now);
        for c in &candidates {
            let node = h.snap.nodes[c.node as usize].name.to_string();
            let victims = c
                .victims
                .iter()
                .zip(&c.why)
                .map(|(v, w)| Victim {
                    pod: v.key.to_string(),
                    priority: v.priority,
                    reason: w.clone(),
                })
                .collect();
            rec.candidates.push((node, victims));
        }
        let chosen = &candidates[best];
        let node_name = h.snap.nodes[chosen.node as usize].name.to_string();
        rec.chosen = Some(node_name.clone());
        rec.why_chosen = why;
        // prepareCandidate: mark, evict and announce each victim.
        let preemptor = pod.pod();
        for v in &chosen.victims {
            let cond = Condition {
                kind: "DisruptionTarget".into(),
                status: "True".into(),
                reason: "PreemptionByScheduler".into(),
                message: format!(
                    "{}: preempting to accommodate a higher priority pod",
                    self.scheduler_name
                ),
                ..Default::default()
            };
            patch_pod_status(h.ctx, h.who, v.pod(), Some(cond), None);
            delete_pod(h.ctx, h.who, v.pod());
            let _ = record_event(
                h.ctx,
                h.who,
                &self.scheduler_name,
                v.pod(),
                Some(preemptor),
                "Normal",
                "Preempted",
                "Preempting",
                &format!(
                    "Preempted by pod {} on node {node_name}",
                    preemptor.metadata.uid
                ),
            );
        }
        // Lower-priority pods nominated to this node may no longer fit there.
        let lower: Vec<Arc<PodInfo>> = h
            .nominated
            .get(&node_name)
            .map(|v| {
                v.iter()
                    .filter(|p| p.priority < pod.priority)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        for p in lower {
            if patch_pod_status(h.ctx, h.who, p.pod(), None, Some("")) {
                rec.cleared_nominations.push(p.key.to_string());
            }
        }
        rec.status = "Success".into();
        rec.nominated_node = Some(node_name.clone());
        rec.message = format!(
            "evicting {} pod(s) on {node_name} makes room: {}",
            chosen.victims.len(),
            chosen
                .victims
                .iter()
                .map(|v| v.key.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        *h.record = Some(rec);
        (
            Some(PostFilterResult {
                nominated_node_name: Some(node_name),
            }),
            Status::success(),
        )
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn candidate_count_follows_the_args() {
        let p = DefaultPreemption::new(&DefaultPreemptionArgs::default(), "default-scheduler");
        assert_eq!(p.num_candidates(10), 10);
        assert_eq!(p.num_candidates(5000), 500);
        assert_eq!(p.num_candidates(500), 100);
    }
}
