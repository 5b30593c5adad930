use crate::scheduler::cache::Snapshot;
use crate::scheduler::framework::{
    ClusterEvent, Code, CycleState, FilterPlugin, NodeInfo, Plugin, PluginCtx, PodInfo, Status,
    NODE_ANY,
};

pub const NAME: &str = "NodeName";
/// `ErrReason`.
pub const ERR_REASON: &str = "node(s) didn't match the requested node name";

/// Filter: a pod that names a node (`spec.nodeName`) fits only that node.
pub struct NodeName;

impl Plugin for NodeName {
    fn name(&self) -> &str {
        NAME
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn events(&self) -> &'static [ClusterEvent] {
        NODE_ANY
    }
}

/// `nodename.Fits`.
pub fn fits(pod: &PodInfo, node: &NodeInfo) -> bool {
    let want = &pod.pod().spec.node_name;
    want.is_empty() || *want == *node.name
}

impl FilterPlugin for NodeName {
    fn filter(
        &self,
        _: PluginCtx,
        _: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) -> Status {
        if fits(pod, node) {
            Status::success()
        } else {
            Status::new(Code::UnschedulableAndUnresolvable, ERR_REASON)
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

    #[test]
    fn table() {
        let cases = [("", true), ("foo", true), ("bar", false)];
        let c = world(vec![json!({"metadata": {"name": "foo"}})], vec![]);
        for (want, fits) in cases {
            let st = filter(
                &c,
                &NodeName,
                &pod(json!({"spec": {"nodeName": want}})),
                "foo",
            );
            assert_eq!(st.is_success(), fits, "nodeName {want:?}");
            if !fits {
                assert_eq!(st.message(), ERR_REASON);
            }
        }
    }
}
