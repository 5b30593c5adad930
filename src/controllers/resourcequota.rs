//! The ResourceQuota controller (pkg/controller/resourcequota, v1.31): keeps every
//! quota's `status.hard` equal to `spec.hard` and `status.used` equal to what the
//! namespace's objects use, computed with the same evaluators as the admission plugin
//! (`apiserver::quota`).
//!
//! A quota is recomputed when it is created or its `spec.hard` changes, when an object
//! it tracks is deleted (replenishment: a pod, service, ConfigMap, Secret,
//! ReplicationController or quota), when a pod stops being charged (it reached a
//! terminal phase) or a service changes type, and on the full resync every 5 minutes
//! (`--resource-quota-sync-period`). Status-only updates are ignored, as upstream's
//! informer handler does. Usage is read with list requests through the API server;
//! upstream reads its informers' caches.
//!
//! Simplifications: one loop instead of upstream's two work queues (missing usage
//! first) and worker pool; the resync does not count as work `settle` waits for.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::api::core::ResourceQuota;
use crate::api::object::{
    ResourceType, CONFIGMAPS, PODS, REPLICATIONCONTROLLERS, RESOURCEQUOTAS, RESOURCE_TYPES,
    SECRETS, SERVICES,
};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::quota;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::{Nanos, ObjRef};
use crate::store::EventType;

const NAME: &str = "resourcequota-controller";
/// `--resource-quota-sync-period`.
pub const RESYNC: Nanos = 5 * 60 * 1_000_000_000;
const KEY_RESYNC: u64 = 1;

pub struct ResourceQuotaController {
    who: Identity,
    /// The quotas, by namespace and name, as the informer holds them.
    quotas: BTreeMap<(String, String), ResourceQuota>,
    /// Pods already seen uncharged (terminal), so each is replenished once.
    uncharged: BTreeSet<(String, String)>,
    /// Service types, to notice a type change.
    service_types: BTreeMap<(String, String), String>,
    resync_armed: bool,
}

impl Default for ResourceQuotaController {
    fn default() -> Self {
        ResourceQuotaController {
            who: super::controller_identity(NAME, "resourcequota-controller"),
            quotas: BTreeMap::new(),
            uncharged: BTreeSet::new(),
            service_types: BTreeMap::new(),
            resync_armed: false,
        }
    }
}

impl ResourceQuotaController {
    fn has_quota(&self, ns: &str) -> bool {
        if self.quotas.is_empty() {
            return false;
        }
        self.quotas
            .range((ns.to_string(), String::new())..)
            .next()
            .is_some_and(|((n, _), _)| n == ns)
    }

    /// Recomputes the quotas of `ns` that track `rt`, because `why`.
    fn replenish(&mut self, ctx: &mut Ctx, ns: &str, rt: &'static ResourceType, why: String) {
        let names: Vec<String> = self
            .quotas
            .range((ns.to_string(), String::new())..)
            .take_while(|((n, _), _)| n == ns)
            .filter(|(_, q)| !quota::matching_resources(rt, q.spec.hard.keys()).is_empty())
            .map(|((_, name), _)| name.clone())
            .collect();
        for name in names {
            self.sync(ctx, ns, &name, &why);
        }
    }

    /// `syncResourceQuota`: the quota's status from the namespace's objects.
    fn sync(&mut self, ctx: &mut Ctx, ns: &str, name: &str, why: &str) {
        let Some(q) = self
            .quotas
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
        else {
            return;
        };
        let hard = q.spec.hard.clone();
        let who = self.who.clone();
        let mut objects: Vec<Arc<Object>> = Vec::new();
        for rt in RESOURCE_TYPES
            .iter()
            .copied()
            .filter(|rt| rt.namespaced && rt.stored)
        {
            if quota::matching_resources(rt, hard.keys()).is_empty() {
                continue;
            }
            match ctx.client(&who).list(rt, ns, "", "") {
                Ok(items) => objects.extend(items),
                Err(_) => return,
            }
        }
        let used = quota::calculate_usage(&q, &hard, objects.iter().map(|o| o.as_ref()), ctx.now());
        let dirty = q.status.hard != hard || q.status.used != used;
        ctx.note(
            NAME,
            format!("sync resourcequota {ns}/{name}"),
            if dirty {
                format!(
                    "{why}; observed used {}, want hard {} used {}: update status",
                    shown(&q.status.used),
                    shown(&hard),
                    shown(&used)
                )
            } else {
                format!("{why}; used {} is current", shown(&used))
            },
            vec![ObjRef::new("ResourceQuota", ns, name, 0)],
        );
        if !dirty {
            return;
        }
        let mut new = q;
        new.status.hard = hard;
        new.status.used = used;
        if let Ok(stored) = ctx.client(&who).update_status(Object::from(new)) {
            if let Object::ResourceQuota(q) = stored.as_ref() {
                self.quotas
                    .insert((ns.to_string(), name.to_string()), (**q).clone());
            }
        }
    }
}

/// A resource list for the trace (`nothing` when empty).
fn shown(list: &crate::api::core::ResourceList) -> String {
    if list.is_empty() {
        "nothing".into()
    } else {
        quota::pretty(list)
    }
}

impl Component for ResourceQuotaController {
    fn name(&self) -> String {
        NAME.into()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        vec![
            WatchSpec::new(&RESOURCEQUOTAS, NAME),
            WatchSpec::new(&PODS, NAME),
            WatchSpec::new(&SERVICES, NAME),
            WatchSpec::new(&CONFIGMAPS, NAME),
            WatchSpec::new(&SECRETS, NAME),
            WatchSpec::new(&REPLICATIONCONTROLLERS, NAME),
        ]
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>) {
        let m = obj.meta();
        if watch == 1 && !self.has_quota(&m.namespace) {
            // A pod of a namespace without quotas (most pods): nothing to charge.
            if !self.uncharged.is_empty() {
                self.uncharged
                    .remove(&(m.namespace.clone(), m.name.clone()));
            }
            return;
        }
        let key = (m.namespace.clone(), m.name.clone());
        match (watch, obj.as_ref()) {
            (0, Object::ResourceQuota(q)) => match kind {
                EventType::Deleted => {
                    self.quotas.remove(&key);
                    let why = format!("resourcequota {}/{} was deleted", key.0, key.1);
                    self.replenish(ctx, &key.0, &RESOURCEQUOTAS, why);
                }
                EventType::Added => {
                    self.quotas.insert(key.clone(), (**q).clone());
                    if !self.resync_armed {
                        self.resync_armed = true;
                        ctx.every(RESYNC, KEY_RESYNC);
                    }
                    let why = if q.status.hard != q.spec.hard {
                        "a new quota's spec.hard is not yet in its status"
                    } else {
                        "a quota was observed"
                    };
                    self.sync(ctx, &key.0, &key.1, why);
                }
                EventType::Modified => {
                    let spec_changed = self
                        .quotas
                        .get(&key)
                        .is_none_or(|old| old.spec.hard != q.spec.hard);
                    self.quotas.insert(key.clone(), (**q).clone());
                    if spec_changed {
                        self.sync(ctx, &key.0, &key.1, "spec.hard changed");
                    }
                }
            },
            (1, Object::Pod(p)) => {
                if !self.has_quota(&key.0) {
                    self.uncharged.remove(&key);
                    return;
                }
                match kind {
                    EventType::Deleted => {
                        self.uncharged.remove(&key);
                        let why = format!("pod {}/{} was deleted", key.0, key.1);
                        self.replenish(ctx, &key.0, &PODS, why);
                    }
                    _ => {
                        let charged = quota::pod_usage(p, ctx.now()).contains_key("pods");
                        if !charged
                            && self.uncharged.insert(key.clone())
                            && kind == EventType::Modified
                        {
                            let why = format!(
                                "pod {}/{} is {} and no longer uses quota",
                                key.0, key.1, p.status.phase
                            );
                            self.replenish(ctx, &key.0, &PODS, why);
                        }
                    }
                }
            }
            (2, Object::Service(s)) => {
                let before = if kind == EventType::Deleted {
                    self.service_types.remove(&key)
                } else {
                    self.service_types.insert(key.clone(), s.spec.kind.clone())
                };
                if !self.has_quota(&key.0) {
                    return;
                }
                match kind {
                    EventType::Deleted => {
                        let why = format!("service {}/{} was deleted", key.0, key.1);
                        self.replenish(ctx, &key.0, &SERVICES, why);
                    }
                    EventType::Modified if before.as_deref() != Some(s.spec.kind.as_str()) => {
                        let why = format!(
                            "service {}/{} changed type to {}",
                            key.0, key.1, s.spec.kind
                        );
                        self.replenish(ctx, &key.0, &SERVICES, why);
                    }
                    _ => {}
                }
            }
            (3..=5, _) if kind == EventType::Deleted && self.has_quota(&key.0) => {
                let rt = obj.resource_type();
                let why = format!("{} {}/{} was deleted", rt.singular, key.0, key.1);
                self.replenish(ctx, &key.0, rt, why);
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, key: u64) {
        if key != KEY_RESYNC {
            return;
        }
        let keys: Vec<(String, String)> = self.quotas.keys().cloned().collect();
        if keys.is_empty() {
            self.resync_armed = false;
            return;
        }
        for (ns, name) in keys {
            self.sync(ctx, &ns, &name, "full resync (every 5m)");
        }
        ctx.every(RESYNC, KEY_RESYNC);
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
