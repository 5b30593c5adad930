//! The node lifecycle controller (kube-controller-manager's `node-lifecycle-controller`,
//! v1.31 `pkg/controller/nodelifecycle`), without its taint manager, which runs apart
//! as the taint-eviction-controller (`tainteviction.rs`), as v1.31 runs it.
//!
//! Every `nodeMonitorPeriod` (5s) it looks at each node's health signals: the
//! renewal of its Lease (`kube-node-lease/<node>`, `spec.renewTime`) and the
//! `lastHeartbeatTime` of its Ready condition. A signal it has not seen change for
//! longer than `nodeMonitorGracePeriod` (40s; `nodeStartupGracePeriod`, 60s, for a
//! node that never posted a Ready condition) makes it set Ready, MemoryPressure,
//! DiskPressure and PIDPressure to Unknown (`NodeStatusUnknown`, "Kubelet stopped
//! posting node status."; `NodeStatusNeverUpdated`, "Kubelet never posted node
//! status.", for a condition never posted), record `NodeNotReady`, and mark the
//! node's pods `Ready=False`. On its next pass it queues the node for the NoExecute
//! taint that mirrors the Ready condition it observed (`node.kubernetes.io/unreachable`
//! for Unknown, `node.kubernetes.io/not-ready` for False; swapped at once when the
//! condition changes between the two, removed when Ready is True), through a rate
//! limiter per zone. On every node event it keeps the NoSchedule taints that
//! mirror the node's conditions and `spec.unschedulable` (TaintNodesByCondition).
//!
//! Upstream's defaults: `nodeMonitorPeriod` 5s, `nodeMonitorGracePeriod` 40s,
//! `nodeStartupGracePeriod` 60s, `nodeEvictionRate` 0.1 nodes per second (burst 1),
//! `secondaryNodeEvictionRate` 0.01, `largeClusterSizeThreshold` 50,
//! `unhealthyZoneThreshold` 0.55, and the zone states Normal, PartialDisruption
//! and FullDisruption (when every zone is fully disrupted, taints are lifted and
//! tainting stops, as upstream's "master disruption mode").
//!
//! Heartbeats that count as fresh: a node annotated `kubeglass.dev/kubelet: "none"`
//! (kwok fakes its heartbeats), and a node declared in the scenario whose kubelet
//! is not simulated (the stand-in serves it). Nodes created later through the API
//! have nothing behind them and are monitored like any other.
//!
//! Simplified, and said so in the trace where it matters: the NoExecute tainting
//! pass (every 100ms upstream) runs right after each monitor pass and again when the
//! zone's rate limiter next has a token, so taints land at the instant of the pass
//! rather than up to 100ms later; the first pass runs when the first node is seen,
//! and passes follow every 5s from then; the health of a pod newly bound to a node
//! that is already not ready is not re-marked (upstream's pod worker); node label
//! reconciliation is not done; Events are not aggregated.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use crate::api::core::{Node, ObjectReference, Pod, Taint};
use crate::api::meta::Condition;
use crate::api::object::{LEASES, NODES, PODS};
use crate::api::time::{MicroTime, Time};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::{format_duration, Nanos, ObjRef, NANOS_PER_SEC};
use crate::store::EventType;

use super::nodeutil::{
    node_ref, record_event, swap_node_taints, taint_exists, zone_key, TAINT_DISK_PRESSURE,
    TAINT_MEMORY_PRESSURE, TAINT_NETWORK_UNAVAILABLE, TAINT_NOT_READY, TAINT_PID_PRESSURE,
    TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE,
};
use super::standin::KUBELET_ANNOTATION;

const NAME: &str = "node-lifecycle-controller";
/// The Event source upstream's recorder uses.
const EVENT_SOURCE: &str = "node-controller";

const KEY_MONITOR: u64 = 0;
const KEY_TAINT_PASS: u64 = 1;

/// `labelNodeDisruptionExclusion`.
const LABEL_EXCLUDE_DISRUPTION: &str = "node.kubernetes.io/exclude-disruption";

/// The controller's settings, upstream's flags with their defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeLifecycleConfig {
    /// `--node-monitor-period`.
    pub node_monitor_period: Nanos,
    /// `--node-monitor-grace-period`.
    pub node_monitor_grace_period: Nanos,
    /// `--node-startup-grace-period`.
    pub node_startup_grace_period: Nanos,
    /// `--node-eviction-rate`.
    pub eviction_limiter_qps: f64,
    /// `--secondary-node-eviction-rate`.
    pub secondary_eviction_limiter_qps: f64,
    /// `--large-cluster-size-threshold`.
    pub large_cluster_threshold: usize,
    /// `--unhealthy-zone-threshold`.
    pub unhealthy_zone_threshold: f64,
}

impl Default for NodeLifecycleConfig {
    fn default() -> Self {
        NodeLifecycleConfig {
            node_monitor_period: 5 * NANOS_PER_SEC,
            node_monitor_grace_period: 40 * NANOS_PER_SEC,
            node_startup_grace_period: 60 * NANOS_PER_SEC,
            eviction_limiter_qps: 0.1,
            secondary_eviction_limiter_qps: 0.01,
            large_cluster_threshold: 50,
            unhealthy_zone_threshold: 0.55,
        }
    }
}

/// flowcontrol's token bucket with burst 1 (a QPS of 0 never accepts).
#[derive(Clone, Debug)]
struct Limiter {
    qps: f64,
    tokens: f64,
    last: Nanos,
}

impl Limiter {
    fn new(qps: f64, now: Nanos) -> Limiter {
        Limiter {
            qps,
            tokens: 1.0,
            last: now,
        }
    }

    fn refill(&mut self, now: Nanos) {
        if now > self.last {
            let secs = (now - self.last) as f64 / NANOS_PER_SEC as f64;
            self.tokens = (self.tokens + secs * self.qps).min(1.0);
            self.last = now;
        }
    }

    fn try_accept(&mut self, now: Nanos) -> bool {
        if self.qps <= 0.0 {
            return false;
        }
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// When the next token is there.
    fn next_token_at(&self) -> Option<Nanos> {
        if self.qps <= 0.0 {
            return None;
        }
        let missing = (1.0 - self.tokens).max(0.0);
        let wait = (missing / self.qps * NANOS_PER_SEC as f64).ceil() as Nanos;
        Some(self.last + wait)
    }

    /// `RateLimitedTimedQueue.SwapLimiter`.
    fn swap(&mut self, qps: f64, now: Nanos) {
        if self.qps == qps {
            return;
        }
        let was_waiting = !self.try_accept(now);
        let mut new = Limiter::new(qps, now);
        if qps > 0.0 && was_waiting {
            new.try_accept(now);
        }
        *self = new;
    }
}

/// A zone's rate-limited queue of nodes waiting for a NoExecute taint.
#[derive(Clone, Debug)]
struct ZoneTainter {
    limiter: Limiter,
    queue: VecDeque<String>,
    set: BTreeSet<String>,
}

impl ZoneTainter {
    fn add(&mut self, node: &str) -> bool {
        if self.set.insert(node.to_string()) {
            self.queue.push_back(node.to_string());
            true
        } else {
            false
        }
    }
    fn remove(&mut self, node: &str) {
        if self.set.remove(node) {
            self.queue.retain(|n| n != node);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ZoneState {
    Initial,
    Normal,
    PartialDisruption,
    FullDisruption,
}

impl ZoneState {
    fn as_str(self) -> &'static str {
        match self {
            ZoneState::Initial => "Initial",
            ZoneState::Normal => "Normal",
            ZoneState::PartialDisruption => "PartialDisruption",
            ZoneState::FullDisruption => "FullDisruption",
        }
    }
}

/// What the controller last saw of a node (upstream's `nodeHealthData`).
#[derive(Clone, Debug, Default)]
struct Health {
    probe: Nanos,
    ready_transition: Nanos,
    /// The saved Ready condition (heartbeat and transition times), if it had one.
    ready: Option<(Option<Time>, Option<Time>)>,
    lease: Option<MicroTime>,
}

pub struct NodeLifecycleController {
    who: Identity,
    config: NodeLifecycleConfig,
    with_kubelet: BTreeSet<String>,
    declared: BTreeSet<String>,
    nodes: BTreeMap<String, Arc<Object>>,
    leases: BTreeMap<String, MicroTime>,
    health: BTreeMap<String, Health>,
    /// Known nodes and their uids (`knownNodeSet`).
    known: BTreeMap<String, Arc<Object>>,
    zone_states: BTreeMap<String, ZoneState>,
    tainters: BTreeMap<String, ZoneTainter>,
    /// When the next monitor pass is due, if one is scheduled.
    pass_at: Option<Nanos>,
    last_pass: Option<Nanos>,
    taint_pass_at: Option<Nanos>,
}

fn as_node(o: &Object) -> Option<&Node> {
    match o {
        Object::Node(n) => Some(n),
        _ => None,
    }
}

fn rv(o: &Object) -> u64 {
    o.meta().resource_version.parse().unwrap_or(0)
}

fn node_obj(node: &Node) -> ObjRef {
    ObjRef::new(
        "Node",
        "",
        &node.metadata.name,
        node.metadata.resource_version.parse().unwrap_or(0),
    )
}

fn no_execute(key: &str) -> Taint {
    Taint {
        key: key.into(),
        effect: "NoExecute".into(),
        ..Default::default()
    }
}

fn no_schedule(key: &str) -> Taint {
    Taint {
        key: key.into(),
        effect: "NoSchedule".into(),
        ..Default::default()
    }
}

/// `nodeConditionToTaintKeyStatusMap`.
fn condition_taint(kind: &str, status: &str) -> Option<&'static str> {
    match (kind, status) {
        ("Ready", "False") => Some(TAINT_NOT_READY),
        ("Ready", "Unknown") => Some(TAINT_UNREACHABLE),
        ("MemoryPressure", "True") => Some(TAINT_MEMORY_PRESSURE),
        ("DiskPressure", "True") => Some(TAINT_DISK_PRESSURE),
        ("NetworkUnavailable", "True") => Some(TAINT_NETWORK_UNAVAILABLE),
        ("PIDPressure", "True") => Some(TAINT_PID_PRESSURE),
        _ => None,
    }
}

/// `taintKeyToNodeConditionMap` and the unschedulable taint.
fn is_controller_no_schedule_taint(t: &Taint) -> bool {
    t.effect == "NoSchedule"
        && [
            TAINT_UNSCHEDULABLE,
            TAINT_NOT_READY,
            TAINT_UNREACHABLE,
            TAINT_NETWORK_UNAVAILABLE,
            TAINT_MEMORY_PRESSURE,
            TAINT_DISK_PRESSURE,
            TAINT_PID_PRESSURE,
        ]
        .contains(&t.key.as_str())
}

fn time_nanos(t: Option<Time>) -> Nanos {
    t.map(|t| t.virtual_seconds().max(0) as Nanos * NANOS_PER_SEC)
        .unwrap_or(0)
}

impl NodeLifecycleController {
    /// `with_kubelet`: the declared nodes whose kubelet is simulated; `declared`: every
    /// node the scenario declared (those without a simulated kubelet have their
    /// heartbeats faked).
    pub fn new(with_kubelet: BTreeSet<String>, declared: BTreeSet<String>) -> Self {
        Self::with_config(with_kubelet, declared, NodeLifecycleConfig::default())
    }

    pub fn with_config(
        with_kubelet: BTreeSet<String>,
        declared: BTreeSet<String>,
        config: NodeLifecycleConfig,
    ) -> Self {
        NodeLifecycleController {
            who: super::controller_identity(NAME, "node-controller"),
            config,
            with_kubelet,
            declared,
            nodes: BTreeMap::new(),
            leases: BTreeMap::new(),
            health: BTreeMap::new(),
            known: BTreeMap::new(),
            zone_states: BTreeMap::new(),
            tainters: BTreeMap::new(),
            pass_at: None,
            last_pass: None,
            taint_pass_at: None,
        }
    }

    pub fn config(&self) -> &NodeLifecycleConfig {
        &self.config
    }

    /// Whether the node's heartbeats are faked (kwok-style or the stand-in's).
    fn heartbeats_faked(&self, node: &Node) -> bool {
        let name = &node.metadata.name;
        node.metadata
            .annotations
            .get(KUBELET_ANNOTATION)
            .is_some_and(|v| v == "none")
            || (self.declared.contains(name) && !self.with_kubelet.contains(name))
    }

    fn remember(&mut self, node: Node) {
        let name = node.metadata.name.clone();
        let obj = Arc::new(Object::from(node));
        match self.nodes.get(&name) {
            Some(old) if rv(old) > rv(&obj) => {}
            _ => {
                self.nodes.insert(name, obj);
            }
        }
    }

    fn node(&self, name: &str) -> Option<Node> {
        self.nodes.get(name).and_then(|o| as_node(o)).cloned()
    }

    fn swap(&mut self, ctx: &mut Ctx, node: &Node, add: &[Taint], remove: &[Taint]) -> bool {
        let who = self.who.clone();
        match swap_node_taints(ctx, &who, node, add, remove) {
            Some(n) => {
                self.remember(n);
                true
            }
            None => false,
        }
    }

    fn tainter(&mut self, zone: &str, now: Nanos) -> &mut ZoneTainter {
        let qps = self.config.eviction_limiter_qps;
        self.tainters
            .entry(zone.to_string())
            .or_insert_with(|| ZoneTainter {
                limiter: Limiter::new(qps, now),
                queue: VecDeque::new(),
                set: BTreeSet::new(),
            })
    }

    /// `addPodEvictorForNewZone`.
    fn add_zone(&mut self, ctx: &mut Ctx, node: &Node) {
        let zone = zone_key(node);
        if !self.zone_states.contains_key(&zone) {
            self.zone_states.insert(zone.clone(), ZoneState::Initial);
            self.tainter(&zone, ctx.now());
        }
    }

    /// `doNoScheduleTaintingPass`: the NoSchedule taints that mirror the node's
    /// conditions and `spec.unschedulable`.
    fn no_schedule_pass(&mut self, ctx: &mut Ctx, node: &Node) {
        let mut want: Vec<Taint> = node
            .status
            .conditions
            .iter()
            .filter_map(|c| condition_taint(&c.kind, &c.status))
            .map(no_schedule)
            .collect();
        if node.spec.unschedulable {
            want.push(no_schedule(TAINT_UNSCHEDULABLE));
        }
        let have: Vec<&Taint> = node
            .spec
            .taints
            .iter()
            .filter(|t| is_controller_no_schedule_taint(t))
            .collect();
        let add: Vec<Taint> = want
            .iter()
            .filter(|w| !have.iter().any(|h| h.key == w.key && h.effect == w.effect))
            .cloned()
            .collect();
        let remove: Vec<Taint> = have
            .iter()
            .filter(|h| !want.iter().any(|w| w.key == h.key && w.effect == h.effect))
            .map(|t| (*t).clone())
            .collect();
        if add.is_empty() && remove.is_empty() {
            return;
        }
        let name = &node.metadata.name;
        let list = |ts: &[Taint]| {
            ts.iter()
                .map(|t| format!("{}:{}", t.key, t.effect))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let action = match (add.is_empty(), remove.is_empty()) {
            (false, true) => format!("taint node {name} {}", list(&add)),
            (true, false) => format!("untaint node {name} {}", list(&remove)),
            _ => format!(
                "taint node {name} {} instead of {}",
                list(&add),
                list(&remove)
            ),
        };
        ctx.note(
            NAME,
            action,
            "TaintNodesByCondition: a node's NoSchedule taints mirror its conditions (Ready False: not-ready, Unknown: unreachable; MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable True) and spec.unschedulable, so the scheduler places no new pod there",
            vec![node_obj(node)],
        );
        self.swap(ctx, node, &add, &remove);
    }

    /// `tryUpdateNodeHealth`: returns the Ready condition's status as observed
    /// ("Unknown" when never posted) and as it is now (None: still never posted),
    /// and the node as it is now. Nothing is copied unless the node is marked.
    fn try_update_node_health(
        &mut self,
        ctx: &mut Ctx,
        obj: Arc<Object>,
    ) -> (&'static str, Option<&'static str>, Arc<Object>) {
        let Some(node) = as_node(&obj) else {
            return ("Unknown", None, obj);
        };
        let now = ctx.now();
        let created = time_nanos(node.metadata.creation_timestamp);
        let current_ready = node.condition("Ready");
        let status_str = |s: &str| -> &'static str {
            match s {
                "True" => "True",
                "False" => "False",
                _ => "Unknown",
            }
        };
        let observed = current_ready.map_or("Unknown", |c| status_str(&c.status));
        let grace = if current_ready.is_some() {
            self.config.node_monitor_grace_period
        } else {
            self.config.node_startup_grace_period
        };
        let cur = current_ready.map(|c| (c.last_heartbeat_time, c.last_transition_time));
        let mut health = self.health.get(&node.metadata.name).cloned();
        if cur.is_none() {
            match &mut health {
                Some(h) => h.ready = None,
                None => {
                    health = Some(Health {
                        probe: created,
                        ready_transition: created,
                        ready: None,
                        lease: None,
                    })
                }
            }
        }
        let saved = health.as_ref().and_then(|h| h.ready);
        let saved_lease = health.as_ref().and_then(|h| h.lease);
        let fresh = |lease: Option<MicroTime>| Health {
            probe: now,
            ready_transition: now,
            ready: cur,
            lease,
        };
        let mut health = match (health, saved, cur) {
            (None, _, _) => fresh(None),
            (Some(h), None, Some(_)) | (Some(h), Some(_), None) => fresh(h.lease),
            (Some(h), Some(s), Some(c)) if s.0 != c.0 => Health {
                probe: now,
                ready_transition: if s.1 != c.1 { now } else { h.ready_transition },
                ready: cur,
                lease: h.lease,
            },
            (Some(h), _, _) => h,
        };
        let observed_lease = self.leases.get(&node.metadata.name).copied();
        if let Some(l) = observed_lease {
            if saved_lease.is_none_or(|s| s < l) {
                health.lease = Some(l);
                health.probe = now;
            }
        }
        if self.heartbeats_faked(node) {
            health.probe = now;
        }
        let current = current_ready.map(|c| status_str(&c.status));
        if now <= health.probe.saturating_add(grace) {
            self.health.insert(node.metadata.name.clone(), health);
            return (observed, current, obj);
        }
        // Past the grace period: every condition the kubelet owns becomes Unknown.
        let mut node = node.clone();
        let name = node.metadata.name.clone();
        let observed_cond = current_ready.cloned();
        let stamp = Some(Time::from_virtual_nanos(now));
        for kind in ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] {
            match node.status.conditions.iter_mut().find(|c| c.kind == kind) {
                None => node.status.conditions.push(Condition {
                    kind: kind.into(),
                    status: "Unknown".into(),
                    reason: "NodeStatusNeverUpdated".into(),
                    message: "Kubelet never posted node status.".into(),
                    last_heartbeat_time: node.metadata.creation_timestamp,
                    last_transition_time: stamp,
                    ..Default::default()
                }),
                Some(c) if c.status != "Unknown" => {
                    c.status = "Unknown".into();
                    c.reason = "NodeStatusUnknown".into();
                    c.message = "Kubelet stopped posting node status.".into();
                    c.last_transition_time = stamp;
                }
                Some(_) => {}
            }
        }
        if node.condition("Ready") == observed_cond.as_ref() {
            self.health.insert(name, health);
            return (observed, current, obj);
        }
        let silent = now - health.probe;
        ctx.note(
            NAME,
            format!("mark node {name} Ready=Unknown"),
            if observed_cond.is_none() {
                format!(
                    "the kubelet never posted the node's status and its Lease was not renewed for {} since the node was created, more than nodeStartupGracePeriod {}: Ready, MemoryPressure, DiskPressure and PIDPressure become Unknown",
                    format_duration(silent),
                    format_duration(grace)
                )
            } else {
                format!(
                    "no heartbeat (Lease renewal or Ready lastHeartbeatTime) seen for {}, more than nodeMonitorGracePeriod {}: Ready, MemoryPressure, DiskPressure and PIDPressure become Unknown",
                    format_duration(silent),
                    format_duration(grace)
                )
            },
            vec![node_obj(&node)],
        );
        let who = self.who.clone();
        match ctx.client(&who).update_status(Object::from(node)) {
            Ok(written) => {
                if let Some(n) = as_node(&written) {
                    self.remember(n.clone());
                    health = Health {
                        probe: health.probe,
                        ready_transition: now,
                        ready: n
                            .condition("Ready")
                            .map(|c| (c.last_heartbeat_time, c.last_transition_time)),
                        lease: observed_lease,
                    };
                }
                self.health.insert(name, health);
                (observed, Some("Unknown"), written)
            }
            Err(_) => {
                // Retried on the next pass, as upstream skips the node.
                self.health.insert(name, health);
                (observed, None, obj)
            }
        }
    }

    /// `processTaintBaseEviction`.
    fn process_taint_based_eviction(&mut self, ctx: &mut Ctx, node: &Node, observed: &str) {
        let now = ctx.now();
        let name = node.metadata.name.clone();
        let zone = zone_key(node);
        let (add, opposite, why) = match observed {
            "False" => (
                TAINT_NOT_READY,
                TAINT_UNREACHABLE,
                "the node's Ready condition is now False",
            ),
            "Unknown" => (
                TAINT_UNREACHABLE,
                TAINT_NOT_READY,
                "the node's Ready condition is now Unknown",
            ),
            "True" => {
                self.mark_node_as_reachable(ctx, node);
                return;
            }
            _ => return,
        };
        if taint_exists(&node.spec.taints, opposite, "NoExecute") {
            ctx.note(
                NAME,
                format!("taint node {name} {add}:NoExecute instead of {opposite}:NoExecute"),
                format!("{why}; the unreachable and not-ready taints mirror it and are swapped at once, without waiting for the rate limiter"),
                vec![node_obj(node)],
            );
            self.swap(ctx, node, &[no_execute(add)], &[no_execute(opposite)]);
            return;
        }
        let tainted = taint_exists(&node.spec.taints, add, "NoExecute");
        let t = self.tainter(&zone, now);
        if !tainted {
            t.remove(&name);
        }
        t.add(&name);
    }

    /// `markNodeAsReachable`: lifts both NoExecute taints and leaves the queue.
    fn mark_node_as_reachable(&mut self, ctx: &mut Ctx, node: &Node) {
        let remove: Vec<Taint> = [TAINT_UNREACHABLE, TAINT_NOT_READY]
            .into_iter()
            .filter(|k| taint_exists(&node.spec.taints, k, "NoExecute"))
            .map(no_execute)
            .collect();
        if !self.tainters.is_empty() {
            if let Some(t) = self.tainters.get_mut(&zone_key(node)) {
                t.remove(&node.metadata.name);
            }
        }
        if remove.is_empty() {
            return;
        }
        ctx.note(
            NAME,
            format!(
                "untaint node {} {}",
                node.metadata.name,
                remove
                    .iter()
                    .map(|t| format!("{}:NoExecute", t.key))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "the node's Ready condition is True (or every zone is fully disrupted), so the NoExecute taints that evict its pods are lifted",
            vec![node_obj(node)],
        );
        self.swap(ctx, node, &[], &remove);
    }

    /// `doNoExecuteTaintingPass`: taints queued nodes while their zone's limiter
    /// has tokens.
    fn no_execute_tainting_pass(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        let zones: Vec<String> = self.tainters.keys().cloned().collect();
        for zone in zones {
            while let Some(t) = self.tainters.get_mut(&zone) {
                if t.queue.is_empty() || !t.limiter.try_accept(now) {
                    break;
                }
                let Some(name) = t.queue.pop_front() else {
                    break;
                };
                let qps = t.limiter.qps;
                let Some(node) = self.node(&name) else {
                    continue;
                };
                let Some(ready) = node.condition("Ready") else {
                    continue;
                };
                let (add, opposite) = match ready.status.as_str() {
                    "False" => (TAINT_NOT_READY, TAINT_UNREACHABLE),
                    "Unknown" => (TAINT_UNREACHABLE, TAINT_NOT_READY),
                    _ => continue,
                };
                ctx.note(
                    NAME,
                    format!("taint node {name} {add}:NoExecute"),
                    format!(
                        "the node's Ready condition is {}: the NoExecute taint lets the taint-eviction-controller evict the pods that do not tolerate it (taints are rate-limited per zone, {qps} nodes per second; upstream's tainting pass runs every 100ms, here right after the monitor pass)",
                        ready.status
                    ),
                    vec![node_obj(&node)],
                );
                if !self.swap(ctx, &node, &[no_execute(add)], &[no_execute(opposite)]) {
                    if let Some(t) = self.tainters.get_mut(&zone) {
                        t.queue.push_back(name);
                    }
                    break;
                }
            }
        }
        // Come back when a zone with waiting nodes has its next token.
        let next = self
            .tainters
            .values()
            .filter(|t| !t.queue.is_empty())
            .filter_map(|t| t.limiter.next_token_at())
            .min();
        if let Some(at) = next {
            let at = at.max(now + 1);
            if self.taint_pass_at.is_none_or(|p| p <= now || p > at) {
                self.taint_pass_at = Some(at);
                ctx.after(at - now, KEY_TAINT_PASS);
            }
        }
    }

    /// `handleDisruption`: zone states and their rate limits.
    fn handle_disruption(&mut self, ctx: &mut Ctx, zone_conditions: &BTreeMap<String, Vec<bool>>) {
        let now = ctx.now();
        let mut new_states: BTreeMap<String, ZoneState> = BTreeMap::new();
        let mut all_are_fully_disrupted = true;
        for (zone, conds) in zone_conditions {
            let ready = conds.iter().filter(|c| **c).count();
            let not_ready = conds.len() - ready;
            let state = if ready == 0 && not_ready > 0 {
                ZoneState::FullDisruption
            } else if not_ready > 2
                && not_ready as f64 / (not_ready + ready) as f64
                    >= self.config.unhealthy_zone_threshold
            {
                ZoneState::PartialDisruption
            } else {
                ZoneState::Normal
            };
            if state != ZoneState::FullDisruption {
                all_are_fully_disrupted = false;
            }
            new_states.insert(zone.clone(), state);
            self.zone_states
                .entry(zone.clone())
                .or_insert(ZoneState::Initial);
        }
        let mut all_were_fully_disrupted = true;
        let zones: Vec<String> = self.zone_states.keys().cloned().collect();
        for z in &zones {
            if !zone_conditions.contains_key(z) {
                self.zone_states.remove(z);
                continue;
            }
            if self.zone_states.get(z) != Some(&ZoneState::FullDisruption) {
                all_were_fully_disrupted = false;
                break;
            }
        }
        if all_are_fully_disrupted && all_were_fully_disrupted {
            return;
        }
        let zone_label = |z: &str| {
            if z.is_empty() {
                "the cluster's only zone (nodes without zone labels)".to_string()
            } else {
                format!("zone {}", z.replace('\x00', ""))
            }
        };
        if all_are_fully_disrupted {
            ctx.note(
                NAME,
                "enter master disruption mode",
                "every node in every zone is not Ready: the trouble is more likely on the control plane's side than on the nodes', so NoExecute taints are lifted and no node is tainted until some node is Ready again",
                vec![],
            );
            let nodes: Vec<Node> = self
                .nodes
                .values()
                .filter_map(|o| as_node(o))
                .cloned()
                .collect();
            for n in &nodes {
                self.mark_node_as_reachable(ctx, n);
            }
            let zones: Vec<String> = self.zone_states.keys().cloned().collect();
            for z in zones {
                self.tainter(&z, now).limiter.swap(0.0, now);
                self.zone_states.insert(z, ZoneState::FullDisruption);
            }
            return;
        }
        if all_were_fully_disrupted {
            ctx.note(
                NAME,
                "exit master disruption mode",
                "some node is Ready again: every node's health is taken as just seen, and the zones' rate limits are restored",
                vec![],
            );
            for h in self.health.values_mut() {
                h.probe = now;
                h.ready_transition = now;
            }
            let zones: Vec<String> = self.zone_states.keys().cloned().collect();
            for z in zones {
                let state = new_states.get(&z).copied().unwrap_or(ZoneState::Normal);
                let size = zone_conditions.get(&z).map_or(0, Vec::len);
                self.set_limiter(ctx, &z, size, state);
                self.zone_states.insert(z, state);
            }
            return;
        }
        let zones: Vec<String> = self.zone_states.keys().cloned().collect();
        for z in zones {
            let old = self.zone_states.get(&z).copied();
            let Some(state) = new_states.get(&z).copied() else {
                continue;
            };
            if old == Some(state) {
                continue;
            }
            if old != Some(ZoneState::Initial) || state != ZoneState::Normal {
                ctx.note(
                    NAME,
                    format!("{} is now {}", zone_label(&z), state.as_str()),
                    match state {
                        ZoneState::FullDisruption => "no node of the zone is Ready: taints go at the normal rate (nodeEvictionRate 0.1 per second)".to_string(),
                        ZoneState::PartialDisruption => format!("at least {} of the zone's nodes and more than 2 are not Ready: tainting slows to secondaryNodeEvictionRate {} per second in a zone of more than {} nodes, and stops in a smaller one", self.config.unhealthy_zone_threshold, self.config.secondary_eviction_limiter_qps, self.config.large_cluster_threshold),
                        _ => "the zone is healthy: taints go at nodeEvictionRate 0.1 per second".to_string(),
                    },
                    vec![],
                );
            }
            let size = zone_conditions.get(&z).map_or(0, Vec::len);
            self.set_limiter(ctx, &z, size, state);
            self.zone_states.insert(z, state);
        }
    }

    fn set_limiter(&mut self, ctx: &mut Ctx, zone: &str, size: usize, state: ZoneState) {
        let now = ctx.now();
        let qps = match state {
            ZoneState::Normal | ZoneState::FullDisruption => self.config.eviction_limiter_qps,
            ZoneState::PartialDisruption => {
                if size > self.config.large_cluster_threshold {
                    self.config.secondary_eviction_limiter_qps
                } else {
                    0.0
                }
            }
            ZoneState::Initial => return,
        };
        self.tainter(zone, now).limiter.swap(qps, now);
    }

    /// `MarkPodsNotReady`: the Ready condition of each pod on the node becomes
    /// False, with a `NodeNotReady` Event on the pod.
    fn mark_pods_not_ready(&mut self, ctx: &mut Ctx, node: &str) {
        let who = self.who.clone();
        let selector = format!("spec.nodeName={node}");
        let Ok(pods) = ctx.client(&who).list(&PODS, "", "", &selector) else {
            return;
        };
        let stamp = Some(Time::from_virtual_nanos(ctx.now()));
        for obj in pods {
            let Object::Pod(pod) = obj.as_ref() else {
                continue;
            };
            if pod.spec.node_name != node {
                continue;
            }
            let mut pod: Pod = (**pod).clone();
            let Some(cond) = pod.status.conditions.iter_mut().find(|c| c.kind == "Ready") else {
                continue;
            };
            if cond.status == "False" {
                continue;
            }
            cond.status = "False".into();
            cond.last_transition_time = stamp;
            let (ns, name) = (pod.metadata.namespace.clone(), pod.metadata.name.clone());
            ctx.note(
                NAME,
                format!("mark pod {ns}/{name} not ready"),
                format!("its node {node} is not Ready, so the pod's Ready condition becomes False (endpoints stop sending it traffic)"),
                vec![ObjRef::new("Pod", &ns, &name, rv(&obj))],
            );
            match ctx.client(&who).update_status(Object::from(pod.clone())) {
                Ok(_) => {
                    let r = ObjectReference {
                        kind: "Pod".into(),
                        api_version: "v1".into(),
                        namespace: ns,
                        name,
                        uid: pod.metadata.uid.clone(),
                        resource_version: pod.metadata.resource_version.clone(),
                        field_path: String::new(),
                    };
                    record_event(
                        ctx,
                        &who,
                        EVENT_SOURCE,
                        r,
                        "Warning",
                        "NodeNotReady",
                        "Node is not ready".into(),
                    );
                }
                Err(_) => continue,
            }
        }
    }

    /// Schedules the next monitor pass on the `nodeMonitorPeriod` grid (5s, 10s,
    /// ...), unless one is scheduled. Passes run while some node's heartbeats are
    /// real (not faked) and after any node event; a pass over nodes whose
    /// heartbeats are all faked and unchanged would change nothing, so the loop
    /// rests then (and work that never ends does not keep the host busy).
    fn ensure_pass(&mut self, ctx: &mut Ctx) {
        if self.pass_at.is_some() {
            return;
        }
        let now = ctx.now();
        let period = self.config.node_monitor_period.max(1);
        let mut at = now.div_ceil(period) * period;
        if self.last_pass == Some(at) {
            at += period;
        }
        self.pass_at = Some(at);
        ctx.every(at - now, KEY_MONITOR);
    }

    /// `monitorNodeHealth`.
    fn monitor_node_health(&mut self, ctx: &mut Ctx) {
        let who = self.who.clone();
        let names: Vec<String> = self.nodes.keys().cloned().collect();
        // Newly seen and vanished nodes.
        let added: Vec<String> = names
            .iter()
            .filter(|n| !self.known.contains_key(*n))
            .cloned()
            .collect();
        let deleted: Vec<String> = self
            .known
            .keys()
            .filter(|n| !self.nodes.contains_key(*n))
            .cloned()
            .collect();
        for name in &names {
            if self.known.contains_key(name) {
                if let Some(o) = self.nodes.get(name).cloned() {
                    if let Some(n) = as_node(&o) {
                        self.add_zone(ctx, n);
                    }
                }
            }
        }
        for name in added {
            let Some(node) = self.node(&name) else {
                continue;
            };
            record_event(
                ctx,
                &who,
                EVENT_SOURCE,
                node_ref(&node),
                "Normal",
                "RegisteredNode",
                format!("Node {name} event: Registered Node {name} in Controller"),
            );
            if let Some(o) = self.nodes.get(&name).cloned() {
                self.known.insert(name.clone(), o);
            }
            self.add_zone(ctx, &node);
            self.mark_node_as_reachable(ctx, &node);
        }
        for name in deleted {
            if let Some(o) = self.known.remove(&name) {
                if let Some(node) = as_node(&o) {
                    record_event(
                        ctx,
                        &who,
                        EVENT_SOURCE,
                        node_ref(node),
                        "Normal",
                        "RemovingNode",
                        format!("Node {name} event: Removing Node {name} from Controller"),
                    );
                }
            }
            self.health.remove(&name);
            let zones: Vec<String> = self.tainters.keys().cloned().collect();
            for z in zones {
                if let Some(t) = self.tainters.get_mut(&z) {
                    t.remove(&name);
                }
            }
        }
        let mut zone_conditions: BTreeMap<String, Vec<bool>> = BTreeMap::new();
        for name in names {
            let Some(obj) = self.nodes.get(&name).cloned() else {
                continue;
            };
            let (observed, current, obj) = self.try_update_node_health(ctx, obj);
            let Some(node) = as_node(&obj) else { continue };
            if !node.metadata.labels.contains_key(LABEL_EXCLUDE_DISRUPTION) {
                zone_conditions
                    .entry(zone_key(node))
                    .or_default()
                    .push(current == Some("True"));
            }
            let Some(current) = current else { continue };
            self.process_taint_based_eviction(ctx, node, observed);
            if current != "True" && observed == "True" {
                record_event(
                    ctx,
                    &who,
                    EVENT_SOURCE,
                    node_ref(node),
                    "Normal",
                    "NodeNotReady",
                    format!("Node {name} status is now: NodeNotReady"),
                );
                self.mark_pods_not_ready(ctx, &name);
            }
        }
        self.handle_disruption(ctx, &zone_conditions);
        self.no_execute_tainting_pass(ctx);
    }
}

impl Component for NodeLifecycleController {
    fn name(&self) -> String {
        NAME.into()
    }

    /// Nodes, and the node Leases in `kube-node-lease`.
    fn watches(&self) -> Vec<WatchSpec> {
        let mut leases = WatchSpec::new(&LEASES, NAME);
        leases.namespace = "kube-node-lease".into();
        vec![WatchSpec::new(&NODES, NAME), leases]
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>) {
        match (watch, obj.as_ref()) {
            (0, Object::Node(n)) => {
                let name = n.metadata.name.clone();
                if kind == EventType::Deleted {
                    self.nodes.remove(&name);
                    self.ensure_pass(ctx);
                    return;
                }
                match self.nodes.get(&name) {
                    Some(old) if rv(old) > rv(obj) => {}
                    _ => {
                        self.nodes.insert(name.clone(), obj.clone());
                    }
                }
                self.ensure_pass(ctx);
                if let Some(current) = self.nodes.get(&name).cloned() {
                    if let Some(node) = as_node(&current) {
                        self.no_schedule_pass(ctx, node);
                    }
                }
            }
            (1, Object::Lease(l)) => {
                let name = l.metadata.name.clone();
                match (kind, l.spec.renew_time) {
                    (EventType::Deleted, _) | (_, None) => {
                        self.leases.remove(&name);
                    }
                    (_, Some(t)) => {
                        self.leases.insert(name, t);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, key: u64) {
        match key {
            KEY_MONITOR => {
                self.pass_at = None;
                self.last_pass = Some(ctx.now());
                self.monitor_node_health(ctx);
                let watching = self
                    .nodes
                    .values()
                    .filter_map(|o| as_node(o))
                    .any(|n| !self.heartbeats_faked(n));
                if watching {
                    self.ensure_pass(ctx);
                }
            }
            KEY_TAINT_PASS => {
                if self.taint_pass_at == Some(ctx.now()) {
                    self.taint_pass_at = None;
                }
                self.no_execute_tainting_pass(ctx);
            }
            _ => {}
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn token_bucket_with_burst_one() {
        let mut l = Limiter::new(0.1, 0);
        assert!(l.try_accept(0));
        assert!(!l.try_accept(5 * NANOS_PER_SEC));
        assert_eq!(l.next_token_at(), Some(10 * NANOS_PER_SEC));
        assert!(l.try_accept(10 * NANOS_PER_SEC));
        let mut never = Limiter::new(0.0, 0);
        assert!(!never.try_accept(0));
        assert_eq!(never.next_token_at(), None);
    }

    #[test]
    fn condition_taints_as_upstream() {
        assert_eq!(condition_taint("Ready", "False"), Some(TAINT_NOT_READY));
        assert_eq!(condition_taint("Ready", "Unknown"), Some(TAINT_UNREACHABLE));
        assert_eq!(condition_taint("Ready", "True"), None);
        assert_eq!(
            condition_taint("MemoryPressure", "True"),
            Some(TAINT_MEMORY_PRESSURE)
        );
        assert_eq!(condition_taint("DiskPressure", "False"), None);
    }
}
