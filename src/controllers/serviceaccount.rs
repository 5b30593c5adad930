//! The ServiceAccount controller: every active namespace has a `default` account.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::api::core::ServiceAccount;
use crate::api::object::{NAMESPACES, SERVICEACCOUNTS};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::ObjRef;
use crate::store::EventType;

const NAME: &str = "serviceaccount-controller";

pub struct ServiceAccountController {
    who: Identity,
    /// Active namespaces.
    namespaces: BTreeSet<String>,
    /// Namespaces that have a `default` account.
    have_default: BTreeSet<String>,
}

impl Default for ServiceAccountController {
    fn default() -> Self {
        ServiceAccountController {
            who: super::controller_identity(NAME, "service-account-controller"),
            namespaces: BTreeSet::new(),
            have_default: BTreeSet::new(),
        }
    }
}

impl ServiceAccountController {
    fn reconcile(&mut self, ctx: &mut Ctx, ns: &str) {
        if !self.namespaces.contains(ns) || self.have_default.contains(ns) {
            return;
        }
        let mut sa = ServiceAccount::default();
        sa.metadata.name = "default".into();
        sa.metadata.namespace = ns.into();
        ctx.note(
            NAME,
            format!("ensure serviceaccount {ns}/default"),
            format!("namespace {ns} is active and has no \"default\" service account"),
            vec![ObjRef::new("Namespace", "", ns, 0)],
        );
        match ctx.client(&self.who.clone()).create(Object::from(sa)) {
            Ok(_) => {
                self.have_default.insert(ns.to_string());
            }
            Err(e) if e.code() == 409 => {
                self.have_default.insert(ns.to_string());
            }
            Err(_) => {}
        }
    }
}

impl Component for ServiceAccountController {
    fn name(&self) -> String {
        NAME.into()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        vec![
            WatchSpec::new(&NAMESPACES, NAME),
            WatchSpec::new(&SERVICEACCOUNTS, NAME),
        ]
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>) {
        match (watch, obj.as_ref()) {
            (0, Object::Namespace(ns)) => {
                let name = ns.metadata.name.clone();
                let active = kind != EventType::Deleted && ns.status.phase != "Terminating";
                if active {
                    self.namespaces.insert(name.clone());
                    self.reconcile(ctx, &name);
                } else {
                    self.namespaces.remove(&name);
                    self.have_default.remove(&name);
                }
            }
            (1, Object::ServiceAccount(sa)) if sa.metadata.name == "default" => {
                let ns = sa.metadata.namespace.clone();
                if kind == EventType::Deleted {
                    self.have_default.remove(&ns);
                    self.reconcile(ctx, &ns);
                } else {
                    self.have_default.insert(ns);
                }
            }
            _ => {}
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
