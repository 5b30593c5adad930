//! The root CA publisher: every namespace gets the `kube-root-ca.crt` ConfigMap that
//! pods' projected service account volumes mount.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::api::core::ConfigMap;
use crate::api::object::{CONFIGMAPS, NAMESPACES};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::ObjRef;
use crate::store::EventType;

const NAME: &str = "root-ca-cert-publisher";
pub const CONFIGMAP: &str = "kube-root-ca.crt";

/// The simulated cluster CA (a placeholder certificate: nothing is signed here).
pub const CA_CRT: &str = "-----BEGIN CERTIFICATE-----\nMIIBkubeglassSimulatedClusterCA/NotARealCertificate==\n-----END CERTIFICATE-----\n";

pub struct RootCaPublisher {
    who: Identity,
    namespaces: BTreeSet<String>,
    published: BTreeSet<String>,
}

impl Default for RootCaPublisher {
    fn default() -> Self {
        RootCaPublisher {
            who: super::controller_identity(NAME, "root-ca-cert-publisher"),
            namespaces: BTreeSet::new(),
            published: BTreeSet::new(),
        }
    }
}

impl RootCaPublisher {
    fn reconcile(&mut self, ctx: &mut Ctx, ns: &str) {
        if !self.namespaces.contains(ns) || self.published.contains(ns) {
            return;
        }
        let mut cm = ConfigMap::default();
        cm.metadata.name = CONFIGMAP.into();
        cm.metadata.namespace = ns.into();
        cm.metadata.annotations.insert("kubernetes.io/description".into(), "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.".into());
        cm.data.insert("ca.crt".into(), CA_CRT.into());
        ctx.note(
            NAME,
            format!("publish configmap {ns}/{CONFIGMAP}"),
            format!("namespace {ns} has no copy of the cluster's CA bundle"),
            vec![ObjRef::new("Namespace", "", ns, 0)],
        );
        match ctx.client(&self.who.clone()).create(Object::from(cm)) {
            Ok(_) => {
                self.published.insert(ns.to_string());
            }
            Err(e) if e.code() == 409 => {
                self.published.insert(ns.to_string());
            }
            Err(_) => {}
        }
    }
}

impl Component for RootCaPublisher {
    fn name(&self) -> String {
        NAME.into()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        let mut cms = WatchSpec::new(&CONFIGMAPS, NAME);
        cms.fields =
            crate::api::fields::FieldSelector::parse(&format!("metadata.name={CONFIGMAP}"))
                .unwrap_or_default();
        vec![WatchSpec::new(&NAMESPACES, NAME), cms]
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>) {
        match (watch, obj.as_ref()) {
            (0, Object::Namespace(ns)) => {
                let name = ns.metadata.name.clone();
                if kind != EventType::Deleted && ns.status.phase != "Terminating" {
                    self.namespaces.insert(name.clone());
                    self.reconcile(ctx, &name);
                } else {
                    self.namespaces.remove(&name);
                    self.published.remove(&name);
                }
            }
            (1, Object::ConfigMap(cm)) => {
                let ns = cm.metadata.namespace.clone();
                if kind == EventType::Deleted {
                    self.published.remove(&ns);
                    self.reconcile(ctx, &ns);
                } else {
                    self.published.insert(ns);
                }
            }
            _ => {}
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
