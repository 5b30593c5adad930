//! The network primitives (layer 3 of the design, beside the store): data structures
//! and pure functions a node's network is made of, with no knowledge of components.
//!
//! - [`netfilter`]: the iptables engine: the raw, mangle, nat and filter tables, rules
//!   with the matches and targets kube-proxy, CNI plug-ins, docker and a person use,
//!   `iptables-restore` text in and `iptables-save` text out, evaluation of a packet
//!   through a hook with an explained record, conntrack and the `recent` lists.

pub mod netfilter;
