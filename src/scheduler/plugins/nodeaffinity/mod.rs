//! The nodeaffinity plugin (upstream `plugins/nodeaffinity/node_affinity.go`).

mod node_affinity;

pub use node_affinity::*;
