//! The network plug-in's daemon on each node with a kubelet, as a component:
//! flanneld (both flannel back ends), the kubelet's kubenet plug-in (direct
//! routing), openshift-sdn's node agent (Open vSwitch), or dockerd (plain docker
//! bridges). Once the node's pod range is known (its `spec.podCIDR`, for flannel) it
//! writes the plug-in's own iptables rules ([`crate::network::cni`]) into the node's
//! iptables engine with `iptables-restore --noflush`, and says so in the trace.
//!
//! Simplified, and said so: the rules are written once (flanneld re-checks them every
//! few seconds and writes them again when one is missing; here a person's deletion
//! stays); the plug-in's routes and devices are not written by this component but
//! built by the packet tracer's fabric from the same settings.

use std::sync::Arc;

use crate::api::fields::FieldSelector;
use crate::api::object::NODES;
use crate::api::Object;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::trace::Text;
use crate::kernel::ObjRef;
use crate::network::cni::{daemon, host_rules};
use crate::network::fabric::Plugin;
use crate::network::netfilter::{Cidr, RestoreOptions};
use crate::store::EventType;

pub struct NetworkAgent {
    node: String,
    actor: Arc<str>,
    plugin: Plugin,
    cluster: Cidr,
    installed: bool,
}

impl NetworkAgent {
    pub fn new(node: &str, plugin: Plugin, cluster: Cidr) -> NetworkAgent {
        NetworkAgent {
            node: node.into(),
            actor: format!("{}/{node}", daemon(plugin)).into(),
            plugin,
            cluster,
            installed: false,
        }
    }

    fn install(&mut self, ctx: &mut Ctx, subnet: Option<Cidr>) {
        let Some(text) = host_rules(self.plugin, self.cluster, subnet) else {
            return;
        };
        let loaded = match ctx.netfilter(&self.node) {
            Some(nf) => nf.restore(
                &text,
                RestoreOptions {
                    noflush: true,
                    counters: false,
                },
            ),
            None => return,
        };
        self.installed = true;
        let (action, why): (String, &str) = match (&loaded, self.plugin) {
            (Err(e), _) => (
                format!("iptables-restore failed: {}", e.text()),
                "the plug-in's rules could not be written",
            ),
            (Ok(s), Plugin::FlannelVxlan | Plugin::FlannelHostGw) => (
                format!(
                    "iptables-restore --noflush: FLANNEL-POSTRTG (nat) and FLANNEL-FWD (filter), {} rule(s), jumped to first from POSTROUTING and FORWARD",
                    s.rules
                ),
                "flanneld has this node's subnet: traffic from pods to outside the pod network is masqueraded (kube-proxy's marked traffic and pod-to-pod traffic are not), and forwarding to and from the pod network is accepted",
            ),
            (Ok(_), Plugin::DirectRouting) => (
                "iptables -t nat -A POSTROUTING ... -j MASQUERADE (kubenet: SNAT for outbound traffic from cluster)".into(),
                "kubenet masquerades traffic that leaves the cluster range for a non-local address (nonMasqueradeCIDR is the cluster CIDR)",
            ),
            (Ok(_), Plugin::Ovs) => (
                "iptables-restore --noflush: OPENSHIFT-MASQUERADE".into(),
                "the SDN's node agent masquerades traffic from the pod network that reaches the host (to Services and outside); pod-to-pod traffic stays in br0's flows",
            ),
            (Ok(_), Plugin::DockerBridge) => (
                "iptables-restore --noflush: the DOCKER chains, MASQUERADE for 172.17.0.0/16 leaving by another interface than docker0, the isolation stages".into(),
                "dockerd sets up its default bridge network: containers reach the outside through the host's address, and nothing routes 172.17.0.0/16 between machines",
            ),
        };
        ctx.note_by(
            Text::Shared(self.actor.clone()),
            action,
            why,
            vec![ObjRef::new("Node", "", &self.node, 0)],
        );
    }
}

impl Component for NetworkAgent {
    fn name(&self) -> String {
        self.actor.to_string()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        let mut w = WatchSpec::new(&NODES, self.actor.to_string());
        w.fields =
            FieldSelector::parse(&format!("metadata.name={}", self.node)).unwrap_or_default();
        vec![w]
    }

    fn on_event(&mut self, ctx: &mut Ctx, _watch: usize, kind: EventType, obj: &Arc<Object>) {
        if self.installed || kind == EventType::Deleted {
            return;
        }
        let Object::Node(n) = obj.as_ref() else {
            return;
        };
        let subnet = n
            .spec
            .pod_cidrs
            .first()
            .or(Some(&n.spec.pod_cidr).filter(|c| !c.is_empty()))
            .and_then(|c| Cidr::parse(c));
        self.install(ctx, subnet);
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
