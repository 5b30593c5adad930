//! Which chains jump to each chain, kept up to date by every restore.
//!
//! The checks a table's COMMIT makes (no jump to a deleted chain, no chain reaching
//! itself) would otherwise walk every chain of the table. kube-proxy's partial sync
//! rewrites a handful of chains among 110,000, so the checks look only at the chains
//! that changed and, through this index, at the few chains that reach them.

use std::collections::BTreeMap;

use super::Chain;

/// Target chain → (calling chain → number of its rules that jump or go to the target).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Callers(BTreeMap<String, BTreeMap<String, u32>>);

impl Callers {
    /// The chains with a rule that jumps to `chain`, in name order.
    pub(crate) fn of<'a>(&'a self, chain: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .get(chain)
            .into_iter()
            .flat_map(|m| m.keys().map(String::as_str))
    }

    pub(crate) fn is_called(&self, chain: &str) -> bool {
        self.0.contains_key(chain)
    }

    /// The chain `from` changed from `old` to `new` (`None`: absent): its jumps move.
    pub(crate) fn update(&mut self, from: &str, old: Option<&Chain>, new: Option<&Chain>) {
        if let (Some(o), Some(n)) = (old, new) {
            if std::ptr::eq(o, n) {
                return;
            }
        }
        let before = targets(old);
        let after = targets(new);
        // Only what lies between the common head and tail can differ (a rewritten
        // KUBE-SERVICES with one Service more differs in one place).
        let head = before
            .iter()
            .zip(&after)
            .take_while(|(b, a)| b == a)
            .count();
        let tail = before[head..]
            .iter()
            .rev()
            .zip(after[head..].iter().rev())
            .take_while(|(b, a)| b == a)
            .count();
        let mut before = before[head..before.len() - tail].to_vec();
        let mut after = after[head..after.len() - tail].to_vec();
        if before.is_empty() && after.is_empty() {
            return;
        }
        before.sort_unstable();
        after.sort_unstable();
        if before == after {
            return;
        }
        // Walk the two sorted lists together; only the differences touch the map.
        let (mut i, mut j) = (0, 0);
        while i < before.len() || j < after.len() {
            let name = match (before.get(i), after.get(j)) {
                (Some(b), Some(a)) => (*b).min(*a),
                (Some(b), None) => *b,
                (None, Some(a)) => *a,
                (None, None) => break,
            };
            let mut delta: i64 = 0;
            while before.get(i) == Some(&name) {
                delta -= 1;
                i += 1;
            }
            while after.get(j) == Some(&name) {
                delta += 1;
                j += 1;
            }
            if delta != 0 {
                self.add(name, from, delta);
            }
        }
    }

    fn add(&mut self, target: &str, from: &str, delta: i64) {
        if delta > 0 {
            // Look before inserting: the names are copied only when new.
            if !self.0.contains_key(target) {
                self.0.insert(target.to_string(), BTreeMap::new());
            }
            let Some(m) = self.0.get_mut(target) else {
                return;
            };
            let add = u32::try_from(delta).unwrap_or(u32::MAX);
            match m.get_mut(from) {
                Some(n) => *n = n.saturating_add(add),
                None => {
                    m.insert(from.to_string(), add);
                }
            }
            return;
        }
        let Some(m) = self.0.get_mut(target) else {
            return;
        };
        if let Some(n) = m.get_mut(from) {
            let left = i64::from(*n) + delta;
            if left > 0 {
                *n = u32::try_from(left).unwrap_or(u32::MAX);
            } else {
                m.remove(from);
            }
        }
        if m.is_empty() {
            self.0.remove(target);
        }
    }
}

/// The chains a chain's rules jump or go to, one entry per rule.
fn targets(chain: Option<&Chain>) -> Vec<&str> {
    chain
        .map(|c| c.rules.iter().filter_map(|r| r.target.chain()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::netfilter::{Rule, Target};

    fn chain(name: &str, jumps: &[&str]) -> Chain {
        let mut c = Chain::new(name, None);
        for j in jumps {
            c.rules.push(Rule {
                target: Target::Jump((*j).into()),
                ..Rule::default()
            });
        }
        c
    }

    #[test]
    fn jumps_are_counted_per_rule_and_forgotten_when_they_go() {
        let mut idx = Callers::default();
        let a = chain("A", &["X", "Y", "X"]);
        idx.update("A", None, Some(&a));
        let b = chain("B", &["X"]);
        idx.update("B", None, Some(&b));
        assert_eq!(idx.of("X").collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(idx.of("Y").collect::<Vec<_>>(), ["A"]);
        // One of A's two jumps to X goes, and its jump to Y.
        let a2 = chain("A", &["X"]);
        idx.update("A", Some(&a), Some(&a2));
        assert_eq!(idx.of("X").collect::<Vec<_>>(), ["A", "B"]);
        assert!(!idx.is_called("Y"));
        idx.update("A", Some(&a2), None);
        assert_eq!(idx.of("X").collect::<Vec<_>>(), ["B"]);
        idx.update("B", Some(&b), None);
        assert!(!idx.is_called("X"));
        assert_eq!(idx, Callers::default());
    }
}
