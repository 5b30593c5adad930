//! Scenarios: the public contract shared by tests, lessons, the command-line tool and
//! the page's share links (see the project's README and docs/scenario.md).
//!
//! A scenario file builds a cluster and runs steps against it; every step yields one
//! result `{"output": ..., "error": ...}` and a failing step never stops the run.

use crate::api::VecMap;

use serde_json::{json, Map, Value};

use crate::api::object::{Object, NODES};
use crate::apiserver::request::{Body, Credentials, Method, Request, ResponseBody};
use crate::apiserver::{admission, Cidr};
use crate::cluster::{Cluster, NetworkSettings, Settings};
use crate::kernel::{format_duration, parse_duration, Nanos, TraceDetail};
use crate::kubectl::Kubectl;

/// A scenario that could not be read: what is wrong and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub message: String,
    /// 1-based, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn err(message: impl Into<String>) -> ScenarioError {
    ScenarioError {
        message: message.into(),
        line: None,
        column: None,
    }
}

/// What a step does.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Manifests, as `kubectl apply -f -` reads them.
    Apply(ApplyInput),
    Kubectl(String),
    Request {
        method: String,
        path: String,
        body: Option<Value>,
        headers: VecMap<String, String>,
    },
    Advance(Nanos),
    Settle(Nanos),
    Explain(String),
    IptablesSave(String),
    IptablesRestore(Value),
    Trace(Value),
    Fault(Value),
}

/// What an `apply` step applies: a YAML/JSON text, or objects given inline.
#[derive(Clone, Debug, PartialEq)]
pub enum ApplyInput {
    Text(String),
    /// Objects (a `kind: List` and sequences already flattened).
    Objects(Vec<Value>),
}

/// One step and who takes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub action: Action,
    /// None: the cluster administrator.
    pub credentials: Option<Credentials>,
}

impl Step {
    /// The step as a person would have typed it (`kubectl get pods`, `advance 30s`).
    pub fn command_line(&self) -> String {
        match &self.action {
            Action::Apply(_) => "kubectl apply -f -".into(),
            Action::Kubectl(line) => format!("kubectl {}", line.trim_start_matches("kubectl ")),
            Action::Request { method, path, .. } => {
                format!("curl -X {method} https://10.0.0.1:6443{path}")
            }
            Action::Advance(d) => format!("advance {}", format_duration(*d)),
            Action::Settle(_) => "settle".into(),
            Action::Explain(p) => format!("explain {p}"),
            Action::IptablesSave(n) => format!("iptables-save  # on {n}"),
            Action::IptablesRestore(_) => "iptables-restore".into(),
            Action::Trace(v) => format!("trace {v}"),
            Action::Fault(v) => format!("fault {v}"),
        }
    }
}

/// A parsed scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub settings: Settings,
    pub steps: Vec<Step>,
}

/// The names of the steps, in the contract's order.
pub const STEP_NAMES: &[&str] = &[
    "apply",
    "kubectl",
    "request",
    "advance",
    "settle",
    "explain",
    "iptables-save",
    "iptables-restore",
    "trace",
    "fault",
];

/// Reads a scenario file (YAML or JSON).
pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    let mut docs = crate::yaml::parse_documents(text).map_err(|e| ScenarioError {
        message: e.to_string(),
        line: Some(e.line),
        column: Some(e.column),
    })?;
    let mut doc = match docs.len() {
        1 => docs.pop().map(|d| d.value).unwrap_or_default(),
        0 => return Err(err("the scenario file is empty")),
        _ => return Err(err("a scenario file holds one document")),
    };
    // The steps are taken out whole, so that inline objects are moved, not copied.
    let steps_value = doc
        .get_mut("spec")
        .and_then(|s| s.get_mut("steps"))
        .map(Value::take);
    let locate = |path: &str, e: ScenarioError| -> ScenarioError { locate_error(text, path, e) };
    let Some(top) = doc.as_object() else {
        return Err(err("a scenario must be a mapping"));
    };
    for key in top.keys() {
        if !["apiVersion", "kind", "metadata", "spec"].contains(&key.as_str()) {
            return Err(locate(key, err(format!("unknown field \"{key}\""))));
        }
    }
    if top.get("apiVersion").and_then(Value::as_str) != Some("kubeglass.dev/v1alpha1") {
        return Err(locate(
            "apiVersion",
            err("apiVersion must be \"kubeglass.dev/v1alpha1\""),
        ));
    }
    if top.get("kind").and_then(Value::as_str) != Some("Scenario") {
        return Err(locate("kind", err("kind must be \"Scenario\"")));
    }
    let name = top
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let empty = Map::new();
    let spec = match top.get("spec") {
        None => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => return Err(locate("spec", err("spec must be a mapping"))),
    };
    for key in spec.keys() {
        if !["seed", "cluster", "steps"].contains(&key.as_str()) {
            return Err(locate(key, err(format!("spec: unknown field \"{key}\""))));
        }
    }
    let mut settings = Settings::default();
    scheduler_record_annotations(top.get("metadata"), &mut settings)
        .map_err(|e| locate("annotations", e))?;
    if let Some(seed) = spec.get("seed") {
        settings.seed = seed
            .as_u64()
            .ok_or_else(|| locate("seed", err("spec.seed must be a non-negative integer")))?;
    }
    if let Some(cluster) = spec.get("cluster") {
        cluster_settings(cluster, &mut settings).map_err(|e| {
            let key = e
                .message
                .split(':')
                .next()
                .unwrap_or("")
                .rsplit('.')
                .next()
                .unwrap_or("")
                .to_string();
            locate(&key, e)
        })?;
    }
    let mut steps = Vec::new();
    match steps_value {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.into_iter().enumerate() {
                let key = item
                    .as_object()
                    .and_then(|m| m.keys().find(|k| *k != "as").cloned())
                    .unwrap_or_default();
                steps.push(parse_step(item).map_err(|e| {
                    locate_nth_step(
                        text,
                        i,
                        &key,
                        ScenarioError {
                            message: format!("spec.steps[{i}]: {}", e.message),
                            ..e
                        },
                    )
                })?);
            }
        }
        Some(_) => return Err(locate("steps", err("spec.steps must be a list"))),
    }
    Ok(Scenario {
        name,
        settings,
        steps,
    })
}

/// The annotations that size the scheduler's decision records
/// (`kubeglass.dev/scheduler-record-window`, `kubeglass.dev/scheduler-record-nodes`).
fn scheduler_record_annotations(
    meta: Option<&Value>,
    s: &mut Settings,
) -> Result<(), ScenarioError> {
    let Some(ann) = meta
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    for (key, field) in [
        (
            "kubeglass.dev/scheduler-record-window",
            &mut s.scheduler_records.window,
        ),
        (
            "kubeglass.dev/scheduler-record-nodes",
            &mut s.scheduler_records.nodes,
        ),
    ] {
        if let Some(v) = ann.get(key) {
            *field = v
                .as_str()
                .and_then(|t| t.parse::<usize>().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    err(format!(
                        "metadata.annotations[{key}]: must be a positive integer as a string"
                    ))
                })?;
        }
    }
    Ok(())
}

/// Finds the line of `key:` in the text for an error's position.
fn locate_error(text: &str, key: &str, mut e: ScenarioError) -> ScenarioError {
    if key.is_empty() {
        return e;
    }
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start().trim_start_matches("- ");
        if t.starts_with(&format!("{key}:")) || t.starts_with(&format!("\"{key}\":")) {
            e.line = Some(i + 1);
            e.column = Some(line.len() - line.trim_start().len() + 1);
            e.message = format!("line {}: {}", i + 1, e.message);
            return e;
        }
    }
    e
}

/// Finds the line of the `i`th step (a `- key:` item under `steps:`).
fn locate_nth_step(text: &str, i: usize, key: &str, mut e: ScenarioError) -> ScenarioError {
    let mut in_steps = false;
    let mut indent = None;
    let mut n = 0usize;
    for (ln, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let ind = line.len() - trimmed.len();
        if trimmed.starts_with("steps:") {
            in_steps = true;
            continue;
        }
        if !in_steps || trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed.starts_with("- ") || trimmed == "-" {
            let want = *indent.get_or_insert(ind);
            if ind == want {
                if n == i {
                    let col = if key.is_empty() {
                        ind + 1
                    } else {
                        line.find(key).map_or(ind + 1, |c| c + 1)
                    };
                    e.line = Some(ln + 1);
                    e.column = Some(col);
                    e.message = format!("line {}: {}", ln + 1, e.message);
                    return e;
                }
                n += 1;
            }
        } else if indent.is_some_and(|want| ind < want) {
            break;
        }
    }
    e
}

fn cluster_settings(v: &Value, s: &mut Settings) -> Result<(), ScenarioError> {
    let m = v
        .as_object()
        .ok_or_else(|| err("spec.cluster must be a mapping"))?;
    for key in m.keys() {
        if !["nodes", "scheduler", "network", "apiserver", "images"].contains(&key.as_str()) {
            return Err(err(format!("spec.cluster.{key}: unknown field \"{key}\"")));
        }
    }
    if let Some(nodes) = m.get("nodes") {
        let list = nodes
            .as_array()
            .ok_or_else(|| err("spec.cluster.nodes: must be a list of Node objects"))?;
        for (i, n) in list.iter().enumerate() {
            let mut n = n.clone();
            if let Value::Object(o) = &mut n {
                o.entry("apiVersion")
                    .or_insert_with(|| Value::String("v1".into()));
                o.entry("kind")
                    .or_insert_with(|| Value::String("Node".into()));
            }
            match Object::from_value_as(&NODES, n) {
                Ok(Object::Node(node)) => {
                    if node.metadata.name.is_empty() {
                        return Err(err(format!(
                            "spec.cluster.nodes[{i}]: metadata.name is required"
                        )));
                    }
                    s.nodes.push(*node);
                }
                Ok(_) => unreachable!("decoded as a Node"),
                Err(e) => return Err(err(format!("spec.cluster.nodes[{i}]: {e}"))),
            }
        }
    }
    if let Some(sched) = m.get("scheduler") {
        if !sched.is_object() {
            return Err(err(
                "spec.cluster.scheduler: must be a KubeSchedulerConfiguration or a Policy",
            ));
        }
        crate::scheduler::validate(Some(sched))
            .map_err(|e| err(format!("spec.cluster.scheduler: {e}")))?;
        s.scheduler = Some(sched.clone());
    }
    if let Some(net) = m.get("network") {
        s.network = network_settings(net)?;
    }
    if let Some(api) = m.get("apiserver") {
        apiserver_settings(api, s)?;
    }
    if let Some(images) = m.get("images") {
        s.images = crate::kubelet::images::parse_images(images).map_err(err)?;
    }
    Ok(())
}

fn network_settings(v: &Value) -> Result<NetworkSettings, ScenarioError> {
    let m = v
        .as_object()
        .ok_or_else(|| err("spec.cluster.network must be a mapping"))?;
    let mut n = NetworkSettings::default();
    for (k, val) in m {
        let text = || {
            val.as_str()
                .map(String::from)
                .ok_or_else(|| err(format!("spec.cluster.network.{k}: must be a string")))
        };
        match k.as_str() {
            "plugin" => {
                let p = text()?;
                const PLUGINS: &[&str] = &[
                    "flannel-vxlan",
                    "flannel-host-gw",
                    "ovs",
                    "direct-routing",
                    "docker-bridge",
                ];
                if !PLUGINS.contains(&p.as_str()) {
                    return Err(err(format!("spec.cluster.network.plugin: Unsupported value: \"{p}\": supported values: {}", PLUGINS.iter().map(|x| format!("\"{x}\"")).collect::<Vec<_>>().join(", "))));
                }
                n.plugin = p;
            }
            "proxyMode" => {
                let p = text()?;
                if p != "iptables" && p != "userspace" {
                    return Err(err(format!("spec.cluster.network.proxyMode: Unsupported value: \"{p}\": supported values: \"iptables\", \"userspace\"")));
                }
                n.proxy_mode = p;
            }
            "clusterCIDR" => {
                n.cluster_cidr = Cidr::parse(&text()?).ok_or_else(|| {
                    err(format!(
                        "spec.cluster.network.clusterCIDR: invalid CIDR address: {val}"
                    ))
                })?
            }
            "serviceClusterIPRange" => {
                n.service_cidr = Cidr::parse(&text()?).ok_or_else(|| {
                    err(format!(
                        "spec.cluster.network.serviceClusterIPRange: invalid CIDR address: {val}"
                    ))
                })?;
                if n.service_cidr.prefix > 30 {
                    return Err(err(
                        "spec.cluster.network.serviceClusterIPRange: the range is too small",
                    ));
                }
            }
            "nodeCIDRMaskSize" => {
                let size = val.as_u64().filter(|x| (8..=30).contains(x)).ok_or_else(|| err("spec.cluster.network.nodeCIDRMaskSize: must be an integer from 8 to 30"))?;
                n.node_cidr_mask_size = size as u8;
            }
            "serviceNodePortRange" => {
                let t = text()?;
                let range = t
                    .split_once('-')
                    .and_then(|(a, b)| {
                        Some((a.trim().parse::<u16>().ok()?, b.trim().parse::<u16>().ok()?))
                    })
                    .filter(|(a, b)| a <= b && *a > 0)
                    .ok_or_else(|| {
                        err(format!(
                            "spec.cluster.network.serviceNodePortRange: invalid port range \"{t}\""
                        ))
                    })?;
                n.node_port_range = range;
            }
            other => {
                return Err(err(format!(
                    "spec.cluster.network.{other}: unknown field \"{other}\""
                )))
            }
        }
    }
    if n.node_cidr_mask_size < n.cluster_cidr.prefix {
        return Err(err(
            "spec.cluster.network.nodeCIDRMaskSize: must be larger than the clusterCIDR's prefix",
        ));
    }
    Ok(n)
}

fn apiserver_settings(v: &Value, s: &mut Settings) -> Result<(), ScenarioError> {
    let m = v
        .as_object()
        .ok_or_else(|| err("spec.cluster.apiserver must be a mapping"))?;
    for (k, val) in m {
        match k.as_str() {
            "authorizationModes" => {
                let modes: Vec<String> = val
                    .as_array()
                    .ok_or_else(|| {
                        err("spec.cluster.apiserver.authorizationModes: must be a list")
                    })?
                    .iter()
                    .map(|x| x.as_str().unwrap_or_default().to_string())
                    .collect();
                for mode in &modes {
                    if !["AlwaysAllow", "AlwaysDeny", "ABAC", "RBAC", "Node"]
                        .contains(&mode.as_str())
                    {
                        return Err(err(format!("spec.cluster.apiserver.authorizationModes: authorization mode \"{mode}\" is not a valid mode")));
                    }
                }
                if modes.is_empty() {
                    return Err(err("spec.cluster.apiserver.authorizationModes: at least one authorization-mode must be passed"));
                }
                s.apiserver.authorization_modes = modes;
            }
            "admissionPlugins" => {
                let names = |key: &str| -> Vec<String> {
                    val.get(key)
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                };
                s.apiserver.admission_plugins =
                    admission::enabled_plugins(&names("enable"), &names("disable")).map_err(
                        |e| err(format!("spec.cluster.apiserver.admissionPlugins: {e}")),
                    )?;
            }
            "legacyServiceAccountTokens" => {
                s.legacy_service_account_tokens = val.as_bool().ok_or_else(|| {
                    err("spec.cluster.apiserver.legacyServiceAccountTokens: must be true or false")
                })?;
            }
            "abacPolicy" | "tokens" | "basicAuth" | "clientCertificates" => {
                s.apiserver.security.insert(k.clone(), val.clone());
            }
            other => {
                return Err(err(format!(
                    "spec.cluster.apiserver.{other}: unknown field \"{other}\""
                )))
            }
        }
    }
    Ok(())
}

fn parse_as(v: &Value) -> Result<Credentials, ScenarioError> {
    let m = v.as_object().ok_or_else(|| err("as: must be a mapping"))?;
    if let Some(t) = m.get("token") {
        return Ok(Credentials::Token(
            t.as_str()
                .ok_or_else(|| err("as.token: must be a string"))?
                .into(),
        ));
    }
    if let Some(b) = m.get("basicAuth") {
        let user = b
            .get("user")
            .and_then(Value::as_str)
            .ok_or_else(|| err("as.basicAuth.user: required"))?;
        let password = b
            .get("password")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Ok(Credentials::Basic {
            user: user.into(),
            password: password.into(),
        });
    }
    if let Some(c) = m.get("certificate") {
        return Ok(Credentials::Certificate(
            c.as_str()
                .ok_or_else(|| err("as.certificate: must be a string"))?
                .into(),
        ));
    }
    if let Some(u) = m.get("user") {
        let name = u
            .as_str()
            .ok_or_else(|| err("as.user: must be a string"))?
            .to_string();
        let groups = m
            .get("groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect();
        return Ok(Credentials::User { name, groups });
    }
    Err(err(
        "as: give {user, groups}, {token}, {basicAuth: {user, password}} or {certificate}",
    ))
}

fn parse_step(mut v: Value) -> Result<Step, ScenarioError> {
    let m = v
        .as_object()
        .ok_or_else(|| err("a step must be a mapping with one key naming it"))?;
    let credentials = match m.get("as") {
        Some(a) => Some(parse_as(a)?),
        None => None,
    };
    let keys: Vec<&String> = m.keys().filter(|k| *k != "as").collect();
    let key =
        match keys.as_slice() {
            [k] => k.as_str(),
            [] => return Err(err(
                "a step needs one key naming it (apply, kubectl, request, advance, settle, ...)",
            )),
            many => {
                return Err(err(format!(
                    "a step has one key naming it, found {}",
                    many.iter()
                        .map(|k| format!("\"{k}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        };
    let key = key.to_string();
    let key = key.as_str();
    let owned = v.get_mut(key).map(Value::take).unwrap_or_default();
    let val = &owned;
    let action = match key {
        "apply" => Action::Apply(match val {
            Value::String(s) => ApplyInput::Text(s.clone()),
            Value::Object(_) | Value::Array(_) => {
                ApplyInput::Objects(crate::kubectl::apply::flatten_objects(owned))
            }
            _ => {
                return Err(err(
                    "apply: give a YAML/JSON text, an object, a List or a sequence of objects",
                ))
            }
        }),
        "kubectl" => Action::Kubectl(
            val.as_str()
                .ok_or_else(|| err("kubectl: give a command line"))?
                .to_string(),
        ),
        "request" => {
            let r = val
                .as_object()
                .ok_or_else(|| err("request: give {method, path, body?, headers?}"))?;
            let method = r
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("GET")
                .to_string();
            if Method::parse(&method).is_none() {
                return Err(err(format!(
                    "request.method: unsupported method \"{method}\""
                )));
            }
            let path = r
                .get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| err("request.path: required"))?
                .to_string();
            if !path.starts_with('/') {
                return Err(err(format!(
                    "request.path: must start with '/': \"{path}\""
                )));
            }
            let headers = r
                .get("headers")
                .and_then(Value::as_object)
                .map(|h| {
                    h.iter()
                        .map(|(k, v)| {
                            (
                                k.to_ascii_lowercase(),
                                v.as_str()
                                    .map(String::from)
                                    .unwrap_or_else(|| v.to_string()),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            Action::Request {
                method,
                path,
                body: r.get("body").cloned(),
                headers,
            }
        }
        "advance" => Action::Advance(duration(val, "advance")?),
        "settle" => {
            let max = match val.get("max") {
                Some(d) => duration(d, "settle.max")?,
                None => Cluster::SETTLE_LIMIT,
            };
            if !(val.is_object() || val.is_null()) {
                return Err(err("settle: give {} or {max: DURATION}"));
            }
            Action::Settle(max)
        }
        "explain" => Action::Explain(
            val.as_str()
                .ok_or_else(|| err("explain: give pod/NAMESPACE/NAME"))?
                .to_string(),
        ),
        "iptables-save" => Action::IptablesSave(
            val.as_str()
                .ok_or_else(|| err("iptables-save: give a node name"))?
                .to_string(),
        ),
        "iptables-restore" => Action::IptablesRestore(val.clone()),
        "trace" => Action::Trace(val.clone()),
        "fault" => Action::Fault(val.clone()),
        other => {
            return Err(err(format!(
                "unknown step \"{other}\"; steps are {}",
                STEP_NAMES
                    .iter()
                    .map(|s| format!("\"{s}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    };
    Ok(Step {
        action,
        credentials,
    })
}

fn duration(v: &Value, what: &str) -> Result<Nanos, ScenarioError> {
    let s = v.as_str().ok_or_else(|| {
        err(format!(
            "{what}: give a duration such as 500ms, 30s, 5m or 1h"
        ))
    })?;
    parse_duration(s).map_err(|e| err(format!("{what}: {e}")))
}

/// One step's result.
#[derive(Clone, Debug, PartialEq)]
pub struct StepResult {
    pub output: Value,
    pub error: Value,
    /// What went to stderr although the step succeeded (`No resources found`,
    /// warnings): shown by the terminal view, not part of the JSON result.
    pub stderr: String,
}

impl StepResult {
    pub fn ok(output: Value) -> StepResult {
        StepResult {
            output,
            error: Value::Null,
            stderr: String::new(),
        }
    }
    pub fn fail(output: Value, message: impl Into<String>) -> StepResult {
        StepResult {
            output,
            error: json!({"message": message.into()}),
            stderr: String::new(),
        }
    }
    pub fn to_json(&self) -> Value {
        json!({"output": self.output, "error": self.error})
    }
}

/// Runs scenario steps against a cluster.
pub struct Runner {
    pub cluster: Cluster,
}

impl Runner {
    pub fn new(settings: Settings) -> Result<Runner, ScenarioError> {
        Cluster::new(settings)
            .map(|cluster| Runner { cluster })
            .map_err(err)
    }

    /// Runs one step, then all work due at the current instant.
    pub fn step(&mut self, step: &Step) -> StepResult {
        self.take_step(step.clone())
    }

    /// Like [`Runner::step`], consuming the step (inline objects are moved, not copied).
    pub fn take_step(&mut self, step: Step) -> StepResult {
        self.record(&step, "a scenario step");
        let result = self.perform(step);
        self.cluster.run_due();
        result
    }

    /// Records a step in the trace as an input: the command a person would have
    /// typed, and why it was taken (`a scenario step`).
    pub fn record(&mut self, step: &Step, why: &'static str) {
        let now = self.cluster.now();
        self.cluster.k.trace.record(
            now,
            "person",
            step.command_line(),
            why,
            vec![],
            TraceDetail::Input {
                step: step.command_line(),
            },
        );
    }

    /// Performs a step's action without running the work it makes due, so that a
    /// host (the page's worker) can run that work one event at a time.
    pub fn perform(&mut self, step: Step) -> StepResult {
        let creds = step.credentials.clone().unwrap_or(Credentials::Admin);
        match step.action {
            Action::Apply(input) => {
                let mut kc = Kubectl::new(&mut self.cluster, creds);
                let out = match input {
                    ApplyInput::Text(text) => crate::kubectl::apply::apply_text(
                        &mut kc, &text, "STDIN", "default", false, false,
                    ),
                    ApplyInput::Objects(values) => crate::kubectl::apply::apply_values(
                        &mut kc, values, "STDIN", "default", false, false,
                    ),
                };
                let output = Value::String(out.stdout.trim_end_matches('\n').to_string());
                if out.code != 0 {
                    StepResult::fail(output, out.stderr.trim_end_matches('\n'))
                } else {
                    StepResult {
                        stderr: out.stderr,
                        ..StepResult::ok(output)
                    }
                }
            }
            Action::Kubectl(line) => {
                let mut kc = Kubectl::new(&mut self.cluster, creds);
                let out = kc.run(&line);
                if out.code != 0 {
                    StepResult::fail(Value::String(out.stdout), out.stderr.trim_end_matches('\n'))
                } else {
                    StepResult {
                        stderr: out.stderr,
                        ..StepResult::ok(Value::String(out.stdout))
                    }
                }
            }
            Action::Request {
                method,
                path,
                body,
                headers,
            } => self.request(&method, &path, &body, &headers, creds),
            Action::Advance(d) => {
                let t = self.cluster.advance(d);
                StepResult::ok(Value::String(format_duration(t)))
            }
            Action::Settle(max) => match self.cluster.settle(max) {
                Ok(t) => StepResult::ok(Value::String(format_duration(t))),
                Err(e) => StepResult::fail(Value::String(format_duration(self.cluster.now())), e),
            },
            Action::Explain(target) => self.explain(&target),
            Action::IptablesSave(node) => self.iptables_save(&node),
            Action::IptablesRestore(v) => self.iptables_restore(&v),
            Action::Trace(v) => self.trace(&v),
            Action::Fault(v) => crate::kubelet::fault::perform(&mut self.cluster, &v),
        }
    }

    /// `trace {from, to, proto?}`: one packet's path through the cluster.
    fn trace(&self, v: &Value) -> StepResult {
        let (Some(from), Some(to)) = (
            v.get("from").and_then(Value::as_str),
            v.get("to").and_then(Value::as_str),
        ) else {
            return StepResult::fail(Value::Null, "trace: give {from: pod/NS/NAME|node/NAME|external[:IP], to: IP:PORT|svc/NS/NAME:PORT|NAME.NS.svc.cluster.local:PORT, proto: tcp|udp}");
        };
        let proto = v.get("proto").and_then(Value::as_str);
        let host = v.get("host").and_then(Value::as_str);
        let path = v.get("path").and_then(Value::as_str);
        match self.cluster.trace_http(from, to, proto, host, path) {
            Ok(out) => StepResult::ok(out),
            Err(e) => StepResult::fail(Value::Null, e),
        }
    }

    /// `iptables-save NODE`: the node's whole ruleset as the real command prints it.
    fn iptables_save(&self, node: &str) -> StepResult {
        match self.cluster.node_netfilter(node) {
            Some(nf) => StepResult::ok(Value::String(nf.save(self.cluster.now()))),
            None => StepResult::fail(Value::Null, no_iptables(node)),
        }
    }

    /// `iptables-restore {node, rules, noflush?}`: loads text into the node's tables;
    /// on an error nothing is applied and the error gives the line and column.
    fn iptables_restore(&mut self, v: &Value) -> StepResult {
        let (Some(node), Some(rules)) = (
            v.get("node").and_then(Value::as_str),
            v.get("rules").and_then(Value::as_str),
        ) else {
            return StepResult::fail(
                Value::Null,
                "iptables-restore: give {node: NAME, rules: TEXT, noflush: false}",
            );
        };
        let noflush = v.get("noflush").and_then(Value::as_bool).unwrap_or(false);
        let Some(nf) = self.cluster.node_netfilter_mut(node) else {
            return StepResult::fail(Value::Null, no_iptables(node));
        };
        let opts = crate::network::netfilter::RestoreOptions {
            noflush,
            counters: false,
        };
        match nf.restore(rules, opts) {
            Ok(sum) => StepResult::ok(serde_json::to_value(&sum).unwrap_or(Value::Null)),
            Err(e) => StepResult {
                output: Value::Null,
                error: serde_json::json!({"message": e.text(), "line": e.line, "column": e.column}),
                stderr: String::new(),
            },
        }
    }

    /// `explain pod/NAMESPACE/NAME`: the pod's latest scheduling record.
    fn explain(&self, target: &str) -> StepResult {
        let parts: Vec<&str> = target.split('/').collect();
        let (ns, name) = match parts.as_slice() {
            ["pod" | "pods" | "po", ns, name] if !ns.is_empty() && !name.is_empty() => (*ns, *name),
            ["pod" | "pods" | "po", name] if !name.is_empty() => ("default", *name),
            _ => {
                return StepResult::fail(
                    Value::Null,
                    format!("explain: give pod/NAMESPACE/NAME, not \"{target}\""),
                )
            }
        };
        let Some(s) = self.cluster.scheduler() else {
            return StepResult::fail(Value::Null, "explain: the cluster runs no scheduler");
        };
        match s.explain(&format!("{ns}/{name}")) {
            Ok(v) => StepResult::ok(v),
            Err(e) => StepResult::fail(Value::Null, e),
        }
    }

    fn request(
        &mut self,
        method: &str,
        path: &str,
        body: &Option<Value>,
        headers: &VecMap<String, String>,
        creds: Credentials,
    ) -> StepResult {
        let Some(m) = Method::parse(method) else {
            return StepResult::fail(Value::Null, format!("unsupported method \"{method}\""));
        };
        let body = match body {
            None | Some(Value::Null) => Body::Empty,
            Some(Value::String(s)) => Body::Text(s.clone()),
            Some(v) => Body::Json(v.clone()),
        };
        let mut req = Request::new(m, path)
            .with_body(body)
            .with_credentials(creds)
            .with_client("curl");
        for (k, v) in headers {
            req = req.with_header(k, v);
        }
        let resp = self.cluster.request(req);
        let body = match &resp.body {
            ResponseBody::Events(_) => json!({"events": resp.body_json()}),
            _ => resp.body_json(),
        };
        StepResult::ok(json!({"code": resp.code, "body": body}))
    }
}

/// Runs a whole scenario; returns every step's result and the cluster after.
pub fn run(s: &Scenario) -> Result<(Vec<StepResult>, Runner), ScenarioError> {
    run_owned(s.clone())
}

/// Runs a whole scenario, consuming it.
pub fn run_owned(s: Scenario) -> Result<(Vec<StepResult>, Runner), ScenarioError> {
    let mut runner = Runner::new(s.settings)?;
    let results = s.steps.into_iter().map(|st| runner.take_step(st)).collect();
    Ok((results, runner))
}

/// Runs a scenario text to the JSON the CLI prints with `--json`; the bool says
/// whether it could be read.
pub fn run_json(text: &str) -> (Value, bool) {
    match parse(text).and_then(run_owned) {
        Ok((results, _)) => (
            json!({"steps": results.iter().map(StepResult::to_json).collect::<Vec<_>>()}),
            true,
        ),
        Err(e) => {
            let mut error = json!({"message": e.message});
            if let (Some(l), Some(c)) = (e.line, e.column) {
                error["line"] = json!(l);
                error["column"] = json!(c);
            }
            (json!({"error": error, "steps": []}), false)
        }
    }
}

fn no_iptables(node: &str) -> String {
    format!(
        "node \"{node}\" has no iptables rules here: it is not a node of this cluster, or it runs no simulated kubelet and kube-proxy (kubeglass.dev/kubelet: none), or kube-proxy runs in userspace mode"
    )
}
