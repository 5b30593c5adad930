//! `kubectl cordon`, `uncordon` and `drain`, as kubectl v1.31 (`pkg/cmd/drain`,
//! `pkg/drain`): cordoning patches `spec.unschedulable`; draining cordons, picks the
//! node's pods through kubectl's filters (DaemonSet-managed, mirror, local storage,
//! unreplicated), refuses with kubectl's messages unless `--ignore-daemonsets`,
//! `--delete-emptydir-data` or `--force` allow them, and evicts the rest through
//! `POST pods/NAME/eviction` (or deletes them with `--disable-eviction`).
//!
//! In a scenario kubectl cannot wait in real time. After its evictions, drain lets
//! the work due at this instant run (a node without a kubelet confirms a deletion
//! at once) and reports `pod/NAME evicted` for each pod then gone; a pod whose
//! termination takes time is not waited for (it goes as virtual time advances),
//! unless `--timeout` is given: then drain waits up to that much virtual time, and
//! fails as kubectl does when the pods have not gone by then. DaemonSets are not
//! simulated, so a pod's DaemonSet owner is taken to exist (kubectl looks it up);
//! PodDisruptionBudgets are not simulated, so no eviction is refused (no 429 and
//! no retry every 5s). Errors about several kinds of pods come in kubectl's filter
//! order (kubectl's own order follows a Go map).

use serde_json::{json, Value};

use super::args::{self, flag, Kind, Parsed};
use super::{server_error, Kubectl, Output};
use crate::apiserver::request::{percent_encode, Body, Method};
use crate::kernel::{format_duration, parse_duration, Nanos};

const CORDON_FLAGS: &[args::FlagDef] = &[
    flag("selector", Some('l'), Kind::Value),
    flag("dry-run", None, Kind::Value),
];

const DRAIN_FLAGS: &[args::FlagDef] = &[
    flag("selector", Some('l'), Kind::Value),
    flag("dry-run", None, Kind::Value),
    flag("force", None, Kind::Bool),
    flag("ignore-daemonsets", None, Kind::Bool),
    flag("delete-emptydir-data", None, Kind::Bool),
    flag("delete-local-data", None, Kind::Bool),
    flag("grace-period", None, Kind::Value),
    flag("timeout", None, Kind::Value),
    flag("pod-selector", None, Kind::Value),
    flag("disable-eviction", None, Kind::Bool),
    flag("skip-wait-for-delete-timeout", None, Kind::Value),
    flag("chunk-size", None, Kind::Value),
];

const DAEMONSET_FATAL: &str = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)";
const DAEMONSET_WARNING: &str = "ignoring DaemonSet-managed Pods";
const LOCAL_STORAGE_FATAL: &str =
    "Pods with local storage (use --delete-emptydir-data to override)";
/// v1.31's text; its `errors()` adds another "cannot delete " in front (fixed
/// upstream only in v1.34), so kubectl v1.31 prints "cannot delete cannot delete".
const UNMANAGED_FATAL: &str =
    "cannot delete Pods that declare no controller (use --force to override)";
const UNMANAGED_WARNING: &str = "deleting Pods that declare no controller";
const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

#[derive(Clone, Copy, PartialEq, Eq)]
enum DryRun {
    None,
    Client,
    Server,
}

impl DryRun {
    fn suffix(self) -> &'static str {
        match self {
            DryRun::None => "",
            DryRun::Client => " (dry run)",
            DryRun::Server => " (server dry run)",
        }
    }
}

/// `cmdutil.GetDryRunStrategy`.
fn dry_run(p: &Parsed) -> Result<DryRun, Output> {
    match p.get("dry-run") {
        None | Some("none") => Ok(DryRun::None),
        Some("client") => Ok(DryRun::Client),
        Some("server") => Ok(DryRun::Server),
        Some(v) => Err(Output::fail(format!(
            "error: Invalid dry-run value ({v}). Must be \"none\", \"server\", or \"client\"."
        ))),
    }
}

fn usage(cmd: &str) -> Output {
    Output::fail(format!(
        "error: USAGE: {cmd} NODE [flags]\nSee 'kubectl {cmd} -h' for help and examples"
    ))
}

/// The nodes named, or selected by `--selector`, as JSON; the first error ends
/// the command before anything is done, as kubectl's builder does.
fn nodes(kc: &mut Kubectl, p: &Parsed, cmd: &str) -> Result<Vec<Value>, Output> {
    let selector = p.get("selector").unwrap_or("");
    if p.args.is_empty() && selector.is_empty() {
        return Err(usage(cmd));
    }
    if !p.args.is_empty() && !selector.is_empty() {
        return Err(Output::fail(format!(
            "error: error: cannot specify both a node name and a --selector option\nSee 'kubectl {cmd} -h' for help and examples"
        )));
    }
    if !selector.is_empty() {
        let path = format!("/api/v1/nodes?labelSelector={}", percent_encode(selector));
        let resp = kc.send(Method::Get, &path, Body::Empty);
        if let Some(e) = resp.as_error() {
            return Err(Output::fail(server_error(&e)));
        }
        let body = resp.body_json();
        return Ok(body["items"].as_array().cloned().unwrap_or_default());
    }
    let mut out = Vec::new();
    for raw in &p.args {
        let name = raw
            .strip_prefix("node/")
            .or_else(|| raw.strip_prefix("nodes/"))
            .unwrap_or(raw);
        let resp = kc.send(Method::Get, &format!("/api/v1/nodes/{name}"), Body::Empty);
        if let Some(e) = resp.as_error() {
            return Err(Output::fail(server_error(&e)));
        }
        out.push(resp.body_json());
    }
    Ok(out)
}

fn node_name(n: &Value) -> String {
    n["metadata"]["name"].as_str().unwrap_or("").to_string()
}

/// `RunCordonOrUncordon`.
fn cordon_nodes(kc: &mut Kubectl, nodes: &[Value], desired: bool, dry: DryRun, out: &mut Output) {
    let verb = if desired { "cordon" } else { "uncordon" };
    for n in nodes {
        let name = node_name(n);
        let current = n["spec"]["unschedulable"].as_bool().unwrap_or(false);
        if current == desired {
            out.out(format!("node/{name} already {verb}ed{}", dry.suffix()));
            continue;
        }
        if dry != DryRun::Client {
            let mut path = format!("/api/v1/nodes/{name}");
            if dry == DryRun::Server {
                path.push_str("?dryRun=All");
            }
            let patch = if desired {
                json!({"spec": {"unschedulable": true}})
            } else {
                json!({"spec": {"unschedulable": null}})
            };
            let resp = kc.send_with(
                Method::Patch,
                &path,
                Body::Json(patch),
                &[("content-type", "application/strategic-merge-patch+json")],
            );
            if let Some(e) = resp.as_error() {
                out.err(format!(
                    "error: unable to {verb} node \"{name}\": {}",
                    e.message()
                ));
                continue;
            }
        }
        out.out(format!("node/{name} {verb}ed{}", dry.suffix()));
    }
}

/// `kubectl cordon` (`desired` true) and `kubectl uncordon`.
pub fn cordon(kc: &mut Kubectl, words: &[String], desired: bool) -> Output {
    let cmd = if desired { "cordon" } else { "uncordon" };
    let p = match args::parse(words, CORDON_FLAGS, cmd) {
        Ok(p) => p,
        Err(e) => return Output::fail(e),
    };
    let dry = match dry_run(&p) {
        Ok(d) => d,
        Err(o) => return o,
    };
    let nodes = match nodes(kc, &p, cmd) {
        Ok(n) => n,
        Err(o) => return o,
    };
    let mut out = Output::default();
    cordon_nodes(kc, &nodes, desired, dry, &mut out);
    out
}

/// What kubectl's filters decided about one pod.
enum Verdict {
    Delete,
    DeleteWithWarning(&'static str),
    Skip,
    SkipWithWarning(&'static str),
    Error(&'static str),
}

struct Options {
    force: bool,
    ignore_daemonsets: bool,
    delete_emptydir_data: bool,
    skip_deleted_after: i64,
    now_unix: i64,
}

/// `makeFilters` in order: skip deleted, DaemonSet, mirror, local storage,
/// unreplicated; the first that does not delete decides.
fn filter(pod: &Value, o: &Options) -> Verdict {
    let phase = pod["status"]["phase"].as_str().unwrap_or("");
    let finished = phase == "Succeeded" || phase == "Failed";
    if o.skip_deleted_after > 0 {
        if let Some(t) = pod["metadata"]["deletionTimestamp"]
            .as_str()
            .and_then(crate::api::time::Time::parse)
        {
            if o.now_unix - t.0 > o.skip_deleted_after {
                return Verdict::Skip;
            }
        }
    }
    let controller = pod["metadata"]["ownerReferences"]
        .as_array()
        .and_then(|refs| refs.iter().find(|r| r["controller"] == json!(true)));
    if controller.is_some_and(|c| c["kind"] == "DaemonSet") && !finished {
        if !o.ignore_daemonsets {
            return Verdict::Error(DAEMONSET_FATAL);
        }
        return Verdict::SkipWithWarning(DAEMONSET_WARNING);
    }
    if pod["metadata"]["annotations"]
        .get(MIRROR_ANNOTATION)
        .is_some()
    {
        return Verdict::Skip;
    }
    let local = pod["spec"]["volumes"]
        .as_array()
        .is_some_and(|vs| vs.iter().any(|v| v.get("emptyDir").is_some()));
    if local && !finished && !o.delete_emptydir_data {
        return Verdict::Error(LOCAL_STORAGE_FATAL);
    }
    // The local storage filter's warning ("deleting Pods with local storage") is
    // replaced by the unreplicated filter's verdict, which always has one (as
    // upstream's TODO says), so it is never printed.
    if finished || controller.is_some() {
        Verdict::Delete
    } else if o.force {
        Verdict::DeleteWithWarning(UNMANAGED_WARNING)
    } else {
        Verdict::Error(UNMANAGED_FATAL)
    }
}

fn pod_key(p: &Value) -> (String, String) {
    (
        p["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        p["metadata"]["name"].as_str().unwrap_or("").to_string(),
    )
}

/// Groups `ns/name`s by message, in the order the messages first appear.
fn grouped(items: &[(&'static str, String)]) -> Vec<(&'static str, Vec<String>)> {
    let mut out: Vec<(&'static str, Vec<String>)> = Vec::new();
    for (msg, pod) in items {
        match out.iter_mut().find(|(m, _)| m == msg) {
            Some((_, pods)) => pods.push(pod.clone()),
            None => out.push((msg, vec![pod.clone()])),
        }
    }
    out
}

/// `kubectl drain`.
pub fn drain(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = match args::parse(words, DRAIN_FLAGS, "drain") {
        Ok(p) => p,
        Err(e) => return Output::fail(e),
    };
    let dry = match dry_run(&p) {
        Ok(d) => d,
        Err(o) => return o,
    };
    let grace: i64 = match p.get("grace-period").map(str::parse::<i64>) {
        None => -1,
        Some(Ok(g)) => g,
        Some(Err(_)) => {
            let v = p.get("grace-period").unwrap_or("");
            return Output::fail(format!("error: invalid argument \"{v}\" for \"--grace-period\" flag: strconv.ParseInt: parsing \"{v}\": invalid syntax\nSee 'kubectl drain --help' for usage."));
        }
    };
    let timeout: Nanos = match p.get("timeout").map(parse_duration) {
        None => 0,
        Some(Ok(t)) => t,
        Some(Err(_)) => {
            let v = p.get("timeout").unwrap_or("");
            return Output::fail(format!("error: invalid argument \"{v}\" for \"--timeout\" flag: time: invalid duration \"{v}\"\nSee 'kubectl drain --help' for usage."));
        }
    };
    let pod_selector = p.get("pod-selector").unwrap_or("").to_string();
    if !pod_selector.is_empty() && crate::api::labels::Selector::parse(&pod_selector).is_err() {
        return Output::fail("error: --pod-selector=<pod_selector> must be a valid label selector");
    }
    let opts = Options {
        force: p.bool("force"),
        ignore_daemonsets: p.bool("ignore-daemonsets"),
        delete_emptydir_data: p.bool("delete-emptydir-data") || p.bool("delete-local-data"),
        skip_deleted_after: p
            .get("skip-wait-for-delete-timeout")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        now_unix: crate::api::time::Time::from_virtual_nanos(kc.server.now()).0,
    };
    let disable_eviction = p.bool("disable-eviction");
    let nodes = match nodes(kc, &p, "drain") {
        Ok(n) => n,
        Err(o) => return o,
    };
    let mut out = Output::default();
    cordon_nodes(kc, &nodes, true, dry, &mut out);
    let mut fatal: Vec<DrainError> = Vec::new();
    let mut remaining: Vec<String> = Vec::new();
    for n in &nodes {
        let name = node_name(n);
        let opts = NodeDrain {
            pod_selector: &pod_selector,
            opts: &opts,
            dry,
            grace,
            timeout,
            disable_eviction,
        };
        match drain_node(kc, &name, &opts, &mut out) {
            Ok(()) => out.out(format!("node/{name} drained{}", dry.suffix())),
            Err(e) => {
                out.stderr.push_str(&format!(
                    "error: unable to drain node \"{name}\" due to error: {}, continuing command...\n",
                    e.display()
                ));
                fatal.push(e);
                remaining.push(name);
            }
        }
    }
    if !remaining.is_empty() {
        out.stderr
            .push_str("There are pending nodes to be drained:\n");
        for n in &remaining {
            out.stderr.push_str(&format!(" {n}\n"));
        }
        // cmdutil.CheckErr: an aggregate of one is unwrapped; an aggregate prints
        // one error a line, anything else as "error: ...".
        let lines: Vec<String> = match fatal.as_slice() {
            [one] if one.aggregate => one.errs.clone(),
            [one] => vec![one.errs.first().map_or_else(String::new, |m| {
                if m.starts_with("error: ") {
                    m.clone()
                } else {
                    format!("error: {m}")
                }
            })],
            many => many.iter().map(DrainError::display).collect(),
        };
        for l in lines {
            out.stderr.push_str(&l);
            out.stderr.push('\n');
        }
        out.code = 1;
    }
    out
}

/// Why one node could not be drained: the filters' errors (an aggregate), or one
/// error from evicting or waiting.
struct DrainError {
    errs: Vec<String>,
    aggregate: bool,
}

impl DrainError {
    fn one(msg: String) -> DrainError {
        DrainError {
            errs: vec![msg],
            aggregate: false,
        }
    }

    /// `err.Error()`: an aggregate of several is `[a, b]`.
    fn display(&self) -> String {
        if self.errs.len() == 1 {
            self.errs[0].clone()
        } else {
            format!("[{}]", self.errs.join(", "))
        }
    }
}

/// How one node is drained.
struct NodeDrain<'a> {
    pod_selector: &'a str,
    opts: &'a Options,
    dry: DryRun,
    grace: i64,
    timeout: Nanos,
    disable_eviction: bool,
}

/// `deleteOrEvictPodsSimple` for one node.
fn drain_node(
    kc: &mut Kubectl,
    node: &str,
    d: &NodeDrain,
    out: &mut Output,
) -> Result<(), DrainError> {
    let NodeDrain {
        pod_selector,
        opts,
        dry,
        grace,
        timeout,
        disable_eviction,
    } = *d;
    // GetPodsForDeletion
    let mut path = format!(
        "/api/v1/pods?fieldSelector={}",
        percent_encode(&format!("spec.nodeName={node}"))
    );
    if !pod_selector.is_empty() {
        path.push_str(&format!("&labelSelector={}", percent_encode(pod_selector)));
    }
    let resp = kc.send(Method::Get, &path, Body::Empty);
    if let Some(e) = resp.as_error() {
        return Err(DrainError::one(e.message().to_string()));
    }
    let pods = resp.body_json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut to_delete: Vec<Value> = Vec::new();
    let mut warnings: Vec<(&'static str, String)> = Vec::new();
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    for pod in pods {
        let (ns, name) = pod_key(&pod);
        let id = format!("{ns}/{name}");
        match filter(&pod, opts) {
            Verdict::Delete => to_delete.push(pod),
            Verdict::DeleteWithWarning(w) => {
                warnings.push((w, id));
                to_delete.push(pod);
            }
            Verdict::Skip => {}
            Verdict::SkipWithWarning(w) => warnings.push((w, id)),
            Verdict::Error(e) => errors.push((e, id)),
        }
    }
    if !errors.is_empty() {
        let errs: Vec<String> = grouped(&errors)
            .into_iter()
            .map(|(msg, pods)| format!("cannot delete {msg}: {}", pods.join(", ")))
            .collect();
        return Err(DrainError {
            errs,
            aggregate: true,
        });
    }
    if !warnings.is_empty() {
        let w: Vec<String> = grouped(&warnings)
            .into_iter()
            .map(|(msg, pods)| format!("{msg}: {}", pods.join(", ")))
            .collect();
        out.stderr.push_str(&format!("Warning: {}\n", w.join("; ")));
    }
    if dry == DryRun::Client {
        for pod in &to_delete {
            let (ns, name) = pod_key(pod);
            out.out(format!("evicting pod {ns}/{name} (dry run)"));
        }
        return Ok(());
    }
    // DeleteOrEvictPods
    let mut started: Vec<(String, String, String)> = Vec::new();
    for pod in &to_delete {
        let (ns, name) = pod_key(pod);
        let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let mut delete_options = serde_json::Map::new();
        if grace >= 0 {
            delete_options.insert("gracePeriodSeconds".into(), json!(grace));
        }
        if dry == DryRun::Server {
            delete_options.insert("dryRun".into(), json!(["All"]));
        }
        let resp = if disable_eviction {
            let mut path = format!("/api/v1/namespaces/{ns}/pods/{name}");
            if dry == DryRun::Server {
                path.push_str("?dryRun=All");
            }
            kc.send(
                Method::Delete,
                &path,
                Body::Json(Value::Object(delete_options)),
            )
        } else {
            out.out(format!("evicting pod {ns}/{name}{}", dry.suffix()));
            let eviction = json!({
                "apiVersion": "policy/v1",
                "kind": "Eviction",
                "metadata": {"name": name, "namespace": ns},
                "deleteOptions": Value::Object(delete_options),
            });
            kc.send(
                Method::Post,
                &format!("/api/v1/namespaces/{ns}/pods/{name}/eviction"),
                Body::Json(eviction),
            )
        };
        match resp.as_error() {
            None => started.push((ns, name, uid)),
            Some(e) if e.code() == 404 => {}
            Some(e) if disable_eviction => return Err(DrainError::one(e.message().to_string())),
            Some(e) => {
                return Err(DrainError::one(format!(
                    "error when evicting pods/\"{name}\" -n \"{ns}\": {}",
                    e.message()
                )))
            }
        }
    }
    if dry == DryRun::Server {
        return Ok(());
    }
    // waitForDelete: the work due now runs (and, with --timeout, up to that much
    // virtual time passes); each pod gone (or replaced by one with another uid) is
    // reported.
    kc.server.wait(timeout);
    let verb = if disable_eviction {
        "deleted"
    } else {
        "evicted"
    };
    let mut pending = Vec::new();
    for (ns, name, uid) in started {
        let resp = kc.send(
            Method::Get,
            &format!("/api/v1/namespaces/{ns}/pods/{name}"),
            Body::Empty,
        );
        let gone = match resp.as_error() {
            Some(e) => e.code() == 404,
            None => resp.body_json()["metadata"]["uid"].as_str() != Some(uid.as_str()),
        };
        if gone {
            out.out(format!("pod/{name} {verb}"));
        } else {
            pending.push(name);
        }
    }
    if timeout > 0 && !pending.is_empty() {
        let err = format!("drain did not complete within {}", format_duration(timeout));
        out.stderr.push_str(&format!(
            "There are pending pods in node \"{node}\" when an error occurred: {err}\n"
        ));
        for name in &pending {
            out.stderr.push_str(&format!("pod/{name}\n"));
        }
        return Err(DrainError::one(err));
    }
    Ok(())
}
