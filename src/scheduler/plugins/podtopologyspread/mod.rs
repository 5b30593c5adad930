//! The PodTopologySpread plugin (upstream `plugins/podtopologyspread`: `plugin.go`,
//! `common.go`, `filtering.go`, `scoring.go`).

mod common;
mod filtering;
mod plugin;
mod scoring;

pub use filtering::{ERR_REASON_CONSTRAINTS_NOT_MATCH, ERR_REASON_NODE_LABEL_NOT_MATCH};
pub use plugin::{PodTopologySpread, NAME};
