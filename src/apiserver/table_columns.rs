//! The columns and cells of each kind's table, as upstream's printers define them
//! (pkg/printers/internalversion/printers.go).

use serde_json::Value;

use super::tables::{age, Column};
use crate::api::core::{Pod, Service};
use crate::api::Object;
use crate::kernel::Nanos;

const fn c(name: &'static str, kind: &'static str, priority: i32) -> Column {
    Column {
        name,
        kind,
        format: "",
        priority,
        description: "",
    }
}

const NAME: Column = Column {
    name: "Name",
    kind: "string",
    format: "name",
    priority: 0,
    description: "Name must be unique within a namespace.",
};
const AGE: Column = c("Age", "string", 0);

/// Every column of a kind's table, in order.
pub fn columns(kind: &str) -> Vec<Column> {
    match kind {
        "Pod" => vec![
            NAME,
            c("Ready", "string", 0),
            c("Status", "string", 0),
            c("Restarts", "string", 0),
            AGE,
            c("IP", "string", 1),
            c("Node", "string", 1),
            c("Nominated Node", "string", 1),
            c("Readiness Gates", "string", 1),
        ],
        "Node" => vec![
            NAME,
            c("Status", "string", 0),
            c("Roles", "string", 0),
            AGE,
            c("Version", "string", 0),
            c("Internal-IP", "string", 1),
            c("External-IP", "string", 1),
            c("OS-Image", "string", 1),
            c("Kernel-Version", "string", 1),
            c("Container-Runtime", "string", 1),
        ],
        "Namespace" => vec![NAME, c("Status", "string", 0), AGE],
        "Service" => vec![
            NAME,
            c("Type", "string", 0),
            c("Cluster-IP", "string", 0),
            c("External-IP", "string", 0),
            c("Port(s)", "string", 0),
            AGE,
            c("Selector", "string", 1),
        ],
        "Deployment" => vec![
            NAME,
            c("Ready", "string", 0),
            c("Up-to-date", "integer", 0),
            c("Available", "integer", 0),
            AGE,
            c("Containers", "string", 1),
            c("Images", "string", 1),
            c("Selector", "string", 1),
        ],
        "ReplicaSet" | "ReplicationController" => vec![
            NAME,
            c("Desired", "integer", 0),
            c("Current", "integer", 0),
            c("Ready", "integer", 0),
            AGE,
            c("Containers", "string", 1),
            c("Images", "string", 1),
            c("Selector", "string", 1),
        ],
        "ConfigMap" => vec![NAME, c("Data", "string", 0), AGE],
        "Secret" => vec![NAME, c("Type", "string", 0), c("Data", "string", 0), AGE],
        "ServiceAccount" => vec![NAME, c("Secrets", "string", 0), AGE],
        "Endpoints" => vec![NAME, c("Endpoints", "string", 0), AGE],
        "EndpointSlice" => {
            vec![
                NAME,
                c("AddressType", "string", 0),
                c("Ports", "string", 0),
                c("Endpoints", "string", 0),
                AGE,
            ]
        }
        "Event" => vec![
            c("Last Seen", "string", 0),
            c("Type", "string", 0),
            c("Reason", "string", 0),
            c("Object", "string", 0),
            c("Subobject", "string", 1),
            c("Source", "string", 1),
            c("Message", "string", 0),
            c("First Seen", "string", 1),
            c("Count", "string", 1),
            Column {
                priority: 1,
                ..NAME
            },
        ],
        "ResourceQuota" => vec![
            NAME,
            AGE,
            c("Request", "string", 0),
            c("Limit", "string", 0),
        ],
        "LimitRange" | "Role" | "ClusterRole" => vec![NAME, c("Created At", "date", 0)],
        "Ingress" => vec![
            NAME,
            c("Class", "string", 0),
            c("Hosts", "string", 0),
            c("Address", "string", 0),
            c("Ports", "string", 0),
            AGE,
        ],
        "IngressClass" => vec![
            NAME,
            c("Controller", "string", 0),
            c("Parameters", "string", 0),
            AGE,
        ],
        "RoleBinding" | "ClusterRoleBinding" => vec![
            NAME,
            c("Role", "string", 0),
            AGE,
            c("Users", "string", 1),
            c("Groups", "string", 1),
            c("ServiceAccounts", "string", 1),
        ],
        "Lease" => vec![NAME, c("Holder", "string", 0), AGE],
        "PriorityClass" => vec![
            NAME,
            c("Value", "integer", 0),
            c("Global-Default", "boolean", 0),
            AGE,
            c("Preemption Policy", "string", 0),
        ],
        _ => vec![NAME, AGE],
    }
}

fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

fn or_none(v: &str) -> String {
    if v.is_empty() {
        "<none>".into()
    } else {
        v.to_string()
    }
}

fn join_map(m: &crate::api::VecMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Every cell of an object's row, in column order.
pub fn cells(obj: &Object, now: Nanos) -> Vec<Value> {
    let m = obj.meta();
    let name = s(m.name.clone());
    let age_cell = s(age(m.creation_timestamp, now));
    match obj {
        Object::Pod(p) => {
            let (ready, total, restarts, last_restart) = pod_counts(p);
            let restarts_text = match last_restart {
                Some(t) if restarts > 0 => format!("{restarts} ({} ago)", age(Some(t), now)),
                _ => restarts.to_string(),
            };
            vec![
                name,
                s(format!("{ready}/{total}")),
                s(pod_status(p)),
                s(restarts_text),
                age_cell,
                s(or_none(&p.status.pod_ip)),
                s(or_none(&p.spec.node_name)),
                s(or_none(&p.status.nominated_node_name)),
                s(if p.spec.readiness_gates.is_empty() {
                    "<none>".to_string()
                } else {
                    format!("0/{}", p.spec.readiness_gates.len())
                }),
            ]
        }
        Object::Node(n) => {
            // printNode: a Ready condition not True (False or Unknown) is NotReady;
            // no Ready condition at all is Unknown.
            let mut status = match n.condition("Ready").map(|c| c.status.as_str()) {
                Some("True") => "Ready".to_string(),
                Some(_) => "NotReady".to_string(),
                None => "Unknown".to_string(),
            };
            if n.spec.unschedulable {
                status.push_str(",SchedulingDisabled");
            }
            let mut roles: Vec<&str> = n
                .metadata
                .labels
                .keys()
                .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                .filter(|r| !r.is_empty())
                .collect();
            if let Some(r) = n.metadata.labels.get("kubernetes.io/role") {
                roles.push(r);
            }
            roles.sort_unstable();
            roles.dedup();
            let addr = |t: &str| {
                n.status
                    .addresses
                    .iter()
                    .find(|a| a.kind == t)
                    .map(|a| a.address.clone())
                    .unwrap_or_else(|| "<none>".into())
            };
            let info = n.status.node_info.clone().unwrap_or_default();
            vec![
                name,
                s(status),
                s(if roles.is_empty() {
                    "<none>".to_string()
                } else {
                    roles.join(",")
                }),
                age_cell,
                s(info.kubelet_version.clone()),
                s(addr("InternalIP")),
                s(addr("ExternalIP")),
                s(or_unknown(&info.os_image)),
                s(or_unknown(&info.kernel_version)),
                s(or_unknown(&info.container_runtime_version)),
            ]
        }
        Object::Namespace(n) => vec![name, s(n.status.phase.clone()), age_cell],
        Object::Service(svc) => vec![
            name,
            s(svc.spec.kind.clone()),
            s(or_none(&svc.spec.cluster_ip)),
            s(service_external_ip(svc)),
            s(service_ports(svc)),
            age_cell,
            s(if svc.spec.selector.is_empty() {
                "<none>".into()
            } else {
                join_map(&svc.spec.selector)
            }),
        ],
        Object::Deployment(d) => {
            let desired = d.spec.replicas.unwrap_or(1);
            let t = &d.spec.template.spec;
            vec![
                name,
                s(format!("{}/{}", d.status.ready_replicas, desired)),
                Value::from(d.status.updated_replicas),
                Value::from(d.status.available_replicas),
                age_cell,
                s(t.containers
                    .iter()
                    .map(|c| c.name.clone())
                    .collect::<Vec<_>>()
                    .join(",")),
                s(t.containers
                    .iter()
                    .map(|c| c.image.clone().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(",")),
                s(d.spec
                    .selector
                    .as_ref()
                    .and_then(|l| l.to_selector().ok())
                    .map(|x| x.to_string())
                    .unwrap_or_default()),
            ]
        }
        Object::ReplicaSet(r) => {
            let t = r.spec.template.clone().unwrap_or_default().spec;
            vec![
                name,
                Value::from(r.spec.replicas.unwrap_or(1)),
                Value::from(r.status.replicas),
                Value::from(r.status.ready_replicas),
                age_cell,
                s(t.containers
                    .iter()
                    .map(|c| c.name.clone())
                    .collect::<Vec<_>>()
                    .join(",")),
                s(t.containers
                    .iter()
                    .map(|c| c.image.clone().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(",")),
                s(r.spec
                    .selector
                    .as_ref()
                    .and_then(|l| l.to_selector().ok())
                    .map(|x| x.to_string())
                    .unwrap_or_default()),
            ]
        }
        Object::ReplicationController(r) => {
            let t = r.spec.template.clone().unwrap_or_default().spec;
            vec![
                name,
                Value::from(r.spec.replicas.unwrap_or(1)),
                Value::from(r.status.replicas),
                Value::from(r.status.ready_replicas),
                age_cell,
                s(t.containers
                    .iter()
                    .map(|c| c.name.clone())
                    .collect::<Vec<_>>()
                    .join(",")),
                s(t.containers
                    .iter()
                    .map(|c| c.image.clone().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(",")),
                s(join_map(&r.spec.selector)),
            ]
        }
        Object::ConfigMap(cm) => vec![
            name,
            Value::from(cm.data.len() + cm.binary_data.len()),
            age_cell,
        ],
        Object::Secret(sec) => vec![
            name,
            s(sec.kind.clone()),
            Value::from(sec.data.len()),
            age_cell,
        ],
        Object::ServiceAccount(sa) => vec![name, Value::from(sa.secrets.len()), age_cell],
        Object::Endpoints(ep) => {
            let mut list = Vec::new();
            for subset in &ep.subsets {
                for a in &subset.addresses {
                    if subset.ports.is_empty() {
                        list.push(a.ip.clone());
                    }
                    for p in &subset.ports {
                        list.push(format!("{}:{}", a.ip, p.port));
                    }
                }
            }
            vec![name, s(format_list(&list)), age_cell]
        }
        Object::EndpointSlice(es) => {
            let ports: Vec<String> = es
                .ports
                .iter()
                .filter_map(|p| p.port.map(|x| x.to_string()))
                .collect();
            let addrs: Vec<String> = es
                .endpoints
                .iter()
                .flat_map(|e| e.addresses.clone())
                .collect();
            vec![
                name,
                s(es.address_type.clone()),
                s(if ports.is_empty() {
                    "<unset>".into()
                } else {
                    ports.join(",")
                }),
                s(format_list(&addrs)),
                age_cell,
            ]
        }
        Object::Event(e) => {
            let last = e
                .last_timestamp
                .or(e.event_time.map(|t| t.seconds()))
                .or(m.creation_timestamp);
            let first = e
                .first_timestamp
                .or(e.event_time.map(|t| t.seconds()))
                .or(m.creation_timestamp);
            let obj_ref = format!(
                "{}/{}",
                e.involved_object.kind.to_ascii_lowercase(),
                e.involved_object.name
            );
            let source = if e.source.component.is_empty() {
                e.reporting_component.clone()
            } else {
                e.source.component.clone()
            };
            let source = if e.source.host.is_empty() {
                source
            } else {
                format!("{source}, {}", e.source.host)
            };
            vec![
                s(age(last, now)),
                s(e.kind.clone()),
                s(e.reason.clone()),
                s(obj_ref),
                s(e.involved_object.field_path.clone()),
                s(source),
                s(e.message.trim().to_string()),
                s(age(first, now)),
                Value::from(e.count.max(1)),
                name,
            ]
        }
        Object::ResourceQuota(q) => {
            let (mut req, mut lim) = (Vec::new(), Vec::new());
            for (res, hard) in &q.status.hard {
                let used = q
                    .status
                    .used
                    .get(res)
                    .map(|u| u.to_string())
                    .unwrap_or_else(|| "0".into());
                let item = format!("{res}: {used}/{hard}");
                if res.starts_with("limits.") {
                    lim.push(item);
                } else {
                    req.push(item);
                }
            }
            vec![name, age_cell, s(req.join(", ")), s(lim.join(", "))]
        }
        Object::LimitRange(_) | Object::Role(_) | Object::ClusterRole(_) => {
            vec![
                name,
                s(m.creation_timestamp
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default()),
            ]
        }
        Object::Ingress(ing) => {
            let hosts: Vec<String> = ing
                .spec
                .rules
                .iter()
                .map(|r| {
                    if r.host.is_empty() {
                        "*".into()
                    } else {
                        r.host.clone()
                    }
                })
                .collect();
            let addr: Vec<String> = ing
                .status
                .load_balancer
                .ingress
                .iter()
                .map(|i| {
                    if i.ip.is_empty() {
                        i.hostname.clone()
                    } else {
                        i.ip.clone()
                    }
                })
                .collect();
            let ports = if ing.spec.tls.is_empty() {
                "80"
            } else {
                "80, 443"
            };
            vec![
                name,
                s(ing
                    .spec
                    .ingress_class_name
                    .clone()
                    .unwrap_or_else(|| "<none>".into())),
                s(if hosts.is_empty() {
                    "*".into()
                } else {
                    hosts.join(",")
                }),
                s(addr.join(",")),
                s(ports),
                age_cell,
            ]
        }
        Object::IngressClass(ic) => vec![
            name,
            s(ic.spec.controller.clone()),
            s(ic.spec
                .parameters
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_else(|| "<none>".into())),
            age_cell,
        ],
        Object::RoleBinding(rb) => binding_cells(name, age_cell, &rb.role_ref, &rb.subjects),
        Object::ClusterRoleBinding(rb) => binding_cells(name, age_cell, &rb.role_ref, &rb.subjects),
        Object::Lease(l) => vec![
            name,
            s(l.spec.holder_identity.clone().unwrap_or_default()),
            age_cell,
        ],
        Object::PriorityClass(pc) => vec![
            name,
            Value::from(pc.value),
            Value::from(pc.global_default.unwrap_or(false)),
            age_cell,
            s(pc.preemption_policy
                .clone()
                .unwrap_or_else(|| "PreemptLowerPriority".into())),
        ],
        _ => vec![name, age_cell],
    }
}

fn or_unknown(v: &str) -> String {
    if v.is_empty() {
        "<unknown>".into()
    } else {
        v.to_string()
    }
}

fn binding_cells(
    name: Value,
    age_cell: Value,
    role: &crate::api::rbac::RoleRef,
    subjects: &[crate::api::rbac::Subject],
) -> Vec<Value> {
    let pick = |kind: &str| -> String {
        subjects
            .iter()
            .filter(|x| x.kind == kind)
            .map(|x| {
                if kind == "ServiceAccount" {
                    format!("{}/{}", x.namespace, x.name)
                } else {
                    x.name.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    vec![
        name,
        s(format!("{}/{}", role.kind, role.name)),
        age_cell,
        s(pick("User")),
        s(pick("Group")),
        s(pick("ServiceAccount")),
    ]
}

/// Up to three items, then `+ N more...`, or `<none>`.
fn format_list(items: &[String]) -> String {
    if items.is_empty() {
        return "<none>".into();
    }
    let mut out = items.iter().take(3).cloned().collect::<Vec<_>>().join(",");
    if items.len() > 3 {
        out.push_str(&format!(" + {} more...", items.len() - 3));
    }
    out
}

fn service_external_ip(svc: &Service) -> String {
    let external = svc.spec.external_ips.clone();
    match svc.spec.kind.as_str() {
        "ClusterIP" | "NodePort" => {
            if external.is_empty() {
                "<none>".into()
            } else {
                external.join(",")
            }
        }
        "LoadBalancer" => {
            let mut ips: Vec<String> = svc
                .status
                .load_balancer
                .ingress
                .iter()
                .map(|i| {
                    if i.ip.is_empty() {
                        i.hostname.clone()
                    } else {
                        i.ip.clone()
                    }
                })
                .collect();
            ips.extend(external);
            if ips.is_empty() {
                "<pending>".into()
            } else {
                ips.join(",")
            }
        }
        "ExternalName" => svc.spec.external_name.clone(),
        _ => "<unknown>".into(),
    }
}

fn service_ports(svc: &Service) -> String {
    if svc.spec.ports.is_empty() {
        return "<none>".into();
    }
    svc.spec
        .ports
        .iter()
        .map(|p| {
            let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
            if p.node_port > 0 {
                format!("{}:{}/{}", p.port, p.node_port, proto)
            } else {
                format!("{}/{}", p.port, proto)
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Ready containers, containers, restarts and the time of the last restart.
fn pod_counts(p: &Pod) -> (usize, usize, i32, Option<crate::api::time::Time>) {
    let total = p.spec.containers.len();
    let ready = p
        .status
        .container_statuses
        .iter()
        .filter(|c| c.ready)
        .count();
    let mut restarts = 0;
    let mut last = None;
    for c in &p.status.container_statuses {
        restarts += c.restart_count;
        if let Some(t) = c.last_state.terminated.as_ref().and_then(|t| t.finished_at) {
            last = Some(last.map_or(t, |l: crate::api::time::Time| l.max(t)));
        }
    }
    (ready, total, restarts, last)
}

/// The STATUS column of a pod, as printPod computes it.
pub fn pod_status(p: &Pod) -> String {
    let mut reason = if p.status.reason.is_empty() {
        p.status.phase.clone()
    } else {
        p.status.reason.clone()
    };
    if reason.is_empty() {
        reason = "Pending".into();
    }
    let mut initializing = false;
    let inits = &p.spec.init_containers;
    for (i, st) in p.status.init_container_statuses.iter().enumerate() {
        if let Some(t) = &st.state.terminated {
            if t.exit_code == 0 {
                continue;
            }
            reason = if !t.reason.is_empty() {
                format!("Init:{}", t.reason)
            } else if t.signal != 0 {
                format!("Init:Signal:{}", t.signal)
            } else {
                format!("Init:ExitCode:{}", t.exit_code)
            };
            initializing = true;
        } else if let Some(w) = st
            .state
            .waiting
            .as_ref()
            .filter(|w| !w.reason.is_empty() && w.reason != "PodInitializing")
        {
            reason = format!("Init:{}", w.reason);
            initializing = true;
        } else {
            reason = format!("Init:{}/{}", i, inits.len());
            initializing = true;
        }
        break;
    }
    if !initializing {
        let mut has_running = false;
        for st in p.status.container_statuses.iter().rev() {
            if let Some(w) = st.state.waiting.as_ref().filter(|w| !w.reason.is_empty()) {
                reason = w.reason.clone();
            } else if let Some(t) = &st.state.terminated {
                reason = if !t.reason.is_empty() {
                    t.reason.clone()
                } else if t.signal != 0 {
                    format!("Signal:{}", t.signal)
                } else {
                    format!("ExitCode:{}", t.exit_code)
                };
            } else if st.ready && st.state.running.is_some() {
                has_running = true;
            }
        }
        if reason == "Completed" && has_running {
            let ready = p
                .status
                .conditions
                .iter()
                .any(|c| c.kind == "Ready" && c.status == "True");
            reason = if ready {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }
    if p.metadata.deletion_timestamp.is_some() {
        reason = if p.status.reason == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    reason
}
