//! Layer 1: the API object model.

pub mod fields;
pub mod labels;
pub mod quantity;
pub mod validation;

pub mod fuzz;
mod gofmt;
