//! Every string the page shows, by key. Components name a [`Key`]; a catalog maps
//! keys to text. English is the only catalog today; a Chinese one follows as
//! another exhaustive `match` (the compiler then lists any key it lacks). Where the
//! seed's reading note (《kubernetes权威指南》) names a thing, its term is noted on
//! the key, so the Chinese catalog speaks the seed's vocabulary.
//!
//! Placeholders are `{0}`, `{1}`, ... (see [`tf`]). Data (names, messages from the
//! cluster) is never part of the catalog; it is shown as it is, as text.

use crate::protocol::Phase;

/// A language the page speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    En,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    AppName,
    Tagline,
    /// The scenario picker.
    Scenario,
    Play,
    Pause,
    Step,
    StepHint,
    Speed,
    SpeedMax,
    VirtualTime,
    /// {0} ops, {1} revision, {2} queued events.
    HeadStatus,
    /// {0} of {1} steps.
    ScenarioProgress,
    ScaleTest,
    ScaleTestHint,
    /// {0} of {1} pods.
    ScaleTestProgress,
    /// {0} pods.
    PodsCount,
    /// The cluster map.
    ClusterMap,
    /// Pods bound to no node.
    NotBound,
    /// {0}: a node name that no Node object has.
    UnknownNode,
    NodeReady,
    NodeNotReady,
    /// A cordoned node (kubectl's SchedulingDisabled).
    Cordoned,
    /// {0} pods of {1} allowed.
    PodsOnNode,
    MapAggregated,
    /// {0}: the trace entry.
    MapPast,
    NoNodes,
    Owner,
    OwnerLegend,
    Deleting,
    PhasePending,
    PhaseRunning,
    PhaseSucceeded,
    PhaseFailed,
    PhaseUnknown,
    /// The resource tree.
    Resources,
    /// {0} more.
    MoreItems,
    Inspector,
    InspectorEmpty,
    /// {0}: revision.
    InspectorNow,
    /// {0}: entry, {1}: revision.
    InspectorAt,
    InspectorAbsent,
    InspectorReplayed,
    Loading,
    Close,
    Timeline,
    First,
    Previous,
    Next,
    Live,
    FollowHead,
    /// {0} of {1}.
    EntryOf,
    /// {0}: entry, {1}: revision.
    LookingAtPast,
    /// {0}: the oldest entry held.
    WindowNote,
    /// {0}: a store revision.
    AtRevision,
    /// Seed: 认证 (Authentication).
    StageAuthentication,
    StageDecoding,
    StageProxy,
    /// Seed: 授权 (Authorization).
    StageAuthorization,
    /// Seed: 准入控制 (Admission Control), the mutating phase.
    StageMutatingAdmission,
    StageValidation,
    /// Seed: 准入控制, the validating phase.
    StageValidatingAdmission,
    /// Seed: the API server writes to etcd.
    StageStorage,
    StageResponse,
    OutcomePassed,
    OutcomeFailed,
    OutcomeSkipped,
    Editor,
    EditorHint,
    Apply,
    /// {0} line, {1} column.
    EditorErrorAt,
    /// Seed: 通过命令行工具kubectl访问.
    Console,
    ConsoleHint,
    ConsolePlaceholder,
    FromScenario,
    /// Seed: 通过curl命令访问.
    RequestTab,
    RequestHint,
    Method,
    Path,
    ContentType,
    Body,
    Send,
    /// {0}: HTTP status code.
    ResponseCode,
    AboutTab,
    AboutText,
    /// Seed: 如何访问k8s的api.
    AccessTitle,
    /// Seed: 通过编程方式访问.
    AccessProgram,
    /// Seed: 通过curl命令访问.
    AccessCurl,
    /// Seed: 通过命令行工具kubectl访问.
    AccessKubectl,
    InputsTitle,
    /// {0}: actions in the log.
    InputsCount,
    ResetScenario,
    CrashWorker,
    CrashHint,
    /// {0}: what the worker said.
    WorkerCrashed,
    WorkerRestarted,
    WorkerSilent,
    /// {0} of {1} ops.
    Rebuilding,
    /// {0}: the message.
    Failed,
    Dismiss,
    Connecting,
    ForkTitle,
    /// {0}: the entry, {1}: entries dropped.
    ForkText,
    ForkConfirm,
    Cancel,
    /// Seed: 调度 (the scheduler).
    SchedulingTab,
    SchedHint,
    SchedQueue,
    /// {0}: pods.
    SchedActive,
    /// {0}: pods.
    SchedBackoff,
    /// {0}: pods.
    SchedUnschedulable,
    SchedWaiting,
    SchedRecent,
    /// {0}: attempts.
    SchedAttempts,
    SchedNoNode,
    SchedLatest,
    SchedNoDecision,
    /// {0} pod, {1} attempt, {2} cycle, {3} profile.
    SchedPodTitle,
    SchedLegacy,
    SchedPrev,
    SchedNext,
    /// {0} of {1}.
    SchedPhaseOf,
    /// Seed: 预选 (predicates).
    PhaseFilter,
    /// Seed: 优选 (priorities).
    PhaseScore,
    PhaseTotal,
    PhaseWinner,
    /// Seed: 绑定 (Binding).
    PhaseBind,
    /// {0} all, {1} evaluated, {2} feasible.
    SchedNodes,
    SchedNode,
    SchedPassed,
    SchedNotRun,
    SchedRejectedBy,
    /// {0} first, {1} last, {2} all.
    SchedRows,
    /// {0}: nodes.
    SchedOmitted,
    SchedMorePage,
    SchedPrevPage,
    /// {0}: weight.
    SchedWeight,
    SchedNoScores,
    SchedTotal,
    /// {0} node, {1} total.
    SchedWinnerIs,
    SchedFailed,
    SchedNotes,
    SchedBindText,
    SchedBindGone,
    SchedNoBind,
    SchedCompare,
    SchedCompareHint,
    SchedReplay,
    SchedReplaying,
    /// {0}: the error.
    SchedConfigError,
    SchedThisConfig,
    SchedOtherConfig,
    /// {0} differ, {1} compared.
    SchedDiffer,
    SchedPod,
}

/// Every key, for checks that each catalog is complete.
pub const ALL_KEYS: &[Key] = &[
    Key::AppName,
    Key::Tagline,
    Key::Scenario,
    Key::Play,
    Key::Pause,
    Key::Step,
    Key::StepHint,
    Key::Speed,
    Key::SpeedMax,
    Key::VirtualTime,
    Key::HeadStatus,
    Key::ScenarioProgress,
    Key::ScaleTest,
    Key::ScaleTestHint,
    Key::ScaleTestProgress,
    Key::PodsCount,
    Key::ClusterMap,
    Key::NotBound,
    Key::UnknownNode,
    Key::NodeReady,
    Key::NodeNotReady,
    Key::Cordoned,
    Key::PodsOnNode,
    Key::MapAggregated,
    Key::MapPast,
    Key::NoNodes,
    Key::Owner,
    Key::OwnerLegend,
    Key::Deleting,
    Key::PhasePending,
    Key::PhaseRunning,
    Key::PhaseSucceeded,
    Key::PhaseFailed,
    Key::PhaseUnknown,
    Key::Resources,
    Key::MoreItems,
    Key::Inspector,
    Key::InspectorEmpty,
    Key::InspectorNow,
    Key::InspectorAt,
    Key::InspectorAbsent,
    Key::InspectorReplayed,
    Key::Loading,
    Key::Close,
    Key::Timeline,
    Key::First,
    Key::Previous,
    Key::Next,
    Key::Live,
    Key::FollowHead,
    Key::EntryOf,
    Key::LookingAtPast,
    Key::WindowNote,
    Key::AtRevision,
    Key::StageAuthentication,
    Key::StageDecoding,
    Key::StageProxy,
    Key::StageAuthorization,
    Key::StageMutatingAdmission,
    Key::StageValidation,
    Key::StageValidatingAdmission,
    Key::StageStorage,
    Key::StageResponse,
    Key::OutcomePassed,
    Key::OutcomeFailed,
    Key::OutcomeSkipped,
    Key::Editor,
    Key::EditorHint,
    Key::Apply,
    Key::EditorErrorAt,
    Key::Console,
    Key::ConsoleHint,
    Key::ConsolePlaceholder,
    Key::FromScenario,
    Key::RequestTab,
    Key::RequestHint,
    Key::Method,
    Key::Path,
    Key::ContentType,
    Key::Body,
    Key::Send,
    Key::ResponseCode,
    Key::AboutTab,
    Key::AboutText,
    Key::AccessTitle,
    Key::AccessProgram,
    Key::AccessCurl,
    Key::AccessKubectl,
    Key::InputsTitle,
    Key::InputsCount,
    Key::ResetScenario,
    Key::CrashWorker,
    Key::CrashHint,
    Key::WorkerCrashed,
    Key::WorkerRestarted,
    Key::WorkerSilent,
    Key::Rebuilding,
    Key::Failed,
    Key::Dismiss,
    Key::Connecting,
    Key::ForkTitle,
    Key::ForkText,
    Key::ForkConfirm,
    Key::Cancel,
    Key::SchedulingTab,
    Key::SchedHint,
    Key::SchedQueue,
    Key::SchedActive,
    Key::SchedBackoff,
    Key::SchedUnschedulable,
    Key::SchedWaiting,
    Key::SchedRecent,
    Key::SchedAttempts,
    Key::SchedNoNode,
    Key::SchedLatest,
    Key::SchedNoDecision,
    Key::SchedPodTitle,
    Key::SchedLegacy,
    Key::SchedPrev,
    Key::SchedNext,
    Key::SchedPhaseOf,
    Key::PhaseFilter,
    Key::PhaseScore,
    Key::PhaseTotal,
    Key::PhaseWinner,
    Key::PhaseBind,
    Key::SchedNodes,
    Key::SchedNode,
    Key::SchedPassed,
    Key::SchedNotRun,
    Key::SchedRejectedBy,
    Key::SchedRows,
    Key::SchedOmitted,
    Key::SchedMorePage,
    Key::SchedPrevPage,
    Key::SchedWeight,
    Key::SchedNoScores,
    Key::SchedTotal,
    Key::SchedWinnerIs,
    Key::SchedFailed,
    Key::SchedNotes,
    Key::SchedBindText,
    Key::SchedBindGone,
    Key::SchedNoBind,
    Key::SchedCompare,
    Key::SchedCompareHint,
    Key::SchedReplay,
    Key::SchedReplaying,
    Key::SchedConfigError,
    Key::SchedThisConfig,
    Key::SchedOtherConfig,
    Key::SchedDiffer,
    Key::SchedPod,
];

/// The English catalog.
pub fn en(key: Key) -> &'static str {
    match key {
        Key::AppName => "kubeglass",
        Key::Tagline => "Kubernetes v1.31 in a glass box",
        Key::Scenario => "Scenario",
        Key::Play => "Play",
        Key::Pause => "Pause",
        Key::Step => "Step",
        Key::StepHint => "Run exactly the next event",
        Key::Speed => "Speed",
        Key::SpeedMax => "as fast as possible",
        Key::VirtualTime => "Virtual time",
        Key::HeadStatus => "op {0} · revision {1} · {2} queued",
        Key::ScenarioProgress => "scenario: {0} of {1} steps",
        Key::ScaleTest => "Scale test",
        Key::ScaleTestHint => "Create this many pods in slices, and watch the page stay responsive",
        Key::ScaleTestProgress => "creating pods: {0} of {1}",
        Key::PodsCount => "{0} pods",
        Key::ClusterMap => "Cluster",
        Key::NotBound => "Not bound to a node",
        Key::UnknownNode => "{0} (no such node)",
        Key::NodeReady => "Ready",
        Key::NodeNotReady => "NotReady",
        Key::Cordoned => "SchedulingDisabled",
        Key::PodsOnNode => "{0} / {1} pods",
        Key::MapAggregated => "counted per node",
        Key::MapPast => "as after entry #{0}",
        Key::NoNodes => "The cluster has no nodes and no pods.",
        Key::Owner => "owned by",
        Key::OwnerLegend => "stripe: the owner",
        Key::Deleting => "being deleted",
        Key::PhasePending => "Pending",
        Key::PhaseRunning => "Running",
        Key::PhaseSucceeded => "Succeeded",
        Key::PhaseFailed => "Failed",
        Key::PhaseUnknown => "Unknown",
        Key::Resources => "Resources",
        Key::MoreItems => "{0} more…",
        Key::Inspector => "Inspector",
        Key::InspectorEmpty => "Pick an object on the map, in the resources or in the timeline.",
        Key::InspectorNow => "now, at revision {0}",
        Key::InspectorAt => "as it was after entry #{0}, at revision {1}",
        Key::InspectorAbsent => "It did not exist at that point.",
        Key::InspectorReplayed => "Rebuilt by replay: that revision is older than the store's history window.",
        Key::Loading => "Loading…",
        Key::Close => "Close",
        Key::Timeline => "Timeline",
        Key::First => "First entry",
        Key::Previous => "Previous entry",
        Key::Next => "Next entry (at the head: run the next event)",
        Key::Live => "Live",
        Key::FollowHead => "Back to now",
        Key::EntryOf => "entry #{0} of #{1}",
        Key::LookingAtPast => "Looking at the past: after entry #{0}, revision {1}. Looking changes nothing; acting from here forks history.",
        Key::WindowNote => "Entries before #{0} have left the trace's window; they are rebuilt by replay.",
        Key::AtRevision => "at revision {0}",
        Key::StageAuthentication => "Authentication",
        Key::StageDecoding => "Decoding",
        Key::StageProxy => "Proxy",
        Key::StageAuthorization => "Authorization",
        Key::StageMutatingAdmission => "Mutating admission",
        Key::StageValidation => "Validation",
        Key::StageValidatingAdmission => "Validating admission",
        Key::StageStorage => "Storage (etcd)",
        Key::StageResponse => "Response",
        Key::OutcomePassed => "passed",
        Key::OutcomeFailed => "failed",
        Key::OutcomeSkipped => "skipped",
        Key::Editor => "Manifest",
        Key::EditorHint => "kubectl apply -f -: YAML or JSON, several documents, or a List.",
        Key::Apply => "Apply",
        Key::EditorErrorAt => "line {0}, column {1}",
        Key::Console => "kubectl",
        Key::ConsoleHint => "Type a kubectl command; Enter runs it, ↑ and ↓ go through the history.",
        Key::ConsolePlaceholder => "get pods -o wide",
        Key::FromScenario => "scenario ",
        Key::RequestTab => "Request",
        Key::RequestHint => "The API server's REST API as curl sees it. Every component reaches the cluster this way, and only this way.",
        Key::Method => "Method",
        Key::Path => "Path",
        Key::ContentType => "Content-Type",
        Key::Body => "Body (JSON or YAML)",
        Key::Send => "Send",
        Key::ResponseCode => "HTTP {0}",
        Key::AboutTab => "About",
        Key::AboutText => "A Kubernetes cluster simulated step by step in a web worker. Every action is a trace entry that says who acted, what it did and why. Apply a manifest, type kubectl, send a raw request, step through time, and drag back to see the store as it was.",
        Key::AccessTitle => "Three ways into the API server",
        Key::AccessProgram => "By a program: the controllers and the scheduler list, watch and write through a client.",
        Key::AccessCurl => "By curl: the Request tab sends REST requests as they are.",
        Key::AccessKubectl => "By kubectl: the kubectl tab.",
        Key::InputsTitle => "The inputs log",
        Key::InputsCount => "The inputs log holds {0} actions. It is kept in this browser and replayed after a reload or a crash.",
        Key::ResetScenario => "Start the scenario over",
        Key::CrashWorker => "Crash the worker",
        Key::CrashHint => "Makes the worker panic on purpose: the page notices, starts a fresh worker and replays the inputs log.",
        Key::WorkerCrashed => "The worker stopped: {0}",
        Key::WorkerRestarted => "A fresh worker rebuilds the cluster by replaying the inputs log.",
        Key::WorkerSilent => "the worker stopped answering",
        Key::Rebuilding => "Rebuilding by replay: op {0} of {1}",
        Key::Failed => "Something went wrong: {0}",
        Key::Dismiss => "Dismiss",
        Key::Connecting => "Starting the cluster in a web worker…",
        Key::ForkTitle => "Act in the past?",
        Key::ForkText => "You are looking at entry #{0}. Acting now rebuilds the cluster to that point by replay and drops the {1} later entries.",
        Key::ForkConfirm => "Fork and act",
        Key::Cancel => "Cancel",
        Key::SchedulingTab => "Scheduling",
        Key::SchedHint => "How the scheduler chose a node for a pod: the filters each node passed or failed, the scores of the nodes left, the weighted totals, the winner and the binding it wrote through the API server. Step through one phase at a time.",
        Key::SchedQueue => "Scheduling queue",
        Key::SchedActive => "activeQ: {0}",
        Key::SchedBackoff => "backoffQ: {0}",
        Key::SchedUnschedulable => "unschedulable: {0}",
        Key::SchedWaiting => "Waiting",
        Key::SchedRecent => "Latest attempts",
        Key::SchedAttempts => "{0} attempts so far",
        Key::SchedNoNode => "no node",
        Key::SchedLatest => "Latest attempt",
        Key::SchedNoDecision => "No scheduling decision to show yet.",
        Key::SchedPodTitle => "Pod {0}, attempt {1}, cycle {2}, profile {3}",
        Key::SchedLegacy => "legacy Policy (scores 0–10)",
        Key::SchedPrev => "Previous phase",
        Key::SchedNext => "Next phase",
        Key::SchedPhaseOf => "phase {0} of {1}",
        Key::PhaseFilter => "Filter",
        Key::PhaseScore => "Score",
        Key::PhaseTotal => "Weighted total",
        Key::PhaseWinner => "Winner",
        Key::PhaseBind => "Bind",
        Key::SchedNodes => "{0} nodes, {1} evaluated, {2} feasible",
        Key::SchedNode => "Node",
        Key::SchedPassed => "passed",
        Key::SchedNotRun => "not run",
        Key::SchedRejectedBy => "Rejected, per reason",
        Key::SchedRows => "nodes {0}–{1} of {2} kept in the record",
        Key::SchedOmitted => "{0} more feasible nodes were scored but only counted",
        Key::SchedMorePage => "Next nodes",
        Key::SchedPrevPage => "Previous nodes",
        Key::SchedWeight => "weight {0}",
        Key::SchedNoScores => "Scoring did not run: no node, or only one, was left after filtering.",
        Key::SchedTotal => "Total",
        Key::SchedWinnerIs => "The pod goes to {0}, with a total of {1}.",
        Key::SchedFailed => "No node fits. The FailedScheduling event says:",
        Key::SchedNotes => "Notes",
        Key::SchedBindText => "The scheduler writes a Binding for the pod through the API server, which passes it through its stages and stores spec.nodeName:",
        Key::SchedBindGone => "The binding request has left the trace's window.",
        Key::SchedNoBind => "Nothing is bound: the pod waits in the queue until a cluster event may make it schedulable.",
        Key::SchedCompare => "Compare another configuration",
        Key::SchedCompareHint => "Edit the KubeSchedulerConfiguration (weights, plugins, the scoring strategy) or a legacy Policy; the same inputs are replayed under it in the worker and the decisions shown side by side.",
        Key::SchedReplay => "Replay with this configuration",
        Key::SchedReplaying => "Replaying the same inputs…",
        Key::SchedConfigError => "This configuration cannot be used: {0}",
        Key::SchedThisConfig => "This cluster",
        Key::SchedOtherConfig => "With the edited configuration",
        Key::SchedDiffer => "{0} of {1} pods placed differently",
        Key::SchedPod => "Pod",
    }
}

/// The catalog of a language.
pub fn catalog(lang: Lang) -> fn(Key) -> &'static str {
    match lang {
        Lang::En => en,
    }
}

/// A key's text in the page's language.
pub fn t(key: Key) -> &'static str {
    catalog(Lang::default())(key)
}

/// A key's text with its placeholders filled.
pub fn tf(key: Key, args: &[&str]) -> String {
    let mut s = t(key).to_string();
    for (i, a) in args.iter().enumerate() {
        s = s.replace(&format!("{{{i}}}"), a);
    }
    s
}

pub fn phase_label(p: Phase) -> &'static str {
    t(match p {
        Phase::Pending => Key::PhasePending,
        Phase::Running => Key::PhaseRunning,
        Phase::Succeeded => Key::PhaseSucceeded,
        Phase::Failed => Key::PhaseFailed,
        Phase::Unknown => Key::PhaseUnknown,
    })
}

/// A request stage's label (the trace's stage names are the API server's).
pub fn stage_label(name: &str) -> String {
    let key = match name {
        "authentication" => Key::StageAuthentication,
        "decoding" => Key::StageDecoding,
        "proxy" => Key::StageProxy,
        "authorization" => Key::StageAuthorization,
        "mutating admission" => Key::StageMutatingAdmission,
        "validation" => Key::StageValidation,
        "validating admission" => Key::StageValidatingAdmission,
        "storage" => Key::StageStorage,
        "response" => Key::StageResponse,
        other => return other.to_string(),
    };
    t(key).to_string()
}

pub fn outcome_label(outcome: &str) -> &'static str {
    t(match outcome {
        "passed" => Key::OutcomePassed,
        "failed" => Key::OutcomeFailed,
        _ => Key::OutcomeSkipped,
    })
}
