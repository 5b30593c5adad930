//! The network plug-ins' own iptables rules, as each writes them on a node (beside
//! kube-proxy's): masquerade for traffic leaving the pod network, and forwarding
//! accepted for it.
//!
//! - flannel (both back ends), from its `MasqRules` and `ForwardRules`: the chain
//!   FLANNEL-POSTRTG (nat, jumped to first from POSTROUTING): kube-proxy's marked
//!   traffic and pod-to-pod traffic are not masqueraded, pod traffic to anywhere but
//!   multicast is, traffic from outside to this node's pods is not, and the host's
//!   traffic to the pod network is; FLANNEL-FWD (filter, jumped to first from
//!   FORWARD) accepts anything from or to the pod network. Comment `flanneld masq` /
//!   `flanneld forward`. (flannel writes `--random-fully` where iptables has it, as
//!   here.)
//! - direct routing (kubenet's cbr0): the kubelet's one rule, masquerade for
//!   anything not to the cluster range and not to a local address (comment
//!   `kubenet: SNAT for outbound traffic from cluster`, nonMasqueradeCIDR = the
//!   cluster CIDR).
//! - Open vSwitch (as openshift-sdn): OPENSHIFT-MASQUERADE masquerades traffic from
//!   the pod network (pod-to-pod traffic never reaches iptables: br0's flows carry it).
//! - plain docker (20.10's default bridge): the DOCKER chains of nat and filter,
//!   masquerade for 172.17.0.0/16 leaving by another interface than docker0, the
//!   isolation stages and DOCKER-USER.

use super::fabric::{Plugin, DOCKER0_CIDR};
use super::netfilter::Cidr;

/// The plug-in's rules for one node, as `iptables-restore --noflush` text; None
/// until the node has the pod range the rules need.
pub fn host_rules(plugin: Plugin, cluster: Cidr, node_subnet: Option<Cidr>) -> Option<String> {
    let n = cluster.to_string();
    Some(match plugin {
        Plugin::FlannelVxlan | Plugin::FlannelHostGw => {
            let sn = node_subnet?.to_string();
            let masq = "-m comment --comment \"flanneld masq\"";
            let fwd = "-m comment --comment \"flanneld forward\"";
            format!(
                "*nat\n:FLANNEL-POSTRTG - [0:0]\n\
                 -I POSTROUTING 1 {masq} -j FLANNEL-POSTRTG\n\
                 -A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 {masq} -j RETURN\n\
                 -A FLANNEL-POSTRTG -s {n} -d {n} {masq} -j RETURN\n\
                 -A FLANNEL-POSTRTG -s {n} ! -d 224.0.0.0/4 {masq} -j MASQUERADE --random-fully\n\
                 -A FLANNEL-POSTRTG ! -s {n} -d {sn} {masq} -j RETURN\n\
                 -A FLANNEL-POSTRTG ! -s {n} -d {n} {masq} -j MASQUERADE --random-fully\n\
                 COMMIT\n\
                 *filter\n:FLANNEL-FWD - [0:0]\n\
                 -I FORWARD 1 {fwd} -j FLANNEL-FWD\n\
                 -A FLANNEL-FWD -s {n} {fwd} -j ACCEPT\n\
                 -A FLANNEL-FWD -d {n} {fwd} -j ACCEPT\n\
                 COMMIT\n"
            )
        }
        Plugin::DirectRouting => format!(
            "*nat\n-A POSTROUTING -m comment --comment \"kubenet: SNAT for outbound traffic from cluster\" -m addrtype ! --dst-type LOCAL ! -d {n} -j MASQUERADE\nCOMMIT\n"
        ),
        Plugin::Ovs => format!(
            "*nat\n:OPENSHIFT-MASQUERADE - [0:0]\n\
             -A POSTROUTING -m comment --comment \"rules for masquerading OpenShift traffic\" -j OPENSHIFT-MASQUERADE\n\
             -A OPENSHIFT-MASQUERADE -s {n} -m comment --comment \"masquerade pod-to-service and pod-to-external traffic\" -j MASQUERADE\n\
             COMMIT\n"
        ),
        Plugin::DockerBridge => {
            let d = DOCKER0_CIDR;
            format!(
                "*nat\n:DOCKER - [0:0]\n\
                 -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n\
                 -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER\n\
                 -A POSTROUTING -s {d} ! -o docker0 -j MASQUERADE\n\
                 -A DOCKER -i docker0 -j RETURN\n\
                 COMMIT\n\
                 *filter\n:DOCKER - [0:0]\n:DOCKER-ISOLATION-STAGE-1 - [0:0]\n:DOCKER-ISOLATION-STAGE-2 - [0:0]\n:DOCKER-USER - [0:0]\n\
                 -A FORWARD -j DOCKER-USER\n\
                 -A FORWARD -j DOCKER-ISOLATION-STAGE-1\n\
                 -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
                 -A FORWARD -o docker0 -j DOCKER\n\
                 -A FORWARD -i docker0 ! -o docker0 -j ACCEPT\n\
                 -A FORWARD -i docker0 -o docker0 -j ACCEPT\n\
                 -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2\n\
                 -A DOCKER-ISOLATION-STAGE-1 -j RETURN\n\
                 -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP\n\
                 -A DOCKER-ISOLATION-STAGE-2 -j RETURN\n\
                 -A DOCKER-USER -j RETURN\n\
                 COMMIT\n"
            )
        }
    })
}

/// The daemon that writes them, for the trace.
pub fn daemon(plugin: Plugin) -> &'static str {
    match plugin {
        Plugin::FlannelVxlan | Plugin::FlannelHostGw => "flanneld",
        Plugin::DirectRouting => "kubenet",
        Plugin::Ovs => "openshift-sdn",
        Plugin::DockerBridge => "dockerd",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::netfilter::{Netfilter, RestoreOptions};

    #[test]
    fn every_plugins_rules_load_and_save_as_iptables_prints_them() {
        let cluster = Cidr::parse("10.244.0.0/16").unwrap_or(Cidr { addr: 0, prefix: 0 });
        let subnet = Cidr::parse("10.244.1.0/24");
        for p in [
            Plugin::FlannelVxlan,
            Plugin::FlannelHostGw,
            Plugin::DirectRouting,
            Plugin::Ovs,
            Plugin::DockerBridge,
        ] {
            let text = host_rules(p, cluster, subnet).unwrap_or_default();
            let mut nf = Netfilter::new();
            let opts = RestoreOptions {
                noflush: true,
                counters: false,
            };
            assert!(
                nf.restore(&text, opts).is_ok(),
                "{p:?}: {:?}",
                nf.restore(&text, opts)
            );
            let saved = nf.save(0);
            // Loading twice does not duplicate the jumps' chains (restore's :CHAIN
            // flushes them) and the text survives a save/restore round trip.
            let mut again = Netfilter::new();
            assert!(again.restore(&saved, RestoreOptions::default()).is_ok());
            assert_eq!(again.save(0), saved);
        }
        let flannel = host_rules(Plugin::FlannelVxlan, cluster, subnet).unwrap_or_default();
        assert!(flannel.contains("-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment \"flanneld masq\" -j RETURN"));
        assert!(host_rules(Plugin::FlannelVxlan, cluster, None).is_none());
    }
}
