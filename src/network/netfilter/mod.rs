//! The iptables engine: netfilter's four tables as data, `iptables-restore` text in,
//! `iptables-save` text out, and a packet's path through a hook as an explained record.
//!
//! - [`Ruleset`]: the raw, mangle, nat and filter tables of one node (one network
//!   namespace), each with its built-in chains (policy ACCEPT until set) and user
//!   chains. Chains are shared copy-on-write, so a restore works on a cheap copy and
//!   replaces the ruleset only when the whole input applied: an error leaves nothing
//!   applied (scenario.md).
//! - [`parse`]: `iptables-restore` input (and single `iptables` commands) with the
//!   real option spellings; errors name the line and column and are worded as
//!   iptables-restore v1.8.9 (nf_tables) words them.
//! - [`save`]: `iptables-save` output as the real command prints it: options in its
//!   order and normal forms (`-s 10.0.0.1/32`, `--set-xmark`, `--probability` with 11
//!   decimals of the kernel's 31-bit fixed point, `--reject-with` spelled out).
//! - [`eval`]: a packet through one hook, table by table in the kernel's order, with
//!   per-rule decisions, summarized runs of rules that did not match, jumps, returns,
//!   NAT rewrites and the verdict. Long chains of simple rules (kube-proxy's
//!   KUBE-SERVICES) are indexed on (destination, protocol, destination port); the
//!   result is the one a linear walk gives.
//! - [`conntrack`]: the connection table (original and reply tuples, the NAT binding,
//!   NEW/ESTABLISHED/INVALID/UNTRACKED and the virtual SNAT/DNAT states) and the lists
//!   of the `recent` match (sessionAffinity: ClientIP).
//!
//! Simplifications (say so in the UI): IPv4 only; the security table is absent; the
//! whole restore input is one transaction (the real iptables-nft-restore commits table
//! by table, so a failing second table leaves the first applied); RELATED is never
//! produced by the tracker (no ICMP errors, no helpers); a connection is INVALID only
//! when a packet says so ([`Packet::invalid`]); NAT ranges take their first address
//! (the kernel hashes over the range); `recent` lists are unbounded (the kernel keeps
//! 200 entries of 20 stamps); `-m statistic --mode nth` is not modelled; hooks' chain
//! restrictions (DNAT only from PREROUTING/OUTPUT) are checked by table, not by the
//! hooks that reach a user chain, except REDIRECT's, checked as the kernel checks
//! them (no REDIRECT reachable from nat INPUT or POSTROUTING).

mod callers;
pub mod conntrack;
pub mod eval;
pub mod parse;
pub mod save;

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::sync::Arc;

use serde::Serialize;

pub use conntrack::{Conntrack, CtState, RecentLists, Tuple};
pub use eval::{HookRecord, Host, HostAddrs, Origin, Packet, Passage, Step, Verdict};
pub use parse::{RestoreError, RestoreOptions, RestoreSummary};

/// The iptables version this engine speaks (Debian bookworm's, as kube-proxy's image
/// and kind's nodes carry), with the nf_tables back end.
pub const IPTABLES_VERSION: &str = "1.8.9";

/// The four tables, in the order iptables-nft-save prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TableName {
    Mangle,
    Raw,
    Filter,
    Nat,
}

impl TableName {
    pub const ALL: [TableName; 4] = [
        TableName::Mangle,
        TableName::Raw,
        TableName::Filter,
        TableName::Nat,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TableName::Raw => "raw",
            TableName::Mangle => "mangle",
            TableName::Nat => "nat",
            TableName::Filter => "filter",
        }
    }

    pub fn parse(s: &str) -> Option<TableName> {
        Some(match s {
            "raw" => TableName::Raw,
            "mangle" => TableName::Mangle,
            "nat" => TableName::Nat,
            "filter" => TableName::Filter,
            _ => return None,
        })
    }

    /// The table's built-in chains, in hook order.
    pub fn builtin_chains(self) -> &'static [&'static str] {
        match self {
            TableName::Raw => &["PREROUTING", "OUTPUT"],
            TableName::Mangle => &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
            TableName::Nat => &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
            TableName::Filter => &["INPUT", "FORWARD", "OUTPUT"],
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The five netfilter hooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Hook {
    #[serde(rename = "PREROUTING")]
    Prerouting,
    #[serde(rename = "INPUT")]
    Input,
    #[serde(rename = "FORWARD")]
    Forward,
    #[serde(rename = "OUTPUT")]
    Output,
    #[serde(rename = "POSTROUTING")]
    Postrouting,
}

impl Hook {
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Prerouting => "PREROUTING",
            Hook::Input => "INPUT",
            Hook::Forward => "FORWARD",
            Hook::Output => "OUTPUT",
            Hook::Postrouting => "POSTROUTING",
        }
    }

    /// The tables a packet meets at this hook, in the kernel's priority order (raw
    /// -300, conntrack -200, mangle -150, DNAT -100, filter 0, SNAT 100).
    pub fn tables(self) -> &'static [TableName] {
        use TableName::*;
        match self {
            Hook::Prerouting => &[Raw, Mangle, Nat],
            Hook::Input => &[Mangle, Filter, Nat],
            Hook::Forward => &[Mangle, Filter],
            Hook::Output => &[Raw, Mangle, Nat, Filter],
            Hook::Postrouting => &[Mangle, Nat],
        }
    }
}

/// An IP protocol as `-p` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    Sctp,
    /// Any other protocol, by number.
    Other(u8),
}

impl Proto {
    pub fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Icmp => 1,
            Proto::Sctp => 132,
            Proto::Other(n) => n,
        }
    }

    pub fn from_number(n: u8) -> Proto {
        match n {
            6 => Proto::Tcp,
            17 => Proto::Udp,
            1 => Proto::Icmp,
            132 => Proto::Sctp,
            n => Proto::Other(n),
        }
    }

    /// `-p` accepts names (any case) and numbers; `all` and `0` mean any protocol.
    pub fn parse(s: &str) -> Option<Option<Proto>> {
        let lower = s.to_ascii_lowercase();
        Some(Some(match lower.as_str() {
            "all" | "0" => return Some(None),
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            "icmp" => Proto::Icmp,
            "sctp" => Proto::Sctp,
            _ => Proto::from_number(lower.parse::<u8>().ok()?),
        }))
    }

    pub fn name(self) -> String {
        match self {
            Proto::Tcp => "tcp".into(),
            Proto::Udp => "udp".into(),
            Proto::Icmp => "icmp".into(),
            Proto::Sctp => "sctp".into(),
            Proto::Other(n) => n.to_string(),
        }
    }

    /// Whether packets of this protocol carry ports.
    pub fn has_ports(self) -> bool {
        matches!(self, Proto::Tcp | Proto::Udp | Proto::Sctp)
    }
}

/// An address with a prefix, as `-s`/`-d` hold it (the address is stored masked, as
/// iptables stores it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    pub addr: u32,
    pub prefix: u8,
}

impl Cidr {
    pub fn mask(self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        }
    }

    pub fn contains(self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == self.addr
    }

    pub fn host(ip: Ipv4Addr) -> Cidr {
        Cidr {
            addr: u32::from(ip),
            prefix: 32,
        }
    }

    /// `10.0.0.1`, `10.0.0.0/8` or `10.0.0.0/255.0.0.0`.
    pub fn parse(s: &str) -> Option<Cidr> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let ip: Ipv4Addr = a.parse().ok()?;
        let prefix = match p {
            None => 32,
            Some(p) if p.contains('.') => {
                let m = u32::from(p.parse::<Ipv4Addr>().ok()?);
                let ones = m.leading_ones();
                if m.checked_shl(ones).unwrap_or(0) != 0 {
                    return None;
                }
                ones as u8
            }
            Some(p) => {
                if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                let n: u8 = p.parse().ok()?;
                if n > 32 {
                    return None;
                }
                n
            }
        };
        let mut c = Cidr { addr: 0, prefix };
        c.addr = u32::from(ip) & c.mask();
        Some(c)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.addr), self.prefix)
    }
}

/// An interface name as `-i`/`-o` hold it; a trailing `+` matches any name with
/// that prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Iface {
    pub name: String,
    pub neg: bool,
}

impl Iface {
    pub fn matches(&self, iface: &str) -> bool {
        let hit = match self.name.strip_suffix('+') {
            Some(prefix) => iface.starts_with(prefix) && !iface.is_empty(),
            None => self.name == iface,
        };
        hit != self.neg
    }
}

/// A port or port range (`80`, `8000:8080`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    pub lo: u16,
    pub hi: u16,
}

impl PortRange {
    pub fn contains(self, p: u16) -> bool {
        self.lo <= p && p <= self.hi
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lo == self.hi {
            write!(f, "{}", self.lo)
        } else {
            write!(f, "{}:{}", self.lo, self.hi)
        }
    }
}

/// Conntrack states as `--ctstate` names them, in the order iptables prints them.
pub const CT_STATE_NAMES: [(&str, u8); 7] = [
    ("INVALID", 1),
    ("NEW", 2),
    ("RELATED", 4),
    ("ESTABLISHED", 8),
    ("UNTRACKED", 16),
    ("SNAT", 32),
    ("DNAT", 64),
];

/// Address types of `-m addrtype`, with the kernel's bits, in print order.
pub const ADDR_TYPE_NAMES: [(&str, u16); 12] = [
    ("UNSPEC", 1),
    ("UNICAST", 2),
    ("LOCAL", 4),
    ("BROADCAST", 8),
    ("ANYCAST", 16),
    ("MULTICAST", 32),
    ("BLACKHOLE", 64),
    ("UNREACHABLE", 128),
    ("PROHIBIT", 256),
    ("THROW", 512),
    ("NAT", 1024),
    ("XRESOLVE", 2048),
];

/// What `-m recent` does with the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecentCmd {
    Set,
    Rcheck,
    Update,
    Remove,
}

/// One `-m` match with its options.
#[derive(Clone, Debug, PartialEq)]
pub enum Match {
    /// `-m tcp`, `-m udp`, `-m sctp`: ports, each optionally negated.
    Ports {
        proto: Proto,
        sport: Option<(PortRange, bool)>,
        dport: Option<(PortRange, bool)>,
    },
    /// Shared: kube-proxy's comments repeat across every sync's copy of a rule.
    Comment(Arc<str>),
    /// `-m mark [!] --mark value[/mask]`.
    Mark {
        value: u32,
        mask: u32,
        neg: bool,
    },
    /// `-m statistic --mode random [!] --probability p`, held as the kernel holds it:
    /// a 31-bit fixed-point fraction.
    Random {
        probability: u32,
        neg: bool,
    },
    /// `-m addrtype`: type sets, each optionally negated.
    AddrType {
        src: Option<(u16, bool)>,
        dst: Option<(u16, bool)>,
        limit_iface_in: bool,
        limit_iface_out: bool,
    },
    /// `-m conntrack [!] --ctstate S,...`.
    Conntrack {
        states: u8,
        neg: bool,
    },
    /// `-m state [!] --state S,...` (the older spelling of the same test).
    State {
        states: u8,
        neg: bool,
    },
    /// `-m multiport [!] --dports|--sports|--ports p,...`.
    Multiport {
        dir: PortDir,
        ports: Vec<PortRange>,
        neg: bool,
    },
    Recent(Recent),
    /// `-m nfacct --nfacct-name NAME`: counts into a named accounting object.
    Nfacct(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortDir {
    Src,
    Dst,
    Both,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Recent {
    pub cmd: RecentCmd,
    pub name: String,
    pub seconds: u32,
    pub reap: bool,
    pub hitcount: u32,
    pub rttl: bool,
    pub mask: u32,
    /// `--rdest` (the default is `--rsource`).
    pub dest: bool,
    pub neg: bool,
}

impl Match {
    /// Whether evaluating the match changes state (so an index must not skip it).
    pub fn has_side_effects(&self) -> bool {
        matches!(
            self,
            Match::Random { .. } | Match::Recent(_) | Match::Nfacct(_)
        )
    }
}

/// `-j REJECT --reject-with` types for IPv4, with their short aliases.
pub const REJECT_WITH: [(&str, &str); 8] = [
    ("icmp-net-unreachable", "net-unreach"),
    ("icmp-host-unreachable", "host-unreach"),
    ("icmp-port-unreachable", "port-unreach"),
    ("icmp-proto-unreachable", "proto-unreach"),
    ("icmp-net-prohibited", "net-prohib"),
    ("icmp-host-prohibited", "host-prohib"),
    ("tcp-reset", "tcp-rst"),
    ("icmp-admin-prohibited", "admin-prohib"),
];

/// A NAT range (`--to-destination 10.0.0.1:80`, `--to-source 1.2.3.4-1.2.3.9:1024-2048`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NatRange {
    pub min_ip: Option<Ipv4Addr>,
    pub max_ip: Option<Ipv4Addr>,
    pub ports: Option<PortRange>,
}

impl fmt::Display for NatRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(a) = self.min_ip {
            write!(f, "{a}")?;
            if let Some(b) = self.max_ip.filter(|b| *b != a) {
                write!(f, "-{b}")?;
            }
        }
        if let Some(p) = self.ports {
            if p.lo == p.hi {
                write!(f, ":{}", p.lo)?;
            } else {
                write!(f, ":{}-{}", p.lo, p.hi)?;
            }
        }
        Ok(())
    }
}

/// The `-j` (or `-g`) part of a rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// No target: the rule only counts.
    None,
    Accept,
    Drop,
    Return,
    /// `-j CHAIN`.
    Jump(Arc<str>),
    /// `-g CHAIN`: a jump that does not come back here.
    Goto(Arc<str>),
    Reject {
        with: &'static str,
    },
    Dnat {
        to: NatRange,
        random: bool,
        persistent: bool,
    },
    Snat {
        to: NatRange,
        random: bool,
        random_fully: bool,
        persistent: bool,
    },
    Masquerade {
        to_ports: Option<PortRange>,
        random: bool,
        random_fully: bool,
    },
    /// `-j REDIRECT [--to-ports N[-M]] [--random]` (nat PREROUTING and OUTPUT only):
    /// a DNAT to the node itself, the primary address of the incoming interface (or
    /// 127.0.0.1 for a locally generated packet), the port rewritten when given.
    Redirect {
        to_ports: Option<PortRange>,
        random: bool,
    },
    /// `-j MARK`: every form (`--set-mark`, `--or-mark`, `--xor-mark`, `--and-mark`)
    /// is `--set-xmark value/mask`: mark = (mark & !mask) ^ value.
    Mark {
        value: u32,
        mask: u32,
    },
    /// `-j LOG`: a note in the record; the packet goes on.
    Log {
        prefix: Option<String>,
    },
    /// `-j NOTRACK` (raw table): the packet is not tracked.
    Notrack,
}

impl Target {
    pub fn chain(&self) -> Option<&str> {
        match self {
            Target::Jump(c) | Target::Goto(c) => Some(c),
            _ => None,
        }
    }

    /// A short word for the record (`DNAT`, `KUBE-SVC-…`).
    pub fn label(&self) -> String {
        match self {
            Target::None => "(no target)".into(),
            Target::Accept => "ACCEPT".into(),
            Target::Drop => "DROP".into(),
            Target::Return => "RETURN".into(),
            Target::Jump(c) | Target::Goto(c) => c.to_string(),
            Target::Reject { .. } => "REJECT".into(),
            Target::Dnat { .. } => "DNAT".into(),
            Target::Snat { .. } => "SNAT".into(),
            Target::Masquerade { .. } => "MASQUERADE".into(),
            Target::Redirect { .. } => "REDIRECT".into(),
            Target::Mark { .. } => "MARK".into(),
            Target::Log { .. } => "LOG".into(),
            Target::Notrack => "NOTRACK".into(),
        }
    }
}

/// One rule: the IP header tests, the matches in order, the target, the counters.
#[derive(Clone, Debug)]
pub struct Rule {
    pub src: Option<(Cidr, bool)>,
    pub dst: Option<(Cidr, bool)>,
    pub in_iface: Option<Iface>,
    pub out_iface: Option<Iface>,
    pub proto: Option<(Proto, bool)>,
    pub matches: Vec<Match>,
    pub target: Target,
    pub packets: u64,
    pub bytes: u64,
    /// The 128-bit fingerprint of the `-A CHAIN ...` restore line this rule was read
    /// from (0: none), so a later restore that writes the same line again reuses the
    /// rule instead of reading it anew ([`parse`]). Not part of the rule's identity.
    pub(crate) source: u128,
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.same_spec(other) && self.packets == other.packets && self.bytes == other.bytes
    }
}

impl Default for Rule {
    fn default() -> Self {
        Rule {
            src: None,
            dst: None,
            in_iface: None,
            out_iface: None,
            proto: None,
            matches: Vec::new(),
            target: Target::None,
            packets: 0,
            bytes: 0,
            source: 0,
        }
    }
}

impl Rule {
    /// Same rule, counters aside (as `-D` with a rule specification compares).
    pub fn same_spec(&self, other: &Rule) -> bool {
        self.src == other.src
            && self.dst == other.dst
            && self.in_iface == other.in_iface
            && self.out_iface == other.out_iface
            && self.proto == other.proto
            && self.matches == other.matches
            && self.target == other.target
    }
}

/// A built-in chain's policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Policy {
    #[serde(rename = "ACCEPT")]
    Accept,
    #[serde(rename = "DROP")]
    Drop,
}

impl Policy {
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Accept => "ACCEPT",
            Policy::Drop => "DROP",
        }
    }
}

/// A chain: built-in (with a policy and the policy's counters) or user-defined.
#[derive(Clone, Debug)]
pub struct Chain {
    pub name: String,
    pub policy: Option<Policy>,
    pub rules: Vec<Rule>,
    /// Packets and bytes that met the policy (built-in chains).
    pub packets: u64,
    pub bytes: u64,
    pub(crate) index: Option<Arc<eval::ChainIndex>>,
    /// The rules changed since the index was built.
    pub(crate) stale: bool,
}

impl PartialEq for Chain {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.policy == other.policy
            && self.rules == other.rules
            && self.packets == other.packets
            && self.bytes == other.bytes
    }
}

impl Chain {
    pub fn new(name: &str, policy: Option<Policy>) -> Chain {
        Chain {
            name: name.to_string(),
            policy,
            rules: Vec::new(),
            packets: 0,
            bytes: 0,
            index: None,
            stale: false,
        }
    }

    pub fn is_builtin(&self) -> bool {
        self.policy.is_some()
    }

    /// Rebuilds the lookup index after the rules changed.
    pub(crate) fn reindex(&mut self) {
        self.index = eval::ChainIndex::build(&self.rules).map(Arc::new);
        self.stale = false;
    }
}

/// One table: its chains by name (built-ins included), shared copy-on-write.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub name: TableName,
    pub chains: BTreeMap<String, Arc<Chain>>,
    /// Who jumps to whom, kept by every restore (see [`callers`]).
    pub(crate) callers: callers::Callers,
}

impl Table {
    pub fn new(name: TableName) -> Table {
        let mut chains = BTreeMap::new();
        for c in name.builtin_chains() {
            chains.insert(
                (*c).to_string(),
                Arc::new(Chain::new(c, Some(Policy::Accept))),
            );
        }
        Table {
            name,
            chains,
            callers: callers::Callers::default(),
        }
    }

    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains.get(name).map(|c| &**c)
    }

    pub fn is_builtin(&self, chain: &str) -> bool {
        self.name.builtin_chains().contains(&chain)
    }

    /// Chains in iptables-save's order: built-ins in hook order, then user chains by
    /// name.
    pub fn chains_in_order(&self) -> impl Iterator<Item = &Chain> {
        let builtins = self
            .name
            .builtin_chains()
            .iter()
            .filter_map(|n| self.chain(n));
        let users = self
            .chains
            .values()
            .filter(|c| !c.is_builtin())
            .map(|c| &**c);
        builtins.chain(users)
    }

    /// Number of rules in all chains.
    pub fn rule_count(&self) -> usize {
        self.chains.values().map(|c| c.rules.len()).sum()
    }
}

/// A node's four tables.
#[derive(Clone, Debug, PartialEq)]
pub struct Ruleset {
    tables: [Table; 4],
}

impl Default for Ruleset {
    fn default() -> Self {
        Ruleset::new()
    }
}

impl Ruleset {
    /// Every table with its built-in chains, policies ACCEPT, no rules.
    pub fn new() -> Ruleset {
        Ruleset {
            tables: TableName::ALL.map(Table::new),
        }
    }

    pub fn table(&self, t: TableName) -> &Table {
        &self.tables[t.index()]
    }

    pub(crate) fn table_mut(&mut self, t: TableName) -> &mut Table {
        &mut self.tables[t.index()]
    }

    pub fn chain(&self, t: TableName, chain: &str) -> Option<&Chain> {
        self.table(t).chain(chain)
    }

    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.tables.iter()
    }

    pub fn rule_count(&self) -> usize {
        self.tables.iter().map(Table::rule_count).sum()
    }

    /// Zeroes every counter (`iptables -Z` over all tables).
    pub fn zero_counters(&mut self) {
        for t in &mut self.tables {
            for c in t.chains.values_mut() {
                let c = Arc::make_mut(c);
                c.packets = 0;
                c.bytes = 0;
                for r in &mut c.rules {
                    r.packets = 0;
                    r.bytes = 0;
                }
            }
        }
    }
}

/// One node's netfilter: the rules, the connection table, the `recent` lists and the
/// nfacct counters. A live packet changes them; a trace reads them only.
#[derive(Clone, Debug, Default)]
pub struct Netfilter {
    pub rules: Ruleset,
    pub conntrack: Conntrack,
    pub recent: RecentLists,
    /// nfacct objects: name → (packets, bytes).
    pub nfacct: BTreeMap<String, (u64, u64)>,
}

impl Netfilter {
    pub fn new() -> Netfilter {
        Netfilter::default()
    }

    /// Loads `iptables-restore` text; on error nothing changes.
    pub fn restore(
        &mut self,
        text: &str,
        opts: RestoreOptions,
    ) -> Result<RestoreSummary, RestoreError> {
        parse::restore(&mut self.rules, text, opts)
    }

    /// Runs one `iptables` command line (`-t nat -I PREROUTING 1 -s 10.0.0.1 -j DROP`;
    /// a leading `iptables` word is allowed).
    pub fn command(&mut self, line: &str) -> Result<(), RestoreError> {
        parse::command(&mut self.rules, line)
    }

    /// `iptables-save` text at virtual time `now` (nanoseconds since time zero).
    pub fn save(&self, now: u64) -> String {
        save::save(
            &self.rules,
            &save::SaveOptions {
                now,
                counters: false,
            },
        )
    }
}
