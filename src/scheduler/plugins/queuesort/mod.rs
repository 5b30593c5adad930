//! The queuesort plugin (upstream `plugins/queuesort/priority_sort.go`).

mod priority_sort;

pub use priority_sort::*;
