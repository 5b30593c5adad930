use crate::scheduler::framework::Plugin;

pub const NAME: &str = "PrioritySort";

/// QueueSort: higher `spec.priority` first, then the pod that entered the queue first.
/// The scheduling queue implements the ordering itself (see `queue.rs`); this plugin
/// stands for it in profiles, where exactly one queue sort plugin is required.
pub struct PrioritySort;

impl Plugin for PrioritySort {
    fn name(&self) -> &str {
        NAME
    }
    fn is_queue_sort(&self) -> bool {
        true
    }
}
