//! The nodeports plugin (upstream `plugins/nodeports/node_ports.go`).

mod node_ports;

pub use node_ports::*;
