//! The InterPodAffinity plugin (upstream `plugins/interpodaffinity`: `plugin.go`,
//! `filtering.go`, `scoring.go`).

mod filtering;
mod plugin;
mod scoring;

pub use filtering::{
    ERR_REASON_AFFINITY_RULES_NOT_MATCH, ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH,
    ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH,
};
pub use plugin::{InterPodAffinity, NAME};
