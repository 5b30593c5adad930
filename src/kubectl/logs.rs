//! `kubectl logs` and `kubectl exec`, through `pods/NAME/log` and `pods/NAME/exec`.
//!
//! exec is simulated: the kubelet answers a few simple commands (see
//! `kubelet::server`); real kubectl streams over SPDY or WebSocket.

use super::args::{self, flag, Kind};
use super::{server_error, Kubectl, Output};
use crate::apiserver::request::{percent_encode, Body, Method, ResponseBody};

const LOGS_FLAGS: &[args::FlagDef] = &[
    flag("container", Some('c'), Kind::Value),
    flag("previous", Some('p'), Kind::Bool),
    flag("tail", None, Kind::Value),
    flag("follow", Some('f'), Kind::Bool),
    flag("timestamps", None, Kind::Bool),
    flag("all-containers", None, Kind::Bool),
    flag("since", None, Kind::Value),
    flag("limit-bytes", None, Kind::Value),
    flag("prefix", None, Kind::Bool),
];

const EXEC_FLAGS: &[args::FlagDef] = &[
    flag("container", Some('c'), Kind::Value),
    flag("stdin", Some('i'), Kind::Bool),
    flag("tty", Some('t'), Kind::Bool),
    flag("quiet", Some('q'), Kind::Bool),
];

/// The pod a command names (`web` or `pod/web`), and the pod object.
fn pod_of(kc: &mut Kubectl, arg: &str, ns: &str) -> Result<serde_json::Value, Output> {
    let name = arg
        .strip_prefix("pod/")
        .or_else(|| arg.strip_prefix("pods/"))
        .or_else(|| arg.strip_prefix("po/"))
        .unwrap_or(arg);
    if name.contains('/') {
        return Err(Output::fail(format!(
            "error: kubeglass's kubectl reads logs of pods only, not \"{arg}\""
        )));
    }
    let path = crate::api::object::PODS.object_path(ns, name);
    let resp = kc.send(Method::Get, &path, Body::Empty);
    match resp.as_error() {
        Some(e) => Err(Output::fail(server_error(&e))),
        None => Ok(resp.body_json()),
    }
}

/// The container: `-c`, the default-container annotation, or the first (with
/// kubectl's notice on stderr when there are several).
fn container_of(pod: &serde_json::Value, given: Option<&str>, out: &mut Output) -> String {
    if let Some(c) = given {
        return c.to_string();
    }
    if let Some(c) =
        pod["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"].as_str()
    {
        return c.to_string();
    }
    let names: Vec<&str> = pod["spec"]["containers"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    if names.len() > 1 {
        out.stderr.push_str(&format!(
            "Defaulted container \"{}\" out of: {}\n",
            names[0],
            names.join(", ")
        ));
    }
    names.first().map(|s| s.to_string()).unwrap_or_default()
}

/// `kubectl logs POD [-c C] [--previous] [--tail N]`.
pub fn logs(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = match args::parse(words, LOGS_FLAGS, "logs") {
        Ok(p) => p,
        Err(e) => return Output::fail(e),
    };
    let Some(target) = p.args.first() else {
        return Output::fail("error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command\nSee 'kubectl logs -h' for help and examples");
    };
    let ns = kc.namespace_of(&p);
    let pod = match pod_of(kc, target, &ns) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let mut out = Output::default();
    let given = p.get("container").or(p.args.get(1).map(String::as_str));
    let container = container_of(&pod, given, &mut out);
    let name = pod["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut path = format!(
        "{}/log?container={}",
        crate::api::object::PODS.object_path(&ns, &name),
        percent_encode(&container)
    );
    if p.bool("previous") {
        path.push_str("&previous=true");
    }
    if let Some(t) = p.get("tail") {
        match t.parse::<i64>() {
            Ok(n) if n >= 0 => path.push_str(&format!("&tailLines={n}")),
            Ok(_) => {}
            Err(_) => {
                return Output::fail(format!("error: invalid argument \"{t}\" for \"--tail\" flag: strconv.ParseInt: parsing \"{t}\": invalid syntax"))
            }
        }
    }
    let resp = kc.send(Method::Get, &path, Body::Empty);
    if let Some(e) = resp.as_error() {
        out.err(server_error(&e));
        return out;
    }
    if let ResponseBody::Text(t) = &resp.body {
        out.stdout.push_str(t);
    }
    out
}

/// `kubectl exec POD [-c C] -- COMMAND [ARGS...]` (simulated commands).
pub fn exec(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = match args::parse(words, EXEC_FLAGS, "exec") {
        Ok(p) => p,
        Err(e) => return Output::fail(e),
    };
    let Some(target) = p.args.first() else {
        return Output::fail("error: pod, type/name or --filename must be specified");
    };
    if p.args.len() > 1 {
        return Output::fail("error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\nSee 'kubectl exec -h' for help and examples");
    }
    if p.rest.is_empty() {
        return Output::fail("error: you must specify at least one command for the container");
    }
    let ns = kc.namespace_of(&p);
    let pod = match pod_of(kc, target, &ns) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let phase = pod["status"]["phase"].as_str().unwrap_or_default();
    if phase == "Succeeded" || phase == "Failed" {
        return Output::fail(format!(
            "error: cannot exec into a container in a completed pod; current phase is {phase}"
        ));
    }
    let mut out = Output::default();
    let container = container_of(&pod, p.get("container"), &mut out);
    let name = pod["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut path = format!(
        "{}/exec?container={}",
        crate::api::object::PODS.object_path(&ns, &name),
        percent_encode(&container)
    );
    for w in &p.rest {
        path.push_str("&command=");
        path.push_str(&percent_encode(w));
    }
    path.push_str("&stdout=true&stderr=true");
    let resp = kc.send(Method::Post, &path, Body::Empty);
    if let Some(e) = resp.as_error() {
        let msg = e.message().to_string();
        if msg.starts_with("unable to upgrade connection") {
            out.err(format!("error: {msg}"));
        } else {
            out.err(server_error(&e));
        }
        return out;
    }
    let v = resp.body_json();
    out.stdout
        .push_str(v["stdout"].as_str().unwrap_or_default());
    out.stderr
        .push_str(v["stderr"].as_str().unwrap_or_default());
    let code = v["exitCode"].as_i64().unwrap_or(0) as i32;
    if code != 0 {
        out.stderr
            .push_str(&format!("command terminated with exit code {code}\n"));
        out.code = code;
    }
    out
}
