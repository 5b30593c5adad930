//! The LeastAllocated strategy (`least_allocated.go`): per resource
//! `(allocatable − requested) × 100 / allocatable` (0 when over), weighted mean.

pub use super::resource_allocation::least_requested_score;
