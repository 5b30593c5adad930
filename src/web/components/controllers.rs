//! The controllers view, in three parts: the control loops (each loop's
//! reconciles, stepped through one at a time: what it observed, what it wanted and
//! did and why), a Deployment's rolling update as a step chart of its old and new
//! ReplicaSets between the surge and unavailability bounds, and a node's failure
//! as a vertical timeline from its missed heartbeats to its rescheduled pods.
//!
//! The worker builds each part (`host::ctl`); this only draws it. Objects open in
//! the inspector; a change or an item moves the timeline's cursor to its entry.

use std::rc::Rc;

use yew::prelude::*;

use crate::protocol::{
    CtlView, DetailView, EntryView, FailItem, FailKind, NodeFailView, ObjKey, Query, RolloutView,
};
use crate::web::context::{use_app, AppContext};
use crate::web::format::seconds;
use crate::web::i18n::{t, tf, Key};
use crate::web::state::Action;

const PARTS: [(Key, &str); 3] = [
    (Key::CtlPartLoops, "loops"),
    (Key::CtlPartRollout, "rollout"),
    (Key::CtlPartNode, "node"),
];

#[derive(Properties, PartialEq)]
pub struct ControllersProps {
    pub ctl: Option<Rc<CtlView>>,
    pub rollout: Option<Rc<RolloutView>>,
    pub node: Option<Rc<NodeFailView>>,
    /// The object selected elsewhere: a Deployment or a Node opens its part.
    #[prop_or_default]
    pub selected: Option<ObjKey>,
    pub revision: u64,
    pub epoch: u32,
}

#[component]
pub fn Controllers(p: &ControllersProps) -> Html {
    let app = use_app();
    let part = use_state(|| 0usize);
    let name = use_state(|| None::<String>);
    let index = use_state(|| None::<u64>);
    let dep = use_state(String::new);
    let node = use_state(String::new);
    {
        let (part, dep, node) = (part.clone(), dep.clone(), node.clone());
        use_effect_with(p.selected.clone(), move |sel| match sel {
            Some(k) if k.kind == "Deployment" => {
                dep.set(format!("{}/{}", k.namespace, k.name));
                part.set(1);
            }
            Some(k) if k.kind == "Node" => {
                node.set(k.name.clone());
                part.set(2);
            }
            _ => {}
        });
    }
    {
        let app = app.clone();
        let key = (
            *part,
            (*name).clone(),
            *index,
            (*dep).clone(),
            (*node).clone(),
            p.revision,
            p.epoch,
        );
        use_effect_with(key, move |(part, name, index, dep, node, _, _)| {
            app.query(match part {
                0 => Query::Controllers {
                    name: name.clone(),
                    at: *index,
                },
                1 => Query::Rollout {
                    deployment: dep.clone(),
                },
                _ => Query::NodeFailure { node: node.clone() },
            })
        });
    }
    let body = match *part {
        0 => loops(&app, p.ctl.as_deref(), &name, &index),
        1 => rollout(&app, p.rollout.as_deref(), &dep),
        _ => failure(&app, p.node.as_deref(), &node),
    };
    html! {
        <div class="kg-ctl" data-testid="controllers">
            <p class="kg-hint">{ t(Key::CtlHint) }</p>
            <nav class="kg-sched-phases">
                { for PARTS.iter().enumerate().map(|(i, (title, id))| {
                    let part = part.clone();
                    html! {
                        <button class={classes!("kg-tab", (i == *part).then_some("kg-active"))}
                            data-testid={format!("ctl-part-{id}")} onclick={Callback::from(move |_| part.set(i))}>{ t(*title) }</button>
                    }
                }) }
            </nav>
            { body }
        </div>
    }
}

/// A list of names to pick from.
fn picker(testid: &'static str, names: &[String], at: &str, pick: &UseStateHandle<String>) -> Html {
    html! {
        <aside class="kg-sched-queue">
            <ul class="kg-sched-list">
                { for names.iter().map(|n| {
                    let pick = pick.clone();
                    let v = n.clone();
                    html! {
                        <li key={n.clone()}><button class={classes!("kg-link", (n == at).then_some("kg-active"))}
                            data-testid={testid} onclick={Callback::from(move |_| pick.set(v.clone()))}>{ n.clone() }</button></li>
                    }
                }) }
            </ul>
        </aside>
    }
}

fn cursor(app: &AppContext, seq: u64) -> Callback<MouseEvent> {
    let app = app.clone();
    Callback::from(move |_| {
        if seq > 0 {
            app.dispatch(Action::Cursor(Some(seq)))
        }
    })
}

fn loops(
    app: &AppContext,
    v: Option<&CtlView>,
    name: &UseStateHandle<Option<String>>,
    index: &UseStateHandle<Option<u64>>,
) -> Html {
    let Some(v) = v else {
        return html! { <p class="kg-empty">{ t(Key::Loading) }</p> };
    };
    if v.loops.is_empty() {
        return html! { <p class="kg-empty" data-testid="ctl-none">{ t(Key::CtlNone) }</p> };
    }
    let go = |to: Option<u64>| {
        let index = index.clone();
        Callback::from(move |_| index.set(to))
    };
    html! {
        <div class="kg-sched-body">
            <aside class="kg-sched-queue" data-testid="ctl-loops">
                <p class="kg-muted">{ tf(Key::CtlWindow, &[&v.window.to_string()]) }</p>
                <ul class="kg-sched-list">
                    { for v.loops.iter().map(|l| {
                        let (name, index, n) = (name.clone(), index.clone(), l.name.clone());
                        let onclick = Callback::from(move |_| { name.set(Some(n.clone())); index.set(None); });
                        let mut extra = tf(Key::CtlReconciles, &[&l.reconciles.to_string()]);
                        if l.members > 1 {
                            extra = format!("{} · {extra}", tf(Key::CtlMembers, &[&l.members.to_string()]));
                        }
                        html! {
                            <li key={l.name.clone()} title={l.recent.join("\n")}>
                                <button class={classes!("kg-link", (l.name == v.name).then_some("kg-active"))}
                                    data-testid="ctl-loop" data-loop={l.name.clone()} {onclick}>{ l.name.clone() }</button>
                                <span class="kg-muted">{ " " }{ extra }</span>
                                <div class="kg-muted">{ l.recent.first().cloned().unwrap_or_default() }</div>
                            </li>
                        }
                    }) }
                </ul>
            </aside>
            <div data-testid="ctl-reconcile">
                { match &v.reconcile {
                    None => html! { <p class="kg-empty">{ t(Key::CtlNone) }</p> },
                    Some(r) => html! {
                        <>
                            <nav class="kg-sched-phases">
                                <button data-testid="ctl-prev" title={t(Key::CtlPrev)} disabled={r.index == 0}
                                    onclick={go(Some(r.prev.max(1)))}>{ "◀" }</button>
                                <strong data-testid="ctl-actor">{ r.actor.clone() }</strong>
                                <span data-testid="ctl-at">{ tf(Key::CtlReconcileOf, &[&(r.index + 1).to_string(), &r.total.to_string(), &seconds(r.time)]) }</span>
                                <button data-testid="ctl-next" title={t(Key::CtlNext)} disabled={r.index + 1 >= r.total}
                                    onclick={go(Some(r.next))}>{ "▶" }</button>
                                <button class="kg-link" data-testid="ctl-latest" onclick={go(None)}>{ t(Key::CtlLatest) }</button>
                            </nav>
                            <h4>{ t(Key::CtlObserved) }</h4>
                            if r.observed.is_empty() {
                                <p class="kg-empty">{ t(Key::CtlObservedNone) }</p>
                            }
                            <ol class="kg-ctl-entries" data-testid="ctl-observed">{ for r.observed.iter().map(|e| entry(app, e)) }</ol>
                            <h4>{ t(Key::CtlDid) }</h4>
                            <ol class="kg-ctl-entries" data-testid="ctl-actions">{ for r.actions.iter().map(|e| entry(app, e)) }</ol>
                            if r.more > 0 { <p class="kg-muted">{ tf(Key::CtlMore, &[&r.more.to_string()]) }</p> }
                        </>
                    },
                } }
            </div>
        </div>
    }
}

fn entry(app: &AppContext, e: &EntryView) -> Html {
    let line = match &e.detail {
        DetailView::Request {
            method,
            path,
            user,
            code,
            ..
        } => format!("{method} {path} ({user}) → {code}"),
        _ => String::new(),
    };
    html! {
        <li key={e.seq}>
            <button class="kg-link" onclick={cursor(app, e.seq)}>{ format!("#{}", e.seq) }</button>{ " " }
            <strong>{ e.action.clone() }</strong>{ " — " }{ e.reason.clone() }
            if !line.is_empty() { <div class="kg-muted">{ line }</div> }
            <div>{ for e.objects.iter().map(|o| {
                let app = app.clone();
                let key = o.key.clone();
                let onclick = Callback::from(move |_| app.dispatch(Action::Select(Some(key.clone()))));
                html! { <button class="kg-link kg-ctl-obj" data-testid="ctl-object" {onclick}>{ o.key.display() }</button> }
            }) }</div>
        </li>
    }
}

/// A step line through `ys` at `xs`, as SVG points.
fn steps(xs: &[f64], ys: impl Iterator<Item = f64>) -> String {
    let mut out = String::new();
    for (i, y) in ys.enumerate() {
        if i > 0 {
            out.push_str(&format!("{:.1},{y:.1} ", xs[i]));
        }
        let end = xs.get(i + 1).copied().unwrap_or(xs[i] + 12.0);
        out.push_str(&format!("{:.1},{y:.1} {end:.1},{y:.1} ", xs[i]));
    }
    out
}

fn rollout(app: &AppContext, v: Option<&RolloutView>, dep: &UseStateHandle<String>) -> Html {
    let Some(v) = v else {
        return html! { <p class="kg-empty">{ t(Key::Loading) }</p> };
    };
    if v.deployments.is_empty() {
        return html! { <p class="kg-empty" data-testid="ctl-rollout-none">{ t(Key::CtlNoDeployments) }</p> };
    }
    let ps = &v.points;
    let (w, h, pad) = (560.0, 180.0, 24.0);
    let top = ps
        .iter()
        .map(|p| {
            p.counts
                .iter()
                .copied()
                .chain([p.desired, p.bounds.map_or(0, |b| b.0)])
                .max()
                .unwrap_or(0)
        })
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = ps.len().max(1) as f64;
    let xs: Vec<f64> = (0..ps.len())
        .map(|i| pad + i as f64 * (w - 2.0 * pad) / n)
        .collect();
    let y = |c: i32| h - pad - f64::from(c.max(0)) * (h - 2.0 * pad) / top;
    let line = |f: &dyn Fn(&crate::protocol::RolloutPoint) -> i32,
                class: &'static str,
                label: Key| {
        html! { <polyline class={class} points={steps(&xs, ps.iter().map(|p| y(f(p))))}><title>{ t(label) }</title></polyline> }
    };
    let bounded = ps.iter().any(|p| p.bounds.is_some());
    let set = |i: Option<u16>| {
        i.and_then(|i| v.sets.get(i as usize))
            .map_or_else(String::new, |(n, r)| format!("{n} (r{r})"))
    };
    html! {
        <div class="kg-sched-body">
            { picker("ctl-deployment", &v.deployments, &v.deployment, dep) }
            <div data-testid="ctl-rollout">
                <p><strong>{ v.deployment.clone() }</strong>{ " · " }
                    { tf(Key::CtlStrategy, &[&v.strategy, &v.max_surge, &v.max_unavailable]) }</p>
                if ps.is_empty() {
                    <p class="kg-empty">{ t(Key::CtlNoPoints) }</p>
                } else {
                    <svg class="kg-ctl-chart" data-testid="ctl-chart" viewBox={format!("0 0 {w} {h}")} role="img" aria-label={t(Key::CtlChart)}>
                        <line class="kg-axis" x1={pad.to_string()} y1={y(0).to_string()} x2={(w - pad).to_string()} y2={y(0).to_string()} />
                        <text x="2" y={(y(top as i32) + 4.0).to_string()}>{ top }</text>
                        <text x="2" y={(y(0) + 4.0).to_string()}>{ "0" }</text>
                        if bounded {
                            { line(&|p| p.bounds.map_or(p.desired, |b| b.0), "kg-bound", Key::CtlUpper) }
                            { line(&|p| p.bounds.map_or(p.desired, |b| b.1), "kg-bound", Key::CtlLower) }
                        }
                        { line(&|p| p.desired, "kg-desired", Key::CtlDesired) }
                        { line(&|p| p.counts[3], "kg-old", Key::CtlOldSpec) }
                        { line(&|p| p.counts[5], "kg-old kg-avail", Key::CtlOldAvail) }
                        { line(&|p| p.counts[0], "kg-new", Key::CtlNewSpec) }
                        { line(&|p| p.counts[2], "kg-new kg-avail", Key::CtlNewAvail) }
                    </svg>
                    <p class="kg-ctl-legend">
                        { for [("kg-new", Key::CtlNewSpec), ("kg-new kg-avail", Key::CtlNewAvail), ("kg-old", Key::CtlOldSpec),
                               ("kg-old kg-avail", Key::CtlOldAvail), ("kg-desired", Key::CtlDesired), ("kg-bound", Key::CtlUpper), ("kg-bound", Key::CtlLower)]
                            .iter().map(|(c, k)| html! { <span class={classes!("kg-key", *c)}>{ t(*k) }</span> }) }
                    </p>
                    if v.dropped > 0 { <p class="kg-muted">{ tf(Key::CtlDropped, &[&v.dropped.to_string()]) }</p> }
                    <div class="kg-table-wrap">
                        <table class="kg-sched-table" data-testid="ctl-points">
                            <thead><tr>
                                <th>{ "#" }</th><th>{ t(Key::CtlTime) }</th><th>{ t(Key::CtlDesired) }</th><th>{ t(Key::CtlBounds) }</th>
                                <th>{ t(Key::CtlNew) }<br /><span class="kg-muted">{ t(Key::CtlCounts) }</span></th>
                                <th>{ t(Key::CtlOld) }<br /><span class="kg-muted">{ t(Key::CtlCounts) }</span></th>
                            </tr></thead>
                            <tbody>
                                { for ps.iter().map(|p| {
                                    let c = p.counts;
                                    html! {
                                        <tr key={p.revision} onclick={cursor(app, p.seq)}>
                                            <td>{ format!("#{}", p.seq) }</td><td>{ seconds(p.time) }</td><td>{ p.desired }</td>
                                            <td>{ p.bounds.map_or_else(|| "—".to_string(), |(a, b)| format!("{b}…{a}")) }</td>
                                            <td>{ format!("{} / {} / {} {}", c[0], c[1], c[2], set(p.new)) }</td>
                                            <td>{ format!("{} / {} / {}", c[3], c[4], c[5]) }</td>
                                        </tr>
                                    }
                                }) }
                            </tbody>
                        </table>
                    </div>
                }
            </div>
        </div>
    }
}

fn item_text(i: &FailItem) -> String {
    let key = match i.kind {
        FailKind::Renewed => Key::FailRenewed,
        FailKind::Missed => Key::FailMissed,
        FailKind::Ready => Key::FailReady,
        FailKind::TaintAdded => Key::FailTaintAdded,
        FailKind::TaintRemoved => Key::FailTaintRemoved,
        FailKind::PodDeleted => Key::FailPodDeleted,
        FailKind::PodCreated => Key::FailPodCreated,
        FailKind::PodBound => Key::FailPodBound,
        FailKind::Note => Key::FailNote,
    };
    tf(key, &[&i.subject, &i.detail])
}

fn failure(app: &AppContext, v: Option<&NodeFailView>, node: &UseStateHandle<String>) -> Html {
    let Some(v) = v else {
        return html! { <p class="kg-empty">{ t(Key::Loading) }</p> };
    };
    if v.nodes.is_empty() {
        return html! { <p class="kg-empty" data-testid="ctl-node-none">{ t(Key::CtlNoNodes) }</p> };
    }
    let interval = v.interval.to_string();
    html! {
        <div class="kg-sched-body">
            { picker("ctl-node", &v.nodes, &v.node, node) }
            <div data-testid="ctl-failure">
                <p><strong>{ v.node.clone() }</strong>{ " · " }{ match v.last_renew {
                    Some(at) => tf(Key::CtlLease, &[&v.renewals.to_string(), &seconds(at), &interval]),
                    None => tf(Key::CtlNoLease, &[&interval]),
                } }</p>
                if v.dropped > 0 { <p class="kg-muted">{ tf(Key::CtlDropped, &[&v.dropped.to_string()]) }</p> }
                if v.items.is_empty() { <p class="kg-empty">{ t(Key::CtlNothing) }</p> }
                <ol class="kg-ctl-timeline" data-testid="ctl-items">
                    { for v.items.iter().map(|i| html! {
                        <li class={classes!("kg-ctl-item", format!("kg-{:?}", i.kind).to_lowercase())} onclick={cursor(app, i.seq)}>
                            <span class="kg-muted">{ seconds(i.time) }</span>{ " " }{ item_text(i) }
                            if !i.actor.is_empty() { <span class="kg-muted">{ " · " }{ tf(Key::CtlBy, &[&i.actor]) }</span> }
                        </li>
                    }) }
                </ol>
            </div>
        </div>
    }
}
