//! [`Session`]: what the worker runs. It takes the page's messages, keeps the
//! inputs log, plays in slices against a wall clock it is given, rebuilds by
//! replay (after a restart, for a fork, for questions beyond the history windows),
//! and answers with frames of deltas. It does no IO: the web worker passes
//! messages and the time in, and posts what comes out.

use std::collections::VecDeque;

use crate::api::object::{ResourceType, RESOURCE_TYPES};
use crate::api::Object;
use crate::kernel::Nanos;
use crate::protocol::{
    CompareView, EntryView, Frame, FromWorker, Head, Input, InputsLog, KindCount, LogUpdate,
    ObjKey, ObjectView, PersonAction, Query, Reply, Speed, Stamp, ToWorker, LOG_VERSION,
};
use crate::store::StoreError;

use super::examples;
use super::map::MapModel;
use super::sched;
use super::sim::{Replay, Sim};

/// Entries a frame carries at most (the page fetches older ones when it needs them).
pub const FRAME_ENTRIES: usize = 64;
/// Wall milliseconds between frames while work goes on.
pub const FRAME_INTERVAL_MS: f64 = 100.0;
/// Wall milliseconds of work in one slice.
pub const SLICE_MS: f64 = 8.0;

/// A wall clock in milliseconds (the worker's `performance.now()`; tests fake it).
pub type WallClock<'a> = &'a dyn Fn() -> f64;

/// A replay under way that replaces the session's simulation when done.
struct Rebuild {
    sim: Sim,
    log: InputsLog,
    next: usize,
    target: Stamp,
    /// An action to take once rebuilt (a fork's).
    then: Option<(u64, PersonAction)>,
    last_report: f64,
}

/// A replay that answers questions about a point beyond the history windows.
struct Scratch {
    sim: Sim,
    inputs: Vec<Input>,
    next: usize,
    target: Stamp,
    questions: Vec<(u64, Query)>,
}

/// The same inputs replayed under another scheduler configuration.
struct Compare {
    config: String,
    sim: Sim,
    /// The log's inputs before the target.
    inputs: Vec<Input>,
    next: usize,
    /// The head it replays to (the session's head when asked).
    target: Stamp,
    done: bool,
    /// (id, pod, limit)
    questions: Vec<(u64, Option<String>, u32)>,
}

pub struct Session {
    sim: Sim,
    log: InputsLog,
    playing: Option<Speed>,
    /// (wall ms, virtual time) play measures from.
    anchor: (f64, Nanos),
    map: MapModel,
    kinds_sent: Vec<KindCount>,
    sent_seq: u64,
    last_frame: f64,
    /// Something changed since the last frame.
    dirty: bool,
    rebuild: Option<Rebuild>,
    deferred: VecDeque<ToWorker>,
    scratch: Option<Scratch>,
    compare: Option<Compare>,
}

fn new_log(id: &str, text: &str) -> InputsLog {
    InputsLog {
        version: LOG_VERSION,
        scenario: id.into(),
        scenario_text: text.into(),
        inputs: Vec::new(),
        head: Stamp::default(),
    }
}

/// The stored kind with this name.
pub fn resource_of_kind(kind: &str) -> Option<&'static ResourceType> {
    RESOURCE_TYPES
        .iter()
        .copied()
        .find(|r| r.stored && r.kind == kind)
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

impl Session {
    /// A session on the default example, at time zero.
    pub fn new() -> Session {
        let id = examples::default_id();
        let text = examples::text(id).unwrap_or_default();
        let sim = Sim::new(text).unwrap_or_else(|e| panic!("the example {id} must build: {e}"));
        Session::with(sim, new_log(id, text))
    }

    fn with(sim: Sim, log: InputsLog) -> Session {
        let map = MapModel::build(sim.cluster().api().store());
        Session {
            sim,
            log,
            playing: None,
            anchor: (0.0, 0),
            map,
            kinds_sent: Vec::new(),
            sent_seq: 0,
            last_frame: f64::NEG_INFINITY,
            dirty: true,
            rebuild: None,
            deferred: VecDeque::new(),
            scratch: None,
            compare: None,
        }
    }

    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    pub fn log(&self) -> &InputsLog {
        &self.log
    }

    /// Whether a replay is rebuilding the simulation.
    pub fn rebuilding(&self) -> bool {
        self.rebuild.is_some()
    }

    /// Handles one message from the page.
    pub fn handle(&mut self, msg: ToWorker, clock: WallClock) -> Vec<FromWorker> {
        let mut out = Vec::new();
        if self.rebuild.is_some()
            && !matches!(
                msg,
                ToWorker::Start { .. } | ToWorker::Load { .. } | ToWorker::Crash
            )
        {
            self.deferred.push_back(msg);
            return out;
        }
        match msg {
            ToWorker::Start { log } => self.start(log, clock, &mut out),
            ToWorker::Load { scenario } => {
                let text = examples::text(&scenario);
                match text.map(Sim::new) {
                    Some(Ok(sim)) => {
                        *self = Session::with(sim, new_log(&scenario, text.unwrap_or_default()));
                        out.push(FromWorker::Log(LogUpdate::Reset(self.log.clone())));
                        out.push(self.frame(clock(), true));
                    }
                    Some(Err(e)) => out.push(FromWorker::Failed { message: e }),
                    None => out.push(FromWorker::Failed {
                        message: format!("no example scenario \"{scenario}\""),
                    }),
                }
            }
            ToWorker::Play { speed } => {
                self.playing = Some(speed);
                self.anchor = (clock(), self.sim.now());
                self.dirty = true;
                out.push(self.frame(clock(), false));
            }
            ToWorker::Pause => {
                self.playing = None;
                self.dirty = true;
                out.push(self.frame(clock(), false));
                out.push(self.head_update());
            }
            ToWorker::Step => {
                self.playing = None;
                self.sim.step();
                self.dirty = true;
                out.push(self.frame(clock(), false));
                out.push(self.head_update());
            }
            ToWorker::Act {
                id,
                action,
                fork_at,
            } => match fork_at.filter(|s| *s < self.last_seq()) {
                Some(seq) => self.fork(seq, id, action, clock, &mut out),
                None => self.act(id, action, clock, &mut out),
            },
            ToWorker::Query {
                id,
                query: Query::Compare { config, pod, limit },
            } => self.compare(id, config, pod, limit, &mut out),
            ToWorker::Query {
                id,
                query:
                    Query::NetCompare {
                        from,
                        to,
                        proto,
                        host,
                        path,
                    },
            } => {
                let view = super::net::net_compare(
                    &self.sim,
                    &self.log,
                    [from.as_str(), &to, &proto, &host, &path],
                );
                out.push(FromWorker::Reply {
                    id,
                    reply: Reply::NetCompare(Box::new(view)),
                });
            }
            ToWorker::Query { id, query } => match answer(&self.sim, &query) {
                Ok(reply) => out.push(FromWorker::Reply { id, reply }),
                Err(seq) => self.ask_replay(seq, id, query),
            },
            ToWorker::Crash => panic!("a crash asked for from the page, to show recovery"),
        }
        out
    }

    fn start(&mut self, log: Option<InputsLog>, clock: WallClock, out: &mut Vec<FromWorker>) {
        out.push(Session::ready(log.as_ref()));
        let (session, said) = Session::boot(log, clock);
        *self = session;
        out.extend(said);
    }

    /// The first answer to `Start`, before any work: the worker runs.
    pub fn ready(log: Option<&InputsLog>) -> FromWorker {
        FromWorker::Ready {
            examples: examples::all(),
            scenario: log.map_or_else(
                || examples::default_id().to_string(),
                |l| l.scenario.clone(),
            ),
            replaying: log.map_or(0, |l| l.inputs.len() as u32),
        }
    }

    /// A session started from a log (None, or a log this code cannot read: the
    /// default example), with what it says after [`Session::ready`]: either a full
    /// frame or the start of a replay that rebuilds the log's history.
    pub fn boot(log: Option<InputsLog>, clock: WallClock) -> (Session, Vec<FromWorker>) {
        let mut out = Vec::new();
        let usable = |l: &InputsLog| {
            l.version == LOG_VERSION && crate::scenario::parse(&l.scenario_text).is_ok()
        };
        let mut log = log.filter(usable).unwrap_or_else(|| {
            let id = examples::default_id();
            new_log(id, examples::text(id).unwrap_or_default())
        });
        if let Some(last) = log.inputs.last() {
            let after_last = Stamp {
                ops: last.at.ops + 1,
                time: last.at.time,
            };
            log.head = log.head.max(after_last);
        }
        let sim = match Sim::new(&log.scenario_text) {
            Ok(sim) => sim,
            Err(e) => {
                out.push(FromWorker::Failed { message: e });
                return (Session::new(), out);
            }
        };
        if log.head == Stamp::default() {
            let mut session = Session::with(sim, log);
            out.push(FromWorker::Log(LogUpdate::Reset(session.log.clone())));
            out.push(session.frame(clock(), true));
            return (session, out);
        }
        // Until the replay is done, messages wait (see `handle`); meanwhile the
        // session shows the scenario at time zero.
        let target = log.head;
        let placeholder =
            Sim::new(&log.scenario_text).unwrap_or_else(|_| unreachable!("built above"));
        let mut session = Session::with(placeholder, new_log(&log.scenario, &log.scenario_text));
        session.rebuild = Some(Rebuild {
            sim,
            log,
            next: 0,
            target,
            then: None,
            last_report: clock(),
        });
        out.push(FromWorker::Busy {
            done: 0,
            total: target.ops,
        });
        (session, out)
    }

    fn act(&mut self, id: u64, action: PersonAction, clock: WallClock, out: &mut Vec<FromWorker>) {
        let at = self.sim.stamp();
        let (result, taken) = self.sim.act(&action);
        if taken {
            let input = Input {
                at,
                action: action.clone(),
            };
            self.log.inputs.push(input.clone());
            self.log.head = self.sim.stamp();
            out.push(FromWorker::Log(LogUpdate::Append(input)));
            out.push(self.head_update());
        }
        out.push(FromWorker::Reply {
            id,
            reply: Reply::Acted {
                source: action.source(),
                result,
            },
        });
        self.dirty = true;
        out.push(self.frame(clock(), false));
    }

    /// Drops history after trace entry `seq`, rebuilds to it, then acts.
    fn fork(
        &mut self,
        seq: u64,
        id: u64,
        action: PersonAction,
        clock: WallClock,
        out: &mut Vec<FromWorker>,
    ) {
        let target = self.sim.stamp_after(seq);
        let mut log = self.log.clone();
        log.inputs.retain(|i| i.at.ops < target.ops);
        log.head = target;
        let Ok(sim) = Sim::new(&log.scenario_text) else {
            return;
        };
        self.playing = None;
        self.rebuild = Some(Rebuild {
            sim,
            log,
            next: 0,
            target,
            then: Some((id, action)),
            last_report: clock(),
        });
        out.push(FromWorker::Busy {
            done: 0,
            total: target.ops,
        });
    }

    fn ask_replay(&mut self, seq: u64, id: u64, query: Query) {
        let target = self.sim.stamp_after(seq);
        if let Some(s) = &mut self.scratch {
            if s.target == target {
                s.questions.push((id, query));
                return;
            }
        }
        let Ok(sim) = Sim::new(&self.log.scenario_text) else {
            return;
        };
        let inputs = self
            .log
            .inputs
            .iter()
            .filter(|i| i.at.ops < target.ops)
            .cloned()
            .collect();
        // A newer question replaces an older replay (the person moved on).
        let mut questions = self.scratch.take().map(|s| s.questions).unwrap_or_default();
        questions.retain(|(_, q)| !matches!(q, Query::MapAt { .. }));
        questions.push((id, query));
        self.scratch = Some(Scratch {
            sim,
            inputs,
            next: 0,
            target,
            questions,
        });
    }

    /// Answers a comparison at once when its replay is done, or starts (or joins) it.
    fn compare(
        &mut self,
        id: u64,
        config: String,
        pod: Option<String>,
        limit: u32,
        out: &mut Vec<FromWorker>,
    ) {
        let target = self.sim.stamp();
        if let Some(c) = &mut self.compare {
            if c.config == config && c.target == target {
                if c.done {
                    let view =
                        sched::compare_view(&self.sim, &c.sim, &config, pod.as_deref(), limit);
                    out.push(FromWorker::Reply {
                        id,
                        reply: Reply::Compare(Box::new(view)),
                    });
                } else {
                    c.questions.push((id, pod, limit));
                }
                return;
            }
        }
        let built = sched::parse_config(&config)
            .and_then(|v| Sim::with_scheduler(&self.log.scenario_text, v));
        match built {
            Ok(sim) => {
                let inputs = self
                    .log
                    .inputs
                    .iter()
                    .filter(|i| i.at.ops < target.ops)
                    .cloned()
                    .collect();
                self.compare = Some(Compare {
                    config,
                    sim,
                    inputs,
                    next: 0,
                    target,
                    done: false,
                    questions: vec![(id, pod, limit)],
                });
            }
            Err(error) => out.push(FromWorker::Reply {
                id,
                reply: Reply::Compare(Box::new(CompareView {
                    config,
                    error,
                    ..CompareView::default()
                })),
            }),
        }
    }

    fn tick_compare(&mut self, over: &mut dyn FnMut() -> bool, out: &mut Vec<FromWorker>) {
        let Some(c) = &mut self.compare else { return };
        if c.done {
            return;
        }
        if c.sim
            .replay_by_time(&c.inputs, &mut c.next, c.target.time, over)
            == Replay::Pending
        {
            return;
        }
        c.done = true;
        for (id, pod, limit) in std::mem::take(&mut c.questions) {
            let view = sched::compare_view(&self.sim, &c.sim, &c.config, pod.as_deref(), limit);
            out.push(FromWorker::Reply {
                id,
                reply: Reply::Compare(Box::new(view)),
            });
        }
    }

    /// When the worker should call [`Session::tick`] next: None when idle, else a
    /// delay in wall milliseconds.
    pub fn wants_tick(&self) -> Option<f64> {
        if self.rebuild.is_some()
            || self.scratch.is_some()
            || self.sim.has_job()
            || self.compare.as_ref().is_some_and(|c| !c.done)
        {
            return Some(0.0);
        }
        match self.playing {
            Some(Speed::Max) => Some(0.0),
            Some(Speed::Times(_)) => Some(16.0),
            None if self.dirty => Some(FRAME_INTERVAL_MS),
            None => None,
        }
    }

    /// Runs one slice of work (at most [`SLICE_MS`]) and returns what to post.
    pub fn tick(&mut self, clock: WallClock) -> Vec<FromWorker> {
        let mut out = Vec::new();
        let start = clock();
        let deadline = start + SLICE_MS;
        let mut over = || clock() >= deadline;
        if self.rebuild.is_some() {
            self.tick_rebuild(clock, &mut over, &mut out);
            return out;
        }
        if let Some(s) = &mut self.scratch {
            match s.sim.replay(&s.inputs, &mut s.next, s.target, &mut over) {
                Ok(Replay::Pending) => {}
                Ok(Replay::Done) => {
                    let s = self.scratch.take().unwrap_or_else(|| unreachable!());
                    for (id, q) in s.questions {
                        let reply = match answer(&s.sim, &q) {
                            Ok(Reply::Object(mut o)) => {
                                o.replayed = true;
                                Reply::Object(o)
                            }
                            Ok(r) => r,
                            Err(_) => Reply::Failed(
                                "that point is beyond the history even after a replay".into(),
                            ),
                        };
                        out.push(FromWorker::Reply { id, reply });
                    }
                }
                Err(e) => {
                    let s = self.scratch.take().unwrap_or_else(|| unreachable!());
                    for (id, _) in s.questions {
                        out.push(FromWorker::Reply {
                            id,
                            reply: Reply::Failed(e.clone()),
                        });
                    }
                }
            }
            return out;
        }
        if self.compare.as_ref().is_some_and(|c| !c.done) {
            self.tick_compare(&mut over, &mut out);
            return out;
        }
        let before = self.sim.stamp();
        match self.playing {
            Some(speed) => {
                let now = clock();
                let target = match speed {
                    Speed::Max => Nanos::MAX,
                    Speed::Times(s) => {
                        let wall = (now - self.anchor.0).max(0.0);
                        let v = wall * 1e6 * s.clamp(0.0, 1e6);
                        self.anchor.1.saturating_add(v as Nanos)
                    }
                };
                let reached = self.sim.run_until(target, &mut over);
                if !reached {
                    // Behind: measure from here rather than race to catch up.
                    self.anchor = (clock(), self.sim.now());
                } else if speed == Speed::Max {
                    // Nothing will ever happen again: stop.
                    self.playing = None;
                }
            }
            None => self.sim.run_job(&mut over),
        }
        if self.sim.stamp() != before {
            self.dirty = true;
        }
        let now = clock();
        let idle = self.playing.is_none() && !self.sim.has_job();
        if self.dirty && (idle || now - self.last_frame >= FRAME_INTERVAL_MS) {
            out.push(self.frame(now, false));
            out.push(self.head_update());
        }
        out
    }

    fn tick_rebuild(
        &mut self,
        clock: WallClock,
        over: &mut dyn FnMut() -> bool,
        out: &mut Vec<FromWorker>,
    ) {
        let Some(r) = &mut self.rebuild else { return };
        let result = r.sim.replay(&r.log.inputs, &mut r.next, r.target, over);
        let now = clock();
        match result {
            Ok(Replay::Pending) => {
                if now - r.last_report >= 100.0 {
                    r.last_report = now;
                    out.push(FromWorker::Busy {
                        done: r.sim.stamp().ops,
                        total: r.target.ops,
                    });
                }
                return;
            }
            Ok(Replay::Done) => {}
            Err(e) => {
                // Keep what replayed; the rest of the log no longer fits this code.
                r.log.inputs.truncate(r.next);
                out.push(FromWorker::Failed {
                    message: format!("the replay stopped: {e}"),
                });
            }
        }
        let r = self.rebuild.take().unwrap_or_else(|| unreachable!());
        let mut log = r.log;
        log.head = r.sim.stamp();
        let deferred = std::mem::take(&mut self.deferred);
        *self = Session::with(r.sim, log);
        out.push(FromWorker::Busy {
            done: self.log.head.ops,
            total: self.log.head.ops,
        });
        out.push(FromWorker::Log(LogUpdate::Reset(self.log.clone())));
        if let Some((id, action)) = r.then {
            self.act(id, action, clock, out);
        }
        out.push(self.frame(clock(), true));
        for msg in deferred {
            out.extend(self.handle(msg, clock));
        }
    }

    fn last_seq(&self) -> u64 {
        self.sim.cluster().k.trace.next_seq() - 1
    }

    fn head(&self) -> Head {
        let c = self.sim.cluster();
        let trace = &c.k.trace;
        let (done, steps) = self.sim.scenario_progress();
        Head {
            stamp: self.sim.stamp(),
            first_seq: trace.entries().next().map_or(0, |e| e.seq),
            last_seq: self.last_seq(),
            revision: c.api().store().revision(),
            playing: self.playing,
            scenario_done: done as u32,
            scenario_steps: steps as u32,
            pending_events: c.pending() as u64,
            next_event_at: c.next_event_at(),
            job: self.sim.job(),
        }
    }

    fn head_update(&mut self) -> FromWorker {
        self.log.head = self.sim.stamp();
        FromWorker::Log(LogUpdate::Head(self.log.head))
    }

    /// What changed since the last frame; everything with `full`.
    fn frame(&mut self, now: f64, full: bool) -> FromWorker {
        self.last_frame = now;
        self.dirty = false;
        let store = self.sim.cluster().api().store();
        let map = if full {
            self.map = MapModel::build(store);
            self.map.take_delta()
        } else {
            self.map.sync(store);
            self.map.take_delta()
        };
        let kinds: Vec<KindCount> = self
            .sim
            .cluster()
            .object_counts()
            .into_iter()
            .map(|(k, n)| KindCount {
                kind: k.into(),
                count: n as u64,
            })
            .collect();
        let kinds = if full || kinds != self.kinds_sent {
            self.kinds_sent = kinds.clone();
            Some(kinds)
        } else {
            None
        };
        let last = self.last_seq();
        let from = if full {
            last.saturating_sub(FRAME_ENTRIES as u64) + 1
        } else {
            (self.sent_seq + 1).max(last.saturating_sub(FRAME_ENTRIES as u64) + 1)
        };
        let entries: Vec<EntryView> = self
            .sim
            .cluster()
            .k
            .trace
            .since(from)
            .map(|e| EntryView::new(e, self.sim.rev_at(e.seq)))
            .collect();
        self.sent_seq = last;
        FromWorker::Frame(Frame {
            head: self.head(),
            entries,
            map,
            kinds,
            transcript: self.sim.take_transcript(),
        })
    }
}

/// Answers a question from a simulation, or says which trace entry it must be
/// replayed to first.
pub fn answer(sim: &Sim, q: &Query) -> Result<Reply, u64> {
    let c = sim.cluster();
    let store = c.api().store();
    let trace = &c.k.trace;
    let last = trace.next_seq() - 1;
    match q {
        Query::Object { key, at } => {
            let Some(rt) = resource_of_kind(&key.kind) else {
                return Ok(Reply::Failed(format!("no stored kind \"{}\"", key.kind)));
            };
            let at = at.filter(|s| *s < last);
            let revision = at.map_or(store.revision(), |s| sim.rev_at(s));
            match store.get_at(rt, &key.namespace, &key.name, revision) {
                Ok(obj) => Ok(Reply::Object(ObjectView {
                    key: key.clone(),
                    at,
                    revision,
                    containers: obj
                        .as_deref()
                        .and_then(Object::as_pod)
                        .map(|p| p.spec.containers.iter().map(|c| c.name.clone()).collect())
                        .unwrap_or_default(),
                    yaml: obj.map(|o| crate::yaml::to_yaml_string(&o.to_value())),
                    replayed: false,
                })),
                Err(StoreError::Compacted { .. }) => Err(at.unwrap_or(last)),
                Err(e) => Ok(Reply::Failed(format!("{e:?}"))),
            }
        }
        Query::Entries { from, count } => {
            let first = trace.entries().next().map_or(1, |e| e.seq);
            if *from < first && first > 1 {
                return Err((*from + u64::from(*count)).saturating_sub(1).max(*from));
            }
            Ok(Reply::Entries(
                trace
                    .since(*from)
                    .take(*count as usize)
                    .map(|e| EntryView::new(e, sim.rev_at(e.seq)))
                    .collect(),
            ))
        }
        Query::List {
            kind,
            offset,
            limit,
        } => {
            let Some(rt) = resource_of_kind(kind) else {
                return Ok(Reply::Failed(format!("no stored kind \"{kind}\"")));
            };
            Ok(Reply::List {
                kind: kind.clone(),
                total: store.count(rt) as u64,
                items: store
                    .list(rt, None)
                    .skip(*offset as usize)
                    .take(*limit as usize)
                    .map(|o| ObjKey::new(rt.kind, o.namespace(), o.name()))
                    .collect(),
            })
        }
        Query::Scheduling { pod, offset, limit } => Ok(Reply::Scheduling(Box::new(
            sched::scheduling_view(sim, pod.as_deref(), *offset, *limit),
        ))),
        Query::Controllers { name, at } => Ok(Reply::Controllers(Box::new(
            super::ctl::controllers_view(sim, name.as_deref(), *at),
        ))),
        Query::Rollout { deployment } => Ok(Reply::Rollout(Box::new(super::ctl::rollout_view(
            sim, deployment,
        )))),
        Query::NodeFailure { node } => Ok(Reply::NodeFailure(Box::new(
            super::ctl::node_failure_view(sim, node),
        ))),
        Query::Network { node, lit } => Ok(Reply::Network(Box::new(super::net::network_view(
            sim, node, lit,
        )))),
        Query::PacketTrace {
            from,
            to,
            proto,
            host,
            path,
        } => Ok(Reply::PacketTrace(Box::new(super::net::packet_trace(
            sim, from, to, proto, host, path,
        )))),
        Query::Topology { node } => Ok(Reply::Topology(Box::new(super::net::topology_view(
            sim, node,
        )))),
        Query::Compare { .. } => Ok(Reply::Failed(
            "a comparison replays in slices; the session answers it".into(),
        )),
        Query::NetCompare { .. } => Ok(Reply::Failed(
            "a plug-in comparison replays the session's inputs; the session answers it".into(),
        )),
        Query::MapAt { seq } => {
            let revision = if *seq >= last {
                store.revision()
            } else {
                sim.rev_at(*seq)
            };
            if revision < store.oldest_watchable() {
                return Err(*seq);
            }
            let mut m = MapModel::at(store, revision);
            Ok(Reply::Map {
                seq: *seq,
                map: m.take_delta().unwrap_or_default(),
            })
        }
    }
}
