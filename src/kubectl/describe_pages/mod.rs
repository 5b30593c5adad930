//! The page `kubectl describe` prints for each kind, as kubectl v1.31 lays it out
//! (staging/src/k8s.io/kubectl/pkg/describe/describe.go).
//!
//! Each describer writes the same format strings as upstream through a [`PrefixWriter`],
//! whose text goes through a port of Go's tabwriter, so section names, alignment and the
//! `<none>` / `<unset>` conventions come out as kubectl prints them. Objects arrive as the
//! API server's JSON; a missing or mistyped field reads as Go's zero value, never a panic.
//!
//! Where upstream iterates a Go map (ConfigMap and Secret data, LimitRange resources) its
//! order is random; here it is sorted. Times are printed in UTC (kubectl uses the local
//! zone).

mod config;
mod generic;
mod network;
mod node;
mod pod;
mod rbac;
pub mod tabwriter;
mod workloads;

/// `DescribePodTemplate` into a plain buffer, as `kubectl rollout history
/// --revision` prints a revision's template.
pub fn pod_template_raw(template: &Value) -> String {
    let mut w = tabwriter::PrefixWriter::default();
    pod::describe_pod_template(&mut w, template);
    w.raw()
}

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::api::quantity::Quantity;
use crate::api::time::{civil, human_duration, MicroTime, EPOCH_UNIX};
use crate::kernel::Nanos;
pub use network::ingress_backend_services;
pub use tabwriter::PrefixWriter;
use tabwriter::{LEVEL_0, LEVEL_1};

/// What a describer needs beyond the object and its Events; `describe.rs` fetches it
/// through the API as upstream's describers do.
#[derive(Clone, Debug, Default)]
pub struct Related {
    /// Node: its non-terminated pods (`Err` when forbidden: "not authorized").
    /// ReplicaSet, ReplicationController: the pods their selector matches.
    pub pods: Option<Result<Vec<Value>, String>>,
    /// Node: its Lease in kube-node-lease, or the error text of the failed get.
    pub lease: Option<Result<Value, String>>,
    /// Namespace: its ResourceQuotas and LimitRanges (`None`: not shown).
    pub quotas: Option<Vec<Value>>,
    pub limit_ranges: Option<Vec<Value>>,
    /// Deployment: the ReplicaSets its selector matches (`None`: the list failed).
    pub replica_sets: Option<Vec<Value>>,
    /// Service: the EndpointSlices labelled with its name.
    pub endpoint_slices: Vec<Value>,
    /// ServiceAccount: the Secrets of its namespace (`None`: the list failed).
    pub secrets: Option<Vec<Value>>,
    /// Ingress: per backend Service name, the Service and its EndpointSlices, or the
    /// error text of the failed request.
    pub backends: BTreeMap<String, Result<(Value, Vec<Value>), String>>,
}

/// Renders one object's description. `events` is `None` with `--show-events=false`.
/// `Err` carries the error kubectl would print instead of the page.
pub fn describe(
    kind: &str,
    obj: &Value,
    events: Option<&[Value]>,
    rel: &Related,
    now: Nanos,
) -> Result<String, String> {
    let cx = Cx { events, rel, now };
    let mut w = PrefixWriter::default();
    match kind {
        "Pod" => pod::describe_pod(&mut w, obj, &cx),
        "Node" => node::describe_node(&mut w, obj, &cx),
        "Namespace" => config::describe_namespace(&mut w, obj, &cx),
        "Service" => network::describe_service(&mut w, obj, &cx),
        "Endpoints" => network::describe_endpoints(&mut w, obj, &cx),
        "EndpointSlice" => network::describe_endpoint_slice(&mut w, obj, &cx),
        "Ingress" => network::describe_ingress(&mut w, obj, &cx),
        "IngressClass" => network::describe_ingress_class(&mut w, obj, &cx),
        "Deployment" => workloads::describe_deployment(&mut w, obj, &cx)?,
        "ReplicaSet" => workloads::describe_replica_set(&mut w, obj, &cx),
        "ReplicationController" => workloads::describe_replication_controller(&mut w, obj, &cx)?,
        "ConfigMap" => config::describe_config_map(&mut w, obj, &cx),
        "Secret" => config::describe_secret(&mut w, obj),
        "ServiceAccount" => config::describe_service_account(&mut w, obj, &cx),
        "ResourceQuota" => config::describe_quota(&mut w, obj),
        "LimitRange" => config::describe_limit_range(&mut w, obj),
        "PriorityClass" => config::describe_priority_class(&mut w, obj, &cx),
        "Role" | "ClusterRole" => rbac::describe_role(&mut w, obj),
        "RoleBinding" | "ClusterRoleBinding" => rbac::describe_binding(&mut w, obj),
        _ => generic::describe_generic(&mut w, obj, &cx),
    }
    Ok(w.finish())
}

/// The context every describer gets.
pub(crate) struct Cx<'a> {
    pub events: Option<&'a [Value]>,
    pub rel: &'a Related,
    pub now: Nanos,
}

impl Cx<'_> {
    /// `if events != nil { DescribeEvents(events, w) }`.
    pub fn events(&self, w: &mut PrefixWriter) {
        if let Some(ev) = self.events {
            describe_events(w, ev, self.now);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reading JSON as Go reads typed structs: absent or mistyped means the zero value.
// ---------------------------------------------------------------------------------------

/// A string field, or "".
pub(crate) fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// An integer field, or 0.
pub(crate) fn int(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_u64().map(|u| u as i64))
        .or_else(|| v.as_f64().map(|f| f as i64))
        .unwrap_or(0)
}

/// A boolean field, or false.
pub(crate) fn boolean(v: &Value) -> bool {
    v.as_bool().unwrap_or(false)
}

/// A list field, or empty.
pub(crate) fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// The strings of a list field.
pub(crate) fn strs(v: &Value) -> Vec<&str> {
    arr(v).iter().map(s).collect()
}

/// An object field, or empty.
pub(crate) fn obj_map(v: &Value) -> Option<&Map<String, Value>> {
    v.as_object()
}

/// A `map[string]string` field, sorted by key (non-string values read as "").
pub(crate) fn str_map(v: &Value) -> BTreeMap<&str, &str> {
    obj_map(v)
        .map(|m| m.iter().map(|(k, v)| (k.as_str(), s(v))).collect())
        .unwrap_or_default()
}

/// A quantity field (`resource.Quantity`), zero when absent or unparsable.
pub(crate) fn quantity(v: &Value) -> Quantity {
    match v {
        Value::String(t) => Quantity::parse(t).unwrap_or_default(),
        Value::Number(n) => Quantity::parse(&n.to_string()).unwrap_or_default(),
        _ => Quantity::zero(),
    }
}

/// A `ResourceList` field, sorted by resource name.
pub(crate) fn resource_list(v: &Value) -> BTreeMap<String, Quantity> {
    obj_map(v)
        .map(|m| m.iter().map(|(k, q)| (k.clone(), quantity(q))).collect())
        .unwrap_or_default()
}

/// Go's `%v` of a `[]string`: `[a b c]`.
pub(crate) fn go_list(items: &[&str]) -> String {
    format!("[{}]", items.join(" "))
}

/// `stringOrNone`.
pub(crate) fn or_none(v: &str) -> String {
    if v.is_empty() {
        "<none>".into()
    } else {
        v.to_string()
    }
}

/// `printBool`: `True` / `False`.
pub(crate) fn print_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// `int64(f)` of a float64 as Go computes it on amd64: NaN, infinities and values out of
/// range become the minimum int64.
pub(crate) fn go_f64_to_i64(f: f64) -> i64 {
    let two_63 = -(i64::MIN as f64);
    if f.is_finite() && f >= -two_63 && f < two_63 {
        f as i64
    } else {
        i64::MIN
    }
}

// ---------------------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------------------

/// Unix microseconds of a metav1.Time or MicroTime field; `None` for the zero time.
pub(crate) fn micros(v: &Value) -> Option<i64> {
    v.as_str().and_then(MicroTime::parse).map(|m| m.0)
}

/// `t.Format(time.RFC1123Z)` (`Mon, 02 Jan 2006 15:04:05 -0700`) in UTC; the zero time
/// when the field is absent, as Go formats a nil-valued metav1.Time.
pub(crate) fn rfc1123z(v: &Value) -> String {
    let secs = micros(v)
        .map(|m| m.div_euclid(1_000_000))
        .unwrap_or(-62_135_596_800);
    rfc1123z_secs(secs)
}

pub(crate) fn rfc1123z_secs(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, mo, d, h, mi, sec) = civil(secs);
    // 1970-01-01 was a Thursday.
    let wd = (secs.div_euclid(86_400) + 4).rem_euclid(7) as usize;
    let month = MONTHS[((mo - 1).clamp(0, 11)) as usize];
    format!(
        "{}, {d:02} {month} {y:04} {h:02}:{mi:02}:{sec:02} +0000",
        DAYS[wd]
    )
}

/// `translateTimestampSince` / `translateMicroTimestampSince`: the age of a timestamp,
/// `<unknown>` for the zero time.
pub(crate) fn since(v: &Value, now: Nanos) -> String {
    match micros(v) {
        None => "<unknown>".into(),
        Some(m) => {
            let now_micros = EPOCH_UNIX as i128 * 1_000_000 + (now / 1000) as i128;
            let d = now_micros - m as i128;
            // Go truncates the duration's seconds toward zero.
            human_duration((d / 1_000_000) as i64)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Shared sections
// ---------------------------------------------------------------------------------------

/// The annotation `printAnnotationsMultiline` always skips.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
const MAX_ANNOTATION_LEN: usize = 140;

/// `printLabelsMultiline(w, title, labels)`.
pub(crate) fn labels_multiline(w: &mut PrefixWriter, title: &str, labels: &Value) {
    labels_multiline_indent(w, "", title, "\t", labels);
}

/// `printLabelsMultilineWithIndent`.
pub(crate) fn labels_multiline_indent(
    w: &mut PrefixWriter,
    initial_indent: &str,
    title: &str,
    inner_indent: &str,
    labels: &Value,
) {
    w.write(LEVEL_0, &format!("{initial_indent}{title}:{inner_indent}"));
    let m = str_map(labels);
    if m.is_empty() {
        w.write_line("<none>");
        return;
    }
    for (i, (k, v)) in m.iter().enumerate() {
        if i != 0 {
            w.write(LEVEL_0, initial_indent);
            w.write(LEVEL_0, inner_indent);
        }
        w.write(LEVEL_0, &format!("{k}={v}\n"));
    }
}

/// `printAnnotationsMultiline`: long or multi-line values go below their key, each line
/// cut at 138 bytes.
pub(crate) fn annotations_multiline(w: &mut PrefixWriter, title: &str, annotations: &Value) {
    w.write(LEVEL_0, &format!("{title}:\t"));
    let m = str_map(annotations);
    let keys: Vec<(&str, &str)> = m.into_iter().filter(|(k, _)| *k != LAST_APPLIED).collect();
    if keys.is_empty() {
        w.write_line("<none>");
        return;
    }
    let indent = "\t";
    for (i, (key, value)) in keys.into_iter().enumerate() {
        if i != 0 {
            w.write(LEVEL_0, indent);
        }
        let value = value.strip_suffix('\n').unwrap_or(value);
        if value.len() + key.len() + 2 > MAX_ANNOTATION_LEN || value.contains('\n') {
            w.write(LEVEL_0, &format!("{key}:\n"));
            for line in value.split('\n') {
                w.write(
                    LEVEL_0,
                    &format!("{indent}  {}\n", shorten(line, MAX_ANNOTATION_LEN - 2)),
                );
            }
        } else {
            w.write(LEVEL_0, &format!("{key}: {value}\n"));
        }
    }
}

/// `shorten`: the first `max` bytes and `...` (cut back to a character boundary, where Go
/// would cut a multi-byte character in two).
pub(crate) fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// `DescribeEvents`: the Events table, oldest `lastTimestamp` first.
pub(crate) fn describe_events(w: &mut PrefixWriter, events: &[Value], now: Nanos) {
    if events.is_empty() {
        w.write(LEVEL_0, "Events:\t<none>\n");
        return;
    }
    let mut sorted: Vec<&Value> = events.iter().collect();
    sorted.sort_by_key(|e| micros(&e["lastTimestamp"]).unwrap_or(i64::MIN));
    w.write(LEVEL_0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    w.write(LEVEL_1, "----\t------\t----\t----\t-------\n");
    for e in sorted {
        let first = if micros(&e["eventTime"]).is_none() {
            since(&e["firstTimestamp"], now)
        } else {
            since(&e["eventTime"], now)
        };
        let series = &e["series"];
        let interval = if series.is_object() {
            format!(
                "{} (x{} over {first})",
                since(&series["lastObservedTime"], now),
                int(&series["count"])
            )
        } else if int(&e["count"]) > 1 {
            format!(
                "{} (x{} over {first})",
                since(&e["lastTimestamp"], now),
                int(&e["count"])
            )
        } else {
            first
        };
        let mut source = s(&e["source"]["component"]);
        if source.is_empty() {
            source = s(&e["reportingComponent"]);
        }
        w.write(
            LEVEL_1,
            &format!(
                "{}\t{}\t{interval}\t{source}\t{}\n",
                s(&e["type"]),
                s(&e["reason"]),
                s(&e["message"]).trim()
            ),
        );
    }
}

/// `labels.FormatLabels`: `k=v,k2=v2` sorted, or `<none>`.
pub(crate) fn format_labels(m: &Value) -> String {
    let text = str_map(m)
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    or_none(&text)
}

/// `metav1.LabelSelectorAsSelector(sel).String()`; `Err` when the selector is invalid.
pub(crate) fn selector_string(sel: &Value) -> Result<String, String> {
    if sel.is_null() {
        return Ok(String::new());
    }
    let ls: crate::api::labels::LabelSelector =
        serde_json::from_value(sel.clone()).map_err(|e| e.to_string())?;
    ls.to_selector()
        .map(|s| s.to_string())
        .map_err(|e| e.to_string())
}

/// `labels.SelectorFromSet(set).String()`: `k=v,...` sorted, "" for an empty set.
pub(crate) fn set_selector_string(m: &Value) -> String {
    str_map(m)
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `metav1.FormatLabelSelector`: `<error>` for an invalid selector, `<none>` for an empty
/// string.
pub(crate) fn format_label_selector(sel: &Value) -> String {
    match selector_string(sel) {
        Err(_) => "<error>".into(),
        Ok(t) => or_none(&t),
    }
}

/// `printController`: `Kind/Name` of the controlling owner reference, or "".
pub(crate) fn controlled_by(obj: &Value) -> String {
    arr(&obj["metadata"]["ownerReferences"])
        .iter()
        .find(|r| boolean(&r["controller"]))
        .map(|r| format!("{}/{}", s(&r["kind"]), s(&r["name"])))
        .unwrap_or_default()
}

/// The uid of the controlling owner reference (`metav1.GetControllerOf`).
pub(crate) fn controller_uid(obj: &Value) -> Option<&str> {
    arr(&obj["metadata"]["ownerReferences"])
        .iter()
        .find(|r| boolean(&r["controller"]))
        .map(|r| s(&r["uid"]))
}

/// `printPodTolerationsMultiline`, sorted by key.
pub(crate) fn tolerations_multiline(
    w: &mut PrefixWriter,
    initial_indent: &str,
    title: &str,
    tolerations: &Value,
) {
    let inner_indent = "\t";
    w.write(LEVEL_0, &format!("{initial_indent}{title}:{inner_indent}"));
    let mut list: Vec<&Value> = arr(tolerations).iter().collect();
    if list.is_empty() {
        w.write_line("<none>");
        return;
    }
    list.sort_by(|a, b| s(&a["key"]).cmp(s(&b["key"])));
    for (i, t) in list.into_iter().enumerate() {
        if i != 0 {
            w.write(LEVEL_0, initial_indent);
            w.write(LEVEL_0, inner_indent);
        }
        let (key, value, effect) = (s(&t["key"]), s(&t["value"]), s(&t["effect"]));
        let mut text = key.to_string();
        if !value.is_empty() {
            text.push_str(&format!("={value}"));
        }
        if !effect.is_empty() {
            text.push_str(&format!(":{effect}"));
        }
        if s(&t["operator"]) == "Exists" && value.is_empty() {
            if !key.is_empty() || !effect.is_empty() {
                text.push_str(" op=Exists");
            } else {
                text.push_str("op=Exists");
            }
        }
        if !t["tolerationSeconds"].is_null() {
            text.push_str(&format!(" for {}s", int(&t["tolerationSeconds"])));
        }
        text.push('\n');
        w.write(LEVEL_0, &text);
    }
}

/// Names of a list of `{name: ...}` references.
pub(crate) fn names_of(v: &Value) -> Vec<&str> {
    arr(v).iter().map(|r| s(&r["name"])).collect()
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use serde_json::json;

    use super::*;

    /// 2024-08-13T00:10:00Z in virtual time.
    pub(crate) const NOW: Nanos = 600 * 1_000_000_000;

    #[test]
    fn times_format_as_rfc1123z_in_utc() {
        assert_eq!(
            rfc1123z(&json!("2024-08-13T00:00:05Z")),
            "Tue, 13 Aug 2024 00:00:05 +0000"
        );
        // Go's zero time, which kubectl prints for an absent timestamp.
        assert_eq!(rfc1123z(&Value::Null), "Mon, 01 Jan 0001 00:00:00 +0000");
        assert_eq!(
            rfc1123z(&json!("2021-01-01T00:00:00Z")),
            "Fri, 01 Jan 2021 00:00:00 +0000"
        );
        assert_eq!(since(&json!("2024-08-13T00:09:00Z"), NOW), "60s");
        assert_eq!(since(&json!("2024-08-13T00:00:00.500000Z"), NOW), "9m59s");
        assert_eq!(since(&Value::Null, NOW), "<unknown>");
    }

    #[test]
    fn labels_and_annotations_follow_print_multiline() {
        // printLabelsMultiline / printAnnotationsMultiline: sorted keys, continuation
        // lines start with a tab, last-applied-configuration skipped, long values below.
        let long = "x".repeat(150);
        let mut w = PrefixWriter::default();
        labels_multiline(&mut w, "Labels", &json!({"b": "2", "a": "1"}));
        annotations_multiline(
            &mut w,
            "Annotations",
            &json!({LAST_APPLIED: "{}", "k": "v", "long": long, "multi": "l1\nl2\n"}),
        );
        labels_multiline(&mut w, "Node-Selectors", &json!({}));
        let want = format!(
            "Labels:          a=1\n                 b=2\nAnnotations:     k: v\n                 long:\n                   {}...\n                 multi:\n                   l1\n                   l2\nNode-Selectors:  <none>\n",
            "x".repeat(138)
        );
        assert_eq!(w.finish(), want);
    }

    #[test]
    fn events_table_matches_describe_events() {
        // DescribeEvents: sorted by lastTimestamp; "(xN over AGE)" when count > 1; the
        // source falls back to reportingComponent; columns padded by 2.
        let events = vec![
            json!({"type": "Normal", "reason": "Started", "message": "Started container web ",
                   "source": {"component": "kubelet"}, "count": 1,
                   "firstTimestamp": "2024-08-13T00:09:50Z", "lastTimestamp": "2024-08-13T00:09:50Z"}),
            json!({"type": "Normal", "reason": "Scheduled", "message": "Successfully assigned default/web to node-1",
                   "reportingComponent": "default-scheduler", "eventTime": "2024-08-13T00:09:40.000000Z"}),
            json!({"type": "Warning", "reason": "BackOff", "message": "Back-off",
                   "source": {"component": "kubelet"}, "count": 3,
                   "firstTimestamp": "2024-08-13T00:05:00Z", "lastTimestamp": "2024-08-13T00:09:55Z"}),
        ];
        let mut w = PrefixWriter::default();
        w.write(LEVEL_0, "Name:\tweb\n");
        describe_events(&mut w, &events, NOW);
        assert_eq!(
            w.finish(),
            "Name:  web
Events:
  Type     Reason     Age              From               Message
  ----     ------     ----             ----               -------
  Normal   Scheduled  20s              default-scheduler  Successfully assigned default/web to node-1
  Normal   Started    10s              kubelet            Started container web
  Warning  BackOff    5s (x3 over 5m)  kubelet            Back-off
"
        );
        let mut w = PrefixWriter::default();
        w.write(LEVEL_0, "Name:\tweb\n");
        describe_events(&mut w, &[], NOW);
        assert_eq!(w.finish(), "Name:    web\nEvents:  <none>\n");
    }

    #[test]
    fn float_to_int_as_go_on_amd64() {
        // The node page's percentages: 0/0 and x/0 print the minimum int64.
        assert_eq!(go_f64_to_i64(31.25), 31);
        assert_eq!(go_f64_to_i64(-0.5), 0);
        assert_eq!(go_f64_to_i64(f64::NAN), i64::MIN);
        assert_eq!(go_f64_to_i64(f64::INFINITY), i64::MIN);
        assert_eq!(go_f64_to_i64(1e19), i64::MIN);
    }

    #[test]
    fn tolerations_print_like_kubectl() {
        let mut w = PrefixWriter::default();
        tolerations_multiline(
            &mut w,
            "",
            "Tolerations",
            &json!([
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"operator": "Exists"},
                {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
            ]),
        );
        assert_eq!(
            w.finish(),
            "Tolerations:  op=Exists\n              dedicated=gpu:NoSchedule\n              node.kubernetes.io/unreachable:NoExecute op=Exists for 300s\n"
        );
    }

    #[test]
    fn every_kind_survives_garbage() {
        // Panic-free on any JSON: wrong types and missing fields read as zero values.
        let kinds = [
            "Pod",
            "Node",
            "Namespace",
            "Service",
            "Endpoints",
            "EndpointSlice",
            "Ingress",
            "IngressClass",
            "Deployment",
            "ReplicaSet",
            "ReplicationController",
            "ConfigMap",
            "Secret",
            "ServiceAccount",
            "ResourceQuota",
            "LimitRange",
            "PriorityClass",
            "Role",
            "ClusterRole",
            "RoleBinding",
            "ClusterRoleBinding",
            "Lease",
            "Event",
            "Widget",
        ];
        let garbage = [
            json!(null),
            json!(7),
            json!("x"),
            json!([1, 2]),
            json!({"metadata": 5, "spec": "x", "status": [1], "data": 3, "rules": {"a": 1}}),
            json!({"metadata": {"name": 1, "labels": [1], "annotations": {"a": 1}, "ownerReferences": [{"controller": true}]},
                   "spec": {"containers": [{"ports": [{}], "env": [{"valueFrom": {}}], "livenessProbe": {"httpGet": {}}, "resources": {"limits": {"cpu": "bogus"}}}],
                            "volumes": [{"name": "v"}], "selector": {"matchExpressions": [{"operator": "Bad"}]},
                            "ports": [{"targetPort": "x"}], "rules": [{"http": {"paths": [{}]}}], "template": 3, "replicas": "x",
                            "limits": [{"max": {"cpu": 1}}], "taints": [{}], "tolerations": [{}]},
                   "status": {"conditions": [{}], "containerStatuses": [{"state": {"terminated": {}}}], "hard": {"pods": "x"},
                              "capacity": {"cpu": "1"}, "loadBalancer": {"ingress": [{}]}},
                   "subsets": [{"ports": [{}]}], "endpoints": [{"addresses": []}], "ports": [{}], "data": {"k": 1},
                   "subjects": [{}], "rules": [{"verbs": ["get"], "nonResourceURLs": ["/x"]}, {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
        ];
        let rel = Related {
            pods: Some(Ok(vec![json!({"spec": 1}), json!(null)])),
            lease: Some(Ok(json!({"spec": {"renewTime": 5}}))),
            quotas: Some(vec![json!({"status": {"hard": {"x": 1}}})]),
            limit_ranges: Some(vec![json!(null)]),
            replica_sets: Some(vec![json!({"spec": {"template": null}})]),
            endpoint_slices: vec![json!({"ports": [{}], "endpoints": [{}]})],
            secrets: Some(vec![json!({"type": 3})]),
            backends: BTreeMap::new(),
        };
        let events = [json!({"count": "x", "series": {"count": []}}), json!(1)];
        for kind in kinds {
            for g in &garbage {
                let _ = describe(kind, g, Some(&events), &rel, NOW);
                let _ = describe(kind, g, None, &Related::default(), NOW);
            }
        }
    }
}
