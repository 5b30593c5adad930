//! Watches held open by components inside the simulation. Each store event is
//! offered to the watches of its resource; a watch sees an object enter or leave its
//! selector as ADDED or DELETED, as upstream's watch cache reports it. Pod watches
//! by `spec.nodeName` (every kubelet's) are indexed by node so that fan-out to
//! thousands of kubelets stays cheap.

use std::collections::{BTreeMap, HashMap};

use super::fields;
use crate::api::fields::FieldSelector;
use crate::api::labels::Selector;
use crate::api::object::PODS;
use crate::api::{Object, ResourceType};
use crate::store::{EventType, WatchEvent};

pub type WatchId = u32;

/// What a watch asks for.
#[derive(Clone, Debug)]
pub struct WatchSpec {
    pub resource: &'static ResourceType,
    /// Empty for all namespaces.
    pub namespace: String,
    pub labels: Selector,
    pub fields: FieldSelector,
    /// Who holds the watch (for the trace).
    pub owner: String,
}

impl WatchSpec {
    pub fn new(resource: &'static ResourceType, owner: impl Into<String>) -> WatchSpec {
        WatchSpec {
            resource,
            namespace: String::new(),
            labels: Selector::everything(),
            fields: FieldSelector::everything(),
            owner: owner.into(),
        }
    }

    pub fn matches(&self, obj: &Object) -> bool {
        (self.namespace.is_empty() || obj.meta().namespace == self.namespace)
            && self.labels.matches(&obj.meta().labels)
            && (self.fields.is_empty() || self.fields.matches(|f| fields::value(obj, f)))
    }

    /// The event this watch sees for a store event, if any.
    pub fn translate(&self, ev: &WatchEvent) -> Option<EventType> {
        let now = self.matches(&ev.object);
        let before = ev.prev.as_deref().is_some_and(|p| self.matches(p));
        match ev.kind {
            EventType::Added => now.then_some(EventType::Added),
            EventType::Deleted => before.then_some(EventType::Deleted),
            EventType::Modified => match (before, now) {
                (true, true) => Some(EventType::Modified),
                (false, true) => Some(EventType::Added),
                (true, false) => Some(EventType::Deleted),
                (false, false) => None,
            },
        }
    }
}

/// The open watches.
#[derive(Clone, Debug, Default)]
pub struct WatchRegistry {
    next: WatchId,
    specs: BTreeMap<WatchId, WatchSpec>,
    by_resource: BTreeMap<(&'static str, &'static str), Vec<WatchId>>,
    by_node: HashMap<String, Vec<WatchId>>,
}

impl WatchRegistry {
    pub fn add(&mut self, spec: WatchSpec) -> WatchId {
        self.next += 1;
        let id = self.next;
        match node_index(&spec) {
            Some(node) => self.by_node.entry(node.to_string()).or_default().push(id),
            None => self
                .by_resource
                .entry((spec.resource.group, spec.resource.plural))
                .or_default()
                .push(id),
        }
        self.specs.insert(id, spec);
        id
    }

    pub fn remove(&mut self, id: WatchId) {
        if let Some(spec) = self.specs.remove(&id) {
            let list = match node_index(&spec) {
                Some(node) => self.by_node.get_mut(node),
                None => self
                    .by_resource
                    .get_mut(&(spec.resource.group, spec.resource.plural)),
            };
            if let Some(l) = list {
                l.retain(|x| *x != id);
            }
        }
    }

    pub fn get(&self, id: WatchId) -> Option<&WatchSpec> {
        self.specs.get(&id)
    }

    pub fn len(&self) -> usize {
        self.specs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// The watches that see `ev`, and what each sees, in watch order.
    pub fn fanout(&self, ev: &WatchEvent) -> Vec<(WatchId, EventType)> {
        let rt = ev.object.resource_type();
        let by_resource = self
            .by_resource
            .get(&(rt.group, rt.plural))
            .map_or(&[][..], Vec::as_slice);
        let see = |id: &WatchId| {
            let spec = self.specs.get(id)?;
            spec.translate(ev).map(|t| (*id, t))
        };
        let on_node = |obj: &Object| {
            obj.as_pod()
                .and_then(|p| p.node_name())
                .is_some_and(|n| self.by_node.contains_key(n))
        };
        if !std::ptr::eq(rt, &PODS)
            || self.by_node.is_empty()
            || !(on_node(&ev.object) || ev.prev.as_deref().is_some_and(on_node))
        {
            // No node-pinned watch can see it: the resource's watches, in order.
            return by_resource.iter().filter_map(see).collect();
        }
        let mut candidates: Vec<WatchId> = by_resource.to_vec();
        for obj in std::iter::once(&ev.object).chain(ev.prev.iter()) {
            if let Some(ids) = obj
                .as_pod()
                .and_then(|p| p.node_name())
                .and_then(|n| self.by_node.get(n))
            {
                candidates.extend(ids);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates.iter().filter_map(see).collect()
    }
}

/// The node a pod watch is pinned to by `spec.nodeName=NODE`, if it is.
fn node_index(spec: &WatchSpec) -> Option<&str> {
    if !std::ptr::eq(spec.resource, &PODS) {
        return None;
    }
    spec.fields
        .requires_exact_match("spec.nodeName")
        .filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use std::sync::Arc;

    use super::*;
    use crate::api::core::Pod;

    fn pod(name: &str, node: &str, app: &str) -> Arc<Object> {
        let mut p = Pod::default();
        p.metadata.namespace = "default".into();
        p.metadata.name = name.into();
        p.metadata.labels.insert("app".into(), app.into());
        p.spec.node_name = node.into();
        Arc::new(Object::from(p))
    }

    #[test]
    fn selector_transitions_become_added_and_deleted() {
        let mut reg = WatchRegistry::default();
        let mut spec = WatchSpec::new(&PODS, "kubelet/n1");
        spec.fields = FieldSelector::parse("spec.nodeName=n1").unwrap();
        let kubelet = reg.add(spec);
        let mut web = WatchSpec::new(&PODS, "controller");
        web.labels = Selector::parse("app=web").unwrap();
        let ctl = reg.add(web);

        let created = WatchEvent {
            revision: 1,
            kind: EventType::Added,
            object: pod("a", "", "web"),
            prev: None,
        };
        assert_eq!(reg.fanout(&created), [(ctl, EventType::Added)]);
        let bound = WatchEvent {
            revision: 2,
            kind: EventType::Modified,
            object: pod("a", "n1", "web"),
            prev: Some(pod("a", "", "web")),
        };
        assert_eq!(
            reg.fanout(&bound),
            [(kubelet, EventType::Added), (ctl, EventType::Modified)]
        );
        let relabeled = WatchEvent {
            revision: 3,
            kind: EventType::Modified,
            object: pod("a", "n1", "db"),
            prev: Some(pod("a", "n1", "web")),
        };
        assert_eq!(
            reg.fanout(&relabeled),
            [(kubelet, EventType::Modified), (ctl, EventType::Deleted)]
        );
        reg.remove(kubelet);
        assert_eq!(reg.fanout(&relabeled), [(ctl, EventType::Deleted)]);
        assert_eq!(reg.len(), 1);
    }
}
