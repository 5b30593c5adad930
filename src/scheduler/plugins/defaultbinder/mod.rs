//! The defaultbinder plugin (upstream `plugins/defaultbinder/default_binder.go`).

mod default_binder;

pub use default_binder::*;
