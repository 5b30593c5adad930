//! `kubectl apply`, `create -f`, `replace -f` and `delete -f`: manifests in, one
//! request per object, kubectl's messages out.

use serde_json::{Map, Value};

use super::args::{self, flag, Kind, Parsed};
use super::resource::kind_name;
use super::{server_error, Kubectl, Output};
use crate::api::object::{resource_by_kind, ResourceType};
use crate::api::ApiError;
use crate::apiserver::patch;
use crate::apiserver::request::{Body, Method};

pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

pub const FLAGS: &[args::FlagDef] = &[
    flag("filename", Some('f'), Kind::Repeated),
    flag("recursive", Some('R'), Kind::Bool),
    flag("dry-run", None, Kind::Value),
    flag("validate", None, Kind::Value),
    flag("output", Some('o'), Kind::Value),
    flag("force", None, Kind::Bool),
    flag("server-side", None, Kind::Bool),
    flag("prune", None, Kind::Bool),
    flag("selector", Some('l'), Kind::Value),
    flag("save-config", None, Kind::Bool),
    flag("overwrite", None, Kind::Bool),
    flag("wait", None, Kind::Bool),
    flag("grace-period", None, Kind::Value),
    flag("cascade", None, Kind::Value),
    flag("field-manager", None, Kind::Value),
];

/// One object of a manifest, ready to send.
pub struct Item {
    pub rt: &'static ResourceType,
    pub value: Value,
    pub name: String,
    pub namespace: String,
}

impl Item {
    /// `pod/web`, `deployment.apps/web`.
    pub fn display(&self) -> String {
        format!("{}/{}", kind_name(self.rt), self.name)
    }
}

/// The objects of a manifest text: YAML or JSON documents, `kind: List`s and
/// sequences of objects, flattened.
pub fn read_values(text: &str, source: &str) -> Result<Vec<Value>, String> {
    let docs = crate::yaml::parse_documents(text)
        .map_err(|e| format!("error: error parsing {source}: {e}"))?;
    let mut out = Vec::new();
    for d in docs {
        flatten(d.value, &mut out);
    }
    Ok(out)
}

/// The objects of a value: itself, the items of a `kind: List`, or a sequence's.
pub fn flatten_objects(v: Value) -> Vec<Value> {
    let mut out = Vec::new();
    flatten(v, &mut out);
    out
}

fn flatten(v: Value, out: &mut Vec<Value>) {
    match v {
        Value::Array(items) => items.into_iter().for_each(|i| flatten(i, out)),
        Value::Object(mut m)
            if m.get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k == "List" || k.ends_with("List"))
                && m.get("items").is_some_and(Value::is_array) =>
        {
            // Taken, not cloned: a List of 150,000 pods is not held twice.
            if let Some(Value::Array(items)) = m.remove("items") {
                items.into_iter().for_each(|i| flatten(i, out));
            }
        }
        Value::Null => {}
        other => out.push(other),
    }
}

/// Checks and places one object: kind and apiVersion known, namespace settled.
pub fn prepare(
    mut v: Value,
    source: &str,
    namespace: &str,
    explicit_ns: bool,
) -> Result<Item, String> {
    let Some(m) = v.as_object() else {
        return Err(format!("error: error validating \"{source}\": error validating data: invalid object to validate; if you choose to ignore these errors, turn validation off with --validate=false"));
    };
    let kind = m
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let api_version = m
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let name = m
        .get("metadata")
        .and_then(|md| md.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let obj_ns = m
        .get("metadata")
        .and_then(|md| md.get("namespace"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut missing = Vec::new();
    if api_version.is_empty() {
        missing.push("apiVersion not set");
    }
    if kind.is_empty() {
        missing.push("kind not set");
    }
    if !missing.is_empty() {
        return Err(format!(
            "error: error validating \"{source}\": error validating data: [{}]; if you choose to ignore these errors, turn validation off with --validate=false",
            missing.join(", ")
        )
        .replace("[apiVersion not set]", "apiVersion not set")
        .replace("[kind not set]", "kind not set"));
    }
    let rt = match resource_by_kind(&api_version, &kind).filter(|r| r.stored) {
        Some(rt) => rt,
        None => {
            let why = format!("no matches for kind \"{kind}\" in version \"{api_version}\"");
            return Err(format!(
                "error: resource mapping not found for name: \"{name}\" namespace: \"{obj_ns}\" from \"{source}\": {why}\nensure CRDs are installed first"
            ));
        }
    };
    let mut ns = String::new();
    if rt.namespaced {
        ns = if obj_ns.is_empty() {
            namespace.to_string()
        } else {
            obj_ns.clone()
        };
        if explicit_ns && !obj_ns.is_empty() && obj_ns != namespace {
            return Err(format!(
                "error: the namespace from the provided object \"{obj_ns}\" does not match the namespace \"{namespace}\". You must pass '--namespace={obj_ns}' to perform this operation."
            ));
        }
        if let Some(Value::Object(md)) = v.get_mut("metadata") {
            md.insert("namespace".into(), Value::String(ns.clone()));
        }
    }
    if name.is_empty() {
        let generate = v
            .get("metadata")
            .and_then(|md| md.get("generateName"))
            .is_some();
        if !generate {
            return Err(format!("error: error when retrieving current configuration of:\nResource: \"{}\", GroupVersionKind: \"{api_version}, Kind={kind}\"\nName: \"\", Namespace: \"{ns}\"\nfrom server for: \"{source}\": resource name may not be empty", rt.plural));
        }
    }
    Ok(Item {
        rt,
        value: v,
        name,
        namespace: ns,
    })
}

/// The message kubectl prints for a failed write of one object.
pub fn write_error(e: &ApiError, verb: &str, source: &str, alone: bool) -> String {
    if alone && e.reason() == "Invalid" {
        let details = e.0.details.clone().unwrap_or_default();
        let head = format!("The {} \"{}\" is invalid", details.kind, details.name);
        let causes: Vec<String> = details
            .causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        return match causes.as_slice() {
            [] => head,
            [one] => format!("{head}: {one}"),
            many => format!("{head}: \n* {}", many.join("\n* ")),
        };
    }
    let mut e2 = e.clone();
    e2.0.message = format!("error when {verb} \"{source}\": {}", e.message());
    server_error(&e2)
}

/// The JSON kubectl stores as the last-applied annotation: the object as given,
/// with an (empty if need be) annotations map, keys sorted, and a newline.
fn last_applied(v: &mut Value) -> String {
    // The annotation holds the object as given, with an annotations map (empty if
    // need be) and without itself.
    let md = match v {
        Value::Object(m) => m
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new())),
        _ => return String::from("{}\n"),
    };
    let ann = match md {
        Value::Object(m) => m
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new())),
        _ => return String::from("{}\n"),
    };
    if let Value::Object(a) = ann {
        a.remove(LAST_APPLIED);
    }
    let mut text = serde_json::to_string(v).unwrap_or_default();
    text.push('\n');
    text
}

/// The object with the last-applied annotation set (its annotations map exists).
fn with_last_applied(mut v: Value) -> Value {
    let applied = last_applied(&mut v);
    if let Some(Value::Object(a)) = v.get_mut("metadata").and_then(|m| m.get_mut("annotations")) {
        a.insert(LAST_APPLIED.into(), Value::String(applied));
    }
    v
}

/// Applies a manifest text (`kubectl apply -f -`); `source` names it in messages.
pub fn apply_text(
    kc: &mut Kubectl,
    text: &str,
    source: &str,
    namespace: &str,
    explicit_ns: bool,
    dry_run: bool,
) -> Output {
    let values = match read_values(text, source) {
        Ok(v) => v,
        Err(e) => return Output::fail(e),
    };
    apply_values(kc, values, source, namespace, explicit_ns, dry_run)
}

/// Applies objects one by one, as kubectl does.
pub fn apply_values(
    kc: &mut Kubectl,
    values: Vec<Value>,
    source: &str,
    namespace: &str,
    explicit_ns: bool,
    dry_run: bool,
) -> Output {
    let mut out = Output::default();
    let mut errors: Vec<(Option<ApiError>, String, &'static str)> = Vec::new();
    if values.is_empty() {
        return Output::fail("error: no objects passed to apply");
    }
    let suffix = if dry_run { " (server dry run)" } else { "" };
    let q = if dry_run { "?dryRun=All" } else { "" };
    for v in values {
        let item = match prepare(v, source, namespace, explicit_ns) {
            Ok(i) => i,
            Err(e) => {
                errors.push((None, e, ""));
                continue;
            }
        };
        let path = item.rt.object_path(&item.namespace, &item.name);
        let current = if item.name.is_empty() {
            None
        } else {
            let resp = kc.send(Method::Get, &path, Body::Empty);
            match resp.as_error() {
                None => Some(resp.body_json()),
                Some(e) if e.code() == 404 => None,
                Some(e) => {
                    errors.push((
                        Some(e),
                        String::new(),
                        "retrieving current configuration of",
                    ));
                    continue;
                }
            }
        };
        let display = item.display();
        let modified = with_last_applied(item.value);
        match current {
            None => {
                let resp = kc.send(
                    Method::Post,
                    &format!("{}{q}", item.rt.collection_path(&item.namespace)),
                    Body::Json(modified),
                );
                match resp.as_error() {
                    None => {
                        let name = created_name(&resp, &item.name);
                        out.out(format!("{}/{name} created{suffix}", kind_name(item.rt)));
                    }
                    Some(e) => errors.push((Some(e), String::new(), "creating")),
                }
            }
            Some(live) => {
                let original: Option<Value> = live["metadata"]["annotations"][LAST_APPLIED]
                    .as_str()
                    .and_then(|s| serde_json::from_str(s).ok());
                if original.is_none() {
                    out.stderr.push_str(&format!("Warning: resource {} is missing the kubectl.kubernetes.io/last-applied-configuration annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.\n", item.rt.plural.to_string() + "/" + &item.name));
                }
                let p = patch::three_way(original.as_ref(), &modified, &live);
                if p.as_object().is_some_and(Map::is_empty) {
                    out.out(format!("{} unchanged{suffix}", display));
                    continue;
                }
                let resp = kc.send_with(
                    Method::Patch,
                    &format!("{path}{q}"),
                    Body::Json(p),
                    &[("content-type", "application/strategic-merge-patch+json")],
                );
                match resp.as_error() {
                    None => out.out(format!("{} configured{suffix}", display)),
                    Some(e) => errors.push((Some(e), String::new(), "patching")),
                }
            }
        }
    }
    report_errors(&mut out, errors, source);
    out
}

fn report_errors(
    out: &mut Output,
    errors: Vec<(Option<ApiError>, String, &'static str)>,
    source: &str,
) {
    let alone = errors.len() == 1;
    for (api, text, verb) in errors {
        match api {
            Some(e) => out.err(write_error(&e, verb, source, alone)),
            None => out.err(text),
        }
    }
}

/// The name the server gave a created object (generateName may have chosen it).
pub fn created_name(resp: &crate::apiserver::request::Response, asked: &str) -> String {
    match resp.object() {
        Some(o) => o.name().to_string(),
        None => resp.body_json()["metadata"]["name"]
            .as_str()
            .unwrap_or(asked)
            .to_string(),
    }
}

/// Reads the manifests named by `-f` (only `-` is possible: there is no filesystem
/// in the simulation; a scenario's `apply` step passes text directly).
pub fn files(p: &Parsed, stdin: Option<&str>) -> Result<Vec<(String, String)>, String> {
    let names = p.all("filename");
    if names.is_empty() {
        return Err("error: must specify one of -f and -k".into());
    }
    names
        .into_iter()
        .map(|f| match (f.as_str(), stdin) {
            ("-", Some(text)) => Ok(("STDIN".to_string(), text.to_string())),
            ("-", None) => Err("error: no objects passed to apply".to_string()),
            (path, _) => Err(format!("error: the path \"{path}\" does not exist")),
        })
        .collect()
}

pub fn run_apply(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = match args::parse(words, FLAGS, "apply") {
        Ok(p) => p,
        Err(e) => return Output::fail(e),
    };
    let ns = kc.namespace_of(&p);
    let explicit = p.has("namespace");
    let dry = p.get("dry-run").is_some_and(|d| d == "server");
    match files(&p, kc.stdin.clone().as_deref()) {
        Err(e) => Output::fail(e),
        Ok(fs) => {
            let mut out = Output::default();
            for (src, text) in fs {
                let o = apply_text(kc, &text, &src, &ns, explicit, dry);
                merge(&mut out, o);
            }
            out
        }
    }
}

pub fn merge(into: &mut Output, o: Output) {
    into.stdout.push_str(&o.stdout);
    into.stderr.push_str(&o.stderr);
    into.code = into.code.max(o.code);
}

/// Runs `f` on every object of the `-f` manifests.
pub fn for_each_item(
    kc: &mut Kubectl,
    p: &Parsed,
    verb: &'static str,
    mut f: impl FnMut(&mut Kubectl, &Item) -> Result<String, ApiError>,
) -> Output {
    let ns = kc.namespace_of(p);
    let explicit = p.has("namespace");
    let fs = match files(p, kc.stdin.clone().as_deref()) {
        Ok(f) => f,
        Err(e) => return Output::fail(e),
    };
    let mut out = Output::default();
    for (src, text) in fs {
        let values = match read_values(&text, &src) {
            Ok(v) => v,
            Err(e) => {
                out.err(e);
                continue;
            }
        };
        let mut errors = Vec::new();
        for v in values {
            match prepare(v, &src, &ns, explicit) {
                Err(e) => errors.push((None, e, verb)),
                Ok(item) => match f(kc, &item) {
                    Ok(line) => out.out(line),
                    Err(e) => errors.push((Some(e), String::new(), verb)),
                },
            }
        }
        report_errors(&mut out, errors, &src);
    }
    out
}

pub fn run_replace(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = match args::parse(words, FLAGS, "replace") {
        Ok(p) => p,
        Err(e) => return Output::fail(e),
    };
    for_each_item(kc, &p, "replacing", |kc, item| {
        let path = item.rt.object_path(&item.namespace, &item.name);
        let resp = kc.send(Method::Put, &path, Body::Json(item.value.clone()));
        match resp.as_error() {
            Some(e) => Err(e),
            None => Ok(format!("{} replaced", item.display())),
        }
    })
}
