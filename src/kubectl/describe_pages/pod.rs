//! Pods, their containers and volumes, and the pod template of workloads
//! (describePod, describeContainers, describeVolumes, DescribePodTemplate).

use std::collections::BTreeMap;

use serde_json::Value;

use super::tabwriter::{PrefixWriter, LEVEL_0, LEVEL_1, LEVEL_2, LEVEL_3};
use super::{
    annotations_multiline, arr, boolean, controlled_by, format_label_selector, go_list, int,
    labels_multiline, obj_map, or_none, print_bool, quantity, resource_list, rfc1123z, s, since,
    strs, tolerations_multiline, Cx,
};
use crate::api::quantity::Quantity;

/// `describePod`.
pub(crate) fn describe_pod(w: &mut PrefixWriter, pod: &Value, cx: &Cx) {
    let m = &pod["metadata"];
    let spec = &pod["spec"];
    let status = &pod["status"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    w.write(LEVEL_0, &format!("Namespace:\t{}\n", s(&m["namespace"])));
    if !spec["priority"].is_null() {
        w.write(LEVEL_0, &format!("Priority:\t{}\n", int(&spec["priority"])));
    }
    let pcn = s(&spec["priorityClassName"]);
    if !pcn.is_empty() {
        w.write(LEVEL_0, &format!("Priority Class Name:\t{pcn}\n"));
    }
    let rcn = s(&spec["runtimeClassName"]);
    if !rcn.is_empty() {
        w.write(LEVEL_0, &format!("Runtime Class Name:\t{rcn}\n"));
    }
    let sa = s(&spec["serviceAccountName"]);
    if !sa.is_empty() {
        w.write(LEVEL_0, &format!("Service Account:\t{sa}\n"));
    }
    let node = s(&spec["nodeName"]);
    if node.is_empty() {
        w.write(LEVEL_0, "Node:\t<none>\n");
    } else {
        w.write(
            LEVEL_0,
            &format!("Node:\t{node}/{}\n", s(&status["hostIP"])),
        );
    }
    if !status["startTime"].is_null() {
        w.write(
            LEVEL_0,
            &format!("Start Time:\t{}\n", rfc1123z(&status["startTime"])),
        );
    }
    labels_multiline(w, "Labels", &m["labels"]);
    annotations_multiline(w, "Annotations", &m["annotations"]);
    let phase = s(&status["phase"]);
    if !m["deletionTimestamp"].is_null() && phase != "Failed" && phase != "Succeeded" {
        w.write(
            LEVEL_0,
            &format!(
                "Status:\tTerminating (lasts {})\n",
                since(&m["deletionTimestamp"], cx.now)
            ),
        );
        w.write(
            LEVEL_0,
            &format!(
                "Termination Grace Period:\t{}s\n",
                int(&m["deletionGracePeriodSeconds"])
            ),
        );
    } else {
        w.write(LEVEL_0, &format!("Status:\t{phase}\n"));
    }
    let reason = s(&status["reason"]);
    if !reason.is_empty() {
        w.write(LEVEL_0, &format!("Reason:\t{reason}\n"));
    }
    let message = s(&status["message"]);
    if !message.is_empty() {
        w.write(LEVEL_0, &format!("Message:\t{message}\n"));
    }
    let seccomp = &spec["securityContext"]["seccompProfile"];
    if seccomp.is_object() {
        w.write(
            LEVEL_0,
            &format!("SeccompProfile:\t{}\n", s(&seccomp["type"])),
        );
        if s(&seccomp["type"]) == "Localhost" {
            w.write(
                LEVEL_0,
                &format!("LocalhostProfile:\t{}\n", s(&seccomp["localhostProfile"])),
            );
        }
    }
    w.write(LEVEL_0, &format!("IP:\t{}\n", s(&status["podIP"])));
    let ips = arr(&status["podIPs"]);
    if ips.is_empty() {
        w.write(LEVEL_0, "IPs:\t<none>\n");
    } else {
        w.write(LEVEL_0, "IPs:\n");
        for ip in ips {
            w.write(LEVEL_1, &format!("IP:\t{}\n", s(&ip["ip"])));
        }
    }
    let by = controlled_by(pod);
    if !by.is_empty() {
        w.write(LEVEL_0, &format!("Controlled By:\t{by}\n"));
    }
    let nominated = s(&status["nominatedNodeName"]);
    if !nominated.is_empty() {
        w.write(LEVEL_0, &format!("NominatedNodeName:\t{nominated}\n"));
    }
    let env = EnvResolver { pod: Some(pod) };
    if !arr(&spec["initContainers"]).is_empty() {
        describe_containers(
            w,
            "Init Containers",
            &spec["initContainers"],
            Some(&status["initContainerStatuses"]),
            &env,
            "",
        );
    }
    describe_containers(
        w,
        "Containers",
        &spec["containers"],
        Some(&status["containerStatuses"]),
        &env,
        "",
    );
    if !arr(&spec["ephemeralContainers"]).is_empty() {
        describe_containers(
            w,
            "Ephemeral Containers",
            &spec["ephemeralContainers"],
            Some(&status["ephemeralContainerStatuses"]),
            &env,
            "",
        );
    }
    let gates = arr(&spec["readinessGates"]);
    if !gates.is_empty() {
        w.write(LEVEL_0, "Readiness Gates:\n  Type\tStatus\n");
        for g in gates {
            let t = s(&g["conditionType"]);
            let st = arr(&status["conditions"])
                .iter()
                .find(|c| s(&c["type"]) == t)
                .map(|c| s(&c["status"]).to_string())
                .unwrap_or_else(|| "<none>".into());
            w.write(LEVEL_1, &format!("{t} \t{st} \n"));
        }
    }
    let conditions = arr(&status["conditions"]);
    if !conditions.is_empty() {
        w.write(LEVEL_0, "Conditions:\n  Type\tStatus\n");
        for c in conditions {
            w.write(
                LEVEL_1,
                &format!("{} \t{} \n", s(&c["type"]), s(&c["status"])),
            );
        }
    }
    describe_volumes(w, &spec["volumes"], "");
    let qos = match s(&status["qosClass"]) {
        "" => compute_qos(spec),
        q => q.to_string(),
    };
    w.write(LEVEL_0, &format!("QoS Class:\t{qos}\n"));
    labels_multiline(w, "Node-Selectors", &spec["nodeSelector"]);
    tolerations_multiline(w, "", "Tolerations", &spec["tolerations"]);
    describe_topology_spread(w, &spec["topologySpreadConstraints"], "");
    cx.events(w);
}

/// `describeTopologySpreadConstraints`.
fn describe_topology_spread(w: &mut PrefixWriter, tscs: &Value, space: &str) {
    let mut list: Vec<&Value> = arr(tscs).iter().collect();
    if list.is_empty() {
        return;
    }
    list.sort_by(|a, b| s(&a["topologyKey"]).cmp(s(&b["topologyKey"])));
    w.write(LEVEL_0, &format!("{space}Topology Spread Constraints:\t"));
    for (i, t) in list.into_iter().enumerate() {
        if i != 0 {
            w.write(LEVEL_0, space);
            w.write(LEVEL_0, "\t");
        }
        let mut text = format!(
            "{}:{} when max skew {} is exceeded",
            s(&t["topologyKey"]),
            s(&t["whenUnsatisfiable"]),
            int(&t["maxSkew"])
        );
        if !t["labelSelector"].is_null() {
            text.push_str(&format!(
                " for selector {}",
                format_label_selector(&t["labelSelector"])
            ));
        }
        text.push('\n');
        w.write(LEVEL_0, &text);
    }
}

/// `qos.ComputePodQOS`: Guaranteed when every container limits cpu and memory and the
/// summed requests equal the summed limits; BestEffort with no positive requests or limits.
pub(crate) fn compute_qos(spec: &Value) -> String {
    let mut requests: BTreeMap<&str, Quantity> = BTreeMap::new();
    let mut limits: BTreeMap<&str, Quantity> = BTreeMap::new();
    let mut guaranteed = true;
    let all = arr(&spec["containers"])
        .iter()
        .chain(arr(&spec["initContainers"]).iter());
    for c in all {
        let res = &c["resources"];
        for (name, q) in obj_map(&res["requests"]).into_iter().flatten() {
            if name != "cpu" && name != "memory" {
                continue;
            }
            let q = quantity(q);
            if q.sign() > 0 {
                requests.entry(name).or_insert_with(Quantity::zero).add(&q);
            }
        }
        let mut found = (false, false);
        for (name, q) in obj_map(&res["limits"]).into_iter().flatten() {
            if name != "cpu" && name != "memory" {
                continue;
            }
            let q = quantity(q);
            if q.sign() > 0 {
                if name == "cpu" {
                    found.0 = true;
                } else {
                    found.1 = true;
                }
                limits.entry(name).or_insert_with(Quantity::zero).add(&q);
            }
        }
        if !(found.0 && found.1) {
            guaranteed = false;
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort".into();
    }
    if guaranteed {
        for (name, req) in &requests {
            if limits
                .get(name)
                .is_none_or(|l| l.cmp(req) != std::cmp::Ordering::Equal)
            {
                guaranteed = false;
                break;
            }
        }
    }
    if guaranteed && requests.len() == limits.len() {
        "Guaranteed".into()
    } else {
        "Burstable".into()
    }
}

/// Resolves `valueFrom` environment variables as `EnvValueRetriever` does. kubectl's
/// scheme has no field-label conversions for pods, so only `metadata.name` and
/// `metadata.namespace` resolve; other field paths print empty.
pub(crate) struct EnvResolver<'a> {
    pub pod: Option<&'a Value>,
}

impl EnvResolver<'_> {
    fn field(&self, path: &str) -> String {
        let Some(pod) = self.pod else {
            return String::new();
        };
        match path {
            "metadata.name" => s(&pod["metadata"]["name"]).into(),
            "metadata.namespace" => s(&pod["metadata"]["namespace"]).into(),
            _ => String::new(),
        }
    }
}

/// `describeContainers`. `statuses` is `None` for a pod template.
pub(crate) fn describe_containers(
    w: &mut PrefixWriter,
    label: &str,
    containers: &Value,
    statuses: Option<&Value>,
    env: &EnvResolver,
    space: &str,
) {
    let containers = arr(containers);
    let none = if containers.is_empty() { " <none>" } else { "" };
    w.write(LEVEL_0, &format!("{space}{label}:{none}\n"));
    let statuses: BTreeMap<&str, &Value> = statuses
        .map(arr)
        .unwrap_or_default()
        .iter()
        .map(|st| (s(&st["name"]), st))
        .collect();
    for c in containers {
        let status = statuses.get(s(&c["name"])).copied();
        describe_container_basic(w, c, status, space);
        describe_command(w, c);
        if let Some(st) = status {
            describe_state(w, st);
        }
        describe_resources(w, c);
        describe_probes(w, c);
        if !arr(&c["envFrom"]).is_empty() {
            describe_env_from(w, c);
        }
        describe_env(w, c, env);
        describe_mounts(w, c);
    }
}

fn describe_container_basic(w: &mut PrefixWriter, c: &Value, status: Option<&Value>, space: &str) {
    let name_indent = if space.is_empty() { "" } else { " " };
    w.write(LEVEL_1, &format!("{name_indent}{}:\n", s(&c["name"])));
    if let Some(st) = status {
        w.write(
            LEVEL_2,
            &format!("Container ID:\t{}\n", s(&st["containerID"])),
        );
    }
    w.write(LEVEL_2, &format!("Image:\t{}\n", s(&c["image"])));
    if let Some(st) = status {
        w.write(LEVEL_2, &format!("Image ID:\t{}\n", s(&st["imageID"])));
    }
    let ports = arr(&c["ports"]);
    let port_list = |host: bool| {
        ports
            .iter()
            .map(|p| {
                let n = if host {
                    int(&p["hostPort"])
                } else {
                    int(&p["containerPort"])
                };
                format!("{n}/{}", s(&p["protocol"]))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let cports = port_list(false);
    if cports.contains(',') {
        w.write(LEVEL_2, &format!("Ports:\t{cports}\n"));
    } else {
        w.write(LEVEL_2, &format!("Port:\t{}\n", or_none(&cports)));
    }
    let hports = port_list(true);
    if hports.contains(',') {
        w.write(LEVEL_2, &format!("Host Ports:\t{hports}\n"));
    } else {
        w.write(LEVEL_2, &format!("Host Port:\t{}\n", or_none(&hports)));
    }
    let seccomp = &c["securityContext"]["seccompProfile"];
    if seccomp.is_object() {
        w.write(
            LEVEL_2,
            &format!("SeccompProfile:\t{}\n", s(&seccomp["type"])),
        );
        if s(&seccomp["type"]) == "Localhost" {
            w.write(
                LEVEL_3,
                &format!("LocalhostProfile:\t{}\n", s(&seccomp["localhostProfile"])),
            );
        }
    }
}

fn describe_command(w: &mut PrefixWriter, c: &Value) {
    for (field, title) in [("command", "Command"), ("args", "Args")] {
        let items = strs(&c[field]);
        if items.is_empty() {
            continue;
        }
        w.write(LEVEL_2, &format!("{title}:\n"));
        for item in items {
            for line in item.split('\n') {
                w.write(LEVEL_3, &format!("{line}\n"));
            }
        }
    }
}

/// `describeContainerState`.
fn describe_state(w: &mut PrefixWriter, st: &Value) {
    describe_status(w, "State", &st["state"]);
    if st["lastState"]["terminated"].is_object() {
        describe_status(w, "Last State", &st["lastState"]);
    }
    w.write(
        LEVEL_2,
        &format!("Ready:\t{}\n", print_bool(boolean(&st["ready"]))),
    );
    w.write(
        LEVEL_2,
        &format!("Restart Count:\t{}\n", int(&st["restartCount"])),
    );
}

/// `describeStatus`.
fn describe_status(w: &mut PrefixWriter, name: &str, state: &Value) {
    if state["running"].is_object() {
        w.write(LEVEL_2, &format!("{name}:\tRunning\n"));
        w.write(
            LEVEL_3,
            &format!("Started:\t{}\n", rfc1123z(&state["running"]["startedAt"])),
        );
    } else if state["waiting"].is_object() {
        w.write(LEVEL_2, &format!("{name}:\tWaiting\n"));
        let reason = s(&state["waiting"]["reason"]);
        if !reason.is_empty() {
            w.write(LEVEL_3, &format!("Reason:\t{reason}\n"));
        }
    } else if state["terminated"].is_object() {
        let t = &state["terminated"];
        w.write(LEVEL_2, &format!("{name}:\tTerminated\n"));
        let reason = s(&t["reason"]);
        if !reason.is_empty() {
            w.write(LEVEL_3, &format!("Reason:\t{reason}\n"));
        }
        let message = s(&t["message"]);
        if !message.is_empty() {
            w.write(LEVEL_3, &format!("Message:\t{message}\n"));
        }
        w.write(LEVEL_3, &format!("Exit Code:\t{}\n", int(&t["exitCode"])));
        if int(&t["signal"]) > 0 {
            w.write(LEVEL_3, &format!("Signal:\t{}\n", int(&t["signal"])));
        }
        w.write(
            LEVEL_3,
            &format!("Started:\t{}\n", rfc1123z(&t["startedAt"])),
        );
        w.write(
            LEVEL_3,
            &format!("Finished:\t{}\n", rfc1123z(&t["finishedAt"])),
        );
    } else {
        w.write(LEVEL_2, &format!("{name}:\tWaiting\n"));
    }
}

/// `describeContainerResource`: limits, then requests, by resource name.
fn describe_resources(w: &mut PrefixWriter, c: &Value) {
    for (field, title) in [("limits", "Limits"), ("requests", "Requests")] {
        let list = resource_list(&c["resources"][field]);
        if !list.is_empty() {
            w.write(LEVEL_2, &format!("{title}:\n"));
        }
        for (name, q) in list {
            w.write(LEVEL_3, &format!("{name}:\t{q}\n"));
        }
    }
}

fn describe_probes(w: &mut PrefixWriter, c: &Value) {
    for (field, title) in [
        ("livenessProbe", "Liveness"),
        ("readinessProbe", "Readiness"),
        ("startupProbe", "Startup"),
    ] {
        if c[field].is_object() {
            w.write(
                LEVEL_2,
                &format!("{title}:\t{}\n", describe_probe(&c[field])),
            );
        }
    }
}

/// `IntOrString.String()`: the number or the name; 0 when absent.
pub(crate) fn int_or_string(v: &Value) -> String {
    match v {
        Value::String(t) => t.clone(),
        other => int(other).to_string(),
    }
}

/// `DescribeProbe`.
pub(crate) fn describe_probe(p: &Value) -> String {
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        int(&p["initialDelaySeconds"]),
        int(&p["timeoutSeconds"]),
        int(&p["periodSeconds"]),
        int(&p["successThreshold"]),
        int(&p["failureThreshold"])
    );
    if p["exec"].is_object() {
        format!("exec {} {attrs}", go_list(&strs(&p["exec"]["command"])))
    } else if p["httpGet"].is_object() {
        let g = &p["httpGet"];
        let port = int_or_string(&g["port"]);
        let host = if port.is_empty() {
            s(&g["host"]).to_string()
        } else {
            join_host_port(s(&g["host"]), &port)
        };
        format!(
            "http-get {} {attrs}",
            url_string(&s(&g["scheme"]).to_lowercase(), &host, s(&g["path"]))
        )
    } else if p["tcpSocket"].is_object() {
        let t = &p["tcpSocket"];
        format!(
            "tcp-socket {}:{} {attrs}",
            s(&t["host"]),
            int_or_string(&t["port"])
        )
    } else if p["grpc"].is_object() {
        let g = &p["grpc"];
        format!(
            "grpc <pod>:{} {} {attrs}",
            int(&g["port"]),
            s(&g["service"])
        )
    } else {
        format!("unknown {attrs}")
    }
}

/// `net.JoinHostPort`.
pub(crate) fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `(*url.URL).String()` for a scheme, host and path.
fn url_string(scheme: &str, host: &str, path: &str) -> String {
    let mut out = String::new();
    if !scheme.is_empty() {
        out.push_str(scheme);
        out.push(':');
    }
    if !scheme.is_empty() || !host.is_empty() {
        if !host.is_empty() || !path.is_empty() {
            out.push_str("//");
        }
        out.push_str(&escape(host, true));
    }
    let p = escape(path, false);
    if !p.is_empty() && !p.starts_with('/') && !host.is_empty() {
        out.push('/');
    }
    out.push_str(&p);
    out
}

/// `url.escape` in host or path mode.
fn escape(text: &str, host: bool) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || matches!(
                b,
                b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'@'
            )
            || (host
                && matches!(
                    b,
                    b'!' | b'\'' | b'(' | b')' | b'*' | b'[' | b']' | b'<' | b'>' | b'"'
                ));
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `describeContainerEnvFrom`.
fn describe_env_from(w: &mut PrefixWriter, c: &Value) {
    w.write(LEVEL_2, "Environment Variables from:\n");
    for e in arr(&c["envFrom"]) {
        let (from, r) = if e["configMapRef"].is_object() {
            ("ConfigMap", &e["configMapRef"])
        } else if e["secretRef"].is_object() {
            ("Secret", &e["secretRef"])
        } else {
            ("", &Value::Null)
        };
        let optional = boolean(&r["optional"]);
        let prefix = s(&e["prefix"]);
        if prefix.is_empty() {
            w.write(
                LEVEL_3,
                &format!("{}\t{from}\tOptional: {optional}\n", s(&r["name"])),
            );
        } else {
            w.write(
                LEVEL_3,
                &format!(
                    "{}\t{from} with prefix '{prefix}'\tOptional: {optional}\n",
                    s(&r["name"])
                ),
            );
        }
    }
}

/// `describeContainerEnvVars`.
fn describe_env(w: &mut PrefixWriter, c: &Value, env: &EnvResolver) {
    let vars = arr(&c["env"]);
    let none = if vars.is_empty() { "\t<none>" } else { "" };
    w.write(LEVEL_2, &format!("Environment:{none}\n"));
    for e in vars {
        let name = s(&e["name"]);
        let from = &e["valueFrom"];
        if !from.is_object() {
            for (i, line) in s(&e["value"]).split('\n').enumerate() {
                if i == 0 {
                    w.write(LEVEL_3, &format!("{name}:\t{line}\n"));
                } else {
                    w.write(LEVEL_3, &format!("\t{line}\n"));
                }
            }
            continue;
        }
        if from["fieldRef"].is_object() {
            let f = &from["fieldRef"];
            w.write(
                LEVEL_3,
                &format!(
                    "{name}:\t{} ({}:{})\n",
                    env.field(s(&f["fieldPath"])),
                    s(&f["apiVersion"]),
                    s(&f["fieldPath"])
                ),
            );
        } else if from["resourceFieldRef"].is_object() {
            let r = &from["resourceFieldRef"];
            let resource = s(&r["resource"]);
            let mut value = container_resource_value(r, c).unwrap_or_default();
            if value == "0" && (resource == "limits.cpu" || resource == "limits.memory") {
                value = "node allocatable".into();
            }
            w.write(LEVEL_3, &format!("{name}:\t{value} ({resource})\n"));
        } else if from["secretKeyRef"].is_object() {
            let r = &from["secretKeyRef"];
            w.write(
                LEVEL_3,
                &format!(
                    "{name}:\t<set to the key '{}' in secret '{}'>\tOptional: {}\n",
                    s(&r["key"]),
                    s(&r["name"]),
                    boolean(&r["optional"])
                ),
            );
        } else if from["configMapKeyRef"].is_object() {
            let r = &from["configMapKeyRef"];
            w.write(
                LEVEL_3,
                &format!(
                    "{name}:\t<set to the key '{}' of config map '{}'>\tOptional: {}\n",
                    s(&r["key"]),
                    s(&r["name"]),
                    boolean(&r["optional"])
                ),
            );
        }
    }
}

/// `resourcehelper.ExtractContainerResourceValue`: the container's resource divided by
/// the divisor (1 when unset), rounded up.
fn container_resource_value(r: &Value, c: &Value) -> Option<String> {
    let mut divisor = quantity(&r["divisor"]);
    if divisor.is_zero() {
        divisor = Quantity::from_value(1, crate::api::quantity::Format::DecimalSI);
    }
    let resource = s(&r["resource"]);
    let (field, name) = resource.split_once('.')?;
    if field != "limits" && field != "requests" {
        return None;
    }
    let standard = matches!(name, "cpu" | "memory" | "ephemeral-storage");
    if !standard && !name.starts_with("hugepages-") {
        return None;
    }
    let q = quantity(&c["resources"][field][name]);
    let v = if name == "cpu" {
        (q.milli_value() as f64 / divisor.milli_value() as f64).ceil()
    } else {
        (q.value() as f64 / divisor.value() as f64).ceil()
    };
    Some(super::go_f64_to_i64(v).to_string())
}

/// `describeContainerVolumes`: mounts by path, then devices.
fn describe_mounts(w: &mut PrefixWriter, c: &Value) {
    let mut mounts: Vec<&Value> = arr(&c["volumeMounts"]).iter().collect();
    let none = if mounts.is_empty() { "\t<none>" } else { "" };
    w.write(LEVEL_2, &format!("Mounts:{none}\n"));
    mounts.sort_by(|a, b| s(&a["mountPath"]).cmp(s(&b["mountPath"])));
    for m in mounts {
        let mut flags = vec![if boolean(&m["readOnly"]) { "ro" } else { "rw" }.to_string()];
        let sub = s(&m["subPath"]);
        if !sub.is_empty() {
            flags.push(format!("path={}", crate::api::gofmt::quote(sub)));
        }
        w.write(
            LEVEL_3,
            &format!(
                "{} from {} ({})\n",
                s(&m["mountPath"]),
                s(&m["name"]),
                flags.join(",")
            ),
        );
    }
    let mut devices: Vec<&Value> = arr(&c["volumeDevices"]).iter().collect();
    if !devices.is_empty() {
        w.write(LEVEL_2, &format!("Devices:{none}\n"));
        devices.sort_by(|a, b| s(&a["devicePath"]).cmp(s(&b["devicePath"])));
        for d in devices {
            w.write(
                LEVEL_3,
                &format!("{} from {}\n", s(&d["devicePath"]), s(&d["name"])),
            );
        }
    }
}

/// Go's `%v` of a `*bool`: `<nil>` when unset. (Go prints a set pointer's address; the
/// value is printed here instead.)
fn bool_ptr(v: &Value) -> String {
    match v.as_bool() {
        Some(b) => b.to_string(),
        None => "<nil>".into(),
    }
}

/// `describeVolumes`.
pub(crate) fn describe_volumes(w: &mut PrefixWriter, volumes: &Value, space: &str) {
    let volumes = arr(volumes);
    if volumes.is_empty() {
        w.write(LEVEL_0, &format!("{space}Volumes:\t<none>\n"));
        return;
    }
    w.write(LEVEL_0, &format!("{space}Volumes:\n"));
    let name_indent = if space.is_empty() { "" } else { " " };
    for v in volumes {
        w.write(LEVEL_1, &format!("{name_indent}{}:\n", s(&v["name"])));
        describe_volume_source(w, v);
    }
}

fn describe_volume_source(w: &mut PrefixWriter, v: &Value) {
    let has = |k: &str| v[k].is_object();
    if has("hostPath") {
        let h = &v["hostPath"];
        let t = h["type"].as_str().unwrap_or("<none>");
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tHostPath (bare host directory volume)\n    Path:\t{}\n    HostPathType:\t{t}\n",
                s(&h["path"])
            ),
        );
    } else if has("emptyDir") {
        let e = &v["emptyDir"];
        let size = quantity(&e["sizeLimit"]);
        let size = if size.sign() > 0 {
            size.to_string()
        } else {
            "<unset>".into()
        };
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t{}\n    SizeLimit:\t{size}\n",
                s(&e["medium"])
            ),
        );
    } else if has("gcePersistentDisk") {
        let g = &v["gcePersistentDisk"];
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tGCEPersistentDisk (a Persistent Disk resource in Google Compute Engine)\n    PDName:\t{}\n    FSType:\t{}\n    Partition:\t{}\n    ReadOnly:\t{}\n",
                s(&g["pdName"]),
                s(&g["fsType"]),
                int(&g["partition"]),
                boolean(&g["readOnly"])
            ),
        );
    } else if has("awsElasticBlockStore") {
        let a = &v["awsElasticBlockStore"];
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tAWSElasticBlockStore (a Persistent Disk resource in AWS)\n    VolumeID:\t{}\n    FSType:\t{}\n    Partition:\t{}\n    ReadOnly:\t{}\n",
                s(&a["volumeID"]),
                s(&a["fsType"]),
                int(&a["partition"]),
                boolean(&a["readOnly"])
            ),
        );
    } else if has("gitRepo") {
        let g = &v["gitRepo"];
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tGitRepo (a volume that is pulled from git when the pod is created)\n    Repository:\t{}\n    Revision:\t{}\n",
                s(&g["repository"]),
                s(&g["revision"])
            ),
        );
    } else if has("secret") {
        let sec = &v["secret"];
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t{}\n    Optional:\t{}\n",
                s(&sec["secretName"]),
                boolean(&sec["optional"])
            ),
        );
    } else if has("configMap") {
        let cm = &v["configMap"];
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t{}\n    Optional:\t{}\n",
                s(&cm["name"]),
                boolean(&cm["optional"])
            ),
        );
    } else if has("nfs") {
        let n = &v["nfs"];
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tNFS (an NFS mount that lasts the lifetime of a pod)\n    Server:\t{}\n    Path:\t{}\n    ReadOnly:\t{}\n",
                s(&n["server"]),
                s(&n["path"]),
                boolean(&n["readOnly"])
            ),
        );
    } else if has("persistentVolumeClaim") {
        let c = &v["persistentVolumeClaim"];
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t{}\n    ReadOnly:\t{}\n",
                s(&c["claimName"]),
                boolean(&c["readOnly"])
            ),
        );
    } else if has("ephemeral") {
        w.write(
            LEVEL_2,
            "Type:\tEphemeralVolume (an inline specification for a volume that gets created and deleted with the pod)\n",
        );
        let t = &v["ephemeral"]["volumeClaimTemplate"];
        if t.is_object() {
            describe_claim_template(w, t);
        }
    } else if has("downwardAPI") {
        w.write(
            LEVEL_2,
            "Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n",
        );
        for item in arr(&v["downwardAPI"]["items"]) {
            describe_downward_item(w, item);
        }
    } else if has("projected") {
        w.write(
            LEVEL_2,
            "Type:\tProjected (a volume that contains injected data from multiple sources)\n",
        );
        for src in arr(&v["projected"]["sources"]) {
            if src["secret"].is_object() {
                w.write(
                    LEVEL_2,
                    &format!(
                        "SecretName:\t{}\n    SecretOptionalName:\t{}\n",
                        s(&src["secret"]["name"]),
                        bool_ptr(&src["secret"]["optional"])
                    ),
                );
            } else if src["downwardAPI"].is_object() {
                w.write(LEVEL_2, "DownwardAPI:\ttrue\n");
            } else if src["configMap"].is_object() {
                w.write(
                    LEVEL_2,
                    &format!(
                        "ConfigMapName:\t{}\n    ConfigMapOptional:\t{}\n",
                        s(&src["configMap"]["name"]),
                        bool_ptr(&src["configMap"]["optional"])
                    ),
                );
            } else if src["serviceAccountToken"].is_object() {
                w.write(
                    LEVEL_2,
                    &format!(
                        "TokenExpirationSeconds:\t{}\n",
                        int(&src["serviceAccountToken"]["expirationSeconds"])
                    ),
                );
            }
        }
    } else if has("csi") {
        let c = &v["csi"];
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tCSI (a Container Storage Interface (CSI) volume source)\n    Driver:\t{}\n    FSType:\t{}\n    ReadOnly:\t{}\n",
                s(&c["driver"]),
                s(&c["fsType"]),
                boolean(&c["readOnly"])
            ),
        );
        describe_csi_attributes(w, &c["volumeAttributes"]);
    } else {
        w.write(LEVEL_1, "<unknown>\n");
    }
}

fn describe_downward_item(w: &mut PrefixWriter, item: &Value) {
    let path = s(&item["path"]);
    if item["fieldRef"].is_object() {
        w.write(
            LEVEL_3,
            &format!("{} -> {path}\n", s(&item["fieldRef"]["fieldPath"])),
        );
    }
    if item["resourceFieldRef"].is_object() {
        w.write(
            LEVEL_3,
            &format!("{} -> {path}\n", s(&item["resourceFieldRef"]["resource"])),
        );
    }
}

/// `printCSIPersistentVolumeAttributesMultiline`.
fn describe_csi_attributes(w: &mut PrefixWriter, attrs: &Value) {
    w.write(LEVEL_2, "VolumeAttributes:\t");
    let m = super::str_map(attrs);
    if m.is_empty() {
        w.write_line("<none>");
        return;
    }
    for (i, (k, v)) in m.into_iter().enumerate() {
        if i != 0 {
            w.write(LEVEL_2, "");
            w.write(LEVEL_2, "\t");
        }
        let line = format!("{k}={v}");
        if line.len() > 140 {
            let mut end = 140;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            w.write(LEVEL_2, &format!("{}...\n", &line[..end]));
        } else {
            w.write(LEVEL_2, &format!("{line}\n"));
        }
    }
}

/// `printPersistentVolumeClaim(NewNestedPrefixWriter(w, LEVEL_2), template, false)`.
fn describe_claim_template(w: &mut PrefixWriter, t: &Value) {
    let spec = &t["spec"];
    // storageutil.GetPersistentVolumeClaimClass: the beta annotation first.
    let beta = &t["metadata"]["annotations"]["volume.beta.kubernetes.io/storage-class"];
    let class = if beta.is_string() {
        s(beta)
    } else {
        s(&spec["storageClassName"])
    };
    // Only a bound claim shows its (status) capacity, which a template has none of.
    let capacity = if s(&spec["volumeName"]).is_empty() {
        ""
    } else {
        "0"
    };
    let nested = w;
    nested.nest += LEVEL_2;
    nested.write(LEVEL_0, &format!("StorageClass:\t{class}\n"));
    nested.write(LEVEL_0, &format!("Volume:\t{}\n", s(&spec["volumeName"])));
    labels_multiline(nested, "Labels", &t["metadata"]["labels"]);
    annotations_multiline(nested, "Annotations", &t["metadata"]["annotations"]);
    nested.write(LEVEL_0, &format!("Capacity:\t{capacity}\n"));
    nested.write(LEVEL_0, "Access Modes:\t\n");
    if spec["volumeMode"].is_string() {
        nested.write(
            LEVEL_0,
            &format!("VolumeMode:\t{}\n", s(&spec["volumeMode"])),
        );
    }
    let ds = &spec["dataSource"];
    if ds.is_object() {
        nested.write(LEVEL_0, "DataSource:\n");
        if ds["apiGroup"].is_string() {
            nested.write(LEVEL_1, &format!("APIGroup:\t{}\n", s(&ds["apiGroup"])));
        }
        nested.write(LEVEL_1, &format!("Kind:\t{}\n", s(&ds["kind"])));
        nested.write(LEVEL_1, &format!("Name:\t{}\n", s(&ds["name"])));
    }
    nested.nest -= LEVEL_2;
}

/// `DescribePodTemplate`.
pub(crate) fn describe_pod_template(w: &mut PrefixWriter, template: &Value) {
    w.write(LEVEL_0, "Pod Template:\n");
    let m = &template["metadata"];
    let spec = &template["spec"];
    labels_multiline(w, "  Labels", &m["labels"]);
    if obj_map(&m["annotations"]).is_some_and(|a| !a.is_empty()) {
        annotations_multiline(w, "  Annotations", &m["annotations"]);
    }
    let sa = s(&spec["serviceAccountName"]);
    if !sa.is_empty() {
        w.write(LEVEL_1, &format!("Service Account:\t{sa}\n"));
    }
    let env = EnvResolver { pod: None };
    if !arr(&spec["initContainers"]).is_empty() {
        describe_containers(
            w,
            "Init Containers",
            &spec["initContainers"],
            None,
            &env,
            "  ",
        );
    }
    describe_containers(w, "Containers", &spec["containers"], None, &env, "  ");
    describe_volumes(w, &spec["volumes"], "  ");
    describe_topology_spread(w, &spec["topologySpreadConstraints"], "  ");
    let pcn = s(&spec["priorityClassName"]);
    if !pcn.is_empty() {
        w.write(LEVEL_1, &format!("Priority Class Name:\t{pcn}\n"));
    }
    labels_multiline(w, "  Node-Selectors", &spec["nodeSelector"]);
    tolerations_multiline(w, "  ", "Tolerations", &spec["tolerations"]);
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use serde_json::json;

    use super::super::tests::NOW;
    use super::super::{describe, Related};
    use super::*;

    fn page(obj: &Value, events: &[Value]) -> String {
        describe("Pod", obj, Some(events), &Related::default(), NOW).unwrap()
    }

    /// A pod as the API server defaults it, scheduled and running.
    fn running_pod() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "web-7d4b9c-x2x9q", "namespace": "default",
                "labels": {"app": "web", "pod-template-hash": "7d4b9c"},
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
                "creationTimestamp": "2024-08-13T00:00:00Z",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9c", "uid": "u1", "controller": true}]
            },
            "spec": {
                "containers": [{
                    "name": "nginx", "image": "nginx:1.27",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "250m", "memory": "64Mi"}},
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 80, "scheme": "HTTP"}, "initialDelaySeconds": 3,
                                       "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3},
                    "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "timeoutSeconds": 1, "periodSeconds": 5,
                                        "successThreshold": 1, "failureThreshold": 3},
                    "env": [
                        {"name": "MODE", "value": "prod"},
                        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                        {"name": "NODE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
                        {"name": "CPU_LIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
                        {"name": "MEM_REQ", "valueFrom": {"resourceFieldRef": {"resource": "requests.memory", "divisor": "1Mi"}}},
                        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}
                    ],
                    "volumeMounts": [
                        {"name": "kube-api-access-abcde", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true},
                        {"name": "data", "mountPath": "/data", "subPath": "web"}
                    ]
                }],
                "nodeName": "node-1",
                "serviceAccountName": "default",
                "priority": 0,
                "tolerations": [
                    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
                ],
                "volumes": [
                    {"name": "data", "emptyDir": {}},
                    {"name": "kube-api-access-abcde", "projected": {"defaultMode": 420, "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                        {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}]}}
                    ]}}
                ]
            },
            "status": {
                "phase": "Running",
                "hostIP": "10.0.0.2",
                "podIP": "10.244.1.5",
                "podIPs": [{"ip": "10.244.1.5"}],
                "startTime": "2024-08-13T00:00:01Z",
                "qosClass": "Burstable",
                "conditions": [
                    {"type": "PodReadyToStartContainers", "status": "True"},
                    {"type": "Initialized", "status": "True"},
                    {"type": "Ready", "status": "True"},
                    {"type": "ContainersReady", "status": "True"},
                    {"type": "PodScheduled", "status": "True"}
                ],
                "containerStatuses": [{
                    "name": "nginx", "ready": true, "restartCount": 1,
                    "image": "docker.io/library/nginx:1.27",
                    "imageID": "docker.io/library/nginx@sha256:0123",
                    "containerID": "containerd://abc123",
                    "state": {"running": {"startedAt": "2024-08-13T00:00:04Z"}},
                    "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                                                  "startedAt": "2024-08-13T00:00:02Z", "finishedAt": "2024-08-13T00:00:03Z"}}
                }]
            }
        })
    }

    #[test]
    fn running_pod_page_matches_describe_pod() {
        // describePod → describeContainers (basic info, state with Last State, resources,
        // probes, env with valueFrom, mounts by path) → Conditions → describeVolumes
        // (EmptyDir, Projected) → QoS → Node-Selectors → Tolerations → Events.
        let want = "\
Name:             web-7d4b9c-x2x9q
Namespace:        default
Priority:         0
Service Account:  default
Node:             node-1/10.0.0.2
Start Time:       Tue, 13 Aug 2024 00:00:01 +0000
Labels:           app=web
                  pod-template-hash=7d4b9c
Annotations:      <none>
Status:           Running
IP:               10.244.1.5
IPs:
  IP:           10.244.1.5
Controlled By:  ReplicaSet/web-7d4b9c
Containers:
  nginx:
    Container ID:   containerd://abc123
    Image:          nginx:1.27
    Image ID:       docker.io/library/nginx@sha256:0123
    Port:           80/TCP
    Host Port:      0/TCP
    State:          Running
      Started:      Tue, 13 Aug 2024 00:00:04 +0000
    Last State:     Terminated
      Reason:       OOMKilled
      Exit Code:    137
      Started:      Tue, 13 Aug 2024 00:00:02 +0000
      Finished:     Tue, 13 Aug 2024 00:00:03 +0000
    Ready:          True
    Restart Count:  1
    Limits:
      memory:  128Mi
    Requests:
      cpu:      250m
      memory:   64Mi
    Liveness:   http-get http://:80/healthz delay=3s timeout=1s period=10s #success=1 #failure=3
    Readiness:  exec [cat /tmp/ready] delay=0s timeout=1s period=5s #success=1 #failure=3
    Environment:
      MODE:       prod
      POD_NAME:   web-7d4b9c-x2x9q (v1:metadata.name)
      NODE:        (v1:spec.nodeName)
      CPU_LIMIT:  node allocatable (limits.cpu)
      MEM_REQ:    64 (requests.memory)
      PASSWORD:   <set to the key 'password' in secret 'db'>  Optional: false
    Mounts:
      /data from data (rw,path=\"web\")
      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-abcde (ro)
Conditions:
  Type                        Status
  PodReadyToStartContainers   True 
  Initialized                 True 
  Ready                       True 
  ContainersReady             True 
  PodScheduled                True 
Volumes:
  data:
    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)
    Medium:     
    SizeLimit:  <unset>
  kube-api-access-abcde:
    Type:                    Projected (a volume that contains injected data from multiple sources)
    TokenExpirationSeconds:  3607
    ConfigMapName:           kube-root-ca.crt
    ConfigMapOptional:       <nil>
    DownwardAPI:             true
QoS Class:                   Burstable
Node-Selectors:              <none>
Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                             node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
Events:                      <none>
";
        assert_eq!(page(&running_pod(), &[]), want);
    }

    #[test]
    fn pending_pod_without_statuses() {
        // No container statuses: no Container ID / Image ID / State / Ready lines; an
        // unscheduled pod's Node is <none>; no IPs; QoS computed when status has none.
        let pod = json!({
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"containers": [{"name": "web", "image": "nginx", "command": ["sh", "-c", "echo hi\nsleep 1"]}]},
            "status": {"phase": "Pending"}
        });
        let want = "\
Name:         web
Namespace:    default
Node:         <none>
Labels:       <none>
Annotations:  <none>
Status:       Pending
IP:           
IPs:          <none>
Containers:
  web:
    Image:      nginx
    Port:       <none>
    Host Port:  <none>
    Command:
      sh
      -c
      echo hi
      sleep 1
    Environment:  <none>
    Mounts:       <none>
Volumes:          <none>
QoS Class:        BestEffort
Node-Selectors:   <none>
Tolerations:      <none>
Events:           <none>
";
        assert_eq!(page(&pod, &[]), want);
    }

    #[test]
    fn terminating_pod_with_waiting_init_container_and_gates() {
        let pod = json!({
            "metadata": {"name": "job", "namespace": "ns", "deletionTimestamp": "2024-08-13T00:09:30Z",
                         "deletionGracePeriodSeconds": 30},
            "spec": {
                "priorityClassName": "high", "priority": 1000,
                "initContainers": [{"name": "init", "image": "busybox"}],
                "containers": [{"name": "main", "image": "busybox",
                                "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 53, "hostPort": 53, "protocol": "UDP"}]}],
                "readinessGates": [{"conditionType": "example.com/ready"}],
                "nodeSelector": {"disk": "ssd"},
                "volumes": [{"name": "cfg", "configMap": {"name": "app-config"}}, {"name": "odd", "rbd": {}}]
            },
            "status": {
                "phase": "Pending", "reason": "Evicted", "message": "The node was low on resource",
                "nominatedNodeName": "node-2",
                "initContainerStatuses": [{"name": "init", "state": {"waiting": {"reason": "PodInitializing"}}}],
                "containerStatuses": [{"name": "main", "state": {}}]
            }
        });
        let want = "\
Name:                      job
Namespace:                 ns
Priority:                  1000
Priority Class Name:       high
Node:                      <none>
Labels:                    <none>
Annotations:               <none>
Status:                    Terminating (lasts 30s)
Termination Grace Period:  30s
Reason:                    Evicted
Message:                   The node was low on resource
IP:                        
IPs:                       <none>
NominatedNodeName:         node-2
Init Containers:
  init:
    Container ID:   
    Image:          busybox
    Image ID:       
    Port:           <none>
    Host Port:      <none>
    State:          Waiting
      Reason:       PodInitializing
    Ready:          False
    Restart Count:  0
    Environment:    <none>
    Mounts:         <none>
Containers:
  main:
    Container ID:   
    Image:          busybox
    Image ID:       
    Ports:          80/TCP, 53/UDP
    Host Ports:     0/TCP, 53/UDP
    State:          Waiting
    Ready:          False
    Restart Count:  0
    Environment:    <none>
    Mounts:         <none>
Readiness Gates:
  Type                Status
  example.com/ready   <none> 
Volumes:
  cfg:
    Type:      ConfigMap (a volume populated by a ConfigMap)
    Name:      app-config
    Optional:  false
  odd:
  <unknown>
QoS Class:       BestEffort
Node-Selectors:  disk=ssd
Tolerations:     <none>
Events:          <none>
";
        assert_eq!(page(&pod, &[]), want);
    }

    #[test]
    fn probes_and_qos() {
        // DescribeProbe for each handler; url.URL.String for http-get.
        let cases = [
            (json!({"httpGet": {"port": "http", "host": "example.com", "path": "ready me", "scheme": "HTTPS"}}),
             "http-get https://example.com:http/ready%20me delay=0s timeout=0s period=0s #success=0 #failure=0"),
            (json!({"httpGet": {"port": 8080}}), "http-get //:8080 delay=0s timeout=0s period=0s #success=0 #failure=0"),
            (json!({"tcpSocket": {"port": 6379}, "periodSeconds": 2}),
             "tcp-socket :6379 delay=0s timeout=0s period=2s #success=0 #failure=0"),
            (json!({"grpc": {"port": 9000, "service": "health"}}),
             "grpc <pod>:9000 health delay=0s timeout=0s period=0s #success=0 #failure=0"),
            (json!({}), "unknown delay=0s timeout=0s period=0s #success=0 #failure=0"),
        ];
        for (probe, want) in cases {
            assert_eq!(describe_probe(&probe), want);
        }
        let res = |r: Value| json!({"containers": [{"name": "a", "resources": r}]});
        assert_eq!(compute_qos(&res(json!({}))), "BestEffort");
        assert_eq!(
            compute_qos(&res(
                json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1000m", "memory": "1Gi"}})
            )),
            "Guaranteed"
        );
        assert_eq!(
            compute_qos(&res(
                json!({"limits": {"cpu": "1"}, "requests": {"cpu": "1"}})
            )),
            "Burstable"
        );
    }

    #[test]
    fn pod_template_section() {
        // DescribePodTemplate: "  Labels" title, container names indented three spaces,
        // volumes with a one-space name indent.
        let mut w = PrefixWriter::default();
        describe_pod_template(
            &mut w,
            &json!({
                "metadata": {"labels": {"app": "nginx"}, "annotations": {"note": "x"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2", "ports": [{"containerPort": 80, "protocol": "TCP"}]}],
                         "volumes": [{"name": "host", "hostPath": {"path": "/var/log"}}]}
            }),
        );
        assert_eq!(
            w.finish(),
            "\
Pod Template:
  Labels:       app=nginx
  Annotations:  note: x
  Containers:
   nginx:
    Image:        nginx:1.14.2
    Port:         80/TCP
    Host Port:    0/TCP
    Environment:  <none>
    Mounts:       <none>
  Volumes:
   host:
    Type:          HostPath (bare host directory volume)
    Path:          /var/log
    HostPathType:  <none>
  Node-Selectors:  <none>
  Tolerations:     <none>
"
        );
    }
}
