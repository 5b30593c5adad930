//! The manifest editor: `kubectl apply -f -` of its text. Errors show in place,
//! with the line and column of a YAML error. The text survives a reload.

use std::rc::Rc;

use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::protocol::{ActResult, PersonAction};
use crate::web::context::use_app;
use crate::web::i18n::{t, tf, Key};
use crate::web::storage;

/// What the editor holds the first time.
pub const DEFAULT_MANIFEST: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  # No scheduler runs yet: spec.nodeName binds the pod to a node, as a
  # scheduler's Binding would.
  nodeName: node-1
  containers:
  - name: web
    image: nginx:1.27
    ports:
    - containerPort: 80
";

/// The UTF-16 offset of a 1-based line and column (what a textarea's selection counts).
pub fn utf16_offset(text: &str, line: u32, column: u32) -> u32 {
    let mut offset = 0u32;
    for (i, l) in text.split('\n').enumerate() {
        if i + 1 == line as usize {
            let col: u32 = l
                .chars()
                .take(column.saturating_sub(1) as usize)
                .map(|c| c.len_utf16() as u32)
                .sum();
            return offset + col;
        }
        offset += l.chars().map(|c| c.len_utf16() as u32).sum::<u32>() + 1;
    }
    offset
}

#[derive(Properties, PartialEq)]
pub struct EditorProps {
    pub result: Option<Rc<ActResult>>,
}

#[component]
pub fn Editor(p: &EditorProps) -> Html {
    let app = use_app();
    let text = use_state(|| storage::load_editor().unwrap_or_else(|| DEFAULT_MANIFEST.to_string()));
    let area = use_node_ref();
    let oninput = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| {
            let v = e.target_unchecked_into::<HtmlTextAreaElement>().value();
            storage::save_editor(&v);
            text.set(v);
        })
    };
    let on_apply = {
        let app = app.clone();
        let text = text.clone();
        let area = area.clone();
        Callback::from(move |_| {
            let text = area
                .cast::<HtmlTextAreaElement>()
                .map_or_else(|| (*text).clone(), |a| a.value());
            app.act(PersonAction::Apply { text })
        })
    };
    let result = p.result.clone();
    let error_place = result.as_ref().and_then(|r| r.position).map(|(line, column)| {
        let source_line = text.split('\n').nth(line.saturating_sub(1) as usize).unwrap_or_default().to_string();
        let caret = format!("{}^", " ".repeat(column.saturating_sub(1) as usize));
        let goto = {
            let area = area.clone();
            let text = text.clone();
            Callback::from(move |_| {
                if let Some(a) = area.cast::<HtmlTextAreaElement>() {
                    let at = utf16_offset(&text, line, column);
                    let _ = a.focus();
                    let _ = a.set_selection_range(at, at + 1);
                }
            })
        };
        html! {
            <div class="kg-error-place" data-testid="editor-error-place">
                <button class="kg-link" onclick={goto}>{ tf(Key::EditorErrorAt, &[&line.to_string(), &column.to_string()]) }</button>
                <pre>{ format!("{line:>4} | {source_line}\n     | {caret}") }</pre>
            </div>
        }
    });
    html! {
        <div class="kg-editor">
            <p class="kg-hint">{ t(Key::EditorHint) }</p>
            <textarea ref={area} data-testid="editor" spellcheck="false" value={(*text).clone()} {oninput}
                aria-label={t(Key::Editor)} rows="16" />
            <div class="kg-actions">
                <button data-testid="apply" class="kg-primary" onclick={on_apply}>{ t(Key::Apply) }</button>
            </div>
            if let Some(r) = result {
                <div class={classes!("kg-result", if r.ok { "kg-ok" } else { "kg-failed" })} data-testid="editor-result">
                    if !r.stdout.is_empty() { <pre class="kg-stdout">{ r.stdout.clone() }</pre> }
                    if !r.stderr.is_empty() { <pre class="kg-stderr" data-testid="editor-error">{ r.stderr.clone() }</pre> }
                    { for error_place }
                </div>
            }
        </div>
    }
}
