//! Label selectors (placeholder).
