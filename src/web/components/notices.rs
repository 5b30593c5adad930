//! What the page says about the worker: a crash and the recovery, a replay under
//! way, a failure; and the question before acting in the past.

use yew::prelude::*;

use crate::web::context::use_app;
use crate::web::format;
use crate::web::i18n::{t, tf, Key};
use crate::web::state::{Action, Notice, PendingFork};

#[derive(Properties, PartialEq)]
pub struct NoticesProps {
    pub notice: Option<Notice>,
    pub busy: Option<(u64, u64)>,
    pub confirm: Option<PendingFork>,
    pub ready: bool,
    /// The newest trace entry.
    pub last: u64,
}

#[component]
pub fn Notices(s: &NoticesProps) -> Html {
    let app = use_app();
    let dismiss = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::Dismiss))
    };
    let notice = s.notice.as_ref().map(|n| match n {
        Notice::Crashed(m) => html! {
            <div class="kg-notice kg-crash" data-testid="notice-crash" role="alert">
                <strong>{ tf(Key::WorkerCrashed, &[m]) }</strong>
                <span>{ t(Key::WorkerRestarted) }</span>
                <button onclick={dismiss.clone()}>{ t(Key::Dismiss) }</button>
            </div>
        },
        Notice::Failed(m) => html! {
            <div class="kg-notice kg-failed" data-testid="notice-failed" role="alert">
                <strong>{ tf(Key::Failed, &[m]) }</strong>
                <button onclick={dismiss.clone()}>{ t(Key::Dismiss) }</button>
            </div>
        },
    });
    let busy = s.busy.map(|(done, total)| {
        html! {
            <div class="kg-notice kg-busy" data-testid="notice-busy">
                { tf(Key::Rebuilding, &[&format::count(done), &format::count(total)]) }
                <progress max={total.to_string()} value={done.to_string()} />
            </div>
        }
    });
    let confirm = s.confirm.as_ref().map(|p| {
        let yes = {
            let app = app.clone();
            Callback::from(move |_| app.confirm_fork())
        };
        let no = {
            let app = app.clone();
            Callback::from(move |_| app.dispatch(Action::Confirm(None)))
        };
        let dropped = s.last.saturating_sub(p.at);
        html! {
            <div class="kg-modal" role="dialog" aria-modal="true" data-testid="fork-confirm">
                <div class="kg-modal-box">
                    <h3>{ t(Key::ForkTitle) }</h3>
                    <p>{ tf(Key::ForkText, &[&p.at.to_string(), &format::count(dropped)]) }</p>
                    <div class="kg-actions">
                        <button data-testid="fork-yes" class="kg-primary" onclick={yes}>{ t(Key::ForkConfirm) }</button>
                        <button data-testid="fork-no" onclick={no}>{ t(Key::Cancel) }</button>
                    </div>
                </div>
            </div>
        }
    });
    html! {
        <>
            { for notice }
            { for busy }
            if !s.ready { <div class="kg-notice" data-testid="notice-connecting">{ t(Key::Connecting) }</div> }
            { for confirm }
        </>
    }
}
