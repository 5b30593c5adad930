use crate::scheduler::cache::Snapshot;
use crate::scheduler::framework::{
    ClusterEvent, CycleState, FilterPlugin, NodeInfo, Plugin, PluginCtx, PodInfo, PreFilterPlugin,
    PreFilterResult, Status,
};

pub const NAME: &str = "NodeVolumeLimits";

/// PreFilter, Filter (CSI volume limits). Limits come from CSINode objects, which the
/// simulation does not have: upstream's Filter then finds no limit and passes. The
/// plugin still skips pods without claims or migratable in-tree volumes, as upstream.
pub struct NodeVolumeLimits;

impl Plugin for NodeVolumeLimits {
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
        &[ClusterEvent::AssignedPodDelete, ClusterEvent::NodeAdd]
    }
}

impl PreFilterPlugin for NodeVolumeLimits {
    fn pre_filter(
        &self,
        _: PluginCtx,
        _: &mut CycleState,
        pod: &PodInfo,
        _: &Snapshot,
    ) -> (PreFilterResult, Status) {
        let relevant = pod.pod().spec.volumes.iter().any(|v| {
            v.persistent_volume_claim.is_some()
                || v.ephemeral.is_some()
                || v.gce_persistent_disk.is_some()
                || v.aws_elastic_block_store.is_some()
                || v.azure_disk.is_some()
                || v.cinder.is_some()
                || v.vsphere_volume.is_some()
                || v.portworx_volume.is_some()
        });
        if relevant {
            (PreFilterResult::default(), Status::success())
        } else {
            (PreFilterResult::default(), Status::skip())
        }
    }
}

impl FilterPlugin for NodeVolumeLimits {
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
