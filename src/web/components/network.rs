//! The network view, in four parts: the packet tracer (a source, a destination, a
//! protocol, and an HTTP Host and path for an Ingress; the answer stepped through
//! hop by hop: the node, the namespace and interface, the stage, the rule met and
//! why, the headers with what changed since the previous hop, and the verdict; then
//! the reply's hops back through conntrack, with its own verdict), a node's
//! topology (its root namespace's interfaces and routes, its pods' namespaces joined
//! by veth pairs, the other nodes; the current hop lit), a node's iptables tables
//! (each chain a block of rules in order with their counters, jumps as links to
//! their chains, the rules a trace met lit) with an `iptables-restore` editor, and
//! the same packet compared across the network plug-ins.
//!
//! The worker reads the tracer's JSON into typed hops with every field optional
//! (`host::net`); this only draws them. A stage it does not know is drawn plainly.
//! A trace is a query (nothing logged); a restore is a person's action.

use std::collections::BTreeSet;
use std::rc::Rc;

use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::protocol::{
    rule_key, ActResult, ChainView, HopView, IptablesView, NetCompareView, NetworkView,
    PacketTraceView, PersonAction, Query, TopologyView,
};
use crate::web::context::use_app;
use crate::web::i18n::{t, tf, Key};
use crate::web::state::{Action, PacketSpot};

/// What the restore editor holds the first time: a rule a person might add.
pub const DEFAULT_RULES: &str = "*filter
-I FORWARD 1 -p tcp -m tcp --dport 8080 -j DROP
COMMIT
";

/// The stages the page draws with their own colour; others are drawn plainly.
const STAGES: [&str; 15] = [
    "conntrack",
    "ingress",
    "proxy",
    "dns",
    "route",
    "netfilter",
    "veth",
    "bridge",
    "encap",
    "wire",
    "decap",
    "ovs",
    "deliver",
    "drop",
    "local",
];

#[derive(Properties, PartialEq)]
pub struct NetworkProps {
    pub network: Option<Rc<NetworkView>>,
    pub trace: Option<Rc<PacketTraceView>>,
    pub result: Option<Rc<ActResult>>,
    /// The store's revision and the inputs taken: the view is asked again when they move.
    pub revision: u64,
    pub inputs: usize,
    pub epoch: u32,
    #[prop_or_default]
    pub topology: Option<Rc<TopologyView>>,
    #[prop_or_default]
    pub compare: Option<Rc<NetCompareView>>,
}

/// A trace's hops in stepping order: the way out, then the reply's (`true`).
pub fn all_hops(tr: &PacketTraceView) -> Vec<(&HopView, bool)> {
    let mut v: Vec<(&HopView, bool)> = tr.hops.iter().map(|h| (h, false)).collect();
    if let Some(r) = &tr.reply {
        v.extend(r.hops.iter().map(|h| (h, true)));
    }
    v
}

/// Where a hop is on the map: its node, and its pod when inside one.
pub fn spot(h: &HopView) -> Option<PacketSpot> {
    let pod = h.netns.strip_prefix("pod/").and_then(|r| {
        r.split_once('/')
            .map(|(ns, name)| (ns.to_string(), name.to_string()))
    });
    let node = if h.node.is_empty() {
        h.netns
            .strip_prefix("node/")
            .unwrap_or_default()
            .to_string()
    } else {
        h.node.clone()
    };
    (!node.is_empty() || pod.is_some()).then_some(PacketSpot { node, pod })
}

/// The keys of the rules a trace met on a node, and its chains (`table chain`).
fn lit_on(trace: Option<&PacketTraceView>, node: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut rules = BTreeSet::new();
    let mut chains = BTreeSet::new();
    for (h, _) in trace.map(all_hops).unwrap_or_default() {
        if h.node != node || h.table.is_empty() || h.chain.is_empty() {
            continue;
        }
        chains.insert(format!("{} {}", h.table, h.chain));
        if !h.rule.is_empty() {
            rules.insert(rule_key(&h.table, &h.chain, &h.rule));
        }
    }
    (rules, chains)
}

#[component]
pub fn Network(p: &NetworkProps) -> Html {
    let app = use_app();
    let part = use_state(|| 0usize);
    let step = use_state(|| 0usize);
    let node = use_state(String::new);
    let trace = p.trace.as_deref();
    // A new trace starts at its first hop.
    {
        let step = step.clone();
        use_effect_with(p.trace.as_ref().map(|t| t.asked.clone()), move |_| {
            step.set(0)
        });
    }
    let all = trace.map(all_hops).unwrap_or_default();
    let at = (*step).min(all.len().saturating_sub(1));
    let current = all.get(at).map(|(h, _)| *h);
    // The packet on the map, while a trace is shown; gone when the view closes.
    {
        let app = app.clone();
        use_effect_with(current.and_then(spot), move |s| {
            app.dispatch(Action::Packet(s.clone()));
        });
    }
    {
        let app = app.clone();
        use_effect_with((), move |_| move || app.dispatch(Action::Packet(None)));
    }
    // The node shown: the one picked, else the current netfilter hop's, else the
    // worker's choice.
    let follow = current
        .filter(|h| !h.table.is_empty() && !h.node.is_empty())
        .map(|h| h.node.clone());
    let asked_node = if node.is_empty() {
        follow.unwrap_or_default()
    } else {
        (*node).clone()
    };
    let shown = if asked_node.is_empty() {
        p.network
            .as_ref()
            .map(|n| n.node.clone())
            .unwrap_or_default()
    } else {
        asked_node.clone()
    };
    // The rules to light are sent even when beyond a chain's page.
    let (lit, lit_chains) = lit_on(trace, &shown);
    {
        let app = app.clone();
        let key = (
            asked_node,
            lit.iter().cloned().collect::<Vec<_>>(),
            p.revision,
            p.inputs,
            p.epoch,
        );
        use_effect_with(key, move |(node, lit, _, _, _)| {
            app.query(Query::Network {
                node: node.clone(),
                lit: lit.clone(),
            })
        });
    }
    let current_key = current
        .filter(|h| h.node == shown && !h.table.is_empty() && !h.rule.is_empty())
        .map(|h| rule_key(&h.table, &h.chain, &h.rule));
    // The topology's node: the one picked, else the current hop's, else the worker's.
    let topo_node = if node.is_empty() {
        current.map(|h| h.node.clone()).unwrap_or_default()
    } else {
        (*node).clone()
    };
    let body = match *part {
        0 => html! {
            <>
                <TraceForm network={p.network.clone()} asked={trace.map(|t| t.asked.clone())}
                    http={trace.map(|t| (t.host.clone(), t.path.clone()))} />
                { match trace {
                    None => html! { <p class="kg-empty" data-testid="net-no-trace">{ t(Key::NetNoTrace) }</p> },
                    Some(tr) => trace_panel(tr, at, &step),
                } }
            </>
        },
        1 => html! {
            <TopologyPart topology={p.topology.clone()} node={topo_node} pick={node.clone()}
                current={current.cloned()} revision={p.revision} inputs={p.inputs} epoch={p.epoch} />
        },
        2 => html! {
            <IptablesPart network={p.network.clone()} node={shown.clone()} pick={node.clone()}
                lit={Rc::new((lit, lit_chains))} current={current_key} result={p.result.clone()} />
        },
        _ => compare_part(p.compare.as_deref(), trace, &app),
    };
    let parts = [
        (Key::NetPartTrace, "trace"),
        (Key::NetPartTopology, "topology"),
        (Key::NetPartIptables, "iptables"),
        (Key::NetPartCompare, "compare"),
    ];
    html! {
        <div class="kg-net" data-testid="network">
            <p class="kg-hint">{ t(Key::NetHint) }</p>
            <nav class="kg-sched-phases">
                { for parts.iter().enumerate().map(|(i, (title, id))| {
                    let part = part.clone();
                    html! {
                        <button class={classes!("kg-tab", (i == *part).then_some("kg-active"))}
                            data-testid={format!("net-part-{id}")} onclick={Callback::from(move |_| part.set(i))}>{ t(*title) }</button>
                    }
                }) }
            </nav>
            { body }
            <p class="kg-note" data-testid="net-simplified">{ t(Key::NetSimplified) }</p>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct TraceFormProps {
    network: Option<Rc<NetworkView>>,
    asked: Option<(String, String, String)>,
    /// The HTTP Host and path asked with.
    http: Option<(String, String)>,
}

/// The source, the destination and the protocol; Trace asks the worker.
#[component]
fn TraceForm(p: &TraceFormProps) -> Html {
    let app = use_app();
    let from = use_node_ref();
    let to = use_node_ref();
    let proto = use_node_ref();
    let host = use_node_ref();
    let path = use_node_ref();
    let (host0, path0) = p.http.clone().unwrap_or_default();
    let ends = p
        .network
        .as_ref()
        .map(|n| n.ends.clone())
        .unwrap_or_default();
    let services = p
        .network
        .as_ref()
        .map(|n| n.services.clone())
        .unwrap_or_default();
    let (from0, to0, proto0) = p.asked.clone().unwrap_or_else(|| {
        (
            ends.first().cloned().unwrap_or_default(),
            services.first().cloned().unwrap_or_default(),
            "tcp".to_string(),
        )
    });
    let pending = use_state(|| None::<(String, String, String)>);
    let waiting = pending
        .as_ref()
        .is_some_and(|q| p.asked.as_ref() != Some(q));
    let onsubmit = {
        let (from, to, proto) = (from.clone(), to.clone(), proto.clone());
        let (host, path) = (host.clone(), path.clone());
        let pending = pending.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let value = |r: &NodeRef| {
                r.cast::<HtmlInputElement>()
                    .map(|i| i.value().trim().to_string())
                    .unwrap_or_default()
            };
            let proto = proto
                .cast::<HtmlSelectElement>()
                .map_or_else(|| "tcp".to_string(), |s| s.value());
            let (from, to) = (value(&from), value(&to));
            pending.set(Some((from.clone(), to.clone(), proto.clone())));
            app.query(Query::PacketTrace {
                from,
                to,
                proto,
                host: value(&host),
                path: value(&path),
            });
        })
    };
    html! {
        <form class="kg-net-form" data-testid="net-form" {onsubmit}>
            <label>{ t(Key::NetFrom) }{ " " }
                <input ref={from} data-testid="net-from" list="kg-net-ends" value={from0}
                    placeholder={t(Key::NetFromHint)} spellcheck="false" />
            </label>
            <datalist id="kg-net-ends">
                { for ends.iter().map(|e| html! { <option key={e.clone()} value={e.clone()} /> }) }
            </datalist>
            <label>{ t(Key::NetTo) }{ " " }
                <input ref={to} data-testid="net-to" list="kg-net-services" value={to0}
                    placeholder={t(Key::NetToHint)} spellcheck="false" />
            </label>
            <datalist id="kg-net-services">
                { for services.iter().map(|e| html! { <option key={e.clone()} value={e.clone()} /> }) }
            </datalist>
            <label>{ t(Key::NetProto) }{ " " }
                <select ref={proto} data-testid="net-proto">
                    { for ["tcp", "udp"].iter().map(|v| html! {
                        <option value={*v} selected={proto0 == *v}>{ *v }</option>
                    }) }
                </select>
            </label>
            <label>{ t(Key::NetHttpHost) }{ " " }
                <input ref={host} data-testid="net-host" value={host0}
                    placeholder={t(Key::NetHttpHostHint)} spellcheck="false" />
            </label>
            <label>{ t(Key::NetHttpPath) }{ " " }
                <input ref={path} data-testid="net-path" value={path0}
                    placeholder={t(Key::NetHttpPathHint)} spellcheck="false" />
            </label>
            <button type="submit" class="kg-primary" data-testid="net-trace">{ t(Key::NetTrace) }</button>
            if waiting { <span class="kg-muted" data-testid="net-tracing">{ t(Key::NetTracing) }</span> }
        </form>
    }
}

fn verdict(tr: &PacketTraceView) -> Html {
    let (class, text) = match tr.verdict.as_str() {
        "delivered" => {
            let to = if tr.to.is_empty() {
                tr.hops.last().map(|h| h.netns.clone()).unwrap_or_default()
            } else {
                tr.to.clone()
            };
            ("kg-delivered", tf(Key::NetDeliveredTo, &[&to]))
        }
        "dropped" if !tr.dropped_by.is_empty() => {
            ("kg-dropped", tf(Key::NetDroppedBy, &[&tr.dropped_by]))
        }
        "dropped" => {
            let by = tr
                .hops
                .iter()
                .rev()
                .find(|h| h.stage == "drop" || matches!(h.target.as_str(), "DROP" | "REJECT"))
                .or(tr.hops.last())
                .map(|h| {
                    if !h.rule.is_empty() {
                        h.rule.clone()
                    } else if !h.chain.is_empty() {
                        format!("{} {} {}", h.table, h.chain, h.target)
                    } else {
                        h.why.clone()
                    }
                })
                .unwrap_or_default();
            ("kg-dropped", tf(Key::NetDroppedBy, &[&by]))
        }
        other => ("kg-verdict-other", tf(Key::NetVerdict, &[other])),
    };
    html! {
        <p class={classes!("kg-net-verdict", class)} data-testid="net-verdict" data-verdict={tr.verdict.clone()}>{ text }</p>
    }
}

fn reply_verdict(r: &crate::protocol::TraceReplyView) -> Html {
    let class = match r.verdict.as_str() {
        "delivered" => "kg-delivered",
        "dropped" => "kg-dropped",
        _ => "kg-verdict-other",
    };
    let mut text = tf(Key::NetReplyVerdict, &[&r.verdict]);
    if !r.dropped_by.is_empty() {
        text.push_str(" · ");
        text.push_str(&tf(Key::NetDroppedBy, &[&r.dropped_by]));
    }
    html! {
        <p class={classes!("kg-net-verdict", class)} data-testid="net-reply-verdict" data-verdict={r.verdict.clone()}>{ text }</p>
    }
}

/// Headers as a table row each, a field changed since `before` shown as before → after.
fn headers(label: Key, now: &[(String, String)], before: Option<&[(String, String)]>) -> Html {
    if now.is_empty() {
        return html! {};
    }
    html! {
        <div class="kg-net-headers" data-testid="net-headers" data-kind={t(label)}>
            <span class="kg-muted">{ t(label) }{ " " }</span>
            { for now.iter().map(|(k, v)| {
                let old = before.and_then(|b| b.iter().find(|(bk, _)| bk == k)).map(|(_, bv)| bv);
                let changed = before.is_some() && old != Some(v);
                html! {
                    <span class={classes!("kg-net-field", changed.then_some("kg-changed"))}
                        data-field={k.clone()} data-changed={changed.to_string()}>
                        if !k.is_empty() { <span class="kg-muted">{ format!("{k} ") }</span> }
                        if changed {
                            if let Some(o) = old { <del>{ o.clone() }</del>{ " → " } }
                        }
                        <strong>{ v.clone() }</strong>
                    </span>
                }
            }) }
        </div>
    }
}

fn hop_item(
    i: usize,
    (h, reply): (&HopView, bool),
    prev: Option<&HopView>,
    at: usize,
    step: &UseStateHandle<usize>,
) -> Html {
    let stage_class = if STAGES.contains(&h.stage.as_str()) {
        format!("kg-stage-{}", h.stage)
    } else {
        "kg-stage-other".to_string()
    };
    let onclick = {
        let step = step.clone();
        Callback::from(move |_| step.set(i))
    };
    let place: Vec<&str> = [h.node.as_str(), h.netns.as_str(), h.interface.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let nf: Vec<&str> = [
        h.hook.as_str(),
        h.table.as_str(),
        h.chain.as_str(),
        h.target.as_str(),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect();
    html! {
        <li key={i.to_string()} data-testid="net-hop" data-stage={h.stage.clone()} data-node={h.node.clone()}
            data-dir={if reply { "reply" } else { "out" }}
            class={classes!("kg-net-hop", (i == at).then_some("kg-current"), (i > at).then_some("kg-ahead"), reply.then_some("kg-reply"))}
            aria-current={(i == at).then_some("step")} {onclick}>
            if reply { <span class="kg-net-dir">{ t(Key::NetReplyHop) }</span> }
            <span class={classes!("kg-net-stage", stage_class)}>{ if h.stage.is_empty() { "?".to_string() } else { h.stage.clone() } }</span>
            { " " }<span class="kg-net-place">{ place.join(" · ") }</span>
            if !nf.is_empty() { <div class="kg-net-nf" data-testid="net-nf">{ nf.join(" › ") }</div> }
            if !h.rule.is_empty() { <pre class="kg-net-rule">{ h.rule.clone() }</pre> }
            if let Some(n) = h.not_matched.filter(|n| *n > 0) {
                <div class="kg-muted">{ tf(Key::NetNotMatched, &[&n.to_string()]) }</div>
            }
            if !h.why.is_empty() { <div class="kg-net-why">{ h.why.clone() }</div> }
            { headers(Key::NetPacket, &h.packet, prev.map(|p| p.packet.as_slice()).filter(|p| !p.is_empty())) }
            { headers(Key::NetOuter, &h.outer, None) }
            if !h.extra.is_empty() {
                <div class="kg-muted">{ for h.extra.iter().map(|(k, v)| html! { <span>{ format!("{k}: {v}  ") }</span> }) }</div>
            }
        </li>
    }
}

fn or<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() {
        b
    } else {
        a
    }
}

fn trace_panel(tr: &PacketTraceView, at: usize, step: &UseStateHandle<usize>) -> Html {
    if !tr.error.is_empty() {
        return html! {
            <div class="kg-result kg-failed" data-testid="net-trace-error">
                <p>{ t(Key::NetTraceFailed) }</p>
                <pre class="kg-stderr">{ tr.error.clone() }</pre>
            </div>
        };
    }
    let all = all_hops(tr);
    let n = all.len();
    let out = tr.hops.len();
    let prev = {
        let step = step.clone();
        Callback::from(move |_| step.set(at.saturating_sub(1)))
    };
    let next = {
        let step = step.clone();
        Callback::from(move |_| step.set((at + 1).min(n.saturating_sub(1))))
    };
    html! {
        <div class="kg-net-trace" data-testid="net-trace">
            { verdict(tr) }
            <p class="kg-muted">
                { tf(Key::NetPath, &[
                    or(&tr.from, &tr.asked.0),
                    or(&tr.to, &tr.asked.1),
                    or(&tr.proto, &tr.asked.2),
                ]) }
                if !tr.plugin.is_empty() { { " · " }{ tf(Key::NetPlugin, &[&tr.plugin]) } }
            </p>
            if !tr.extra.is_empty() {
                <p class="kg-muted">{ for tr.extra.iter().map(|(k, v)| html! { <span>{ format!("{k}: {v}  ") }</span> }) }</p>
            }
            if n > 0 {
                <nav class="kg-sched-phases">
                    <button data-testid="net-prev" title={t(Key::NetPrev)} disabled={at == 0} onclick={prev}>{ "◀" }</button>
                    <span class="kg-muted" data-testid="net-hop-of">
                        if at >= out { <span class="kg-net-dir">{ t(Key::NetReplyHop) }</span> }
                        { tf(Key::NetHopOf, &[&(at + 1).to_string(), &n.to_string()]) }
                    </span>
                    <button data-testid="net-next" title={t(Key::NetNext)} disabled={at + 1 >= n} onclick={next}>{ "▶" }</button>
                </nav>
                <ol class="kg-net-hops" data-testid="net-hops">
                    { for all.iter().take(out).enumerate().map(|(i, h)| hop_item(i, *h, i.checked_sub(1).and_then(|j| tr.hops.get(j)), at, step)) }
                </ol>
            }
            if let Some(r) = &tr.reply {
                <h4 class="kg-net-reply-head" data-testid="net-reply-head">{ tf(Key::NetReplyHead, &[or(&r.to, &tr.asked.0)]) }</h4>
                { reply_verdict(r) }
                <ol class="kg-net-hops" data-testid="net-reply-hops" start={(out + 1).to_string()}>
                    { for all.iter().enumerate().skip(out).map(|(i, h)| {
                        // The reply's first hop is compared with nothing before it.
                        let prev = (i > out).then(|| all.get(i - 1).map(|(p, _)| *p)).flatten();
                        hop_item(i, *h, prev, at, step)
                    }) }
                </ol>
            }
            <details class="kg-net-raw">
                <summary>{ t(Key::NetRaw) }</summary>
                <pre>{ tr.json.clone() }</pre>
            </details>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct IptablesProps {
    network: Option<Rc<NetworkView>>,
    /// The node shown.
    node: String,
    pick: UseStateHandle<String>,
    /// Rule keys and `table chain`s a trace met on this node.
    lit: Rc<(BTreeSet<String>, BTreeSet<String>)>,
    /// The rule of the hop being looked at.
    current: Option<String>,
    result: Option<Rc<ActResult>>,
}

fn chain_id(table: &str, chain: &str) -> String {
    format!("kg-ipt-{table}-{chain}")
}

fn chain_block(table: &str, c: &ChainView, p: &IptablesProps, known: &BTreeSet<&str>) -> Html {
    let chain_lit = p.lit.1.contains(&format!("{table} {}", c.name));
    html! {
        <div key={c.name.clone()} id={chain_id(table, &c.name)} data-testid="ipt-chain" data-table={table.to_string()}
            data-chain={c.name.clone()} class={classes!("kg-ipt-chain", chain_lit.then_some("kg-lit-chain"))}>
            <div class="kg-ipt-head">
                <strong>{ c.name.clone() }</strong>
                if !c.policy.is_empty() {
                    { " " }<span class="kg-muted">{ tf(Key::NetPolicy, &[&c.policy]) }{ format!(" [{}:{}]", c.packets, c.bytes) }</span>
                }
                { " " }<span class="kg-muted">{ tf(Key::NetRules, &[&(c.rules.len() as u64 + u64::from(c.more)).to_string()]) }</span>
            </div>
            <ol class="kg-ipt-rules">
                { for c.rules.iter().map(|r| {
                    let key = rule_key(table, &c.name, &r.text);
                    let lit = p.lit.0.contains(&key);
                    let current = p.current.as_deref() == Some(key.as_str());
                    let jump = (!r.jump.is_empty()).then(|| {
                        let id = chain_id(table, &r.jump);
                        let onclick = Callback::from(move |_| {
                            if let Some(el) = gloo::utils::document().get_element_by_id(&id) {
                                el.scroll_into_view();
                            }
                        });
                        let exists = known.contains(r.jump.as_str());
                        html! {
                            <button class="kg-link kg-ipt-jump" data-testid="ipt-jump" data-chain={r.jump.clone()}
                                disabled={!exists} {onclick}>{ tf(Key::NetJump, &[&r.jump]) }</button>
                        }
                    });
                    html! {
                        <li key={r.number.to_string()} value={r.number.to_string()} data-testid="ipt-rule" data-lit={lit.to_string()}
                            class={classes!("kg-ipt-rule", lit.then_some("kg-lit"), current.then_some("kg-current"))}>
                            <span class="kg-muted kg-ipt-count" title={t(Key::NetCounters)}>{ format!("[{}:{}] ", r.packets, r.bytes) }</span>
                            <code>{ r.text.clone() }</code>
                            if let Some(j) = jump { { " " }{ j } }
                        </li>
                    }
                }) }
            </ol>
            if c.more > 0 { <p class="kg-muted">{ tf(Key::NetMoreRules, &[&c.more.to_string()]) }</p> }
        </div>
    }
}

fn tables(v: &IptablesView, p: &IptablesProps) -> Html {
    html! {
        <div class="kg-ipt" data-testid="ipt">
            <p class="kg-muted">{ tf(Key::NetRules, &[&v.rules.to_string()]) }{ " · " }{ t(Key::NetLitHint) }</p>
            { for v.tables.iter().map(|table| {
                let known: BTreeSet<&str> = table.chains.iter().map(|c| c.name.as_str()).collect();
                html! {
                    <section key={table.name.clone()} class="kg-ipt-table" data-testid="ipt-table" data-table={table.name.clone()}>
                        <h3>{ format!("*{}", table.name) }</h3>
                        { for table.chains.iter().map(|c| chain_block(&table.name, c, p, &known)) }
                        if table.more_chains > 0 { <p class="kg-muted">{ tf(Key::NetMoreChains, &[&table.more_chains.to_string()]) }</p> }
                    </section>
                }
            }) }
        </div>
    }
}

/// A node's tables and the restore editor.
#[component]
fn IptablesPart(p: &IptablesProps) -> Html {
    let app = use_app();
    let text = use_state(|| DEFAULT_RULES.to_string());
    let area = use_node_ref();
    let noflush = use_node_ref();
    let oninput = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| {
            text.set(e.target_unchecked_into::<HtmlTextAreaElement>().value())
        })
    };
    let on_apply = {
        let (app, text, area, noflush) = (app.clone(), text.clone(), area.clone(), noflush.clone());
        let node = p.node.clone();
        Callback::from(move |_| {
            let rules = area
                .cast::<HtmlTextAreaElement>()
                .map_or_else(|| (*text).clone(), |a| a.value());
            let noflush = noflush
                .cast::<HtmlInputElement>()
                .is_none_or(|c| c.checked());
            app.act(PersonAction::IptablesRestore {
                node: node.clone(),
                rules,
                noflush,
            })
        })
    };
    let Some(view) = p.network.as_deref() else {
        return html! { <p class="kg-empty">{ t(Key::Loading) }</p> };
    };
    let place = p.result.as_ref().filter(|r| !r.ok).and_then(|r| r.position).map(|(line, column)| {
        let source = text.split('\n').nth(line.saturating_sub(1) as usize).unwrap_or_default().to_string();
        let caret = format!("{}^", " ".repeat(column.saturating_sub(1) as usize));
        html! {
            <div class="kg-error-place" data-testid="ipt-error-place">
                <span>{ tf(Key::EditorErrorAt, &[&line.to_string(), &column.to_string()]) }</span>
                <pre>{ format!("{line:>4} | {source}\n     | {caret}") }</pre>
            </div>
        }
    });
    html! {
        <div class="kg-sched-body">
            <aside class="kg-sched-queue" data-testid="ipt-nodes">
                <h4>{ t(Key::NetNode) }</h4>
                <ul class="kg-sched-list">
                    { for view.nodes.iter().map(|(n, has)| {
                        let pick = p.pick.clone();
                        let v = n.clone();
                        html! {
                            <li key={n.clone()}>
                                <button class={classes!("kg-link", (*n == view.node).then_some("kg-active"))}
                                    data-testid="ipt-node" data-node={n.clone()}
                                    onclick={Callback::from(move |_| pick.set(v.clone()))}>{ n.clone() }</button>
                                if !has { <span class="kg-muted">{ " " }{ t(Key::NetNoRulesNode) }</span> }
                            </li>
                        }
                    }) }
                </ul>
            </aside>
            <div>
                { match &view.iptables {
                    Some(v) => tables(v, p),
                    None => html! { <p class="kg-empty" data-testid="ipt-missing">{ view.missing.clone() }</p> },
                } }
                <details class="kg-ipt-restore" data-testid="ipt-restore">
                    <summary>{ t(Key::NetRestore) }{ format!("  # on {}", view.node) }</summary>
                    <p class="kg-hint">{ t(Key::NetRestoreHint) }</p>
                    <textarea ref={area} data-testid="ipt-rules" spellcheck="false" rows="8"
                        aria-label={t(Key::NetRestore)} value={(*text).clone()} {oninput} />
                    <div class="kg-actions">
                        <label><input ref={noflush} type="checkbox" data-testid="ipt-noflush" checked={true} />{ " " }{ t(Key::NetNoflush) }</label>
                        <button class="kg-primary" data-testid="ipt-apply" onclick={on_apply}>{ t(Key::NetApply) }</button>
                    </div>
                    if let Some(r) = &p.result {
                        <div class={classes!("kg-result", if r.ok { "kg-ok" } else { "kg-failed" })} data-testid="ipt-result">
                            <pre>{ r.command.clone() }</pre>
                            if !r.stdout.is_empty() { <pre class="kg-stdout">{ r.stdout.clone() }</pre> }
                            if !r.stderr.is_empty() { <pre class="kg-stderr">{ r.stderr.clone() }</pre> }
                            { for place }
                        </div>
                    }
                </details>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct TopologyProps {
    topology: Option<Rc<TopologyView>>,
    /// The node asked for (empty: the worker's choice).
    node: String,
    pick: UseStateHandle<String>,
    /// The trace's current hop, lit where it is.
    current: Option<HopView>,
    revision: u64,
    inputs: usize,
    epoch: u32,
}

/// Where the current hop is on the node shown: (in the root namespace, the
/// interface, the pod's `NS/NAME`).
fn hop_place<'a>(h: Option<&'a HopView>, node: &str) -> (bool, &'a str, &'a str) {
    let Some(h) = h.filter(|h| h.node == node) else {
        return (false, "", "");
    };
    let root = h.netns.starts_with("node/") || h.netns.starts_with("ovs/");
    let pod = h.netns.strip_prefix("pod/").unwrap_or_default();
    (root, h.interface.as_str(), pod)
}

/// One node's namespaces: the root one, its pods', the other nodes.
#[component]
fn TopologyPart(p: &TopologyProps) -> Html {
    let app = use_app();
    {
        let app = app.clone();
        let key = (p.node.clone(), p.revision, p.inputs, p.epoch);
        use_effect_with(key, move |(node, _, _, _)| {
            app.query(Query::Topology { node: node.clone() })
        });
    }
    let Some(v) = p.topology.as_deref() else {
        return html! { <p class="kg-empty">{ t(Key::Loading) }</p> };
    };
    let (in_root, iface, in_pod) = hop_place(p.current.as_ref(), &v.node);
    let ovs = p
        .current
        .as_ref()
        .is_some_and(|h| h.node == v.node && h.netns.starts_with("ovs/"));
    let nodes = html! {
        <aside class="kg-sched-queue" data-testid="topo-nodes">
            <h4>{ t(Key::NetNode) }</h4>
            <ul class="kg-sched-list">
                { for v.nodes.iter().map(|n| {
                    let pick = p.pick.clone();
                    let name = n.clone();
                    html! {
                        <li key={n.clone()}>
                            <button class={classes!("kg-link", (*n == v.node).then_some("kg-active"))}
                                data-testid="topo-node" data-node={n.clone()}
                                onclick={Callback::from(move |_| pick.set(name.clone()))}>{ n.clone() }</button>
                        </li>
                    }
                }) }
            </ul>
        </aside>
    };
    let Some(root) = &v.root else {
        return html! {
            <div class="kg-sched-body">
                { nodes }
                <p class="kg-empty" data-testid="topo-missing">{ v.missing.clone() }</p>
            </div>
        };
    };
    let here = || html! { <span class="kg-muted">{ " ◆ " }{ t(Key::NetTopoHere) }</span> };
    html! {
        <div class="kg-sched-body">
            { nodes }
            <div class="kg-topo" data-testid="topo" data-plugin={v.plugin.clone()}>
                <p class="kg-hint">{ t(Key::NetTopoHint) }{ " · " }{ tf(Key::NetPlugin, &[&v.plugin]) }</p>
                <section class={classes!("kg-topo-box", "kg-topo-root", in_root.then_some("kg-lit"))}
                    data-testid="topo-root" data-lit={in_root.to_string()}>
                    <strong>{ tf(Key::NetTopoRoot, &[&v.node]) }</strong>
                    if !root.pod_cidr.is_empty() { <span class="kg-muted">{ format!("  podCIDR {}", root.pod_cidr) }</span> }
                    if !root.up { <span class="kg-dropped">{ " · " }{ t(Key::NetTopoDown) }</span> }
                    <div class="kg-topo-ifaces">
                        { for root.ifaces.iter().map(|i| {
                            let lit = (in_root && i.name == iface) || (ovs && i.name == "br0");
                            html! {
                                <span key={i.name.clone()} title={i.note.clone()} data-testid="topo-iface" data-name={i.name.clone()}
                                    data-kind={i.kind.clone()} data-lit={lit.to_string()}
                                    class={classes!("kg-topo-iface", format!("kg-kind-{}", i.kind), lit.then_some("kg-lit"))}>
                                    <strong>{ i.name.clone() }</strong>
                                    if !i.addr.is_empty() { { " " }{ i.addr.clone() } }
                                </span>
                            }
                        }) }
                    </div>
                    if !root.listeners.is_empty() {
                        <div class="kg-muted" data-testid="topo-listeners">
                            { root.listeners.iter().map(|(port, who)| format!(":{port} {who}")).collect::<Vec<_>>().join(" · ") }
                        </div>
                    }
                    <div class="kg-muted">{ t(Key::NetTopoRoutes) }</div>
                    <pre class="kg-topo-routes" data-testid="topo-routes">
                        { for root.routes.iter().map(|r| html! { <div data-testid="topo-route">{ r.clone() }</div> }) }
                    </pre>
                </section>
                <h4>{ tf(Key::NetTopoPods, &[&(v.pods.len() as u64 + u64::from(v.more_pods)).to_string()]) }</h4>
                <div class="kg-topo-pods">
                    { for v.pods.iter().map(|pod| {
                        let key = format!("{}/{}", pod.namespace, pod.name);
                        let veth_lit = in_root && !pod.veth.is_empty() && pod.veth == iface;
                        let lit = in_pod == key || veth_lit;
                        html! {
                            <div key={key.clone()} data-testid="topo-pod" data-pod={key.clone()}
                                data-host-network={pod.host_network.to_string()} data-lit={lit.to_string()}
                                class={classes!("kg-topo-box", "kg-topo-pod", pod.host_network.then_some("kg-hostnet"), lit.then_some("kg-lit"))}>
                                <strong>{ key.clone() }</strong>
                                if lit { { here() } }
                                if pod.host_network {
                                    <div class="kg-muted" data-testid="topo-hostnet">{ t(Key::NetTopoHostNet) }{ format!(" ({})", pod.ip) }</div>
                                } else {
                                    <div class="kg-topo-veth" data-testid="topo-veth" data-lit={veth_lit.to_string()}>
                                        { format!("eth0 {} ⇄ {}", pod.ip, pod.veth) }
                                        { format!(" @ {}", root.ifaces.get(1).map(|i| i.name.as_str()).unwrap_or("bridge")) }
                                    </div>
                                    <pre class="kg-topo-routes">{ pod.routes.join("\n") }</pre>
                                }
                            </div>
                        }
                    }) }
                </div>
                if v.more_pods > 0 { <p class="kg-muted" data-testid="topo-more">{ tf(Key::NetTopoMorePods, &[&v.more_pods.to_string()]) }</p> }
                if !v.peers.is_empty() {
                    <h4>{ t(Key::NetTopoPeers) }</h4>
                    <ul>
                        { for v.peers.iter().map(|peer| {
                            let lit = p.current.as_ref().is_some_and(|h| h.node == peer.node);
                            let pick = p.pick.clone();
                            let name = peer.node.clone();
                            html! {
                                <li key={peer.node.clone()} data-testid="topo-peer" data-node={peer.node.clone()} data-lit={lit.to_string()}
                                    class={classes!("kg-topo-peer", lit.then_some("kg-lit"))}>
                                    <button class="kg-link" onclick={Callback::from(move |_| pick.set(name.clone()))}>{ peer.node.clone() }</button>
                                    { format!(" {} · pods {} · {}", peer.ip, peer.pod_cidr, peer.route) }
                                    if lit { { here() } }
                                </li>
                            }
                        }) }
                    </ul>
                }
            </div>
        </div>
    }
}

/// The shown trace's packet under each plug-in, side by side.
fn compare_part(
    v: Option<&NetCompareView>,
    trace: Option<&PacketTraceView>,
    app: &crate::web::context::AppContext,
) -> Html {
    let Some(tr) = trace else {
        return html! { <p class="kg-empty" data-testid="cmp-no-trace">{ t(Key::NetCmpNoTrace) }</p> };
    };
    let asked = tr.asked.clone();
    let http = (tr.host.clone(), tr.path.clone());
    let onclick = {
        let app = app.clone();
        let (asked, http) = (asked.clone(), http.clone());
        Callback::from(move |_| {
            app.query(Query::NetCompare {
                from: asked.0.clone(),
                to: asked.1.clone(),
                proto: asked.2.clone(),
                host: http.0.clone(),
                path: http.1.clone(),
            })
        })
    };
    let fresh = v.filter(|v| v.asked == asked);
    let waiting = v.is_some_and(|v| v.asked != asked);
    html! {
        <div data-testid="cmp">
            <p class="kg-hint">{ t(Key::NetCmpHint) }</p>
            <p class="kg-muted">{ tf(Key::NetPath, &[&asked.0, &asked.1, or(&asked.2, "tcp")]) }</p>
            <button class="kg-primary" data-testid="cmp-ask" {onclick}>{ t(Key::NetCmpAsk) }</button>
            if waiting { <span class="kg-muted">{ " " }{ t(Key::NetCmpWorking) }</span> }
            if let Some(v) = fresh {
                if !v.error.is_empty() {
                    <div class="kg-result kg-failed" data-testid="cmp-error"><pre class="kg-stderr">{ v.error.clone() }</pre></div>
                }
                <div class="kg-cmp" data-testid="cmp-runs">
                    { for v.runs.iter().map(|r| {
                        let current = r.plugin == v.current;
                        let class = match r.verdict.as_str() {
                            "delivered" => "kg-delivered",
                            "dropped" => "kg-dropped",
                            _ => "kg-verdict-other",
                        };
                        html! {
                            <section key={r.plugin.clone()} data-testid="cmp-run" data-plugin={r.plugin.clone()}
                                data-verdict={r.verdict.clone()} data-netfilter={r.netfilter.to_string()}
                                class={classes!("kg-cmp-run", current.then_some("kg-current-plugin"))}>
                                <h4>{ r.plugin.clone() }</h4>
                                if current { <div class="kg-muted">{ t(Key::NetCmpCurrent) }</div> }
                                if !r.error.is_empty() {
                                    <pre class="kg-stderr" data-testid="cmp-run-error">{ r.error.clone() }</pre>
                                } else {
                                    <p class={classes!("kg-net-verdict", class)}>
                                        { if r.dropped_by.is_empty() { tf(Key::NetVerdict, &[&r.verdict]) } else { tf(Key::NetDroppedBy, &[&r.dropped_by]) } }
                                    </p>
                                    <div class="kg-muted">
                                        { tf(Key::NetCmpHops, &[&r.hops.to_string()]) }{ " · " }
                                        <span data-testid="cmp-netfilter">{ tf(Key::NetCmpNetfilter, &[&r.netfilter.to_string()]) }</span>
                                        if !r.reply.is_empty() { { " · " }{ tf(Key::NetReplyVerdict, &[&r.reply]) } }
                                    </div>
                                    <div class="kg-cmp-stages" data-testid="cmp-stages">
                                        { for r.stages.iter().map(|st| {
                                            let c = if STAGES.contains(&st.as_str()) { format!("kg-stage-{st}") } else { "kg-stage-other".to_string() };
                                            html! { <span class={classes!("kg-net-stage", c)}>{ st.clone() }</span> }
                                        }) }
                                    </div>
                                    <div class="kg-muted">{ t(Key::NetCmpInter) }</div>
                                    if r.inter_node.is_empty() {
                                        <div class="kg-muted">{ t(Key::NetCmpNoInter) }</div>
                                    }
                                    { for r.inter_node.iter().map(|l| html! { <div class="kg-cmp-inter" data-testid="cmp-inter">{ l.clone() }</div> }) }
                                }
                            </section>
                        }
                    }) }
                </div>
            }
        </div>
    }
}
