//! `iptables-restore` input and single `iptables` commands.
//!
//! A line is split as iptables-restore splits it (double quotes group words, a
//! backslash inside quotes escapes the next character), then read as an `iptables`
//! command with the real option spellings. Options go to the target if it knows them,
//! else to the latest `-m` match that knows them, else a port option after `-p tcp`
//! loads the protocol's match implicitly (as iptables does, so `-p tcp --dport 80`
//! saves as `-p tcp -m tcp --dport 80`).
//!
//! The input is applied in place, chain by chain: the first write to a chain keeps
//! its earlier version (chains are shared copy-on-write), and an input that fails at
//! any line or COMMIT puts every chain and table back, so nothing changes.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::Ipv4Addr;
use std::sync::Arc;

use serde::Serialize;

use super::{
    Chain, Cidr, Iface, Match, NatRange, Policy, PortDir, PortRange, Proto, Recent, RecentCmd,
    Rule, Ruleset, Table, TableName, Target, ADDR_TYPE_NAMES, CT_STATE_NAMES, IPTABLES_VERSION,
    REJECT_WITH,
};

/// How a restore treats what is already there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    /// `--noflush`: tables are not flushed at `*table`; a declared user chain that
    /// exists is flushed, one that does not is created.
    pub noflush: bool,
    /// `--counters`: `[packets:bytes]` on chain and rule lines are loaded.
    pub counters: bool,
}

/// What a restore loaded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreSummary {
    /// Tables committed, in input order.
    pub tables: Vec<TableName>,
    /// Chains declared with `:CHAIN` lines.
    pub chains: usize,
    /// Rules appended, inserted or replaced.
    pub rules: usize,
    /// Chains deleted (`-X`).
    pub deleted_chains: usize,
    /// Of `rules`, those taken from a re-declared chain's previous version because
    /// their line was the same, rather than read again (an engine figure, not
    /// iptables').
    #[serde(skip)]
    pub reused: usize,
}

/// How iptables-restore reports a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorKind {
    /// A parameter problem (bad option, bad value): the versioned prefix, the
    /// message, "Error occurred at line: N".
    Parameter,
    /// The command was well formed but could not be carried out:
    /// "iptables-restore: line N failed: REASON".
    LineFailed,
    /// Input ended inside a table: "COMMIT expected at line N".
    CommitExpected,
}

/// A restore or command error: nothing was applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RestoreError {
    pub line: usize,
    /// 1-based column of the word at fault (1 when the whole line is).
    pub column: usize,
    pub kind: ErrorKind,
    pub message: String,
}

impl RestoreError {
    fn param(line: usize, column: usize, message: impl Into<String>) -> RestoreError {
        RestoreError {
            line,
            column,
            kind: ErrorKind::Parameter,
            message: message.into(),
        }
    }

    fn failed(line: usize, column: usize, message: impl Into<String>) -> RestoreError {
        RestoreError {
            line,
            column,
            kind: ErrorKind::LineFailed,
            message: message.into(),
        }
    }

    /// What the real command prints on stderr.
    pub fn text(&self) -> String {
        match self.kind {
            ErrorKind::Parameter => format!(
                "iptables-restore v{IPTABLES_VERSION} (nf_tables): {}\nError occurred at line: {}\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.",
                self.message, self.line
            ),
            ErrorKind::LineFailed if self.message.is_empty() => {
                format!("iptables-restore: line {} failed", self.line)
            }
            ErrorKind::LineFailed => {
                format!("iptables-restore: line {} failed: {}", self.line, self.message)
            }
            ErrorKind::CommitExpected => {
                format!("iptables-restore: COMMIT expected at line {}", self.line)
            }
        }
    }
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (line {}, column {})",
            self.text(),
            self.line,
            self.column
        )
    }
}

impl std::error::Error for RestoreError {}

/// A word of a line and the column it starts at (1-based, in characters). Its text
/// is the line's own bytes unless a backslash inside quotes changed it.
#[derive(Clone, Debug)]
struct Word<'s> {
    text: Cow<'s, str>,
    col: usize,
}

/// Splits a rule line as iptables-restore's `add_param_to_argv` does.
fn split_words<'s>(
    line: &'s str,
    line_no: usize,
    first_col: usize,
) -> Result<Vec<Word<'s>>, RestoreError> {
    // kube-proxy's rules run to about 20 words.
    let mut words = Vec::with_capacity(24);
    // Where the current word's text starts in the line, and the text itself once an
    // escape made it differ from the line.
    let mut from = 0usize;
    let mut owned: Option<String> = None;
    let mut start = 0usize;
    let mut in_word = false;
    let mut quote_open = false;
    let mut quote_col = 0;
    let mut escaped = false;
    let text = |from: usize, to: usize, owned: &mut Option<String>| -> Cow<'s, str> {
        match owned.take() {
            Some(s) => Cow::Owned(s),
            None => Cow::Borrowed(&line[from..to]),
        }
    };
    for (i, (at, ch)) in line.char_indices().enumerate() {
        let col = first_col + i;
        if quote_open {
            if escaped {
                if let Some(o) = owned.as_mut() {
                    o.push(ch);
                }
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
                owned.get_or_insert_with(|| line[from..at].to_string());
            } else if ch == '"' {
                quote_open = false;
                words.push(Word {
                    text: text(from, at, &mut owned),
                    col: start,
                });
                in_word = false;
            } else if let Some(o) = owned.as_mut() {
                o.push(ch);
            }
            continue;
        }
        match ch {
            '"' => {
                if in_word {
                    words.push(Word {
                        text: text(from, at, &mut owned),
                        col: start,
                    });
                }
                quote_open = true;
                quote_col = col;
                in_word = true;
                start = col;
                from = at + 1;
            }
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(Word {
                        text: text(from, at, &mut owned),
                        col: start,
                    });
                    in_word = false;
                }
            }
            _ => {
                if !in_word {
                    in_word = true;
                    start = col;
                    from = at;
                }
            }
        }
    }
    if quote_open {
        return Err(RestoreError::param(
            line_no,
            quote_col,
            "Unterminated quote in parameter",
        ));
    }
    if in_word {
        words.push(Word {
            text: text(from, line.len(), &mut owned),
            col: start,
        });
    }
    Ok(words)
}

/// What a command line asks for.
#[derive(Clone, Debug)]
enum Op {
    Append,
    Insert(usize),
    Delete(Option<usize>),
    Replace(usize),
    NewChain,
    DeleteChain,
    Flush,
    Policy(Policy),
    Zero,
    Rename(String),
}

#[derive(Clone, Debug)]
struct Command {
    table: TableName,
    op: Op,
    chain: Option<String>,
    chain_col: usize,
    rule: Rule,
    target_col: usize,
    counters: Option<(u64, u64)>,
    /// The rule came from [`Memo`]: its jump target existed when its chain was last
    /// committed, so it still does unless a chain of the table went since.
    reused: bool,
}

/// A match being read: the match, the options seen (bits) and its column.
struct Building {
    m: Match,
    name: &'static str,
    seen: u32,
    col: usize,
}

struct Reader<'a, 's> {
    words: &'a [Word<'s>],
    pos: usize,
    line: usize,
}

impl<'a, 's> Reader<'a, 's> {
    fn arg(&mut self, opt: &Word) -> Result<&'a Word<'s>, RestoreError> {
        match self.words.get(self.pos) {
            Some(w) => {
                self.pos += 1;
                Ok(w)
            }
            None => Err(RestoreError::param(
                self.line,
                opt.col,
                format!("option \"{}\" requires an argument", opt.text),
            )),
        }
    }

    /// An optional numeric argument (`-I CHAIN 3`).
    fn optional_number(&mut self) -> Option<(usize, usize)> {
        let w = self.words.get(self.pos)?;
        if !w.text.is_empty() && w.text.bytes().all(|c| c.is_ascii_digit()) {
            self.pos += 1;
            w.text.parse().ok().map(|n| (n, w.col))
        } else {
            None
        }
    }

    /// An optional non-option argument (`-F [CHAIN]`).
    fn optional_name(&mut self) -> Option<&'a Word<'s>> {
        let w = self.words.get(self.pos)?;
        if w.text.starts_with('-') || w.text == "!" {
            return None;
        }
        self.pos += 1;
        Some(w)
    }
}

fn parse_u32(s: &str) -> Option<u32> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u32::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

/// `value[/mask]`; a missing mask is all ones.
fn parse_value_mask(s: &str) -> Option<(u32, u32)> {
    match s.split_once('/') {
        Some((v, m)) => Some((parse_u32(v)?, parse_u32(m)?)),
        None => Some((parse_u32(s)?, u32::MAX)),
    }
}

fn parse_port(s: &str) -> Option<u16> {
    if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
        return s.parse().ok();
    }
    // The services kube-proxy and people name most.
    Some(match s {
        "http" => 80,
        "https" => 443,
        "ssh" => 22,
        "domain" => 53,
        "ntp" => 123,
        "smtp" => 25,
        _ => return None,
    })
}

fn parse_port_range(s: &str) -> Option<PortRange> {
    match s.split_once(':') {
        Some((a, b)) => {
            let lo = if a.is_empty() { 0 } else { parse_port(a)? };
            let hi = if b.is_empty() { 65535 } else { parse_port(b)? };
            (lo <= hi).then_some(PortRange { lo, hi })
        }
        None => parse_port(s).map(|p| PortRange { lo: p, hi: p }),
    }
}

fn parse_states(s: &str) -> Option<u8> {
    let mut bits = 0u8;
    for part in s.split(',') {
        let (_, b) = CT_STATE_NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(part))?;
        bits |= b;
    }
    Some(bits)
}

fn parse_addr_types(s: &str) -> Option<u16> {
    let mut bits = 0u16;
    for part in s.split(',') {
        let (_, b) = ADDR_TYPE_NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(part))?;
        bits |= b;
    }
    Some(bits)
}

/// `ip[-ip2][:port[-port2]]`.
fn parse_nat_range(s: &str) -> Option<NatRange> {
    let (ips, ports) = match s.split_once(':') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let (min_ip, max_ip) = if ips.is_empty() {
        (None, None)
    } else {
        match ips.split_once('-') {
            Some((a, b)) => (Some(a.parse().ok()?), Some(b.parse().ok()?)),
            None => {
                let a: Ipv4Addr = ips.parse().ok()?;
                (Some(a), Some(a))
            }
        }
    };
    let ports = match ports {
        None => None,
        Some(p) => Some(match p.split_once('-') {
            Some((a, b)) => PortRange {
                lo: parse_port(a)?,
                hi: parse_port(b)?,
            },
            None => {
                let x = parse_port(p)?;
                PortRange { lo: x, hi: x }
            }
        }),
    };
    if min_ip.is_none() && ports.is_none() {
        return None;
    }
    Some(NatRange {
        min_ip,
        max_ip,
        ports,
    })
}

fn is_standard_target(name: &str) -> bool {
    matches!(
        name,
        "ACCEPT"
            | "DROP"
            | "RETURN"
            | "QUEUE"
            | "REJECT"
            | "DNAT"
            | "SNAT"
            | "MASQUERADE"
            | "REDIRECT"
            | "MARK"
            | "LOG"
            | "NOTRACK"
            | "CT"
    )
}

/// Reads one command's words (after the program name).
fn parse_command(
    words: &[Word],
    line: usize,
    default_table: TableName,
    in_restore: bool,
) -> Result<Command, RestoreError> {
    let mut rd = Reader {
        words,
        pos: 0,
        line,
    };
    let mut table = default_table;
    let mut op: Option<(Op, usize, char)> = None;
    let mut chain: Option<String> = None;
    let mut chain_col = 1;
    let mut rule = Rule::default();
    let mut matches: Vec<Building> = Vec::new();
    let mut target_name: Option<(String, usize, bool)> = None; // name, col, goto
    let mut tgt: Option<Target> = None;
    let mut tgt_seen = 0u32;
    let mut neg = false;
    let mut neg_col = 0;
    let mut counters = None;
    let mut seen_spec: BTreeSet<char> = BTreeSet::new();

    let set_op = |op: &mut Option<(Op, usize, char)>,
                  new: Op,
                  c: char,
                  w: &Word|
     -> Result<(), RestoreError> {
        if let Some((_, _, old)) = op {
            return Err(RestoreError::param(
                line,
                w.col,
                format!("Can't use -{c} with -{old}\n"),
            ));
        }
        *op = Some((new, w.col, c));
        Ok(())
    };

    while rd.pos < words.len() {
        let w = &words[rd.pos];
        rd.pos += 1;
        let t = w.text.as_ref();
        if t == "!" {
            if neg {
                return Err(RestoreError::param(
                    line,
                    w.col,
                    "Multiple `!' flags not allowed",
                ));
            }
            neg = true;
            neg_col = w.col;
            continue;
        }
        let invert = std::mem::take(&mut neg);
        let no_invert = |name: &str| -> Result<(), RestoreError> {
            if invert {
                Err(RestoreError::param(
                    line,
                    neg_col,
                    format!("cannot have ! before {name}"),
                ))
            } else {
                Ok(())
            }
        };
        let mut spec_once = |c: char, w: &Word| -> Result<(), RestoreError> {
            if !seen_spec.insert(c) {
                return Err(RestoreError::param(
                    line,
                    w.col,
                    format!("multiple -{c} flags not allowed"),
                ));
            }
            Ok(())
        };
        match t {
            "-t" | "--table" => {
                no_invert(t)?;
                let a = rd.arg(w)?;
                if in_restore {
                    return Err(RestoreError::param(
                        line,
                        w.col,
                        format!("The -t option (seen in line {line}) cannot be used in iptables-restore.\n"),
                    ));
                }
                table = TableName::parse(&a.text).ok_or_else(|| {
                    RestoreError::param(
                        line,
                        a.col,
                        format!(
                            "can't initialize iptables table `{}': Table does not exist (do you need to insmod?)",
                            a.text
                        ),
                    )
                })?;
            }
            "-A" | "--append" | "-I" | "--insert" | "-D" | "--delete" | "-R" | "--replace"
            | "-N" | "--new-chain" | "-X" | "--delete-chain" | "-F" | "--flush" | "-P"
            | "--policy" | "-Z" | "--zero" | "-E" | "--rename-chain" => {
                no_invert(t)?;
                let letter = match t {
                    "-A" | "--append" => 'A',
                    "-I" | "--insert" => 'I',
                    "-D" | "--delete" => 'D',
                    "-R" | "--replace" => 'R',
                    "-N" | "--new-chain" => 'N',
                    "-X" | "--delete-chain" => 'X',
                    "-F" | "--flush" => 'F',
                    "-P" | "--policy" => 'P',
                    "-Z" | "--zero" => 'Z',
                    _ => 'E',
                };
                let needs_chain = matches!(letter, 'A' | 'I' | 'D' | 'R' | 'N' | 'P' | 'E');
                let c = if needs_chain {
                    Some(rd.arg(w)?)
                } else {
                    rd.optional_name()
                };
                if let Some(c) = &c {
                    chain = Some(c.text.to_string());
                    chain_col = c.col;
                }
                let new = match letter {
                    'A' => Op::Append,
                    'I' => Op::Insert(rd.optional_number().map(|(n, _)| n).unwrap_or(1)),
                    'D' => Op::Delete(rd.optional_number().map(|(n, _)| n)),
                    'R' => {
                        let n = rd.arg(w)?;
                        Op::Replace(n.text.parse().map_err(|_| {
                            RestoreError::param(
                                line,
                                n.col,
                                format!("Invalid rule number `{}'", n.text),
                            )
                        })?)
                    }
                    'N' => Op::NewChain,
                    'X' => Op::DeleteChain,
                    'F' => Op::Flush,
                    'Z' => Op::Zero,
                    'P' => {
                        let p = rd.arg(w)?;
                        Op::Policy(match p.text.as_ref() {
                            "ACCEPT" => Policy::Accept,
                            "DROP" => Policy::Drop,
                            _ => {
                                return Err(RestoreError::failed(
                                    line,
                                    p.col,
                                    "Bad policy name. Run `dmesg' for more information.",
                                ))
                            }
                        })
                    }
                    _ => Op::Rename(rd.arg(w)?.text.to_string()),
                };
                set_op(&mut op, new, letter, w)?;
            }
            "-s" | "--source" | "--src" | "-d" | "--destination" | "--dst" => {
                let a = rd.arg(w)?;
                let c = if t.starts_with("-s") || t.starts_with("--s") {
                    's'
                } else {
                    'd'
                };
                spec_once(c, w)?;
                let cidr = Cidr::parse(&a.text).ok_or_else(|| {
                    RestoreError::param(line, a.col, format!("host/network `{}' not found", a.text))
                })?;
                if c == 's' {
                    rule.src = Some((cidr, invert));
                } else {
                    rule.dst = Some((cidr, invert));
                }
            }
            "-i" | "--in-interface" | "-o" | "--out-interface" => {
                let a = rd.arg(w)?;
                let c = if t.starts_with("-i") || t.starts_with("--i") {
                    'i'
                } else {
                    'o'
                };
                spec_once(c, w)?;
                if a.text.len() >= 16 {
                    return Err(RestoreError::param(
                        line,
                        a.col,
                        format!(
                            "interface name `{}' must be shorter than IFNAMSIZ (15)",
                            a.text
                        ),
                    ));
                }
                let f = Iface {
                    name: a.text.to_string(),
                    neg: invert,
                };
                if c == 'i' {
                    rule.in_iface = Some(f);
                } else {
                    rule.out_iface = Some(f);
                }
            }
            "-p" | "--protocol" => {
                let a = rd.arg(w)?;
                spec_once('p', w)?;
                match Proto::parse(&a.text) {
                    Some(Some(p)) => rule.proto = Some((p, invert)),
                    Some(None) => {
                        if invert {
                            return Err(RestoreError::param(
                                line,
                                neg_col,
                                "rule would never match protocol",
                            ));
                        }
                        rule.proto = None;
                    }
                    None => {
                        return Err(RestoreError::param(
                            line,
                            a.col,
                            format!("unknown protocol \"{}\" specified", a.text),
                        ))
                    }
                }
            }
            "-m" | "--match" => {
                no_invert(t)?;
                let a = rd.arg(w)?;
                matches.push(new_match(a, line)?);
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                no_invert(t)?;
                let a = rd.arg(w)?;
                if target_name.is_some() {
                    return Err(RestoreError::param(
                        line,
                        w.col,
                        "multiple -j flags not allowed",
                    ));
                }
                let goto = t == "-g" || t == "--goto";
                tgt = if goto { None } else { new_target(&a.text) };
                target_name = Some((a.text.to_string(), a.col, goto));
            }
            "-c" | "--set-counters" => {
                no_invert(t)?;
                let p = rd.arg(w)?;
                let b = rd.arg(w)?;
                match (p.text.parse(), b.text.parse()) {
                    (Ok(p), Ok(b)) => counters = Some((p, b)),
                    _ => {
                        return Err(RestoreError::param(
                            line,
                            p.col,
                            "-c packet counter not numeric",
                        ))
                    }
                }
            }
            "-w" | "--wait" | "-W" | "--wait-interval" => {
                rd.optional_number();
            }
            _ if t.starts_with('-') && t.len() > 1 => {
                // Target options first, then the latest match that knows the option.
                if let Some(tg) = tgt.as_mut() {
                    if target_option(tg, &mut tgt_seen, w, invert, &mut rd)? {
                        continue;
                    }
                }
                let mut done = false;
                for b in matches.iter_mut().rev() {
                    if match_option(b, w, invert, &mut rd)? {
                        done = true;
                        break;
                    }
                }
                if done {
                    continue;
                }
                // `-p tcp --dport 80`: iptables loads the protocol's match itself.
                if let Some((p, false)) = rule.proto {
                    if p.has_ports()
                        && matches!(
                            t,
                            "--dport" | "--sport" | "--destination-port" | "--source-port"
                        )
                    {
                        let name = Word {
                            text: Cow::Owned(p.name()),
                            col: w.col,
                        };
                        let mut b = new_match(&name, line)?;
                        match_option(&mut b, w, invert, &mut rd)?;
                        matches.push(b);
                        continue;
                    }
                }
                return Err(RestoreError::param(
                    line,
                    w.col,
                    format!("unknown option \"{t}\""),
                ));
            }
            _ => {
                return Err(RestoreError::param(
                    line,
                    w.col,
                    format!("Bad argument `{t}'"),
                ))
            }
        }
    }
    if neg {
        return Err(RestoreError::param(line, neg_col, "Bad argument `!'"));
    }
    let Some((op, _, letter)) = op else {
        return Err(RestoreError::param(line, 1, "no command specified"));
    };
    let takes_rule =
        matches!(op, Op::Append | Op::Insert(_) | Op::Replace(_)) || matches!(op, Op::Delete(None));
    let has_spec = rule.src.is_some()
        || rule.dst.is_some()
        || rule.in_iface.is_some()
        || rule.out_iface.is_some()
        || rule.proto.is_some()
        || !matches.is_empty()
        || target_name.is_some();
    if !takes_rule && has_spec {
        return Err(RestoreError::param(
            line,
            1,
            format!("Illegal option with this command: -{letter}"),
        ));
    }
    // Finish the matches: mandatory options, protocol requirements.
    for b in matches {
        finish_match(&b, &rule, line)?;
        rule.matches.push(b.m);
    }
    let mut target_col = 1;
    if let Some((name, col, goto)) = target_name {
        target_col = col;
        rule.target = match tgt {
            Some(t) => {
                finish_target(&t, tgt_seen, &name, table, &rule, line, col)?;
                t
            }
            None if is_standard_target(&name) => {
                return Err(RestoreError::param(
                    line,
                    col,
                    format!("Couldn't load target `{name}':No such file or directory"),
                ))
            }
            None if goto => Target::Goto(name.into()),
            None => Target::Jump(name.into()),
        };
    }
    Ok(Command {
        table,
        op,
        chain,
        chain_col,
        rule,
        target_col,
        counters,
        reused: false,
    })
}

fn new_match(name: &Word, line: usize) -> Result<Building, RestoreError> {
    let (m, n): (Match, &'static str) = match name.text.as_ref() {
        "tcp" | "udp" | "sctp" => {
            let p = Proto::parse(&name.text).flatten().unwrap_or(Proto::Tcp);
            let n = match p {
                Proto::Tcp => "tcp",
                Proto::Udp => "udp",
                _ => "sctp",
            };
            (
                Match::Ports {
                    proto: p,
                    sport: None,
                    dport: None,
                },
                n,
            )
        }
        "comment" => (Match::Comment("".into()), "comment"),
        "mark" => (
            Match::Mark {
                value: 0,
                mask: u32::MAX,
                neg: false,
            },
            "mark",
        ),
        "statistic" => (
            Match::Random {
                probability: 0,
                neg: false,
            },
            "statistic",
        ),
        "addrtype" => (
            Match::AddrType {
                src: None,
                dst: None,
                limit_iface_in: false,
                limit_iface_out: false,
            },
            "addrtype",
        ),
        "conntrack" => (
            Match::Conntrack {
                states: 0,
                neg: false,
            },
            "conntrack",
        ),
        "state" => (
            Match::State {
                states: 0,
                neg: false,
            },
            "state",
        ),
        "multiport" => (
            Match::Multiport {
                dir: PortDir::Dst,
                ports: Vec::new(),
                neg: false,
            },
            "multiport",
        ),
        "recent" => (
            Match::Recent(Recent {
                cmd: RecentCmd::Rcheck,
                name: "DEFAULT".into(),
                seconds: 0,
                reap: false,
                hitcount: 0,
                rttl: false,
                mask: u32::MAX,
                dest: false,
                neg: false,
            }),
            "recent",
        ),
        "nfacct" => (Match::Nfacct(String::new()), "nfacct"),
        other => {
            return Err(RestoreError::param(
                line,
                name.col,
                format!("Couldn't load match `{other}':No such file or directory"),
            ))
        }
    };
    Ok(Building {
        m,
        name: n,
        seen: 0,
        col: name.col,
    })
}

/// Offers an option to a match; `Ok(false)` if the match does not know it.
fn match_option(
    b: &mut Building,
    w: &Word,
    invert: bool,
    rd: &mut Reader,
) -> Result<bool, RestoreError> {
    let line = rd.line;
    let opt = w.text.as_ref();
    let cannot_invert = |b: &Building| -> Result<(), RestoreError> {
        if invert {
            Err(RestoreError::param(
                line,
                w.col,
                format!("{}: option \"{}\" cannot be inverted.", b.name, opt),
            ))
        } else {
            Ok(())
        }
    };
    let once = |b: &mut Building, bit: u32| -> Result<(), RestoreError> {
        if b.seen & bit != 0 {
            return Err(RestoreError::param(
                line,
                w.col,
                format!("{}: option \"{}\" can only be used once.", b.name, opt),
            ));
        }
        b.seen |= bit;
        Ok(())
    };
    let bad = |what: &str, v: &Word| {
        RestoreError::param(line, v.col, format!("{what} `{}' specified", v.text))
    };
    match &mut b.m {
        Match::Ports { sport, dport, .. } => {
            let is_src = matches!(opt, "--sport" | "--source-port");
            if !is_src && !matches!(opt, "--dport" | "--destination-port") {
                return Ok(false);
            }
            let v = rd.arg(w)?;
            let r = parse_port_range(&v.text).ok_or_else(|| bad("invalid port/service", v))?;
            if is_src {
                *sport = Some((r, invert));
                once(b, 1)?;
            } else {
                *dport = Some((r, invert));
                once(b, 2)?;
            }
        }
        Match::Comment(text) => {
            if opt != "--comment" {
                return Ok(false);
            }
            let v = rd.arg(w)?;
            if v.text.len() > 255 {
                return Err(RestoreError::param(
                    line,
                    v.col,
                    "comment: option \"--comment\" must not be longer than 255 characters",
                ));
            }
            *text = v.text.as_ref().into();
            cannot_invert(b)?;
            once(b, 1)?;
        }
        Match::Mark { value, mask, neg } => {
            if opt != "--mark" {
                return Ok(false);
            }
            let v = rd.arg(w)?;
            let (x, m) = parse_value_mask(&v.text).ok_or_else(|| {
                RestoreError::param(
                    line,
                    v.col,
                    format!("mark: Bad value for \"--mark\" option: \"{}\"", v.text),
                )
            })?;
            *value = x;
            *mask = m;
            *neg = invert;
            once(b, 1)?;
        }
        Match::Random { probability, neg } => match opt {
            "--mode" => {
                let v = rd.arg(w)?;
                if v.text != "random" {
                    return Err(RestoreError::param(
                        line,
                        v.col,
                        format!("statistic: --mode {} is not modelled (only random)", v.text),
                    ));
                }
                cannot_invert(b)?;
                once(b, 1)?;
            }
            "--probability" => {
                let v = rd.arg(w)?;
                let p: f64 = v.text.parse().ok().filter(|p: &f64| (0.0..=1.0).contains(p)).ok_or_else(|| {
                    RestoreError::param(
                        line,
                        v.col,
                        format!("statistic: Value \"{}\" for \"--probability\" option is out of range [0,1]", v.text),
                    )
                })?;
                // The kernel's fixed point: lround(0x80000000 * p).
                *probability = (p * 2_147_483_648.0).round() as u32;
                *neg = invert;
                once(b, 2)?;
            }
            _ => return Ok(false),
        },
        Match::AddrType {
            src,
            dst,
            limit_iface_in,
            limit_iface_out,
        } => match opt {
            "--src-type" | "--dst-type" => {
                let v = rd.arg(w)?;
                let bits = parse_addr_types(&v.text).ok_or_else(|| {
                    RestoreError::param(line, v.col, format!("addrtype: bad type \"{}\"", v.text))
                })?;
                if opt == "--src-type" {
                    *src = Some((bits, invert));
                    once(b, 1)?;
                } else {
                    *dst = Some((bits, invert));
                    once(b, 2)?;
                }
            }
            "--limit-iface-in" => {
                *limit_iface_in = true;
                cannot_invert(b)?;
            }
            "--limit-iface-out" => {
                *limit_iface_out = true;
                cannot_invert(b)?;
            }
            _ => return Ok(false),
        },
        Match::Conntrack { states, neg } | Match::State { states, neg } => {
            let want = if b.name == "conntrack" {
                "--ctstate"
            } else {
                "--state"
            };
            if opt != want {
                return Ok(false);
            }
            let v = rd.arg(w)?;
            *states = parse_states(&v.text).ok_or_else(|| {
                RestoreError::param(line, v.col, format!("Bad ctstate \"{}\"", v.text))
            })?;
            *neg = invert;
            once(b, 1)?;
        }
        Match::Multiport { dir, ports, neg } => {
            let d = match opt {
                "--dports" | "--destination-ports" => PortDir::Dst,
                "--sports" | "--source-ports" => PortDir::Src,
                "--ports" => PortDir::Both,
                _ => return Ok(false),
            };
            let v = rd.arg(w)?;
            let mut list = Vec::new();
            let mut count = 0;
            for p in v.text.split(',') {
                let r = parse_port_range(p).ok_or_else(|| bad("invalid port/service", v))?;
                count += if r.lo == r.hi { 1 } else { 2 };
                list.push(r);
            }
            if count > 15 {
                return Err(RestoreError::param(line, v.col, "too many ports specified"));
            }
            *dir = d;
            *ports = list;
            *neg = invert;
            once(b, 1)?;
        }
        Match::Recent(r) => match opt {
            "--set" | "--rcheck" | "--update" | "--remove" => {
                r.cmd = match opt {
                    "--set" => RecentCmd::Set,
                    "--rcheck" => RecentCmd::Rcheck,
                    "--update" => RecentCmd::Update,
                    _ => RecentCmd::Remove,
                };
                r.neg = invert;
                if b.seen & 1 != 0 {
                    return Err(RestoreError::param(
                            line,
                            w.col,
                            "recent: only one of `--set', `--rcheck' `--update' or `--remove' may be set",
                        ));
                }
                b.seen |= 1;
            }
            "--seconds" | "--hitcount" => {
                let v = rd.arg(w)?;
                let n: u32 = v.text.parse().map_err(|_| {
                    RestoreError::param(
                        line,
                        v.col,
                        format!("recent: bad value for option \"{opt}\", or out of range."),
                    )
                })?;
                if opt == "--seconds" {
                    r.seconds = n;
                } else {
                    r.hitcount = n;
                }
                cannot_invert(b)?;
            }
            "--reap" => {
                r.reap = true;
                cannot_invert(b)?;
            }
            "--rttl" => {
                r.rttl = true;
                cannot_invert(b)?;
            }
            "--name" => {
                let v = rd.arg(w)?;
                if v.text.is_empty() || v.text.len() >= 200 {
                    return Err(RestoreError::param(line, v.col, "recent: invalid --name"));
                }
                r.name = v.text.to_string();
                cannot_invert(b)?;
            }
            "--mask" => {
                let v = rd.arg(w)?;
                let m: Ipv4Addr = v.text.parse().map_err(|_| {
                    RestoreError::param(line, v.col, format!("recent: bad mask \"{}\"", v.text))
                })?;
                r.mask = u32::from(m);
                cannot_invert(b)?;
            }
            "--rsource" => {
                r.dest = false;
                cannot_invert(b)?;
            }
            "--rdest" => {
                r.dest = true;
                cannot_invert(b)?;
            }
            _ => return Ok(false),
        },
        Match::Nfacct(name) => {
            if opt != "--nfacct-name" {
                return Ok(false);
            }
            let v = rd.arg(w)?;
            *name = v.text.to_string();
            cannot_invert(b)?;
            once(b, 1)?;
        }
    }
    Ok(true)
}

fn finish_match(b: &Building, rule: &Rule, line: usize) -> Result<(), RestoreError> {
    let err = |m: String| Err(RestoreError::param(line, b.col, m));
    match &b.m {
        // The kernel refuses the match for another protocol.
        Match::Ports { proto, .. } if rule.proto != Some((*proto, false)) => {
            return Err(RestoreError::failed(
                line,
                b.col,
                format!(
                    "Invalid argument. Run `dmesg' for more information. ({} match: only valid for protocol {})",
                    b.name,
                    proto.number()
                ),
            ));
        }
        Match::Comment(_) if b.seen == 0 => {
            return err("comment: option \"--comment\" must be specified".into())
        }
        Match::Mark { .. } if b.seen == 0 => {
            return err("mark: option \"--mark\" must be specified".into())
        }
        Match::Random { .. } if b.seen & 1 == 0 => {
            return err("statistic: option \"--mode\" must be specified".into())
        }
        Match::Random { .. } if b.seen & 2 == 0 => {
            return err("statistic: --probability must be specified with --mode random".into())
        }
        Match::AddrType { .. } if b.seen == 0 => {
            return err("addrtype: you must specify --src-type or --dst-type".into())
        }
        Match::Conntrack { .. } if b.seen == 0 => {
            return err("conntrack: At least one option is required".into())
        }
        Match::State { .. } if b.seen == 0 => {
            return err("state: option \"--state\" must be specified".into())
        }
        Match::Multiport { .. } => {
            if b.seen == 0 {
                return err(
                    "multiport: option \"--dports\", \"--sports\" or \"--ports\" must be specified"
                        .into(),
                );
            }
            if !matches!(rule.proto, Some((p, false)) if p.has_ports()) {
                return err(
                    "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'"
                        .into(),
                );
            }
        }
        Match::Recent(r) => {
            if b.seen & 1 == 0 {
                return err(
                    "recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'"
                        .into(),
                );
            }
            if r.reap && r.seconds == 0 {
                return err("recent: --reap is only valid with --seconds".into());
            }
            if (r.seconds > 0 || r.hitcount > 0 || r.reap)
                && matches!(r.cmd, RecentCmd::Set | RecentCmd::Remove)
            {
                return err("recent: --seconds, --hitcount and --reap are only valid with --rcheck or --update".into());
            }
        }
        Match::Nfacct(_) if b.seen == 0 => {
            return err("nfacct: option \"--nfacct-name\" must be specified".into())
        }
        _ => {}
    }
    Ok(())
}

fn new_target(name: &str) -> Option<Target> {
    Some(match name {
        "ACCEPT" => Target::Accept,
        "DROP" => Target::Drop,
        "RETURN" => Target::Return,
        "REJECT" => Target::Reject {
            with: "icmp-port-unreachable",
        },
        "DNAT" => Target::Dnat {
            to: NatRange {
                min_ip: None,
                max_ip: None,
                ports: None,
            },
            random: false,
            persistent: false,
        },
        "SNAT" => Target::Snat {
            to: NatRange {
                min_ip: None,
                max_ip: None,
                ports: None,
            },
            random: false,
            random_fully: false,
            persistent: false,
        },
        "MASQUERADE" => Target::Masquerade {
            to_ports: None,
            random: false,
            random_fully: false,
        },
        "REDIRECT" => Target::Redirect {
            to_ports: None,
            random: false,
        },
        "MARK" => Target::Mark { value: 0, mask: 0 },
        "LOG" => Target::Log { prefix: None },
        "NOTRACK" | "CT" => Target::Notrack,
        _ => return None,
    })
}

/// Offers an option to the target; `Ok(false)` if it does not know it.
fn target_option(
    t: &mut Target,
    seen: &mut u32,
    w: &Word,
    invert: bool,
    rd: &mut Reader,
) -> Result<bool, RestoreError> {
    let line = rd.line;
    let opt = w.text.as_ref();
    let label = t.label();
    if invert {
        // No target option can be inverted; only say so for options it knows.
        let knows = matches!(
            (t.clone(), opt),
            (Target::Reject { .. }, "--reject-with")
                | (Target::Dnat { .. }, "--to-destination")
                | (Target::Snat { .. }, "--to-source")
                | (Target::Redirect { .. }, "--to-ports")
                | (Target::Mark { .. }, _)
        );
        if knows {
            return Err(RestoreError::param(
                line,
                w.col,
                format!("{label}: option \"{opt}\" cannot be inverted."),
            ));
        }
    }
    match t {
        Target::Reject { with } => {
            if opt != "--reject-with" {
                return Ok(false);
            }
            let v = rd.arg(w)?;
            *with = REJECT_WITH
                .iter()
                .find(|(n, a)| *n == v.text || *a == v.text)
                .map(|(n, _)| *n)
                .ok_or_else(|| {
                    RestoreError::param(line, v.col, format!("unknown reject type \"{}\"", v.text))
                })?;
        }
        Target::Dnat {
            to,
            random,
            persistent,
        } => match opt {
            "--to-destination" | "--to" => {
                let v = rd.arg(w)?;
                *to = parse_nat_range(&v.text).ok_or_else(|| {
                    RestoreError::param(line, v.col, format!("Bad IP address \"{}\"", v.text))
                })?;
                *seen |= 1;
            }
            "--random" => *random = true,
            "--persistent" => *persistent = true,
            _ => return Ok(false),
        },
        Target::Snat {
            to,
            random,
            random_fully,
            persistent,
        } => match opt {
            "--to-source" | "--to" => {
                let v = rd.arg(w)?;
                *to = parse_nat_range(&v.text).ok_or_else(|| {
                    RestoreError::param(line, v.col, format!("Bad IP address \"{}\"", v.text))
                })?;
                *seen |= 1;
            }
            "--random" => *random = true,
            "--random-fully" => *random_fully = true,
            "--persistent" => *persistent = true,
            _ => return Ok(false),
        },
        Target::Masquerade {
            to_ports,
            random,
            random_fully,
        } => match opt {
            "--to-ports" => {
                let v = rd.arg(w)?;
                let r = match v.text.split_once('-') {
                    Some((a, b)) => parse_port(a)
                        .zip(parse_port(b))
                        .map(|(lo, hi)| PortRange { lo, hi }),
                    None => parse_port(&v.text).map(|p| PortRange { lo: p, hi: p }),
                };
                *to_ports = Some(r.ok_or_else(|| {
                    RestoreError::param(
                        line,
                        v.col,
                        format!("Invalid port:port syntax - use dash \"{}\"", v.text),
                    )
                })?);
            }
            "--random" => *random = true,
            "--random-fully" => *random_fully = true,
            _ => return Ok(false),
        },
        Target::Redirect { to_ports, random } => match opt {
            "--to-ports" => {
                // libipt_REDIRECT's parse_ports: `port` or `port-maxport`, maxport
                // not below port.
                let v = rd.arg(w)?;
                let r = match v.text.split_once('-') {
                    Some((a, b)) => parse_port(a)
                        .zip(parse_port(b))
                        .filter(|(lo, hi)| lo <= hi)
                        .map(|(lo, hi)| PortRange { lo, hi }),
                    None => parse_port(&v.text).map(|p| PortRange { lo: p, hi: p }),
                };
                *to_ports = Some(r.ok_or_else(|| {
                    RestoreError::param(
                        line,
                        v.col,
                        format!(
                            "REDIRECT: Bad value for \"--to-ports\" option: \"{}\"",
                            v.text
                        ),
                    )
                })?);
            }
            "--random" => *random = true,
            _ => return Ok(false),
        },
        Target::Mark { value, mask } => {
            let form = match opt {
                "--set-xmark" | "--set-mark" | "--or-mark" | "--and-mark" | "--xor-mark" => opt,
                _ => return Ok(false),
            };
            let v = rd.arg(w)?;
            if *seen & 1 != 0 {
                return Err(RestoreError::param(
                    line,
                    w.col,
                    "MARK: Only one of --set-xmark, --set-mark, --and-mark, --or-mark or --xor-mark may be given",
                ));
            }
            *seen |= 1;
            let bad = || {
                RestoreError::param(
                    line,
                    v.col,
                    format!("MARK: Bad value for \"{form}\" option: \"{}\"", v.text),
                )
            };
            match form {
                "--set-xmark" | "--set-mark" => {
                    let (x, m) = parse_value_mask(&v.text).ok_or_else(bad)?;
                    // --set-mark v/m clears the mask then sets: xmark v/(m|v).
                    *value = x;
                    *mask = if form == "--set-mark" { m | x } else { m };
                }
                "--or-mark" => {
                    let x = parse_u32(&v.text).ok_or_else(bad)?;
                    *value = x;
                    *mask = x;
                }
                "--and-mark" => {
                    let x = parse_u32(&v.text).ok_or_else(bad)?;
                    *value = 0;
                    *mask = !x;
                }
                _ => {
                    let x = parse_u32(&v.text).ok_or_else(bad)?;
                    *value = x;
                    *mask = 0;
                }
            }
        }
        Target::Log { prefix } => match opt {
            "--log-prefix" => {
                let v = rd.arg(w)?;
                *prefix = Some(v.text.to_string());
            }
            "--log-level" => {
                rd.arg(w)?;
            }
            _ => return Ok(false),
        },
        Target::Notrack => {
            if opt != "--notrack" {
                return Ok(false);
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn finish_target(
    t: &Target,
    seen: u32,
    name: &str,
    table: TableName,
    rule: &Rule,
    line: usize,
    col: usize,
) -> Result<(), RestoreError> {
    let nat_only = matches!(
        t,
        Target::Dnat { .. }
            | Target::Snat { .. }
            | Target::Masquerade { .. }
            | Target::Redirect { .. }
    );
    if nat_only && table != TableName::Nat {
        return Err(RestoreError::failed(
            line,
            col,
            format!(
                "Invalid argument. Run `dmesg' for more information. ({name} target: only valid in nat table, not {table})"
            ),
        ));
    }
    if matches!(t, Target::Notrack) && table != TableName::Raw {
        return Err(RestoreError::failed(
            line,
            col,
            format!("Invalid argument. Run `dmesg' for more information. ({name} target: only valid in raw table, not {table})"),
        ));
    }
    match t {
        Target::Dnat { to, .. } | Target::Snat { to, .. } => {
            if seen & 1 == 0 {
                let opt = if matches!(t, Target::Dnat { .. }) {
                    "--to-destination"
                } else {
                    "--to-source"
                };
                return Err(RestoreError::param(
                    line,
                    col,
                    format!("{name}: option \"{opt}\" must be specified"),
                ));
            }
            if to.ports.is_some() && !matches!(rule.proto, Some((p, false)) if p.has_ports()) {
                return Err(RestoreError::param(
                    line,
                    col,
                    "Need TCP, UDP, SCTP or DCCP with port specification",
                ));
            }
        }
        Target::Masquerade {
            to_ports: Some(_), ..
        } if !matches!(rule.proto, Some((p, false)) if p.has_ports()) => {
            return Err(RestoreError::param(
                line,
                col,
                "Need TCP, UDP, SCTP or DCCP with port specification",
            ));
        }
        // libipt_REDIRECT accepts ports with TCP, UDP, SCTP, DCCP and (a quirk of
        // its test) ICMP, negated or not.
        Target::Redirect {
            to_ports: Some(_), ..
        } if !matches!(rule.proto, Some((p, _)) if p.has_ports() || p == Proto::Icmp) => {
            return Err(RestoreError::param(
                line,
                col,
                "Need TCP, UDP, SCTP or DCCP with port specification",
            ));
        }
        Target::Mark { .. } if seen == 0 => {
            return Err(RestoreError::param(
                line,
                col,
                "MARK target: Parameter --set/and/or/xor-mark is required",
            ))
        }
        _ => {}
    }
    Ok(())
}

/// Chain names iptables refuses.
fn check_chain_name(name: &str, line: usize, col: usize) -> Result<(), RestoreError> {
    if name.len() > 28 {
        return Err(RestoreError::param(
            line,
            col,
            format!("chain name `{name}' too long (must be under 29 chars)"),
        ));
    }
    if name.is_empty() || name.starts_with('-') || name.starts_with('!') {
        return Err(RestoreError::param(
            line,
            col,
            format!("Invalid chain name `{name}'"),
        ));
    }
    if is_standard_target(name) {
        return Err(RestoreError::param(
            line,
            col,
            "chain name may not clash with target name",
        ));
    }
    Ok(())
}

/// What a failed input puts back.
enum Undo {
    /// A chain as it was before this input first changed it (`None`: it did not exist).
    Chain(TableName, String, Option<Arc<Chain>>),
    /// A whole table, as it was before this input flushed it.
    Table(Table),
}

/// The state a restore works on: the ruleset changed in place, what puts it back if
/// the input fails, and what each COMMIT must check.
///
/// A chain this input changes is marked `stale` when first written after a COMMIT of
/// its table, and its version from before is kept in `pending` (for the callers index
/// and the checks) and, the first time, in `undo`.
struct Work<'r> {
    rules: &'r mut Ruleset,
    log: Log,
    memo: Memo,
    /// Per table, whether this input took a chain out of it (deleted, renamed or
    /// flushed with the table).
    removed: [bool; 4],
    /// Chains deleted in this input, with the line, per table.
    deleted: BTreeMap<(TableName, String), usize>,
    summary: RestoreSummary,
    keep_counters: bool,
}

/// What a restore keeps of the chains it changes.
#[derive(Default)]
struct Log {
    undo: Vec<Undo>,
    /// Per table, the chains that have an `undo` entry.
    saved: [BTreeSet<String>; 4],
    /// Per table, whether this input flushed it (its `Undo::Table` covers every chain).
    replaced: [bool; 4],
    /// Per table, the chains written since its last COMMIT, as they were before.
    pending: [BTreeMap<String, Option<Arc<Chain>>>; 4],
}

impl Log {
    /// Records `old`, the chain `name` as it is before a first write since the last
    /// COMMIT (`None`: it does not exist yet).
    fn note(&mut self, t: TableName, name: &str, old: Option<Arc<Chain>>) {
        let i = t.index();
        if !self.replaced[i] && !self.saved[i].contains(name) {
            self.saved[i].insert(name.to_string());
            self.undo
                .push(Undo::Chain(t, name.to_string(), old.clone()));
        }
        if !self.pending[i].contains_key(name) {
            self.pending[i].insert(name.to_string(), old);
        }
    }
}

/// The rules of the chains this input re-declared (`:NAME`), by the fingerprint of
/// the `-A NAME ...` line each was read from ([`Rule::source`]). A line with the same
/// fingerprint in the same table would read to the same rule (reading depends on the
/// line and the table only), so the rule is cloned instead. The fingerprint is 128
/// bits of two multiply-fold hashes over the line ([`line_key`]); the chain name is
/// compared as well.
#[derive(Default)]
struct Memo {
    /// Reading every line (the reference the reuse is checked against).
    off: bool,
    chains: Vec<(TableName, Arc<Chain>)>,
    /// Fingerprint's low half → (index in `chains`, rule index). Only looked up,
    /// never iterated; a hit is confirmed on the whole fingerprint.
    by_line: HashMap<u64, (u32, u32), BuildHasherDefault<Prehashed>>,
}

impl Memo {
    /// Keeps `chain`'s rules (table `t`) for reuse.
    fn keep(&mut self, t: TableName, chain: Arc<Chain>) {
        if self.off || !chain.rules.iter().any(|r| r.source != 0) {
            return;
        }
        let (Ok(slot), Ok(_)) = (
            u32::try_from(self.chains.len()),
            u32::try_from(chain.rules.len()),
        ) else {
            return;
        };
        self.by_line.reserve(chain.rules.len());
        for (i, r) in chain.rules.iter().enumerate() {
            if r.source != 0 {
                self.by_line.insert(r.source as u64, (slot, i as u32));
            }
        }
        self.chains.push((t, chain));
    }

    /// The command `line` (fingerprint `key`, in table `t`) reads to, when a kept
    /// rule came from the same line.
    fn command(&self, t: TableName, line: &str, key: u128) -> Option<Command> {
        let &(slot, i) = self.by_line.get(&(key as u64))?;
        let (table, chain) = self.chains.get(slot as usize)?;
        let rule = chain.rules.get(i as usize)?;
        if *table != t || rule.source != key {
            return None;
        }
        let mut words = line.split_ascii_whitespace();
        if words.next() != Some("-A") || words.next() != Some(chain.name.as_str()) {
            return None;
        }
        Some(Command {
            table: t,
            op: Op::Append,
            chain: Some(chain.name.clone()),
            chain_col: 1,
            rule: rule.clone(),
            target_col: 1,
            counters: None,
            reused: true,
        })
    }
}

/// A `Hasher` for keys that are already fingerprints.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A quick `Hasher` for chain names in maps that are only looked up (the Fx
/// scheme: rotate, xor a word, multiply).
#[derive(Default)]
struct NameHasher(u64);

impl Hasher for NameHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
}

/// A 128-bit fingerprint of a restore line (never 0): two independent lanes, each
/// folding in 8 bytes at a time with a full 64×64→128-bit multiply, the length last.
/// Not a cryptographic hash: equal fingerprints of different lines would reuse the
/// wrong rule, and with 128 bits that takes a deliberately built pair.
fn line_key(line: &str) -> u128 {
    const K: [(u64, u64); 2] = [
        (0x9E37_79B9_7F4A_7C15, 0xD6E8_FEB8_6659_FD93),
        (0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9),
    ];
    let fold = |a: u64, b: u64| {
        let m = u128::from(a) * u128::from(b);
        (m as u64) ^ ((m >> 64) as u64)
    };
    let bytes = line.as_bytes();
    let mut h = [K[0].1, K[1].1];
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let w = u64::from_le_bytes(w);
        h[0] = fold(h[0] ^ w, K[0].0);
        h[1] = fold(h[1] ^ w.rotate_left(29), K[1].0);
    }
    let mut w = [0u8; 8];
    let tail = chunks.remainder();
    w[..tail.len()].copy_from_slice(tail);
    let w = u64::from_le_bytes(w);
    h[0] = fold(h[0] ^ w, K[0].0);
    h[1] = fold(h[1] ^ w.rotate_left(29), K[1].0);
    let len = bytes.len() as u64;
    h[0] = fold(h[0] ^ len, K[0].1);
    h[1] = fold(h[1] ^ len, K[1].1);
    ((u128::from(h[1]) << 64) | u128::from(h[0])).max(1)
}

impl<'r> Work<'r> {
    fn new(rules: &'r mut Ruleset, keep_counters: bool) -> Work<'r> {
        Work {
            rules,
            log: Log::default(),
            memo: Memo::default(),
            removed: [false; 4],
            deleted: BTreeMap::new(),
            summary: RestoreSummary::default(),
            keep_counters,
        }
    }

    fn chain_mut(&mut self, t: TableName, name: &str) -> Option<&mut Chain> {
        let current = self.rules.table_mut(t).chains.get_mut(name)?;
        if !current.stale {
            self.log.note(t, name, Some(Arc::clone(current)));
        }
        let c = Arc::make_mut(current);
        c.stale = true;
        Some(c)
    }

    /// Puts `chain` (new, or replacing one already noted) in the table.
    fn put_chain(&mut self, t: TableName, mut chain: Chain) {
        let name = chain.name.clone();
        if let Some(current) = self.rules.table(t).chains.get(&name) {
            if !current.stale {
                let old = Arc::clone(current);
                self.log.note(t, &name, Some(old));
            }
        } else {
            self.log.note(t, &name, None);
        }
        chain.stale = true;
        self.rules.table_mut(t).chains.insert(name, Arc::new(chain));
    }

    /// Takes chain `name` out of the table.
    fn remove_chain(&mut self, t: TableName, name: &str) -> Option<Arc<Chain>> {
        self.removed[t.index()] = true;
        let current = self.rules.table(t).chains.get(name)?;
        if !current.stale {
            let old = Arc::clone(current);
            self.log.note(t, name, Some(old));
        }
        self.rules.table_mut(t).chains.remove(name)
    }

    /// A user chain declared with `:NAME`: emptied if it exists, else created.
    fn declare_chain(&mut self, t: TableName, name: &str) {
        match self.rules.table(t).chains.get(name) {
            // Written already since the COMMIT: this input's own copy.
            Some(c) if c.stale => {
                if let Some(c) = self.rules.table_mut(t).chains.get_mut(name) {
                    Arc::make_mut(c).rules.clear();
                }
            }
            // A fresh chain rather than a copy of the rules about to be flushed; the
            // old rules stay at hand for lines that write them again.
            old => {
                let mut fresh = Chain::new(name, None);
                if let Some(old) = old {
                    fresh.rules.reserve(old.rules.len());
                    let old = Arc::clone(old);
                    self.memo.keep(t, old);
                }
                self.put_chain(t, fresh)
            }
        }
        self.deleted.remove(&(t, name.to_string()));
    }

    /// `*table` without `--noflush`: the table starts afresh.
    fn flush_table(&mut self, t: TableName) {
        let i = t.index();
        self.removed[i] = true;
        let old = std::mem::replace(self.rules.table_mut(t), Table::new(t));
        if !self.log.replaced[i] {
            self.log.replaced[i] = true;
            self.log.undo.push(Undo::Table(old));
        }
        self.log.pending[i].clear();
    }

    /// Brings table `t`'s callers index up to date with the chains written since its
    /// last COMMIT; returns their names.
    fn settle_callers(&mut self, t: TableName) -> BTreeMap<String, Option<Arc<Chain>>> {
        let pending = std::mem::take(&mut self.log.pending[t.index()]);
        let table = self.rules.table_mut(t);
        for (name, old) in &pending {
            let new = table.chains.get(name).cloned();
            table.callers.update(name, old.as_deref(), new.as_deref());
        }
        pending
    }

    /// A failed input: every chain and table back as it was.
    fn rollback(mut self) {
        for t in TableName::ALL {
            self.settle_callers(t);
        }
        for u in std::mem::take(&mut self.log.undo).into_iter().rev() {
            match u {
                Undo::Table(table) => {
                    let t = table.name;
                    *self.rules.table_mut(t) = table;
                }
                Undo::Chain(t, name, old) => {
                    let table = self.rules.table_mut(t);
                    let current = match &old {
                        Some(c) => table.chains.insert(name.clone(), Arc::clone(c)),
                        None => table.chains.remove(&name),
                    };
                    table
                        .callers
                        .update(&name, current.as_deref(), old.as_deref());
                }
            }
        }
    }

    fn apply(&mut self, cmd: Command, line: usize) -> Result<(), RestoreError> {
        let t = cmd.table;
        let no_chain =
            || RestoreError::failed(line, cmd.chain_col, "No chain/target/match by that name.");
        // The target chain must exist now, in the same table, and not be built in.
        let known = cmd.reused && !self.removed[t.index()];
        if let Some(target) = cmd.rule.target.chain().filter(|_| !known) {
            let table = self.rules.table(t);
            if table.is_builtin(target) || table.chain(target).is_none() {
                return Err(RestoreError::param(
                    line,
                    cmd.target_col,
                    format!("Couldn't load target `{target}':No such file or directory"),
                ));
            }
        }
        let mut rule = cmd.rule;
        match (cmd.counters, self.keep_counters) {
            (Some((p, b)), true) => {
                rule.packets = p;
                rule.bytes = b;
            }
            _ => {
                rule.packets = 0;
                rule.bytes = 0;
            }
        }
        let chain = cmd.chain;
        let chain_name = chain.as_deref().unwrap_or_default();
        if matches!(rule.target, Target::Redirect { .. })
            && t == TableName::Nat
            && matches!(chain_name, "INPUT" | "POSTROUTING")
            && matches!(cmd.op, Op::Append | Op::Insert(_) | Op::Replace(_))
        {
            return Err(RestoreError::failed(
                line,
                cmd.target_col,
                redirect_hook_message(chain_name),
            ));
        }
        match cmd.op {
            Op::Append => {
                let c = self.chain_mut(t, chain_name).ok_or_else(no_chain)?;
                c.rules.push(rule);
                self.summary.rules += 1;
            }
            Op::Insert(n) => {
                let c = self.chain_mut(t, chain_name).ok_or_else(no_chain)?;
                if n == 0 || n > c.rules.len() + 1 {
                    return Err(RestoreError::failed(
                        line,
                        cmd.chain_col,
                        "Index of insertion too big.",
                    ));
                }
                c.rules.insert(n - 1, rule);
                self.summary.rules += 1;
            }
            Op::Replace(n) => {
                let c = self.chain_mut(t, chain_name).ok_or_else(no_chain)?;
                if n == 0 || n > c.rules.len() {
                    return Err(RestoreError::failed(
                        line,
                        cmd.chain_col,
                        "Index of replacement too big.",
                    ));
                }
                c.rules[n - 1] = rule;
                self.summary.rules += 1;
            }
            Op::Delete(num) => {
                let c = self.chain_mut(t, chain_name).ok_or_else(no_chain)?;
                let at = match num {
                    Some(n) if n >= 1 && n <= c.rules.len() => n - 1,
                    Some(_) => {
                        return Err(RestoreError::failed(
                            line,
                            cmd.chain_col,
                            "Index of deletion too big.",
                        ))
                    }
                    None => c
                        .rules
                        .iter()
                        .position(|r| r.same_spec(&rule))
                        .ok_or_else(|| {
                            RestoreError::failed(
                                line,
                                cmd.chain_col,
                                "Bad rule (does a matching rule exist in that chain?).",
                            )
                        })?,
                };
                c.rules.remove(at);
            }
            Op::NewChain => {
                check_chain_name(chain_name, line, cmd.chain_col)?;
                if self.rules.table(t).chains.contains_key(chain_name) {
                    return Err(RestoreError::failed(
                        line,
                        cmd.chain_col,
                        "Chain already exists.",
                    ));
                }
                self.put_chain(t, Chain::new(chain_name, None));
                self.deleted.remove(&(t, chain_name.to_string()));
            }
            Op::DeleteChain => {
                let names: Vec<String> = match &chain {
                    Some(c) => vec![c.clone()],
                    None => self
                        .rules
                        .table(t)
                        .chains
                        .values()
                        .filter(|c| !c.is_builtin())
                        .map(|c| c.name.clone())
                        .collect(),
                };
                for name in names {
                    if self.rules.table(t).is_builtin(&name) {
                        return Err(RestoreError::failed(
                            line,
                            cmd.chain_col,
                            "Operation not permitted.",
                        ));
                    }
                    if self.remove_chain(t, &name).is_none() {
                        return Err(no_chain());
                    }
                    self.deleted.insert((t, name), line);
                    self.summary.deleted_chains += 1;
                }
            }
            Op::Flush => match &chain {
                Some(name) => {
                    let c = self.chain_mut(t, name).ok_or_else(no_chain)?;
                    c.rules.clear();
                }
                None => {
                    let names: Vec<String> = self.rules.table(t).chains.keys().cloned().collect();
                    for n in names {
                        if let Some(c) = self.chain_mut(t, &n) {
                            c.rules.clear();
                        }
                    }
                }
            },
            Op::Zero => {
                let names: Vec<String> = match &chain {
                    Some(c) => vec![c.clone()],
                    None => self.rules.table(t).chains.keys().cloned().collect(),
                };
                for n in names {
                    let c = self.chain_mut(t, &n).ok_or_else(no_chain)?;
                    c.packets = 0;
                    c.bytes = 0;
                    for r in &mut c.rules {
                        r.packets = 0;
                        r.bytes = 0;
                    }
                }
            }
            Op::Policy(p) => {
                if !self.rules.table(t).is_builtin(chain_name) {
                    return Err(RestoreError::failed(
                        line,
                        cmd.chain_col,
                        "Bad built-in chain name.",
                    ));
                }
                if let Some(c) = self.chain_mut(t, chain_name) {
                    c.policy = Some(p);
                }
            }
            Op::Rename(new) => {
                check_chain_name(&new, line, cmd.chain_col)?;
                let table = self.rules.table(t);
                if table.is_builtin(chain_name) {
                    return Err(RestoreError::failed(
                        line,
                        cmd.chain_col,
                        "Operation not permitted.",
                    ));
                }
                if table.chains.contains_key(&new) {
                    return Err(RestoreError::failed(line, cmd.chain_col, "File exists."));
                }
                let Some(c) = self.remove_chain(t, chain_name) else {
                    return Err(no_chain());
                };
                let mut c = Arc::unwrap_or_clone(c);
                c.name = new.clone();
                // Its rules no longer come from `-A OLD ...` lines.
                for r in &mut c.rules {
                    r.source = 0;
                }
                self.put_chain(t, c);
                // Jumps follow the chain.
                let callers: Vec<String> = self
                    .rules
                    .table(t)
                    .chains
                    .values()
                    .filter(|c| c.rules.iter().any(|r| r.target.chain() == Some(chain_name)))
                    .map(|c| c.name.clone())
                    .collect();
                for n in callers {
                    if let Some(ch) = self.chain_mut(t, &n) {
                        for r in &mut ch.rules {
                            match &mut r.target {
                                Target::Jump(x) | Target::Goto(x) if **x == *chain_name => {
                                    *x = new.as_str().into();
                                    r.source = 0;
                                }
                                _ => {}
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// A table's COMMIT: the callers index follows the chains written since the last
    /// one, the checks run (every jump lands on a chain that exists, no chain reaches
    /// itself, REDIRECT only where it may be), and the written chains are reindexed.
    fn commit(&mut self, t: TableName, line: usize) -> Result<(), RestoreError> {
        let written = self.settle_callers(t);
        self.check_deleted(t, line)?;
        self.check_loops(t, &written, line)?;
        let table = self.rules.table_mut(t);
        if t == TableName::Nat {
            if let Some(hooks) = redirect_reached_from(table) {
                return Err(RestoreError::failed(line, 1, redirect_hook_message(&hooks)));
            }
        }
        for name in written.keys() {
            if let Some(c) = table.chains.get_mut(name) {
                if c.stale {
                    Arc::make_mut(c).reindex();
                }
            }
        }
        Ok(())
    }

    /// New rules were checked as they came; a dangling jump can only point at a chain
    /// deleted since. The message names the first chain (by name) still jumping to
    /// one, as the kernel's walk over the table finds it.
    fn check_deleted(&self, t: TableName, line: usize) -> Result<(), RestoreError> {
        let table = self.rules.table(t);
        let deleted: BTreeSet<&str> = self
            .deleted
            .keys()
            .filter(|(dt, name)| *dt == t && table.chain(name).is_none())
            .map(|(_, n)| n.as_str())
            .filter(|n| table.callers.is_called(n))
            .collect();
        let Some(from) = deleted
            .iter()
            .filter_map(|n| table.callers.of(n).next())
            .min()
        else {
            return Ok(());
        };
        let Some(target) = table.chain(from).and_then(|c| {
            c.rules
                .iter()
                .filter_map(|r| r.target.chain())
                .find(|x| deleted.contains(x))
        }) else {
            return Ok(());
        };
        let at = self
            .deleted
            .get(&(t, target.to_string()))
            .copied()
            .unwrap_or(line);
        Err(RestoreError::failed(
            at,
            1,
            format!("Device or resource busy. (chain {target} is still referenced from {from})"),
        ))
    }

    /// A new loop goes through a chain written since the last COMMIT (the table had
    /// none before). From each such chain, the search climbs the callers index: the
    /// chains that reach a rewritten KUBE-SVC- chain are few, however large the
    /// table. A large input, or a search that grows, walks the whole table instead,
    /// which also names the chain as the kernel's depth-first walk finds it.
    fn check_loops(
        &self,
        t: TableName,
        written: &BTreeMap<String, Option<Arc<Chain>>>,
        line: usize,
    ) -> Result<(), RestoreError> {
        let table = self.rules.table(t);
        let mut budget = 65_536usize;
        if written.len() * 8 <= table.chains.len() {
            let mut seen: BTreeSet<&str> = BTreeSet::new();
            let mut clear = true;
            'starts: for start in written.keys() {
                // A chain that jumps nowhere, or that nothing jumps to, is on no loop
                // (KUBE-MARK-MASQ, rewritten each sync, has 110,000 callers).
                let jumps = table
                    .chain(start)
                    .is_some_and(|c| c.rules.iter().any(|r| r.target.chain().is_some()));
                if !jumps || !table.callers.is_called(start) {
                    continue;
                }
                seen.clear();
                let mut stack: Vec<&str> = table.callers.of(start).collect();
                while let Some(name) = stack.pop() {
                    if name == start.as_str() || budget == 0 {
                        clear = false;
                        break 'starts;
                    }
                    budget -= 1;
                    if seen.insert(name) {
                        stack.extend(table.callers.of(name));
                    }
                }
            }
            if clear {
                return Ok(());
            }
        }
        find_loop(table, line)
    }
}

/// The depth-first walk over every chain jumped to from a stale one (`stale`: written
/// since the last COMMIT); the first chain found on its own path is the error.
fn find_loop(table: &Table, line: usize) -> Result<(), RestoreError> {
    // 1 = on the walk's path, 2 = done. (A map only looked up, never iterated, so
    // its order reaches nothing.)
    let mut state: HashMap<&str, u8, BuildHasherDefault<NameHasher>> =
        HashMap::with_capacity_and_hasher(table.chains.len(), Default::default());
    for (start, sc) in &table.chains {
        if !sc.stale || state.contains_key(start.as_str()) {
            continue;
        }
        let mut stack: Vec<(&str, usize)> = vec![(start.as_str(), 0)];
        state.insert(start.as_str(), 1);
        while let Some((name, i)) = stack.pop() {
            let Some(c) = table.chains.get(name) else {
                continue;
            };
            let next = c.rules[i.min(c.rules.len())..]
                .iter()
                .enumerate()
                .find_map(|(k, r)| r.target.chain().map(|x| (i + k, x)));
            match next {
                Some((k, to)) => {
                    stack.push((name, k + 1));
                    match state.get(to) {
                        Some(1) => {
                            return Err(RestoreError::failed(
                                line,
                                1,
                                format!(
                                    "Too many levels of symbolic links. (chain {to} reaches itself)"
                                ),
                            ))
                        }
                        Some(_) => {}
                        None => {
                            state.insert(to, 1);
                            stack.push((to, 0));
                        }
                    }
                }
                None => {
                    state.insert(name, 2);
                }
            }
        }
    }
    Ok(())
}

/// What the kernel's `xt_check_target` says of a REDIRECT reached from a hook it
/// does not serve.
fn redirect_hook_message(hooks: &str) -> String {
    format!("Invalid argument. Run `dmesg' for more information. (REDIRECT target: used from hooks {hooks}, but only usable from PREROUTING/OUTPUT)")
}

/// The nat hooks that reach a REDIRECT rule through user chains (the kernel checks
/// each rule against the hooks whose built-in chains reach it), as `INPUT/POSTROUTING`.
/// Only the chains reachable from nat INPUT and POSTROUTING are walked.
fn redirect_reached_from(table: &Table) -> Option<String> {
    let mut hooks: Vec<&str> = Vec::new();
    for hook in ["INPUT", "POSTROUTING"] {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut stack = vec![hook];
        let mut found = false;
        while let Some(name) = stack.pop() {
            if !seen.insert(name) {
                continue;
            }
            let Some(c) = table.chain(name) else {
                continue;
            };
            for r in &c.rules {
                match &r.target {
                    Target::Redirect { .. } => found = true,
                    t => {
                        if let Some(next) = t.chain() {
                            stack.push(next);
                        }
                    }
                }
            }
            if found {
                break;
            }
        }
        if found {
            hooks.push(hook);
        }
    }
    (!hooks.is_empty()).then(|| hooks.join("/"))
}

/// Loads `iptables-restore` text into `rules`; on error `rules` is unchanged.
pub fn restore(
    rules: &mut Ruleset,
    text: &str,
    opts: RestoreOptions,
) -> Result<RestoreSummary, RestoreError> {
    restore_with(rules, text, opts, true)
}

/// [`restore`] reading every line, without reusing the rules of unchanged lines: the
/// reference the reuse is checked against (tests and the fuzz target).
#[doc(hidden)]
pub fn restore_reading_every_line(
    rules: &mut Ruleset,
    text: &str,
    opts: RestoreOptions,
) -> Result<RestoreSummary, RestoreError> {
    restore_with(rules, text, opts, false)
}

fn restore_with(
    rules: &mut Ruleset,
    text: &str,
    opts: RestoreOptions,
    reuse: bool,
) -> Result<RestoreSummary, RestoreError> {
    let mut work = Work::new(rules, opts.counters);
    work.memo.off = !reuse;
    match restore_lines(&mut work, text, opts) {
        Ok(()) => Ok(work.summary),
        Err(e) => {
            work.rollback();
            Err(e)
        }
    }
}

fn restore_lines(work: &mut Work, text: &str, opts: RestoreOptions) -> Result<(), RestoreError> {
    let mut table: Option<TableName> = None;
    let mut line_no = 0;
    for raw in text.split('\n') {
        line_no += 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(t) = table {
            if line == "COMMIT" {
                work.commit(t, line_no)?;
                work.summary.tables.push(t);
                table = None;
                continue;
            }
        }
        if table.is_none() {
            if let Some(rest) = line.strip_prefix('*') {
                let name = rest.split_whitespace().next().ok_or_else(|| {
                    RestoreError::param(
                        line_no,
                        1,
                        format!("iptables-restore: line {line_no} table name invalid"),
                    )
                })?;
                let t = TableName::parse(name).ok_or_else(|| {
                    RestoreError::param(
                        line_no,
                        2,
                        format!("iptables-restore: line {line_no} table name '{name}' invalid"),
                    )
                })?;
                if !opts.noflush {
                    // iptables-nft deletes the table and starts afresh.
                    work.flush_table(t);
                }
                table = Some(t);
                continue;
            }
            // Anything else outside a table fails.
            return Err(RestoreError::failed(line_no, 1, ""));
        }
        let t = table.unwrap_or(TableName::Filter);
        if let Some(rest) = line.strip_prefix(':') {
            let words = split_words(rest, line_no, 2)?;
            let Some(name) = words.first() else {
                return Err(RestoreError::param(
                    line_no,
                    1,
                    format!("iptables-restore: line {line_no} chain name invalid"),
                ));
            };
            let Some(policy) = words.get(1) else {
                return Err(RestoreError::param(
                    line_no,
                    name.col,
                    format!("iptables-restore: line {line_no} policy invalid"),
                ));
            };
            let counts = match words.get(2) {
                Some(c) => Some(parse_counters(&c.text).ok_or_else(|| {
                    RestoreError::param(
                        line_no,
                        c.col,
                        format!("invalid policy counters for chain '{}'", name.text),
                    )
                })?),
                None => None,
            };
            work.summary.chains += 1;
            if work.rules.table(t).is_builtin(&name.text) {
                let p = match policy.text.as_ref() {
                    "ACCEPT" => Policy::Accept,
                    "DROP" => Policy::Drop,
                    other => {
                        return Err(RestoreError::param(
                            line_no,
                            policy.col,
                            format!(
                                "Can't set policy `{other}' on `{}' line {line_no}: Bad built-in chain name",
                                name.text
                            ),
                        ))
                    }
                };
                let keep = opts.counters;
                if let Some(c) = work.chain_mut(t, &name.text) {
                    c.policy = Some(p);
                    if let (true, Some((pk, by))) = (keep, counts) {
                        c.packets = pk;
                        c.bytes = by;
                    }
                }
            } else {
                check_chain_name(&name.text, line_no, name.col)?;
                work.declare_chain(t, &name.text);
            }
            continue;
        }
        // A rule line, optionally with [packets:bytes] first. A line that wrote a rule
        // of a chain this input re-declared is not read again (kube-proxy rewrites
        // KUBE-SERVICES whole at every sync): the rule is reused. If applying it
        // fails, the line is read as usual, for the error's columns.
        let key = line_key(line);
        if let Some(cmd) = work.memo.command(t, line, key) {
            if work.apply(cmd, line_no).is_ok() {
                work.summary.reused += 1;
                continue;
            }
        }
        let (counters, rest, first_col) = split_rule_counters(line, line_no)?;
        let words = split_words(rest, line_no, first_col)?;
        let mut cmd = parse_command(&words, line_no, t, true)?;
        if counters.is_some() && cmd.counters.is_none() {
            cmd.counters = counters;
        }
        if counters.is_none()
            && cmd.counters.is_none()
            && cmd.table == t
            && matches!(cmd.op, Op::Append)
        {
            cmd.rule.source = key;
        }
        work.apply(cmd, line_no)?;
    }
    if table.is_some() {
        let end = if text.ends_with('\n') {
            line_no
        } else {
            line_no + 1
        };
        return Err(RestoreError {
            line: end,
            column: 1,
            kind: ErrorKind::CommitExpected,
            message: format!("COMMIT expected at line {end}"),
        });
    }
    Ok(())
}

fn parse_counters(s: &str) -> Option<(u64, u64)> {
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    let (p, b) = inner.split_once(':')?;
    Some((p.parse().ok()?, b.parse().ok()?))
}

/// Counters given on a line, the rest of the line, and the column it starts at.
type LineCounters<'a> = (Option<(u64, u64)>, &'a str, usize);

/// `[12:3456] -A ...`: the counters and the rest of the line.
fn split_rule_counters(line: &str, line_no: usize) -> Result<LineCounters<'_>, RestoreError> {
    if !line.starts_with('[') {
        return Ok((None, line, 1));
    }
    let end = line
        .find(']')
        .ok_or_else(|| RestoreError::param(line_no, 1, "Bad line: need ']'"))?;
    let c = parse_counters(&line[..=end])
        .ok_or_else(|| RestoreError::param(line_no, 1, "invalid packet counters"))?;
    let rest = &line[end + 1..];
    Ok((Some(c), rest, line[..=end].chars().count() + 1))
}

/// Runs one `iptables` command line; on error nothing changes.
pub fn command(rules: &mut Ruleset, line: &str) -> Result<(), RestoreError> {
    let mut words = split_words(line, 1, 1)?;
    if words.first().is_some_and(|w| w.text == "iptables") {
        words.remove(0);
    }
    let cmd = parse_command(&words, 1, TableName::Filter, false)?;
    let t = cmd.table;
    if let (Op::DeleteChain, Some(name)) = (&cmd.op, &cmd.chain) {
        // `iptables -X` refuses a chain that is still jumped to (the first caller by
        // name, as a walk over the table meets it).
        if let Some(from) = rules.table(t).callers.of(name).next() {
            return Err(RestoreError::failed(
                1,
                cmd.chain_col,
                format!("Device or resource busy. (chain {name} is still referenced from {from})"),
            ));
        }
    }
    let mut work = Work::new(rules, true);
    let done = work.apply(cmd, 1).and_then(|()| work.commit(t, 1));
    if done.is_err() {
        work.rollback();
    }
    done
}

/// Fuzz entry point: `data` as restore input, loaded twice into a small kube-proxy
/// shaped ruleset (so the second load can reuse the rules of the first). Panics only
/// if an invariant breaks: a failed load changes nothing, and reusing rules gives
/// exactly what reading every line gives (the same outcome, the same ruleset).
/// Returns how many rules the two loads reused.
#[doc(hidden)]
pub fn fuzz(data: &[u8]) -> usize {
    let text = String::from_utf8_lossy(data);
    let opts = RestoreOptions {
        noflush: data.first().is_some_and(|b| b & 1 == 0),
        counters: data.first().is_some_and(|b| b & 2 == 0),
    };
    let mut rules = Ruleset::new();
    let base = "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-A - [0:0]\n:KUBE-SEP-A - [0:0]\n\
        :KUBE-MARK-MASQ - [0:0]\n\
        -A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment \"default/a cluster IP\" -m tcp --dport 80 -j KUBE-SVC-A\n\
        -A KUBE-SVC-A -j KUBE-SEP-A\n-A KUBE-SEP-A -s 10.244.1.2/32 -j KUBE-MARK-MASQ\n\
        -A KUBE-SEP-A -p tcp -m tcp -j DNAT --to-destination 10.244.1.2:8080\n\
        -A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\nCOMMIT\n";
    if restore(
        &mut rules,
        base,
        RestoreOptions {
            noflush: true,
            counters: false,
        },
    )
    .is_err()
    {
        panic!("the base ruleset does not load");
    }
    let mut reused = 0;
    for _ in 0..2 {
        let before = rules.clone();
        let mut reference = rules.clone();
        let got = restore(&mut rules, &text, opts);
        let want = restore_reading_every_line(&mut reference, &text, opts);
        match (&got, &want) {
            (Ok(a), Ok(b)) => {
                reused += a.reused;
                assert_eq!(
                    (&a.tables, a.chains, a.rules, a.deleted_chains),
                    (&b.tables, b.chains, b.rules, b.deleted_chains),
                    "summaries differ for {text:?}"
                );
            }
            (Err(a), Err(b)) => {
                assert_eq!(a, b, "errors differ for {text:?}");
                assert!(
                    rules == before,
                    "a failed restore changed the rules: {text:?}"
                );
            }
            _ => panic!("reuse changed the outcome for {text:?}: {got:?} vs {want:?}"),
        }
        assert!(rules == reference, "reuse changed the ruleset for {text:?}");
    }
    reused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_as_iptables_restore_splits_them() {
        let w = split_words(r#"-A X -m comment --comment "a \"b\" c" -j ACCEPT"#, 1, 1)
            .unwrap_or_default();
        let texts: Vec<&str> = w.iter().map(|w| w.text.as_ref()).collect();
        assert_eq!(
            texts,
            [
                "-A",
                "X",
                "-m",
                "comment",
                "--comment",
                "a \"b\" c",
                "-j",
                "ACCEPT"
            ]
        );
        assert_eq!(w[5].col, 27);
        let e = split_words("-A X --comment \"open", 7, 1).unwrap_err();
        assert_eq!((e.line, e.column), (7, 16));
    }

    #[test]
    fn mark_forms_become_set_xmark() {
        let mut r = Ruleset::new();
        for (opt, want) in [
            ("--or-mark 0x4000", (0x4000, 0x4000)),
            ("--xor-mark 0x4000", (0x4000, 0)),
            ("--set-mark 0x1", (1, u32::MAX)),
            ("--and-mark 0xff", (0, !0xff)),
            ("--set-xmark 0x8000/0x8000", (0x8000, 0x8000)),
        ] {
            command(&mut r, "-t mangle -F PREROUTING").unwrap_or_default();
            command(&mut r, &format!("-t mangle -A PREROUTING -j MARK {opt}")).unwrap_or_default();
            let c = r.chain(TableName::Mangle, "PREROUTING");
            let t = c.and_then(|c| c.rules.first()).map(|r| r.target.clone());
            assert_eq!(
                t,
                Some(Target::Mark {
                    value: want.0,
                    mask: want.1
                }),
                "{opt}"
            );
        }
    }

    #[test]
    fn probability_is_the_kernels_fixed_point() {
        let mut r = Ruleset::new();
        command(&mut r, "-N X").unwrap_or_default();
        command(
            &mut r,
            "-A X -m statistic --mode random --probability 0.3333333333 -j ACCEPT",
        )
        .unwrap_or_default();
        let m = r
            .chain(TableName::Filter, "X")
            .map(|c| c.rules[0].matches.clone());
        assert_eq!(
            m,
            Some(vec![Match::Random {
                probability: 715_827_883,
                neg: false
            }])
        );
    }
}

#[cfg(test)]
mod commit_tests {
    use super::*;
    use crate::kernel::rng::Rng;
    use crate::network::netfilter::callers::Callers;

    /// The index as a walk over every chain builds it.
    fn rebuilt(table: &Table) -> Callers {
        let mut c = Callers::default();
        for (name, chain) in &table.chains {
            c.update(name, None, Some(chain));
        }
        c
    }

    const NOFLUSH: RestoreOptions = RestoreOptions {
        noflush: true,
        counters: false,
    };

    /// Random inputs (declarations, jumps, deletions, renames, flushes, loops, bad
    /// lines), each applied whole or not at all: after every one the callers index
    /// equals one built afresh, and a failed input leaves the rules as they were.
    #[test]
    fn the_callers_index_follows_every_input_and_every_rollback() {
        const CHAINS: [&str; 6] = ["A", "B", "C", "D", "E", "F"];
        let mut rng = Rng::new(7);
        let mut rules = Ruleset::new();
        let (mut ok, mut failed, mut loops) = (0, 0, 0);
        for round in 0..3000 {
            let pick = |rng: &mut Rng| CHAINS[rng.below(CHAINS.len() as u64) as usize];
            let mut text = String::new();
            for _ in 0..1 + rng.below(2) {
                text.push_str("*nat\n");
                for _ in 0..rng.below(8) {
                    let (a, b) = (pick(&mut rng), pick(&mut rng));
                    let line = match rng.below(9) {
                        0 | 1 => format!(":{a} - [0:0]"),
                        2..=4 => format!("-A {a} -j {b}"),
                        5 => format!("-X {a}"),
                        6 => format!("-E {a} {b}"),
                        7 => format!("-F {a}"),
                        _ => format!("-A PREROUTING -j {a}"),
                    };
                    text.push_str(&line);
                    text.push('\n');
                }
                text.push_str("COMMIT\n");
            }
            let before = rules.clone();
            let opts = if round % 10 == 0 {
                RestoreOptions::default()
            } else {
                NOFLUSH
            };
            match restore(&mut rules, &text, opts) {
                Ok(_) => ok += 1,
                Err(e) => {
                    failed += 1;
                    loops += usize::from(e.message.contains("reaches itself"));
                    assert_eq!(rules, before, "{text}");
                }
            }
            let nat = rules.table(TableName::Nat);
            assert_eq!(nat.callers, rebuilt(nat), "{text}");
            assert!(nat.chains.values().all(|c| !c.stale), "{text}");
        }
        // The mix exercised both outcomes, loops among the failures.
        assert!(
            ok > 300 && failed > 300 && loops > 10,
            "{ok} {failed} {loops}"
        );
    }

    /// Many chains, few written: the loop is found by climbing the callers index, with
    /// the same message as the walk over the whole table gives.
    /// The fuzz target's invariants over generated inputs: kube-proxy-shaped lines
    /// re-declared, deleted, renamed, flushed, inserted, looped and broken, loaded
    /// twice with every combination of --noflush and --counters. Reusing rules must
    /// give exactly what reading every line gives.
    #[test]
    fn reusing_rules_gives_what_reading_every_line_gives() {
        const DECLARE: &[&str] = &[
            ":KUBE-SERVICES - [0:0]",
            ":KUBE-SVC-A - [0:0]",
            ":KUBE-SVC-B - [0:0]",
            ":KUBE-SEP-A - [0:0]",
            ":KUBE-MARK-MASQ - [0:0]",
            ":X - [0:0]",
            ":Y - [0:0]",
        ];
        const RULES: &[&str] = &[
            "-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment \"default/a cluster IP\" -m tcp --dport 80 -j KUBE-SVC-A",
            "-A KUBE-SERVICES -d 10.96.0.2/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-B",
            "-A KUBE-SVC-A -j KUBE-SEP-A",
            "-A KUBE-SVC-B -j KUBE-SEP-A",
            "-A KUBE-SEP-A -s 10.244.1.2/32 -j KUBE-MARK-MASQ",
            "-A KUBE-SEP-A -p tcp -m tcp -j DNAT --to-destination 10.244.1.2:8080",
            "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
            "-A X -j KUBE-SERVICES",
            "-A X -j Y",
            "-A Y -j ACCEPT",
        ];
        const TWISTS: &[&str] = &[
            "-A KUBE-SEP-A -j KUBE-SVC-A",
            "-X KUBE-SVC-B",
            "-X KUBE-SEP-A",
            "-X X",
            "-X Y",
            "-E KUBE-SVC-B KUBE-SVC-C",
            "-E X Z",
            "-E Y W",
            "-N X",
            "-F KUBE-SERVICES",
            "-F",
            "-I KUBE-SERVICES 1 -j KUBE-SVC-A",
            "-D KUBE-SVC-A 1",
            "-D KUBE-SVC-A -j KUBE-SEP-A",
            "-R KUBE-SEP-A 1 -j RETURN",
            "[3:180] -A KUBE-SVC-A -j KUBE-SEP-A",
            "-A KUBE-SVC-A -c 5 9 -j KUBE-SEP-A",
            "-A OUTPUT -j KUBE-SERVICES",
            "-A POSTROUTING -j X",
            "-A KUBE-SERVICES -p tcp -j REDIRECT --to-ports 80",
            "-A KUBE-SVC-A -j",
            "-A NOPE -j ACCEPT",
            "-t filter -A X -j ACCEPT",
        ];
        const HEADS: [&str; 4] = ["", "\t\n", " \n", "#\n"];
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let (mut reused, mut loads) = (0, 0);
        for _ in 0..2000 {
            let mut text = HEADS[next(HEADS.len())].to_string();
            for _ in 0..1 + next(2) {
                text.push_str(["*nat\n", "*filter\n"][usize::from(next(5) == 0)]);
                for d in DECLARE {
                    if next(3) != 0 {
                        text.push_str(d);
                        text.push('\n');
                    }
                }
                for _ in 0..next(14) {
                    let line = if next(5) == 0 {
                        TWISTS[next(TWISTS.len())]
                    } else {
                        RULES[next(RULES.len())]
                    };
                    text.push_str(line);
                    text.push('\n');
                }
                if next(12) != 0 {
                    text.push_str("COMMIT\n");
                }
            }
            let n = fuzz(text.as_bytes());
            reused += n;
            loads += usize::from(n > 0);
        }
        // The inputs do reach the reuse, often.
        assert!(
            loads > 60 && reused > 300,
            "{loads} inputs reused {reused} rules"
        );
    }

    #[test]
    fn a_rewritten_chain_reuses_the_rules_of_its_unchanged_lines() {
        let first = "*nat\n:Y - [0:0]\n:X - [0:0]\n\
            -A X -m comment --comment \"ns/a:http cluster IP\" -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j Y\n\
            -A X -s 10.0.0.0/8 -j RETURN\n\
            -A X -j MARK --set-xmark 0x4000/0x4000\n\
            COMMIT\n";
        let second = "*nat\n:X - [0:0]\n\
            -A X -m comment --comment \"ns/a:http cluster IP\" -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j Y\n\
            -A X -s 10.1.0.0/16 -j DROP\n\
            -A X -s 10.0.0.0/8 -j RETURN\n\
            -A X -j MARK --set-xmark 0x4000/0x4000\n\
            COMMIT\n";
        let mut rules = Ruleset::new();
        let s1 = restore(&mut rules, first, NOFLUSH).unwrap();
        assert_eq!((s1.rules, s1.reused), (3, 0));
        let s2 = restore(&mut rules, second, NOFLUSH).unwrap();
        // Three lines were the same; the new one in between was read.
        assert_eq!((s2.rules, s2.reused), (4, 3));
        // The same ruleset as reading everything afresh.
        let mut fresh = Ruleset::new();
        restore(&mut fresh, "*nat\n:Y - [0:0]\nCOMMIT\n", NOFLUSH).unwrap();
        restore(&mut fresh, second, NOFLUSH).unwrap();
        assert_eq!(rules, fresh);
        assert_eq!(
            crate::network::netfilter::save::save(&rules, &Default::default()),
            crate::network::netfilter::save::save(&fresh, &Default::default())
        );

        // A reused line whose target is gone fails with the columns of a fresh read.
        let gone = "*nat\n:X - [0:0]\n-X Y\n\
            -A X -m comment --comment \"ns/a:http cluster IP\" -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j Y\n\
            COMMIT\n";
        let before = rules.clone();
        let e = restore(&mut rules, gone, NOFLUSH).unwrap_err();
        assert_eq!(rules, before);
        let mut bare = Ruleset::new();
        let e_fresh = restore(&mut bare, "*nat\n:X - [0:0]\n:Y - [0:0]\n-X Y\n\
            -A X -m comment --comment \"ns/a:http cluster IP\" -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j Y\n\
            COMMIT\n", NOFLUSH).unwrap_err();
        assert_eq!(
            (e.column, e.text()),
            (e_fresh.column, e_fresh.text().replace("line: 5", "line: 4"))
        );
        assert!(
            e.text().contains("Couldn't load target `Y'"),
            "{}",
            e.text()
        );
        // So does one whose target was renamed away.
        let renamed = gone.replace("-X Y", "-E Y W");
        let e = restore(&mut rules, &renamed, NOFLUSH).unwrap_err();
        assert_eq!(rules, before);
        assert!(
            e.text().contains("Couldn't load target `Y'"),
            "{}",
            e.text()
        );

        // Lines with counters, inserts, another table or a renamed chain are read.
        let s = restore(
            &mut rules,
            "*nat\n:X - [0:0]\n[5:300] -A X -s 10.0.0.0/8 -j RETURN\n-I X 1 -j MARK --set-xmark 0x4000/0x4000\nCOMMIT\n",
            RestoreOptions { noflush: true, counters: true },
        )
        .unwrap();
        assert_eq!((s.rules, s.reused), (2, 0));
        assert_eq!(
            rules.chain(TableName::Nat, "X").unwrap().rules[1].packets,
            5
        );
        let s = restore(
            &mut rules,
            "*filter\n:X - [0:0]\n-A X -s 10.0.0.0/8 -j RETURN\nCOMMIT\n",
            NOFLUSH,
        )
        .unwrap();
        assert_eq!(s.reused, 0);
        restore(
            &mut rules,
            "*nat\n:X - [0:0]\n-A X -s 10.0.0.0/8 -j RETURN\nCOMMIT\n",
            NOFLUSH,
        )
        .unwrap();
        command(&mut rules, "-t nat -E X Z").unwrap();
        let s = restore(
            &mut rules,
            "*nat\n:Z - [0:0]\n-A X -s 10.0.0.0/8 -j RETURN\nCOMMIT\n",
            NOFLUSH,
        );
        assert!(
            s.is_err(),
            "X is gone after the rename: the line is read and fails"
        );
        let s = restore(
            &mut rules,
            "*nat\n:Z - [0:0]\n-A Z -s 10.0.0.0/8 -j RETURN\nCOMMIT\n",
            NOFLUSH,
        )
        .unwrap();
        assert_eq!((s.rules, s.reused), (1, 0));
    }

    #[test]
    fn a_loop_through_a_rewritten_chain_among_many_is_refused() {
        let mut text = String::from("*nat\n");
        for i in 0..200 {
            text.push_str(&format!(":SVC-{i} - [0:0]\n:SEP-{i} - [0:0]\n"));
        }
        for i in 0..200 {
            text.push_str(&format!(
                "-A PREROUTING -j SVC-{i}\n-A SVC-{i} -j SEP-{i}\n"
            ));
        }
        text.push_str("COMMIT\n");
        let mut rules = Ruleset::new();
        assert!(restore(&mut rules, &text, NOFLUSH).is_ok());
        let before = rules.clone();
        let e = restore(
            &mut rules,
            "*nat\n:SEP-7 - [0:0]\n-A SEP-7 -j SVC-7\nCOMMIT\n",
            NOFLUSH,
        )
        .err();
        assert_eq!(
            e.map(|e| e.text()),
            Some(
                "iptables-restore: line 4 failed: Too many levels of symbolic links. (chain SEP-7 reaches itself)"
                    .to_string()
            )
        );
        assert_eq!(rules, before);
        // Without the loop, the same chain loads.
        assert!(restore(
            &mut rules,
            "*nat\n:SEP-7 - [0:0]\n-A SEP-7 -j SEP-8\nCOMMIT\n",
            NOFLUSH
        )
        .is_ok());
        let nat = rules.table(TableName::Nat);
        assert_eq!(
            nat.callers.of("SEP-8").collect::<Vec<_>>(),
            ["SEP-7", "SVC-8"]
        );
        // And SEP-8 cannot be deleted while jumped to, by command or by restore.
        let e = command(&mut rules, "-t nat -X SEP-8").err();
        assert_eq!(
            e.map(|e| e.message),
            Some("Device or resource busy. (chain SEP-8 is still referenced from SEP-7)".into())
        );
        let e = restore(
            &mut rules,
            "*nat\n:SEP-7 - [0:0]\n-X SEP-8\nCOMMIT\n",
            NOFLUSH,
        )
        .err();
        assert_eq!(
            e.map(|e| e.message),
            Some("Device or resource busy. (chain SEP-8 is still referenced from SVC-8)".into())
        );
    }
}
