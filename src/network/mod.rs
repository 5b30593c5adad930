//! The network primitives (layer 3 of the design, beside the store): data structures
//! and pure functions a node's network is made of, with no knowledge of components.
//!
//! - [`netfilter`]: the iptables engine: the raw, mangle, nat and filter tables, rules
//!   with the matches and targets kube-proxy, CNI plug-ins, docker and a person use,
//!   `iptables-restore` text in and `iptables-save` text out, evaluation of a packet
//!   through a hook with an explained record, conntrack and the `recent` lists.
//! - [`fabric`]: the data plane as packets meet it: each node's root namespace
//!   (eth0, the pod bridge, tunnel devices, routes, its iptables engine) and each
//!   pod's namespace and veth pair, as the chosen plug-in builds them.
//! - [`ingress`]: how an ingress controller picks a backend by host and path.
//! - [`machines`]: each node's kernel state (its iptables engine), shared by the
//!   components on the node.
//! - [`cni`]: the network plug-ins' own iptables rules.
//! - [`tracer`]: one packet walked hop by hop through the fabric, changing nothing.

pub mod cni;
pub mod fabric;
pub mod ingress;
pub mod machines;
pub mod netfilter;
pub mod tracer;
