use std::collections::BTreeMap;

use super::plugin::PodTopologySpread;
use crate::api::core::{Node, Pod, TopologySpreadConstraint};
use crate::api::labels::{label_selector_as_selector, Operator, Requirement, Selector};
use crate::scheduler::cache::Snapshot;
use crate::scheduler::framework::types::{NodeInfo, PodInfo};
use crate::scheduler::plugins::nodeaffinity::RequiredNodeAffinity;
use crate::scheduler::plugins::tainttoleration::untolerated_do_not_schedule;

/// `topologySpreadConstraint`: a constraint with its selector parsed and its policies
/// defaulted (nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore, minDomains 1).
#[derive(Clone, Debug)]
pub(super) struct Constraint {
    pub max_skew: i64,
    pub topology_key: String,
    pub selector: Selector,
    pub min_domains: i64,
    pub honor_affinity: bool,
    pub honor_taints: bool,
}

impl Constraint {
    /// `matchNodeInclusionPolicies`.
    pub fn includes(&self, pod: &Pod, node: &Node, required: &RequiredNodeAffinity) -> bool {
        if self.honor_affinity && !required.matches(node) {
            return false;
        }
        if self.honor_taints
            && untolerated_do_not_schedule(&node.spec.taints, &pod.spec.tolerations).is_some()
        {
            return false;
        }
        true
    }
}

/// `filterTopologySpreadConstraints`: the constraints with this `whenUnsatisfiable`,
/// `matchLabelKeys` merged into their selectors.
pub(super) fn filter_constraints(
    list: &[TopologySpreadConstraint],
    pod_labels: &BTreeMap<String, String>,
    action: &str,
) -> Result<Vec<Constraint>, String> {
    let mut out = Vec::new();
    for c in list.iter().filter(|c| c.when_unsatisfiable == action) {
        let mut selector = label_selector_as_selector(c.label_selector.as_ref())
            .map_err(|e| e.message().to_string())?;
        let extra: Vec<Requirement> = c
            .match_label_keys
            .iter()
            .filter_map(|k| pod_labels.get(k).map(|v| (k, v)))
            .filter_map(|(k, v)| Requirement::new(k.clone(), Operator::In, vec![v.clone()]).ok())
            .collect();
        if !extra.is_empty() && !selector.is_nothing() {
            selector = selector.add(extra);
        }
        out.push(Constraint {
            max_skew: i64::from(c.max_skew),
            topology_key: c.topology_key.clone(),
            selector,
            min_domains: i64::from(c.min_domains.unwrap_or(1)),
            honor_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
            honor_taints: c.node_taints_policy.as_deref() == Some("Honor"),
        });
    }
    Ok(out)
}

impl PodTopologySpread {
    /// `buildDefaultConstraints`: the default constraints with the selector of what
    /// owns or selects the pod (none when nothing does).
    pub(super) fn default_constraints_for(
        &self,
        pod: &PodInfo,
        action: &str,
        snap: &Snapshot,
    ) -> Result<Vec<Constraint>, String> {
        let mut cs = filter_constraints(
            &self.default_constraints,
            &pod.pod().metadata.labels,
            action,
        )?;
        if cs.is_empty() {
            return Ok(cs);
        }
        let selector = snap.listers.default_selector(pod.pod());
        if selector.is_empty() {
            return Ok(Vec::new());
        }
        for c in cs.iter_mut() {
            c.selector = selector.clone();
        }
        Ok(cs)
    }

    /// The pod's own constraints for `action`, or the defaults when it has none.
    pub(super) fn constraints(
        &self,
        pod: &PodInfo,
        action: &str,
        snap: &Snapshot,
    ) -> Result<Vec<Constraint>, String> {
        let spec = &pod.pod().spec;
        if !spec.topology_spread_constraints.is_empty() {
            filter_constraints(
                &spec.topology_spread_constraints,
                &pod.pod().metadata.labels,
                action,
            )
        } else {
            self.default_constraints_for(pod, action, snap)
        }
    }
}

/// `nodeLabelsMatchSpreadConstraints`: the node has every constraint's topology key.
pub(super) fn node_has_all_keys(labels: &BTreeMap<String, String>, cs: &[Constraint]) -> bool {
    cs.iter().all(|c| labels.contains_key(&c.topology_key))
}

/// Memo ids are unique in the process, so that two plugin instances (two profiles)
/// never read each other's counts from a node.
static NEXT_MEMO_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// How many (selector, namespace) pairs a plugin keeps ids for.
const MEMO_IDS: usize = 64;

impl PodTopologySpread {
    /// The id under which nodes memoize their count for this selector and namespace.
    pub(super) fn memo_id(&self, selector: &Selector, ns: &str) -> u64 {
        let mut ids = self.memo_ids.borrow_mut();
        if let Some((_, _, id)) = ids.iter().find(|(s, n, _)| s == selector && n == ns) {
            return *id;
        }
        if ids.len() >= MEMO_IDS {
            ids.remove(0);
        }
        let id = NEXT_MEMO_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ids.push((selector.clone(), ns.to_string(), id));
        id
    }
}

/// [`count_matching`] over a node's pods, memoized in the node until its pods change.
pub(super) fn count_matching_on(node: &NodeInfo, selector: &Selector, ns: &str, id: u64) -> i64 {
    let (memo, generation, count) = node.spread_memo.get();
    if memo == id && generation == node.generation {
        return count;
    }
    let count = count_matching(&node.pods, selector, ns);
    node.spread_memo.set((id, node.generation, count));
    count
}

/// `countPodsMatchSelector`: pods in `ns`, not terminating, that the selector matches.
pub(super) fn count_matching(
    pods: &[std::sync::Arc<PodInfo>],
    selector: &Selector,
    ns: &str,
) -> i64 {
    if selector.is_empty() {
        return 0;
    }
    pods.iter()
        .filter(|p| {
            let pod = p.pod();
            pod.metadata.deletion_timestamp.is_none()
                && pod.metadata.namespace == ns
                && selector.matches(&pod.metadata.labels)
        })
        .count() as i64
}
