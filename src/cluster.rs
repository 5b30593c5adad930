//! Layer 6, the composition root: builds a cluster from its settings, wires the
//! components to the API server and runs the event loop in virtual time.
//!
//! The cluster is a pure state machine: requests and the passage of time go in,
//! responses and the trace come out. Nothing here reads a clock or does IO.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;

use crate::api::core::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Namespace, Node, NodeAddress,
    NodeSystemInfo, Service, ServicePort,
};
use crate::api::intstr::IntOrString;
use crate::api::meta::Condition;
use crate::api::object::RESOURCE_TYPES;
use crate::api::quantity::Quantity;
use crate::api::time::Time;
use crate::api::Object;
use crate::apiserver::client::{Client, Identity};
use crate::apiserver::request::{Request, Response};
use crate::apiserver::watch::{WatchId, WatchSpec};
use crate::apiserver::{format_ipv4, ApiServer, Cidr, NoNetwork, Settings as ApiSettings};
use crate::component::{Component, Ctx, TimerRequest};
use crate::controllers::namespace::NamespaceController;
use crate::controllers::nodelifecycle::NodeLifecycleController;
use crate::controllers::podgc::PodGcController;
use crate::controllers::rootca::RootCaPublisher;
use crate::controllers::serviceaccount::ServiceAccountController;
use crate::controllers::standin::{NodeStandIn, KUBELET_ANNOTATION};
use crate::controllers::tainteviction::TaintEvictionController;
use crate::kernel::trace::Text;
use crate::kernel::{format_duration, Kernel, Nanos, ObjRef, TraceDetail, NANOS_PER_SEC};
use crate::store::{EventType, WatchEvent};

/// `spec.cluster.network` of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkSettings {
    pub plugin: String,
    pub proxy_mode: String,
    pub cluster_cidr: Cidr,
    pub node_cidr_mask_size: u8,
    pub service_cidr: Cidr,
    pub node_port_range: (u16, u16),
}

impl Default for NetworkSettings {
    fn default() -> Self {
        NetworkSettings {
            plugin: "flannel-vxlan".into(),
            proxy_mode: "iptables".into(),
            cluster_cidr: Cidr {
                base: 0x0af4_0000,
                prefix: 16,
            },
            node_cidr_mask_size: 24,
            service_cidr: Cidr {
                base: 0x0a60_0000,
                prefix: 12,
            },
            node_port_range: (30000, 32767),
        }
    }
}

/// Everything a cluster is built from.
#[derive(Clone, Debug)]
pub struct Settings {
    pub seed: u64,
    pub nodes: Vec<Node>,
    /// `spec.cluster.scheduler` as given (the scheduler issue reads it).
    pub scheduler: Option<Value>,
    pub network: NetworkSettings,
    pub apiserver: ApiSettings,
    /// Trace entries kept in full.
    pub trace_capacity: usize,
    /// The seed's token Secrets per service account (legacy mode).
    pub legacy_service_account_tokens: bool,
    /// How many scheduling decision records are kept, and nodes per record.
    pub scheduler_records: crate::scheduler::RecordLimits,
    /// `spec.cluster.images`: the scenario's own images in the simulated registry.
    pub images: Vec<crate::kubelet::images::ImageSpec>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            seed: 1,
            nodes: Vec::new(),
            scheduler: None,
            network: NetworkSettings::default(),
            apiserver: ApiSettings::default(),
            trace_capacity: crate::kernel::trace::DEFAULT_TRACE_CAPACITY,
            legacy_service_account_tokens: false,
            scheduler_records: crate::scheduler::RecordLimits::default(),
            images: Vec::new(),
        }
    }
}

/// A unit of work in the event queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    /// Deliver the store event at this revision to its watchers.
    Deliver { revision: u64, periodic: bool },
    /// Wake a component.
    Timer {
        component: usize,
        key: u64,
        periodic: bool,
    },
}

impl Event {
    fn periodic(self) -> bool {
        match self {
            Event::Deliver { periodic, .. } | Event::Timer { periodic, .. } => periodic,
        }
    }
}

/// The control-plane address every cluster has.
pub const APISERVER_ADDRESS: &str = "10.0.0.1";

/// A whole cluster.
pub struct Cluster {
    pub k: Kernel,
    api: ApiServer,
    queue: crate::kernel::EventQueue<Event>,
    components: Vec<Box<dyn Component>>,
    /// Each component's name, as the trace shares it.
    names: Vec<Arc<str>>,
    /// Which component and which of its watches each open watch belongs to.
    watch_owner: BTreeMap<WatchId, (usize, usize)>,
    watch_count: Vec<usize>,
    /// Revisions up to this one have been queued for delivery.
    queued: u64,
    /// The events queued for delivery, held from the write on (as a watch cache buffers
    /// them), so a burst of writes larger than the store's history window still
    /// reaches every watcher.
    pending: BTreeMap<u64, WatchEvent>,
    /// Whether the work now running is periodic (its writes' deliveries are too).
    in_periodic: bool,
    settings: Settings,
    /// Each node's kernel state (its iptables engine).
    machines: crate::network::machines::Machines,
    /// The trace's watchers and `delivered to ...` reason per set of receiving
    /// components: the same few sets recur for every write, so they are kept.
    delivered: Vec<Delivered>,
}

/// A set of receiving components (by index) with the trace's words for it.
struct Delivered {
    owners: Vec<usize>,
    watchers: Arc<[Text]>,
    why: Arc<str>,
}

/// Sets of receiving components whose `delivered to ...` phrase is kept.
const DELIVERED_KEPT: usize = 256;

impl Cluster {
    /// Builds a fresh v1.31 cluster at virtual time zero: the system namespaces, the
    /// `kubernetes` Service, the nodes given, default service accounts.
    pub fn new(settings: Settings) -> Result<Cluster, String> {
        let mut api_settings = settings.apiserver.clone();
        api_settings.service_cidr = settings.network.service_cidr;
        api_settings.node_port_range = settings.network.node_port_range;
        api_settings.advertise_address = format!("{APISERVER_ADDRESS}:6443");
        api_settings.legacy_service_account_tokens = settings.legacy_service_account_tokens;
        let mut c = Cluster {
            k: Kernel::new(settings.seed, settings.trace_capacity),
            api: ApiServer::new(api_settings),
            queue: Default::default(),
            components: Vec::new(),
            names: Vec::new(),
            watch_owner: BTreeMap::new(),
            watch_count: Vec::new(),
            queued: 0,
            pending: BTreeMap::new(),
            in_periodic: false,
            machines: Default::default(),
            settings,
            delivered: Vec::new(),
        };
        c.k.trace.record(
            0,
            "cluster",
            "start a Kubernetes v1.31 cluster",
            format!(
                "seed {}, {} node(s), network {}, kube-proxy mode {}",
                c.settings.seed,
                c.settings.nodes.len(),
                c.settings.network.plugin,
                c.settings.network.proxy_mode
            ),
            vec![],
            TraceDetail::Note,
        );
        // Every node runs a simulated kubelet unless annotated `kubelet: none`, which
        // the stand-in serves.
        let with_kubelet: BTreeSet<String> = c
            .settings
            .nodes
            .iter()
            .filter(|n| !has_no_kubelet(n))
            .map(|n| n.metadata.name.clone())
            .collect();
        c.add_component(Box::new(ServiceAccountController::default()));
        c.add_component(Box::new(RootCaPublisher::default()));
        if c.settings.legacy_service_account_tokens {
            c.add_component(Box::new(
                crate::controllers::serviceaccount_tokens::TokensController::default(),
            ));
        }
        c.add_component(Box::new(NamespaceController::default()));
        c.add_component(Box::new(crate::controllers::nodeipam::NodeIpam::new(
            c.settings.network.cluster_cidr,
            c.settings.network.node_cidr_mask_size,
            c.settings.network.service_cidr,
        )));
        c.add_component(Box::new(NodeStandIn::new(with_kubelet.clone())));
        let catalog = Arc::new(crate::kubelet::images::Catalog::new(&c.settings.images));
        for node in &with_kubelet {
            let mut kubelet = crate::kubelet::Kubelet::new(node, catalog.clone());
            if c.settings.network.plugin == "docker-bridge" {
                // Plain docker: every node's docker0 is 172.17.0.1/16.
                if let Some(range) =
                    crate::apiserver::Cidr::parse(crate::network::fabric::DOCKER0_CIDR)
                {
                    kubelet.set_pod_range(range);
                }
            }
            c.add_component(Box::new(kubelet));
        }
        // The network plug-in's daemon beside each kubelet (flanneld, kubenet, ...).
        let plugin = crate::network::fabric::Plugin::parse(&c.settings.network.plugin)
            .unwrap_or(crate::network::fabric::Plugin::FlannelVxlan);
        let cluster_cidr =
            crate::network::netfilter::Cidr::parse(&c.settings.network.cluster_cidr.to_string());
        for node in &with_kubelet {
            c.machines.add(node);
            if let Some(cidr) = cluster_cidr {
                c.add_component(Box::new(crate::cni::NetworkAgent::new(node, plugin, cidr)));
            }
        }
        // kube-proxy runs beside each kubelet (a DaemonSet in kubeadm's clusters).
        {
            let cidr = c.settings.network.cluster_cidr.to_string();
            let mode = c.settings.network.proxy_mode.clone();
            for node in &with_kubelet {
                c.add_component(Box::new(crate::kubeproxy::component::KubeProxy::new(
                    node, &cidr, &mode,
                )));
            }
        }
        crate::controllers::add_workload_controllers(&mut |comp| c.add_component(comp));
        let sched = crate::scheduler::config::parse(c.settings.scheduler.as_ref())
            .and_then(|cfg| crate::scheduler::Scheduler::new(cfg, c.settings.scheduler_records))
            .map_err(|e| format!("spec.cluster.scheduler: {e}"))?;
        c.add_component(Box::new(sched));
        c.add_component(Box::new(
            crate::controllers::resourcequota::ResourceQuotaController::default(),
        ));
        c.add_component(Box::new(
            crate::controllers::endpoints::EndpointsController::default(),
        ));
        c.add_component(Box::new(
            crate::controllers::endpointslice::EndpointSliceController::default(),
        ));
        c.add_component(Box::new(
            crate::controllers::service::ServiceController::default(),
        ));
        c.add_component(Box::new(crate::ingress::IngressController::default()));
        // The node controllers: declared nodes without a simulated kubelet (those in
        // no `with_kubelet`) have their heartbeats faked, as the stand-in serves them.
        let declared = c
            .settings
            .nodes
            .iter()
            .map(|n| n.metadata.name.clone())
            .collect();
        c.add_component(Box::new(NodeLifecycleController::new(
            with_kubelet,
            declared,
        )));
        c.add_component(Box::new(TaintEvictionController::default()));
        c.add_component(Box::new(PodGcController::default()));
        c.bootstrap()?;
        c.run_due();
        Ok(c)
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn api(&self) -> &ApiServer {
        &self.api
    }

    pub fn now(&self) -> Nanos {
        self.k.clock.now()
    }

    /// The scheduler, if the cluster runs one.
    pub fn scheduler(&self) -> Option<&crate::scheduler::Scheduler> {
        self.components
            .iter()
            .find_map(|c| c.as_any().downcast_ref::<crate::scheduler::Scheduler>())
    }

    /// The nodes' machines (their iptables engines).
    pub fn machines(&self) -> &crate::network::machines::Machines {
        &self.machines
    }

    pub fn machines_mut(&mut self) -> &mut crate::network::machines::Machines {
        &mut self.machines
    }

    /// The kubelet of a node, if it runs one.
    pub fn kubelet(&self, node: &str) -> Option<&crate::kubelet::Kubelet> {
        self.components.iter().find_map(|c| {
            c.as_any()
                .downcast_ref::<crate::kubelet::Kubelet>()
                .filter(|k| k.node_name() == node)
        })
    }

    /// A node's kube-proxy; None when the node runs none.
    pub fn kube_proxy(&self, node: &str) -> Option<&crate::kubeproxy::component::KubeProxy> {
        self.components.iter().find_map(|c| {
            c.as_any()
                .downcast_ref::<crate::kubeproxy::component::KubeProxy>()
                .filter(|k| k.node_name() == node)
        })
    }

    /// A node's kube-proxy, to change the node's rules (`iptables-restore`).
    pub fn kube_proxy_mut(
        &mut self,
        node: &str,
    ) -> Option<&mut crate::kubeproxy::component::KubeProxy> {
        self.components.iter_mut().find_map(|c| {
            c.as_any_mut()
                .and_then(|a| a.downcast_mut::<crate::kubeproxy::component::KubeProxy>())
                .filter(|k| k.node_name() == node)
        })
    }

    /// Acts on a node's kubelet with a context (the `fault` steps); None when the node
    /// runs no kubelet.
    pub fn with_kubelet<R>(
        &mut self,
        node: &str,
        f: impl FnOnce(&mut crate::kubelet::Kubelet, &mut Ctx) -> R,
    ) -> Option<R> {
        let idx = self.components.iter().position(|c| {
            c.as_any()
                .downcast_ref::<crate::kubelet::Kubelet>()
                .is_some_and(|k| k.node_name() == node)
        })?;
        let mut out = None;
        self.with_ctx(idx, |comp, ctx| {
            if let Some(k) = comp
                .as_any_mut()
                .and_then(|a| a.downcast_mut::<crate::kubelet::Kubelet>())
            {
                out = Some(f(k, ctx));
            }
        });
        out
    }

    /// The machine of `node` stops or comes back (fault steps): besides its kubelet,
    /// the node's kube-proxy and network plug-in daemon stop or start with it, and a
    /// stop loses the kernel's state (the daemons write their rules again at start).
    pub fn machine_power(&mut self, node: &str, up: bool) {
        if !up {
            self.machines.power_off(node);
        }
        for idx in 0..self.components.len() {
            let c = self.components[idx].as_any();
            let ours = c
                .downcast_ref::<crate::kubeproxy::component::KubeProxy>()
                .is_some_and(|k| k.node_name() == node)
                || c.downcast_ref::<crate::cni::NetworkAgent>()
                    .is_some_and(|a| a.node_name() == node);
            if !ours {
                continue;
            }
            self.with_ctx(idx, |comp, ctx| {
                let Some(any) = comp.as_any_mut() else {
                    return;
                };
                if let Some(k) = any.downcast_mut::<crate::kubeproxy::component::KubeProxy>() {
                    if up {
                        k.machine_up(ctx);
                    } else {
                        k.machine_down(ctx);
                    }
                } else if let Some(a) = any.downcast_mut::<crate::cni::NetworkAgent>() {
                    a.machine(ctx, up);
                }
            });
        }
    }

    /// The components, for views.
    pub fn components(&self) -> impl Iterator<Item = &dyn Component> {
        self.components.iter().map(|c| c.as_ref())
    }

    /// Adds a component: its watches open and it receives the current objects.
    pub fn add_component(&mut self, comp: Box<dyn Component>) {
        let idx = self.components.len();
        self.names.push(comp.name().into());
        self.components.push(comp);
        self.watch_count.push(0);
        let specs = self.components[idx].watches();
        for spec in specs {
            self.open_watch(idx, spec);
        }
        self.with_ctx(idx, |comp, ctx| comp.start(ctx));
    }

    fn open_watch(&mut self, idx: usize, mut spec: WatchSpec) {
        spec.owner = self.names[idx].to_string();
        let local = self.watch_count[idx];
        self.watch_count[idx] += 1;
        // An informer lists before it watches: current objects arrive as ADDED.
        let existing: Vec<Arc<Object>> = self
            .api
            .store()
            .list(
                spec.resource,
                (!spec.namespace.is_empty()).then_some(spec.namespace.as_str()),
            )
            .filter(|o| spec.matches(o))
            .cloned()
            .collect();
        let id = self.api.open_watch(&mut self.k, spec);
        self.watch_owner.insert(id, (idx, local));
        for obj in existing {
            self.with_ctx(idx, |comp, ctx| {
                comp.on_event(ctx, local, EventType::Added, &obj)
            });
        }
    }

    /// Runs `f` on a component with a context, then schedules what it asked for.
    fn with_ctx(&mut self, idx: usize, f: impl FnOnce(&mut dyn Component, &mut Ctx)) {
        let mut timers: Vec<TimerRequest> = Vec::new();
        let mut watches: Vec<WatchSpec> = Vec::new();
        {
            let comp = self.components[idx].as_mut();
            let mut ctx = Ctx::new(&mut self.api, &mut self.k, &mut timers, &mut watches)
                .with_machines(&mut self.machines);
            f(comp, &mut ctx);
        }
        for t in timers {
            self.queue.push(
                t.at,
                Event::Timer {
                    component: idx,
                    key: t.key,
                    periodic: t.periodic,
                },
            );
        }
        for w in watches {
            self.open_watch(idx, w);
        }
        self.queue_deliveries();
    }

    /// Queues delivery of every store event not yet queued.
    fn queue_deliveries(&mut self) {
        let head = self.api.store().revision();
        let now = self.k.clock.now();
        while self.queued < head {
            self.queued += 1;
            if let Some(ev) = self.api.store().event_at(self.queued) {
                self.pending.insert(self.queued, ev.clone());
            }
            self.queue.push(
                now,
                Event::Deliver {
                    revision: self.queued,
                    periodic: self.in_periodic,
                },
            );
        }
    }

    /// Sends a request from outside the simulation (kubectl, curl, the page).
    pub fn request(&mut self, req: Request) -> Response {
        let mut kubelets = KubeletConnector {
            components: &self.components,
        };
        let resp = self.api.handle_with(&mut self.k, req, &mut kubelets);
        self.queue_deliveries();
        resp
    }

    /// A client for work done as the cluster itself (bootstrap).
    fn system(
        &mut self,
        who: &Identity,
        f: impl FnOnce(&mut Client) -> Result<(), crate::api::ApiError>,
    ) -> Result<(), String> {
        let mut c = Client {
            api: &mut self.api,
            k: &mut self.k,
            who,
        };
        f(&mut c).map_err(|e| e.message().to_string())?;
        self.queue_deliveries();
        Ok(())
    }

    fn bootstrap(&mut self) -> Result<(), String> {
        let apiserver = Identity::new("apiserver", "system:apiserver", &["system:masters"]);
        self.system(&apiserver, |c| {
            for name in ["default", "kube-node-lease", "kube-public", "kube-system"] {
                let mut ns = Namespace::default();
                ns.metadata.name = name.into();
                c.create(Object::from(ns))?;
            }
            let mut svc = Service::default();
            svc.metadata.name = "kubernetes".into();
            svc.metadata.namespace = "default".into();
            svc.metadata
                .labels
                .insert("component".into(), "apiserver".into());
            svc.metadata
                .labels
                .insert("provider".into(), "kubernetes".into());
            svc.spec.cluster_ip = format_ipv4(c.api.settings().service_cidr.nth(1));
            svc.spec.ports.push(ServicePort {
                name: "https".into(),
                protocol: Some("TCP".into()),
                port: 443,
                target_port: Some(IntOrString::Int(6443)),
                ..Default::default()
            });
            c.create(Object::from(svc))?;
            let mut ep = Endpoints::default();
            ep.metadata.name = "kubernetes".into();
            ep.metadata.namespace = "default".into();
            ep.metadata.labels.insert(
                "endpointslice.kubernetes.io/skip-mirror".into(),
                "true".into(),
            );
            ep.subsets.push(EndpointSubset {
                addresses: vec![EndpointAddress {
                    ip: APISERVER_ADDRESS.into(),
                    ..Default::default()
                }],
                ports: vec![EndpointPort {
                    name: "https".into(),
                    port: 6443,
                    protocol: Some("TCP".into()),
                    ..Default::default()
                }],
                ..Default::default()
            });
            c.create(Object::from(ep))?;
            // The API server's endpoints reconciler mirrors its Endpoints into an
            // EndpointSlice of the same name (upstream's endpointsadapter), which is
            // what kube-proxy reads.
            let mut slice = crate::api::networking::EndpointSlice::default();
            slice.metadata.name = "kubernetes".into();
            slice.metadata.namespace = "default".into();
            slice
                .metadata
                .labels
                .insert("kubernetes.io/service-name".into(), "kubernetes".into());
            slice.address_type = "IPv4".into();
            slice.ports.push(crate::api::networking::EndpointSlicePort {
                name: Some("https".into()),
                protocol: Some("TCP".into()),
                port: Some(6443),
                app_protocol: None,
            });
            slice.endpoints.push(crate::api::networking::Endpoint {
                addresses: vec![APISERVER_ADDRESS.into()],
                conditions: crate::api::networking::EndpointConditions {
                    ready: Some(true),
                    ..Default::default()
                },
                ..Default::default()
            });
            c.create(Object::from(slice))?;
            Ok(())
        })?;
        let nodes = self.settings.nodes.clone();
        let mut names = BTreeSet::new();
        for (i, node) in nodes.into_iter().enumerate() {
            if !names.insert(node.metadata.name.clone()) {
                return Err(format!(
                    "spec.cluster.nodes[{i}]: duplicate node name \"{}\"",
                    node.metadata.name
                ));
            }
            let node = complete_node(node, i, self.k.clock.now());
            let who = Identity::new(
                &format!("kubelet/{}", node.metadata.name),
                &format!("system:node:{}", node.metadata.name),
                &["system:nodes"],
            );
            self.system(&who, |c| c.create(Object::from(node)).map(|_| ()))
                .map_err(|e| format!("spec.cluster.nodes[{i}]: {e}"))?;
        }
        Ok(())
    }

    /// Processes one queued event due now. Returns false when none is due.
    pub fn step_one(&mut self) -> bool {
        self.queue_deliveries();
        let now = self.k.clock.now();
        let Some((_, ev)) = self.queue.pop_due(now) else {
            return false;
        };
        self.process(ev);
        true
    }

    fn process(&mut self, ev: Event) {
        self.in_periodic = ev.periodic();
        match ev {
            Event::Deliver { revision, .. } => self.deliver(revision),
            Event::Timer { component, key, .. } => {
                self.with_ctx(component, |comp, ctx| comp.on_timer(ctx, key));
            }
        }
        self.queue_deliveries();
        self.in_periodic = false;
    }

    fn deliver(&mut self, revision: u64) {
        let held = self.pending.remove(&revision);
        let Some((ev, targets)) = (match held {
            Some(ev) => Some(self.api.fanout_event(ev)),
            None => self.api.fanout(revision),
        }) else {
            return;
        };
        if targets.is_empty() {
            return;
        }
        let m = ev.object.meta();
        let mut owners: Vec<usize> = targets
            .iter()
            .filter_map(|(id, _)| self.watch_owner.get(id).map(|(c, _)| *c))
            .collect();
        let names = &self.names;
        owners.dedup_by(|a, b| names[*a] == names[*b]);
        let (unique, why) = self.delivered_to(owners);
        let action = if m.namespace.is_empty() {
            [
                "watch event ",
                ev.kind.as_str(),
                " ",
                ev.object.resource_type().singular,
                " ",
                &m.name,
            ]
            .concat()
        } else {
            [
                "watch event ",
                ev.kind.as_str(),
                " ",
                ev.object.resource_type().singular,
                " ",
                &m.namespace,
                "/",
                &m.name,
            ]
            .concat()
        };
        self.k.trace.record(
            self.k.clock.now(),
            "apiserver",
            action,
            Text::Shared(why),
            vec![ObjRef::new(
                ev.object.kind(),
                &m.namespace,
                &m.name,
                revision,
            )],
            TraceDetail::Watch {
                event: ev.kind.as_str(),
                revision,
                watchers: unique,
            },
        );
        for (id, kind) in targets {
            if let Some(&(idx, local)) = self.watch_owner.get(&id) {
                let obj = ev.object.clone();
                self.with_ctx(idx, |comp, ctx| comp.on_event(ctx, local, kind, &obj));
            }
        }
    }

    /// The watchers (names, in delivery order) and the `delivered to a, b` phrase for
    /// a set of receiving components.
    fn delivered_to(&mut self, owners: Vec<usize>) -> (Arc<[Text]>, Arc<str>) {
        if let Some(d) = self.delivered.iter().find(|d| d.owners == owners) {
            return (d.watchers.clone(), d.why.clone());
        }
        let names: Vec<Text> = owners
            .iter()
            .map(|c| Text::Shared(self.names[*c].clone()))
            .collect();
        let list: Vec<&str> = names.iter().map(Text::as_str).collect();
        let why: Arc<str> = format!("delivered to {}", list.join(", ")).into();
        let names: Arc<[Text]> = names.into();
        if self.delivered.len() < DELIVERED_KEPT {
            self.delivered.push(Delivered {
                owners,
                watchers: names.clone(),
                why: why.clone(),
            });
        }
        (names, why)
    }

    /// Runs all work due at the current instant.
    pub fn run_due(&mut self) {
        while self.step_one() {}
    }

    /// Advances virtual time by `d`, running everything that falls due.
    pub fn advance(&mut self, d: Nanos) -> Nanos {
        let target = self.k.clock.now().saturating_add(d);
        self.advance_to(target);
        self.k.clock.now()
    }

    fn advance_to(&mut self, target: Nanos) {
        self.run_due();
        while let Some(next) = self.queue.next_at() {
            if next > target {
                break;
            }
            self.k.clock.advance_to(next);
            self.run_due();
        }
        self.k.clock.advance_to(target);
        self.run_due();
    }

    /// The slowest periodic loop's period.
    fn quiet_period(&self) -> Nanos {
        self.components
            .iter()
            .filter_map(|c| c.period())
            .max()
            .unwrap_or(0)
    }

    /// Advances until only periodic work is left, for one full quiet period of the
    /// slowest periodic loop; fails if that has not happened within `max`.
    pub fn settle(&mut self, max: Nanos) -> Result<Nanos, String> {
        let start = self.k.clock.now();
        let limit = start.saturating_add(max);
        loop {
            self.run_due();
            let next_work = self
                .queue
                .iter()
                .filter(|(_, e)| !e.periodic())
                .map(|(t, _)| t)
                .min();
            match next_work {
                Some(t) if t > limit => {
                    self.advance_to(limit);
                    return Err(format!(
                        "the cluster did not settle within {}: work is still scheduled at {}",
                        format_duration(max),
                        format_duration(t)
                    ));
                }
                Some(t) => self.advance_to(t),
                None => {
                    let quiet_end = self.k.clock.now().saturating_add(self.quiet_period());
                    if quiet_end > limit {
                        self.advance_to(limit);
                        return Err(format!(
                            "the cluster did not settle within {}",
                            format_duration(max)
                        ));
                    }
                    if self.quiet_period() == 0 {
                        return Ok(self.k.clock.now());
                    }
                    // Watch the quiet period: any non-periodic work in it means not settled.
                    let mut disturbed = false;
                    loop {
                        match self.queue.next_at() {
                            Some(t) if t <= quiet_end => {
                                self.k.clock.advance_to(t);
                                while let Some((_, ev)) = self.queue.pop_due(self.k.clock.now()) {
                                    disturbed |= !ev.periodic();
                                    self.process(ev);
                                }
                            }
                            _ => break,
                        }
                        if disturbed {
                            break;
                        }
                    }
                    if !disturbed {
                        self.k.clock.advance_to(quiet_end);
                        return Ok(self.k.clock.now());
                    }
                }
            }
        }
    }

    /// How many events wait in the queue.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// When the next queued event is due.
    pub fn next_event_at(&self) -> Option<Nanos> {
        self.queue.next_at()
    }

    /// When the next event that is not periodic work (heartbeats, probes) is due.
    pub fn next_work_at(&self) -> Option<Nanos> {
        self.queue
            .iter()
            .filter(|(_, e)| !e.periodic())
            .map(|(t, _)| t)
            .min()
    }

    /// Counts of stored objects per kind (for summaries).
    pub fn object_counts(&self) -> BTreeMap<&'static str, usize> {
        RESOURCE_TYPES
            .iter()
            .filter(|r| r.stored)
            .map(|r| (r.kind, self.api.store().count(r)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Default seconds of a settle limit.
    pub const SETTLE_LIMIT: Nanos = 3600 * NANOS_PER_SEC;
}

/// Reaches the kubelets for `pods/NAME/log` and `pods/NAME/exec`; everything else
/// goes where the cluster without a network sends it.
struct KubeletConnector<'a> {
    components: &'a [Box<dyn Component>],
}

impl crate::apiserver::Connector for KubeletConnector<'_> {
    fn connect(&mut self, k: &mut Kernel, t: &crate::apiserver::ConnectTarget) -> Response {
        if let (Object::Pod(p), "log" | "exec") = (t.object.as_ref(), t.name.as_str()) {
            let kubelet = self.components.iter().find_map(|c| {
                c.as_any()
                    .downcast_ref::<crate::kubelet::Kubelet>()
                    .filter(|kl| Some(kl.node_name()) == p.node_name())
            });
            if let Some(kl) = kubelet {
                return kl.serve(k.clock.now(), t);
            }
            // A node without a kubelet: nothing listens on its port 10250.
            let host = if p.status.host_ip.is_empty() {
                p.spec.node_name.as_str()
            } else {
                p.status.host_ip.as_str()
            };
            let path = if t.name == "log" {
                "containerLogs"
            } else {
                "exec"
            };
            return Response::error(&crate::api::ApiError::new(
                500,
                "InternalError",
                format!(
                    "Get \"https://{host}:10250/{path}/{}/{}\": dial tcp {host}:10250: connect: connection refused",
                    p.metadata.namespace, p.metadata.name
                ),
                None,
            ));
        }
        if let Some(loc) = &t.location {
            if let Some(r) = self.dial(k.clock.now(), t, loc) {
                return r;
            }
        }
        crate::apiserver::Connector::connect(&mut NoNetwork, k, t)
    }
}

impl KubeletConnector<'_> {
    fn kubelets(&self) -> impl Iterator<Item = &crate::kubelet::Kubelet> {
        self.components
            .iter()
            .filter_map(|c| c.as_any().downcast_ref::<crate::kubelet::Kubelet>())
    }

    /// Dials the location over the simulated network: the program listening there
    /// answers, or the dial fails as Go's does. None: the cluster without a network
    /// answers (no address, no pod behind it).
    fn dial(
        &self,
        now: Nanos,
        t: &crate::apiserver::ConnectTarget,
        loc: &crate::apiserver::Location,
    ) -> Option<Response> {
        if loc.ip.is_empty() {
            return None;
        }
        let path = if t.path.is_empty() {
            "/"
        } else {
            t.path.as_str()
        };
        let fail = |why: &str| {
            Response::error(&crate::api::ApiError::new(
                503,
                "ServiceUnavailable",
                format!(
                    "error trying to reach service: dial tcp {}:{}: {why}",
                    loc.ip,
                    if loc.port.is_empty() { "80" } else { &loc.port }
                ),
                None,
            ))
        };
        let port: u16 = if loc.port.is_empty() {
            80
        } else {
            match loc.port.parse() {
                Ok(p) => p,
                Err(_) => return Some(fail("unknown port")),
            }
        };
        let answer = |(code, body): (u16, String)| Response {
            code,
            body: crate::apiserver::request::ResponseBody::Text(body),
        };
        if let Object::Node(n) = t.object.as_ref() {
            let kubelet = self.kubelets().find(|k| k.node_name() == n.metadata.name)?;
            if kubelet.power == crate::kubelet::Power::Down {
                return Some(fail("connect: no route to host"));
            }
            if port == 10250 {
                return Some(answer(kubelet.http_self(path)));
            }
            return Some(fail("connect: connection refused"));
        }
        let (ns, name) = loc.pod.as_ref()?;
        let r = self
            .kubelets()
            .find_map(|k| k.http_get(ns, name, port, path, now))?;
        Some(match r {
            Ok(a) => answer(a),
            Err(why) => fail(why),
        })
    }
}

/// True when a node runs no simulated kubelet.
pub fn has_no_kubelet(node: &Node) -> bool {
    node.metadata
        .annotations
        .get(KUBELET_ANNOTATION)
        .map(String::as_str)
        == Some("none")
}

/// Fills what a kubelet would report for a node declared without status: capacity,
/// conditions, addresses, node info and the well-known labels.
pub fn complete_node(mut node: Node, index: usize, now: Nanos) -> Node {
    let name = node.metadata.name.clone();
    let labels = &mut node.metadata.labels;
    for (k, v) in [
        ("beta.kubernetes.io/arch", "amd64"),
        ("beta.kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", "amd64"),
        ("kubernetes.io/hostname", name.as_str()),
        ("kubernetes.io/os", "linux"),
    ] {
        labels.entry(k.into()).or_insert_with(|| v.into());
    }
    let st = &mut node.status;
    if st.capacity.is_empty() {
        for (k, v) in [
            ("cpu", "4"),
            ("ephemeral-storage", "100Gi"),
            ("memory", "16Gi"),
            ("pods", "110"),
        ] {
            if let Ok(q) = Quantity::parse(v) {
                st.capacity.insert(k.into(), q);
            }
        }
    }
    if st.allocatable.is_empty() {
        st.allocatable = st.capacity.clone();
    }
    if st.addresses.is_empty() {
        let ip = format_ipv4(crate::apiserver::parse_ipv4("10.0.0.2").unwrap_or(0) + index as u32);
        st.addresses = vec![
            NodeAddress {
                kind: "InternalIP".into(),
                address: ip,
            },
            NodeAddress {
                kind: "Hostname".into(),
                address: name.clone(),
            },
        ];
    }
    if st.conditions.is_empty() {
        let t = Some(Time::from_virtual_nanos(now));
        let cond = |kind: &str, status: &str, reason: &str, message: &str| Condition {
            kind: kind.into(),
            status: status.into(),
            last_heartbeat_time: t,
            last_transition_time: t,
            reason: reason.into(),
            message: message.into(),
            ..Default::default()
        };
        st.conditions = vec![
            cond(
                "MemoryPressure",
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            cond(
                "DiskPressure",
                "False",
                "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure",
            ),
            cond(
                "PIDPressure",
                "False",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
            cond(
                "Ready",
                "True",
                "KubeletReady",
                "kubelet is posting ready status",
            ),
        ];
    }
    if st.node_info.is_none() {
        st.node_info = Some(NodeSystemInfo {
            machine_id: format!("{:032x}", index + 1),
            system_uuid: format!("{:08x}-0000-0000-0000-{:012x}", index + 1, index + 1),
            boot_id: format!("{:08x}-0000-4000-8000-{:012x}", index + 1, index + 1),
            kernel_version: "6.8.0-1008-kubeglass".into(),
            os_image: "Ubuntu 24.04 LTS".into(),
            container_runtime_version: "containerd://1.7.20".into(),
            kubelet_version: "v1.31.0".into(),
            kube_proxy_version: String::new(),
            operating_system: "linux".into(),
            architecture: "amd64".into(),
        });
    }
    if st.daemon_endpoints.is_none() {
        st.daemon_endpoints = Some(Box::new(
            serde_json::json!({"kubeletEndpoint": {"Port": 10250}}),
        ));
    }
    node
}
