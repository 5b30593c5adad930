//! The scheduling framework (upstream `pkg/scheduler/framework`): one trait per
//! extension point, each with its contract, the status a plugin returns, and the
//! per-cycle state plugins share between their extension points.
//!
//! A cycle runs, in order: PreFilter, Filter (per node, in configured order, stopping at
//! a node's first failure), PostFilter (only when no node fits), PreScore, Score and
//! NormalizeScore, then Reserve, Permit and Bind on the chosen node. Plugins are
//! immutable; what one computes for a cycle lives in [`CycleState`].

pub mod runtime;
pub mod types;

use std::any::Any;
use std::borrow::Cow;

pub use types::{NodeInfo, PodInfo, Resource};

use crate::scheduler::cache::Snapshot;

/// The highest score a score plugin may give (after normalization) in v1.31.
pub const MAX_NODE_SCORE: i64 = 100;
/// The highest score of the legacy Policy's priority functions.
pub const MAX_PRIORITY: i64 = 10;
/// `framework.MaxTotalScore`.
pub const MAX_TOTAL_SCORE: i64 = i64::MAX;

/// `framework.Code`: what a plugin says about a pod and a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Code {
    Success,
    Error,
    /// The pod does not fit now; preempting pods might help.
    Unschedulable,
    /// The pod does not fit, and preemption on this node would not help.
    UnschedulableAndUnresolvable,
    Wait,
    /// The plugin has nothing to do for this pod in this cycle.
    Skip,
    Pending,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Success => "Success",
            Code::Error => "Error",
            Code::Unschedulable => "Unschedulable",
            Code::UnschedulableAndUnresolvable => "UnschedulableAndUnresolvable",
            Code::Wait => "Wait",
            Code::Skip => "Skip",
            Code::Pending => "Pending",
        }
    }
}

/// A resource a node did not have enough of (`noderesources.InsufficientResource`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsufficientResource {
    pub resource_name: String,
    pub requested: i64,
    pub used: i64,
    pub capacity: i64,
}

/// A status's reasons; one reason (the usual case) is kept without allocating.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Reasons {
    #[default]
    None,
    One(Cow<'static, str>),
    Many(Vec<Cow<'static, str>>),
}

impl Reasons {
    pub fn push(&mut self, r: Cow<'static, str>) {
        *self = match std::mem::take(self) {
            Reasons::None => Reasons::One(r),
            Reasons::One(first) => Reasons::Many(vec![first, r]),
            Reasons::Many(mut v) => {
                v.push(r);
                Reasons::Many(v)
            }
        };
    }
}

impl std::ops::Deref for Reasons {
    type Target = [Cow<'static, str>];
    fn deref(&self) -> &Self::Target {
        match self {
            Reasons::None => &[],
            Reasons::One(r) => std::slice::from_ref(r),
            Reasons::Many(v) => v,
        }
    }
}

impl From<Vec<Cow<'static, str>>> for Reasons {
    fn from(v: Vec<Cow<'static, str>>) -> Reasons {
        match v.len() {
            0 => Reasons::None,
            1 => Reasons::One(v.into_iter().next().unwrap_or_default()),
            _ => Reasons::Many(v),
        }
    }
}

/// `framework.Status`: a code and the reasons behind it. Success, and a rejection with
/// one reason, cost no allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub code: Code,
    pub reasons: Reasons,
    /// Set by NodeResourcesFit and the legacy PodFitsResources when they reject.
    pub insufficient: Vec<InsufficientResource>,
}

impl Status {
    pub const fn success() -> Status {
        Status {
            code: Code::Success,
            reasons: Reasons::None,
            insufficient: Vec::new(),
        }
    }

    pub fn new(code: Code, reason: impl Into<Cow<'static, str>>) -> Status {
        Status {
            code,
            reasons: Reasons::One(reason.into()),
            insufficient: Vec::new(),
        }
    }

    pub fn with_reasons(code: Code, reasons: Vec<Cow<'static, str>>) -> Status {
        Status {
            code,
            reasons: reasons.into(),
            insufficient: Vec::new(),
        }
    }

    pub fn code_only(code: Code) -> Status {
        Status {
            code,
            reasons: Reasons::None,
            insufficient: Vec::new(),
        }
    }

    pub fn skip() -> Status {
        Status::code_only(Code::Skip)
    }

    pub fn error(msg: impl Into<Cow<'static, str>>) -> Status {
        Status::new(Code::Error, msg)
    }

    pub fn is_success(&self) -> bool {
        self.code == Code::Success
    }

    /// Unschedulable or UnschedulableAndUnresolvable.
    pub fn is_rejected(&self) -> bool {
        matches!(
            self.code,
            Code::Unschedulable | Code::UnschedulableAndUnresolvable
        )
    }

    /// `Status.Message()`: the reasons joined with ", ".
    pub fn message(&self) -> String {
        self.reasons.join(", ")
    }
}

/// Per-cycle data a plugin keeps between its extension points (upstream
/// `framework.StateData`). Cloned when preemption simulates removing pods.
pub trait StateData: Any {
    fn clone_box(&self) -> Box<dyn StateData>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any + Clone> StateData for T {
    fn clone_box(&self) -> Box<dyn StateData> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// `framework.CycleState`: one slot per plugin of the profile, written at PreFilter or
/// PreScore, read by the same plugin's later extension points.
#[derive(Default)]
pub struct CycleState {
    slots: Vec<Option<Box<dyn StateData>>>,
    /// What the score plugins' PreScore wrote, kept apart from the filter state.
    score_slots: Vec<Option<Box<dyn StateData>>>,
}

impl Clone for CycleState {
    fn clone(&self) -> Self {
        CycleState {
            slots: self
                .slots
                .iter()
                .map(|s| s.as_deref().map(StateData::clone_box))
                .collect(),
            score_slots: self
                .score_slots
                .iter()
                .map(|s| s.as_deref().map(StateData::clone_box))
                .collect(),
        }
    }
}

impl CycleState {
    pub fn new(plugins: usize) -> CycleState {
        CycleState {
            slots: (0..plugins).map(|_| None).collect(),
            score_slots: (0..plugins).map(|_| None).collect(),
        }
    }

    /// Empties every slot for a new cycle, keeping the allocation.
    pub fn reset(&mut self, plugins: usize) {
        self.slots.clear();
        self.slots.resize_with(plugins, || None);
        self.score_slots.clear();
        self.score_slots.resize_with(plugins, || None);
    }

    pub fn write<T: StateData>(&mut self, plugin: usize, data: T) {
        if let Some(s) = self.slots.get_mut(plugin) {
            *s = Some(Box::new(data));
        }
    }

    pub fn read<T: 'static>(&self, plugin: usize) -> Option<&T> {
        let b: &dyn StateData = self.slots.get(plugin)?.as_deref()?;
        b.as_any().downcast_ref::<T>()
    }

    pub fn read_mut<T: 'static>(&mut self, plugin: usize) -> Option<&mut T> {
        let b: &mut dyn StateData = self.slots.get_mut(plugin)?.as_deref_mut()?;
        b.as_any_mut().downcast_mut::<T>()
    }

    pub fn write_score<T: StateData>(&mut self, plugin: usize, data: T) {
        if let Some(s) = self.score_slots.get_mut(plugin) {
            *s = Some(Box::new(data));
        }
    }

    pub fn read_score<T: 'static>(&self, plugin: usize) -> Option<&T> {
        let b: &dyn StateData = self.score_slots.get(plugin)?.as_deref()?;
        b.as_any().downcast_ref::<T>()
    }
}

/// What a plugin knows about itself within one profile: its index (its CycleState
/// slot) and the scale scores are given on.
#[derive(Clone, Copy, Debug)]
pub struct PluginCtx {
    pub index: usize,
    /// 100 for v1.31 profiles, 10 for a legacy Policy.
    pub max_score: i64,
}

/// What PreFilter may return besides its status: the only nodes worth filtering.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreFilterResult {
    /// `None`: all nodes.
    pub node_names: Option<Vec<String>>,
}

/// A plugin: a name and the extension points it implements.
pub trait Plugin {
    /// The name as configured (upstream's, or the legacy Policy's predicate/priority name).
    fn name(&self) -> &str;
    fn as_pre_enqueue(&self) -> Option<&dyn PreEnqueuePlugin> {
        None
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        None
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        None
    }
    fn as_post_filter(&self) -> Option<&dyn PostFilterPlugin> {
        None
    }
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        None
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        None
    }
    fn as_reserve(&self) -> Option<&dyn ReservePlugin> {
        None
    }
    fn as_permit(&self) -> Option<&dyn PermitPlugin> {
        None
    }
    fn as_bind(&self) -> Option<&dyn BindPlugin> {
        None
    }
    /// QueueSort, PreBind and PostBind carry no behaviour of their own here: the queue
    /// always sorts as PrioritySort does and nothing needs binding preparation.
    fn is_queue_sort(&self) -> bool {
        false
    }
    fn is_pre_bind(&self) -> bool {
        false
    }
    fn is_post_bind(&self) -> bool {
        false
    }
    /// The cluster events after which a pod this plugin rejected may fit
    /// (upstream `EventsToRegister`).
    fn events(&self) -> &'static [ClusterEvent] {
        &[]
    }
}

/// Kinds of cluster change that can make an unschedulable pod schedulable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClusterEvent {
    NodeAdd,
    NodeDelete,
    NodeAllocatableChange,
    NodeLabelChange,
    NodeTaintChange,
    NodeOtherChange,
    AssignedPodAdd,
    AssignedPodUpdate,
    AssignedPodDelete,
    /// The unscheduled pod itself changed.
    PodUpdate,
    NamespaceChange,
    ServiceChange,
}

impl ClusterEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterEvent::NodeAdd => "NodeAdd",
            ClusterEvent::NodeDelete => "NodeDelete",
            ClusterEvent::NodeAllocatableChange => "NodeAllocatableChange",
            ClusterEvent::NodeLabelChange => "NodeLabelChange",
            ClusterEvent::NodeTaintChange => "NodeTaintChange",
            ClusterEvent::NodeOtherChange => "NodeUpdate",
            ClusterEvent::AssignedPodAdd => "AssignedPodAdd",
            ClusterEvent::AssignedPodUpdate => "AssignedPodUpdate",
            ClusterEvent::AssignedPodDelete => "AssignedPodDelete",
            ClusterEvent::PodUpdate => "UnscheduledPodUpdate",
            ClusterEvent::NamespaceChange => "NamespaceChange",
            ClusterEvent::ServiceChange => "ServiceChange",
        }
    }
}

/// Node events every node-filtering plugin cares about.
pub const NODE_ANY: &[ClusterEvent] = &[
    ClusterEvent::NodeAdd,
    ClusterEvent::NodeAllocatableChange,
    ClusterEvent::NodeLabelChange,
    ClusterEvent::NodeTaintChange,
    ClusterEvent::NodeOtherChange,
];

/// PreEnqueue: decides whether a pod may enter the active queue at all.
///
/// Contract: called whenever a pod is added to or moved within the queue; must be
/// cheap and must not depend on nodes. A non-success status keeps the pod in the
/// unschedulable pool (upstream `PreEnqueuePlugin`).
pub trait PreEnqueuePlugin {
    fn pre_enqueue(&self, pod: &PodInfo) -> Status;
}

/// PreFilter: runs once per cycle before any node is filtered.
///
/// Contract: may compute per-cycle data into its CycleState slot for its Filter; may
/// return `Skip` (its Filter is then not run this cycle), a rejection (the pod fits no
/// node: every node gets this status), or a [`PreFilterResult`] narrowing the nodes
/// to evaluate. Must not change the cluster.
pub trait PreFilterPlugin {
    fn pre_filter(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        pod: &PodInfo,
        snap: &Snapshot,
    ) -> (PreFilterResult, Status);

    /// PreFilterExtensions: update the cycle state as if `other` were added to or
    /// removed from `node` (used when evaluating nominated pods and preemption).
    fn add_pod(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        pod: &PodInfo,
        other: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
    ) {
        let _ = (pc, state, pod, other, node, snap);
    }

    fn remove_pod(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        pod: &PodInfo,
        other: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
    ) {
        let _ = (pc, state, pod, other, node, snap);
    }
}

/// Filter: decides whether the pod can run on one node.
///
/// Contract: called per node, possibly on a copy of the node with pods added or
/// removed (nominated pods, preemption); must look only at the pod, the node info and
/// its own CycleState; returns Success, Unschedulable or UnschedulableAndUnresolvable
/// with upstream's reason strings, or Error. Must be fast: it runs for up to every
/// node of the cluster for every pod.
pub trait FilterPlugin {
    fn filter(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
    ) -> Status;
}

/// What PostFilter decided (upstream `PostFilterResult`): the node to nominate, and for
/// the record, what was done.
#[derive(Clone, Debug, Default)]
pub struct PostFilterResult {
    /// Some("") clears a nomination; None leaves it.
    pub nominated_node_name: Option<String>,
}

/// PostFilter: runs only when no node fits (DefaultPreemption).
///
/// Contract: may act on the cluster (delete victims) through the scheduler's
/// [`runtime::PostFilterHandle`]; returns Success with a node to nominate, or
/// Unschedulable with a message that is appended to the FailedScheduling text.
pub trait PostFilterPlugin {
    fn post_filter(
        &self,
        pc: PluginCtx,
        handle: &mut runtime::PostFilterHandle<'_, '_>,
        pod: &PodInfo,
    ) -> (Option<PostFilterResult>, Status);
}

/// PreScore: runs once per cycle before scoring, with the feasible nodes.
///
/// Contract: may compute data for Score into its score slot; `Skip` removes the
/// plugin's Score from this cycle (and from the record).
pub trait PreScorePlugin {
    fn pre_score(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        snap: &Snapshot,
    ) -> Status;
}

/// How many numbers an [`Explanation`] holds inline (records keep one per recorded node
/// and score plugin, so it stays small: two resources' allocatable and requested).
pub const EXPLANATION_NUMS: usize = 4;

/// What a decision record keeps of a score's arithmetic: a few numbers taken cheaply
/// during the cycle (the plugin writes the text when a person asks), or, for
/// plugins whose arithmetic names topologies and terms, the text itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Explanation {
    #[default]
    None,
    Nums {
        len: u8,
        n: [i64; EXPLANATION_NUMS],
    },
    Text(String),
}

impl Explanation {
    /// Up to [`EXPLANATION_NUMS`] numbers (more are dropped).
    pub fn nums(v: &[i64]) -> Explanation {
        let mut n = [0i64; EXPLANATION_NUMS];
        let len = v.len().min(EXPLANATION_NUMS);
        n[..len].copy_from_slice(&v[..len]);
        Explanation::Nums { len: len as u8, n }
    }

    /// The numbers kept (empty for text).
    pub fn numbers(&self) -> &[i64] {
        match self {
            Explanation::Nums { len, n } => &n[..*len as usize],
            _ => &[],
        }
    }
}

/// Score: ranks one feasible node (higher is better).
///
/// Contract: pure function of the pod, the node, the cycle state and the snapshot;
/// returns the raw score (NormalizeScore then maps all raw scores to
/// `0..=max_score`; without it the raw score must already be in that range).
/// `explanation` keeps what `render` needs to write the arithmetic of the same
/// computation for the decision record; it runs only for recorded nodes.
pub trait ScorePlugin {
    fn score(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
    ) -> Result<i64, Status>;

    /// Scores every feasible node in order into `out` (cleared first); the first error
    /// stops it. Same results as [`ScorePlugin::score`] node by node, which is the
    /// default; plugins override it to read their cycle state once.
    fn score_nodes(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        snap: &Snapshot,
        out: &mut Vec<i64>,
    ) -> Result<(), Status> {
        out.clear();
        for n in nodes {
            out.push(self.score(pc, state, pod, n, snap)?);
        }
        Ok(())
    }

    /// NormalizeScore (upstream `ScoreExtensions`), if the plugin has one.
    fn normalize(&self) -> Option<&dyn NormalizeScore> {
        None
    }

    /// What the record keeps for `raw` (default: the text of [`ScorePlugin::explain`]).
    fn explanation(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
        raw: i64,
    ) -> Explanation {
        Explanation::Text(self.explain(pc, state, pod, node, snap, raw))
    }

    /// The arithmetic behind `raw`, written at once.
    fn explain(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
        raw: i64,
    ) -> String {
        let _ = (pc, state, pod, node, snap);
        format!("{raw}")
    }

    /// The arithmetic from what [`ScorePlugin::explanation`] kept.
    fn render(&self, e: &Explanation, raw: i64) -> String {
        match e {
            Explanation::Text(t) => t.clone(),
            _ => format!("{raw}"),
        }
    }
}

/// NormalizeScore: maps the raw scores of all feasible nodes to the profile's scale.
///
/// Contract: `scores[i]` belongs to `nodes[i]`, the i-th feasible node; must leave every score in
/// `0..=max_score`.
pub trait NormalizeScore {
    fn normalize_score(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        scores: &mut [i64],
    ) -> Status;

    /// How one raw score became its normalized score, given the lowest and highest raw
    /// scores of the cycle.
    fn explain_normalize(&self, pc: PluginCtx, raw: i64, score: i64, min: i64, max: i64) -> String {
        let _ = (pc, min, max);
        format!("normalized {raw} → {score}")
    }
}

/// Reserve: the pod is assumed on the node; plugins reserve what they track.
///
/// Contract: `reserve` may fail (the cycle then fails and `unreserve` runs for all);
/// `unreserve` must be idempotent and must not fail.
pub trait ReservePlugin {
    fn reserve(&self, pod: &PodInfo, node: &str) -> Status;
    fn unreserve(&self, pod: &PodInfo, node: &str);
}

/// Permit: may approve, deny or delay binding (`Wait` is not simulated: it is treated
/// as a denial after the timeout).
pub trait PermitPlugin {
    fn permit(&self, pod: &PodInfo, node: &str) -> Status;
}

/// Bind: writes the decision (POST pods/binding) through the API server.
///
/// Contract: returns Skip to let the next bind plugin try; the first non-Skip status
/// is final.
pub trait BindPlugin {
    fn bind(&self, handle: &mut runtime::BindHandle<'_, '_>, pod: &PodInfo, node: &str) -> Status;
}
