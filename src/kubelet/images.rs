//! The simulated registry and the images in it: each image is a program with a
//! declared behaviour (listens on ports, gets ready after a delay, exits with a code
//! after a while, writes log lines), so that lessons can stage failures.
//!
//! A built-in catalog covers the images of the Kubernetes documentation's examples;
//! a scenario adds its own with `spec.cluster.images`. A busybox-like `sh -c "..."`
//! (and a plain command) is interpreted for simple forms: `echo`, `sleep N`,
//! `exit N`, `true`/`false`, `touch`/`rm`, `date`, and `while true; do ...; done`
//! loops (which run forever). Anything else is a command that is "not found".
//! Unknown images fail to pull with containerd's message.

use std::sync::Arc;

use serde_json::Value;

use crate::kernel::{parse_duration, Nanos, NANOS_PER_MILLI, NANOS_PER_SEC};

/// How a program takes SIGTERM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnSigterm {
    /// It exits at once with this code.
    Exit(i32),
    /// It ignores it (a shell as PID 1): the runtime kills it when the grace period ends.
    Ignore,
}

/// An action of a program at some offset from its start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Act {
    Log(String),
    /// `date`: prints the virtual time.
    Date,
    Touch(String),
    Rm(String),
}

/// What a container does once started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// Actions from the start, at their offsets.
    pub prelude: Vec<(Nanos, Act)>,
    /// A loop that starts at `start` and repeats its body every `period`, forever.
    pub repeat: Option<Repeat>,
    /// When it exits by itself, and with what code; None: it runs until stopped.
    pub exit: Option<(Nanos, i32)>,
    pub ports: Vec<u16>,
    /// Ports open only after this long.
    pub ready_after: Nanos,
    /// HTTP health answers 500 after this long (k8s.gcr.io/liveness).
    pub healthy_for: Option<Nanos>,
    pub on_sigterm: OnSigterm,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repeat {
    pub start: Nanos,
    pub period: Nanos,
    pub body: Vec<(Nanos, Act)>,
}

impl Program {
    fn forever(ports: &[u16]) -> Program {
        Program {
            prelude: Vec::new(),
            repeat: None,
            exit: None,
            ports: ports.to_vec(),
            ready_after: 0,
            healthy_for: None,
            on_sigterm: OnSigterm::Exit(0),
        }
    }

    /// The log lines written in the first `elapsed` of a run that started at `start`
    /// (virtual time), at most the last `limit`.
    pub fn logs(&self, start: Nanos, elapsed: Nanos, limit: usize) -> Vec<String> {
        let mut out: std::collections::VecDeque<String> = Default::default();
        let mut push = |at: Nanos, act: &Act| {
            let line = match act {
                Act::Log(s) => s.clone(),
                Act::Date => date_line(start + at),
                _ => return,
            };
            if out.len() == limit {
                out.pop_front();
            }
            out.push_back(line);
        };
        for (at, act) in &self.prelude {
            if *at <= elapsed {
                push(*at, act);
            }
        }
        if let Some(r) = &self.repeat {
            if r.period > 0
                && r.body
                    .iter()
                    .any(|(_, a)| matches!(a, Act::Log(_) | Act::Date))
            {
                let mut base = r.start;
                // Only the iterations that can still be among the last `limit` lines.
                let lines_per = r.body.len().max(1) as u64;
                if elapsed > base {
                    let iterations = (elapsed - base) / r.period + 1;
                    let keep = (limit as u64 / lines_per) + 2;
                    if iterations > keep {
                        base += (iterations - keep) * r.period;
                    }
                }
                while base <= elapsed {
                    for (at, act) in &r.body {
                        if base + at <= elapsed {
                            push(base + at, act);
                        }
                    }
                    base += r.period;
                }
            }
        }
        out.into_iter().collect()
    }

    /// Whether `path` exists `elapsed` after the start (touch/rm replayed).
    pub fn file_exists(&self, path: &str, elapsed: Nanos) -> bool {
        let mut exists = false;
        let mut apply = |act: &Act| match act {
            Act::Touch(p) if p == path => exists = true,
            Act::Rm(p) if p == path => exists = false,
            _ => {}
        };
        for (at, act) in &self.prelude {
            if *at <= elapsed {
                apply(act);
            }
        }
        if let Some(r) = &self.repeat {
            if r.period > 0 && elapsed >= r.start {
                let n = (elapsed - r.start) / r.period;
                // The last two iterations decide the state.
                for i in n.saturating_sub(1)..=n {
                    let base = r.start + i * r.period;
                    for (at, act) in &r.body {
                        if base + at <= elapsed {
                            apply(act);
                        }
                    }
                }
            }
        }
        exists
    }

    pub fn listens(&self, port: u16, elapsed: Nanos) -> bool {
        self.ports.contains(&port) && elapsed >= self.ready_after
    }
}

/// `date`'s output at a virtual time (`Tue Aug 13 00:00:05 UTC 2024`).
fn date_line(t: Nanos) -> String {
    let secs = t / NANOS_PER_SEC;
    let days = secs / 86400;
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    // Virtual day 0 is Tuesday 13 August 2024.
    const WEEK: [&str; 7] = ["Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Mon"];
    let (month, day, year) = civil_after(days);
    format!(
        "{} {} {:2} {h:02}:{m:02}:{s:02} UTC {year}",
        WEEK[(days % 7) as usize],
        month,
        day
    )
}

fn civil_after(days: u64) -> (&'static str, u64, u64) {
    const MONTHS: [(&str, u64); 12] = [
        ("Jan", 31),
        ("Feb", 28),
        ("Mar", 31),
        ("Apr", 30),
        ("May", 31),
        ("Jun", 30),
        ("Jul", 31),
        ("Aug", 31),
        ("Sep", 30),
        ("Oct", 31),
        ("Nov", 30),
        ("Dec", 31),
    ];
    let (mut year, mut month, mut day) = (2024u64, 7usize, 13 + days);
    loop {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let len = if month == 1 && leap {
            29
        } else {
            MONTHS[month].1
        };
        if day <= len {
            return (MONTHS[month].0, day, year);
        }
        day -= len;
        month += 1;
        if month == 12 {
            month = 0;
            year += 1;
        }
    }
}

/// An image the registry knows.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSpec {
    /// The repository as written (`nginx`, `registry.k8s.io/pause`), without tag.
    pub repository: String,
    pub pull_time: Nanos,
    pub size: u64,
    /// Needs an imagePullSecret naming its registry.
    pub private: bool,
    pub ports: Vec<u16>,
    pub ready_after: Nanos,
    /// Declared images: exits after this long.
    pub crash_after: Option<Nanos>,
    pub exit_code: i32,
    pub logs: Vec<String>,
    /// How it runs without a command: a fixed program, or the shell (busybox-like:
    /// the command is interpreted; no command means `sh`, which exits at once).
    pub shell: bool,
    pub healthy_for: Option<Nanos>,
    pub on_sigterm: OnSigterm,
}

impl ImageSpec {
    fn builtin(repository: &str, pull_ms: u64, size: u64, ports: &[u16]) -> ImageSpec {
        ImageSpec {
            repository: repository.into(),
            pull_time: pull_ms * NANOS_PER_MILLI,
            size,
            private: false,
            ports: ports.to_vec(),
            ready_after: 0,
            crash_after: None,
            exit_code: 0,
            logs: Vec::new(),
            shell: false,
            healthy_for: None,
            on_sigterm: OnSigterm::Exit(0),
        }
    }

    fn shell(repository: &str, pull_ms: u64, size: u64) -> ImageSpec {
        ImageSpec {
            shell: true,
            on_sigterm: OnSigterm::Ignore,
            ..ImageSpec::builtin(repository, pull_ms, size, &[])
        }
    }
}

/// The registry: the built-in catalog plus the scenario's images (which win).
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub images: Vec<ImageSpec>,
}

impl Catalog {
    pub fn new(declared: &[ImageSpec]) -> Catalog {
        let mut images = declared.to_vec();
        images.extend(builtin());
        Catalog { images }
    }

    /// The image a reference names (tag and digest ignored), if the registry has it.
    pub fn find(&self, image: &str) -> Option<&ImageSpec> {
        let repo = repository_of(image);
        let canonical = canonical_repository(repo);
        self.images
            .iter()
            .find(|i| i.repository == repo || canonical_repository(&i.repository) == canonical)
    }
}

fn builtin() -> Vec<ImageSpec> {
    let nginx = ImageSpec {
        logs: NGINX_LOGS.iter().map(|s| s.to_string()).collect(),
        ..ImageSpec::builtin("nginx", 1_800, 71_026_652, &[80])
    };
    let mut liveness = ImageSpec::builtin("k8s.gcr.io/liveness", 900, 2_362_134, &[8080]);
    liveness.healthy_for = Some(10 * NANOS_PER_SEC);
    let mut list = vec![
        nginx,
        ImageSpec::shell("busybox", 600, 2_160_406),
        ImageSpec::shell("registry.k8s.io/busybox", 600, 1_144_547),
        ImageSpec::shell("k8s.gcr.io/busybox", 600, 1_144_547),
        ImageSpec::shell("alpine", 700, 3_626_898),
        ImageSpec::shell("ubuntu", 1_300, 29_754_422),
        ImageSpec::shell("debian", 1_500, 49_557_601),
        ImageSpec::shell("curlimages/curl", 900, 11_929_426),
        ImageSpec::shell("perl", 4_000, 335_442_532),
        ImageSpec::shell("python", 4_500, 392_000_000),
        ImageSpec::builtin("registry.k8s.io/pause", 300, 320_368, &[]),
        ImageSpec::builtin("httpd", 1_500, 58_000_000, &[80]),
        ImageSpec::builtin("redis", 1_600, 45_000_000, &[6379]),
        ImageSpec::builtin("registry.k8s.io/redis", 1_600, 45_000_000, &[6379]),
        ImageSpec::builtin("memcached", 1_000, 32_000_000, &[11211]),
        ImageSpec::builtin("mongo", 3_500, 250_000_000, &[27017]),
        ImageSpec::builtin("postgres", 3_000, 150_000_000, &[5432]),
        ImageSpec::builtin("mysql", 3_500, 170_000_000, &[3306]),
        ImageSpec::builtin("gcr.io/google-samples/hello-app", 900, 4_920_340, &[8080]),
        ImageSpec::builtin(
            "gcr.io/google-samples/node-hello",
            1_500,
            24_000_000,
            &[8080],
        ),
        ImageSpec::builtin("gcr.io/google-samples/hello-go-gke", 900, 5_000_000, &[80]),
        ImageSpec::builtin(
            "gcr.io/google-samples/hello-frontend",
            1_200,
            20_000_000,
            &[80],
        ),
        ImageSpec::builtin(
            "gcr.io/google-samples/gb-frontend",
            1_500,
            130_000_000,
            &[80],
        ),
        ImageSpec::builtin(
            "us-docker.pkg.dev/google-samples/containers/gke/gb-frontend",
            1_500,
            130_000_000,
            &[80],
        ),
        ImageSpec::builtin(
            "us-docker.pkg.dev/google-samples/containers/gke/gb-redis-follower",
            1_200,
            40_000_000,
            &[6379],
        ),
        ImageSpec::builtin("paulczar/gb-frontend", 1_500, 130_000_000, &[80]),
        ImageSpec::builtin("hashicorp/http-echo", 600, 3_000_000, &[5678]),
        ImageSpec::builtin("registry.k8s.io/hpa-example", 1_500, 180_000_000, &[80]),
        ImageSpec::builtin("registry.k8s.io/goproxy", 900, 5_000_000, &[8080]),
        ImageSpec::builtin("registry.k8s.io/echoserver", 1_200, 46_000_000, &[8080]),
        ImageSpec::builtin("k8s.gcr.io/echoserver", 1_200, 46_000_000, &[8080]),
        ImageSpec::builtin(
            "registry.k8s.io/e2e-test-images/agnhost",
            1_500,
            50_000_000,
            &[8080],
        ),
        ImageSpec::builtin("registry.k8s.io/event-exporter", 900, 20_000_000, &[]),
        ImageSpec::builtin("k8s.gcr.io/etcd", 2_000, 60_000_000, &[2379, 2380]),
        ImageSpec::builtin("registry.k8s.io/etcd", 2_000, 60_000_000, &[2379, 2380]),
        ImageSpec::builtin("vish/stress", 900, 7_000_000, &[]),
        liveness,
    ];
    // Images that are a shell with a program of their own still run commands.
    for i in &mut list {
        if i.repository == "registry.k8s.io/e2e-test-images/agnhost" {
            i.on_sigterm = OnSigterm::Exit(0);
        }
    }
    list
}

const NGINX_LOGS: &[&str] = &[
    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
    "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
    "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
    "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
    "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
    "/docker-entrypoint.sh: Configuration complete; ready for start up",
    "2024/08/13 00:00:00 [notice] 1#1: using the \"epoll\" event method",
    "2024/08/13 00:00:00 [notice] 1#1: nginx/1.27.0",
    "2024/08/13 00:00:00 [notice] 1#1: start worker processes",
];

/// The repository part of an image reference (no tag, no digest).
pub fn repository_of(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    match no_digest.rfind(':') {
        Some(i) if !no_digest[i..].contains('/') => &no_digest[..i],
        _ => no_digest,
    }
}

fn has_registry(repo: &str) -> bool {
    match repo.split_once('/') {
        Some((first, _)) => first.contains('.') || first.contains(':') || first == "localhost",
        None => false,
    }
}

/// `docker.io/library/nginx` for `nginx`.
pub fn canonical_repository(repo: &str) -> String {
    if has_registry(repo) {
        repo.to_string()
    } else if repo.contains('/') {
        format!("docker.io/{repo}")
    } else {
        format!("docker.io/library/{repo}")
    }
}

/// The registry host of an image reference (`docker.io` when none is named).
pub fn registry_of(image: &str) -> &str {
    let repo = repository_of(image);
    if has_registry(repo) {
        repo.split('/').next().unwrap_or("docker.io")
    } else {
        "docker.io"
    }
}

/// The fully qualified reference containerd reports (`docker.io/library/nginx:latest`).
pub fn normalized(image: &str) -> String {
    let repo = repository_of(image);
    let rest = &image[repo.len()..];
    let canonical = canonical_repository(repo);
    if rest.is_empty() {
        format!("{canonical}:latest")
    } else {
        format!("{canonical}{rest}")
    }
}

/// A stable fake digest: 64 hex digits from a text.
pub fn digest(text: &str) -> String {
    let mut out = String::with_capacity(64);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for round in 0..4u64 {
        for b in text.bytes().chain(round.to_le_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out
}

/// Builds the program a container runs: the image's behaviour, or its command
/// interpreted when the image is a shell (or the command is a shell or a known
/// utility).
pub fn program_for(
    spec: &ImageSpec,
    command: &[String],
    args: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Program {
    let argv: Vec<&str> = command
        .iter()
        .chain(args.iter())
        .map(String::as_str)
        .collect();
    if !spec.shell && argv.is_empty() {
        let mut p = Program::forever(&spec.ports);
        p.ready_after = spec.ready_after;
        p.healthy_for = spec.healthy_for;
        p.on_sigterm = spec.on_sigterm;
        p.prelude = spec.logs.iter().map(|l| (0, Act::Log(l.clone()))).collect();
        if let Some(after) = spec.crash_after {
            p.exit = Some((after, spec.exit_code));
        }
        return p;
    }
    let mut p = interpret_argv(&argv, env);
    if !spec.shell {
        // A server image given a command still listens where it declares.
        p.ports = spec.ports.clone();
        p.ready_after = spec.ready_after;
        p.prelude
            .splice(0..0, spec.logs.iter().map(|l| (0, Act::Log(l.clone()))));
    }
    p
}

fn interpret_argv(argv: &[&str], env: &dyn Fn(&str) -> Option<String>) -> Program {
    let mut p = Program::forever(&[]);
    p.on_sigterm = OnSigterm::Ignore;
    let shell = |w: &str| matches!(w.rsplit('/').next(), Some("sh" | "bash" | "ash" | "dash"));
    let script = match argv {
        [] => String::new(),
        [sh, "-c", script, ..] | [sh, "-ec", script, ..] if shell(sh) => script.to_string(),
        [sh, "-c"] if shell(sh) => String::new(),
        [sh] if shell(sh) => String::new(),
        words => words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" "),
    };
    let mut st = Interp {
        t: 0,
        out: Vec::new(),
        env,
    };
    match st.run(&script) {
        Flow::Exit(code) => p.exit = Some((st.t, code)),
        Flow::Forever(rep) => p.repeat = rep,
        Flow::Next(code) => p.exit = Some((st.t, code)),
    }
    p.prelude = st.out;
    p
}

fn quote(w: &str) -> String {
    if w.contains([' ', ';', '"', '\'', '$', '&', '|']) {
        format!("'{}'", w.replace('\'', "'\\''"))
    } else {
        w.to_string()
    }
}

enum Flow {
    /// Continue with the last status.
    Next(i32),
    Exit(i32),
    /// Runs forever (a loop, `sleep infinity`, `tail -f`).
    Forever(Option<Repeat>),
}

struct Interp<'e> {
    t: Nanos,
    out: Vec<(Nanos, Act)>,
    env: &'e dyn Fn(&str) -> Option<String>,
}

impl Interp<'_> {
    fn run(&mut self, script: &str) -> Flow {
        let cmds = split_commands(script);
        let mut status = 0;
        let mut i = 0;
        while i < cmds.len() {
            let c = cmds[i].trim();
            if let Some(rest) = c
                .strip_prefix("while ")
                .or_else(|| c.strip_prefix("until "))
            {
                // while COND; do BODY; done: the body runs forever when COND holds.
                let until = c.starts_with("until ");
                let cond = rest.trim();
                let mut body = Vec::new();
                let mut j = i + 1;
                while j < cmds.len() && cmds[j].trim() != "done" {
                    let b = cmds[j].trim();
                    body.push(b.strip_prefix("do ").unwrap_or(b).to_string());
                    j += 1;
                }
                let truthy = matches!(cond, "true" | ":" | "[ 1 ]");
                if until && truthy || !until && matches!(cond, "false") {
                    i = j + 1;
                    continue;
                }
                let start = self.t;
                let mut inner = Interp {
                    t: 0,
                    out: Vec::new(),
                    env: self.env,
                };
                let script = body.join("; ");
                let flow = inner.run(&script);
                return match flow {
                    Flow::Exit(code) => {
                        self.out
                            .extend(inner.out.into_iter().map(|(t, a)| (start + t, a)));
                        self.t = start + inner.t;
                        Flow::Exit(code)
                    }
                    _ => Flow::Forever(Some(Repeat {
                        start,
                        period: inner.t,
                        body: inner.out,
                    })),
                };
            }
            // `a && b`, `a || b`: the simple forms.
            let mut chain_ok = true;
            for (k, part) in c.split("&&").enumerate() {
                if k > 0 && !chain_ok {
                    break;
                }
                match self.simple(part.trim()) {
                    Flow::Next(code) => {
                        status = code;
                        chain_ok = code == 0;
                    }
                    other => return other,
                }
            }
            i += 1;
        }
        Flow::Next(status)
    }

    fn expand(&self, word: &str) -> String {
        let mut out = String::new();
        let mut chars = word.chars().peekable();
        while let Some(ch) = chars.next() {
            if ch != '$' {
                out.push(ch);
                continue;
            }
            let braced = chars.peek() == Some(&'{');
            if braced {
                chars.next();
            }
            let mut name = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    name.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            if braced && chars.peek() == Some(&'}') {
                chars.next();
            }
            if name.is_empty() {
                out.push('$');
            } else {
                out.push_str(&(self.env)(&name).unwrap_or_default());
            }
        }
        out
    }

    fn simple(&mut self, cmd: &str) -> Flow {
        let words = shell_words(cmd);
        let words: Vec<String> = words
            .iter()
            .map(|(w, single)| if *single { w.clone() } else { self.expand(w) })
            .collect();
        let Some(first) = words.first() else {
            return Flow::Next(0);
        };
        let name = first.rsplit('/').next().unwrap_or(first);
        let rest = &words[1..];
        // `i=0`: a variable assignment.
        if let Some((var, _)) = first.split_once('=') {
            if !var.is_empty() && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Flow::Next(0);
            }
        }
        match name {
            "echo" => {
                let (newline_flag, text) = match rest.first().map(String::as_str) {
                    Some("-n") | Some("-e") => (true, rest[1..].join(" ")),
                    _ => (false, rest.join(" ")),
                };
                let _ = newline_flag;
                let text = strip_redirect(&text);
                if let Some(t) = text {
                    self.out.push((self.t, Act::Log(t)));
                }
                Flow::Next(0)
            }
            "printf" => {
                if let Some(t) = rest.first().and_then(|t| strip_redirect(t)) {
                    self.out
                        .push((self.t, Act::Log(t.trim_end_matches("\\n").to_string())));
                }
                Flow::Next(0)
            }
            "sleep" => match rest.first().map(String::as_str) {
                Some("infinity") => Flow::Forever(None),
                Some(n) => match parse_seconds(n) {
                    Some(d) => {
                        self.t = self.t.saturating_add(d);
                        Flow::Next(0)
                    }
                    None => Flow::Next(1),
                },
                None => Flow::Next(1),
            },
            "exit" => Flow::Exit(rest.first().and_then(|c| c.parse().ok()).unwrap_or(0)),
            "true" | ":" => Flow::Next(0),
            "false" => Flow::Next(1),
            "touch" | "mkdir" => {
                for f in rest.iter().filter(|w| !w.starts_with('-')) {
                    self.out.push((self.t, Act::Touch(f.clone())));
                }
                Flow::Next(0)
            }
            "rm" => {
                for f in rest.iter().filter(|w| !w.starts_with('-')) {
                    self.out.push((self.t, Act::Rm(f.clone())));
                }
                Flow::Next(0)
            }
            "date" => {
                self.out.push((self.t, Act::Date));
                Flow::Next(0)
            }
            "tail" if rest.iter().any(|w| w == "-f") => Flow::Forever(None),
            "cat" | "ls" | "nslookup" | "wget" | "curl" | "env" | "printenv" | "hostname"
            | "export" | "cd" | "set" | "trap" | "ulimit" | "stress" => Flow::Next(0),
            "nginx" | "httpd" | "redis-server" | "agnhost" | "python" | "perl" => {
                if name == "perl" && rest.iter().any(|w| w.contains("bpi")) {
                    // The docs' pi Job: prints pi to 2000 places and exits.
                    self.t += 8 * NANOS_PER_SEC;
                    self.out.push((self.t, Act::Log(PI_2000.into())));
                    return Flow::Next(0);
                }
                Flow::Forever(None)
            }
            other => {
                self.out
                    .push((self.t, Act::Log(format!("sh: {other}: not found"))));
                Flow::Next(127)
            }
        }
    }
}

const PI_2000: &str = "3.14159265358979323846264338327950288419716939937510582097494459230781640628620899862803482534211706798214808651328230664709384460955058223172535940812848111745028410270193852110555964462294895493038196";

/// Text a command prints to stdout (None when it is redirected elsewhere).
fn strip_redirect(text: &str) -> Option<String> {
    match text.find(['>']) {
        Some(i) => {
            let target = text[i..].trim_start_matches(['>', ' ']);
            if target.starts_with("&1") || target.starts_with("/dev/stdout") {
                Some(text[..i].trim_end().to_string())
            } else {
                None
            }
        }
        None => Some(text.to_string()),
    }
}

fn parse_seconds(s: &str) -> Option<Nanos> {
    if let Ok(n) = s.parse::<f64>() {
        return (n >= 0.0 && n.is_finite()).then_some((n * NANOS_PER_SEC as f64) as Nanos);
    }
    parse_duration(s).ok()
}

/// Splits a script into commands at `;` and newlines (outside quotes), keeping
/// `do`/`then` words with the command that follows them.
fn split_commands(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut single, mut double) = (false, false);
    for ch in script.chars() {
        match ch {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            ';' | '\n' if !single && !double => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    out.push(cur);
    out.into_iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .flat_map(|c| {
            // `done` may follow a command on the same piece: `sleep 1 done` cannot
            // happen after the split, but `do echo x` can.
            if let Some(rest) = c.strip_prefix("do ") {
                vec![format!("do {}", rest.trim())]
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Splits a command into words, with quotes removed; the flag says the word was
/// single-quoted (no expansion).
fn shell_words(cmd: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut any = false;
    let mut single_quoted = false;
    let (mut single, mut double) = (false, false);
    for ch in cmd.chars() {
        match ch {
            '\'' if !double => {
                single = !single;
                single_quoted = true;
                any = true;
            }
            '"' if !single => {
                double = !double;
                any = true;
            }
            c if c.is_whitespace() && !single && !double => {
                if any || !cur.is_empty() {
                    out.push((std::mem::take(&mut cur), single_quoted));
                }
                any = false;
                single_quoted = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push((cur, single_quoted));
    }
    out
}

/// Reads `spec.cluster.images`.
pub fn parse_images(v: &Value) -> Result<Vec<ImageSpec>, String> {
    let list = v
        .as_array()
        .ok_or("spec.cluster.images: must be a list of {image, pullTime, private, ports, readyAfter, crashAfter, exitCode, logs}")?;
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let m = item
            .as_object()
            .ok_or_else(|| format!("spec.cluster.images[{i}]: must be a mapping"))?;
        let field = |k: &str| format!("spec.cluster.images[{i}].{k}");
        let dur = |k: &str| -> Result<Option<Nanos>, String> {
            match m.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => parse_duration(s)
                    .map(Some)
                    .map_err(|e| format!("{}: {e}", field(k))),
                Some(Value::Number(n)) => n
                    .as_f64()
                    .filter(|x| *x >= 0.0)
                    .map(|x| Some((x * NANOS_PER_SEC as f64) as Nanos))
                    .ok_or_else(|| format!("{}: must be a duration such as 5s", field(k))),
                Some(_) => Err(format!("{}: must be a duration such as 5s", field(k))),
            }
        };
        for k in m.keys() {
            if ![
                "image",
                "pullTime",
                "private",
                "ports",
                "readyAfter",
                "crashAfter",
                "exitCode",
                "logs",
            ]
            .contains(&k.as_str())
            {
                return Err(format!("{}: unknown field \"{k}\"", field(k)));
            }
        }
        let image = m
            .get("image")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("{}: required", field("image")))?;
        let ports = match m.get("ports") {
            None => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|p| {
                    p.as_u64()
                        .filter(|p| (1..=65535).contains(p))
                        .map(|p| p as u16)
                        .ok_or_else(|| {
                            format!("{}: ports are numbers from 1 to 65535", field("ports"))
                        })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(format!("{}: must be a list of ports", field("ports"))),
        };
        let logs = match m.get("logs") {
            None => Vec::new(),
            Some(Value::String(s)) => s.lines().map(String::from).collect(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|l| {
                    l.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| l.to_string())
                })
                .collect(),
            Some(_) => return Err(format!("{}: must be a list of lines", field("logs"))),
        };
        let exit_code = match m.get("exitCode") {
            None => 1,
            Some(v) => v
                .as_i64()
                .filter(|c| (0..=255).contains(c))
                .ok_or_else(|| format!("{}: must be an integer from 0 to 255", field("exitCode")))?
                as i32,
        };
        let private = match m.get("private") {
            None => false,
            Some(v) => v
                .as_bool()
                .ok_or_else(|| format!("{}: must be true or false", field("private")))?,
        };
        out.push(ImageSpec {
            repository: repository_of(image).to_string(),
            pull_time: dur("pullTime")?.unwrap_or(2 * NANOS_PER_SEC),
            size: 10_000_000,
            private,
            ports,
            ready_after: dur("readyAfter")?.unwrap_or(0),
            crash_after: dur("crashAfter")?,
            exit_code,
            logs,
            shell: false,
            healthy_for: None,
            on_sigterm: OnSigterm::Exit(0),
        });
    }
    Ok(out)
}

/// Shared catalogs are cheap to hand to every kubelet.
pub type SharedCatalog = Arc<Catalog>;

/// What a simulated server image answers to `GET path` on `port`: the real default
/// pages of nginx and httpd, hello-app's greeting, agnhost's hostname; anything else
/// a line saying which program answered. Simplified: no other path or method is
/// served differently.
pub fn http_answer(image: &str, pod: &str, port: u16, path: &str) -> (u16, String) {
    let repo = normalized(image);
    let base = repo.rsplit('/').next().unwrap_or("");
    let (name, tag) = base.split_once(':').unwrap_or((base, "latest"));
    let body = match name {
        "nginx" => "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is successfully installed and\nworking. Further configuration is required.</p>\n</body>\n</html>\n".to_string(),
        "httpd" => "<html><body><h1>It works!</h1></body></html>\n".to_string(),
        "hello-app" => format!("Hello, world!\nVersion: {}\nHostname: {pod}\n", if tag.contains('.') && tag.matches('.').count() == 1 { format!("{tag}.0") } else { tag.to_string() }),
        "agnhost" | "serve-hostname" => pod.to_string(),
        _ => format!("kubeglass: {image} in pod {pod} answered GET {path} on port {port} (a simulated program: it declares no content)\n"),
    };
    (200, body)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn sh(script: &str) -> Program {
        let c = Catalog::new(&[]);
        let spec = c.find("busybox:1.28").unwrap();
        program_for(
            spec,
            &["sh".into(), "-c".into(), script.into()],
            &[],
            &no_env,
        )
    }

    #[test]
    fn names() {
        assert_eq!(normalized("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(normalized("nginx:1.14.2"), "docker.io/library/nginx:1.14.2");
        assert_eq!(
            normalized("registry.k8s.io/pause:3.9"),
            "registry.k8s.io/pause:3.9"
        );
        assert_eq!(normalized("localhost:5000/x"), "localhost:5000/x:latest");
        assert_eq!(registry_of("nginx"), "docker.io");
        assert_eq!(registry_of("my.reg.io/team/app:1"), "my.reg.io");
        assert!(Catalog::new(&[])
            .find("docker.io/library/nginx:1.25")
            .is_some());
        assert!(Catalog::new(&[]).find("nginxx").is_none());
    }

    #[test]
    fn shell_forms() {
        let p = sh("echo hello; sleep 5; exit 3");
        assert_eq!(p.exit, Some((5 * NANOS_PER_SEC, 3)));
        assert_eq!(p.logs(0, 10 * NANOS_PER_SEC, 100), vec!["hello"]);
        let p = sh("while true; do echo tick; sleep 2; done");
        assert_eq!(p.exit, None);
        assert_eq!(
            p.logs(0, 5 * NANOS_PER_SEC, 100),
            vec!["tick", "tick", "tick"]
        );
        assert_eq!(p.logs(0, 5 * NANOS_PER_SEC, 2), vec!["tick", "tick"]);
        let p = sh("touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600");
        assert!(p.file_exists("/tmp/healthy", 29 * NANOS_PER_SEC));
        assert!(!p.file_exists("/tmp/healthy", 31 * NANOS_PER_SEC));
        assert_eq!(p.exit, Some((630 * NANOS_PER_SEC, 0)));
        let p = sh("false && echo no; exit 1");
        assert!(p.logs(0, 1, 10).is_empty());
        assert_eq!(p.exit, Some((0, 1)));
        let c = Catalog::new(&[]);
        let p = program_for(c.find("busybox").unwrap(), &[], &[], &no_env);
        assert_eq!(p.exit, Some((0, 0)));
        let p = program_for(
            c.find("busybox").unwrap(),
            &["sleep".into(), "3600".into()],
            &[],
            &no_env,
        );
        assert_eq!(p.exit, Some((3600 * NANOS_PER_SEC, 0)));
        assert_eq!(date_line(5 * NANOS_PER_SEC), "Tue Aug 13 00:00:05 UTC 2024");
        assert_eq!(
            date_line(19 * 86400 * NANOS_PER_SEC),
            "Sun Sep  1 00:00:00 UTC 2024"
        );
    }
}
