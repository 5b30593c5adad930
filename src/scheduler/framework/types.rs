//! The scheduler's view of pods and nodes (upstream `framework/types.go`): resources
//! summed once per pod version, and per node the pods it holds, what they request and
//! which host ports they use. The cache keeps these up to date from watch events, so a
//! scheduling cycle only reads them.

use crate::api::VecMap;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::api::core::{Node, Pod, ResourceList, Volume};
use crate::api::labels::{label_selector_as_selector, Selector};
use crate::api::quantity::Quantity;
use crate::api::Object;

/// Default CPU request (millicores) of a container that sets none, for scoring.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Default memory request (bytes) of a container that sets none, for scoring (200Mi).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Which era's resource arithmetic the cache uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceModel {
    /// v1.31: `resourcehelper.PodRequests` (init containers, sidecars, overhead).
    Current,
    /// The legacy Policy's scheduler: containers (and overhead) only count on a node;
    /// the incoming pod's fit request takes the largest init container into account.
    Legacy,
}

/// `framework.Resource`: what a pod requests or a node offers. Scalar resources
/// (extended, hugepages, `kubernetes.io/` prefixed) are kept sorted by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resource {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    pub allowed_pod_number: i64,
    pub scalar: Vec<(Arc<str>, i64)>,
}

/// `v1helper.IsExtendedResourceName`: a name outside the `kubernetes.io` namespace with a
/// domain prefix, not `requests.`-prefixed.
pub fn is_extended_resource_name(name: &str) -> bool {
    if is_native_resource(name) || name.starts_with("requests.") {
        return false;
    }
    name.contains('/')
}

/// A resource in the `kubernetes.io` namespace (or without a domain).
fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// `v1helper.IsPrefixedNativeResource`.
fn is_prefixed_native_resource(name: &str) -> bool {
    name.contains("kubernetes.io/")
}

/// `schedutil.IsScalarResourceName`: extended, hugepages, prefixed native or attachable
/// volume resources.
pub fn is_scalar_resource_name(name: &str) -> bool {
    is_extended_resource_name(name)
        || name.starts_with("hugepages-")
        || is_prefixed_native_resource(name)
        || name.starts_with("attachable-volumes-")
}

impl Resource {
    /// The value of a named resource (0 when absent).
    pub fn get(&self, name: &str) -> i64 {
        match name {
            "cpu" => self.milli_cpu,
            "memory" => self.memory,
            "ephemeral-storage" => self.ephemeral_storage,
            "pods" => self.allowed_pod_number,
            _ => self.scalar(name),
        }
    }

    pub fn scalar(&self, name: &str) -> i64 {
        match self.scalar.binary_search_by(|(k, _)| k.as_ref().cmp(name)) {
            Ok(i) => self.scalar[i].1,
            Err(_) => 0,
        }
    }

    /// Whether the scalar resource is present at all (even with 0).
    pub fn has_scalar(&self, name: &str) -> bool {
        self.scalar
            .binary_search_by(|(k, _)| k.as_ref().cmp(name))
            .is_ok()
    }

    fn scalar_mut(&mut self, name: &str) -> &mut i64 {
        let i = match self.scalar.binary_search_by(|(k, _)| k.as_ref().cmp(name)) {
            Ok(i) => i,
            Err(i) => {
                self.scalar.insert(i, (Arc::from(name), 0));
                i
            }
        };
        &mut self.scalar[i].1
    }

    /// `Resource.Add(ResourceList)`: cpu in millicores, the rest in units; names that are
    /// not scalar resources are ignored, as upstream does.
    pub fn add_list(&mut self, list: &ResourceList) {
        for (name, q) in list {
            self.add_quantity(name, q);
        }
    }

    fn add_quantity(&mut self, name: &str, q: &Quantity) {
        match name {
            "cpu" => self.milli_cpu = self.milli_cpu.saturating_add(q.milli_value()),
            "memory" => self.memory = self.memory.saturating_add(q.value()),
            "ephemeral-storage" => {
                self.ephemeral_storage = self.ephemeral_storage.saturating_add(q.value())
            }
            "pods" => self.allowed_pod_number = self.allowed_pod_number.saturating_add(q.value()),
            other if is_scalar_resource_name(other) => {
                let v = self.scalar_mut(other);
                *v = v.saturating_add(q.value());
            }
            _ => {}
        }
    }

    /// Adds another resource (a pod's requests to a node's sum).
    pub fn add(&mut self, o: &Resource) {
        self.milli_cpu = self.milli_cpu.saturating_add(o.milli_cpu);
        self.memory = self.memory.saturating_add(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.saturating_add(o.ephemeral_storage);
        self.allowed_pod_number = self.allowed_pod_number.saturating_add(o.allowed_pod_number);
        for (k, v) in &o.scalar {
            let s = self.scalar_mut(k);
            *s = s.saturating_add(*v);
        }
    }

    /// Subtracts another resource (a pod leaving a node).
    pub fn sub(&mut self, o: &Resource) {
        self.milli_cpu = self.milli_cpu.saturating_sub(o.milli_cpu);
        self.memory = self.memory.saturating_sub(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.saturating_sub(o.ephemeral_storage);
        self.allowed_pod_number = self.allowed_pod_number.saturating_sub(o.allowed_pod_number);
        for (k, v) in &o.scalar {
            let s = self.scalar_mut(k);
            *s = s.saturating_sub(*v);
        }
    }

    /// True when nothing but possibly the pod count is requested.
    pub fn is_zero_request(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.is_empty()
    }
}

/// A resource list being summed exactly (as `resource.Quantity`s), keyed by name.
#[derive(Default)]
struct QuantitySum<'a> {
    items: Vec<(&'a str, Quantity)>,
}

impl<'a> QuantitySum<'a> {
    fn entry(&mut self, name: &'a str) -> &mut Quantity {
        let i = match self.items.iter().position(|(k, _)| *k == name) {
            Some(i) => i,
            None => {
                self.items.push((name, Quantity::zero()));
                self.items.len() - 1
            }
        };
        &mut self.items[i].1
    }

    /// `addResourceList`.
    fn add_list(&mut self, list: &'a ResourceList) {
        for (k, q) in list {
            self.entry(k).add(q);
        }
    }

    fn add(&mut self, o: &QuantitySum<'a>) {
        for (k, q) in &o.items {
            self.entry(k).add(q);
        }
    }

    /// `maxResourceList`: per resource, the larger of the two.
    fn max(&mut self, o: &QuantitySum<'a>) {
        for (k, q) in &o.items {
            let cur = self.entry(k);
            if q > cur {
                *cur = q.clone();
            }
        }
    }

    fn to_resource(&self) -> Resource {
        let mut r = Resource::default();
        for (k, q) in &self.items {
            r.add_quantity(k, q);
        }
        r
    }
}

/// A container's requests with upstream's `NonMissingContainerRequests` applied: cpu and
/// memory requests that are absent count as the scoring defaults.
fn with_defaults<'a>(list: &'a ResourceList, defaults: bool) -> QuantitySum<'a> {
    let mut s = QuantitySum::default();
    s.add_list(list);
    if defaults {
        if !list.contains_key("cpu") {
            s.items.push((
                "cpu",
                Quantity::from_milli(
                    DEFAULT_MILLI_CPU_REQUEST,
                    crate::api::quantity::Format::DecimalSI,
                ),
            ));
        }
        if !list.contains_key("memory") {
            s.items.push((
                "memory",
                Quantity::from_value(
                    DEFAULT_MEMORY_REQUEST,
                    crate::api::quantity::Format::DecimalSI,
                ),
            ));
        }
    }
    s
}

/// `resourcehelper.PodRequests`: the sum of the app containers; restartable init
/// containers (sidecars) add to it and to every later init container's need; the
/// result is the larger of that and the biggest init container need; then the
/// overhead. With `defaults`, missing cpu/memory requests count as 100m/200Mi.
fn pod_requests(pod: &Pod, defaults: bool) -> Resource {
    let mut reqs = QuantitySum::default();
    for c in &pod.spec.containers {
        let r = with_defaults(&c.resources.requests, defaults);
        reqs.add(&r);
    }
    let mut restartable = QuantitySum::default();
    let mut init_max = QuantitySum::default();
    for c in &pod.spec.init_containers {
        let r = with_defaults(&c.resources.requests, defaults);
        if c.restart_policy.as_deref() == Some("Always") {
            reqs.add(&r);
            restartable.add(&r);
            init_max.max(&restartable);
        } else {
            let mut tmp = QuantitySum::default();
            tmp.add(&r);
            tmp.add(&restartable);
            init_max.max(&tmp);
        }
    }
    reqs.max(&init_max);
    reqs.add_list(&pod.spec.overhead);
    reqs.to_resource()
}

/// The legacy scheduler's `GetResourceRequest`: app containers summed, then per
/// resource the larger of that and each init container, plus the overhead.
fn legacy_fit_request(pod: &Pod) -> Resource {
    let mut reqs = QuantitySum::default();
    for c in &pod.spec.containers {
        reqs.add_list(&c.resources.requests);
    }
    for c in &pod.spec.init_containers {
        let mut one = QuantitySum::default();
        one.add_list(&c.resources.requests);
        reqs.max(&one);
    }
    reqs.add_list(&pod.spec.overhead);
    reqs.to_resource()
}

/// The legacy scheduler's node accounting: app containers and overhead only; the
/// non-zero cpu/memory per container (`GetNonzeroRequests`).
fn legacy_node_request(pod: &Pod) -> (Resource, i64, i64) {
    let mut res = Resource::default();
    let (mut cpu, mut mem) = (0i64, 0i64);
    for c in &pod.spec.containers {
        res.add_list(&c.resources.requests);
        let r = &c.resources.requests;
        cpu = cpu.saturating_add(
            r.get("cpu")
                .map_or(DEFAULT_MILLI_CPU_REQUEST, Quantity::milli_value),
        );
        mem = mem.saturating_add(
            r.get("memory")
                .map_or(DEFAULT_MEMORY_REQUEST, Quantity::value),
        );
    }
    res.add_list(&pod.spec.overhead);
    if let Some(q) = pod.spec.overhead.get("cpu") {
        cpu = cpu.saturating_add(q.milli_value());
    }
    if let Some(q) = pod.spec.overhead.get("memory") {
        mem = mem.saturating_add(q.value());
    }
    (res, cpu, mem)
}

/// A host port a container asks for (`hostPort > 0`), with upstream's defaults: IP
/// `0.0.0.0`, protocol TCP.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HostPort {
    pub ip: String,
    pub protocol: String,
    pub port: i32,
}

pub const DEFAULT_BIND_ALL_HOST_IP: &str = "0.0.0.0";

/// The host ports the app containers of a pod use.
pub fn container_host_ports(pod: &Pod) -> Vec<HostPort> {
    let mut out = Vec::new();
    for c in &pod.spec.containers {
        for p in &c.ports {
            let port = p.host_port.unwrap_or(0);
            if port <= 0 {
                continue;
            }
            let ip = match p.host_ip.as_deref() {
                None | Some("") => DEFAULT_BIND_ALL_HOST_IP.to_string(),
                Some(ip) => ip.to_string(),
            };
            let protocol = match p.protocol.as_deref() {
                None | Some("") => "TCP".to_string(),
                Some(pr) => pr.to_string(),
            };
            out.push(HostPort { ip, protocol, port });
        }
    }
    out
}

/// `framework.HostPortInfo`: the host ports in use on a node.
#[derive(Clone, Debug, Default)]
pub struct HostPortInfo {
    ports: Vec<HostPort>,
}

impl HostPortInfo {
    pub fn add(&mut self, p: &HostPort) {
        self.ports.push(p.clone());
    }

    pub fn remove(&mut self, p: &HostPort) {
        if let Some(i) = self.ports.iter().position(|x| x == p) {
            self.ports.swap_remove(i);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }

    /// `CheckConflict`: 0.0.0.0 conflicts with every IP; otherwise the same IP or
    /// 0.0.0.0 with the same protocol and port.
    pub fn check_conflict(&self, want: &HostPort) -> bool {
        self.ports.iter().any(|u| {
            u.protocol == want.protocol
                && u.port == want.port
                && (want.ip == DEFAULT_BIND_ALL_HOST_IP
                    || u.ip == DEFAULT_BIND_ALL_HOST_IP
                    || u.ip == want.ip)
        })
    }
}

/// `framework.AffinityTerm`: a pod (anti-)affinity term parsed once.
#[derive(Clone, Debug)]
pub struct AffinityTerm {
    pub namespaces: Vec<String>,
    pub selector: Selector,
    pub topology_key: String,
    pub namespace_selector: Selector,
}

impl AffinityTerm {
    /// Whether `pod` (in a namespace with `ns_labels`) is selected by this term.
    pub fn matches(&self, pod: &Pod, ns_labels: Option<&VecMap<String, String>>) -> bool {
        static NONE: VecMap<String, String> = VecMap::new();
        let in_ns = self.namespaces.contains(&pod.metadata.namespace)
            || self.namespace_selector.matches(ns_labels.unwrap_or(&NONE));
        in_ns && self.selector.matches(&pod.metadata.labels)
    }
}

/// `framework.WeightedAffinityTerm`.
#[derive(Clone, Debug)]
pub struct WeightedAffinityTerm {
    pub term: AffinityTerm,
    pub weight: i32,
}

fn affinity_term(pod: &Pod, t: &crate::api::core::PodAffinityTerm) -> Result<AffinityTerm, String> {
    let selector = label_selector_as_selector(t.label_selector.as_ref())
        .map_err(|e| e.message().to_string())?;
    let namespaces = if t.namespaces.is_empty() && t.namespace_selector.is_none() {
        vec![pod.metadata.namespace.clone()]
    } else {
        t.namespaces.clone()
    };
    let namespace_selector = label_selector_as_selector(t.namespace_selector.as_ref())
        .map_err(|e| e.message().to_string())?;
    Ok(AffinityTerm {
        namespaces,
        selector,
        topology_key: t.topology_key.clone(),
        namespace_selector,
    })
}

/// `framework.PodInfo`: a pod and what the scheduler derives from it, computed once per
/// version of the pod.
#[derive(Clone, Debug)]
pub struct PodInfo {
    pub object: Arc<Object>,
    /// `namespace/name`.
    pub key: Arc<str>,
    /// What the pod takes from a node's allocatable (what the node sums).
    pub requests: Resource,
    /// What the fit filter checks for this pod when it is the one being scheduled.
    pub fit_request: Resource,
    /// Non-zero cpu/memory (defaults for containers that set none), for scoring.
    pub non_zero_cpu: i64,
    pub non_zero_mem: i64,
    pub priority: i32,
    pub host_ports: Vec<HostPort>,
    /// The images of the init and app containers, normalized (`:latest` added).
    pub images: Vec<String>,
    pub required_affinity: Vec<AffinityTerm>,
    pub required_anti_affinity: Vec<AffinityTerm>,
    pub preferred_affinity: Vec<WeightedAffinityTerm>,
    pub preferred_anti_affinity: Vec<WeightedAffinityTerm>,
    /// Why the affinity terms could not all be parsed (upstream fails PreFilter).
    pub affinity_error: Option<String>,
}

impl PodInfo {
    pub fn new(object: Arc<Object>, model: ResourceModel) -> Option<PodInfo> {
        let pod = object.as_pod()?;
        let key: Arc<str> = Arc::from(format!("{}/{}", pod.metadata.namespace, pod.metadata.name));
        let (requests, fit_request, non_zero_cpu, non_zero_mem) = match model {
            ResourceModel::Current => {
                let r = pod_requests(pod, false);
                let nz = pod_requests(pod, true);
                (r.clone(), r, nz.milli_cpu, nz.memory)
            }
            ResourceModel::Legacy => {
                let (r, cpu, mem) = legacy_node_request(pod);
                (r, legacy_fit_request(pod), cpu, mem)
            }
        };
        let mut info = PodInfo {
            key,
            requests,
            fit_request,
            non_zero_cpu,
            non_zero_mem,
            priority: pod.spec.priority.unwrap_or(0),
            host_ports: container_host_ports(pod),
            images: pod
                .spec
                .init_containers
                .iter()
                .chain(pod.spec.containers.iter())
                .map(|c| normalized_image_name(c.image.as_deref().unwrap_or("")))
                .collect(),
            required_affinity: Vec::new(),
            required_anti_affinity: Vec::new(),
            preferred_affinity: Vec::new(),
            preferred_anti_affinity: Vec::new(),
            affinity_error: None,
            object: object.clone(),
        };
        if let Some(aff) = &pod.spec.affinity {
            let mut errs = Vec::new();
            let mut parse = |terms: &[crate::api::core::PodAffinityTerm]| -> Vec<AffinityTerm> {
                terms
                    .iter()
                    .filter_map(|t| affinity_term(pod, t).map_err(|e| errs.push(e)).ok())
                    .collect()
            };
            if let Some(pa) = &aff.pod_affinity {
                info.required_affinity =
                    parse(&pa.required_during_scheduling_ignored_during_execution);
            }
            if let Some(pa) = &aff.pod_anti_affinity {
                info.required_anti_affinity =
                    parse(&pa.required_during_scheduling_ignored_during_execution);
            }
            let mut wparse = |terms: &[crate::api::core::WeightedPodAffinityTerm]| {
                terms
                    .iter()
                    .filter_map(|w| {
                        affinity_term(pod, &w.pod_affinity_term)
                            .map(|term| WeightedAffinityTerm {
                                term,
                                weight: w.weight,
                            })
                            .map_err(|e| errs.push(e))
                            .ok()
                    })
                    .collect::<Vec<_>>()
            };
            if let Some(pa) = &aff.pod_affinity {
                info.preferred_affinity =
                    wparse(&pa.preferred_during_scheduling_ignored_during_execution);
            }
            if let Some(pa) = &aff.pod_anti_affinity {
                info.preferred_anti_affinity =
                    wparse(&pa.preferred_during_scheduling_ignored_during_execution);
            }
            if let Some(e) = errs.into_iter().next() {
                info.affinity_error = Some(e);
            }
        }
        Some(info)
    }

    pub fn pod(&self) -> &Pod {
        match self.object.as_ref() {
            Object::Pod(p) => p,
            _ => unreachable_pod(),
        }
    }

    pub fn namespace(&self) -> &str {
        &self.pod().metadata.namespace
    }

    pub fn name(&self) -> &str {
        &self.pod().metadata.name
    }

    /// Whether the pod has any (anti-)affinity terms, required or preferred.
    pub fn has_affinity(&self) -> bool {
        !self.required_affinity.is_empty()
            || !self.required_anti_affinity.is_empty()
            || !self.preferred_affinity.is_empty()
            || !self.preferred_anti_affinity.is_empty()
    }
}

/// PodInfo is only ever built from a pod ([`PodInfo::new`] checks it); this keeps the
/// accessor total without a panic path reachable from input.
fn unreachable_pod() -> &'static Pod {
    static EMPTY: std::sync::OnceLock<Pod> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Pod::default)
}

/// `normalizedImageName`: an image without a tag means `:latest`.
pub fn normalized_image_name(name: &str) -> String {
    let colon = name.rfind(':');
    let slash = name.rfind('/');
    if colon.map_or(-1, |c| c as i64) <= slash.map_or(-1, |s| s as i64) {
        format!("{name}:latest")
    } else {
        name.to_string()
    }
}

/// Strings the cache sees often (label keys and values, image names) as small ids, so
/// the hot filters compare integers in the NodeInfo instead of chasing into the node
/// object. Lookups only: nothing iterates it into output.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    ids: std::collections::HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_string());
        self.ids.insert(s.to_string(), i);
        i
    }

    /// The id of a string already seen (None: no node has it).
    pub fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }
}

/// A node's labels as (key id, value id), sorted by key id; up to 8 kept inline in the
/// NodeInfo so a filter reads them without following a pointer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelIds {
    inline: [(u32, u32); 8],
    len: u8,
    spill: Vec<(u32, u32)>,
}

impl LabelIds {
    pub fn new(mut ids: Vec<(u32, u32)>) -> LabelIds {
        ids.sort_unstable();
        let mut l = LabelIds::default();
        if ids.len() <= 8 {
            l.inline[..ids.len()].copy_from_slice(&ids);
            l.len = ids.len() as u8;
        } else {
            l.spill = ids;
        }
        l
    }

    pub fn get(&self, key: u32) -> Option<u32> {
        if self.spill.is_empty() {
            return self.inline[..self.len as usize]
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v);
        }
        self.spill
            .binary_search_by_key(&key, |(k, _)| *k)
            .ok()
            .map(|i| self.spill[i].1)
    }
}

/// `framework.ImageStateSummary`: an image's size and on how many nodes it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImageStateSummary {
    pub size: i64,
    pub num_nodes: i64,
}

/// `framework.NodeInfo`: a node, the pods on it and their sums.
///
/// Laid out hot fields first and cache-line aligned: a cycle visits hundreds of nodes
/// and the filters and scores of a plain pod read only the first few lines (flags, the
/// pod count, allocatable and requested resources, taints, images, name).
#[derive(Clone, Debug)]
#[repr(C, align(64))]
pub struct NodeInfo {
    /// `spec.unschedulable`, kept here for the filters' hot path.
    pub unschedulable: bool,
    /// Whether the node has any taint.
    pub has_taints: bool,
    pub pods: Vec<Arc<PodInfo>>,
    pub allocatable: Resource,
    pub requested: Resource,
    pub non_zero_cpu: i64,
    pub non_zero_mem: i64,
    /// The node's taints (a copy, read by the taint filters without touching the node).
    pub taints: Vec<crate::api::core::Taint>,
    /// The images, interned: (name id, size), sorted by id.
    pub image_ids: Vec<(u32, i64)>,
    pub name: Arc<str>,
    /// The labels, interned (see [`Interner`]).
    pub label_ids: LabelIds,
    pub used_ports: HostPortInfo,
    /// Indexes into `pods` of pods with any (anti-)affinity term.
    pub pods_with_affinity: usize,
    pub pods_with_required_anti_affinity: usize,
    pub object: Arc<Object>,
    /// Image name (as listed in the node's status) to its size.
    pub images: BTreeMap<String, i64>,
    /// Bumped on every change (for snapshots and records).
    pub generation: u64,
    /// Unique to this NodeInfo in the process: with `generation`, names one state of
    /// one node (for caches that outlive a cycle).
    pub uid: u64,
    /// PodTopologySpread's count of matching pods here: (selector id, generation,
    /// count), so that a cycle recounts only nodes whose pods changed.
    pub spread_memo: std::cell::Cell<(u64, u64, i64)>,
}

static NEXT_NODE_INFO_UID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl NodeInfo {
    pub fn new(object: Arc<Object>) -> NodeInfo {
        let mut n = NodeInfo {
            name: Arc::from(object.meta().name.as_str()),
            object: object.clone(),
            pods: Vec::new(),
            pods_with_affinity: 0,
            pods_with_required_anti_affinity: 0,
            used_ports: HostPortInfo::default(),
            requested: Resource::default(),
            non_zero_cpu: 0,
            non_zero_mem: 0,
            allocatable: Resource::default(),
            images: BTreeMap::new(),
            unschedulable: false,
            has_taints: false,
            taints: Vec::new(),
            label_ids: LabelIds::default(),
            image_ids: Vec::new(),
            generation: 0,
            uid: NEXT_NODE_INFO_UID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            spread_memo: std::cell::Cell::new((0, 0, 0)),
        };
        n.set_node(object, &mut Interner::default());
        n
    }

    pub fn node(&self) -> &Node {
        match self.object.as_ref() {
            Object::Node(n) => n,
            _ => unreachable_node(),
        }
    }

    /// Replaces the node object (allocatable, labels, taints, images may change).
    pub fn set_node(&mut self, object: Arc<Object>, interner: &mut Interner) {
        self.object = object;
        let mut alloc = Resource::default();
        let mut images = BTreeMap::new();
        let mut label_ids = Vec::new();
        let mut image_ids = Vec::new();
        if let Object::Node(n) = self.object.as_ref() {
            self.unschedulable = n.spec.unschedulable;
            self.has_taints = !n.spec.taints.is_empty();
            self.taints = n.spec.taints.clone();
            alloc.add_list(&n.status.allocatable);
            for img in &n.status.images {
                for name in &img.names {
                    images.insert(name.clone(), img.size_bytes);
                    image_ids.push((interner.intern(name), img.size_bytes));
                }
            }
            for (k, v) in &n.metadata.labels {
                label_ids.push((interner.intern(k), interner.intern(v)));
            }
        }
        image_ids.sort_unstable();
        image_ids.dedup_by_key(|(k, _)| *k);
        self.label_ids = LabelIds::new(label_ids);
        self.image_ids = image_ids;
        self.allocatable = alloc;
        self.images = images;
        self.generation += 1;
    }

    pub fn add_pod(&mut self, p: Arc<PodInfo>) {
        self.requested.add(&p.requests);
        self.non_zero_cpu = self.non_zero_cpu.saturating_add(p.non_zero_cpu);
        self.non_zero_mem = self.non_zero_mem.saturating_add(p.non_zero_mem);
        for hp in &p.host_ports {
            self.used_ports.add(hp);
        }
        if p.has_affinity() {
            self.pods_with_affinity += 1;
        }
        if !p.required_anti_affinity.is_empty() {
            self.pods_with_required_anti_affinity += 1;
        }
        self.pods.push(p);
        self.generation += 1;
    }

    /// Removes the pod with this key; returns it if it was here.
    pub fn remove_pod(&mut self, key: &str) -> Option<Arc<PodInfo>> {
        let i = self.pods.iter().position(|p| &*p.key == key)?;
        let p = self.pods.remove(i);
        self.requested.sub(&p.requests);
        self.non_zero_cpu = self.non_zero_cpu.saturating_sub(p.non_zero_cpu);
        self.non_zero_mem = self.non_zero_mem.saturating_sub(p.non_zero_mem);
        for hp in &p.host_ports {
            self.used_ports.remove(hp);
        }
        if p.has_affinity() {
            self.pods_with_affinity = self.pods_with_affinity.saturating_sub(1);
        }
        if !p.required_anti_affinity.is_empty() {
            self.pods_with_required_anti_affinity =
                self.pods_with_required_anti_affinity.saturating_sub(1);
        }
        self.generation += 1;
        Some(p)
    }

    pub fn labels(&self) -> &VecMap<String, String> {
        &self.node().metadata.labels
    }
}

fn unreachable_node() -> &'static Node {
    static EMPTY: std::sync::OnceLock<Node> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Node::default)
}

/// The volumes of a pod that the legacy volume-count predicates count (unique ids).
pub fn volume_ids(volumes: &[Volume], kind: &str) -> Vec<String> {
    let mut ids: Vec<String> = volumes
        .iter()
        .filter_map(|v| {
            let (src, key) = match kind {
                "aws-ebs" => (v.aws_elastic_block_store.as_ref(), "volumeID"),
                "gce-pd" => (v.gce_persistent_disk.as_ref(), "pdName"),
                "azure-disk" => (v.azure_disk.as_ref(), "diskName"),
                _ => (None, ""),
            };
            src.and_then(|s| s.get(key))
                .and_then(|x| x.as_str())
                .map(String::from)
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn pod(json: serde_json::Value) -> Arc<Object> {
        let mut v = json;
        v["apiVersion"] = "v1".into();
        v["kind"] = "Pod".into();
        Arc::new(Object::from_value(v).expect("a pod"))
    }

    #[test]
    fn pod_requests_follow_resourcehelper() {
        // Sidecar (restartable init container) adds to the sum and to later init
        // containers; a plain init container counts only as a maximum.
        let p = pod(
            serde_json::json!({"metadata": {"name": "a", "namespace": "d"}, "spec": {
                "initContainers": [
                    {"name": "side", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m"}}},
                    {"name": "init", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}
                ],
                "containers": [{"name": "c", "resources": {"requests": {"cpu": "200m", "memory": "100Mi"}}}],
                "overhead": {"cpu": "10m"}
            }}),
        );
        let info = PodInfo::new(p, ResourceModel::Current).unwrap();
        // max(200m + 100m, 1000m + 100m) + 10m
        assert_eq!(info.requests.milli_cpu, 1110);
        assert_eq!(info.requests.memory, 1 << 30);
        // Non-zero: the sidecar has no memory request, so it counts 200Mi.
        assert_eq!(info.non_zero_mem, (1 << 30) + DEFAULT_MEMORY_REQUEST);
    }

    #[test]
    fn scalar_names_as_upstream() {
        assert!(is_scalar_resource_name("example.com/aaa"));
        assert!(is_scalar_resource_name("kubernetes.io/something"));
        assert!(is_scalar_resource_name("hugepages-2Mi"));
        assert!(!is_scalar_resource_name("foo"));
        assert!(!is_extended_resource_name("kubernetes.io/something"));
    }

    #[test]
    fn host_port_conflicts() {
        let mut used = HostPortInfo::default();
        let hp = |ip: &str, proto: &str, port| HostPort {
            ip: ip.into(),
            protocol: proto.into(),
            port,
        };
        used.add(&hp("127.0.0.1", "TCP", 8001));
        assert!(used.check_conflict(&hp("0.0.0.0", "TCP", 8001)));
        assert!(!used.check_conflict(&hp("10.0.0.1", "TCP", 8001)));
        assert!(!used.check_conflict(&hp("127.0.0.1", "UDP", 8001)));
        used.add(&hp("0.0.0.0", "UDP", 53));
        assert!(used.check_conflict(&hp("10.0.0.1", "UDP", 53)));
    }
}
