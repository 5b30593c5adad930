//! What the page is, the three ways into the API server, and the recovery test.

use yew::prelude::*;

use crate::protocol::ToWorker;
use crate::web::context::use_app;
use crate::web::i18n::{t, tf, Key};

#[derive(Properties, PartialEq)]
pub struct AboutProps {
    /// Actions in the inputs log.
    pub inputs: usize,
    pub scenario: String,
}

#[component]
pub fn About(p: &AboutProps) -> Html {
    let app = use_app();
    let crash = {
        let app = app.clone();
        Callback::from(move |_| app.send(ToWorker::Crash))
    };
    let reset = {
        let app = app.clone();
        let scenario = p.scenario.clone();
        Callback::from(move |_| {
            app.send(ToWorker::Load {
                scenario: scenario.clone(),
            })
        })
    };
    html! {
        <div class="kg-about">
            <p>{ t(Key::AboutText) }</p>
            <h3>{ t(Key::AccessTitle) }</h3>
            <ul>
                <li>{ t(Key::AccessProgram) }</li>
                <li>{ t(Key::AccessCurl) }</li>
                <li>{ t(Key::AccessKubectl) }</li>
            </ul>
            <h3>{ t(Key::InputsTitle) }</h3>
            <p data-testid="inputs-count">{ tf(Key::InputsCount, &[&p.inputs.to_string()]) }</p>
            <div class="kg-actions">
                <button data-testid="reset" onclick={reset}>{ t(Key::ResetScenario) }</button>
                <button data-testid="crash-worker" class="kg-danger" title={t(Key::CrashHint)} onclick={crash}>
                    { t(Key::CrashWorker) }
                </button>
            </div>
            <p class="kg-hint">{ t(Key::CrashHint) }</p>
        </div>
    }
}
