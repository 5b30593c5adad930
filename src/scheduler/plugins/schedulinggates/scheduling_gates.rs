use crate::scheduler::framework::{ClusterEvent, Code, Plugin, PodInfo, PreEnqueuePlugin, Status};

pub const NAME: &str = "SchedulingGates";

/// PreEnqueue: a pod with `spec.schedulingGates` waits in the unschedulable pool until
/// every gate is removed.
pub struct SchedulingGates;

impl Plugin for SchedulingGates {
    fn name(&self) -> &str {
        NAME
    }
    fn as_pre_enqueue(&self) -> Option<&dyn PreEnqueuePlugin> {
        Some(self)
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[ClusterEvent::PodUpdate]
    }
}

impl PreEnqueuePlugin for SchedulingGates {
    fn pre_enqueue(&self, pod: &PodInfo) -> Status {
        let gates = &pod.pod().spec.scheduling_gates;
        if gates.is_empty() {
            return Status::success();
        }
        let names: Vec<&str> = gates
            .iter()
            .filter_map(|g| g.get("name").and_then(|n| n.as_str()))
            .collect();
        Status::new(
            Code::UnschedulableAndUnresolvable,
            format!("waiting for scheduling gates: [{}]", names.join(" ")),
        )
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::scheduler::plugins::testing::pod;
    use serde_json::json;

    #[test]
    fn gated_pods_wait() {
        let cases = [
            (json!({"spec": {}}), Code::Success, ""),
            (
                json!({"spec": {"schedulingGates": [{"name": "foo"}, {"name": "bar"}]}}),
                Code::UnschedulableAndUnresolvable,
                "waiting for scheduling gates: [foo bar]",
            ),
        ];
        for (p, code, msg) in cases {
            let st = SchedulingGates.pre_enqueue(&pod(p));
            assert_eq!(st.code, code);
            assert_eq!(st.message(), msg);
        }
    }
}
