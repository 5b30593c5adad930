//! Layer 3, the store: an etcd-like MVCC key-value store of typed objects.
//!
//! Every write takes the next cluster-wide revision, which becomes the object's
//! `resourceVersion`. Writes are logged as watch events in a bounded window, so a
//! watch can start from any revision still in it, and an object can be read as it
//! was at such a revision. Older history is gone (410 Expired), as after an etcd
//! compaction; the page rebuilds it by replay.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use crate::api::{Object, ResourceType};

/// What happened to an object, as a watch reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One write, as logged for watchers.
#[derive(Clone, Debug)]
pub struct WatchEvent {
    pub revision: u64,
    pub kind: EventType,
    /// The object after the write (for a delete: its last state, at the delete's revision).
    pub object: Arc<Object>,
    /// The object before the write (none for a create).
    pub prev: Option<Arc<Object>>,
}

#[derive(Clone, Debug)]
struct Stored {
    object: Arc<Object>,
    mod_revision: u64,
}

/// Why a write failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    NotFound,
    AlreadyExists,
    /// The caller's resourceVersion is not the current one.
    Conflict,
    /// The requested revision has been compacted away.
    Compacted {
        requested: u64,
        oldest: u64,
    },
}

type Key = (String, String);

/// A key seen as a borrowed (namespace, name) pair, so that reads look objects up
/// without allocating an owned key. Orders exactly as `Key` does.
trait KeyRef {
    fn parts(&self) -> (&str, &str);
}

impl KeyRef for Key {
    fn parts(&self) -> (&str, &str) {
        (&self.0, &self.1)
    }
}

impl KeyRef for (&str, &str) {
    fn parts(&self) -> (&str, &str) {
        (self.0, self.1)
    }
}

impl<'a> std::borrow::Borrow<dyn KeyRef + 'a> for Key {
    fn borrow(&self) -> &(dyn KeyRef + 'a) {
        self
    }
}

impl PartialEq for dyn KeyRef + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn KeyRef + '_ {}

impl PartialOrd for dyn KeyRef + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn KeyRef + '_ {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.parts().cmp(&other.parts())
    }
}

/// The MVCC store.
#[derive(Clone, Debug)]
pub struct Store {
    revision: u64,
    tables: BTreeMap<(&'static str, &'static str), BTreeMap<Key, Stored>>,
    log: VecDeque<WatchEvent>,
    log_capacity: usize,
    /// Revisions up to and including this one have left the log.
    compacted: u64,
}

/// Watch events kept by default.
pub const DEFAULT_HISTORY: usize = 100_000;

impl Default for Store {
    fn default() -> Self {
        Store::with_history(DEFAULT_HISTORY)
    }
}

fn table_key(rt: &'static ResourceType) -> (&'static str, &'static str) {
    (rt.group, rt.plural)
}

fn key_of(obj: &Object) -> Key {
    let m = obj.meta();
    (m.namespace.clone(), m.name.clone())
}

impl Store {
    pub fn with_history(log_capacity: usize) -> Store {
        Store {
            revision: 0,
            tables: BTreeMap::new(),
            log: VecDeque::new(),
            log_capacity: log_capacity.max(1),
            compacted: 0,
        }
    }

    /// The current revision (the resourceVersion of the last write).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The oldest revision a watch may start from.
    pub fn oldest_watchable(&self) -> u64 {
        self.compacted
    }

    pub fn get(
        &self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
    ) -> Option<&Arc<Object>> {
        self.tables
            .get(&table_key(rt))?
            .get(&(namespace, name) as &dyn KeyRef)
            .map(|s| &s.object)
    }

    /// The object as it was at `revision` (None if it did not exist then).
    pub fn get_at(
        &self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
        revision: u64,
    ) -> Result<Option<Arc<Object>>, StoreError> {
        if revision >= self.revision {
            return Ok(self.get(rt, namespace, name).cloned());
        }
        if revision < self.compacted {
            return Err(StoreError::Compacted {
                requested: revision,
                oldest: self.compacted,
            });
        }
        // The first change to this key after `revision` tells what it was before.
        let matches = |o: &Object| {
            std::ptr::eq(o.resource_type(), rt)
                && o.meta().namespace == namespace
                && o.meta().name == name
        };
        for ev in self.events_after(revision) {
            if matches(&ev.object) {
                return Ok(ev.prev.clone());
            }
        }
        Ok(self.get(rt, namespace, name).cloned())
    }

    /// Objects of a type, ordered by namespace then name (as etcd keys sort); all
    /// namespaces when `namespace` is None.
    pub fn list<'a>(
        &'a self,
        rt: &'static ResourceType,
        namespace: Option<&'a str>,
    ) -> Box<dyn Iterator<Item = &'a Arc<Object>> + 'a> {
        let Some(table) = self.tables.get(&table_key(rt)) else {
            return Box::new(std::iter::empty());
        };
        match namespace {
            None => Box::new(table.values().map(|s| &s.object)),
            Some(ns) => {
                let start = (ns, "");
                let from: (Bound<&dyn KeyRef>, Bound<&dyn KeyRef>) =
                    (Bound::Included(&start), Bound::Unbounded);
                Box::new(
                    table
                        .range::<dyn KeyRef, _>(from)
                        .take_while(move |((n, _), _)| n == ns)
                        .map(|(_, s)| &s.object),
                )
            }
        }
    }

    /// Number of stored objects of a type.
    pub fn count(&self, rt: &'static ResourceType) -> usize {
        self.tables.get(&table_key(rt)).map_or(0, BTreeMap::len)
    }

    fn next_revision(&mut self) -> u64 {
        self.revision += 1;
        self.revision
    }

    fn log_event(&mut self, ev: WatchEvent) {
        if self.log.len() == self.log_capacity {
            if let Some(old) = self.log.pop_front() {
                self.compacted = old.revision;
            }
        }
        self.log.push_back(ev);
    }

    /// Stores a new object; its resourceVersion becomes the new revision.
    pub fn create(&mut self, mut obj: Object) -> Result<Arc<Object>, StoreError> {
        let rt = obj.resource_type();
        let key = key_of(&obj);
        // One search of the table: the free slot is filled in place.
        let table = self.tables.entry(table_key(rt)).or_default();
        let std::collections::btree_map::Entry::Vacant(slot) = table.entry(key) else {
            return Err(StoreError::AlreadyExists);
        };
        let rev = self.revision + 1;
        obj.meta_mut().resource_version = rev.to_string();
        obj.release_spare_room();
        let obj = Arc::new(obj);
        slot.insert(Stored {
            object: obj.clone(),
            mod_revision: rev,
        });
        self.revision = rev;
        self.log_event(WatchEvent {
            revision: rev,
            kind: EventType::Added,
            object: obj.clone(),
            prev: None,
        });
        Ok(obj)
    }

    /// Replaces an object. With `expected` set, the write happens only if the stored
    /// object is still at that revision (optimistic concurrency).
    pub fn update(
        &mut self,
        mut obj: Object,
        expected: Option<u64>,
    ) -> Result<Arc<Object>, StoreError> {
        let rt = obj.resource_type();
        let key = key_of(&obj);
        let current = self
            .tables
            .get(&table_key(rt))
            .and_then(|t| t.get(&key))
            .ok_or(StoreError::NotFound)?;
        if let Some(rv) = expected {
            if rv != current.mod_revision {
                return Err(StoreError::Conflict);
            }
        }
        let prev = current.object.clone();
        let rev = self.next_revision();
        obj.meta_mut().resource_version = rev.to_string();
        obj.release_spare_room();
        let obj = Arc::new(obj);
        if let Some(t) = self.tables.get_mut(&table_key(rt)) {
            t.insert(
                key,
                Stored {
                    object: obj.clone(),
                    mod_revision: rev,
                },
            );
        }
        self.log_event(WatchEvent {
            revision: rev,
            kind: EventType::Modified,
            object: obj.clone(),
            prev: Some(prev),
        });
        Ok(obj)
    }

    /// Removes an object; returns its last state, stamped with the delete's revision
    /// (as a watch's DELETED event carries it).
    pub fn delete(
        &mut self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
        expected: Option<u64>,
    ) -> Result<Arc<Object>, StoreError> {
        let key = (namespace.to_string(), name.to_string());
        let table = self
            .tables
            .get_mut(&table_key(rt))
            .ok_or(StoreError::NotFound)?;
        let current = table.get(&key).ok_or(StoreError::NotFound)?;
        if let Some(rv) = expected {
            if rv != current.mod_revision {
                return Err(StoreError::Conflict);
            }
        }
        let prev = table
            .remove(&key)
            .map(|s| s.object)
            .ok_or(StoreError::NotFound)?;
        let rev = self.next_revision();
        let mut last = (*prev).clone();
        last.meta_mut().resource_version = rev.to_string();
        let last = Arc::new(last);
        self.log_event(WatchEvent {
            revision: rev,
            kind: EventType::Deleted,
            object: last.clone(),
            prev: Some(prev),
        });
        Ok(last)
    }

    /// Logged events with a revision greater than `revision`, oldest first.
    pub fn events_after(&self, revision: u64) -> impl Iterator<Item = &WatchEvent> {
        let first = self.log.front().map_or(self.revision + 1, |e| e.revision);
        let skip = (revision + 1).saturating_sub(first) as usize;
        self.log.iter().skip(skip)
    }

    /// Like [`Store::events_after`], but fails when part of that history is gone.
    pub fn watch_from(
        &self,
        revision: u64,
    ) -> Result<impl Iterator<Item = &WatchEvent>, StoreError> {
        if revision < self.compacted {
            return Err(StoreError::Compacted {
                requested: revision,
                oldest: self.compacted,
            });
        }
        Ok(self.events_after(revision))
    }

    /// The event written at exactly `revision`, if still logged.
    pub fn event_at(&self, revision: u64) -> Option<&WatchEvent> {
        let first = self.log.front()?.revision;
        self.log.get(revision.checked_sub(first)? as usize)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::api::core::{ConfigMap, Pod};
    use crate::api::object::{CONFIGMAPS, PODS};

    fn pod(ns: &str, name: &str) -> Object {
        let mut p = Pod::default();
        p.metadata.namespace = ns.into();
        p.metadata.name = name.into();
        Object::from(p)
    }

    #[test]
    fn revisions_are_cluster_wide_and_become_resource_versions() {
        let mut s = Store::default();
        let a = s.create(pod("default", "a")).unwrap();
        let mut cm = ConfigMap::default();
        cm.metadata.namespace = "default".into();
        cm.metadata.name = "c".into();
        let c = s.create(Object::from(cm)).unwrap();
        assert_eq!(a.meta().resource_version, "1");
        assert_eq!(c.meta().resource_version, "2");
        assert_eq!(
            s.create(pod("default", "a")).unwrap_err(),
            StoreError::AlreadyExists
        );
        assert_eq!(s.revision(), 2);
        assert_eq!(s.count(&CONFIGMAPS), 1);
    }

    #[test]
    fn stale_writes_conflict() {
        let mut s = Store::default();
        s.create(pod("default", "a")).unwrap();
        s.update(pod("default", "a"), Some(1)).unwrap();
        assert_eq!(
            s.update(pod("default", "a"), Some(1)).unwrap_err(),
            StoreError::Conflict
        );
        assert_eq!(
            s.delete(&PODS, "default", "a", Some(1)).unwrap_err(),
            StoreError::Conflict
        );
        assert_eq!(
            s.delete(&PODS, "default", "a", Some(2))
                .unwrap()
                .meta()
                .resource_version,
            "3"
        );
        assert_eq!(
            s.update(pod("default", "a"), None).unwrap_err(),
            StoreError::NotFound
        );
    }

    #[test]
    fn lists_are_ordered_and_scoped() {
        let mut s = Store::default();
        for (ns, n) in [("b", "x"), ("a", "z"), ("a", "y"), ("ab", "w")] {
            s.create(pod(ns, n)).unwrap();
        }
        let all: Vec<String> = s
            .list(&PODS, None)
            .map(|o| format!("{}/{}", o.namespace(), o.name()))
            .collect();
        assert_eq!(all, ["a/y", "a/z", "ab/w", "b/x"]);
        let a: Vec<&str> = s.list(&PODS, Some("a")).map(|o| o.name()).collect();
        assert_eq!(a, ["y", "z"]);
    }

    #[test]
    fn history_window_serves_watches_and_old_reads() {
        let mut s = Store::with_history(3);
        s.create(pod("d", "a")).unwrap(); // 1
        s.update(pod("d", "a"), None).unwrap(); // 2
        s.create(pod("d", "b")).unwrap(); // 3
        s.delete(&PODS, "d", "a", None).unwrap(); // 4, compacts revision 1
        assert_eq!(s.oldest_watchable(), 1);
        let revs: Vec<u64> = s.watch_from(1).unwrap().map(|e| e.revision).collect();
        assert_eq!(revs, [2, 3, 4]);
        let kinds: Vec<EventType> = s.watch_from(2).unwrap().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventType::Added, EventType::Deleted]);
        assert!(matches!(s.watch_from(0), Err(StoreError::Compacted { .. })));
        assert_eq!(
            s.get_at(&PODS, "d", "a", 2)
                .unwrap()
                .unwrap()
                .meta()
                .resource_version,
            "2"
        );
        assert!(s.get_at(&PODS, "d", "a", 4).unwrap().is_none());
        assert!(s.get_at(&PODS, "d", "b", 2).unwrap().is_none());
        assert_eq!(s.event_at(3).map(|e| e.kind), Some(EventType::Added));
    }
}
