use crate::api::VecMap;
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
    pod_labels: &VecMap<String, String>,
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
pub(super) fn node_has_all_keys(labels: &VecMap<String, String>, cs: &[Constraint]) -> bool {
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

/// What one node adds to a domain sum: the state it was read in (NodeInfo uid and
/// generation), its domain (an index into [`DomainSums::domains`]; `None` if the
/// node is left out for lacking a key) and its matching pods.
#[derive(Clone, Copy, Debug, Default)]
struct NodeShare {
    uid: u64,
    generation: u64,
    domain: Option<u32>,
    count: i64,
}

/// PreScore's counts of matching pods per topology domain over every node, for one
/// (selector and namespace, topology key, keys a node must have): each node's share
/// is kept with the node state it was read from, so a cycle re-reads only the nodes
/// that changed since the last one and adds up the rest, where upstream recounts
/// every node's pods in parallel. Valid only for pods every node includes (no
/// required node affinity honoured, taints ignored), which callers check.
#[derive(Debug)]
pub(crate) struct DomainSums {
    memo_id: u64,
    topology_key: String,
    /// The keys a node must have to count (empty when not all are required).
    required_keys: Vec<String>,
    domains: BTreeMap<String, u32>,
    /// By node slot in the snapshot.
    shares: Vec<NodeShare>,
}

/// How many domain sums a plugin keeps.
const DOMAIN_SUMS: usize = 8;

impl PodTopologySpread {
    /// The matching pods per value of `topology_key`, summed over every live node
    /// that has all of `required_keys`.
    /// Only domains that some node is in now are listed.
    pub(super) fn domain_sums(
        &self,
        snap: &Snapshot,
        c: &Constraint,
        ns: &str,
        memo_id: u64,
        required_keys: &[String],
    ) -> BTreeMap<String, i64> {
        let mut all = self.domain_sums.borrow_mut();
        let at = all.iter().position(|d| {
            d.memo_id == memo_id
                && d.topology_key == c.topology_key
                && d.required_keys == required_keys
        });
        let mut d = match at {
            Some(i) => all.remove(i),
            None => DomainSums {
                memo_id,
                topology_key: c.topology_key.clone(),
                required_keys: required_keys.to_vec(),
                domains: BTreeMap::new(),
                shares: Vec::new(),
            },
        };
        if d.shares.len() < snap.nodes.len() {
            d.shares.resize(snap.nodes.len(), NodeShare::default());
        }
        let mut sums = vec![0i64; d.domains.len()];
        // Nodes in each domain now: a domain whose nodes all went is not listed.
        let mut present = vec![0u32; d.domains.len()];
        for &i in snap.order {
            let n = &snap.nodes[i as usize];
            let share = &mut d.shares[i as usize];
            if share.uid != n.uid || share.generation != n.generation {
                let labels = &n.node().metadata.labels;
                let counted = required_keys.iter().all(|k| labels.contains_key(k));
                let domain = counted.then(|| {
                    let v = labels.get(&c.topology_key).map_or("", String::as_str);
                    match d.domains.get(v) {
                        Some(&id) => id,
                        None => {
                            let id = d.domains.len() as u32;
                            d.domains.insert(v.to_string(), id);
                            id
                        }
                    }
                });
                *share = NodeShare {
                    uid: n.uid,
                    generation: n.generation,
                    domain,
                    count: if counted {
                        count_matching_on(n, &c.selector, ns, memo_id)
                    } else {
                        0
                    },
                };
            }
            if let Some(id) = share.domain {
                if sums.len() <= id as usize {
                    sums.resize(id as usize + 1, 0);
                    present.resize(id as usize + 1, 0);
                }
                sums[id as usize] += share.count;
                present[id as usize] += 1;
            }
        }
        let out = d
            .domains
            .iter()
            .filter(|(_, &id)| present.get(id as usize).is_some_and(|&n| n > 0))
            .map(|(v, &id)| (v.clone(), sums.get(id as usize).copied().unwrap_or(0)))
            .collect();
        all.insert(0, d);
        all.truncate(DOMAIN_SUMS);
        out
    }
}

/// `true` when the counts of constraint `c` can come from [`PodTopologySpread::domain_sums`]:
/// the pod has no required node affinity and the constraint ignores taints, so every
/// node with the keys is included.
pub(super) fn sums_apply(required: &RequiredNodeAffinity, c: &Constraint) -> bool {
    required.is_empty() && !c.honor_taints
}

/// The walk over every live node that PreFilter and PreScore make for the constraints
/// the kept sums cannot serve: each node's matching pods are added to its domain in
/// `counts[i]`, for `i` in `which`. A node counts when it has every constraint's key
/// (only when `require_all`) and the constraint includes it
/// (`matchNodeInclusionPolicies`). A domain not yet in `counts[i]` is added when
/// `add_domains` (PreFilter counts every domain), else left out (PreScore counts only
/// the domains of the nodes it scores).
#[allow(clippy::too_many_arguments)]
pub(super) fn count_by_walk(
    snap: &Snapshot,
    pod: &PodInfo,
    constraints: &[Constraint],
    which: &[usize],
    memo_ids: &[u64],
    require_all: bool,
    add_domains: bool,
    counts: &mut [BTreeMap<String, i64>],
) {
    if which.is_empty() {
        return;
    }
    let required = RequiredNodeAffinity::of(pod);
    let p = pod.pod();
    for n in snap.list() {
        let node = n.node();
        if require_all && !node_has_all_keys(&node.metadata.labels, constraints) {
            continue;
        }
        for &i in which {
            let c = &constraints[i];
            if !c.includes(p, node, &required) {
                continue;
            }
            let v = node
                .metadata
                .labels
                .get(&c.topology_key)
                .map_or("", String::as_str);
            let matching = || count_matching_on(n, &c.selector, pod.namespace(), memo_ids[i]);
            match counts[i].get_mut(v) {
                Some(cnt) => *cnt += matching(),
                None if add_domains => {
                    counts[i].insert(v.to_string(), matching());
                }
                None => {}
            }
        }
    }
}

/// Debug builds (every test) check kept sums against a fresh count: the matching
/// pods of the live nodes that have `required_keys` and whose `topology_key` value is
/// `v`.
#[cfg(debug_assertions)]
pub(super) fn fresh_sum(
    snap: &Snapshot,
    c: &Constraint,
    ns: &str,
    required_keys: &[String],
    v: &str,
) -> i64 {
    snap.list()
        .filter(|n| {
            let labels = &n.node().metadata.labels;
            required_keys.iter().all(|k| labels.contains_key(k))
                && labels.get(&c.topology_key).map_or("", String::as_str) == v
        })
        .map(|n| count_matching(&n.pods, &c.selector, ns))
        .sum()
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
