//! Connection tracking and the `recent` match's lists.
//!
//! An entry is keyed by the connection's original tuple (as its first packet came,
//! before NAT) and also found by its reply tuple (the first packet's tuple after NAT,
//! reversed), so a reply is recognised and un-NATed, and every later packet of the
//! connection gets the NAT its first packet got: the connection keeps its endpoint.
//! Entries expire after the kernel's timeouts (kube-proxy sets the TCP established
//! timeout to 24h); expiry is checked lazily against the virtual time a packet brings.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::Ipv4Addr;

use serde::Serialize;

use super::Proto;

/// A connection's direction-specific five-tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Tuple {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub proto: Proto,
    pub sport: u16,
    pub dport: u16,
}

impl Tuple {
    pub fn reversed(self) -> Tuple {
        Tuple {
            src: self.dst,
            dst: self.src,
            proto: self.proto,
            sport: self.dport,
            dport: self.sport,
        }
    }
}

/// The conntrack state a packet has, as `--ctstate` tests it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CtState {
    New,
    Established,
    Related,
    Invalid,
    Untracked,
}

impl CtState {
    /// The `--ctstate` bit (see `CT_STATE_NAMES`).
    pub fn bit(self) -> u8 {
        match self {
            CtState::Invalid => 1,
            CtState::New => 2,
            CtState::Related => 4,
            CtState::Established => 8,
            CtState::Untracked => 16,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CtState::New => "NEW",
            CtState::Established => "ESTABLISHED",
            CtState::Related => "RELATED",
            CtState::Invalid => "INVALID",
            CtState::Untracked => "UNTRACKED",
        }
    }
}

/// One tracked connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub original: Tuple,
    pub reply: Tuple,
    /// The destination the first packet was DNATed to.
    pub dnat: Option<(Ipv4Addr, u16)>,
    /// The source the first packet was SNATed (or masqueraded) to.
    pub snat: Option<(Ipv4Addr, u16)>,
    /// Whether a reply has been seen (then packets are ESTABLISHED).
    pub seen_reply: bool,
    /// Virtual nanoseconds of the last packet.
    pub last_seen: u64,
    /// The connection mark (`ct mark`), kept for display.
    pub mark: u32,
}

impl Entry {
    pub fn new(original: Tuple, now: u64) -> Entry {
        Entry {
            original,
            reply: original.reversed(),
            dnat: None,
            snat: None,
            seen_reply: false,
            last_seen: now,
            mark: 0,
        }
    }

    /// Seconds the entry lives after its last packet, as the kernel's defaults (with
    /// kube-proxy's `--conntrack-tcp-timeout-established=24h`).
    pub fn timeout_secs(&self) -> u64 {
        match (self.original.proto, self.seen_reply) {
            (Proto::Tcp, true) => 86_400,
            (Proto::Tcp, false) => 120,
            (Proto::Udp, true) => 120,
            (Proto::Udp, false) => 30,
            (Proto::Icmp, _) => 30,
            _ => 600,
        }
    }

    fn expired(&self, now: u64) -> bool {
        now.saturating_sub(self.last_seen) > self.timeout_secs() * 1_000_000_000
    }

    /// A line as `conntrack -L` prints it.
    pub fn line(&self, now: u64) -> String {
        let left = (self.timeout_secs() * 1_000_000_000)
            .saturating_sub(now.saturating_sub(self.last_seen))
            / 1_000_000_000;
        let mut s = String::new();
        let _ = write!(
            s,
            "{:<8} {} {} ",
            self.original.proto.name(),
            self.original.proto.number(),
            left
        );
        if self.original.proto == Proto::Tcp {
            s.push_str(if self.seen_reply {
                "ESTABLISHED "
            } else {
                "SYN_SENT "
            });
        }
        let t = |s: &mut String, t: &Tuple| {
            let _ = write!(s, "src={} dst={} ", t.src, t.dst);
            if t.proto.has_ports() {
                let _ = write!(s, "sport={} dport={} ", t.sport, t.dport);
            }
        };
        t(&mut s, &self.original);
        if !self.seen_reply {
            s.push_str("[UNREPLIED] ");
        }
        t(&mut s, &self.reply);
        if self.seen_reply {
            s.push_str("[ASSURED] ");
        }
        let _ = write!(s, "mark={} use=1", self.mark);
        s
    }
}

/// Which way a packet goes on its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    Original,
    Reply,
}

/// The connection table of one network namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conntrack {
    entries: BTreeMap<Tuple, Entry>,
    by_reply: BTreeMap<Tuple, Tuple>,
}

impl Conntrack {
    pub fn new() -> Conntrack {
        Conntrack::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The live entry a packet with this tuple belongs to, and its direction.
    pub fn lookup(&self, t: &Tuple, now: u64) -> Option<(&Entry, Dir)> {
        if let Some(e) = self.entries.get(t) {
            return (!e.expired(now)).then_some((e, Dir::Original));
        }
        let orig = self.by_reply.get(t)?;
        let e = self.entries.get(orig)?;
        (!e.expired(now)).then_some((e, Dir::Reply))
    }

    /// Whether a reply tuple is taken by a live connection (for picking SNAT ports).
    pub fn reply_taken(&self, t: &Tuple, now: u64) -> bool {
        self.by_reply
            .get(t)
            .and_then(|o| self.entries.get(o))
            .is_some_and(|e| !e.expired(now))
    }

    /// Adds a confirmed connection (replacing an expired one with the same tuples).
    pub fn insert(&mut self, e: Entry) {
        self.remove(&e.original);
        if let Some(old) = self.by_reply.get(&e.reply).copied() {
            self.remove(&old);
        }
        self.by_reply.insert(e.reply, e.original);
        self.entries.insert(e.original, e);
    }

    pub fn remove(&mut self, original: &Tuple) -> Option<Entry> {
        let e = self.entries.remove(original)?;
        self.by_reply.remove(&e.reply);
        Some(e)
    }

    pub(crate) fn get_mut(&mut self, original: &Tuple) -> Option<&mut Entry> {
        self.entries.get_mut(original)
    }

    /// Drops the entries whose timeout passed.
    pub fn expire(&mut self, now: u64) -> usize {
        let dead: Vec<Tuple> = self
            .entries
            .values()
            .filter(|e| e.expired(now))
            .map(|e| e.original)
            .collect();
        for t in &dead {
            self.remove(t);
        }
        dead.len()
    }

    /// Deletes the entries a predicate picks (as kube-proxy clears stale UDP flows
    /// with `conntrack -D`); returns how many.
    pub fn delete_where(&mut self, mut pick: impl FnMut(&Entry) -> bool) -> usize {
        let dead: Vec<Tuple> = self
            .entries
            .values()
            .filter(|e| pick(e))
            .map(|e| e.original)
            .collect();
        for t in &dead {
            self.remove(t);
        }
        dead.len()
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// `conntrack -L`, live entries in tuple order.
    pub fn list(&self, now: u64) -> String {
        let mut s = String::new();
        for e in self.entries.values().filter(|e| !e.expired(now)) {
            s.push_str(&e.line(now));
            s.push('\n');
        }
        s
    }
}

/// One address on a `recent` list: the times (virtual nanoseconds) it was seen,
/// newest last.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecentEntry {
    pub stamps: Vec<u64>,
}

/// The `recent` match's lists, by `--name`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecentLists {
    pub lists: BTreeMap<String, BTreeMap<Ipv4Addr, RecentEntry>>,
}

/// The kernel keeps at most this many stamps per address (ip_pkt_list_tot).
const RECENT_STAMPS: usize = 20;

impl RecentLists {
    pub fn get(&self, name: &str, addr: Ipv4Addr) -> Option<&RecentEntry> {
        self.lists.get(name)?.get(&addr)
    }

    /// `--set`/`--update`: stamps the address now.
    pub fn stamp(&mut self, name: &str, addr: Ipv4Addr, now: u64) {
        let e = self
            .lists
            .entry(name.to_string())
            .or_default()
            .entry(addr)
            .or_default();
        e.stamps.push(now);
        if e.stamps.len() > RECENT_STAMPS {
            e.stamps.remove(0);
        }
    }

    pub fn remove(&mut self, name: &str, addr: Ipv4Addr) {
        if let Some(l) = self.lists.get_mut(name) {
            l.remove(&addr);
        }
    }

    /// `--reap`: drops the address's stamps older than `cutoff`.
    pub fn reap(&mut self, name: &str, addr: Ipv4Addr, cutoff: u64) {
        if let Some(l) = self.lists.get_mut(name) {
            if let Some(e) = l.get_mut(&addr) {
                e.stamps.retain(|s| *s >= cutoff);
                if e.stamps.is_empty() {
                    l.remove(&addr);
                }
            }
        }
    }
}
