//! The kubectl console: type a command, Enter to run it, ↑ and ↓ for history. The
//! scenario's own steps print here too.

use std::rc::Rc;

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::protocol::PersonAction;
use crate::web::context::use_app;
use crate::web::i18n::{t, Key};
use crate::web::state::ConsoleLine;
use crate::web::storage;

/// Commands kept in the history.
pub const HISTORY: usize = 100;

#[derive(Properties, PartialEq)]
pub struct ConsoleProps {
    pub lines: Rc<Vec<Rc<ConsoleLine>>>,
}

#[component]
pub fn Console(p: &ConsoleProps) -> Html {
    let app = use_app();
    let line = use_state(String::new);
    let history = use_state(storage::load_history);
    // Where ↑/↓ is in the history (None: a new line).
    let at = use_state(|| None::<usize>);
    let out = use_node_ref();
    let input = use_node_ref();
    {
        let out = out.clone();
        use_effect_with(p.lines.len(), move |_| {
            if let Some(el) = out.cast::<web_sys::Element>() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }
    let oninput = {
        let line = line.clone();
        Callback::from(move |e: InputEvent| {
            line.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let onkeydown = {
        let app = app.clone();
        let line = line.clone();
        let input = input.clone();
        let history = history.clone();
        let at = at.clone();
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Enter" => {
                // The element's value, not the state: Enter may come before a re-render.
                let typed = input
                    .cast::<HtmlInputElement>()
                    .map_or_else(|| (*line).clone(), |i| i.value());
                let cmd = typed.trim().to_string();
                if cmd.is_empty() {
                    return;
                }
                let mut h = (*history).clone();
                h.retain(|c| c != &cmd);
                h.push(cmd.clone());
                if h.len() > HISTORY {
                    h.remove(0);
                }
                storage::save_history(&h);
                history.set(h);
                at.set(None);
                line.set(String::new());
                let cmd = cmd.strip_prefix("kubectl ").unwrap_or(&cmd).to_string();
                app.act(PersonAction::Kubectl { line: cmd });
            }
            "ArrowUp" | "ArrowDown" => {
                e.prevent_default();
                if history.is_empty() {
                    return;
                }
                let up = e.key() == "ArrowUp";
                let next = match (*at, up) {
                    (None, true) => Some(history.len() - 1),
                    (None, false) => None,
                    (Some(0), true) => Some(0),
                    (Some(i), true) => Some(i - 1),
                    (Some(i), false) if i + 1 < history.len() => Some(i + 1),
                    (Some(_), false) => None,
                };
                at.set(next);
                line.set(next.map(|i| history[i].clone()).unwrap_or_default());
            }
            _ => {}
        })
    };
    html! {
        <div class="kg-console">
            <pre class="kg-scrollback" data-testid="console-output" ref={out}>
                { for p.lines.iter().enumerate().map(|(i, c)| html! {
                    <div key={i} class={classes!("kg-block", c.scenario.then_some("kg-from-scenario"))}>
                        <span class="kg-prompt">{ if c.scenario { t(Key::FromScenario) } else { "" } }{ "$ " }</span>
                        <span class="kg-command">{ c.command.clone() }</span>{ "\n" }
                        if !c.stdout.is_empty() { <span class="kg-stdout">{ c.stdout.clone() }</span> }
                        if !c.stdout.is_empty() && !c.stdout.ends_with('\n') { { "\n" } }
                        if !c.stderr.is_empty() { <span class="kg-stderr">{ c.stderr.clone() }{ "\n" }</span> }
                    </div>
                }) }
            </pre>
            <label class="kg-prompt-line">
                <span class="kg-prompt">{ "$ kubectl " }</span>
                <input ref={input} data-testid="kubectl-input" type="text" value={(*line).clone()} {oninput} {onkeydown}
                    placeholder={t(Key::ConsolePlaceholder)} aria-label={t(Key::ConsoleHint)} spellcheck="false"
                    autocomplete="off" />
            </label>
            <p class="kg-hint">{ t(Key::ConsoleHint) }</p>
        </div>
    }
}
