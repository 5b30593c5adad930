//! The defaultpreemption plugin (upstream `plugins/defaultpreemption/default_preemption.go`).

mod default_preemption;

pub use default_preemption::*;
