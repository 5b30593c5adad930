//! The node IPAM controller with upstream's range allocator
//! (`pkg/controller/nodeipam/ipam/range_allocator.go`): each node gets
//! `spec.podCIDR`/`spec.podCIDRs`, a block of `nodeCIDRMaskSize` bits carved from the
//! cluster CIDR, through a PATCH of the Node.
//!
//! As upstream's `cidrset`, blocks are handed out from a rotating next candidate (on
//! a fresh cluster: the lowest free block, in the order nodes appear); podCIDRs a node
//! was declared with are marked occupied; a block that overlaps the service range is
//! never handed out; a deleted node's block is released. When no block is left the
//! node gets a `CIDRNotAvailable` Event and waits.
//!
//! Simplifications: IPv4 only (one cluster CIDR); nodes annotated
//! `kubeglass.dev/kubelet: "none"` keep the spec they were declared with (their
//! declared podCIDRs are still occupied); a node waiting for a block is retried when
//! another node's block is released, where upstream retries on its own.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::json;

use crate::api::core::{Event, EventSource, Node, ObjectReference};
use crate::api::object::NODES;
use crate::api::time::{Time, EPOCH_UNIX};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::apiserver::{format_ipv4, Cidr};
use crate::component::{Component, Ctx};
use crate::kernel::ObjRef;
use crate::store::EventType;

const NAME: &str = "node-ipam-controller";

/// The range allocator's state: which blocks of the cluster CIDR are used.
pub struct NodeIpam {
    who: Identity,
    cluster: Cidr,
    mask: u8,
    used: BTreeSet<u32>,
    next_candidate: u32,
    /// The block each node holds.
    held: BTreeMap<String, u32>,
    /// Nodes that found no free block.
    waiting: BTreeSet<String>,
}

impl NodeIpam {
    pub fn new(cluster: Cidr, mask: u8, service: Cidr) -> NodeIpam {
        let mut n = NodeIpam {
            who: super::controller_identity(NAME, "node-controller"),
            cluster,
            mask: mask.max(cluster.prefix),
            used: BTreeSet::new(),
            next_candidate: 0,
            held: BTreeMap::new(),
            waiting: BTreeSet::new(),
        };
        // filterOutServiceRange: blocks overlapping the service range are never used.
        if cluster.contains(service.base) || service.contains(cluster.base) {
            for i in 0..n.max_blocks() {
                let b = n.block(i);
                if service.contains(b.base) || b.contains(service.base) {
                    n.used.insert(i);
                }
            }
        }
        n
    }

    fn max_blocks(&self) -> u32 {
        1u32.checked_shl(u32::from(self.mask - self.cluster.prefix))
            .unwrap_or(u32::MAX)
    }

    fn block(&self, i: u32) -> Cidr {
        let shift = 32 - u32::from(self.mask);
        Cidr {
            base: self
                .cluster
                .base
                .wrapping_add(i.checked_shl(shift).unwrap_or(0)),
            prefix: self.mask,
        }
    }

    /// The block index of a CIDR text, if it is one of this cluster's blocks.
    fn index_of(&self, text: &str) -> Option<u32> {
        let c = Cidr::parse(text)?;
        if c.prefix != self.mask || !self.cluster.contains(c.base) {
            return None;
        }
        let shift = 32 - u32::from(self.mask);
        Some(
            (c.base.wrapping_sub(self.cluster.base))
                .checked_shr(shift)
                .unwrap_or(0),
        )
    }

    /// `cidrset.AllocateNext`: the first free block from the next candidate on.
    fn allocate_next(&mut self) -> Option<u32> {
        let max = self.max_blocks();
        for i in 0..max {
            let candidate = (self.next_candidate.wrapping_add(i)) % max;
            if !self.used.contains(&candidate) {
                self.next_candidate = (candidate + 1) % max;
                self.used.insert(candidate);
                return Some(candidate);
            }
        }
        None
    }

    fn reconcile(&mut self, ctx: &mut Ctx, node: &Node) {
        let name = &node.metadata.name;
        if self.held.contains_key(name) {
            return;
        }
        if let Some(first) = node
            .spec
            .pod_cidrs
            .first()
            .or(Some(&node.spec.pod_cidr).filter(|c| !c.is_empty()))
        {
            // occupyCIDRs: a node that has a block keeps it.
            if let Some(i) = self.index_of(first) {
                self.used.insert(i);
                self.held.insert(name.clone(), i);
            }
            return;
        }
        if crate::cluster::has_no_kubelet(node) {
            return;
        }
        let rv = node.metadata.resource_version.parse().unwrap_or(0);
        let Some(i) = self.allocate_next() else {
            if self.waiting.insert(name.clone()) {
                ctx.note(
                    NAME,
                    format!("no pod CIDR for node {name}"),
                    format!(
                        "every /{} block of the cluster CIDR {} is in use",
                        self.mask, self.cluster
                    ),
                    vec![ObjRef::new("Node", "", name, rv)],
                );
                record_node_event(ctx, &self.who, "cidrAllocator", node, "CIDRNotAvailable");
            }
            return;
        };
        self.waiting.remove(name);
        let cidr = self.block(i).to_string();
        ctx.note(
            NAME,
            format!("allocate pod CIDR {cidr} to node {name}"),
            "the node has no spec.podCIDR; the range allocator hands out the next free block of the cluster CIDR",
            vec![ObjRef::new("Node", "", name, rv)],
        );
        let patch = json!({"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}});
        let who = self.who.clone();
        match ctx.client(&who).patch(
            &NODES,
            "",
            name,
            "application/strategic-merge-patch+json",
            patch,
        ) {
            Ok(_) => {
                self.held.insert(name.clone(), i);
            }
            Err(_) => {
                self.used.remove(&i);
            }
        }
    }
}

/// `nodeutil.RecordNodeStatusChange`: a Normal Event `Node NAME status is now: STATUS`.
pub fn record_node_event(
    ctx: &mut Ctx,
    who: &Identity,
    component: &str,
    node: &Node,
    status: &str,
) {
    let now = ctx.now();
    let mut e = Event::default();
    e.metadata.namespace = "default".into();
    e.metadata.name = format!(
        "{}.{:x}",
        node.metadata.name,
        (EPOCH_UNIX as u128) * 1_000_000_000 + u128::from(now)
    );
    e.involved_object = ObjectReference {
        kind: "Node".into(),
        name: node.metadata.name.clone(),
        uid: node.metadata.uid.clone(),
        api_version: "v1".into(),
        ..Default::default()
    };
    e.reason = status.into();
    e.message = format!("Node {} status is now: {status}", node.metadata.name);
    e.kind = "Normal".into();
    e.source = EventSource {
        component: component.into(),
        host: String::new(),
    };
    e.first_timestamp = Some(Time::from_virtual_nanos(now));
    e.last_timestamp = e.first_timestamp;
    e.count = 1;
    e.reporting_component = component.into();
    let _ = ctx.client(who).create(Object::from(e));
}

impl Component for NodeIpam {
    fn name(&self) -> String {
        NAME.into()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        vec![WatchSpec::new(&NODES, NAME)]
    }

    fn on_event(&mut self, ctx: &mut Ctx, _watch: usize, kind: EventType, obj: &Arc<Object>) {
        let Object::Node(node) = obj.as_ref() else {
            return;
        };
        match kind {
            EventType::Added | EventType::Modified => self.reconcile(ctx, node),
            EventType::Deleted => {
                self.waiting.remove(&node.metadata.name);
                if let Some(i) = self.held.remove(&node.metadata.name) {
                    self.used.remove(&i);
                    ctx.note(
                        NAME,
                        format!(
                            "release pod CIDR {} of node {}",
                            self.block(i),
                            node.metadata.name
                        ),
                        "the node was deleted",
                        vec![ObjRef::new("Node", "", &node.metadata.name, 0)],
                    );
                    // A node that waited for a block gets the one released.
                    let waiting: Vec<String> = self.waiting.iter().cloned().collect();
                    let who = self.who.clone();
                    for name in waiting {
                        if let Ok(o) = ctx.client(&who).get(&NODES, "", &name) {
                            if let Object::Node(n) = o.as_ref() {
                                self.reconcile(ctx, n);
                            }
                        }
                    }
                }
            }
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The address `offset` inside a CIDR text (`10.244.1.0/24`, 1 → `10.244.1.1`).
pub fn address_in(cidr: &str, offset: u32) -> Option<String> {
    let c = Cidr::parse(cidr)?;
    (u64::from(offset) < c.size()).then(|| format_ipv4(c.nth(u64::from(offset))))
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn blocks_and_service_range() {
        let cluster = Cidr::parse("10.244.0.0/16").unwrap();
        let svc = Cidr::parse("10.96.0.0/12").unwrap();
        let mut n = NodeIpam::new(cluster, 24, svc);
        assert_eq!(n.max_blocks(), 256);
        assert_eq!(n.allocate_next(), Some(0));
        assert_eq!(n.block(1).to_string(), "10.244.1.0/24");
        assert_eq!(n.index_of("10.244.7.0/24"), Some(7));
        assert_eq!(n.index_of("10.245.7.0/24"), None);
        // A service range inside the cluster CIDR takes its blocks away.
        let n = NodeIpam::new(cluster, 24, Cidr::parse("10.244.2.0/23").unwrap());
        assert!(n.used.contains(&2) && n.used.contains(&3) && n.used.len() == 2);
        assert_eq!(
            address_in("10.244.1.0/24", 1).as_deref(),
            Some("10.244.1.1")
        );
    }
}
