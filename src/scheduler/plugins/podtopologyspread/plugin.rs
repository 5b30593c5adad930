use crate::api::core::TopologySpreadConstraint;
use crate::api::labels::Selector;
use crate::scheduler::config::PodTopologySpreadArgs;
use crate::scheduler::framework::{
    ClusterEvent, FilterPlugin, Plugin, PreFilterPlugin, PreScorePlugin, ScorePlugin,
};

pub const NAME: &str = "PodTopologySpread";

/// PreFilter, Filter, PreScore, Score: `topologySpreadConstraints` (and, for pods that
/// belong to a Service or controller, the default constraints) keep matching pods
/// spread over topology domains: DoNotSchedule ones filter by skew, ScheduleAnyway
/// ones score.
pub struct PodTopologySpread {
    pub(super) default_constraints: Vec<TopologySpreadConstraint>,
    pub(super) system_defaulted: bool,
    /// Ids of the (selector, namespace) pairs counted, for the nodes' memos.
    pub(super) memo_ids: std::cell::RefCell<Vec<(Selector, String, u64)>>,
    /// Scoring's per-domain sums over every node, kept between cycles.
    pub(super) domain_sums: std::cell::RefCell<Vec<super::common::DomainSums>>,
}

/// `systemDefaultConstraints`: hostname (maxSkew 3) and zone (maxSkew 5), ScheduleAnyway.
fn system_default_constraints() -> Vec<TopologySpreadConstraint> {
    vec![
        TopologySpreadConstraint {
            max_skew: 3,
            topology_key: "kubernetes.io/hostname".into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            ..Default::default()
        },
        TopologySpreadConstraint {
            max_skew: 5,
            topology_key: "topology.kubernetes.io/zone".into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            ..Default::default()
        },
    ]
}

impl PodTopologySpread {
    pub fn new(args: &PodTopologySpreadArgs) -> PodTopologySpread {
        let system = args.defaulting_type == "System";
        PodTopologySpread {
            default_constraints: if system {
                system_default_constraints()
            } else {
                args.default_constraints.clone()
            },
            system_defaulted: system,
            memo_ids: Default::default(),
            domain_sums: Default::default(),
        }
    }
}

impl Plugin for PodTopologySpread {
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
            ClusterEvent::NodeDelete,
            ClusterEvent::NodeLabelChange,
            ClusterEvent::NodeTaintChange,
        ]
    }
}
