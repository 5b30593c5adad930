use crate::api::labels::Selector;
use crate::scheduler::cache::Snapshot;
use crate::scheduler::config::InterPodAffinityArgs;
use crate::scheduler::framework::types::AffinityTerm;
use crate::scheduler::framework::{
    ClusterEvent, FilterPlugin, Plugin, PreFilterPlugin, PreScorePlugin, ScorePlugin,
};

pub const NAME: &str = "InterPodAffinity";

/// PreFilter, Filter, PreScore, Score: required pod (anti-)affinity of the incoming pod
/// and of the pods already placed filter nodes by topology domain; preferred terms
/// (and existing pods' required affinity, weighted by `hardPodAffinityWeight`) score.
pub struct InterPodAffinity {
    pub(super) args: InterPodAffinityArgs,
}

impl InterPodAffinity {
    pub fn new(args: &InterPodAffinityArgs) -> InterPodAffinity {
        InterPodAffinity { args: args.clone() }
    }
}

/// `mergeAffinityTermNamespacesIfNotEmpty`: the namespaces a term's namespace selector
/// picks are added to its namespace list (an empty selector keeps meaning "all").
pub(super) fn merge_namespaces(term: &mut AffinityTerm, snap: &Snapshot) {
    if term.namespace_selector.is_empty() {
        return;
    }
    for (name, labels) in &snap.listers.namespaces {
        if term.namespace_selector.matches(labels) && !term.namespaces.contains(name) {
            term.namespaces.push(name.clone());
        }
    }
    term.namespace_selector = Selector::nothing();
}

impl Plugin for InterPodAffinity {
    fn name(&self) -> &str {
        NAME
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
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
            ClusterEvent::AssignedPodAdd,
            ClusterEvent::AssignedPodUpdate,
            ClusterEvent::AssignedPodDelete,
            ClusterEvent::NodeAdd,
            ClusterEvent::NodeLabelChange,
            ClusterEvent::NamespaceChange,
        ]
    }
}
