//! The FailedScheduling text (upstream `framework.FitError.Error()`):
//! `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node
//! affinity/selector. preemption: 0/3 nodes are available: 3 No preemption victims
//! found for incoming pod..`

use std::collections::BTreeMap;

/// `ErrNoNodesAvailable`.
pub const NO_NODES_AVAILABLE: &str = "no nodes available to schedule pods";

/// Builds the message: with a PreFilter rejection its message; otherwise a histogram
/// of every node's reasons (absent nodes count with `absent_reasons`), sorted as
/// strings; then the PostFilter message.
pub fn fit_error_message(
    all_nodes: usize,
    pre_filter: &str,
    statuses: &[Vec<String>],
    absent: usize,
    absent_reasons: &[String],
    post_filter: &str,
) -> String {
    let mut msg = format!("0/{all_nodes} nodes are available:");
    if !pre_filter.is_empty() {
        msg.push_str(&format!(" {pre_filter}."));
    } else {
        let mut hist: BTreeMap<&str, usize> = BTreeMap::new();
        for reasons in statuses {
            for r in reasons {
                *hist.entry(r.as_str()).or_default() += 1;
            }
        }
        if absent > 0 {
            for r in absent_reasons {
                *hist.entry(r.as_str()).or_default() += absent;
            }
        }
        let mut items: Vec<String> = hist.iter().map(|(r, n)| format!("{n} {r}")).collect();
        items.sort();
        if !items.is_empty() {
            msg.push_str(&format!(" {}.", items.join(", ")));
        }
    }
    if !post_filter.is_empty() {
        msg.push_str(&format!(" {post_filter}."));
    }
    msg
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn upstreams_format() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let statuses = vec![
            s(&["Insufficient cpu"]),
            s(&["node(s) didn't match Pod's node affinity/selector"]),
            s(&["node(s) didn't match Pod's node affinity/selector"]),
        ];
        let post = fit_error_message(
            3,
            "",
            &vec![s(&["No preemption victims found for incoming pod"]); 3],
            0,
            &[],
            "",
        );
        let msg = fit_error_message(3, "", &statuses, 0, &[], &format!("preemption: {post}"));
        assert_eq!(
            msg,
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.."
        );
        // Counts sort as text, as upstream's sort.Strings does.
        let many: Vec<Vec<String>> = (0..10)
            .map(|_| s(&["b"]))
            .chain([s(&["a"]), s(&["a"])])
            .collect();
        assert_eq!(
            fit_error_message(12, "", &many, 0, &[], ""),
            "0/12 nodes are available: 10 b, 2 a."
        );
        assert_eq!(
            fit_error_message(
                2,
                "",
                &[],
                2,
                &s(&["Preemption is not helpful for scheduling"]),
                ""
            ),
            "0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        );
    }
}
