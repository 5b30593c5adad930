//! Layer 1: the API object model.

pub mod labels;
pub mod quantity;
