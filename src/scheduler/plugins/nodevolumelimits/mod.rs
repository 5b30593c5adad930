//! The nodevolumelimits plugin (upstream `plugins/nodevolumelimits/csi.go`).

mod csi;

pub use csi::*;
