//! The scheduler cache (upstream `backend/cache`): NodeInfos kept up to date
//! incrementally from watch events, assumed pods (placed by the scheduler, not yet
//! seen bound), the node tree that fixes the order nodes are tried in, and the few
//! other objects plugins read (namespaces, services, controllers).
//!
//! The simulation runs one scheduling cycle at a time and no watch event arrives in
//! the middle of one, so a cycle reads the cache directly through a [`Snapshot`]
//! instead of copying it, as upstream's `UpdateSnapshot` would.

use crate::api::VecMap;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::api::labels::{label_selector_as_selector, Selector};
use crate::api::Object;

use super::framework::types::{Interner, NodeInfo, PodInfo, ResourceModel};

/// `topology.kubernetes.io/zone` and region, as the node tree groups nodes.
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";
pub const LABEL_REGION: &str = "topology.kubernetes.io/region";
pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";

/// `utilnode.GetZoneKey`: region and zone, or "" for nodes without either.
fn zone_key(obj: &Object) -> String {
    let l = &obj.meta().labels;
    let region = l.get(LABEL_REGION).map(String::as_str).unwrap_or("");
    let zone = l.get(LABEL_ZONE).map(String::as_str).unwrap_or("");
    if region.is_empty() && zone.is_empty() {
        return String::new();
    }
    format!("{region}:\x00:{zone}")
}

/// An assigned pod the cache knows.
#[derive(Clone, Debug)]
struct CachedPod {
    node: u32,
    info: Arc<PodInfo>,
    /// Placed by this scheduler; the bound pod has not been seen yet.
    assumed: bool,
}

/// Objects plugins look up besides nodes and pods.
#[derive(Clone, Debug, Default)]
pub struct Listers {
    /// Namespace name → labels (namespace selectors of affinity terms).
    pub namespaces: BTreeMap<String, VecMap<String, String>>,
    /// (namespace, name) → the service's selector.
    pub services: BTreeMap<(String, String), VecMap<String, String>>,
    /// (namespace, name) → the ReplicationController's selector.
    pub replication_controllers: BTreeMap<(String, String), VecMap<String, String>>,
    /// (namespace, name) → the ReplicaSet's selector (None when it cannot be parsed).
    pub replica_sets: BTreeMap<(String, String), Option<Selector>>,
}

impl Listers {
    /// `helper.DefaultSelector`: what the services, RCs and RSs that select `pod` select.
    /// Empty when nothing owns or selects the pod.
    pub fn default_selector(&self, pod: &crate::api::core::Pod) -> Selector {
        let ns = &pod.metadata.namespace;
        let mut set: VecMap<String, String> = VecMap::new();
        for ((sns, _), sel) in self
            .services
            .range((ns.clone(), String::new())..)
            .take_while(|((sns, _), _)| sns == ns)
        {
            let _ = sns;
            if sel.is_empty() {
                continue;
            }
            if Selector::from_set(sel).matches(&pod.metadata.labels) {
                for (k, v) in sel {
                    set.insert(k.clone(), v.clone());
                }
            }
        }
        let mut selector = Selector::from_set(&set);
        let Some(owner) = pod.metadata.controller_ref() else {
            return selector;
        };
        let key = (ns.clone(), owner.name.clone());
        match (owner.api_version.as_str(), owner.kind.as_str()) {
            ("v1", "ReplicationController") => {
                if let Some(sel) = self.replication_controllers.get(&key) {
                    for (k, v) in sel {
                        set.insert(k.clone(), v.clone());
                    }
                    selector = Selector::from_set(&set);
                }
            }
            ("apps/v1", "ReplicaSet") => {
                if let Some(Some(other)) = self.replica_sets.get(&key) {
                    if let Some(reqs) = other.requirements() {
                        selector = selector.add(reqs.to_vec());
                    }
                }
            }
            _ => {}
        }
        selector
    }
}

/// A read-only view of the cache for one scheduling cycle.
pub struct Snapshot<'a> {
    pub nodes: &'a [NodeInfo],
    /// Live nodes in the order the node tree lists them.
    pub order: &'a [u32],
    pub listers: &'a Listers,
    /// Image (interned name id) → on how many nodes it is.
    pub image_nodes: &'a [i64],
    /// Pods in the cluster with any (anti-)affinity term / a required anti-affinity term.
    pub pods_with_affinity: usize,
    pub pods_with_required_anti_affinity: usize,
    /// Interned label keys, values and image names.
    pub interner: &'a Interner,
}

impl<'a> Snapshot<'a> {
    pub fn num_nodes(&self) -> usize {
        self.order.len()
    }

    /// Live nodes, in node tree order.
    pub fn list(&self) -> impl Iterator<Item = &'a NodeInfo> + 'a {
        let nodes = self.nodes;
        self.order.iter().map(move |&i| &nodes[i as usize])
    }

    /// `HavePodsWithAffinityList`.
    pub fn have_pods_with_affinity(&self) -> impl Iterator<Item = &'a NodeInfo> + 'a {
        self.list().filter(|n| n.pods_with_affinity > 0)
    }

    /// `HavePodsWithRequiredAntiAffinityList`.
    pub fn have_pods_with_required_anti_affinity(&self) -> impl Iterator<Item = &'a NodeInfo> + 'a {
        self.list()
            .filter(|n| n.pods_with_required_anti_affinity > 0)
    }

    pub fn namespace_labels(&self, ns: &str) -> Option<&'a VecMap<String, String>> {
        self.listers.namespaces.get(ns)
    }
}

/// What changed about a node, for moving unschedulable pods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeChange {
    pub allocatable: bool,
    pub labels: bool,
    pub taints: bool,
    pub other: bool,
}

/// The cache.
pub struct Cache {
    model: ResourceModel,
    nodes: Vec<NodeInfo>,
    /// Whether the slot's node object exists (pods may reference a node not yet seen).
    alive: Vec<bool>,
    by_name: HashMap<Arc<str>, u32>,
    /// Zones in the order first seen, each with its nodes in the order added.
    zones: Vec<(String, Vec<u32>)>,
    order: Vec<u32>,
    pods: HashMap<Arc<str>, CachedPod>,
    image_nodes: Vec<i64>,
    pub listers: Listers,
    pods_with_affinity: usize,
    pods_with_required_anti_affinity: usize,
    interner: Interner,
}

impl Cache {
    pub fn new(model: ResourceModel) -> Cache {
        Cache {
            model,
            nodes: Vec::new(),
            alive: Vec::new(),
            by_name: HashMap::new(),
            zones: Vec::new(),
            order: Vec::new(),
            pods: HashMap::new(),
            image_nodes: Vec::new(),
            listers: Listers::default(),
            pods_with_affinity: 0,
            pods_with_required_anti_affinity: 0,
            interner: Interner::default(),
        }
    }

    pub fn model(&self) -> ResourceModel {
        self.model
    }

    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            nodes: &self.nodes,
            order: &self.order,
            listers: &self.listers,
            image_nodes: &self.image_nodes,
            pods_with_affinity: self.pods_with_affinity,
            pods_with_required_anti_affinity: self.pods_with_required_anti_affinity,
            interner: &self.interner,
        }
    }

    pub fn num_nodes(&self) -> usize {
        self.order.len()
    }

    pub fn node_index(&self, name: &str) -> Option<u32> {
        let i = *self.by_name.get(name)?;
        self.alive[i as usize].then_some(i)
    }

    pub fn node(&self, i: u32) -> &NodeInfo {
        &self.nodes[i as usize]
    }

    /// The slot for a node name, created (without a node object) when new.
    fn slot(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.by_name.get(name) {
            return i;
        }
        let i = self.nodes.len() as u32;
        let mut ghost = crate::api::core::Node::default();
        ghost.metadata.name = name.to_string();
        let info = NodeInfo::new(Arc::new(Object::from(ghost)));
        self.by_name.insert(info.name.clone(), i);
        self.nodes.push(info);
        self.alive.push(false);
        i
    }

    fn rebuild_order(&mut self) {
        let total: usize = self.zones.iter().map(|(_, v)| v.len()).sum();
        let mut out = Vec::with_capacity(total);
        let mut idx = 0;
        while out.len() < total {
            for (_, nodes) in &self.zones {
                if let Some(&n) = nodes.get(idx) {
                    out.push(n);
                }
            }
            idx += 1;
        }
        self.order = out;
    }

    fn tree_add(&mut self, i: u32, zone: String) {
        match self.zones.iter_mut().find(|(z, _)| *z == zone) {
            Some((_, v)) => v.push(i),
            None => self.zones.push((zone, vec![i])),
        }
        self.rebuild_order();
    }

    fn tree_remove(&mut self, i: u32) {
        for (_, v) in self.zones.iter_mut() {
            v.retain(|&x| x != i);
        }
        self.zones.retain(|(_, v)| !v.is_empty());
        self.rebuild_order();
    }

    fn count_images(&mut self, ids: &[(u32, i64)], delta: i64) {
        for (id, _) in ids {
            let i = *id as usize;
            if self.image_nodes.len() <= i {
                self.image_nodes.resize(i + 1, 0);
            }
            self.image_nodes[i] = (self.image_nodes[i] + delta).max(0);
        }
    }

    /// A node was added or changed; returns what changed (None for a new node).
    pub fn upsert_node(&mut self, obj: &Arc<Object>) -> Option<NodeChange> {
        let name = obj.meta().name.clone();
        let i = self.slot(&name);
        let idx = i as usize;
        if !self.alive[idx] {
            self.nodes[idx].set_node(obj.clone(), &mut self.interner);
            self.alive[idx] = true;
            let imgs = self.nodes[idx].image_ids.clone();
            self.count_images(&imgs, 1);
            self.tree_add(i, zone_key(obj));
            return None;
        }
        let old = self.nodes[idx].object.clone();
        let (Some(on), Some(nn)) = (old.as_node(), obj.as_node()) else {
            return None;
        };
        let change = NodeChange {
            allocatable: on.status.allocatable != nn.status.allocatable,
            labels: on.metadata.labels != nn.metadata.labels,
            taints: on.spec.taints != nn.spec.taints
                || on.spec.unschedulable != nn.spec.unschedulable,
            other: on.status.conditions != nn.status.conditions
                || on.status.images != nn.status.images,
        };
        let old_imgs = self.nodes[idx].image_ids.clone();
        self.count_images(&old_imgs, -1);
        self.nodes[idx].set_node(obj.clone(), &mut self.interner);
        let imgs = self.nodes[idx].image_ids.clone();
        self.count_images(&imgs, 1);
        if zone_key(&old) != zone_key(obj) {
            self.tree_remove(i);
            self.tree_add(i, zone_key(obj));
        }
        Some(change)
    }

    pub fn remove_node(&mut self, name: &str) {
        let Some(&i) = self.by_name.get(name) else {
            return;
        };
        let idx = i as usize;
        if !self.alive[idx] {
            return;
        }
        let imgs = self.nodes[idx].image_ids.clone();
        self.count_images(&imgs, -1);
        self.alive[idx] = false;
        self.tree_remove(i);
    }

    fn account(&mut self, p: &PodInfo, delta: isize) {
        let adj = |v: &mut usize| {
            *v = if delta > 0 {
                *v + 1
            } else {
                v.saturating_sub(1)
            };
        };
        if p.has_affinity() {
            adj(&mut self.pods_with_affinity);
        }
        if !p.required_anti_affinity.is_empty() {
            adj(&mut self.pods_with_required_anti_affinity);
        }
    }

    /// An assigned pod was added or changed (from a watch event). Confirms an assumed
    /// pod. Returns true when the pod was new to the cache.
    pub fn upsert_pod(&mut self, obj: &Arc<Object>) -> bool {
        let Some(pod) = obj.as_pod() else {
            return false;
        };
        let Some(node_name) = pod.node_name() else {
            return false;
        };
        let node = self.slot(node_name);
        // Binding changes only spec.nodeName: a confirmed assumed pod keeps what was
        // derived from it.
        let info = match self.pods.get(&*format!(
            "{}/{}",
            pod.metadata.namespace, pod.metadata.name
        )) {
            Some(c) if c.assumed && c.node == node => {
                let mut i = (*c.info).clone();
                i.object = obj.clone();
                Arc::new(i)
            }
            _ => match PodInfo::new(obj.clone(), self.model) {
                Some(i) => Arc::new(i),
                None => return false,
            },
        };
        let new = match self.pods.remove(&info.key) {
            Some(old) => {
                if let Some(p) = self.nodes[old.node as usize].remove_pod(&old.info.key) {
                    self.account(&p, -1);
                }
                false
            }
            None => true,
        };
        self.account(&info, 1);
        self.nodes[node as usize].add_pod(info.clone());
        self.pods.insert(
            info.key.clone(),
            CachedPod {
                node,
                info,
                assumed: false,
            },
        );
        new
    }

    /// A pod left (deleted, or finished). Returns the node it was on.
    pub fn remove_pod(&mut self, key: &str) -> Option<Arc<str>> {
        let old = self.pods.remove(key)?;
        let node = self.nodes[old.node as usize].name.clone();
        if let Some(p) = self.nodes[old.node as usize].remove_pod(key) {
            self.account(&p, -1);
        }
        Some(node)
    }

    /// `AssumePod`: the scheduler placed the pod; count it on the node now (its object
    /// still shows it unbound until the bound pod is seen).
    pub fn assume(&mut self, info: &Arc<PodInfo>, node: u32) {
        if let Some(old) = self.pods.remove(&info.key) {
            if let Some(p) = self.nodes[old.node as usize].remove_pod(&old.info.key) {
                self.account(&p, -1);
            }
        }
        self.account(info, 1);
        self.nodes[node as usize].add_pod(info.clone());
        self.pods.insert(
            info.key.clone(),
            CachedPod {
                node,
                info: info.clone(),
                assumed: true,
            },
        );
    }

    /// `ForgetPod`: binding failed; the assumed pod leaves the node.
    pub fn forget(&mut self, key: &str) {
        if self.pods.get(key).is_some_and(|p| p.assumed) {
            self.remove_pod(key);
        }
    }

    pub fn is_assumed(&self, key: &str) -> bool {
        self.pods.get(key).is_some_and(|p| p.assumed)
    }

    /// The node an assigned pod is on.
    pub fn pod_node(&self, key: &str) -> Option<&str> {
        self.pods
            .get(key)
            .map(|p| &*self.nodes[p.node as usize].name)
    }

    pub fn pod_info(&self, key: &str) -> Option<&Arc<PodInfo>> {
        self.pods.get(key).map(|p| &p.info)
    }

    pub fn set_namespace(&mut self, name: &str, labels: Option<VecMap<String, String>>) {
        match labels {
            Some(l) => {
                self.listers.namespaces.insert(name.to_string(), l);
            }
            None => {
                self.listers.namespaces.remove(name);
            }
        }
    }

    /// Records a Service, ReplicationController or ReplicaSet (None: it was deleted).
    pub fn set_controller(&mut self, obj: &Object, deleted: bool) {
        let key = (obj.meta().namespace.clone(), obj.meta().name.clone());
        match obj {
            Object::Service(s) => {
                if deleted {
                    self.listers.services.remove(&key);
                } else {
                    self.listers.services.insert(key, s.spec.selector.clone());
                }
            }
            Object::ReplicationController(rc) => {
                if deleted {
                    self.listers.replication_controllers.remove(&key);
                } else {
                    self.listers
                        .replication_controllers
                        .insert(key, rc.spec.selector.clone());
                }
            }
            Object::ReplicaSet(rs) => {
                if deleted {
                    self.listers.replica_sets.remove(&key);
                } else {
                    let sel = label_selector_as_selector(rs.spec.selector.as_ref()).ok();
                    self.listers.replica_sets.insert(key, sel);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn node(name: &str, zone: &str) -> Arc<Object> {
        let mut n = crate::api::core::Node::default();
        n.metadata.name = name.into();
        if !zone.is_empty() {
            n.metadata.labels.insert(LABEL_ZONE.into(), zone.into());
        }
        Arc::new(Object::from(n))
    }

    #[test]
    fn node_tree_lists_zones_round_robin() {
        let mut c = Cache::new(ResourceModel::Current);
        for (n, z) in [
            ("a1", "a"),
            ("a2", "a"),
            ("b1", "b"),
            ("a3", "a"),
            ("c1", "c"),
        ] {
            c.upsert_node(&node(n, z));
        }
        let names: Vec<&str> = c.snapshot().list().map(|n| &*n.name).collect();
        assert_eq!(names, ["a1", "b1", "c1", "a2", "a3"]);
        c.remove_node("b1");
        let names: Vec<&str> = c.snapshot().list().map(|n| &*n.name).collect();
        assert_eq!(names, ["a1", "c1", "a2", "a3"]);
    }
}
