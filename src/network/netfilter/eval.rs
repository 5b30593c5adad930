//! A packet through a hook: the tables in the kernel's order, each rule's decision,
//! jumps and returns, NAT, conntrack, and the verdict, as an explained record.
//!
//! The caller walks a packet through a node: PREROUTING, then (after its own routing
//! decision on the possibly DNATed destination) INPUT or FORWARD, then POSTROUTING;
//! a locally sent packet goes OUTPUT then POSTROUTING. The packet carries its
//! conntrack association from hook to hook, as the kernel's skb does; the connection
//! is confirmed (entered in the table) when the packet leaves INPUT or POSTROUTING
//! accepted.
//!
//! [`Netfilter::hook`] is a live packet: counters, conntrack, `recent` lists and
//! nfacct objects change. [`Netfilter::trace_hook`] is the same walk that changes
//! nothing (a trace: no conntrack entries, no counters; the caller gives it its own
//! random stream).
//!
//! The nat table is consulted only by the first packet of a connection, once per
//! kind of translation (destination at PREROUTING/OUTPUT, source at
//! INPUT/POSTROUTING); later packets get the connection's translation from conntrack,
//! and replies get its inverse.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::Arc;

use serde::Serialize;

use super::conntrack::{Dir, Entry};
use super::save::rule_text;
use super::{
    Chain, Conntrack, CtState, Hook, Match, Netfilter, Policy, PortDir, PortRange, Proto,
    RecentCmd, RecentLists, Rule, Ruleset, TableName, Target, Tuple,
};
use crate::kernel::rng::Rng;

/// What netfilter needs to know about the node (network namespace) it runs in.
pub trait Host {
    /// The `-m addrtype` bits of an address (LOCAL = 4, UNICAST = 2, ...).
    fn addr_type(&self, ip: Ipv4Addr) -> u16;
    /// The address MASQUERADE takes for packets leaving through `iface`.
    fn iface_addr(&self, iface: &str) -> Option<Ipv4Addr>;
    /// The interface a packet to `dst` leaves by (the routing decision between
    /// PREROUTING and FORWARD, and before OUTPUT); empty if unknown.
    fn route(&self, _dst: Ipv4Addr) -> String {
        String::new()
    }
}

/// A node's addresses: its own (LOCAL) and each interface's primary address.
#[derive(Clone, Debug, Default)]
pub struct HostAddrs {
    pub local: BTreeSet<Ipv4Addr>,
    pub ifaces: BTreeMap<String, Ipv4Addr>,
    /// Routes, most specific first wins: (destination, interface).
    pub routes: Vec<(super::Cidr, String)>,
}

impl HostAddrs {
    /// A node with these interfaces; their addresses are its local ones.
    pub fn new(ifaces: &[(&str, Ipv4Addr)]) -> HostAddrs {
        let mut h = HostAddrs::default();
        for (name, ip) in ifaces {
            h.local.insert(*ip);
            h.ifaces.insert((*name).to_string(), *ip);
        }
        h
    }
}

impl Host for HostAddrs {
    fn addr_type(&self, ip: Ipv4Addr) -> u16 {
        if ip.is_loopback() || self.local.contains(&ip) {
            4
        } else if ip.is_broadcast() || ip.is_unspecified() {
            8
        } else if ip.is_multicast() {
            32
        } else {
            2
        }
    }

    fn iface_addr(&self, iface: &str) -> Option<Ipv4Addr> {
        self.ifaces.get(iface).copied()
    }

    fn route(&self, dst: Ipv4Addr) -> String {
        self.routes
            .iter()
            .filter(|(c, _)| c.contains(dst))
            .max_by_key(|(c, _)| c.prefix)
            .map(|(_, i)| i.clone())
            .unwrap_or_default()
    }
}

/// The connection a packet belongs to while it crosses one node.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Attached {
    state: CtState,
    dir: Dir,
    entry: Entry,
    /// A new connection, not yet in the table.
    fresh: bool,
    dst_done: bool,
    src_done: bool,
}

/// A packet as netfilter sees it. Interfaces are empty when there is none (no input
/// interface at OUTPUT, no output interface at PREROUTING and INPUT).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Packet {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub proto: Proto,
    pub sport: u16,
    pub dport: u16,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub in_iface: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub out_iface: String,
    /// Bytes, for the byte counters.
    pub len: u32,
    pub mark: u32,
    /// The packet is out of its connection's window (conntrack says INVALID).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub invalid: bool,
    #[serde(skip)]
    pub(crate) untracked: bool,
    #[serde(skip)]
    pub(crate) ct: Option<Attached>,
}

impl Packet {
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr, proto: Proto, sport: u16, dport: u16) -> Packet {
        Packet {
            src,
            dst,
            proto,
            sport,
            dport,
            in_iface: String::new(),
            out_iface: String::new(),
            len: 60,
            mark: 0,
            invalid: false,
            untracked: false,
            ct: None,
        }
    }

    pub fn tcp(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16) -> Packet {
        Packet::new(src, dst, Proto::Tcp, sport, dport)
    }

    pub fn udp(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16) -> Packet {
        Packet::new(src, dst, Proto::Udp, sport, dport)
    }

    pub fn tuple(&self) -> Tuple {
        let ports = self.proto.has_ports();
        Tuple {
            src: self.src,
            dst: self.dst,
            proto: self.proto,
            sport: if ports { self.sport } else { 0 },
            dport: if ports { self.dport } else { 0 },
        }
    }

    /// The conntrack state it has on this node so far (None before its first hook).
    pub fn ct_state(&self) -> Option<CtState> {
        self.ct.as_ref().map(|a| a.state)
    }

    /// `10.0.0.1:80 → 10.0.0.2:8080 tcp`, for records.
    pub fn describe(&self) -> String {
        if self.proto.has_ports() {
            format!(
                "{}:{} -> {}:{} {}",
                self.src,
                self.sport,
                self.dst,
                self.dport,
                self.proto.name()
            )
        } else {
            format!("{} -> {} {}", self.src, self.dst, self.proto.name())
        }
    }
}

/// What a hook (or a table) decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "verdict")]
pub enum Verdict {
    /// The packet goes on.
    Accept,
    Drop,
    Reject {
        with: &'static str,
    },
}

/// One step of the record.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "step", rename_all = "camelCase")]
pub enum Step {
    /// Entered a chain (from the hook or by a jump).
    Chain {
        chain: String,
    },
    /// Rules `from` to `from + count - 1` (1-based) did not match.
    NoMatch {
        chain: String,
        from: usize,
        count: usize,
    },
    /// Rule `rule` (1-based) matched; `text` is its iptables-save form.
    Match {
        chain: String,
        rule: usize,
        text: String,
        target: String,
    },
    /// Left a chain back to the one that jumped (end of chain or RETURN).
    Return {
        from: String,
        to: String,
    },
    /// A built-in chain's policy decided.
    Policy {
        chain: String,
        policy: Policy,
    },
    /// An address or port was rewritten.
    Rewrite {
        what: &'static str,
        from: String,
        to: String,
    },
    /// `-j MARK` changed the packet's mark.
    Mark {
        from: String,
        to: String,
    },
    Note {
        text: String,
    },
}

/// One table's part of a hook.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableRecord {
    pub table: TableName,
    pub steps: Vec<Step>,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// A packet's passage through one hook.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HookRecord {
    pub hook: Hook,
    /// What conntrack said about the packet here.
    pub conntrack: String,
    pub tables: Vec<TableRecord>,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// The rule (iptables-save form) or policy that dropped the packet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// The packet as it leaves the hook.
    pub packet: Packet,
}

impl HookRecord {
    /// Rules evaluated that did not match, over all tables.
    pub fn rules_not_matched(&self) -> usize {
        self.tables
            .iter()
            .flat_map(|t| &t.steps)
            .map(|s| match s {
                Step::NoMatch { count, .. } => *count,
                _ => 0,
            })
            .sum()
    }

    /// Rules that matched, as (table, chain, 1-based position).
    pub fn matched(&self) -> Vec<(TableName, &str, usize)> {
        let mut v = Vec::new();
        for t in &self.tables {
            for s in &t.steps {
                if let Step::Match { chain, rule, .. } = s {
                    v.push((t.table, chain.as_str(), *rule));
                }
            }
        }
        v
    }
}

// ---------------------------------------------------------------- the index

/// (destination /32, protocol number, destination port); None is "any".
type Key = (Option<u32>, u8, Option<u16>);

/// Rule positions of a long chain by the (destination, protocol, destination port)
/// they require, and the positions of rules that require none of these. A rule
/// missing from the lists the packet's key selects cannot match it, so skipping it
/// gives what a linear walk gives (a skipped rule's matches would have failed before
/// any match with side effects ran).
#[derive(Debug)]
pub struct ChainIndex {
    keyed: BTreeMap<Key, Vec<u32>>,
    unkeyed: Vec<u32>,
}

/// Chains shorter than this are walked rule by rule.
const INDEX_MIN_RULES: usize = 32;

fn rule_key(r: &Rule) -> Option<Key> {
    let (p, false) = r.proto? else {
        return None;
    };
    let dst = r
        .dst
        .filter(|(c, neg)| !neg && c.prefix == 32)
        .map(|(c, _)| c.addr);
    let mut dport = None;
    for m in &r.matches {
        if m.has_side_effects() {
            break;
        }
        if let Match::Ports {
            dport: Some((range, false)),
            ..
        } = m
        {
            if range.lo == range.hi {
                dport = Some(range.lo);
                break;
            }
        }
    }
    if dst.is_none() && dport.is_none() {
        return None;
    }
    Some((dst, p.number(), dport))
}

impl ChainIndex {
    pub(crate) fn build(rules: &[Rule]) -> Option<ChainIndex> {
        if rules.len() < INDEX_MIN_RULES {
            return None;
        }
        let mut ix = ChainIndex {
            keyed: BTreeMap::new(),
            unkeyed: Vec::new(),
        };
        for (i, r) in rules.iter().enumerate() {
            match rule_key(r) {
                Some(k) => ix.keyed.entry(k).or_default().push(i as u32),
                None => ix.unkeyed.push(i as u32),
            }
        }
        Some(ix)
    }

    fn lists(&self, pkt: &Packet) -> Candidates<'_> {
        let p = pkt.proto.number();
        let dst = u32::from(pkt.dst);
        let dport = pkt.proto.has_ports().then_some(pkt.dport);
        let get = |k: Key| self.keyed.get(&k).map(Vec::as_slice).unwrap_or(&[]);
        let by_port = |d: Option<u32>| match dport {
            Some(port) => get((d, p, Some(port))),
            None => &[],
        };
        Candidates::Indexed([
            &self.unkeyed,
            by_port(Some(dst)),
            get((Some(dst), p, None)),
            by_port(None),
        ])
    }
}

#[derive(Clone, Copy)]
enum Candidates<'a> {
    All,
    Indexed([&'a [u32]; 4]),
}

impl Candidates<'_> {
    /// The first rule at or after `pos` that may match.
    fn next(&self, pos: usize) -> usize {
        match self {
            Candidates::All => pos,
            Candidates::Indexed(lists) => lists
                .iter()
                .filter_map(|l| {
                    let i = l.partition_point(|x| (*x as usize) < pos);
                    l.get(i).map(|x| *x as usize)
                })
                .min()
                .unwrap_or(usize::MAX),
        }
    }
}

// ---------------------------------------------------------------- evaluation

#[derive(Clone, Debug)]
enum RecentOp {
    Stamp,
    Remove,
    Reap(u64),
}

/// What a live packet changes, collected during the walk and applied after it.
#[derive(Default)]
struct Effects {
    counters: Vec<(TableName, String, Option<usize>, u32)>,
    recent: Vec<(String, Ipv4Addr, RecentOp)>,
    nfacct: Vec<(String, u32)>,
    confirm: Option<Entry>,
    touch: Option<(Tuple, Dir)>,
}

struct Cx<'a> {
    host: &'a dyn Host,
    rng: &'a mut Rng,
    now: u64,
    recent: &'a RecentLists,
    conntrack: &'a Conntrack,
    fx: Effects,
}

impl Cx<'_> {
    /// The stamps of an address on a list, with this walk's own changes applied.
    fn recent_stamps(&self, name: &str, addr: Ipv4Addr) -> Option<Vec<u64>> {
        let mut st = self.recent.get(name, addr).map(|e| e.stamps.clone());
        for (n, a, op) in &self.fx.recent {
            if n != name || *a != addr {
                continue;
            }
            match op {
                RecentOp::Stamp => st.get_or_insert_with(Vec::new).push(self.now),
                RecentOp::Remove => st = None,
                RecentOp::Reap(cut) => {
                    if let Some(s) = st.as_mut() {
                        s.retain(|x| x >= cut);
                        if s.is_empty() {
                            st = None;
                        }
                    }
                }
            }
        }
        st
    }
}

/// How a chain walk ended.
enum Outcome {
    Accept,
    Drop,
    Reject(&'static str),
    Nat(Target),
}

fn ct_bits(pkt: &Packet) -> u8 {
    if pkt.untracked {
        return 16;
    }
    match &pkt.ct {
        None => 1,
        Some(a) => {
            let mut b = a.state.bit();
            if a.entry.snat.is_some() {
                b |= 32;
            }
            if a.entry.dnat.is_some() {
                b |= 64;
            }
            b
        }
    }
}

fn match_one(m: &Match, pkt: &Packet, cx: &mut Cx) -> bool {
    match m {
        Match::Ports { sport, dport, .. } => {
            sport.is_none_or(|(r, n)| r.contains(pkt.sport) != n)
                && dport.is_none_or(|(r, n)| r.contains(pkt.dport) != n)
        }
        Match::Comment(_) => true,
        Match::Mark { value, mask, neg } => ((pkt.mark & mask) == *value) != *neg,
        Match::Random { probability, neg } => {
            // xt_statistic: (get_random_u32() & 0x7FFFFFFF) < probability.
            let draw = (cx.rng.next_u64() as u32) & 0x7FFF_FFFF;
            (draw < *probability) != *neg
        }
        Match::AddrType { src, dst, .. } => {
            src.is_none_or(|(bits, n)| (cx.host.addr_type(pkt.src) & bits != 0) != n)
                && dst.is_none_or(|(bits, n)| (cx.host.addr_type(pkt.dst) & bits != 0) != n)
        }
        Match::Conntrack { states, neg } | Match::State { states, neg } => {
            (ct_bits(pkt) & states != 0) != *neg
        }
        Match::Multiport { dir, ports, neg } => {
            let hit = ports.iter().any(|r| match dir {
                PortDir::Dst => r.contains(pkt.dport),
                PortDir::Src => r.contains(pkt.sport),
                PortDir::Both => r.contains(pkt.sport) || r.contains(pkt.dport),
            });
            hit != *neg
        }
        Match::Recent(r) => {
            let base = if r.dest { pkt.dst } else { pkt.src };
            let addr = Ipv4Addr::from(u32::from(base) & r.mask);
            let mut ret = r.neg;
            let Some(stamps) = cx.recent_stamps(&r.name, addr) else {
                if r.cmd == RecentCmd::Set {
                    cx.fx.recent.push((r.name.clone(), addr, RecentOp::Stamp));
                    ret = !ret;
                }
                return ret;
            };
            match r.cmd {
                RecentCmd::Set => ret = !ret,
                RecentCmd::Remove => {
                    cx.fx.recent.push((r.name.clone(), addr, RecentOp::Remove));
                    ret = !ret;
                }
                RecentCmd::Rcheck | RecentCmd::Update if r.seconds > 0 || r.hitcount > 0 => {
                    let cutoff = cx.now.saturating_sub(u64::from(r.seconds) * 1_000_000_000);
                    let mut hits = 0;
                    for s in &stamps {
                        if r.seconds > 0 && *s < cutoff {
                            continue;
                        }
                        hits += 1;
                        if r.hitcount == 0 || hits >= r.hitcount {
                            ret = !ret;
                            break;
                        }
                    }
                    if r.reap {
                        cx.fx
                            .recent
                            .push((r.name.clone(), addr, RecentOp::Reap(cutoff)));
                    }
                }
                RecentCmd::Rcheck | RecentCmd::Update => ret = !ret,
            }
            if r.cmd == RecentCmd::Set || (r.cmd == RecentCmd::Update && ret != r.neg) {
                cx.fx.recent.push((r.name.clone(), addr, RecentOp::Stamp));
            }
            ret
        }
        Match::Nfacct(name) => {
            cx.fx.nfacct.push((name.clone(), pkt.len));
            true
        }
    }
}

fn rule_matches(r: &Rule, pkt: &Packet, cx: &mut Cx) -> bool {
    if let Some((c, n)) = r.src {
        if c.contains(pkt.src) == n {
            return false;
        }
    }
    if let Some((c, n)) = r.dst {
        if c.contains(pkt.dst) == n {
            return false;
        }
    }
    if let Some(i) = &r.in_iface {
        if !i.matches(&pkt.in_iface) {
            return false;
        }
    }
    if let Some(i) = &r.out_iface {
        if !i.matches(&pkt.out_iface) {
            return false;
        }
    }
    if let Some((p, n)) = r.proto {
        if (pkt.proto == p) == n {
            return false;
        }
    }
    r.matches.iter().all(|m| match_one(m, pkt, cx))
}

/// Frames deeper than this are refused (the kernel's jump stack is bounded too).
const MAX_DEPTH: usize = 128;

struct Run {
    from: usize,
    count: usize,
}

fn flush_run(run: &mut Option<Run>, chain: &str, steps: &mut Vec<Step>) {
    if let Some(r) = run.take() {
        steps.push(Step::NoMatch {
            chain: chain.to_string(),
            from: r.from + 1,
            count: r.count,
        });
    }
}

fn add_run(run: &mut Option<Run>, from: usize, count: usize) {
    match run {
        Some(r) if r.from + r.count == from => r.count += count,
        _ => {
            *run = Some(Run { from, count });
        }
    }
}

fn candidates<'a>(c: &'a Chain, pkt: &Packet) -> Candidates<'a> {
    match &c.index {
        Some(ix) => ix.lists(pkt),
        None => Candidates::All,
    }
}

/// Walks a table from one built-in chain.
fn walk(
    rules: &Ruleset,
    t: TableName,
    builtin: &str,
    pkt: &mut Packet,
    cx: &mut Cx,
    steps: &mut Vec<Step>,
    decided_by: &mut Option<String>,
) -> Outcome {
    let table = rules.table(t);
    let Some(start) = table.chain(builtin) else {
        return Outcome::Accept;
    };
    let mut frames: Vec<(&Chain, usize, Candidates)> = Vec::new();
    let mut cur = start;
    let mut cands = candidates(cur, pkt);
    let mut pos = 0usize;
    let mut run: Option<Run> = None;
    steps.push(Step::Chain {
        chain: cur.name.clone(),
    });
    loop {
        let len = cur.rules.len();
        let next = cands.next(pos).min(len);
        if next > pos {
            add_run(&mut run, pos, next - pos);
        }
        if next >= len {
            flush_run(&mut run, &cur.name, steps);
            match frames.pop() {
                Some((c, p, cs)) => {
                    steps.push(Step::Return {
                        from: cur.name.clone(),
                        to: c.name.clone(),
                    });
                    cur = c;
                    pos = p;
                    cands = cs;
                    continue;
                }
                None => return policy(start, t, pkt, cx, steps, decided_by),
            }
        }
        let r = &cur.rules[next];
        if !rule_matches(r, pkt, cx) {
            add_run(&mut run, next, 1);
            pos = next + 1;
            continue;
        }
        flush_run(&mut run, &cur.name, steps);
        cx.fx
            .counters
            .push((t, cur.name.clone(), Some(next), pkt.len));
        let text = rule_text(&cur.name, r);
        steps.push(Step::Match {
            chain: cur.name.clone(),
            rule: next + 1,
            text: text.clone(),
            target: r.target.label(),
        });
        pos = next + 1;
        match &r.target {
            Target::None => {}
            Target::Accept => return Outcome::Accept,
            Target::Drop => {
                *decided_by = Some(text);
                return Outcome::Drop;
            }
            Target::Reject { with } => {
                *decided_by = Some(text);
                return Outcome::Reject(with);
            }
            Target::Return => match frames.pop() {
                Some((c, p, cs)) => {
                    steps.push(Step::Return {
                        from: cur.name.clone(),
                        to: c.name.clone(),
                    });
                    cur = c;
                    pos = p;
                    cands = cs;
                }
                None => return policy(start, t, pkt, cx, steps, decided_by),
            },
            Target::Jump(name) | Target::Goto(name) => {
                let Some(next_chain) = table.chain(name) else {
                    steps.push(Step::Note {
                        text: format!("chain {name} does not exist; the rule is skipped"),
                    });
                    continue;
                };
                if frames.len() >= MAX_DEPTH {
                    steps.push(Step::Note {
                        text: "too many nested jumps: the packet is dropped".into(),
                    });
                    *decided_by = Some(text);
                    return Outcome::Drop;
                }
                if matches!(r.target, Target::Jump(_)) {
                    frames.push((cur, pos, cands));
                }
                cur = next_chain;
                cands = candidates(cur, pkt);
                pos = 0;
                steps.push(Step::Chain {
                    chain: cur.name.clone(),
                });
            }
            Target::Mark { value, mask } => {
                let before = pkt.mark;
                pkt.mark = (pkt.mark & !mask) ^ value;
                steps.push(Step::Mark {
                    from: format!("0x{before:x}"),
                    to: format!("0x{:x}", pkt.mark),
                });
            }
            Target::Log { prefix } => steps.push(Step::Note {
                text: format!("LOG: {}{}", prefix.as_deref().unwrap_or(""), pkt.describe()),
            }),
            Target::Notrack => {
                pkt.untracked = true;
                steps.push(Step::Note {
                    text: "NOTRACK: conntrack leaves this packet alone".into(),
                });
            }
            Target::Dnat { .. }
            | Target::Snat { .. }
            | Target::Masquerade { .. }
            | Target::Redirect { .. } => return Outcome::Nat(r.target.clone()),
        }
    }
}

fn policy(
    start: &Chain,
    t: TableName,
    pkt: &Packet,
    cx: &mut Cx,
    steps: &mut Vec<Step>,
    decided_by: &mut Option<String>,
) -> Outcome {
    let p = start.policy.unwrap_or(Policy::Accept);
    cx.fx.counters.push((t, start.name.clone(), None, pkt.len));
    steps.push(Step::Policy {
        chain: start.name.clone(),
        policy: p,
    });
    match p {
        Policy::Accept => Outcome::Accept,
        Policy::Drop => {
            *decided_by = Some(format!(":{} DROP (policy of the {t} table)", start.name));
            Outcome::Drop
        }
    }
}

fn endpoint(ip: Ipv4Addr, port: u16, proto: Proto) -> String {
    if proto.has_ports() {
        format!("{ip}:{port}")
    } else {
        ip.to_string()
    }
}

/// Attaches the packet to its connection (the conntrack hook, after raw).
fn conntrack_in(pkt: &mut Packet, ct: &Conntrack, now: u64) -> String {
    if let Some(a) = &pkt.ct {
        return format!("{} ({})", a.state.as_str(), dir_word(a.dir));
    }
    if pkt.untracked {
        return "UNTRACKED: NOTRACK in the raw table".into();
    }
    let t = pkt.tuple();
    if pkt.invalid {
        pkt.ct = Some(Attached {
            state: CtState::Invalid,
            dir: Dir::Original,
            entry: Entry::new(t, now),
            fresh: false,
            dst_done: true,
            src_done: true,
        });
        return "INVALID: the packet does not fit its connection".into();
    }
    match ct.lookup(&t, now) {
        Some((e, dir)) => {
            let state = if dir == Dir::Reply || e.seen_reply {
                CtState::Established
            } else {
                CtState::New
            };
            pkt.ct = Some(Attached {
                state,
                dir,
                entry: e.clone(),
                fresh: false,
                dst_done: true,
                src_done: true,
            });
            format!(
                "{} ({}): tracked connection {}",
                state.as_str(),
                dir_word(dir),
                tuple_text(&e.original)
            )
        }
        None => {
            pkt.ct = Some(Attached {
                state: CtState::New,
                dir: Dir::Original,
                entry: Entry::new(t, now),
                fresh: true,
                dst_done: false,
                src_done: false,
            });
            "NEW: first packet of a connection".into()
        }
    }
}

fn dir_word(d: Dir) -> &'static str {
    match d {
        Dir::Original => "original direction",
        Dir::Reply => "reply direction",
    }
}

fn tuple_text(t: &Tuple) -> String {
    if t.proto.has_ports() {
        format!(
            "{}:{} -> {}:{} {}",
            t.src,
            t.sport,
            t.dst,
            t.dport,
            t.proto.name()
        )
    } else {
        format!("{} -> {} {}", t.src, t.dst, t.proto.name())
    }
}

/// Whether this hook rewrites destinations (else sources).
fn dst_manip(hook: Hook) -> bool {
    matches!(hook, Hook::Prerouting | Hook::Output)
}

/// Applies an existing connection's translation (or its inverse for a reply).
fn apply_binding(hook: Hook, pkt: &mut Packet, steps: &mut Vec<Step>) {
    let Some(a) = &pkt.ct else {
        return;
    };
    let e = &a.entry;
    let proto = pkt.proto;
    let (what, new): (&'static str, Option<(bool, Ipv4Addr, u16)>) = match (a.dir, dst_manip(hook))
    {
        (Dir::Original, true) => ("DNAT (conntrack)", e.dnat.map(|(ip, p)| (true, ip, p))),
        (Dir::Original, false) => ("SNAT (conntrack)", e.snat.map(|(ip, p)| (false, ip, p))),
        // A reply goes back to where the first packet came from.
        (Dir::Reply, true) => (
            "un-SNAT (conntrack)",
            e.snat.map(|_| (true, e.original.src, e.original.sport)),
        ),
        (Dir::Reply, false) => (
            "un-DNAT (conntrack)",
            e.dnat.map(|_| (false, e.original.dst, e.original.dport)),
        ),
    };
    let Some((is_dst, ip, port)) = new else {
        return;
    };
    if is_dst {
        let from = endpoint(pkt.dst, pkt.dport, proto);
        pkt.dst = ip;
        if proto.has_ports() {
            pkt.dport = port;
        }
        steps.push(Step::Rewrite {
            what,
            from,
            to: endpoint(pkt.dst, pkt.dport, proto),
        });
    } else {
        let from = endpoint(pkt.src, pkt.sport, proto);
        pkt.src = ip;
        if proto.has_ports() {
            pkt.sport = port;
        }
        steps.push(Step::Rewrite {
            what,
            from,
            to: endpoint(pkt.src, pkt.sport, proto),
        });
    }
}

/// Binds a new connection's translation from a nat rule's target; false if the
/// packet must be dropped (MASQUERADE with no address on the way out, REDIRECT
/// arriving on an interface without an address).
fn bind(target: &Target, hook: Hook, pkt: &mut Packet, cx: &mut Cx, steps: &mut Vec<Step>) -> bool {
    match target {
        Target::Dnat { to, .. } => {
            bind_dst("DNAT", to.min_ip, to.ports, pkt, steps);
            true
        }
        Target::Redirect { to_ports, .. } => {
            // nf_nat_redirect_ipv4: a locally generated packet goes to 127.0.0.1,
            // any other to the first (primary) address of its incoming interface.
            let ip = if hook == Hook::Output {
                Some(Ipv4Addr::LOCALHOST)
            } else {
                cx.host.iface_addr(&pkt.in_iface)
            };
            let Some(ip) = ip else {
                steps.push(Step::Note {
                    text: format!(
                        "REDIRECT: no address on incoming interface {:?}; the packet is dropped",
                        pkt.in_iface
                    ),
                });
                return false;
            };
            bind_dst("REDIRECT", Some(ip), *to_ports, pkt, steps);
            true
        }
        Target::Snat {
            to, random_fully, ..
        } => {
            let ip = to.min_ip.unwrap_or(pkt.src);
            bind_src("SNAT", ip, to.ports, *random_fully, pkt, cx, steps);
            true
        }
        Target::Masquerade {
            to_ports,
            random_fully,
            ..
        } => {
            let Some(ip) = cx.host.iface_addr(&pkt.out_iface) else {
                steps.push(Step::Note {
                    text: format!(
                        "MASQUERADE: no address on interface {:?}; the packet is dropped",
                        pkt.out_iface
                    ),
                });
                return false;
            };
            bind_src("MASQUERADE", ip, *to_ports, *random_fully, pkt, cx, steps);
            true
        }
        _ => true,
    }
}

/// Rewrites the destination of a new connection (DNAT, REDIRECT) and binds it in
/// the connection, so replies come back from the original destination.
fn bind_dst(
    what: &'static str,
    ip: Option<Ipv4Addr>,
    ports: Option<PortRange>,
    pkt: &mut Packet,
    steps: &mut Vec<Step>,
) {
    let proto = pkt.proto;
    let from = endpoint(pkt.dst, pkt.dport, proto);
    if let Some(ip) = ip {
        pkt.dst = ip;
    }
    if let (Some(p), true) = (ports, proto.has_ports()) {
        pkt.dport = p.lo;
    }
    if let Some(a) = pkt.ct.as_mut() {
        a.entry.dnat = Some((pkt.dst, pkt.dport));
        a.entry.reply.src = pkt.dst;
        a.entry.reply.sport = if proto.has_ports() { pkt.dport } else { 0 };
    }
    steps.push(Step::Rewrite {
        what,
        from,
        to: endpoint(pkt.dst, pkt.dport, proto),
    });
}

/// Rewrites the source of a new connection, keeping the source port unless another
/// connection already holds the reply tuple it would give.
fn bind_src(
    what: &'static str,
    ip: Ipv4Addr,
    ports: Option<PortRange>,
    random_fully: bool,
    pkt: &mut Packet,
    cx: &mut Cx,
    steps: &mut Vec<Step>,
) {
    let proto = pkt.proto;
    let from = endpoint(pkt.src, pkt.sport, proto);
    let mut port = pkt.sport;
    if proto.has_ports() {
        if let Some(r) = ports {
            port = r.lo;
        }
        let (reply_src, reply_sport) = match &pkt.ct {
            Some(a) => (a.entry.reply.src, a.entry.reply.sport),
            None => (pkt.dst, pkt.dport),
        };
        let taken = |p: u16, cx: &Cx| {
            cx.conntrack.reply_taken(
                &Tuple {
                    src: reply_src,
                    dst: ip,
                    proto,
                    sport: reply_sport,
                    dport: p,
                },
                cx.now,
            )
        };
        if random_fully || taken(port, cx) {
            for tries in 0..1000u16 {
                let cand = if random_fully {
                    1024 + cx.rng.below(65536 - 1024) as u16
                } else {
                    1024 + tries
                };
                if !taken(cand, cx) {
                    port = cand;
                    break;
                }
            }
        }
    }
    pkt.src = ip;
    if proto.has_ports() {
        pkt.sport = port;
    }
    if let Some(a) = pkt.ct.as_mut() {
        a.entry.snat = Some((pkt.src, pkt.sport));
        a.entry.reply.dst = pkt.src;
        a.entry.reply.dport = if proto.has_ports() { pkt.sport } else { 0 };
    }
    steps.push(Step::Rewrite {
        what,
        from,
        to: endpoint(pkt.src, pkt.sport, proto),
    });
}

fn eval_hook(rules: &Ruleset, hook: Hook, pkt: &mut Packet, cx: &mut Cx) -> HookRecord {
    let mut tables = Vec::new();
    let mut verdict = Verdict::Accept;
    let mut decided_by = None;
    let mut conntrack_note = String::new();
    let attach_after_raw = matches!(hook, Hook::Prerouting | Hook::Output);
    if !attach_after_raw {
        conntrack_note = conntrack_in(pkt, cx.conntrack, cx.now);
    }
    for &t in hook.tables() {
        if attach_after_raw && t != TableName::Raw && pkt.ct.is_none() {
            conntrack_note = conntrack_in(pkt, cx.conntrack, cx.now);
        }
        let mut steps = Vec::new();
        let outcome = if t == TableName::Nat {
            let dst = dst_manip(hook);
            match pkt.ct.as_ref() {
                None => {
                    steps.push(Step::Note {
                        text: "untracked or invalid: the nat table is not consulted".into(),
                    });
                    Outcome::Accept
                }
                Some(a) if a.fresh && !(if dst { a.dst_done } else { a.src_done }) => {
                    let o = walk(
                        rules,
                        t,
                        hook.as_str(),
                        pkt,
                        cx,
                        &mut steps,
                        &mut decided_by,
                    );
                    if let Some(a) = pkt.ct.as_mut() {
                        if dst {
                            a.dst_done = true;
                        } else {
                            a.src_done = true;
                        }
                    }
                    match o {
                        Outcome::Nat(target) => {
                            if bind(&target, hook, pkt, cx, &mut steps) {
                                Outcome::Accept
                            } else {
                                Outcome::Drop
                            }
                        }
                        other => other,
                    }
                }
                Some(a) => {
                    if a.state != CtState::Invalid {
                        steps.push(Step::Note {
                            text: "not the first packet of its connection: conntrack applies the connection's translation".into(),
                        });
                        apply_binding(hook, pkt, &mut steps);
                    }
                    Outcome::Accept
                }
            }
        } else {
            let o = walk(
                rules,
                t,
                hook.as_str(),
                pkt,
                cx,
                &mut steps,
                &mut decided_by,
            );
            match o {
                Outcome::Nat(_) => Outcome::Accept,
                o => o,
            }
        };
        let v = match outcome {
            Outcome::Accept | Outcome::Nat(_) => Verdict::Accept,
            Outcome::Drop => Verdict::Drop,
            Outcome::Reject(with) => Verdict::Reject { with },
        };
        tables.push(TableRecord {
            table: t,
            steps,
            verdict: v,
        });
        if v != Verdict::Accept {
            verdict = v;
            break;
        }
    }
    // Leaving the node: the connection is confirmed, the packet lets go of it.
    if matches!(hook, Hook::Input | Hook::Postrouting) || verdict != Verdict::Accept {
        if let Some(a) = pkt.ct.take() {
            if verdict == Verdict::Accept && a.state != CtState::Invalid {
                if a.fresh {
                    cx.fx.confirm = Some(a.entry);
                } else {
                    cx.fx.touch = Some((a.entry.original, a.dir));
                }
            }
        }
        pkt.untracked = false;
    }
    HookRecord {
        hook,
        conntrack: conntrack_note,
        tables,
        verdict,
        decided_by,
        packet: pkt.clone(),
    }
}

/// Where a packet starts on a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// It arrived on an interface (PREROUTING first).
    Arrived,
    /// A local process sent it (OUTPUT first).
    Local,
}

/// A packet's way through one node: the hooks in order and where it ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Passage {
    pub hooks: Vec<HookRecord>,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Accepted at INPUT: the packet is for this node (after DNAT, if any).
    pub delivered_locally: bool,
}

/// The hooks of one node in order, with the routing decisions between them.
fn passage(
    origin: Origin,
    pkt: &mut Packet,
    host: &dyn Host,
    run: &mut dyn FnMut(Hook, &mut Packet) -> HookRecord,
) -> Passage {
    let mut hooks = Vec::new();
    let mut delivered_locally = false;
    let first = match origin {
        Origin::Arrived => Hook::Prerouting,
        Origin::Local => {
            if pkt.out_iface.is_empty() {
                pkt.out_iface = host.route(pkt.dst);
            }
            Hook::Output
        }
    };
    let mut next = Some(first);
    let mut verdict = Verdict::Accept;
    while let Some(hook) = next {
        let rec = run(hook, pkt);
        verdict = rec.verdict;
        hooks.push(rec);
        if verdict != Verdict::Accept {
            break;
        }
        next = match hook {
            Hook::Prerouting => {
                if host.addr_type(pkt.dst) & 4 != 0 {
                    Some(Hook::Input)
                } else {
                    if pkt.out_iface.is_empty() {
                        pkt.out_iface = host.route(pkt.dst);
                    }
                    Some(Hook::Forward)
                }
            }
            Hook::Input => {
                delivered_locally = true;
                None
            }
            Hook::Forward | Hook::Output => Some(Hook::Postrouting),
            Hook::Postrouting => None,
        };
    }
    Passage {
        hooks,
        verdict,
        delivered_locally,
    }
}

impl Netfilter {
    /// A live packet through a whole node: PREROUTING, the routing decision on its
    /// (possibly DNATed) destination, INPUT or FORWARD, POSTROUTING; or OUTPUT and
    /// POSTROUTING for a local sender. The output interface comes from
    /// [`Host::route`] unless the packet already names one.
    pub fn traverse(
        &mut self,
        origin: Origin,
        pkt: &mut Packet,
        host: &dyn Host,
        rng: &mut Rng,
        now: u64,
    ) -> Passage {
        passage(origin, pkt, host, &mut |hook, p| {
            self.hook(hook, p, host, rng, now)
        })
    }

    /// The same way through the node, changing nothing.
    pub fn trace(
        &self,
        origin: Origin,
        pkt: &mut Packet,
        host: &dyn Host,
        rng: &mut Rng,
        now: u64,
    ) -> Passage {
        passage(origin, pkt, host, &mut |hook, p| {
            self.trace_hook(hook, p, host, rng, now)
        })
    }

    /// A live packet through `hook`: counters, conntrack, `recent` lists and nfacct
    /// objects change. `now` is virtual nanoseconds; `rng` feeds `-m statistic`.
    pub fn hook(
        &mut self,
        hook: Hook,
        pkt: &mut Packet,
        host: &dyn Host,
        rng: &mut Rng,
        now: u64,
    ) -> HookRecord {
        let (rec, fx) = self.walk(hook, pkt, host, rng, now, &self.conntrack);
        self.apply(fx, now);
        rec
    }

    /// The same walk as [`Netfilter::hook`], changing nothing.
    pub fn trace_hook(
        &self,
        hook: Hook,
        pkt: &mut Packet,
        host: &dyn Host,
        rng: &mut Rng,
        now: u64,
    ) -> HookRecord {
        self.walk(hook, pkt, host, rng, now, &self.conntrack).0
    }

    /// A packet through `hook` that keeps its connection in `ct`, the caller's own
    /// table (the packet tracer's copy for this node): the rules, counters,
    /// `recent` lists and the node's own conntrack do not change.
    pub fn hook_with_conntrack(
        &self,
        hook: Hook,
        pkt: &mut Packet,
        host: &dyn Host,
        rng: &mut Rng,
        now: u64,
        ct: &mut Conntrack,
    ) -> HookRecord {
        let (rec, fx) = self.walk(hook, pkt, host, rng, now, ct);
        keep_connection(ct, fx.confirm, fx.touch, now);
        rec
    }

    /// The walk the three share: the record, and what the packet would change.
    fn walk(
        &self,
        hook: Hook,
        pkt: &mut Packet,
        host: &dyn Host,
        rng: &mut Rng,
        now: u64,
        conntrack: &Conntrack,
    ) -> (HookRecord, Effects) {
        let mut cx = Cx {
            host,
            rng,
            now,
            recent: &self.recent,
            conntrack,
            fx: Effects::default(),
        };
        let rec = eval_hook(&self.rules, hook, pkt, &mut cx);
        (rec, cx.fx)
    }

    fn apply(&mut self, fx: Effects, now: u64) {
        for (t, chain, rule, len) in fx.counters {
            if let Some(c) = self.rules.table_mut(t).chains.get_mut(&chain) {
                let c = Arc::make_mut(c);
                match rule {
                    Some(i) => {
                        if let Some(r) = c.rules.get_mut(i) {
                            r.packets += 1;
                            r.bytes += u64::from(len);
                        }
                    }
                    None => {
                        c.packets += 1;
                        c.bytes += u64::from(len);
                    }
                }
            }
        }
        for (name, addr, op) in fx.recent {
            match op {
                RecentOp::Stamp => self.recent.stamp(&name, addr, now),
                RecentOp::Remove => self.recent.remove(&name, addr),
                RecentOp::Reap(cut) => self.recent.reap(&name, addr, cut),
            }
        }
        for (name, len) in fx.nfacct {
            let e = self.nfacct.entry(name).or_default();
            e.0 += 1;
            e.1 += u64::from(len);
        }
        keep_connection(&mut self.conntrack, fx.confirm, fx.touch, now);
    }
}

/// A walk's conntrack effects: a new connection confirmed, an existing one seen.
fn keep_connection(
    ct: &mut Conntrack,
    confirm: Option<Entry>,
    touch: Option<(Tuple, Dir)>,
    now: u64,
) {
    if let Some(e) = confirm {
        ct.insert(e);
    }
    if let Some((orig, dir)) = touch {
        if let Some(e) = ct.get_mut(&orig) {
            e.last_seen = now;
            if dir == Dir::Reply {
                e.seen_reply = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::netfilter::RestoreOptions;

    /// The index must give exactly what a walk over every rule gives: the same
    /// records, the same draws from the random stream.
    #[test]
    fn indexed_chains_decide_as_a_linear_walk() {
        let mut text = String::from("*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-X - [0:0]\n-A PREROUTING -j KUBE-SERVICES\n-A KUBE-X -j MARK --or-mark 0x1\n");
        for i in 0..300u32 {
            let ip = format!("172.30.{}.{}", i / 200, i % 200);
            let line = match i % 10 {
                0 => format!("-A KUBE-SERVICES -s 10.0.{}.0/24 -j KUBE-X\n", i % 7),
                1 => format!("-A KUBE-SERVICES -m statistic --mode random --probability 0.5 -m tcp -p tcp -d {ip} --dport 80 -j KUBE-X\n"),
                2 => format!("-A KUBE-SERVICES -m udp -p udp -d {ip} --dport 53 -j KUBE-X\n"),
                3 => format!("-A KUBE-SERVICES -p tcp -m tcp --dport {} -j KUBE-X\n", 30000 + i % 5),
                4 => format!("-A KUBE-SERVICES -p tcp -d {ip} -m tcp ! --dport 80 -j KUBE-X\n"),
                5 => format!("-A KUBE-SERVICES -p tcp -d {ip} -j KUBE-X\n"),
                _ => format!("-A KUBE-SERVICES -m comment --comment \"svc {i}\" -m tcp -p tcp -d {ip} --dport 80 -j KUBE-X\n"),
            };
            text.push_str(&line);
        }
        text.push_str("COMMIT\n");
        let mut nf = Netfilter::new();
        let r = nf.restore(&text, RestoreOptions::default());
        assert!(r.is_ok(), "{r:?}");
        assert!(nf
            .rules
            .chain(TableName::Nat, "KUBE-SERVICES")
            .is_some_and(|c| c.index.is_some()));
        let mut linear = nf.clone();
        for c in linear.rules.table_mut(TableName::Nat).chains.values_mut() {
            Arc::make_mut(c).index = None;
        }
        let host = HostAddrs::default();
        for i in 0..400u32 {
            let dst = Ipv4Addr::new(
                172,
                30,
                ((i * 7) % 300 / 200) as u8,
                ((i * 7) % 300 % 200) as u8,
            );
            let src = Ipv4Addr::new(10, 0, (i % 9) as u8, 5);
            let (proto, dport) = match i % 4 {
                0 => (Proto::Udp, 53),
                1 => (Proto::Tcp, 30000 + (i % 6) as u16),
                _ => (Proto::Tcp, if i % 3 == 0 { 8080 } else { 80 }),
            };
            let p = Packet::new(src, dst, proto, 1000, dport);
            let (mut a, mut b) = (p.clone(), p);
            let (mut ra, mut rb) = (Rng::new(u64::from(i)), Rng::new(u64::from(i)));
            let x = nf.trace_hook(Hook::Prerouting, &mut a, &host, &mut ra, 0);
            let y = linear.trace_hook(Hook::Prerouting, &mut b, &host, &mut rb, 0);
            assert_eq!(x, y, "packet {i}");
            assert_eq!(ra.next_u64(), rb.next_u64(), "packet {i}: draws differ");
        }
    }
}
