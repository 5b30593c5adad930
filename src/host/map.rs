//! The cluster map the page draws: nodes, and their pods one by one while the
//! cluster is small, or counted per node and phase when it is large. Kept in step
//! with the store's watch log, so each frame carries only what changed.

use std::collections::{BTreeMap, BTreeSet};

use crate::api::core::{Node, Pod};
use crate::api::object::{NODES, PODS};
use crate::api::Object;
use crate::protocol::{MapDelta, NodeCounts, NodeView, Phase, PodView};
use crate::store::{EventType, Store};

/// Above this many pods the map switches to counts per node.
pub const DETAIL_LIMIT: u64 = 200;
/// Below this many it switches back (a gap, so that it does not flicker).
pub const DETAIL_RESUME: u64 = 150;

type PodKey = (String, String);

#[derive(Clone, Debug, Default)]
pub struct MapModel {
    nodes: BTreeMap<String, NodeView>,
    counts: BTreeMap<String, [u64; 5]>,
    /// Every pod, while the map is detailed.
    pods: Option<BTreeMap<PodKey, PodView>>,
    total: u64,
    /// The store revision the model reflects.
    rev: u64,
    reset: bool,
    dirty_nodes: BTreeSet<String>,
    removed_nodes: BTreeSet<String>,
    dirty_pods: BTreeSet<PodKey>,
    removed_pods: BTreeSet<PodKey>,
    dirty_counts: BTreeSet<String>,
}

pub fn node_view(n: &Node) -> NodeView {
    NodeView {
        name: n.metadata.name.clone(),
        ready: n.condition("Ready").is_some_and(|c| c.status == "True"),
        unschedulable: n.spec.unschedulable,
        zone: n
            .metadata
            .labels
            .get("topology.kubernetes.io/zone")
            .cloned()
            .unwrap_or_default(),
        pod_capacity: n
            .status
            .allocatable
            .get("pods")
            .map_or(0, |q| q.value().clamp(0, i64::from(u32::MAX)) as u32),
    }
}

pub fn pod_view(p: &Pod) -> PodView {
    PodView {
        namespace: p.metadata.namespace.clone(),
        name: p.metadata.name.clone(),
        node: p.spec.node_name.clone(),
        phase: Phase::parse(&p.status.phase),
        owner: p
            .metadata
            .owner_references
            .first()
            .map(|o| format!("{}/{}", o.kind, o.name))
            .unwrap_or_default(),
        deleting: p.metadata.deletion_timestamp.is_some(),
    }
}

impl MapModel {
    /// The map of the store as it is now.
    pub fn build(store: &Store) -> MapModel {
        let detailed = store.count(&PODS) as u64 <= DETAIL_LIMIT;
        let mut m = MapModel {
            pods: detailed.then(BTreeMap::new),
            rev: store.revision(),
            reset: true,
            ..MapModel::default()
        };
        for n in store.list(&NODES, None) {
            m.change(None, Some(n));
        }
        for p in store.list(&PODS, None) {
            m.change(None, Some(p));
        }
        m
    }

    /// The map as it was at `revision`, which must still be in the store's
    /// history window: today's map with the later changes undone.
    pub fn at(store: &Store, revision: u64) -> MapModel {
        let keep = store.count(&PODS) as u64 <= 20 * DETAIL_LIMIT;
        let mut m = MapModel {
            pods: keep.then(BTreeMap::new),
            rev: revision,
            reset: true,
            ..MapModel::default()
        };
        for n in store.list(&NODES, None) {
            m.change(None, Some(n));
        }
        for p in store.list(&PODS, None) {
            m.change(None, Some(p));
        }
        let later: Vec<_> = store
            .events_after(revision)
            .filter(|e| is_mapped(&e.object))
            .collect();
        for ev in later.into_iter().rev() {
            let after = (ev.kind != EventType::Deleted).then_some(&*ev.object);
            m.change(after, ev.prev.as_deref());
        }
        if m.total > DETAIL_LIMIT {
            m.pods = None;
        }
        m
    }

    /// Brings the model up to the store's revision.
    pub fn sync(&mut self, store: &Store) {
        if store.revision() == self.rev {
            return;
        }
        if self.rev < store.oldest_watchable() {
            *self = MapModel::build(store);
            return;
        }
        let events: Vec<_> = store
            .events_after(self.rev)
            .filter(|e| is_mapped(&e.object))
            .collect();
        for ev in events {
            let after = (ev.kind != EventType::Deleted).then_some(&*ev.object);
            self.change(ev.prev.as_deref(), after);
        }
        self.rev = store.revision();
        if self.pods.is_some() && self.total > DETAIL_LIMIT {
            self.pods = None;
            self.reset = true;
        } else if self.pods.is_none() && self.total <= DETAIL_RESUME {
            let mut pods = BTreeMap::new();
            for p in store.list(&PODS, None) {
                if let Object::Pod(p) = p.as_ref() {
                    let v = pod_view(p);
                    pods.insert((v.namespace.clone(), v.name.clone()), v);
                }
            }
            self.pods = Some(pods);
            self.reset = true;
        }
    }

    /// Applies one object's change from `before` to `after` (None: absent).
    fn change(&mut self, before: Option<&Object>, after: Option<&Object>) {
        match (before, after) {
            (Some(Object::Node(_)) | None, Some(Object::Node(n))) => {
                let v = node_view(n);
                self.dirty_nodes.insert(v.name.clone());
                self.removed_nodes.remove(&v.name);
                self.nodes.insert(v.name.clone(), v);
            }
            (Some(Object::Node(n)), None) => {
                let name = n.metadata.name.clone();
                self.nodes.remove(&name);
                self.dirty_nodes.remove(&name);
                self.removed_nodes.insert(name);
            }
            (before, after) => {
                let before = before.and_then(Object::as_pod);
                let after = after.and_then(Object::as_pod);
                if let Some(p) = before {
                    self.count(&p.spec.node_name, Phase::parse(&p.status.phase), false);
                }
                if let Some(p) = after {
                    self.count(&p.spec.node_name, Phase::parse(&p.status.phase), true);
                }
                let Some(pods) = &mut self.pods else { return };
                match (before, after) {
                    (_, Some(p)) => {
                        let v = pod_view(p);
                        let key = (v.namespace.clone(), v.name.clone());
                        self.removed_pods.remove(&key);
                        self.dirty_pods.insert(key.clone());
                        pods.insert(key, v);
                    }
                    (Some(p), None) => {
                        let key = (p.metadata.namespace.clone(), p.metadata.name.clone());
                        pods.remove(&key);
                        self.dirty_pods.remove(&key);
                        self.removed_pods.insert(key);
                    }
                    (None, None) => {}
                }
            }
        }
    }

    fn count(&mut self, node: &str, phase: Phase, add: bool) {
        let c = self.counts.entry(node.to_string()).or_default();
        if add {
            c[phase.index()] += 1;
            self.total += 1;
        } else {
            c[phase.index()] = c[phase.index()].saturating_sub(1);
            self.total = self.total.saturating_sub(1);
        }
        self.dirty_counts.insert(node.to_string());
    }

    pub fn total_pods(&self) -> u64 {
        self.total
    }

    pub fn is_detailed(&self) -> bool {
        self.pods.is_some()
    }

    /// Everything, as a delta that replaces what the page has.
    pub fn full(&self) -> MapDelta {
        MapDelta {
            reset: true,
            detailed: self.pods.is_some(),
            nodes: self.nodes.values().cloned().collect(),
            pods: self.pods.iter().flat_map(|p| p.values().cloned()).collect(),
            counts: self
                .counts
                .iter()
                .filter(|(_, c)| c.iter().any(|n| *n > 0))
                .map(|(node, c)| NodeCounts {
                    node: node.clone(),
                    counts: *c,
                })
                .collect(),
            total_pods: self.total,
            ..MapDelta::default()
        }
    }

    /// What changed since the last call (None: nothing).
    pub fn take_delta(&mut self) -> Option<MapDelta> {
        if self.reset {
            self.clear_dirty();
            return Some(self.full());
        }
        if self.dirty_nodes.is_empty()
            && self.removed_nodes.is_empty()
            && self.dirty_pods.is_empty()
            && self.removed_pods.is_empty()
            && self.dirty_counts.is_empty()
        {
            return None;
        }
        let d = MapDelta {
            reset: false,
            detailed: self.pods.is_some(),
            nodes: self
                .dirty_nodes
                .iter()
                .filter_map(|n| self.nodes.get(n).cloned())
                .collect(),
            removed_nodes: self.removed_nodes.iter().cloned().collect(),
            pods: match &self.pods {
                Some(pods) => self
                    .dirty_pods
                    .iter()
                    .filter_map(|k| pods.get(k).cloned())
                    .collect(),
                None => Vec::new(),
            },
            removed_pods: self.removed_pods.iter().cloned().collect(),
            counts: self
                .dirty_counts
                .iter()
                .map(|n| NodeCounts {
                    node: n.clone(),
                    counts: self.counts.get(n).copied().unwrap_or_default(),
                })
                .collect(),
            total_pods: self.total,
        };
        self.clear_dirty();
        Some(d)
    }

    fn clear_dirty(&mut self) {
        self.reset = false;
        self.dirty_nodes.clear();
        self.removed_nodes.clear();
        self.dirty_pods.clear();
        self.removed_pods.clear();
        self.dirty_counts.clear();
    }
}

fn is_mapped(o: &Object) -> bool {
    matches!(o, Object::Pod(_) | Object::Node(_))
}
