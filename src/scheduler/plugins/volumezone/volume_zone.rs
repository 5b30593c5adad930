use crate::scheduler::cache::Snapshot;
use crate::scheduler::framework::{
    ClusterEvent, CycleState, FilterPlugin, NodeInfo, Plugin, PluginCtx, PodInfo, PreFilterPlugin,
    PreFilterResult, Status,
};

pub const NAME: &str = "VolumeZone";

/// PreFilter, Filter: the zones of a pod's bound PersistentVolumes must match the node.
/// Without PersistentVolumeClaims in the simulation every pod skips it (a pod that
/// uses a claim is stopped by VolumeBinding first).
pub struct VolumeZone;

impl Plugin for VolumeZone {
    fn name(&self) -> &str {
        NAME
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[ClusterEvent::NodeAdd, ClusterEvent::NodeLabelChange]
    }
}

impl PreFilterPlugin for VolumeZone {
    fn pre_filter(
        &self,
        _: PluginCtx,
        _: &mut CycleState,
        pod: &PodInfo,
        _: &Snapshot,
    ) -> (PreFilterResult, Status) {
        if pod
            .pod()
            .spec
            .volumes
            .iter()
            .any(|v| v.persistent_volume_claim.is_some())
        {
            (PreFilterResult::default(), Status::success())
        } else {
            (PreFilterResult::default(), Status::skip())
        }
    }
}

impl FilterPlugin for VolumeZone {
    fn filter(
        &self,
        _: PluginCtx,
        _: &CycleState,
        _: &PodInfo,
        _: &NodeInfo,
        _: &Snapshot,
    ) -> Status {
        Status::success()
    }
}
