//! The web worker: a gloo-worker that owns the [`Session`] and works in slices.
//!
//! Messages from the page and timer ticks run the session for at most a few
//! milliseconds each ([`crate::host::session::SLICE_MS`]); between slices the
//! worker returns to its event loop, so the page's messages are never stuck
//! behind a long run. A panic cannot be caught on wasm32 (no unwinding), so the
//! panic hook posts [`FromWorker::Panicked`] and closes the worker; the page then
//! starts a fresh one that replays the inputs log.

use std::cell::RefCell;

use gloo::timers::callback::Timeout;
use gloo_worker::{HandlerId, Registrable, Worker, WorkerScope};
use wasm_bindgen::JsCast;

use crate::host::Session;
use crate::protocol::{FromWorker, ToWorker};

use super::codec::Postcard;

thread_local! {
    /// Where the panic hook reports: the scope and the page's bridge.
    static PANIC_SINK: RefCell<Option<(WorkerScope<Host>, HandlerId)>> = const { RefCell::new(None) };
}

/// The worker's wall clock, in milliseconds (never `Instant::now`, which panics here).
fn wall_ms() -> f64 {
    js_sys::global()
        .unchecked_into::<web_sys::WorkerGlobalScope>()
        .performance()
        .map_or_else(js_sys::Date::now, |p| p.now())
}

pub enum HostMsg {
    Tick,
}

pub struct Host {
    /// Built on the page's first message (`Start`), not before.
    session: Option<Session>,
    page: Option<HandlerId>,
    /// The pending tick and when it is due.
    timer: Option<(Timeout, f64)>,
}

impl Host {
    fn post(&self, scope: &WorkerScope<Self>, out: Vec<FromWorker>) {
        if let Some(id) = self.page {
            for m in out {
                scope.respond(id, m);
            }
        }
    }

    /// Asks for the next slice, sooner if the session now wants it sooner.
    fn schedule(&mut self, scope: &WorkerScope<Self>) {
        let Some(delay) = self.session.as_ref().and_then(Session::wants_tick) else {
            self.timer = None;
            return;
        };
        let due = wall_ms() + delay;
        if let Some((_, at)) = &self.timer {
            if *at <= due {
                return;
            }
        }
        let scope = scope.clone();
        let t = Timeout::new(delay as u32, move || scope.send_message(HostMsg::Tick));
        self.timer = Some((t, due));
    }
}

impl Worker for Host {
    type Message = HostMsg;
    type Input = ToWorker;
    type Output = FromWorker;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        Host {
            session: None,
            page: None,
            timer: None,
        }
    }

    fn update(&mut self, scope: &WorkerScope<Self>, msg: HostMsg) {
        match msg {
            HostMsg::Tick => {
                self.timer = None;
                let Some(session) = &mut self.session else {
                    return;
                };
                let out = session.tick(&wall_ms);
                self.post(scope, out);
                self.schedule(scope);
            }
        }
    }

    fn connected(&mut self, scope: &WorkerScope<Self>, id: HandlerId) {
        self.page = Some(id);
        PANIC_SINK.with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                *s = Some((scope.clone(), id));
            }
        });
    }

    fn received(&mut self, scope: &WorkerScope<Self>, msg: ToWorker, id: HandlerId) {
        self.page = Some(id);
        let out = match (&mut self.session, msg) {
            (session @ None, ToWorker::Start { log }) => {
                // Answer at once; build the cluster after.
                scope.respond(id, Session::ready(log.as_ref()));
                let (s, out) = Session::boot(log, &wall_ms);
                *session = Some(s);
                out
            }
            (session, msg) => session
                .get_or_insert_with(Session::new)
                .handle(msg, &wall_ms),
        };
        self.post(scope, out);
        self.schedule(scope);
    }
}

/// The worker's main: install the panic hook, then serve the page.
pub fn register() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let message = info.to_string();
        PANIC_SINK.with(|s| {
            if let Ok(s) = s.try_borrow() {
                if let Some((scope, id)) = s.as_ref() {
                    scope.respond(*id, FromWorker::Panicked { message });
                }
            }
        });
        // The Rust state may be broken now: stop taking messages.
        js_sys::global()
            .unchecked_into::<web_sys::DedicatedWorkerGlobalScope>()
            .close();
    }));
    Host::registrar().encoding::<Postcard>().register();
}
