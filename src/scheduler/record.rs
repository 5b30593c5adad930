//! Decision records: for every scheduling attempt, what each filter said about each
//! node, each score plugin's raw and normalized score with its arithmetic, the total,
//! the chosen node or the FailedScheduling message, and what preemption did. This is
//! the data of the page's scheduling view and of the scenario `explain` step.
//!
//! Memory is bounded twice: the newest `window` attempts are kept (older ones are
//! rebuilt by replay on the page), and an attempt that evaluated more than
//! `node_limit` nodes keeps full detail for the chosen node, the best-scoring other
//! nodes and the first rejected ones, and counts the rest per reason.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::framework::{Code, Explanation, InsufficientResource};
use crate::kernel::{format_duration, Nanos};

/// Attempts kept in full by default.
pub const DEFAULT_WINDOW: usize = 10_000;
/// Nodes recorded in full per attempt by default.
pub const DEFAULT_NODE_LIMIT: usize = 16;

/// A filter that rejected a node.
#[derive(Clone, Debug)]
pub struct FilterFailure {
    pub plugin: Arc<str>,
    pub code: Code,
    pub reasons: Vec<Arc<str>>,
    pub insufficient: Vec<InsufficientResource>,
}

/// One node in an attempt.
#[derive(Clone, Debug)]
pub struct NodeRecord {
    pub name: Arc<str>,
    /// How many of the attempt's filters ran and passed before a failure (or all).
    pub passed: u8,
    pub failures: Vec<FilterFailure>,
    /// (raw, normalized) per score plugin of the attempt.
    pub scores: Vec<(i64, i64)>,
    /// What each score plugin kept to write its arithmetic when asked.
    pub explanations: Vec<Explanation>,
    pub total: Option<i64>,
    /// True when the node was tried first as the pod's nominated node.
    pub nominated: bool,
}

/// What a PreFilter or PreScore plugin said when it was not a plain success.
#[derive(Clone, Debug)]
pub struct PluginNote {
    pub plugin: Arc<str>,
    pub code: Code,
    pub message: String,
    pub node_names: Option<Vec<String>>,
}

/// A pod preemption would evict, and why.
#[derive(Clone, Debug)]
pub struct Victim {
    pub pod: String,
    pub priority: i32,
    pub reason: String,
}

/// What preemption (DefaultPreemption) found and did.
#[derive(Clone, Debug, Default)]
pub struct PreemptionRecord {
    pub status: String,
    pub message: String,
    /// Nodes where evicting lower-priority pods would make room: node → victims.
    pub candidates: Vec<(String, Vec<Victim>)>,
    /// Nodes tried without success, with the reason.
    pub rejected: Vec<(String, String)>,
    pub chosen: Option<String>,
    /// Which criterion picked the chosen node among several candidates.
    pub why_chosen: String,
    pub nominated_node: Option<String>,
    /// Lower-priority pods whose nomination to the node was cleared.
    pub cleared_nominations: Vec<String>,
}

/// A score plugin of an attempt.
#[derive(Clone, Debug)]
pub struct ScoreColumn {
    pub plugin: Arc<str>,
    pub weight: i64,
    /// The plugin's index in its framework (to write the arithmetic).
    pub index: usize,
    /// The lowest and highest raw score of the cycle, when the plugin normalizes.
    pub range: Option<(i64, i64)>,
}

/// Writes a score's arithmetic: (column, explanation, raw, normalized score).
pub type Render<'a> = &'a dyn Fn(&ScoreColumn, &Explanation, i64, i64) -> String;

/// Nodes evaluated but not kept in full.
#[derive(Clone, Debug, Default)]
pub struct Omitted {
    pub feasible: usize,
    pub rejected: BTreeMap<String, usize>,
}

/// One scheduling attempt.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub seq: u64,
    pub pod: Arc<str>,
    pub attempt: u32,
    pub cycle: u64,
    pub time: Nanos,
    pub profile: Arc<str>,
    /// The profile's index among the scheduler's frameworks.
    pub profile_index: usize,
    pub max_score: i64,
    pub legacy: bool,
    pub node: Option<Arc<str>>,
    pub message: String,
    pub all_nodes: usize,
    pub evaluated: usize,
    pub feasible: usize,
    pub filters: Arc<[Arc<str>]>,
    pub score_plugins: Vec<ScoreColumn>,
    pub pre_filter: Vec<PluginNote>,
    pub pre_score: Vec<PluginNote>,
    pub nodes: Vec<NodeRecord>,
    pub omitted: Option<Omitted>,
    pub preemption: Option<PreemptionRecord>,
    /// Why scoring did not run or what else is worth saying.
    pub notes: Vec<String>,
}

/// The bounded store of attempts.
pub struct Records {
    pub window: usize,
    pub node_limit: usize,
    attempts: VecDeque<Attempt>,
    /// The sequence number of each pod's latest attempt.
    latest: HashMap<Arc<str>, u64>,
    next_seq: u64,
}

impl Default for Records {
    fn default() -> Self {
        Records::new(DEFAULT_WINDOW, DEFAULT_NODE_LIMIT)
    }
}

/// Why `explain` has no record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Missing {
    Never,
    /// The latest attempt left the window (its sequence number, and the window size).
    Evicted {
        seq: u64,
        window: usize,
    },
}

impl Records {
    pub fn new(window: usize, node_limit: usize) -> Records {
        Records {
            window: window.max(1),
            node_limit: node_limit.max(1),
            attempts: VecDeque::new(),
            latest: HashMap::new(),
            next_seq: 1,
        }
    }

    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    pub fn len(&self) -> usize {
        self.attempts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.attempts.is_empty()
    }

    pub fn push(&mut self, mut a: Attempt) -> u64 {
        a.seq = self.next_seq;
        self.next_seq += 1;
        if self.attempts.len() == self.window {
            self.attempts.pop_front();
        }
        self.latest.insert(a.pod.clone(), a.seq);
        let seq = a.seq;
        self.attempts.push_back(a);
        seq
    }

    /// The newest attempt of a pod (`namespace/name`).
    pub fn latest(&self, pod: &str) -> Result<&Attempt, Missing> {
        let seq = *self.latest.get(pod).ok_or(Missing::Never)?;
        self.get(seq).ok_or(Missing::Evicted {
            seq,
            window: self.window,
        })
    }

    pub fn get(&self, seq: u64) -> Option<&Attempt> {
        let first = self.attempts.front()?.seq;
        self.attempts.get(seq.checked_sub(first)? as usize)
    }

    /// The attempts still held, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Attempt> + ExactSizeIterator {
        self.attempts.iter()
    }
}

impl Attempt {
    /// The record as `explain` prints it (scenario.md's shape, plus detail fields).
    pub fn to_json(&self, render: Render) -> Value {
        let nodes: Vec<Value> = self
            .nodes
            .iter()
            .map(|n| self.node_json(n, render))
            .collect();
        let mut m = Map::new();
        m.insert("pod".into(), json!(&*self.pod));
        m.insert(
            "node".into(),
            self.node.as_deref().map_or(Value::Null, |n| json!(n)),
        );
        m.insert("message".into(), json!(self.message));
        m.insert("nodes".into(), Value::Array(nodes));
        m.insert("attempt".into(), json!(self.attempt));
        m.insert("cycle".into(), json!(self.cycle));
        m.insert("time".into(), json!(format_duration(self.time)));
        m.insert("profile".into(), json!(&*self.profile));
        m.insert("scale".into(), json!(self.max_score));
        if self.legacy {
            m.insert("mode".into(), json!("legacy Policy"));
        }
        m.insert("allNodes".into(), json!(self.all_nodes));
        m.insert("evaluatedNodes".into(), json!(self.evaluated));
        m.insert("feasibleNodes".into(), json!(self.feasible));
        if !self.pre_filter.is_empty() {
            m.insert("preFilter".into(), notes_json(&self.pre_filter));
        }
        if !self.pre_score.is_empty() {
            m.insert("preScore".into(), notes_json(&self.pre_score));
        }
        if let Some(o) = &self.omitted {
            m.insert(
                "omitted".into(),
                json!({"feasible": o.feasible, "rejected": o.rejected, "why": "nodes beyond the record's per-attempt limit are counted, not kept"}),
            );
        }
        if let Some(p) = &self.preemption {
            m.insert("preemption".into(), preemption_json(p));
        }
        if !self.notes.is_empty() {
            m.insert("notes".into(), json!(self.notes));
        }
        Value::Object(m)
    }

    fn node_json(&self, n: &NodeRecord, render: Render) -> Value {
        let mut filters: Vec<Value> = self
            .filters
            .iter()
            .take(n.passed as usize)
            .map(|p| json!({"plugin": &**p, "status": "Success", "passed": true, "reasons": []}))
            .collect();
        for f in &n.failures {
            let mut v = json!({
                "plugin": &*f.plugin,
                "status": f.code.as_str(),
                "passed": false,
                "reasons": f.reasons.iter().map(|r| &**r).collect::<Vec<_>>(),
            });
            if !f.insufficient.is_empty() {
                v["insufficient"] = Value::Array(
                    f.insufficient
                        .iter()
                        .map(|i| {
                            json!({"resourceName": i.resource_name, "requested": i.requested, "used": i.used, "capacity": i.capacity})
                        })
                        .collect(),
                );
            }
            filters.push(v);
        }
        let scores: Vec<Value> = n
            .scores
            .iter()
            .enumerate()
            .map(|(i, (raw, score))| match self.score_plugins.get(i) {
                Some(col) => {
                    let mut v = json!({"plugin": &*col.plugin, "raw": raw, "score": score, "weight": col.weight});
                    if let Some(e) = n.explanations.get(i) {
                        v["arithmetic"] = json!(render(col, e, *raw, *score));
                    }
                    v
                }
                None => json!({"plugin": "", "raw": raw, "score": score, "weight": 1}),
            })
            .collect();
        let mut v = json!({
            "name": &*n.name,
            "filters": filters,
            "scores": scores,
            "total": n.total,
        });
        if n.nominated {
            v["nominated"] = json!(true);
        }
        v
    }
}

fn notes_json(notes: &[PluginNote]) -> Value {
    Value::Array(
        notes
            .iter()
            .map(|n| {
                let mut v = json!({"plugin": &*n.plugin, "status": n.code.as_str()});
                if !n.message.is_empty() {
                    v["message"] = json!(n.message);
                }
                if let Some(names) = &n.node_names {
                    v["nodeNames"] = json!(names);
                }
                v
            })
            .collect(),
    )
}

fn preemption_json(p: &PreemptionRecord) -> Value {
    let victims = |vs: &[Victim]| -> Value {
        Value::Array(
            vs.iter()
                .map(|v| json!({"pod": v.pod, "priority": v.priority, "reason": v.reason}))
                .collect(),
        )
    };
    json!({
        "status": p.status,
        "message": p.message,
        "candidates": p.candidates.iter().map(|(n, vs)| json!({"node": n, "victims": victims(vs)})).collect::<Vec<_>>(),
        "rejected": p.rejected.iter().map(|(n, r)| json!({"node": n, "reason": r})).collect::<Vec<_>>(),
        "chosen": p.chosen,
        "whyChosen": p.why_chosen,
        "nominatedNodeName": p.nominated_node,
        "clearedNominations": p.cleared_nominations,
    })
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn attempt(pod: &str) -> Attempt {
        Attempt {
            seq: 0,
            pod: Arc::from(pod),
            attempt: 1,
            cycle: 1,
            time: 0,
            profile: Arc::from("default-scheduler"),
            profile_index: 0,
            max_score: 100,
            legacy: false,
            node: None,
            message: String::new(),
            all_nodes: 0,
            evaluated: 0,
            feasible: 0,
            filters: Arc::from(Vec::new()),
            score_plugins: Vec::new(),
            pre_filter: Vec::new(),
            pre_score: Vec::new(),
            nodes: Vec::new(),
            omitted: None,
            preemption: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn window_keeps_newest_and_says_what_left() {
        let mut r = Records::new(2, 16);
        r.push(attempt("d/a"));
        r.push(attempt("d/b"));
        r.push(attempt("d/c"));
        assert_eq!(
            r.latest("d/a").unwrap_err(),
            Missing::Evicted { seq: 1, window: 2 }
        );
        assert_eq!(r.latest("d/x").unwrap_err(), Missing::Never);
        assert_eq!(&*r.latest("d/c").unwrap().pod, "d/c");
    }

    #[test]
    fn json_has_the_contract_shape() {
        let mut a = attempt("default/web");
        a.filters = Arc::from(vec![Arc::from("NodeResourcesFit")]);
        a.score_plugins = vec![ScoreColumn {
            plugin: Arc::from("NodeResourcesFit"),
            weight: 1,
            index: 0,
            range: None,
        }];
        a.node = Some(Arc::from("node-2"));
        a.nodes = vec![
            NodeRecord {
                name: Arc::from("node-1"),
                passed: 0,
                failures: vec![FilterFailure {
                    plugin: Arc::from("NodeResourcesFit"),
                    code: Code::Unschedulable,
                    reasons: vec![Arc::from("Insufficient cpu")],
                    insufficient: Vec::new(),
                }],
                scores: Vec::new(),
                explanations: Vec::new(),
                total: None,
                nominated: false,
            },
            NodeRecord {
                name: Arc::from("node-2"),
                passed: 1,
                failures: Vec::new(),
                scores: vec![(62, 62)],
                explanations: vec![Explanation::None],
                total: Some(62),
                nominated: false,
            },
        ];
        let v = a.to_json(&|_, _, raw, _| format!("{raw}"));
        assert_eq!(v["node"], "node-2");
        assert_eq!(
            v["nodes"][0]["filters"][0],
            json!({"plugin": "NodeResourcesFit", "status": "Unschedulable", "passed": false, "reasons": ["Insufficient cpu"]})
        );
        assert_eq!(v["nodes"][0]["total"], Value::Null);
        assert_eq!(v["nodes"][1]["scores"][0]["raw"], 62);
        assert_eq!(v["nodes"][1]["scores"][0]["weight"], 1);
        assert_eq!(v["nodes"][1]["total"], 62);
    }
}
