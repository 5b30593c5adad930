//! The legacy Policy's scheduler (the seed's era, before the framework): predicates
//! (`pkg/scheduler/algorithm/predicates`) and priority functions
//! (`pkg/scheduler/algorithm/priorities`) on the 0–10 scale, as framework plugins so
//! the same cycle and decision record serve both modes. Names are the Policy's,
//! including the seed's spellings (PodFitsPorts, PodFitsHost, PodSelectorMatches).
//!
//! Predicates run in the legacy scheduler's fixed order (not the Policy's), and a node
//! stops at its first failing predicate unless `alwaysCheckAllPredicates` is set.

pub mod predicates;
pub mod priorities;

use crate::scheduler::config::{Config, Policy, Predicate, PredicateArgument, Priority};
use crate::scheduler::framework::Plugin;

use predicates::{LegacyPredicate, PredicateKind, VolumeKind};
use priorities::{LegacyPriority, PriorityKind};

/// The predicates and priorities of a Policy, instantiated.
pub struct Built {
    pub predicates: Vec<Box<dyn Plugin>>,
    pub priorities: Vec<(Box<dyn Plugin>, i64)>,
}

/// The seed's default predicates (used when the Policy lists none).
const DEFAULT_PREDICATES: &[&str] = &[
    "CheckNodeUnschedulable",
    "PodFitsHostPorts",
    "PodFitsResources",
    "NoDiskConflict",
    "MatchNodeSelector",
    "HostName",
];

/// The seed's default priorities.
const DEFAULT_PRIORITIES: &[(&str, i64)] = &[
    ("LeastRequestedPriority", 1),
    ("BalancedResourceAllocation", 1),
];

/// The legacy scheduler's `predicatesOrdering` position of a predicate.
fn order(kind: &PredicateKind) -> usize {
    match kind {
        PredicateKind::CheckNodeUnschedulable => 1,
        PredicateKind::HostName => 3,
        PredicateKind::PodFitsHostPorts => 4,
        PredicateKind::MatchNodeSelector => 5,
        PredicateKind::PodFitsResources => 6,
        PredicateKind::NoDiskConflict => 7,
        PredicateKind::PodToleratesNodeTaints => 8,
        PredicateKind::CheckNodeLabelPresence { .. } => 10,
        PredicateKind::CheckServiceAffinity { .. } => 11,
        PredicateKind::MaxVolumeCount(VolumeKind::AwsEbs) => 12,
        PredicateKind::MaxVolumeCount(VolumeKind::GcePd) => 13,
        PredicateKind::MaxVolumeCount(VolumeKind::AzureDisk) => 15,
    }
}

fn predicate_kind(p: &Predicate) -> PredicateKind {
    match &p.argument {
        Some(PredicateArgument::LabelsPresence { labels, presence }) => {
            PredicateKind::CheckNodeLabelPresence {
                labels: labels.clone(),
                presence: *presence,
            }
        }
        Some(PredicateArgument::ServiceAffinity { labels }) => {
            PredicateKind::CheckServiceAffinity {
                labels: labels.clone(),
            }
        }
        None => match p.name.as_str() {
            "CheckNodeUnschedulable" => PredicateKind::CheckNodeUnschedulable,
            "HostName" | "PodFitsHost" => PredicateKind::HostName,
            "PodFitsHostPorts" | "PodFitsPorts" => PredicateKind::PodFitsHostPorts,
            "MatchNodeSelector" | "PodSelectorMatches" | "PodMatchNodeSelector" => {
                PredicateKind::MatchNodeSelector
            }
            "PodFitsResources" => PredicateKind::PodFitsResources,
            "NoDiskConflict" => PredicateKind::NoDiskConflict,
            "PodToleratesNodeTaints" => PredicateKind::PodToleratesNodeTaints,
            "MaxEBSVolumeCount" => PredicateKind::MaxVolumeCount(VolumeKind::AwsEbs),
            "MaxGCEPDVolumeCount" => PredicateKind::MaxVolumeCount(VolumeKind::GcePd),
            _ => PredicateKind::MaxVolumeCount(VolumeKind::AzureDisk),
        },
    }
}

/// Builds the plugins of a Policy.
pub fn build(policy: &Policy, config: &Config) -> Result<Built, String> {
    let predicates: Vec<Predicate> = match &policy.predicates {
        Some(p) => p.clone(),
        None => DEFAULT_PREDICATES
            .iter()
            .map(|n| Predicate {
                name: n.to_string(),
                argument: None,
            })
            .collect(),
    };
    let priorities: Vec<Priority> = match &policy.priorities {
        Some(p) => p.clone(),
        None => DEFAULT_PRIORITIES
            .iter()
            .map(|(n, w)| Priority {
                name: n.to_string(),
                weight: *w,
                label_preference: None,
            })
            .collect(),
    };
    let mut kinds: Vec<(usize, usize, String, PredicateKind)> = predicates
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let k = predicate_kind(p);
            (order(&k), i, p.name.clone(), k)
        })
        .collect();
    kinds.sort_by_key(|(o, i, _, _)| (*o, *i));
    // The last volume-count predicate tells the balanced priority what to count.
    let volume_kind = kinds.iter().rev().find_map(|(_, _, _, k)| match k {
        PredicateKind::MaxVolumeCount(v) => Some(*v),
        _ => None,
    });
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Built {
        predicates: Vec::new(),
        priorities: Vec::new(),
    };
    for (_, _, name, kind) in kinds {
        if !seen.insert(name.clone()) {
            continue;
        }
        out.predicates
            .push(Box::new(LegacyPredicate::new(name, kind)));
    }
    let balance_volumes = config.gate("BalanceAttachedNodeVolumes");
    for p in priorities {
        let kind = match (&p.label_preference, p.name.as_str()) {
            (Some((label, presence)), _) => PriorityKind::NodeLabel {
                label: label.clone(),
                presence: *presence,
            },
            (None, "LeastRequestedPriority") => PriorityKind::LeastRequested,
            (None, "MostRequestedPriority") => PriorityKind::MostRequested,
            (None, "BalancedResourceAllocation") => PriorityKind::BalancedResourceAllocation {
                volumes: volume_kind.filter(|_| balance_volumes),
            },
            (None, "NodeAffinityPriority") => PriorityKind::NodeAffinity,
            (None, "TaintTolerationPriority") => PriorityKind::TaintToleration,
            _ => PriorityKind::Equal,
        };
        if !seen.insert(p.name.clone()) {
            return Err(format!("priority {} is listed twice", p.name));
        }
        out.priorities
            .push((Box::new(LegacyPriority::new(p.name, kind)), p.weight));
    }
    Ok(out)
}
