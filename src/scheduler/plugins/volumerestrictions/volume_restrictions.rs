use serde_json::Value;

use crate::api::core::Volume;
use crate::scheduler::cache::Snapshot;
use crate::scheduler::framework::{
    ClusterEvent, Code, CycleState, FilterPlugin, NodeInfo, Plugin, PluginCtx, PodInfo,
    PreFilterPlugin, PreFilterResult, Status,
};

pub const NAME: &str = "VolumeRestrictions";
/// `ErrReasonDiskConflict`.
pub const ERR_REASON_DISK_CONFLICT: &str = "node(s) had no available disk";

/// PreFilter, Filter: a GCE PD, AWS EBS, iSCSI or RBD volume can be used by one pod
/// per node unless every user mounts it read-only (EBS: never shared).
/// ReadWriteOncePod claims need PersistentVolumeClaims, which are not simulated.
pub struct VolumeRestrictions;

impl Plugin for VolumeRestrictions {
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

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn read_only(v: &Value) -> bool {
    v.get("readOnly").and_then(Value::as_bool).unwrap_or(false)
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the volume kind is one this filter checks.
pub fn needs_check(v: &Volume) -> bool {
    v.gce_persistent_disk.is_some()
        || v.aws_elastic_block_store.is_some()
        || v.rbd.is_some()
        || v.iscsi.is_some()
}

/// `isVolumeConflict`: `volume` against the volumes of one existing pod.
pub fn is_volume_conflict(volume: &Volume, existing: &[Volume]) -> bool {
    for ev in existing {
        if let (Some(a), Some(b)) = (&volume.gce_persistent_disk, &ev.gce_persistent_disk) {
            if s(a, "pdName") == s(b, "pdName") && !(read_only(a) && read_only(b)) {
                return true;
            }
        }
        if let (Some(a), Some(b)) = (&volume.aws_elastic_block_store, &ev.aws_elastic_block_store) {
            if s(a, "volumeID") == s(b, "volumeID") {
                return true;
            }
        }
        if let (Some(a), Some(b)) = (&volume.iscsi, &ev.iscsi) {
            if s(a, "iqn") == s(b, "iqn") && !(read_only(a) && read_only(b)) {
                return true;
            }
        }
        if let (Some(a), Some(b)) = (&volume.rbd, &ev.rbd) {
            let pool = |v: &Value| match s(v, "pool") {
                "" => "rbd".to_string(),
                p => p.to_string(),
            };
            let (ma, mb) = (strings(a, "monitors"), strings(b, "monitors"));
            let overlap = ma.iter().any(|m| mb.contains(m));
            if overlap
                && pool(a) == pool(b)
                && s(a, "image") == s(b, "image")
                && !(read_only(a) && read_only(b))
            {
                return true;
            }
        }
    }
    false
}

/// `satisfyVolumeConflicts`: none of the pod's volumes conflicts with a pod on the node.
pub fn no_disk_conflict(pod: &PodInfo, node: &NodeInfo) -> bool {
    for v in pod.pod().spec.volumes.iter().filter(|v| needs_check(v)) {
        for existing in &node.pods {
            if is_volume_conflict(v, &existing.pod().spec.volumes) {
                return false;
            }
        }
    }
    true
}

impl PreFilterPlugin for VolumeRestrictions {
    fn pre_filter(
        &self,
        _: PluginCtx,
        _: &mut CycleState,
        pod: &PodInfo,
        _: &Snapshot,
    ) -> (PreFilterResult, Status) {
        if pod.pod().spec.volumes.iter().any(needs_check) {
            (PreFilterResult::default(), Status::success())
        } else {
            (PreFilterResult::default(), Status::skip())
        }
    }
}

impl FilterPlugin for VolumeRestrictions {
    fn filter(
        &self,
        _: PluginCtx,
        _: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) -> Status {
        if no_disk_conflict(pod, node) {
            Status::success()
        } else {
            Status::new(Code::Unschedulable, ERR_REASON_DISK_CONFLICT)
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::scheduler::plugins::testing::{filter, pod, world};
    use serde_json::json;

    fn vols(v: Value) -> Value {
        json!({"spec": {"nodeName": "n", "volumes": v}})
    }

    #[test]
    fn table() {
        let gce = |name: &str, ro: bool| json!([{"name": "v", "gcePersistentDisk": {"pdName": name, "readOnly": ro}}]);
        let ebs = |id: &str| json!([{"name": "v", "awsElasticBlockStore": {"volumeID": id}}]);
        let rbd = |mons: Value, image: &str| json!([{"name": "v", "rbd": {"monitors": mons, "pool": "foo", "image": image}}]);
        let iscsi = |iqn: &str| json!([{"name": "v", "iscsi": {"targetPortal": "127.0.0.1:3260", "iqn": iqn, "lun": 0}}]);
        let cases = [
            (gce("foo", false), gce("foo", false), false),
            (gce("foo", true), gce("foo", true), true),
            (gce("bar", false), gce("foo", false), true),
            (ebs("foo"), ebs("foo"), false),
            (ebs("bar"), ebs("foo"), true),
            (
                rbd(json!(["a", "b"]), "bar"),
                rbd(json!(["b", "c"]), "bar"),
                false,
            ),
            (rbd(json!(["a"]), "bar"), rbd(json!(["c"]), "bar"), true),
            (iscsi("iqn.1"), iscsi("iqn.1"), false),
            (iscsi("iqn.2"), iscsi("iqn.1"), true),
        ];
        for (i, (want, have, fits)) in cases.into_iter().enumerate() {
            let c = world(vec![json!({"metadata": {"name": "n"}})], vec![vols(have)]);
            let st = filter(&c, &VolumeRestrictions, &pod(vols(want)), "n");
            assert_eq!(st.is_success(), fits, "case {i}");
            if !fits {
                assert_eq!(st.message(), ERR_REASON_DISK_CONFLICT);
            }
        }
    }
}
