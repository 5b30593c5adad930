//! The packet tracer's entry point on a running cluster (the `trace` step and the
//! page's trace panel): resolves the two ends, builds the data plane's picture from
//! the cluster (nodes, pods, their namespaces and each node's iptables engine) and
//! walks one packet through it without changing anything.
//!
//! The ends, as scenario.md defines them: `from` is `pod/NS/NAME`, `node/NAME` or
//! `external` (`external:IP`, default 203.0.113.10); `to` is `IP:PORT`,
//! `svc/NS/NAME:PORT` (a port number or name), `NAME.NS.svc.cluster.local:PORT`
//! (answered by the cluster DNS: the ClusterIP, or a headless Service's first ready
//! endpoint), and also `pod/NS/NAME:PORT` and `node/NAME:PORT`. A packet from
//! outside to a LoadBalancer's IP enters through the node the simulated cloud load
//! balancer picks: the first node by name that runs, one holding a ready endpoint
//! when `externalTrafficPolicy: Local`.

use std::net::Ipv4Addr;

use serde_json::Value;

use crate::api::networking::{EndpointSlice, IngressBackend};
use crate::api::object::{ENDPOINTSLICES, INGRESSES, NODES, PODS, SERVICES};
use crate::api::Object;
use crate::cluster::Cluster;
use crate::kernel::rng::Rng;
use crate::network::fabric::{Fabric, NodeInput, Plugin, PodInput};
use crate::network::ingress::Route as IngressRoute;
use crate::network::netfilter::{Cidr, Netfilter, Packet, Proto};
use crate::network::tracer::{self, Hop, Source};

/// The client address of `external` without one (TEST-NET-3, RFC 5737).
pub const EXTERNAL_CLIENT: &str = "203.0.113.10";

impl Cluster {
    /// A node's iptables engine; None when the node runs no kubelet.
    pub fn node_netfilter(&self, node: &str) -> Option<&Netfilter> {
        self.machines().netfilter(node)
    }

    /// A node's iptables engine, for a person's `iptables-restore`.
    pub fn node_netfilter_mut(&mut self, node: &str) -> Option<&mut Netfilter> {
        self.machines_mut().netfilter_mut(node)
    }

    /// The data plane as it is now.
    pub fn fabric(&self) -> Fabric<'_> {
        let s = &self.settings().network;
        let plugin = Plugin::parse(&s.plugin).unwrap_or(Plugin::FlannelVxlan);
        let cidr = |c: &crate::apiserver::Cidr| {
            Cidr::parse(&c.to_string()).unwrap_or(Cidr {
                addr: 0,
                prefix: 32,
            })
        };
        let store = self.api().store();
        let now = self.now();
        let ingress = self.components().any(|c| c.name() == "ingress-nginx");
        let mut nodes = Vec::new();
        for o in store.list(&NODES, None) {
            let Object::Node(n) = o.as_ref() else {
                continue;
            };
            let Some(ip) = n
                .status
                .addresses
                .iter()
                .find(|a| a.kind == "InternalIP")
                .and_then(|a| a.address.parse::<Ipv4Addr>().ok())
            else {
                continue;
            };
            let name = n.metadata.name.clone();
            let kubelet = self.kubelet(&name);
            let up = kubelet.is_none_or(|k| k.power != crate::kubelet::Power::Down);
            let pod_cidr = n
                .spec
                .pod_cidrs
                .first()
                .or(Some(&n.spec.pod_cidr).filter(|c| !c.is_empty()))
                .and_then(|c| Cidr::parse(c));
            let mut listeners = Vec::new();
            if kubelet.is_some() {
                listeners.push((10250, "kubelet".to_string()));
            }
            if kubelet.is_some() && ingress {
                listeners.push((80, "ingress-nginx (http)".to_string()));
                listeners.push((443, "ingress-nginx (https)".to_string()));
            }
            if self.kube_proxy(&name).is_some() {
                listeners.push((10249, "kube-proxy (metrics)".to_string()));
                listeners.push((10256, "kube-proxy (healthz)".to_string()));
            }
            nodes.push(NodeInput {
                netfilter: self.node_netfilter(&name),
                name,
                ip,
                up,
                pod_cidr,
                listeners,
            });
        }
        let mut pods = Vec::new();
        for o in store.list(&PODS, None) {
            let Object::Pod(p) = o.as_ref() else { continue };
            let (Ok(ip), Some(node)) = (
                p.status.pod_ip.parse::<Ipv4Addr>(),
                Some(&p.spec.node_name).filter(|n| !n.is_empty()),
            ) else {
                continue;
            };
            let m = &p.metadata;
            let ports = self
                .kubelet(node)
                .and_then(|k| k.pod_ports(&m.namespace, &m.name, now))
                .unwrap_or_default();
            pods.push(PodInput {
                namespace: m.namespace.clone(),
                name: m.name.clone(),
                node: node.clone(),
                ip,
                host_network: p.spec.host_network,
                ports,
            });
        }
        let mut f = Fabric::build(
            plugin,
            cidr(&s.cluster_cidr),
            cidr(&s.service_cidr),
            nodes,
            pods,
        );
        f.ingress_controller = ingress;
        if ingress {
            f.ingress = self.ingress_routes();
        }
        f
    }

    /// Every Ingress's paths (and defaultBackends), with their backends' ready
    /// endpoints.
    fn ingress_routes(&self) -> Vec<IngressRoute> {
        let store = self.api().store();
        let mut out = Vec::new();
        let mut defaults = Vec::new();
        for o in store.list(&INGRESSES, None) {
            let Object::Ingress(ing) = o.as_ref() else {
                continue;
            };
            let ns = ing.metadata.namespace.as_str();
            let id = format!("{ns}/{}", ing.metadata.name);
            let backend = |b: &IngressBackend| -> (String, Vec<(Ipv4Addr, u16)>) {
                let Some(svc) = &b.service else {
                    return ("a resource backend (not simulated)".into(), Vec::new());
                };
                let port = if svc.port.name.is_empty() {
                    svc.port.number.to_string()
                } else {
                    svc.port.name.clone()
                };
                (
                    format!("service {}:{port}", svc.name),
                    self.backend_endpoints(ns, &svc.name, &svc.port.name, svc.port.number),
                )
            };
            for rule in &ing.spec.rules {
                let Some(http) = &rule.http else { continue };
                for p in &http.paths {
                    let (name, endpoints) = backend(&p.backend);
                    out.push(IngressRoute {
                        ingress: id.clone(),
                        host: rule.host.clone(),
                        path: if p.path.is_empty() {
                            "/".into()
                        } else {
                            p.path.clone()
                        },
                        path_type: p
                            .path_type
                            .clone()
                            .unwrap_or_else(|| "ImplementationSpecific".into()),
                        backend: name,
                        endpoints,
                    });
                }
            }
            if let Some(b) = &ing.spec.default_backend {
                let (name, endpoints) = backend(b);
                defaults.push(IngressRoute {
                    ingress: id.clone(),
                    host: String::new(),
                    path: String::new(),
                    path_type: "default".into(),
                    backend: name,
                    endpoints,
                });
            }
        }
        out.extend(defaults);
        out
    }

    /// The ready endpoints of a Service port (by name, or by number through the
    /// Service's port of that number), with the port the endpoints serve it on.
    fn backend_endpoints(
        &self,
        ns: &str,
        service: &str,
        port_name: &str,
        number: i32,
    ) -> Vec<(Ipv4Addr, u16)> {
        let Some(s) = self.service(ns, service) else {
            return Vec::new();
        };
        let Some(sp) = s.spec.ports.iter().find(|p| {
            if port_name.is_empty() {
                p.port == number
            } else {
                p.name == port_name
            }
        }) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in self.service_slices(ns, service) {
            let Some(port) = e
                .ports
                .iter()
                .find(|p| p.name.as_deref().unwrap_or("") == sp.name)
                .and_then(|p| p.port)
                .and_then(|p| u16::try_from(p).ok())
            else {
                continue;
            };
            for ep in &e.endpoints {
                if ep.conditions.ready == Some(false) {
                    continue;
                }
                for a in &ep.addresses {
                    if let Ok(ip) = a.parse() {
                        out.push((ip, port));
                    }
                }
            }
        }
        out
    }

    /// Follows one packet from `from` to `to` (the `trace` step's value, as
    /// scenario.md defines it); the result is the step's output.
    pub fn trace_packet(&self, from: &str, to: &str, proto: Option<&str>) -> Result<Value, String> {
        self.trace_http(from, to, proto, None, None)
    }

    /// [`Cluster::trace_packet`] with the HTTP request's Host header and path, which
    /// an ingress controller on the way routes by.
    pub fn trace_http(
        &self,
        from: &str,
        to: &str,
        proto: Option<&str>,
        host: Option<&str>,
        path: Option<&str>,
    ) -> Result<Value, String> {
        let r = self.trace_packet_typed(from, to, proto, host, path)?;
        serde_json::to_value(&r).map_err(|e| e.to_string())
    }

    /// [`Cluster::trace_packet`] with the typed result.
    pub fn trace_packet_typed(
        &self,
        from: &str,
        to: &str,
        proto: Option<&str>,
        host: Option<&str>,
        path: Option<&str>,
    ) -> Result<tracer::TraceResult, String> {
        let proto = match proto.unwrap_or("tcp").to_ascii_lowercase().as_str() {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            "sctp" => Proto::Sctp,
            other => {
                return Err(format!(
                    "trace: unsupported protocol \"{other}\": supported values: \"tcp\", \"udp\", \"sctp\""
                ))
            }
        };
        let fabric = self.fabric();
        let resolver = self.resolver_of(from);
        let (dst, dport, first) = self.resolve_to(&fabric, to, proto, &resolver)?;
        let (source, label) = self.resolve_from(&fabric, from, dst)?;
        let mut fabric = fabric;
        self.userspace_ports(&mut fabric, &source, dst);
        let rng = Rng::derive(self.k.seed, &format!("trace {from} {to} {}", proto.name()));
        Ok(tracer::trace(
            &fabric,
            tracer::Request {
                from: source,
                from_label: label,
                first,
                dst,
                dport,
                proto,
                host: host.map(str::to_string),
                path: path.map(str::to_string),
            },
            rng,
            self.now(),
        ))
    }

    /// In userspace mode, what each node's kube-proxy would do with a new
    /// connection from the trace's client.
    fn userspace_ports(&self, fabric: &mut Fabric, source: &Source, dst: Ipv4Addr) {
        let client = match source {
            Source::Pod(i) => fabric.pods.get(*i).map(|p| p.ip),
            Source::Node(n) => fabric.nodes.get(n).map(|n| n.source_for(dst)),
            Source::External { ip, .. } => Some(*ip),
        };
        let Some(client) = client else { return };
        let now = self.now();
        for n in fabric.nodes.values_mut() {
            let Some(kp) = self.kube_proxy(&n.name) else {
                continue;
            };
            let Some(us) = kp.userspace() else { continue };
            for info in us.services.values() {
                let Some(hop) = kp.userspace_backend(info.proxy_port, client, now) else {
                    continue;
                };
                let endpoint = hop.endpoint.as_deref().and_then(|e| {
                    let (ip, port) = e.rsplit_once(':')?;
                    Some((ip.parse().ok()?, port.parse().ok()?))
                });
                n.proxy_ports.push(crate::network::fabric::ProxyPort {
                    port: info.proxy_port,
                    service: hop.service.clone(),
                    endpoint,
                    why: hop.why.clone(),
                });
            }
        }
    }

    fn resolve_from(
        &self,
        fabric: &Fabric,
        from: &str,
        dst: Ipv4Addr,
    ) -> Result<(Source, String), String> {
        let parts: Vec<&str> = from.split('/').collect();
        match parts.as_slice() {
            ["pod" | "pods" | "po", rest @ ..] if !rest.is_empty() && rest.len() <= 2 => {
                let (ns, name) = match rest {
                    [ns, name] => (*ns, *name),
                    [name] => ("default", *name),
                    _ => unreachable!("checked above"),
                };
                if let Some(i) = fabric
                    .pods
                    .iter()
                    .position(|p| p.namespace == ns && p.name == name)
                {
                    return Ok((Source::Pod(i), format!("pod/{ns}/{name}")));
                }
                Err(self.pod_not_ready(ns, name))
            }
            ["node" | "nodes" | "no", name] => {
                if fabric.nodes.contains_key(*name) {
                    Ok((Source::Node(name.to_string()), format!("node/{name}")))
                } else {
                    Err(format!("trace: nodes \"{name}\" not found"))
                }
            }
            _ => {
                let ip = match from.strip_prefix("external") {
                    Some("") => EXTERNAL_CLIENT.parse().ok(),
                    Some(rest) => rest
                        .strip_prefix(':')
                        .and_then(|a| a.parse::<Ipv4Addr>().ok()),
                    None => None,
                };
                let Some(ip) = ip else {
                    return Err(format!(
                        "trace: from: give pod/NAMESPACE/NAME, node/NAME or external[:IP], not \"{from}\""
                    ));
                };
                let via = self.load_balancer_node(fabric, dst);
                Ok((Source::External { ip, via }, format!("external:{ip}")))
            }
        }
    }

    fn pod_not_ready(&self, ns: &str, name: &str) -> String {
        match self.api().store().get(&PODS, ns, name).map(|o| o.as_ref()) {
            Some(Object::Pod(p)) if p.spec.node_name.is_empty() => {
                format!("trace: pod {ns}/{name} is not scheduled yet: it has no IP address")
            }
            Some(Object::Pod(p)) => format!(
                "trace: pod {ns}/{name} has no IP address yet (phase {})",
                if p.status.phase.is_empty() {
                    "Pending"
                } else {
                    &p.status.phase
                }
            ),
            _ => format!("trace: pods \"{name}\" not found in namespace \"{ns}\""),
        }
    }

    /// The node a cloud load balancer sends a packet for `ip` to, when `ip` is a
    /// LoadBalancer Service's ingress address.
    fn load_balancer_node(&self, fabric: &Fabric, ip: Ipv4Addr) -> Option<String> {
        let store = self.api().store();
        let svc = store.list(&SERVICES, None).find_map(|o| match o.as_ref() {
            Object::Service(s)
                if s.status
                    .load_balancer
                    .ingress
                    .iter()
                    .any(|i| i.ip.parse::<Ipv4Addr>().ok() == Some(ip))
                    || s.spec
                        .external_ips
                        .iter()
                        .any(|e| e.parse::<Ipv4Addr>().ok() == Some(ip)) =>
            {
                Some(s)
            }
            _ => None,
        })?;
        let running: Vec<&str> = fabric
            .nodes
            .values()
            .filter(|n| n.up && n.netfilter.is_some())
            .map(|n| n.name.as_str())
            .collect();
        if svc.spec.external_traffic_policy == "Local" {
            let local = self
                .ready_endpoints(&svc.metadata.namespace, &svc.metadata.name)
                .into_iter()
                .filter_map(|(_, node)| node)
                .find(|n| running.contains(&n.as_str()));
            if local.is_some() {
                return local;
            }
        }
        running.first().map(|n| n.to_string())
    }

    /// A Service's EndpointSlices, in name order.
    fn service_slices<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a EndpointSlice> + 'a {
        self.api()
            .store()
            .list(&ENDPOINTSLICES, Some(ns))
            .filter_map(move |o| match o.as_ref() {
                Object::EndpointSlice(s)
                    if s.metadata
                        .labels
                        .get("kubernetes.io/service-name")
                        .map(String::as_str)
                        == Some(name) =>
                {
                    Some(&**s)
                }
                _ => None,
            })
    }

    /// A Service's ready endpoint addresses with their nodes, from its
    /// EndpointSlices in name order.
    fn ready_endpoints(&self, ns: &str, name: &str) -> Vec<(Ipv4Addr, Option<String>)> {
        let mut out = Vec::new();
        for s in self.service_slices(ns, name) {
            for e in &s.endpoints {
                if e.conditions.ready == Some(false) {
                    continue;
                }
                for a in &e.addresses {
                    if let Ok(ip) = a.parse() {
                        out.push((ip, e.node_name.clone()));
                    }
                }
            }
        }
        out
    }

    fn resolve_to(
        &self,
        fabric: &Fabric,
        to: &str,
        proto: Proto,
        resolver: &Resolver,
    ) -> Result<(Ipv4Addr, u16, Vec<Hop>), String> {
        let Some((host, port)) = to.rsplit_once(':') else {
            return Err(format!(
                "trace: to: give IP:PORT, svc/NAMESPACE/NAME:PORT or NAME.NAMESPACE.svc.cluster.local:PORT, not \"{to}\""
            ));
        };
        let number = |p: &str| -> Result<u16, String> {
            p.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("trace: to: invalid port \"{p}\""))
        };
        if let Ok(ip) = host.parse::<Ipv4Addr>() {
            return Ok((ip, number(port)?, Vec::new()));
        }
        let parts: Vec<&str> = host.split('/').collect();
        match parts.as_slice() {
            ["svc" | "service" | "services", rest @ ..] if !rest.is_empty() && rest.len() <= 2 => {
                let (ns, name) = if rest.len() == 2 {
                    (rest[0], rest[1])
                } else {
                    ("default", rest[0])
                };
                let (ip, p) = self.service_address(ns, name, port, proto)?;
                Ok((ip, p, Vec::new()))
            }
            ["pod" | "pods" | "po", rest @ ..] if !rest.is_empty() && rest.len() <= 2 => {
                let (ns, name) = if rest.len() == 2 {
                    (rest[0], rest[1])
                } else {
                    ("default", rest[0])
                };
                match fabric
                    .pods
                    .iter()
                    .find(|p| p.namespace == ns && p.name == name)
                {
                    Some(p) => Ok((p.ip, number(port)?, Vec::new())),
                    None => Err(self.pod_not_ready(ns, name)),
                }
            }
            ["node" | "nodes" | "no", name] => match fabric.nodes.get(*name) {
                Some(n) => Ok((n.ip, number(port)?, Vec::new())),
                None => Err(format!("trace: nodes \"{name}\" not found")),
            },
            _ => self.resolve_dns(host, port, proto, resolver),
        }
    }

    /// The Service `ns/name` in the store.
    fn service(&self, ns: &str, name: &str) -> Option<&crate::api::core::Service> {
        match self
            .api()
            .store()
            .get(&SERVICES, ns, name)
            .map(|o| o.as_ref())
        {
            Some(Object::Service(s)) => Some(s),
            _ => None,
        }
    }

    /// A Service's ClusterIP and the port number `port` names.
    fn service_address(
        &self,
        ns: &str,
        name: &str,
        port: &str,
        proto: Proto,
    ) -> Result<(Ipv4Addr, u16), String> {
        let Some(s) = self.service(ns, name) else {
            return Err(format!(
                "trace: services \"{name}\" not found in namespace \"{ns}\""
            ));
        };
        let Ok(ip) = s.spec.cluster_ip.parse::<Ipv4Addr>() else {
            return Err(format!(
                "trace: service {ns}/{name} has no cluster IP (clusterIP: \"{}\"): trace to one of its pods, or to its DNS name",
                s.spec.cluster_ip
            ));
        };
        Ok((ip, service_port(s, port, proto)?))
    }

    /// How the sender looks names up: a pod's resolv.conf as the kubelet writes it
    /// for its dnsPolicy (`ClusterFirst`: the cluster DNS with the search list
    /// `NS.svc.cluster.local svc.cluster.local cluster.local` and `ndots:5`); any
    /// other sender is given the name completed to the cluster domain.
    fn resolver_of(&self, from: &str) -> Resolver {
        let Some((ns, name)) = from.strip_prefix("pod/").and_then(|r| r.split_once('/')) else {
            return Resolver::Complete;
        };
        let Some(Object::Pod(p)) = self.api().store().get(&PODS, ns, name).map(|o| o.as_ref())
        else {
            return Resolver::Complete;
        };
        let policy = p.spec.dns_policy.as_deref().unwrap_or("ClusterFirst");
        match policy {
            "ClusterFirstWithHostNet" => Resolver::Search(ns.to_string()),
            "ClusterFirst" if !p.spec.host_network => Resolver::Search(ns.to_string()),
            "ClusterFirst" => Resolver::NodeDns("dnsPolicy ClusterFirst on a hostNetwork pod falls back to Default".into()),
            "None" => Resolver::NodeDns("dnsPolicy None: only spec.dnsConfig's nameservers, which the simulation does not run".into()),
            other => Resolver::NodeDns(format!("dnsPolicy {other}")),
        }
    }

    /// The cluster DNS. From a pod, a name with fewer than five dots is tried with
    /// each search domain, then as given (`web`, `web.shop`, `web.shop.svc`);
    /// otherwise `NAME.NS.svc.cluster.local`, `NAME.NS.svc` or `NAME.NS`.
    fn resolve_dns(
        &self,
        host: &str,
        port: &str,
        proto: Proto,
        resolver: &Resolver,
    ) -> Result<(Ipv4Addr, u16, Vec<Hop>), String> {
        let name = host.trim_end_matches('.');
        let absolute = host.ends_with('.') || name.matches('.').count() >= 5;
        let candidates: Vec<String> = match resolver {
            Resolver::NodeDns(why) => {
                return Err(format!(
                    "trace: {name}: cannot resolve: the pod uses the node's resolv.conf ({why}), which does not point at the cluster DNS"
                ))
            }
            Resolver::Search(ns) if !absolute => vec![
                format!("{name}.{ns}.svc.cluster.local"),
                format!("{name}.svc.cluster.local"),
                format!("{name}.cluster.local"),
                name.to_string(),
            ],
            Resolver::Search(_) => vec![name.to_string()],
            Resolver::Complete => {
                let short = name
                    .strip_suffix(".svc.cluster.local")
                    .or_else(|| name.strip_suffix(".svc"))
                    .unwrap_or(name);
                if short.split_once('.').is_none_or(|(_, ns)| ns.contains('.')) {
                    return Err(format!(
                        "trace: to: cannot resolve \"{host}\": give IP:PORT, svc/NAMESPACE/NAME:PORT or NAME.NAMESPACE.svc.cluster.local:PORT"
                    ));
                }
                vec![format!("{short}.svc.cluster.local")]
            }
        };
        let mut missed = Vec::new();
        let mut found = None;
        for fqdn in &candidates {
            let service = service_name(fqdn)
                .and_then(|(svc, ns)| self.service(ns, svc).map(|s| (svc, ns, s)));
            match service {
                Some(hit) => {
                    found = Some((fqdn.clone(), hit));
                    break;
                }
                None => missed.push(format!("{fqdn}: NXDOMAIN")),
            }
        }
        let Some((full, (name, ns, s))) = found else {
            return Err(match (resolver, candidates.as_slice()) {
                (Resolver::Complete, [fqdn]) => {
                    let (svc, ns) = service_name(fqdn).unwrap_or_default();
                    format!("trace: {fqdn}: NXDOMAIN (no Service {svc} in namespace {ns})")
                }
                _ => format!("trace: {name}: NXDOMAIN (tried {})", candidates.join(", ")),
            });
        };
        let searched = match resolver {
            Resolver::Search(pod_ns) => format!(
                "the pod's resolv.conf (nameserver: the cluster DNS; search {pod_ns}.svc.cluster.local svc.cluster.local cluster.local; options ndots:5){}; ",
                if missed.is_empty() {
                    String::new()
                } else {
                    format!(": {}", missed.join(", "))
                }
            ),
            _ => String::new(),
        };
        let (ip, why) = match s.spec.cluster_ip.parse::<Ipv4Addr>() {
            Ok(ip) => (ip, format!("{searched}the cluster DNS answers with the Service's ClusterIP")),
            Err(_) => match self.ready_endpoints(ns, name).first() {
                Some((ip, _)) => (*ip, format!("{searched}a headless Service: the cluster DNS answers with its ready endpoints' addresses; the client takes the first")),
                None => return Err(format!("trace: {full}: the headless Service has no ready endpoints, so the DNS has no address for it")),
            },
        };
        let p = service_port(s, port, proto)?;
        let pkt = Packet::new(Ipv4Addr::UNSPECIFIED, ip, proto, 0, p);
        let hop = Hop {
            node: String::new(),
            netns: String::new(),
            interface: String::new(),
            stage: "dns",
            rule: format!("{full}. 30 IN A {ip}"),
            why: format!("{why} (the query itself, UDP to the cluster DNS Service, is not traced)"),
            hook: None,
            table: None,
            chain: None,
            target: None,
            not_matched: None,
            steps: Vec::new(),
            packet: tracer::Headers {
                src: pkt.src,
                dst: pkt.dst,
                sport: None,
                dport: Some(p),
                proto: proto.name(),
            },
            outer: None,
        };
        Ok((ip, p, vec![hop]))
    }
}

/// The Service and namespace a `NAME.NS.svc.cluster.local` name stands for.
fn service_name(fqdn: &str) -> Option<(&str, &str)> {
    fqdn.strip_suffix(".svc.cluster.local")?
        .split_once('.')
        .filter(|(_, ns)| !ns.contains('.'))
}

/// How the sender of a trace looks names up.
enum Resolver {
    /// A pod using the cluster DNS, with its namespace's search list.
    Search(String),
    /// A pod using the node's resolv.conf (why).
    NodeDns(String),
    /// A node or a client outside: `NAME.NS[.svc[.cluster.local]]` is completed.
    Complete,
}

/// The port number `port` names on a Service: a number as given, or the number of
/// the Service's port of that name and protocol.
fn service_port(s: &crate::api::core::Service, port: &str, proto: Proto) -> Result<u16, String> {
    if let Ok(n) = port.parse::<u16>() {
        return Ok(n);
    }
    let want = proto.name().to_ascii_uppercase();
    let m = &s.metadata;
    s.spec
        .ports
        .iter()
        .find(|p| p.name == port && p.protocol.as_deref().unwrap_or("TCP") == want)
        .map(|p| u16::try_from(p.port).unwrap_or(0))
        .ok_or_else(|| {
            format!(
                "trace: service {}/{} has no {want} port named \"{port}\"",
                m.namespace, m.name
            )
        })
}
