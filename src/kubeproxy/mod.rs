//! kube-proxy: the rules a node's kube-proxy writes for Services.
//!
//! - [`hash`]: SHA-256 and base32, and the chain names upstream derives from them.
//! - [`iptables`]: the iptables mode's proxier: Services and EndpointSlices in, the
//!   `iptables-restore` text of `syncProxyRules` out, with full and partial syncs.
//! - [`component`]: kube-proxy running on a node: it watches Services and
//!   EndpointSlices through the API server and loads the proxier's text into the
//!   node's iptables engine, as v1.31's sync loop does (the runner, the canary
//!   monitor, the jumps a full sync makes sure of, the retry after a failure).
//! - [`runner`]: the BoundedFrequencyRunner that paces the syncs.
//! - [`userspace`]: the legacy userspace mode (`proxyMode: userspace`): a proxy
//!   port per service port, the KUBE-PORTALS-*/KUBE-NODEPORT-* rules that send
//!   Service traffic there, and the round-robin load balancer with ClientIP affinity.
//! - [`bench`]: the full and incremental sync benchmark.
//!
//! The proxier computes text only; the component hands it to the node's netfilter.

pub mod bench;
pub mod component;
pub mod hash;
pub mod iptables;
pub mod runner;
pub mod userspace;

pub use iptables::{Proxier, ProxierConfig, SyncResult};
