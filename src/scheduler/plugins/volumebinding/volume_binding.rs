use crate::scheduler::cache::Snapshot;
use crate::scheduler::framework::{
    ClusterEvent, Code, CycleState, FilterPlugin, NodeInfo, Plugin, PluginCtx, PodInfo,
    PreFilterPlugin, PreFilterResult, PreScorePlugin, ReservePlugin, ScorePlugin, Status,
};

pub const NAME: &str = "VolumeBinding";

/// PreFilter, Filter, Reserve, PreBind, PreScore, Score (PersistentVolumeClaim binding).
/// The simulation has no PersistentVolumeClaims, so a pod that uses one waits, as
/// upstream's does while its claim is missing; other pods skip the plugin. Storage
/// capacity scoring is off (VolumeCapacityPriority is alpha), so PreScore skips.
pub struct VolumeBinding;

impl Plugin for VolumeBinding {
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
    fn as_reserve(&self) -> Option<&dyn ReservePlugin> {
        Some(self)
    }
    fn is_pre_bind(&self) -> bool {
        true
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[ClusterEvent::NodeAdd, ClusterEvent::NodeLabelChange]
    }
}

impl PreFilterPlugin for VolumeBinding {
    fn pre_filter(
        &self,
        _: PluginCtx,
        _: &mut CycleState,
        pod: &PodInfo,
        _: &Snapshot,
    ) -> (PreFilterResult, Status) {
        for v in &pod.pod().spec.volumes {
            if let Some(pvc) = &v.persistent_volume_claim {
                let name = pvc.get("claimName").and_then(|n| n.as_str()).unwrap_or("");
                return (
                    PreFilterResult::default(),
                    Status::new(
                        Code::UnschedulableAndUnresolvable,
                        format!("persistentvolumeclaim \"{name}\" not found"),
                    ),
                );
            }
            if v.ephemeral.is_some() {
                let name = format!("{}-{}", pod.name(), v.name);
                return (
                    PreFilterResult::default(),
                    Status::new(
                        Code::UnschedulableAndUnresolvable,
                        format!("waiting for ephemeral volume controller to create the persistentvolumeclaim \"{name}\""),
                    ),
                );
            }
        }
        (PreFilterResult::default(), Status::skip())
    }
}

impl FilterPlugin for VolumeBinding {
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

impl PreScorePlugin for VolumeBinding {
    fn pre_score(
        &self,
        _: PluginCtx,
        _: &mut CycleState,
        _: &PodInfo,
        _: &[&NodeInfo],
        _: &Snapshot,
    ) -> Status {
        Status::skip()
    }
}

impl ScorePlugin for VolumeBinding {
    fn score(
        &self,
        _: PluginCtx,
        _: &CycleState,
        _: &PodInfo,
        _: &NodeInfo,
        _: &Snapshot,
    ) -> Result<i64, Status> {
        Ok(0)
    }
}

impl ReservePlugin for VolumeBinding {
    fn reserve(&self, _: &PodInfo, _: &str) -> Status {
        Status::success()
    }
    fn unreserve(&self, _: &PodInfo, _: &str) {}
}
