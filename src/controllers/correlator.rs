//! client-go's `EventCorrelator` (k8s.io/client-go/tools/record/events_cache.go,
//! v1.31), which every legacy event recorder passes its Events through before
//! writing them:
//!
//! 1. **Aggregation.** Events that differ only in their message (same source,
//!    object, type and reason) are counted per group; from the tenth distinct
//!    message within 10 minutes on, each is written as one aggregate Event,
//!    `(combined from similar events): MESSAGE`.
//! 2. **Counting.** An Event seen before (the same one, or the group's aggregate)
//!    is not written again: the earlier one's `count` goes up by one and its
//!    `lastTimestamp` (and message) are patched.
//! 3. **Spam filter.** A source may write 25 Events about one object, then one per
//!    5 minutes (a token bucket per source and object); the rest are dropped.
//!
//! So a ReplicaSet that creates 150,000 pods leaves nine `SuccessfulCreate` Events
//! and one aggregate, as a real cluster does, not 150,000.
//!
//! Each of the three caches holds at most 4,096 keys, least recently used first out,
//! as upstream's. Simplification: when an aggregation group has seen ten messages it
//! forgets one of them; upstream forgets one at random (Go's map order), this one
//! forgets the first in byte order, so that runs stay deterministic.

use std::collections::{BTreeMap, BTreeSet};

use crate::api::core::Event;
use crate::kernel::{Nanos, NANOS_PER_SEC};

/// `maxLruCacheEntries`.
pub const MAX_LRU_CACHE_ENTRIES: usize = 4096;
/// `defaultAggregateMaxEvents`.
pub const AGGREGATE_MAX_EVENTS: usize = 10;
/// `defaultAggregateIntervalInSeconds`.
pub const AGGREGATE_INTERVAL: Nanos = 600 * NANOS_PER_SEC;
/// `defaultSpamBurst`.
pub const SPAM_BURST: u64 = 25;
/// `defaultSpamQPS` is 1/300: one token every 5 minutes.
pub const SPAM_REFILL: Nanos = 300 * NANOS_PER_SEC;
/// `EventAggregatorByReasonMessageFunc`'s prefix.
pub const AGGREGATE_PREFIX: &str = "(combined from similar events): ";

/// A least-recently-used map of at most `cap` keys (groupcache's `lru.Cache`).
#[derive(Debug)]
struct Lru<V> {
    map: BTreeMap<String, (V, u64)>,
    by_use: BTreeMap<u64, String>,
    tick: u64,
    cap: usize,
}

impl<V> Lru<V> {
    fn new(cap: usize) -> Lru<V> {
        Lru {
            map: BTreeMap::new(),
            by_use: BTreeMap::new(),
            tick: 0,
            cap,
        }
    }

    fn touch(&mut self, key: &str) {
        if let Some((_, used)) = self.map.get_mut(key) {
            self.by_use.remove(used);
            self.tick += 1;
            *used = self.tick;
            self.by_use.insert(self.tick, key.to_string());
        }
    }

    /// The value, marked as just used.
    fn get(&mut self, key: &str) -> Option<&mut V> {
        self.touch(key);
        self.map.get_mut(key).map(|(v, _)| v)
    }

    /// Sets the value (marked as just used); the least recently used key goes if
    /// the map is over its size.
    fn add(&mut self, key: String, value: V) {
        if let Some((v, _)) = self.map.get_mut(&key) {
            *v = value;
            self.touch(&key);
            return;
        }
        self.tick += 1;
        self.by_use.insert(self.tick, key.clone());
        self.map.insert(key, (value, self.tick));
        if self.map.len() > self.cap {
            if let Some((_, oldest)) = self.by_use.pop_first() {
                self.map.remove(&oldest);
            }
        }
    }
}

fn join(parts: &[&str]) -> String {
    parts.join("\u{0}")
}

/// The source and the object, as all three keys begin (`getSpamKey`'s fields).
fn source_and_object(e: &Event) -> Vec<&str> {
    let o = &e.involved_object;
    vec![
        &e.source.component,
        &e.source.host,
        &o.kind,
        &o.namespace,
        &o.name,
        &o.uid,
        &o.api_version,
    ]
}

/// `getEventKey`: source, object (with field path), type, reason and message. (The
/// keys only compare for equality, so their fields' order need not be upstream's.)
fn event_key(e: &Event) -> String {
    let mut parts = source_and_object(e);
    parts.extend([
        &*e.involved_object.field_path,
        &e.kind,
        &e.reason,
        &e.message,
    ]);
    join(&parts)
}

/// `getSpamKey`: source and object.
fn spam_key(e: &Event) -> String {
    join(&source_and_object(e))
}

/// `EventAggregatorByReasonFunc`'s group: everything but the message.
fn aggregate_key(e: &Event) -> String {
    let mut parts = source_and_object(e);
    parts.extend([
        &*e.kind,
        &e.reason,
        &e.reporting_component,
        &e.reporting_instance,
    ]);
    join(&parts)
}

#[derive(Debug)]
struct AggregateRecord {
    messages: BTreeSet<String>,
    last: Nanos,
}

/// What the correlator remembers of an Event it let through (`eventLog`).
#[derive(Clone, Debug)]
struct EventLog {
    count: i32,
    first: Option<crate::api::time::Time>,
    name: String,
}

/// A token bucket in nanoseconds of credit: each Event costs [`SPAM_REFILL`], and
/// the bucket holds [`SPAM_BURST`] of them.
#[derive(Debug)]
struct Bucket {
    credit: u128,
    at: Nanos,
}

/// What to do with an Event.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Write it as a new Event.
    Create(Event),
    /// An Event named as this one already says it: raise its count, last
    /// timestamp and message to this one's.
    Patch(Event),
    /// Drop it: its source has written its share of Events about this object.
    Skip,
}

/// One recorder's correlator (`NewEventCorrelator` with upstream's defaults).
#[derive(Debug)]
pub struct EventCorrelator {
    aggregates: Lru<AggregateRecord>,
    seen: Lru<EventLog>,
    spam: Lru<Bucket>,
}

impl Default for EventCorrelator {
    fn default() -> Self {
        EventCorrelator {
            aggregates: Lru::new(MAX_LRU_CACHE_ENTRIES),
            seen: Lru::new(MAX_LRU_CACHE_ENTRIES),
            spam: Lru::new(MAX_LRU_CACHE_ENTRIES),
        }
    }
}

impl EventCorrelator {
    /// `EventCorrelate`: aggregate, count, then filter. `event` carries the name a
    /// new Event would get; `aggregate_name` is the name an aggregate Event gets.
    pub fn correlate(&mut self, event: Event, aggregate_name: String, now: Nanos) -> Verdict {
        let (event, key) = self.aggregate(event, aggregate_name, now);
        let (event, patch) = self.observe(event, key);
        if self.filter(&event, now) {
            return Verdict::Skip;
        }
        if patch {
            Verdict::Patch(event)
        } else {
            Verdict::Create(event)
        }
    }

    /// `UpdateState`: what the API server answered for a written Event.
    pub fn written(&mut self, event: &Event) {
        self.seen.add(
            event_key(event),
            EventLog {
                count: event.count,
                first: event.first_timestamp,
                name: event.metadata.name.clone(),
            },
        );
    }

    /// `EventAggregate`: the Event itself while its group has seen fewer than ten
    /// messages in the last 10 minutes, else the group's aggregate Event.
    fn aggregate(&mut self, event: Event, aggregate_name: String, now: Nanos) -> (Event, String) {
        let group = aggregate_key(&event);
        let fresh = AggregateRecord {
            messages: BTreeSet::new(),
            last: now,
        };
        if self
            .aggregates
            .get(&group)
            .is_none_or(|r| now.saturating_sub(r.last) > AGGREGATE_INTERVAL)
        {
            self.aggregates.add(group.clone(), fresh);
        }
        let Some(record) = self.aggregates.get(&group) else {
            return (event.clone(), event_key(&event));
        };
        record.messages.insert(event.message.clone());
        record.last = now;
        if record.messages.len() < AGGREGATE_MAX_EVENTS {
            let key = event_key(&event);
            return (event, key);
        }
        record.messages.pop_first();
        let mut agg = Event::default();
        agg.metadata.name = aggregate_name;
        agg.metadata.namespace = event.metadata.namespace.clone();
        agg.count = 1;
        agg.first_timestamp = event.last_timestamp;
        agg.last_timestamp = event.last_timestamp;
        agg.involved_object = event.involved_object;
        agg.message = format!("{AGGREGATE_PREFIX}{}", event.message);
        agg.kind = event.kind;
        agg.reason = event.reason;
        agg.source = event.source;
        (agg, group)
    }

    /// `eventObserve`: an Event seen before takes the earlier one's name and first
    /// timestamp, and its count plus one.
    fn observe(&mut self, mut event: Event, key: String) -> (Event, bool) {
        let last = self.seen.get(&key).cloned().filter(|l| l.count > 0);
        let patch = last.is_some();
        if let Some(last) = last {
            event.metadata.name = last.name;
            event.first_timestamp = last.first;
            event.count = last.count + 1;
        }
        self.seen.add(
            key,
            EventLog {
                count: event.count,
                first: event.first_timestamp,
                name: event.metadata.name.clone(),
            },
        );
        (event, patch)
    }

    /// `EventSourceObjectSpamFilter.Filter`: whether the Event is dropped.
    fn filter(&mut self, event: &Event, now: Nanos) -> bool {
        let full = u128::from(SPAM_BURST) * u128::from(SPAM_REFILL);
        let key = spam_key(event);
        if self.spam.get(&key).is_none() {
            self.spam.add(
                key.clone(),
                Bucket {
                    credit: full,
                    at: now,
                },
            );
        }
        let Some(b) = self.spam.get(&key) else {
            return false;
        };
        b.credit = (b.credit + u128::from(now.saturating_sub(b.at))).min(full);
        b.at = b.at.max(now);
        if b.credit >= u128::from(SPAM_REFILL) {
            b.credit -= u128::from(SPAM_REFILL);
            false
        } else {
            true
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::api::time::Time;

    fn event(message: &str, now: Nanos) -> Event {
        let mut e = Event::default();
        e.metadata.name = format!("web.{now:x}");
        e.metadata.namespace = "default".into();
        e.involved_object.kind = "ReplicaSet".into();
        e.involved_object.namespace = "default".into();
        e.involved_object.name = "web".into();
        e.involved_object.uid = "u1".into();
        e.reason = "SuccessfulCreate".into();
        e.message = message.into();
        e.kind = "Normal".into();
        e.source.component = "replicaset-controller".into();
        e.count = 1;
        e.first_timestamp = Some(Time::from_virtual_nanos(now));
        e.last_timestamp = e.first_timestamp;
        e
    }

    /// Feeds `n` distinct messages at `now` and writes what comes through.
    fn feed(c: &mut EventCorrelator, from: usize, n: usize, now: Nanos) -> Vec<Verdict> {
        (from..from + n)
            .map(|i| {
                let v = c.correlate(
                    event(&format!("Created pod: web-{i}"), now),
                    format!("agg-{i}"),
                    now,
                );
                if let Verdict::Create(e) | Verdict::Patch(e) = &v {
                    c.written(e);
                }
                v
            })
            .collect()
    }

    #[test]
    fn nine_events_then_one_aggregate_then_the_spam_filter() {
        let mut c = EventCorrelator::default();
        let out = feed(&mut c, 0, 30, 0);
        // Nine distinct messages go through as they are.
        for (i, v) in out[..9].iter().enumerate() {
            let Verdict::Create(e) = v else {
                panic!("event {i}: {v:?}")
            };
            assert_eq!(e.message, format!("Created pod: web-{i}"));
        }
        // The tenth starts the aggregate, and the next ones count on it.
        let Verdict::Create(agg) = &out[9] else {
            panic!("{:?}", out[9])
        };
        assert_eq!(agg.metadata.name, "agg-9");
        assert_eq!(agg.message, format!("{AGGREGATE_PREFIX}Created pod: web-9"));
        assert_eq!(agg.count, 1);
        for (i, v) in out[10..25].iter().enumerate() {
            let Verdict::Patch(e) = v else {
                panic!("event {}: {v:?}", i + 10)
            };
            assert_eq!(e.metadata.name, "agg-9");
            assert_eq!(e.count, i as i32 + 2);
            assert_eq!(
                e.message,
                format!("{AGGREGATE_PREFIX}Created pod: web-{}", i + 10)
            );
        }
        // 25 written: the bucket is empty.
        assert!(out[25..].iter().all(|v| *v == Verdict::Skip));
        // Five minutes later one more token: the aggregate's count includes the
        // dropped ones, as upstream's (it counts before it filters).
        let later = feed(&mut c, 30, 2, SPAM_REFILL);
        let Verdict::Patch(e) = &later[0] else {
            panic!("{:?}", later[0])
        };
        assert_eq!((e.metadata.name.as_str(), e.count), ("agg-9", 22));
        assert_eq!(later[1], Verdict::Skip);
    }

    #[test]
    fn the_same_event_again_is_counted_not_written_twice() {
        let mut c = EventCorrelator::default();
        let first = c.correlate(event("Back-off", 0), "agg".into(), 0);
        let Verdict::Create(e) = first else {
            panic!("{first:?}")
        };
        c.written(&e);
        let again = c.correlate(
            event("Back-off", NANOS_PER_SEC),
            "agg".into(),
            NANOS_PER_SEC,
        );
        let Verdict::Patch(p) = again else {
            panic!("{again:?}")
        };
        assert_eq!((p.metadata.name, p.count), (e.metadata.name, 2));
        assert_eq!(p.first_timestamp, e.first_timestamp);
        assert_eq!(
            p.last_timestamp,
            Some(Time::from_virtual_nanos(NANOS_PER_SEC))
        );
    }

    #[test]
    fn an_aggregation_group_starts_over_after_ten_quiet_minutes() {
        let mut c = EventCorrelator::default();
        feed(&mut c, 0, 9, 0);
        let later = AGGREGATE_INTERVAL + 1;
        let out = feed(&mut c, 9, 1, later);
        assert!(
            matches!(&out[0], Verdict::Create(e) if e.message == "Created pod: web-9"),
            "{out:?}"
        );
    }

    #[test]
    fn the_caches_forget_the_least_recently_used_key() {
        let mut lru = Lru::new(2);
        lru.add("a".into(), 1);
        lru.add("b".into(), 2);
        assert_eq!(lru.get("a"), Some(&mut 1));
        lru.add("c".into(), 3);
        assert!(lru.get("b").is_none());
        assert_eq!(lru.get("a"), Some(&mut 1));
        assert_eq!(lru.get("c"), Some(&mut 3));
    }
}
