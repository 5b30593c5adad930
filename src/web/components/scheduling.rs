//! The scheduling view: the queue, and for one pod its decision, one phase at a
//! time: the filter matrix (nodes by filters, passed or the reason), the score
//! table (nodes by score plugins, each cell with its arithmetic), the weighted
//! totals, the winner, and the binding through the API server. A second
//! configuration can be replayed over the same inputs and compared.
//!
//! The worker sends a bounded view (a page of nodes, the rest counted per
//! reason), so 5,000 nodes draw as fast as three.

use std::rc::Rc;

use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::protocol::{
    CompareView, DecisionView, DetailView, EntryView, FilterCell, Query, SchedView,
};
use crate::web::context::use_app;
use crate::web::i18n::{outcome_label, stage_label, t, tf, Key};

/// Node rows asked for per page.
pub const ROWS: u32 = 20;

/// The phases, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Filter,
    Score,
    Total,
    Winner,
    Bind,
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::Filter,
        Phase::Score,
        Phase::Total,
        Phase::Winner,
        Phase::Bind,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Phase::Filter => "filter",
            Phase::Score => "score",
            Phase::Total => "total",
            Phase::Winner => "winner",
            Phase::Bind => "bind",
        }
    }

    pub fn title(self) -> Key {
        match self {
            Phase::Filter => Key::PhaseFilter,
            Phase::Score => Key::PhaseScore,
            Phase::Total => Key::PhaseTotal,
            Phase::Winner => Key::PhaseWinner,
            Phase::Bind => Key::PhaseBind,
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct SchedulingProps {
    pub view: Option<Rc<SchedView>>,
    pub compare: Option<Rc<CompareView>>,
    /// The pod selected elsewhere on the page (`namespace/name`): shown when it changes.
    #[prop_or_default]
    pub selected: Option<String>,
    /// The store's revision (the view is asked again when it moves).
    pub revision: u64,
    pub epoch: u32,
}

#[component]
pub fn Scheduling(p: &SchedulingProps) -> Html {
    let app = use_app();
    let pod = use_state(|| None::<String>);
    let phase = use_state(|| 0usize);
    let offset = use_state(|| 0u32);
    let config = use_state(|| None::<String>);
    let comparing = use_state(|| None::<String>);
    {
        let app = app.clone();
        use_effect_with(
            ((*pod).clone(), *offset, p.revision, p.epoch),
            move |(pod, offset, _, _)| {
                app.query(Query::Scheduling {
                    pod: pod.clone(),
                    offset: *offset,
                    limit: ROWS,
                });
            },
        );
    }
    {
        let app = app.clone();
        use_effect_with(
            ((*comparing).clone(), (*pod).clone(), p.epoch),
            move |(cfg, pod, _)| {
                if let Some(cfg) = cfg {
                    app.query(Query::Compare {
                        config: cfg.clone(),
                        pod: pod.clone(),
                        limit: ROWS,
                    });
                }
            },
        );
    }
    let select = {
        let pod = pod.clone();
        let phase = phase.clone();
        let offset = offset.clone();
        Callback::from(move |name: Option<String>| {
            pod.set(name);
            phase.set(0);
            offset.set(0);
        })
    };
    {
        let select = select.clone();
        use_effect_with(p.selected.clone(), move |sel| {
            if let Some(pod) = sel {
                select.emit(Some(pod.clone()));
            }
        });
    }
    let view = p.view.as_deref();
    let decision = view.and_then(|v| v.decision.as_ref());
    let config_text = (*config)
        .clone()
        .or_else(|| view.map(|v| v.config.clone()))
        .unwrap_or_default();
    let area = use_node_ref();
    let oninput = {
        let config = config.clone();
        Callback::from(move |e: InputEvent| {
            config.set(Some(
                e.target_unchecked_into::<HtmlTextAreaElement>().value(),
            ))
        })
    };
    let on_replay = {
        let comparing = comparing.clone();
        let area = area.clone();
        let text = config_text.clone();
        Callback::from(move |_| {
            let text = area
                .cast::<HtmlTextAreaElement>()
                .map_or_else(|| text.clone(), |a| a.value());
            comparing.set(Some(text));
        })
    };
    let n = Phase::ALL.len();
    let at = (*phase).min(n - 1);
    let prev = {
        let phase = phase.clone();
        Callback::from(move |_| phase.set(at.saturating_sub(1)))
    };
    let next = {
        let phase = phase.clone();
        Callback::from(move |_| phase.set((at + 1).min(n - 1)))
    };
    let current = Phase::ALL[at];
    html! {
        <div class="kg-sched" data-testid="scheduling">
            <p class="kg-hint">{ t(Key::SchedHint) }</p>
            <div class="kg-sched-body">
                { queue(view, pod.as_deref(), &select) }
                <div class="kg-sched-decision" data-testid="sched-decision">
                    { match decision {
                        None => html! {
                            <p class="kg-empty" data-testid="sched-missing">{
                                match view.map(|v| v.missing.as_str()).filter(|m| !m.is_empty()) {
                                    Some(m) => m.to_string(),
                                    None if view.is_none() => t(Key::Loading).to_string(),
                                    None => t(Key::SchedNoDecision).to_string(),
                                }
                            }</p>
                        },
                        Some(d) => html! {
                            <>
                                <p class="kg-object-title" data-testid="sched-pod">{
                                    tf(Key::SchedPodTitle, &[&d.pod, &d.attempt.to_string(), &d.cycle.to_string(), &d.profile])
                                }
                                if d.legacy { <span class="kg-note">{ " · " }{ t(Key::SchedLegacy) }</span> }
                                </p>
                                <nav class="kg-sched-phases">
                                    <button data-testid="sched-prev" title={t(Key::SchedPrev)} disabled={at == 0}
                                        onclick={prev}>{ "◀" }</button>
                                    { for Phase::ALL.iter().enumerate().map(|(i, ph)| {
                                        let phase = phase.clone();
                                        let onclick = Callback::from(move |_| phase.set(i));
                                        html! {
                                            <button class={classes!("kg-tab", (i == at).then_some("kg-active"))}
                                                data-testid={format!("sched-phase-{}", ph.id())} {onclick}>{ t(ph.title()) }</button>
                                        }
                                    }) }
                                    <button data-testid="sched-next" title={t(Key::SchedNext)} disabled={at + 1 == n}
                                        onclick={next}>{ "▶" }</button>
                                    <span class="kg-muted">{ tf(Key::SchedPhaseOf, &[&(at + 1).to_string(), &n.to_string()]) }</span>
                                </nav>
                                <div class="kg-sched-phase" data-testid="sched-phase" data-phase={current.id()}>
                                    <h3>{ t(current.title()) }</h3>
                                    { match current {
                                        Phase::Filter => filter_matrix(d, &offset),
                                        Phase::Score => score_table(d, &offset),
                                        Phase::Total => totals(d),
                                        Phase::Winner => winner(d),
                                        Phase::Bind => bind(d),
                                    } }
                                </div>
                            </>
                        },
                    } }
                </div>
            </div>
            <details class="kg-sched-compare" data-testid="sched-compare">
                <summary>{ t(Key::SchedCompare) }</summary>
                <p class="kg-hint">{ t(Key::SchedCompareHint) }</p>
                <textarea ref={area} data-testid="sched-config" spellcheck="false" rows="14"
                    aria-label={t(Key::SchedCompare)} value={config_text} {oninput} />
                <div class="kg-actions">
                    <button class="kg-primary" data-testid="sched-replay" onclick={on_replay}>{ t(Key::SchedReplay) }</button>
                </div>
                { compare(decision, comparing.as_deref(), p.compare.as_deref()) }
            </details>
        </div>
    }
}

fn queue(
    view: Option<&SchedView>,
    selected: Option<&str>,
    select: &Callback<Option<String>>,
) -> Html {
    let Some(v) = view else {
        return html! { <aside class="kg-sched-queue" /> };
    };
    let q = &v.queue;
    let item = |name: &str, extra: String| {
        let select = select.clone();
        let key = name.to_string();
        let onclick = Callback::from(move |_| select.emit(Some(key.clone())));
        html! {
            <li key={name.to_string()}>
                <button class={classes!("kg-link", (selected == Some(name)).then_some("kg-active"))}
                    data-testid="sched-pick" data-pod={name.to_string()} {onclick}>{ name.to_string() }</button>
                <span class="kg-muted">{ " " }{ extra }</span>
            </li>
        }
    };
    let latest = {
        let select = select.clone();
        Callback::from(move |_| select.emit(None))
    };
    html! {
        <aside class="kg-sched-queue" data-testid="sched-queue">
            <h3>{ t(Key::SchedQueue) }</h3>
            <p data-testid="sched-counts">
                { tf(Key::SchedActive, &[&q.active.to_string()]) }{ " · " }
                { tf(Key::SchedBackoff, &[&q.backoff.to_string()]) }{ " · " }
                { tf(Key::SchedUnschedulable, &[&q.unschedulable.to_string()]) }
            </p>
            if !q.pods.is_empty() {
                <h4>{ t(Key::SchedWaiting) }</h4>
                <ul class="kg-sched-list">
                    { for q.pods.iter().map(|p| {
                        let mut extra = p.place.clone();
                        if !p.plugins.is_empty() {
                            extra.push_str(&format!(" ({})", p.plugins.join(", ")));
                        }
                        item(&p.pod, extra)
                    }) }
                </ul>
            }
            <h4>{ t(Key::SchedRecent) }</h4>
            <p class="kg-muted">{ tf(Key::SchedAttempts, &[&q.attempts.to_string()]) }</p>
            <button class="kg-link" data-testid="sched-latest" onclick={latest}>{ t(Key::SchedLatest) }</button>
            <ul class="kg-sched-list">
                { for q.recent.iter().map(|a| {
                    let to = if a.node.is_empty() { t(Key::SchedNoNode).to_string() } else { a.node.clone() };
                    item(&a.pod, format!("→ {to}"))
                }) }
            </ul>
        </aside>
    }
}

fn pager(d: &DecisionView, offset: &UseStateHandle<u32>) -> Html {
    let first = d.offset;
    let last = (d.offset + d.rows.len() as u32).min(d.rows_total);
    let back = {
        let offset = offset.clone();
        let to = first.saturating_sub(ROWS);
        Callback::from(move |_| offset.set(to))
    };
    let fwd = {
        let offset = offset.clone();
        Callback::from(move |_| offset.set(last))
    };
    html! {
        <p class="kg-sched-pager" data-testid="sched-pager">
            <span>{ tf(Key::SchedRows, &[&(first + 1).min(last).to_string(), &last.to_string(), &d.rows_total.to_string()]) }</span>
            if first > 0 { { " " }<button data-testid="sched-page-prev" onclick={back}>{ t(Key::SchedPrevPage) }</button> }
            if last < d.rows_total { { " " }<button data-testid="sched-page-next" onclick={fwd}>{ t(Key::SchedMorePage) }</button> }
        </p>
    }
}

fn summary(d: &DecisionView) -> Html {
    html! {
        <p class="kg-muted" data-testid="sched-summary">{
            tf(Key::SchedNodes, &[&d.all_nodes.to_string(), &d.evaluated.to_string(), &d.feasible.to_string()])
        }</p>
    }
}

fn filter_matrix(d: &DecisionView, offset: &UseStateHandle<u32>) -> Html {
    html! {
        <>
            { summary(d) }
            <div class="kg-table-wrap">
                <table class="kg-sched-table" data-testid="sched-filters">
                    <thead><tr>
                        <th>{ t(Key::SchedNode) }</th>
                        { for d.filters.iter().map(|f| html! { <th>{ f.clone() }</th> }) }
                    </tr></thead>
                    <tbody>
                        { for d.rows.iter().map(|r| html! {
                            <tr key={r.name.clone()} data-node={r.name.clone()}>
                                <th>{ r.name.clone() }</th>
                                { for r.filters.iter().map(|c| match c {
                                    FilterCell::Passed => html! { <td class="kg-pass">{ "✓ " }{ t(Key::SchedPassed) }</td> },
                                    FilterCell::NotRun => html! { <td class="kg-muted">{ t(Key::SchedNotRun) }</td> },
                                    FilterCell::Failed { status, reasons } => html! {
                                        <td class="kg-fail" title={status.clone()}>{ "✗ " }{ reasons.join(", ") }</td>
                                    },
                                }) }
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
            { pager(d, offset) }
            if !d.rejected.is_empty() {
                <h4>{ t(Key::SchedRejectedBy) }</h4>
                <ul data-testid="sched-rejected">
                    { for d.rejected.iter().map(|r| html! { <li>{ format!("{} × {}", r.count, r.reason) }</li> }) }
                </ul>
            }
        </>
    }
}

fn score_table(d: &DecisionView, offset: &UseStateHandle<u32>) -> Html {
    if d.scores.is_empty() || d.rows.iter().all(|r| r.scores.is_empty()) {
        return html! { <>{ summary(d) }<p class="kg-empty">{ t(Key::SchedNoScores) }</p></> };
    }
    html! {
        <>
            { summary(d) }
            <div class="kg-table-wrap">
                <table class="kg-sched-table" data-testid="sched-scores">
                    <thead><tr>
                        <th>{ t(Key::SchedNode) }</th>
                        { for d.scores.iter().map(|c| html! {
                            <th>{ c.plugin.clone() }<br /><span class="kg-muted">{ tf(Key::SchedWeight, &[&c.weight.to_string()]) }</span></th>
                        }) }
                    </tr></thead>
                    <tbody>
                        { for d.rows.iter().filter(|r| !r.scores.is_empty()).map(|r| html! {
                            <tr key={r.name.clone()} data-node={r.name.clone()}>
                                <th>{ r.name.clone() }</th>
                                { for r.scores.iter().map(|c| html! {
                                    <td><strong>{ c.score }</strong><div class="kg-arith">{ c.arithmetic.clone() }</div></td>
                                }) }
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
            { pager(d, offset) }
            if d.omitted_feasible > 0 {
                <p class="kg-muted">{ tf(Key::SchedOmitted, &[&d.omitted_feasible.to_string()]) }</p>
            }
        </>
    }
}

fn totals(d: &DecisionView) -> Html {
    if d.rows.iter().all(|r| r.total.is_none()) {
        return html! { <p class="kg-empty">{ t(Key::SchedNoScores) }</p> };
    }
    html! {
        <table class="kg-sched-table" data-testid="sched-totals">
            <thead><tr><th>{ t(Key::SchedNode) }</th><th>{ t(Key::SchedTotal) }</th></tr></thead>
            <tbody>
                { for d.rows.iter().filter_map(|r| r.total.map(|total| (r, total))).map(|(r, total)| {
                    let terms: Vec<String> = r.scores.iter().zip(&d.scores)
                        .map(|(c, col)| format!("{}×{}", c.score, col.weight)).collect();
                    html! {
                        <tr key={r.name.clone()} data-node={r.name.clone()}
                            class={classes!((r.name == d.node).then_some("kg-winner"))}>
                            <th>{ r.name.clone() }</th>
                            <td>{ format!("{} = {total}", terms.join(" + ")) }</td>
                        </tr>
                    }
                }) }
            </tbody>
        </table>
    }
}

fn winner(d: &DecisionView) -> Html {
    let total = d
        .rows
        .iter()
        .find(|r| r.name == d.node)
        .and_then(|r| r.total)
        .map_or_else(String::new, |t| t.to_string());
    html! {
        <div data-testid="sched-winner">
            if d.node.is_empty() {
                <p>{ t(Key::SchedFailed) }</p>
                <pre class="kg-stderr">{ d.message.clone() }</pre>
            } else {
                <p class="kg-winner">{ tf(Key::SchedWinnerIs, &[&d.node, &total]) }</p>
            }
            if !d.notes.is_empty() {
                <h4>{ t(Key::SchedNotes) }</h4>
                <ul>{ for d.notes.iter().map(|n| html! { <li>{ n.clone() }</li> }) }</ul>
            }
        </div>
    }
}

fn bind(d: &DecisionView) -> Html {
    if d.node.is_empty() {
        return html! { <p class="kg-empty" data-testid="sched-bind">{ t(Key::SchedNoBind) }</p> };
    }
    match &d.bind {
        None => {
            html! { <p class="kg-empty" data-testid="sched-bind">{ t(Key::SchedBindGone) }</p> }
        }
        Some(e) => html! {
            <div data-testid="sched-bind">
                <p>{ t(Key::SchedBindText) }</p>
                { request(e) }
            </div>
        },
    }
}

fn request(e: &EntryView) -> Html {
    let DetailView::Request {
        method,
        path,
        user,
        code,
        stages,
    } = &e.detail
    else {
        return html! { <p>{ e.action.clone() }</p> };
    };
    html! {
        <>
            <pre class="kg-request-line">{ format!("#{} {method} {path} ({user}) → {code}", e.seq) }</pre>
            <ol class="kg-stages">
                { for stages.iter().map(|s| html! {
                    <li class={classes!("kg-stage", format!("kg-{}", s.outcome))}>
                        <strong>{ stage_label(&s.name) }</strong>{ " " }{ outcome_label(&s.outcome) }
                        if !s.reason.is_empty() { { ": " }{ s.reason.clone() } }
                    </li>
                }) }
            </ol>
        </>
    }
}

fn side(title: Key, d: Option<&DecisionView>, missing: &str) -> Html {
    html! {
        <div class="kg-sched-side">
            <h4>{ t(title) }</h4>
            { match d {
                None => html! { <p class="kg-empty">{ missing.to_string() }</p> },
                Some(d) => html! {
                    <>
                        <p class="kg-winner">{ if d.node.is_empty() { d.message.clone() } else { format!("→ {}", d.node) } }</p>
                        <table class="kg-sched-table">
                            <thead><tr>
                                <th>{ t(Key::SchedNode) }</th>
                                { for d.scores.iter().map(|c| html! { <th>{ format!("{} ×{}", c.plugin, c.weight) }</th> }) }
                                <th>{ t(Key::SchedTotal) }</th>
                            </tr></thead>
                            <tbody>
                                { for d.rows.iter().filter(|r| r.total.is_some()).map(|r| html! {
                                    <tr data-node={r.name.clone()}>
                                        <th>{ r.name.clone() }</th>
                                        { for r.scores.iter().map(|c| html! { <td title={c.arithmetic.clone()}>{ c.score }</td> }) }
                                        <td>{ r.total.unwrap_or_default() }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    </>
                },
            } }
        </div>
    }
}

fn compare(here: Option<&DecisionView>, asked: Option<&str>, c: Option<&CompareView>) -> Html {
    let Some(asked) = asked else {
        return html! {};
    };
    let Some(c) = c.filter(|c| c.config == asked) else {
        return html! { <p class="kg-muted" data-testid="sched-compare-wait">{ t(Key::SchedReplaying) }</p> };
    };
    if !c.error.is_empty() {
        return html! { <p class="kg-stderr" data-testid="sched-compare-error">{ tf(Key::SchedConfigError, &[&c.error]) }</p> };
    }
    html! {
        <div data-testid="sched-compare-result">
            <div class="kg-sched-sides">
                { side(Key::SchedThisConfig, here, "") }
                { side(Key::SchedOtherConfig, c.decision.as_ref(), &c.missing) }
            </div>
            <p>{ tf(Key::SchedDiffer, &[&c.differ.to_string(), &c.pods.to_string()]) }</p>
            if !c.differences.is_empty() {
                <table class="kg-sched-table" data-testid="sched-differences">
                    <thead><tr><th>{ t(Key::SchedPod) }</th><th>{ t(Key::SchedThisConfig) }</th><th>{ t(Key::SchedOtherConfig) }</th></tr></thead>
                    <tbody>
                        { for c.differences.iter().map(|(pod, a, b)| html! {
                            <tr><th>{ pod.clone() }</th><td>{ a.clone() }</td><td>{ b.clone() }</td></tr>
                        }) }
                    </tbody>
                </table>
            }
        </div>
    }
}
