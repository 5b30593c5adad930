//! The raw request console: the seed's "access by curl". A method, a path and a
//! body go to the API server as they are; the answer and the request's path through
//! the stages come back.

use std::rc::Rc;

use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::protocol::{ActResult, DetailView, PersonAction};
use crate::web::components::timeline::stage_chips;
use crate::web::context::use_app;
use crate::web::i18n::{t, tf, Key};

pub const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
pub const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/json-patch+json",
    "application/apply-patch+yaml",
];

#[derive(Properties, PartialEq)]
pub struct RequestProps {
    pub result: Option<Rc<ActResult>>,
}

#[component]
pub fn RequestConsole(p: &RequestProps) -> Html {
    let app = use_app();
    let method = use_state(|| "GET".to_string());
    let path = use_state(|| "/api/v1/namespaces/default/pods".to_string());
    let content_type = use_state(|| CONTENT_TYPES[0].to_string());
    let body = use_state(String::new);
    let on_method = {
        let method = method.clone();
        Callback::from(move |e: Event| {
            method.set(e.target_unchecked_into::<HtmlSelectElement>().value())
        })
    };
    let on_type = {
        let content_type = content_type.clone();
        Callback::from(move |e: Event| {
            content_type.set(e.target_unchecked_into::<HtmlSelectElement>().value())
        })
    };
    let on_path = {
        let path = path.clone();
        Callback::from(move |e: InputEvent| {
            path.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let on_body = {
        let body = body.clone();
        Callback::from(move |e: InputEvent| {
            body.set(e.target_unchecked_into::<HtmlTextAreaElement>().value())
        })
    };
    let on_send = {
        let app = app.clone();
        let (method, path, body, content_type) = (
            method.clone(),
            path.clone(),
            body.clone(),
            content_type.clone(),
        );
        Callback::from(move |_| {
            let has_body = !body.trim().is_empty();
            app.act(PersonAction::Request {
                method: (*method).clone(),
                path: (*path).clone(),
                body: (*body).clone(),
                content_type: if has_body {
                    (*content_type).clone()
                } else {
                    String::new()
                },
            })
        })
    };
    let curl = {
        let mut c = format!("curl -X {} https://10.0.0.1:6443{}", *method, *path);
        if !body.trim().is_empty() {
            c.push_str(&format!(" -H 'Content-Type: {}' -d @-", *content_type));
        }
        c
    };
    let result = p.result.clone();
    html! {
        <div class="kg-request-console">
            <p class="kg-hint">{ t(Key::RequestHint) }</p>
            <div class="kg-request-line">
                <select data-testid="request-method" onchange={on_method} aria-label={t(Key::Method)}>
                    { for METHODS.iter().map(|m| html! { <option key={*m} value={*m} selected={*m == *method}>{ *m }</option> }) }
                </select>
                <input data-testid="request-path" type="text" value={(*path).clone()} oninput={on_path}
                    aria-label={t(Key::Path)} spellcheck="false" />
                <button data-testid="request-send" class="kg-primary" onclick={on_send}>{ t(Key::Send) }</button>
            </div>
            <label class="kg-field">
                <span>{ t(Key::ContentType) }</span>
                <select onchange={on_type}>
                    { for CONTENT_TYPES.iter().map(|c| html! { <option key={*c} value={*c} selected={*c == *content_type}>{ *c }</option> }) }
                </select>
            </label>
            <textarea data-testid="request-body" value={(*body).clone()} oninput={on_body} rows="6"
                placeholder={t(Key::Body)} aria-label={t(Key::Body)} spellcheck="false" />
            <pre class="kg-curl">{ curl }</pre>
            if let Some(r) = result {
                <div class="kg-result" data-testid="request-result">
                    <p class="kg-command"><code>{ r.command.clone() }</code></p>
                    if let Some(code) = r.code {
                        <p class={classes!("kg-code", (code >= 400).then_some("kg-code-error"))} data-testid="request-code">
                            { tf(Key::ResponseCode, &[&code.to_string()]) }
                        </p>
                    }
                    if let Some(DetailView::Request { stages, .. }) = r.entry.as_ref().map(|e| &e.detail) {
                        { stage_chips(stages, true) }
                    }
                    if !r.stdout.is_empty() { <pre class="kg-stdout" data-testid="request-response">{ r.stdout.clone() }</pre> }
                    if !r.stderr.is_empty() { <pre class="kg-stderr">{ r.stderr.clone() }</pre> }
                </div>
            }
        </div>
    }
}
