//! Layer 5, the kubelet: one component per node (every declared node that is not
//! annotated `kubeglass.dev/kubelet: "none"`), identity `system:node:NAME` in group
//! `system:nodes`, acting only through the API server.
//!
//! It watches the pods bound to its node (`spec.nodeName`) and takes each through
//! upstream v1.31's lifecycle:
//! - admission on the node (`OutOfcpu`, `OutOfmemory`, `OutOfpods`,
//!   `OutOfephemeral-storage`, `NodeAffinity`): the pod fails with upstream's reason
//!   and message;
//! - the pod sandbox (pause) and the pod IP, the next free address of the node's
//!   podCIDR (`.1` is the bridge);
//! - image pulls from the simulated registry ([`images`]) with the pull policy, one
//!   pull at a time per node (serializeImagePulls), `ErrImagePull` then
//!   `ImagePullBackOff` with the image back-off (10s doubling to 5m);
//! - containers Waiting, Running, Terminated; restartPolicy with the crash back-off
//!   (10s doubling to 5m, reset after 10 minutes between exits): `CrashLoopBackOff`;
//! - readiness, liveness and startup probes (initialDelaySeconds, periodSeconds,
//!   successThreshold, failureThreshold), a failed liveness probe restarting the
//!   container;
//! - graceful termination: `Killing`, SIGTERM, the grace period, then the pod is
//!   deleted with grace 0 as the status manager does.
//!
//! Status is written only when it changes (the status manager), as one PUT of the
//! status subresource. Events are aggregated as the event correlator does (count
//! and lastTimestamp PATCHed). The node Lease in kube-node-lease is renewed every
//! 10s (leaseDurationSeconds 40) and node status is reported on change or every 5m.
//!
//! For `settle`, heartbeats, probes and a program's own exit are periodic work (a
//! container that runs `sleep 3600` does not keep the cluster from settling), and so
//! is a crash loop once its back-off has reached 5m.
//!
//! Simplifications: the pod worker retries a failed sync after exactly 10s (upstream
//! adds up to 50% jitter), so back-offs expire on the retries; a container exit is
//! seen at once (no 1s PLEG relist); the sandbox starts at once; probes start with
//! the pod (no random initial delay after a kubelet restart); exec probes understand
//! `cat FILE`, `test -e FILE`, `true` and `false`, others succeed; gRPC probes are
//! TCP probes; no volumes, no resource limits enforcement (no OOM kills), no
//! ephemeral containers, no sidecar (restartable init) containers.

pub mod fault;
pub mod images;
pub mod server;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::json;

use crate::api::core::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, Event, EventSource, Node, ObjectReference, Pod, PodIp,
    PodStatus, Probe,
};
use crate::api::meta::{Condition, OwnerReference};
use crate::api::networking::Lease;
use crate::api::object::{EVENTS, LEASES, NODES, PODS};
use crate::api::time::{MicroTime, Time, EPOCH_UNIX};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::apiserver::{format_ipv4, Cidr};
use crate::component::{Component, Ctx};
use crate::kernel::trace::Text;
use crate::kernel::{format_duration, Nanos, ObjRef, NANOS_PER_MILLI, NANOS_PER_SEC};
use crate::store::EventType;
use images::{Catalog, OnSigterm, Program};

/// Upstream's kubelet constants.
pub const LEASE_DURATION_SECONDS: i32 = 40;
/// renewInterval: a quarter of the lease duration.
pub const LEASE_RENEW_INTERVAL: Nanos = 10 * NANOS_PER_SEC;
pub const NODE_STATUS_UPDATE_FREQUENCY: Nanos = 10 * NANOS_PER_SEC;
pub const NODE_STATUS_REPORT_FREQUENCY: Nanos = 300 * NANOS_PER_SEC;
/// The crash and image back-off (`backOffPeriod`, `MaxContainerBackOff`).
pub const BACKOFF_INITIAL: Nanos = 10 * NANOS_PER_SEC;
pub const BACKOFF_MAX: Nanos = 300 * NANOS_PER_SEC;
/// A failed sync is retried after this long (pod workers' backOffPeriod).
pub const WORKER_RETRY: Nanos = 10 * NANOS_PER_SEC;
/// The NetworkNotReady Event's message (`NetworkNotReadyErrorMsg` and the runtime's
/// network condition, as containerd words it) on a node without a pod range.
pub const NETWORK_NOT_READY: &str = "network is not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized";
/// How long a pull of an image the registry does not have takes to fail.
const PULL_FAILURE_TIME: Nanos = 500 * NANOS_PER_MILLI;
/// A pull queued behind a pull of the same image (the kubelet pulls serially, as
/// v1.31's default `serializeImagePulls`): the container runtime finds every layer
/// already on disk, so only the manifest is fetched.
const CACHED_PULL_TIME: Nanos = 100 * NANOS_PER_MILLI;

const K_START: u64 = 1;
const K_LEASE: u64 = 2;
const K_STATUS: u64 = 3;
const K_SYNC: u64 = 1;
const K_EXIT: u64 = 2;
const K_PROBE: u64 = 3;
const K_PULLED: u64 = 6;
const K_KILL: u64 = 7;

fn key(pod: u32, kind: u64, ci: usize, run: u32) -> u64 {
    (u64::from(pod) << 32) | (kind << 24) | ((ci as u64 & 0xff) << 16) | u64::from(run & 0xffff)
}

/// Whether the node's machine and its kubelet can act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Power {
    Up,
    /// The machine is stopped: kubelet and containers.
    Down,
    /// The kubelet cannot reach the API server; containers run on.
    Partitioned,
}

/// A back-off entry (client-go's flowcontrol.Backoff).
#[derive(Clone, Copy, Debug, Default)]
struct Backoff {
    duration: Nanos,
    last: Nanos,
    set: bool,
}

impl Backoff {
    fn in_backoff_since(&self, event: Nanos, now: Nanos) -> bool {
        self.set && now.saturating_sub(event) < self.duration
    }
    fn next(&mut self, at: Nanos) {
        if !self.set || at.saturating_sub(self.last) > 2 * BACKOFF_MAX {
            self.duration = BACKOFF_INITIAL;
        } else {
            self.duration = (self.duration * 2).min(BACKOFF_MAX);
        }
        self.last = at;
        self.set = true;
    }
}

#[derive(Clone, Debug)]
struct Term {
    code: i32,
    reason: &'static str,
    message: &'static str,
    started: Option<Nanos>,
    finished: Nanos,
    id: String,
}

#[derive(Clone, Debug)]
enum St {
    Waiting(&'static str, String),
    /// `took`: the pull itself, after waiting for the serial puller.
    Pulling {
        done: Nanos,
        requested: Nanos,
        took: Nanos,
    },
    Running,
    Terminated(Term),
}

#[derive(Clone, Copy, Debug, Default)]
struct ProbeState {
    last: Option<bool>,
    run: i32,
    result: bool,
    on_hold: bool,
}

/// One container of a pod, as the runtime and the kubelet know it.
struct Ctr {
    init: bool,
    idx: usize,
    state: St,
    restart_count: i32,
    last: Option<Term>,
    /// Starts so far.
    runs: u32,
    started_at: Nanos,
    program: Option<Arc<Program>>,
    /// The previous run, for `logs --previous`.
    previous: Option<(Arc<Program>, Nanos, Nanos)>,
    crash_backoff: Backoff,
    pull_backoff: Backoff,
    /// readiness, liveness, startup.
    probes: [ProbeState; 3],
    /// When a stopping container is killed.
    kill_at: Option<Nanos>,
    stop_reason: &'static str,
    container_id: String,
    /// While an image is pulled again after a failure, the status keeps the
    /// failure's reason (the pull blocks the sync that would update it).
    shown_waiting: Option<(&'static str, String)>,
}

struct PodW {
    pod: Arc<Object>,
    admitted_at: Nanos,
    ip: Option<u32>,
    /// The pod sandbox exists (with its IP, or in the node's namespace).
    sandbox: bool,
    ctrs: Vec<Ctr>,
    rejected: Option<(String, String)>,
    terminating: bool,
    deleted_sent: bool,
    /// The status last written.
    sent: Option<PodStatus>,
    /// Events written for this pod: (reason, message) → (name, count).
    events: BTreeMap<(&'static str, String), (String, i32)>,
    retry_at: Option<Nanos>,
    /// What it takes of the node, while it counts (admitted and not finished).
    counted: Option<[i64; 4]>,
}

impl PodW {
    fn pod(&self) -> &Pod {
        match self.pod.as_ref() {
            Object::Pod(p) => p,
            _ => unreachable!("pod workers hold pods"),
        }
    }
    fn container<'a>(&'a self, c: &Ctr) -> &'a Container {
        let p = self.pod();
        if c.init {
            &p.spec.init_containers[c.idx]
        } else {
            &p.spec.containers[c.idx]
        }
    }
    fn restart_policy(&self) -> &str {
        self.pod()
            .spec
            .restart_policy
            .as_deref()
            .unwrap_or("Always")
    }
}

/// The simulated kubelet of one node.
pub struct Kubelet {
    node: String,
    actor: Arc<str>,
    who: Identity,
    catalog: Arc<Catalog>,
    pub power: Power,
    node_obj: Option<Arc<Object>>,
    pod_cidr: Option<Cidr>,
    /// A fixed pod range that wins over the node's podCIDR (docker-bridge).
    pod_range: Option<Cidr>,
    /// Pod IP offsets released for reuse, and the next never used.
    free_ips: BTreeSet<u32>,
    next_ip: u32,
    /// What admitted, active pods take: pods, milli-CPU, memory, ephemeral storage.
    used: [i64; 4],
    pods: BTreeMap<u32, PodW>,
    by_name: BTreeMap<(String, String), u32>,
    next_id: u32,
    /// Images on the node's disk (normalized references).
    present: BTreeSet<String>,
    puller_free_at: Nanos,
    /// When the queued pull of each image finishes: a pull that starts after it finds
    /// the layers on disk and only fetches the manifest ([`CACHED_PULL_TIME`]).
    pulled_at: BTreeMap<String, Nanos>,
    lease: Option<Arc<Object>>,
    last_report: Nanos,
    /// Force a node status report at the next sync (after a restart or a heal).
    report_due: bool,
    /// Watch events seen while unable to act, applied when the kubelet is back.
    buffered: BTreeMap<(String, String), Option<Arc<Object>>>,
    event_bump: (Nanos, u64),
    /// Bumped when the machine stops, so that probe workers of before are dropped.
    epoch: u32,
}

impl Kubelet {
    pub fn new(node: &str, catalog: Arc<Catalog>) -> Kubelet {
        let actor: Arc<str> = format!("kubelet/{node}").into();
        Kubelet {
            node: node.into(),
            who: Identity::new(&actor, &format!("system:node:{node}"), &["system:nodes"]),
            actor,
            catalog,
            power: Power::Up,
            node_obj: None,
            pod_cidr: None,
            pod_range: None,
            free_ips: BTreeSet::new(),
            next_ip: 2,
            used: [0; 4],
            pods: BTreeMap::new(),
            by_name: BTreeMap::new(),
            next_id: 1,
            present: BTreeSet::new(),
            puller_free_at: 0,
            pulled_at: BTreeMap::new(),
            lease: None,
            last_report: 0,
            report_due: false,
            buffered: BTreeMap::new(),
            event_bump: (0, 0),
            epoch: 0,
        }
    }

    pub fn node_name(&self) -> &str {
        &self.node
    }

    fn note(
        &self,
        ctx: &mut Ctx,
        action: impl Into<Text>,
        reason: impl Into<Text>,
        objects: Vec<ObjRef>,
    ) {
        ctx.note_by(Text::Shared(self.actor.clone()), action, reason, objects);
    }

    fn online(&self) -> bool {
        self.power == Power::Up
    }

    // ---- the node: lease and status ----

    fn refresh_node(&mut self, ctx: &mut Ctx) {
        if !self.online() {
            return;
        }
        let who = self.who.clone();
        if let Ok(o) = ctx.client(&who).get(&NODES, "", &self.node) {
            if let Object::Node(n) = o.as_ref() {
                let cidr = n
                    .spec
                    .pod_cidrs
                    .first()
                    .or(Some(&n.spec.pod_cidr).filter(|c| !c.is_empty()))
                    .and_then(|c| Cidr::parse(c));
                if cidr.is_some() && self.pod_range.is_none() {
                    self.pod_cidr = cidr;
                }
            }
            self.node_obj = Some(o);
        }
    }

    fn node(&self) -> Option<&Node> {
        match self.node_obj.as_deref() {
            Some(Object::Node(n)) => Some(n),
            _ => None,
        }
    }

    fn renew_lease(&mut self, ctx: &mut Ctx) {
        if !self.online() {
            return;
        }
        let now = ctx.now();
        let who = self.who.clone();
        if let Some(Object::Lease(l)) = self.lease.as_deref() {
            let mut l = l.clone();
            l.spec.renew_time = Some(MicroTime::from_virtual_nanos(now));
            match ctx.client(&who).update(Object::Lease(l)) {
                Ok(o) => {
                    self.lease = Some(o);
                    return;
                }
                Err(e) if e.code() == 409 || e.code() == 404 => {}
                Err(_) => return,
            }
            if let Ok(o) = ctx.client(&who).get(&LEASES, "kube-node-lease", &self.node) {
                if let Object::Lease(l) = o.as_ref() {
                    let mut l = l.clone();
                    l.spec.renew_time = Some(MicroTime::from_virtual_nanos(now));
                    l.spec.holder_identity = Some(self.node.clone());
                    if let Ok(o) = ctx.client(&who).update(Object::Lease(l)) {
                        self.lease = Some(o);
                        return;
                    }
                }
            }
        }
        let mut l = Lease::default();
        l.metadata.name = self.node.clone();
        l.metadata.namespace = "kube-node-lease".into();
        if let Some(n) = self.node() {
            l.metadata.owner_references.push(OwnerReference {
                api_version: "v1".into(),
                kind: "Node".into(),
                name: self.node.clone(),
                uid: n.metadata.uid.clone(),
                ..Default::default()
            });
        }
        l.spec.holder_identity = Some(self.node.clone());
        l.spec.lease_duration_seconds = Some(LEASE_DURATION_SECONDS);
        l.spec.renew_time = Some(MicroTime::from_virtual_nanos(now));
        match ctx.client(&who).create(Object::from(l)) {
            Ok(o) => self.lease = Some(o),
            Err(e) if e.code() == 409 => {
                self.lease = ctx
                    .client(&who)
                    .get(&LEASES, "kube-node-lease", &self.node)
                    .ok();
                if self.lease.is_some() {
                    self.renew_lease(ctx);
                }
            }
            Err(_) => {}
        }
    }

    /// The node status sync (every 10s): reports on change or every 5 minutes.
    fn sync_node_status(&mut self, ctx: &mut Ctx) {
        if !self.online() {
            return;
        }
        let now = ctx.now();
        if !self.report_due && now.saturating_sub(self.last_report) < NODE_STATUS_REPORT_FREQUENCY {
            return;
        }
        self.refresh_node(ctx);
        let Some(node) = self.node().cloned() else {
            return;
        };
        let t = Some(Time::from_virtual_nanos(now));
        let wanted: [(&str, &str, &str, &str); 4] = [
            (
                "MemoryPressure",
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            (
                "DiskPressure",
                "False",
                "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure",
            ),
            (
                "PIDPressure",
                "False",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
            (
                "Ready",
                "True",
                "KubeletReady",
                "kubelet is posting ready status",
            ),
        ];
        let mut conds = Vec::new();
        let mut became_ready = false;
        for (kind, status, reason, message) in wanted {
            let old = node.condition(kind);
            let transition = match old {
                Some(o) if o.status == status => o.last_transition_time,
                _ => {
                    if kind == "Ready" {
                        became_ready = true;
                    }
                    t
                }
            };
            conds.push(json!({
                "type": kind, "status": status, "reason": reason, "message": message,
                "lastHeartbeatTime": t.map(|x| x.to_rfc3339()),
                "lastTransitionTime": transition.map(|x| x.to_rfc3339()),
            }));
        }
        let why = if self.report_due {
            "the kubelet is back and reports its node's status at once"
        } else {
            "nodeStatusReportFrequency (5m) has passed since the last report"
        };
        self.note(
            ctx,
            format!("report node {} status", self.node),
            why,
            vec![ObjRef::new("Node", "", &self.node, 0)],
        );
        let who = self.who.clone();
        if let Ok(o) = ctx.client(&who).patch_status(
            &NODES,
            "",
            &self.node,
            "application/strategic-merge-patch+json",
            json!({"status": {"conditions": conds}}),
        ) {
            self.node_obj = Some(o);
            self.last_report = now;
            self.report_due = false;
            if became_ready {
                if let Some(n) = self.node().cloned() {
                    crate::controllers::nodeipam::record_node_event(
                        ctx,
                        &who,
                        "kubelet",
                        &n,
                        "NodeReady",
                    );
                }
            }
        }
    }

    // ---- events ----

    fn event(
        &mut self,
        ctx: &mut Ctx,
        id: u32,
        ci: Option<usize>,
        warning: bool,
        reason: &'static str,
        message: String,
    ) {
        if !self.online() {
            return;
        }
        let now = ctx.now();
        let who = self.who.clone();
        let Some(w) = self.pods.get_mut(&id) else {
            return;
        };
        let t = Some(Time::from_virtual_nanos(now));
        let ns = w.pod().metadata.namespace.clone();
        if let Some((name, count)) = w.events.get_mut(&(reason, message.clone())) {
            *count += 1;
            let patch = json!({"count": *count, "lastTimestamp": t.map(|x| x.to_rfc3339())});
            let name = name.clone();
            let _ = ctx.client(&who).patch(
                &EVENTS,
                &ns,
                &name,
                "application/strategic-merge-patch+json",
                patch,
            );
            return;
        }
        if self.event_bump.0 != now {
            self.event_bump = (now, 0);
        }
        self.event_bump.1 += 1;
        let p = w.pod();
        let field_path = ci
            .and_then(|i| w.ctrs.get(i))
            .map(|c| {
                let name = &w.container(c).name;
                if c.init {
                    format!("spec.initContainers{{{name}}}")
                } else {
                    format!("spec.containers{{{name}}}")
                }
            })
            .unwrap_or_default();
        let mut e = Event::default();
        e.metadata.namespace = p.metadata.namespace.clone();
        e.metadata.name = format!(
            "{}.{:x}",
            p.metadata.name,
            (EPOCH_UNIX as u128) * 1_000_000_000 + u128::from(now) + u128::from(self.event_bump.1)
        );
        e.involved_object = ObjectReference {
            kind: "Pod".into(),
            namespace: p.metadata.namespace.clone(),
            name: p.metadata.name.clone(),
            uid: p.metadata.uid.clone(),
            api_version: "v1".into(),
            resource_version: String::new(),
            field_path,
        };
        e.reason = reason.into();
        e.message = message.clone();
        e.kind = if warning { "Warning" } else { "Normal" }.into();
        e.source = EventSource {
            component: "kubelet".into(),
            host: self.node.clone(),
        };
        e.first_timestamp = t;
        e.last_timestamp = t;
        e.count = 1;
        e.reporting_component = "kubelet".into();
        e.reporting_instance = self.node.clone();
        let name = e.metadata.name.clone();
        if ctx.client(&who).create(Object::from(e)).is_ok() {
            if let Some(w) = self.pods.get_mut(&id) {
                w.events.insert((reason, message), (name, 1));
            }
        }
    }

    // ---- pods ----

    fn add_pod(&mut self, ctx: &mut Ctx, obj: &Arc<Object>) {
        let Object::Pod(p) = obj.as_ref() else { return };
        let key = (p.metadata.namespace.clone(), p.metadata.name.clone());
        if let Some(&id) = self.by_name.get(&key) {
            self.update_pod(ctx, id, obj);
            return;
        }
        if matches!(p.status.phase.as_str(), "Succeeded" | "Failed") {
            // A pod that already finished (or was rejected): nothing to run.
            if p.metadata.deletion_timestamp.is_some() {
                let who = self.who.clone();
                let _ = ctx.client(&who).delete(&PODS, &key.0, &key.1, Some(0));
            }
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut ctrs = Vec::new();
        for (i, _) in p.spec.init_containers.iter().enumerate() {
            ctrs.push(new_ctr(true, i));
        }
        for (i, _) in p.spec.containers.iter().enumerate() {
            ctrs.push(new_ctr(false, i));
        }
        let w = PodW {
            pod: obj.clone(),
            admitted_at: ctx.now(),
            ip: None,
            sandbox: false,
            ctrs,
            rejected: None,
            terminating: false,
            deleted_sent: false,
            sent: None,
            events: BTreeMap::new(),
            retry_at: None,
            counted: None,
        };
        self.by_name.insert(key, id);
        self.pods.insert(id, w);
        if p.metadata.deletion_timestamp.is_none() {
            if let Some((reason, message)) = self.admit(ctx, id) {
                self.reject(ctx, id, reason, message);
                return;
            }
        }
        self.start_probes(ctx, id);
        self.sync(ctx, id);
    }

    fn update_pod(&mut self, ctx: &mut Ctx, id: u32, obj: &Arc<Object>) {
        let Some(w) = self.pods.get_mut(&id) else {
            return;
        };
        let was_deleting = w.pod.meta().deletion_timestamp.is_some();
        w.pod = obj.clone();
        let deleting = obj.meta().deletion_timestamp.is_some();
        if deleting && !was_deleting || deleting && !w.terminating && !w.deleted_sent {
            self.sync(ctx, id);
        }
    }

    fn remove_pod(&mut self, ctx: &mut Ctx, key: (String, String)) {
        let Some(id) = self.by_name.remove(&key) else {
            return;
        };
        self.release(id);
        if let Some(w) = self.pods.remove(&id) {
            if let Some(ip) = w.ip {
                self.free_ips.insert(ip);
            }
            let running = w
                .ctrs
                .iter()
                .filter(|c| matches!(c.state, St::Running))
                .count();
            if running > 0 {
                self.note(
                    ctx,
                    format!("kill {running} container(s) of pod {}/{}", key.0, key.1),
                    "the pod was removed from the API server without waiting for its containers (force deletion)",
                    vec![ObjRef::new("Pod", &key.0, &key.1, 0)],
                );
            }
        }
    }

    /// canAdmitPod: the pod must fit the node's allocatable next to the pods admitted.
    fn admit(&mut self, ctx: &mut Ctx, id: u32) -> Option<(String, String)> {
        if self.node_obj.is_none() {
            self.refresh_node(ctx);
        }
        let node_obj = self.node_obj.clone()?;
        let Object::Node(node) = node_obj.as_ref() else {
            return None;
        };
        let w = self.pods.get(&id)?;
        let p = w.pod();
        for (k, v) in &p.spec.node_selector {
            if node.metadata.labels.get(k) != Some(v) {
                return Some((
                    "NodeAffinity".into(),
                    "Predicate NodeAffinity failed".into(),
                ));
            }
        }
        let pods_cap = node
            .status
            .allocatable
            .get("pods")
            .map(|q| q.value())
            .unwrap_or(110);
        if self.used[0] + 1 > pods_cap {
            return Some((
                "OutOfpods".into(),
                format!(
                    "Node didn't have enough resource: pods, requested: 1, used: {}, capacity: {pods_cap}",
                    self.used[0]
                ),
            ));
        }
        let mut want = [1i64, 0, 0, 0];
        for (i, res) in RESOURCES.iter().enumerate() {
            want[i + 1] = pod_request(p, res);
            if want[i + 1] == 0 {
                continue;
            }
            let used = self.used[i + 1];
            let cap = node
                .status
                .allocatable
                .get(*res)
                .map(|q| {
                    if *res == "cpu" {
                        q.milli_value()
                    } else {
                        q.value()
                    }
                })
                .unwrap_or(0);
            if used + want[i + 1] > cap {
                return Some((
                    format!("OutOf{res}"),
                    format!(
                        "Node didn't have enough resource: {res}, requested: {}, used: {used}, capacity: {cap}",
                        want[i + 1]
                    ),
                ));
            }
        }
        for (u, w) in self.used.iter_mut().zip(want) {
            *u += w;
        }
        if let Some(w) = self.pods.get_mut(&id) {
            w.counted = Some(want);
        }
        None
    }

    /// A pod that finished or left no longer counts against the node.
    fn release(&mut self, id: u32) {
        if let Some(want) = self.pods.get_mut(&id).and_then(|w| w.counted.take()) {
            for (u, w) in self.used.iter_mut().zip(want) {
                *u -= w;
            }
        }
    }

    fn reject(&mut self, ctx: &mut Ctx, id: u32, reason: String, message: String) {
        let Some(w) = self.pods.get_mut(&id) else {
            return;
        };
        let (ns, name) = (
            w.pod().metadata.namespace.clone(),
            w.pod().metadata.name.clone(),
        );
        w.rejected = Some((reason.clone(), message.clone()));
        self.note(
            ctx,
            format!("reject pod {ns}/{name}: {reason}"),
            format!("node admission: {message}"),
            vec![ObjRef::new("Pod", &ns, &name, 0)],
        );
        let r: &'static str = match reason.as_str() {
            "OutOfcpu" => "OutOfcpu",
            "OutOfmemory" => "OutOfmemory",
            "OutOfpods" => "OutOfpods",
            "OutOfephemeral-storage" => "OutOfephemeral-storage",
            _ => "NodeAffinity",
        };
        self.event(ctx, id, None, true, r, message);
        self.send_status(ctx, id);
    }

    /// The pod worker's sync: everything due now.
    fn sync(&mut self, ctx: &mut Ctx, id: u32) {
        if self.power == Power::Down {
            return;
        }
        let Some(w) = self.pods.get(&id) else { return };
        if w.rejected.is_some() || w.deleted_sent {
            return;
        }
        if w.pod.meta().deletion_timestamp.is_some() {
            self.terminate(ctx, id);
            return;
        }
        // The sandbox and its IP (a hostNetwork pod has the node's).
        if w.ip.is_none() && !w.pod().spec.host_network {
            if self.pod_cidr.is_none() {
                self.refresh_node(ctx);
            }
            let Some(cidr) = self.pod_cidr else {
                let Some(w) = self.pods.get(&id) else { return };
                let (ns, name) = pod_key(w);
                self.note(
                    ctx,
                    format!("wait to create the sandbox of pod {ns}/{name}"),
                    "the node has no spec.podCIDR (node IPAM has not given it a range, or has none left), so the network plugin is not ready and has no address to give; the pod worker tries again after its backOffPeriod (10s). Simplified: upstream's kubelet also reports the node NotReady until its network is ready; here it stays Ready",
                    vec![ObjRef::new("Pod", &ns, &name, 0)],
                );
                self.event(
                    ctx,
                    id,
                    None,
                    true,
                    "NetworkNotReady",
                    NETWORK_NOT_READY.to_string(),
                );
                self.retry(ctx, id, WORKER_RETRY, false);
                return;
            };
            // The lowest free address (.1 is the bridge).
            let off = match self.free_ips.pop_first() {
                Some(off) => off,
                None if u64::from(self.next_ip) + 1 < cidr.size() => {
                    self.next_ip += 1;
                    self.next_ip - 1
                }
                None => {
                    self.retry(ctx, id, WORKER_RETRY, false);
                    return;
                }
            };
            if let Some(w) = self.pods.get_mut(&id) {
                w.ip = Some(off);
            }
        }
        if let Some(w) = self.pods.get_mut(&id) {
            w.sandbox = true;
        }
        // Init containers in order; then app containers, one pull at a time.
        let n = self.pods.get(&id).map_or(0, |w| w.ctrs.len());
        let mut need_retry = false;
        for ci in 0..n {
            let Some(w) = self.pods.get(&id) else { return };
            let c = &w.ctrs[ci];
            if c.init {
                if matches!(&c.state, St::Terminated(t) if t.code == 0) {
                    continue;
                }
                if let Step::Retry = self.step_container(ctx, id, ci) {
                    need_retry = true;
                }
                break;
            }
            match self.step_container(ctx, id, ci) {
                Step::Busy => break,
                Step::Retry => need_retry = true,
                _ => {}
            }
        }
        self.send_status(ctx, id);
        if need_retry {
            let at_max = self.pods.get(&id).is_some_and(|w| {
                w.ctrs.iter().all(|c| match &c.state {
                    St::Waiting("CrashLoopBackOff", _) => c.crash_backoff.duration >= BACKOFF_MAX,
                    St::Waiting("ImagePullBackOff" | "ErrImagePull", _) => {
                        c.pull_backoff.duration >= BACKOFF_MAX
                    }
                    St::Waiting(..) => false,
                    _ => true,
                })
            });
            self.retry(ctx, id, WORKER_RETRY, at_max);
        }
    }

    fn retry(&mut self, ctx: &mut Ctx, id: u32, after: Nanos, periodic: bool) {
        let at = ctx.now() + after;
        let Some(w) = self.pods.get_mut(&id) else {
            return;
        };
        if w.retry_at.is_some_and(|r| r <= at && r > ctx.now()) {
            return;
        }
        w.retry_at = Some(at);
        if periodic {
            ctx.every(after, key(id, K_SYNC, 0, 0));
        } else {
            ctx.after(after, key(id, K_SYNC, 0, 0));
        }
    }

    /// One container's next move.
    fn step_container(&mut self, ctx: &mut Ctx, id: u32, ci: usize) -> Step {
        let now = ctx.now();
        let Some(w) = self.pods.get(&id) else {
            return Step::Done;
        };
        let c = &w.ctrs[ci];
        match &c.state {
            St::Running => Step::Done,
            St::Pulling { done, .. } => {
                if now >= *done {
                    self.finish_pull(ctx, id, ci)
                } else {
                    Step::Busy
                }
            }
            St::Terminated(t) => {
                let restart = match (c.init, w.restart_policy()) {
                    (_, "Always") if !c.init => true,
                    (true, "Never") => false,
                    (true, _) => t.code != 0,
                    (false, "OnFailure") => t.code != 0,
                    _ => false,
                };
                if !restart {
                    return Step::Done;
                }
                self.ensure_started(ctx, id, ci)
            }
            St::Waiting(..) => self.ensure_started(ctx, id, ci),
        }
    }

    /// Starts a container that should run: back-off, image, create, start.
    fn ensure_started(&mut self, ctx: &mut Ctx, id: u32, ci: usize) -> Step {
        let now = ctx.now();
        let Some(w) = self.pods.get_mut(&id) else {
            return Step::Done;
        };
        // doBackOff: a container that exited waits out its back-off.
        let finished = match (&w.ctrs[ci].state, &w.ctrs[ci].last) {
            (St::Terminated(t), _) => Some(t.finished),
            (St::Waiting("CrashLoopBackOff", _), Some(t)) => Some(t.finished),
            _ => None,
        };
        if let Some(fin) = finished {
            let c = &mut w.ctrs[ci];
            if c.crash_backoff.in_backoff_since(fin, now) {
                if let St::Terminated(t) = &c.state {
                    c.last = Some(t.clone());
                }
                let name = w.container(&w.ctrs[ci]).name.clone();
                let p = w.pod();
                let pod_fmt = format!(
                    "{}_{}({})",
                    p.metadata.name, p.metadata.namespace, p.metadata.uid
                );
                let msg = format!(
                    "back-off {} restarting failed container={name} pod={pod_fmt}",
                    format_duration(w.ctrs[ci].crash_backoff.duration)
                );
                let first = matches!(w.ctrs[ci].state, St::Terminated(_));
                let wait = format_duration(w.ctrs[ci].crash_backoff.duration);
                let (ns, pname) = pod_key(w);
                w.ctrs[ci].state = St::Waiting("CrashLoopBackOff", msg);
                if first {
                    self.note(
                        ctx,
                        format!("wait {wait} before restarting container {name} of pod {ns}/{pname}"),
                        "CrashLoopBackOff: it exited again within its back-off, which doubles from 10s up to 5m",
                        vec![ObjRef::new("Pod", &ns, &pname, 0)],
                    );
                }
                let ev = format!("Back-off restarting failed container {name} in pod {pod_fmt}");
                self.event(ctx, id, Some(ci), true, "BackOff", ev);
                return Step::Retry;
            }
            let c = &mut w.ctrs[ci];
            c.crash_backoff.next(fin);
            if let St::Terminated(t) = &c.state {
                c.last = Some(t.clone());
            }
            c.state = St::Waiting("ContainerCreating", String::new());
        }
        // EnsureImageExists.
        let Some(w) = self.pods.get(&id) else {
            return Step::Done;
        };
        let container = w.container(&w.ctrs[ci]);
        let image = container.image.clone().unwrap_or_default();
        let policy = container
            .image_pull_policy
            .clone()
            .unwrap_or_else(|| "IfNotPresent".into());
        let norm = images::normalized(&image);
        let present = self.present.contains(&norm);
        if policy == "Never" && !present {
            let msg =
                format!("Container image \"{image}\" is not present with pull policy of Never");
            if let Some(w) = self.pods.get_mut(&id) {
                w.ctrs[ci].state = St::Waiting("ErrImageNeverPull", msg.clone());
            }
            self.event(ctx, id, Some(ci), true, "ErrImageNeverPull", msg);
            self.event(
                ctx,
                id,
                Some(ci),
                true,
                "Failed",
                "Error: ErrImageNeverPull".into(),
            );
            return Step::Retry;
        }
        if present && policy != "Always" {
            self.event(
                ctx,
                id,
                Some(ci),
                false,
                "Pulled",
                format!("Container image \"{image}\" already present on machine"),
            );
            return self.start_container(ctx, id, ci);
        }
        let Some(w) = self.pods.get_mut(&id) else {
            return Step::Done;
        };
        let c = &mut w.ctrs[ci];
        if c.pull_backoff.in_backoff_since(c.pull_backoff.last, now) {
            let msg = format!("Back-off pulling image \"{image}\"");
            c.state = St::Waiting("ImagePullBackOff", msg.clone());
            self.event(ctx, id, Some(ci), false, "BackOff", msg);
            self.event(
                ctx,
                id,
                Some(ci),
                true,
                "Failed",
                "Error: ImagePullBackOff".into(),
            );
            return Step::Retry;
        }
        let catalog = self.catalog.clone();
        let begin = now.max(self.puller_free_at);
        let layers_on_disk = self.pulled_at.get(&norm).is_some_and(|&t| t <= begin);
        let pull = match catalog.find(&image) {
            Some(spec) if !spec.private || self.has_pull_secret(ctx, id, &image) => {
                if layers_on_disk {
                    CACHED_PULL_TIME
                } else {
                    self.pulled_at.insert(norm.clone(), begin + spec.pull_time);
                    spec.pull_time
                }
            }
            _ => PULL_FAILURE_TIME,
        };
        let done = begin + pull;
        self.puller_free_at = done;
        if let Some(w) = self.pods.get_mut(&id) {
            let c = &mut w.ctrs[ci];
            c.shown_waiting = match &c.state {
                St::Waiting(r @ ("ErrImagePull" | "ImagePullBackOff"), m) => Some((*r, m.clone())),
                _ => None,
            };
            c.state = St::Pulling {
                done,
                requested: now,
                took: pull,
            };
        }
        self.event(
            ctx,
            id,
            Some(ci),
            false,
            "Pulling",
            format!("Pulling image \"{image}\""),
        );
        ctx.after(done - now, key(id, K_PULLED, ci, 0));
        Step::Busy
    }

    /// Whether the pod names a dockerconfigjson Secret with an entry for the image's registry.
    fn has_pull_secret(&mut self, ctx: &mut Ctx, id: u32, image: &str) -> bool {
        if !self.online() {
            return false;
        }
        let Some(w) = self.pods.get(&id) else {
            return false;
        };
        let p = w.pod();
        let ns = p.metadata.namespace.clone();
        let names: Vec<String> = p
            .spec
            .image_pull_secrets
            .iter()
            .map(|s| s.name.clone())
            .collect();
        let registry = images::registry_of(image);
        let who = self.who.clone();
        for name in names {
            let Ok(o) = ctx
                .client(&who)
                .get(&crate::api::object::SECRETS, &ns, &name)
            else {
                continue;
            };
            let Object::Secret(s) = o.as_ref() else {
                continue;
            };
            let text = s
                .data
                .get(".dockerconfigjson")
                .and_then(|b| base64_decode(b))
                .or_else(|| s.string_data.get(".dockerconfigjson").cloned())
                .unwrap_or_default();
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            if let Some(auths) = v.get("auths").and_then(|a| a.as_object()) {
                let hit = auths.keys().any(|k| {
                    let host = k
                        .trim_start_matches("https://")
                        .trim_start_matches("http://");
                    let host = host.split('/').next().unwrap_or(host);
                    host == registry
                        || (registry == "docker.io"
                            && matches!(
                                host,
                                "index.docker.io" | "registry-1.docker.io" | "docker.io"
                            ))
                });
                if hit {
                    return true;
                }
            }
        }
        false
    }

    fn finish_pull(&mut self, ctx: &mut Ctx, id: u32, ci: usize) -> Step {
        let now = ctx.now();
        let Some(w) = self.pods.get(&id) else {
            return Step::Done;
        };
        let St::Pulling {
            done,
            requested,
            took,
        } = w.ctrs[ci].state
        else {
            return Step::Done;
        };
        let image = w.container(&w.ctrs[ci]).image.clone().unwrap_or_default();
        let norm = images::normalized(&image);
        let catalog = self.catalog.clone();
        let failure = match catalog.find(&image) {
            None => Some(not_found_error(&image, &norm)),
            Some(spec) if spec.private && !self.has_pull_secret(ctx, id, &image) => {
                Some(unauthorized_error(&image, &norm))
            }
            Some(spec) => {
                self.present.insert(norm.clone());
                let pull = took;
                let size = spec.size;
                self.event(
                    ctx,
                    id,
                    Some(ci),
                    false,
                    "Pulled",
                    format!(
                        "Successfully pulled image \"{image}\" in {} ({} including waiting). Image size: {size} bytes.",
                        format_duration(pull),
                        format_duration(done.max(now) - requested)
                    ),
                );
                None
            }
        };
        if let Some(err) = failure {
            if let Some(w) = self.pods.get_mut(&id) {
                let c = &mut w.ctrs[ci];
                c.pull_backoff.next(now);
                c.state = St::Waiting("ErrImagePull", err.clone());
            }
            self.event(
                ctx,
                id,
                Some(ci),
                true,
                "Failed",
                format!("Failed to pull image \"{image}\": {err}"),
            );
            self.event(
                ctx,
                id,
                Some(ci),
                true,
                "Failed",
                "Error: ErrImagePull".into(),
            );
            return Step::Retry;
        }
        self.start_container(ctx, id, ci)
    }

    fn start_container(&mut self, ctx: &mut Ctx, id: u32, ci: usize) -> Step {
        let now = ctx.now();
        let catalog = self.catalog.clone();
        let Some(w) = self.pods.get_mut(&id) else {
            return Step::Done;
        };
        let container = w.container(&w.ctrs[ci]).clone();
        let image = container.image.clone().unwrap_or_default();
        let pod_name = w.pod().metadata.name.clone();
        let uid = w.pod().metadata.uid.clone();
        let env_of = |name: &str| -> Option<String> {
            if name == "HOSTNAME" {
                return Some(pod_name.clone());
            }
            container
                .env
                .iter()
                .find(|e| e.name == name)
                .and_then(|e| e.value.clone())
        };
        let program = match catalog.find(&image) {
            Some(spec) => images::program_for(spec, &container.command, &container.args, &env_of),
            None => return Step::Done,
        };
        let c = &mut w.ctrs[ci];
        if c.runs > 0 {
            c.restart_count += 1;
        }
        c.runs += 1;
        c.container_id = format!(
            "containerd://{}",
            images::digest(&format!("{uid}/{}/{}", container.name, c.runs))
        );
        c.started_at = now;
        let program = Arc::new(program);
        c.program = Some(program.clone());
        c.state = St::Running;
        c.shown_waiting = None;
        c.kill_at = None;
        c.probes = [
            ProbeState::default(),
            ProbeState {
                result: true,
                ..Default::default()
            },
            ProbeState::default(),
        ];
        let run = c.runs;
        self.event(
            ctx,
            id,
            Some(ci),
            false,
            "Created",
            format!("Created container {}", container.name),
        );
        self.event(
            ctx,
            id,
            Some(ci),
            false,
            "Started",
            format!("Started container {}", container.name),
        );
        if let Some((after, _)) = program.exit {
            // A program's own lifetime is not work of the cluster: `settle` does not
            // wait for a container to exit by itself.
            ctx.every(after, key(id, K_EXIT, ci, run));
        }
        Step::Done
    }

    /// A container's process ended (by itself, a crash, or a kill).
    fn container_exited(
        &mut self,
        ctx: &mut Ctx,
        id: u32,
        ci: usize,
        code: i32,
        reason: &'static str,
        why: &'static str,
    ) {
        let now = ctx.now();
        let Some(w) = self.pods.get_mut(&id) else {
            return;
        };
        if !matches!(w.ctrs[ci].state, St::Running) {
            return;
        }
        if !why.is_empty() {
            let (ns, name) = pod_key(w);
            let cname = w.container(&w.ctrs[ci]).name.clone();
            self.note(
                ctx,
                format!("container {cname} of pod {ns}/{name} exited with code {code}"),
                why,
                vec![ObjRef::new("Pod", &ns, &name, 0)],
            );
        }
        let Some(w) = self.pods.get_mut(&id) else {
            return;
        };
        let c = &mut w.ctrs[ci];
        if let Some(p) = c.program.clone() {
            c.previous = Some((p, c.started_at, now));
        }
        c.state = St::Terminated(Term {
            code,
            reason,
            message: "",
            started: Some(c.started_at),
            finished: now,
            id: c.container_id.clone(),
        });
        c.kill_at = None;
    }

    /// Graceful termination of a pod being deleted.
    fn terminate(&mut self, ctx: &mut Ctx, id: u32) {
        let now = ctx.now();
        let Some(w) = self.pods.get_mut(&id) else {
            return;
        };
        if !w.terminating {
            w.terminating = true;
            let grace = w
                .pod()
                .metadata
                .deletion_grace_period_seconds
                .or(w.pod().spec.termination_grace_period_seconds)
                .unwrap_or(30)
                .max(0) as u64
                * NANOS_PER_SEC;
            let mut kills = Vec::new();
            for ci in 0..w.ctrs.len() {
                if matches!(w.ctrs[ci].state, St::Running) {
                    kills.push(ci);
                }
            }
            for ci in kills {
                self.stop_container(
                    ctx,
                    id,
                    ci,
                    grace,
                    "Stopping container",
                    "the pod is being deleted",
                );
            }
        }
        let Some(w) = self.pods.get_mut(&id) else {
            return;
        };
        if w.ctrs.iter().any(|c| matches!(c.state, St::Running)) {
            return;
        }
        // Containers that never ran are reported as upstream does for a terminal pod.
        for c in &mut w.ctrs {
            if matches!(c.state, St::Waiting(..) | St::Pulling { .. }) {
                c.state = St::Terminated(Term {
                    code: 137,
                    reason: "ContainerStatusUnknown",
                    message: "The container could not be located when the pod was terminated",
                    started: None,
                    finished: now,
                    id: String::new(),
                });
            }
        }
        self.send_status(ctx, id);
        if !self.online() {
            return;
        }
        let Some(w) = self.pods.get_mut(&id) else {
            return;
        };
        w.deleted_sent = true;
        let (ns, name) = pod_key(w);
        let uid = w.pod().metadata.uid.clone();
        self.note(
            ctx,
            format!("delete pod {ns}/{name} with grace period 0"),
            "all its containers have stopped; the status manager removes the pod from the API server",
            vec![ObjRef::new("Pod", &ns, &name, 0)],
        );
        let who = self.who.clone();
        let _ = uid;
        let _ = ctx.client(&who).delete(&PODS, &ns, &name, Some(0));
    }

    /// Sends SIGTERM; the program exits or is killed when the grace period ends.
    fn stop_container(
        &mut self,
        ctx: &mut Ctx,
        id: u32,
        ci: usize,
        grace: Nanos,
        event: &'static str,
        why: &'static str,
    ) {
        let now = ctx.now();
        let Some(w) = self.pods.get_mut(&id) else {
            return;
        };
        let name = w.container(&w.ctrs[ci]).name.clone();
        let c = &mut w.ctrs[ci];
        let on_term = c
            .program
            .as_ref()
            .map_or(OnSigterm::Exit(0), |p| p.on_sigterm);
        c.stop_reason = why;
        let run = c.runs;
        let msg = if event == "Stopping container" {
            format!("Stopping container {name}")
        } else {
            format!("Container {name} failed {event} probe, will be restarted")
        };
        self.event(ctx, id, Some(ci), false, "Killing", msg);
        match on_term {
            OnSigterm::Exit(code) => {
                let reason = if code == 0 { "Completed" } else { "Error" };
                self.container_exited(ctx, id, ci, code, reason, "it exited on SIGTERM");
            }
            OnSigterm::Ignore => {
                if grace == 0 {
                    self.container_exited(
                        ctx,
                        id,
                        ci,
                        137,
                        "Error",
                        "grace period 0: killed at once",
                    );
                } else if let Some(w) = self.pods.get_mut(&id) {
                    w.ctrs[ci].kill_at = Some(now + grace);
                    ctx.after(grace, key(id, K_KILL, ci, run));
                }
            }
        }
    }

    // ---- probes ----

    fn start_probes(&mut self, ctx: &mut Ctx, id: u32) {
        let Some(w) = self.pods.get(&id) else { return };
        for (ci, c) in w.ctrs.iter().enumerate() {
            if c.init {
                continue;
            }
            let ct = w.container(c);
            for (kind, probe) in [
                (0u32, &ct.readiness_probe),
                (1, &ct.liveness_probe),
                (2, &ct.startup_probe),
            ] {
                if probe.is_some() {
                    // The worker probes at once, then every period.
                    ctx.every(0, key(id, K_PROBE, ci, kind | ((self.epoch & 0xfff) << 4)));
                }
            }
        }
    }

    fn probe(&mut self, ctx: &mut Ctx, id: u32, ci: usize, kind: usize) {
        let now = ctx.now();
        let Some(w) = self.pods.get(&id) else { return };
        if w.terminating || ci >= w.ctrs.len() {
            return;
        }
        let ct = w.container(&w.ctrs[ci]);
        let Some(probe) = (match kind {
            0 => ct.readiness_probe.as_deref(),
            1 => ct.liveness_probe.as_deref(),
            _ => ct.startup_probe.as_deref(),
        }) else {
            return;
        };
        let probe = probe.clone();
        let period = probe.period_seconds.unwrap_or(10).max(1) as u64 * NANOS_PER_SEC;
        ctx.every(
            period,
            key(id, K_PROBE, ci, kind as u32 | ((self.epoch & 0xfff) << 4)),
        );
        if self.power == Power::Down {
            return;
        }
        let c = &w.ctrs[ci];
        if !matches!(c.state, St::Running) || c.probes[kind].on_hold {
            return;
        }
        // Readiness and liveness wait for the startup probe.
        if kind != 2 && ct.startup_probe.is_some() && !c.probes[2].result {
            return;
        }
        if kind == 2 && c.probes[2].result {
            return;
        }
        let elapsed = now - c.started_at;
        if elapsed < probe.initial_delay_seconds.unwrap_or(0).max(0) as u64 * NANOS_PER_SEC {
            return;
        }
        let (ok, output) = run_probe(&probe, ct, c, w, elapsed);
        let Some(w) = self.pods.get_mut(&id) else {
            return;
        };
        let ps = &mut w.ctrs[ci].probes[kind];
        if ps.last == Some(ok) {
            ps.run += 1;
        } else {
            ps.last = Some(ok);
            ps.run = 1;
        }
        let name = ["Readiness", "Liveness", "Startup"][kind];
        if !ok {
            self.event(
                ctx,
                id,
                Some(ci),
                true,
                "Unhealthy",
                format!("{name} probe failed: {output}"),
            );
        }
        let Some(w) = self.pods.get_mut(&id) else {
            return;
        };
        let ps = &mut w.ctrs[ci].probes[kind];
        let threshold = if ok {
            probe.success_threshold.unwrap_or(1)
        } else {
            probe.failure_threshold.unwrap_or(3)
        };
        // The startup probe starts Unknown: failures count against it too.
        if ps.run < threshold || ps.result == ok && (kind != 2 || ok) {
            return;
        }
        ps.result = ok;
        if kind != 0 && !ok {
            // A failed liveness or startup probe: stop probing, restart the container.
            ps.on_hold = true;
            ps.run = 0;
            let (ns, pname) = pod_key(w);
            let cname = w.container(&w.ctrs[ci]).name.clone();
            let grace = probe
                .termination_grace_period_seconds
                .or(w.pod().spec.termination_grace_period_seconds)
                .unwrap_or(30)
                .max(0) as u64
                * NANOS_PER_SEC;
            self.note(
                ctx,
                format!("restart container {cname} of pod {ns}/{pname}"),
                format!(
                    "its {} probe failed {} times in a row (failureThreshold)",
                    name.to_ascii_lowercase(),
                    threshold
                ),
                vec![ObjRef::new("Pod", &ns, &pname, 0)],
            );
            let ev = if kind == 1 { "liveness" } else { "startup" };
            self.stop_container(ctx, id, ci, grace, ev, "a probe failed");
            self.sync(ctx, id);
            return;
        }
        self.send_status(ctx, id);
    }

    // ---- status ----

    fn build_status(&self, w: &PodW, now: Nanos) -> PodStatus {
        let p = w.pod();
        let mut st = PodStatus {
            qos_class: p.status.qos_class.clone(),
            nominated_node_name: p.status.nominated_node_name.clone(),
            ..Default::default()
        };
        let t_now = Some(Time::from_virtual_nanos(now));
        let start = Some(Time::from_virtual_nanos(w.admitted_at));
        st.start_time = w
            .sent
            .as_ref()
            .and_then(|s| s.start_time)
            .or(p.status.start_time)
            .or(start);
        if let Some((reason, message)) = &w.rejected {
            st.phase = "Failed".into();
            st.reason = reason.clone();
            st.message = format!("Pod was rejected: {message}");
            return st;
        }
        if let Some(ip) = self
            .node()
            .and_then(|n| n.status.addresses.iter().find(|a| a.kind == "InternalIP"))
        {
            st.host_ip = ip.address.clone();
            st.host_ips = vec![PodIp {
                ip: ip.address.clone(),
            }];
        }
        let terminal_deleted =
            w.terminating && !w.ctrs.iter().any(|c| matches!(c.state, St::Running));
        if let (Some(off), Some(cidr), false) = (w.ip, self.pod_cidr, terminal_deleted) {
            let ip = format_ipv4(cidr.nth(u64::from(off)));
            st.pod_ip = ip.clone();
            st.pod_ips = vec![PodIp { ip }];
        } else if w.pod().spec.host_network && !terminal_deleted && !st.host_ip.is_empty() {
            st.pod_ip = st.host_ip.clone();
            st.pod_ips = st.host_ips.clone();
        }
        // Statuses.
        for c in &w.ctrs {
            let ct = w.container(c);
            let cs = container_status(c, ct, self.startup_ok(c, ct));
            if c.init {
                st.init_container_statuses.push(cs);
            } else {
                st.container_statuses.push(cs);
            }
        }
        // Phase (getPhase).
        let init_pending = w
            .ctrs
            .iter()
            .filter(|c| c.init)
            .any(|c| !matches!(&c.state, St::Terminated(t) if t.code == 0));
        let init_failed_never = w.restart_policy() == "Never"
            && w.ctrs
                .iter()
                .any(|c| c.init && matches!(&c.state, St::Terminated(t) if t.code != 0));
        let (mut running, mut stopped, mut succeeded, mut waiting) = (0, 0, 0, 0);
        for c in w.ctrs.iter().filter(|c| !c.init) {
            match &c.state {
                St::Running => running += 1,
                St::Terminated(t) => {
                    stopped += 1;
                    if t.code == 0 {
                        succeeded += 1;
                    }
                }
                _ if c.last.is_some() => stopped += 1,
                _ => waiting += 1,
            }
        }
        let policy = w.restart_policy();
        st.phase = if init_failed_never {
            "Failed"
        } else if init_pending && !w.terminating {
            "Pending"
        } else if w.terminating && running == 0 {
            if succeeded == stopped && waiting == 0 {
                "Succeeded"
            } else {
                "Failed"
            }
        } else if waiting > 0 {
            "Pending"
        } else if running > 0 {
            "Running"
        } else if stopped > 0 {
            if policy == "Always" {
                "Running"
            } else if stopped == succeeded {
                "Succeeded"
            } else if policy == "Never" {
                "Failed"
            } else {
                "Running"
            }
        } else {
            "Pending"
        }
        .into();
        let terminal = matches!(st.phase.as_str(), "Succeeded" | "Failed");
        // Conditions.
        let old = w
            .sent
            .as_ref()
            .map(|s| &s.conditions[..])
            .unwrap_or(&p.status.conditions[..]);
        let cond = |kind: &str, ok: bool, reason: &str, message: String| {
            let status = if ok { "True" } else { "False" };
            let transition = old
                .iter()
                .find(|c| c.kind == kind && c.status == status)
                .and_then(|c| c.last_transition_time)
                .or(t_now);
            Condition {
                kind: kind.into(),
                status: status.into(),
                last_transition_time: transition,
                reason: if ok { String::new() } else { reason.into() },
                message: if ok { String::new() } else { message },
                ..Default::default()
            }
        };
        for c in &p.status.conditions {
            if !matches!(
                c.kind.as_str(),
                "PodReadyToStartContainers"
                    | "Initialized"
                    | "Ready"
                    | "ContainersReady"
                    | "PodScheduled"
            ) {
                st.conditions.push(c.clone());
            }
        }
        st.conditions.push(cond(
            "PodReadyToStartContainers",
            !terminal && w.sandbox,
            "",
            String::new(),
        ));
        let incomplete: Vec<&str> = w
            .ctrs
            .iter()
            .filter(|c| c.init && !matches!(&c.state, St::Terminated(t) if t.code == 0))
            .map(|c| w.container(c).name.as_str())
            .collect();
        st.conditions.push(cond(
            "Initialized",
            incomplete.is_empty(),
            "ContainersNotInitialized",
            format!(
                "containers with incomplete status: [{}]",
                incomplete.join(" ")
            ),
        ));
        let unready: Vec<&str> = st
            .container_statuses
            .iter()
            .filter(|s| !s.ready)
            .map(|s| s.name.as_str())
            .collect();
        let (reason, message) = if terminal {
            ("PodCompleted", String::new())
        } else {
            (
                "ContainersNotReady",
                format!("containers with unready status: [{}]", unready.join(" ")),
            )
        };
        st.conditions.push(cond(
            "Ready",
            unready.is_empty() && !terminal,
            reason,
            message.clone(),
        ));
        st.conditions.push(cond(
            "ContainersReady",
            unready.is_empty() && !terminal,
            reason,
            message,
        ));
        let scheduled = p
            .status
            .conditions
            .iter()
            .find(|c| c.kind == "PodScheduled")
            .cloned()
            .unwrap_or_else(|| cond("PodScheduled", true, "", String::new()));
        st.conditions.push(scheduled);
        if terminal {
            for c in &mut st.conditions {
                if c.kind == "PodReadyToStartContainers" {
                    c.reason.clear();
                    c.message.clear();
                }
            }
        }
        st
    }

    fn startup_ok(&self, c: &Ctr, ct: &Container) -> bool {
        ct.startup_probe.is_none() || c.probes[2].result
    }

    /// Writes the pod's status when it differs from what was last written.
    fn send_status(&mut self, ctx: &mut Ctx, id: u32) {
        if !self.online() {
            return;
        }
        let now = ctx.now();
        let Some(w) = self.pods.get(&id) else { return };
        if w.deleted_sent {
            return;
        }
        let st = self.build_status(w, now);
        if w.sent.as_ref() == Some(&st) {
            return;
        }
        if matches!(st.phase.as_str(), "Succeeded" | "Failed") {
            self.release(id);
        }
        let Some(w) = self.pods.get(&id) else {
            return;
        };
        let Object::Pod(p) = w.pod.as_ref() else {
            return;
        };
        let mut p = p.clone();
        p.status = st.clone();
        p.metadata.resource_version.clear();
        let who = self.who.clone();
        match ctx.client(&who).update_status(Object::Pod(p)) {
            Ok(o) => {
                if let Some(w) = self.pods.get_mut(&id) {
                    w.pod = o;
                    w.sent = Some(st);
                }
            }
            Err(_) => {
                if let Some(w) = self.pods.get_mut(&id) {
                    w.sent = Some(st);
                }
            }
        }
    }

    // ---- faults ----

    /// `fault: {nodeDown: NODE}`: the machine stops.
    pub fn node_down(&mut self, ctx: &mut Ctx) -> String {
        if self.power == Power::Down {
            return format!("node {} is already down", self.node);
        }
        let now = ctx.now();
        let mut stopped = 0;
        for w in self.pods.values_mut() {
            for c in &mut w.ctrs {
                if matches!(c.state, St::Running) {
                    stopped += 1;
                    if let Some(p) = c.program.clone() {
                        c.previous = Some((p, c.started_at, now));
                    }
                    c.state = St::Terminated(Term {
                        code: 255,
                        reason: "Unknown",
                        message: "",
                        started: Some(c.started_at),
                        finished: now,
                        id: c.container_id.clone(),
                    });
                } else if let St::Pulling { .. } = c.state {
                    c.state = St::Waiting("ContainerCreating", String::new());
                }
                c.kill_at = None;
                c.crash_backoff = Backoff::default();
                c.pull_backoff = Backoff::default();
            }
            w.retry_at = None;
        }
        self.power = Power::Down;
        self.epoch += 1;
        self.puller_free_at = now;
        // Pulls under way are lost with the machine.
        self.pulled_at.retain(|_, done| *done <= now);
        let lease_at = self
            .lease
            .as_deref()
            .and_then(|l| match l {
                Object::Lease(l) => l.spec.renew_time.map(|t| t.to_rfc3339()),
                _ => None,
            })
            .unwrap_or_else(|| "never".into());
        self.note(
            ctx,
            format!("node {} stops", self.node),
            "a fault step: the machine is down, so its kubelet and containers stop; no more lease renewals or status updates",
            vec![ObjRef::new("Node", "", &self.node, 0)],
        );
        format!(
            "node {} is down: its kubelet stopped and {stopped} running container(s) stopped; no more heartbeats (lease last renewed {lease_at})",
            self.node
        )
    }

    /// `fault: {partition: NODE}`: the kubelet loses the API server.
    pub fn partition(&mut self, ctx: &mut Ctx) -> String {
        match self.power {
            Power::Down => return format!("node {} is down; bring it up first", self.node),
            Power::Partitioned => return format!("node {} is already partitioned", self.node),
            Power::Up => {}
        }
        self.power = Power::Partitioned;
        let running: usize = self
            .pods
            .values()
            .map(|w| {
                w.ctrs
                    .iter()
                    .filter(|c| matches!(c.state, St::Running))
                    .count()
            })
            .sum();
        self.note(
            ctx,
            format!("node {} is cut off from the API server", self.node),
            "a fault step: a network partition; the kubelet's requests fail while its containers run on",
            vec![ObjRef::new("Node", "", &self.node, 0)],
        );
        format!(
            "node {} is partitioned: its kubelet cannot reach the API server (no lease renewals, no status updates); {running} container(s) keep running",
            self.node
        )
    }

    /// `fault: {nodeUp: NODE}`: the machine comes back, or the partition heals.
    pub fn node_up(&mut self, ctx: &mut Ctx) -> String {
        let was = self.power;
        if was == Power::Up {
            return format!("node {} is already up", self.node);
        }
        self.power = Power::Up;
        self.report_due = true;
        let what = if was == Power::Down {
            self.note(
                ctx,
                format!("node {} starts", self.node),
                "a fault step: the machine is back; the kubelet starts, renews its lease, reports its status and restarts the pods' containers",
                vec![ObjRef::new("Node", "", &self.node, 0)],
            );
            "is up again: its kubelet restarted"
        } else {
            self.note(
                ctx,
                format!("node {} reaches the API server again", self.node),
                "a fault step: the partition healed; the kubelet renews its lease and sends the status it could not send",
                vec![ObjRef::new("Node", "", &self.node, 0)],
            );
            "is reachable again: the partition healed"
        };
        self.renew_lease(ctx);
        self.sync_node_status(ctx);
        // What the watch delivered meanwhile.
        let buffered = std::mem::take(&mut self.buffered);
        for (k, obj) in buffered {
            match obj {
                Some(o) => self.add_pod(ctx, &o),
                None => self.remove_pod(ctx, k),
            }
        }
        let ids: Vec<u32> = self.pods.keys().copied().collect();
        let mut restarted = 0;
        for id in &ids {
            if was == Power::Down {
                if let Some(w) = self.pods.get(id) {
                    restarted += w
                        .ctrs
                        .iter()
                        .filter(|c| matches!(&c.state, St::Terminated(t) if t.reason == "Unknown"))
                        .count();
                    if w.sandbox && w.rejected.is_none() && !w.deleted_sent {
                        self.event(
                            ctx,
                            *id,
                            None,
                            false,
                            "SandboxChanged",
                            "Pod sandbox changed, it will be killed and re-created.".into(),
                        );
                    }
                }
            }
            if was == Power::Down {
                self.start_probes(ctx, *id);
            }
            self.sync(ctx, *id);
            self.send_status(ctx, *id);
        }
        if was == Power::Down {
            format!(
                "node {} {what}, renewed its lease and reported Ready; {restarted} container(s) restart",
                self.node
            )
        } else {
            format!(
                "node {} {what}; lease renewed, node and pod status sent",
                self.node
            )
        }
    }

    /// `fault: {crash: pod/NS/NAME, container: C}`.
    pub fn crash(
        &mut self,
        ctx: &mut Ctx,
        ns: &str,
        name: &str,
        container: Option<&str>,
    ) -> Result<String, String> {
        if self.power == Power::Down {
            return Err(format!(
                "node {} is down: no container runs there",
                self.node
            ));
        }
        let id = *self
            .by_name
            .get(&(ns.to_string(), name.to_string()))
            .ok_or_else(|| format!("pod {ns}/{name} does not run on node {}", self.node))?;
        let w = &self.pods[&id];
        let ci = match container {
            None => w.ctrs.iter().position(|c| !c.init).unwrap_or(0),
            Some(c) => w
                .ctrs
                .iter()
                .position(|x| w.container(x).name == c)
                .ok_or_else(|| format!("container \"{c}\" is not valid for pod {name}"))?,
        };
        let cname = w.container(&w.ctrs[ci]).name.clone();
        if !matches!(w.ctrs[ci].state, St::Running) {
            return Err(format!(
                "container \"{cname}\" of pod {ns}/{name} is not running"
            ));
        }
        let policy = w.restart_policy().to_string();
        self.note(
            ctx,
            format!("container {cname} of pod {ns}/{name} exits with code 1"),
            "a fault step: the container crashed; restartPolicy decides what follows",
            vec![ObjRef::new("Pod", ns, name, 0)],
        );
        self.container_exited(ctx, id, ci, 1, "Error", "");
        self.sync(ctx, id);
        let follows = match policy.as_str() {
            "Never" => "restartPolicy Never: it stays terminated",
            _ => "restartPolicy restarts it (after the crash back-off if it crashed recently)",
        };
        Ok(format!(
            "container {cname} of pod {ns}/{name} exited with code 1 (Error); {follows}"
        ))
    }

    // ---- views: logs and exec read this ----

    /// The container of a pod this kubelet runs, with its current and previous runs.
    /// The ports the programs of a pod's running containers declare, as
    /// (port, container, listening now): a program listens once it has been up for
    /// its start-up delay. None when the pod is not on this node. For the packet
    /// tracer, which delivers to a listening port or is refused.
    pub fn pod_ports(&self, ns: &str, name: &str, now: Nanos) -> Option<Vec<(u16, String, bool)>> {
        let id = self.by_name.get(&(ns.to_string(), name.to_string()))?;
        let w = self.pods.get(id)?;
        let mut out = Vec::new();
        for c in &w.ctrs {
            let (St::Running, Some(p)) = (&c.state, &c.program) else {
                continue;
            };
            let elapsed = now.saturating_sub(c.started_at);
            for &port in &p.ports {
                out.push((port, w.container(c).name.clone(), p.listens(port, elapsed)));
            }
        }
        Some(out)
    }

    /// What a container of a pod answers to an HTTP GET on `port` (the API server's
    /// proxy paths): Ok((status, body)) from the program listening there, or Err with
    /// the dial error (`connect: connection refused`, `no route to host`). None when
    /// the pod is not on this node.
    pub fn http_get(
        &self,
        ns: &str,
        name: &str,
        port: u16,
        path: &str,
        now: Nanos,
    ) -> Option<Result<(u16, String), &'static str>> {
        let id = self.by_name.get(&(ns.to_string(), name.to_string()))?;
        let w = self.pods.get(id)?;
        if self.power == Power::Down {
            return Some(Err("connect: no route to host"));
        }
        for c in &w.ctrs {
            let (St::Running, Some(p)) = (&c.state, &c.program) else {
                continue;
            };
            if !p.listens(port, now.saturating_sub(c.started_at)) {
                continue;
            }
            let ct = w.container(c);
            return Some(Ok(images::http_answer(
                ct.image.as_deref().unwrap_or(""),
                name,
                port,
                path,
            )));
        }
        Some(Err("connect: connection refused"))
    }

    /// What the kubelet's own server (port 10250) answers to a GET: `/healthz`,
    /// `/pods` (its pods as a PodList), else Go's 404.
    pub fn http_self(&self, path: &str) -> (u16, String) {
        let p = path.split('?').next().unwrap_or("");
        match p.trim_end_matches('/') {
            "/healthz" => (200, "ok".into()),
            "/pods" => {
                let items: Vec<serde_json::Value> =
                    self.pods.values().map(|w| w.pod.to_value()).collect();
                (
                    200,
                    json!({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items})
                        .to_string(),
                )
            }
            _ => (404, "404 page not found\n".into()),
        }
    }

    /// Pods get their addresses from this range instead of the node's podCIDR: the
    /// `docker-bridge` plug-in, where every node's docker0 has docker's default
    /// 172.17.0.0/16 (the seed's problem: the same subnet on every node).
    pub fn set_pod_range(&mut self, cidr: Cidr) {
        self.pod_range = Some(cidr);
        self.pod_cidr = Some(cidr);
    }

    fn find(&self, ns: &str, name: &str, container: &str) -> Option<(&PodW, &Ctr)> {
        let id = self.by_name.get(&(ns.to_string(), name.to_string()))?;
        let w = self.pods.get(id)?;
        let c = w.ctrs.iter().find(|c| w.container(c).name == container)?;
        Some((w, c))
    }
}

enum Step {
    /// Running or done: go on with the next container.
    Done,
    /// A pull is under way: the worker waits for it.
    Busy,
    /// An error: retry after the worker's back-off.
    Retry,
    #[allow(dead_code)]
    Failed,
}

fn new_ctr(init: bool, idx: usize) -> Ctr {
    Ctr {
        init,
        idx,
        state: St::Waiting("ContainerCreating", String::new()),
        restart_count: 0,
        last: None,
        runs: 0,
        started_at: 0,
        program: None,
        previous: None,
        crash_backoff: Backoff::default(),
        pull_backoff: Backoff::default(),
        probes: [ProbeState::default(); 3],
        kill_at: None,
        stop_reason: "",
        container_id: String::new(),
        shown_waiting: None,
    }
}

fn pod_key(w: &PodW) -> (String, String) {
    (
        w.pod().metadata.namespace.clone(),
        w.pod().metadata.name.clone(),
    )
}

/// The resources node admission counts besides pods.
const RESOURCES: [&str; 3] = ["cpu", "memory", "ephemeral-storage"];

/// A resource request of a pod as the kubelet's admission counts it (milli-CPU,
/// bytes): max(sum of containers, largest init container) plus overhead.
fn pod_request(p: &Pod, res: &str) -> i64 {
    let v = |c: &Container| {
        c.request(res)
            .map(|q| {
                if res == "cpu" {
                    q.milli_value()
                } else {
                    q.value()
                }
            })
            .unwrap_or(0)
    };
    let sum: i64 = p.spec.containers.iter().map(v).sum();
    let init = p.spec.init_containers.iter().map(v).max().unwrap_or(0);
    let overhead = p
        .spec
        .overhead
        .get(res)
        .map(|q| {
            if res == "cpu" {
                q.milli_value()
            } else {
                q.value()
            }
        })
        .unwrap_or(0);
    sum.max(init) + overhead
}

fn time(n: Nanos) -> Option<Time> {
    Some(Time::from_virtual_nanos(n))
}

fn term_state(t: &Term) -> ContainerState {
    ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: t.code,
            reason: t.reason.into(),
            message: t.message.into(),
            started_at: t.started.and_then(time),
            finished_at: time(t.finished),
            container_id: t.id.clone(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn container_status(c: &Ctr, ct: &Container, startup_ok: bool) -> ContainerStatus {
    let image = ct.image.clone().unwrap_or_default();
    let ran = c.runs > 0;
    let mut s = ContainerStatus {
        name: ct.name.clone(),
        restart_count: c.restart_count,
        image: if ran {
            images::normalized(&image)
        } else {
            image.clone()
        },
        ..Default::default()
    };
    if ran {
        let repo = images::canonical_repository(images::repository_of(&image));
        s.image_id = format!("{repo}@sha256:{}", images::digest(&repo));
    }
    match &c.state {
        St::Waiting(reason, message) => {
            s.state.waiting = Some(ContainerStateWaiting {
                reason: (*reason).into(),
                message: message.clone(),
            });
            s.started = Some(false);
        }
        St::Pulling { .. } => {
            let (reason, message) = c
                .shown_waiting
                .clone()
                .unwrap_or(("ContainerCreating", String::new()));
            s.state.waiting = Some(ContainerStateWaiting {
                reason: reason.into(),
                message,
            });
            s.started = Some(false);
        }
        St::Running => {
            s.state.running = Some(ContainerStateRunning {
                started_at: time(c.started_at),
            });
            s.container_id = c.container_id.clone();
            s.started = Some(startup_ok);
            s.ready = startup_ok && (ct.readiness_probe.is_none() || c.probes[0].result);
        }
        St::Terminated(t) => {
            s.state = term_state(t);
            s.container_id = t.id.clone();
            s.started = Some(false);
        }
    }
    if let Some(t) = &c.last {
        match &c.state {
            // Restarting without an error yet: the runtime still shows the exited one.
            St::Pulling { .. } | St::Waiting("ContainerCreating", _)
                if c.shown_waiting.is_none() =>
            {
                s.state = term_state(t);
                s.container_id = t.id.clone();
            }
            St::Waiting(..) | St::Pulling { .. } => {
                s.last_state = term_state(t);
                s.container_id = t.id.clone();
            }
            St::Running => s.last_state = term_state(t),
            St::Terminated(_) => {}
        }
    }
    s
}

/// Runs a probe against the simulated program.
fn run_probe(probe: &Probe, ct: &Container, c: &Ctr, w: &PodW, elapsed: Nanos) -> (bool, String) {
    let Some(program) = c.program.as_deref() else {
        return (false, "container is not running".into());
    };
    let ip = w.pod().status.pod_ip.clone();
    let port_of = |v: Option<&serde_json::Value>| -> Option<u16> {
        match v? {
            serde_json::Value::Number(n) => n.as_u64().map(|p| p as u16),
            serde_json::Value::String(s) => s.parse().ok().or_else(|| {
                ct.ports
                    .iter()
                    .find(|p| p.name.as_deref() == Some(s.as_str()))
                    .map(|p| p.container_port as u16)
            }),
            _ => None,
        }
    };
    if let Some(h) = probe.http_get.as_deref() {
        let port = port_of(h.get("port")).unwrap_or(0);
        let path = h.get("path").and_then(|p| p.as_str()).unwrap_or("/");
        let scheme = h
            .get("scheme")
            .and_then(|p| p.as_str())
            .unwrap_or("HTTP")
            .to_ascii_lowercase();
        if !program.listens(port, elapsed) {
            return (
                false,
                format!("Get \"{scheme}://{ip}:{port}{path}\": dial tcp {ip}:{port}: connect: connection refused"),
            );
        }
        if program.healthy_for.is_some_and(|h| elapsed > h) {
            return (false, "HTTP probe failed with statuscode: 500".into());
        }
        return (true, String::new());
    }
    if let Some(t) = probe.tcp_socket.as_deref().or(probe.grpc.as_deref()) {
        let port = port_of(t.get("port")).unwrap_or(0);
        if !program.listens(port, elapsed) {
            return (
                false,
                format!("dial tcp {ip}:{port}: connect: connection refused"),
            );
        }
        return (true, String::new());
    }
    if let Some(e) = probe.exec.as_deref() {
        let argv: Vec<String> = e
            .get("command")
            .and_then(|c| c.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let words: Vec<&str> = match argv
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            [sh, "-c", script] if sh.ends_with("sh") => script.split_whitespace().collect(),
            other => other.to_vec(),
        };
        return match words.as_slice() {
            ["cat", file] => {
                if program.file_exists(file, elapsed) {
                    (true, String::new())
                } else {
                    (
                        false,
                        format!("cat: can't open '{file}': No such file or directory"),
                    )
                }
            }
            ["test", "-e" | "-f", file] | ["[", "-e" | "-f", file, "]"] => {
                (program.file_exists(file, elapsed), String::new())
            }
            ["false"] | ["exit", "1"] => (false, String::new()),
            _ => (true, String::new()),
        };
    }
    (true, String::new())
}

fn not_found_error(image: &str, norm: &str) -> String {
    if images::registry_of(image) == "docker.io" {
        format!("rpc error: code = Unknown desc = failed to pull and unpack image \"{norm}\": failed to resolve reference \"{norm}\": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed")
    } else {
        format!("rpc error: code = NotFound desc = failed to pull and unpack image \"{norm}\": failed to resolve reference \"{norm}\": {norm}: not found")
    }
}

fn unauthorized_error(image: &str, norm: &str) -> String {
    let registry = images::registry_of(image);
    if registry == "docker.io" {
        return not_found_error(image, norm);
    }
    let (path, tag) = match norm[registry.len() + 1..].rsplit_once(':') {
        Some((p, t)) => (p.to_string(), t.to_string()),
        None => (norm[registry.len() + 1..].to_string(), "latest".into()),
    };
    format!("rpc error: code = Unknown desc = failed to pull and unpack image \"{norm}\": failed to resolve reference \"{norm}\": unexpected status from HEAD request to https://{registry}/v2/{path}/manifests/{tag}: 401 Unauthorized")
}

fn base64_decode(s: &str) -> Option<String> {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for b in s.bytes().filter(|b| !b.is_ascii_whitespace() && *b != b'=') {
        let v = T.iter().position(|x| *x == b)? as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    String::from_utf8(out).ok()
}

impl Component for Kubelet {
    fn name(&self) -> String {
        self.actor.to_string()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        let mut spec = WatchSpec::new(&PODS, self.actor.to_string());
        spec.fields =
            crate::api::fields::FieldSelector::one_term_equal("spec.nodeName", &self.node);
        vec![spec]
    }

    fn start(&mut self, ctx: &mut Ctx) {
        ctx.after(0, key(0, K_START, 0, 0));
    }

    fn on_event(&mut self, ctx: &mut Ctx, _watch: usize, kind: EventType, obj: &Arc<Object>) {
        if !self.online() {
            let k = (obj.meta().namespace.clone(), obj.meta().name.clone());
            let v = (kind != EventType::Deleted).then(|| obj.clone());
            self.buffered.insert(k, v.clone());
            return;
        }
        match kind {
            EventType::Added => self.add_pod(ctx, obj),
            EventType::Modified => {
                let k = (obj.meta().namespace.clone(), obj.meta().name.clone());
                match self.by_name.get(&k) {
                    Some(&id) => self.update_pod(ctx, id, obj),
                    None => self.add_pod(ctx, obj),
                }
            }
            EventType::Deleted => {
                let k = (obj.meta().namespace.clone(), obj.meta().name.clone());
                self.remove_pod(ctx, k);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, k: u64) {
        let pod = (k >> 32) as u32;
        let kind = (k >> 24) & 0xff;
        let ci = ((k >> 16) & 0xff) as usize;
        let run = (k & 0xffff) as u32;
        if pod == 0 {
            match kind {
                K_START => {
                    self.refresh_node(ctx);
                    self.renew_lease(ctx);
                    ctx.every(LEASE_RENEW_INTERVAL, key(0, K_LEASE, 0, 0));
                    ctx.every(NODE_STATUS_UPDATE_FREQUENCY, key(0, K_STATUS, 0, 0));
                }
                K_LEASE => {
                    if self.power != Power::Down {
                        self.renew_lease(ctx);
                    }
                    ctx.every(LEASE_RENEW_INTERVAL, key(0, K_LEASE, 0, 0));
                }
                K_STATUS => {
                    self.sync_node_status(ctx);
                    ctx.every(NODE_STATUS_UPDATE_FREQUENCY, key(0, K_STATUS, 0, 0));
                }
                _ => {}
            }
            return;
        }
        if self.power == Power::Down {
            if kind == K_PROBE {
                // Probe workers die with the kubelet; they restart with the pods.
                let _ = run;
            }
            if let Some(w) = self.pods.get_mut(&pod) {
                w.retry_at = None;
            }
            return;
        }
        match kind {
            K_SYNC => {
                if let Some(w) = self.pods.get_mut(&pod) {
                    if w.retry_at.is_some_and(|r| r > ctx.now()) {
                        return;
                    }
                    w.retry_at = None;
                }
                self.sync(ctx, pod);
            }
            K_PULLED => self.sync(ctx, pod),
            K_EXIT => {
                let Some(w) = self.pods.get(&pod) else { return };
                let Some(c) = w.ctrs.get(ci) else { return };
                if c.runs & 0xffff != run || !matches!(c.state, St::Running) {
                    return;
                }
                let code = c.program.as_ref().and_then(|p| p.exit).map_or(0, |e| e.1);
                self.container_exited(
                    ctx,
                    pod,
                    ci,
                    code,
                    if code == 0 { "Completed" } else { "Error" },
                    "its program ended",
                );
                self.sync(ctx, pod);
            }
            K_KILL => {
                let Some(w) = self.pods.get(&pod) else { return };
                let Some(c) = w.ctrs.get(ci) else { return };
                if c.runs & 0xffff != run || c.kill_at != Some(ctx.now()) {
                    return;
                }
                self.container_exited(
                    ctx,
                    pod,
                    ci,
                    137,
                    "Error",
                    "it ignored SIGTERM and was killed (SIGKILL) when the grace period ended",
                );
                self.sync(ctx, pod);
            }
            K_PROBE if run >> 4 == self.epoch & 0xfff => {
                self.probe(ctx, pod, ci, (run & 0xf) as usize)
            }
            _ => {}
        }
    }

    fn period(&self) -> Option<Nanos> {
        Some(NODE_STATUS_UPDATE_FREQUENCY)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
