//! The kubelet's server (port 10250) as the API server reaches it for
//! `pods/NAME/log` and `pods/NAME/exec`.
//!
//! Logs are the simulated program's lines up to now (`--previous`: the last run's).
//! **exec is simulated**: no process runs; a few simple commands are answered from
//! what the kubelet knows (`echo`, `hostname`, `env`/`printenv`, `cat` of
//! `/etc/hostname`, `/etc/hosts`, `/etc/resolv.conf` or a file the program touched,
//! `ls`, `true`/`false`, `sh -c` with those, `date`, `sleep`), anything else fails as
//! an executable not found in `$PATH`. Real exec streams over SPDY or WebSocket;
//! here the response is one JSON object `{stdout, stderr, exitCode}`.

use serde_json::json;

use super::{Kubelet, St};
use crate::api::ApiError;
use crate::apiserver::request::{percent_decode, Response, ResponseBody};
use crate::apiserver::{format_ipv4, ConnectTarget};
use crate::kernel::Nanos;

/// The query of a kubelet request, with repeated keys kept in order.
fn params(path: &str) -> Vec<(String, String)> {
    let q = path.split_once('?').map_or("", |(_, q)| q);
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn param<'a>(ps: &'a [(String, String)], key: &str) -> Option<&'a str> {
    ps.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn bad(msg: String) -> Response {
    Response::error(&ApiError::bad_request(msg))
}

impl Kubelet {
    /// Serves `log` or `exec` for a pod of this node (the API server has checked the
    /// pod and named the container).
    pub fn serve(&self, now: Nanos, t: &ConnectTarget) -> Response {
        let (ns, name) = (
            t.object.meta().namespace.as_str(),
            t.object.meta().name.as_str(),
        );
        let ps = params(&t.path);
        let container = param(&ps, "container").unwrap_or_default();
        if self.power != super::Power::Up {
            let ip = self
                .node()
                .and_then(|n| n.status.addresses.iter().find(|a| a.kind == "InternalIP"))
                .map(|a| a.address.clone())
                .unwrap_or_default();
            return Response::error(&ApiError::new(
                500,
                "InternalError",
                format!("Get \"https://{ip}:10250/containerLogs/{ns}/{name}/{container}\": dial tcp {ip}:10250: connect: no route to host"),
                None,
            ));
        }
        let Some((w, c)) = self.find(ns, name, container) else {
            return bad(format!(
                "container \"{container}\" in pod \"{name}\" is not available"
            ));
        };
        match t.name.as_str() {
            "log" => {
                let previous = matches!(param(&ps, "previous"), Some("true" | "1"));
                let tail = param(&ps, "tailLines").and_then(|v| v.parse::<usize>().ok());
                let limit = tail.unwrap_or(100_000);
                let run = if previous {
                    match (&c.previous, &c.last) {
                        (Some((p, start, end)), Some(_)) => Some((p.clone(), *start, *end)),
                        _ => {
                            return bad(format!(
                                "previous terminated container \"{container}\" in pod \"{name}\" not found"
                            ))
                        }
                    }
                } else {
                    match &c.state {
                        St::Running => c.program.clone().map(|p| (p, c.started_at, now)),
                        St::Terminated(t) if c.program.is_some() => {
                            c.program.clone().map(|p| (p, c.started_at, t.finished))
                        }
                        St::Waiting(_, _) if c.previous.is_some() => c.previous.clone(),
                        St::Waiting(reason, _) => {
                            return bad(format!(
                                "container \"{container}\" in pod \"{name}\" is waiting to start: {reason}"
                            ))
                        }
                        St::Pulling { .. } => {
                            return bad(format!(
                                "container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating"
                            ))
                        }
                        St::Terminated(_) => None,
                    }
                };
                let mut text = String::new();
                if let Some((p, start, end)) = run {
                    for line in p.logs(start, end.saturating_sub(start), limit) {
                        text.push_str(&line);
                        text.push('\n');
                    }
                }
                Response::ok(ResponseBody::Text(text))
            }
            _ => {
                if !matches!(c.state, St::Running) {
                    return bad(format!(
                        "unable to upgrade connection: container not found (\"{container}\")"
                    ));
                }
                let argv: Vec<String> = ps
                    .iter()
                    .filter(|(k, _)| k == "command")
                    .map(|(_, v)| v.clone())
                    .collect();
                let pod = w.pod();
                let ip = match (w.ip, self.pod_cidr) {
                    (Some(off), Some(cidr)) => format_ipv4(cidr.nth(u64::from(off))),
                    _ => String::new(),
                };
                let ct = w.container(c);
                let mut env: Vec<(String, String)> = vec![
                    (
                        "PATH".into(),
                        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                    ),
                    ("HOSTNAME".into(), pod.metadata.name.clone()),
                ];
                for e in &ct.env {
                    if let Some(v) = &e.value {
                        env.push((e.name.clone(), v.clone()));
                    }
                }
                for (k, v) in [
                    ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
                    ("KUBERNETES_SERVICE_PORT", "443"),
                    ("KUBERNETES_SERVICE_PORT_HTTPS", "443"),
                    ("KUBERNETES_PORT", "tcp://10.96.0.1:443"),
                    ("KUBERNETES_PORT_443_TCP", "tcp://10.96.0.1:443"),
                    ("KUBERNETES_PORT_443_TCP_PROTO", "tcp"),
                    ("KUBERNETES_PORT_443_TCP_PORT", "443"),
                    ("KUBERNETES_PORT_443_TCP_ADDR", "10.96.0.1"),
                    ("HOME", "/root"),
                ] {
                    env.push((k.into(), v.into()));
                }
                let files = |path: &str| -> Option<String> {
                    match path {
                        "/etc/hostname" => Some(format!("{}\n", pod.metadata.name)),
                        "/etc/hosts" => Some(format!(
                            "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n{ip}\t{}\n",
                            pod.metadata.name
                        )),
                        "/etc/resolv.conf" => Some(format!(
                            "search {}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n",
                            pod.metadata.namespace
                        )),
                        p => c
                            .program
                            .as_ref()
                            .filter(|prog| prog.file_exists(p, now - c.started_at))
                            .map(|_| String::new()),
                    }
                };
                let (stdout, stderr, code) = exec(&argv, &env, &files, now);
                Response::ok(ResponseBody::Json(json!({
                    "stdout": stdout, "stderr": stderr, "exitCode": code,
                })))
            }
        }
    }
}

/// Runs a simulated command: (stdout, stderr, exit code).
fn exec(
    argv: &[String],
    env: &[(String, String)],
    files: &dyn Fn(&str) -> Option<String>,
    now: Nanos,
) -> (String, String, i32) {
    let words: Vec<&str> = argv.iter().map(String::as_str).collect();
    match words.as_slice() {
        [] => (
            String::new(),
            "you must specify at least one command for the container\n".into(),
            1,
        ),
        [sh, "-c", script] if sh.ends_with("sh") => {
            let (mut out, mut err, mut code) = (String::new(), String::new(), 0);
            for part in script
                .split([';', '\n'])
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                let mut chain_ok = true;
                for cmd in part.split("&&").map(str::trim) {
                    if !chain_ok {
                        break;
                    }
                    if let Some(c) = cmd.strip_prefix("exit") {
                        return (out, err, c.trim().parse().unwrap_or(0));
                    }
                    let ws: Vec<String> = split(cmd)
                        .into_iter()
                        .map(|w| {
                            if let Some(var) = w.strip_prefix('$') {
                                let var = var.trim_matches(['{', '}']);
                                env.iter()
                                    .find(|(k, _)| k == var)
                                    .map(|(_, v)| v.clone())
                                    .unwrap_or_default()
                            } else {
                                w
                            }
                        })
                        .collect();
                    let (o, e, c) = exec(&ws, env, files, now);
                    out.push_str(&o);
                    err.push_str(&e);
                    code = c;
                    chain_ok = c == 0;
                }
            }
            (out, err, code)
        }
        [cmd, rest @ ..] => {
            let name = cmd.rsplit('/').next().unwrap_or(cmd);
            match name {
                "echo" => (format!("{}\n", rest.join(" ")), String::new(), 0),
                "hostname" => (files("/etc/hostname").unwrap_or_default(), String::new(), 0),
                "env" | "printenv" if rest.is_empty() => (
                    env.iter().map(|(k, v)| format!("{k}={v}\n")).collect(),
                    String::new(),
                    0,
                ),
                "printenv" => {
                    let out: String = rest
                        .iter()
                        .filter_map(|k| env.iter().find(|(n, _)| n == k).map(|(_, v)| format!("{v}\n")))
                        .collect();
                    let code = if out.is_empty() { 1 } else { 0 };
                    (out, String::new(), code)
                }
                "cat" => {
                    let (mut out, mut err, mut code) = (String::new(), String::new(), 0);
                    for f in rest {
                        match files(f) {
                            Some(text) => out.push_str(&text),
                            None => {
                                err.push_str(&format!("cat: can't open '{f}': No such file or directory\n"));
                                code = 1;
                            }
                        }
                    }
                    (out, err, code)
                }
                "ls" => {
                    let dir = rest.iter().find(|w| !w.starts_with('-')).copied().unwrap_or("/");
                    let listing = match dir {
                        "/" => "bin\ndev\netc\nhome\nlib\nproc\nroot\nsys\ntmp\nusr\nvar\n",
                        "/etc" => "group\nhostname\nhosts\npasswd\nresolv.conf\nshadow\n",
                        "/tmp" | "/home" | "/root" => "",
                        _ => {
                            return (
                                String::new(),
                                format!("ls: {dir}: No such file or directory\n"),
                                1,
                            )
                        }
                    };
                    (listing.into(), String::new(), 0)
                }
                "true" => (String::new(), String::new(), 0),
                "false" => (String::new(), String::new(), 1),
                "sleep" | "touch" => (String::new(), String::new(), 0),
                "date" => {
                    let p = super::images::Program {
                        prelude: vec![(0, super::images::Act::Date)],
                        repeat: None,
                        exit: None,
                        ports: vec![],
                        ready_after: 0,
                        healthy_for: None,
                        on_sigterm: super::images::OnSigterm::Exit(0),
                    };
                    (format!("{}\n", p.logs(now, 0, 1).join("")), String::new(), 0)
                }
                other => (
                    String::new(),
                    format!("OCI runtime exec failed: exec failed: unable to start container process: exec: \"{other}\": executable file not found in $PATH: unknown\n"),
                    126,
                ),
            }
        }
    }
}

fn split(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut any = false;
    let (mut single, mut double) = (false, false);
    for ch in cmd.chars() {
        match ch {
            '\'' if !double => {
                single = !single;
                any = true;
            }
            '"' if !single => {
                double = !double;
                any = true;
            }
            c if c.is_whitespace() && !single && !double => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}
