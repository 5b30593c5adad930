//! The wire protocol between the page (main thread) and the worker that runs the
//! simulation: every message either side sends, and the codec.
//!
//! Architecture invariant 5: serialization happens only here. The types are plain
//! serde data with no web dependency, so they are tested natively. The codec is
//! postcard (`to_allocvec`: compact, not self-describing), so no type here uses serde attributes
//! that need a self-describing format (tags, flatten, skip_serializing_if) and no
//! `serde_json::Value` crosses the boundary: objects travel as YAML text.
//!
//! Invariant 7: the worker sends deltas and aggregates ([`Frame`], [`MapDelta`]),
//! never the whole cluster.

use serde::{Deserialize, Serialize};

use crate::kernel::{ObjRef, Stage, TraceDetail, TraceEntry};

/// Bumped whenever a stored [`InputsLog`] can no longer be read by this code.
pub const LOG_VERSION: u32 = 1;

/// A point in the simulation's history: how many operations (events run,
/// scenario steps, a person's actions) had been done, and the virtual time.
/// Replaying the same inputs to the same stamp gives the same cluster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Stamp {
    pub ops: u64,
    /// Virtual nanoseconds.
    pub time: u64,
}

/// What a person did to the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PersonAction {
    /// `kubectl apply -f -` of the editor's text.
    Apply { text: String },
    /// A kubectl command line.
    Kubectl { line: String },
    /// A raw request, as with curl.
    Request {
        method: String,
        path: String,
        body: String,
        content_type: String,
    },
    /// Create this many pods, spread over the nodes, in slices (a benchmark).
    ScaleTest { pods: u32 },
    /// A fault or a node operation from the inspector's buttons.
    Fault(Fault),
    /// The network view's editor: the `iptables-restore` step on a node's tables.
    IptablesRestore {
        node: String,
        rules: String,
        noflush: bool,
    },
}

/// What the inspector's buttons do: the `fault` steps, and the kubectl commands
/// that take a node out of service or remove a pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    /// `fault: {nodeDown: NODE}`: the machine stops, its kubelet with it.
    NodeDown { node: String },
    /// `fault: {nodeUp: NODE}`: the machine is back, or the partition heals.
    NodeUp { node: String },
    /// `fault: {partition: NODE}`: the kubelet cannot reach the API server.
    Partition { node: String },
    /// `fault: {crash: pod/NS/NAME, container: C}` (C empty: the first container).
    Crash {
        namespace: String,
        pod: String,
        container: String,
    },
    /// `kubectl delete pod NAME -n NS`.
    DeletePod { namespace: String, pod: String },
    /// `kubectl cordon NODE`.
    Cordon { node: String },
    /// `kubectl uncordon NODE`.
    Uncordon { node: String },
    /// `kubectl drain NODE --ignore-daemonsets --delete-emptydir-data`.
    Drain { node: String },
}

impl PersonAction {
    pub fn source(&self) -> Source {
        match self {
            PersonAction::Apply { .. } => Source::Editor,
            PersonAction::Kubectl { .. } => Source::Kubectl,
            PersonAction::Request { .. } => Source::Request,
            PersonAction::ScaleTest { .. } => Source::ScaleTest,
            PersonAction::Fault(_) => Source::Inspector,
            PersonAction::IptablesRestore { .. } => Source::Network,
        }
    }
}

/// Which part of the page an action came from (its reply goes back there).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    Editor,
    Kubectl,
    Request,
    ScaleTest,
    /// The inspector's fault and node buttons.
    Inspector,
    /// The network view's iptables-restore editor.
    Network,
}

/// One action, stamped with the point in history where it was taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    pub at: Stamp,
    pub action: PersonAction,
}

/// The source of truth for a session: the scenario and every action a person
/// took, each stamped. Local storage keeps it; a restarted worker replays it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputsLog {
    pub version: u32,
    /// The example's id (empty for a scenario given as text).
    pub scenario: String,
    /// The scenario file's text.
    pub scenario_text: String,
    pub inputs: Vec<Input>,
    /// How far the simulation had run when the log was last saved.
    pub head: Stamp,
}

/// How fast play runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Speed {
    /// Virtual seconds per wall second.
    Times(f64),
    /// As fast as the worker can go, in slices.
    Max,
}

/// Page to worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// Build the cluster from a log (None: the default example) and answer `Ready`.
    Start {
        log: Option<InputsLog>,
    },
    /// Start over with an example scenario.
    Load {
        scenario: String,
    },
    Play {
        speed: Speed,
    },
    Pause,
    /// Run exactly the next event (moving virtual time to it if needed).
    Step,
    /// A person's action; with `fork_at`, history after that trace entry is
    /// dropped first and the cluster rebuilt to it by replay.
    Act {
        id: u64,
        action: PersonAction,
        fork_at: Option<u64>,
    },
    Query {
        id: u64,
        query: Query,
    },
    /// Panic on purpose (to show and test recovery). Never logged.
    Crash,
}

/// Questions that change nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Query {
    /// An object as it was right after trace entry `at` (None: now).
    Object { key: ObjKey, at: Option<u64> },
    /// Trace entries from sequence number `from`.
    Entries { from: u64, count: u32 },
    /// Names of stored objects of a kind, for the resource tree.
    List {
        kind: String,
        offset: u32,
        limit: u32,
    },
    /// The cluster map as it was right after trace entry `seq`.
    MapAt { seq: u64 },
    /// The scheduling queue, and the latest decision of a pod (`namespace/name`;
    /// None: the latest attempt), its nodes from `offset`, at most `limit`.
    Scheduling {
        pod: Option<String>,
        offset: u32,
        limit: u32,
    },
    /// The same inputs replayed with another scheduler configuration (YAML: a
    /// KubeSchedulerConfiguration or a Policy), and the pod's decision there.
    Compare {
        config: String,
        pod: Option<String>,
        limit: u32,
    },
    /// The control loops seen in the trace, and one reconcile of a loop (`name`:
    /// a component, or `kubelet` for every kubelet; None: the most recent loop):
    /// the last one that started at or before trace entry `at` (None: its newest).
    Controllers {
        name: Option<String>,
        at: Option<u64>,
    },
    /// A Deployment's rollout (`namespace/name`; empty: the first one).
    Rollout { deployment: String },
    /// What happened to a node (empty: the first one that missed heartbeats).
    NodeFailure { node: String },
    /// The network view: the ends to trace between, and a node's iptables rules
    /// (empty: the first node that has them); rules whose [`rule_key`] is in `lit`
    /// are sent even beyond a chain's page.
    Network { node: String, lit: Vec<String> },
    /// One packet followed from `from` to `to` (the `trace` step; proto empty: tcp),
    /// with the HTTP request's Host header and path an ingress controller routes by
    /// (empty: the destination address and `/`).
    PacketTrace {
        from: String,
        to: String,
        proto: String,
        host: String,
        path: String,
    },
    /// A node's network namespaces: its root one and its pods' (empty: the first node).
    Topology { node: String },
    /// The same inputs replayed into clusters that differ only in the network
    /// plug-in, and the same packet traced in each.
    NetCompare {
        from: String,
        to: String,
        proto: String,
        host: String,
        path: String,
    },
}

/// Worker to page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// The first answer after `Start`: the worker runs.
    Ready {
        examples: Vec<ExampleInfo>,
        scenario: String,
        /// Inputs the worker is replaying from the log.
        replaying: u32,
    },
    Frame(Frame),
    Reply {
        id: u64,
        reply: Reply,
    },
    /// The inputs log changed; the page keeps a copy in local storage.
    Log(LogUpdate),
    /// A rebuild by replay (after a restart or a fork) is under way.
    Busy {
        done: u64,
        total: u64,
    },
    /// The scenario could not be read or the cluster not built.
    Failed {
        message: String,
    },
    /// The worker panicked and is stopping; the page starts a fresh one.
    Panicked {
        message: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogUpdate {
    Reset(InputsLog),
    Append(Input),
    Head(Stamp),
}

/// An example scenario for the picker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExampleInfo {
    pub id: String,
    pub title: String,
    pub description: String,
}

/// What changed since the last frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    pub head: Head,
    /// The newest trace entries since the last frame (at most a few dozen; older
    /// ones are fetched with [`Query::Entries`]).
    pub entries: Vec<EntryView>,
    pub map: Option<MapDelta>,
    /// Stored objects per kind, when changed.
    pub kinds: Option<Vec<KindCount>>,
    /// Lines for the console from scenario steps.
    pub transcript: Vec<TranscriptLine>,
}

/// The simulation's head: where it is, and what it is doing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Head {
    pub stamp: Stamp,
    /// The oldest trace entry still held in full, and the newest (0: none).
    pub first_seq: u64,
    pub last_seq: u64,
    pub revision: u64,
    /// The play speed, when playing.
    pub playing: Option<Speed>,
    pub scenario_done: u32,
    pub scenario_steps: u32,
    pub pending_events: u64,
    pub next_event_at: Option<u64>,
    /// A scale test in progress: pods created, pods asked for.
    pub job: Option<(u64, u64)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCount {
    pub kind: String,
    pub count: u64,
}

/// A scenario step's command and what it printed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptLine {
    pub command: String,
    pub stdout: String,
    pub stderr: String,
    pub ok: bool,
}

/// An object's identity.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjKey {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjKey {
    pub fn new(kind: &str, namespace: &str, name: &str) -> ObjKey {
        ObjKey {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// `Pod default/web`, `Node node-1`.
    pub fn display(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// A trace entry as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryView {
    pub seq: u64,
    pub time: u64,
    pub actor: String,
    pub action: String,
    pub reason: String,
    pub objects: Vec<ObjRefView>,
    pub detail: DetailView,
    /// The store's revision right after this entry.
    pub revision: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjRefView {
    pub key: ObjKey,
    pub revision: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DetailView {
    Note,
    Request {
        method: String,
        path: String,
        user: String,
        code: u16,
        stages: Vec<StageView>,
    },
    Watch {
        event: String,
        revision: u64,
        watchers: Vec<String>,
    },
    Input {
        step: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageView {
    pub name: String,
    /// `passed`, `failed` or `skipped`.
    pub outcome: String,
    pub reason: String,
}

impl From<&ObjRef> for ObjRefView {
    fn from(r: &ObjRef) -> Self {
        ObjRefView {
            key: ObjKey::new(r.kind, &r.namespace, &r.name),
            revision: r.revision,
        }
    }
}

impl From<&Stage> for StageView {
    fn from(s: &Stage) -> Self {
        StageView {
            name: s.name.to_string(),
            outcome: s.outcome.into(),
            reason: s.reason.to_string(),
        }
    }
}

impl EntryView {
    /// The page's view of a trace entry; `revision` is the store's revision right after it.
    pub fn new(e: &TraceEntry, revision: u64) -> EntryView {
        let detail = match &e.detail {
            TraceDetail::Note => DetailView::Note,
            TraceDetail::Request {
                method,
                path,
                user,
                code,
                stages,
            } => DetailView::Request {
                method: method.to_string(),
                path: path.clone(),
                user: user.to_string(),
                code: *code,
                stages: stages.iter().map(StageView::from).collect(),
            },
            TraceDetail::Watch {
                event,
                revision,
                watchers,
            } => DetailView::Watch {
                event: (*event).into(),
                revision: *revision,
                watchers: watchers.iter().map(|w| w.to_string()).collect(),
            },
            TraceDetail::Input { step } => DetailView::Input { step: step.clone() },
        };
        EntryView {
            seq: e.seq,
            time: e.time,
            actor: e.actor.to_string(),
            action: e.action.to_string(),
            reason: e.reason.to_string(),
            objects: e.objects.iter().map(ObjRefView::from).collect(),
            detail,
            revision,
        }
    }
}

/// Answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    Acted {
        source: Source,
        result: ActResult,
    },
    Object(ObjectView),
    Entries(Vec<EntryView>),
    List {
        kind: String,
        total: u64,
        items: Vec<ObjKey>,
    },
    Map {
        seq: u64,
        map: MapDelta,
    },
    Scheduling(Box<SchedView>),
    Compare(Box<CompareView>),
    Controllers(Box<CtlView>),
    Rollout(Box<RolloutView>),
    NodeFailure(Box<NodeFailView>),
    Network(Box<NetworkView>),
    PacketTrace(Box<PacketTraceView>),
    Topology(Box<TopologyView>),
    NetCompare(Box<NetCompareView>),
    Failed(String),
}

/// What an action printed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActResult {
    /// The command as typed (`kubectl get pods`).
    pub command: String,
    pub stdout: String,
    pub stderr: String,
    pub ok: bool,
    /// Where in the editor's text a YAML error is (1-based line and column).
    pub position: Option<(u32, u32)>,
    /// For a raw request: its status code and the trace entry of its stages.
    pub code: Option<u16>,
    pub entry: Option<EntryView>,
}

/// An object at a revision, as YAML.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectView {
    pub key: ObjKey,
    /// The trace entry asked about (None: now).
    pub at: Option<u64>,
    pub revision: u64,
    /// None: the object did not exist then.
    pub yaml: Option<String>,
    /// Whether a replay was needed (the revision was beyond the store's history window).
    pub replayed: bool,
    /// A Pod's containers (`spec.containers`), for the inspector's crash button.
    pub containers: Vec<String>,
}

/// Pod phases, in the order the map counts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Phase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::Pending,
        Phase::Running,
        Phase::Succeeded,
        Phase::Failed,
        Phase::Unknown,
    ];

    pub fn parse(s: &str) -> Phase {
        match s {
            "" | "Pending" => Phase::Pending,
            "Running" => Phase::Running,
            "Succeeded" => Phase::Succeeded,
            "Failed" => Phase::Failed,
            _ => Phase::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Running => "Running",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
            Phase::Unknown => "Unknown",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    pub name: String,
    pub ready: bool,
    pub unschedulable: bool,
    /// `topology.kubernetes.io/zone`, if labelled.
    pub zone: String,
    /// `status.allocatable.pods`.
    pub pod_capacity: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodView {
    pub namespace: String,
    pub name: String,
    /// Empty: not bound to a node.
    pub node: String,
    pub phase: Phase,
    /// `ReplicaSet/web-5d4f8`, or empty.
    pub owner: String,
    pub deleting: bool,
}

/// Pods per phase on one node ("" for pods bound to no node).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeCounts {
    pub node: String,
    pub counts: [u64; 5],
}

/// Changes to the cluster map. With `reset`, the page drops what it had first.
/// Pods are listed one by one only while the cluster is small (`detailed`);
/// beyond that the page draws per-node counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapDelta {
    pub reset: bool,
    pub detailed: bool,
    pub nodes: Vec<NodeView>,
    pub removed_nodes: Vec<String>,
    pub pods: Vec<PodView>,
    /// (namespace, name)
    pub removed_pods: Vec<(String, String)>,
    pub counts: Vec<NodeCounts>,
    pub total_pods: u64,
}

/// The scheduling view: the queue and one pod's decision, built from the
/// scheduler's decision record (bounded: a page of nodes, the rest counted).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedView {
    pub queue: QueueView,
    pub decision: Option<DecisionView>,
    /// Why there is no decision for the pod asked about (empty: there is one, or
    /// no pod was asked about and none was attempted yet).
    pub missing: String,
    /// The scheduler's configuration as given in the scenario (YAML), or a
    /// default KubeSchedulerConfiguration to start editing from.
    pub config: String,
}

/// The scheduling queue: counts per place, the pods waiting (a bounded list) and
/// the newest attempts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueView {
    pub active: u64,
    pub backoff: u64,
    pub unschedulable: u64,
    /// Waiting pods, at most a page, by place then name.
    pub pods: Vec<QueuedPodView>,
    /// The newest attempts, newest first (at most a page).
    pub recent: Vec<AttemptSummary>,
    /// Attempts made since the start.
    pub attempts: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedPodView {
    /// `namespace/name`.
    pub pod: String,
    /// `activeQ`, `backoffQ`, `unschedulablePods` or `in flight`.
    pub place: String,
    pub attempts: u32,
    /// The plugins that rejected it last time.
    pub plugins: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptSummary {
    pub seq: u64,
    pub pod: String,
    /// Empty: no node fitted.
    pub node: String,
    pub time: u64,
}

/// One attempt of a pod, as the page steps through it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionView {
    pub pod: String,
    pub seq: u64,
    pub attempt: u32,
    pub cycle: u64,
    pub time: u64,
    pub profile: String,
    /// The top of the score scale (100, or 10 for a legacy Policy).
    pub scale: i64,
    pub legacy: bool,
    /// Empty: no node fitted.
    pub node: String,
    /// The FailedScheduling message when no node fitted.
    pub message: String,
    pub all_nodes: u64,
    pub evaluated: u64,
    pub feasible: u64,
    /// The filter plugins, in the order they run.
    pub filters: Vec<String>,
    pub scores: Vec<ScoreColumnView>,
    /// Rows the record holds in full; `rows` is the page from `offset`.
    pub rows_total: u32,
    pub offset: u32,
    /// The winner first, then feasible nodes by total, then rejected nodes.
    pub rows: Vec<NodeRow>,
    /// Nodes rejected, counted per reason over every evaluated node.
    pub rejected: Vec<ReasonCount>,
    /// Feasible nodes the record counted but did not keep.
    pub omitted_feasible: u64,
    /// PreFilter and PreScore notes, notes on the cycle and on preemption.
    pub notes: Vec<String>,
    /// The binding request through the API server, if still in the trace.
    pub bind: Option<EntryView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreColumnView {
    pub plugin: String,
    pub weight: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCount {
    pub reason: String,
    pub count: u64,
}

/// One node of an attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRow {
    pub name: String,
    /// One per filter column.
    pub filters: Vec<FilterCell>,
    /// One per score column (empty for a rejected node).
    pub scores: Vec<ScoreCell>,
    pub total: Option<i64>,
    pub nominated: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilterCell {
    Passed,
    /// Upstream's status code and reasons.
    Failed {
        status: String,
        reasons: Vec<String>,
    },
    /// Filters stop at a node's first failure.
    NotRun,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreCell {
    pub raw: i64,
    pub score: i64,
    /// `score × weight`.
    pub weighted: i64,
    pub arithmetic: String,
}

/// The same inputs under another scheduler configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompareView {
    pub config: String,
    /// The configuration could not be used (then nothing else is set).
    pub error: String,
    /// The pod's decision under the other configuration.
    pub decision: Option<DecisionView>,
    pub missing: String,
    /// Pods compared (bound under either configuration), and those placed differently.
    pub pods: u64,
    pub differ: u64,
    /// Pods placed differently (at most a page): pod, node now, node there.
    pub differences: Vec<(String, String, String)>,
}

/// The control loops and one reconcile, built from the trace's newest entries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtlView {
    /// Loops by name (kubelets grouped as `kubelet`).
    pub loops: Vec<LoopSummary>,
    /// The loop shown (empty: none acted yet).
    pub name: String,
    pub reconcile: Option<ReconcileView>,
    /// Trace entries looked at (the newest ones).
    pub window: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopSummary {
    pub name: String,
    /// Components in the group (kubelets), 1 otherwise.
    pub members: u32,
    pub reconciles: u32,
    pub last_time: u64,
    /// The newest actions, newest first (at most 3).
    pub recent: Vec<String>,
}

/// One reconcile: what the loop observed (watch events delivered to it since its
/// previous reconcile), and what it did and why (its notes and requests).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileView {
    pub index: u32,
    pub total: u32,
    /// The trace entry it starts at, and where the previous and next start (0: none).
    pub seq: u64,
    pub prev: u64,
    pub next: u64,
    /// The component (`kubelet/node-1`).
    pub actor: String,
    pub time: u64,
    pub observed: Vec<EntryView>,
    pub actions: Vec<EntryView>,
    /// Entries of the reconcile not sent (beyond a page).
    pub more: u32,
}

/// A Deployment's ReplicaSets at each change, with the rolling update's bounds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutView {
    /// `namespace/name`, and the Deployments to pick from (a page).
    pub deployment: String,
    pub deployments: Vec<String>,
    /// `RollingUpdate` or `Recreate`, and the bounds as given (`25%`).
    pub strategy: String,
    pub max_surge: String,
    pub max_unavailable: String,
    /// The ReplicaSets seen: (name, `deployment.kubernetes.io/revision`).
    pub sets: Vec<(String, String)>,
    pub points: Vec<RolloutPoint>,
    /// Earlier points not sent.
    pub dropped: u64,
}

/// The counts right after one change of the Deployment or its ReplicaSets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutPoint {
    /// The trace entry of the change (0: not in the trace), its time, the store revision.
    pub seq: u64,
    pub time: u64,
    pub revision: u64,
    pub desired: i32,
    /// desired + maxSurge and desired − maxUnavailable, resolved as upstream
    /// (None: the Recreate strategy).
    pub bounds: Option<(i32, i32)>,
    /// Index of the new ReplicaSet in `sets` (the highest revision), if any.
    pub new: Option<u16>,
    /// New ReplicaSet: spec, ready, available; then the same summed over the old ones.
    pub counts: [i32; 6],
}

/// What happened to a node, from its heartbeats to its pods' replacements.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeFailView {
    pub node: String,
    /// Nodes to pick from (a page).
    pub nodes: Vec<String>,
    /// The Lease's renewals seen, the last renewTime (virtual ns), the renew interval (s).
    pub renewals: u64,
    pub last_renew: Option<u64>,
    pub interval: u32,
    pub items: Vec<FailItem>,
    /// Earlier items not sent.
    pub dropped: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailKind {
    /// `subject`: renewals in a row; `detail`: the last renewTime.
    Renewed,
    /// A heartbeat expected at `time` that did not come; `subject`: its number.
    Missed,
    /// The Ready condition: `subject` the status, `detail` reason and message.
    Ready,
    /// `subject`: `key:effect`.
    TaintAdded,
    TaintRemoved,
    /// A pod of the node deleted or marked for deletion (`actor` did it, `detail` why).
    PodDeleted,
    /// A pod created by the owner of a deleted one (`detail`: the owner).
    PodCreated,
    /// A pod bound to a node (`detail`: the node).
    PodBound,
    /// Another note or step about the node (`subject`: action, `detail`: reason).
    Note,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailItem {
    pub kind: FailKind,
    pub time: u64,
    /// The trace entry (0: none, e.g. a missed heartbeat).
    pub seq: u64,
    pub actor: String,
    pub subject: String,
    pub detail: String,
}

/// The network view: what a trace can start from and go to, and one node's rules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkView {
    /// Every node (a page), and whether it has iptables rules here.
    pub nodes: Vec<(String, bool)>,
    /// Sources to pick from: `pod/NS/NAME` (a page), then `node/NAME`.
    pub ends: Vec<String>,
    /// Destinations to suggest: `svc/NS/NAME:PORT` (a page).
    pub services: Vec<String>,
    /// The node shown, its rules, or why there are none.
    pub node: String,
    pub iptables: Option<IptablesView>,
    pub missing: String,
}

/// One node's netfilter tables as the page draws them (bounded: a page of chains
/// per table and of rules per chain, the rest counted).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IptablesView {
    pub node: String,
    /// Rules in all tables.
    pub rules: u64,
    pub tables: Vec<TableView>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableView {
    /// `filter`, `nat`, `mangle`, `raw`.
    pub name: String,
    /// Built-in chains in hook order, then user chains by name.
    pub chains: Vec<ChainView>,
    /// Chains not sent.
    pub more_chains: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainView {
    pub name: String,
    /// `ACCEPT`/`DROP` for a built-in chain; empty for a user chain.
    pub policy: String,
    /// Packets and bytes that met the policy.
    pub packets: u64,
    pub bytes: u64,
    pub rules: Vec<RuleView>,
    /// Rules not sent.
    pub more: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleView {
    /// 1-based position in its chain (as `iptables -L --line-numbers`).
    pub number: u32,
    /// The rule as iptables-save prints it (`-A CHAIN ...`).
    pub text: String,
    /// The chain a `-j`/`-g` jumps to (empty: a verdict or no target).
    pub jump: String,
    pub packets: u64,
    pub bytes: u64,
}

/// A packet trace as asked and as the tracer answered, read from its JSON with
/// every field optional; fields the page does not know are kept as text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PacketTraceView {
    /// What was asked: from, to, proto.
    pub asked: (String, String, String),
    /// The tracer's error (then nothing else is set).
    pub error: String,
    /// `delivered` or `dropped` (or another word the tracer uses).
    pub verdict: String,
    pub from: String,
    pub to: String,
    pub proto: String,
    pub plugin: String,
    pub hops: Vec<HopView>,
    /// Other top-level fields: (name, JSON text).
    pub extra: Vec<(String, String)>,
    /// The whole answer as indented JSON.
    pub json: String,
    /// What dropped it (the tracer's `droppedBy`; empty: not said).
    pub dropped_by: String,
    /// The answer's way back through conntrack, when the packet was delivered.
    pub reply: Option<TraceReplyView>,
    /// The HTTP Host header and path asked with (empty: none).
    pub host: String,
    pub path: String,
}

/// The reply of a delivered packet: from the process that took it back to the
/// sender's socket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceReplyView {
    pub verdict: String,
    pub to: String,
    pub hops: Vec<HopView>,
    pub dropped_by: String,
}

/// One node's network namespaces as the topology view draws them (bounded: a page
/// of pods, the rest counted).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopologyView {
    /// The network plug-in (`flannel-vxlan`, `ovs`, ...).
    pub plugin: String,
    /// Every node (a page).
    pub nodes: Vec<String>,
    /// The node shown, or why none is.
    pub node: String,
    pub missing: String,
    /// The node's root namespace.
    pub root: Option<RootNsView>,
    /// Its pods (hostNetwork ones too), by namespace and name.
    pub pods: Vec<PodNsView>,
    /// Pods not sent.
    pub more_pods: u32,
    /// The other nodes and how this one reaches their pods.
    pub peers: Vec<PeerView>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootNsView {
    pub up: bool,
    pub pod_cidr: String,
    /// eth0, the bridge (or OVS br0 and tun0), the tunnel device.
    pub ifaces: Vec<IfaceView>,
    /// The route table as `ip route` prints it.
    pub routes: Vec<String>,
    /// (port, who listens).
    pub listeners: Vec<(u16, String)>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IfaceView {
    pub name: String,
    /// `ADDR/PREFIX`, or empty.
    pub addr: String,
    /// `nic`, `bridge`, `ovs`, `internal`, `tunnel`, `vxlan-port`.
    pub kind: String,
    pub note: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodNsView {
    pub namespace: String,
    pub name: String,
    pub ip: String,
    /// Shares the node's namespace (no veth).
    pub host_network: bool,
    /// The host end of its veth pair (a port of the bridge).
    pub veth: String,
    pub routes: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerView {
    pub node: String,
    pub ip: String,
    pub pod_cidr: String,
    /// How this node reaches the peer's pods: its route (`ip route` text), or the
    /// OVS flow's tunnel.
    pub route: String,
}

/// The same packet under each network plug-in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetCompareView {
    /// What was asked: from, to, proto.
    pub asked: (String, String, String),
    /// Why there is no comparison (a session too big, a scenario that does not build).
    pub error: String,
    /// The session's own plug-in.
    pub current: String,
    pub runs: Vec<PluginRunView>,
}

/// One plug-in's trace, summed up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRunView {
    pub plugin: String,
    /// The tracer's error under this plug-in (then nothing else is set).
    pub error: String,
    pub verdict: String,
    pub dropped_by: String,
    /// Hops of the way out.
    pub hops: u32,
    /// The stages of the way out, in order.
    pub stages: Vec<String>,
    /// The hops between nodes (routes through another node, encapsulation, the
    /// wire, OVS flows), as `stage node interface: what`.
    pub inter_node: Vec<String>,
    /// Netfilter hops of the way out.
    pub netfilter: u32,
    /// The reply's verdict (empty: no reply).
    pub reply: String,
}

/// One hop of a packet trace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HopView {
    pub node: String,
    /// `pod/NS/NAME` or `node/NAME`.
    pub netns: String,
    pub interface: String,
    /// `dns`, `route`, `netfilter`, `veth`, `bridge`, `encap`, `wire`, `decap`,
    /// `ovs`, `deliver`, `drop`, `local`, or another word.
    pub stage: String,
    pub rule: String,
    pub why: String,
    /// Netfilter hops: the hook, table, chain, target and rules passed over.
    pub hook: String,
    pub table: String,
    pub chain: String,
    pub target: String,
    pub not_matched: Option<u64>,
    /// The packet's headers after this hop: (field, value), src/dst/ports first.
    pub packet: Vec<(String, String)>,
    /// Encapsulation's outer headers.
    pub outer: Vec<(String, String)>,
    /// Other fields: (name, JSON text).
    pub extra: Vec<(String, String)>,
}

/// A rule's identity across views: `TABLE -A CHAIN spec` with single spaces, from a
/// rule in iptables-save form (with or without its `-A CHAIN`).
pub fn rule_key(table: &str, chain: &str, rule: &str) -> String {
    let rule = rule.trim();
    let spec = rule
        .strip_prefix("-A ")
        .and_then(|r| r.trim_start().strip_prefix(chain))
        .filter(|r| r.is_empty() || r.starts_with(' '))
        .unwrap_or(rule);
    let mut key = format!("{table} -A {chain}");
    for w in spec.split_whitespace() {
        key.push(' ');
        key.push_str(w);
    }
    key
}

/// Encodes a message for the boundary.
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    // Serializing plain data into a growable buffer cannot fail.
    postcard::to_allocvec(msg).unwrap_or_default()
}

/// Decodes a message from the boundary.
pub fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, String> {
    postcard::from_bytes(bytes).map_err(|e| format!("cannot decode a worker message: {e}"))
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn roundtrip<T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug>(v: T) {
        let bytes = encode(&v);
        assert_eq!(decode::<T>(&bytes).unwrap(), v);
    }

    #[test]
    fn every_message_survives_the_codec() {
        let log = InputsLog {
            version: LOG_VERSION,
            scenario: "small-cluster".into(),
            scenario_text: "kind: Scenario".into(),
            inputs: vec![Input {
                at: Stamp { ops: 3, time: 7 },
                action: PersonAction::Request {
                    method: "GET".into(),
                    path: "/api".into(),
                    body: String::new(),
                    content_type: "application/json".into(),
                },
            }],
            head: Stamp { ops: 9, time: 1 },
        };
        roundtrip(ToWorker::Start {
            log: Some(log.clone()),
        });
        roundtrip(ToWorker::Play {
            speed: Speed::Times(0.1),
        });
        roundtrip(ToWorker::Act {
            id: 1,
            action: PersonAction::ScaleTest { pods: 150_000 },
            fork_at: Some(12),
        });
        let entry = EntryView {
            seq: 4,
            time: 5,
            actor: "apiserver".into(),
            action: "create pods".into(),
            reason: "<script>alert(1)</script>".into(),
            objects: vec![ObjRefView {
                key: ObjKey::new("Pod", "default", "web"),
                revision: 9,
            }],
            detail: DetailView::Request {
                method: "POST".into(),
                path: "/api/v1/namespaces/default/pods".into(),
                user: "kubernetes-admin".into(),
                code: 201,
                stages: vec![StageView {
                    name: "authentication".into(),
                    outcome: "passed".into(),
                    reason: "x509".into(),
                }],
            },
            revision: 9,
        };
        roundtrip(FromWorker::Frame(Frame {
            head: Head {
                playing: Some(Speed::Max),
                job: Some((1, 2)),
                ..Head::default()
            },
            entries: vec![entry.clone()],
            map: Some(MapDelta {
                reset: true,
                detailed: true,
                pods: vec![PodView {
                    namespace: "default".into(),
                    name: "web".into(),
                    node: "node-1".into(),
                    phase: Phase::Running,
                    owner: "ReplicaSet/web".into(),
                    deleting: false,
                }],
                counts: vec![NodeCounts {
                    node: String::new(),
                    counts: [1, 2, 3, 4, 5],
                }],
                ..MapDelta::default()
            }),
            kinds: Some(vec![KindCount {
                kind: "Pod".into(),
                count: 1,
            }]),
            transcript: vec![],
        }));
        roundtrip(FromWorker::Reply {
            id: 2,
            reply: Reply::Acted {
                source: Source::Editor,
                result: ActResult {
                    position: Some((3, 5)),
                    entry: Some(entry),
                    ..ActResult::default()
                },
            },
        });
        roundtrip(ToWorker::Query {
            id: 3,
            query: Query::Compare {
                config: "kind: KubeSchedulerConfiguration".into(),
                pod: Some("default/web".into()),
                limit: 20,
            },
        });
        let decision = DecisionView {
            pod: "default/web".into(),
            node: "node-2".into(),
            filters: vec!["NodeResourcesFit".into()],
            scores: vec![ScoreColumnView {
                plugin: "NodeResourcesFit".into(),
                weight: 1,
            }],
            rows: vec![NodeRow {
                name: "node-1".into(),
                filters: vec![FilterCell::Failed {
                    status: "Unschedulable".into(),
                    reasons: vec!["Insufficient cpu".into()],
                }],
                scores: vec![ScoreCell {
                    raw: 37,
                    score: 37,
                    weighted: 37,
                    arithmetic: "(4000 \u{2212} 2500) \u{d7} 100 / 4000 = 37".into(),
                }],
                total: Some(37),
                nominated: false,
            }],
            rejected: vec![ReasonCount {
                reason: "Insufficient cpu".into(),
                count: 4999,
            }],
            ..DecisionView::default()
        };
        roundtrip(FromWorker::Reply {
            id: 4,
            reply: Reply::Scheduling(Box::new(SchedView {
                queue: QueueView {
                    pods: vec![QueuedPodView {
                        pod: "default/picky".into(),
                        place: "unschedulablePods".into(),
                        attempts: 2,
                        plugins: vec!["NodeAffinity".into()],
                    }],
                    recent: vec![AttemptSummary {
                        seq: 1,
                        pod: "default/web".into(),
                        node: String::new(),
                        time: 5,
                    }],
                    ..QueueView::default()
                },
                decision: Some(decision.clone()),
                missing: String::new(),
                config: "kind: KubeSchedulerConfiguration".into(),
            })),
        });
        roundtrip(FromWorker::Reply {
            id: 5,
            reply: Reply::Compare(Box::new(CompareView {
                decision: Some(decision),
                differences: vec![("default/web".into(), "node-2".into(), "node-3".into())],
                ..CompareView::default()
            })),
        });
        roundtrip(ToWorker::Act {
            id: 6,
            action: PersonAction::Fault(Fault::Crash {
                namespace: "default".into(),
                pod: "web".into(),
                container: "nginx".into(),
            }),
            fork_at: None,
        });
        roundtrip(FromWorker::Log(LogUpdate::Reset(log)));
        assert!(decode::<FromWorker>(&[0xff, 0xff]).is_err());
    }
}
