//! The page's end of the worker: spawns it, passes messages, keeps the inputs log
//! in local storage, and starts a fresh worker that replays the log when the old
//! one panics or stops answering.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use gloo::timers::callback::{Interval, Timeout};
use gloo_worker::{Spawnable, WorkerBridge};
use yew::Callback;

use crate::protocol::{FromWorker, InputsLog, LogUpdate, ToWorker};

use super::codec::Postcard;
use super::i18n::{t, Key};
use super::storage;
use super::worker::Host;

/// Where Trunk puts the worker's script (see `index.html`).
pub const WORKER_URL: &str = "./worker.js";
/// Milliseconds without a word from a worker that owes an answer before it is
/// taken for dead.
pub const SILENCE_MS: f64 = 20_000.0;
/// The page renders the worker's messages at most this often (milliseconds): a
/// busy worker's frames are taken together, in one render.
pub const BATCH_MS: f64 = 100.0;
/// Milliseconds between saves of the log's head (its position) to local storage.
pub const HEAD_SAVE_MS: f64 = 1000.0;

struct Inner {
    bridge: Option<WorkerBridge<Host>>,
    on_msg: Callback<Vec<FromWorker>>,
    /// Messages waiting for the next render, and when the last one was.
    queue: Vec<FromWorker>,
    flush: Option<Timeout>,
    last_flush: f64,
    /// Whether `on_msg` leads somewhere yet.
    attached: bool,
    /// When the log was last saved, and a save that waits.
    head_saved: f64,
    save_later: Option<Timeout>,
    next_id: u64,
    /// The page's copy of the inputs log (what a fresh worker replays).
    log: Option<InputsLog>,
    /// When the worker last spoke, and since when the page waits for it.
    last_heard: f64,
    waiting_since: Option<f64>,
    /// Fresh workers started since the last one that ran well.
    restarts: u32,
    watchdog: Option<Interval>,
    /// Messages sent, when there is no worker (tests).
    sent: Vec<ToWorker>,
}

/// A handle on the worker, shared by the components (through the app context).
#[derive(Clone)]
pub struct Link(Rc<RefCell<Inner>>);

impl PartialEq for Link {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

impl Link {
    /// A link that has no worker yet; `start` spawns one. Messages wait until
    /// [`Link::attach`] gives them a place to go.
    pub fn detached() -> Link {
        let link = Link::new(Callback::noop());
        link.0.borrow_mut().attached = false;
        link
    }

    /// Where the worker's messages go from now on (the app's state), with those
    /// that waited.
    pub fn attach(&self, on_msg: Callback<Vec<FromWorker>>) {
        {
            let mut inner = self.0.borrow_mut();
            inner.on_msg = on_msg;
            inner.attached = true;
        }
        self.flush();
    }

    /// A link whose messages go to `on_msg`; `start` spawns the worker.
    pub fn new(on_msg: Callback<Vec<FromWorker>>) -> Link {
        Link(Rc::new(RefCell::new(Inner {
            bridge: None,
            on_msg,
            queue: Vec::new(),
            flush: None,
            last_flush: f64::NEG_INFINITY,
            attached: true,
            head_saved: f64::NEG_INFINITY,
            save_later: None,
            next_id: 1,
            log: None,
            last_heard: 0.0,
            waiting_since: None,
            restarts: 0,
            watchdog: None,
            sent: Vec::new(),
        })))
    }

    /// Spawns the worker and starts it from the log in local storage.
    pub fn start(&self) {
        let log = storage::load_log();
        self.0.borrow_mut().log = log.clone();
        self.spawn(log);
        let weak = Rc::downgrade(&self.0);
        let watchdog = Interval::new(1000, move || {
            if let Some(inner) = weak.upgrade() {
                Link(inner).check_silence();
            }
        });
        self.0.borrow_mut().watchdog = Some(watchdog);
    }

    fn spawn(&self, log: Option<InputsLog>) {
        let weak: Weak<RefCell<Inner>> = Rc::downgrade(&self.0);
        let bridge = Host::spawner()
            .encoding::<Postcard>()
            .as_module(false)
            .callback(move |m| {
                if let Some(inner) = weak.upgrade() {
                    Link(inner).receive(m);
                }
            })
            .spawn(WORKER_URL);
        let mut inner = self.0.borrow_mut();
        inner.bridge = Some(bridge);
        inner.last_heard = now_ms();
        drop(inner);
        self.send(ToWorker::Start { log });
    }

    /// A fresh id for a request whose reply the page waits for.
    pub fn next_id(&self) -> u64 {
        let mut inner = self.0.borrow_mut();
        inner.next_id += 1;
        inner.next_id
    }

    pub fn send(&self, msg: ToWorker) {
        let mut inner = self.0.borrow_mut();
        if inner.waiting_since.is_none() {
            inner.waiting_since = Some(now_ms());
        }
        match &inner.bridge {
            Some(b) => b.send(msg),
            None => inner.sent.push(msg),
        }
    }

    /// What was sent while no worker ran (for tests of components).
    pub fn take_sent(&self) -> Vec<ToWorker> {
        std::mem::take(&mut self.0.borrow_mut().sent)
    }

    fn receive(&self, m: FromWorker) {
        {
            let mut inner = self.0.borrow_mut();
            inner.last_heard = now_ms();
            inner.waiting_since = None;
            match &m {
                FromWorker::Log(u) => {
                    match u {
                        LogUpdate::Reset(log) => inner.log = Some(log.clone()),
                        LogUpdate::Append(input) => {
                            if let Some(log) = &mut inner.log {
                                log.inputs.push(input.clone());
                            }
                        }
                        LogUpdate::Head(h) => {
                            if let Some(log) = &mut inner.log {
                                log.head = *h;
                            }
                        }
                    }
                    // The head moves with every frame: save it at most every
                    // HEAD_SAVE_MS; an action or a reset at once.
                    let now = now_ms();
                    let urgent = !matches!(u, LogUpdate::Head(_));
                    if urgent || now - inner.head_saved >= HEAD_SAVE_MS {
                        inner.head_saved = now;
                        inner.save_later = None;
                        if let Some(log) = &inner.log {
                            storage::save_log(log);
                        }
                    } else if inner.save_later.is_none() {
                        let weak = Rc::downgrade(&self.0);
                        inner.save_later = Some(Timeout::new(HEAD_SAVE_MS as u32, move || {
                            if let Some(inner) = weak.upgrade() {
                                let mut inner = inner.borrow_mut();
                                inner.save_later = None;
                                inner.head_saved = now_ms();
                                if let Some(log) = &inner.log {
                                    storage::save_log(log);
                                }
                            }
                        }));
                    }
                }
                FromWorker::Reply { .. } => inner.restarts = 0,
                FromWorker::Frame(f) if f.head.stamp.ops > 0 => inner.restarts = 0,
                _ => {}
            }
        }
        let panicked = matches!(m, FromWorker::Panicked { .. });
        self.enqueue(m);
        if panicked {
            self.restart_soon();
        }
    }

    /// Queues a message for the next render, at most one render per [`BATCH_MS`].
    fn enqueue(&self, m: FromWorker) {
        let mut inner = self.0.borrow_mut();
        inner.queue.push(m);
        if inner.flush.is_some() {
            return;
        }
        let wait = (inner.last_flush + BATCH_MS - now_ms()).max(0.0);
        let weak = Rc::downgrade(&self.0);
        inner.flush = Some(Timeout::new(wait as u32, move || {
            if let Some(inner) = weak.upgrade() {
                Link(inner).flush();
            }
        }));
    }

    fn flush(&self) {
        let (batch, on_msg) = {
            let mut inner = self.0.borrow_mut();
            inner.flush = None;
            if !inner.attached {
                return;
            }
            inner.last_flush = now_ms();
            (std::mem::take(&mut inner.queue), inner.on_msg.clone())
        };
        if !batch.is_empty() {
            on_msg.emit(batch);
        }
    }

    /// Starts a fresh worker after this turn of the event loop (not from inside the
    /// old worker's callback).
    fn restart_soon(&self) {
        let weak = Rc::downgrade(&self.0);
        Timeout::new(0, move || {
            if let Some(inner) = weak.upgrade() {
                Link(inner).restart();
            }
        })
        .forget();
    }

    /// Drops the worker and starts a fresh one from the log. If fresh workers keep
    /// failing, the newest input is the likely cause: it is dropped, and after that
    /// the whole log.
    pub fn restart(&self) {
        let log = {
            let mut inner = self.0.borrow_mut();
            inner.bridge = None;
            inner.waiting_since = None;
            inner.restarts += 1;
            let mut log = inner.log.clone();
            if inner.restarts == 3 {
                if let Some(l) = &mut log {
                    if let Some(culprit) = l.inputs.pop() {
                        l.head = culprit.at;
                    }
                }
            } else if inner.restarts > 3 {
                log = None;
            }
            log
        };
        self.spawn(log);
    }

    fn check_silence(&self) {
        let silent = {
            let inner = self.0.borrow();
            inner.bridge.is_some()
                && inner
                    .waiting_since
                    .is_some_and(|_| now_ms() - inner.last_heard > SILENCE_MS)
        };
        if silent {
            self.enqueue(FromWorker::Panicked {
                message: t(Key::WorkerSilent).into(),
            });
            self.restart();
        }
    }
}
