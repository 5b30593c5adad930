//! kube-proxy: the rules a node's kube-proxy writes for Services.
//!
//! - [`hash`]: SHA-256 and base32, and the chain names upstream derives from them.
//! - [`iptables`]: the iptables mode's proxier: Services and EndpointSlices in, the
//!   `iptables-restore` text of `syncProxyRules` out, with full and partial syncs.
//! - [`bench`]: the full and incremental sync benchmark.
//!
//! This layer computes text only; the netfilter tables that take it live elsewhere.

pub mod bench;
pub mod hash;
pub mod iptables;

pub use iptables::{Proxier, ProxierConfig, SyncResult};
