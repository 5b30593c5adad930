//! The volumezone plugin (upstream `plugins/volumezone/volume_zone.go`).

mod volume_zone;

pub use volume_zone::*;
