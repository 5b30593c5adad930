//! The in-tree plugins, one module per plugin named as upstream
//! (`pkg/scheduler/framework/plugins/*`), and the legacy Policy's predicates and
//! priorities. Each module has its name and failure reasons as constants and table
//! tests beside it.

pub mod defaultbinder;
pub mod defaultpreemption;
pub mod imagelocality;
pub mod interpodaffinity;
pub mod legacy;
pub mod nodeaffinity;
pub mod nodename;
pub mod nodeports;
pub mod noderesources;
pub mod nodeunschedulable;
pub mod nodevolumelimits;
pub mod podtopologyspread;
pub mod queuesort;
pub mod schedulinggates;
pub mod tainttoleration;
pub mod volumebinding;
pub mod volumerestrictions;
pub mod volumezone;

#[cfg(test)]
pub mod testing;

use super::config::{Config, PluginArgs};
use super::framework::Plugin;

/// The v1.31 in-tree plugin names kubeglass implements.
pub const IN_TREE: &[&str] = &[
    schedulinggates::NAME,
    queuesort::NAME,
    nodeunschedulable::NAME,
    nodename::NAME,
    tainttoleration::NAME,
    nodeaffinity::NAME,
    nodeports::NAME,
    noderesources::FIT_NAME,
    volumerestrictions::NAME,
    nodevolumelimits::NAME,
    volumebinding::NAME,
    volumezone::NAME,
    podtopologyspread::NAME,
    interpodaffinity::NAME,
    defaultpreemption::NAME,
    noderesources::BALANCED_ALLOCATION_NAME,
    imagelocality::NAME,
    defaultbinder::NAME,
];

/// Instantiates an in-tree plugin by name with its args (`Ok(None)`: no such plugin;
/// the framework then reports it as upstream does).
pub fn new_plugin(
    name: &str,
    args: &PluginArgs,
    config: &Config,
    scheduler_name: &str,
) -> Result<Option<Box<dyn Plugin>>, String> {
    let _ = config;
    Ok(Some(match name {
        schedulinggates::NAME => Box::new(schedulinggates::SchedulingGates),
        queuesort::NAME => Box::new(queuesort::PrioritySort),
        nodeunschedulable::NAME => Box::new(nodeunschedulable::NodeUnschedulable),
        nodename::NAME => Box::new(nodename::NodeName),
        tainttoleration::NAME => Box::new(tainttoleration::TaintToleration),
        nodeaffinity::NAME => Box::new(nodeaffinity::NodeAffinity::new(
            args.node_affinity.as_ref(),
        )?),
        nodeports::NAME => Box::new(nodeports::NodePorts),
        noderesources::FIT_NAME => Box::new(noderesources::Fit::new(&args.fit)?),
        volumerestrictions::NAME => Box::new(volumerestrictions::VolumeRestrictions),
        nodevolumelimits::NAME => Box::new(nodevolumelimits::NodeVolumeLimits),
        volumebinding::NAME => Box::new(volumebinding::VolumeBinding),
        volumezone::NAME => Box::new(volumezone::VolumeZone),
        podtopologyspread::NAME => Box::new(podtopologyspread::PodTopologySpread::new(
            &args.topology_spread,
        )),
        interpodaffinity::NAME => Box::new(interpodaffinity::InterPodAffinity::new(
            &args.inter_pod_affinity,
        )),
        defaultpreemption::NAME => Box::new(defaultpreemption::DefaultPreemption::new(
            &args.preemption,
            scheduler_name,
        )),
        noderesources::BALANCED_ALLOCATION_NAME => {
            Box::new(noderesources::BalancedAllocation::new(&args.balanced)?)
        }
        imagelocality::NAME => Box::new(imagelocality::ImageLocality),
        defaultbinder::NAME => Box::new(defaultbinder::DefaultBinder),
        _ => return Ok(None),
    }))
}

/// A plugin that takes no args (for the legacy framework's queue sort and binder).
pub fn new_builtin(name: &str) -> Box<dyn Plugin> {
    match name {
        queuesort::NAME => Box::new(queuesort::PrioritySort),
        _ => Box::new(defaultbinder::DefaultBinder),
    }
}
