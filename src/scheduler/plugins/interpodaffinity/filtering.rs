use crate::api::VecMap;
use std::collections::BTreeMap;

use super::plugin::{merge_namespaces, InterPodAffinity};
use crate::api::core::{Node, Pod};
use crate::scheduler::cache::Snapshot;
use crate::scheduler::framework::types::AffinityTerm;
use crate::scheduler::framework::{
    Code, CycleState, FilterPlugin, NodeInfo, PluginCtx, PodInfo, PreFilterPlugin, PreFilterResult,
    Status,
};

/// `ErrReasonExistingAntiAffinityRulesNotMatch`.
pub const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";
/// `ErrReasonAffinityRulesNotMatch`.
pub const ERR_REASON_AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't match pod affinity rules";
/// `ErrReasonAntiAffinityRulesNotMatch`.
pub const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH: &str =
    "node(s) didn't match pod anti-affinity rules";

/// Pods matching terms, counted per (topology key, value).
pub(super) type TopologyCounts = BTreeMap<(String, String), i64>;

fn update(m: &mut TopologyCounts, node: &Node, key: &str, value: i64) {
    if let Some(v) = node.metadata.labels.get(key) {
        let pair = (key.to_string(), v.clone());
        let e = m.entry(pair.clone()).or_insert(0);
        *e += value;
        if *e == 0 {
            m.remove(&pair);
        }
    }
}

/// `podMatchesAllAffinityTerms`.
pub(super) fn matches_all(
    terms: &[AffinityTerm],
    pod: &Pod,
    ns_labels: Option<&VecMap<String, String>>,
) -> bool {
    !terms.is_empty() && terms.iter().all(|t| t.matches(pod, ns_labels))
}

fn update_with_affinity_terms(
    m: &mut TopologyCounts,
    terms: &[AffinityTerm],
    pod: &Pod,
    ns_labels: Option<&VecMap<String, String>>,
    node: &Node,
    value: i64,
) {
    if matches_all(terms, pod, ns_labels) {
        for t in terms {
            update(m, node, &t.topology_key, value);
        }
    }
}

fn update_with_anti_affinity_terms(
    m: &mut TopologyCounts,
    terms: &[AffinityTerm],
    pod: &Pod,
    ns_labels: Option<&VecMap<String, String>>,
    node: &Node,
    value: i64,
) {
    for t in terms {
        if t.matches(pod, ns_labels) {
            update(m, node, &t.topology_key, value);
        }
    }
}

/// The incoming pod's required terms (namespace selectors merged) and the counts.
#[derive(Clone)]
pub(super) struct PreFilterState {
    existing_anti_affinity: TopologyCounts,
    affinity: TopologyCounts,
    anti_affinity: TopologyCounts,
    required_affinity: Vec<AffinityTerm>,
    required_anti_affinity: Vec<AffinityTerm>,
    pod: Pod,
    namespace_labels: Option<VecMap<String, String>>,
}

impl PreFilterState {
    fn update_with_pod(&mut self, other: &PodInfo, node: &Node, multiplier: i64) {
        let nsl = self.namespace_labels.clone();
        update_with_anti_affinity_terms(
            &mut self.existing_anti_affinity,
            &other.required_anti_affinity,
            &self.pod,
            nsl.as_ref(),
            node,
            multiplier,
        );
        update_with_affinity_terms(
            &mut self.affinity,
            &self.required_affinity,
            other.pod(),
            None,
            node,
            multiplier,
        );
        update_with_anti_affinity_terms(
            &mut self.anti_affinity,
            &self.required_anti_affinity,
            other.pod(),
            None,
            node,
            multiplier,
        );
    }
}

impl PreFilterPlugin for InterPodAffinity {
    fn pre_filter(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        pod: &PodInfo,
        snap: &Snapshot,
    ) -> (PreFilterResult, Status) {
        if let Some(e) = &pod.affinity_error {
            return (
                PreFilterResult::default(),
                Status::new(
                    Code::UnschedulableAndUnresolvable,
                    format!("parsing pod: {e}"),
                ),
            );
        }
        if snap.pods_with_required_anti_affinity == 0
            && pod.required_affinity.is_empty()
            && pod.required_anti_affinity.is_empty()
        {
            return (PreFilterResult::default(), Status::skip());
        }
        let mut required_affinity = pod.required_affinity.clone();
        let mut required_anti_affinity = pod.required_anti_affinity.clone();
        for t in required_affinity
            .iter_mut()
            .chain(required_anti_affinity.iter_mut())
        {
            merge_namespaces(t, snap);
        }
        let namespace_labels = snap.namespace_labels(pod.namespace()).cloned();
        let mut s = PreFilterState {
            existing_anti_affinity: TopologyCounts::new(),
            affinity: TopologyCounts::new(),
            anti_affinity: TopologyCounts::new(),
            required_affinity,
            required_anti_affinity,
            pod: pod.pod().clone(),
            namespace_labels,
        };
        if snap.pods_with_required_anti_affinity > 0 {
            for n in snap.have_pods_with_required_anti_affinity() {
                for existing in n
                    .pods
                    .iter()
                    .filter(|p| !p.required_anti_affinity.is_empty())
                {
                    update_with_anti_affinity_terms(
                        &mut s.existing_anti_affinity,
                        &existing.required_anti_affinity,
                        &s.pod,
                        s.namespace_labels.as_ref(),
                        n.node(),
                        1,
                    );
                }
            }
        }
        if !s.required_affinity.is_empty() || !s.required_anti_affinity.is_empty() {
            for n in snap.list() {
                for existing in &n.pods {
                    let ens = snap.namespace_labels(existing.namespace());
                    update_with_affinity_terms(
                        &mut s.affinity,
                        &s.required_affinity,
                        existing.pod(),
                        ens,
                        n.node(),
                        1,
                    );
                    update_with_anti_affinity_terms(
                        &mut s.anti_affinity,
                        &s.required_anti_affinity,
                        existing.pod(),
                        None,
                        n.node(),
                        1,
                    );
                }
            }
        }
        if s.existing_anti_affinity.is_empty()
            && s.required_affinity.is_empty()
            && s.required_anti_affinity.is_empty()
        {
            return (PreFilterResult::default(), Status::skip());
        }
        state.write(pc.index, s);
        (PreFilterResult::default(), Status::success())
    }

    fn add_pod(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        _: &PodInfo,
        other: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) {
        if let Some(s) = state.read_mut::<PreFilterState>(pc.index) {
            s.update_with_pod(other, node.node(), 1);
        }
    }

    fn remove_pod(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        _: &PodInfo,
        other: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) {
        if let Some(s) = state.read_mut::<PreFilterState>(pc.index) {
            s.update_with_pod(other, node.node(), -1);
        }
    }
}

/// `satisfyExistingPodsAntiAffinity`.
fn satisfy_existing_anti_affinity(s: &PreFilterState, node: &Node) -> bool {
    if s.existing_anti_affinity.is_empty() {
        return true;
    }
    !node.metadata.labels.iter().any(|(k, v)| {
        s.existing_anti_affinity
            .get(&(k.clone(), v.clone()))
            .copied()
            .unwrap_or(0)
            > 0
    })
}

/// `satisfyPodAntiAffinity`.
fn satisfy_anti_affinity(s: &PreFilterState, node: &Node) -> bool {
    if s.anti_affinity.is_empty() {
        return true;
    }
    for t in &s.required_anti_affinity {
        if let Some(v) = node.metadata.labels.get(&t.topology_key) {
            if s.anti_affinity
                .get(&(t.topology_key.clone(), v.clone()))
                .copied()
                .unwrap_or(0)
                > 0
            {
                return false;
            }
        }
    }
    true
}

/// `satisfyPodAffinity`: every term's topology must be on the node with a matching
/// pod in it; a pod that matches its own terms may go first when no pod matches yet.
fn satisfy_affinity(s: &PreFilterState, node: &Node) -> bool {
    let mut pods_exist = true;
    for t in &s.required_affinity {
        match node.metadata.labels.get(&t.topology_key) {
            Some(v) => {
                if s.affinity
                    .get(&(t.topology_key.clone(), v.clone()))
                    .copied()
                    .unwrap_or(0)
                    <= 0
                {
                    pods_exist = false;
                }
            }
            None => return false,
        }
    }
    if !pods_exist {
        return s.affinity.is_empty()
            && matches_all(&s.required_affinity, &s.pod, s.namespace_labels.as_ref());
    }
    true
}

impl FilterPlugin for InterPodAffinity {
    fn filter(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        _: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) -> Status {
        let Some(s) = state.read::<PreFilterState>(pc.index) else {
            return Status::error(
                "error reading \"PreFilterInterPodAffinity\" from cycleState: not found",
            );
        };
        let n = node.node();
        if !satisfy_affinity(s, n) {
            return Status::new(
                Code::UnschedulableAndUnresolvable,
                ERR_REASON_AFFINITY_RULES_NOT_MATCH,
            );
        }
        if !satisfy_anti_affinity(s, n) {
            return Status::new(
                Code::Unschedulable,
                ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH,
            );
        }
        if !satisfy_existing_anti_affinity(s, n) {
            return Status::new(
                Code::Unschedulable,
                ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH,
            );
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::scheduler::config::InterPodAffinityArgs;
    use crate::scheduler::plugins::testing::{filter, pod, world};
    use serde_json::{json, Value};

    fn node(name: &str, zone: &str) -> Value {
        json!({"metadata": {"name": name, "labels": {"zone": zone, "kubernetes.io/hostname": name}}})
    }

    fn with_labels(node: &str, labels: Value) -> Value {
        json!({"metadata": {"labels": labels}, "spec": {"nodeName": node}})
    }

    fn term(kind: &str, sel: Value, key: &str) -> Value {
        json!({"spec": {"affinity": {kind: {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": sel}, "topologyKey": key}
        ]}}}})
    }

    #[test]
    fn table() {
        let p = InterPodAffinity::new(&InterPodAffinityArgs::default());
        let nodes = vec![node("n1", "a"), node("n2", "b")];
        // Affinity to a pod in zone a: only n1.
        let c = world(nodes.clone(), vec![with_labels("n1", json!({"app": "db"}))]);
        let web = pod(term("podAffinity", json!({"app": "db"}), "zone"));
        assert!(filter(&c, &p, &web, "n1").is_success());
        assert_eq!(
            filter(&c, &p, &web, "n2").message(),
            ERR_REASON_AFFINITY_RULES_NOT_MATCH
        );
        // Anti-affinity to it: only n2.
        let anti = pod(term("podAntiAffinity", json!({"app": "db"}), "zone"));
        assert_eq!(
            filter(&c, &p, &anti, "n1").message(),
            ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH
        );
        assert!(filter(&c, &p, &anti, "n2").is_success());
        // An existing pod's anti-affinity keeps matching pods out of its zone.
        let mut guard = term("podAntiAffinity", json!({"app": "web"}), "zone");
        guard["spec"]["nodeName"] = "n1".into();
        let c = world(nodes.clone(), vec![guard]);
        let w = pod(json!({"metadata": {"labels": {"app": "web"}}, "spec": {}}));
        assert_eq!(
            filter(&c, &p, &w, "n1").message(),
            ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH
        );
        assert!(filter(&c, &p, &w, "n2").is_success());
        // The first pod of a self-affine group may go anywhere its topology exists.
        let c = world(nodes, vec![]);
        let mut first = term("podAffinity", json!({"app": "web"}), "zone");
        first["metadata"] = json!({"labels": {"app": "web"}});
        assert!(filter(&c, &p, &pod(first), "n1").is_success());
    }
}
