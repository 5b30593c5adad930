//! The scheduling queue (upstream `backend/queue/scheduling_queue.go`): pods waiting to
//! be scheduled live in one of three places.
//!
//! - **activeQ**: ready for a cycle, popped highest priority first, then oldest
//!   (PrioritySort).
//! - **backoffQ**: failed recently; they wait `1s × 2^(attempts-1)` (capped at 10s by
//!   default) after their last failure before moving to activeQ.
//! - **unschedulablePods**: rejected by filters; they move back (to backoffQ or activeQ)
//!   when a cluster event that one of the rejecting plugins cares about happens, or
//!   after 5 minutes in the pool.
//!
//! In v1.31 queueing hints are disabled by default, so an event moves every pod whose
//! rejecting plugins registered for it, without asking the plugins.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::sync::Arc;

use crate::kernel::{Nanos, NANOS_PER_SEC};

use super::framework::types::PodInfo;

/// `podMaxInUnschedulablePodsDuration`.
pub const MAX_IN_UNSCHEDULABLE: Nanos = 5 * 60 * NANOS_PER_SEC;
/// How often leftover unschedulable pods are flushed.
pub const UNSCHEDULABLE_FLUSH_PERIOD: Nanos = 30 * NANOS_PER_SEC;
/// How often completed backoffs are flushed.
pub const BACKOFF_FLUSH_PERIOD: Nanos = NANOS_PER_SEC;

/// Where a queued pod is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Active,
    Backoff,
    Unschedulable,
    /// Popped; a cycle is running for it.
    InFlight,
}

impl Place {
    pub fn as_str(self) -> &'static str {
        match self {
            Place::Active => "activeQ",
            Place::Backoff => "backoffQ",
            Place::Unschedulable => "unschedulablePods",
            Place::InFlight => "in flight",
        }
    }
}

/// `framework.QueuedPodInfo`.
#[derive(Clone, Debug)]
pub struct QueuedPod {
    pub info: Arc<PodInfo>,
    /// The profile that schedules it.
    pub profile: usize,
    /// Scheduling attempts so far.
    pub attempts: u32,
    /// When it last entered the queue (or failed).
    pub timestamp: Nanos,
    /// The plugins that rejected it last time (names as configured).
    pub unschedulable_plugins: BTreeSet<String>,
    /// Held back by PreEnqueue (scheduling gates).
    pub gated: bool,
    pub place: Place,
    seq: u64,
}

/// activeQ's order: priority, then the earlier timestamp, then arrival; and the key.
type ActiveEntry = (i32, Reverse<Nanos>, Reverse<u64>, Arc<str>);

/// The queue.
pub struct SchedulingQueue {
    pods: HashMap<Arc<str>, QueuedPod>,
    active: BinaryHeap<ActiveEntry>,
    backoff: BinaryHeap<(Reverse<Nanos>, Reverse<u64>, Arc<str>)>,
    /// Unschedulable pods in the order they arrived.
    unschedulable: BTreeMap<u64, Arc<str>>,
    next_seq: u64,
    initial_backoff: Nanos,
    max_backoff: Nanos,
    /// The scheduling cycle of the last move request.
    move_request_cycle: i64,
}

/// `isPodUpdated`: whether anything but the status (and bookkeeping metadata) changed.
pub fn is_pod_updated(old: &crate::api::core::Pod, new: &crate::api::core::Pod) -> bool {
    let strip = |p: &crate::api::core::Pod| {
        let mut m = p.metadata.clone();
        m.resource_version.clear();
        m.generation = 0;
        m.managed_fields.clear();
        m.finalizers.clear();
        m
    };
    old.spec != new.spec || strip(old) != strip(new)
}

/// What happened to a pod in the queue, for the trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move {
    pub key: Arc<str>,
    pub to: Place,
}

impl SchedulingQueue {
    pub fn new(initial_backoff: Nanos, max_backoff: Nanos) -> SchedulingQueue {
        SchedulingQueue {
            pods: HashMap::new(),
            active: BinaryHeap::new(),
            backoff: BinaryHeap::new(),
            unschedulable: BTreeMap::new(),
            next_seq: 0,
            initial_backoff,
            max_backoff,
            move_request_cycle: -1,
        }
    }

    pub fn len(&self) -> usize {
        self.pods.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pods.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&QueuedPod> {
        self.pods.get(key)
    }

    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for p in self.pods.values() {
            match p.place {
                Place::Active => c.0 += 1,
                Place::Backoff => c.1 += 1,
                Place::Unschedulable => c.2 += 1,
                Place::InFlight => {}
            }
        }
        c
    }

    /// Whether a pod waits in activeQ (drops stale heap entries on the way).
    pub fn has_active(&mut self) -> bool {
        while let Some((_, _, Reverse(seq), k)) = self.active.peek() {
            if self.is_current(k, *seq, Place::Active) {
                return true;
            }
            self.active.pop();
        }
        false
    }

    fn is_current(&self, key: &str, seq: u64, place: Place) -> bool {
        self.pods
            .get(key)
            .is_some_and(|p| p.seq == seq && p.place == place)
    }

    fn bump(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    fn place_active(&mut self, key: &Arc<str>) {
        let seq = self.bump();
        if let Some(p) = self.pods.get_mut(key) {
            p.seq = seq;
            p.place = Place::Active;
            self.active.push((
                p.info.priority,
                Reverse(p.timestamp),
                Reverse(seq),
                key.clone(),
            ));
        }
    }

    fn place_backoff(&mut self, key: &Arc<str>) {
        let seq = self.bump();
        let expiry = self.pods.get(key).map(|p| self.backoff_expiry(p));
        if let (Some(p), Some(expiry)) = (self.pods.get_mut(key), expiry) {
            p.seq = seq;
            p.place = Place::Backoff;
            self.backoff
                .push((Reverse(expiry), Reverse(seq), key.clone()));
        }
    }

    fn place_unschedulable(&mut self, key: &Arc<str>) {
        let seq = self.bump();
        if let Some(p) = self.pods.get_mut(key) {
            p.seq = seq;
            p.place = Place::Unschedulable;
            self.unschedulable.insert(seq, key.clone());
        }
    }

    fn unplace(&mut self, key: &str) {
        if let Some(p) = self.pods.get(key) {
            if p.place == Place::Unschedulable {
                self.unschedulable.remove(&p.seq);
            }
        }
    }

    /// `calculateBackoffDuration`: initial × 2^(attempts-1), capped.
    pub fn backoff_duration(&self, attempts: u32) -> Nanos {
        let mut d = self.initial_backoff;
        for _ in 1..attempts {
            if d > self.max_backoff.saturating_sub(d) {
                return self.max_backoff;
            }
            d += d;
        }
        d.min(self.max_backoff)
    }

    pub fn backoff_expiry(&self, p: &QueuedPod) -> Nanos {
        p.timestamp
            .saturating_add(self.backoff_duration(p.attempts))
    }

    fn backing_off(&self, p: &QueuedPod, now: Nanos) -> bool {
        !p.gated && p.attempts > 0 && self.backoff_expiry(p) > now
    }

    /// A new unscheduled pod: into activeQ, or the unschedulable pool when gated.
    pub fn add(&mut self, info: Arc<PodInfo>, profile: usize, gated: bool, now: Nanos) -> Place {
        let key = info.key.clone();
        if self.pods.contains_key(&key) {
            return self.update(info, gated, now).unwrap_or(Place::InFlight);
        }
        self.pods.insert(
            key.clone(),
            QueuedPod {
                info,
                profile,
                attempts: 0,
                timestamp: now,
                unschedulable_plugins: BTreeSet::new(),
                gated,
                place: Place::Active,
                seq: 0,
            },
        );
        if gated {
            self.place_unschedulable(&key);
            Place::Unschedulable
        } else {
            self.place_active(&key);
            Place::Active
        }
    }

    /// The pod changed while queued: keep the new version; an unschedulable (or gated)
    /// pod whose update may make it schedulable moves on. Returns where it went if it moved.
    pub fn update(&mut self, info: Arc<PodInfo>, gated: bool, now: Nanos) -> Option<Place> {
        let key = info.key.clone();
        let p = self.pods.get_mut(&key)?;
        let updated = is_pod_updated(p.info.pod(), info.pod());
        p.info = info;
        p.gated = gated;
        match p.place {
            Place::Unschedulable if !gated && updated => {
                self.unplace(&key);
                let backing_off = self
                    .pods
                    .get(&key)
                    .is_some_and(|p| self.backing_off(p, now));
                if backing_off {
                    self.place_backoff(&key);
                    Some(Place::Backoff)
                } else {
                    self.place_active(&key);
                    Some(Place::Active)
                }
            }
            _ => None,
        }
    }

    /// Removes a pod from the queue (deleted, or bound elsewhere).
    pub fn delete(&mut self, key: &str) -> bool {
        self.unplace(key);
        self.pods.remove(key).is_some()
    }

    /// Pops the next pod for a cycle (it stays known, in flight, until `done` or a
    /// requeue).
    pub fn pop(&mut self) -> Option<QueuedPod> {
        while let Some((_, _, Reverse(seq), key)) = self.active.pop() {
            if !self.is_current(&key, seq, Place::Active) {
                continue;
            }
            let p = self.pods.get_mut(&key)?;
            p.place = Place::InFlight;
            p.attempts += 1;
            return Some(p.clone());
        }
        None
    }

    /// The cycle for this pod is over (it was bound or dropped).
    pub fn done(&mut self, key: &str) {
        if self
            .pods
            .get(key)
            .is_some_and(|p| p.place == Place::InFlight)
        {
            self.pods.remove(key);
        }
    }

    /// `AddUnschedulableIfNotPresent`: a failed pod goes back, to backoffQ when a move
    /// request came during its cycle or no plugin rejected it (an error), else to the
    /// unschedulable pool.
    pub fn requeue_failed(
        &mut self,
        key: &str,
        info: Arc<PodInfo>,
        rejectors: BTreeSet<String>,
        cycle: i64,
        now: Nanos,
    ) -> Option<Place> {
        let key: Arc<str> = self.pods.get_key_value(key)?.0.clone();
        let p = self.pods.get_mut(&key)?;
        if p.place != Place::InFlight {
            return None;
        }
        p.info = info;
        p.timestamp = now;
        let to_backoff = self.move_request_cycle >= cycle || rejectors.is_empty();
        p.unschedulable_plugins = rejectors;
        if to_backoff {
            self.place_backoff(&key);
            Some(Place::Backoff)
        } else {
            self.place_unschedulable(&key);
            Some(Place::Unschedulable)
        }
    }

    /// Moves unschedulable pods for which `matches` says the event may help.
    pub fn move_matching(
        &mut self,
        cycle: i64,
        now: Nanos,
        mut matches: impl FnMut(&QueuedPod) -> bool,
    ) -> Vec<Move> {
        self.move_request_cycle = cycle;
        let keys: Vec<Arc<str>> = self
            .unschedulable
            .values()
            .filter(|k| self.pods.get(*k).is_some_and(|p| !p.gated && matches(p)))
            .cloned()
            .collect();
        let mut moves = Vec::new();
        for key in keys {
            self.unplace(&key);
            let backing_off = self
                .pods
                .get(&key)
                .is_some_and(|p| self.backing_off(p, now));
            let to = if backing_off {
                self.place_backoff(&key);
                Place::Backoff
            } else {
                self.place_active(&key);
                Place::Active
            };
            moves.push(Move { key, to });
        }
        moves
    }

    /// `flushBackoffQCompleted`: pods whose backoff ended move to activeQ.
    pub fn flush_backoff(&mut self, now: Nanos) -> Vec<Move> {
        let mut moves = Vec::new();
        while let Some((Reverse(expiry), Reverse(seq), key)) = self.backoff.peek().cloned() {
            if !self.is_current(&key, seq, Place::Backoff) {
                self.backoff.pop();
                continue;
            }
            if expiry > now {
                break;
            }
            self.backoff.pop();
            self.place_active(&key);
            moves.push(Move {
                key,
                to: Place::Active,
            });
        }
        moves
    }

    /// The earliest backoff expiry still pending.
    pub fn next_backoff_expiry(&self) -> Option<Nanos> {
        self.backoff
            .iter()
            .filter(|(_, Reverse(seq), k)| self.is_current(k, *seq, Place::Backoff))
            .map(|(Reverse(e), _, _)| *e)
            .min()
    }

    /// `flushUnschedulablePodsLeftover`: pods unschedulable for longer than 5 minutes.
    pub fn flush_unschedulable_leftover(&mut self, cycle: i64, now: Nanos) -> Vec<Move> {
        self.move_matching(cycle, now, |p| {
            now.saturating_sub(p.timestamp) > MAX_IN_UNSCHEDULABLE
        })
    }

    pub fn has_unschedulable(&self) -> bool {
        !self.unschedulable.is_empty()
    }

    /// Unschedulable pods (for views and nominated-pod lookups).
    pub fn unschedulable_keys(&self) -> impl Iterator<Item = &Arc<str>> {
        self.unschedulable.values()
    }

    pub fn pods(&self) -> impl Iterator<Item = &QueuedPod> {
        self.pods.values()
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::api::Object;
    use crate::scheduler::framework::types::ResourceModel;

    fn info(name: &str, priority: i32) -> Arc<PodInfo> {
        let mut p = crate::api::core::Pod::default();
        p.metadata.name = name.into();
        p.metadata.namespace = "default".into();
        p.spec.priority = Some(priority);
        Arc::new(PodInfo::new(Arc::new(Object::from(p)), ResourceModel::Current).unwrap())
    }

    #[test]
    fn pops_by_priority_then_age() {
        let mut q = SchedulingQueue::new(NANOS_PER_SEC, 10 * NANOS_PER_SEC);
        q.add(info("old-low", 0), 0, false, 1);
        q.add(info("new-high", 10), 0, false, 2);
        q.add(info("new-low", 0), 0, false, 3);
        let order: Vec<String> =
            std::iter::from_fn(|| q.pop().map(|p| p.info.name().to_string())).collect();
        assert_eq!(order, ["new-high", "old-low", "new-low"]);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let q = SchedulingQueue::new(NANOS_PER_SEC, 10 * NANOS_PER_SEC);
        let secs: Vec<u64> = (1..=6)
            .map(|a| q.backoff_duration(a) / NANOS_PER_SEC)
            .collect();
        assert_eq!(secs, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn failed_pods_wait_then_move() {
        let mut q = SchedulingQueue::new(NANOS_PER_SEC, 10 * NANOS_PER_SEC);
        q.add(info("a", 0), 0, false, 0);
        let p = q.pop().unwrap();
        let plugins: BTreeSet<String> = ["NodeResourcesFit".to_string()].into();
        assert_eq!(
            q.requeue_failed("default/a", p.info.clone(), plugins, 1, 0),
            Some(Place::Unschedulable)
        );
        assert!(q.pop().is_none());
        // An event at 0.5s: still backing off (1s), so it goes to backoffQ.
        let moves = q.move_matching(2, NANOS_PER_SEC / 2, |_| true);
        assert_eq!(moves[0].to, Place::Backoff);
        assert!(q.flush_backoff(NANOS_PER_SEC / 2).is_empty());
        assert_eq!(q.flush_backoff(NANOS_PER_SEC).len(), 1);
        assert_eq!(q.pop().unwrap().attempts, 2);
    }
}
