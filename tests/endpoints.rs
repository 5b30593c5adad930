//! The Endpoints, EndpointSlice and service (load balancer) controllers through
//! scenarios, REST and kubectl. No kubelet runs, so pods get their IP and Ready
//! condition the way a kubelet would write them: a `pods/NAME/status` request.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::scenario::{self, StepResult};
use serde_json::Value;

fn run(steps: &str) -> Vec<StepResult> {
    let text = format!(
        r#"apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {{name: endpoints}}
spec:
  cluster:
    nodes:
    - metadata: {{name: node-1, annotations: {{kubeglass.dev/kubelet: "none"}}, labels: {{topology.kubernetes.io/zone: zone-a}}}}
      status: {{capacity: {{cpu: "8", memory: 8Gi, pods: "110"}}}}
  steps:
{steps}"#
    );
    let s = scenario::parse(&text).unwrap_or_else(|e| panic!("scenario: {e}"));
    scenario::run(&s).unwrap_or_else(|e| panic!("run: {e}")).0
}

fn ok(r: &StepResult) -> &Value {
    assert!(r.error.is_null(), "step failed: {}", r.error);
    &r.output
}

fn text(r: &StepResult) -> &str {
    ok(r).as_str().unwrap_or_default()
}

/// A kubelet's status update: running, an IP, Ready as given.
fn running(pod: &str, ip: &str, ready: bool) -> String {
    let status = if ready { "True" } else { "False" };
    format!(
        r#"  - request: {{method: PATCH, path: /api/v1/namespaces/default/pods/{pod}/status, headers: {{Content-Type: application/merge-patch+json}}, body: {{status: {{phase: Running, podIP: {ip}, podIPs: [{{ip: {ip}}}], conditions: [{{type: Ready, status: "{status}", lastTransitionTime: "2024-08-13T00:00:05Z"}}]}}}}}}
"#
    )
}

const SERVICE_AND_PODS: &str = r#"  - apply: |
      apiVersion: v1
      kind: Service
      metadata: {name: web, labels: {tier: front}}
      spec:
        selector: {app: web}
        ports: [{name: http, port: 80, targetPort: web}]
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {name: web-1, labels: {app: web}}
      spec:
        containers: [{name: c, image: nginx, ports: [{name: web, containerPort: 8080}]}]
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {name: web-2, labels: {app: web}}
      spec:
        containers: [{name: c, image: nginx, ports: [{name: web, containerPort: 8080}]}]
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {name: web-3, labels: {app: web}}
      spec:
        containers: [{name: c, image: nginx, ports: [{name: web, containerPort: 9090}]}]
  - advance: 5s
"#;

#[test]
fn endpoints_list_ready_and_not_ready_pods_with_ips() {
    let steps = format!(
        "{SERVICE_AND_PODS}  - kubectl: get endpoints web\n{}{}  - kubectl: get endpoints\n  - request: {{method: GET, path: /api/v1/namespaces/default/endpoints/web}}\n",
        running("web-1", "10.244.1.5", true),
        running("web-2", "10.244.1.6", false),
    );
    let r = run(&steps);
    // No pod has an IP yet: the Endpoints exist and list nothing.
    assert_eq!(
        text(&r[5]),
        "NAME   ENDPOINTS   AGE\nweb    <none>      5s\n"
    );
    assert_eq!(
        text(&r[8]),
        "NAME         ENDPOINTS         AGE\nkubernetes   10.0.0.1:6443     5s\nweb          10.244.1.5:8080   5s\n"
    );
    let ep = &ok(&r[9])["body"];
    assert_eq!(ep["metadata"]["labels"]["tier"], "front");
    assert_eq!(
        ep["metadata"]["annotations"]["endpoints.kubernetes.io/last-change-trigger-time"],
        "2024-08-13T00:00:05Z"
    );
    let subsets = ep["subsets"].as_array().expect("subsets");
    assert_eq!(subsets.len(), 1, "{ep}");
    let s = &subsets[0];
    assert_eq!(s["addresses"][0]["ip"], "10.244.1.5");
    assert_eq!(s["addresses"][0]["nodeName"], "node-1");
    assert_eq!(s["addresses"][0]["targetRef"]["kind"], "Pod");
    assert_eq!(s["addresses"][0]["targetRef"]["name"], "web-1");
    assert_eq!(s["notReadyAddresses"][0]["ip"], "10.244.1.6");
    assert_eq!(
        s["ports"][0],
        serde_json::json!({"name": "http", "port": 8080, "protocol": "TCP"})
    );
    // web-3 has no IP: it is in neither list.
    assert!(!ep.to_string().contains("web-3"));
}

#[test]
fn publish_not_ready_addresses_and_named_ports_per_pod() {
    let steps = format!(
        "{SERVICE_AND_PODS}{}{}{}  - kubectl: patch svc web -p '{{\"spec\":{{\"publishNotReadyAddresses\":true}}}}'\n  - request: {{method: GET, path: /api/v1/namespaces/default/endpoints/web}}\n  - kubectl: describe endpoints web\n",
        running("web-1", "10.244.1.5", true),
        running("web-2", "10.244.1.6", false),
        running("web-3", "10.244.1.7", false),
    );
    let r = run(&steps);
    let ep = &ok(&r[9])["body"];
    let subsets = ep["subsets"].as_array().expect("subsets");
    // Two port sets (8080 for web-1 and web-2, 9090 for web-3), every pod ready.
    assert_eq!(subsets.len(), 2, "{ep}");
    assert_eq!(subsets[0]["ports"][0]["port"], 8080);
    assert_eq!(subsets[0]["addresses"].as_array().map(Vec::len), Some(2));
    assert!(subsets[0].get("notReadyAddresses").is_none());
    assert_eq!(subsets[1]["ports"][0]["port"], 9090);
    assert_eq!(subsets[1]["addresses"][0]["ip"], "10.244.1.7");
    assert!(
        text(&r[10]).contains("Addresses:          10.244.1.5,10.244.1.6\n"),
        "{}",
        text(&r[10])
    );
}

#[test]
fn endpointslices_per_service_with_conditions_and_owner() {
    let steps = format!(
        "{SERVICE_AND_PODS}{}{}  - request: {{method: GET, path: /apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io/service-name%3Dweb}}\n  - kubectl: get endpointslices -l kubernetes.io/service-name=web\n  - kubectl: delete svc web\n  - kubectl: get endpointslices,endpoints\n",
        running("web-1", "10.244.1.5", true),
        running("web-2", "10.244.1.6", false),
    );
    let r = run(&steps);
    let items = ok(&r[7])["body"]["items"]
        .as_array()
        .cloned()
        .expect("items");
    assert_eq!(items.len(), 1, "{items:?}");
    let s = &items[0];
    assert_eq!(s["addressType"], "IPv4");
    assert_eq!(s["metadata"]["generateName"], "web-");
    assert!(s["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .starts_with("web-"));
    assert_eq!(
        s["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
        "endpointslice-controller.k8s.io"
    );
    assert_eq!(s["metadata"]["labels"]["kubernetes.io/service-name"], "web");
    assert_eq!(s["metadata"]["labels"]["tier"], "front");
    let owner = &s["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "Service");
    assert_eq!(owner["name"], "web");
    assert_eq!(owner["controller"], true);
    assert_eq!(owner["blockOwnerDeletion"], true);
    assert_eq!(
        s["ports"][0],
        serde_json::json!({"name": "http", "port": 8080, "protocol": "TCP"})
    );
    let eps = s["endpoints"].as_array().expect("endpoints");
    assert_eq!(eps.len(), 2);
    assert_eq!(eps[0]["addresses"][0], "10.244.1.5");
    assert_eq!(
        eps[0]["conditions"],
        serde_json::json!({"ready": true, "serving": true, "terminating": false})
    );
    assert_eq!(eps[0]["nodeName"], "node-1");
    assert_eq!(eps[0]["zone"], "zone-a");
    assert_eq!(eps[0]["targetRef"]["name"], "web-1");
    assert_eq!(
        eps[1]["conditions"],
        serde_json::json!({"ready": false, "serving": false, "terminating": false})
    );
    let table = text(&r[8]);
    assert!(table.starts_with("NAME"), "{table}");
    assert!(
        table.contains("IPv4          8080    10.244.1.5,10.244.1.6"),
        "{table}"
    );
    // The Service gone, its Endpoints and slices go too; what stays is the API
    // server's own `kubernetes` Endpoints and the EndpointSlice mirrored from it.
    assert_eq!(
        text(&r[10]),
        "NAME                                        ADDRESSTYPE   PORTS   ENDPOINTS   AGE\nendpointslice.discovery.k8s.io/kubernetes   IPv4          6443    10.0.0.1    5s\n\nNAME                   ENDPOINTS       AGE\nendpoints/kubernetes   10.0.0.1:6443   5s\n"
    );
}

#[test]
fn a_service_without_pods_has_a_placeholder_slice_and_slices_hold_100() {
    let mut steps = String::from(
        r#"  - apply: |
      apiVersion: v1
      kind: Service
      metadata: {name: many}
      spec:
        selector: {app: many}
        ports: [{port: 80}]
  - request: {method: GET, path: "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io/service-name=many"}
"#,
    );
    for i in 0..150 {
        steps.push_str(&format!(
            "  - request: {{method: POST, path: /api/v1/namespaces/default/pods, body: {{metadata: {{name: m-{i:03}, labels: {{app: many}}}}, spec: {{containers: [{{name: c, image: nginx}}]}}}}}}\n"
        ));
    }
    for i in 0..150 {
        steps.push_str(&running(
            &format!("m-{i:03}"),
            &format!("10.244.{}.{}", 1 + i / 200, 1 + i % 200),
            true,
        ));
    }
    steps.push_str("  - request: {method: GET, path: \"/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io/service-name=many\"}\n");
    let r = run(&steps);
    let placeholder = ok(&r[1])["body"]["items"]
        .as_array()
        .cloned()
        .expect("items");
    assert_eq!(placeholder.len(), 1);
    assert!(placeholder[0].get("endpoints").is_none());
    assert!(placeholder[0].get("ports").is_none());
    let last = r.last().expect("steps");
    let items = ok(last)["body"]["items"]
        .as_array()
        .cloned()
        .expect("items");
    let mut sizes: Vec<usize> = items
        .iter()
        .map(|s| s["endpoints"].as_array().map_or(0, Vec::len))
        .collect();
    sizes.sort();
    assert_eq!(sizes, vec![50, 100]);
}

#[test]
fn load_balancer_gets_an_ip_from_the_simulated_cloud_and_releases_it() {
    let r = run(r#"  - apply: |
      apiVersion: v1
      kind: Service
      metadata: {name: web}
      spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}
  - apply: |
      apiVersion: v1
      kind: Service
      metadata: {name: custom}
      spec: {type: LoadBalancer, loadBalancerClass: example.com/lb, selector: {app: web}, ports: [{port: 80}]}
  - kubectl: get svc web -o jsonpath={.metadata.finalizers}
  - kubectl: get svc -o custom-columns=NAME:.metadata.name,EXTERNAL-IP:.status.loadBalancer.ingress[0].ip
  - advance: 2s
  - kubectl: get svc web custom
  - kubectl: get svc web -o jsonpath={.status.loadBalancer}
  - apply: |
      apiVersion: v1
      kind: Service
      metadata: {name: second}
      spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}
  - advance: 2s
  - kubectl: get svc second -o jsonpath={.status.loadBalancer.ingress[0].ip}
  - kubectl: delete svc web
  - kubectl: get events --field-selector involvedObject.name=web -o custom-columns=REASON:.reason,MESSAGE:.message
  - kubectl: get svc web
"#);
    assert_eq!(
        text(&r[2]),
        r#"["service.kubernetes.io/load-balancer-cleanup"]"#
    );
    let table = text(&r[5]);
    assert!(
        table.contains("web      LoadBalancer") && table.contains("203.0.113.1   80:"),
        "{table}"
    );
    assert!(
        table.contains("custom   LoadBalancer") && table.contains("<pending>"),
        "{table}"
    );
    assert_eq!(
        text(&r[6]),
        r#"{"ingress":[{"ip":"203.0.113.1","ipMode":"VIP"}]}"#
    );
    // web's address was still taken when second was provisioned.
    assert_eq!(text(&r[9]), "203.0.113.2");
    assert_eq!(text(&r[10]), "service \"web\" deleted\n");
    assert_eq!(
        text(&r[11]),
        "REASON                 MESSAGE\nEnsuringLoadBalancer   Ensuring load balancer\nEnsuredLoadBalancer    Ensured load balancer\nDeletingLoadBalancer   Deleting load balancer\nDeletedLoadBalancer    Deleted load balancer\n"
    );
    assert_eq!(
        r[12].error["message"],
        "Error from server (NotFound): services \"web\" not found"
    );
}
