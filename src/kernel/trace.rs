//! The trace: one entry for every action any component takes, saying who acted, what
//! it did and why, and which objects (at which revisions) it touched. The UI is a
//! view over this; tests read it to check that every step explains itself.
//!
//! Memory is bounded: the newest `capacity` entries are kept in full; older ones
//! leave behind only a count per actor (rebuilt in full by replay when needed).

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use super::clock::Nanos;

/// Text in the trace: a constant, a shared string or an owned one, so that the
/// phrases repeated in every entry cost no allocation.
#[derive(Clone, Debug, Eq)]
pub enum Text {
    Static(&'static str),
    Shared(Arc<str>),
    Owned(String),
}

impl Text {
    pub fn as_str(&self) -> &str {
        match self {
            Text::Static(s) => s,
            Text::Shared(s) => s,
            Text::Owned(s) => s,
        }
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::Static("")
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<&'static str> for Text {
    fn from(s: &'static str) -> Text {
        Text::Static(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::Owned(s)
    }
}

impl From<Arc<str>> for Text {
    fn from(s: Arc<str>) -> Text {
        Text::Shared(s)
    }
}

impl From<&Arc<str>> for Text {
    fn from(s: &Arc<str>) -> Text {
        Text::Shared(s.clone())
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An object an entry touched, at the revision it had then.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObjRef {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    pub name: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub revision: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl ObjRef {
    pub fn new(kind: &'static str, namespace: &str, name: &str, revision: u64) -> ObjRef {
        ObjRef {
            kind,
            namespace: namespace.into(),
            name: name.into(),
            revision,
        }
    }
}

/// One stage of an API request (authentication, authorization, admission,
/// validation, storage) and what it decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stage {
    pub name: &'static str,
    /// `passed`, `failed` or `skipped`.
    pub outcome: &'static str,
    pub reason: Text,
}

impl Stage {
    pub fn passed(name: &'static str, reason: impl Into<Text>) -> Stage {
        Stage {
            name,
            outcome: "passed",
            reason: reason.into(),
        }
    }
    pub fn failed(name: &'static str, reason: impl Into<Text>) -> Stage {
        Stage {
            name,
            outcome: "failed",
            reason: reason.into(),
        }
    }
}

/// What kind of action an entry records, with its particulars.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum TraceDetail {
    /// A plain action.
    Note,
    /// A request to the API server and its path through the stages.
    Request {
        method: &'static str,
        path: String,
        user: Text,
        code: u16,
        stages: Vec<Stage>,
    },
    /// A change in the store delivered to watchers.
    Watch {
        event: &'static str,
        revision: u64,
        /// The receiving components, in delivery order: the same few lists recur for
        /// every write, so entries share them.
        #[serde(serialize_with = "shared_list")]
        watchers: Arc<[Text]>,
    },
    /// A step of a scenario or an action of a person.
    Input { step: String },
}

fn shared_list<S: Serializer>(list: &Arc<[Text]>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(list.iter())
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceEntry {
    pub seq: u64,
    pub time: Nanos,
    /// Who acted: `apiserver`, `scheduler`, `kubelet/node-1`, `serviceaccount-controller`.
    pub actor: Text,
    /// What it did, in a few words.
    pub action: Text,
    /// Why, in plain words.
    pub reason: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ObjRef>,
    pub detail: TraceDetail,
}

impl Text {
    fn release_spare_room(&mut self) {
        if let Text::Owned(s) = self {
            s.shrink_to_fit();
        }
    }
}

impl TraceEntry {
    /// Gives back the room its lists and texts were built with and no longer need:
    /// a kept entry holds exactly its contents (the window holds 200,000 of them).
    fn release_spare_room(&mut self) {
        self.actor.release_spare_room();
        self.action.release_spare_room();
        self.reason.release_spare_room();
        self.objects.shrink_to_fit();
        match &mut self.detail {
            TraceDetail::Request { path, stages, .. } => {
                path.shrink_to_fit();
                stages.shrink_to_fit();
                for s in stages.iter_mut() {
                    s.reason.release_spare_room();
                }
            }
            TraceDetail::Input { step } => step.shrink_to_fit(),
            TraceDetail::Note | TraceDetail::Watch { .. } => {}
        }
    }
}

/// The bounded trace.
#[derive(Clone, Debug)]
pub struct Trace {
    entries: VecDeque<TraceEntry>,
    capacity: usize,
    next_seq: u64,
    /// Entries that left the window, counted per actor.
    dropped: BTreeMap<Text, u64>,
}

/// Entries kept in full by default.
pub const DEFAULT_TRACE_CAPACITY: usize = 200_000;

impl Default for Trace {
    fn default() -> Self {
        Trace::with_capacity(DEFAULT_TRACE_CAPACITY)
    }
}

impl Trace {
    pub fn with_capacity(capacity: usize) -> Trace {
        Trace {
            entries: VecDeque::new(),
            capacity: capacity.max(1),
            next_seq: 1,
            dropped: BTreeMap::new(),
        }
    }

    /// Records an entry; returns its sequence number.
    pub fn record(
        &mut self,
        time: Nanos,
        actor: impl Into<Text>,
        action: impl Into<Text>,
        reason: impl Into<Text>,
        objects: Vec<ObjRef>,
        detail: TraceDetail,
    ) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.entries.len() == self.capacity {
            if let Some(old) = self.entries.pop_front() {
                *self.dropped.entry(old.actor).or_default() += 1;
            }
        }
        let mut entry = TraceEntry {
            seq,
            time,
            actor: actor.into(),
            action: action.into(),
            reason: reason.into(),
            objects,
            detail,
        };
        entry.release_spare_room();
        self.entries.push_back(entry);
        seq
    }

    /// The entries still held in full, oldest first.
    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &TraceEntry> + ExactSizeIterator {
        self.entries.iter()
    }

    /// Entries with a sequence number >= `seq`.
    pub fn since(&self, seq: u64) -> impl Iterator<Item = &TraceEntry> {
        let first = self.entries.front().map_or(seq, |e| e.seq);
        let skip = seq.saturating_sub(first) as usize;
        self.entries.iter().skip(skip)
    }

    pub fn get(&self, seq: u64) -> Option<&TraceEntry> {
        let first = self.entries.front()?.seq;
        self.entries.get(seq.checked_sub(first)? as usize)
    }

    /// The sequence number the next entry will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Counts of entries that left the window, per actor.
    pub fn dropped(&self) -> &BTreeMap<Text, u64> {
        &self.dropped
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A readable line per entry (`[0.000s] apiserver: create pods default/web - ...`).
    pub fn render(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            out.push_str(&format!(
                "[{}.{:03}s] #{} {}: {} -- {}\n",
                e.time / 1_000_000_000,
                (e.time / 1_000_000) % 1000,
                e.seq,
                e.actor,
                e.action,
                e.reason
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn window_keeps_newest_and_counts_the_rest() {
        let mut t = Trace::with_capacity(3);
        for i in 0..5u64 {
            t.record(
                i,
                if i % 2 == 0 { "a" } else { "b" },
                "act",
                "why",
                vec![],
                TraceDetail::Note,
            );
        }
        let seqs: Vec<u64> = t.entries().map(|e| e.seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
        assert_eq!(t.dropped().get("a"), Some(&1));
        assert_eq!(t.dropped().get("b"), Some(&1));
        assert_eq!(t.since(4).map(|e| e.seq).collect::<Vec<_>>(), [4, 5]);
        assert_eq!(t.get(3).map(|e| e.time), Some(2));
        assert!(t.get(1).is_none());
    }
}
