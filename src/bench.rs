//! Benchmarks shared by the native `kubeglass bench` command and the browser bench:
//! each takes a wall clock from its host (the core itself reads no clock) and
//! returns figures to print.

use serde_json::{json, Value};

use crate::api::core::{Container, Pod, ResourceRequirements};
use crate::api::object::PODS;
use crate::api::quantity::Quantity;
use crate::api::Object;
use crate::apiserver::request::{Body, Method, Request};
use crate::cluster::{Cluster, Settings};

/// What one benchmark measured.
#[derive(Clone, Debug)]
pub struct Report {
    pub name: String,
    pub items: usize,
    pub seconds: f64,
    /// Extra figures (name, value).
    pub notes: Vec<(String, String)>,
}

impl Report {
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.items as f64 / self.seconds
        } else {
            f64::INFINITY
        }
    }

    pub fn line(&self) -> String {
        let mut s = format!(
            "{}: {} in {:.3} s = {:.0}/s",
            self.name,
            self.items,
            self.seconds,
            self.per_second()
        );
        for (k, v) in &self.notes {
            s.push_str(&format!(", {k} {v}"));
        }
        s
    }
}

/// A node declared without a kubelet, as benchmarks and tests use them.
pub fn standin_node(name: &str) -> Value {
    json!({"metadata": {"name": name, "annotations": {"kubeglass.dev/kubelet": "none"}}})
}

/// A small pod, as a typed object.
pub fn pod(namespace: &str, name: &str, app: &str) -> Pod {
    let mut p = Pod::default();
    p.metadata.namespace = namespace.into();
    p.metadata.name = name.into();
    p.metadata.labels.insert("app".into(), app.into());
    let mut requests = crate::api::VecMap::new();
    if let (Ok(cpu), Ok(mem)) = (Quantity::parse("100m"), Quantity::parse("64Mi")) {
        requests.insert("cpu".into(), cpu);
        requests.insert("memory".into(), mem);
    }
    p.spec.containers.push(Container {
        name: "app".into(),
        image: Some("registry.k8s.io/pause:3.9".into()),
        resources: ResourceRequirements {
            requests,
            ..Default::default()
        },
        ..Default::default()
    });
    p
}

/// Creates `n` pods through the whole API pipeline (authentication, authorization,
/// decoding with defaults, admission, validation, storage) with the controllers
/// watching, and delivers every watch event. `now` is the host's wall clock in
/// seconds.
pub fn create_pods(n: usize, now: &dyn Fn() -> f64) -> Report {
    let mut settings = Settings::default();
    if let Ok(t) = std::env::var("KG_TRACE") {
        settings.trace_capacity = t.parse().unwrap_or(1);
    }
    if let Ok(t) = std::env::var("KG_HIST") {
        settings.apiserver.history = t.parse().unwrap_or(1);
    }
    if let Ok(Object::Node(node)) =
        Object::from_value_as(&crate::api::object::NODES, standin_node("node-1"))
    {
        settings.nodes.push(*node);
    }
    let mut cluster =
        Cluster::new(settings).unwrap_or_else(|e| panic!("a default cluster starts: {e}"));
    let path = PODS.collection_path("default");
    // The client's work (building the objects) is done before the clock starts.
    // The pods name a scheduler the cluster does not run, so this measures the API
    // pipeline alone (`bench scheduler` measures scheduling).
    let pods: Vec<Pod> = (0..n)
        .map(|i| {
            let mut p = pod("default", &format!("pod-{i}"), "bench");
            p.spec.scheduler_name = Some("unscheduled".into());
            p
        })
        .collect();
    let start = now();
    let mut failed = 0usize;
    for (i, p) in pods.into_iter().enumerate() {
        let resp = cluster.request(
            Request::new(Method::Post, path.clone()).with_body(Body::Object(Object::from(p))),
        );
        if resp.code != 201 {
            failed += 1;
        }
        if i % 1024 == 1023 {
            cluster.run_due();
        }
    }
    cluster.run_due();
    let seconds = now() - start;
    Report {
        name: "create pods through the API pipeline".into(),
        items: n,
        seconds,
        notes: vec![
            ("failed".into(), failed.to_string()),
            (
                "revision".into(),
                cluster.api().store().revision().to_string(),
            ),
            (
                "trace entries kept".into(),
                cluster.k.trace.len().to_string(),
            ),
        ],
    }
}

/// A scenario that applies `n` pods as one List to a cluster of `nodes` nodes
/// without kubelets, then settles (for `kubeglass run` as a whole process). Like
/// [`create_pods`], the pods name a scheduler the cluster does not run, so the run
/// measures the API pipeline (`bench scheduler` measures scheduling).
pub fn pods_scenario(n: usize, nodes: usize) -> String {
    let node_list: Vec<Value> = (1..=nodes)
        .map(|i| standin_node(&format!("node-{i}")))
        .collect();
    let items: Vec<Value> = (0..n)
        .map(|i| {
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": format!("pod-{i}"), "labels": {"app": "bench"}},
                   "spec": {"schedulerName": "unscheduled",
                            "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.9",
                                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}})
        })
        .collect();
    let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
    let scenario = json!({
        "apiVersion": "kubeglass.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": format!("bench-{n}-pods")},
        "spec": {"cluster": {"nodes": node_list}, "steps": [{"apply": list}, {"settle": {}}]}
    });
    scenario.to_string()
}

/// Node `i` of the scheduler benchmark: five sizes, three zones, a gold tier, some
/// spot taints and some cached images (heterogeneous, as issue 4 asks).
pub fn scheduler_node(i: usize) -> Value {
    const CPU: [&str; 5] = ["4", "8", "16", "32", "64"];
    const MEM: [&str; 5] = ["16Gi", "32Gi", "64Gi", "128Gi", "256Gi"];
    let k = (i * 7 + i / 5) % 5;
    let mut n = json!({
        "metadata": {
            "name": format!("node-{i:05}"),
            "annotations": {"kubeglass.dev/kubelet": "none"},
            "labels": {"topology.kubernetes.io/zone": format!("zone-{}", i % 3), "tier": if i % 4 == 0 { "gold" } else { "standard" }},
        },
        "status": {"capacity": {"cpu": CPU[k], "memory": MEM[k], "pods": "110", "ephemeral-storage": "200Gi"}},
    });
    if i % 10 == 0 {
        n["spec"] =
            json!({"taints": [{"key": "spot", "value": "true", "effect": "PreferNoSchedule"}]});
    }
    if i % 5 == 0 {
        n["status"]["images"] =
            json!([{"names": ["registry.k8s.io/nginx:1.27"], "sizeBytes": 70 * 1024 * 1024}]);
    }
    n
}

/// Pod `i` of the scheduler benchmark: varied requests (one in ten sets none),
/// some node selectors and tolerations, two images, fifty apps.
pub fn scheduler_pod(i: usize) -> Value {
    let mut c = json!({"name": "app", "image": if i % 2 == 0 { "registry.k8s.io/nginx:1.27" } else { "registry.k8s.io/pause:3.10" }});
    if i % 10 != 9 {
        c["resources"] = json!({"requests": {"cpu": format!("{}m", 50 + (i % 8) * 50), "memory": format!("{}Mi", 64 + (i % 6) * 64)}});
    }
    let mut spec = json!({"containers": [c]});
    if i % 7 == 0 {
        spec["nodeSelector"] = json!({"tier": "gold"});
    }
    if i % 11 == 0 {
        spec["tolerations"] =
            json!([{"key": "spot", "operator": "Exists", "effect": "PreferNoSchedule"}]);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("pod-{i:06}"), "namespace": "default", "labels": {"app": format!("app-{}", i % 50)}}, "spec": spec})
}

/// The scheduler benchmark as a scenario: `nodes` nodes without kubelets, then
/// `pods` pods applied as one List, then settle.
pub fn scheduler_scenario(nodes: usize, pods: usize) -> String {
    let nodes: Vec<Value> = (0..nodes).map(scheduler_node).collect();
    let pods: Vec<Value> = (0..pods).map(scheduler_pod).collect();
    json!({
        "apiVersion": "kubeglass.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "bench-scheduler"},
        "spec": {
            "seed": 1,
            "cluster": {"nodes": nodes},
            "steps": [{"apply": {"apiVersion": "v1", "kind": "List", "items": pods}}, {"settle": {}}],
        },
    })
    .to_string()
}

/// The scheduler benchmark as a whole run, as `kubeglass run` does it: parse the
/// scenario text, build the cluster, apply the List, settle until every pod is
/// bound. `now` is the host's wall clock in seconds (natively or in the browser).
pub fn scheduler_whole_run(
    nodes: usize,
    pods: usize,
    now: &dyn Fn() -> f64,
) -> Result<Report, String> {
    let text = scheduler_scenario(nodes, pods);
    let mb = text.len() as f64 / 1e6;
    let start = now();
    let s = crate::scenario::parse(&text).map_err(|e| e.message)?;
    drop(text);
    let parsed = now() - start;
    // Consumed, as `kubeglass run` does: a copy kept aside would hold every pod's
    // parsed manifest for the whole run.
    let (results, runner) = crate::scenario::run_owned(s).map_err(|e| e.message)?;
    let seconds = now() - start;
    if let Some(r) = results.iter().find(|r| !r.error.is_null()) {
        return Err(format!("a step failed: {}", r.error));
    }
    let bound = runner
        .cluster
        .api()
        .store()
        .list(&PODS, Some("default"))
        .filter(|p| p.as_pod().is_some_and(|p| p.node_name().is_some()))
        .count();
    let records = runner.cluster.scheduler().map_or(0, |s| s.records().len());
    let trace = runner.cluster.k.trace.len();
    // The cluster is left to the host's exit: freeing 150,000 pods is not part of
    // the run.
    std::mem::forget(runner);
    if bound != pods {
        return Err(format!("only {bound} of {pods} pods were bound"));
    }
    Ok(Report {
        name: format!("whole run: {pods} pods onto {nodes} nodes, bound"),
        items: pods,
        seconds,
        notes: vec![
            ("scenario".into(), format!("{mb:.1} MB")),
            ("parse".into(), format!("{parsed:.2} s")),
            ("decision records kept".into(), records.to_string()),
            ("trace entries kept".into(), trace.to_string()),
        ],
    })
}

/// Nodes with simulated kubelets, as issue 5's benchmarks use them.
fn kubelet_nodes(n: usize) -> Vec<Value> {
    (1..=n)
        .map(|i| json!({"metadata": {"name": format!("node-{i}")}}))
        .collect()
}

/// A Deployment of `replicas` nginx pods (10m cpu each, so 5,000 nodes hold them and
/// a surge), rolling 25%/25% by default.
fn deployment(replicas: usize) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web"},
           "spec": {"replicas": replicas,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "web", "image": "nginx:1.26",
                                                          "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}})
}

/// Issue 5's benchmark as a scenario for `kubeglass run` as a whole process:
/// `nodes` nodes with kubelets, a Deployment of `replicas` that settles with every
/// pod Running, then a rolling update (`kubectl set image`) that settles again. The
/// `kubectl` steps print the Deployment's READY column after each phase. The
/// cluster CIDR is widened to a /9 (32,768 node ranges of /24): the default /16
/// holds 256, and a node without a pod CIDR cannot give its pods addresses.
pub fn deployment_scenario(replicas: usize, nodes: usize) -> String {
    let scenario = json!({
        "apiVersion": "kubeglass.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": format!("bench-deployment-{replicas}-on-{nodes}")},
        "spec": {"cluster": {"nodes": kubelet_nodes(nodes),
                             "network": {"clusterCIDR": "10.128.0.0/9"}},
                 "steps": [
                     {"apply": deployment(replicas)},
                     {"settle": {"max": "2h"}},
                     {"kubectl": "get deployment web"},
                     {"kubectl": "set image deployment/web web=nginx:1.27"},
                     {"settle": {"max": "2h"}},
                     {"kubectl": "get deployment web"},
                     {"kubectl": "rollout status deployment/web --watch=false"}]}
    });
    scenario.to_string()
}

/// Issue 5's Deployment benchmark as one whole run in this process (what
/// `kubeglass run` does with [`deployment_scenario`]'s text, and what the browser's
/// worker does): parse, apply, settle with every pod Running, roll to a new image,
/// settle again. Fails unless the rollout completed with `replicas` new pods Running.
pub fn deployment_whole_run(
    replicas: usize,
    nodes: usize,
    now: &dyn Fn() -> f64,
) -> Result<Report, String> {
    let text = deployment_scenario(replicas, nodes);
    let start = now();
    let s = crate::scenario::parse(&text).map_err(|e| e.message)?;
    drop(text);
    let (results, runner) = crate::scenario::run_owned(s).map_err(|e| e.message)?;
    let seconds = now() - start;
    if let Some(r) = results.iter().find(|r| !r.error.is_null()) {
        return Err(format!("a step failed: {}", r.error));
    }
    let rolled = results
        .last()
        .and_then(|r| r.output.as_str())
        .is_some_and(|o| o.contains("successfully rolled out"));
    let running_new = runner
        .cluster
        .api()
        .store()
        .list(&PODS, Some("default"))
        .filter(|p| {
            p.as_pod().is_some_and(|p| {
                p.status.phase == "Running"
                    && p.metadata.deletion_timestamp.is_none()
                    && p.spec
                        .containers
                        .iter()
                        .all(|c| c.image.as_deref() == Some("nginx:1.27"))
            })
        })
        .count();
    let virtual_time = crate::kernel::format_duration(runner.cluster.now());
    let trace = runner.cluster.k.trace.len();
    std::mem::forget(runner);
    if !rolled || running_new != replicas {
        return Err(format!(
            "the rollout did not finish: {running_new} of {replicas} new pods Running"
        ));
    }
    Ok(Report {
        name: format!(
            "whole run: a Deployment of {replicas} on {nodes} nodes, all Running, then rolled"
        ),
        items: replicas,
        seconds,
        notes: vec![
            ("virtual time".into(), virtual_time),
            ("trace entries kept".into(), trace.to_string()),
        ],
    })
}

/// Issue 5's node failure: a node running `pods` pods of a Deployment (the other
/// nodes cordoned while they start, then uncordoned) goes down; returns the virtual
/// time until every pod runs on another node (the report's `items` are the pods, its
/// `seconds` the wall time the simulation needed, notes the virtual time).
pub fn node_failure(pods: usize, nodes: usize, now: &dyn Fn() -> f64) -> Result<Report, String> {
    use crate::scenario::{Action, ApplyInput, Step};
    let settings = Settings {
        nodes: kubelet_nodes(nodes)
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect(),
        ..Settings::default()
    };
    let mut runner = crate::scenario::Runner::new(settings).map_err(|e| e.message)?;
    let step = |runner: &mut crate::scenario::Runner, action: Action| {
        let r = runner.take_step(Step {
            action,
            credentials: None,
        });
        match r.error {
            Value::Null => Ok(r.output),
            e => Err(e.to_string()),
        }
    };
    for i in 2..=nodes {
        step(&mut runner, Action::Kubectl(format!("cordon node-{i}")))?;
    }
    step(
        &mut runner,
        Action::Apply(ApplyInput::Objects(vec![deployment(pods)])),
    )?;
    step(
        &mut runner,
        Action::Settle(3600 * crate::kernel::NANOS_PER_SEC),
    )?;
    for i in 2..=nodes {
        step(&mut runner, Action::Kubectl(format!("uncordon node-{i}")))?;
    }
    let running_elsewhere = |runner: &crate::scenario::Runner| {
        runner
            .cluster
            .api()
            .store()
            .list(&PODS, Some("default"))
            .filter(|o| match o.as_ref() {
                Object::Pod(p) => {
                    p.status.phase == "Running"
                        && p.metadata.deletion_timestamp.is_none()
                        && p.node_name().is_some_and(|n| n != "node-1")
                }
                _ => false,
            })
            .count()
    };
    let start = now();
    let t0 = runner.cluster.now();
    step(&mut runner, Action::Fault(json!({"nodeDown": "node-1"})))?;
    let limit = t0 + 3600 * crate::kernel::NANOS_PER_SEC;
    while running_elsewhere(&runner) < pods {
        if runner.cluster.now() >= limit {
            return Err(format!(
                "after an hour of virtual time only {} of {pods} pods run elsewhere",
                running_elsewhere(&runner)
            ));
        }
        runner.cluster.advance(crate::kernel::NANOS_PER_SEC);
    }
    let virtual_secs = (runner.cluster.now() - t0) as f64 / crate::kernel::NANOS_PER_SEC as f64;
    Ok(Report {
        name: format!("node failure: {pods} pods rescheduled off node-1 of {nodes}"),
        items: pods,
        seconds: now() - start,
        notes: vec![("virtual time".into(), format!("{virtual_secs:.1} s"))],
    })
}

/// kube-proxy's iptables-restore text (as its proxier writes it: comment first, then
/// `-m tcp -p tcp -d IP --dport P`) for `services` ClusterIP Services of `endpoints`
/// endpoints each, preceded by the jumps kube-proxy installs from the built-in
/// chains: 32 rules a Service at 10 endpoints (1 in KUBE-SERVICES, 11 in its
/// KUBE-SVC chain, 2 in each KUBE-SEP chain). Chain names are made up (not upstream's
/// hashes); the shape is upstream's.
pub fn kube_proxy_ruleset(services: usize, endpoints: usize) -> String {
    use std::fmt::Write;
    use std::net::Ipv4Addr;
    fn name(prefix: &str, a: u64, b: u64) -> String {
        const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut x = a
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(b.wrapping_mul(0xBF58_476D_1CE4_E5B9))
            ^ 0x94D0_49BB_1331_11EB;
        let mut s = String::from(prefix);
        for _ in 0..16 {
            x = (x ^ (x >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            s.push(B32[(x >> 59) as usize] as char);
        }
        s
    }
    let vip = |i: usize| Ipv4Addr::from(u32::from(Ipv4Addr::new(172, 16, 0, 1)) + i as u32);
    let ep = |i: usize, j: usize| {
        Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 64, 0, 2)) + (i * endpoints + j) as u32)
    };
    let mut t = String::with_capacity(services * endpoints * 400 + 4096);
    t.push_str("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-EXTERNAL-SERVICES - [0:0]\n:KUBE-FIREWALL - [0:0]\n:KUBE-FORWARD - [0:0]\n:KUBE-PROXY-FIREWALL - [0:0]\n");
    t.push_str("-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n-A INPUT -m comment --comment \"kubernetes health check service ports\" -j KUBE-NODEPORTS\n-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES\n-A INPUT -j KUBE-FIREWALL\n-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n-A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES\n-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n-A OUTPUT -j KUBE-FIREWALL\n");
    t.push_str("-A KUBE-FIREWALL -m comment --comment \"block incoming localnet connections\" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP\n-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT\n-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\nCOMMIT\n");
    t.push_str("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-POSTROUTING - [0:0]\n");
    for i in 0..services {
        let _ = writeln!(t, ":{} - [0:0]", name("KUBE-SVC-", i as u64, u64::MAX));
        for j in 0..endpoints {
            let _ = writeln!(t, ":{} - [0:0]", name("KUBE-SEP-", i as u64, j as u64));
        }
    }
    t.push_str("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n");
    for i in 0..services {
        let _ = writeln!(t, "-A KUBE-SERVICES -m comment --comment \"ns{}/svc{i}:p80 cluster IP\" -m tcp -p tcp -d {} --dport 80 -j {}", i / 100, vip(i), name("KUBE-SVC-", i as u64, u64::MAX));
    }
    t.push_str("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000\n-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully\n");
    for i in 0..services {
        let svc = format!("ns{}/svc{i}:p80", i / 100);
        let svc_chain = name("KUBE-SVC-", i as u64, u64::MAX);
        let _ = writeln!(t, "-A {svc_chain} -m comment --comment \"{svc} cluster IP\" -m tcp -p tcp -d {} --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ", vip(i));
        for j in 0..endpoints {
            let sep = name("KUBE-SEP-", i as u64, j as u64);
            let e = ep(i, j);
            if j + 1 < endpoints {
                let _ = writeln!(t, "-A {svc_chain} -m comment --comment \"{svc} -> {e}:8080\" -m statistic --mode random --probability {:.10} -j {sep}", 1.0 / (endpoints - j) as f64);
            } else {
                let _ = writeln!(
                    t,
                    "-A {svc_chain} -m comment --comment \"{svc} -> {e}:8080\" -j {sep}"
                );
            }
            let _ = writeln!(
                t,
                "-A {sep} -m comment --comment {svc} -s {e} -j KUBE-MARK-MASQ"
            );
            let _ = writeln!(t, "-A {sep} -m comment --comment {svc} -m tcp -p tcp -j DNAT --to-destination {e}:8080");
        }
    }
    t.push_str("COMMIT\n");
    t
}

/// The iptables engine at kube-proxy's scale: load `services` × `endpoints` worth of
/// kube-proxy's rules with iptables-restore, print them with iptables-save, load the
/// printed text again, and trace a packet to the last Service through PREROUTING,
/// FORWARD and POSTROUTING (indexed, then walking every rule).
pub fn netfilter(
    services: usize,
    endpoints: usize,
    now: &dyn Fn() -> f64,
) -> Result<Vec<Report>, String> {
    use crate::kernel::rng::Rng;
    use crate::network::netfilter::{
        Hook, HostAddrs, Netfilter, Packet, RestoreOptions, TableName, Verdict,
    };
    let t0 = now();
    let text = kube_proxy_ruleset(services, endpoints);
    let t1 = now();
    let mut nf = Netfilter::new();
    let summary = nf
        .restore(&text, RestoreOptions::default())
        .map_err(|e| e.to_string())?;
    let t2 = now();
    let saved = nf.save(0);
    let t3 = now();
    let mut again = Netfilter::new();
    again
        .restore(&saved, RestoreOptions::default())
        .map_err(|e| e.to_string())?;
    let t4 = now();
    let same = again.rules == nf.rules;
    let rules = nf.rules.rule_count();
    let host = HostAddrs::new(&[("eth0", "192.168.0.10".parse().map_err(|_| "ip")?)]);
    let vip = std::net::Ipv4Addr::from(
        u32::from(std::net::Ipv4Addr::new(172, 16, 0, 1)) + services.saturating_sub(1) as u32,
    );
    let trace = |nf: &Netfilter| {
        let mut rng = Rng::derive(1, "trace");
        let mut p = Packet::tcp("10.0.2.5".parse().unwrap_or(vip), 40000, vip, 80);
        let mut skipped = 0;
        let mut hops = 0;
        for hook in [Hook::Prerouting, Hook::Forward, Hook::Postrouting] {
            let r = nf.trace_hook(hook, &mut p, &host, &mut rng, 0);
            skipped += r.rules_not_matched();
            hops += 1;
            if r.verdict != Verdict::Accept {
                break;
            }
        }
        (p.dst, skipped, hops)
    };
    let t5 = now();
    let (dst, skipped, _) = trace(&nf);
    let t6 = now();
    let mut linear = nf.clone();
    for c in linear.rules.table_mut(TableName::Nat).chains.values_mut() {
        std::sync::Arc::make_mut(c).index = None;
    }
    let t7 = now();
    let (dst_linear, skipped_linear, _) = trace(&linear);
    let t8 = now();
    // The whole packet tracer through a node holding these rules: a process on the
    // node to the last Service, routes and every hook included.
    let fabric = crate::network::fabric::Fabric::build(
        crate::network::fabric::Plugin::FlannelHostGw,
        crate::network::netfilter::Cidr::parse("10.0.0.0/8").ok_or("cidr")?,
        crate::network::netfilter::Cidr::parse("172.16.0.0/12").ok_or("cidr")?,
        vec![crate::network::fabric::NodeInput {
            name: "node-0".into(),
            ip: "192.168.0.10".parse().map_err(|_| "ip")?,
            up: true,
            pod_cidr: crate::network::netfilter::Cidr::parse("10.64.0.0/10"),
            listeners: Vec::new(),
            netfilter: Some(&nf),
        }],
        Vec::new(),
    );
    let mut tracer_times = Vec::new();
    let mut tracer_hops = 0;
    for _ in 0..5 {
        let t = now();
        let r = crate::network::tracer::trace(
            &fabric,
            crate::network::tracer::Request {
                from: crate::network::tracer::Source::Node("node-0".into()),
                from_label: "node/node-0".into(),
                first: Vec::new(),
                dst: vip,
                dport: 80,
                proto: crate::network::netfilter::Proto::Tcp,
                host: None,
                path: None,
            },
            Rng::derive(1, "trace"),
            0,
        );
        tracer_times.push(now() - t);
        tracer_hops = r.hops.len();
    }
    tracer_times.sort_by(f64::total_cmp);
    let tracer_median = tracer_times[tracer_times.len() / 2];
    let mut reports = vec![
        Report {
            name: "netfilter: iptables-restore".into(),
            items: rules,
            seconds: t2 - t1,
            notes: vec![
                ("services".into(), services.to_string()),
                ("endpoints each".into(), endpoints.to_string()),
                ("chains".into(), summary.chains.to_string()),
                ("text".into(), format!("{} MB", text.len() / 1_000_000)),
                ("generated in".into(), format!("{:.3} s", t1 - t0)),
            ],
        },
        Report {
            name: "netfilter: iptables-save".into(),
            items: rules,
            seconds: t3 - t2,
            notes: vec![(
                "restore of the saved text".into(),
                format!("{:.3} s, same ruleset: {same}", t4 - t3),
            )],
        },
        Report {
            name: "netfilter: trace to the last Service (indexed)".into(),
            items: 1,
            seconds: t6 - t5,
            notes: vec![
                ("ms".into(), format!("{:.3}", (t6 - t5) * 1000.0)),
                ("DNAT to".into(), dst.to_string()),
                ("rules that did not match".into(), skipped.to_string()),
            ],
        },
        Report {
            name: "netfilter: the same trace walking every rule".into(),
            items: 1,
            seconds: t8 - t7,
            notes: vec![
                ("ms".into(), format!("{:.3}", (t8 - t7) * 1000.0)),
                (
                    "same result".into(),
                    (dst == dst_linear && skipped == skipped_linear).to_string(),
                ),
            ],
        },
    ];
    reports.push(Report {
        name: "packet tracer: node to the last Service (median of 5)".into(),
        items: 1,
        seconds: tracer_median,
        notes: vec![
            ("ms".into(), format!("{:.3}", tracer_median * 1000.0)),
            ("hops".into(), tracer_hops.to_string()),
        ],
    });
    if !same {
        reports[1].notes.push((
            "ERROR".into(),
            "save then restore changed the ruleset".into(),
        ));
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// The Deployment benchmark's scenario, small: it must roll out completely, or
    /// its figures would measure a run that stalled.
    #[test]
    fn the_deployment_benchmark_rolls_out_completely_when_small() {
        let report = super::deployment_whole_run(40, 4, &|| 0.0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.items, 40);
        let virtual_time = &report.notes[0].1;
        assert!(virtual_time.ends_with('s'), "{virtual_time}");
    }
}
