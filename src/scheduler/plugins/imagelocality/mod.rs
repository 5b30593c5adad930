//! The imagelocality plugin (upstream `plugins/imagelocality/image_locality.go`).

mod image_locality;

pub use image_locality::*;
