//! What every component reaches through Yew's context: the worker, the dispatcher,
//! and the newest state for event handlers. The context never changes after the
//! first render, so it makes no component render again: components render from
//! their props (slices of the state, compared for equality), and a frame from the
//! worker re-renders only what it changed.

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use crate::protocol::{PersonAction, Query, ToWorker};

use super::link::Link;
use super::state::{Action, AppState, PendingFork};

#[derive(Clone)]
pub struct AppContext {
    pub link: Link,
    pub dispatcher: UseReducerDispatcher<AppState>,
    /// The state as of the last render, for handlers (not for rendering).
    pub latest: Rc<RefCell<Rc<AppState>>>,
}

impl PartialEq for AppContext {
    fn eq(&self, other: &Self) -> bool {
        self.link == other.link && Rc::ptr_eq(&self.latest, &other.latest)
    }
}

impl AppContext {
    /// The newest state (read it in handlers; render from props).
    pub fn state(&self) -> Rc<AppState> {
        self.latest.borrow().clone()
    }

    /// Takes a person's action; in the past, asks first (acting there forks).
    pub fn act(&self, action: PersonAction) {
        let s = self.state();
        if let (true, Some(at)) = (s.in_past(), s.cursor) {
            self.dispatch(Action::Confirm(Some(PendingFork { action, at })));
            return;
        }
        let id = self.link.next_id();
        self.link.send(ToWorker::Act {
            id,
            action,
            fork_at: None,
        });
    }

    /// Takes the action waiting for confirmation, forking at its entry.
    pub fn confirm_fork(&self) {
        let Some(p) = self.state().confirm.clone() else {
            return;
        };
        let id = self.link.next_id();
        self.link.send(ToWorker::Act {
            id,
            action: p.action,
            fork_at: Some(p.at),
        });
        self.dispatch(Action::Confirm(None));
        self.dispatch(Action::Cursor(None));
    }

    pub fn query(&self, query: Query) {
        let id = self.link.next_id();
        self.link.send(ToWorker::Query { id, query });
    }

    pub fn send(&self, msg: ToWorker) {
        self.link.send(msg);
    }

    pub fn dispatch(&self, a: Action) {
        self.dispatcher.dispatch(a);
    }
}

/// The app's context (components live inside [`super::app::Shell`]).
#[hook]
pub fn use_app() -> AppContext {
    use_context::<AppContext>().expect("components are used inside the app's context")
}
