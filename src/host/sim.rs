//! [`Sim`]: a cluster, its scenario's progress and the person's actions, advanced
//! one operation at a time in a canonical order, so that history can be replayed
//! exactly from the inputs log.
//!
//! An operation (op) is one of: run the next due event (`Cluster::step_one`), run a
//! slice of a scale test, run the scenario's next step, or take a person's action.
//! Between ops, virtual time moves only to the next point where something happens
//! (an event, or the end of a scenario's `advance`), never past it. So the state is a
//! function of the ops done and the clock, and an action stamped with
//! `(ops, time)` replays to the same place however play sliced the work.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api::core::{Container, Pod};
use crate::api::object::{NODES, PODS};
use crate::api::Object;
use crate::apiserver::request::{Body, Method, Request};
use crate::cluster::Cluster;
use crate::kernel::{format_duration, Nanos, TraceDetail};
use crate::protocol::{ActResult, EntryView, Input, PersonAction, Stamp, TranscriptLine};
use crate::scenario::{self, Action, ApplyInput, Runner, Step, StepResult};

/// Pods a scale test creates per op.
pub const SCALE_CHUNK: u64 = 100;

/// Why the trace records a person's action.
pub const PERSON_REASON: &str = "a person's action";

/// The scheduler a scale test's unbound pods name: no profile serves it, so the
/// scheduler leaves them alone.
const SCALE_SCHEDULER: &str = "scale-test";

/// A scale test under way.
#[derive(Clone, Debug)]
struct ScaleJob {
    total: u64,
    done: u64,
    nodes: Vec<String>,
}

/// Where an op ended: the trace's next sequence number then, and the stamp.
#[derive(Clone, Copy, Debug)]
struct Mark {
    end_seq: u64,
    stamp: Stamp,
}

/// What a replay did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replay {
    /// The budget ran out; call again.
    Pending,
    Done,
}

pub struct Sim {
    runner: Runner,
    steps: Vec<Step>,
    next_step: usize,
    /// A scenario `advance` waits until this time.
    wait_until: Option<Nanos>,
    ops: u64,
    job: Option<ScaleJob>,
    scale_made: u64,
    marks: Vec<Mark>,
    /// (first trace seq, store revision from that entry on).
    rev_points: Vec<(u64, u64)>,
    /// Trace entries below this have been scanned for revisions.
    scanned: u64,
    last_rev: u64,
    transcript: Vec<TranscriptLine>,
}

/// The scenario steps' and actions' outputs as a terminal shows them.
fn transcript_line(command: String, r: &StepResult) -> TranscriptLine {
    let stdout = match &r.output {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    let mut stderr = r.stderr.clone();
    if let Some(m) = r.error.get("message").and_then(Value::as_str) {
        if !stderr.is_empty() && !stderr.ends_with('\n') {
            stderr.push('\n');
        }
        stderr.push_str(m);
    }
    TranscriptLine {
        command,
        stdout,
        stderr,
        ok: r.error.is_null(),
    }
}

impl Sim {
    /// Builds the scenario's cluster at time zero, its steps not yet run.
    pub fn new(scenario_text: &str) -> Result<Sim, String> {
        let s = scenario::parse(scenario_text).map_err(|e| e.message)?;
        Sim::build(s)
    }

    /// The scenario's cluster with another `spec.cluster.scheduler` (None: v1.31's
    /// default profile), to replay the same inputs under it.
    pub fn with_scheduler(scenario_text: &str, scheduler: Option<Value>) -> Result<Sim, String> {
        let mut s = scenario::parse(scenario_text).map_err(|e| e.message)?;
        crate::scheduler::validate(scheduler.as_ref())?;
        s.settings.scheduler = scheduler;
        Sim::build(s)
    }

    /// A simulation of the scenario with another network plug-in
    /// (`spec.cluster.network.plugin`).
    pub fn with_plugin(scenario_text: &str, plugin: &str) -> Result<Sim, String> {
        let mut s = scenario::parse(scenario_text).map_err(|e| e.message)?;
        s.settings.network.plugin = plugin.to_string();
        Sim::build(s)
    }

    fn build(s: scenario::Scenario) -> Result<Sim, String> {
        let runner = Runner::new(s.settings).map_err(|e| e.message)?;
        let mut sim = Sim {
            runner,
            steps: s.steps,
            next_step: 0,
            wait_until: None,
            ops: 0,
            job: None,
            scale_made: 0,
            marks: Vec::new(),
            rev_points: Vec::new(),
            scanned: 1,
            last_rev: 0,
            transcript: Vec::new(),
        };
        sim.after_op();
        Ok(sim)
    }

    pub fn cluster(&self) -> &Cluster {
        &self.runner.cluster
    }

    pub fn now(&self) -> Nanos {
        self.runner.cluster.now()
    }

    pub fn stamp(&self) -> Stamp {
        Stamp {
            ops: self.ops,
            time: self.now(),
        }
    }

    /// Scenario steps done, and in all.
    pub fn scenario_progress(&self) -> (usize, usize) {
        (self.next_step, self.steps.len())
    }

    /// A scale test's progress: pods created, pods asked for.
    pub fn job(&self) -> Option<(u64, u64)> {
        self.job.as_ref().map(|j| (j.done, j.total))
    }

    /// Output lines of scenario steps since the last call.
    pub fn take_transcript(&mut self) -> Vec<TranscriptLine> {
        std::mem::take(&mut self.transcript)
    }

    fn event_due(&self) -> bool {
        let now = self.now();
        self.runner
            .cluster
            .next_event_at()
            .is_some_and(|t| t <= now)
    }

    /// Whether an op can run now without moving the clock.
    pub fn op_ready(&self) -> bool {
        self.event_due()
            || self.job.is_some()
            || (self.next_step < self.steps.len()
                && self.wait_until.is_none_or(|w| w <= self.now()))
    }

    /// Whether a scale test has work left (it runs even while play is paused).
    pub fn has_job(&self) -> bool {
        self.job.is_some()
    }

    /// Ends a scenario `advance` once its time has come and its instant's work is done.
    fn finish_wait(&mut self) {
        let Some(w) = self.wait_until else { return };
        if self.now() < w || self.event_due() {
            return;
        }
        self.wait_until = None;
        let command = self.steps[self.next_step].command_line();
        self.transcript.push(TranscriptLine {
            command,
            stdout: format_duration(self.now()),
            stderr: String::new(),
            ok: true,
        });
        self.next_step += 1;
    }

    /// Runs one op if one is ready now. Returns false when the clock must move first.
    pub fn op(&mut self) -> bool {
        self.finish_wait();
        if self.event_due() {
            self.runner.cluster.step_one();
        } else if self.job.is_some() {
            self.scale_slice();
        } else if self.next_step < self.steps.len() && self.wait_until.is_none() {
            self.scenario_step();
        } else {
            return false;
        }
        self.ops += 1;
        self.after_op();
        true
    }

    /// When something happens next, if no op is ready now: the next event, or the
    /// end of a scenario's wait.
    pub fn next_point(&self) -> Option<Nanos> {
        match (self.runner.cluster.next_event_at(), self.wait_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Moves the clock forward to `t`, which must not pass [`Sim::next_point`].
    pub fn clock_to(&mut self, t: Nanos) {
        let t = match self.next_point() {
            Some(p) => t.min(p.max(self.now())),
            None => t,
        };
        self.runner.cluster.k.clock.advance_to(t);
        self.finish_wait();
    }

    /// Runs exactly one op, moving the clock to it if needed. False when nothing
    /// is left to happen.
    pub fn step(&mut self) -> bool {
        loop {
            if self.op() {
                return true;
            }
            // Periodic work alone (kubelets' heartbeats, probes) goes on forever: with
            // nothing else to wait for, nothing is left to happen.
            let next = match self.wait_until {
                None => self.runner.cluster.next_work_at(),
                Some(_) => self.next_point(),
            };
            match next {
                Some(t) if t > self.now() || self.wait_until.is_some() => self.clock_to(t),
                _ => return false,
            }
        }
    }

    /// Runs ops and moves the clock up to `target`, until the budget says stop.
    /// Returns true when the target was reached.
    pub fn run_until(&mut self, target: Nanos, over_budget: &mut dyn FnMut() -> bool) -> bool {
        loop {
            if over_budget() {
                return false;
            }
            if self.op() {
                continue;
            }
            match self.next_point() {
                Some(t) if t <= target => {
                    if t <= self.now() && self.wait_until.is_none() {
                        return true;
                    }
                    self.clock_to(t);
                }
                _ => {
                    if target != Nanos::MAX {
                        self.clock_to(target);
                    }
                    return true;
                }
            }
        }
    }

    /// Runs only ready ops (no clock moves) while a scale test has work.
    pub fn run_job(&mut self, over_budget: &mut dyn FnMut() -> bool) {
        while self.job.is_some() && !over_budget() {
            self.op();
        }
    }

    fn scenario_step(&mut self) {
        let step = self.steps[self.next_step].clone();
        self.runner.record(&step, "a scenario step");
        if let Action::Advance(d) = step.action {
            self.wait_until = Some(self.now().saturating_add(d));
            return;
        }
        let command = step.command_line();
        let r = self.runner.perform(step);
        self.transcript.push(transcript_line(command, &r));
        self.next_step += 1;
    }

    /// Takes a person's action as an op. The bool says whether it was taken: an
    /// action that cannot be sent at all (YAML that does not parse, a malformed
    /// request) changes nothing and is not logged.
    pub fn act(&mut self, action: &PersonAction) -> (ActResult, bool) {
        self.finish_wait();
        let before = self.runner.cluster.k.trace.next_seq();
        let result = match action {
            PersonAction::Apply { text } => {
                if let Err(e) = crate::yaml::parse_documents(text) {
                    return (
                        ActResult {
                            command: "kubectl apply -f -".into(),
                            stderr: format!("error: error parsing STDIN: {e}"),
                            position: Some((e.line as u32, e.column as u32)),
                            ..ActResult::default()
                        },
                        false,
                    );
                }
                self.person_step(Action::Apply(ApplyInput::Text(text.clone())))
            }
            PersonAction::Kubectl { line } => self.person_step(Action::Kubectl(line.clone())),
            PersonAction::Request {
                method,
                path,
                body,
                content_type,
            } => {
                let command = format!("curl -X {method} https://10.0.0.1:6443{path}");
                if Method::parse(method).is_none() || !path.starts_with('/') {
                    return (
                        ActResult {
                            command,
                            stderr: format!(
                                "curl: cannot send {method} {path}: the method must be GET, POST, PUT, PATCH or DELETE and the path must start with /"
                            ),
                            ..ActResult::default()
                        },
                        false,
                    );
                }
                let mut headers = BTreeMap::new();
                if !content_type.is_empty() {
                    headers.insert("content-type".to_string(), content_type.clone());
                }
                let body = (!body.trim().is_empty()).then(|| Value::String(body.clone()));
                let mut r = self.person_step(Action::Request {
                    method: method.to_ascii_uppercase(),
                    path: path.clone(),
                    body,
                    headers: headers.into_iter().collect(),
                });
                r.command = command;
                r
            }
            PersonAction::ScaleTest { pods } => self.start_scale_test(u64::from(*pods)),
            PersonAction::Fault(f) => match super::faults::step_of(f) {
                Ok(step) => self.person_step(step),
                Err(e) => {
                    return (
                        ActResult {
                            command: format!("{f:?}"),
                            stderr: e,
                            ..ActResult::default()
                        },
                        false,
                    )
                }
            },
            PersonAction::IptablesRestore {
                node,
                rules,
                noflush,
            } => {
                let mut r = self.person_step(super::net::restore_step(node, rules, *noflush));
                r.command = super::net::restore_command(node, *noflush);
                r
            }
        };
        self.ops += 1;
        self.after_op();
        let mut result = result;
        if matches!(action, PersonAction::Request { .. }) {
            result.entry = self
                .runner
                .cluster
                .k
                .trace
                .since(before)
                .filter(|e| matches!(e.detail, TraceDetail::Request { .. }))
                .last()
                .map(|e| EntryView::new(e, self.rev_at(e.seq)));
        }
        (result, true)
    }

    fn person_step(&mut self, action: Action) -> ActResult {
        let step = Step {
            action,
            credentials: None,
        };
        self.runner.record(&step, PERSON_REASON);
        let command = step.command_line();
        let is_request = matches!(step.action, Action::Request { .. });
        let r = self.runner.perform(step);
        let line = transcript_line(command, &r);
        // A step's error with a place in its input (iptables-restore's line and column).
        let at = |k: &str| r.error.get(k).and_then(Value::as_u64).map(|n| n as u32);
        let mut result = ActResult {
            command: line.command,
            stdout: line.stdout,
            stderr: line.stderr,
            ok: line.ok,
            position: at("line").zip(at("column")),
            ..ActResult::default()
        };
        if is_request {
            result.code = r
                .output
                .get("code")
                .and_then(Value::as_u64)
                .map(|c| c as u16);
            result.stdout = r
                .output
                .get("body")
                .map(|b| serde_json::to_string_pretty(b).unwrap_or_default())
                .unwrap_or_default();
        }
        result
    }

    fn start_scale_test(&mut self, pods: u64) -> ActResult {
        let command = format!("scale test: create {pods} pods");
        let now = self.now();
        self.runner.cluster.k.trace.record(
            now,
            "person",
            command.clone(),
            PERSON_REASON,
            vec![],
            TraceDetail::Input {
                step: command.clone(),
            },
        );
        // Load pods go to nodes without a kubelet (as kwok's): a real kubelet would
        // admit 110 and reject the rest, one Event and status write each.
        let nodes: Vec<String> = self
            .runner
            .cluster
            .api()
            .store()
            .list(&NODES, None)
            .filter(|n| matches!(n.as_ref(), Object::Node(node) if crate::cluster::has_no_kubelet(node)))
            .map(|n| n.name().to_string())
            .collect();
        let spread = if nodes.is_empty() {
            format!("left unscheduled (schedulerName {SCALE_SCHEDULER}: no node without a kubelet to bind them to)")
        } else {
            format!("bound round-robin to {} node(s)", nodes.len())
        };
        match &mut self.job {
            Some(job) => job.total += pods,
            None => {
                self.job = (pods > 0).then_some(ScaleJob {
                    total: pods,
                    done: 0,
                    nodes,
                })
            }
        }
        ActResult {
            command,
            stdout: format!(
                "creating {pods} pods in namespace default, {SCALE_CHUNK} per slice, {spread}"
            ),
            ok: true,
            ..ActResult::default()
        }
    }

    /// One slice of a scale test: pods as a load generator would post them.
    fn scale_slice(&mut self) {
        let Some(mut job) = self.job.take() else {
            return;
        };
        let end = (job.done + SCALE_CHUNK).min(job.total);
        while job.done < end {
            let n = self.scale_made;
            self.scale_made += 1;
            job.done += 1;
            let mut pod = Pod::default();
            pod.metadata.name = format!("scale-{n:06}");
            pod.metadata.namespace = "default".into();
            pod.metadata
                .labels
                .insert("app".into(), "scale-test".into());
            if job.nodes.is_empty() {
                pod.spec.scheduler_name = Some(SCALE_SCHEDULER.into());
            } else {
                pod.spec.node_name = job.nodes[(n as usize) % job.nodes.len()].clone();
            }
            // Like kwok's and kubemark's load pods: no service account token volume.
            pod.spec.automount_service_account_token = Some(false);
            pod.spec.containers.push(Container {
                name: "pause".into(),
                image: Some("registry.k8s.io/pause:3.10".into()),
                ..Default::default()
            });
            let req = Request::new(Method::Post, PODS.collection_path("default"))
                .with_body(Body::Object(Object::from(pod)))
                .with_client("scale-test");
            self.runner.cluster.request(req);
        }
        if job.done < job.total {
            self.job = Some(job);
        }
    }

    /// Notes where the op ended, and the store revision after each new trace entry.
    fn after_op(&mut self) {
        let trace = &self.runner.cluster.k.trace;
        let end_rev = self.runner.cluster.api().store().revision();
        let mut run = self.last_rev;
        let mut last_seq = None;
        for e in trace.since(self.scanned) {
            for o in &e.objects {
                run = run.max(o.revision);
            }
            if let TraceDetail::Watch { revision, .. } = e.detail {
                run = run.max(revision);
            }
            run = run.min(end_rev);
            if self.rev_points.last().is_none_or(|(_, r)| *r != run) {
                self.rev_points.push((e.seq, run));
            }
            last_seq = Some(e.seq);
        }
        // A write no entry named still counts from the op's last entry on.
        if let Some(seq) = last_seq {
            if run < end_rev {
                match self.rev_points.last_mut() {
                    Some(p) if p.0 == seq => p.1 = end_rev,
                    _ => self.rev_points.push((seq, end_rev)),
                }
            }
        }
        self.last_rev = end_rev;
        let end_seq = trace.next_seq();
        self.scanned = end_seq;
        let stamp = self.stamp();
        match self.marks.last_mut() {
            Some(m) if m.end_seq == end_seq => {}
            _ => self.marks.push(Mark { end_seq, stamp }),
        }
    }

    /// The store's revision right after trace entry `seq`.
    pub fn rev_at(&self, seq: u64) -> u64 {
        let i = self.rev_points.partition_point(|(s, _)| *s <= seq);
        if i == 0 {
            0
        } else {
            self.rev_points[i - 1].1
        }
    }

    /// The first trace entry right after which the store had reached `revision`
    /// (0: none still known).
    pub fn seq_of_rev(&self, revision: u64) -> u64 {
        let i = self.rev_points.partition_point(|(_, r)| *r < revision);
        self.rev_points.get(i).map_or(0, |p| p.0)
    }

    /// The stamp right after the op that recorded trace entry `seq` (ops are whole:
    /// history can be cut only between them).
    pub fn stamp_after(&self, seq: u64) -> Stamp {
        let i = self.marks.partition_point(|m| m.end_seq <= seq);
        self.marks.get(i).map_or(self.stamp(), |m| m.stamp)
    }

    /// Replays `inputs` (from `*next` on) up to `target`, as far as the budget lets.
    pub fn replay(
        &mut self,
        inputs: &[Input],
        next: &mut usize,
        target: Stamp,
        over_budget: &mut dyn FnMut() -> bool,
    ) -> Result<Replay, String> {
        loop {
            if over_budget() {
                return Ok(Replay::Pending);
            }
            if let Some(input) = inputs.get(*next) {
                if input.at.ops < self.ops
                    || (input.at.ops == self.ops && input.at.time < self.now())
                {
                    return Err(format!(
                        "input {} was taken at op {} ({}), but the replay is already at op {} ({})",
                        *next + 1,
                        input.at.ops,
                        format_duration(input.at.time),
                        self.ops,
                        format_duration(self.now())
                    ));
                }
                if input.at.ops == self.ops {
                    self.clock_to(input.at.time);
                    if self.now() != input.at.time {
                        return Err(format!(
                            "input {} was taken at {}, but work was due before it",
                            *next + 1,
                            format_duration(input.at.time)
                        ));
                    }
                    self.act(&input.action);
                    *next += 1;
                    continue;
                }
            } else if self.ops >= target.ops {
                self.clock_to(target.time.max(self.now()));
                return Ok(Replay::Done);
            }
            if self.op() {
                continue;
            }
            let limit = inputs.get(*next).map_or(target.time, |i| i.at.time);
            match self.next_point() {
                Some(t) if t <= limit && (t > self.now() || self.wait_until.is_some()) => {
                    self.clock_to(t)
                }
                _ => {
                    return Err(format!(
                        "the replay ran out of work at op {} ({}) before reaching op {}",
                        self.ops,
                        format_duration(self.now()),
                        inputs.get(*next).map_or(target.ops, |i| i.at.ops)
                    ))
                }
            }
        }
    }

    /// Replays `inputs` (from `*next` on) by their virtual times only, then runs to
    /// `until`: each action is taken once the work due at its time is done. Unlike
    /// [`Sim::replay`] it does not need the ops to line up, so it replays the same
    /// inputs into a cluster that behaves differently (another scheduler
    /// configuration).
    pub fn replay_by_time(
        &mut self,
        inputs: &[Input],
        next: &mut usize,
        until: Nanos,
        over_budget: &mut dyn FnMut() -> bool,
    ) -> Replay {
        while let Some(input) = inputs.get(*next) {
            let at = input.at.time.max(self.now());
            if !self.run_until(at, over_budget) {
                return Replay::Pending;
            }
            self.act(&input.action);
            *next += 1;
        }
        // A scale test started by an input runs on (it does not wait for the clock).
        if self.has_job() {
            self.run_job(over_budget);
            if self.has_job() {
                return Replay::Pending;
            }
        }
        if self.run_until(until.max(self.now()), over_budget) {
            Replay::Done
        } else {
            Replay::Pending
        }
    }

    /// A hash of the rendered trace (FNV-1a, 64 bits), to compare runs.
    pub fn trace_hash(&self) -> u64 {
        trace_hash(&self.runner.cluster.k.trace.render())
    }
}

/// FNV-1a over a text: the same text gives the same hash on every target.
pub fn trace_hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
