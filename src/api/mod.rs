//! Layer 1: the API object model: types with Kubernetes' field names, quantities,
//! label and field selectors, Status errors and the registry of resource types.

#[macro_use]
pub mod macros;
pub mod apps;
pub mod compact;
pub mod core;
pub mod fields;
pub mod fuzz;
pub(crate) mod gofmt;
pub mod intstr;
pub mod labels;
pub mod meta;
pub mod networking;
pub mod object;
pub mod quantity;
pub mod rbac;
pub mod shared;
pub mod status;
pub mod time;
pub mod validation;
pub mod vecmap;

pub use object::{Object, ResourceType};
pub use shared::Shared;
pub use status::{ApiError, FieldError};
pub use vecmap::VecMap;
