//! Kinds without their own describer (Lease, Event, ...): genericDescriber, which prints
//! the object's fields with `printUnstructuredContent`.

use serde_json::{Map, Value};

use super::tabwriter::{PrefixWriter, LEVEL_0};
use super::{annotations_multiline, labels_multiline, s, Cx};

/// Fields the generic describer leaves out (already printed, or noise).
const SKIP: &[&str] = &[
    ".metadata.managedFields",
    ".metadata.name",
    ".metadata.namespace",
    ".metadata.labels",
    ".metadata.annotations",
];

/// `genericDescriber.Describe`.
pub(crate) fn describe_generic(w: &mut PrefixWriter, obj: &Value, cx: &Cx) {
    let m = &obj["metadata"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    w.write(LEVEL_0, &format!("Namespace:\t{}\n", s(&m["namespace"])));
    labels_multiline(w, "Labels", &m["labels"]);
    annotations_multiline(w, "Annotations", &m["annotations"]);
    if let Some(content) = obj.as_object() {
        print_unstructured(w, 0, content, "");
    }
    cx.events(w);
}

/// `printUnstructuredContent`: fields sorted, maps and lists as nested sections.
fn print_unstructured(
    w: &mut PrefixWriter,
    level: usize,
    content: &Map<String, Value>,
    prefix: &str,
) {
    // serde_json's map is ordered by key, as Go's sort.Strings orders the fields.
    for (field, value) in content {
        let path = format!("{prefix}.{field}");
        if SKIP.contains(&path.as_str()) {
            continue;
        }
        match value {
            Value::Object(m) => {
                w.write(level, &format!("{}:\n", smart_label(field)));
                print_unstructured(w, level + 1, m, &path);
            }
            Value::Array(items) => {
                w.write(level, &format!("{}:\n", smart_label(field)));
                for item in items {
                    match item {
                        Value::Object(m) => print_unstructured(w, level + 1, m, &path),
                        other => w.write(level + 1, &format!("{}\n", go_value(other))),
                    }
                }
            }
            other => w.write(
                level,
                &format!("{}:\t{}\n", smart_label(field), go_value(other)),
            ),
        }
    }
}

/// Go's `%v` of a decoded JSON scalar: integers as integers, other numbers as `%g`
/// does (shortest form, exponent from 1e21), `<nil>` for null.
fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::String(t) => t.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else if let Some(u) = n.as_u64() {
                u.to_string()
            } else {
                go_float(n.as_f64().unwrap_or(0.0))
            }
        }
        other => other.to_string(),
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`: shortest digits, `%e` style below 1e-4 or from
/// 1e21.
fn go_float(f: f64) -> String {
    if f == 0.0 || !f.is_finite() {
        return match f {
            x if x.is_nan() => "NaN".into(),
            x if x == f64::INFINITY => "+Inf".into(),
            x if x == f64::NEG_INFINITY => "-Inf".into(),
            _ => "0".into(),
        };
    }
    let exp = f.abs().log10().floor() as i32;
    if !(-4..21).contains(&exp) {
        // Rust's {:e} gives the shortest mantissa: 1.5e-7 → Go writes 1.5e-07.
        let t = format!("{f:e}");
        let (mant, e) = t.split_once('e').unwrap_or((&t, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", e.abs())
    } else {
        format!("{f}")
    }
}

/// `smartLabelFor`: `podCIDRs` → `Pod CID Rs`, `apiVersion` → `API Version`; a field
/// with characters other than letters and `-` stays as it is.
fn smart_label(field: &str) -> String {
    if field.chars().any(|c| !c.is_alphabetic() && c != '-') {
        return field.to_string();
    }
    const ACRONYMS: &[&str] = &["API", "URL", "UID", "OSB", "GUID"];
    camelcase_split(field)
        .into_iter()
        .filter(|p| p != "_")
        .map(|p| {
            let upper = p.to_uppercase();
            if ACRONYMS.contains(&upper.as_str()) {
                upper
            } else {
                title(&p)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `strings.Title` of one word made of letters: its first letter upper-cased.
fn title(word: &str) -> String {
    let mut c = word.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `camelcase.Split` (fatih/camelcase): runs of lower, upper, digit and other
/// characters, an upper run's last letter moving to a following lower run.
fn camelcase_split(src: &str) -> Vec<String> {
    let class = |c: char| {
        if c.is_lowercase() {
            1
        } else if c.is_uppercase() {
            2
        } else if c.is_numeric() {
            3
        } else {
            4
        }
    };
    let mut runs: Vec<Vec<char>> = Vec::new();
    let mut last = 0;
    for c in src.chars() {
        let k = class(c);
        match runs.last_mut() {
            Some(run) if k == last => run.push(c),
            _ => runs.push(vec![c]),
        }
        last = k;
    }
    for i in 0..runs.len().saturating_sub(1) {
        let upper_then_lower = runs[i].first().is_some_and(|c| c.is_uppercase())
            && runs[i + 1].first().is_some_and(|c| c.is_lowercase());
        if upper_then_lower {
            if let Some(moved) = runs[i].pop() {
                runs[i + 1].insert(0, moved);
            }
        }
    }
    runs.into_iter()
        .filter(|r| !r.is_empty())
        .map(|r| r.into_iter().collect())
        .collect()
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use serde_json::json;

    use super::super::tests::NOW;
    use super::super::{describe, Related};
    use super::*;

    #[test]
    fn smart_labels() {
        for (field, want) in [
            ("apiVersion", "API Version"),
            ("holderIdentity", "Holder Identity"),
            ("uid", "UID"),
            ("podCIDRs", "Pod CID Rs"),
            ("dummy-dummy", "Dummy - Dummy"),
            ("dummy2", "dummy2"),
            ("kubernetes.io/hostname", "kubernetes.io/hostname"),
            ("PDFLoader", "PDF Loader"),
        ] {
            assert_eq!(smart_label(field), want, "{field}");
        }
        assert_eq!(go_float(0.5), "0.5");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1.5e-7), "1.5e-07");
        assert_eq!(go_float(123456.0), "123456");
    }

    #[test]
    fn lease_page_is_the_generic_one() {
        // genericDescriber: Name, Namespace, Labels, Annotations, then every other field
        // with smartLabelFor, nested maps and lists indented, metadata's printed fields
        // skipped, then Events.
        let lease = json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "node-1", "namespace": "kube-node-lease", "uid": "l1",
                         "resourceVersion": "42", "creationTimestamp": "2024-08-13T00:00:00Z",
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": "node-1", "uid": "n1"}],
                         "managedFields": [{"manager": "kubelet"}]},
            "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40,
                     "renewTime": "2024-08-13T00:09:50.000000Z"}
        });
        let got = describe("Lease", &lease, Some(&[]), &Related::default(), NOW).unwrap();
        let want = "\
Name:         node-1
Namespace:    kube-node-lease
Labels:       <none>
Annotations:  <none>
API Version:  coordination.k8s.io/v1
Kind:         Lease
Metadata:
  Creation Timestamp:  2024-08-13T00:00:00Z
  Owner References:
    API Version:     v1
    Kind:            Node
    Name:            node-1
    UID:             n1
  Resource Version:  42
  UID:               l1
Spec:
  Holder Identity:         node-1
  Lease Duration Seconds:  40
  Renew Time:              2024-08-13T00:09:50.000000Z
Events:                    <none>
";
        assert_eq!(got, want);
    }

    #[test]
    fn event_page_is_the_generic_one() {
        // A map field is a section of its own (its line has no tab, so it ends the
        // column above); list and map children are indented one level.
        let event = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web.17e", "namespace": "default", "uid": "e1", "resourceVersion": "5",
                         "creationTimestamp": "2024-08-13T00:00:01Z"},
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": "web", "namespace": "default", "uid": "p1"},
            "reason": "Scheduled", "message": "Successfully assigned default/web to node-1",
            "source": {"component": "default-scheduler"}, "count": 1, "type": "Normal",
            "firstTimestamp": "2024-08-13T00:00:01Z", "lastTimestamp": "2024-08-13T00:00:01Z",
            "reportingComponent": "default-scheduler", "reportingInstance": "", "eventTime": null
        });
        let got = describe("Event", &event, Some(&[]), &Related::default(), NOW).unwrap();
        let want = "\
Name:             web.17e
Namespace:        default
Labels:           <none>
Annotations:      <none>
API Version:      v1
Count:            1
Event Time:       <nil>
First Timestamp:  2024-08-13T00:00:01Z
Involved Object:
  API Version:   v1
  Kind:          Pod
  Name:          web
  Namespace:     default
  UID:           p1
Kind:            Event
Last Timestamp:  2024-08-13T00:00:01Z
Message:         Successfully assigned default/web to node-1
Metadata:
  Creation Timestamp:  2024-08-13T00:00:01Z
  Resource Version:    5
  UID:                 e1
Reason:                Scheduled
Reporting Component:   default-scheduler
Reporting Instance:    
Source:
  Component:  default-scheduler
Type:         Normal
Events:       <none>
";
        assert_eq!(got, want);
    }
}
