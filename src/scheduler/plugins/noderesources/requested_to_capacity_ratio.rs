//! The RequestedToCapacityRatio strategy (`requested_to_capacity_ratio.go`): a broken
//! linear function of the utilization percentage per resource, rounded weighted mean
//! of the non-zero ones.

pub use super::resource_allocation::broken_linear;
