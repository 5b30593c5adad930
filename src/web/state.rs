//! The page's state: what the worker has told it, and where the person is looking.
//! A `Reducible`: components dispatch [`Action`]s; the worker's messages arrive as
//! [`Action::Worker`]. Nothing here computes the cluster (invariant 3): it keeps
//! the views the worker sends.

use std::collections::BTreeMap;
use std::rc::Rc;

use yew::Reducible;

use crate::protocol::{
    ActResult, EntryView, ExampleInfo, FromWorker, Head, KindCount, LogUpdate, MapDelta, NodeView,
    ObjKey, ObjectView, PersonAction, PodView, Reply, SchedView, Source, Speed,
};
use crate::protocol::{CompareView, CtlView, NodeFailView, RolloutView};
use crate::protocol::{NetCompareView, NetworkView, PacketTraceView, TopologyView};

/// Trace entries the page keeps at most (it fetches others when it needs them).
pub const ENTRY_CACHE: usize = 2000;
/// Console lines kept.
pub const CONSOLE_LINES: usize = 500;

/// The cluster map as the page draws it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MapState {
    pub detailed: bool,
    pub nodes: BTreeMap<String, NodeView>,
    pub pods: BTreeMap<(String, String), Rc<PodView>>,
    pub counts: BTreeMap<String, [u64; 5]>,
    pub total: u64,
}

impl MapState {
    pub fn apply(&mut self, d: MapDelta) {
        if d.reset {
            *self = MapState::default();
        }
        self.detailed = d.detailed;
        if !d.detailed {
            self.pods.clear();
        }
        for n in d.removed_nodes {
            self.nodes.remove(&n);
        }
        for n in d.nodes {
            self.nodes.insert(n.name.clone(), n);
        }
        for k in d.removed_pods {
            self.pods.remove(&k);
        }
        for p in d.pods {
            self.pods
                .insert((p.namespace.clone(), p.name.clone()), Rc::new(p));
        }
        for c in d.counts {
            if c.counts.iter().all(|n| *n == 0) {
                self.counts.remove(&c.node);
            } else {
                self.counts.insert(c.node, c.counts);
            }
        }
        self.total = d.total_pods;
    }

    pub fn from_delta(d: MapDelta) -> MapState {
        let mut m = MapState::default();
        m.apply(d);
        m
    }
}

/// One block of the kubectl console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleLine {
    pub command: String,
    pub stdout: String,
    pub stderr: String,
    pub ok: bool,
    /// From the scenario's steps rather than typed here.
    pub scenario: bool,
}

/// Something the page tells the person about the worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The worker panicked or stopped answering; a fresh one replays the log.
    Crashed(String),
    Failed(String),
}

/// Where the packet of a trace being stepped through is: its node, and its pod
/// (namespace, name) when the hop is inside a pod's network namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PacketSpot {
    pub node: String,
    pub pod: Option<(String, String)>,
}

/// An action waiting for the person to confirm a fork.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingFork {
    pub action: PersonAction,
    pub at: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AppState {
    /// The worker has answered.
    pub ready: bool,
    pub examples: Rc<Vec<ExampleInfo>>,
    pub scenario: String,
    pub head: Head,
    /// The trace entry the person looks at; None: the head, live.
    pub cursor: Option<u64>,
    pub entries: Rc<BTreeMap<u64, Rc<EntryView>>>,
    pub map: Rc<MapState>,
    /// The map as after the cursor's entry, when the cursor is in the past.
    pub past_map: Option<(u64, Rc<MapState>)>,
    pub kinds: Rc<Vec<KindCount>>,
    /// Names per kind, for the resource tree: (total, names).
    pub lists: Rc<BTreeMap<String, (u64, Vec<ObjKey>)>>,
    pub selected: Option<ObjKey>,
    pub inspected: Option<Rc<ObjectView>>,
    pub console: Rc<Vec<Rc<ConsoleLine>>>,
    pub editor_result: Option<Rc<ActResult>>,
    pub request_result: Option<Rc<ActResult>>,
    /// The last fault or node button's result (cleared when the selection changes).
    pub inspector_result: Option<Rc<ActResult>>,
    pub notice: Option<Notice>,
    /// A replay under way: ops done, ops to do.
    pub busy: Option<(u64, u64)>,
    pub confirm: Option<PendingFork>,
    /// The chosen play speed.
    pub speed: Speed,
    /// The open tab of the lower panel.
    pub tab: &'static str,
    pub inputs: usize,
    /// The scheduling view's latest answer, and a comparison's.
    pub sched: Option<Rc<SchedView>>,
    pub compare: Option<Rc<CompareView>>,
    /// The controllers view's latest answers: loops, a rollout, a node's failure.
    pub ctl: Option<Rc<CtlView>>,
    pub rollout: Option<Rc<RolloutView>>,
    pub nodefail: Option<Rc<NodeFailView>>,
    /// The network view's latest answers: ends and a node's tables, a packet
    /// trace, the iptables-restore editor's result, and the hop being looked at.
    pub network: Option<Rc<NetworkView>>,
    pub packet_trace: Option<Rc<PacketTraceView>>,
    pub net_result: Option<Rc<ActResult>>,
    pub packet: Option<PacketSpot>,
    /// A node's namespaces, and the plug-in comparison.
    pub topology: Option<Rc<TopologyView>>,
    pub net_compare: Option<Rc<NetCompareView>>,
    /// Counts the worker's fresh starts and history resets: views ask again for
    /// what they show when it changes.
    pub epoch: u32,
}

impl Default for AppState {
    fn default() -> Self {
        AppState {
            ready: false,
            examples: Rc::default(),
            scenario: String::new(),
            head: Head::default(),
            cursor: None,
            entries: Rc::default(),
            map: Rc::default(),
            past_map: None,
            kinds: Rc::default(),
            lists: Rc::default(),
            selected: None,
            inspected: None,
            console: Rc::default(),
            editor_result: None,
            request_result: None,
            inspector_result: None,
            notice: None,
            busy: None,
            confirm: None,
            speed: Speed::Times(1.0),
            tab: "editor",
            inputs: 0,
            sched: None,
            compare: None,
            ctl: None,
            rollout: None,
            nodefail: None,
            network: None,
            packet_trace: None,
            net_result: None,
            packet: None,
            topology: None,
            net_compare: None,
            epoch: 0,
        }
    }
}

pub enum Action {
    Worker(FromWorker),
    /// Several of the worker's messages, taken in one render.
    Batch(Vec<FromWorker>),
    /// Look at a trace entry (None: follow the head).
    Cursor(Option<u64>),
    Select(Option<ObjKey>),
    Speed(Speed),
    Tab(&'static str),
    /// Ask before acting in the past (None: cancel).
    Confirm(Option<PendingFork>),
    Dismiss,
    /// The network view steps a trace: the hop's place on the map (None: no trace).
    Packet(Option<PacketSpot>),
}

impl AppState {
    /// Whether the person looks at the past (acting would fork).
    pub fn in_past(&self) -> bool {
        self.cursor.is_some_and(|c| c < self.head.last_seq)
    }

    /// The entry the views show: the cursor's, or the newest.
    pub fn focus(&self) -> u64 {
        self.cursor.unwrap_or(self.head.last_seq)
    }

    fn clear_history(&mut self) {
        self.epoch += 1;
        self.entries = Rc::default();
        self.cursor = None;
        self.past_map = None;
        self.inspected = None;
        self.lists = Rc::default();
        self.sched = None;
        self.compare = None;
        self.ctl = None;
        self.rollout = None;
        self.nodefail = None;
        self.network = None;
        self.packet_trace = None;
        self.packet = None;
        self.topology = None;
        self.net_compare = None;
    }

    fn push_console(&mut self, line: ConsoleLine) {
        let c = Rc::make_mut(&mut self.console);
        c.push(Rc::new(line));
        if c.len() > CONSOLE_LINES {
            let drop = c.len() - CONSOLE_LINES;
            c.drain(..drop);
        }
    }

    fn add_entries(&mut self, entries: Vec<EntryView>) {
        if entries.is_empty() {
            return;
        }
        let center = self.focus();
        let cache = Rc::make_mut(&mut self.entries);
        for e in entries {
            cache.insert(e.seq, Rc::new(e));
        }
        while cache.len() > ENTRY_CACHE {
            let (Some((&lo, _)), Some((&hi, _))) =
                (cache.first_key_value(), cache.last_key_value())
            else {
                break;
            };
            let far = if center.abs_diff(lo) > center.abs_diff(hi) {
                lo
            } else {
                hi
            };
            cache.remove(&far);
        }
    }

    fn worker(&mut self, msg: FromWorker) {
        match msg {
            FromWorker::Ready {
                examples,
                scenario,
                replaying: _,
            } => {
                self.ready = true;
                self.examples = Rc::new(examples);
                self.scenario = scenario;
                self.clear_history();
            }
            FromWorker::Frame(f) => {
                self.head = f.head;
                if self.cursor.is_some_and(|c| c > self.head.last_seq) {
                    self.cursor = None;
                }
                self.add_entries(f.entries);
                if let Some(d) = f.map {
                    Rc::make_mut(&mut self.map).apply(d);
                }
                if let Some(k) = f.kinds {
                    self.kinds = Rc::new(k);
                }
                for t in f.transcript {
                    self.push_console(ConsoleLine {
                        command: t.command,
                        stdout: t.stdout,
                        stderr: t.stderr,
                        ok: t.ok,
                        scenario: true,
                    });
                }
                if self.busy.is_some_and(|(d, t)| d >= t) {
                    self.busy = None;
                }
            }
            FromWorker::Reply { id: _, reply } => self.reply(reply),
            FromWorker::Log(u) => match u {
                LogUpdate::Reset(log) => {
                    self.inputs = log.inputs.len();
                    self.scenario = log.scenario;
                    self.clear_history();
                }
                LogUpdate::Append(_) => self.inputs += 1,
                LogUpdate::Head(_) => {}
            },
            FromWorker::Busy { done, total } => {
                self.busy = (done < total).then_some((done, total));
            }
            FromWorker::Failed { message } => self.notice = Some(Notice::Failed(message)),
            FromWorker::Panicked { message } => {
                self.notice = Some(Notice::Crashed(message));
                self.head.playing = None;
            }
        }
    }

    fn reply(&mut self, reply: Reply) {
        match reply {
            Reply::Acted { source, result } => match source {
                Source::Editor => self.editor_result = Some(Rc::new(result)),
                Source::Request => self.request_result = Some(Rc::new(result)),
                Source::Inspector => {
                    // The console keeps it too, as the command it ran.
                    self.push_console(ConsoleLine {
                        command: result.command.clone(),
                        stdout: result.stdout.clone(),
                        stderr: result.stderr.clone(),
                        ok: result.ok,
                        scenario: false,
                    });
                    self.inspector_result = Some(Rc::new(result));
                }
                Source::Network => {
                    self.push_console(ConsoleLine {
                        command: result.command.clone(),
                        stdout: result.stdout.clone(),
                        stderr: result.stderr.clone(),
                        ok: result.ok,
                        scenario: false,
                    });
                    self.net_result = Some(Rc::new(result));
                }
                Source::Kubectl | Source::ScaleTest => self.push_console(ConsoleLine {
                    command: result.command,
                    stdout: result.stdout,
                    stderr: result.stderr,
                    ok: result.ok,
                    scenario: false,
                }),
            },
            Reply::Object(o) => {
                let wanted = self.selected.as_ref() == Some(&o.key)
                    && (o.at == self.cursor.filter(|_| self.in_past()) || o.at.is_none());
                if wanted {
                    self.inspected = Some(Rc::new(o));
                }
            }
            Reply::Entries(entries) => self.add_entries(entries),
            Reply::List { kind, total, items } => {
                let lists = Rc::make_mut(&mut self.lists);
                lists.insert(kind, (total, items));
            }
            Reply::Map { seq, map } => {
                if self.cursor == Some(seq) {
                    self.past_map = Some((seq, Rc::new(MapState::from_delta(map))));
                }
            }
            Reply::Scheduling(v) => self.sched = Some(Rc::new(*v)),
            Reply::Compare(v) => self.compare = Some(Rc::new(*v)),
            Reply::Controllers(v) => self.ctl = Some(Rc::new(*v)),
            Reply::Rollout(v) => self.rollout = Some(Rc::new(*v)),
            Reply::NodeFailure(v) => self.nodefail = Some(Rc::new(*v)),
            Reply::Network(v) => self.network = Some(Rc::new(*v)),
            Reply::PacketTrace(v) => self.packet_trace = Some(Rc::new(*v)),
            Reply::Topology(v) => self.topology = Some(Rc::new(*v)),
            Reply::NetCompare(v) => self.net_compare = Some(Rc::new(*v)),
            Reply::Failed(m) => self.notice = Some(Notice::Failed(m)),
        }
    }
}

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Worker(msg) => s.worker(msg),
            Action::Batch(msgs) => {
                for m in msgs {
                    s.worker(m);
                }
            }
            Action::Cursor(c) => {
                s.cursor = c.filter(|c| *c >= 1);
                if s.cursor.is_none() {
                    s.past_map = None;
                }
            }
            Action::Select(k) => {
                if s.selected != k {
                    s.inspected = None;
                    s.inspector_result = None;
                }
                s.selected = k;
            }
            Action::Speed(v) => s.speed = v,
            Action::Tab(t) => s.tab = t,
            Action::Confirm(c) => s.confirm = c,
            Action::Dismiss => s.notice = None,
            Action::Packet(p) => s.packet = p,
        }
        Rc::new(s)
    }
}
