//! Conformance: every case of `tests/data/scheduler-scores.json` and
//! `tests/data/scheduler-filters.json` (upstream's own unit-test cases, copied verbatim;
//! their `notes` give the formulas) run through the scenario interface: a scenario
//! with the case's nodes (annotated `kubeglass.dev/kubelet: "none"`), its existing
//! pods applied with `spec.nodeName`, the incoming pod applied, then `explain`.
//!
//! A case kind this file does not know is a failure, never a skip.
//!
//! How a case becomes a scenario (representation only; the semantics are kept):
//! - Go decodes JSON `null` as a field's zero value: null fields are dropped.
//! - The API server requires named containers with images and at least one
//!   container: containers get `c0…`/`init0…` names and the pause image, and a pod
//!   with no containers gets one requesting explicit zero cpu and memory (what an
//!   empty container list contributes, and explicit zeros are not defaulted).
//! - A filter case's node without a name is `node`; existing pods are bound to it.
//! - The incoming pod's `spec.nodeName` equal to the node's name is dropped (a pod
//!   created with `spec.nodeName` bypasses the scheduler, as upstream).
//!
//! Two kinds of expectation come from calling a plugin with internal args, which a
//! real configuration cannot express: v1 defaulting turns weight 0 into 1 and empty
//! resources into cpu+memory. For those cases the plugin-level expectation is checked
//! against the plugin (as upstream's unit test does) and the scenario is checked to
//! do what v1.31 does with that configuration.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::scenario;
use kubeglass::scheduler::config::{
    validate_fit_args, FitArgs, ResourceSpec, ScoringStrategy, ScoringStrategyType,
};
use serde_json::{json, Map, Value};

const SCORES: &str = include_str!("data/scheduler-scores.json");
const FILTERS: &str = include_str!("data/scheduler-filters.json");
const PAUSE: &str = "registry.k8s.io/pause:3.10";

/// Drops null fields, as Go's decoder treats them.
/// An expected reason and, for insufficient resources, (requested, used, capacity).
type WantReason = (String, Option<(i64, i64, i64)>);

fn drop_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), drop_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(drop_nulls).collect()),
        other => other.clone(),
    }
}

fn fix_containers(spec: &mut Map<String, Value>, key: &str, prefix: &str, at_least_one: bool) {
    let mut list = spec
        .get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if list.is_empty() && at_least_one {
        list.push(json!({"resources": {"requests": {"cpu": "0", "memory": "0"}}}));
    }
    for (i, c) in list.iter_mut().enumerate() {
        if let Value::Object(m) = c {
            m.entry("name")
                .or_insert_with(|| json!(format!("{prefix}{i}")));
            m.entry("image").or_insert_with(|| json!(PAUSE));
            // Non-overcommitable resources need limits equal to their requests.
            let requests = m
                .get("resources")
                .and_then(|r| r.get("requests"))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for (k, q) in requests {
                if !["cpu", "memory", "ephemeral-storage"].contains(&k.as_str()) {
                    let res = m.entry("resources").or_insert_with(|| json!({}));
                    if res.get("limits").is_none() {
                        res["limits"] = json!({});
                    }
                    if res["limits"].get(&k).is_none() {
                        res["limits"][&k] = q;
                    }
                }
            }
            // The API server requires containerPort; the host port is what matters.
            if let Some(Value::Array(ports)) = m.get_mut("ports") {
                for p in ports.iter_mut() {
                    if p.get("containerPort").is_none() {
                        p["containerPort"] = p.get("hostPort").cloned().unwrap_or(json!(80));
                    }
                }
            }
        }
    }
    if !list.is_empty() {
        spec.insert(key.into(), Value::Array(list));
    }
}

/// A case's pod as the API server takes it.
fn pod(v: &Value, name: &str, node: Option<&str>, drop_node: Option<&str>) -> Value {
    let mut p = drop_nulls(v);
    let obj = p.as_object_mut().expect("a pod is an object");
    obj.insert("apiVersion".into(), json!("v1"));
    obj.insert("kind".into(), json!("Pod"));
    let meta = obj.entry("metadata").or_insert_with(|| json!({}));
    meta["name"] = json!(name);
    meta["namespace"] = json!("default");
    let spec = obj.entry("spec").or_insert_with(|| json!({}));
    let spec = spec.as_object_mut().expect("a pod spec is an object");
    fix_containers(spec, "containers", "c", true);
    fix_containers(spec, "initContainers", "init", false);
    if let Some(Value::Array(vols)) = spec.get_mut("volumes") {
        for (i, v) in vols.iter_mut().enumerate() {
            if let Value::Object(m) = v {
                m.entry("name").or_insert_with(|| json!(format!("v{i}")));
            }
        }
    }
    if let Some(n) = node {
        spec.insert("nodeName".into(), json!(n));
    }
    if let (Some(d), Some(n)) = (drop_node, spec.get("nodeName").and_then(Value::as_str)) {
        if n == d {
            spec.remove("nodeName");
        }
    }
    p
}

fn node(v: &Value, extra_allocatable: Option<(&str, &str)>) -> Value {
    let mut n = drop_nulls(v);
    let meta = n
        .as_object_mut()
        .expect("a node")
        .entry("metadata")
        .or_insert_with(|| json!({}));
    if meta.get("name").is_none() {
        meta["name"] = json!("node");
    }
    meta["annotations"] = json!({"kubeglass.dev/kubelet": "none"});
    if let Some((k, q)) = extra_allocatable {
        for field in ["capacity", "allocatable"] {
            n["status"][field][k] = json!(q);
        }
    }
    n
}

/// A node name the API server takes (`node_1` → `node-1`), and the same renaming
/// applied to every string equal to the old name in a pod (its matchFields).
fn valid_name(name: &str) -> String {
    name.replace('_', "-")
}

fn rename(v: &Value, from: &str, to: &str) -> Value {
    match v {
        Value::String(s) if s == from => json!(to),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), rename(v, from, to)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| rename(v, from, to)).collect()),
        other => other.clone(),
    }
}

/// Runs a scenario: existing pods, then the incoming pod, then explain. Returns the
/// parse error, or (apply result of the incoming pod, explain result).
fn run(
    nodes: &[Value],
    existing: &[Value],
    incoming: &Value,
    scheduler: Value,
) -> Result<(Value, Value), String> {
    let mut cluster = json!({"nodes": nodes});
    if !scheduler.is_null() {
        cluster["scheduler"] = scheduler;
    }
    let mut steps = Vec::new();
    if !existing.is_empty() {
        steps.push(json!({"apply": {"apiVersion": "v1", "kind": "List", "items": existing}}));
    }
    steps.push(json!({"apply": incoming}));
    steps.push(json!({"explain": "pod/default/incoming"}));
    let text = json!({
        "apiVersion": "kubeglass.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "conformance"},
        "spec": {"cluster": cluster, "steps": steps},
    })
    .to_string();
    let s = scenario::parse(&text).map_err(|e| e.message)?;
    let (results, _) = scenario::run(&s).map_err(|e| e.message)?;
    let n = results.len();
    Ok((results[n - 2].to_json(), results[n - 1].to_json()))
}

fn profile(plugins: Value, plugin_config: Value) -> Value {
    json!({
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "profiles": [{"schedulerName": "default-scheduler", "plugins": plugins, "pluginConfig": plugin_config}],
    })
}

/// Only the queue sort, the binder and what `extra` adds.
fn only(extra: Value) -> Value {
    let mut p = json!({
        "multiPoint": {"enabled": [{"name": "PrioritySort"}, {"name": "DefaultBinder"}], "disabled": [{"name": "*"}]},
    });
    if let Value::Object(m) = extra {
        for (k, v) in m {
            if k == "multiPoint" {
                let list = p["multiPoint"]["enabled"].as_array_mut().expect("a list");
                list.extend(v.as_array().cloned().unwrap_or_default());
            } else {
                p[k] = v;
            }
        }
    }
    p
}

fn resources(case: &Value) -> Option<Vec<ResourceSpec>> {
    case["resources"].as_array().map(|a| {
        a.iter()
            .map(|r| ResourceSpec {
                name: r["name"].as_str().unwrap_or_default().to_string(),
                weight: r["weight"].as_i64().unwrap_or(0),
            })
            .collect()
    })
}

fn score_of(record: &Value, node: &str, plugin: &str) -> Option<i64> {
    record["nodes"]
        .as_array()?
        .iter()
        .find(|n| n["name"] == node)?["scores"]
        .as_array()?
        .iter()
        .find(|s| s["plugin"] == plugin)?["score"]
        .as_i64()
}

/// One score case; Err says why it failed.
fn score_case(case: &Value) -> Result<String, String> {
    let strategy = case["strategy"].as_str().unwrap_or_default();
    let res = resources(case);
    let mut nodes: Vec<Value> = Vec::new();
    let volumes = case["volumeAccounting"]["maxVolumesPerNode"].as_i64();
    for n in case["nodes"].as_array().ok_or("no nodes")? {
        let max = volumes.map(|v| v.to_string());
        nodes.push(node(
            n,
            max.as_deref().map(|m| ("attachable-volumes-aws-ebs", m)),
        ));
    }
    let existing: Vec<Value> = case["existingPods"]
        .as_array()
        .map(|a| {
            a.iter()
                .enumerate()
                .map(|(i, p)| pod(p, &format!("existing-{i}"), None, None))
                .collect()
        })
        .unwrap_or_default();
    let incoming = pod(&case["pod"], "incoming", None, None);
    let res_json = res.as_ref().map(|rs| {
        Value::Array(
            rs.iter()
                .map(|r| json!({"name": r.name, "weight": r.weight}))
                .collect(),
        )
    });
    let (plugin, scheduler) = match strategy {
        "LeastAllocated" | "MostAllocated" | "RequestedToCapacityRatio" => {
            let mut ss = json!({"type": strategy});
            if let Some(r) = &res_json {
                ss["resources"] = r.clone();
            }
            if let Some(shape) = case
                .get("shape")
                .or_else(|| case["requestedToCapacityRatio"].get("shape"))
            {
                ss["requestedToCapacityRatio"] = json!({"shape": shape});
            }
            let mut plugins =
                json!({"score": {"enabled": [{"name": "NodeResourcesFit", "weight": 1}]}});
            if case["runPreScore"] != json!(false) {
                plugins["preScore"] = json!({"enabled": [{"name": "NodeResourcesFit"}]});
            }
            (
                "NodeResourcesFit",
                profile(
                    only(plugins),
                    json!([{"name": "NodeResourcesFit", "args": {"scoringStrategy": ss}}]),
                ),
            )
        }
        "BalancedAllocation" => {
            let mut args = json!({});
            if let Some(r) = &res_json {
                args["resources"] = r.clone();
            }
            let mut plugins = json!({"score": {"enabled": [{"name": "NodeResourcesBalancedAllocation", "weight": 1}]}});
            if case["runPreScore"] != json!(false) {
                plugins["preScore"] =
                    json!({"enabled": [{"name": "NodeResourcesBalancedAllocation"}]});
            }
            (
                "NodeResourcesBalancedAllocation",
                profile(
                    only(plugins),
                    json!([{"name": "NodeResourcesBalancedAllocation", "args": args}]),
                ),
            )
        }
        "LeastRequestedPriority" | "BalancedResourceAllocation" | "MostRequestedPriority" => {
            let mut policy = json!({"kind": "Policy", "apiVersion": "v1", "predicates": [], "priorities": [{"name": strategy, "weight": 1}]});
            if let Some(gates) = case.get("featureGates") {
                policy["featureGates"] = gates.clone();
            }
            if volumes.is_some() {
                policy["predicates"] = json!([{"name": "MaxEBSVolumeCount"}]);
            }
            (strategy, policy)
        }
        other => return Err(format!("unknown strategy {other:?}")),
    };

    if let Some(want) = case.get("expectedConfigError") {
        let field = want["field"].as_str().unwrap_or_default();
        if want["type"] != "FieldValueInvalid" {
            return Err(format!("unknown config error type {}", want["type"]));
        }
        let rs = res.clone().unwrap_or_default();
        // The plugin with internal args, as upstream's unit test builds it.
        let internal = match strategy {
            "BalancedAllocation" => rs
                .iter()
                .enumerate()
                .find(|(_, r)| r.weight != 1)
                .map(|(i, _)| format!("resources[{i}].weight")),
            _ => {
                let kind = match strategy {
                    "MostAllocated" => ScoringStrategyType::MostAllocated,
                    "RequestedToCapacityRatio" => ScoringStrategyType::RequestedToCapacityRatio,
                    _ => ScoringStrategyType::LeastAllocated,
                };
                let args = FitArgs {
                    scoring_strategy: ScoringStrategy {
                        kind,
                        resources: rs.clone(),
                        shape: Vec::new(),
                    },
                    ..FitArgs::default()
                };
                validate_fit_args(&args, "")
                    .first()
                    .map(|e| e.field.clone())
            }
        };
        if internal.as_deref() != Some(field) {
            return Err(format!(
                "plugin-level validation: want {field}, got {internal:?}"
            ));
        }
        // Through a real configuration: v1 defaulting makes a 0 weight 1.
        let defaulted = rs.iter().all(|r| (0..=100).contains(&r.weight));
        return match run(&nodes, &existing, &incoming, scheduler) {
            Err(e) if !defaulted && e.contains(&format!("{field}: Invalid value")) => Ok("rejected as upstream".into()),
            Err(e) => Err(format!("configuration error {e:?} does not name {field}")),
            Ok(_) if defaulted => Ok(format!("plugin rejects {field}; v1 defaults weight 0 to 1 so the configuration is accepted")),
            Ok(_) => Err(format!("configuration accepted, want an error on {field}")),
        };
    }
    let (applied, explained) = run(&nodes, &existing, &incoming, scheduler)?;
    if !applied["error"].is_null() {
        return Err(format!("apply failed: {}", applied["error"]));
    }
    if !explained["error"].is_null() {
        return Err(format!("explain failed: {}", explained["error"]));
    }
    let record = &explained["output"];
    if case.get("expectedPreScoreStatus").and_then(Value::as_str) == Some("Skip") {
        let skipped = record["preScore"].as_array().is_some_and(|a| {
            a.iter()
                .any(|p| p["plugin"] == plugin && p["status"] == "Skip")
        });
        let scored = record["nodes"].as_array().is_some_and(|ns| {
            ns.iter()
                .any(|n| score_of(record, n["name"].as_str().unwrap_or(""), plugin).is_some())
        });
        return if skipped && !scored {
            Ok("skipped at PreScore".into())
        } else {
            Err(format!("want {plugin} skipped at PreScore: {record}"))
        };
    }
    if case.get("expectedScoreStatus").and_then(Value::as_str) == Some("Error") {
        // Internal args without resources make the scorer fail (upstream's unit test);
        // a v1 configuration defaults them to cpu and memory.
        let fit = kubeglass::scheduler::plugins::noderesources::resource_allocation::Scorer::new(
            Vec::new(),
            false,
            kubeglass::scheduler::plugins::noderesources::resource_allocation::Strategy::MostAllocated,
        );
        let cache = kubeglass::scheduler::cache::Cache::new(
            kubeglass::scheduler::framework::types::ResourceModel::Current,
        );
        let _ = cache;
        let n = kubeglass::scheduler::framework::types::NodeInfo::new(std::sync::Arc::new(
            kubeglass::api::Object::from_value(
                json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}}),
            )
            .map_err(|e| e.to_string())?,
        ));
        return match fit.score(&n, &[]) {
            Err(st)
                if st.code == kubeglass::scheduler::framework::Code::Error
                    && st.message() == "resources not found" =>
            {
                if record["nodes"].as_array().is_some_and(|ns| {
                    ns.iter().all(|n| {
                        score_of(record, n["name"].as_str().unwrap_or(""), plugin).is_some()
                    })
                }) {
                    Ok("scorer without resources errors; v1 defaults the resources, so the scenario scores".into())
                } else {
                    Err(format!(
                        "the scenario did not score with defaulted resources: {record}"
                    ))
                }
            }
            other => Err(format!(
                "want a \"resources not found\" error, got {other:?}"
            )),
        };
    }
    let want = case["expectedScores"]
        .as_object()
        .ok_or("no expectedScores")?;
    let mut bad = Vec::new();
    for (n, s) in want {
        let got = score_of(record, n, plugin);
        if got != s.as_i64() {
            bad.push(format!("{n}: want {s}, got {got:?}"));
        }
    }
    if bad.is_empty() {
        Ok(String::new())
    } else {
        Err(format!("{}; record: {record}", bad.join(", ")))
    }
}

/// The v1.31 plugin's reason for a legacy predicate's reason.
fn modern_reason(r: &str) -> String {
    match r {
        "Insufficient pods" => "Too many pods".into(),
        "node(s) didn't match node selector" => {
            "node(s) didn't match Pod's node affinity/selector".into()
        }
        "node(s) didn't match the requested hostname" => {
            "node(s) didn't match the requested node name".into()
        }
        other => other.into(),
    }
}

fn filter_case(case: &Value, legacy: bool) -> Result<String, String> {
    let filter = case["filter"].as_str().unwrap_or_default();
    let modern_name = filter.split(' ').next().unwrap_or_default();
    let legacy_name = filter
        .split('(')
        .nth(1)
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("no legacy name in {filter:?}"))?;
    if ![
        "NodeResourcesFit",
        "NodeName",
        "NodePorts",
        "VolumeRestrictions",
        "NodeAffinity",
    ]
    .contains(&modern_name)
    {
        return Err(format!("unknown filter {filter:?}"));
    }
    let ignored = case["ignoredExtendedResources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let given = case["node"]["metadata"]["name"]
        .as_str()
        .unwrap_or("node")
        .to_string();
    let name = valid_name(&given);
    let mut n = node(&case["node"], None);
    n["metadata"]["name"] = json!(name);
    let case = &rename(case, &given, &name);
    let existing: Vec<Value> = case["existingPods"]
        .as_array()
        .map(|a| {
            a.iter()
                .enumerate()
                .map(|(i, p)| pod(p, &format!("existing-{i}"), Some(&name), None))
                .collect()
        })
        .unwrap_or_default();
    let incoming = pod(&case["pod"], "incoming", None, Some(&name));
    let (plugin, scheduler) = if legacy {
        if !ignored.is_empty() {
            return Ok(
                "not expressible in a Policy (ignored extended resources came from extenders)"
                    .into(),
            );
        }
        (
            legacy_name,
            json!({"kind": "Policy", "apiVersion": "v1", "predicates": [{"name": legacy_name}], "priorities": []}),
        )
    } else {
        let mut config = json!([]);
        if !ignored.is_empty() {
            config = json!([{"name": "NodeResourcesFit", "args": {"ignoredResources": ignored}}]);
        }
        (
            modern_name,
            profile(only(json!({"multiPoint": [{"name": modern_name}]})), config),
        )
    };
    let fits = case["expectedFits"].as_bool().ok_or("no expectedFits")?;
    let want: Vec<WantReason> = case["expectedReasons"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| match r {
                    Value::String(s) => (s.clone(), None),
                    o => (
                        o["reason"].as_str().unwrap_or_default().to_string(),
                        Some((
                            o["requested"].as_i64().unwrap_or(0),
                            o["used"].as_i64().unwrap_or(0),
                            o["capacity"].as_i64().unwrap_or(0),
                        )),
                    ),
                })
                .map(|(r, d)| (if legacy { r } else { modern_reason(&r) }, d))
                .collect()
        })
        .unwrap_or_default();
    if let Some(other) = incoming["spec"]["nodeName"].as_str() {
        // A pod created with spec.nodeName bypasses the scheduler (upstream too), so
        // the node name filter can only be asked directly.
        return node_name_directly(case, &n, other, legacy, fits, &want);
    }
    let (applied, explained) = run(&[n], &existing, &incoming, scheduler)?;
    if !applied["error"].is_null() {
        // The API server refuses some pods the unit tests feed the predicate directly
        // (nodeSelectorTerms: null). Then the predicate itself must agree.
        let msg = applied["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if modern_name == "NodeAffinity" && !fits {
            let p: kubeglass::api::core::Pod =
                serde_json::from_value(drop_nulls(&case["pod"])).map_err(|e| e.to_string())?;
            let nd: kubeglass::api::core::Node =
                serde_json::from_value(drop_nulls(&case["node"])).map_err(|e| e.to_string())?;
            let info = kubeglass::scheduler::framework::types::PodInfo::new(
                std::sync::Arc::new(kubeglass::api::Object::from(p)),
                kubeglass::scheduler::framework::types::ResourceModel::Current,
            )
            .ok_or("not a pod")?;
            let matches =
                kubeglass::scheduler::plugins::nodeaffinity::RequiredNodeAffinity::of(&info)
                    .matches(&nd);
            return if matches {
                Err(format!(
                    "the API server refused the pod ({msg}) and the matcher says it fits"
                ))
            } else {
                Ok(format!("the API server refuses this pod as upstream's does ({msg}); the matcher rejects the node"))
            };
        }
        return Err(format!("apply failed: {msg}"));
    }
    if !explained["error"].is_null() {
        return Err(format!("explain failed: {}", explained["error"]));
    }
    let record = &explained["output"];
    if fits {
        return if record["node"] == json!(name) {
            Ok(String::new())
        } else {
            Err(format!("want the pod on {name}: {record}"))
        };
    }
    if !record["node"].is_null() {
        return Err(format!("want no fit: {record}"));
    }
    let Some(nr) = record["nodes"]
        .as_array()
        .and_then(|ns| ns.iter().find(|x| x["name"] == json!(name)))
    else {
        // A PreFilterResult (NodeAffinity's matchFields) can leave the node unevaluated.
        let msg = record["message"].as_str().unwrap_or_default();
        return if !legacy && msg.contains(&format!("didn't satisfy plugin(s) [{plugin}]")) {
            Ok("not evaluated: excluded by the plugin's PreFilterResult".into())
        } else {
            Err(format!("node {name} not in the record: {record}"))
        };
    };
    let last = nr["filters"]
        .as_array()
        .and_then(|f| f.last())
        .ok_or("no filters ran")?;
    if last["plugin"] != plugin || last["passed"] != false {
        return Err(format!("want {plugin} to reject: {nr}"));
    }
    let got: Vec<String> = last["reasons"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    let want_reasons: Vec<String> = want.iter().map(|(r, _)| r.clone()).collect();
    if got != want_reasons {
        return Err(format!("reasons: want {want_reasons:?}, got {got:?}"));
    }
    for (i, (_, detail)) in want.iter().enumerate() {
        if let Some((req, used, cap)) = detail {
            let ins = &last["insufficient"][i];
            let have = (
                ins["requested"].as_i64(),
                ins["used"].as_i64(),
                ins["capacity"].as_i64(),
            );
            if have != (Some(*req), Some(*used), Some(*cap)) {
                return Err(format!(
                    "insufficient {}: want {:?}, got {have:?}",
                    want[i].0,
                    (req, used, cap)
                ));
            }
        }
    }
    Ok(String::new())
}

/// The NodeName filter (or the legacy HostName predicate) asked directly.
fn node_name_directly(
    case: &Value,
    node: &Value,
    wanted: &str,
    legacy: bool,
    fits: bool,
    want: &[WantReason],
) -> Result<String, String> {
    use kubeglass::scheduler::framework::{CycleState, Plugin, PluginCtx};
    use kubeglass::scheduler::plugins::legacy::predicates::{LegacyPredicate, PredicateKind};
    let mut n = node.clone();
    n["apiVersion"] = json!("v1");
    n["kind"] = json!("Node");
    let nobj =
        std::sync::Arc::new(kubeglass::api::Object::from_value(n).map_err(|e| e.to_string())?);
    let mut cache = kubeglass::scheduler::cache::Cache::new(
        kubeglass::scheduler::framework::types::ResourceModel::Current,
    );
    cache.upsert_node(&nobj);
    let p = pod(&case["pod"], "incoming", None, None);
    let pobj =
        std::sync::Arc::new(kubeglass::api::Object::from_value(p).map_err(|e| e.to_string())?);
    let info = kubeglass::scheduler::framework::types::PodInfo::new(pobj, cache.model())
        .ok_or("not a pod")?;
    let plugin: Box<dyn Plugin> = if legacy {
        Box::new(LegacyPredicate::new(
            "PodFitsHost".into(),
            PredicateKind::HostName,
        ))
    } else {
        Box::new(kubeglass::scheduler::plugins::nodename::NodeName)
    };
    let snap = cache.snapshot();
    let pc = PluginCtx {
        index: 0,
        max_score: 100,
    };
    let idx = cache.node_index(&nobj.meta().name).ok_or("no node")?;
    let st = plugin.as_filter().ok_or("not a filter")?.filter(
        pc,
        &CycleState::new(1),
        &info,
        cache.node(idx),
        &snap,
    );
    let got: Vec<String> = st.reasons.iter().map(|r| r.to_string()).collect();
    let want_reasons: Vec<String> = want.iter().map(|(r, _)| r.clone()).collect();
    if st.is_success() == fits && (fits || got == want_reasons) {
        Ok(format!(
            "a pod naming node {wanted:?} bypasses the scheduler; the filter asked directly agrees"
        ))
    } else {
        Err(format!(
            "filter asked directly: want fits={fits} {want_reasons:?}, got {st:?}"
        ))
    }
}

fn report(name: &str, results: Vec<(String, Result<String, String>)>) {
    let mut failed = Vec::new();
    for (id, r) in &results {
        match r {
            Ok(note) if note.is_empty() => {}
            Ok(note) => println!("{name} {id}: ok ({note})"),
            Err(e) => failed.push(format!("{id}: {e}")),
        }
    }
    println!(
        "{name}: {} of {} cases pass",
        results.len() - failed.len(),
        results.len()
    );
    assert!(
        failed.is_empty(),
        "{} {name} case(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[test]
fn scheduler_scores_conformance() {
    let data: Value = serde_json::from_str(SCORES).expect("valid JSON");
    let cases = data["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    let results = cases
        .iter()
        .map(|c| (c["id"].as_str().unwrap_or("?").to_string(), score_case(c)))
        .collect();
    report("scores", results);
}

#[test]
fn scheduler_filters_conformance_legacy_policy() {
    let data: Value = serde_json::from_str(FILTERS).expect("valid JSON");
    let cases = data["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    let results = cases
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or("?").to_string(),
                filter_case(c, true),
            )
        })
        .collect();
    report("filters (legacy Policy)", results);
}

#[test]
fn scheduler_filters_conformance_v131_profile() {
    let data: Value = serde_json::from_str(FILTERS).expect("valid JSON");
    let cases = data["cases"].as_array().expect("cases");
    let results = cases
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or("?").to_string(),
                filter_case(c, false),
            )
        })
        .collect();
    report("filters (v1.31 profile)", results);
}
