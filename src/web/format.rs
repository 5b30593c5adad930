//! How the page writes numbers and times.

use crate::kernel::{NANOS_PER_MILLI, NANOS_PER_SEC};

/// Virtual time as a clock: `0:01:05.250`.
pub fn clock(ns: u64) -> String {
    let ms = (ns / NANOS_PER_MILLI) % 1000;
    let s = ns / NANOS_PER_SEC;
    format!("{}:{:02}:{:02}.{:03}", s / 3600, (s / 60) % 60, s % 60, ms)
}

/// Virtual time in seconds, for the timeline: `65.250s`.
pub fn seconds(ns: u64) -> String {
    format!(
        "{}.{:03}s",
        ns / NANOS_PER_SEC,
        (ns / NANOS_PER_MILLI) % 1000
    )
}

/// A count with thousands separators: `150,000`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A colour for an owner (`ReplicaSet/web-5d4f8`), the same on every frame.
pub fn owner_colour(owner: &str) -> String {
    if owner.is_empty() {
        return "#9aa3b2".into();
    }
    let h = crate::host::sim::trace_hash(owner) % 360;
    format!("hsl({h}, 62%, 45%)")
}
