//! The MostAllocated strategy (`most_allocated.go`): per resource
//! `min(requested, allocatable) × 100 / allocatable`, weighted mean.

pub use super::resource_allocation::most_requested_score;
