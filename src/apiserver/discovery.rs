//! Discovery: /version, /api, /apis and the resource lists kubectl reads to map
//! kinds and short names to resources (`kubectl api-resources`).

use serde_json::{json, Value};

use crate::api::object::{ResourceType, API_GROUPS, RESOURCE_TYPES};

/// The server's version: v1.31, as this simulation follows it.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "31",
        "gitVersion": "v1.31.0",
        "gitCommit": "9edcffcde5595e8a5b1a35f88c421764e575afce",
        "gitTreeState": "clean",
        "buildDate": "2024-08-13T07:28:49Z",
        "goVersion": "go1.22.5",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn group_entry(group: &str) -> Value {
    let gv = format!("{group}/v1");
    json!({
        "name": group,
        "versions": [{"groupVersion": gv, "version": "v1"}],
        "preferredVersion": {"groupVersion": gv, "version": "v1"}
    })
}

pub fn api_group_list() -> Value {
    let groups: Vec<Value> = API_GROUPS.iter().map(|g| group_entry(g)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn api_group(group: &str) -> Value {
    let mut v = group_entry(group);
    if let Value::Object(m) = &mut v {
        m.insert("kind".into(), "APIGroup".into());
        m.insert("apiVersion".into(), "v1".into());
    }
    v
}

/// The kind and verbs of a subresource, as discovery lists them.
fn subresource_entry(rt: &ResourceType, sub: &str) -> Value {
    let (kind, verbs, group, version): (&str, &[&str], Option<&str>, Option<&str>) = match sub {
        "status" => (rt.kind, &["get", "patch", "update"], None, None),
        "scale" => (
            "Scale",
            &["get", "patch", "update"],
            Some("autoscaling"),
            Some("v1"),
        ),
        "binding" => ("Binding", &["create"], None, None),
        "eviction" => ("Eviction", &["create"], Some("policy"), Some("v1")),
        "log" => ("Pod", &["get"], None, None),
        "exec" => ("PodExecOptions", &["create", "get"], None, None),
        "attach" => ("PodAttachOptions", &["create", "get"], None, None),
        "portforward" => ("PodPortForwardOptions", &["create", "get"], None, None),
        "proxy" => (
            match rt.kind {
                "Pod" => "PodProxyOptions",
                "Node" => "NodeProxyOptions",
                _ => "ServiceProxyOptions",
            },
            &["create", "delete", "get", "patch", "update"],
            None,
            None,
        ),
        "token" => (
            "TokenRequest",
            &["create"],
            Some("authentication.k8s.io"),
            Some("v1"),
        ),
        "finalize" => ("Namespace", &["update"], None, None),
        _ => (rt.kind, &["get"], None, None),
    };
    let mut v = json!({
        "name": format!("{}/{}", rt.plural, sub),
        "singularName": "",
        "namespaced": rt.namespaced,
        "kind": kind,
        "verbs": verbs,
    });
    if let (Some(g), Some(ver), Value::Object(m)) = (group, version, &mut v) {
        m.insert("group".into(), g.into());
        m.insert("version".into(), ver.into());
    }
    v
}

/// The APIResourceList of one group version.
pub fn resource_list(group: &str) -> Value {
    let mut resources = Vec::new();
    for rt in RESOURCE_TYPES.iter().filter(|r| r.group == group) {
        let mut v = json!({
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": rt.verbs,
        });
        if let Value::Object(m) = &mut v {
            if !rt.short_names.is_empty() {
                m.insert("shortNames".into(), json!(rt.short_names));
            }
            if !rt.categories.is_empty() {
                m.insert("categories".into(), json!(rt.categories));
            }
        }
        resources.push(v);
        for sub in rt.subresources {
            resources.push(subresource_entry(rt, sub));
        }
    }
    let gv = if group.is_empty() {
        "v1".to_string()
    } else {
        format!("{group}/v1")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}
