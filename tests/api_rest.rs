//! The API server through its REST interface, as curl and programs reach it: status
//! codes, Status bodies in upstream's words, selectors, paging, watch, subresources.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::apiserver::request::{Body, Credentials, Method, Request};
use kubeglass::cluster::{Cluster, Settings};
use serde_json::{json, Value};

fn cluster() -> Cluster {
    let s = kubeglass::scenario::parse(
        "apiVersion: kubeglass.dev/v1alpha1\nkind: Scenario\nspec:\n  cluster:\n    nodes:\n    - metadata: {name: node-1, annotations: {kubeglass.dev/kubelet: none}}\n",
    )
    .unwrap();
    Cluster::new(s.settings).unwrap()
}

fn call(c: &mut Cluster, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    call_ct(c, method, path, body, None)
}

fn call_ct(
    c: &mut Cluster,
    method: Method,
    path: &str,
    body: Option<Value>,
    ct: Option<&str>,
) -> (u16, Value) {
    let mut req = Request::new(method, path);
    if let Some(b) = body {
        req = req.with_body(Body::Json(b));
    }
    if let Some(ct) = ct {
        req = req.with_header("content-type", ct);
    }
    let resp = c.request(req);
    c.run_due();
    (resp.code, resp.body_json())
}

/// A pod no scheduler in the cluster claims (its schedulerName is nobody's), so the
/// API tests see only their own writes; tests/scheduler_* cover binding.
fn pod(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
           "spec": {"schedulerName": "manual", "containers": [{"name": "c", "image": "nginx:1.14.2"}]}})
}

#[test]
fn create_get_update_delete_with_upstream_statuses() {
    let mut c = cluster();
    let (code, body) = call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/pods",
        Some(pod("web", json!({"app": "web"}))),
    );
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["metadata"]["namespace"], "default");
    assert_eq!(body["status"]["phase"], "Pending");
    assert_eq!(
        body["metadata"]["creationTimestamp"],
        "2024-08-13T00:00:00Z"
    );
    let uid = body["metadata"]["uid"].as_str().unwrap().to_string();
    assert_eq!(uid.len(), 36);

    let (code, again) = call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/pods",
        Some(pod("web", json!({}))),
    );
    assert_eq!(code, 409);
    assert_eq!(again["reason"], "AlreadyExists");
    assert_eq!(again["message"], "pods \"web\" already exists");
    assert_eq!(again["kind"], "Status");
    assert_eq!(again["details"], json!({"name": "web", "kind": "pods"}));

    let (code, nf) = call(
        &mut c,
        Method::Get,
        "/api/v1/namespaces/default/pods/nope",
        None,
    );
    assert_eq!(
        (code, nf["reason"].as_str(), nf["message"].as_str()),
        (404, Some("NotFound"), Some("pods \"nope\" not found"))
    );
    let (code, nf) = call(
        &mut c,
        Method::Get,
        "/apis/apps/v1/namespaces/default/deployments/nope",
        None,
    );
    assert_eq!(
        (code, nf["message"].as_str()),
        (404, Some("deployments.apps \"nope\" not found"))
    );

    // A stale resourceVersion on PUT is a 409 Conflict.
    let (_, cur) = call(
        &mut c,
        Method::Get,
        "/api/v1/namespaces/default/pods/web",
        None,
    );
    let rv: u64 = cur["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut stale = cur.clone();
    stale["metadata"]["labels"]["x"] = json!("1");
    let (code, _) = call(
        &mut c,
        Method::Put,
        "/api/v1/namespaces/default/pods/web",
        Some(stale.clone()),
    );
    assert_eq!(code, 200);
    let (code, conflict) = call(
        &mut c,
        Method::Put,
        "/api/v1/namespaces/default/pods/web",
        Some(stale),
    );
    assert_eq!(code, 409);
    assert_eq!(conflict["reason"], "Conflict");
    assert_eq!(
        conflict["message"],
        "Operation cannot be fulfilled on pods \"web\": the object has been modified; please apply your changes to the latest version and try again"
    );
    let (_, now) = call(
        &mut c,
        Method::Get,
        "/api/v1/namespaces/default/pods/web",
        None,
    );
    assert!(
        now["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > rv
    );
    assert_eq!(now["metadata"]["uid"], uid.as_str());

    // The name in the body must match the URL's.
    let (code, bad) = call(
        &mut c,
        Method::Put,
        "/api/v1/namespaces/default/pods/other",
        Some(now.clone()),
    );
    assert_eq!(code, 400);
    assert_eq!(
        bad["message"],
        "the name of the object (web) does not match the name on the URL (other)"
    );

    // The pod is bound to a node without a kubelet: deletion is graceful, and the
    // node's stand-in confirms it at once.
    let (code, _) = call(
        &mut c,
        Method::Delete,
        "/api/v1/namespaces/default/pods/web",
        None,
    );
    assert_eq!(code, 200);
    let (code, _) = call(
        &mut c,
        Method::Get,
        "/api/v1/namespaces/default/pods/web",
        None,
    );
    assert_eq!(code, 404);
}

#[test]
fn invalid_objects_get_422_with_field_causes() {
    let mut c = cluster();
    let (code, s) = call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/pods",
        Some(pod("Web_1", json!({}))),
    );
    assert_eq!(code, 422);
    assert_eq!(s["reason"], "Invalid");
    assert_eq!(
        s["message"],
        "Pod \"Web_1\" is invalid: metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    );
    assert_eq!(s["details"]["causes"][0]["field"], "metadata.name");
    assert_eq!(s["details"]["causes"][0]["reason"], "FieldValueInvalid");
    assert_eq!(s["details"]["kind"], "Pod");

    let bad = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                     "spec": {"restartPolicy": "Sometimes", "containers": [{"name": "a"}, {"name": "a", "image": "x"}]}});
    let (code, s) = call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/pods",
        Some(bad),
    );
    assert_eq!(code, 422);
    assert_eq!(
        s["message"],
        "Pod \"p\" is invalid: [spec.containers[0].image: Required value, spec.containers[1].name: Duplicate value: \"a\", spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"Never\", \"OnFailure\"]"
    );
    assert_eq!(s["details"]["causes"].as_array().unwrap().len(), 3);

    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": [{"port": 0}]}});
    let (code, s) = call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/services",
        Some(svc),
    );
    assert_eq!(code, 422);
    // targetPort defaults to port, so it is invalid too, as upstream reports.
    assert_eq!(
        s["message"],
        "Service \"web\" is invalid: [spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive]"
    );

    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                   "spec": {"selector": {"matchLabels": {"app": "a"}},
                            "template": {"metadata": {"labels": {"app": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
    let (code, s) = call(
        &mut c,
        Method::Post,
        "/apis/apps/v1/namespaces/default/deployments",
        Some(d),
    );
    assert_eq!(code, 422);
    assert_eq!(
        s["message"],
        "Deployment.apps \"d\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"b\"}: `selector` does not match template `labels`"
            .replace("Deployment.apps", "Deployment")
    );

    // Unknown fields are a strict decoding error, as kubectl's default validation asks.
    let typo = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "t"},
                      "spec": {"containers": [{"name": "c", "image": "i", "imagePullPolisy": "Always"}]}});
    let (code, s) = call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/pods",
        Some(typo),
    );
    assert_eq!(code, 400);
    assert_eq!(
        s["message"],
        "Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \"spec.containers[0].imagePullPolisy\""
    );
}

#[test]
fn namespaces_gate_creation_and_delete_their_contents() {
    let mut c = cluster();
    let (code, s) = call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/nowhere/pods",
        Some(pod("p", json!({}))),
    );
    assert_eq!(
        (code, s["message"].as_str()),
        (404, Some("namespaces \"nowhere\" not found"))
    );

    let (code, _) = call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces",
        Some(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}})),
    );
    assert_eq!(code, 201);
    let (_, ns) = call(&mut c, Method::Get, "/api/v1/namespaces/dev", None);
    assert_eq!(ns["status"]["phase"], "Active");
    assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    assert_eq!(
        ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "dev"
    );
    // The ServiceAccount controller gave it a default account.
    let (code, _) = call(
        &mut c,
        Method::Get,
        "/api/v1/namespaces/dev/serviceaccounts/default",
        None,
    );
    assert_eq!(code, 200);
    let (code, _) = call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/dev/pods",
        Some(pod("p", json!({}))),
    );
    assert_eq!(code, 201);

    let (code, s) = call(&mut c, Method::Delete, "/api/v1/namespaces/default", None);
    assert_eq!(
        (code, s["message"].as_str()),
        (
            403,
            Some("namespaces \"default\" is forbidden: this namespace may not be deleted")
        )
    );

    // Deleting: Terminating, new content refused, old content removed, then gone.
    let req = Request::new(Method::Delete, "/api/v1/namespaces/dev");
    let resp = c.request(req);
    assert_eq!(resp.code, 200);
    assert_eq!(resp.body_json()["status"]["phase"], "Terminating");
    let (code, s) = call_no_run(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/dev/configmaps",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
    );
    assert_eq!(code, 403);
    assert_eq!(s["message"], "configmaps \"x\" is forbidden: unable to create new content in namespace dev because it is being terminated");
    c.run_due();
    let (code, _) = call(&mut c, Method::Get, "/api/v1/namespaces/dev", None);
    assert_eq!(code, 404);
    let (_, pods) = call(&mut c, Method::Get, "/api/v1/namespaces/dev/pods", None);
    assert_eq!(pods["items"], json!([]));
}

fn call_no_run(c: &mut Cluster, method: Method, path: &str, body: Value) -> (u16, Value) {
    let resp = c.request(Request::new(method, path).with_body(Body::Json(body)));
    (resp.code, resp.body_json())
}

#[test]
fn lists_filter_by_selectors_and_page_with_continue() {
    let mut c = cluster();
    for (i, app) in ["web", "web", "db", "cache", "web"].iter().enumerate() {
        let (code, _) = call(
            &mut c,
            Method::Post,
            "/api/v1/namespaces/default/pods",
            Some(pod(
                &format!("p{i}"),
                json!({"app": app, "n": i.to_string()}),
            )),
        );
        assert_eq!(code, 201);
    }
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, l) = call(
        &mut c,
        Method::Get,
        "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb",
        None,
    );
    assert_eq!(names(&l), ["p0", "p1", "p4"]);
    assert_eq!(l["kind"], "PodList");
    let (_, l) = call(
        &mut c,
        Method::Get,
        "/api/v1/namespaces/default/pods?labelSelector=app+in+(db,cache),n!=3",
        None,
    );
    assert_eq!(names(&l), ["p2"]);
    let (_, l) = call(
        &mut c,
        Method::Get,
        "/api/v1/pods?fieldSelector=metadata.name%3Dp3",
        None,
    );
    assert_eq!(names(&l), ["p3"]);
    let (code, s) = call(
        &mut c,
        Method::Get,
        "/api/v1/pods?fieldSelector=spec.frob%3Dx",
        None,
    );
    assert_eq!(
        (code, s["message"].as_str()),
        (400, Some("field label not supported: spec.frob"))
    );
    let (code, _) = call(
        &mut c,
        Method::Get,
        "/api/v1/pods?labelSelector=app%20in%20(",
        None,
    );
    assert_eq!(code, 400);

    // Paging: limit, continue, remainingItemCount.
    let (_, page1) = call(
        &mut c,
        Method::Get,
        "/api/v1/namespaces/default/pods?limit=2",
        None,
    );
    assert_eq!(names(&page1), ["p0", "p1"]);
    assert_eq!(page1["metadata"]["remainingItemCount"], 3);
    let token = page1["metadata"]["continue"].as_str().unwrap().to_string();
    let (_, page2) = call(
        &mut c,
        Method::Get,
        &format!("/api/v1/namespaces/default/pods?limit=2&continue={token}"),
        None,
    );
    assert_eq!(names(&page2), ["p2", "p3"]);
    let token = page2["metadata"]["continue"].as_str().unwrap().to_string();
    let (_, page3) = call(
        &mut c,
        Method::Get,
        &format!("/api/v1/namespaces/default/pods?limit=2&continue={token}"),
        None,
    );
    assert_eq!(names(&page3), ["p4"]);
    assert!(page3["metadata"].get("continue").is_none());
}

#[test]
fn watches_replay_changes_from_a_revision() {
    let mut c = cluster();
    let (_, l) = call(&mut c, Method::Get, "/api/v1/namespaces/default/pods", None);
    let rv = l["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/pods",
        Some(pod("a", json!({"app": "web"}))),
    );
    call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/pods",
        Some(pod("b", json!({"app": "db"}))),
    );
    call_ct(
        &mut c,
        Method::Patch,
        "/api/v1/namespaces/default/pods/a",
        Some(json!({"metadata": {"labels": {"app": "db"}}})),
        Some("application/merge-patch+json"),
    );
    call(
        &mut c,
        Method::Delete,
        "/api/v1/namespaces/default/pods/b",
        None,
    );
    let resp = c.request(Request::get(format!(
        "/api/v1/namespaces/default/pods?watch=true&resourceVersion={rv}&labelSelector=app%3Dweb"
    )));
    let events = resp.body_json();
    let seen: Vec<(String, String)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    // a entered the selector, then left it when relabeled; b never matched.
    assert_eq!(
        seen,
        [("ADDED".into(), "a".into()), ("DELETED".into(), "a".into())]
    );

    // The scenario `request` step wraps them as {"events": [...]}.
    let s = kubeglass::scenario::parse(
        "apiVersion: kubeglass.dev/v1alpha1\nkind: Scenario\nspec:\n  steps:\n  - request: {method: GET, path: \"/api/v1/namespaces?watch=true&resourceVersion=0&fieldSelector=metadata.name%3Ddefault\"}\n",
    )
    .unwrap();
    let (results, _) = kubeglass::scenario::run(&s).unwrap();
    let out = &results[0].output;
    assert_eq!(out["code"], 200);
    assert_eq!(out["body"]["events"][0]["type"], "ADDED");
    assert_eq!(
        out["body"]["events"][0]["object"]["metadata"]["name"],
        "default"
    );
    assert_eq!(out["body"]["events"].as_array().unwrap().len(), 1);
}

#[test]
fn old_revisions_leave_the_window_with_410() {
    let mut settings = Settings::default();
    settings.apiserver.history = 5;
    let mut c = Cluster::new(settings).unwrap();
    for i in 0..10 {
        call(
            &mut c,
            Method::Post,
            "/api/v1/namespaces/default/configmaps",
            Some(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{i}")}}),
            ),
        );
    }
    let (code, s) = call(
        &mut c,
        Method::Get,
        "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2",
        None,
    );
    assert_eq!(code, 410);
    assert_eq!(s["reason"], "Expired");
    assert!(
        s["message"]
            .as_str()
            .unwrap()
            .starts_with("too old resource version: 2 ("),
        "{s}"
    );
}

#[test]
fn patch_types_follow_content_type() {
    let mut c = cluster();
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                   "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "a"}},
                            "template": {"metadata": {"labels": {"app": "a"}},
                                         "spec": {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}}}});
    let (code, created) = call(
        &mut c,
        Method::Post,
        "/apis/apps/v1/namespaces/default/deployments",
        Some(d),
    );
    assert_eq!(code, 201);
    assert_eq!(created["metadata"]["generation"], 1);
    assert_eq!(
        created["spec"]["strategy"]["rollingUpdate"]["maxSurge"],
        "25%"
    );
    let path = "/apis/apps/v1/namespaces/default/deployments/d";
    // Strategic merge: containers merge by name.
    let (code, v) = call_ct(
        &mut c,
        Method::Patch,
        path,
        Some(
            json!({"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "b:2"}]}}}}),
        ),
        Some("application/strategic-merge-patch+json"),
    );
    assert_eq!(code, 200, "{v}");
    let images: Vec<&str> = v["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["image"].as_str().unwrap())
        .collect();
    assert_eq!(images, ["a:1", "b:2"]);
    assert_eq!(v["metadata"]["generation"], 2);
    // Merge patch: lists are replaced.
    let (_, v) = call_ct(
        &mut c,
        Method::Patch,
        path,
        Some(
            json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "c:1"}]}}}}),
        ),
        Some("application/merge-patch+json"),
    );
    assert_eq!(
        v["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // JSON patch.
    let (_, v) = call_ct(
        &mut c,
        Method::Patch,
        path,
        Some(json!([{"op": "replace", "path": "/spec/replicas", "value": 4}])),
        Some("application/json-patch+json"),
    );
    assert_eq!(v["spec"]["replicas"], 4);
    let (code, s) = call_ct(
        &mut c,
        Method::Patch,
        path,
        Some(json!([{"op": "test", "path": "/spec/replicas", "value": 9}])),
        Some("application/json-patch+json"),
    );
    assert_eq!(code, 422, "{s}");
    let (code, _) = call_ct(
        &mut c,
        Method::Patch,
        path,
        Some(json!({})),
        Some("text/plain"),
    );
    assert_eq!(code, 415);
    // The selector is immutable.
    let (code, s) = call_ct(
        &mut c,
        Method::Patch,
        path,
        Some(
            json!({"spec": {"selector": {"matchLabels": {"app": "z"}}, "template": {"metadata": {"labels": {"app": "z"}}}}}),
        ),
        Some("application/merge-patch+json"),
    );
    assert_eq!(code, 422);
    assert!(s["message"].as_str().unwrap().contains("spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"z\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"), "{s}");
    // The scale subresource.
    let (code, scale) = call(&mut c, Method::Get, &format!("{path}/scale"), None);
    assert_eq!(code, 200);
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 4);
    assert_eq!(scale["status"]["selector"], "app=a");
    let (_, scale) = call_ct(
        &mut c,
        Method::Patch,
        &format!("{path}/scale"),
        Some(json!({"spec": {"replicas": 2}})),
        Some("application/merge-patch+json"),
    );
    assert_eq!(scale["spec"]["replicas"], 2);
}

#[test]
fn discovery_health_version_and_unknown_paths() {
    let mut c = cluster();
    let (code, v) = call(&mut c, Method::Get, "/version", None);
    assert_eq!((code, v["gitVersion"].as_str()), (200, Some("v1.31.0")));
    let (_, v) = call(&mut c, Method::Get, "/healthz", None);
    assert_eq!(v, "ok");
    let (_, v) = call(&mut c, Method::Get, "/api", None);
    assert_eq!(v["versions"], json!(["v1"]));
    let (_, v) = call(&mut c, Method::Get, "/apis", None);
    assert!(v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "apps"));
    let (_, v) = call(&mut c, Method::Get, "/api/v1", None);
    let pods = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "pods")
        .unwrap();
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert_eq!(pods["namespaced"], true);
    assert!(v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "pods/binding"));
    let (code, s) = call(&mut c, Method::Get, "/api/v1/frobs", None);
    assert_eq!(
        (code, s["message"].as_str()),
        (
            404,
            Some("the server could not find the requested resource")
        )
    );
    let (code, _) = call(&mut c, Method::Get, "/apis/frob.io/v1", None);
    assert_eq!(code, 404);
}

#[test]
fn proxy_paths_resolve_in_both_forms() {
    let mut c = cluster();
    let (code_new, new) = call(
        &mut c,
        Method::Get,
        "/api/v1/nodes/node-1/proxy/healthz",
        None,
    );
    let (code_old, old) = call(
        &mut c,
        Method::Get,
        "/api/v1/proxy/nodes/node-1/healthz",
        None,
    );
    // No kubelet answers yet: upstream's dial error, the same for both forms.
    assert_eq!((code_new, code_old), (503, 503));
    assert_eq!(new, old);
    assert_eq!(
        new["message"],
        "error trying to reach service: dial tcp 10.0.0.2:10250: connect: connection refused"
    );
    let (code, s) = call(
        &mut c,
        Method::Get,
        "/api/v1/proxy/nodes/nope/healthz",
        None,
    );
    assert_eq!(
        (code, s["message"].as_str()),
        (404, Some("nodes \"nope\" not found"))
    );
    let (code, s) = call(
        &mut c,
        Method::Get,
        "/api/v1/namespaces/default/services/kubernetes:https/proxy/",
        None,
    );
    assert_eq!(code, 503);
    assert_eq!(
        s["message"],
        "no endpoints available for service \"kubernetes\""
    );
}

#[test]
fn bodies_over_three_mebibytes_are_refused() {
    let mut c = cluster();
    let big = "x".repeat(3 * 1024 * 1024 + 1);
    let resp = c.request(
        Request::new(Method::Post, "/api/v1/namespaces/default/configmaps")
            .with_body(Body::Text(big)),
    );
    assert_eq!(resp.code, 413);
    assert_eq!(resp.body_json()["reason"], "RequestEntityTooLarge");
}

#[test]
fn finalizers_hold_deletion_until_removed() {
    let mut c = cluster();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "held", "finalizers": ["example.com/keep"]}});
    call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/configmaps",
        Some(cm),
    );
    let (code, v) = call(
        &mut c,
        Method::Delete,
        "/api/v1/namespaces/default/configmaps/held",
        None,
    );
    assert_eq!(code, 200);
    assert!(v["metadata"]["deletionTimestamp"].is_string());
    let (code, _) = call(
        &mut c,
        Method::Get,
        "/api/v1/namespaces/default/configmaps/held",
        None,
    );
    assert_eq!(code, 200);
    let (code, _) = call_ct(
        &mut c,
        Method::Patch,
        "/api/v1/namespaces/default/configmaps/held",
        Some(json!({"metadata": {"finalizers": null}})),
        Some("application/merge-patch+json"),
    );
    assert_eq!(code, 200);
    let (code, _) = call(
        &mut c,
        Method::Get,
        "/api/v1/namespaces/default/configmaps/held",
        None,
    );
    assert_eq!(code, 404);
}

#[test]
fn generate_name_binding_and_dry_run() {
    let mut c = cluster();
    let p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "web-"}, "spec": {"schedulerName": "manual", "containers": [{"name": "c", "image": "i"}]}});
    let (code, v) = call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/pods",
        Some(p.clone()),
    );
    assert_eq!(code, 201);
    let name = v["metadata"]["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("web-") && name.len() == 9, "{name}");
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name}, "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"}});
    let (code, _) = call(
        &mut c,
        Method::Post,
        &format!("/api/v1/namespaces/default/pods/{name}/binding"),
        Some(binding.clone()),
    );
    assert_eq!(code, 201);
    let (_, v) = call(
        &mut c,
        Method::Get,
        &format!("/api/v1/namespaces/default/pods/{name}"),
        None,
    );
    assert_eq!(v["spec"]["nodeName"], "node-1");
    assert_eq!(v["status"]["conditions"][0]["type"], "PodScheduled");
    let (code, s) = call(
        &mut c,
        Method::Post,
        &format!("/api/v1/namespaces/default/pods/{name}/binding"),
        Some(binding),
    );
    assert_eq!(code, 409);
    assert_eq!(s["message"], format!("Operation cannot be fulfilled on pods \"{name}\": pod {name} is already assigned to node \"node-1\""));
    let (code, _) = call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/pods?dryRun=All",
        Some(pod("dry", json!({}))),
    );
    assert_eq!(code, 201);
    let (code, _) = call(
        &mut c,
        Method::Get,
        "/api/v1/namespaces/default/pods/dry",
        None,
    );
    assert_eq!(code, 404);
}

#[test]
fn services_get_cluster_ips_and_node_ports_from_their_ranges() {
    let mut c = cluster();
    let svc = |name: &str, spec: Value| json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec});
    let (code, v) = call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/services",
        Some(svc(
            "a",
            json!({"type": "NodePort", "selector": {"app": "a"}, "ports": [{"port": 80}]}),
        )),
    );
    assert_eq!(code, 201, "{v}");
    let ip = kubeglass::apiserver::parse_ipv4(v["spec"]["clusterIP"].as_str().unwrap()).unwrap();
    assert!(kubeglass::apiserver::Cidr::parse("10.96.0.0/12")
        .unwrap()
        .contains(ip));
    let np = v["spec"]["ports"][0]["nodePort"].as_i64().unwrap();
    assert!((30000..=32767).contains(&np));
    assert_eq!(v["spec"]["ports"][0]["targetPort"], 80);
    assert_eq!(v["spec"]["externalTrafficPolicy"], "Cluster");
    let (code, s) = call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/services",
        Some(svc(
            "b",
            json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": np}]}),
        )),
    );
    assert_eq!(code, 422);
    assert_eq!(s["message"], format!("Service \"b\" is invalid: spec.ports[0].nodePort: Invalid value: {np}: provided port is already allocated"));
    let (code, s) = call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/services",
        Some(svc(
            "c",
            json!({"clusterIP": "10.0.0.5", "ports": [{"port": 80}]}),
        )),
    );
    assert_eq!(code, 422);
    assert_eq!(
        s["message"],
        "Service \"c\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.0.0.5\"}: failed to allocate IP 10.0.0.5: the provided IP (10.0.0.5) is not in the valid range. The range of valid IPs is 10.96.0.0/12"
    );
    let (code, s) = call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/services",
        Some(svc(
            "d",
            json!({"clusterIP": "10.96.0.1", "ports": [{"port": 80}]}),
        )),
    );
    assert_eq!(code, 422);
    assert!(s["message"]
        .as_str()
        .unwrap()
        .ends_with("failed to allocate IP 10.96.0.1: provided IP is already allocated"));
    // Deleting frees the node port.
    call(
        &mut c,
        Method::Delete,
        "/api/v1/namespaces/default/services/a",
        None,
    );
    let (code, _) = call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/services",
        Some(svc(
            "b",
            json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": np}]}),
        )),
    );
    assert_eq!(code, 201);
}

#[test]
fn identities_authenticate_by_token_and_unknown_ones_get_401() {
    let mut settings = Settings::default();
    settings.apiserver.security.insert(
        "tokens".into(),
        json!([{"token": "s3cret", "user": "alice", "uid": "1", "groups": ["dev"]}]),
    );
    let mut c = Cluster::new(settings).unwrap();
    let ok = c.request(
        Request::get("/api/v1/namespaces/default/pods")
            .with_credentials(Credentials::Token("s3cret".into())),
    );
    assert_eq!(ok.code, 200);
    let bad = c.request(
        Request::get("/api/v1/namespaces/default/pods")
            .with_credentials(Credentials::Token("nope".into())),
    );
    assert_eq!(bad.code, 401);
    assert_eq!(bad.body_json()["message"], "Unauthorized");
    // The trace names the user and how they were authenticated.
    let entry =
        c.k.trace
            .entries()
            .rev()
            .find(|e| e.action.starts_with("list pods"))
            .unwrap();
    assert!(entry.reason.contains("as alice"), "{}", entry.reason);
}

#[test]
fn every_request_leaves_a_trace_entry_with_its_stages() {
    let mut c = cluster();
    call(
        &mut c,
        Method::Post,
        "/api/v1/namespaces/default/pods",
        Some(pod("web", json!({}))),
    );
    let entry =
        c.k.trace
            .entries()
            .find(|e| e.action == "create pods in default")
            .unwrap();
    let kubeglass::kernel::TraceDetail::Request {
        method,
        code,
        stages,
        ..
    } = &entry.detail
    else {
        panic!("not a request")
    };
    assert_eq!((*method, *code), ("POST", 201));
    let names: Vec<&str> = stages.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "authentication",
            "authorization",
            "decoding",
            "mutating admission",
            "validation",
            "validating admission",
            "storage"
        ]
    );
    assert!(
        stages[3]
            .reason
            .contains("ServiceAccount: set serviceAccountName \"default\""),
        "{}",
        stages[3].reason
    );
    assert!(
        stages[3]
            .reason
            .starts_with("NamespaceLifecycle: namespace \"default\" is active"),
        "{}",
        stages[3].reason
    );
    assert_eq!(entry.objects[0].name, "web");
    assert!(entry.objects[0].revision > 0);
}
