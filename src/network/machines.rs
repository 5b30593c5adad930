//! The nodes as machines: what belongs to a node's kernel rather than to any one
//! component. Today that is each node's iptables engine, which kube-proxy and the
//! network plug-in's daemon both write (through their `Ctx`), a person edits with
//! `iptables-restore`, and the packet tracer reads.

use std::collections::BTreeMap;

use super::netfilter::Netfilter;

#[derive(Clone, Debug, Default)]
pub struct Machines {
    netfilter: BTreeMap<String, Netfilter>,
}

impl Machines {
    /// A machine for a node (a node with a kubelet has one).
    pub fn add(&mut self, node: &str) {
        self.netfilter.entry(node.to_string()).or_default();
    }

    pub fn netfilter(&self, node: &str) -> Option<&Netfilter> {
        self.netfilter.get(node)
    }

    pub fn netfilter_mut(&mut self, node: &str) -> Option<&mut Netfilter> {
        self.netfilter.get_mut(node)
    }

    /// The machine stops: what its kernel held (iptables rules, connections, `recent`
    /// lists, accounting) is gone; it boots with empty tables.
    pub fn power_off(&mut self, node: &str) {
        if let Some(nf) = self.netfilter.get_mut(node) {
            *nf = Netfilter::new();
        }
    }
}
