//! Layer 7, kubectl: a client over the API server that speaks its REST API, with
//! kubectl's parser, printers and messages.

pub mod apply;
pub mod args;
pub mod commands;
pub mod describe;
pub mod describe_pages;
pub mod drain;
pub mod get;
pub mod jsonpath;
pub mod logs;
pub mod printer;
pub mod resource;
pub mod rollout;

use serde_json::Value;

use crate::api::ApiError;
use crate::apiserver::request::{Body, Credentials, Method, Request, Response};
use crate::cluster::Cluster;
use crate::kernel::Nanos;

/// What kubectl talks to.
pub trait Server {
    fn request(&mut self, req: Request) -> Response;
    fn now(&self) -> Nanos;
    /// Lets virtual time pass until the cluster settles or `max` has passed (for
    /// `get -w`). Returns the new time.
    fn wait(&mut self, max: Nanos) -> Nanos;
    /// Lets exactly `d` of virtual time pass, running what falls due (a command
    /// that sleeps between its steps, as `rolling-update` does). Returns the new time.
    fn sleep(&mut self, d: Nanos) -> Nanos {
        self.wait(d)
    }
}

impl Server for Cluster {
    fn request(&mut self, req: Request) -> Response {
        Cluster::request(self, req)
    }
    fn now(&self) -> Nanos {
        Cluster::now(self)
    }
    fn wait(&mut self, max: Nanos) -> Nanos {
        let _ = self.settle(max);
        Cluster::now(self)
    }
    fn sleep(&mut self, d: Nanos) -> Nanos {
        self.advance(d)
    }
}

/// What a kubectl run printed, and its exit code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Output {
    pub fn ok(stdout: impl Into<String>) -> Output {
        Output {
            stdout: stdout.into(),
            ..Default::default()
        }
    }
    pub fn fail(stderr: impl Into<String>) -> Output {
        let mut s: String = stderr.into();
        if !s.ends_with('\n') {
            s.push('\n');
        }
        Output {
            stdout: String::new(),
            stderr: s,
            code: 1,
        }
    }
    /// Adds a line to stdout.
    pub fn out(&mut self, line: impl AsRef<str>) {
        self.stdout.push_str(line.as_ref());
        if !self.stdout.ends_with('\n') {
            self.stdout.push('\n');
        }
    }
    /// Adds an error line to stderr and marks the run failed.
    pub fn err(&mut self, line: impl AsRef<str>) {
        self.stderr.push_str(line.as_ref());
        if !self.stderr.ends_with('\n') {
            self.stderr.push('\n');
        }
        self.code = 1;
    }
}

/// `Error from server (NotFound): pods "web" not found`; for a 401, what kubectl's
/// `StandardErrorMessage` says instead.
pub fn server_error(e: &ApiError) -> String {
    if e.code() == 401 {
        return format!(
            "error: You must be logged in to the server ({})",
            e.message()
        );
    }
    if e.reason().is_empty() {
        format!("Error from server: {}", e.message())
    } else {
        format!("Error from server ({}): {}", e.reason(), e.message())
    }
}

/// One kubectl session: the server, who is calling, and the default namespace.
pub struct Kubectl<'a> {
    pub server: &'a mut dyn Server,
    pub credentials: Credentials,
    pub namespace: String,
    /// What `-f -` reads.
    pub stdin: Option<String>,
}

impl<'a> Kubectl<'a> {
    pub fn new(server: &'a mut dyn Server, credentials: Credentials) -> Kubectl<'a> {
        Kubectl {
            server,
            credentials,
            namespace: "default".into(),
            stdin: None,
        }
    }

    /// Sends a request as this session's user.
    pub fn send(&mut self, method: Method, path: &str, body: Body) -> Response {
        self.send_with(method, path, body, &[])
    }

    pub fn send_with(
        &mut self,
        method: Method,
        path: &str,
        body: Body,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut req = Request::new(method, path)
            .with_body(body)
            .with_credentials(self.credentials.clone())
            .with_client("kubectl");
        for (k, v) in headers {
            req = req.with_header(k, v);
        }
        self.server.request(req)
    }

    /// Runs one command line (without the leading `kubectl`, which is also accepted).
    pub fn run(&mut self, line: &str) -> Output {
        let words = match args::split_words(line) {
            Ok(w) => w,
            Err(e) => return Output::fail(format!("error: {e}")),
        };
        let words: Vec<String> = match words.first().map(String::as_str) {
            Some("kubectl") => words[1..].to_vec(),
            _ => words,
        };
        let Some((cmd, rest)) = words.split_first() else {
            return Output::fail("error: a command is required, e.g. `kubectl get pods`\nRun 'kubectl --help' for usage.");
        };
        // `--token`, `--username`/`--password`: this command's credentials.
        let credentials = match identity_flags(rest) {
            Ok(Some(c)) => c,
            Ok(None) => self.credentials.clone(),
            Err(e) => return Output::fail(e),
        };
        let own = std::mem::replace(&mut self.credentials, credentials);
        let out = self.dispatch(cmd, rest);
        self.credentials = own;
        out
    }

    fn dispatch(&mut self, cmd: &str, rest: &[String]) -> Output {
        match cmd {
            "get" => get::run(self, rest),
            "describe" => describe::run(self, rest),
            "apply" => apply::run_apply(self, rest),
            "create" => commands::create(self, rest),
            "replace" => apply::run_replace(self, rest),
            "delete" => commands::delete(self, rest),
            "label" => commands::label(self, rest, false),
            "annotate" => commands::label(self, rest, true),
            "scale" => commands::scale(self, rest),
            "patch" => commands::patch(self, rest),
            "run" => commands::run_pod(self, rest),
            "expose" => commands::expose(self, rest),
            "api-resources" => commands::api_resources(self, rest),
            "api-versions" => commands::api_versions(self, rest),
            "version" => commands::version(self, rest),
            "cluster-info" => commands::cluster_info(self, rest),
            "set" => rollout::set(self, rest),
            "rollout" => rollout::rollout(self, rest),
            "rolling-update" => rollout::rolling_update(self, rest),
            "cordon" => drain::cordon(self, rest, true),
            "uncordon" => drain::cordon(self, rest, false),
            "drain" => drain::drain(self, rest),
            "logs" => logs::logs(self, rest),
            "exec" => logs::exec(self, rest),
            "attach" | "port-forward" | "taint" | "top" | "auth" | "certificate" | "wait" | "debug" | "cp" | "proxy"
            | "autoscale" | "edit" | "explain" | "diff" | "kustomize" | "config" | "plugin" | "completion"
            | "events" => Output::fail(format!(
                "error: kubeglass does not simulate \"kubectl {cmd}\" yet (it comes with a later chapter)"
            )),
            other => Output::fail(format!("error: unknown command \"{other}\" for \"kubectl\"\nRun 'kubectl --help' for usage.")),
        }
    }

    /// The namespace a command works in: `-n`, or the session's default.
    ///
    /// (Its flags are read again by each command; the identity flags are read once,
    /// by [`identity_flags`], before the command runs.)
    pub fn namespace_of(&self, p: &args::Parsed) -> String {
        p.get("namespace")
            .map(String::from)
            .unwrap_or_else(|| self.namespace.clone())
    }
}

/// Parses a JSON response body, or fails with the server's error.
pub fn expect_ok(resp: &Response) -> Result<Value, ApiError> {
    match resp.as_error() {
        Some(e) => Err(e),
        None => Ok(resp.body_json()),
    }
}

/// The value of global flag `--name` in a command's words (`--name=V` or `--name V`).
fn global_value<'w>(words: &'w [String], name: &str) -> Option<&'w str> {
    let long = format!("--{name}");
    let with_eq = format!("--{name}=");
    let mut it = words.iter().take_while(|w| *w != "--");
    while let Some(w) = it.next() {
        if let Some(v) = w.strip_prefix(&with_eq) {
            return Some(v);
        }
        if *w == long {
            return it.next().map(String::as_str);
        }
    }
    None
}

/// The credentials kubectl's global flags give: `--token` (a bearer token), or
/// `--username` with `--password` (basic auth); `None` when there are none.
/// Impersonation (`--as`, `--as-group`) is refused rather than ignored: the API
/// server does not simulate it yet.
fn identity_flags(words: &[String]) -> Result<Option<Credentials>, String> {
    if global_value(words, "as").is_some() || global_value(words, "as-group").is_some() {
        return Err("error: kubeglass does not simulate impersonation (--as, --as-group) yet; give the step `as: {user, groups}` instead".into());
    }
    if let Some(t) = global_value(words, "token") {
        return Ok(Some(Credentials::Token(t.to_string())));
    }
    match (
        global_value(words, "username"),
        global_value(words, "password"),
    ) {
        (Some(user), password) => Ok(Some(Credentials::Basic {
            user: user.to_string(),
            password: password.unwrap_or_default().to_string(),
        })),
        (None, _) => Ok(None),
    }
}
