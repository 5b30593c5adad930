//! The network plug-in's daemon on each node with a kubelet, as a component:
//! flanneld (both flannel back ends), the kubelet's kubenet plug-in (direct
//! routing), openshift-sdn's node agent (Open vSwitch), or dockerd (plain docker
//! bridges). Once the node's pod range is known (its `spec.podCIDR`, for flannel) it
//! writes the plug-in's own iptables rules ([`crate::network::cni`]) into the node's
//! iptables engine with `iptables-restore --noflush`, and says so in the trace.
//!
//! flanneld then checks its rules every 5 seconds (`--iptables-resync`, flannel's
//! `ensureIPTables`): when one is missing, it deletes its rules and writes them all
//! again, in order, so a person's deletion is undone. The others write theirs once,
//! as kubenet, openshift-sdn's agent and dockerd do at start.
//!
//! A `nodeDown` fault stops the daemon with the machine (no checks), and the
//! machine's kernel state is lost; at `nodeUp` the daemon starts again with empty
//! tables: flanneld's check at once finds its rules gone and writes them all, the
//! others write theirs as at their first start.
//!
//! Simplified, and said so: the plug-in's routes and devices are not written by this
//! component but built by the packet tracer's fabric from the same settings.

use std::sync::Arc;

use crate::api::fields::FieldSelector;
use crate::api::object::NODES;
use crate::api::Object;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::clock::{format_duration, Nanos};
use crate::kernel::trace::Text;
use crate::kernel::ObjRef;
use crate::network::cni::{daemon, host_rules};
use crate::network::fabric::Plugin;
use crate::network::netfilter::{Cidr, Netfilter, RestoreOptions, Rule, TableName};
use crate::store::EventType;

/// flanneld's `--iptables-resync` default: 5 seconds.
pub const IPTABLES_RESYNC: Nanos = 5_000_000_000;

/// The timer key of flanneld's check.
const RESYNC: u64 = 1;

const NOFLUSH: RestoreOptions = RestoreOptions {
    noflush: true,
    counters: false,
};

pub struct NetworkAgent {
    node: String,
    actor: Arc<str>,
    plugin: Plugin,
    cluster: Cidr,
    installed: bool,
    /// The restore text written, and the rules it holds (what flanneld checks for).
    written: Option<(String, Vec<Held>)>,
    /// The machine is stopped (a `nodeDown` fault): the daemon stops with it.
    down: bool,
    /// The pod range the rules were written for (or, while stopped, the one to
    /// write them for at the start).
    subnet: Option<Cidr>,
    /// A pod range came while stopped, before the rules were written.
    pending: bool,
}

/// A rule the daemon wrote: its table, its chain, the rule.
type Held = (TableName, String, Rule);

impl NetworkAgent {
    pub fn new(node: &str, plugin: Plugin, cluster: Cidr) -> NetworkAgent {
        NetworkAgent {
            node: node.into(),
            actor: format!("{}/{node}", daemon(plugin)).into(),
            plugin,
            cluster,
            installed: false,
            written: None,
            down: false,
            subnet: None,
            pending: false,
        }
    }

    /// The machine stops or comes back (`fault: {nodeDown}` / `{nodeUp}`). Stopped,
    /// the daemon does nothing; back (the kernel's tables empty after the reboot),
    /// flanneld checks its rules at once and writes them all, and the others write
    /// theirs as at their first start.
    pub fn machine(&mut self, ctx: &mut Ctx, up: bool) {
        if self.down != up {
            return;
        }
        self.down = !up;
        let (action, why) = if up {
            (
                format!("{} starts again with the machine", daemon(self.plugin)),
                "the node is back",
            )
        } else {
            (
                format!("{} stops with the machine", daemon(self.plugin)),
                "a fault step stopped the node: no rule checks until it is back",
            )
        };
        self.note(ctx, action, why);
        if up {
            if self.written.is_some() {
                self.ensure(ctx);
            } else if self.installed || std::mem::take(&mut self.pending) {
                self.install(ctx, self.subnet);
            }
        }
    }

    pub fn node_name(&self) -> &str {
        &self.node
    }

    /// A trace entry by this daemon about its node.
    fn note(&self, ctx: &mut Ctx, action: impl Into<Text>, why: impl Into<Text>) {
        ctx.note_by(
            Text::Shared(self.actor.clone()),
            action,
            why,
            vec![ObjRef::new("Node", "", &self.node, 0)],
        );
    }

    fn flannel(&self) -> bool {
        matches!(self.plugin, Plugin::FlannelVxlan | Plugin::FlannelHostGw)
    }

    /// flanneld's `ensureIPTables`: if every rule it wrote is still there, nothing;
    /// otherwise its jumps from the built-in chains are deleted and all its rules
    /// written again, in order.
    fn ensure(&mut self, ctx: &mut Ctx) {
        let Some((text, rules)) = &self.written else {
            return;
        };
        let Some(nf) = ctx.netfilter(&self.node) else {
            return;
        };
        let missing = rules
            .iter()
            .filter(|(t, chain, rule)| {
                nf.rules
                    .chain(*t, chain)
                    .is_none_or(|c| !c.rules.iter().any(|r| r.same_spec(rule)))
            })
            .count();
        if missing == 0 {
            return;
        }
        // The jumps it inserted into the built-in chains, deleted wherever they are.
        let mut table = "filter";
        for line in text.lines() {
            if let Some(t) = line.strip_prefix('*') {
                table = t;
            } else if let Some(rest) = line.strip_prefix("-I ") {
                let mut words = rest.splitn(3, ' ');
                if let (Some(chain), Some(_position), Some(spec)) =
                    (words.next(), words.next(), words.next())
                {
                    while nf.command(&format!("-t {table} -D {chain} {spec}")).is_ok() {}
                }
            }
        }
        let loaded = nf.restore(text, NOFLUSH);
        let action = match loaded {
            Ok(_) => "Some iptables rules are missing; deleting and recreating rules".to_string(),
            Err(e) => format!("Failed to ensure iptables rules: {}", e.text()),
        };
        let why = format!("flanneld checks its rules every {} (--iptables-resync): {missing} of its {} rule(s) are gone, and since their order matters it writes them all again", format_duration(IPTABLES_RESYNC), rules.len());
        self.note(ctx, action, why);
    }

    fn install(&mut self, ctx: &mut Ctx, subnet: Option<Cidr>) {
        let Some(text) = host_rules(self.plugin, self.cluster, subnet) else {
            return;
        };
        self.subnet = subnet;
        let loaded = match ctx.netfilter(&self.node) {
            Some(nf) => nf.restore(&text, NOFLUSH),
            None => return,
        };
        self.installed = true;
        if self.flannel() && loaded.is_ok() {
            // What flanneld will check: the rules as the engine holds them.
            let mut scratch = Netfilter::new();
            if scratch.restore(&text, NOFLUSH).is_ok() {
                let rules = TableName::ALL
                    .iter()
                    .flat_map(|t| {
                        scratch.rules.table(*t).chains.values().flat_map(move |c| {
                            c.rules.iter().map(move |r| (*t, c.name.clone(), r.clone()))
                        })
                    })
                    .collect();
                self.written = Some((text.clone(), rules));
                ctx.every(IPTABLES_RESYNC, RESYNC);
            }
        }
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
        self.note(ctx, action, why);
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
        if self.down {
            self.subnet = subnet;
            self.pending = true;
            return;
        }
        self.install(ctx, subnet);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, key: u64) {
        if key == RESYNC {
            if !self.down {
                self.ensure(ctx);
            }
            ctx.every(IPTABLES_RESYNC, RESYNC);
        }
    }

    fn period(&self) -> Option<Nanos> {
        self.written.as_ref().map(|_| IPTABLES_RESYNC)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
