//! The timeline: every trace entry, newest last. An API request shows its path
//! through the stages; a watch event, who it was delivered to. The cursor moves one
//! entry at a time or by dragging; in the past, the map and the inspector show the
//! store as it was then, and acting forks.

use std::collections::BTreeMap;
use std::rc::Rc;

use gloo::timers::callback::Timeout;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::protocol::{DetailView, EntryView, Query, StageView, ToWorker};
use crate::web::context::use_app;
use crate::web::format;
use crate::web::i18n::{outcome_label, stage_label, t, tf, Key};
use crate::web::state::Action;

/// Entries drawn before and after the focused one.
const BEFORE: u64 = 20;
const AFTER: u64 = 6;
/// While following a busy head, the list moves at most this often (milliseconds).
const LIVE_MS: f64 = 250.0;

/// A request's path through the stages on one line (`✓ Authentication › ✗ Validation`):
/// one text node, for the rows that are not focused.
pub fn stage_path(stages: &[StageView]) -> String {
    stages
        .iter()
        .map(|st| {
            let mark = match st.outcome.as_str() {
                "passed" => "✓",
                "failed" => "✗",
                _ => "–",
            };
            format!("{mark} {}", stage_label(&st.name))
        })
        .collect::<Vec<_>>()
        .join(" › ")
}

/// A request's stages as chips; with `full`, each with its reason.
pub fn stage_chips(stages: &[StageView], full: bool) -> Html {
    html! {
        <ol class={classes!("kg-stages", full.then_some("kg-stages-full"))}>
            { for stages.iter().enumerate().map(|(i, st)| html! {
                <li key={i} class={classes!("kg-stage", format!("kg-{}", st.outcome))}
                    title={format!("{}: {}", stage_label(&st.name), st.reason)}>
                    <span class="kg-stage-name">{ stage_label(&st.name) }</span>
                    if full {
                        <span class="kg-stage-outcome">{ outcome_label(&st.outcome) }</span>
                        <span class="kg-stage-reason">{ st.reason.clone() }</span>
                    }
                </li>
            }) }
        </ol>
    }
}

#[derive(Properties, PartialEq)]
pub struct EntryProps {
    pub entry: Rc<EntryView>,
    pub focused: bool,
    pub onfocus: Callback<u64>,
}

#[component]
pub fn EntryRow(p: &EntryProps) -> Html {
    let app = use_app();
    let e = &p.entry;
    let onclick = {
        let cb = p.onfocus.clone();
        let seq = e.seq;
        Callback::from(move |_| cb.emit(seq))
    };
    let kind = match &e.detail {
        DetailView::Note => "kg-note-entry",
        DetailView::Request { .. } => "kg-request-entry",
        DetailView::Watch { .. } => "kg-watch-entry",
        DetailView::Input { .. } => "kg-input-entry",
    };
    let detail = match &e.detail {
        DetailView::Request {
            method,
            path,
            code,
            stages,
            ..
        } => html! {
            <div class="kg-request">
                <span class={classes!("kg-code", (*code >= 400).then_some("kg-code-error"))}>{ code.to_string() }</span>
                <span class="kg-method">{ method.clone() }</span>
                <span class="kg-path">{ path.clone() }</span>
                if p.focused {
                    { stage_chips(stages, true) }
                } else {
                    <span class="kg-stage-path">{ stage_path(stages) }</span>
                }
            </div>
        },
        DetailView::Watch {
            event, revision, ..
        } => html! {
            <div class="kg-watch">
                <span class="kg-event">{ event.clone() }</span>
                <span>{ tf(Key::AtRevision, &[&revision.to_string()]) }</span>
            </div>
        },
        DetailView::Input { step } => {
            html! { <div class="kg-input"><code>{ step.clone() }</code></div> }
        }
        DetailView::Note => html! {},
    };
    let objects = e.objects.iter().enumerate().map(|(i, o)| {
        let key = o.key.clone();
        let app = app.clone();
        let seq = e.seq;
        let onclick = Callback::from(move |ev: MouseEvent| {
            ev.stop_propagation();
            app.dispatch(Action::Cursor(Some(seq)));
            app.dispatch(Action::Select(Some(key.clone())));
        });
        html! {
            <button key={i} class="kg-objref" {onclick}>
                { o.key.display() }
                if o.revision > 0 { <small>{ format!(" @{}", o.revision) }</small> }
            </button>
        }
    });
    html! {
        <li class={classes!("kg-entry", kind, p.focused.then_some("kg-focused"))} data-testid="entry"
            data-seq={e.seq.to_string()} {onclick}>
            <div class="kg-entry-head">
                <span class="kg-seq">{ format!("#{}", e.seq) }</span>
                <span class="kg-time">{ format::seconds(e.time) }</span>
                <span class="kg-actor">{ e.actor.clone() }</span>
                <span class="kg-action">{ e.action.clone() }</span>
            </div>
            <div class="kg-reason">{ e.reason.clone() }</div>
            { detail }
            if !e.objects.is_empty() { <div class="kg-objects">{ for objects }</div> }
        </li>
    }
}

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    pub entries: Rc<BTreeMap<u64, Rc<EntryView>>>,
    /// The newest entry, and the oldest the trace still holds.
    pub last: u64,
    pub first_held: u64,
    /// The store's revision at the head.
    pub revision: u64,
    pub cursor: Option<u64>,
    pub epoch: u32,
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

#[component]
pub fn Timeline(s: &TimelineProps) -> Html {
    let app = use_app();
    // Follow the head at most every LIVE_MS: a busy worker adds entries faster
    // than anyone reads them, and each move redraws the list.
    let shown = use_state(|| s.last);
    let shown_at = use_mut_ref(|| f64::NEG_INFINITY);
    {
        let shown = shown.clone();
        let shown_at = shown_at.clone();
        use_effect_with(s.last, move |&target| {
            let wait = (*shown_at.borrow() + LIVE_MS - now_ms()).max(0.0);
            let timer = if wait <= 0.0 {
                *shown_at.borrow_mut() = now_ms();
                shown.set(target);
                None
            } else {
                Some(Timeout::new(wait as u32, move || {
                    *shown_at.borrow_mut() = now_ms();
                    shown.set(target);
                }))
            };
            move || drop(timer)
        });
    }
    // Entries before the trace's window are rebuilt by replay when asked for.
    let first = 1;
    let live = s.cursor.is_none_or(|c| c >= s.last);
    let last = if live { (*shown).min(s.last) } else { s.last };
    let in_past = !live;
    let focus = s.cursor.unwrap_or(last).clamp(first.min(last), last.max(1));
    let lo = focus.saturating_sub(BEFORE).max(1);
    let hi = (focus + AFTER).min(last);
    // Fetch the entries of the window that the page does not hold.
    {
        let app = app.clone();
        let missing = (lo..=hi).find(|q| !s.entries.contains_key(q));
        use_effect_with((missing.map(|m| (m, hi)), s.epoch), move |(want, _)| {
            if let Some((from, hi)) = *want {
                app.query(Query::Entries {
                    from,
                    count: (hi + 1 - from) as u32,
                });
            }
        });
    }
    let set = {
        let app = app.clone();
        move |c: Option<u64>| {
            let app = app.clone();
            Callback::from(move |_: MouseEvent| app.dispatch(Action::Cursor(c)))
        }
    };
    let on_next = {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| {
            if in_past {
                app.dispatch(Action::Cursor(Some(focus + 1)));
            } else {
                // At the head, the next entry is the next event's.
                app.dispatch(Action::Cursor(None));
                app.send(ToWorker::Step);
            }
        })
    };
    let on_drag = {
        let app = app.clone();
        Callback::from(move |e: InputEvent| {
            let v: u64 = e
                .target_unchecked_into::<HtmlInputElement>()
                .value()
                .parse()
                .unwrap_or(last);
            app.dispatch(Action::Cursor((v < last).then_some(v)));
        })
    };
    let onfocus = {
        let app = app.clone();
        Callback::from(move |seq: u64| app.dispatch(Action::Cursor(Some(seq))))
    };
    // Keep the focused entry in view.
    let list = use_node_ref();
    {
        let list = list.clone();
        use_effect_with((focus, lo, hi), move |_| {
            let Some(ol) = list.cast::<web_sys::HtmlElement>() else {
                return;
            };
            let Ok(Some(row)) = ol.query_selector(".kg-focused") else {
                return;
            };
            let row: web_sys::HtmlElement = row.unchecked_into();
            let (top, h) = (row.offset_top(), row.offset_height());
            let (st, ch) = (ol.scroll_top(), ol.client_height());
            if top < st || top + h > st + ch {
                ol.set_scroll_top(top - (ch - h) / 2);
            }
        });
    }
    let rows = (lo..=hi).filter_map(|q| s.entries.get(&q)).map(|e| {
        html! { <EntryRow key={e.seq} entry={e.clone()} focused={e.seq == focus} onfocus={onfocus.clone()} /> }
    });
    let past = in_past;
    let revision = s.entries.get(&focus).map_or(s.revision, |e| e.revision);
    html! {
        <section class="kg-panel kg-timeline" data-testid="timeline" data-focus={focus.to_string()}
            data-last={last.to_string()} data-live={(!past).to_string()}>
            <h2>{ t(Key::Timeline) }
                <small data-testid="timeline-position">{ tf(Key::EntryOf, &[&focus.to_string(), &last.to_string()]) }</small>
            </h2>
            <div class="kg-timeline-controls">
                <button data-testid="tl-first" title={t(Key::First)} onclick={set(Some(first))}>{ "«" }</button>
                <button data-testid="tl-prev" title={t(Key::Previous)}
                    onclick={set(Some(focus.saturating_sub(1).max(first)))}>{ "◀" }</button>
                <button data-testid="tl-next" title={t(Key::Next)} onclick={on_next}>{ "▶" }</button>
                <button data-testid="tl-live" title={t(Key::FollowHead)} class={classes!((!past).then_some("kg-live"))}
                    onclick={set(None)}>{ t(Key::Live) }</button>
                <input data-testid="tl-slider" type="range" min={first.to_string()} max={last.max(first).to_string()}
                    value={focus.to_string()} oninput={on_drag} aria-label={t(Key::Timeline)} />
            </div>
            if past {
                <p class="kg-past" data-testid="past-banner">
                    { tf(Key::LookingAtPast, &[&focus.to_string(), &revision.to_string()]) }
                </p>
            }
            if s.first_held > 1 && focus < s.first_held {
                <p class="kg-note">{ tf(Key::WindowNote, &[&format::count(s.first_held)]) }</p>
            }
            <ol class="kg-entries" ref={list}>{ for rows }</ol>
        </section>
    }
}
