use crate::scheduler::cache::Snapshot;
use crate::scheduler::framework::types::HostPort;
use crate::scheduler::framework::{
    ClusterEvent, Code, CycleState, FilterPlugin, NodeInfo, Plugin, PluginCtx, PodInfo,
    PreFilterPlugin, PreFilterResult, Status,
};

pub const NAME: &str = "NodePorts";
/// `ErrReason`.
pub const ERR_REASON: &str = "node(s) didn't have free ports for the requested pod ports";

/// PreFilter, Filter: the host ports a pod's containers ask for must be free on the
/// node (same protocol and port, and the same host IP or either being 0.0.0.0).
pub struct NodePorts;

impl Plugin for NodePorts {
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
        &[
            ClusterEvent::AssignedPodDelete,
            ClusterEvent::NodeAdd,
            ClusterEvent::NodeOtherChange,
        ]
    }
}

/// `nodeports.Fits`: no wanted port conflicts with a used one.
pub fn fits(wanted: &[HostPort], node: &NodeInfo) -> bool {
    wanted.iter().all(|w| !node.used_ports.check_conflict(w))
}

impl PreFilterPlugin for NodePorts {
    fn pre_filter(
        &self,
        _: PluginCtx,
        _: &mut CycleState,
        pod: &PodInfo,
        _: &Snapshot,
    ) -> (PreFilterResult, Status) {
        if pod.host_ports.is_empty() {
            return (PreFilterResult::default(), Status::skip());
        }
        (PreFilterResult::default(), Status::success())
    }
}

impl FilterPlugin for NodePorts {
    fn filter(
        &self,
        _: PluginCtx,
        _: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) -> Status {
        if fits(&pod.host_ports, node) {
            Status::success()
        } else {
            Status::new(Code::Unschedulable, ERR_REASON)
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::scheduler::plugins::testing::{filter, pod, world};
    use serde_json::{json, Value};

    fn ports(list: &[(&str, i32, &str)]) -> Value {
        let ps: Vec<Value> = list
            .iter()
            .map(|(proto, port, ip)| json!({"containerPort": port, "hostPort": port, "protocol": proto, "hostIP": ip}))
            .collect();
        json!({"spec": {"nodeName": "m1", "containers": [{"name": "c", "ports": ps}]}})
    }

    #[test]
    fn table() {
        // Upstream's TestNodePorts cases.
        let cases = [
            (vec![], vec![], true),
            (
                vec![("UDP", 8080, "127.0.0.1")],
                vec![("UDP", 9090, "127.0.0.1")],
                true,
            ),
            (
                vec![("UDP", 8080, "127.0.0.1")],
                vec![("UDP", 8080, "127.0.0.1")],
                false,
            ),
            (
                vec![("TCP", 8080, "127.0.0.1")],
                vec![("TCP", 8080, "127.0.0.1")],
                false,
            ),
            (
                vec![("TCP", 8080, "127.0.0.1")],
                vec![("UDP", 8080, "127.0.0.1")],
                true,
            ),
            (
                vec![("TCP", 8001, "10.0.10.10"), ("TCP", 8001, "0.0.0.0")],
                vec![("TCP", 8001, "127.0.0.1")],
                false,
            ),
            (
                vec![("TCP", 8001, "127.0.0.1")],
                vec![("TCP", 8001, "0.0.0.0")],
                false,
            ),
            (
                vec![("UDP", 8001, "127.0.0.1")],
                vec![("TCP", 8001, "0.0.0.0")],
                true,
            ),
            (
                vec![("TCP", 8001, "10.0.10.10")],
                vec![("TCP", 8001, "10.0.10.11")],
                true,
            ),
        ];
        for (i, (want, used, fits)) in cases.into_iter().enumerate() {
            let c = world(
                vec![json!({"metadata": {"name": "m1"}})],
                vec![ports(&used)],
            );
            let st = filter(&c, &NodePorts, &pod(ports(&want)), "m1");
            assert_eq!(st.is_success(), fits, "case {i}");
            if !fits {
                assert_eq!(st.code, Code::Unschedulable);
                assert_eq!(st.message(), ERR_REASON);
            }
        }
    }
}
