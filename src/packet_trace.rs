//! The packet tracer's entry point on a running cluster (the `trace` step and the
//! page's trace panel): resolves the two ends, builds the data plane's picture from
//! the cluster (nodes, pods, their namespaces and each node's iptables engine) and
//! walks one packet through it without changing anything.

use serde_json::Value;

use crate::cluster::Cluster;
use crate::network::netfilter::Netfilter;

impl Cluster {
    /// A node's iptables engine (held by the node's kube-proxy today); None when the
    /// node runs no kubelet.
    pub fn node_netfilter(&self, node: &str) -> Option<&Netfilter> {
        self.kube_proxy(node).map(|k| k.netfilter())
    }

    /// Follows one packet from `from` to `to` (the `trace` step's value, as
    /// scenario.md defines it); the result is the step's output.
    pub fn trace_packet(&self, from: &str, to: &str, proto: Option<&str>) -> Result<Value, String> {
        let _ = (from, to, proto);
        Err("trace: packet traces are not simulated yet (the network chapter is under way)".into())
    }
}
