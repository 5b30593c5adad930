//! The schedulinggates plugin (upstream `plugins/schedulinggates/scheduling_gates.go`).

mod scheduling_gates;

pub use scheduling_gates::*;
