//! The root component: the state, the worker link, and the layout. The layout
//! hands each component its slice of the state as props.

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use super::components::{
    header::Header, inspector::Inspector, map::ClusterMap, notices::Notices, timeline::Timeline,
    tree::ResourceTree,
};
use super::context::AppContext;
use super::link::Link;
use super::state::{Action, AppState};
use super::views::Panels;

#[derive(Properties, PartialEq)]
pub struct ShellProps {
    pub state: Rc<AppState>,
    pub context: AppContext,
}

/// The layout for a state, inside a context (the app's, or a test's).
#[component]
pub fn Shell(p: &ShellProps) -> Html {
    *p.context.latest.borrow_mut() = p.state.clone();
    let s = &*p.state;
    let at = s.in_past().then_some(s.focus());
    let (map, map_at) = match (&s.past_map, at) {
        (Some((seq, m)), Some(a)) if *seq == a => (m.clone(), Some(a)),
        _ => (s.map.clone(), None),
    };
    html! {
        <ContextProvider<AppContext> context={p.context.clone()}>
            <div class="kg" data-testid="root" data-ready={s.ready.to_string()}>
                <Header head={s.head.clone()} examples={s.examples.clone()} scenario={s.scenario.clone()}
                    speed={s.speed} />
                <Notices notice={s.notice.clone()} busy={s.busy} confirm={s.confirm.clone()} ready={s.ready}
                    last={s.head.last_seq} />
                <main class="kg-main">
                    <div class="kg-left">
                        <ClusterMap map={map} selected={s.selected.clone()} at={map_at} want={at} epoch={s.epoch}
                            packet={s.packet.clone()} />
                        <div class="kg-split">
                            <ResourceTree kinds={s.kinds.clone()} lists={s.lists.clone()} selected={s.selected.clone()}
                                epoch={s.epoch} />
                            <Inspector selected={s.selected.clone()} inspected={s.inspected.clone()} at={at}
                                revision={s.head.revision} epoch={s.epoch} result={s.inspector_result.clone()} />
                        </div>
                    </div>
                    <div class="kg-right">
                        <Timeline entries={s.entries.clone()} last={s.head.last_seq} first_held={s.head.first_seq}
                            revision={s.head.revision} cursor={s.cursor} epoch={s.epoch} />
                    </div>
                </main>
                <Panels state={p.state.clone()} />
            </div>
        </ContextProvider<AppContext>>
    }
}

#[derive(Properties, PartialEq)]
pub struct AppProps {
    /// The worker, spawned before the first render so that it loads meanwhile.
    pub link: Link,
}

#[component]
pub fn App(p: &AppProps) -> Html {
    let state = use_reducer(AppState::default);
    {
        let link = p.link.clone();
        let dispatcher = state.dispatcher();
        use_effect_with((), move |_| {
            link.attach(Callback::from(move |batch| {
                dispatcher.dispatch(Action::Batch(batch))
            }))
        });
    }
    let context = use_memo((), {
        let link = p.link.clone();
        let dispatcher = state.dispatcher();
        move |_| AppContext {
            link,
            dispatcher,
            latest: Rc::new(RefCell::new(Rc::new(AppState::default()))),
        }
    });
    let snapshot: Rc<AppState> = Rc::new((*state).clone());
    html! { <Shell state={snapshot} context={(*context).clone()} /> }
}
