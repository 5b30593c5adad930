//! ConfigMaps, Secrets, ServiceAccounts, Namespaces, ResourceQuotas, LimitRanges and
//! PriorityClasses (ConfigMapDescriber, describeSecret, describeServiceAccount,
//! describeNamespace, describeQuota, describeLimitRange, describePriorityClass).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::tabwriter::{PrefixWriter, LEVEL_0, LEVEL_1};
use super::{
    annotations_multiline, arr, format_labels, int, labels_multiline, names_of, obj_map, quantity,
    resource_list, rfc1123z, s, Cx,
};
use crate::api::quantity::Quantity;

/// `ConfigMapDescriber`: each key, `----`, its value; then binary keys with byte counts.
pub(crate) fn describe_config_map(w: &mut PrefixWriter, cm: &Value, cx: &Cx) {
    let m = &cm["metadata"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    w.write(LEVEL_0, &format!("Namespace:\t{}\n", s(&m["namespace"])));
    labels_multiline(w, "Labels", &m["labels"]);
    annotations_multiline(w, "Annotations", &m["annotations"]);
    w.write(LEVEL_0, "\nData\n====\n");
    for (k, v) in obj_map(&cm["data"]).into_iter().flatten() {
        w.write(LEVEL_0, &format!("{k}:\n----\n"));
        w.write(LEVEL_0, &format!("{}\n", s(v)));
        w.write(LEVEL_0, "\n");
    }
    w.write(LEVEL_0, "\nBinaryData\n====\n");
    for (k, v) in obj_map(&cm["binaryData"]).into_iter().flatten() {
        w.write(LEVEL_0, &format!("{k}: {} bytes\n", decoded_len(s(v))));
    }
    w.write(LEVEL_0, "\n");
    cx.events(w);
}

/// Decodes standard base64 (how `[]byte` fields travel in JSON).
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0;
    let trimmed = text.trim_end_matches('=');
    if text.len() % 4 != 0 || text.len() - trimmed.len() > 2 {
        return None;
    }
    for c in trimmed.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn decoded_len(text: &str) -> usize {
    base64_decode(text).map_or(text.len(), |b| b.len())
}

/// `describeSecret`: byte counts, except a service-account token, shown in full.
pub(crate) fn describe_secret(w: &mut PrefixWriter, secret: &Value) {
    let m = &secret["metadata"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    w.write(LEVEL_0, &format!("Namespace:\t{}\n", s(&m["namespace"])));
    labels_multiline(w, "Labels", &m["labels"]);
    annotations_multiline(w, "Annotations", &m["annotations"]);
    let kind = s(&secret["type"]);
    w.write(LEVEL_0, &format!("\nType:\t{kind}\n"));
    w.write(LEVEL_0, "\nData\n====\n");
    for (k, v) in obj_map(&secret["data"]).into_iter().flatten() {
        if k == "token" && kind == "kubernetes.io/service-account-token" {
            let token = base64_decode(s(v)).unwrap_or_default();
            w.write(
                LEVEL_0,
                &format!("{k}:\t{}\n", String::from_utf8_lossy(&token)),
            );
        } else {
            w.write(LEVEL_0, &format!("{k}:\t{} bytes\n", decoded_len(s(v))));
        }
    }
}

/// `describeServiceAccount`: pull secrets, mountable secrets and token Secrets, each
/// missing one marked `(not found)`.
pub(crate) fn describe_service_account(w: &mut PrefixWriter, sa: &Value, cx: &Cx) {
    let m = &sa["metadata"];
    let (name, uid) = (s(&m["name"]), s(&m["uid"]));
    let mut tokens = Vec::new();
    let mut missing = BTreeSet::new();
    if let Some(secrets) = &cx.rel.secrets {
        let existing: BTreeSet<&str> = secrets.iter().map(|x| s(&x["metadata"]["name"])).collect();
        for x in secrets {
            let ann = &x["metadata"]["annotations"];
            if s(&x["type"]) == "kubernetes.io/service-account-token"
                && s(&ann["kubernetes.io/service-account.name"]) == name
                && s(&ann["kubernetes.io/service-account.uid"]) == uid
            {
                tokens.push(s(&x["metadata"]["name"]));
            }
        }
        for n in names_of(&sa["secrets"])
            .into_iter()
            .chain(names_of(&sa["imagePullSecrets"]))
        {
            if !existing.contains(n) {
                missing.insert(n);
            }
        }
    }
    w.write(LEVEL_0, &format!("Name:\t{name}\n"));
    w.write(LEVEL_0, &format!("Namespace:\t{}\n", s(&m["namespace"])));
    labels_multiline(w, "Labels", &m["labels"]);
    annotations_multiline(w, "Annotations", &m["annotations"]);
    let empty = "                   ";
    let sections = [
        ("Image pull secrets:", names_of(&sa["imagePullSecrets"])),
        ("Mountable secrets: ", names_of(&sa["secrets"])),
        ("Tokens:            ", tokens),
    ];
    for (header, names) in sections {
        if names.is_empty() {
            w.write(LEVEL_0, &format!("{header}\t<none>\n"));
            continue;
        }
        let mut prefix = header;
        for n in names {
            if missing.contains(n) {
                w.write(LEVEL_0, &format!("{prefix}\t{n} (not found)\n"));
            } else {
                w.write(LEVEL_0, &format!("{prefix}\t{n}\n"));
            }
            prefix = empty;
        }
    }
    cx.events(w);
}

/// `describeNamespace`: status, conditions, then quotas and limit ranges (no Events).
pub(crate) fn describe_namespace(w: &mut PrefixWriter, ns: &Value, cx: &Cx) {
    let m = &ns["metadata"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    labels_multiline(w, "Labels", &m["labels"]);
    annotations_multiline(w, "Annotations", &m["annotations"]);
    w.write(
        LEVEL_0,
        &format!("Status:\t{}\n", s(&ns["status"]["phase"])),
    );
    let conditions = arr(&ns["status"]["conditions"]);
    if !conditions.is_empty() {
        w.write(LEVEL_0, "Conditions:\n");
        w.write(
            LEVEL_1,
            "Type\tStatus\tLastTransitionTime\tReason\tMessage\n",
        );
        w.write(
            LEVEL_1,
            "----\t------\t------------------\t------\t-------\n",
        );
        for c in conditions {
            w.write(
                LEVEL_1,
                &format!(
                    "{}\t{}\t{}\t{}\t{}\n",
                    s(&c["type"]),
                    s(&c["status"]),
                    rfc1123z(&c["lastTransitionTime"]),
                    s(&c["reason"]),
                    s(&c["message"])
                ),
            );
        }
    }
    if let Some(quotas) = &cx.rel.quotas {
        w.write(LEVEL_0, "\n");
        describe_resource_quotas(w, quotas);
    }
    if let Some(ranges) = &cx.rel.limit_ranges {
        w.write(LEVEL_0, "\n");
        if ranges.is_empty() {
            w.write(LEVEL_0, "No LimitRange resource.\n");
        } else {
            w.write(
                LEVEL_0,
                "Resource Limits\n Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n",
            );
            w.write(
                LEVEL_0,
                " ----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n",
            );
            for lr in ranges {
                describe_limit_range_spec(w, &lr["spec"], " ");
            }
        }
    }
}

/// `helpTextForResourceQuotaScope`.
fn quota_scope_help(scope: &str) -> &'static str {
    match scope {
        "Terminating" => "Matches all pods that have an active deadline. These pods have a limited lifespan on a node before being actively terminated by the system.",
        "NotTerminating" => "Matches all pods that do not have an active deadline. These pods usually include long running pods whose container command is not expected to terminate.",
        "BestEffort" => "Matches all pods that do not have resource requirements set. These pods have a best effort quality of service.",
        "NotBestEffort" => "Matches all pods that have at least one resource requirement set. These pods have a burstable or guaranteed quality of service.",
        _ => "",
    }
}

fn sorted_scopes(quota: &Value) -> Vec<&str> {
    let mut scopes: Vec<&str> = arr(&quota["spec"]["scopes"]).iter().map(s).collect();
    scopes.sort_unstable();
    scopes
}

/// `DescribeResourceQuotas`: every quota of a namespace, by name.
fn describe_resource_quotas(w: &mut PrefixWriter, quotas: &[Value]) {
    if quotas.is_empty() {
        w.write(LEVEL_0, "No resource quota.\n");
        return;
    }
    let mut sorted: Vec<&Value> = quotas.iter().collect();
    sorted.sort_by(|a, b| s(&a["metadata"]["name"]).cmp(s(&b["metadata"]["name"])));
    w.write(LEVEL_0, "Resource Quotas\n");
    for q in sorted {
        w.write(LEVEL_1, &format!("Name:\t{}\n", s(&q["metadata"]["name"])));
        let scopes = sorted_scopes(q);
        if !scopes.is_empty() {
            w.write(LEVEL_1, &format!("Scopes:\t{}\n", scopes.join(", ")));
            for scope in scopes {
                let help = quota_scope_help(scope);
                if !help.is_empty() {
                    w.write(LEVEL_1, &format!("* {help}\n"));
                }
            }
        }
        w.write(LEVEL_1, "Resource\tUsed\tHard\n");
        w.write(LEVEL_1, "--------\t---\t---\n");
        let used = &q["status"]["used"];
        for (name, hard) in resource_list(&q["status"]["hard"]) {
            w.write(
                LEVEL_1,
                &format!("{name}\t{}\t{hard}\n", quantity(&used[&name])),
            );
        }
    }
}

/// `describeQuota`: a used value in another format than its hard value is printed in the
/// hard value's format.
pub(crate) fn describe_quota(w: &mut PrefixWriter, q: &Value) {
    let m = &q["metadata"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    w.write(LEVEL_0, &format!("Namespace:\t{}\n", s(&m["namespace"])));
    let scopes = sorted_scopes(q);
    if !scopes.is_empty() {
        w.write(LEVEL_0, &format!("Scopes:\t{}\n", scopes.join(", ")));
        for scope in scopes {
            let help = quota_scope_help(scope);
            if !help.is_empty() {
                w.write(LEVEL_0, &format!(" * {help}\n"));
            }
        }
    }
    w.write(LEVEL_0, "Resource\tUsed\tHard\n");
    w.write(LEVEL_0, "--------\t----\t----\n");
    let used = &q["status"]["used"];
    for (name, hard) in resource_list(&q["status"]["hard"]) {
        // A missing used value is Go's zero Quantity, whose format is "".
        let used_q = match used.get(&name) {
            Some(v) if !v.is_null() => Some(quantity(v)),
            _ => None,
        };
        let used_text = match used_q {
            Some(u) if u.format() == hard.format() => u.to_string(),
            Some(u) => Quantity::from_value(u.value(), hard.format()).to_string(),
            None => Quantity::from_value(0, hard.format()).to_string(),
        };
        w.write(LEVEL_0, &format!("{name}\t{used_text}\t{hard}\n"));
    }
}

/// `describeLimitRangeSpec`: one row per limit type and resource (resources sorted; Go
/// iterates a map).
fn describe_limit_range_spec(w: &mut PrefixWriter, spec: &Value, prefix: &str) {
    for item in arr(&spec["limits"]) {
        let fields = [
            "min",
            "max",
            "defaultRequest",
            "default",
            "maxLimitRequestRatio",
        ];
        let lists: Vec<BTreeMap<String, Quantity>> =
            fields.iter().map(|f| resource_list(&item[*f])).collect();
        let names: BTreeSet<&String> = lists.iter().flat_map(|l| l.keys()).collect();
        for name in names {
            let cell = |i: usize| {
                lists[i]
                    .get(name)
                    .map_or_else(|| "-".to_string(), |q| q.to_string())
            };
            w.write(
                LEVEL_0,
                &format!(
                    "{prefix}{}\t{name}\t{}\t{}\t{}\t{}\t{}\n",
                    s(&item["type"]),
                    cell(0),
                    cell(1),
                    cell(2),
                    cell(3),
                    cell(4)
                ),
            );
        }
    }
}

/// `describeLimitRange`.
pub(crate) fn describe_limit_range(w: &mut PrefixWriter, lr: &Value) {
    let m = &lr["metadata"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    w.write(LEVEL_0, &format!("Namespace:\t{}\n", s(&m["namespace"])));
    w.write(
        LEVEL_0,
        "Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n",
    );
    w.write(
        LEVEL_0,
        "----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n",
    );
    describe_limit_range_spec(w, &lr["spec"], "");
}

/// `describePriorityClass`.
pub(crate) fn describe_priority_class(w: &mut PrefixWriter, pc: &Value, cx: &Cx) {
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&pc["metadata"]["name"])));
    w.write(LEVEL_0, &format!("Value:\t{}\n", int(&pc["value"])));
    w.write(
        LEVEL_0,
        &format!(
            "GlobalDefault:\t{}\n",
            pc["globalDefault"].as_bool().unwrap_or(false)
        ),
    );
    w.write(
        LEVEL_0,
        &format!("PreemptionPolicy:\t{}\n", s(&pc["preemptionPolicy"])),
    );
    w.write(
        LEVEL_0,
        &format!("Description:\t{}\n", s(&pc["description"])),
    );
    w.write(
        LEVEL_0,
        &format!(
            "Annotations:\t{}\n",
            format_labels(&pc["metadata"]["annotations"])
        ),
    );
    cx.events(w);
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use serde_json::json;

    use super::super::tests::NOW;
    use super::super::{describe, Related};
    use super::*;

    fn page(kind: &str, obj: Value, rel: &Related) -> String {
        describe(kind, &obj, Some(&[]), rel, NOW).unwrap()
    }

    #[test]
    fn config_map_and_secret() {
        // ConfigMapDescriber: "\nData\n====\n", each key with "----", "BinaryData";
        // describeSecret: a blank line before Type and Data, decoded byte counts.
        let cm = json!({"metadata": {"name": "game", "namespace": "default"},
                        "data": {"ui.properties": "color=blue\nlives=3", "mode": "easy"},
                        "binaryData": {"logo.png": "iVBORw0KGgo="}});
        let want = "\
Name:         game
Namespace:    default
Labels:       <none>
Annotations:  <none>

Data
====
mode:
----
easy

ui.properties:
----
color=blue
lives=3


BinaryData
====
logo.png: 8 bytes

Events:  <none>
";
        assert_eq!(page("ConfigMap", cm, &Related::default()), want);
        let secret = json!({"metadata": {"name": "db", "namespace": "default"}, "type": "Opaque",
                            "data": {"password": "czNjcjN0IQ==", "username": "YWRtaW4="}});
        let want = "\
Name:         db
Namespace:    default
Labels:       <none>
Annotations:  <none>

Type:  Opaque

Data
====
password:  7 bytes
username:  5 bytes
";
        assert_eq!(page("Secret", secret, &Related::default()), want);
        let token = json!({"metadata": {"name": "t", "namespace": "default"}, "type": "kubernetes.io/service-account-token",
                           "data": {"ca.crt": "YWJj", "token": "ZXlKaGJHY2k="}});
        assert!(page("Secret", token, &Related::default())
            .ends_with("ca.crt:  3 bytes\ntoken:   eyJhbGci\n"));
    }

    #[test]
    fn service_account_page() {
        let sa = json!({"metadata": {"name": "build", "namespace": "ci", "uid": "sa1"},
                        "secrets": [{"name": "build-token"}, {"name": "gone"}],
                        "imagePullSecrets": [{"name": "registry"}]});
        let rel = Related {
            secrets: Some(vec![
                json!({"metadata": {"name": "build-token", "annotations": {
                    "kubernetes.io/service-account.name": "build", "kubernetes.io/service-account.uid": "sa1"}},
                    "type": "kubernetes.io/service-account-token"}),
                json!({"metadata": {"name": "registry"}, "type": "kubernetes.io/dockerconfigjson"}),
            ]),
            ..Default::default()
        };
        let want = "\
Name:                build
Namespace:           ci
Labels:              <none>
Annotations:         <none>
Image pull secrets:  registry
Mountable secrets:   build-token
                     gone (not found)
Tokens:              build-token
Events:              <none>
";
        assert_eq!(page("ServiceAccount", sa, &rel), want);
        let bare = json!({"metadata": {"name": "default", "namespace": "default"}});
        let want = "\
Name:                default
Namespace:           default
Labels:              <none>
Annotations:         <none>
Image pull secrets:  <none>
Mountable secrets:   <none>
Tokens:              <none>
Events:              <none>
";
        assert_eq!(
            page(
                "ServiceAccount",
                bare,
                &Related {
                    secrets: Some(vec![]),
                    ..Default::default()
                }
            ),
            want
        );
    }

    #[test]
    fn namespace_quota_and_limits() {
        let ns = json!({"metadata": {"name": "dev", "labels": {"kubernetes.io/metadata.name": "dev"}},
                        "status": {"phase": "Active"}});
        let empty = Related {
            quotas: Some(vec![]),
            limit_ranges: Some(vec![]),
            ..Default::default()
        };
        let want = "\
Name:         dev
Labels:       kubernetes.io/metadata.name=dev
Annotations:  <none>
Status:       Active

No resource quota.

No LimitRange resource.
";
        assert_eq!(page("Namespace", ns.clone(), &empty), want);
        let quota = json!({"metadata": {"name": "compute", "namespace": "dev"},
                           "spec": {"scopes": ["NotTerminating"]},
                           "status": {"hard": {"pods": "10", "requests.cpu": "2", "requests.memory": "4Gi"},
                                      "used": {"pods": "1", "requests.cpu": "250m", "requests.memory": "64Mi"}}});
        let lr = json!({"metadata": {"name": "defaults", "namespace": "dev"},
                        "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "256Mi"},
                                             "defaultRequest": {"cpu": "100m"}, "max": {"cpu": "2"}}]}});
        let full = Related {
            quotas: Some(vec![quota.clone()]),
            limit_ranges: Some(vec![lr.clone()]),
            ..Default::default()
        };
        let want = "\
Name:         dev
Labels:       kubernetes.io/metadata.name=dev
Annotations:  <none>
Status:       Active

Resource Quotas
  Name:    compute
  Scopes:  NotTerminating
  * Matches all pods that do not have an active deadline. These pods usually include long running pods whose container command is not expected to terminate.
  Resource         Used  Hard
  --------         ---   ---
  pods             1     10
  requests.cpu     250m  2
  requests.memory  64Mi  4Gi

Resource Limits
 Type       Resource  Min  Max  Default Request  Default Limit  Max Limit/Request Ratio
 ----       --------  ---  ---  ---------------  -------------  -----------------------
 Container  cpu       -    2    100m             500m           -
 Container  memory    -    -    -                256Mi          -
";
        assert_eq!(page("Namespace", ns, &full), want);
        let want = "\
Name:       compute
Namespace:  dev
Scopes:     NotTerminating
 * Matches all pods that do not have an active deadline. These pods usually include long running pods whose container command is not expected to terminate.
Resource         Used  Hard
--------         ----  ----
pods             1     10
requests.cpu     250m  2
requests.memory  64Mi  4Gi
";
        assert_eq!(page("ResourceQuota", quota, &Related::default()), want);
        let want = "\
Name:       defaults
Namespace:  dev
Type        Resource  Min  Max  Default Request  Default Limit  Max Limit/Request Ratio
----        --------  ---  ---  ---------------  -------------  -----------------------
Container   cpu       -    2    100m             500m           -
Container   memory    -    -    -                256Mi          -
";
        assert_eq!(page("LimitRange", lr, &Related::default()), want);
    }

    #[test]
    fn quota_used_takes_the_hard_format() {
        // describeQuota: used "1Gi" (BinarySI) against hard "2G" (DecimalSI) prints the
        // used value in DecimalSI; a missing used value prints 0.
        let q = json!({"metadata": {"name": "q", "namespace": "n"},
                       "status": {"hard": {"memory": "2G", "pods": "4"}, "used": {"memory": "1Gi"}}});
        let got = page("ResourceQuota", q, &Related::default());
        assert!(
            got.ends_with("memory      1073741824  2G\npods        0           4\n"),
            "{got}"
        );
    }

    #[test]
    fn priority_class_page() {
        let pc = json!({"metadata": {"name": "high", "annotations": {"owner": "ops"}}, "value": 1000000,
                        "globalDefault": false, "preemptionPolicy": "PreemptLowerPriority",
                        "description": "For critical pods."});
        let want = "\
Name:              high
Value:             1000000
GlobalDefault:     false
PreemptionPolicy:  PreemptLowerPriority
Description:       For critical pods.
Annotations:       owner=ops
Events:            <none>
";
        assert_eq!(page("PriorityClass", pc, &Related::default()), want);
    }
}
