//! The noderesources plugins (upstream `plugins/noderesources`): NodeResourcesFit with
//! its scoring strategies, and NodeResourcesBalancedAllocation.

mod balanced_allocation;
mod fit;
pub mod least_allocated;
pub mod most_allocated;
pub mod requested_to_capacity_ratio;
pub mod resource_allocation;

pub use balanced_allocation::{BalancedAllocation, NAME as BALANCED_ALLOCATION_NAME};
pub use fit::{fits_request, insufficient_status, Fit, ERR_REASON_TOO_MANY_PODS, NAME as FIT_NAME};
