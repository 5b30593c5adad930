//! Layer 5, the scheduler: kube-scheduler v1.31 (or, with a legacy Policy, the seed's
//! scheduler) as a component that watches pods, nodes and the objects its plugins
//! read, and binds pods through the API server.
//!
//! # Design
//!
//! - [`framework`]: one trait per extension point (PreEnqueue, PreFilter, Filter,
//!   PostFilter, PreScore, Score with NormalizeScore, Reserve, Permit, Bind), the
//!   per-cycle [`framework::CycleState`], and the runtime that builds a profile's
//!   plugin lists from the configuration exactly as v1.31 merges and expands them.
//! - [`plugins`]: one module per in-tree plugin, named as upstream; the legacy
//!   Policy's predicates and priorities (0–10 scale) are plugins too, so one cycle
//!   and one decision record serve both modes.
//! - [`cache`]: NodeInfos updated incrementally from watch events, with every pod's
//!   requests summed once ([`framework::PodInfo`]); assumed pods count at once. A
//!   cycle reads the cache through a [`cache::Snapshot`] without copying it (no
//!   watch event can arrive during a cycle in the simulation).
//! - [`queue`]: activeQ, backoffQ (1s doubling to 10s) and the unschedulable pool
//!   (moved back on cluster events its rejecting plugins registered for, or after 5
//!   minutes), with flush timers aligned to upstream's 1s and 30s ticks.
//! - [`schedule_one`]: the cycle; one cycle per timer event, so the trace shows
//!   queue moves, cycles and bindings in the order they happened.
//! - [`record`]: the decision record of every attempt (the `explain` step and the
//!   page's scheduling view), bounded to a window of attempts and, at scale, to a
//!   number of nodes per attempt.
//!
//! Deviations from upstream are noted where they are made: no parallelism (filters run
//! in node order, so "the first N feasible nodes" is exact), no extenders, no
//! PersistentVolumeClaims (volume plugins skip or wait), no PodDisruptionBudgets
//! (preemption never counts violations), events are core/v1 Events aggregated per
//! pod by reason and message.

pub mod cache;
pub mod config;
pub mod fit_error;
pub mod framework;
pub mod plugins;
pub mod queue;
pub mod record;
pub mod schedule_one;
pub mod util;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use serde_json::Value;

use crate::api::meta::Condition;
use crate::api::object::{NAMESPACES, NODES, PODS, REPLICASETS, REPLICATIONCONTROLLERS, SERVICES};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::{Nanos, ObjRef};
use crate::store::EventType;

use cache::Cache;
use config::Config;
use framework::runtime::{build_all, BindHandle, Framework, Point};
use framework::types::{PodInfo, ResourceModel};
use framework::{ClusterEvent, Code, Status};
use queue::{Place, SchedulingQueue, BACKOFF_FLUSH_PERIOD, UNSCHEDULABLE_FLUSH_PERIOD};
use record::{Missing, Records};
use schedule_one::{schedule_pod, CycleInput, Scratch};

/// The scheduler's name in the trace.
pub const NAME: &str = "scheduler";

const KEY_PUMP: u64 = 0;
const KEY_BACKOFF: u64 = 1;
const KEY_FLUSH: u64 = 2;

/// Validates `spec.cluster.scheduler` as kube-scheduler would at start-up.
pub fn validate(v: Option<&Value>) -> Result<Config, String> {
    let config = config::parse(v)?;
    build_all(&config)?;
    Ok(config)
}

/// Limits of the decision records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordLimits {
    /// Attempts kept in full.
    pub window: usize,
    /// Nodes kept in full per attempt.
    pub nodes: usize,
}

impl Default for RecordLimits {
    fn default() -> Self {
        RecordLimits {
            window: record::DEFAULT_WINDOW,
            nodes: record::DEFAULT_NODE_LIMIT,
        }
    }
}

/// The last event recorded per pod, for aggregating repeats.
struct LastEvent {
    reason: String,
    message: String,
    name: String,
    count: i32,
}

/// The scheduler component.
pub struct Scheduler {
    who: Identity,
    config: Config,
    frameworks: Rc<Vec<Framework>>,
    /// Plugin names per framework, shared by every record.
    names: Rc<Vec<Vec<Arc<str>>>>,
    profile_by_name: BTreeMap<String, usize>,
    cache: Cache,
    queue: SchedulingQueue,
    records: Records,
    /// Pods nominated to each node (by earlier preemptions), and the reverse.
    nominated: BTreeMap<String, Vec<Arc<PodInfo>>>,
    nominated_by_pod: HashMap<Arc<str>, String>,
    next_start_node_index: usize,
    cycle: u64,
    pump_armed: bool,
    backoff_timers: BTreeSet<Nanos>,
    flush_armed: bool,
    scratch: Scratch,
    last_events: HashMap<Arc<str>, LastEvent>,
}

impl Scheduler {
    pub fn new(config: Config, limits: RecordLimits) -> Result<Scheduler, String> {
        let frameworks = build_all(&config)?;
        let names = frameworks
            .iter()
            .map(|f| f.plugins.iter().map(|p| Arc::from(p.name())).collect())
            .collect();
        let profile_by_name = frameworks
            .iter()
            .enumerate()
            .map(|(i, f)| (f.scheduler_name.clone(), i))
            .collect();
        let model = if config.is_legacy() {
            ResourceModel::Legacy
        } else {
            ResourceModel::Current
        };
        let secs = |s: i64| (s.max(0) as u64).saturating_mul(crate::kernel::NANOS_PER_SEC);
        Ok(Scheduler {
            who: Identity::new(NAME, "system:kube-scheduler", &["system:authenticated"]),
            queue: SchedulingQueue::new(
                secs(config.pod_initial_backoff_seconds),
                secs(config.pod_max_backoff_seconds),
            ),
            config,
            frameworks: Rc::new(frameworks),
            names: Rc::new(names),
            profile_by_name,
            cache: Cache::new(model),
            records: Records::new(limits.window, limits.nodes),
            nominated: BTreeMap::new(),
            nominated_by_pod: HashMap::new(),
            next_start_node_index: 0,
            cycle: 0,
            pump_armed: false,
            backoff_timers: BTreeSet::new(),
            flush_armed: false,
            scratch: Scratch::default(),
            last_events: HashMap::new(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn records(&self) -> &Records {
        &self.records
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    pub fn queue(&self) -> &SchedulingQueue {
        &self.queue
    }

    /// The latest decision record of `namespace/name`, as `explain` prints it.
    pub fn explain(&self, pod: &str) -> Result<Value, String> {
        match self.records.latest(pod) {
            Ok(a) => Ok(self.attempt_json(a)),
            Err(Missing::Never) => Err(format!("pod {pod} was never attempted by the scheduler")),
            Err(Missing::Evicted { seq, window }) => Err(format!(
                "the latest scheduling record of pod {pod} (attempt record #{seq}) has left the record window: only the last {window} attempts are kept (replay rebuilds older ones)"
            )),
        }
    }

    /// A decision record as JSON, its arithmetic written by the plugins that scored.
    pub fn attempt_json(&self, a: &record::Attempt) -> Value {
        let render = |col: &record::ScoreColumn,
                      e: &framework::Explanation,
                      raw: i64,
                      score: i64| { self.arithmetic(a, col, e, raw, score) };
        a.to_json(&render)
    }

    /// One score cell's arithmetic, as the plugin that scored writes it (with its
    /// normalization, when the plugin normalizes).
    pub fn arithmetic(
        &self,
        a: &record::Attempt,
        col: &record::ScoreColumn,
        e: &framework::Explanation,
        raw: i64,
        score: i64,
    ) -> String {
        let fw = self.frameworks.get(a.profile_index);
        let Some(sp) = fw
            .and_then(|f| f.plugins.get(col.index))
            .and_then(|p| p.as_score())
        else {
            return format!("{raw}");
        };
        let mut text = sp.render(e, raw);
        if let (Some(norm), Some((min, max)), Some(f)) = (sp.normalize(), col.range, fw) {
            text.push_str("; ");
            text.push_str(&norm.explain_normalize(f.pc(col.index), raw, score, min, max));
        }
        text
    }

    fn pod_ref(obj: &Object) -> ObjRef {
        let m = obj.meta();
        ObjRef::new(
            "Pod",
            &m.namespace,
            &m.name,
            m.resource_version.parse().unwrap_or(0),
        )
    }

    fn arm_pump(&mut self, ctx: &mut Ctx) {
        if !self.pump_armed {
            self.pump_armed = true;
            ctx.after(0, KEY_PUMP);
        }
    }

    /// Arms the backoff flush at the first 1s tick at or after the earliest expiry.
    fn arm_backoff(&mut self, ctx: &mut Ctx) {
        let Some(expiry) = self.queue.next_backoff_expiry() else {
            return;
        };
        let tick = expiry.div_ceil(BACKOFF_FLUSH_PERIOD) * BACKOFF_FLUSH_PERIOD;
        let now = ctx.now();
        let at = tick.max(now);
        if self.backoff_timers.iter().any(|&t| t <= at && t >= now) {
            return;
        }
        self.backoff_timers.insert(at);
        ctx.after(at - now, KEY_BACKOFF);
    }

    /// Arms the periodic unschedulable flush while the pool holds pods.
    fn arm_flush(&mut self, ctx: &mut Ctx) {
        if self.flush_armed || !self.queue.has_unschedulable() {
            return;
        }
        self.flush_armed = true;
        let now = ctx.now();
        let next = (now / UNSCHEDULABLE_FLUSH_PERIOD + 1) * UNSCHEDULABLE_FLUSH_PERIOD;
        ctx.every(next - now, KEY_FLUSH);
    }

    fn note_moves(&mut self, ctx: &mut Ctx, moves: Vec<queue::Move>, why: &str) {
        if moves.is_empty() {
            return;
        }
        let to_active = moves.iter().filter(|m| m.to == Place::Active).count();
        let names: Vec<&str> = moves.iter().take(5).map(|m| &*m.key).collect();
        let more = if moves.len() > 5 {
            format!(" and {} more", moves.len() - 5)
        } else {
            String::new()
        };
        ctx.note(
            NAME,
            format!(
                "queue: {} pod(s) back to activeQ, {} to backoffQ",
                to_active,
                moves.len() - to_active
            ),
            format!("{why}: {}{more}", names.join(", ")),
            vec![],
        );
        if to_active > 0 {
            self.arm_pump(ctx);
        }
        self.arm_backoff(ctx);
    }

    /// `MoveAllToActiveOrBackoffQueue` for a cluster event.
    fn on_cluster_event(
        &mut self,
        ctx: &mut Ctx,
        event: ClusterEvent,
        why: &str,
        only: Option<&dyn Fn(&PodInfo) -> bool>,
    ) {
        if !self.queue.has_unschedulable() {
            return;
        }
        let fws = self.frameworks.clone();
        let moves = self.queue.move_matching(self.cycle as i64, ctx.now(), |p| {
            fws.get(p.profile)
                .is_some_and(|f| f.interested(&p.unschedulable_plugins, event))
                && only.is_none_or(|f| f(&p.info))
        });
        self.note_moves(ctx, moves, &format!("{} ({why})", event.as_str()));
    }

    fn pre_enqueue_ok(&self, profile: usize, info: &PodInfo) -> bool {
        let fw = &self.frameworks[profile];
        fw.at(Point::PreEnqueue).iter().all(|&i| {
            fw.plugins[i]
                .as_pre_enqueue()
                .is_none_or(|p| p.pre_enqueue(info).is_success())
        })
    }

    fn set_nominated(&mut self, info: &Arc<PodInfo>, node: &str) {
        self.clear_nominated(&info.key);
        if node.is_empty() {
            return;
        }
        self.nominated
            .entry(node.to_string())
            .or_default()
            .push(info.clone());
        self.nominated_by_pod
            .insert(info.key.clone(), node.to_string());
    }

    fn clear_nominated(&mut self, key: &str) {
        if let Some(node) = self.nominated_by_pod.remove(key) {
            if let Some(list) = self.nominated.get_mut(&node) {
                list.retain(|p| &*p.key != key);
                if list.is_empty() {
                    self.nominated.remove(&node);
                }
            }
        }
    }

    fn on_pod(&mut self, ctx: &mut Ctx, kind: EventType, obj: &Arc<Object>) {
        let Some(pod) = obj.as_pod() else { return };
        if pod.node_name().is_none()
            && !self.profile_by_name.contains_key(
                pod.spec
                    .scheduler_name
                    .as_deref()
                    .unwrap_or(config::DEFAULT_SCHEDULER_NAME),
            )
        {
            // An unassigned pod for another scheduler (schedulerName is immutable): it
            // is never queued here, so its events cost nothing.
            return;
        }
        let key: Arc<str> = Arc::from(format!("{}/{}", pod.metadata.namespace, pod.metadata.name));
        let terminal = pod.status.phase == "Succeeded" || pod.status.phase == "Failed";
        if pod.node_name().is_some() {
            // An assigned pod: the cache.
            if self.queue.get(&key).is_some() {
                self.queue.delete(&key);
            }
            self.clear_nominated(&key);
            if kind == EventType::Deleted || terminal {
                if self.cache.remove_pod(&key).is_some() {
                    self.last_events.remove(&key);
                    self.on_cluster_event(
                        ctx,
                        ClusterEvent::AssignedPodDelete,
                        &format!("pod {key} left its node"),
                        None,
                    );
                }
                return;
            }
            let new = self.cache.upsert_pod(obj);
            let event = if new {
                ClusterEvent::AssignedPodAdd
            } else {
                ClusterEvent::AssignedPodUpdate
            };
            if self.queue.has_unschedulable() {
                // Only pods whose required affinity terms select this pod can be helped.
                let labels = pod.metadata.labels.clone();
                let ns = pod.metadata.namespace.clone();
                let nsl = self.cache.listers.namespaces.get(&ns).cloned();
                let probe = pod.clone();
                let only = move |p: &PodInfo| {
                    let _ = &labels;
                    p.required_affinity
                        .iter()
                        .any(|t| t.matches(&probe, nsl.as_ref()))
                };
                self.on_cluster_event(
                    ctx,
                    event,
                    &format!("pod {key} is on {}", pod.spec.node_name),
                    Some(&only),
                );
            }
            return;
        }
        // An unassigned pod: the queue.
        if kind == EventType::Deleted || terminal || pod.metadata.deletion_timestamp.is_some() {
            if self.queue.delete(&key) {
                ctx.note(
                    NAME,
                    format!("queue: drop {key}"),
                    "the pod was deleted before it was scheduled",
                    vec![Self::pod_ref(obj)],
                );
            }
            self.clear_nominated(&key);
            self.last_events.remove(&key);
            return;
        }
        let sched_name = pod
            .spec
            .scheduler_name
            .as_deref()
            .unwrap_or(config::DEFAULT_SCHEDULER_NAME);
        let Some(&profile) = self.profile_by_name.get(sched_name) else {
            return;
        };
        let Some(info) = PodInfo::new(obj.clone(), self.cache.model()) else {
            return;
        };
        let info = Arc::new(info);
        let gated = !self.pre_enqueue_ok(profile, &info);
        let nom = pod.status.nominated_node_name.clone();
        if !nom.is_empty() || self.nominated_by_pod.contains_key(&key) {
            self.set_nominated(&info, &nom);
        }
        let known = self.queue.get(&key).is_some();
        let now = ctx.now();
        if known {
            if let Some(to) = self.queue.update(info, gated, now) {
                ctx.note(
                    NAME,
                    format!("queue: {key} → {}", to.as_str()),
                    "the pod changed while unschedulable; the change may let it fit",
                    vec![Self::pod_ref(obj)],
                );
                if to == Place::Active {
                    self.arm_pump(ctx);
                } else {
                    self.arm_backoff(ctx);
                }
            }
            return;
        }
        let place = self.queue.add(info, profile, gated, now);
        if place == Place::Active {
            self.arm_pump(ctx);
        } else {
            ctx.note(
                NAME,
                format!("queue: {key} → unschedulablePods"),
                "PreEnqueue (SchedulingGates): the pod has scheduling gates",
                vec![Self::pod_ref(obj)],
            );
            self.arm_flush(ctx);
        }
    }

    fn on_node(&mut self, ctx: &mut Ctx, kind: EventType, obj: &Arc<Object>) {
        let name = obj.meta().name.clone();
        if kind == EventType::Deleted {
            self.cache.remove_node(&name);
            self.on_cluster_event(
                ctx,
                ClusterEvent::NodeDelete,
                &format!("node {name} was deleted"),
                None,
            );
            return;
        }
        match self.cache.upsert_node(obj) {
            None => self.on_cluster_event(
                ctx,
                ClusterEvent::NodeAdd,
                &format!("node {name} was added"),
                None,
            ),
            Some(ch) => {
                let why = format!("node {name} changed");
                if ch.allocatable {
                    self.on_cluster_event(ctx, ClusterEvent::NodeAllocatableChange, &why, None);
                }
                if ch.labels {
                    self.on_cluster_event(ctx, ClusterEvent::NodeLabelChange, &why, None);
                }
                if ch.taints {
                    self.on_cluster_event(ctx, ClusterEvent::NodeTaintChange, &why, None);
                }
                if ch.other {
                    self.on_cluster_event(ctx, ClusterEvent::NodeOtherChange, &why, None);
                }
            }
        }
    }

    /// One scheduling cycle for the next pod in activeQ.
    fn schedule_one(&mut self, ctx: &mut Ctx) {
        let Some(qp) = self.queue.pop() else { return };
        let info = qp.info.clone();
        let key = info.key.clone();
        if self.cache.is_assumed(&key) {
            self.queue.done(&key);
            return;
        }
        self.cycle += 1;
        let fws = self.frameworks.clone();
        let all_names = self.names.clone();
        let fw = &fws[qp.profile];
        let names = &all_names[qp.profile];
        let objects = vec![Self::pod_ref(&info.object)];
        ctx.note(
            NAME,
            format!("schedule pod {key} (attempt {})", qp.attempts),
            format!(
                "popped from activeQ (priority {}); profile {}; {} node(s) in the cluster",
                info.priority,
                fw.scheduler_name,
                self.cache.num_nodes()
            ),
            objects.clone(),
        );
        let input = CycleInput {
            fw,
            profile_index: qp.profile,
            names,
            cache: &self.cache,
            pod: &info,
            attempt: qp.attempts,
            cycle: self.cycle,
            start_index: self.next_start_node_index,
            percentage: self.config.percentage_of_nodes_to_score,
            node_limit: self.records.node_limit,
            nominated: &self.nominated,
            who: &self.who,
            objects: &objects,
        };
        let out = schedule_pod(&input, &mut self.scratch, ctx);
        self.next_start_node_index = out.next_start;
        let mut record = out.record;
        let mut status = out.status;
        let mut nominate = out.nominate;
        if let Some(node) = out.chosen {
            let node_name = self.cache.node(node).name.to_string();
            // Assume, Reserve, Permit, then bind.
            self.cache.assume(&info, node);
            let mut failure: Option<Status> = None;
            let mut reserved = Vec::new();
            for &i in fw.at(Point::Reserve) {
                if let Some(r) = fw.plugins[i].as_reserve() {
                    let st = r.reserve(&info, &node_name);
                    reserved.push(i);
                    if !st.is_success() {
                        failure = Some(st);
                        break;
                    }
                }
            }
            if failure.is_none() {
                for &i in fw.at(Point::Permit) {
                    if let Some(p) = fw.plugins[i].as_permit() {
                        let st = p.permit(&info, &node_name);
                        if !st.is_success() {
                            failure = Some(st);
                            break;
                        }
                    }
                }
            }
            if failure.is_none() {
                let mut bound = Status::skip();
                for &i in fw.at(Point::Bind) {
                    let Some(b) = fw.plugins[i].as_bind() else {
                        continue;
                    };
                    let mut h = BindHandle {
                        ctx,
                        who: &self.who,
                    };
                    let st = b.bind(&mut h, &info, &node_name);
                    if st.code == Code::Skip {
                        continue;
                    }
                    bound = if st.is_success() {
                        st
                    } else {
                        Status::error(format!(
                            "running Bind plugin \"{}\": {}",
                            names[i],
                            st.message()
                        ))
                    };
                    break;
                }
                if bound.is_success() {
                    self.queue.done(&key);
                    self.clear_nominated(&key);
                    self.last_events.remove(&key);
                    ctx.note(
                        NAME,
                        format!("bound {key} to {node_name}"),
                        format!("the binding was accepted; {} is assumed on {node_name} until the bound pod is seen", key),
                        objects.clone(),
                    );
                    let scheduler_name = fw.scheduler_name.clone();
                    let _ = util::record_event(
                        ctx,
                        &self.who,
                        &scheduler_name,
                        info.pod(),
                        None,
                        "Normal",
                        "Scheduled",
                        "Binding",
                        &format!("Successfully assigned {key} to {node_name}"),
                    );
                    self.records.push(record);
                    return;
                }
                failure = Some(bound);
            }
            // Undo: unreserve and forget the assumed pod.
            for &i in reserved.iter().rev() {
                if let Some(r) = fw.plugins[i].as_reserve() {
                    r.unreserve(&info, &node_name);
                }
            }
            self.cache.forget(&key);
            let st = failure.unwrap_or_else(|| Status::error("binding failed"));
            record.node = None;
            record.message = st.message();
            status = st;
            nominate = Some(String::new());
        }
        self.handle_failure(ctx, fw, &info, status, nominate, out.rejectors, &mut record);
        self.records.push(record);
    }

    /// `handleSchedulingFailure`: back to the queue, nomination, FailedScheduling
    /// event and the PodScheduled=False condition.
    #[allow(clippy::too_many_arguments)]
    fn handle_failure(
        &mut self,
        ctx: &mut Ctx,
        fw: &Framework,
        info: &Arc<PodInfo>,
        status: Status,
        nominate: Option<String>,
        rejectors: BTreeSet<String>,
        record: &mut record::Attempt,
    ) {
        let key = info.key.clone();
        let reason = if status.is_rejected() {
            "Unschedulable"
        } else {
            "SchedulerError"
        };
        let msg = status.message();
        record.message = msg.clone();
        // The latest version of the pod, as the informer has it.
        let latest = ctx
            .api
            .store()
            .get(&PODS, info.namespace(), info.name())
            .cloned();
        let Some(latest) = latest else {
            self.queue.done(&key);
            return;
        };
        let Some(lp) = latest.as_pod() else {
            self.queue.done(&key);
            return;
        };
        if lp.node_name().is_some() {
            self.queue.done(&key);
            return;
        }
        let fresh = PodInfo::new(latest.clone(), self.cache.model())
            .map(Arc::new)
            .unwrap_or_else(|| info.clone());
        let now = ctx.now();
        let rejectors = if status.is_rejected() {
            rejectors
        } else {
            BTreeSet::new()
        };
        let place =
            self.queue
                .requeue_failed(&key, fresh.clone(), rejectors, self.cycle as i64, now);
        if let Some(n) = &nominate {
            self.set_nominated(&fresh, n);
        }
        ctx.note(
            NAME,
            format!("queue: {key} → {}", place.map_or("dropped", Place::as_str)),
            format!("{reason}: {msg}"),
            vec![Self::pod_ref(&latest)],
        );
        match place {
            Some(Place::Backoff) => self.arm_backoff(ctx),
            Some(Place::Unschedulable) => self.arm_flush(ctx),
            _ => {}
        }
        let text = util::truncate_message(&msg);
        self.failed_scheduling_event(ctx, fw, lp, &text);
        let cond = Condition {
            kind: "PodScheduled".into(),
            status: "False".into(),
            reason: reason.into(),
            message: msg,
            ..Default::default()
        };
        util::patch_pod_status(ctx, &self.who, lp, Some(cond), nominate.as_deref());
    }

    /// FailedScheduling, aggregated: a repeat of the same message updates the count.
    fn failed_scheduling_event(
        &mut self,
        ctx: &mut Ctx,
        fw: &Framework,
        pod: &crate::api::core::Pod,
        msg: &str,
    ) {
        let key: Arc<str> = Arc::from(format!("{}/{}", pod.metadata.namespace, pod.metadata.name));
        if let Some(last) = self.last_events.get_mut(&key) {
            if last.reason == "FailedScheduling" && last.message == msg {
                last.count += 1;
                let now = crate::api::time::MicroTime::from_virtual_nanos(ctx.now());
                let patch = serde_json::json!({
                    "count": last.count,
                    "series": {"count": last.count, "lastObservedTime": now.to_rfc3339()},
                });
                let name = last.name.clone();
                let _ = ctx.client(&self.who).patch(
                    &crate::api::object::EVENTS,
                    &pod.metadata.namespace,
                    &name,
                    "application/merge-patch+json",
                    patch,
                );
                return;
            }
        }
        if let Some(name) = util::record_event(
            ctx,
            &self.who,
            &fw.scheduler_name,
            pod,
            None,
            "Warning",
            "FailedScheduling",
            "Scheduling",
            msg,
        ) {
            self.last_events.insert(
                key,
                LastEvent {
                    reason: "FailedScheduling".into(),
                    message: msg.to_string(),
                    name,
                    count: 1,
                },
            );
        }
    }
}

impl Component for Scheduler {
    fn name(&self) -> String {
        NAME.into()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        vec![
            WatchSpec::new(&PODS, NAME),
            WatchSpec::new(&NODES, NAME),
            WatchSpec::new(&NAMESPACES, NAME),
            WatchSpec::new(&SERVICES, NAME),
            WatchSpec::new(&REPLICATIONCONTROLLERS, NAME),
            WatchSpec::new(&REPLICASETS, NAME),
        ]
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>) {
        match watch {
            0 => self.on_pod(ctx, kind, obj),
            1 => self.on_node(ctx, kind, obj),
            2 => {
                let name = obj.meta().name.clone();
                let labels = (kind != EventType::Deleted).then(|| (*obj.meta().labels).clone());
                let changed = self.cache.listers.namespaces.get(&name) != labels.as_ref();
                self.cache.set_namespace(&name, labels);
                if changed && kind != EventType::Added {
                    self.on_cluster_event(
                        ctx,
                        ClusterEvent::NamespaceChange,
                        &format!("namespace {name} changed"),
                        None,
                    );
                }
            }
            _ => {
                self.cache.set_controller(obj, kind == EventType::Deleted);
                if matches!(obj.as_ref(), Object::Service(_)) {
                    self.on_cluster_event(
                        ctx,
                        ClusterEvent::ServiceChange,
                        "a service changed",
                        None,
                    );
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, key: u64) {
        match key {
            KEY_PUMP => {
                self.pump_armed = false;
                self.schedule_one(ctx);
                if self.queue.has_active() {
                    self.arm_pump(ctx);
                }
            }
            KEY_BACKOFF => {
                let now = ctx.now();
                self.backoff_timers.retain(|&t| t > now);
                let moves = self.queue.flush_backoff(now);
                self.note_moves(ctx, moves, "backoff completed");
                self.arm_backoff(ctx);
            }
            KEY_FLUSH => {
                self.flush_armed = false;
                let moves = self
                    .queue
                    .flush_unschedulable_leftover(self.cycle as i64, ctx.now());
                self.note_moves(ctx, moves, "in unschedulablePods for more than 5m");
                self.arm_flush(ctx);
            }
            _ => {}
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
