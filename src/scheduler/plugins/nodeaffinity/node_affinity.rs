use std::collections::BTreeSet;

use crate::api::core::{
    Node, NodeAffinity as NodeAffinitySpec, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
};
use crate::api::labels::{Operator, Requirement, Selector};
use crate::scheduler::cache::Snapshot;
use crate::scheduler::framework::{
    ClusterEvent, Code, CycleState, FilterPlugin, NodeInfo, NormalizeScore, Plugin, PluginCtx,
    PodInfo, PreFilterPlugin, PreFilterResult, PreScorePlugin, ScorePlugin, Status,
};
use crate::scheduler::plugins::tainttoleration::{default_normalize, explain_default_normalize};

pub const NAME: &str = "NodeAffinity";
/// `ErrReasonPod`.
pub const ERR_REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";
/// `errReasonEnforced`.
pub const ERR_REASON_ENFORCED: &str = "node(s) didn't match scheduler-enforced node affinity";
/// `errReasonConflict`.
pub const ERR_REASON_CONFLICT: &str = "pod affinity terms conflict";

/// A parsed `matchFields` requirement (only `metadata.name` exists on nodes).
#[derive(Clone, Debug)]
struct FieldReq {
    key: String,
    equal: bool,
    value: String,
}

/// A parsed node selector term (`nodeaffinity.nodeSelectorTerm`).
#[derive(Clone, Debug)]
struct Term {
    labels: Option<Selector>,
    fields: Option<Vec<FieldReq>>,
    parse_error: bool,
}

fn requirements_as_selector(reqs: &[NodeSelectorRequirement]) -> Option<Selector> {
    if reqs.is_empty() {
        return Some(Selector::nothing());
    }
    let mut out = Vec::new();
    for r in reqs {
        let op = match r.operator.as_str() {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            "Gt" => Operator::GreaterThan,
            "Lt" => Operator::LessThan,
            _ => return None,
        };
        out.push(Requirement::new(r.key.clone(), op, r.values.clone()).ok()?);
    }
    Some(Selector::from_requirements(out))
}

fn requirements_as_fields(reqs: &[NodeSelectorRequirement]) -> Option<Vec<FieldReq>> {
    let mut out = Vec::new();
    for r in reqs {
        let equal = match r.operator.as_str() {
            "In" => true,
            "NotIn" => false,
            _ => return None,
        };
        if r.values.len() != 1 {
            return None;
        }
        out.push(FieldReq {
            key: r.key.clone(),
            equal,
            value: r.values[0].clone(),
        });
    }
    Some(out)
}

fn is_empty_term(t: &NodeSelectorTerm) -> bool {
    t.match_expressions.is_empty() && t.match_fields.is_empty()
}

fn parse_term(t: &NodeSelectorTerm) -> Term {
    let mut term = Term {
        labels: None,
        fields: None,
        parse_error: false,
    };
    if !t.match_expressions.is_empty() {
        match requirements_as_selector(&t.match_expressions) {
            Some(s) => term.labels = Some(s),
            None => term.parse_error = true,
        }
    }
    if !t.match_fields.is_empty() {
        match requirements_as_fields(&t.match_fields) {
            Some(f) => term.fields = Some(f),
            None => term.parse_error = true,
        }
    }
    term
}

impl Term {
    /// `nodeSelectorTerm.match`; a term that failed to parse matches nothing.
    fn matches(&self, node: &Node) -> bool {
        if self.parse_error {
            return false;
        }
        if let Some(l) = &self.labels {
            if !l.matches(&node.metadata.labels) {
                return false;
            }
        }
        if let Some(fields) = &self.fields {
            let name = &node.metadata.name;
            if !name.is_empty() {
                for f in fields {
                    let have = if f.key == "metadata.name" {
                        name.as_str()
                    } else {
                        ""
                    };
                    if (have == f.value) != f.equal {
                        return false;
                    }
                }
            }
        }
        true
    }
}

/// `nodeaffinity.LazyErrorNodeSelector`: the terms are ORed; empty terms select nothing.
#[derive(Clone, Debug)]
pub struct NodeSelectorMatcher {
    terms: Vec<Term>,
}

impl NodeSelectorMatcher {
    pub fn new(ns: &NodeSelector) -> NodeSelectorMatcher {
        NodeSelectorMatcher {
            terms: ns
                .node_selector_terms
                .iter()
                .filter(|t| !is_empty_term(t))
                .map(parse_term)
                .collect(),
        }
    }

    pub fn matches(&self, node: &Node) -> bool {
        self.terms.iter().any(|t| t.matches(node))
    }
}

/// `nodeaffinity.RequiredNodeAffinity`: `spec.nodeSelector` AND the required node
/// affinity terms.
#[derive(Clone, Debug)]
pub struct RequiredNodeAffinity {
    selector: Option<Selector>,
    affinity: Option<NodeSelectorMatcher>,
}

impl RequiredNodeAffinity {
    pub fn of(pod: &PodInfo) -> RequiredNodeAffinity {
        let spec = &pod.pod().spec;
        let selector =
            (!spec.node_selector.is_empty()).then(|| Selector::from_set(&spec.node_selector));
        let affinity = spec
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| {
                na.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .map(NodeSelectorMatcher::new);
        RequiredNodeAffinity { selector, affinity }
    }

    /// Whether there is nothing to match (every node matches).
    pub fn is_empty(&self) -> bool {
        self.selector.is_none() && self.affinity.is_none()
    }

    pub fn matches(&self, node: &Node) -> bool {
        if let Some(s) = &self.selector {
            if !s.matches(&node.metadata.labels) {
                return false;
            }
        }
        match &self.affinity {
            Some(a) => a.matches(node),
            None => true,
        }
    }
}

/// A label requirement with its strings resolved to interned ids; a key or value no
/// node has is `None` (or left out of a value set).
#[derive(Clone, Debug)]
enum IdReq {
    In(Option<u32>, Vec<u32>),
    NotIn(Option<u32>, Vec<u32>),
    Exists(Option<u32>),
    DoesNotExist(Option<u32>),
    Gt(Option<u32>, i64),
    Lt(Option<u32>, i64),
}

impl IdReq {
    fn of(r: &Requirement, snap: &Snapshot) -> Option<IdReq> {
        let key = snap.interner.get(r.key());
        let ids = || {
            r.values()
                .iter()
                .filter_map(|v| snap.interner.get(v))
                .collect::<Vec<_>>()
        };
        let num = || r.values().first().and_then(|v| v.parse::<i64>().ok());
        Some(match r.operator()? {
            Operator::In | Operator::Equals | Operator::DoubleEquals => IdReq::In(key, ids()),
            Operator::NotIn | Operator::NotEquals => IdReq::NotIn(key, ids()),
            Operator::Exists => IdReq::Exists(key),
            Operator::DoesNotExist => IdReq::DoesNotExist(key),
            Operator::GreaterThan => IdReq::Gt(key, num()?),
            Operator::LessThan => IdReq::Lt(key, num()?),
        })
    }

    fn matches(&self, node: &NodeInfo, snap: &Snapshot) -> bool {
        let value = |k: &Option<u32>| k.and_then(|k| node.label_ids.get(k));
        match self {
            IdReq::In(k, vals) => value(k).is_some_and(|v| vals.contains(&v)),
            IdReq::NotIn(k, vals) => value(k).is_none_or(|v| !vals.contains(&v)),
            IdReq::Exists(k) => value(k).is_some(),
            IdReq::DoesNotExist(k) => value(k).is_none(),
            IdReq::Gt(k, n) | IdReq::Lt(k, n) => {
                let Some(have) = value(k).and_then(|v| snap.interner.name(v).parse::<i64>().ok())
                else {
                    return false;
                };
                if matches!(self, IdReq::Gt(..)) {
                    have > *n
                } else {
                    have < *n
                }
            }
        }
    }
}

/// A node selector term over interned labels (None: the term matches nothing).
#[derive(Clone, Debug)]
struct IdTerm {
    labels: Option<Vec<IdReq>>,
    fields: Option<Vec<FieldReq>>,
}

/// [`RequiredNodeAffinity`] compiled for one cycle against the cache's interner, so
/// Filter compares integers in the NodeInfo.
#[derive(Clone, Debug)]
struct Compiled {
    /// `spec.nodeSelector` (None: the pod has none; Some(None): no node can match).
    selector: Option<Option<Vec<IdReq>>>,
    terms: Option<Vec<Option<IdTerm>>>,
}

fn compile_selector(s: &Selector, snap: &Snapshot) -> Option<Vec<IdReq>> {
    s.requirements()?
        .iter()
        .map(|r| IdReq::of(r, snap))
        .collect()
}

impl Compiled {
    fn new(r: &RequiredNodeAffinity, snap: &Snapshot) -> Compiled {
        Compiled {
            selector: r.selector.as_ref().map(|s| compile_selector(s, snap)),
            terms: r.affinity.as_ref().map(|a| {
                a.terms
                    .iter()
                    .map(|t| {
                        if t.parse_error {
                            return None;
                        }
                        let labels = match &t.labels {
                            Some(s) => Some(compile_selector(s, snap)?),
                            None => None,
                        };
                        Some(IdTerm {
                            labels,
                            fields: t.fields.clone(),
                        })
                    })
                    .collect()
            }),
        }
    }

    fn matches(&self, node: &NodeInfo, snap: &Snapshot) -> bool {
        if let Some(sel) = &self.selector {
            match sel {
                Some(reqs) => {
                    if !reqs.iter().all(|r| r.matches(node, snap)) {
                        return false;
                    }
                }
                None => return false,
            }
        }
        let Some(terms) = &self.terms else {
            return true;
        };
        terms.iter().flatten().any(|t| {
            if let Some(l) = &t.labels {
                if !l.iter().all(|r| r.matches(node, snap)) {
                    return false;
                }
            }
            if let Some(fields) = &t.fields {
                let name = &*node.name;
                if !name.is_empty() {
                    for f in fields {
                        let have = if f.key == "metadata.name" { name } else { "" };
                        if (have == f.value) != f.equal {
                            return false;
                        }
                    }
                }
            }
            true
        })
    }
}

/// `nodeaffinity.PreferredSchedulingTerms`.
#[derive(Clone, Debug, Default)]
pub struct PreferredTerms {
    terms: Vec<(Term, i64)>,
}

impl PreferredTerms {
    fn new(terms: &[crate::api::core::PreferredSchedulingTerm]) -> Result<PreferredTerms, String> {
        let mut out = Vec::new();
        for (i, t) in terms.iter().enumerate() {
            if t.weight == 0 || is_empty_term(&t.preference) {
                continue;
            }
            let parsed = parse_term(&t.preference);
            if parsed.parse_error {
                return Err(format!("[{i}]: invalid preferred node affinity term"));
            }
            out.push((parsed, i64::from(t.weight)));
        }
        Ok(PreferredTerms { terms: out })
    }

    pub fn score(&self, node: &Node) -> i64 {
        self.terms
            .iter()
            .filter(|(t, _)| t.matches(node))
            .map(|(_, w)| w)
            .sum()
    }

    /// The weights of the matching terms, for the record.
    fn matching(&self, node: &Node) -> Vec<i64> {
        self.terms
            .iter()
            .filter(|(t, _)| t.matches(node))
            .map(|(_, w)| *w)
            .collect()
    }
}

fn pod_preferred(pod: &PodInfo) -> Result<Option<PreferredTerms>, String> {
    let Some(na) = pod
        .pod()
        .spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
    else {
        return Ok(None);
    };
    if na
        .preferred_during_scheduling_ignored_during_execution
        .is_empty()
    {
        return Ok(None);
    }
    PreferredTerms::new(&na.preferred_during_scheduling_ignored_during_execution).map(Some)
}

/// PreFilter, Filter, PreScore, Score: `spec.nodeSelector` and required node affinity
/// filter; preferred node affinity terms score (sum of matching weights, normalized).
/// `NodeAffinityArgs.addedAffinity` applies to every pod.
pub struct NodeAffinity {
    added_selector: Option<NodeSelectorMatcher>,
    added_preferred: Option<PreferredTerms>,
}

impl NodeAffinity {
    pub fn new(added: Option<&NodeAffinitySpec>) -> Result<NodeAffinity, String> {
        let mut p = NodeAffinity {
            added_selector: None,
            added_preferred: None,
        };
        if let Some(a) = added {
            p.added_selector = a
                .required_during_scheduling_ignored_during_execution
                .as_ref()
                .map(NodeSelectorMatcher::new);
            if !a
                .preferred_during_scheduling_ignored_during_execution
                .is_empty()
            {
                p.added_preferred = Some(
                    PreferredTerms::new(&a.preferred_during_scheduling_ignored_during_execution)
                        .map_err(|e| {
                            format!(
                                "addedAffinity.preferredDuringSchedulingIgnoredDuringExecution{e}"
                            )
                        })?,
                );
            }
        }
        Ok(p)
    }
}

impl Plugin for NodeAffinity {
    fn name(&self) -> &str {
        NAME
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
    fn events(&self) -> &'static [ClusterEvent] {
        &[
            ClusterEvent::NodeAdd,
            ClusterEvent::NodeLabelChange,
            ClusterEvent::PodUpdate,
        ]
    }
}

impl PreFilterPlugin for NodeAffinity {
    fn pre_filter(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        pod: &PodInfo,
        snap: &Snapshot,
    ) -> (PreFilterResult, Status) {
        let spec = &pod.pod().spec;
        let required = spec
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| {
                na.required_during_scheduling_ignored_during_execution
                    .as_ref()
            });
        if required.is_none() && self.added_selector.is_none() && spec.node_selector.is_empty() {
            return (PreFilterResult::default(), Status::skip());
        }
        state.write(
            pc.index,
            Compiled::new(&RequiredNodeAffinity::of(pod), snap),
        );
        let Some(required) = required else {
            return (PreFilterResult::default(), Status::success());
        };
        if self.added_selector.is_some() {
            return (PreFilterResult::default(), Status::success());
        }
        // Terms that pin `metadata.name` with `In` narrow the nodes to evaluate.
        let mut names: Option<BTreeSet<String>> = None;
        for t in &required.node_selector_terms {
            let mut term_names: Option<BTreeSet<String>> = None;
            for r in &t.match_fields {
                if r.key == "metadata.name" && r.operator == "In" {
                    let s: BTreeSet<String> = r.values.iter().cloned().collect();
                    term_names = Some(match term_names {
                        None => s,
                        Some(prev) => prev.intersection(&s).cloned().collect(),
                    });
                }
            }
            let Some(tn) = term_names else {
                return (PreFilterResult::default(), Status::success());
            };
            names = Some(match names {
                None => tn,
                Some(prev) => prev.union(&tn).cloned().collect(),
            });
        }
        match names {
            Some(n) if n.is_empty() => (
                PreFilterResult::default(),
                Status::new(Code::UnschedulableAndUnresolvable, ERR_REASON_CONFLICT),
            ),
            Some(n) => (
                PreFilterResult {
                    node_names: Some(n.into_iter().collect()),
                },
                Status::success(),
            ),
            None => (PreFilterResult::default(), Status::success()),
        }
    }
}

impl FilterPlugin for NodeAffinity {
    fn filter(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        snap: &Snapshot,
    ) -> Status {
        if let Some(added) = &self.added_selector {
            if !added.matches(node.node()) {
                return Status::new(Code::UnschedulableAndUnresolvable, ERR_REASON_ENFORCED);
            }
        }
        let ok = match state.read::<Compiled>(pc.index) {
            Some(c) => c.matches(node, snap),
            None => RequiredNodeAffinity::of(pod).matches(node.node()),
        };
        if ok {
            Status::success()
        } else {
            Status::new(Code::UnschedulableAndUnresolvable, ERR_REASON_POD)
        }
    }
}

#[derive(Clone)]
struct PreScoreState {
    preferred: Option<PreferredTerms>,
}

impl PreScorePlugin for NodeAffinity {
    fn pre_score(
        &self,
        pc: PluginCtx,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        _: &Snapshot,
    ) -> Status {
        if nodes.is_empty() {
            return Status::success();
        }
        let preferred = match pod_preferred(pod) {
            Ok(p) => p,
            Err(e) => return Status::error(e),
        };
        if preferred.is_none() && self.added_preferred.is_none() {
            return Status::skip();
        }
        state.write_score(pc.index, PreScoreState { preferred });
        Status::success()
    }
}

impl NodeAffinity {
    fn preferred(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
    ) -> Result<Option<PreferredTerms>, Status> {
        match state.read_score::<PreScoreState>(pc.index) {
            Some(s) => Ok(s.preferred.clone()),
            None => pod_preferred(pod).map_err(Status::error),
        }
    }
}

impl ScorePlugin for NodeAffinity {
    fn score(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
    ) -> Result<i64, Status> {
        let n = node.node();
        let mut count = self.added_preferred.as_ref().map_or(0, |p| p.score(n));
        match state.read_score::<PreScoreState>(pc.index) {
            Some(s) => count += s.preferred.as_ref().map_or(0, |p| p.score(n)),
            None => count += self.preferred(pc, state, pod)?.map_or(0, |p| p.score(n)),
        }
        Ok(count)
    }

    fn normalize(&self) -> Option<&dyn NormalizeScore> {
        Some(self)
    }

    fn explain(
        &self,
        pc: PluginCtx,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
        _: &Snapshot,
        raw: i64,
    ) -> String {
        let n = node.node();
        let mut weights = self
            .added_preferred
            .as_ref()
            .map_or(Vec::new(), |p| p.matching(n));
        if let Ok(Some(p)) = self.preferred(pc, state, pod) {
            weights.extend(p.matching(n));
        }
        if weights.is_empty() {
            return "no preferred term matches: 0".into();
        }
        let parts: Vec<String> = weights.iter().map(|w| w.to_string()).collect();
        format!(
            "weights of matching preferred terms {} = {raw}",
            parts.join(" + ")
        )
    }
}

impl NormalizeScore for NodeAffinity {
    fn normalize_score(
        &self,
        pc: PluginCtx,
        _: &CycleState,
        _: &PodInfo,
        _: &[&NodeInfo],
        scores: &mut [i64],
    ) -> Status {
        default_normalize(pc.max_score, false, scores);
        Status::success()
    }

    fn explain_normalize(&self, pc: PluginCtx, raw: i64, score: i64, min: i64, max: i64) -> String {
        let _ = min;
        explain_default_normalize(pc.max_score, false, raw, score, max)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::scheduler::plugins::testing::{filter, pod, scores, world};
    use serde_json::{json, Value};

    fn affinity(terms: Value) -> Value {
        json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}}})
    }

    #[test]
    fn filter_table() {
        let p = NodeAffinity::new(None).unwrap();
        let cases: Vec<(Value, Value, bool)> = vec![
            (
                json!({"spec": {"nodeSelector": {"foo": "bar"}}}),
                json!({"foo": "bar"}),
                true,
            ),
            (
                json!({"spec": {"nodeSelector": {"foo": "bar"}}}),
                json!({}),
                false,
            ),
            (
                affinity(
                    json!([{"matchExpressions": [{"key": "kernel-version", "operator": "Gt", "values": ["0204"]}]}]),
                ),
                json!({"kernel-version": "0206"}),
                true,
            ),
            (
                affinity(
                    json!([{"matchExpressions": [{"key": "kernel-version", "operator": "Gt", "values": ["0204"]}]}]),
                ),
                json!({"kernel-version": "0200"}),
                false,
            ),
            (affinity(json!([])), json!({"foo": "bar"}), false),
            (
                affinity(json!([{"matchExpressions": []}])),
                json!({"foo": "bar"}),
                false,
            ),
            (
                affinity(
                    json!([{"matchExpressions": [{"key": "foo", "operator": "NotIn", "values": ["invalid value: ___@#$%^"]}]}]),
                ),
                json!({"foo": "bar"}),
                false,
            ),
            // An invalid term is skipped; a later term may still match.
            (
                affinity(json!([
                    {"matchExpressions": [{"key": "foo", "operator": "In", "values": ["invalid value: ___@#$%^"]}]},
                    {"matchExpressions": [{"key": "foo", "operator": "Exists"}]}
                ])),
                json!({"foo": "bar"}),
                true,
            ),
        ];
        for (i, (spec, labels, fits)) in cases.into_iter().enumerate() {
            let c = world(
                vec![json!({"metadata": {"name": "n", "labels": labels}})],
                vec![],
            );
            let st = filter(&c, &p, &pod(spec), "n");
            assert_eq!(st.is_success(), fits, "case {i}");
            if !fits {
                assert_eq!(st.message(), ERR_REASON_POD, "case {i}");
            }
        }
    }

    #[test]
    fn match_fields_narrow_prefilter() {
        let p = NodeAffinity::new(None).unwrap();
        let c = world(
            vec![
                json!({"metadata": {"name": "node_1"}}),
                json!({"metadata": {"name": "node_2"}}),
            ],
            vec![],
        );
        let snap = c.snapshot();
        let mut state = CycleState::new(1);
        let pi = pod(affinity(
            json!([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node_1"]}]}]),
        ));
        let (res, st) = p.pre_filter(
            crate::scheduler::plugins::testing::PC,
            &mut state,
            &pi,
            &snap,
        );
        assert!(st.is_success());
        assert_eq!(res.node_names, Some(vec!["node_1".to_string()]));
        let conflict = pod(affinity(json!([{"matchFields": [
            {"key": "metadata.name", "operator": "In", "values": ["node_1"]},
            {"key": "metadata.name", "operator": "In", "values": ["node_2"]}
        ]}])));
        let (_, st) = p.pre_filter(
            crate::scheduler::plugins::testing::PC,
            &mut state,
            &conflict,
            &snap,
        );
        assert_eq!(st.message(), ERR_REASON_CONFLICT);
    }

    #[test]
    fn preferred_terms_score_and_normalize() {
        // Upstream's "only machine1 matches the preferred terms of pod": 1+... weights.
        let p = NodeAffinity::new(None).unwrap();
        let c = world(
            vec![
                json!({"metadata": {"name": "m1", "labels": {"foo": "bar", "key": "value"}}}),
                json!({"metadata": {"name": "m2", "labels": {"foo": "bar"}}}),
                json!({"metadata": {"name": "m3", "labels": {}}}),
            ],
            vec![],
        );
        let pi = pod(
            json!({"spec": {"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 2, "preference": {"matchExpressions": [{"key": "foo", "operator": "In", "values": ["bar"]}]}},
                {"weight": 3, "preference": {"matchExpressions": [{"key": "key", "operator": "In", "values": ["value"]}]}}
            ]}}}}),
        );
        let got = scores(&c, &p, &pi).unwrap();
        assert_eq!(
            got,
            [("m1".into(), 100), ("m2".into(), 40), ("m3".into(), 0)]
        );
        assert_eq!(
            scores(&c, &p, &pod(json!({"spec": {}}))).unwrap_err().code,
            Code::Skip
        );
    }
}
