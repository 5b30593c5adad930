//! Server-side printing: objects as metav1.Table rows with upstream's columns.
