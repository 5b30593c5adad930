//! The volumebinding plugin (upstream `plugins/volumebinding/volume_binding.go`).

mod volume_binding;

pub use volume_binding::*;
