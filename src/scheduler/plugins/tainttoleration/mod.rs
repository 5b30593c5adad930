//! The tainttoleration plugin (upstream `plugins/tainttoleration/taint_toleration.go`).

mod taint_toleration;

pub use taint_toleration::*;
