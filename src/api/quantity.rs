//! Resource quantities (placeholder).
