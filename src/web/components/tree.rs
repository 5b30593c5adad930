//! The resource tree: stored objects counted per kind; a kind opens to its names
//! (a page at a time), and a name opens in the inspector.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use yew::prelude::*;

use crate::protocol::{KindCount, ObjKey, Query};
use crate::web::context::use_app;
use crate::web::format;
use crate::web::i18n::{t, tf, Key};
use crate::web::state::Action;

/// Names fetched per page.
pub const PAGE: u32 = 200;

#[derive(Properties, PartialEq)]
pub struct TreeProps {
    pub kinds: Rc<Vec<KindCount>>,
    pub lists: Rc<BTreeMap<String, (u64, Vec<ObjKey>)>>,
    pub selected: Option<ObjKey>,
    pub epoch: u32,
}

#[component]
pub fn ResourceTree(s: &TreeProps) -> Html {
    let app = use_app();
    let open = use_state(BTreeSet::<String>::new);
    let shown = use_state(|| PAGE);
    // Open kinds follow the counts: fetch their names again when the counts change.
    {
        let app = app.clone();
        let kinds = s.kinds.clone();
        let open = (*open).clone();
        let limit = *shown;
        use_effect_with((kinds, open, limit, s.epoch), move |(_, open, limit, _)| {
            for kind in open {
                app.query(Query::List {
                    kind: kind.clone(),
                    offset: 0,
                    limit: *limit,
                });
            }
        });
    }
    let toggle = |kind: String| {
        let open = open.clone();
        Callback::from(move |_| {
            let mut o = (*open).clone();
            if !o.remove(&kind) {
                o.insert(kind.clone());
            }
            open.set(o);
        })
    };
    let more = {
        let shown = shown.clone();
        Callback::from(move |_| shown.set(*shown + PAGE))
    };
    let select = |k: ObjKey| {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::Select(Some(k.clone()))))
    };
    html! {
        <section class="kg-panel kg-tree" data-testid="tree">
            <h2>{ t(Key::Resources) }</h2>
            <ul>
                { for s.kinds.iter().map(|k| {
                    let is_open = open.contains(&k.kind);
                    let items = s.lists.get(&k.kind).filter(|_| is_open);
                    html! {
                        <li key={k.kind.clone()} class={classes!(is_open.then_some("kg-open"))}>
                            <button class="kg-kind" data-testid="tree-kind" data-kind={k.kind.clone()}
                                onclick={toggle(k.kind.clone())}>
                                { if is_open { "▾ " } else { "▸ " } }{ k.kind.clone() }
                                <span class="kg-badge">{ format::count(k.count) }</span>
                            </button>
                            if let Some((total, items)) = items {
                                <ul>
                                    { for items.iter().map(|o| {
                                        let name = if o.namespace.is_empty() { o.name.clone() } else { format!("{}/{}", o.namespace, o.name) };
                                        let selected = s.selected.as_ref() == Some(o);
                                        html! {
                                            <li key={name.clone()}>
                                                <button class={classes!("kg-item", selected.then_some("kg-selected"))}
                                                    data-testid="tree-item" onclick={select(o.clone())}>{ name }</button>
                                            </li>
                                        }
                                    }) }
                                    if *total > items.len() as u64 {
                                        <li><button class="kg-more" onclick={more.clone()}>
                                            { tf(Key::MoreItems, &[&format::count(*total - items.len() as u64)]) }
                                        </button></li>
                                    }
                                </ul>
                            }
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
