//! The registry of the lower panel's views. A later chapter (the scheduler's
//! decisions, a controller's state, the network) adds its view here: an id, a
//! title key in the catalog, and a function component to render.

use std::rc::Rc;

use yew::prelude::*;

use super::components::network::Network;
use super::components::{
    about::About, console::Console, controllers::Controllers, editor::Editor,
    request::RequestConsole, scheduling::Scheduling,
};
use super::context::use_app;
use super::i18n::{t, Key};
use super::state::{Action, AppState};

/// One view of the lower panel: it renders from the page's state.
pub struct View {
    pub id: &'static str,
    pub title: Key,
    pub render: fn(&AppState) -> Html,
}

/// Every view, in tab order.
pub const VIEWS: &[View] = &[
    View {
        id: "editor",
        title: Key::Editor,
        render: |s| html! { <Editor result={s.editor_result.clone()} /> },
    },
    View {
        id: "kubectl",
        title: Key::Console,
        render: |s| html! { <Console lines={s.console.clone()} /> },
    },
    View {
        id: "request",
        title: Key::RequestTab,
        render: |s| html! { <RequestConsole result={s.request_result.clone()} /> },
    },
    View {
        id: "scheduling",
        title: Key::SchedulingTab,
        render: |s| {
            let selected = s
                .selected
                .as_ref()
                .filter(|k| k.kind == "Pod")
                .map(|k| format!("{}/{}", k.namespace, k.name));
            html! {
                <Scheduling view={s.sched.clone()} compare={s.compare.clone()} {selected}
                    revision={s.head.revision} epoch={s.epoch} />
            }
        },
    },
    View {
        id: "controllers",
        title: Key::CtlTab,
        render: |s| {
            html! {
                <Controllers ctl={s.ctl.clone()} rollout={s.rollout.clone()} node={s.nodefail.clone()}
                    selected={s.selected.clone()} revision={s.head.revision} epoch={s.epoch} />
            }
        },
    },
    View {
        id: "network",
        title: Key::NetTab,
        render: |s| {
            html! {
                <Network network={s.network.clone()} trace={s.packet_trace.clone()} result={s.net_result.clone()}
                    topology={s.topology.clone()} compare={s.net_compare.clone()}
                    revision={s.head.revision} inputs={s.inputs} epoch={s.epoch} />
            }
        },
    },
    View {
        id: "about",
        title: Key::AboutTab,
        render: |s| html! { <About inputs={s.inputs} scenario={s.scenario.clone()} /> },
    },
];

#[derive(Properties, PartialEq)]
pub struct PanelsProps {
    pub state: Rc<AppState>,
}

/// The tabs and the open view.
#[component]
pub fn Panels(p: &PanelsProps) -> Html {
    let app = use_app();
    let open = p.state.tab;
    let view = VIEWS.iter().find(|v| v.id == open).unwrap_or(&VIEWS[0]);
    html! {
        <section class="kg-panel kg-views">
            <nav class="kg-tabs" role="tablist">
                { for VIEWS.iter().map(|v| {
                    let app = app.clone();
                    let id = v.id;
                    let onclick = Callback::from(move |_| app.dispatch(Action::Tab(id)));
                    html! {
                        <button key={id} role="tab" data-testid={format!("tab-{id}")}
                            class={classes!("kg-tab", (id == view.id).then_some("kg-active"))}
                            aria-selected={(id == view.id).to_string()} {onclick}>{ t(v.title) }</button>
                    }
                }) }
            </nav>
            <div class="kg-view" data-testid={format!("view-{}", view.id)}>{ (view.render)(&p.state) }</div>
        </section>
    }
}
