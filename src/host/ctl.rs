//! The controllers' views, built from what every control loop leaves behind: the
//! trace (who acted, what it did and why, the objects and revisions it touched) and
//! the store's history of objects. No view reads a controller's own state, so they
//! work for any controller, present or future.
//!
//! - [`controllers_view`]: the loops seen in the newest [`WINDOW`] trace entries
//!   (kubelets grouped), and one reconcile of a loop: the watch events delivered to
//!   it since its previous reconcile (what it observed), then its notes (what it
//!   wanted and why) and requests (what it did). A reconcile is a run of one
//!   component's notes and requests at one virtual instant, with no other
//!   component acting and no watch event reaching it in between.
//! - [`rollout_view`]: a Deployment's ReplicaSets at each change in the store's
//!   history window: the new ReplicaSet (the highest `deployment.kubernetes.io/revision`)
//!   and the old ones summed (spec, ready, available), with desired + maxSurge and
//!   desired − maxUnavailable resolved as upstream's `ResolveFenceposts` (surge
//!   rounds up, unavailable down, both zero makes unavailable 1).
//! - [`node_failure_view`]: a node's Lease renewals (collapsed), the heartbeats
//!   missed (expected every leaseDurationSeconds/4, the kubelet's renew interval),
//!   its Ready condition and taints as they changed, its pods deleted and who did
//!   it, and the pods their owners created instead and where they were bound.
//!
//! Simplifications: only the store's history window (and the trace's) is looked
//! at; older history is not rebuilt by replay here. Every list is bounded.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use crate::api::object::{DEPLOYMENTS, LEASES, NODES, PODS, REPLICASETS};
use crate::api::time::EPOCH_UNIX;
use crate::api::Object;
use crate::kernel::{TraceDetail, TraceEntry, NANOS_PER_SEC};
use crate::protocol::{
    CtlView, EntryView, FailItem, FailKind, LoopSummary, NodeFailView, ReconcileView, RolloutPoint,
    RolloutView,
};

use super::sim::Sim;

/// Trace entries the controllers view looks at (the newest).
pub const WINDOW: usize = 20_000;
/// Actions and observed events sent per reconcile.
pub const ACTIONS: usize = 32;
pub const OBSERVED: usize = 8;
/// Points of a rollout and items of a node's timeline sent at most (the newest).
pub const POINTS: usize = 200;
pub const ITEMS: usize = 200;
/// Deployments or nodes offered to pick from.
pub const PICK: usize = 100;
/// Missed heartbeats listed one by one per gap.
pub const MISSES: u64 = 12;
/// Actors that are not control loops.
const NOT_LOOPS: &[&str] = &["apiserver", "person", "cluster", "kubectl", "curl"];
const REVISION: &str = "deployment.kubernetes.io/revision";

/// Who did what an entry records: a note's actor, a request's client.
fn who(e: &TraceEntry) -> &str {
    match &e.detail {
        TraceDetail::Request { .. } => e.reason.split_once(" as ").map_or("", |(c, _)| c),
        _ => &e.actor,
    }
}

/// The control loop that acted in an entry (None: a watch event, a watch being
/// opened, a person, the API server's own work).
fn acting(e: &TraceEntry) -> Option<&str> {
    match &e.detail {
        TraceDetail::Note => {}
        TraceDetail::Request { path, .. } if !path.contains("watch=true") => {}
        _ => return None,
    }
    let w = who(e);
    (!w.is_empty() && !NOT_LOOPS.contains(&w)).then_some(w)
}

/// The group a component belongs to (`kubelet/node-1` is a `kubelet`).
fn group(who: &str) -> &str {
    who.split_once('/').map_or(who, |(g, _)| g)
}

#[derive(Default)]
struct Group<'a> {
    members: BTreeSet<&'a str>,
    reconciles: u32,
    last_time: u64,
    recent: Vec<&'a TraceEntry>,
}

struct Rec {
    actions: Vec<usize>,
    observed: Vec<usize>,
}

/// The loops, and the reconcile of loop `name` that started last at or before
/// trace entry `at` (None: the newest; before the window: the oldest in it).
pub fn controllers_view(sim: &Sim, name: Option<&str>, at: Option<u64>) -> CtlView {
    let trace = &sim.cluster().k.trace;
    let n = trace.len();
    let window: Vec<&TraceEntry> = trace.entries().skip(n.saturating_sub(WINDOW)).collect();
    let selected: String = match name {
        Some(n) => n.to_string(),
        None => window
            .iter()
            .rev()
            .find_map(|e| acting(e))
            .map(|w| group(w).to_string())
            .unwrap_or_default(),
    };
    let mut groups: BTreeMap<&str, Group> = BTreeMap::new();
    let mut recs: Vec<Rec> = Vec::new();
    let mut pending: BTreeMap<&str, VecDeque<usize>> = BTreeMap::new();
    let mut cur: Option<(&str, u64)> = None;
    for (i, e) in window.iter().enumerate() {
        if let TraceDetail::Watch { watchers, .. } = &e.detail {
            for w in watchers.iter() {
                let w: &str = w;
                if cur.is_some_and(|(c, _)| c == w) {
                    cur = None;
                }
                if group(w) == selected {
                    let p = pending.entry(w).or_default();
                    if p.len() == OBSERVED {
                        p.pop_front();
                    }
                    p.push_back(i);
                }
            }
            continue;
        }
        let Some(w) = acting(e) else { continue };
        let g = groups.entry(group(w)).or_default();
        g.last_time = e.time;
        if g.recent.len() == 3 {
            g.recent.remove(0);
        }
        g.recent.push(e);
        let mine = group(w) == selected;
        if cur == Some((w, e.time)) {
            if mine {
                if let Some(r) = recs.last_mut() {
                    r.actions.push(i);
                }
            }
            continue;
        }
        cur = Some((w, e.time));
        g.members.insert(w);
        g.reconciles += 1;
        if mine {
            recs.push(Rec {
                actions: vec![i],
                observed: pending.remove(w).map(Vec::from).unwrap_or_default(),
            });
        }
    }
    let view = |i: usize| EntryView::new(window[i], sim.rev_at(window[i].seq));
    let total = recs.len() as u32;
    let reconcile = (total > 0).then(|| {
        let start = |r: &Rec| window[r.actions[0]].seq;
        let i = at.map_or(recs.len(), |s| recs.partition_point(|r| start(r) <= s));
        let i = i.max(1) - 1;
        let r = &recs[i];
        let first = window[r.actions[0]];
        ReconcileView {
            index: i as u32,
            total,
            seq: first.seq,
            prev: i.checked_sub(1).map_or(0, |j| start(&recs[j])),
            next: recs.get(i + 1).map_or(0, start),
            actor: who(first).to_string(),
            time: first.time,
            observed: r.observed.iter().map(|&i| view(i)).collect(),
            actions: r.actions.iter().take(ACTIONS).map(|&i| view(i)).collect(),
            more: r.actions.len().saturating_sub(ACTIONS) as u32,
        }
    });
    CtlView {
        loops: groups
            .into_iter()
            .map(|(name, g)| LoopSummary {
                name: name.to_string(),
                members: g.members.len() as u32,
                reconciles: g.reconciles,
                last_time: g.last_time,
                recent: g
                    .recent
                    .iter()
                    .rev()
                    .map(|e| e.action.to_string())
                    .collect(),
            })
            .collect(),
        name: selected,
        reconcile,
        window: window.len() as u64,
    }
}

/// The trace entry that wrote store revision `rev`, its time and who wrote it.
fn writer(sim: &Sim, rev: u64) -> (u64, u64, String) {
    let trace = &sim.cluster().k.trace;
    let seq = sim.seq_of_rev(rev);
    let found = (seq..seq + 8)
        .filter_map(|s| trace.get(s))
        .find(|e| e.objects.iter().any(|o| o.revision == rev));
    match found.or_else(|| trace.get(seq)) {
        Some(e) => (e.seq, e.time, who(e).to_string()),
        None => (0, 0, String::new()),
    }
}

/// `ResolveFenceposts`: (surge, unavailable) for `desired` replicas.
pub fn fenceposts(
    surge: Option<&crate::api::intstr::IntOrString>,
    unavailable: Option<&crate::api::intstr::IntOrString>,
    desired: i32,
) -> (i32, i32) {
    let s = surge.map_or(Ok(0), |v| v.scaled_value(desired, true));
    let u = unavailable.map_or(Ok(0), |v| v.scaled_value(desired, false));
    let (s, u) = (s.unwrap_or(0), u.unwrap_or(0));
    (s, if s == 0 && u == 0 { 1 } else { u })
}

fn rs_revision(o: &Object) -> i64 {
    o.meta()
        .annotations
        .get(REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// A Deployment's ReplicaSets at each change (`namespace/name`; empty: the first).
pub fn rollout_view(sim: &Sim, deployment: &str) -> RolloutView {
    let store = sim.cluster().api().store();
    let deployments: Vec<String> = store
        .list(&DEPLOYMENTS, None)
        .take(PICK)
        .map(|o| format!("{}/{}", o.namespace(), o.name()))
        .collect();
    let key = if deployment.is_empty() {
        deployments.first().cloned().unwrap_or_default()
    } else {
        deployment.to_string()
    };
    let mut v = RolloutView {
        deployment: key.clone(),
        deployments,
        ..RolloutView::default()
    };
    let Some((ns, name)) = key.split_once('/') else {
        return v;
    };
    let Some(Object::Deployment(now)) = store.get(&DEPLOYMENTS, ns, name).map(|o| &**o) else {
        return v;
    };
    let uid = now.metadata.uid.clone();
    let strategy = now.spec.strategy.as_ref();
    v.strategy = strategy
        .and_then(|s| s.kind.clone())
        .unwrap_or_else(|| "RollingUpdate".into());
    if let Some(ru) = strategy.and_then(|s| s.rolling_update.as_ref()) {
        v.max_surge = ru
            .max_surge
            .as_ref()
            .map(|x| x.to_string())
            .unwrap_or_default();
        v.max_unavailable = ru
            .max_unavailable
            .as_ref()
            .map(|x| x.to_string())
            .unwrap_or_default();
    }
    let owned = |o: &Object| {
        std::ptr::eq(o.resource_type(), &REPLICASETS)
            && o.namespace() == ns
            && o.meta().controller_ref().is_some_and(|r| r.uid == uid)
    };
    let from = store.oldest_watchable();
    // The state at the start of the window.
    let mut names: BTreeSet<String> = store
        .list(&REPLICASETS, Some(ns))
        .filter(|o| owned(o))
        .map(|o| o.name().to_string())
        .collect();
    for ev in store.events_after(from) {
        if owned(&ev.object) {
            names.insert(ev.object.name().to_string());
        }
    }
    let mut dep = store.get_at(&DEPLOYMENTS, ns, name, from).ok().flatten();
    if dep.as_ref().is_some_and(|d| d.meta().uid != uid) {
        dep = None;
    }
    let mut sets: BTreeMap<String, Arc<Object>> = BTreeMap::new();
    for n in &names {
        if let Ok(Some(o)) = store.get_at(&REPLICASETS, ns, n, from) {
            if owned(&o) {
                sets.insert(n.clone(), o);
            }
        }
    }
    let mut points: VecDeque<RolloutPoint> = VecDeque::new();
    let mut last_time = 0;
    let mut push = |v: &mut RolloutView, p: RolloutPoint| {
        let same = points.back().is_some_and(|q: &RolloutPoint| {
            (q.desired, q.bounds, q.new, q.counts) == (p.desired, p.bounds, p.new, p.counts)
        });
        if same {
            return;
        }
        if points.len() == POINTS {
            points.pop_front();
            v.dropped += 1;
        }
        points.push_back(p);
    };
    let mut emit = |v: &mut RolloutView,
                    dep: &Option<Arc<Object>>,
                    sets: &BTreeMap<String, Arc<Object>>,
                    rev: u64| {
        let Some(Object::Deployment(d)) = dep.as_deref() else {
            return None;
        };
        let desired = d.spec.replicas.unwrap_or(1);
        let s = d.spec.strategy.as_ref();
        let bounds = match s.and_then(|s| s.kind.as_deref()) {
            Some("Recreate") => None,
            _ => {
                let ru = s.and_then(|s| s.rolling_update.as_ref());
                let (up, down) = fenceposts(
                    ru.and_then(|r| r.max_surge.as_ref()),
                    ru.and_then(|r| r.max_unavailable.as_ref()),
                    desired,
                );
                Some((desired + up, desired - down))
            }
        };
        let newest = sets
            .values()
            .max_by_key(|o| (rs_revision(o), o.meta().creation_timestamp))
            .map(|o| o.name().to_string());
        let mut counts = [0; 6];
        let mut new = None;
        for o in sets.values() {
            let Object::ReplicaSet(rs) = &**o else {
                continue;
            };
            let is_new = newest.as_deref() == Some(o.name());
            let base = if is_new { 0 } else { 3 };
            counts[base] += rs.spec.replicas.unwrap_or(1);
            counts[base + 1] += rs.status.ready_replicas;
            counts[base + 2] += rs.status.available_replicas;
            let r = rs_revision(o).to_string();
            let i = match v.sets.iter().position(|(n, _)| n == o.name()) {
                Some(i) => {
                    v.sets[i].1 = r;
                    i
                }
                None => {
                    v.sets.push((o.name().to_string(), r));
                    v.sets.len() - 1
                }
            };
            if is_new {
                new = Some(i as u16);
            }
        }
        let (seq, time, _) = writer(sim, rev);
        last_time = last_time.max(time);
        Some(RolloutPoint {
            seq,
            time: last_time,
            revision: rev,
            desired,
            bounds,
            new,
            counts,
        })
    };
    if let Some(p) = emit(&mut v, &dep, &sets, from) {
        push(&mut v, p);
    }
    for ev in store.events_after(from) {
        let o = &ev.object;
        let deleted = ev.kind == crate::store::EventType::Deleted;
        if std::ptr::eq(o.resource_type(), &DEPLOYMENTS) && o.meta().uid == uid {
            dep = (!deleted).then(|| o.clone());
        } else if owned(o) {
            if deleted {
                sets.remove(o.name());
            } else {
                sets.insert(o.name().to_string(), o.clone());
            }
        } else {
            continue;
        }
        if let Some(p) = emit(&mut v, &dep, &sets, ev.revision) {
            push(&mut v, p);
        }
    }
    v.points = points.into();
    v
}

fn micro_to_virtual(m: i64) -> u64 {
    (m - EPOCH_UNIX * 1_000_000).max(0) as u64 * 1000
}

fn ready(o: &Object) -> Option<(String, String)> {
    let Object::Node(n) = o else { return None };
    n.condition("Ready").map(|c| {
        (
            c.status.clone(),
            if c.message.is_empty() {
                c.reason.clone()
            } else {
                format!("{}: {}", c.reason, c.message)
            },
        )
    })
}

fn taints(o: Option<&Arc<Object>>) -> BTreeSet<String> {
    match o.map(|o| &**o) {
        Some(Object::Node(n)) => n
            .spec
            .taints
            .iter()
            .map(|t| format!("{}:{}", t.key, t.effect))
            .collect(),
        _ => BTreeSet::new(),
    }
}

fn node_of(o: Option<&Arc<Object>>) -> &str {
    match o.map(|o| &**o) {
        Some(Object::Pod(p)) => &p.spec.node_name,
        _ => "",
    }
}

fn renew_of(o: &Object) -> Option<i64> {
    match o {
        Object::Lease(l) => l.spec.renew_time.map(|t| t.0),
        _ => None,
    }
}

/// What happened to a node (empty: the first node not Ready, or the first node).
pub fn node_failure_view(sim: &Sim, node: &str) -> NodeFailView {
    let c = sim.cluster();
    let store = c.api().store();
    let mut nodes: Vec<String> = Vec::new();
    let mut not_ready = None;
    for o in store.list(&NODES, None).take(PICK) {
        if not_ready.is_none() && ready(o).is_some_and(|(s, _)| s != "True") {
            not_ready = Some(o.name().to_string());
        }
        nodes.push(o.name().to_string());
    }
    let node = if node.is_empty() {
        not_ready
            .or_else(|| nodes.first().cloned())
            .unwrap_or_default()
    } else {
        node.to_string()
    };
    let mut v = NodeFailView {
        node: node.clone(),
        nodes,
        ..NodeFailView::default()
    };
    if node.is_empty() {
        return v;
    }
    let lease = store.get(&LEASES, "kube-node-lease", &node);
    let duration = match lease.map(|o| &**o) {
        Some(Object::Lease(l)) => l.spec.lease_duration_seconds.unwrap_or(40),
        _ => 40,
    };
    v.interval = (duration.max(4) / 4) as u32;
    let interval = u64::from(v.interval) * NANOS_PER_SEC;
    let from = store.oldest_watchable();
    let mut items: Vec<FailItem> = Vec::new();
    let item =
        |kind, (seq, time, actor): (u64, u64, String), subject: String, detail: String| FailItem {
            kind,
            time,
            seq,
            actor,
            subject,
            detail,
        };
    let start_renew: Option<u64> = store
        .get_at(&LEASES, "kube-node-lease", &node, from)
        .ok()
        .flatten()
        .and_then(|o| renew_of(&o))
        .map(micro_to_virtual);
    let mut last_renew = start_renew;
    let mut renews: Vec<u64> = Vec::new();
    // Pods deleted from the node, by owner uid → owner (`ReplicaSet/web-1`).
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    let mut replacements: BTreeSet<String> = BTreeSet::new();
    for ev in store.events_after(from) {
        let o = &ev.object;
        let rt = o.resource_type();
        let prev = ev.prev.as_ref();
        if std::ptr::eq(rt, &LEASES) {
            if o.namespace() != "kube-node-lease" || o.name() != node {
                continue;
            }
            let r = renew_of(o);
            if r.is_some() && r != prev.and_then(|p| renew_of(p)) {
                let at = micro_to_virtual(r.unwrap_or(0));
                v.renewals += 1;
                renews.push(at);
                last_renew = Some(at);
                let w = writer(sim, ev.revision);
                let detail = crate::api::time::MicroTime(r.unwrap_or(0)).to_rfc3339();
                items.push(item(FailKind::Renewed, w, "1".into(), detail));
            }
        } else if std::ptr::eq(rt, &NODES) {
            if o.name() != node {
                continue;
            }
            let now = ready(o);
            if now.is_some() && now != prev.and_then(|p| ready(p)) {
                let (s, d) = now.unwrap_or_default();
                items.push(item(FailKind::Ready, writer(sim, ev.revision), s, d));
            }
            let (before, after) = (taints(prev), taints(Some(o)));
            for t in after.difference(&before) {
                let w = writer(sim, ev.revision);
                items.push(item(FailKind::TaintAdded, w, t.clone(), String::new()));
            }
            for t in before.difference(&after) {
                let w = writer(sim, ev.revision);
                items.push(item(FailKind::TaintRemoved, w, t.clone(), String::new()));
            }
        } else if std::ptr::eq(rt, &PODS) {
            // No allocation for the pods that do not matter (most of them).
            let pod = || format!("{}/{}", o.namespace(), o.name());
            let uid = &o.meta().uid;
            let deleted = ev.kind == crate::store::EventType::Deleted;
            let marked = o.meta().deletion_timestamp.is_some();
            let first =
                (marked || deleted) && prev.is_none_or(|p| p.meta().deletion_timestamp.is_none());
            let bound = node_of(Some(o));
            if bound == node && first {
                let (seq, time, actor) = writer(sim, ev.revision);
                // The deleter's own note just before, if it left one; else the request.
                let why = (seq.saturating_sub(4)..seq)
                    .rev()
                    .filter_map(|s| c.k.trace.get(s))
                    .find(|e| {
                        matches!(e.detail, TraceDetail::Note)
                            && *e.actor == *actor
                            && e.objects
                                .iter()
                                .any(|r| r.kind == "Pod" && r.name == o.name())
                    })
                    .or_else(|| c.k.trace.get(seq))
                    .map(|e| e.reason.to_string())
                    .unwrap_or_default();
                if let Some(r) = o.meta().controller_ref() {
                    owners.insert(r.uid.clone(), format!("{}/{}", r.kind, r.name));
                }
                items.push(item(FailKind::PodDeleted, (seq, time, actor), pod(), why));
            } else if ev.kind == crate::store::EventType::Added {
                let owner = o.meta().controller_ref().and_then(|r| owners.get(&r.uid));
                if let Some(owner) = owner {
                    replacements.insert(uid.clone());
                    let w = writer(sim, ev.revision);
                    items.push(item(FailKind::PodCreated, w.clone(), pod(), owner.clone()));
                    if !bound.is_empty() {
                        items.push(item(FailKind::PodBound, w, pod(), bound.to_string()));
                    }
                }
            } else if !bound.is_empty()
                && node_of(prev).is_empty()
                && replacements.contains(uid.as_str())
            {
                let w = writer(sim, ev.revision);
                items.push(item(FailKind::PodBound, w, pod(), bound.to_string()));
            }
        }
    }
    // Notes and steps about the node (faults, the node lifecycle controller).
    let trace = &c.k.trace;
    let n = trace.len();
    for e in trace.entries().skip(n.saturating_sub(WINDOW)) {
        let about = match &e.detail {
            TraceDetail::Note => {
                &*e.actor != "scheduler"
                    && e.objects.iter().any(|o| o.kind == "Node" && o.name == node)
            }
            TraceDetail::Input { step } => step.starts_with("fault") && step.contains(&*node),
            _ => false,
        };
        if about {
            let w = (e.seq, e.time, who(e).to_string());
            items.push(item(
                FailKind::Note,
                w,
                e.action.to_string(),
                e.reason.to_string(),
            ));
        }
    }
    // Heartbeats that did not come: every interval after a renewal (with half an
    // interval's grace), until the next renewal or now.
    let mut beats: Vec<u64> = Vec::new();
    if let Some(r) = start_renew.filter(|r| renews.first().is_none_or(|f| r < f)) {
        beats.push(r);
    }
    beats.extend(&renews);
    for (i, &a) in beats.iter().enumerate() {
        let b = beats.get(i + 1).copied().unwrap_or(sim.now()).max(a);
        let missed = (b - a).saturating_sub(interval / 2) / interval;
        for k in 1..=missed.min(MISSES) {
            let subject = if k == MISSES && missed > MISSES {
                format!("{k}–{missed}")
            } else {
                k.to_string()
            };
            let w = (0, a + k * interval, String::new());
            items.push(item(FailKind::Missed, w, subject, String::new()));
        }
    }
    v.last_renew = last_renew;
    items.sort_by_key(|i| i.time);
    // Renewals in a row are one item.
    let mut out: VecDeque<FailItem> = VecDeque::new();
    for i in items {
        if let (FailKind::Renewed, Some(last)) = (i.kind, out.back_mut()) {
            if last.kind == FailKind::Renewed {
                let n: u64 = last.subject.parse().unwrap_or(1);
                last.subject = (n + 1).to_string();
                last.time = i.time;
                last.seq = i.seq;
                last.detail = i.detail;
                continue;
            }
        }
        if out.len() == ITEMS {
            out.pop_front();
            v.dropped += 1;
        }
        out.push_back(i);
    }
    v.items = out.into();
    v
}
