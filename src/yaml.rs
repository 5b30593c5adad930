//! YAML (placeholder).
