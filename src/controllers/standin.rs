//! The stand-in for nodes that run no kubelet (annotated `kubeglass.dev/kubelet:
//! "none"`, as kwok fakes nodes). Pods bound to such a node never start, but a pod
//! deleted from it is confirmed gone at once, as kwok's fake kubelet does, so that
//! deletions finish.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::api::fields::FieldSelector;
use crate::api::object::{NODES, PODS};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::ObjRef;
use crate::store::EventType;

const NAME: &str = "node-standin";

/// The annotation that marks a node without a simulated kubelet.
pub const KUBELET_ANNOTATION: &str = "kubeglass.dev/kubelet";

pub struct NodeStandIn {
    who: Identity,
    /// Nodes whose kubelet is simulated: the stand-in leaves their pods alone.
    with_kubelet: BTreeSet<String>,
    /// Nodes whose pods it watches.
    watched: BTreeSet<String>,
}

impl NodeStandIn {
    pub fn new(with_kubelet: BTreeSet<String>) -> NodeStandIn {
        NodeStandIn {
            who: Identity::new(NAME, "system:node-standin", &["system:nodes"]),
            with_kubelet,
            watched: BTreeSet::new(),
        }
    }
}

impl Component for NodeStandIn {
    fn name(&self) -> String {
        NAME.into()
    }

    /// The nodes, to learn which run no kubelet; then, like a kubelet, the pods bound
    /// to each such node (one watch per node, by spec.nodeName).
    fn watches(&self) -> Vec<WatchSpec> {
        vec![WatchSpec::new(&NODES, NAME)]
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>) {
        if watch == 0 {
            if let (EventType::Added, Object::Node(n)) = (kind, obj.as_ref()) {
                let name = n.metadata.name.clone();
                if !self.with_kubelet.contains(&name) && self.watched.insert(name.clone()) {
                    let mut spec = WatchSpec::new(&PODS, NAME);
                    spec.fields = FieldSelector::one_term_equal("spec.nodeName", &name);
                    ctx.watch(spec);
                }
            }
            return;
        }
        let Object::Pod(pod) = obj.as_ref() else {
            return;
        };
        if kind == EventType::Deleted || pod.metadata.deletion_timestamp.is_none() {
            return;
        }
        let Some(node) = pod.node_name() else { return };
        if self.with_kubelet.contains(node) {
            return;
        }
        let (ns, name) = (pod.metadata.namespace.clone(), pod.metadata.name.clone());
        ctx.note(
            NAME,
            format!("confirm pod {ns}/{name} terminated"),
            format!("node {node} runs no kubelet, so no container has to stop; the pod is removed at once (as kwok does)"),
            vec![ObjRef::new("Pod", &ns, &name, obj.meta().resource_version.parse().unwrap_or(0))],
        );
        let who = self.who.clone();
        let _ = ctx.client(&who).delete(&PODS, &ns, &name, Some(0));
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
