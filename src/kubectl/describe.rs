//! `kubectl describe`: a readable page per object, with its Events.
//!
//! This module fetches, through the API as kubectl's describers do, the objects, their
//! Events and whatever a kind's page shows of other objects (a node's pods and Lease, a
//! namespace's quotas, a deployment's ReplicaSets, ...); `describe_pages` lays the pages
//! out (staging/src/k8s.io/kubectl/pkg/cmd/describe and pkg/describe).

use serde_json::Value;

use super::args::{self, flag, Kind};
use super::describe_pages::{self, Related};
use super::get::{list_query, targets};
use super::{server_error, Kubectl, Output};
use crate::api::object::ResourceType;
use crate::api::ApiError;
use crate::apiserver::request::{percent_encode, Body, Method};

const FLAGS: &[args::FlagDef] = &[
    flag("selector", Some('l'), Kind::Value),
    flag("all-namespaces", Some('A'), Kind::Bool),
    flag("show-events", None, Kind::Value),
    flag("filename", Some('f'), Kind::Repeated),
];

pub fn run(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = match args::parse(words, FLAGS, "describe") {
        Ok(p) => p,
        Err(e) => return Output::fail(e),
    };
    let ts = match targets(&p.args) {
        Ok(t) => t,
        Err(e) => return Output::fail(e.replace("to get", "to describe")),
    };
    let show_events = p.get("show-events") != Some("false");
    let ns = kc.namespace_of(&p);
    let all_ns = p.bool("all-namespaces");
    let mut out = Output::default();
    let mut pages: Vec<String> = Vec::new();
    let mut found = 0;
    for t in ts {
        let scope = if t.rt.namespaced && !all_ns {
            ns.clone()
        } else {
            String::new()
        };
        let objects: Vec<Value> = if t.names.is_empty() {
            let resp = kc.send(
                Method::Get,
                &format!("{}{}", t.rt.collection_path(&scope), list_query(&p)),
                Body::Empty,
            );
            match resp.as_error() {
                Some(e) => {
                    out.err(server_error(&e));
                    continue;
                }
                None => resp.body_json()["items"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            }
        } else {
            let mut v = Vec::new();
            for n in &t.names {
                let resp = kc.send(Method::Get, &t.rt.object_path(&scope, n), Body::Empty);
                match resp.as_error() {
                    // `kubectl describe TYPE NAME` with no such object describes the
                    // objects whose names start with NAME (DescribeMatchingResources).
                    Some(e) if e.code() == 404 && p.args.len() == 2 && !t.slash => {
                        let matched = describe_matching(kc, t.rt, &scope, n, show_events);
                        if matched.is_empty() {
                            out.err(server_error(&e));
                        }
                        for page in matched {
                            out.stdout.push_str(&page);
                            out.stdout.push('\n');
                        }
                        found += 1;
                    }
                    Some(e) => out.err(server_error(&e)),
                    None => v.push(resp.body_json()),
                }
            }
            v
        };
        for obj in objects {
            found += 1;
            match describe_one(kc, t.rt, obj, show_events) {
                Ok(page) => pages.push(page),
                Err(e) => out.err(e),
            }
        }
    }
    // The first page as it is, each further one after two newlines.
    out.stdout.push_str(&pages.join("\n\n"));
    if found == 0 && out.code == 0 {
        if all_ns {
            out.stderr.push_str("No resources found\n");
        } else {
            out.stderr
                .push_str(&format!("No resources found in {ns} namespace.\n"));
        }
    }
    out
}

/// The objects of a type whose names start with `prefix`, described.
fn describe_matching(
    kc: &mut Kubectl,
    rt: &'static ResourceType,
    scope: &str,
    prefix: &str,
    show_events: bool,
) -> Vec<String> {
    let resp = kc.send(Method::Get, &rt.collection_path(scope), Body::Empty);
    let items = match resp.as_error() {
        Some(_) => return Vec::new(),
        None => resp.body_json()["items"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    };
    items
        .into_iter()
        .filter(|o| {
            o["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with(prefix))
        })
        .filter_map(|o| describe_one(kc, rt, o, show_events).ok())
        .collect()
}

/// One object's page, or the error line kubectl prints instead.
fn describe_one(
    kc: &mut Kubectl,
    rt: &'static ResourceType,
    mut obj: Value,
    show_events: bool,
) -> Result<String, String> {
    // The generic describer prints apiVersion and kind, which list items may lack.
    if obj.is_object() {
        if obj["kind"].is_null() {
            obj["kind"] = Value::String(rt.kind.into());
        }
        if obj["apiVersion"].is_null() {
            obj["apiVersion"] = Value::String(rt.api_version().into());
        }
    }
    let rel = related(kc, rt.kind, &obj)?;
    let events = if show_events && shows_events(rt.kind) {
        Some(events_for(kc, &obj, rt))
    } else {
        None
    };
    describe_pages::describe(rt.kind, &obj, events.as_deref(), &rel, kc.server.now())
        .map_err(|e| format!("error: {e}"))
}

/// Kinds whose describers print no Events.
fn shows_events(kind: &str) -> bool {
    !matches!(
        kind,
        "Secret"
            | "Namespace"
            | "ResourceQuota"
            | "LimitRange"
            | "Role"
            | "ClusterRole"
            | "RoleBinding"
            | "ClusterRoleBinding"
    )
}

fn get_json(kc: &mut Kubectl, path: &str) -> Result<Value, ApiError> {
    let resp = kc.send(Method::Get, path, Body::Empty);
    match resp.as_error() {
        Some(e) => Err(e),
        None => Ok(resp.body_json()),
    }
}

fn list_items(kc: &mut Kubectl, path: &str) -> Result<Vec<Value>, ApiError> {
    get_json(kc, path).map(|v| v["items"].as_array().cloned().unwrap_or_default())
}

/// `path?labelSelector=...` (no query for the empty selector).
fn with_selector(path: String, selector: &str) -> String {
    if selector.is_empty() {
        path
    } else {
        format!("{path}?labelSelector={}", percent_encode(selector))
    }
}

/// What a kind's page shows of other objects, fetched as its upstream describer does.
fn related(kc: &mut Kubectl, kind: &str, obj: &Value) -> Result<Related, String> {
    let m = &obj["metadata"];
    let name = m["name"].as_str().unwrap_or_default();
    let ns = m["namespace"].as_str().unwrap_or_default();
    let mut rel = Related::default();
    match kind {
        "Node" => {
            let fs = format!("spec.nodeName={name},status.phase!=Succeeded,status.phase!=Failed");
            let path = format!("/api/v1/pods?fieldSelector={}", percent_encode(&fs));
            rel.pods = Some(match list_items(kc, &path) {
                Ok(pods) => Ok(pods),
                Err(e) if e.code() == 403 => Err(e.message().to_string()),
                Err(e) => return Err(server_error(&e)),
            });
            let lease = format!(
                "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{}",
                percent_encode(name)
            );
            rel.lease = Some(get_json(kc, &lease).map_err(|e| e.message().to_string()));
        }
        "Namespace" => {
            let optional = |kc: &mut Kubectl, res: &str| -> Result<Option<Vec<Value>>, String> {
                match list_items(kc, &format!("/api/v1/namespaces/{name}/{res}")) {
                    Ok(items) => Ok(Some(items)),
                    Err(e) if e.code() == 404 => Ok(None),
                    Err(e) => Err(server_error(&e)),
                }
            };
            rel.quotas = optional(kc, "resourcequotas")?;
            rel.limit_ranges = optional(kc, "limitranges")?;
        }
        "Deployment" => {
            if let Ok(sel) = describe_pages::selector_string(&obj["spec"]["selector"]) {
                let path =
                    with_selector(format!("/apis/apps/v1/namespaces/{ns}/replicasets"), &sel);
                rel.replica_sets = list_items(kc, &path).ok();
            }
        }
        "ReplicaSet" | "ReplicationController" => {
            let sel = if kind == "ReplicaSet" {
                describe_pages::selector_string(&obj["spec"]["selector"])
                    .map_err(|e| format!("error: {e}"))?
            } else {
                describe_pages::set_selector_string(&obj["spec"]["selector"])
            };
            let path = with_selector(format!("/api/v1/namespaces/{ns}/pods"), &sel);
            rel.pods = Some(match list_items(kc, &path) {
                Ok(pods) => Ok(pods),
                Err(e) if kind == "ReplicaSet" => Err(e.message().to_string()),
                Err(e) => return Err(server_error(&e)),
            });
        }
        "Service" => {
            let path = with_selector(
                format!("/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices"),
                &format!("kubernetes.io/service-name={name}"),
            );
            rel.endpoint_slices = list_items(kc, &path).unwrap_or_default();
        }
        "ServiceAccount" => {
            rel.secrets = list_items(kc, &format!("/api/v1/namespaces/{ns}/secrets")).ok();
        }
        "Ingress" => {
            for svc in describe_pages::ingress_backend_services(obj) {
                let slices = with_selector(
                    format!("/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices"),
                    &format!("kubernetes.io/service-name={svc}"),
                );
                let service = format!("/api/v1/namespaces/{ns}/services/{}", percent_encode(&svc));
                let looked_up =
                    list_items(kc, &slices).and_then(|sl| get_json(kc, &service).map(|s| (s, sl)));
                rel.backends
                    .insert(svc, looked_up.map_err(|e| e.message().to_string()));
            }
        }
        _ => {}
    }
    Ok(rel)
}

/// The Events about an object (`searchEvents`), as the API lists them. A pod's are
/// looked up without its kind, a mirror pod's by its mirror uid; a node's by its uid and
/// by its name as uid. Events of cluster-scoped objects are looked up in every namespace.
fn events_for(kc: &mut Kubectl, obj: &Value, rt: &ResourceType) -> Vec<Value> {
    let m = &obj["metadata"];
    let name = m["name"].as_str().unwrap_or_default();
    let ns = m["namespace"].as_str().unwrap_or_default();
    let mut uid = m["uid"].as_str().unwrap_or_default().to_string();
    let mut kind = Some(rt.kind);
    if rt.kind == "Pod" {
        kind = None;
        if let Some(mirror) = m["annotations"]["kubernetes.io/config.mirror"].as_str() {
            uid = mirror.to_string();
        }
    }
    let mut uids = vec![uid];
    if rt.kind == "Node" {
        uids.push(name.to_string());
    }
    let mut events = Vec::new();
    for uid in uids {
        let mut fs = vec![
            format!("involvedObject.name={name}"),
            format!("involvedObject.namespace={ns}"),
        ];
        if let Some(k) = kind {
            fs.push(format!("involvedObject.kind={k}"));
        }
        if !uid.is_empty() {
            fs.push(format!("involvedObject.uid={uid}"));
        }
        let collection = if ns.is_empty() {
            "/api/v1/events".to_string()
        } else {
            format!("/api/v1/namespaces/{ns}/events")
        };
        let path = format!(
            "{collection}?fieldSelector={}",
            percent_encode(&fs.join(","))
        );
        events.extend(list_items(kc, &path).unwrap_or_default());
    }
    events
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn kinds_without_events() {
        assert!(!shows_events("Secret"));
        assert!(!shows_events("ClusterRoleBinding"));
        assert!(shows_events("Pod"));
        assert!(shows_events("Lease"));
        assert_eq!(with_selector("/p".into(), ""), "/p");
        assert_eq!(
            with_selector("/p".into(), "app=web"),
            "/p?labelSelector=app%3Dweb"
        );
    }
}
