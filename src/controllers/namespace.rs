//! The Namespace controller: a namespace being deleted is emptied, resource by
//! resource, then its `kubernetes` finalizer is removed and it goes.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::api::object::{NAMESPACES, RESOURCE_TYPES};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::{ObjRef, NANOS_PER_SEC};
use crate::store::EventType;

const NAME: &str = "namespace-controller";

pub struct NamespaceController {
    who: Identity,
    terminating: BTreeSet<String>,
    /// Timer keys waiting, by namespace.
    pending: Vec<String>,
}

impl Default for NamespaceController {
    fn default() -> Self {
        NamespaceController {
            who: super::controller_identity(NAME, "namespace-controller"),
            terminating: BTreeSet::new(),
            pending: Vec::new(),
        }
    }
}

impl NamespaceController {
    fn sync(&mut self, ctx: &mut Ctx, ns: &str) {
        if !self.terminating.contains(ns) {
            return;
        }
        let who = self.who.clone();
        let mut remaining = 0usize;
        let mut deleted = 0usize;
        let mut longest_grace = 0i64;
        for rt in RESOURCE_TYPES
            .iter()
            .filter(|r| r.namespaced && r.stored && r.verbs.contains(&"delete"))
        {
            let items = match ctx.client(&who).list(rt, ns, "", "") {
                Ok(items) => items,
                Err(_) => continue,
            };
            for obj in items {
                if obj.meta().deletion_timestamp.is_some() {
                    remaining += 1;
                    longest_grace =
                        longest_grace.max(obj.meta().deletion_grace_period_seconds.unwrap_or(0));
                    continue;
                }
                match ctx.client(&who).delete(rt, ns, obj.name(), None) {
                    Ok(o) if o.meta().deletion_timestamp.is_some() => {
                        remaining += 1;
                        longest_grace =
                            longest_grace.max(o.meta().deletion_grace_period_seconds.unwrap_or(0));
                    }
                    Ok(_) => deleted += 1,
                    Err(e) if e.code() == 404 => {}
                    Err(_) => remaining += 1,
                }
            }
        }
        if remaining > 0 {
            ctx.note(
                NAME,
                format!("wait for namespace {ns} to empty"),
                format!("deleted {deleted} objects; {remaining} are still terminating, checking again shortly"),
                vec![ObjRef::new("Namespace", "", ns, 0)],
            );
            let delay = (longest_grace.max(1) as u64).min(5) * NANOS_PER_SEC;
            self.pending.push(ns.to_string());
            ctx.after(delay, (self.pending.len() - 1) as u64);
            return;
        }
        let Ok(current) = ctx.client(&who).get(&NAMESPACES, "", ns) else {
            return;
        };
        let Object::Namespace(mut n) = (*current).clone() else {
            return;
        };
        n.spec.finalizers.retain(|f| f != "kubernetes");
        ctx.note(
            NAME,
            format!("finalize namespace {ns}"),
            format!("deleted {deleted} objects; the namespace is empty, so its \"kubernetes\" finalizer is removed"),
            vec![ObjRef::new("Namespace", "", ns, 0)],
        );
        let _ = ctx.client(&who).finalize_namespace(Object::Namespace(n));
    }
}

impl Component for NamespaceController {
    fn name(&self) -> String {
        NAME.into()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        vec![WatchSpec::new(&NAMESPACES, NAME)]
    }

    fn on_event(&mut self, ctx: &mut Ctx, _watch: usize, kind: EventType, obj: &Arc<Object>) {
        let Object::Namespace(ns) = obj.as_ref() else {
            return;
        };
        let name = ns.metadata.name.clone();
        if kind == EventType::Deleted {
            self.terminating.remove(&name);
            return;
        }
        let deleting = ns.metadata.deletion_timestamp.is_some()
            && ns.spec.finalizers.iter().any(|f| f == "kubernetes");
        if deleting && self.terminating.insert(name.clone()) {
            self.sync(ctx, &name);
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, key: u64) {
        if let Some(ns) = self.pending.get(key as usize).cloned() {
            self.sync(ctx, &ns);
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
