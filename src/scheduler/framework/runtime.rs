//! The framework runtime (upstream `framework/runtime/framework.go`): a profile's
//! plugins instantiated and ordered per extension point, multiPoint expanded as
//! v1.31 does, score weights resolved, and the loops that run each extension point.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::apiserver::client::Identity;
use crate::component::Ctx;
use crate::scheduler::cache::Snapshot;
use crate::scheduler::config::{Config, PluginRef, PluginSet, Profile, EXTENSION_POINTS};
use crate::scheduler::plugins;

use super::{
    ClusterEvent, Code, CycleState, NodeInfo, Plugin, PluginCtx, PodInfo, PreFilterResult, Status,
    MAX_NODE_SCORE, MAX_PRIORITY, MAX_TOTAL_SCORE,
};

/// An extension point: its `v1.Plugins` field and upstream's interface name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Point {
    PreEnqueue,
    QueueSort,
    PreFilter,
    Filter,
    PostFilter,
    PreScore,
    Score,
    Reserve,
    Permit,
    PreBind,
    Bind,
    PostBind,
}

impl Point {
    pub const ALL: [Point; 12] = [
        Point::PreEnqueue,
        Point::QueueSort,
        Point::PreFilter,
        Point::Filter,
        Point::PostFilter,
        Point::PreScore,
        Point::Score,
        Point::Reserve,
        Point::Permit,
        Point::PreBind,
        Point::Bind,
        Point::PostBind,
    ];

    pub fn field(self) -> &'static str {
        EXTENSION_POINTS[self as usize]
    }

    pub fn interface(self) -> &'static str {
        match self {
            Point::PreEnqueue => "PreEnqueuePlugin",
            Point::QueueSort => "QueueSortPlugin",
            Point::PreFilter => "PreFilterPlugin",
            Point::Filter => "FilterPlugin",
            Point::PostFilter => "PostFilterPlugin",
            Point::PreScore => "PreScorePlugin",
            Point::Score => "ScorePlugin",
            Point::Reserve => "ReservePlugin",
            Point::Permit => "PermitPlugin",
            Point::PreBind => "PreBindPlugin",
            Point::Bind => "BindPlugin",
            Point::PostBind => "PostBindPlugin",
        }
    }
}

/// Whether a plugin implements an extension point.
pub fn implements(p: &dyn Plugin, point: Point) -> bool {
    match point {
        Point::PreEnqueue => p.as_pre_enqueue().is_some(),
        Point::QueueSort => p.is_queue_sort(),
        Point::PreFilter => p.as_pre_filter().is_some(),
        Point::Filter => p.as_filter().is_some(),
        Point::PostFilter => p.as_post_filter().is_some(),
        Point::PreScore => p.as_pre_score().is_some(),
        Point::Score => p.as_score().is_some(),
        Point::Reserve => p.as_reserve().is_some(),
        Point::Permit => p.as_permit().is_some(),
        Point::PreBind => p.is_pre_bind(),
        Point::Bind => p.as_bind().is_some(),
        Point::PostBind => p.is_post_bind(),
    }
}

/// One profile's framework.
pub struct Framework {
    pub scheduler_name: String,
    pub plugins: Vec<Box<dyn Plugin>>,
    /// Plugin indexes per extension point, in run order.
    pub points: BTreeMap<&'static str, Vec<usize>>,
    /// Weight per plugin index (score plugins only).
    pub weights: BTreeMap<usize, i64>,
    pub percentage_of_nodes_to_score: Option<i32>,
    /// 100, or 10 for a legacy Policy.
    pub max_score: i64,
    pub legacy: bool,
    /// Legacy `alwaysCheckAllPredicates`: keep filtering a node after a failure.
    pub always_check_all: bool,
    /// Which plugins registered for which cluster events.
    pub events: BTreeMap<ClusterEvent, BTreeSet<String>>,
}

impl Framework {
    pub fn at(&self, p: Point) -> &[usize] {
        self.points.get(p.field()).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn pc(&self, index: usize) -> PluginCtx {
        PluginCtx {
            index,
            max_score: self.max_score,
        }
    }

    pub fn name(&self, index: usize) -> &str {
        self.plugins[index].name()
    }

    pub fn weight(&self, index: usize) -> i64 {
        self.weights.get(&index).copied().unwrap_or(1)
    }

    /// Whether some plugin in `rejectors` registered for `event` (no rejectors: any event).
    pub fn interested(&self, rejectors: &BTreeSet<String>, event: ClusterEvent) -> bool {
        if rejectors.is_empty() {
            return true;
        }
        self.events
            .get(&event)
            .is_some_and(|names| rejectors.iter().any(|r| names.contains(r)))
    }

    fn index_events(&mut self) {
        for p in &self.plugins {
            for e in p.events() {
                self.events
                    .entry(*e)
                    .or_default()
                    .insert(p.name().to_string());
            }
        }
    }

    /// `NewFramework` for a v1.31 profile.
    pub fn new(profile: &Profile, config: &Config) -> Result<Framework, String> {
        // The plugins named anywhere in the profile, instantiated once each.
        let mut names: Vec<String> = Vec::new();
        for point in EXTENSION_POINTS {
            for p in profile.plugins.get(point).enabled {
                if !names.contains(&p.name) {
                    names.push(p.name.clone());
                }
            }
        }
        let mut instances: Vec<Box<dyn Plugin>> = Vec::new();
        let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
        for n in &names {
            if let Some(p) = plugins::new_plugin(n, &profile.args, config, &profile.scheduler_name)?
            {
                by_name.insert(n.clone(), instances.len());
                instances.push(p);
            }
        }
        let mut fw = Framework {
            scheduler_name: profile.scheduler_name.clone(),
            plugins: instances,
            points: BTreeMap::new(),
            weights: BTreeMap::new(),
            percentage_of_nodes_to_score: profile.percentage_of_nodes_to_score,
            max_score: MAX_NODE_SCORE,
            legacy: false,
            always_check_all: false,
            events: BTreeMap::new(),
        };
        // Individual extension points first (updatePluginList).
        for point in Point::ALL {
            let set = profile.plugins.get(point.field());
            let mut list: Vec<usize> = Vec::new();
            for p in &set.enabled {
                let Some(&i) = by_name.get(&p.name) else {
                    return Err(format!(
                        "{} \"{}\" does not exist",
                        point.interface(),
                        p.name
                    ));
                };
                if !implements(fw.plugins[i].as_ref(), point) {
                    return Err(format!(
                        "plugin \"{}\" does not extend {} plugin",
                        p.name,
                        point.interface()
                    ));
                }
                if list.contains(&i) {
                    return Err(format!(
                        "plugin \"{}\" already registered as \"{}\"",
                        p.name,
                        point.interface()
                    ));
                }
                list.push(i);
            }
            fw.points.insert(point.field(), list);
        }
        // Then multiPoint (expandMultiPointPlugins).
        let multi = profile.plugins.get("multiPoint");
        if !multi.enabled.is_empty() {
            for point in Point::ALL {
                let set: PluginSet = profile.plugins.get(point.field());
                if set.disabled.iter().any(|d| d == "*") {
                    continue;
                }
                let specific: Vec<usize> =
                    fw.points.get(point.field()).cloned().unwrap_or_default();
                let mut overrides: Vec<usize> = Vec::new();
                let mut from_multi: Vec<usize> = Vec::new();
                for p in &multi.enabled {
                    let Some(&i) = by_name.get(&p.name) else {
                        return Err(format!(
                            "{} \"{}\" does not exist",
                            point.interface(),
                            p.name
                        ));
                    };
                    if !implements(fw.plugins[i].as_ref(), point) {
                        continue;
                    }
                    if set.disabled.contains(&p.name) {
                        continue;
                    }
                    if specific.contains(&i) {
                        if !overrides.contains(&i) {
                            overrides.push(i);
                        }
                        continue;
                    }
                    if from_multi.contains(&i) {
                        return Err(format!(
                            "plugin \"{}\" already registered as \"{}\"",
                            p.name,
                            point.interface()
                        ));
                    }
                    from_multi.push(i);
                }
                let mut ordered = overrides.clone();
                ordered.extend(from_multi.iter().copied());
                ordered.extend(specific.iter().copied().filter(|i| !overrides.contains(i)));
                fw.points.insert(point.field(), ordered);
            }
        }
        if fw.at(Point::QueueSort).len() != 1 {
            return Err(format!(
                "only one queue sort plugin required for profile with scheduler name \"{}\", but got {}",
                profile.scheduler_name,
                fw.at(Point::QueueSort).len()
            ));
        }
        if fw.at(Point::Bind).is_empty() {
            return Err(format!(
                "at least one bind plugin is needed for profile with scheduler name \"{}\"",
                profile.scheduler_name
            ));
        }
        // Score weights: the score point's own weight wins over multiPoint's; 0 means 1.
        let score_plugins: Vec<usize> = fw.at(Point::Score).to_vec();
        let mut refs: Vec<PluginRef> = profile.plugins.get("score").enabled;
        refs.extend(multi.enabled.iter().cloned());
        let mut total: i64 = 0;
        for r in refs {
            let Some(&i) = by_name.get(&r.name) else {
                continue;
            };
            if !score_plugins.contains(&i) || fw.weights.contains_key(&i) {
                continue;
            }
            let w = if r.weight == 0 {
                1
            } else {
                i64::from(r.weight)
            };
            if w.saturating_mul(MAX_NODE_SCORE) > MAX_TOTAL_SCORE - total {
                return Err("total score of Score plugins could overflow".into());
            }
            total += w * MAX_NODE_SCORE;
            fw.weights.insert(i, w);
        }
        for i in score_plugins {
            fw.weights.entry(i).or_insert(1);
        }
        fw.index_events();
        Ok(fw)
    }

    /// The legacy Policy's scheduler as a framework: predicates as filters (in the
    /// legacy scheduler's fixed predicate order), priorities as 0–10 score plugins.
    pub fn legacy(config: &Config) -> Result<Framework, String> {
        let Some(policy) = &config.policy else {
            return Err("not a legacy Policy".into());
        };
        let built = plugins::legacy::build(policy, config)?;
        let mut fw = Framework {
            scheduler_name: crate::scheduler::config::DEFAULT_SCHEDULER_NAME.into(),
            plugins: Vec::new(),
            points: BTreeMap::new(),
            weights: BTreeMap::new(),
            percentage_of_nodes_to_score: Some(100),
            max_score: MAX_PRIORITY,
            legacy: true,
            always_check_all: policy.always_check_all_predicates,
            events: BTreeMap::new(),
        };
        let push = |fw: &mut Framework, p: Box<dyn Plugin>, weight: Option<i64>| {
            let i = fw.plugins.len();
            for point in Point::ALL {
                if implements(p.as_ref(), point) {
                    fw.points.entry(point.field()).or_default().push(i);
                }
            }
            if let Some(w) = weight {
                fw.weights.insert(i, w);
            }
            fw.plugins.push(p);
        };
        push(&mut fw, plugins::new_builtin("PrioritySort"), None);
        for p in built.predicates {
            push(&mut fw, p, None);
        }
        for (p, w) in built.priorities {
            push(&mut fw, p, Some(w));
        }
        push(&mut fw, plugins::new_builtin("DefaultBinder"), None);
        fw.index_events();
        Ok(fw)
    }
}

/// Builds every profile's framework from a configuration.
pub fn build_all(config: &Config) -> Result<Vec<Framework>, String> {
    if config.is_legacy() {
        return Ok(vec![Framework::legacy(config)?]);
    }
    config
        .profiles
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Framework::new(p, config).map_err(|e| {
                format!(
                    "profiles[{i}]: creating profile for scheduler name {}: {e}",
                    p.scheduler_name
                )
            })
        })
        .collect()
}

/// What PreFilter decided for a cycle.
#[derive(Debug, Default)]
pub struct PreFilterOutcome {
    /// The nodes to evaluate (None: all), with the plugins that narrowed them.
    pub node_names: Option<BTreeSet<String>>,
    pub narrowed_by: Vec<String>,
    /// Plugins whose PreFilter said Skip (their Filter does not run).
    pub skipped: BTreeSet<usize>,
    /// The rejection, if one plugin rejected the pod (index, status).
    pub rejected: Option<(usize, Status)>,
    /// Per plugin, for the record: (index, status code, node names if narrowed).
    pub results: Vec<(usize, Code, Option<Vec<String>>, String)>,
}

impl Framework {
    /// `RunPreFilterPlugins`.
    pub fn run_pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snap: &Snapshot,
    ) -> PreFilterOutcome {
        let mut out = PreFilterOutcome::default();
        for &i in self.at(Point::PreFilter) {
            let Some(pf) = self.plugins[i].as_pre_filter() else {
                continue;
            };
            let (res, st): (PreFilterResult, Status) = pf.pre_filter(self.pc(i), state, pod, snap);
            out.results
                .push((i, st.code, res.node_names.clone(), st.message()));
            match st.code {
                Code::Success => {}
                Code::Skip => {
                    out.skipped.insert(i);
                    continue;
                }
                _ => {
                    out.rejected = Some((i, st));
                    return out;
                }
            }
            if let Some(names) = res.node_names {
                let set: BTreeSet<String> = names.into_iter().collect();
                out.node_names = Some(match out.node_names.take() {
                    None => set,
                    Some(prev) => prev.intersection(&set).cloned().collect(),
                });
                out.narrowed_by.push(self.name(i).to_string());
                if out.node_names.as_ref().is_some_and(BTreeSet::is_empty) {
                    let msg = match out.narrowed_by.as_slice() {
                        [one] => format!("node(s) didn't satisfy plugin {one}"),
                        many => format!(
                            "node(s) didn't satisfy plugin(s) [{}] simultaneously",
                            many.join(" ")
                        ),
                    };
                    out.rejected = Some((i, Status::new(Code::UnschedulableAndUnresolvable, msg)));
                    return out;
                }
            }
        }
        out
    }
}

/// The result of filtering one node.
#[derive(Clone, Debug)]
pub struct FilterOutcome {
    /// How many of the cycle's filter plugins ran and passed before the failure (or all).
    pub passed: usize,
    /// The failing plugin (index into the framework's plugins) and its status.
    pub failure: Option<(usize, Status)>,
    /// With alwaysCheckAllPredicates: further failures after the first.
    pub more: Vec<(usize, Status)>,
}

impl FilterOutcome {
    pub fn is_success(&self) -> bool {
        self.failure.is_none()
    }

    pub fn code(&self) -> Code {
        self.failure.as_ref().map_or(Code::Success, |(_, s)| s.code)
    }
}

impl Framework {
    /// `RunFilterPlugins` over the cycle's filters (those not skipped at PreFilter).
    pub fn run_filters(
        &self,
        filters: &[usize],
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
    ) -> FilterOutcome {
        let mut out = FilterOutcome {
            passed: 0,
            failure: None,
            more: Vec::new(),
        };
        for &i in filters {
            let Some(f) = self.plugins[i].as_filter() else {
                continue;
            };
            let st = f.filter(self.pc(i), state, pod, node, snap);
            if st.is_success() {
                if out.failure.is_none() {
                    out.passed += 1;
                }
                continue;
            }
            let st = if st.is_rejected() {
                st
            } else {
                Status::error(format!(
                    "running \"{}\" filter plugin: {}",
                    self.name(i),
                    st.message()
                ))
            };
            let hard = st.code == Code::Error;
            if out.failure.is_none() {
                out.failure = Some((i, st));
            } else {
                out.more.push((i, st));
            }
            if !self.always_check_all || hard {
                break;
            }
        }
        out
    }

    /// `RunFilterPluginsWithNominatedPods`: first with the equal-or-higher priority
    /// pods nominated to the node counted on it, then (if that passed and such pods
    /// exist) without them.
    #[allow(clippy::too_many_arguments)]
    pub fn run_filters_with_nominated(
        &self,
        filters: &[usize],
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
        nominated: &[Arc<PodInfo>],
    ) -> FilterOutcome {
        let added: Vec<&Arc<PodInfo>> = nominated
            .iter()
            .filter(|n| n.priority >= pod.priority && n.key != pod.key)
            .collect();
        if added.is_empty() {
            return self.run_filters(filters, state, pod, node, snap);
        }
        let mut node2 = node.clone();
        let mut state2 = state.clone();
        for n in &added {
            node2.add_pod((*n).clone());
            for &i in self.at(Point::PreFilter) {
                if let Some(pf) = self.plugins[i].as_pre_filter() {
                    pf.add_pod(self.pc(i), &mut state2, pod, n, &node2, snap);
                }
            }
        }
        let first = self.run_filters(filters, &state2, pod, &node2, snap);
        if !first.is_success() {
            return first;
        }
        self.run_filters(filters, state, pod, node, snap)
    }
}

/// What a bind plugin may use: the API server, as the scheduler.
pub struct BindHandle<'a, 'c> {
    pub ctx: &'a mut Ctx<'c>,
    pub who: &'a Identity,
}

/// What a PostFilter plugin may use.
pub struct PostFilterHandle<'a, 'c> {
    pub fw: &'a Framework,
    pub state: &'a CycleState,
    pub snap: &'a Snapshot<'a>,
    /// The filters that ran this cycle.
    pub filters: &'a [usize],
    /// The status code of every node after filtering (by node index); nodes not
    /// evaluated have `absent`.
    pub statuses: &'a BTreeMap<u32, Code>,
    pub absent: Code,
    /// Pods nominated to each node.
    pub nominated: &'a BTreeMap<String, Vec<Arc<PodInfo>>>,
    pub ctx: &'a mut Ctx<'c>,
    pub who: &'a Identity,
    /// What preemption found, for the decision record.
    pub record: &'a mut Option<crate::scheduler::record::PreemptionRecord>,
}

impl PostFilterHandle<'_, '_> {
    /// The status code of a node after filtering.
    pub fn status(&self, node: u32) -> Code {
        self.statuses.get(&node).copied().unwrap_or(self.absent)
    }
}
