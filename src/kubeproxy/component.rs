//! kube-proxy as a running component: one per node with a simulated kubelet. It
//! watches Services and EndpointSlices through the API server (with upstream's
//! informer label selector `!service.kubernetes.io/service-proxy-name,
//! !service.kubernetes.io/headless`) and its own Node, feeds them to the
//! [`Proxier`], and loads each sync's `iptables-restore` text into the node's
//! iptables engine (`--noflush`, as kube-proxy runs it).
//!
//! The sync loop, as v1.31's iptables mode (`NewProxier`, `syncProxyRules`,
//! pkg/util/async's BoundedFrequencyRunner and pkg/util/iptables' `Monitor`):
//! - no sync before the node's IP is known (upstream reads it from the Node at
//!   start); then one full sync at once (the informers' `OnEndpointSlicesSynced`);
//! - a change asks the runner for a sync ([`BoundedFrequencyRunner`]: at once while
//!   its token bucket of 2 has a token, else `minSyncPeriod` (1s) after the last
//!   run; requests in between coalesce), and the runner runs at least once an hour
//!   (`maxInterval` = `FullSyncPeriod`);
//! - a sync is full on the first sync, after a failure, after the monitor saw a flush
//!   or this node's labels change, or an hour after the last full one; otherwise it is
//!   partial and rewrites only the chains of the Services that changed (a person's
//!   edit to another Service's KUBE-SVC- chain stays until the next full sync);
//! - every full sync first makes sure of the jumps from the built-in chains
//!   (`iptables -C`, then `iptables -I` for a missing one, after `-N` for a missing
//!   chain), as upstream does instead of writing PREROUTING and friends in the
//!   restore;
//! - the iptables monitor keeps a `KUBE-PROXY-CANARY` chain in the mangle, nat and
//!   filter tables and checks the mangle one every `syncPeriod` (30s); when it is
//!   gone (someone flushed the tables) it waits up to 5s for the others to go too,
//!   then forces a full sync and puts the canaries back. Only the mangle canary is
//!   watched: a flush of the nat table alone goes unnoticed until a full sync;
//! - a failed `iptables-restore` (nothing applied) makes the next sync a full one and
//!   retries after `syncPeriod` (`syncRunner.RetryAfter`), every 30s while it fails.
//!
//! The periodic work (the monitor's check, the hourly run, the retry of a failing
//! sync) is declared periodic, so `settle` ends beside it; a change waiting for its
//! sync is not.
//!
//! The node's iptables engine belongs to the node (`network::machines`), reached
//! through `Ctx::netfilter`; the plug-in's daemon writes its rules there too.
//!
//! Simplified, and said so: a stopped node still answers `iptables-save`; no
//! conntrack clean-up of stale UDP flows; the monitor's 100ms
//! polls after a flush are virtual timers, and a sync takes no virtual time.

use crate::api::VecMap;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::api::labels::Selector;
use crate::api::object::{ENDPOINTSLICES, NODES, SERVICES};
use crate::api::Object;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::trace::Text;
use crate::kernel::{Nanos, ObjRef, NANOS_PER_SEC};
use crate::network::netfilter::{parse, Netfilter, RestoreOptions, Rule, Ruleset, TableName};
use crate::store::EventType;

use super::iptables::{
    JumpRule, Proxier, ProxierConfig, DEFAULT_SYNC_PERIOD_NS, FULL_SYNC_PERIOD_NS,
};
use super::runner::{BoundedFrequencyRunner, TimerKind};

/// The legacy userspace mode's side of the component.
mod legacy;

/// `--iptables-min-sync-period`'s default.
pub const MIN_SYNC_PERIOD: Nanos = NANOS_PER_SEC;

/// The label selector of kube-proxy's Service and EndpointSlice informers.
const INFORMER_SELECTOR: &str =
    "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless";

/// NewProxier's `burstSyncs`.
pub const BURST_SYNCS: u64 = 2;
/// The iptables monitor's canary chain.
pub const KUBE_PROXY_CANARY: &str = "KUBE-PROXY-CANARY";
/// The tables the monitor keeps a canary in; only the first is polled.
const CANARY_TABLES: [TableName; 3] = [TableName::Mangle, TableName::Nat, TableName::Filter];
/// pkg/util/iptables' `iptablesFlushPollTime` and `iptablesFlushTimeout`.
const FLUSH_POLL: Nanos = NANOS_PER_SEC / 10;
const FLUSH_TIMEOUT: Nanos = 5 * NANOS_PER_SEC;

const KEY_RUN: u64 = 1;
const KEY_RUNNER_TIMER: u64 = 2;
const KEY_MONITOR: u64 = 3;
const KEY_FLUSH_POLL: u64 = 4;
/// The legacy userspace mode's sync.
const KEY_USERSPACE_SYNC: u64 = 5;
const KEY_BITS: u32 = 4;

// Why a sync ran, and why it is full (trace reasons).
const CAUSE_START: &str =
    "kube-proxy started and has the Services and EndpointSlices (OnEndpointSlicesSynced)";
const CAUSE_CHANGE: &str = "Services, EndpointSlices or this Node changed";
const CAUSE_HOURLY: &str =
    "the runner runs at least once an hour (maxInterval = FullSyncPeriod) even without changes";
const CAUSE_RETRY: &str = "the last sync failed and the runner retries after syncPeriod (30s)";
const CAUSE_FLUSHED: &str =
    "the iptables monitor found its canary gone: forceSyncProxyRules after a flush";
const WHY_FULL_FIRST: &str = "the first sync writes everything";
const WHY_FULL_HOURLY: &str = "an hour has passed since the last full sync (FullSyncPeriod)";
const WHY_FULL_FAILED: &str = "the last sync failed and its changes are lost";
const WHY_FULL_FLUSHED: &str = "the tables were flushed";
const WHY_FULL_NODE: &str = "this node's labels changed (topology)";

/// One node's kube-proxy (iptables mode).
pub struct KubeProxy {
    node: String,
    actor: Arc<str>,
    cluster_cidr: String,
    /// Created once the node's InternalIP is known.
    proxier: Option<Proxier>,
    /// What arrived before the proxier existed, replayed into it.
    early: BTreeMap<(u8, String, String), Option<Arc<Object>>>,
    sync: SyncLoop,
    /// `proxyMode: userspace` (legacy): the userspace proxier, once the node's IP is known.
    userspace_mode: bool,
    userspace: Option<super::userspace::UserspaceProxier>,
    /// The userspace mode's own simple loop: at least minSyncPeriod apart.
    us: UserspaceLoop,
    /// The machine is stopped (a `nodeDown` fault): kube-proxy stops with it.
    down: bool,
    /// The latest Node seen while stopped, before the proxier started: it starts
    /// from it when the machine is back.
    node_while_down: Option<Arc<Object>>,
}

/// The legacy userspace mode's sync pacing.
#[derive(Default)]
struct UserspaceLoop {
    pending: bool,
    dirty: bool,
    last_sync: Option<Nanos>,
}

/// The sync loop's state: the runner, the monitor, the jumps to make sure of.
#[derive(Default)]
struct SyncLoop {
    runner: Option<BoundedFrequencyRunner>,
    /// The runner timer generation already scheduled.
    scheduled: Option<u64>,
    /// A `Run()` is queued (the runner's channel holds one).
    run_signalled: bool,
    /// Changes arrived since the last sync.
    changed: bool,
    /// Why the proxier's next sync is full when it is forced.
    full_reason: &'static str,
    jumps: Vec<Jump>,
    /// The end of the monitor's 5s wait for the other canaries.
    flush_deadline: Nanos,
}

/// What making sure of the jumps did: a command, and for a `-I` the jump it added.
struct Ensured {
    command: String,
    inserted: Option<String>,
}

/// One jump from a built-in chain and its parsed form for `iptables -C`.
struct Jump {
    table: TableName,
    rule: JumpRule,
    parsed: Option<Rule>,
}

impl KubeProxy {
    /// `proxy_mode` is `spec.cluster.network.proxyMode`: `iptables` or `userspace`.
    pub fn new(node: &str, cluster_cidr: &str, proxy_mode: &str) -> KubeProxy {
        let actor: Arc<str> = format!("kube-proxy/{node}").into();
        KubeProxy {
            node: node.into(),
            actor,
            cluster_cidr: cluster_cidr.into(),
            proxier: None,
            early: BTreeMap::new(),
            sync: SyncLoop::default(),
            userspace_mode: proxy_mode == "userspace",
            userspace: None,
            us: UserspaceLoop::default(),
            down: false,
            node_while_down: None,
        }
    }

    /// The machine stops (`fault: {nodeDown}`): so does kube-proxy. Its informers'
    /// caches are kept current meanwhile (a restarted kube-proxy lists everything
    /// anew), but nothing syncs.
    pub fn machine_down(&mut self, ctx: &mut Ctx) {
        if self.down {
            return;
        }
        self.down = true;
        self.note(
            ctx,
            "kube-proxy stops with the machine",
            "a fault step stopped the node: no syncs and no monitor checks until it is back, and the machine's iptables rules and connections are gone with it",
        );
    }

    /// The machine is back (`fault: {nodeUp}`): kube-proxy starts again, and its
    /// first sync is a full one, the jumps and canaries made sure of again.
    pub fn machine_up(&mut self, ctx: &mut Ctx) {
        if !self.down {
            return;
        }
        self.down = false;
        let now = ctx.now();
        // A Node that came while stopped, before the proxier started: start now.
        if let Some(node) = self.node_while_down.take() {
            let started = if self.userspace_mode {
                self.userspace.is_some()
            } else {
                self.proxier.is_some()
            };
            if !started {
                self.on_event(ctx, 2, EventType::Added, &node);
                return;
            }
        }
        if self.userspace_mode {
            self.us.pending = false;
            self.us.dirty = true;
            self.note(
                ctx,
                "kube-proxy starts again with the machine (legacy userspace mode)",
                "the node is back: the proxier syncs its portal rules",
            );
            self.sync_userspace(ctx);
            return;
        }
        let Some(p) = self.proxier.as_mut() else {
            return;
        };
        p.force_full_sync();
        self.note(
            ctx,
            "kube-proxy starts again with the machine",
            "the node is back with empty tables: a restarted kube-proxy's first sync writes everything, with the jumps from the built-in chains and the monitor's canaries",
        );
        if let Some(nf) = ctx.netfilter(&self.node) {
            Self::ensure_canaries(nf);
        }
        self.sync.full_reason = WHY_FULL_FIRST;
        self.sync.run_signalled = false;
        self.run_counted(ctx, CAUSE_START, now);
        self.schedule_runner(ctx);
    }

    pub fn node_name(&self) -> &str {
        &self.node
    }

    fn note(&self, ctx: &mut Ctx, action: impl Into<Text>, reason: impl Into<Text>) {
        let objects = vec![ObjRef::new("Node", "", &self.node, 0)];
        ctx.note_by(Text::Shared(self.actor.clone()), action, reason, objects);
    }

    /// Feeds one watch event to the proxier (or keeps it until there is one).
    fn feed(&mut self, watch: u8, kind: EventType, obj: &Arc<Object>) -> bool {
        let Some(p) = self.proxier.as_mut() else {
            let m = obj.meta();
            let key = (watch, m.namespace.clone(), m.name.clone());
            let value = (kind != EventType::Deleted).then(|| obj.clone());
            self.early.insert(key, value);
            return false;
        };
        match (kind, obj.as_ref()) {
            (EventType::Deleted, Object::Service(s)) => {
                p.on_service_delete(&s.metadata.namespace, &s.metadata.name)
            }
            (_, Object::Service(s)) => p.on_service_update(s),
            (EventType::Deleted, Object::EndpointSlice(s)) => p.on_endpoint_slice_delete(s),
            (_, Object::EndpointSlice(s)) => p.on_endpoint_slice_update(s),
            _ => false,
        }
    }

    /// `proxier.Sync()`: asks the runner for a sync (`syncRunner.Run()`), delivered
    /// after the watch events of this instant, as the runner's channel holds one.
    fn request_sync(&mut self, ctx: &mut Ctx) {
        if self.proxier.is_none() || self.sync.run_signalled {
            return;
        }
        self.sync.run_signalled = true;
        ctx.after(0, KEY_RUN);
    }

    /// Schedules the runner's timer if it moved.
    fn schedule_runner(&mut self, ctx: &mut Ctx) {
        let Some(r) = &self.sync.runner else {
            return;
        };
        let t = r.timer();
        if self.sync.scheduled == Some(t.generation) {
            return;
        }
        self.sync.scheduled = Some(t.generation);
        let delay = t.at.saturating_sub(ctx.now());
        let key = KEY_RUNNER_TIMER | (t.generation << KEY_BITS);
        if t.kind.periodic() {
            ctx.every(delay, key);
        } else {
            ctx.after(delay, key);
        }
    }

    /// The runner's `tryRun`, for a request (`why` Deferred) or its timer.
    fn try_run(&mut self, ctx: &mut Ctx, why: TimerKind) {
        let now = ctx.now();
        let Some(r) = self.sync.runner.as_mut() else {
            return;
        };
        if r.try_run(now, why) {
            let cause = match why {
                TimerKind::Deferred => CAUSE_CHANGE,
                TimerKind::MaxInterval if self.sync.changed => CAUSE_CHANGE,
                TimerKind::MaxInterval => CAUSE_HOURLY,
                TimerKind::Retry => CAUSE_RETRY,
            };
            self.run_counted(ctx, cause, now);
        }
        self.schedule_runner(ctx);
    }

    /// A sync the runner counts as its run: `ran`, and on failure a retry after
    /// syncPeriod.
    fn run_counted(&mut self, ctx: &mut Ctx, cause: &'static str, now: Nanos) {
        let ok = self.sync_proxy_rules(ctx, cause);
        if let Some(r) = self.sync.runner.as_mut() {
            r.ran(now);
            if !ok {
                r.retry_after(now, DEFAULT_SYNC_PERIOD_NS);
            }
        }
    }

    /// A sync outside the runner (the first one, the monitor's forced one); a failure
    /// still asks the runner to retry.
    fn sync_now(&mut self, ctx: &mut Ctx, cause: &'static str) {
        let ok = self.sync_proxy_rules(ctx, cause);
        if !ok {
            let now = ctx.now();
            if let Some(r) = self.sync.runner.as_mut() {
                r.retry_after(now, DEFAULT_SYNC_PERIOD_NS);
            }
            self.schedule_runner(ctx);
        }
    }

    /// `EnsureChain` and `EnsureRule(Prepend, ...)` for each jump from a built-in
    /// chain: `iptables -C`, and `-N`/`-I` for what is missing. Returns the commands
    /// run.
    fn ensure_jumps(jumps: &[Jump], nf: &mut Netfilter) -> Result<Vec<Ensured>, String> {
        let mut done = Vec::new();
        for j in jumps {
            let rules = &nf.rules;
            if rules.chain(j.table, j.rule.target).is_none() {
                let line = format!("-t {} -N {}", j.rule.table, j.rule.target);
                nf.command(&line).map_err(|e| e.text())?;
                done.push(Ensured {
                    command: line,
                    inserted: None,
                });
            }
            let rules = &nf.rules;
            let present = rules.chain(j.table, j.rule.chain).is_some_and(|c| {
                c.rules.iter().any(|r| match &j.parsed {
                    Some(p) => r.same_spec(p),
                    None => r.target.chain() == Some(j.rule.target),
                })
            });
            if !present {
                let line = format!("-t {} -I {} {}", j.rule.table, j.rule.chain, j.rule.args);
                nf.command(&line).map_err(|e| e.text())?;
                done.push(Ensured {
                    command: line,
                    inserted: Some(format!(
                        "{} {}→{}",
                        j.rule.table, j.rule.chain, j.rule.target
                    )),
                });
            }
        }
        Ok(done)
    }

    /// `syncProxyRules`: the jumps on a full sync, the proxier's text loaded with
    /// `iptables-restore --noflush`, and what follows a failure. Returns success.
    fn sync_proxy_rules(&mut self, ctx: &mut Ctx, cause: &'static str) -> bool {
        let now = ctx.now();
        let Some(p) = self.proxier.as_ref() else {
            return true;
        };
        let full = p.full_sync_due(now);
        let why_full = if !full {
            ""
        } else if p.needs_full_sync() {
            self.sync.full_reason
        } else {
            WHY_FULL_HOURLY
        };
        self.sync.changed = false;
        if full {
            let ensured = match ctx.netfilter(&self.node) {
                Some(nf) => Self::ensure_jumps(&self.sync.jumps, nf),
                None => Ok(Vec::new()),
            };
            match ensured {
                Ok(done) if done.is_empty() => {}
                Ok(done) => {
                    let action = if done.len() > 4 {
                        let chains = done.iter().filter(|d| d.inserted.is_none()).count();
                        let jumps: Vec<&str> =
                            done.iter().filter_map(|d| d.inserted.as_deref()).collect();
                        format!(
                            "iptables -C found {} jump(s) missing: iptables -N {chains} chain(s), -I {}",
                            jumps.len(),
                            jumps.join(", ")
                        )
                    } else {
                        let lines: Vec<&str> = done.iter().map(|d| d.command.as_str()).collect();
                        format!("iptables {}", lines.join("; iptables "))
                    };
                    let reason = if why_full == WHY_FULL_FIRST {
                        "the first full sync links the built-in chains (PREROUTING, OUTPUT, POSTROUTING, INPUT, FORWARD) to kube-proxy's; iptables-restore --noflush cannot write them without replacing other rules there"
                    } else {
                        "every full sync makes sure of the jumps from the built-in chains (iptables -C, then -I at the top for a missing one); someone had removed them"
                    };
                    self.note(ctx, action, reason);
                }
                Err(e) => {
                    self.failed(ctx, format!("iptables failed: {e}"));
                    return false;
                }
            }
        }
        let Some(p) = self.proxier.as_mut() else {
            return true;
        };
        let r = p.sync(now);
        let Some(nf) = ctx.netfilter(&self.node) else {
            return true;
        };
        let loaded = nf.restore(
            &r.restore,
            RestoreOptions {
                noflush: true,
                counters: false,
            },
        );
        match loaded {
            Ok(_) => {
                self.sync.full_reason = WHY_FULL_FIRST;
                let what = if r.full_sync { "full" } else { "partial" };
                let action = format!(
                    "iptables-restore --noflush: {what} sync, {} filter and {} nat rules written ({} nat rules in all), {} service port(s) rewritten{}",
                    r.filter_rules,
                    r.nat_rules,
                    r.nat_rules_total,
                    r.service_ports_written,
                    if r.deleted_chains > 0 {
                        format!(", {} stale chain(s) deleted", r.deleted_chains)
                    } else {
                        String::new()
                    }
                );
                let reason = if r.full_sync {
                    format!(
                        "{cause}; full: {why_full}, so every chain of the {} Service port(s) is rewritten",
                        r.services
                    )
                } else {
                    format!(
                        "{cause}; partial: only the chains of the Services that changed are rewritten, with the top-level chains ({} Service port(s) in all)",
                        r.services
                    )
                };
                self.note(ctx, action, reason);
                true
            }
            Err(e) => {
                self.failed(ctx, format!("iptables-restore failed: {}", e.text()));
                false
            }
        }
    }

    /// The `!success` branch: a full sync next, a retry after syncPeriod.
    fn failed(&mut self, ctx: &mut Ctx, action: String) {
        if let Some(p) = self.proxier.as_mut() {
            p.sync_failed();
        }
        self.sync.full_reason = WHY_FULL_FAILED;
        self.note(
            ctx,
            action,
            "nothing was applied (\"Sync failed\"): the changes this sync consumed are lost, so the next sync is a full one, retried after syncPeriod (30s) by the runner's RetryAfter",
        );
    }

    /// The iptables monitor's canaries: `-N KUBE-PROXY-CANARY` where it is missing.
    fn ensure_canaries(nf: &mut Netfilter) -> usize {
        let mut made = 0;
        for t in CANARY_TABLES {
            if nf.rules.chain(t, KUBE_PROXY_CANARY).is_none() {
                let line = format!("-t {} -N {KUBE_PROXY_CANARY}", t.as_str());
                if nf.command(&line).is_ok() {
                    made += 1;
                }
            }
        }
        made
    }

    /// The monitor's check every syncPeriod: is the mangle canary still there?
    fn monitor_check(&mut self, ctx: &mut Ctx) {
        if ctx.netfilter(&self.node).is_none_or(|nf| {
            nf.rules
                .chain(CANARY_TABLES[0], KUBE_PROXY_CANARY)
                .is_some()
        }) {
            ctx.every(DEFAULT_SYNC_PERIOD_NS, KEY_MONITOR);
            return;
        }
        self.note(
            ctx,
            "iptables canary mangle/KUBE-PROXY-CANARY deleted",
            "the iptables monitor checks its canary chain every syncPeriod (30s): gone means someone flushed the tables; it waits up to 5s for the nat and filter canaries to go too, then reloads",
        );
        self.sync.flush_deadline = ctx.now() + FLUSH_TIMEOUT;
        self.flush_poll(ctx);
    }

    /// `PollImmediate(100ms, 5s)` for the other canaries, then the reload.
    fn flush_poll(&mut self, ctx: &mut Ctx) {
        let gone = ctx.netfilter(&self.node).is_some_and(|nf| {
            CANARY_TABLES[1..]
                .iter()
                .all(|t| nf.rules.chain(*t, KUBE_PROXY_CANARY).is_none())
        });
        if !gone && ctx.now() < self.sync.flush_deadline {
            ctx.after(FLUSH_POLL, KEY_FLUSH_POLL);
            return;
        }
        if !gone {
            self.note(
                ctx,
                "Inconsistent iptables state detected",
                "the mangle canary is gone but the nat or filter one is still there after 5s; kube-proxy reloads anyway",
            );
        }
        if let Some(p) = self.proxier.as_mut() {
            p.force_full_sync();
        }
        self.sync.full_reason = WHY_FULL_FLUSHED;
        self.sync_now(ctx, CAUSE_FLUSHED);
        let made = ctx.netfilter(&self.node).map_or(0, Self::ensure_canaries);
        if made > 0 {
            self.note(
                ctx,
                format!("iptables -N {KUBE_PROXY_CANARY} in {made} table(s)"),
                "the monitor puts its canaries back after a reload and watches again every syncPeriod (30s)",
            );
        }
        ctx.every(DEFAULT_SYNC_PERIOD_NS, KEY_MONITOR);
    }

    /// The Node gave this node's IP: the proxier, the runner and the monitor start,
    /// and the first (full) sync runs.
    fn start_proxier(&mut self, ctx: &mut Ctx, ip: String, labels: &VecMap<String, String>) {
        let mut p = Proxier::new(ProxierConfig::node(
            &self.node,
            Some(&ip),
            &self.cluster_cidr,
        ));
        p.on_node_labels(labels);
        for ((w, _, _), o) in std::mem::take(&mut self.early) {
            match (w, o.as_deref()) {
                (0, Some(Object::Service(s))) => {
                    p.on_service_update(s);
                }
                (1, Some(Object::EndpointSlice(s))) => {
                    p.on_endpoint_slice_update(s);
                }
                _ => {}
            }
        }
        self.sync.jumps = parse_jumps(&p);
        self.proxier = Some(p);
        let now = ctx.now();
        self.sync.runner = Some(BoundedFrequencyRunner::new(
            MIN_SYNC_PERIOD,
            FULL_SYNC_PERIOD_NS,
            BURST_SYNCS,
            now,
        ));
        self.note(
            ctx,
            format!("start kube-proxy in iptables mode on node IP {ip}"),
            "the Node object gives this node's InternalIP, which NodePort rules need; syncs are at least minSyncPeriod (1s) apart after a burst of 2, and at least hourly",
        );
        let made = ctx.netfilter(&self.node).map_or(0, Self::ensure_canaries);
        self.note(
            ctx,
            format!("iptables -N {KUBE_PROXY_CANARY} in {made} table(s) (mangle, nat, filter)"),
            "the iptables monitor's canaries: checked every syncPeriod (30s); if the mangle one vanishes, someone flushed the tables and kube-proxy rewrites all its rules",
        );
        ctx.every(DEFAULT_SYNC_PERIOD_NS, KEY_MONITOR);
        self.schedule_runner(ctx);
        self.sync.full_reason = WHY_FULL_FIRST;
        self.sync_now(ctx, CAUSE_START);
    }
}

/// The jumps a full sync makes sure of, each parsed once for `iptables -C`.
fn parse_jumps(p: &Proxier) -> Vec<Jump> {
    let mut scratch = Ruleset::new();
    p.jump_rules()
        .into_iter()
        .filter_map(|rule| {
            let table = TableName::parse(rule.table)?;
            let _ = parse::command(
                &mut scratch,
                &format!("-t {} -N {}", rule.table, rule.target),
            );
            let parsed = parse::command(
                &mut scratch,
                &format!("-t {} -I {} {}", rule.table, rule.chain, rule.args),
            )
            .ok()
            .and_then(|_| scratch.chain(table, rule.chain)?.rules.first().cloned());
            Some(Jump {
                table,
                rule,
                parsed,
            })
        })
        .collect()
}

impl Component for KubeProxy {
    fn name(&self) -> String {
        self.actor.to_string()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        let selector =
            Selector::parse(INFORMER_SELECTOR).unwrap_or_else(|_| Selector::everything());
        let mut svc = WatchSpec::new(&SERVICES, self.actor.to_string());
        svc.labels = selector.clone();
        // The userspace mode read v1 Endpoints to its end.
        let eps_kind = if self.userspace_mode {
            &crate::api::object::ENDPOINTS
        } else {
            &ENDPOINTSLICES
        };
        let mut eps = WatchSpec::new(eps_kind, self.actor.to_string());
        eps.labels = selector;
        let mut node = WatchSpec::new(&NODES, self.actor.to_string());
        node.fields =
            crate::api::fields::FieldSelector::parse(&format!("metadata.name={}", self.node))
                .unwrap_or_default();
        vec![svc, eps, node]
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>) {
        if self.down && watch == 2 {
            // The Node, while stopped: kept for the start if there was none yet, its
            // labels taken (the first sync after the start is full anyway).
            match (kind, obj.as_ref()) {
                (EventType::Deleted, _) => {
                    self.node_while_down = None;
                    if let Some(p) = self.proxier.as_mut() {
                        p.on_node_labels(&VecMap::new());
                    }
                }
                (_, Object::Node(n)) => match self.proxier.as_mut() {
                    Some(p) => {
                        p.on_node_labels(&n.metadata.labels);
                    }
                    None => self.node_while_down = Some(obj.clone()),
                },
                _ => {}
            }
            if !self.userspace_mode || self.userspace.is_none() {
                return;
            }
        }
        if self.userspace_mode {
            if self.down {
                // Kept for the start (`early`), or fed for the first sync after it.
                match self.userspace.is_some() {
                    true => {
                        let _ = self.feed_userspace(ctx, kind, obj, false);
                    }
                    false => self.on_event_userspace(ctx, watch, kind, obj),
                }
                return;
            }
            return self.on_event_userspace(ctx, watch, kind, obj);
        }
        match (watch, obj.as_ref()) {
            (0 | 1, _) if self.feed(watch as u8, kind, obj) => {
                self.sync.changed = true;
                if !self.down {
                    self.request_sync(ctx);
                }
            }
            (2, Object::Node(n)) if kind != EventType::Deleted => {
                if self.proxier.is_none() {
                    let Some(ip) = n
                        .status
                        .addresses
                        .iter()
                        .find(|a| a.kind == "InternalIP")
                        .map(|a| a.address.clone())
                    else {
                        return;
                    };
                    self.start_proxier(ctx, ip, &n.metadata.labels);
                } else if let Some(p) = self.proxier.as_mut() {
                    if p.on_node_labels(&n.metadata.labels) {
                        self.sync.full_reason = WHY_FULL_NODE;
                        self.sync.changed = true;
                        self.request_sync(ctx);
                    }
                }
            }
            (2, Object::Node(_)) => {
                // OnNodeDelete: the labels are gone; a full sync.
                if let Some(p) = self.proxier.as_mut() {
                    p.on_node_labels(&VecMap::new());
                    p.force_full_sync();
                    self.sync.full_reason = WHY_FULL_NODE;
                    self.sync.changed = true;
                    self.request_sync(ctx);
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, key: u64) {
        if self.down {
            // Stopped: nothing runs, but the monitor's one timer stays armed, so it
            // watches again once the machine is back (a flush check under way is
            // dropped: the start's full sync writes everything).
            let k = key & ((1 << KEY_BITS) - 1);
            if k == KEY_MONITOR || k == KEY_FLUSH_POLL {
                ctx.every(DEFAULT_SYNC_PERIOD_NS, KEY_MONITOR);
            }
            return;
        }
        match key & ((1 << KEY_BITS) - 1) {
            KEY_RUN => {
                self.sync.run_signalled = false;
                self.try_run(ctx, TimerKind::Deferred);
            }
            KEY_RUNNER_TIMER => {
                let Some(t) = self.sync.runner.as_ref().map(|r| r.timer()) else {
                    return;
                };
                // A wake-up of a timer since reset (Go's timer.Reset) does nothing.
                if key >> KEY_BITS != t.generation || t.at != ctx.now() {
                    return;
                }
                self.sync.scheduled = None;
                self.try_run(ctx, t.kind);
            }
            KEY_MONITOR => self.monitor_check(ctx),
            KEY_FLUSH_POLL => self.flush_poll(ctx),
            KEY_USERSPACE_SYNC => self.sync_userspace(ctx),
            _ => {}
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
