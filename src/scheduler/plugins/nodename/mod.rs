//! The nodename plugin (upstream `plugins/nodename/node_name.go`).

mod node_name;

pub use node_name::*;
