//! The inspector's fault and node buttons as scenario steps: a node stops, starts
//! or is partitioned and a container crashes through the `fault` step
//! (`kubelet::fault`); cordon, uncordon, drain and deleting a pod are the kubectl
//! commands a person would type. So a button does exactly what the step or the
//! command does, leaves the same trace (the person's input, then the kubelet's or
//! the API server's entries saying why), and is replayed from the inputs log like
//! any other action.
//!
//! Drain runs as `kubectl drain NODE --ignore-daemonsets --delete-emptydir-data`,
//! the usual maintenance command; pods that declare no controller still make it
//! refuse (kubectl wants `--force` for them), and the refusal is the button's error.

use serde_json::{json, Value};

use crate::api::validation::is_dns1123_subdomain;
use crate::protocol::Fault;
use crate::scenario::Action;

/// The scenario step a button stands for, or why it cannot be sent: a name that
/// is not an object's name would change the meaning of a kubectl command line.
pub fn step_of(f: &Fault) -> Result<Action, String> {
    let fault = |key: &str, node: &str| -> Result<Action, String> {
        check("node", node)?;
        Ok(Action::Fault(json!({ key: node })))
    };
    let kubectl = |line: String| Ok(Action::Kubectl(line));
    match f {
        Fault::NodeDown { node } => fault("nodeDown", node),
        Fault::NodeUp { node } => fault("nodeUp", node),
        Fault::Partition { node } => fault("partition", node),
        Fault::Crash {
            namespace,
            pod,
            container,
        } => {
            check("namespace", namespace)?;
            check("pod", pod)?;
            let mut v = json!({ "crash": format!("pod/{namespace}/{pod}") });
            if !container.is_empty() {
                v["container"] = Value::String(container.clone());
            }
            Ok(Action::Fault(v))
        }
        Fault::DeletePod { namespace, pod } => {
            check("namespace", namespace)?;
            check("pod", pod)?;
            kubectl(format!("delete pod {pod} -n {namespace}"))
        }
        Fault::Cordon { node } => {
            check("node", node)?;
            kubectl(format!("cordon {node}"))
        }
        Fault::Uncordon { node } => {
            check("node", node)?;
            kubectl(format!("uncordon {node}"))
        }
        Fault::Drain { node } => {
            check("node", node)?;
            kubectl(format!(
                "drain {node} --ignore-daemonsets --delete-emptydir-data"
            ))
        }
    }
}

/// Names of nodes, pods and namespaces are DNS subdomains (namespaces DNS labels,
/// which are subdomains too).
fn check(what: &str, name: &str) -> Result<(), String> {
    match is_dns1123_subdomain(name).first() {
        None => Ok(()),
        Some(e) => Err(format!("invalid {what} name \"{name}\": {e}")),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn buttons_are_steps_and_commands() {
        let line = |f: Fault| {
            let step = crate::scenario::Step {
                action: step_of(&f).unwrap(),
                credentials: None,
            };
            step.command_line()
        };
        assert_eq!(
            line(Fault::NodeDown {
                node: "node-1".into()
            }),
            "fault {\"nodeDown\":\"node-1\"}"
        );
        assert_eq!(
            line(Fault::Crash {
                namespace: "default".into(),
                pod: "web".into(),
                container: "sidecar".into()
            }),
            "fault {\"container\":\"sidecar\",\"crash\":\"pod/default/web\"}"
        );
        assert_eq!(
            line(Fault::Drain {
                node: "node-1".into()
            }),
            "kubectl drain node-1 --ignore-daemonsets --delete-emptydir-data"
        );
        assert_eq!(
            line(Fault::DeletePod {
                namespace: "kube-system".into(),
                pod: "web".into()
            }),
            "kubectl delete pod web -n kube-system"
        );
    }

    #[test]
    fn a_name_that_would_change_the_command_is_refused() {
        let e = step_of(&Fault::DeletePod {
            namespace: "default".into(),
            pod: "web --all".into(),
        })
        .err()
        .unwrap();
        assert!(e.starts_with("invalid pod name \"web --all\": "), "{e}");
        assert!(step_of(&Fault::Cordon {
            node: String::new()
        })
        .is_err());
    }
}
