//! The smaller kubectl commands: create, delete, label, annotate, scale, patch, run,
//! expose, api-resources, api-versions, version and cluster-info.

use crate::api::VecMap;

use serde_json::{json, Map, Value};

use super::apply::{self, for_each_item};
use super::args::{self, flag, Kind, Parsed};
use super::get::{list_query, targets};
use super::printer::tabulate;
use super::resource::kind_name;
use super::{server_error, Kubectl, Output};
use crate::api::object::ResourceType;
use crate::apiserver::request::{Body, Method};

fn parsed(words: &[String], defs: &[args::FlagDef], cmd: &str) -> Result<Parsed, Output> {
    args::parse(words, defs, cmd).map_err(Output::fail)
}

macro_rules! try_out {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(o) => return o,
        }
    };
}

const CREATE_FLAGS: &[args::FlagDef] = &[
    flag("filename", Some('f'), Kind::Repeated),
    flag("image", None, Kind::Repeated),
    flag("replicas", Some('r'), Kind::Value),
    flag("port", None, Kind::Value),
    flag("from-literal", None, Kind::Repeated),
    flag("from-file", None, Kind::Repeated),
    flag("type", None, Kind::Value),
    flag("tcp", None, Kind::Repeated),
    flag("node-port", None, Kind::Value),
    flag("clusterip", None, Kind::Value),
    flag("docker-server", None, Kind::Value),
    flag("docker-username", None, Kind::Value),
    flag("docker-password", None, Kind::Value),
    flag("docker-email", None, Kind::Value),
    flag("dry-run", None, Kind::Value),
    flag("output", Some('o'), Kind::Value),
    flag("save-config", None, Kind::Bool),
    flag("validate", None, Kind::Value),
    flag("external-name", None, Kind::Value),
    flag("description", None, Kind::Value),
    flag("value", None, Kind::Value),
    flag("global-default", None, Kind::Bool),
];

/// The container name kubectl derives from an image (`registry/nginx:1.14` → `nginx`).
fn container_name(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    let base = last.split([':', '@']).next().unwrap_or(last);
    base.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

fn literal_pairs(p: &Parsed) -> Result<VecMap<String, String>, String> {
    let mut out = VecMap::new();
    for lit in p.all("from-literal") {
        let (k, v) = lit
            .split_once('=')
            .ok_or_else(|| format!("error: invalid literal source {lit}, expected key=value"))?;
        out.insert(k.to_string(), v.to_string());
    }
    if !p.all("from-file").is_empty() {
        return Err("error: --from-file reads files, and the simulation has no filesystem; use --from-literal".into());
    }
    Ok(out)
}

/// `kubectl create`.
pub fn create(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = try_out!(parsed(words, CREATE_FLAGS, "create"));
    if p.has("filename") {
        return for_each_item(kc, &p, "creating", |kc, item| {
            let resp = kc.send(
                Method::Post,
                &item.rt.collection_path(&item.namespace),
                Body::Json(item.value.clone()),
            );
            match resp.as_error() {
                Some(e) => Err(e),
                None => {
                    let name = super::apply::created_name(&resp, &item.name);
                    Ok(format!("{}/{name} created", kind_name(item.rt)))
                }
            }
        });
    }
    let ns = kc.namespace_of(&p);
    let (sub, rest) = match p.args.split_first() {
        Some(x) => x,
        None => return Output::fail("error: must specify one of -f and -k\n\nerror: Unexpected args: []\nSee 'kubectl create -h' for help and examples"),
    };
    let need_name = |rest: &[String], what: &str| -> Result<String, Output> {
        rest.first().cloned().ok_or_else(|| Output::fail(format!("error: exactly one NAME is required, got 0\nSee 'kubectl create {what} -h' for help and examples")))
    };
    let (obj, rt_plural): (Value, &str) = match sub.as_str() {
        "namespace" | "ns" => {
            let name = try_out!(need_name(rest, "namespace"));
            (json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}), "namespaces")
        }
        "deployment" | "deploy" => {
            let name = try_out!(need_name(rest, "deployment"));
            let images = p.all("image");
            if images.is_empty() {
                return Output::fail("error: required flag(s) \"image\" not set");
            }
            let replicas: i64 = match p.get("replicas").map(str::parse) {
                None => 1,
                Some(Ok(r)) => r,
                Some(Err(_)) => return Output::fail(format!("error: invalid argument \"{}\" for \"-r, --replicas\" flag: strconv.ParseInt: parsing \"{}\": invalid syntax", p.get("replicas").unwrap_or(""), p.get("replicas").unwrap_or(""))),
            };
            let containers: Vec<Value> = images
                .iter()
                .map(|img| {
                    let mut c = json!({"image": img, "name": container_name(img), "resources": {}});
                    if let Some(port) = p.get("port").and_then(|x| x.parse::<i64>().ok()) {
                        c["ports"] = json!([{"containerPort": port}]);
                    }
                    c
                })
                .collect();
            (
                json!({"apiVersion": "apps/v1", "kind": "Deployment",
                       "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
                       "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                                "strategy": {},
                                "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": containers}}}}),
                "deployments",
            )
        }
        "configmap" | "cm" => {
            let name = try_out!(need_name(rest, "configmap"));
            let data = match literal_pairs(&p) {
                Ok(d) => d,
                Err(e) => return Output::fail(e),
            };
            (json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data}), "configmaps")
        }
        "secret" => {
            let (kind, rest) = match rest.split_first() {
                Some(x) => x,
                None => return Output::fail("error: must specify a secret type: docker-registry, generic or tls"),
            };
            let name = try_out!(need_name(rest, &format!("secret {kind}")));
            match kind.as_str() {
                "generic" => {
                    let data = match literal_pairs(&p) {
                        Ok(d) => d,
                        Err(e) => return Output::fail(e),
                    };
                    let data: VecMap<String, String> = data
                        .into_iter()
                        .map(|(k, v)| (k, crate::apiserver::strategy::base64_encode(v.as_bytes())))
                        .collect();
                    let mut s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns}, "data": data});
                    if let Some(t) = p.get("type") {
                        s["type"] = Value::String(t.into());
                    }
                    (s, "secrets")
                }
                "docker-registry" => {
                    let server = p.get("docker-server").unwrap_or("https://index.docker.io/v1/").to_string();
                    let user = p.get("docker-username").unwrap_or_default().to_string();
                    let pass = p.get("docker-password").unwrap_or_default().to_string();
                    let auth = crate::apiserver::strategy::base64_encode(format!("{user}:{pass}").as_bytes());
                    let cfg = json!({"auths": {server: {"username": user, "password": pass, "auth": auth}}}).to_string();
                    let enc = crate::apiserver::strategy::base64_encode(cfg.as_bytes());
                    (
                        json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                               "metadata": {"name": name, "namespace": ns}, "data": {".dockerconfigjson": enc}}),
                        "secrets",
                    )
                }
                other => return Output::fail(format!("error: unknown secret type \"{other}\": kubeglass creates generic and docker-registry secrets")),
            }
        }
        "serviceaccount" | "sa" => {
            let name = try_out!(need_name(rest, "serviceaccount"));
            (json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}}), "serviceaccounts")
        }
        "priorityclass" | "pc" => {
            let name = try_out!(need_name(rest, "priorityclass"));
            let value: i64 = p.get("value").and_then(|v| v.parse().ok()).unwrap_or(0);
            let mut pc = json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name}, "value": value});
            if p.bool("global-default") {
                pc["globalDefault"] = Value::Bool(true);
            }
            if let Some(d) = p.get("description") {
                pc["description"] = Value::String(d.into());
            }
            (pc, "priorityclasses")
        }
        "service" | "svc" => {
            let (kind, rest) = match rest.split_first() {
                Some(x) => x,
                None => return Output::fail("error: must specify a service type: clusterip, externalname, loadbalancer or nodeport"),
            };
            let name = try_out!(need_name(rest, &format!("service {kind}")));
            let type_name = match kind.as_str() {
                "clusterip" => "ClusterIP",
                "nodeport" => "NodePort",
                "loadbalancer" => "LoadBalancer",
                "externalname" => "ExternalName",
                other => return Output::fail(format!("error: unknown service type \"{other}\"")),
            };
            let mut ports = Vec::new();
            for tcp in p.all("tcp") {
                let (port, target) = tcp.split_once(':').unwrap_or((&tcp, &tcp));
                let (Ok(port), Ok(target)) = (port.parse::<i64>(), target.parse::<i64>()) else {
                    return Output::fail(format!("error: invalid --tcp value \"{tcp}\": expected port[:targetPort]"));
                };
                let mut entry = json!({"name": format!("{port}-{target}"), "port": port, "protocol": "TCP", "targetPort": target});
                if let Some(np) = p.get("node-port").and_then(|n| n.parse::<i64>().ok()) {
                    entry["nodePort"] = json!(np);
                }
                ports.push(entry);
            }
            let mut spec = json!({"ports": ports, "selector": {"app": name}, "type": type_name});
            if let Some(ip) = p.get("clusterip") {
                spec["clusterIP"] = Value::String(ip.into());
            }
            if type_name == "ExternalName" {
                spec = json!({"type": "ExternalName", "externalName": p.get("external-name").unwrap_or_default()});
            }
            (
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns, "labels": {"app": name}}, "spec": spec}),
                "services",
            )
        }
        other => {
            return Output::fail(format!(
                "error: unknown command \"{other}\" for \"kubectl create\": kubeglass creates namespace, deployment, configmap, secret, serviceaccount, service and priorityclass objects, or anything with -f"
            ))
        }
    };
    let rt = crate::api::object::RESOURCE_TYPES
        .iter()
        .copied()
        .find(|r| r.plural == rt_plural);
    let Some(rt) = rt else {
        return Output::fail("error: internal: unknown resource");
    };
    if let Some(o) = p.get("output") {
        if p.get("dry-run")
            .is_some_and(|d| d == "client" || d == "true")
        {
            return match super::get::print_objects(o, vec![obj], true) {
                Ok(s) => Output::ok(s),
                Err(e) => Output::fail(e),
            };
        }
    }
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let scope = if rt.namespaced { ns.as_str() } else { "" };
    let dry = p.get("dry-run").is_some_and(|d| d == "server");
    let q = if dry { "?dryRun=All" } else { "" };
    let resp = kc.send(
        Method::Post,
        &format!("{}{q}", rt.collection_path(scope)),
        Body::Json(obj),
    );
    match resp.as_error() {
        Some(e) if e.reason() == "Invalid" => {
            Output::fail(apply::write_error(&e, "creating", "", true))
        }
        Some(e) => Output::fail(format!(
            "error: failed to create {}: {}",
            rt.singular,
            e.message()
        )),
        None => Output::ok(format!(
            "{}/{name} created{}\n",
            kind_name(rt),
            if dry { " (server dry run)" } else { "" }
        )),
    }
}

const DELETE_FLAGS: &[args::FlagDef] = &[
    flag("filename", Some('f'), Kind::Repeated),
    flag("selector", Some('l'), Kind::Value),
    flag("field-selector", None, Kind::Value),
    flag("all", None, Kind::Bool),
    flag("all-namespaces", Some('A'), Kind::Bool),
    flag("grace-period", None, Kind::Value),
    flag("force", None, Kind::Bool),
    flag("now", None, Kind::Bool),
    flag("cascade", None, Kind::Value),
    flag("wait", None, Kind::Bool),
    flag("ignore-not-found", None, Kind::Bool),
    flag("dry-run", None, Kind::Value),
    flag("output", Some('o'), Kind::Value),
    flag("recursive", Some('R'), Kind::Bool),
];

/// Objects named by `TYPE NAME...`, `TYPE/NAME`, `-l`, `--all`: (type, namespace, name).
fn select_objects(
    kc: &mut Kubectl,
    p: &Parsed,
    cmd: &str,
) -> Result<Vec<(&'static ResourceType, String, String)>, Output> {
    let ns = kc.namespace_of(p);
    let all_ns = p.bool("all-namespaces");
    let ts = targets(&p.args).map_err(|e| {
        if p.args.is_empty() {
            Output::fail(format!("error: resource(s) were provided, but no name was specified\nSee 'kubectl {cmd} -h' for help and examples"))
        } else {
            Output::fail(e)
        }
    })?;
    let mut out = Vec::new();
    for t in ts {
        let scope = if t.rt.namespaced && !all_ns {
            ns.clone()
        } else {
            String::new()
        };
        if !t.names.is_empty() {
            for n in t.names {
                out.push((
                    t.rt,
                    if t.rt.namespaced {
                        ns.clone()
                    } else {
                        String::new()
                    },
                    n,
                ));
            }
            continue;
        }
        if !p.bool("all") && !p.has("selector") && !p.has("field-selector") {
            return Err(Output::fail(format!(
                "error: resource(s) were provided, but no name was specified\nSee 'kubectl {cmd} -h' for help and examples"
            )));
        }
        let resp = kc.send(
            Method::Get,
            &format!("{}{}", t.rt.collection_path(&scope), list_query(p)),
            Body::Empty,
        );
        if let Some(e) = resp.as_error() {
            return Err(Output::fail(server_error(&e)));
        }
        for item in resp.body_json()["items"].as_array().into_iter().flatten() {
            let m = &item["metadata"];
            out.push((
                t.rt,
                m["namespace"].as_str().unwrap_or_default().to_string(),
                m["name"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    Ok(out)
}

/// `kubectl delete`.
pub fn delete(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = try_out!(parsed(words, DELETE_FLAGS, "delete"));
    let mut query = Vec::new();
    let mut force_note = false;
    if p.bool("now") {
        query.push("gracePeriodSeconds=1".to_string());
    }
    if let Some(g) = p.get("grace-period") {
        match g.parse::<i64>() {
            Ok(g) if g >= 0 => {
                query.push(format!("gracePeriodSeconds={g}"));
                force_note = g == 0;
            }
            Ok(_) => {}
            Err(_) => {
                return Output::fail(format!(
                    "error: invalid argument \"{g}\" for \"--grace-period\" flag"
                ))
            }
        }
    }
    if p.bool("force") && !p.has("grace-period") {
        query.push("gracePeriodSeconds=0".to_string());
        force_note = true;
    }
    // kubectl always sends a propagation policy (`--cascade=background` by default).
    {
        let c = p.get("cascade").unwrap_or("background");
        let policy = match c {
            "background" | "true" => "Background",
            "foreground" => "Foreground",
            "orphan" | "false" => "Orphan",
            other => return Output::fail(format!("error: invalid cascade value ({other}). Must be \"background\", \"foreground\", or \"orphan\"")),
        };
        query.push(format!("propagationPolicy={policy}"));
    }
    if p.get("dry-run").is_some_and(|d| d == "server") {
        query.push("dryRun=All".into());
    }
    let q = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    };
    let verb = if force_note {
        "force deleted"
    } else {
        "deleted"
    };
    let mut out = Output::default();
    if force_note {
        out.stderr.push_str("Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n");
    }
    if p.has("filename") {
        let o = for_each_item(kc, &p, "deleting", |kc, item| {
            let resp = kc.send(
                Method::Delete,
                &format!("{}{q}", item.rt.object_path(&item.namespace, &item.name)),
                Body::Empty,
            );
            match resp.as_error() {
                Some(e) => Err(e),
                None => Ok(format!("{} \"{}\" {verb}", kind_name(item.rt), item.name)),
            }
        });
        apply::merge(&mut out, o);
        return out;
    }
    let objs = try_out!(select_objects(kc, &p, "delete"));
    if objs.is_empty() {
        out.stderr.push_str("No resources found\n");
        return out;
    }
    for (rt, ns, name) in objs {
        let resp = kc.send(
            Method::Delete,
            &format!("{}{q}", rt.object_path(&ns, &name)),
            Body::Empty,
        );
        match resp.as_error() {
            Some(e) if e.code() == 404 && p.bool("ignore-not-found") => {}
            Some(e) => out.err(server_error(&e)),
            None => out.out(format!("{} \"{name}\" {verb}", kind_name(rt))),
        }
    }
    out
}

const LABEL_FLAGS: &[args::FlagDef] = &[
    flag("overwrite", None, Kind::Bool),
    flag("all", None, Kind::Bool),
    flag("all-namespaces", Some('A'), Kind::Bool),
    flag("selector", Some('l'), Kind::Value),
    flag("field-selector", None, Kind::Value),
    flag("filename", Some('f'), Kind::Repeated),
    flag("list", None, Kind::Bool),
    flag("resource-version", None, Kind::Value),
    flag("dry-run", None, Kind::Value),
    flag("output", Some('o'), Kind::Value),
];

/// `kubectl label` and `kubectl annotate`.
pub fn label(kc: &mut Kubectl, words: &[String], annotate: bool) -> Output {
    let cmd = if annotate { "annotate" } else { "label" };
    let p = try_out!(parsed(words, LABEL_FLAGS, cmd));
    // Split TYPE NAME... from key=value and key- arguments.
    let mut objects_args = Vec::new();
    let mut changes: Vec<(String, Option<String>)> = Vec::new();
    for a in &p.args {
        if let Some((k, v)) = a.split_once('=') {
            changes.push((k.to_string(), Some(v.to_string())));
        } else if let Some(k) = a.strip_suffix('-').filter(|_| !objects_args.is_empty()) {
            changes.push((k.to_string(), None));
        } else {
            objects_args.push(a.clone());
        }
    }
    if changes.is_empty() && !p.bool("list") {
        return Output::fail(format!("error: at least one {} update is required\nSee 'kubectl {cmd} -h' for help and examples", if annotate { "annotation" } else { "label" }));
    }
    if !annotate {
        for (k, v) in &changes {
            let key_errs = crate::api::validation::is_qualified_name(k);
            if let Some(msg) = key_errs.first() {
                return Output::fail(format!(
                    "error: invalid label spec: {k}={}: {msg}",
                    v.clone().unwrap_or_default()
                ));
            }
            if let Some(v) = v {
                if let Some(msg) = crate::api::validation::is_valid_label_value(v).first() {
                    return Output::fail(format!("error: invalid label value: \"{k}={v}\": {msg}"));
                }
            }
        }
    }
    let sub = Parsed {
        args: objects_args,
        ..p.clone()
    };
    let objs = try_out!(select_objects(kc, &sub, cmd));
    let field = if annotate { "annotations" } else { "labels" };
    let mut out = Output::default();
    for (rt, ns, name) in objs {
        let path = rt.object_path(&ns, &name);
        let current = kc.send(Method::Get, &path, Body::Empty);
        let cur = match current.as_error() {
            Some(e) => {
                out.err(server_error(&e));
                continue;
            }
            None => current.body_json(),
        };
        let existing = cur["metadata"][field]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut patch = Map::new();
        let mut failed = false;
        for (k, v) in &changes {
            match v {
                Some(v) => {
                    if let Some(old) = existing.get(k).and_then(Value::as_str) {
                        if old != v && !p.bool("overwrite") {
                            out.err(format!("error: '{k}' already has a value ({old}), and --overwrite is false"));
                            failed = true;
                            break;
                        }
                        if old == v {
                            continue;
                        }
                    }
                    patch.insert(k.clone(), Value::String(v.clone()));
                }
                None => {
                    if existing.contains_key(k) {
                        patch.insert(k.clone(), Value::Null);
                    } else if !annotate {
                        out.stderr.push_str(&format!("label \"{k}\" not found.\n"));
                    }
                }
            }
        }
        if failed {
            continue;
        }
        let display = format!("{}/{name}", kind_name(rt));
        let past = if annotate { "annotated" } else { "labeled" };
        if patch.is_empty() {
            out.out(format!("{display} not {past}"));
            continue;
        }
        let only_removals = patch.values().all(Value::is_null);
        let mut body = json!({"metadata": {field: Value::Object(patch)}});
        if let Some(rv) = p.get("resource-version") {
            body["metadata"]["resourceVersion"] = Value::String(rv.into());
        }
        let resp = kc.send_with(
            Method::Patch,
            &path,
            Body::Json(body),
            &[("content-type", "application/merge-patch+json")],
        );
        match resp.as_error() {
            Some(e) => out.err(server_error(&e)),
            None => out.out(format!(
                "{display} {}",
                if only_removals && !annotate {
                    "unlabeled"
                } else {
                    past
                }
            )),
        }
    }
    out
}

const SCALE_FLAGS: &[args::FlagDef] = &[
    flag("replicas", None, Kind::Value),
    flag("current-replicas", None, Kind::Value),
    flag("resource-version", None, Kind::Value),
    flag("selector", Some('l'), Kind::Value),
    flag("all", None, Kind::Bool),
    flag("filename", Some('f'), Kind::Repeated),
    flag("timeout", None, Kind::Value),
    flag("dry-run", None, Kind::Value),
];

/// `kubectl scale`.
pub fn scale(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = try_out!(parsed(words, SCALE_FLAGS, "scale"));
    let Some(replicas) = p.get("replicas") else {
        return Output::fail("error: required flag(s) \"replicas\" not set");
    };
    let Ok(replicas) = replicas.parse::<i64>() else {
        return Output::fail(format!("error: invalid argument \"{replicas}\" for \"--replicas\" flag: strconv.ParseInt: parsing \"{replicas}\": invalid syntax"));
    };
    if replicas < 0 {
        return Output::fail("error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0");
    }
    let objs = try_out!(select_objects(kc, &p, "scale"));
    let mut out = Output::default();
    for (rt, ns, name) in objs {
        if !rt.subresources.contains(&"scale") {
            out.err(format!(
                "error: cannot scale {}: no scale subresource",
                kind_name(rt)
            ));
            continue;
        }
        let path = format!("{}/scale", rt.object_path(&ns, &name));
        if let Some(cur) = p
            .get("current-replicas")
            .and_then(|c| c.parse::<i64>().ok())
        {
            let resp = kc.send(Method::Get, &path, Body::Empty);
            if let Some(e) = resp.as_error() {
                out.err(server_error(&e));
                continue;
            }
            let now = resp.body_json()["spec"]["replicas"].as_i64().unwrap_or(0);
            if now != cur {
                out.err(format!("error: Expected replicas to be {cur}, was {now}"));
                continue;
            }
        }
        let resp = kc.send_with(
            Method::Patch,
            &path,
            Body::Json(json!({"spec": {"replicas": replicas}})),
            &[("content-type", "application/merge-patch+json")],
        );
        match resp.as_error() {
            Some(e) => out.err(server_error(&e)),
            None => out.out(format!("{}/{name} scaled", kind_name(rt))),
        }
    }
    out
}

const PATCH_FLAGS: &[args::FlagDef] = &[
    flag("patch", Some('p'), Kind::Value),
    flag("type", None, Kind::Value),
    flag("filename", Some('f'), Kind::Repeated),
    flag("subresource", None, Kind::Value),
    flag("dry-run", None, Kind::Value),
    flag("output", Some('o'), Kind::Value),
];

/// `kubectl patch`.
pub fn patch(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = try_out!(parsed(words, PATCH_FLAGS, "patch"));
    let Some(text) = p.get("patch") else {
        return Output::fail("error: must specify -p to patch");
    };
    let content_type = match p.get("type").unwrap_or("strategic") {
        "strategic" => "application/strategic-merge-patch+json",
        "merge" => "application/merge-patch+json",
        "json" => "application/json-patch+json",
        other => {
            return Output::fail(format!(
                "error: --type must be one of [json merge strategic], not \"{other}\""
            ))
        }
    };
    let body: Value = match serde_json::from_str(text).or_else(|_| {
        crate::yaml::parse_documents(text)
            .map_err(|e| e.to_string())
            .and_then(|mut d| d.pop().map(|x| x.value).ok_or_default())
    }) {
        Ok(v) => v,
        Err(e) => return Output::fail(format!("error: unable to parse \"{text}\": {e}")),
    };
    let objs = try_out!(select_objects(kc, &p, "patch"));
    let mut out = Output::default();
    for (rt, ns, name) in objs {
        let mut path = rt.object_path(&ns, &name);
        if let Some(sub) = p.get("subresource") {
            path = format!("{path}/{sub}");
        }
        let before = kc.send(Method::Get, &path, Body::Empty).body_json();
        let resp = kc.send_with(
            Method::Patch,
            &path,
            Body::Json(body.clone()),
            &[("content-type", content_type)],
        );
        match resp.as_error() {
            Some(e) => out.err(server_error(&e)),
            None => {
                let after = resp.body_json();
                let same =
                    before["metadata"]["resourceVersion"] == after["metadata"]["resourceVersion"];
                out.out(format!(
                    "{}/{name} patched{}",
                    kind_name(rt),
                    if same { " (no change)" } else { "" }
                ));
            }
        }
    }
    out
}

trait OrDefaultErr<T> {
    fn ok_or_default(self) -> Result<T, String>;
}
impl<T> OrDefaultErr<T> for Option<T> {
    fn ok_or_default(self) -> Result<T, String> {
        self.ok_or_else(|| "empty patch".to_string())
    }
}

const RUN_FLAGS: &[args::FlagDef] = &[
    flag("image", None, Kind::Value),
    flag("port", None, Kind::Value),
    flag("labels", Some('l'), Kind::Value),
    flag("env", None, Kind::Repeated),
    flag("restart", None, Kind::Value),
    flag("command", None, Kind::Bool),
    flag("dry-run", None, Kind::Value),
    flag("output", Some('o'), Kind::Value),
    flag("image-pull-policy", None, Kind::Value),
    flag("annotations", None, Kind::Repeated),
    flag("rm", None, Kind::Bool),
    flag("stdin", Some('i'), Kind::Bool),
    flag("tty", Some('t'), Kind::Bool),
    flag("attach", None, Kind::Bool),
];

/// `kubectl run NAME --image=IMAGE`.
pub fn run_pod(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = try_out!(parsed(words, RUN_FLAGS, "run"));
    let Some(name) = p.args.first().cloned() else {
        return Output::fail(
            "error: NAME is required for run\nSee 'kubectl run -h' for help and examples",
        );
    };
    let Some(image) = p.get("image") else {
        return Output::fail("error: required flag(s) \"image\" not set");
    };
    let mut labels = Map::new();
    match p.get("labels") {
        Some(l) => {
            for pair in l.split(',') {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                labels.insert(k.into(), Value::String(v.into()));
            }
        }
        None => {
            labels.insert("run".into(), Value::String(name.clone()));
        }
    }
    let mut c = json!({"image": image, "name": name, "resources": {}});
    if let Some(port) = p.get("port").and_then(|x| x.parse::<i64>().ok()) {
        c["ports"] = json!([{"containerPort": port}]);
    }
    if let Some(pp) = p.get("image-pull-policy") {
        c["imagePullPolicy"] = Value::String(pp.into());
    }
    let env: Vec<Value> = p
        .all("env")
        .iter()
        .map(|e| {
            let (k, v) = e.split_once('=').unwrap_or((e, ""));
            json!({"name": k, "value": v})
        })
        .collect();
    if !env.is_empty() {
        c["env"] = Value::Array(env);
    }
    let extra: Vec<Value> = p.args[1..]
        .iter()
        .chain(p.rest.iter())
        .map(|s| Value::String(s.clone()))
        .collect();
    if !extra.is_empty() {
        c[if p.bool("command") { "command" } else { "args" }] = Value::Array(extra);
    }
    let ns = kc.namespace_of(&p);
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"containers": [c], "dnsPolicy": "ClusterFirst", "restartPolicy": p.get("restart").unwrap_or("Always")}});
    if p.get("dry-run").is_some_and(|d| d == "client") {
        let o = p.get("output").unwrap_or("name");
        return match super::get::print_objects(o, vec![pod], true) {
            Ok(s) => Output::ok(if o == "name" {
                s.replace('\n', " (dry run)\n")
            } else {
                s
            }),
            Err(e) => Output::fail(e),
        };
    }
    let resp = kc.send(
        Method::Post,
        &crate::api::object::PODS.collection_path(&ns),
        Body::Json(pod),
    );
    match resp.as_error() {
        Some(e) if e.reason() == "Invalid" => {
            Output::fail(apply::write_error(&e, "creating", "", true))
        }
        Some(e) => Output::fail(server_error(&e)),
        None => Output::ok(format!("pod/{name} created\n")),
    }
}

const EXPOSE_FLAGS: &[args::FlagDef] = &[
    flag("port", None, Kind::Value),
    flag("target-port", None, Kind::Value),
    flag("type", None, Kind::Value),
    flag("name", None, Kind::Value),
    flag("protocol", None, Kind::Value),
    flag("selector", None, Kind::Value),
    flag("external-ip", None, Kind::Value),
    flag("labels", Some('l'), Kind::Value),
    flag("dry-run", None, Kind::Value),
    flag("output", Some('o'), Kind::Value),
    flag("filename", Some('f'), Kind::Repeated),
    flag("session-affinity", None, Kind::Value),
    flag("cluster-ip", None, Kind::Value),
];

/// `kubectl expose`: a Service for a pod, RC, ReplicaSet, Deployment or Service.
pub fn expose(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = try_out!(parsed(words, EXPOSE_FLAGS, "expose"));
    let objs = try_out!(select_objects(kc, &p, "expose"));
    let mut out = Output::default();
    for (rt, ns, name) in objs {
        let resp = kc.send(Method::Get, &rt.object_path(&ns, &name), Body::Empty);
        let obj = match resp.as_error() {
            Some(e) => {
                out.err(server_error(&e));
                continue;
            }
            None => resp.body_json(),
        };
        let selector: Value = match p.get("selector") {
            Some(s) => Value::Object(
                s.split(',')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                    .collect(),
            ),
            None => match rt.kind {
                "Pod" => obj["metadata"]["labels"].clone(),
                "ReplicationController" | "Service" => obj["spec"]["selector"].clone(),
                "Deployment" | "ReplicaSet" => {
                    if obj["spec"]["selector"]["matchExpressions"]
                        .as_array()
                        .is_some_and(|a| !a.is_empty())
                    {
                        out.err(format!(
                            "error: cannot expose a {} with matchExpressions in its selector",
                            rt.kind
                        ));
                        continue;
                    }
                    obj["spec"]["selector"]["matchLabels"].clone()
                }
                other => {
                    out.err(format!("error: cannot expose a {other}"));
                    continue;
                }
            },
        };
        let port = match p.get("port") {
            Some(x) => x.parse::<i64>().ok(),
            None => obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
                .as_i64()
                .or_else(|| obj["spec"]["containers"][0]["ports"][0]["containerPort"].as_i64())
                .or_else(|| obj["spec"]["ports"][0]["port"].as_i64()),
        };
        let Some(port) = port else {
            out.err("error: couldn't find port via --port flag or introspection\nSee 'kubectl expose -h' for help and examples");
            continue;
        };
        let target: Value = match p.get("target-port") {
            Some(t) => t
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(t.into())),
            None => Value::from(port),
        };
        let svc_name = p.get("name").unwrap_or(&name).to_string();
        let mut spec = json!({"ports": [{"port": port, "protocol": p.get("protocol").unwrap_or("TCP"), "targetPort": target}], "selector": selector});
        if let Some(t) = p.get("type") {
            spec["type"] = Value::String(t.into());
        }
        if let Some(ip) = p.get("cluster-ip") {
            spec["clusterIP"] = Value::String(ip.into());
        }
        if let Some(ip) = p.get("external-ip") {
            spec["externalIPs"] = json!([ip]);
        }
        if let Some(sa) = p.get("session-affinity") {
            spec["sessionAffinity"] = Value::String(sa.into());
        }
        let labels = obj["metadata"]["labels"].clone();
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": svc_name, "namespace": ns, "labels": labels}, "spec": spec});
        let resp = kc.send(
            Method::Post,
            &crate::api::object::SERVICES.collection_path(&ns),
            Body::Json(svc),
        );
        match resp.as_error() {
            Some(e) => out.err(server_error(&e)),
            None => out.out(format!("service/{svc_name} exposed")),
        }
    }
    out
}

const API_RESOURCES_FLAGS: &[args::FlagDef] = &[
    flag("namespaced", None, Kind::Value),
    flag("api-group", None, Kind::Value),
    flag("output", Some('o'), Kind::Value),
    flag("no-headers", None, Kind::Bool),
    flag("verbs", None, Kind::Value),
    flag("sort-by", None, Kind::Value),
    flag("cached", None, Kind::Bool),
    flag("categories", None, Kind::Value),
];

/// `kubectl api-resources`, from discovery.
pub fn api_resources(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = try_out!(parsed(words, API_RESOURCES_FLAGS, "api-resources"));
    let mut lists = vec![kc.send(Method::Get, "/api/v1", Body::Empty).body_json()];
    let groups = kc.send(Method::Get, "/apis", Body::Empty).body_json();
    for g in groups["groups"].as_array().into_iter().flatten() {
        let gv = g["preferredVersion"]["groupVersion"]
            .as_str()
            .unwrap_or_default();
        lists.push(
            kc.send(Method::Get, &format!("/apis/{gv}"), Body::Empty)
                .body_json(),
        );
    }
    let output = p.get("output").unwrap_or("");
    let wide = output == "wide";
    let mut rows = Vec::new();
    if !p.bool("no-headers") && output != "name" {
        let mut h: Vec<String> = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
            .map(String::from)
            .to_vec();
        if wide {
            h.push("VERBS".into());
            h.push("CATEGORIES".into());
        }
        rows.push(h);
    }
    let mut names = String::new();
    for list in lists {
        let gv = list["groupVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let group = gv
            .rsplit_once('/')
            .map(|(g, _)| g.to_string())
            .unwrap_or_default();
        if let Some(g) = p.get("api-group") {
            if g != group {
                continue;
            }
        }
        for r in list["resources"].as_array().into_iter().flatten() {
            let name = r["name"].as_str().unwrap_or_default();
            if name.contains('/') {
                continue;
            }
            let namespaced = r["namespaced"].as_bool().unwrap_or(false);
            if let Some(want) = p.get("namespaced") {
                if (want == "true") != namespaced {
                    continue;
                }
            }
            let verbs: Vec<&str> = r["verbs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if let Some(v) = p.get("verbs") {
                if !v.split(',').all(|x| verbs.contains(&x)) {
                    continue;
                }
            }
            if output == "name" {
                names.push_str(&if group.is_empty() {
                    format!("{name}\n")
                } else {
                    format!("{name}.{group}\n")
                });
                continue;
            }
            let shorts: Vec<&str> = r["shortNames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let mut row = vec![
                name.to_string(),
                shorts.join(","),
                gv.clone(),
                namespaced.to_string(),
                r["kind"].as_str().unwrap_or_default().to_string(),
            ];
            if wide {
                row.push(format!("[{}]", verbs.join(" ")));
                let cats: Vec<&str> = r["categories"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                row.push(cats.join(","));
            }
            rows.push(row);
        }
    }
    if output == "name" {
        return Output::ok(names);
    }
    Output::ok(tabulate(&rows))
}

/// `kubectl api-versions`.
pub fn api_versions(kc: &mut Kubectl, words: &[String]) -> Output {
    let _ = try_out!(parsed(words, &[], "api-versions"));
    let mut versions = vec!["v1".to_string()];
    let groups = kc.send(Method::Get, "/apis", Body::Empty).body_json();
    for g in groups["groups"].as_array().into_iter().flatten() {
        for v in g["versions"].as_array().into_iter().flatten() {
            versions.push(v["groupVersion"].as_str().unwrap_or_default().to_string());
        }
    }
    versions.sort();
    Output::ok(
        versions
            .iter()
            .map(|v| format!("{v}\n"))
            .collect::<String>(),
    )
}

/// `kubectl version`.
pub fn version(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = try_out!(parsed(
        words,
        &[
            flag("output", Some('o'), Kind::Value),
            flag("client", None, Kind::Bool)
        ],
        "version"
    ));
    let client = "v1.31.0";
    if p.bool("client") {
        return Output::ok(format!(
            "Client Version: {client}\nKustomize Version: v5.4.2\n"
        ));
    }
    let v = kc.send(Method::Get, "/version", Body::Empty).body_json();
    match p.get("output") {
        Some("json") | Some("yaml") => {
            let doc = json!({"clientVersion": {"major": "1", "minor": "31", "gitVersion": client, "gitTreeState": "clean", "platform": "wasm"}, "kustomizeVersion": "v5.4.2", "serverVersion": v});
            Output::ok(if p.get("output") == Some("json") {
                format!("{}\n", crate::yaml::to_json_pretty(&doc))
            } else {
                crate::yaml::to_yaml_string(&doc)
            })
        }
        _ => Output::ok(format!(
            "Client Version: {client}\nKustomize Version: v5.4.2\nServer Version: {}\n",
            v["gitVersion"].as_str().unwrap_or_default()
        )),
    }
}

/// `kubectl cluster-info`.
pub fn cluster_info(kc: &mut Kubectl, words: &[String]) -> Output {
    let _ = try_out!(parsed(words, &[], "cluster-info"));
    let api = kc.send(Method::Get, "/api", Body::Empty).body_json();
    let addr = api["serverAddressByClientCIDRs"][0]["serverAddress"]
        .as_str()
        .unwrap_or("10.0.0.1:6443")
        .to_string();
    Output::ok(format!(
        "Kubernetes control plane is running at https://{addr}\n\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n"
    ))
}
