//! A simulated ingress controller in the manner of ingress-nginx run as a
//! hostNetwork DaemonSet: on every node with a kubelet it listens on ports 80 and
//! 443, and it publishes those nodes' addresses in each Ingress's
//! `status.loadBalancer.ingress` (sorted, as ingress-nginx does), so `kubectl get
//! ingress` shows an ADDRESS. The packet tracer routes an HTTP request that reaches
//! port 80 or 443 of a node by the Ingress rules ([`crate::network::ingress`]) and
//! opens a new connection from the node to one of the backend Service's endpoints,
//! as ingress-nginx does (it reads EndpointSlices; the ClusterIP is not used).
//!
//! Simplified, and said so: the controller is not a pod (no Deployment, Service or
//! RBAC objects of its own); it serves every Ingress whatever its
//! `ingressClassName`; TLS on 443 is terminated without certificates; no Events
//! (`Sync`) are written.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::json;

use crate::api::object::{INGRESSES, NODES};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::controllers::standin::KUBELET_ANNOTATION;
use crate::kernel::ObjRef;
use crate::store::EventType;

const NAME: &str = "ingress-nginx";

pub struct IngressController {
    who: Identity,
    ingresses: BTreeMap<(String, String), Arc<Object>>,
    /// InternalIP of each node that runs a kubelet.
    nodes: BTreeMap<String, String>,
}

impl Default for IngressController {
    fn default() -> Self {
        IngressController {
            who: Identity::new(
                NAME,
                "system:serviceaccount:ingress-nginx:ingress-nginx",
                &[
                    "system:serviceaccounts",
                    "system:serviceaccounts:ingress-nginx",
                    "system:authenticated",
                ],
            ),
            ingresses: BTreeMap::new(),
            nodes: BTreeMap::new(),
        }
    }
}

impl IngressController {
    /// The addresses to publish: every node running the controller, sorted.
    fn addresses(&self) -> Vec<String> {
        let set: BTreeSet<&String> = self.nodes.values().collect();
        set.into_iter().cloned().collect()
    }

    fn sync(&mut self, ctx: &mut Ctx, key: &(String, String)) {
        let Some(Object::Ingress(ing)) = self.ingresses.get(key).map(|o| o.as_ref()) else {
            return;
        };
        if ing.metadata.deletion_timestamp.is_some() {
            return;
        }
        let want = self.addresses();
        let have: Vec<&str> = ing
            .status
            .load_balancer
            .ingress
            .iter()
            .map(|i| i.ip.as_str())
            .collect();
        if have == want.iter().map(String::as_str).collect::<Vec<_>>() {
            return;
        }
        let (ns, name) = (key.0.as_str(), key.1.as_str());
        ctx.note(
            NAME,
            format!("publish {} as the address of ingress {ns}/{name}", if want.is_empty() { "no address".to_string() } else { want.join(",") }),
            "the controller listens on ports 80 and 443 of every node with a kubelet (hostNetwork), so those nodes' addresses are where the Ingress is reached",
            vec![ObjRef::new("Ingress", ns, name, 0)],
        );
        let ingress: Vec<serde_json::Value> = want.iter().map(|ip| json!({"ip": ip})).collect();
        let who = self.who.clone();
        let _ = ctx.client(&who).patch_status(
            &INGRESSES,
            ns,
            name,
            "application/merge-patch+json",
            json!({"status": {"loadBalancer": {"ingress": ingress}}}),
        );
    }
}

impl Component for IngressController {
    fn name(&self) -> String {
        NAME.into()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        vec![
            WatchSpec::new(&INGRESSES, NAME),
            WatchSpec::new(&NODES, NAME),
        ]
    }

    fn on_event(&mut self, ctx: &mut Ctx, _watch: usize, kind: EventType, obj: &Arc<Object>) {
        match obj.as_ref() {
            Object::Ingress(i) => {
                let key = (i.metadata.namespace.clone(), i.metadata.name.clone());
                if kind == EventType::Deleted {
                    self.ingresses.remove(&key);
                    return;
                }
                self.ingresses.insert(key.clone(), obj.clone());
                self.sync(ctx, &key);
            }
            Object::Node(n) => {
                let ip = n
                    .status
                    .addresses
                    .iter()
                    .find(|a| a.kind == "InternalIP")
                    .map(|a| a.address.clone());
                let runs = n
                    .metadata
                    .annotations
                    .get(KUBELET_ANNOTATION)
                    .map(String::as_str)
                    != Some("none");
                let before = self.nodes.get(&n.metadata.name).cloned();
                let after = match (kind, ip, runs) {
                    (EventType::Deleted, _, _) | (_, None, _) | (_, _, false) => None,
                    (_, Some(ip), true) => Some(ip),
                };
                if before == after {
                    return;
                }
                match after {
                    Some(ip) => self.nodes.insert(n.metadata.name.clone(), ip),
                    None => self.nodes.remove(&n.metadata.name),
                };
                let keys: Vec<_> = self.ingresses.keys().cloned().collect();
                for k in keys {
                    self.sync(ctx, &k);
                }
            }
            _ => {}
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
