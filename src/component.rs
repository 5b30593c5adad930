//! What every component (controller, scheduler, kubelet, kube-proxy) is to the
//! cluster: a state machine that reacts to watch events and timers, and acts only
//! through the API server (architecture invariant 6).
//!
//! This is the seam between layer 4 (the API server) and layer 5 (the components):
//! components know this trait and [`Ctx`]; the cluster drives them.

use std::sync::Arc;

use crate::api::Object;
use crate::apiserver::client::{Client, Identity};
use crate::apiserver::watch::WatchSpec;
use crate::apiserver::ApiServer;
use crate::kernel::{Kernel, Nanos, ObjRef, TraceDetail};
use crate::store::EventType;

/// A timer a component asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerRequest {
    pub at: Nanos,
    pub key: u64,
    /// Periodic work (heartbeats, resyncs) does not keep `settle` from finishing.
    pub periodic: bool,
}

/// What a component may use while it acts.
pub struct Ctx<'a> {
    pub api: &'a mut ApiServer,
    pub k: &'a mut Kernel,
    pub(crate) timers: &'a mut Vec<TimerRequest>,
    pub(crate) new_watches: &'a mut Vec<WatchSpec>,
    /// The nodes' machines (their iptables engines), when the cluster lends them.
    pub(crate) machines: Option<&'a mut crate::network::machines::Machines>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        api: &'a mut ApiServer,
        k: &'a mut Kernel,
        timers: &'a mut Vec<TimerRequest>,
        new_watches: &'a mut Vec<WatchSpec>,
    ) -> Ctx<'a> {
        Ctx {
            api,
            k,
            timers,
            new_watches,
            machines: None,
        }
    }

    /// The same context with the nodes' machines.
    pub fn with_machines(mut self, m: &'a mut crate::network::machines::Machines) -> Ctx<'a> {
        self.machines = Some(m);
        self
    }

    /// A node's iptables engine, as a process on that node changes it.
    pub fn netfilter(&mut self, node: &str) -> Option<&mut crate::network::netfilter::Netfilter> {
        self.machines.as_deref_mut()?.netfilter_mut(node)
    }

    pub fn now(&self) -> Nanos {
        self.k.clock.now()
    }

    /// A client acting as `who`.
    pub fn client<'b>(&'b mut self, who: &'b Identity) -> Client<'b> {
        Client {
            api: self.api,
            k: self.k,
            who,
        }
    }

    /// Wakes the component after `delay` with `key`.
    pub fn after(&mut self, delay: Nanos, key: u64) {
        let at = self.k.clock.now() + delay;
        self.timers.push(TimerRequest {
            at,
            key,
            periodic: false,
        });
    }

    /// Like [`Ctx::after`], for periodic work.
    pub fn every(&mut self, delay: Nanos, key: u64) {
        let at = self.k.clock.now() + delay;
        self.timers.push(TimerRequest {
            at,
            key,
            periodic: true,
        });
    }

    /// Opens another watch for this component (delivered with the next index).
    pub fn watch(&mut self, spec: WatchSpec) {
        self.new_watches.push(spec);
    }

    /// Records a decision that is not itself a request: what was seen, what was
    /// wanted, and why nothing (or something) was done.
    pub fn note(
        &mut self,
        actor: &'static str,
        action: impl Into<crate::kernel::trace::Text>,
        reason: impl Into<crate::kernel::trace::Text>,
        objects: Vec<ObjRef>,
    ) {
        self.note_by(actor, action, reason, objects);
    }

    /// [`Ctx::note`] for an actor whose name is built at run time (`kubelet/node-1`).
    pub fn note_by(
        &mut self,
        actor: impl Into<crate::kernel::trace::Text>,
        action: impl Into<crate::kernel::trace::Text>,
        reason: impl Into<crate::kernel::trace::Text>,
        objects: Vec<ObjRef>,
    ) {
        let now = self.k.clock.now();
        self.k
            .trace
            .record(now, actor, action, reason, objects, TraceDetail::Note);
    }
}

/// A component of the cluster.
pub trait Component {
    /// The name in the trace (`serviceaccount-controller`, `scheduler`).
    fn name(&self) -> String;

    /// The watches this component keeps open, opened when it starts. Events arrive
    /// in [`Component::on_event`] with the index of the watch in this list (watches
    /// added later with [`Ctx::watch`] continue the numbering).
    fn watches(&self) -> Vec<WatchSpec>;

    /// Called once after the watches are open, with the objects they match now (as a
    /// real informer's initial list).
    fn start(&mut self, ctx: &mut Ctx) {
        let _ = ctx;
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>);

    fn on_timer(&mut self, ctx: &mut Ctx, key: u64) {
        let _ = (ctx, key);
    }

    /// The period of this component's slowest periodic loop, if it has one
    /// (`settle` waits one such period of quiet).
    fn period(&self) -> Option<Nanos> {
        None
    }

    /// Lets the composition root reach a concrete component (for views and tests).
    fn as_any(&self) -> &dyn std::any::Any;

    /// Lets the composition root act on a concrete component (fault steps).
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }
}
