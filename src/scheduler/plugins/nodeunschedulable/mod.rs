//! The nodeunschedulable plugin (upstream `plugins/nodeunschedulable/node_unschedulable.go`).

mod node_unschedulable;

pub use node_unschedulable::*;
