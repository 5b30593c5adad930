//! The inspector: the selected object's YAML as it was right after the cursor's
//! trace entry (`store.get_at`; beyond the store's history window, by replay), or
//! as it is now. Under a Node or a Pod, the fault and node buttons
//! ([`super::faults`]).

use yew::prelude::*;

use std::rc::Rc;

use crate::protocol::{ActResult, ObjKey, ObjectView, Query};
use crate::web::components::faults::FaultButtons;
use crate::web::context::use_app;
use crate::web::i18n::{t, tf, Key};
use crate::web::state::Action;

#[derive(Properties, PartialEq)]
pub struct InspectorProps {
    pub selected: Option<ObjKey>,
    pub inspected: Option<Rc<ObjectView>>,
    /// The trace entry looked at, when in the past.
    pub at: Option<u64>,
    /// The store's revision at the head.
    pub revision: u64,
    pub epoch: u32,
    /// The last fault or node button's result.
    #[prop_or_default]
    pub result: Option<Rc<ActResult>>,
}

#[component]
pub fn Inspector(s: &InspectorProps) -> Html {
    let app = use_app();
    let at = s.at;
    // Ask again when the selection or the cursor moves, and, while live, when the
    // store changes.
    {
        let app = app.clone();
        let live_rev = at.is_none().then_some(s.revision);
        use_effect_with(
            (s.selected.clone(), at, live_rev, s.epoch),
            move |(key, at, _, _)| {
                if let Some(key) = key {
                    app.query(Query::Object {
                        key: key.clone(),
                        at: *at,
                    });
                }
            },
        );
    }
    let close = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::Select(None)))
    };
    let Some(key) = &s.selected else {
        return html! {
            <section class="kg-panel kg-inspector" data-testid="inspector">
                <h2>{ t(Key::Inspector) }</h2>
                <p class="kg-empty">{ t(Key::InspectorEmpty) }</p>
            </section>
        };
    };
    let view = s.inspected.as_ref().filter(|o| &o.key == key);
    html! {
        <section class="kg-panel kg-inspector" data-testid="inspector">
            <h2>
                { t(Key::Inspector) }
                <button class="kg-close" title={t(Key::Close)} onclick={close}>{ "×" }</button>
            </h2>
            <p class="kg-object-title" data-testid="inspector-title">{ key.display() }</p>
            { match view {
                None => html! { <p class="kg-empty">{ t(Key::Loading) }</p> },
                Some(o) => html! {
                    <>
                        <p class="kg-when">{ match o.at {
                            Some(seq) => tf(Key::InspectorAt, &[&seq.to_string(), &o.revision.to_string()]),
                            None => tf(Key::InspectorNow, &[&o.revision.to_string()]),
                        } }</p>
                        if o.replayed { <p class="kg-note">{ t(Key::InspectorReplayed) }</p> }
                        { match &o.yaml {
                            Some(y) => html! {
                                <>
                                    <FaultButtons target={key.clone()} containers={o.containers.clone()} result={s.result.clone()} />
                                    <pre class="kg-yaml" data-testid="inspector-yaml">{ y.clone() }</pre>
                                </>
                            },
                            None => html! { <p class="kg-empty" data-testid="inspector-absent">{ t(Key::InspectorAbsent) }</p> },
                        } }
                    </>
                },
            } }
        </section>
    }
}
