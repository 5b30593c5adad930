//! The cluster map: a box per node with its pods, coloured by phase and marked by
//! owner; pods bound to no node in a box of their own. A small cluster shows each
//! pod (with its name while few); a large one, counts per node and phase. SVG drawn
//! with `html!` and keyed lists; every name is a text node (Yew escapes it).

use std::collections::BTreeMap;
use std::rc::Rc;

use gloo::timers::callback::Timeout;
use yew::prelude::*;

use crate::protocol::{NodeView, ObjKey, Phase, PodView, Query};
use crate::web::context::use_app;
use crate::web::format;
use crate::web::i18n::{phase_label, t, tf, Key};
use crate::web::state::{Action, MapState, PacketSpot};

const BOX_W: u32 = 250;
const GAP: u32 = 12;
const HEADER_H: u32 = 44;
/// Up to this many pods the map writes their names.
const NAMED_LIMIT: usize = 60;
const CHIP_W: u32 = 112;
const CHIP_H: u32 = 20;
const DOT: u32 = 14;
const DOTS_PER_ROW: u32 = 16;

/// What one box of the map shows.
enum BoxKind<'a> {
    Node(&'a NodeView),
    Unbound,
    /// Pods bound to a node that does not exist.
    Missing(&'a str),
}

struct MapBox<'a> {
    key: String,
    kind: BoxKind<'a>,
    pods: Vec<&'a Rc<PodView>>,
    counts: [u64; 5],
}

impl MapBox<'_> {
    fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

fn boxes(m: &MapState) -> Vec<MapBox<'_>> {
    let mut by_node: BTreeMap<&str, Vec<&Rc<PodView>>> = BTreeMap::new();
    for p in m.pods.values() {
        by_node.entry(p.node.as_str()).or_default().push(p);
    }
    let counts = |n: &str| m.counts.get(n).copied().unwrap_or_default();
    let mut out: Vec<MapBox> = m
        .nodes
        .values()
        .map(|n| MapBox {
            key: format!("node/{}", n.name),
            kind: BoxKind::Node(n),
            pods: by_node.remove(n.name.as_str()).unwrap_or_default(),
            counts: counts(&n.name),
        })
        .collect();
    let mut missing: Vec<&str> = m
        .counts
        .keys()
        .map(String::as_str)
        .filter(|n| !n.is_empty() && !m.nodes.contains_key(*n))
        .collect();
    missing.sort_unstable();
    for n in missing {
        out.push(MapBox {
            key: format!("missing/{n}"),
            kind: BoxKind::Missing(n),
            pods: by_node.remove(n).unwrap_or_default(),
            counts: counts(n),
        });
    }
    if m.counts.get("").is_some_and(|c| c.iter().any(|x| *x > 0)) {
        out.push(MapBox {
            key: "unbound".into(),
            kind: BoxKind::Unbound,
            pods: by_node.remove("").unwrap_or_default(),
            counts: counts(""),
        });
    }
    out
}

fn box_height(b: &MapBox, detailed: bool, named: bool) -> u32 {
    let body = if !detailed {
        56
    } else if named {
        (b.pods.len() as u32).div_ceil(2).max(1) * (CHIP_H + 4)
    } else {
        (b.pods.len() as u32).div_ceil(DOTS_PER_ROW).max(1) * DOT
    };
    HEADER_H + body + 10
}

fn phase_class(p: Phase) -> &'static str {
    match p {
        Phase::Pending => "kg-phase-pending",
        Phase::Running => "kg-phase-running",
        Phase::Succeeded => "kg-phase-succeeded",
        Phase::Failed => "kg-phase-failed",
        Phase::Unknown => "kg-phase-unknown",
    }
}

fn pod_tooltip(p: &PodView) -> String {
    let mut s = format!("{}/{} — {}", p.namespace, p.name, phase_label(p.phase));
    if !p.owner.is_empty() {
        s.push_str(&format!(" — {} {}", t(Key::Owner), p.owner));
    }
    if p.deleting {
        s.push_str(&format!(" — {}", t(Key::Deleting)));
    }
    s
}

#[derive(Properties, PartialEq)]
pub struct PodProps {
    pub pod: Rc<PodView>,
    pub x: u32,
    pub y: u32,
    pub named: bool,
    pub selected: bool,
    pub onselect: Callback<ObjKey>,
    /// A traced packet is in this pod's network namespace.
    #[prop_or_default]
    pub packet: bool,
}

/// One pod: a chip with its name, or a dot.
#[component]
pub fn PodMark(p: &PodProps) -> Html {
    let pod = &p.pod;
    let key = ObjKey::new("Pod", &pod.namespace, &pod.name);
    let onclick = {
        let cb = p.onselect.clone();
        Callback::from(move |_| cb.emit(key.clone()))
    };
    let class = classes!(
        "kg-pod",
        phase_class(pod.phase),
        p.selected.then_some("kg-selected"),
        pod.deleting.then_some("kg-deleting"),
        p.packet.then_some("kg-packet-here")
    );
    let owner = format::owner_colour(&pod.owner);
    let id = format!("{}/{}", pod.namespace, pod.name);
    if p.named {
        let mut label: String = pod.name.chars().take(14).collect();
        if pod.name.chars().count() > 14 {
            label.push('…');
        }
        html! {
            <g class={class} data-testid="pod" data-pod={id} transform={format!("translate({},{})", p.x, p.y)} {onclick}>
                <title>{ pod_tooltip(pod) }</title>
                <rect class="kg-pod-body" width={CHIP_W.to_string()} height={CHIP_H.to_string()} rx="4" />
                <rect class="kg-owner" width="4" height={CHIP_H.to_string()} rx="2" fill={owner} />
                <text class="kg-pod-name" x="8" y="14">{ label }</text>
            </g>
        }
    } else {
        html! {
            <g class={class} data-testid="pod" data-pod={id} transform={format!("translate({},{})", p.x, p.y)} {onclick}>
                <title>{ pod_tooltip(pod) }</title>
                <circle class="kg-pod-body" cx="6" cy="6" r="5" stroke={owner} />
            </g>
        }
    }
}

fn bars(counts: &[u64; 5]) -> Html {
    let total: u64 = counts.iter().sum();
    let width = (BOX_W - 20) as f64;
    let mut x = 10.0;
    let mut segs = Vec::new();
    let mut labels = Vec::new();
    for phase in Phase::ALL {
        let n = counts[phase.index()];
        if n == 0 {
            continue;
        }
        let w = if total == 0 {
            0.0
        } else {
            width * n as f64 / total as f64
        };
        segs.push(html! {
            <rect key={phase.as_str()} class={classes!("kg-bar", phase_class(phase))} x={format!("{x:.1}")} y="0"
                width={format!("{:.1}", w.max(1.0))} height="14" />
        });
        labels.push(format!("{} {}", phase_label(phase), format::count(n)));
        x += w;
    }
    html! {
        <g class="kg-counts" transform={format!("translate(0,{})", HEADER_H)}>
            { for segs }
            <text class="kg-count-text" x="10" y="32">{ labels.join(" · ") }</text>
            <text class="kg-count-total" x="10" y="48">{ tf(Key::PodsCount, &[&format::count(total)]) }</text>
        </g>
    }
}

#[derive(Properties, PartialEq)]
pub struct MapProps {
    /// The map to draw (the past one when `at` is set and it has arrived).
    pub map: Rc<MapState>,
    pub selected: Option<ObjKey>,
    /// The trace entry `map` shows the cluster after (None: now).
    pub at: Option<u64>,
    /// The trace entry looked at, when in the past (its map is asked for).
    pub want: Option<u64>,
    pub epoch: u32,
    /// Where the packet of a trace being stepped through is (the network view).
    #[prop_or_default]
    pub packet: Option<PacketSpot>,
}

#[component]
pub fn ClusterMap(s: &MapProps) -> Html {
    let app = use_app();
    // The past map: asked for when the cursor rests in the past.
    {
        let app = app.clone();
        use_effect_with((s.want, s.epoch), move |(want, _)| {
            let timer = want.map(|seq| Timeout::new(120, move || app.query(Query::MapAt { seq })));
            move || drop(timer)
        });
    }
    let map: Rc<MapState> = s.map.clone();
    let onselect = {
        let app = app.clone();
        Callback::from(move |k: ObjKey| app.dispatch(Action::Select(Some(k))))
    };
    let select_node = {
        let app = app.clone();
        move |name: String| {
            let app = app.clone();
            Callback::from(move |_| {
                app.dispatch(Action::Select(Some(ObjKey::new("Node", "", &name))))
            })
        }
    };
    let detailed = map.detailed;
    let named = detailed && map.pods.len() <= NAMED_LIMIT;
    let list = boxes(&map);
    let cols = (list.len() as u32).clamp(1, 4);
    let mut y = 0;
    let mut items = Vec::new();
    for row in list.chunks(cols as usize) {
        let h = row
            .iter()
            .map(|b| box_height(b, detailed, named))
            .max()
            .unwrap_or(0);
        for (i, b) in row.iter().enumerate() {
            let x = i as u32 * (BOX_W + GAP);
            let (title, sub, class, onclick) = match &b.kind {
                BoxKind::Node(n) => {
                    let mut sub = vec![if n.ready {
                        t(Key::NodeReady)
                    } else {
                        t(Key::NodeNotReady)
                    }
                    .to_string()];
                    if n.unschedulable {
                        sub.push(t(Key::Cordoned).into());
                    }
                    if !n.zone.is_empty() {
                        sub.push(n.zone.clone());
                    }
                    sub.push(tf(
                        Key::PodsOnNode,
                        &[&format::count(b.total()), &n.pod_capacity.to_string()],
                    ));
                    (
                        n.name.clone(),
                        sub.join(" · "),
                        classes!(
                            "kg-node",
                            (!n.ready).then_some("kg-not-ready"),
                            n.unschedulable.then_some("kg-cordoned")
                        ),
                        Some(select_node(n.name.clone())),
                    )
                }
                BoxKind::Unbound => (
                    t(Key::NotBound).to_string(),
                    tf(Key::PodsCount, &[&format::count(b.total())]),
                    classes!("kg-node", "kg-unbound"),
                    None,
                ),
                BoxKind::Missing(n) => (
                    tf(Key::UnknownNode, &[n]),
                    tf(Key::PodsCount, &[&format::count(b.total())]),
                    classes!("kg-node", "kg-missing"),
                    None,
                ),
            };
            let selected_node = matches!(&b.kind, BoxKind::Node(n) if s.selected.as_ref().is_some_and(|k| k.kind == "Node" && k.name == n.name));
            let packet_here = matches!(&b.kind, BoxKind::Node(n) if s.packet.as_ref().is_some_and(|p| p.node == n.name));
            let pods: Html = if detailed {
                b.pods
                    .iter()
                    .enumerate()
                    .map(|(j, p)| {
                        let j = j as u32;
                        let (px, py) = if named {
                            (10 + (j % 2) * (CHIP_W + 6), HEADER_H + (j / 2) * (CHIP_H + 4))
                        } else {
                            (10 + (j % DOTS_PER_ROW) * DOT, HEADER_H + (j / DOTS_PER_ROW) * DOT)
                        };
                        let selected = s.selected.as_ref().is_some_and(|k| {
                            k.kind == "Pod" && k.namespace == p.namespace && k.name == p.name
                        });
                        let packet = s.packet.as_ref().and_then(|s| s.pod.as_ref()).is_some_and(|(ns, name)| {
                            *ns == p.namespace && *name == p.name
                        });
                        html! {
                            <PodMark key={format!("{}/{}", p.namespace, p.name)} pod={Rc::clone(p)} x={px} y={py}
                                {named} {selected} onselect={onselect.clone()} {packet} />
                        }
                    })
                    .collect()
            } else {
                bars(&b.counts)
            };
            items.push(html! {
                <g key={b.key.clone()} class={classes!(class, packet_here.then_some("kg-packet-here"))} data-testid="map-box"
                    transform={format!("translate({x},{y})")}>
                    <rect class={classes!("kg-node-frame", selected_node.then_some("kg-selected"))}
                        width={BOX_W.to_string()} height={h.to_string()} rx="8" onclick={onclick} />
                    <text class="kg-node-name" x="10" y="18">{ title }</text>
                    if packet_here {
                        <text class="kg-packet-mark" data-testid="map-packet" x={(BOX_W - 12).to_string()} y="18"
                            text-anchor="end">{ t(Key::MapPacket) }</text>
                    }
                    <text class="kg-node-sub" x="10" y="34">{ sub }</text>
                    { pods }
                </g>
            });
        }
        y += h + GAP;
    }
    let width = cols * (BOX_W + GAP);
    let height = y.max(60);
    html! {
        <section class="kg-panel kg-map" data-testid="map" data-detailed={detailed.to_string()}
            data-total={map.total.to_string()}>
            <h2>
                { t(Key::ClusterMap) }
                <small>
                    { tf(Key::PodsCount, &[&format::count(map.total)]) }
                    if !detailed { { " · " }{ t(Key::MapAggregated) } }
                    if let Some(at) = s.at { { " · " }{ tf(Key::MapPast, &[&at.to_string()]) } }
                </small>
            </h2>
            if list.is_empty() {
                <p class="kg-empty">{ t(Key::NoNodes) }</p>
            } else {
                <svg class="kg-map-svg" viewBox={format!("0 0 {width} {height}")} width={width.to_string()}
                    height={height.to_string()} role="img" aria-label={t(Key::ClusterMap)}>
                    { for items }
                </svg>
            }
            <ul class="kg-legend">
                { for Phase::ALL.iter().map(|p| html! {
                    <li key={p.as_str()}><span class={classes!("kg-swatch", phase_class(*p))}></span>{ phase_label(*p) }</li>
                }) }
                <li><span class="kg-swatch kg-owner-swatch"></span>{ t(Key::OwnerLegend) }</li>
            </ul>
        </section>
    }
}
