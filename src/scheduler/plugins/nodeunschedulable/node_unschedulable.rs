use crate::api::core::Taint;
use crate::scheduler::cache::Snapshot;
use crate::scheduler::framework::{
    ClusterEvent, Code, CycleState, FilterPlugin, NodeInfo, Plugin, PluginCtx, PodInfo, Status,
};
use crate::scheduler::plugins::tainttoleration::tolerations_tolerate_taint;

pub const NAME: &str = "NodeUnschedulable";
/// `ErrReasonUnschedulable`.
pub const ERR_REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";
/// `v1.TaintNodeUnschedulable`.
pub const TAINT_NODE_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// Filter: a node with `spec.unschedulable` (cordoned) takes only pods that tolerate
/// the `node.kubernetes.io/unschedulable:NoSchedule` taint.
pub struct NodeUnschedulable;

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &str {
        NAME
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[
            ClusterEvent::NodeAdd,
            ClusterEvent::NodeTaintChange,
            ClusterEvent::PodUpdate,
        ]
    }
}

impl FilterPlugin for NodeUnschedulable {
    fn filter(
        &self,
        _: PluginCtx,
        _: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) -> Status {
        if !node.unschedulable {
            return Status::success();
        }
        let taint = Taint {
            key: TAINT_NODE_UNSCHEDULABLE.into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        };
        if tolerations_tolerate_taint(&pod.pod().spec.tolerations, &taint) {
            return Status::success();
        }
        Status::new(Code::UnschedulableAndUnresolvable, ERR_REASON_UNSCHEDULABLE)
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
    fn cordoned_nodes_take_only_tolerating_pods() {
        let cases = [
            (json!({}), json!({"spec": {}}), true),
            (json!({}), json!({"spec": {"unschedulable": true}}), false),
            (
                json!({"tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]}),
                json!({"spec": {"unschedulable": true}}),
                true,
            ),
        ];
        for (spec, mut n, fits) in cases {
            n["metadata"] = json!({"name": "n"});
            let c = world(vec![n], vec![]);
            let st = filter(&c, &NodeUnschedulable, &pod(json!({ "spec": spec })), "n");
            assert_eq!(st.is_success(), fits);
            if !fits {
                assert_eq!(st.code, Code::UnschedulableAndUnresolvable);
                assert_eq!(st.message(), ERR_REASON_UNSCHEDULABLE);
            }
        }
    }
}
