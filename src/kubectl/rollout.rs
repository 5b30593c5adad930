//! kubectl's workload commands: `set image`, `rollout status|history|undo|pause|
//! resume|restart`, and the seed's legacy `rolling-update` for ReplicationControllers
//! (removed from kubectl in v1.18; kept here as the seed describes it, and labelled
//! as legacy in its help).
//!
//! `rollout status` cannot block a scenario: while watching (the default) it lets
//! virtual time pass one second at a time and prints each new status line, as
//! kubectl prints on each change of the Deployment, until the rollout completes or
//! `--timeout` passes (10 minutes of virtual time when none is given, where kubectl
//! would wait forever); then it fails with kubectl's timeout error. With
//! `--watch=false` it prints the current line and succeeds, as kubectl does.

use crate::api::VecMap;
use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::args::{self, flag, Kind, Parsed};
use super::get::targets;
use super::resource::kind_name;
use super::{server_error, Kubectl, Output};
use crate::api::object::{ResourceType, DEPLOYMENTS, REPLICASETS, REPLICATIONCONTROLLERS};
use crate::api::time::Time;
use crate::apiserver::request::{percent_encode, Body, Method};
use crate::controllers::deployment::{skip_copy_annotation, POD_TEMPLATE_HASH, REVISION};
use crate::kernel::{parse_duration, Nanos, NANOS_PER_SEC};

macro_rules! try_out {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(o) => return o,
        }
    };
}

const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

fn parse(words: &[String], defs: &[args::FlagDef], cmd: &str) -> Result<Parsed, Output> {
    args::parse(words, defs, cmd).map_err(Output::fail)
}

/// `TYPE NAME` or `TYPE/NAME`: the objects named.
fn named(
    kc: &Kubectl,
    p: &Parsed,
    cmd: &str,
) -> Result<Vec<(&'static ResourceType, String, String)>, Output> {
    let ns = kc.namespace_of(p);
    let ts = targets(&p.args).map_err(|e| {
        if p.args.is_empty() {
            Output::fail(format!(
                "error: required resource not specified\nSee 'kubectl {cmd} -h' for help and examples"
            ))
        } else {
            Output::fail(e)
        }
    })?;
    let mut out = Vec::new();
    for t in ts {
        if t.names.is_empty() {
            return Err(Output::fail(format!(
                "error: resource(s) were provided, but no name was specified\nSee 'kubectl {cmd} -h' for help and examples"
            )));
        }
        for n in t.names {
            out.push((t.rt, ns.clone(), n));
        }
    }
    Ok(out)
}

fn get_json(kc: &mut Kubectl, path: &str) -> Result<Value, String> {
    let resp = kc.send(Method::Get, path, Body::Empty);
    match resp.as_error() {
        Some(e) => Err(server_error(&e)),
        None => Ok(resp.body_json()),
    }
}

fn patch(kc: &mut Kubectl, path: &str, ct: &str, body: Value) -> Result<Value, String> {
    let resp = kc.send_with(
        Method::Patch,
        path,
        Body::Json(body),
        &[("content-type", ct)],
    );
    match resp.as_error() {
        Some(e) => Err(server_error(&e)),
        None => Ok(resp.body_json()),
    }
}

const SET_IMAGE_FLAGS: &[args::FlagDef] = &[
    flag("all", None, Kind::Bool),
    flag("selector", Some('l'), Kind::Value),
    flag("filename", Some('f'), Kind::Repeated),
    flag("local", None, Kind::Bool),
    flag("dry-run", None, Kind::Value),
    flag("output", Some('o'), Kind::Value),
    flag("record", None, Kind::Bool),
];

/// `kubectl set SUBCOMMAND`: only `image` is simulated.
pub fn set(kc: &mut Kubectl, words: &[String]) -> Output {
    match words.first().map(String::as_str) {
        Some("image") => set_image(kc, &words[1..]),
        Some(other @ ("env" | "resources" | "selector" | "serviceaccount" | "subject")) => {
            Output::fail(format!(
                "error: kubeglass does not simulate \"kubectl set {other}\" yet"
            ))
        }
        Some(other) => Output::fail(format!(
            "error: unknown command \"{other}\" for \"kubectl set\"\nRun 'kubectl set --help' for usage."
        )),
        None => Output::fail("error: Required resource not specified.\nSee 'kubectl set -h' for help and examples"),
    }
}

/// `kubectl set image (-f FILENAME | TYPE NAME) CONTAINER_NAME_1=CONTAINER_IMAGE_1 ...`.
fn set_image(kc: &mut Kubectl, words: &[String]) -> Output {
    let mut p = try_out!(parse(words, SET_IMAGE_FLAGS, "set image"));
    let (pairs, objs): (Vec<String>, Vec<String>) =
        p.args.iter().cloned().partition(|a| a.contains('='));
    if pairs.is_empty() {
        return Output::fail("error: at least one image update is required\nSee 'kubectl set image -h' for help and examples");
    }
    let mut images: VecMap<String, String> = VecMap::new();
    for pair in &pairs {
        if let Some((c, i)) = pair.split_once('=') {
            images.insert(c.to_string(), i.to_string());
        }
    }
    p.args = objs;
    let targets = try_out!(named(kc, &p, "set image"));
    let mut out = Output::default();
    for (rt, ns, name) in targets {
        let path = rt.object_path(&ns, &name);
        let obj = match get_json(kc, &path) {
            Ok(o) => o,
            Err(e) => {
                out.err(e);
                continue;
            }
        };
        let spec_path: &[&str] = if rt.kind == "Pod" {
            &["spec"]
        } else {
            &["spec", "template", "spec"]
        };
        let mut spec = obj.clone();
        for k in spec_path {
            spec = spec[*k].clone();
        }
        let mut changed = false;
        let mut errors = Vec::new();
        let mut new_spec = serde_json::Map::new();
        for field in ["initContainers", "containers"] {
            let mut list = spec[field].as_array().cloned().unwrap_or_default();
            let mut touched = false;
            for c in list.iter_mut() {
                let cname = c["name"].as_str().unwrap_or_default().to_string();
                for (want, image) in &images {
                    if (want == &cname || want == "*") && c["image"] != json!(image) {
                        c["image"] = json!(image);
                        touched = true;
                    }
                }
            }
            if touched {
                changed = true;
                new_spec.insert(field.into(), Value::Array(list));
            }
        }
        for want in images.keys() {
            let found = want == "*"
                || ["initContainers", "containers"].iter().any(|f| {
                    spec[*f]
                        .as_array()
                        .is_some_and(|l| l.iter().any(|c| c["name"] == json!(want)))
                });
            if !found {
                errors.push(format!("error: unable to find container named \"{want}\""));
            }
        }
        for e in errors {
            out.err(e);
        }
        if !changed {
            continue;
        }
        let mut body = Value::Object(new_spec);
        for k in spec_path.iter().rev() {
            body = json!({ *k: body });
        }
        match patch(kc, &path, "application/strategic-merge-patch+json", body) {
            Ok(_) => out.out(format!("{}/{name} image updated", kind_name(rt))),
            Err(e) => out.err(format!(
                "error: failed to patch image update to pod template: {e}"
            )),
        }
    }
    out
}

const ROLLOUT_FLAGS: &[args::FlagDef] = &[
    flag("watch", Some('w'), Kind::Bool),
    flag("timeout", None, Kind::Value),
    flag("revision", None, Kind::Value),
    flag("to-revision", None, Kind::Value),
    flag("filename", Some('f'), Kind::Repeated),
    flag("selector", Some('l'), Kind::Value),
    flag("dry-run", None, Kind::Value),
    flag("output", Some('o'), Kind::Value),
];

/// `kubectl rollout SUBCOMMAND`.
pub fn rollout(kc: &mut Kubectl, words: &[String]) -> Output {
    let Some((sub, rest)) = words.split_first() else {
        return Output::fail("error: Required resource not specified.\nSee 'kubectl rollout -h' for help and examples");
    };
    let cmd = format!("rollout {sub}");
    if !matches!(
        sub.as_str(),
        "status" | "history" | "undo" | "pause" | "resume" | "restart"
    ) {
        return Output::fail(format!(
            "error: unknown command \"{sub}\" for \"kubectl rollout\"\nRun 'kubectl rollout --help' for usage."
        ));
    }
    let p = try_out!(parse(rest, ROLLOUT_FLAGS, &cmd));
    let objs = try_out!(named(kc, &p, &cmd));
    let mut out = Output::default();
    for (rt, ns, name) in objs {
        let r = if !std::ptr::eq(rt, &DEPLOYMENTS) {
            Err(match sub.as_str() {
                "status" => format!(
                    "error: no status viewer has been implemented for {}",
                    rt.kind
                ),
                "history" => format!(
                    "error: no history viewer has been implemented for {}",
                    rt.kind
                ),
                "undo" => format!(
                    "error: no rollbacker has been implemented for \"{}\"",
                    rt.kind
                ),
                "pause" => format!(
                    "error: {}.{} \"{name}\" pausing is not supported",
                    rt.plural, rt.group
                ),
                "resume" => format!(
                    "error: {}.{} \"{name}\" resuming is not supported",
                    rt.plural, rt.group
                ),
                _ => format!(
                    "error: {}.{} \"{name}\" restarting is not supported",
                    rt.plural, rt.group
                ),
            })
        } else {
            match sub.as_str() {
                "status" => status(kc, &p, &ns, &name, &mut out),
                "history" => history(kc, &p, &ns, &name, &mut out),
                "undo" => undo(kc, &p, &ns, &name, &mut out),
                "pause" | "resume" => pause(kc, &ns, &name, sub == "pause", &mut out),
                _ => restart(kc, &ns, &name, &mut out),
            }
        };
        if let Err(e) = r {
            out.err(e);
        }
    }
    out
}

/// The line kubectl's DeploymentStatusViewer prints, and whether the rollout is done.
fn status_line(d: &Value) -> Result<(String, bool), String> {
    let name = d["metadata"]["name"].as_str().unwrap_or_default();
    let generation = d["metadata"]["generation"].as_i64().unwrap_or(0);
    let st = &d["status"];
    let observed = st["observedGeneration"].as_i64().unwrap_or(0);
    if generation > observed {
        return Ok((
            "Waiting for deployment spec update to be observed...".into(),
            false,
        ));
    }
    let progressing = st["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Progressing");
    if progressing.is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded") {
        return Err(format!(
            "error: deployment \"{name}\" exceeded its progress deadline"
        ));
    }
    let n = |k: &str| st[k].as_i64().unwrap_or(0);
    let (replicas, updated, available) =
        (n("replicas"), n("updatedReplicas"), n("availableReplicas"));
    if let Some(want) = d["spec"]["replicas"].as_i64() {
        if updated < want {
            return Ok((format!("Waiting for deployment \"{name}\" rollout to finish: {updated} out of {want} new replicas have been updated..."), false));
        }
    }
    if replicas > updated {
        return Ok((format!("Waiting for deployment \"{name}\" rollout to finish: {} old replicas are pending termination...", replicas - updated), false));
    }
    if available < updated {
        return Ok((format!("Waiting for deployment \"{name}\" rollout to finish: {available} of {updated} updated replicas are available..."), false));
    }
    Ok((
        format!("deployment \"{name}\" successfully rolled out"),
        true,
    ))
}

fn status(
    kc: &mut Kubectl,
    p: &Parsed,
    ns: &str,
    name: &str,
    out: &mut Output,
) -> Result<(), String> {
    let path = DEPLOYMENTS.object_path(ns, name);
    let watch = !p.has("watch") || p.bool("watch");
    let limit: Nanos = match p.get("timeout") {
        Some(t) => {
            let d = parse_duration(t).map_err(|e| {
                format!("error: invalid argument \"{t}\" for \"--timeout\" flag: {e}")
            })?;
            if d == 0 {
                600 * NANOS_PER_SEC
            } else {
                d
            }
        }
        None => 600 * NANOS_PER_SEC,
    };
    let start = kc.server.now();
    let mut last = String::new();
    loop {
        let d = get_json(kc, &path)?;
        let (line, done) = status_line(&d)?;
        if line != last {
            out.out(&line);
            last = line;
        }
        if done || !watch {
            return Ok(());
        }
        if kc.server.now().saturating_sub(start) >= limit {
            return Err("error: timed out waiting for the condition".into());
        }
        kc.server.sleep(NANOS_PER_SEC);
    }
}

/// The ReplicaSets a Deployment controls (by its selector, then controller uid).
fn owned_replicasets(kc: &mut Kubectl, ns: &str, d: &Value) -> Result<Vec<Value>, String> {
    let sel = &d["spec"]["selector"]["matchLabels"];
    let selector: Vec<String> = sel
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    let mut path = REPLICASETS.collection_path(ns);
    if !selector.is_empty() {
        path.push_str(&format!(
            "?labelSelector={}",
            percent_encode(&selector.join(","))
        ));
    }
    let list = get_json(kc, &path)?;
    let uid = &d["metadata"]["uid"];
    Ok(list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|rs| {
            rs["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|refs| {
                    refs.iter()
                        .any(|r| r["controller"] == json!(true) && &r["uid"] == uid)
                })
        })
        .cloned()
        .collect())
}

fn revision(rs: &Value) -> Option<i64> {
    rs["metadata"]["annotations"][REVISION]
        .as_str()?
        .parse()
        .ok()
}

fn history(
    kc: &mut Kubectl,
    p: &Parsed,
    ns: &str,
    name: &str,
    out: &mut Output,
) -> Result<(), String> {
    let d = get_json(kc, &DEPLOYMENTS.object_path(ns, name))?;
    let rss = owned_replicasets(kc, ns, &d)?;
    let mut by_rev: BTreeMap<i64, Value> = BTreeMap::new();
    for rs in rss {
        if let Some(v) = revision(&rs) {
            let mut t = rs["spec"]["template"].clone();
            if let Some(cause) = rs["metadata"]["annotations"][CHANGE_CAUSE].as_str() {
                t["metadata"]["annotations"][CHANGE_CAUSE] = json!(cause);
            }
            by_rev.insert(v, t);
        }
    }
    let want: i64 = match p.get("revision") {
        Some(r) => r.parse().map_err(|_| format!("error: invalid argument \"{r}\" for \"--revision\" flag: strconv.ParseInt: parsing \"{r}\": invalid syntax"))?,
        None => 0,
    };
    if want > 0 {
        let t = by_rev
            .get(&want)
            .ok_or("error: unable to find the specified revision")?;
        let text = crate::kubectl::describe_pages::pod_template_raw(t);
        out.stdout.push_str(&format!(
            "deployment.apps/{name} with revision #{want}\n{text}\n"
        ));
        return Ok(());
    }
    if by_rev.is_empty() {
        out.out(format!(
            "deployment.apps/{name} \nNo rollout history found."
        ));
        return Ok(());
    }
    let mut table = String::from("REVISION\tCHANGE-CAUSE\n");
    for (v, t) in &by_rev {
        let cause = t["metadata"]["annotations"][CHANGE_CAUSE]
            .as_str()
            .unwrap_or("<none>");
        table.push_str(&format!("{v}\t{cause}\n"));
    }
    let table = crate::kubectl::describe_pages::tabwriter::tabwrite(&table, 0, 2);
    // The name printer's line, whose operation is the table: a blank line ends it.
    out.stdout
        .push_str(&format!("deployment.apps/{name} \n{table}\n"));
    Ok(())
}

fn undo(
    kc: &mut Kubectl,
    p: &Parsed,
    ns: &str,
    name: &str,
    out: &mut Output,
) -> Result<(), String> {
    let path = DEPLOYMENTS.object_path(ns, name);
    let d = get_json(kc, &path)?;
    if d["spec"]["paused"] == json!(true) {
        return Err("error: you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again".into());
    }
    let to: i64 = match p.get("to-revision") {
        Some(r) => r.parse().map_err(|_| format!("error: invalid argument \"{r}\" for \"--to-revision\" flag: strconv.ParseInt: parsing \"{r}\": invalid syntax"))?,
        None => 0,
    };
    let rss = owned_replicasets(kc, ns, &d)?;
    let target = if to > 0 {
        rss.iter()
            .find(|rs| revision(rs) == Some(to))
            .ok_or_else(|| format!("error: unable to find specified revision {to} in history"))?
    } else {
        // The second newest revision.
        let mut latest: Option<(i64, &Value)> = None;
        let mut previous: Option<(i64, &Value)> = None;
        for rs in &rss {
            let Some(v) = revision(rs) else { continue };
            if latest.is_none_or(|(l, _)| l < v) {
                previous = latest;
                latest = Some((v, rs));
            } else if previous.is_none_or(|(pv, _)| pv < v) {
                previous = Some((v, rs));
            }
        }
        previous
            .map(|(_, rs)| rs)
            .ok_or_else(|| format!("error: no rollout history found for deployment \"{name}\""))?
    };
    let mut template = target["spec"]["template"].clone();
    if let Some(labels) = template["metadata"]["labels"].as_object_mut() {
        labels.remove(POD_TEMPLATE_HASH);
    }
    if template == d["spec"]["template"] {
        let rev = revision(target).unwrap_or(0);
        out.out(format!(
            "deployment.apps/{name} skipped rollback (current template already matches revision {rev})"
        ));
        return Ok(());
    }
    let mut annotations = serde_json::Map::new();
    for (k, v) in d["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if skip_copy_annotation(k) {
            annotations.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in target["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if !skip_copy_annotation(k) {
            annotations.insert(k.clone(), v.clone());
        }
    }
    let ops = json!([
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]);
    let rev = revision(target).unwrap_or(0);
    patch(kc, &path, "application/json-patch+json", ops)
        .map_err(|e| format!("error: failed restoring revision {rev}: {e}"))?;
    out.out(format!("deployment.apps/{name} rolled back"));
    Ok(())
}

fn pause(
    kc: &mut Kubectl,
    ns: &str,
    name: &str,
    pause: bool,
    out: &mut Output,
) -> Result<(), String> {
    let path = DEPLOYMENTS.object_path(ns, name);
    let d = get_json(kc, &path)?;
    let paused = d["spec"]["paused"] == json!(true);
    if pause && paused {
        return Err(format!(
            "error: deployments.apps \"{name}\" is already paused"
        ));
    }
    if !pause && !paused {
        return Err(format!("error: deployments.apps \"{name}\" is not paused"));
    }
    let body = if pause {
        json!({"spec": {"paused": true}})
    } else {
        json!({"spec": {"paused": null}})
    };
    patch(kc, &path, "application/strategic-merge-patch+json", body)
        .map_err(|e| format!("error: failed to patch: {e}"))?;
    out.out(format!(
        "deployment.apps/{name} {}",
        if pause { "paused" } else { "resumed" }
    ));
    Ok(())
}

fn restart(kc: &mut Kubectl, ns: &str, name: &str, out: &mut Output) -> Result<(), String> {
    let path = DEPLOYMENTS.object_path(ns, name);
    let d = get_json(kc, &path)?;
    if d["spec"]["paused"] == json!(true) {
        return Err("error: can't restart paused deployment (run rollout resume first)".into());
    }
    let at = Time::from_virtual_nanos(kc.server.now()).to_rfc3339();
    let body = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": at}}}}});
    patch(kc, &path, "application/strategic-merge-patch+json", body)
        .map_err(|e| format!("error: failed to patch: {e}"))?;
    out.out(format!("deployment.apps/{name} restarted"));
    Ok(())
}

const ROLLING_UPDATE_FLAGS: &[args::FlagDef] = &[
    flag("filename", Some('f'), Kind::Repeated),
    flag("image", None, Kind::Value),
    flag("update-period", None, Kind::Value),
    flag("poll-interval", None, Kind::Value),
    flag("timeout", None, Kind::Value),
    flag("container", None, Kind::Value),
    flag("deployment-label-key", None, Kind::Value),
    flag("rollback", None, Kind::Bool),
    flag("dry-run", None, Kind::Value),
    flag("output", Some('o'), Kind::Value),
];

/// The annotation the legacy updater keeps on the new controller, to resume.
const UPDATE_SOURCE: &str = "kubectl.kubernetes.io/update-source-id";
const DESIRED: &str = "kubectl.kubernetes.io/desired-replicas";

/// `kubectl rolling-update` (LEGACY: removed in kubectl v1.18; the seed's way to
/// update a ReplicationController's pods one by one). Scales the new controller up
/// by maxSurge 1 and the old one down while every desired pod stays available
/// (maxUnavailable 0), waiting `--update-period` (1m) between steps; gives up when
/// no step was possible for `--timeout` (5m). Run again, it resumes.
pub fn rolling_update(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = try_out!(parse(words, ROLLING_UPDATE_FLAGS, "rolling-update"));
    let ns = kc.namespace_of(&p);
    let dur = |flag: &str, default: Nanos| -> Result<Nanos, Output> {
        match p.get(flag) {
            Some(v) => parse_duration(v).map_err(|e| {
                Output::fail(format!(
                    "error: invalid argument \"{v}\" for \"--{flag}\" flag: {e}"
                ))
            }),
            None => Ok(default),
        }
    };
    let period = try_out!(dur("update-period", 60 * NANOS_PER_SEC));
    let timeout = try_out!(dur("timeout", 300 * NANOS_PER_SEC));
    let Some(old_name) = p.args.first().cloned() else {
        return Output::fail("error: Must specify the controller to update\nSee 'kubectl rolling-update -h' for help and examples");
    };
    let mut out = Output::default();
    out.stderr.push_str("Command \"rolling-update\" is deprecated, use \"rollout\" instead (kubeglass: the seed's legacy command, removed from kubectl in v1.18)\n");
    let old_path = REPLICATIONCONTROLLERS.object_path(&ns, &old_name);
    let old = match get_json(kc, &old_path) {
        Ok(o) => o,
        Err(e) => {
            out.err(e);
            return out;
        }
    };
    // The new controller: from a file, or the old one with another image.
    let mut new_rc = if p.has("filename") {
        let files = p.all("filename");
        let text = match files.first().map(String::as_str) {
            Some("-") => kc.stdin.clone().unwrap_or_default(),
            _ => {
                out.err("error: kubeglass reads rolling-update's controller from stdin (-f -)");
                return out;
            }
        };
        match crate::yaml::parse_documents(&text).map(|d| d.into_iter().next().map(|d| d.value)) {
            Ok(None) => {
                out.err("error: no objects passed to rolling-update");
                return out;
            }
            Ok(Some(v)) if v["kind"] == "ReplicationController" => v,
            Ok(Some(v)) => {
                out.err(format!(
                    "error: {} contains a {} not a ReplicationController",
                    files[0],
                    v["kind"].as_str().unwrap_or_default()
                ));
                return out;
            }
            Err(e) => {
                out.err(format!("error: {e}"));
                return out;
            }
        }
    } else if let Some(image) = p.get("image") {
        let new_name = p.args.get(1).cloned().unwrap_or_default();
        if new_name.is_empty() || new_name == old_name {
            out.err("error: kubeglass's rolling-update needs a new controller name with --image (the rename-in-place form is not simulated)");
            return out;
        }
        let mut v = old.clone();
        let hash = format!("{:x}", fnv(image));
        v["metadata"] =
            json!({"name": new_name, "namespace": ns, "labels": old["metadata"]["labels"]});
        v["spec"]["selector"]["deployment"] = json!(hash);
        v["spec"]["template"]["metadata"]["labels"]["deployment"] = json!(hash);
        for c in v["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .into_iter()
            .flatten()
            .take(1)
        {
            c["image"] = json!(image);
        }
        v.as_object_mut().map(|m| m.remove("status"));
        v
    } else {
        out.err("error: Must specify --filename or --image for new controller\nSee 'kubectl rolling-update -h' for help and examples");
        return out;
    };
    let new_name = new_rc["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if new_name == old_name {
        out.err("error: kubeglass's rolling-update needs the new controller to have another name");
        return out;
    }
    let mut desired = new_rc["spec"]["replicas"]
        .as_i64()
        .or_else(|| old["spec"]["replicas"].as_i64())
        .unwrap_or(1);
    let new_path = REPLICATIONCONTROLLERS.object_path(&ns, &new_name);
    let source = format!(
        "{}:{}",
        old_name,
        old["metadata"]["uid"].as_str().unwrap_or_default()
    );
    match get_json(kc, &new_path) {
        Ok(existing) if existing["metadata"]["annotations"][UPDATE_SOURCE] == json!(source) => {
            out.out(format!(
                "Found existing update in progress ({new_name}), resuming."
            ));
            // The desired count was kept on the new controller when the update began.
            if let Some(d) = existing["metadata"]["annotations"][DESIRED]
                .as_str()
                .and_then(|v| v.parse().ok())
            {
                desired = d;
            }
        }
        Ok(_) => {
            out.err(format!("error: a replication controller named {new_name} already exists and is not being updated from {old_name}"));
            return out;
        }
        Err(_) => {
            new_rc["spec"]["replicas"] = json!(0);
            new_rc["metadata"]["namespace"] = json!(ns);
            new_rc["metadata"]["annotations"][UPDATE_SOURCE] = json!(source);
            new_rc["metadata"]["annotations"][DESIRED] = json!(desired.to_string());
            let resp = kc.send(
                Method::Post,
                &REPLICATIONCONTROLLERS.collection_path(&ns),
                Body::Json(new_rc.clone()),
            );
            if let Some(e) = resp.as_error() {
                out.err(server_error(&e));
                return out;
            }
            out.out(format!("Created {new_name}"));
        }
    }
    let replicas = |v: &Value| v["spec"]["replicas"].as_i64().unwrap_or(0);
    let (max_surge, min_available) = (1, desired);
    let mut old_rc = old;
    let mut new_rc = match get_json(kc, &new_path) {
        Ok(v) => v,
        Err(e) => {
            out.err(e);
            return out;
        }
    };
    out.out(format!(
        "Scaling up {new_name} from {} to {desired}, scaling down {old_name} from {} to 0 (keep {min_available} pods available, don't exceed {} pods)",
        replicas(&new_rc),
        replicas(&old_rc),
        desired + max_surge
    ));
    let mut deadline = kc.server.now() + timeout;
    while replicas(&new_rc) != desired || replicas(&old_rc) != 0 {
        let (before_new, before_old) = (replicas(&new_rc), replicas(&old_rc));
        // Scale up within the surge.
        if replicas(&new_rc) != desired {
            let mut inc = desired + max_surge - (replicas(&old_rc) + replicas(&new_rc));
            if replicas(&old_rc) == 0 {
                inc = desired - replicas(&new_rc);
            }
            if inc > 0 {
                let to = (replicas(&new_rc) + inc).min(desired);
                out.out(format!("Scaling {new_name} up to {to}"));
                match scale_and_wait(kc, &new_path, to) {
                    Ok(v) => new_rc = v,
                    Err(e) => {
                        out.err(e);
                        return out;
                    }
                }
            }
        }
        kc.server.sleep(period);
        // Scale down while the desired number stays available.
        if replicas(&old_rc) != 0 {
            let available = available_pods(kc, &ns, &new_rc);
            let all = replicas(&old_rc) + replicas(&new_rc);
            let new_unavailable = replicas(&new_rc) - available;
            let dec = all - min_available - new_unavailable;
            if dec > 0 {
                let mut to = (replicas(&old_rc) - dec).max(0);
                if replicas(&new_rc) == desired && available == desired {
                    to = 0;
                }
                out.out(format!("Scaling {old_name} down to {to}"));
                match scale_and_wait(kc, &old_path, to) {
                    Ok(v) => old_rc = v,
                    Err(e) => {
                        out.err(e);
                        return out;
                    }
                }
            }
        }
        let progress = replicas(&new_rc) != before_new || replicas(&old_rc) != before_old;
        if progress {
            deadline = kc.server.now() + timeout;
        } else if kc.server.now() > deadline {
            out.err("error: timed out waiting for any update progress to be made");
            return out;
        } else {
            kc.server.sleep(period);
        }
    }
    out.out(format!("Update succeeded. Deleting {old_name}"));
    let resp = kc.send(Method::Delete, &old_path, Body::Empty);
    if let Some(e) = resp.as_error() {
        out.err(server_error(&e));
        return out;
    }
    // The new controller keeps its pods; the annotations of the update go.
    let _ = patch(
        kc,
        &new_path,
        "application/merge-patch+json",
        json!({"metadata": {"annotations": {UPDATE_SOURCE: null, DESIRED: null}}}),
    );
    out.out(format!(
        "replicationcontroller/{new_name} rolling updated to \"{new_name}\""
    ));
    out
}

fn fnv(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Scales a controller and waits until it reports that many pods.
fn scale_and_wait(kc: &mut Kubectl, path: &str, to: i64) -> Result<Value, String> {
    let v = patch(
        kc,
        path,
        "application/merge-patch+json",
        json!({"spec": {"replicas": to}}),
    )?;
    for _ in 0..60 {
        let cur = get_json(kc, path)?;
        if cur["status"]["replicas"].as_i64().unwrap_or(0) == to
            && cur["status"]["observedGeneration"].as_i64()
                >= cur["metadata"]["generation"].as_i64()
        {
            return Ok(cur);
        }
        kc.server.sleep(NANOS_PER_SEC);
    }
    Ok(v)
}

/// The new controller's pods that are ready (and available past minReadySeconds).
fn available_pods(kc: &mut Kubectl, ns: &str, rc: &Value) -> i64 {
    let sel: Vec<String> = rc["spec"]["selector"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    let path = format!(
        "{}?labelSelector={}",
        crate::api::object::PODS.collection_path(ns),
        percent_encode(&sel.join(","))
    );
    let Ok(list) = get_json(kc, &path) else {
        return 0;
    };
    let min_ready = rc["spec"]["minReadySeconds"].as_i64().unwrap_or(0);
    let now = Time::from_virtual_nanos(kc.server.now()).0;
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .filter(|p| {
            p["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| {
                    c["type"] == "Ready"
                        && c["status"] == "True"
                        && (min_ready == 0
                            || c["lastTransitionTime"]
                                .as_str()
                                .and_then(Time::parse)
                                .is_some_and(|t| t.0 + min_ready < now))
                })
        })
        .count() as i64
}
