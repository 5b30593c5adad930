//! `spec.cluster.scheduler`: a KubeSchedulerConfiguration (`kubescheduler.config.k8s.io/v1`,
//! defaulted and validated as v1.31 does) or a legacy Policy (`kind: Policy`, the
//! seed's predicates and priorities by name, scored 0–10).
//!
//! Decoding is strict (unknown fields are errors, as kube-scheduler's strict decoder
//! reports them); validation messages are upstream's `field.Error` texts.
//!
//! One addition stands in for kube-scheduler's `--feature-gates` flag: a
//! `featureGates: {Name: bool}` map beside `kind` (only `BalanceAttachedNodeVolumes`,
//! for the legacy BalancedResourceAllocation, is known).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::api::core::{NodeAffinity, TopologySpreadConstraint};
use crate::api::status::GoValue;
use crate::api::FieldError;

pub const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

/// A plugin named at an extension point, with its score weight (0: unset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginRef {
    pub name: String,
    pub weight: i32,
}

/// `v1.PluginSet`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PluginSet {
    pub enabled: Vec<PluginRef>,
    pub disabled: Vec<String>,
}

/// The extension points of `v1.Plugins`, in upstream's field order.
pub const EXTENSION_POINTS: &[&str] = &[
    "preEnqueue",
    "queueSort",
    "preFilter",
    "filter",
    "postFilter",
    "preScore",
    "score",
    "reserve",
    "permit",
    "preBind",
    "bind",
    "postBind",
    "multiPoint",
];

/// `v1.Plugins`: a plugin set per extension point (keyed by the field name).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plugins {
    pub sets: BTreeMap<&'static str, PluginSet>,
}

impl Plugins {
    pub fn get(&self, point: &str) -> PluginSet {
        self.sets.get(point).cloned().unwrap_or_default()
    }
}

/// `config.ResourceSpec`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceSpec {
    pub name: String,
    pub weight: i64,
}

/// `config.UtilizationShapePoint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShapePoint {
    pub utilization: i64,
    pub score: i64,
}

/// The three scoring strategies of NodeResourcesFit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScoringStrategyType {
    LeastAllocated,
    MostAllocated,
    RequestedToCapacityRatio,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoringStrategy {
    pub kind: ScoringStrategyType,
    pub resources: Vec<ResourceSpec>,
    pub shape: Vec<ShapePoint>,
}

/// `NodeResourcesFitArgs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FitArgs {
    pub ignored_resources: Vec<String>,
    pub ignored_resource_groups: Vec<String>,
    pub scoring_strategy: ScoringStrategy,
}

fn default_resources() -> Vec<ResourceSpec> {
    vec![
        ResourceSpec {
            name: "cpu".into(),
            weight: 1,
        },
        ResourceSpec {
            name: "memory".into(),
            weight: 1,
        },
    ]
}

impl Default for FitArgs {
    fn default() -> Self {
        FitArgs {
            ignored_resources: Vec::new(),
            ignored_resource_groups: Vec::new(),
            scoring_strategy: ScoringStrategy {
                kind: ScoringStrategyType::LeastAllocated,
                resources: default_resources(),
                shape: Vec::new(),
            },
        }
    }
}

/// `InterPodAffinityArgs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterPodAffinityArgs {
    pub hard_pod_affinity_weight: i64,
    pub ignore_preferred_terms_of_existing_pods: bool,
}

impl Default for InterPodAffinityArgs {
    fn default() -> Self {
        InterPodAffinityArgs {
            hard_pod_affinity_weight: 1,
            ignore_preferred_terms_of_existing_pods: false,
        }
    }
}

/// `PodTopologySpreadArgs`.
#[derive(Clone, Debug, PartialEq)]
pub struct PodTopologySpreadArgs {
    pub default_constraints: Vec<TopologySpreadConstraint>,
    /// `System` or `List`.
    pub defaulting_type: String,
}

impl Default for PodTopologySpreadArgs {
    fn default() -> Self {
        PodTopologySpreadArgs {
            default_constraints: Vec::new(),
            defaulting_type: "System".into(),
        }
    }
}

/// `DefaultPreemptionArgs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultPreemptionArgs {
    pub min_candidate_nodes_percentage: i64,
    pub min_candidate_nodes_absolute: i64,
}

impl Default for DefaultPreemptionArgs {
    fn default() -> Self {
        DefaultPreemptionArgs {
            min_candidate_nodes_percentage: 10,
            min_candidate_nodes_absolute: 100,
        }
    }
}

/// The typed args of the in-tree plugins, defaulted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PluginArgs {
    pub fit: FitArgs,
    pub balanced: Vec<ResourceSpec>,
    pub inter_pod_affinity: InterPodAffinityArgs,
    pub topology_spread: PodTopologySpreadArgs,
    pub node_affinity: Option<NodeAffinity>,
    pub preemption: DefaultPreemptionArgs,
}

/// One profile after defaulting: its plugins per extension point merged with v1.31's
/// defaults (before the framework expands multiPoint).
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub scheduler_name: String,
    pub percentage_of_nodes_to_score: Option<i32>,
    pub plugins: Plugins,
    pub args: PluginArgs,
}

/// A legacy predicate (`PredicatePolicy`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Predicate {
    pub name: String,
    pub argument: Option<PredicateArgument>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PredicateArgument {
    LabelsPresence { labels: Vec<String>, presence: bool },
    ServiceAffinity { labels: Vec<String> },
}

/// A legacy priority (`PriorityPolicy`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Priority {
    pub name: String,
    pub weight: i64,
    pub label_preference: Option<(String, bool)>,
}

/// A legacy Policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub predicates: Option<Vec<Predicate>>,
    pub priorities: Option<Vec<Priority>>,
    pub hard_pod_affinity_symmetric_weight: i64,
    pub always_check_all_predicates: bool,
}

/// The scheduler's whole configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub profiles: Vec<Profile>,
    /// Set for a legacy Policy (then `profiles` holds one profile for its scheduler name).
    pub policy: Option<Policy>,
    pub percentage_of_nodes_to_score: i32,
    pub pod_initial_backoff_seconds: i64,
    pub pod_max_backoff_seconds: i64,
    pub feature_gates: BTreeMap<String, bool>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            profiles: vec![Profile {
                scheduler_name: DEFAULT_SCHEDULER_NAME.into(),
                percentage_of_nodes_to_score: None,
                plugins: merge_plugins(&default_plugins(), &Plugins::default()),
                args: PluginArgs::default(),
            }],
            policy: None,
            percentage_of_nodes_to_score: 0,
            pod_initial_backoff_seconds: 1,
            pod_max_backoff_seconds: 10,
            feature_gates: BTreeMap::new(),
        }
    }
}

impl Config {
    pub fn is_legacy(&self) -> bool {
        self.policy.is_some()
    }

    pub fn gate(&self, name: &str) -> bool {
        self.feature_gates.get(name).copied().unwrap_or(false)
    }
}

/// The feature gates the `featureGates` stand-in accepts, with their defaults.
pub const KNOWN_GATES: &[(&str, bool)] = &[("BalanceAttachedNodeVolumes", false)];

/// v1.31's default plugins (`getDefaultPlugins`): all under multiPoint.
pub fn default_plugins() -> Plugins {
    let names: &[(&str, i32)] = &[
        ("SchedulingGates", 0),
        ("PrioritySort", 0),
        ("NodeUnschedulable", 0),
        ("NodeName", 0),
        ("TaintToleration", 3),
        ("NodeAffinity", 2),
        ("NodePorts", 0),
        ("NodeResourcesFit", 1),
        ("VolumeRestrictions", 0),
        ("NodeVolumeLimits", 0),
        ("VolumeBinding", 0),
        ("VolumeZone", 0),
        ("PodTopologySpread", 2),
        ("InterPodAffinity", 2),
        ("DefaultPreemption", 0),
        ("NodeResourcesBalancedAllocation", 1),
        ("ImageLocality", 1),
        ("DefaultBinder", 0),
    ];
    let mut p = Plugins::default();
    p.sets.insert(
        "multiPoint",
        PluginSet {
            enabled: names
                .iter()
                .map(|(n, w)| PluginRef {
                    name: n.to_string(),
                    weight: *w,
                })
                .collect(),
            disabled: Vec::new(),
        },
    );
    p
}

/// `mergePluginSet`: custom plugins replace defaults of the same name in place, the rest
/// are appended; disabled names (or `*`) drop defaults.
fn merge_plugin_set(default: &PluginSet, custom: &PluginSet) -> PluginSet {
    let mut disabled: Vec<String> = custom.disabled.clone();
    disabled.extend(default.disabled.iter().cloned());
    let disabled_set: BTreeSet<&str> = disabled.iter().map(String::as_str).collect();
    let mut replaced = BTreeSet::new();
    let mut enabled = Vec::new();
    if !disabled_set.contains("*") {
        for d in &default.enabled {
            if disabled_set.contains(d.name.as_str()) {
                continue;
            }
            match custom.enabled.iter().position(|c| c.name == d.name) {
                Some(i) => {
                    replaced.insert(i);
                    enabled.push(custom.enabled[i].clone());
                }
                None => enabled.push(d.clone()),
            }
        }
    }
    for (i, c) in custom.enabled.iter().enumerate() {
        if !replaced.contains(&i) {
            enabled.push(c.clone());
        }
    }
    PluginSet { enabled, disabled }
}

/// `mergePlugins`: every extension point merged with the defaults.
pub fn merge_plugins(default: &Plugins, custom: &Plugins) -> Plugins {
    let mut out = Plugins::default();
    for point in EXTENSION_POINTS {
        let merged = merge_plugin_set(&default.get(point), &custom.get(point));
        if !merged.enabled.is_empty() || !merged.disabled.is_empty() {
            out.sets.insert(point, merged);
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// Strict decoding helpers.

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn unmarshal_error(v: &Value, path: &str, go_type: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go struct field {path} of type {go_type}",
        json_type(v)
    )
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn object<'a>(
    v: &'a Value,
    path: &str,
    go_type: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Object(m) => Ok(Some(m)),
        other => Err(unmarshal_error(other, path, go_type)),
    }
}

fn strict(m: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<(), String> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(format!(
                "strict decoding error: unknown field \"{}\"",
                join(path, k)
            ));
        }
    }
    Ok(())
}

fn int(
    m: &Map<String, Value>,
    key: &str,
    path: &str,
    go_type: &str,
) -> Result<Option<i64>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let p = join(path, key);
            let n = v.as_i64().ok_or_else(|| unmarshal_error(v, &p, go_type))?;
            let fits = match go_type {
                "int32" => i32::try_from(n).is_ok(),
                _ => true,
            };
            if !fits {
                return Err(format!(
                    "json: cannot unmarshal number {n} into Go struct field {p} of type {go_type}"
                ));
            }
            Ok(Some(n))
        }
    }
}

fn boolean(m: &Map<String, Value>, key: &str, path: &str) -> Result<Option<bool>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(unmarshal_error(v, &join(path, key), "bool")),
    }
}

fn string(m: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(unmarshal_error(v, &join(path, key), "string")),
    }
}

fn array<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
    go_type: &str,
) -> Result<&'a [Value], String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(v) => Err(unmarshal_error(v, &join(path, key), go_type)),
    }
}

fn strings(m: &Map<String, Value>, key: &str, path: &str) -> Result<Vec<String>, String> {
    array(m, key, path, "[]string")?
        .iter()
        .map(|v| {
            v.as_str()
                .map(String::from)
                .ok_or_else(|| unmarshal_error(v, &join(path, key), "string"))
        })
        .collect()
}

/// `utilerrors.NewAggregate(errs).Error()`.
fn aggregate(errs: &[FieldError]) -> Option<String> {
    match errs {
        [] => None,
        [one] => Some(one.to_string()),
        many => Some(format!(
            "[{}]",
            many.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

// ---------------------------------------------------------------------------------

/// Reads `spec.cluster.scheduler` (None: v1.31's default profile).
pub fn parse(v: Option<&Value>) -> Result<Config, String> {
    let Some(v) = v else {
        return Ok(Config::default());
    };
    let Some(m) = v.as_object() else {
        return Err("must be a KubeSchedulerConfiguration or a Policy".into());
    };
    let kind = m.get("kind").and_then(Value::as_str).unwrap_or("");
    let mut m = m.clone();
    let gates = match m.remove("featureGates") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(g)) => {
            let mut out = BTreeMap::new();
            for (k, v) in g {
                if !KNOWN_GATES.iter().any(|(n, _)| *n == k) {
                    return Err(format!("featureGates: unrecognized feature gate: {k}"));
                }
                let b = v.as_bool().ok_or_else(|| {
                    format!("featureGates: invalid value of {k}={v}, err: must be true or false")
                })?;
                out.insert(k, b);
            }
            out
        }
        Some(other) => return Err(unmarshal_error(&other, "featureGates", "map[string]bool")),
    };
    let mut cfg = match kind {
        "KubeSchedulerConfiguration" => parse_configuration(&m)?,
        "Policy" => parse_policy(&m)?,
        other => {
            return Err(format!(
                "kind must be KubeSchedulerConfiguration or Policy, not \"{other}\""
            ))
        }
    };
    cfg.feature_gates = gates;
    Ok(cfg)
}

fn parse_configuration(m: &Map<String, Value>) -> Result<Config, String> {
    let api_version = m.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if api_version != API_VERSION {
        return Err(format!(
            "no kind \"KubeSchedulerConfiguration\" is registered for version \"{api_version}\" in scheme \"pkg/scheduler/apis/config/scheme/scheme.go:30\""
        ));
    }
    strict(
        m,
        "",
        &[
            "apiVersion",
            "kind",
            "parallelism",
            "leaderElection",
            "clientConnection",
            "enableProfiling",
            "enableContentionProfiling",
            "percentageOfNodesToScore",
            "podInitialBackoffSeconds",
            "podMaxBackoffSeconds",
            "profiles",
            "extenders",
            "delayCacheUntilActive",
        ],
    )?;
    let mut errs: Vec<FieldError> = Vec::new();
    let parallelism = int(m, "parallelism", "KubeSchedulerConfiguration", "int32")?.unwrap_or(16);
    if parallelism <= 0 {
        errs.push(FieldError::invalid(
            "parallelism",
            parallelism,
            "should be an integer value greater than zero",
        ));
    }
    boolean(m, "enableProfiling", "KubeSchedulerConfiguration")?;
    boolean(m, "enableContentionProfiling", "KubeSchedulerConfiguration")?;
    boolean(m, "delayCacheUntilActive", "KubeSchedulerConfiguration")?;
    for k in ["leaderElection", "clientConnection"] {
        if let Some(v) = m.get(k) {
            object(v, &format!("KubeSchedulerConfiguration.{k}"), "struct")?;
        }
    }
    if !array(
        m,
        "extenders",
        "KubeSchedulerConfiguration",
        "[]v1.Extender",
    )?
    .is_empty()
    {
        return Err("extenders: extenders are not simulated by kubeglass".into());
    }
    let percentage = int(
        m,
        "percentageOfNodesToScore",
        "KubeSchedulerConfiguration",
        "int32",
    )?
    .unwrap_or(0);
    if !(0..=100).contains(&percentage) {
        errs.push(FieldError::invalid(
            "percentageOfNodesToScore",
            percentage,
            "not in valid range [0-100]",
        ));
    }
    let initial = int(
        m,
        "podInitialBackoffSeconds",
        "KubeSchedulerConfiguration",
        "int64",
    )?
    .unwrap_or(1);
    let max = int(
        m,
        "podMaxBackoffSeconds",
        "KubeSchedulerConfiguration",
        "int64",
    )?
    .unwrap_or(10);
    if initial <= 0 {
        errs.push(FieldError::invalid(
            "podInitialBackoffSeconds",
            initial,
            "must be greater than 0",
        ));
    }
    if max < initial {
        errs.push(FieldError::invalid(
            "podMaxBackoffSeconds",
            max,
            "must be greater than or equal to PodInitialBackoffSeconds",
        ));
    }
    let raw_profiles = array(
        m,
        "profiles",
        "KubeSchedulerConfiguration",
        "[]v1.KubeSchedulerProfile",
    )?;
    let mut profiles = Vec::new();
    let single = raw_profiles.len() <= 1;
    if raw_profiles.is_empty() {
        profiles.push(parse_profile(
            &Value::Object(Map::new()),
            0,
            true,
            &mut errs,
        )?);
    }
    for (i, p) in raw_profiles.iter().enumerate() {
        profiles.push(parse_profile(p, i, single, &mut errs)?);
    }
    let mut names = BTreeSet::new();
    for (i, p) in profiles.iter().enumerate() {
        let path = format!("profiles[{i}].schedulerName");
        if p.scheduler_name.is_empty() {
            errs.push(FieldError::required(path, ""));
        } else if !names.insert(p.scheduler_name.clone()) {
            errs.push(FieldError::duplicate(path, &p.scheduler_name));
        }
    }
    // Every profile must sort the queue the same way.
    if let Some(first) = profiles.first() {
        let qs = first.plugins.get("queueSort");
        let mq: Vec<String> = first
            .plugins
            .get("multiPoint")
            .enabled
            .iter()
            .map(|p| p.name.clone())
            .filter(|n| n == "PrioritySort")
            .collect();
        for (i, p) in profiles.iter().enumerate().skip(1) {
            let other_mq: Vec<String> = p
                .plugins
                .get("multiPoint")
                .enabled
                .iter()
                .map(|p| p.name.clone())
                .filter(|n| n == "PrioritySort")
                .collect();
            if p.plugins.get("queueSort") != qs || other_mq != mq {
                errs.push(FieldError::invalid(
                    format!("profiles[{i}].plugins.queueSort"),
                    GoValue("{...}".into()),
                    "queueSort must be the same for all profiles",
                ));
            }
        }
    }
    if let Some(e) = aggregate(&errs) {
        return Err(e);
    }
    Ok(Config {
        profiles,
        policy: None,
        percentage_of_nodes_to_score: percentage as i32,
        pod_initial_backoff_seconds: initial,
        pod_max_backoff_seconds: max,
        feature_gates: BTreeMap::new(),
    })
}

fn parse_plugin_set(v: &Value, path: &str) -> Result<PluginSet, String> {
    let Some(m) = object(v, path, "v1.PluginSet")? else {
        return Ok(PluginSet::default());
    };
    strict(m, path, &["enabled", "disabled"])?;
    let mut set = PluginSet::default();
    for (i, p) in array(m, "enabled", path, "[]v1.Plugin")?.iter().enumerate() {
        let pp = format!("{path}.enabled[{i}]");
        let Some(pm) = object(p, &pp, "v1.Plugin")? else {
            continue;
        };
        strict(pm, &pp, &["name", "weight"])?;
        set.enabled.push(PluginRef {
            name: string(pm, "name", &pp)?.unwrap_or_default(),
            weight: int(pm, "weight", &pp, "int32")?.unwrap_or(0) as i32,
        });
    }
    for (i, p) in array(m, "disabled", path, "[]v1.Plugin")?
        .iter()
        .enumerate()
    {
        let pp = format!("{path}.disabled[{i}]");
        let Some(pm) = object(p, &pp, "v1.Plugin")? else {
            continue;
        };
        strict(pm, &pp, &["name", "weight"])?;
        set.disabled
            .push(string(pm, "name", &pp)?.unwrap_or_default());
    }
    Ok(set)
}

fn parse_profile(
    v: &Value,
    i: usize,
    single: bool,
    errs: &mut Vec<FieldError>,
) -> Result<Profile, String> {
    let path = format!("profiles[{i}]");
    let empty = Map::new();
    let m = object(v, &path, "v1.KubeSchedulerProfile")?.unwrap_or(&empty);
    strict(
        m,
        &path,
        &[
            "schedulerName",
            "percentageOfNodesToScore",
            "plugins",
            "pluginConfig",
        ],
    )?;
    let scheduler_name = match string(m, "schedulerName", &path)? {
        Some(n) => n,
        None if single => DEFAULT_SCHEDULER_NAME.to_string(),
        None => String::new(),
    };
    let percentage = int(m, "percentageOfNodesToScore", &path, "int32")?;
    if let Some(p) = percentage {
        if !(0..=100).contains(&p) {
            errs.push(FieldError::invalid(
                format!("{path}.percentageOfNodesToScore"),
                p,
                "not in valid range [0-100]",
            ));
        }
    }
    let mut custom = Plugins::default();
    if let Some(pv) = m.get("plugins") {
        let pp = format!("{path}.plugins");
        if let Some(pm) = object(pv, &pp, "v1.Plugins")? {
            strict(pm, &pp, EXTENSION_POINTS)?;
            for point in EXTENSION_POINTS {
                if let Some(sv) = pm.get(*point) {
                    custom
                        .sets
                        .insert(point, parse_plugin_set(sv, &format!("{pp}.{point}"))?);
                }
            }
        }
    }
    let plugins = merge_plugins(&default_plugins(), &custom);
    let mut args = PluginArgs::default();
    let mut seen = BTreeSet::new();
    for (j, pc) in array(m, "pluginConfig", &path, "[]v1.PluginConfig")?
        .iter()
        .enumerate()
    {
        let cp = format!("{path}.pluginConfig[{j}]");
        let Some(cm) = object(pc, &cp, "v1.PluginConfig")? else {
            continue;
        };
        strict(cm, &cp, &["name", "args"])?;
        let name = string(cm, "name", &cp)?.unwrap_or_default();
        if !seen.insert(name.clone()) {
            errs.push(FieldError::duplicate(format!("{cp}.name"), &name));
            continue;
        }
        let ap = format!("{cp}.args");
        let am = match cm.get("args") {
            Some(a) => object(a, &ap, "runtime.RawExtension")?
                .cloned()
                .unwrap_or_default(),
            None => Map::new(),
        };
        parse_args(&name, &am, &ap, &mut args, errs)?;
    }
    Ok(Profile {
        scheduler_name,
        percentage_of_nodes_to_score: percentage.map(|p| p as i32),
        plugins,
        args,
    })
}

fn check_args_kind(m: &Map<String, Value>, path: &str, kind: &str) -> Result<(), String> {
    if let Some(k) = m.get("kind").and_then(Value::as_str) {
        if k != kind {
            return Err(format!("{path}: args of kind {k} given for {kind}"));
        }
    }
    if let Some(av) = m.get("apiVersion").and_then(Value::as_str) {
        if av != API_VERSION {
            return Err(format!(
                "{path}: no kind \"{kind}\" is registered for version \"{av}\""
            ));
        }
    }
    Ok(())
}

fn parse_resources(v: &[Value], path: &str) -> Result<Vec<ResourceSpec>, String> {
    let mut out = Vec::new();
    for (i, r) in v.iter().enumerate() {
        let rp = format!("{path}[{i}]");
        let Some(rm) = object(r, &rp, "v1.ResourceSpec")? else {
            continue;
        };
        strict(rm, &rp, &["name", "weight"])?;
        out.push(ResourceSpec {
            name: string(rm, "name", &rp)?.unwrap_or_default(),
            weight: int(rm, "weight", &rp, "int64")?.unwrap_or(0),
        });
    }
    Ok(out)
}

/// `validateResources`: weights in [1, 100].
pub fn validate_resources(resources: &[ResourceSpec], path: &str) -> Vec<FieldError> {
    resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.weight <= 0 || r.weight > 100)
        .map(|(i, r)| {
            FieldError::invalid(
                format!("{path}[{i}].weight"),
                r.weight,
                format!("resource weight of {} not in valid range [1, 100]", r.name),
            )
        })
        .collect()
}

/// `ValidateNodeResourcesFitArgs` on internal (undefaulted) args, as `NewFit` calls it.
pub fn validate_fit_args(args: &FitArgs, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, r) in args.ignored_resources.iter().enumerate() {
        let msgs = crate::api::validation::is_qualified_name(r);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                join(path, &format!("ignoredResources[{i}]")),
                r,
                msgs.join("; "),
            ));
        }
    }
    for (i, g) in args.ignored_resource_groups.iter().enumerate() {
        let p = join(path, &format!("ignoredResourceGroups[{i}]"));
        if g.contains('/') {
            errs.push(FieldError::invalid(
                p.clone(),
                g,
                "resource group name can't contain '/'",
            ));
        }
        let msgs = crate::api::validation::is_qualified_name(g);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(p, g, msgs.join("; ")));
        }
    }
    let sp = join(path, "scoringStrategy");
    errs.extend(validate_resources(
        &args.scoring_strategy.resources,
        &join(&sp, "resources"),
    ));
    if args.scoring_strategy.kind == ScoringStrategyType::RequestedToCapacityRatio {
        errs.extend(validate_shape(
            &args.scoring_strategy.shape,
            &join(&sp, "shape"),
        ));
    }
    errs
}

/// `validateFunctionShape`.
fn validate_shape(shape: &[ShapePoint], path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if shape.is_empty() {
        errs.push(FieldError::required(
            path,
            "at least one point must be specified",
        ));
        return errs;
    }
    for i in 1..shape.len() {
        if shape[i - 1].utilization >= shape[i].utilization {
            errs.push(FieldError::invalid(
                format!("{path}[{i}].utilization"),
                shape[i].utilization,
                "utilization values must be sorted in increasing order",
            ));
            break;
        }
    }
    for (i, p) in shape.iter().enumerate() {
        if !(0..=100).contains(&p.utilization) {
            errs.push(FieldError::invalid(
                format!("{path}[{i}].utilization"),
                p.utilization,
                "not in valid range [0, 100]",
            ));
        }
        if !(0..=10).contains(&p.score) {
            errs.push(FieldError::invalid(
                format!("{path}[{i}].score"),
                p.score,
                "not in valid range [0, 10]",
            ));
        }
    }
    errs
}

fn parse_args(
    name: &str,
    m: &Map<String, Value>,
    path: &str,
    args: &mut PluginArgs,
    errs: &mut Vec<FieldError>,
) -> Result<(), String> {
    let meta = ["apiVersion", "kind"];
    let with_meta = |fields: &[&'static str]| -> Vec<&'static str> {
        meta.iter().chain(fields.iter()).copied().collect()
    };
    match name {
        "NodeResourcesFit" => {
            check_args_kind(m, path, "NodeResourcesFitArgs")?;
            strict(
                m,
                path,
                &with_meta(&[
                    "ignoredResources",
                    "ignoredResourceGroups",
                    "scoringStrategy",
                ]),
            )?;
            let mut fit = FitArgs {
                ignored_resources: strings(m, "ignoredResources", path)?,
                ignored_resource_groups: strings(m, "ignoredResourceGroups", path)?,
                ..FitArgs::default()
            };
            if let Some(sv) = m.get("scoringStrategy") {
                let sp = join(path, "scoringStrategy");
                if let Some(sm) = object(sv, &sp, "v1.ScoringStrategy")? {
                    strict(sm, &sp, &["type", "resources", "requestedToCapacityRatio"])?;
                    let kind = string(sm, "type", &sp)?.unwrap_or_default();
                    fit.scoring_strategy.kind = match kind.as_str() {
                        "LeastAllocated" => ScoringStrategyType::LeastAllocated,
                        "MostAllocated" => ScoringStrategyType::MostAllocated,
                        "RequestedToCapacityRatio" => ScoringStrategyType::RequestedToCapacityRatio,
                        // An empty type is LeastAllocated's defaulting only when the
                        // whole strategy is absent; an explicit one must be known.
                        _ => {
                            errs.push(FieldError::not_supported(
                                join(&sp, "type"),
                                &kind,
                                &[
                                    "LeastAllocated",
                                    "MostAllocated",
                                    "RequestedToCapacityRatio",
                                ],
                            ));
                            ScoringStrategyType::LeastAllocated
                        }
                    };
                    let mut resources = parse_resources(
                        array(sm, "resources", &sp, "[]v1.ResourceSpec")?,
                        &join(&sp, "resources"),
                    )?;
                    // v1 defaulting: no resources means cpu and memory; weight 0 means 1.
                    if resources.is_empty() {
                        resources = default_resources();
                    }
                    for r in resources.iter_mut() {
                        if r.weight == 0 {
                            r.weight = 1;
                        }
                    }
                    fit.scoring_strategy.resources = resources;
                    if let Some(rv) = sm.get("requestedToCapacityRatio") {
                        let rp = join(&sp, "requestedToCapacityRatio");
                        if let Some(rm) = object(rv, &rp, "v1.RequestedToCapacityRatioParam")? {
                            strict(rm, &rp, &["shape"])?;
                            for (i, pv) in array(rm, "shape", &rp, "[]v1.UtilizationShapePoint")?
                                .iter()
                                .enumerate()
                            {
                                let pp = format!("{rp}.shape[{i}]");
                                let Some(pm) = object(pv, &pp, "v1.UtilizationShapePoint")? else {
                                    continue;
                                };
                                strict(pm, &pp, &["utilization", "score"])?;
                                fit.scoring_strategy.shape.push(ShapePoint {
                                    utilization: int(pm, "utilization", &pp, "int32")?.unwrap_or(0),
                                    score: int(pm, "score", &pp, "int32")?.unwrap_or(0),
                                });
                            }
                        }
                    }
                }
            }
            errs.extend(validate_fit_args(&fit, path));
            args.fit = fit;
        }
        "NodeResourcesBalancedAllocation" => {
            check_args_kind(m, path, "NodeResourcesBalancedAllocationArgs")?;
            strict(m, path, &with_meta(&["resources"]))?;
            let mut resources = parse_resources(
                array(m, "resources", path, "[]v1.ResourceSpec")?,
                &join(path, "resources"),
            )?;
            if resources.is_empty() {
                resources = default_resources();
            }
            let mut seen = BTreeSet::new();
            for (i, r) in resources.iter_mut().enumerate() {
                if r.weight == 0 {
                    r.weight = 1;
                }
                let rp = format!("{}[{i}]", join(path, "resources"));
                if !seen.insert(r.name.clone()) {
                    errs.push(FieldError::duplicate(format!("{rp}.name"), &r.name));
                }
                if r.weight != 1 {
                    errs.push(FieldError::invalid(
                        format!("{rp}.weight"),
                        r.weight,
                        "must be 1",
                    ));
                }
            }
            args.balanced = resources;
        }
        "InterPodAffinity" => {
            check_args_kind(m, path, "InterPodAffinityArgs")?;
            strict(
                m,
                path,
                &with_meta(&[
                    "hardPodAffinityWeight",
                    "ignorePreferredTermsOfExistingPods",
                ]),
            )?;
            let w = int(m, "hardPodAffinityWeight", path, "int32")?.unwrap_or(1);
            if !(0..=100).contains(&w) {
                errs.push(FieldError::invalid(
                    join(path, "hardPodAffinityWeight"),
                    w,
                    "not in valid range [0, 100]",
                ));
            }
            args.inter_pod_affinity = InterPodAffinityArgs {
                hard_pod_affinity_weight: w,
                ignore_preferred_terms_of_existing_pods: boolean(
                    m,
                    "ignorePreferredTermsOfExistingPods",
                    path,
                )?
                .unwrap_or(false),
            };
        }
        "PodTopologySpread" => {
            check_args_kind(m, path, "PodTopologySpreadArgs")?;
            strict(
                m,
                path,
                &with_meta(&["defaultConstraints", "defaultingType"]),
            )?;
            let dt = string(m, "defaultingType", path)?.unwrap_or_else(|| "System".into());
            let mut constraints = Vec::new();
            for (i, c) in array(
                m,
                "defaultConstraints",
                path,
                "[]v1.TopologySpreadConstraint",
            )?
            .iter()
            .enumerate()
            {
                let cp = format!("{}[{i}]", join(path, "defaultConstraints"));
                let tsc: TopologySpreadConstraint = serde_json::from_value(c.clone())
                    .map_err(|e| format!("{cp}: strict decoding error: {e}"))?;
                if tsc.max_skew <= 0 {
                    errs.push(FieldError::invalid(
                        format!("{cp}.maxSkew"),
                        tsc.max_skew as i64,
                        "must be greater than zero",
                    ));
                }
                if tsc.topology_key.is_empty() {
                    errs.push(FieldError::required(
                        format!("{cp}.topologyKey"),
                        "can not be empty",
                    ));
                }
                if !["DoNotSchedule", "ScheduleAnyway"].contains(&tsc.when_unsatisfiable.as_str()) {
                    errs.push(FieldError::not_supported(
                        format!("{cp}.whenUnsatisfiable"),
                        &tsc.when_unsatisfiable,
                        &["DoNotSchedule", "ScheduleAnyway"],
                    ));
                }
                if tsc.label_selector.is_some() {
                    errs.push(FieldError::forbidden(
                        format!("{cp}.labelSelector"),
                        "constraint must not define a selector, as they deduced for each pod",
                    ));
                }
                constraints.push(tsc);
            }
            match dt.as_str() {
                "System" if !constraints.is_empty() => errs.push(FieldError::invalid(
                    join(path, "defaultingType"),
                    &dt,
                    "when .defaultConstraints are not empty, .defaultingType must be List",
                )),
                "System" | "List" => {}
                _ => errs.push(FieldError::not_supported(
                    join(path, "defaultingType"),
                    &dt,
                    &["List", "System"],
                )),
            }
            args.topology_spread = PodTopologySpreadArgs {
                default_constraints: constraints,
                defaulting_type: dt,
            };
        }
        "NodeAffinity" => {
            check_args_kind(m, path, "NodeAffinityArgs")?;
            strict(m, path, &with_meta(&["addedAffinity"]))?;
            if let Some(a) = m.get("addedAffinity") {
                if !a.is_null() {
                    let na: NodeAffinity = serde_json::from_value(a.clone()).map_err(|e| {
                        format!(
                            "{}: strict decoding error: {e}",
                            join(path, "addedAffinity")
                        )
                    })?;
                    args.node_affinity = Some(na);
                }
            }
        }
        "DefaultPreemption" => {
            check_args_kind(m, path, "DefaultPreemptionArgs")?;
            strict(
                m,
                path,
                &with_meta(&["minCandidateNodesPercentage", "minCandidateNodesAbsolute"]),
            )?;
            let pct = int(m, "minCandidateNodesPercentage", path, "int32")?.unwrap_or(10);
            let abs = int(m, "minCandidateNodesAbsolute", path, "int32")?.unwrap_or(100);
            if !(0..=100).contains(&pct) {
                errs.push(FieldError::invalid(
                    join(path, "minCandidateNodesPercentage"),
                    pct,
                    "not in valid range [0, 100]",
                ));
            }
            if abs < 0 {
                errs.push(FieldError::invalid(
                    join(path, "minCandidateNodesAbsolute"),
                    abs,
                    "not in valid range [0, inf)",
                ));
            }
            if pct == 0 && abs == 0 {
                errs.push(FieldError::invalid(
                    path.to_string(),
                    GoValue("{...}".into()),
                    "both minCandidateNodesPercentage and minCandidateNodesAbsolute cannot be zero",
                ));
            }
            args.preemption = DefaultPreemptionArgs {
                min_candidate_nodes_percentage: pct,
                min_candidate_nodes_absolute: abs,
            };
        }
        "VolumeBinding" => {
            check_args_kind(m, path, "VolumeBindingArgs")?;
            strict(m, path, &with_meta(&["bindTimeoutSeconds", "shape"]))?;
        }
        // Plugins without args (or out of tree): their args are kept unparsed upstream.
        _ => {}
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// The legacy Policy.

/// The legacy predicate names kubeglass knows, with the seed's spellings as aliases.
pub const LEGACY_PREDICATES: &[&str] = &[
    "CheckNodeUnschedulable",
    "HostName",
    "PodFitsHost",
    "PodFitsHostPorts",
    "PodFitsPorts",
    "MatchNodeSelector",
    "PodSelectorMatches",
    "PodMatchNodeSelector",
    "PodFitsResources",
    "NoDiskConflict",
    "PodToleratesNodeTaints",
    "CheckNodeLabelPresence",
    "CheckServiceAffinity",
    "MaxEBSVolumeCount",
    "MaxGCEPDVolumeCount",
    "MaxAzureDiskVolumeCount",
];

/// The legacy priority names kubeglass knows.
pub const LEGACY_PRIORITIES: &[&str] = &[
    "LeastRequestedPriority",
    "MostRequestedPriority",
    "BalancedResourceAllocation",
    "CalculateNodeLabelPriority",
    "NodeAffinityPriority",
    "TaintTolerationPriority",
    "EqualPriority",
];

/// `schedulerapi.MaxWeight`: MaxInt64 / MaxPriority.
const MAX_WEIGHT: i64 = i64::MAX / 10;

fn parse_policy(m: &Map<String, Value>) -> Result<Config, String> {
    match m.get("apiVersion").and_then(Value::as_str) {
        None | Some("v1") | Some("") => {}
        Some(other) => {
            return Err(format!(
                "no kind \"Policy\" is registered for version \"{other}\""
            ))
        }
    }
    strict(
        m,
        "",
        &[
            "apiVersion",
            "kind",
            "predicates",
            "priorities",
            "extenders",
            "hardPodAffinitySymmetricWeight",
            "alwaysCheckAllPredicates",
        ],
    )?;
    if !array(m, "extenders", "Policy", "[]v1.Extender")?.is_empty() {
        return Err("extenders: extenders are not simulated by kubeglass".into());
    }
    let predicates = match m.get("predicates") {
        None | Some(Value::Null) => None,
        Some(_) => {
            let mut out = Vec::new();
            for (i, p) in array(m, "predicates", "Policy", "[]v1.PredicatePolicy")?
                .iter()
                .enumerate()
            {
                let pp = format!("predicates[{i}]");
                let Some(pm) = object(p, &pp, "v1.PredicatePolicy")? else {
                    continue;
                };
                strict(pm, &pp, &["name", "argument"])?;
                let name = string(pm, "name", &pp)?.unwrap_or_default();
                let mut argument = None;
                if let Some(av) = pm.get("argument") {
                    let ap = format!("{pp}.argument");
                    if let Some(am) = object(av, &ap, "v1.PredicateArgument")? {
                        strict(am, &ap, &["serviceAffinity", "labelsPresence"])?;
                        if let Some(Some(sa)) = am.get("serviceAffinity").map(|v| v.as_object()) {
                            argument = Some(PredicateArgument::ServiceAffinity {
                                labels: strings(sa, "labels", &format!("{ap}.serviceAffinity"))?,
                            });
                        } else if let Some(Some(lp)) =
                            am.get("labelsPresence").map(|v| v.as_object())
                        {
                            let lpp = format!("{ap}.labelsPresence");
                            argument = Some(PredicateArgument::LabelsPresence {
                                labels: strings(lp, "labels", &lpp)?,
                                presence: boolean(lp, "presence", &lpp)?.unwrap_or(false),
                            });
                        }
                    }
                }
                if argument.is_none() {
                    if !LEGACY_PREDICATES.contains(&name.as_str()) {
                        return Err(format!(
                            "invalid predicate name \"{name}\" specified - no corresponding function found"
                        ));
                    }
                    if name == "CheckNodeLabelPresence" || name == "CheckServiceAffinity" {
                        return Err(format!(
                            "invalid configuration: Predicate type not found for \"{name}\" (it needs an argument: labelsPresence or serviceAffinity)"
                        ));
                    }
                }
                out.push(Predicate { name, argument });
            }
            Some(out)
        }
    };
    let mut errors = Vec::new();
    let priorities = match m.get("priorities") {
        None | Some(Value::Null) => None,
        Some(_) => {
            let mut out = Vec::new();
            for (i, p) in array(m, "priorities", "Policy", "[]v1.PriorityPolicy")?
                .iter()
                .enumerate()
            {
                let pp = format!("priorities[{i}]");
                let Some(pm) = object(p, &pp, "v1.PriorityPolicy")? else {
                    continue;
                };
                strict(pm, &pp, &["name", "weight", "argument"])?;
                let name = string(pm, "name", &pp)?.unwrap_or_default();
                let weight = int(pm, "weight", &pp, "int64")?.unwrap_or(0);
                let mut label_preference = None;
                if let Some(av) = pm.get("argument") {
                    let ap = format!("{pp}.argument");
                    if let Some(am) = object(av, &ap, "v1.PriorityArgument")? {
                        strict(
                            am,
                            &ap,
                            &[
                                "serviceAntiAffinity",
                                "labelPreference",
                                "requestedToCapacityRatioArguments",
                            ],
                        )?;
                        if let Some(Some(lp)) = am.get("labelPreference").map(|v| v.as_object()) {
                            let lpp = format!("{ap}.labelPreference");
                            label_preference = Some((
                                string(lp, "label", &lpp)?.unwrap_or_default(),
                                boolean(lp, "presence", &lpp)?.unwrap_or(false),
                            ));
                        } else if am.contains_key("serviceAntiAffinity")
                            || am.contains_key("requestedToCapacityRatioArguments")
                        {
                            return Err(format!(
                                "{ap}: only labelPreference arguments are simulated in legacy mode"
                            ));
                        }
                    }
                }
                if label_preference.is_none() {
                    if !LEGACY_PRIORITIES.contains(&name.as_str()) {
                        return Err(format!(
                            "invalid priority name {name} specified - no corresponding function found"
                        ));
                    }
                    if name == "CalculateNodeLabelPriority" {
                        return Err("invalid configuration: Priority type not found for \"CalculateNodeLabelPriority\" (it needs an argument: labelPreference)".into());
                    }
                }
                if weight <= 0 || weight >= MAX_WEIGHT {
                    errors.push(format!(
                        "priority {name} should have a positive weight applied to it or it has overflown"
                    ));
                }
                out.push(Priority {
                    name,
                    weight,
                    label_preference,
                });
            }
            Some(out)
        }
    };
    let hard = int(m, "hardPodAffinitySymmetricWeight", "Policy", "int32")?.unwrap_or(1);
    if !(0..=100).contains(&hard) {
        errors.push(
            FieldError::invalid(
                "hardPodAffinitySymmetricWeight",
                hard,
                "not in valid range [0-100]",
            )
            .to_string(),
        );
    }
    match errors.as_slice() {
        [] => {}
        [one] => return Err(one.clone()),
        many => return Err(format!("[{}]", many.join(", "))),
    }
    let policy = Policy {
        predicates,
        priorities,
        hard_pod_affinity_symmetric_weight: hard,
        always_check_all_predicates: boolean(m, "alwaysCheckAllPredicates", "Policy")?
            .unwrap_or(false),
    };
    Ok(Config {
        profiles: vec![Profile {
            scheduler_name: DEFAULT_SCHEDULER_NAME.into(),
            percentage_of_nodes_to_score: Some(100),
            plugins: Plugins::default(),
            args: PluginArgs::default(),
        }],
        policy: Some(policy),
        percentage_of_nodes_to_score: 100,
        pod_initial_backoff_seconds: 1,
        pod_max_backoff_seconds: 10,
        feature_gates: BTreeMap::new(),
    })
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use serde_json::json;

    #[test]
    fn default_profile_is_v131s() {
        let c = parse(None).unwrap();
        let mp = c.profiles[0].plugins.get("multiPoint");
        assert_eq!(mp.enabled.len(), 18);
        assert_eq!(
            mp.enabled[4],
            PluginRef {
                name: "TaintToleration".into(),
                weight: 3
            }
        );
    }

    #[test]
    fn custom_plugins_replace_in_place_and_star_disables() {
        let c = parse(Some(&json!({
            "apiVersion": API_VERSION, "kind": "KubeSchedulerConfiguration",
            "profiles": [{"plugins": {"multiPoint": {"enabled": [{"name": "ImageLocality", "weight": 5}, {"name": "Foo"}], "disabled": [{"name": "NodePorts"}]}}}]
        })))
        .unwrap();
        let mp = c.profiles[0].plugins.get("multiPoint");
        let names: Vec<&str> = mp.enabled.iter().map(|p| p.name.as_str()).collect();
        assert!(!names.contains(&"NodePorts"));
        assert_eq!(names.last(), Some(&"Foo"));
        assert!(mp
            .enabled
            .iter()
            .any(|p| p.name == "ImageLocality" && p.weight == 5));
        let c = parse(Some(&json!({
            "apiVersion": API_VERSION, "kind": "KubeSchedulerConfiguration",
            "profiles": [{"plugins": {"multiPoint": {"enabled": [{"name": "PrioritySort"}], "disabled": [{"name": "*"}]}}}]
        })))
        .unwrap();
        assert_eq!(c.profiles[0].plugins.get("multiPoint").enabled.len(), 1);
    }

    #[test]
    fn invalid_configuration_in_upstreams_words() {
        let bad = |v: Value| parse(Some(&v)).unwrap_err();
        assert_eq!(
            bad(
                json!({"apiVersion": API_VERSION, "kind": "KubeSchedulerConfiguration", "percentageOfNodesToScore": 120})
            ),
            "percentageOfNodesToScore: Invalid value: 120: not in valid range [0-100]"
        );
        assert_eq!(
            bad(json!({"apiVersion": API_VERSION, "kind": "KubeSchedulerConfiguration", "profiles": [{"pluginConfig": [{"name": "NodeResourcesFit", "args": {"scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "memory", "weight": -1}, {"name": "cpu", "weight": 1}]}}}]}]})),
            "profiles[0].pluginConfig[0].args.scoringStrategy.resources[0].weight: Invalid value: -1: resource weight of memory not in valid range [1, 100]"
        );
        assert_eq!(
            bad(
                json!({"apiVersion": API_VERSION, "kind": "KubeSchedulerConfiguration", "profiles": [{"plugins": {"score": {"enabeld": []}}}]})
            ),
            "strict decoding error: unknown field \"profiles[0].plugins.score.enabeld\""
        );
        assert!(bad(json!({"apiVersion": "kubescheduler.config.k8s.io/v1beta3", "kind": "KubeSchedulerConfiguration"}))
            .contains("no kind \"KubeSchedulerConfiguration\" is registered for version"));
        assert_eq!(
            bad(json!({"kind": "Policy", "predicates": [{"name": "PodFitsMagic"}]})),
            "invalid predicate name \"PodFitsMagic\" specified - no corresponding function found"
        );
        assert_eq!(
            bad(json!({"kind": "Policy", "priorities": [{"name": "LeastRequestedPriority", "weight": 0}]})),
            "priority LeastRequestedPriority should have a positive weight applied to it or it has overflown"
        );
    }

    #[test]
    fn weight_zero_defaults_to_one_in_v1() {
        let c = parse(Some(&json!({"apiVersion": API_VERSION, "kind": "KubeSchedulerConfiguration", "profiles": [{"pluginConfig": [{"name": "NodeResourcesFit", "args": {"scoringStrategy": {"type": "LeastAllocated", "resources": [{"name": "memory", "weight": 1}, {"name": "cpu", "weight": 0}]}}}]}]}))).unwrap();
        assert_eq!(
            c.profiles[0].args.fit.scoring_strategy.resources[1].weight,
            1
        );
        // The same args given to the plugin directly (internal types, no defaulting)
        // are invalid, as NewFit says.
        let mut args = FitArgs::default();
        args.scoring_strategy.resources = vec![
            ResourceSpec {
                name: "memory".into(),
                weight: 1,
            },
            ResourceSpec {
                name: "cpu".into(),
                weight: 0,
            },
        ];
        let errs = validate_fit_args(&args, "");
        assert_eq!(errs[0].field, "scoringStrategy.resources[1].weight");
    }
}
