//! The volumerestrictions plugin (upstream `plugins/volumerestrictions/volume_restrictions.go`).

mod volume_restrictions;

pub use volume_restrictions::*;
