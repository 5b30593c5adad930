//! `kubectl get`.

use serde_json::Value;

use super::args::{self, flag, Kind, Parsed};
use super::printer::{list_of, table_rows, tabulate, TableOptions};
use super::resource::{kind_name, resolve};
use super::{server_error, Kubectl, Output};
use crate::api::object::ResourceType;
use crate::apiserver::request::{percent_encode, Body, Method};
use crate::kernel::{parse_duration, NANOS_PER_SEC};

const TABLE_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

pub const FLAGS: &[args::FlagDef] = &[
    flag("output", Some('o'), Kind::Value),
    flag("selector", Some('l'), Kind::Value),
    flag("field-selector", None, Kind::Value),
    flag("all-namespaces", Some('A'), Kind::Bool),
    flag("watch", Some('w'), Kind::Bool),
    flag("watch-only", None, Kind::Bool),
    flag("show-labels", None, Kind::Bool),
    flag("no-headers", None, Kind::Bool),
    flag("label-columns", Some('L'), Kind::Repeated),
    flag("raw", None, Kind::Value),
    flag("chunk-size", None, Kind::Value),
    flag("show-kind", None, Kind::Bool),
    flag("ignore-not-found", None, Kind::Bool),
    flag("sort-by", None, Kind::Value),
    flag("filename", Some('f'), Kind::Repeated),
    flag("recursive", Some('R'), Kind::Bool),
];

/// A resource type and the names asked for (none: list them all).
pub struct Target {
    pub rt: &'static ResourceType,
    pub names: Vec<String>,
    /// Named as TYPE/NAME.
    pub slash: bool,
}

/// Parses `TYPE[,TYPE] [NAME...]` or `TYPE/NAME...`.
pub fn targets(args: &[String]) -> Result<Vec<Target>, String> {
    if args.is_empty() {
        return Err("error: you must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.".into());
    }
    if args.iter().any(|a| a.contains('/')) {
        let mut out: Vec<Target> = Vec::new();
        for a in args {
            let (t, n) = a.split_once('/').ok_or_else(|| {
                "error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'".to_string()
            })?;
            if n.is_empty() {
                return Err(
                    "error: arguments in resource/name form must have a single resource and name"
                        .into(),
                );
            }
            let rt = resolve(t)?[0];
            match out.iter_mut().find(|x| std::ptr::eq(x.rt, rt)) {
                Some(x) => x.names.push(n.to_string()),
                None => out.push(Target {
                    rt,
                    names: vec![n.to_string()],
                    slash: true,
                }),
            }
        }
        return Ok(out);
    }
    let mut out = Vec::new();
    let names: Vec<String> = args[1..].to_vec();
    for t in args[0].split(',').filter(|t| !t.is_empty()) {
        for rt in resolve(t)? {
            out.push(Target {
                rt,
                names: names.clone(),
                slash: false,
            });
        }
    }
    if out.len() > 1 && !names.is_empty() {
        return Err(
            "error: you may only specify a single resource type when fetching objects by name"
                .into(),
        );
    }
    Ok(out)
}

/// The query string of a list.
pub fn list_query(p: &Parsed) -> String {
    let mut q = Vec::new();
    if let Some(l) = p.get("selector") {
        q.push(format!("labelSelector={}", percent_encode(l)));
    }
    if let Some(f) = p.get("field-selector") {
        q.push(format!("fieldSelector={}", percent_encode(f)));
    }
    if let Some(c) = p.get("chunk-size") {
        q.push(format!("limit={c}"));
    }
    if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    }
}

pub fn run(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = match args::parse(words, FLAGS, "get") {
        Ok(p) => p,
        Err(e) => return Output::fail(e),
    };
    if let Some(raw) = p.get("raw") {
        let resp = kc.send(Method::Get, raw, Body::Empty);
        return match resp.as_error() {
            Some(e) => Output::fail(server_error(&e)),
            None => {
                let v = resp.body_json();
                match v {
                    Value::String(s) => Output::ok(s),
                    other => Output::ok(other.to_string()),
                }
            }
        };
    }
    let ts = match targets(&p.args) {
        Ok(t) => t,
        Err(e) => return Output::fail(e),
    };
    let all_ns = p.bool("all-namespaces");
    let ns = kc.namespace_of(&p);
    let output = p.get("output").unwrap_or("").to_string();
    let mut out = Output::default();
    let mut objects: Vec<Value> = Vec::new();
    let mut tables: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    let table_mode = output.is_empty() || output == "wide";
    let several = ts.len() > 1;
    let mut any = false;
    let mut single_named = ts.len() == 1 && ts[0].names.len() == 1;
    let mut watch_from: Vec<(&'static ResourceType, String)> = Vec::new();
    for t in &ts {
        let scope = if t.rt.namespaced && !all_ns {
            ns.as_str()
        } else {
            ""
        };
        let accept: &[(&str, &str)] = if table_mode {
            &[("accept", TABLE_ACCEPT)]
        } else {
            &[]
        };
        let opts = TableOptions {
            wide: output == "wide",
            with_namespace: all_ns && t.rt.namespaced,
            kind_prefix: (several || t.slash || p.bool("show-kind")).then(|| kind_name(t.rt)),
            show_labels: p.bool("show-labels"),
            no_headers: p.bool("no-headers"),
            label_columns: p
                .all("label-columns")
                .iter()
                .flat_map(|l| l.split(',').map(String::from).collect::<Vec<_>>())
                .collect(),
        };
        if t.names.is_empty() {
            let path = format!("{}{}", t.rt.collection_path(scope), list_query(&p));
            let resp = kc.send_with(Method::Get, &path, Body::Empty, accept);
            if let Some(e) = resp.as_error() {
                out.err(server_error(&e));
                continue;
            }
            let v = resp.body_json();
            watch_from.push((
                t.rt,
                v["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            ));
            if table_mode {
                if v["rows"].as_array().is_some_and(|r| !r.is_empty()) {
                    any = true;
                    tables.push((kind_name(t.rt), table_rows(&v, &opts)));
                }
            } else {
                for mut item in v["items"].as_array().cloned().unwrap_or_default() {
                    any = true;
                    if let Value::Object(m) = &mut item {
                        m.insert(
                            "apiVersion".into(),
                            Value::String(t.rt.api_version().into()),
                        );
                        m.insert("kind".into(), Value::String(t.rt.kind.into()));
                    }
                    objects.push(item);
                }
                single_named = false;
            }
        } else {
            let mut rows: Vec<Vec<String>> = Vec::new();
            for name in &t.names {
                let path = t.rt.object_path(scope, name);
                let resp = kc.send_with(Method::Get, &path, Body::Empty, accept);
                match resp.as_error() {
                    Some(e) if e.code() == 404 && p.bool("ignore-not-found") => {}
                    Some(e) => out.err(server_error(&e)),
                    None => {
                        any = true;
                        let v = resp.body_json();
                        if table_mode {
                            let r = table_rows(&v, &opts);
                            if rows.is_empty() {
                                rows = r;
                            } else {
                                rows.extend(r.into_iter().skip(usize::from(!opts.no_headers)));
                            }
                        } else {
                            objects.push(v);
                        }
                    }
                }
            }
            if !rows.is_empty() {
                tables.push((kind_name(t.rt), rows));
            }
            if t.names.len() > 1 {
                single_named = false;
            }
        }
    }
    if table_mode {
        let text: Vec<String> = tables.iter().map(|(_, rows)| tabulate(rows)).collect();
        out.stdout.push_str(&text.join("\n"));
    } else {
        match print_objects_with(&output, objects, single_named, p.bool("no-headers")) {
            Ok(s) => out.stdout.push_str(&s),
            Err(e) => return Output::fail(e),
        }
    }
    if !any && out.code == 0 && ts.iter().all(|t| t.names.is_empty()) {
        let namespaced = ts.iter().any(|t| t.rt.namespaced);
        if all_ns || !namespaced {
            out.stderr.push_str("No resources found\n");
        } else {
            out.stderr
                .push_str(&format!("No resources found in {ns} namespace.\n"));
        }
    }
    if p.bool("watch") || p.bool("watch-only") {
        if p.bool("watch-only") {
            out.stdout.clear();
        }
        let max = p
            .get("request-timeout")
            .and_then(|t| {
                if t.chars().all(|c| c.is_ascii_digit()) {
                    t.parse::<u64>().ok().map(|s| s * NANOS_PER_SEC)
                } else {
                    parse_duration(t).ok()
                }
            })
            .filter(|d| *d > 0)
            .unwrap_or(crate::cluster::Cluster::SETTLE_LIMIT);
        kc.server.wait(max);
        for (rt, rv) in watch_from {
            let scope = if rt.namespaced && !all_ns {
                ns.as_str()
            } else {
                ""
            };
            let mut q = list_query(&p);
            q.push_str(if q.is_empty() { "?" } else { "&" });
            q.push_str(&format!("watch=true&resourceVersion={rv}"));
            let resp = kc.send_with(
                Method::Get,
                &format!("{}{q}", rt.collection_path(scope)),
                Body::Empty,
                &[("accept", TABLE_ACCEPT)],
            );
            let events = resp.body_json();
            let opts = TableOptions {
                wide: output == "wide",
                with_namespace: all_ns && rt.namespaced,
                no_headers: true,
                show_labels: p.bool("show-labels"),
                ..Default::default()
            };
            let mut rows = Vec::new();
            for ev in events.as_array().into_iter().flatten() {
                rows.extend(table_rows(&ev["object"], &opts));
            }
            if !rows.is_empty() {
                out.stdout.push_str(&tabulate(&rows));
            }
        }
    }
    out
}

/// Prints objects as `-o yaml|json|name|jsonpath=...`.
pub fn print_objects(output: &str, objects: Vec<Value>, single: bool) -> Result<String, String> {
    print_objects_with(output, objects, single, false)
}

/// As [`print_objects`]; `no_headers` drops custom-columns' header row, as
/// `--no-headers` does.
pub fn print_objects_with(
    output: &str,
    objects: Vec<Value>,
    single: bool,
    no_headers: bool,
) -> Result<String, String> {
    let doc = if single && objects.len() == 1 {
        objects[0].clone()
    } else {
        list_of(objects.clone())
    };
    match output {
        "yaml" => Ok(crate::yaml::to_yaml_string(&doc)),
        "json" => Ok(format!("{}\n", crate::yaml::to_json_pretty(&doc))),
        "name" => Ok(objects
            .iter()
            .map(|o| {
                let kind = o["kind"].as_str().unwrap_or_default();
                let api_version = o["apiVersion"].as_str().unwrap_or_default();
                let prefix = match crate::api::object::resource_by_kind(api_version, kind) {
                    Some(rt) => kind_name(rt),
                    None => kind.to_ascii_lowercase(),
                };
                format!("{prefix}/{}\n", o["metadata"]["name"].as_str().unwrap_or_default())
            })
            .collect()),
        o if o.starts_with("jsonpath=") || o.starts_with("jsonpath-as-json=") => {
            let template = o.split_once('=').map(|x| x.1).unwrap_or_default();
            super::jsonpath::render(template, &doc)
        }
        o if o.starts_with("custom-columns=") => {
            let spec = &o["custom-columns=".len()..];
            let mut header = Vec::new();
            let mut paths = Vec::new();
            for col in spec.split(',') {
                let (h, path) = col.split_once(':').ok_or_else(|| format!("error: expected <header>:<json-path-expr>, got {col}"))?;
                header.push(h.to_string());
                paths.push(path.to_string());
            }
            let mut rows = if no_headers { Vec::new() } else { vec![header] };
            for obj in &objects {
                let mut row = Vec::new();
                for path in &paths {
                    let t = format!("{{{path}}}");
                    let v = super::jsonpath::render(&t, obj).unwrap_or_default();
                    row.push(if v.is_empty() { "<none>".into() } else { v });
                }
                rows.push(row);
            }
            Ok(tabulate(&rows))
        }
        other => Err(format!(
            "error: unable to match a printer suitable for the output format \"{other}\", allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml"
        )),
    }
}
