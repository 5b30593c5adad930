//! The legacy predicates, with that era's failure reasons (`predicates/error.go`).

use crate::api::VecMap;
use std::borrow::Cow;

use crate::scheduler::cache::Snapshot;
use crate::scheduler::framework::types::volume_ids;
use crate::scheduler::framework::{
    ClusterEvent, Code, CycleState, FilterPlugin, InsufficientResource, NodeInfo, Plugin,
    PluginCtx, PodInfo, Status, NODE_ANY,
};
use crate::scheduler::plugins::nodeaffinity::RequiredNodeAffinity;
use crate::scheduler::plugins::noderesources::insufficient_status;
use crate::scheduler::plugins::tainttoleration::untolerated_do_not_schedule;
use crate::scheduler::plugins::{nodename, nodeports, volumerestrictions};

pub const ERR_DISK_CONFLICT: &str = "node(s) had no available disk";
pub const ERR_NODE_SELECTOR_NOT_MATCH: &str = "node(s) didn't match node selector";
pub const ERR_TAINTS_TOLERATIONS_NOT_MATCH: &str =
    "node(s) had taints that the pod didn't tolerate";
pub const ERR_POD_NOT_MATCH_HOST_NAME: &str = "node(s) didn't match the requested hostname";
pub const ERR_POD_NOT_FITS_HOST_PORTS: &str =
    "node(s) didn't have free ports for the requested pod ports";
pub const ERR_NODE_LABEL_PRESENCE_VIOLATED: &str = "node(s) didn't have the requested labels";
pub const ERR_SERVICE_AFFINITY_VIOLATED: &str = "node(s) didn't match service affinity";
pub const ERR_MAX_VOLUME_COUNT_EXCEEDED: &str = "node(s) exceed max volume count";
pub const ERR_NODE_UNSCHEDULABLE: &str = "node(s) were unschedulable";

/// The volume kinds the legacy volume-count predicates count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VolumeKind {
    AwsEbs,
    GcePd,
    AzureDisk,
}

impl VolumeKind {
    fn id(self) -> &'static str {
        match self {
            VolumeKind::AwsEbs => "aws-ebs",
            VolumeKind::GcePd => "gce-pd",
            VolumeKind::AzureDisk => "azure-disk",
        }
    }

    /// The node's limit: `attachable-volumes-<kind>` in allocatable, else the default.
    pub fn limit(self, node: &NodeInfo) -> i64 {
        let key = format!("attachable-volumes-{}", self.id());
        if node.allocatable.has_scalar(&key) {
            return node.allocatable.scalar(&key);
        }
        match self {
            VolumeKind::AwsEbs => 39,
            VolumeKind::GcePd | VolumeKind::AzureDisk => 16,
        }
    }

    /// (volumes already on the node, the pod's volumes not yet on it).
    pub fn counts(self, pod: &PodInfo, node: &NodeInfo) -> (i64, i64) {
        let mut existing: Vec<String> = node
            .pods
            .iter()
            .flat_map(|p| volume_ids(&p.pod().spec.volumes, self.id()))
            .collect();
        existing.sort();
        existing.dedup();
        let new = volume_ids(&pod.pod().spec.volumes, self.id())
            .into_iter()
            .filter(|v| existing.binary_search(v).is_err())
            .count();
        (existing.len() as i64, new as i64)
    }
}

/// What a legacy predicate checks.
#[derive(Clone, Debug)]
pub enum PredicateKind {
    CheckNodeUnschedulable,
    HostName,
    PodFitsHostPorts,
    MatchNodeSelector,
    PodFitsResources,
    NoDiskConflict,
    PodToleratesNodeTaints,
    CheckNodeLabelPresence { labels: Vec<String>, presence: bool },
    CheckServiceAffinity { labels: Vec<String> },
    MaxVolumeCount(VolumeKind),
}

/// A legacy predicate as a Filter plugin.
pub struct LegacyPredicate {
    name: String,
    kind: PredicateKind,
}

impl LegacyPredicate {
    pub fn new(name: String, kind: PredicateKind) -> LegacyPredicate {
        LegacyPredicate { name, kind }
    }
}

impl Plugin for LegacyPredicate {
    fn name(&self) -> &str {
        &self.name
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn events(&self) -> &'static [ClusterEvent] {
        match self.kind {
            PredicateKind::PodFitsResources
            | PredicateKind::PodFitsHostPorts
            | PredicateKind::NoDiskConflict => &[
                ClusterEvent::AssignedPodDelete,
                ClusterEvent::NodeAdd,
                ClusterEvent::NodeAllocatableChange,
            ],
            PredicateKind::CheckServiceAffinity { .. } => &[
                ClusterEvent::AssignedPodAdd,
                ClusterEvent::AssignedPodDelete,
                ClusterEvent::NodeAdd,
                ClusterEvent::NodeLabelChange,
                ClusterEvent::ServiceChange,
            ],
            _ => NODE_ANY,
        }
    }
}

/// The old `PodFitsResources`: no request guard, "Insufficient pods" for the count.
pub fn pod_fits_resources(
    pod: &PodInfo,
    node: &NodeInfo,
) -> Vec<(Cow<'static, str>, InsufficientResource)> {
    let mut out = Vec::new();
    let alloc = &node.allocatable;
    let used = &node.requested;
    let pods = node.pods.len() as i64;
    if pods + 1 > alloc.allowed_pod_number {
        out.push((
            Cow::Borrowed("Insufficient pods"),
            InsufficientResource {
                resource_name: "pods".into(),
                requested: 1,
                used: pods,
                capacity: alloc.allowed_pod_number,
            },
        ));
    }
    let req = &pod.fit_request;
    if req.is_zero_request() {
        return out;
    }
    for (name, want, have, u) in [
        ("cpu", req.milli_cpu, alloc.milli_cpu, used.milli_cpu),
        ("memory", req.memory, alloc.memory, used.memory),
        (
            "ephemeral-storage",
            req.ephemeral_storage,
            alloc.ephemeral_storage,
            used.ephemeral_storage,
        ),
    ] {
        if have < want.saturating_add(u) {
            out.push((
                Cow::Owned(format!("Insufficient {name}")),
                InsufficientResource {
                    resource_name: name.into(),
                    requested: want,
                    used: u,
                    capacity: have,
                },
            ));
        }
    }
    for (name, want) in &req.scalar {
        let have = alloc.scalar(name);
        let u = used.scalar(name);
        if have < want.saturating_add(u) {
            out.push((
                Cow::Owned(format!("Insufficient {name}")),
                InsufficientResource {
                    resource_name: name.to_string(),
                    requested: *want,
                    used: u,
                    capacity: have,
                },
            ));
        }
    }
    out
}

/// `CheckServiceAffinity`: the pod's node must share the affinity labels with the
/// nodes of the pods of its services (first such pod decides the missing labels).
fn service_affinity(labels: &[String], pod: &PodInfo, node: &NodeInfo, snap: &Snapshot) -> bool {
    let p = pod.pod();
    let mut affinity: VecMap<String, String> = labels
        .iter()
        .filter_map(|l| p.spec.node_selector.get(l).map(|v| (l.clone(), v.clone())))
        .collect();
    if labels.len() > affinity.len() {
        let ns = &p.metadata.namespace;
        let has_service = snap
            .listers
            .services
            .range((ns.clone(), String::new())..)
            .take_while(|((sns, _), _)| sns == ns)
            .any(|(_, sel)| {
                !sel.is_empty()
                    && crate::api::labels::Selector::from_set(sel).matches(&p.metadata.labels)
            });
        if has_service {
            let own = crate::api::labels::Selector::from_set(&p.metadata.labels);
            let first = snap.list().find_map(|n| {
                n.pods
                    .iter()
                    .find(|o| {
                        o.namespace() == ns
                            && o.key != pod.key
                            && own.matches(&o.pod().metadata.labels)
                    })
                    .map(|_| n)
            });
            if let Some(n) = first {
                for l in labels {
                    if !affinity.contains_key(l) {
                        if let Some(v) = n.labels().get(l) {
                            affinity.insert(l.clone(), v.clone());
                        }
                    }
                }
            }
        }
    }
    crate::api::labels::Selector::from_set(&affinity).matches(node.labels())
}

impl FilterPlugin for LegacyPredicate {
    fn filter(
        &self,
        _: PluginCtx,
        _: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
    ) -> Status {
        let fail = |code: Code, reason: &'static str| Status::new(code, reason);
        let n = node.node();
        match &self.kind {
            PredicateKind::CheckNodeUnschedulable => {
                if n.spec.unschedulable {
                    return fail(Code::UnschedulableAndUnresolvable, ERR_NODE_UNSCHEDULABLE);
                }
            }
            PredicateKind::HostName => {
                if !nodename::fits(pod, node) {
                    return fail(
                        Code::UnschedulableAndUnresolvable,
                        ERR_POD_NOT_MATCH_HOST_NAME,
                    );
                }
            }
            PredicateKind::PodFitsHostPorts => {
                if !nodeports::fits(&pod.host_ports, node) {
                    return fail(Code::Unschedulable, ERR_POD_NOT_FITS_HOST_PORTS);
                }
            }
            PredicateKind::MatchNodeSelector => {
                if !RequiredNodeAffinity::of(pod).matches(n) {
                    return fail(
                        Code::UnschedulableAndUnresolvable,
                        ERR_NODE_SELECTOR_NOT_MATCH,
                    );
                }
            }
            PredicateKind::PodFitsResources => {
                let list = pod_fits_resources(pod, node);
                if !list.is_empty() {
                    return insufficient_status(list);
                }
            }
            PredicateKind::NoDiskConflict => {
                if !volumerestrictions::no_disk_conflict(pod, node) {
                    return fail(Code::Unschedulable, ERR_DISK_CONFLICT);
                }
            }
            PredicateKind::PodToleratesNodeTaints => {
                if untolerated_do_not_schedule(&n.spec.taints, &pod.pod().spec.tolerations)
                    .is_some()
                {
                    return fail(
                        Code::UnschedulableAndUnresolvable,
                        ERR_TAINTS_TOLERATIONS_NOT_MATCH,
                    );
                }
            }
            PredicateKind::CheckNodeLabelPresence { labels, presence } => {
                for l in labels {
                    let exists = n.metadata.labels.contains_key(l);
                    if exists != *presence {
                        return fail(
                            Code::UnschedulableAndUnresolvable,
                            ERR_NODE_LABEL_PRESENCE_VIOLATED,
                        );
                    }
                }
            }
            PredicateKind::CheckServiceAffinity { labels } => {
                if !service_affinity(labels, pod, node, snap) {
                    return fail(
                        Code::UnschedulableAndUnresolvable,
                        ERR_SERVICE_AFFINITY_VIOLATED,
                    );
                }
            }
            PredicateKind::MaxVolumeCount(kind) => {
                let (existing, new) = kind.counts(pod, node);
                if new > 0 && existing + new > kind.limit(node) {
                    return fail(Code::Unschedulable, ERR_MAX_VOLUME_COUNT_EXCEEDED);
                }
            }
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::scheduler::framework::types::ResourceModel;
    use crate::scheduler::plugins::testing::{filter, pod_model, world_model};
    use serde_json::json;

    #[test]
    fn legacy_reasons() {
        let c = world_model(
            vec![
                json!({"metadata": {"name": "n", "labels": {"zone": "a"}}, "status": {"allocatable": {"cpu": "10m", "memory": "20", "pods": "1"}}}),
            ],
            vec![
                json!({"spec": {"nodeName": "n", "containers": [{"name": "c", "resources": {"requests": {"cpu": "5m", "memory": "5"}}}]}}),
            ],
            ResourceModel::Legacy,
        );
        let p = |v| pod_model(v, ResourceModel::Legacy);
        let fits = LegacyPredicate::new("PodFitsResources".into(), PredicateKind::PodFitsResources);
        let st = filter(
            &c,
            &fits,
            &p(
                json!({"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1m"}}}]}}),
            ),
            "n",
        );
        assert_eq!(st.message(), "Insufficient pods");
        let sel = LegacyPredicate::new(
            "PodSelectorMatches".into(),
            PredicateKind::MatchNodeSelector,
        );
        let st = filter(
            &c,
            &sel,
            &p(json!({"spec": {"nodeSelector": {"zone": "b"}}})),
            "n",
        );
        assert_eq!(st.message(), ERR_NODE_SELECTOR_NOT_MATCH);
        let host = LegacyPredicate::new("PodFitsHost".into(), PredicateKind::HostName);
        assert_eq!(
            filter(&c, &host, &p(json!({"spec": {"nodeName": "m"}})), "n").message(),
            ERR_POD_NOT_MATCH_HOST_NAME
        );
        let presence = LegacyPredicate::new(
            "zone".into(),
            PredicateKind::CheckNodeLabelPresence {
                labels: vec!["zone".into()],
                presence: false,
            },
        );
        assert_eq!(
            filter(&c, &presence, &p(json!({"spec": {}})), "n").message(),
            ERR_NODE_LABEL_PRESENCE_VIOLATED
        );
    }
}
