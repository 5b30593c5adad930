#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

// `kubectl describe` through the public interface: a cluster, a manifest applied as a
// person would, and the pages kubectl v1.31 would print for what the cluster holds.

use kubeglass::api::core::Node;
use kubeglass::apiserver::request::Credentials;
use kubeglass::cluster::{Cluster, Settings};
use kubeglass::kubectl::apply::apply_text;
use kubeglass::kubectl::Kubectl;

const MANIFEST: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  labels: {app: nginx}
spec:
  replicas: 2
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: nginx}
spec:
  selector: {app: nginx}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
  - name: web
    image: nginx
    env: [{name: MODE, value: prod}]
    resources: {requests: {cpu: 100m}}
"#;

fn cluster() -> Cluster {
    let node: Node =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "node-1"}})).expect("node");
    let mut c = Cluster::new(Settings {
        nodes: vec![node],
        ..Default::default()
    })
    .expect("cluster");
    let mut kc = Kubectl::new(&mut c, Credentials::Admin);
    let out = apply_text(&mut kc, MANIFEST, "-", "default", false, false);
    assert_eq!(out.code, 0, "{}", out.stderr);
    c
}

#[test]
fn describe_pod_prints_kubectls_page() {
    let mut c = cluster();
    let out = Kubectl::new(&mut c, Credentials::Admin).run("describe pod web");
    assert_eq!(out.stderr, "");
    assert_eq!(out.code, 0);
    // describePod: the admission-added service account, priority, token volume and
    // tolerations; a pending pod has no node, IPs or container statuses yet.
    let want = "\
Name:             web
Namespace:        default
Priority:         0
Service Account:  default
Node:             <none>
Labels:           app=web
Annotations:      <none>
Status:           Pending
IP:               
IPs:              <none>
Containers:
  web:
    Image:      nginx
    Port:       <none>
    Host Port:  <none>
    Requests:
      cpu:  100m
    Environment:
      MODE:  prod
    Mounts:
      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-c6sxg (ro)
Volumes:
  kube-api-access-c6sxg:
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
    assert_eq!(out.stdout, want);
}

#[test]
fn describe_node_lists_its_pods_and_lease() {
    // The node's kubelet has created its Lease and the IPAM controller given it a podCIDR.
    let mut c = cluster();
    let out = Kubectl::new(&mut c, Credentials::Admin).run("describe node node-1");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let want = "\
Name:               node-1
Roles:              <none>
Labels:             beta.kubernetes.io/arch=amd64
                    beta.kubernetes.io/os=linux
                    kubernetes.io/arch=amd64
                    kubernetes.io/hostname=node-1
                    kubernetes.io/os=linux
Annotations:        <none>
CreationTimestamp:  Tue, 13 Aug 2024 00:00:00 +0000
Taints:             <none>
Unschedulable:      false
Lease:
  HolderIdentity:  node-1
  AcquireTime:     <unset>
  RenewTime:       Tue, 13 Aug 2024 00:00:00 +0000
Conditions:
  Type             Status  LastHeartbeatTime                 LastTransitionTime                Reason                       Message
  ----             ------  -----------------                 ------------------                ------                       -------
  MemoryPressure   False   Tue, 13 Aug 2024 00:00:00 +0000   Tue, 13 Aug 2024 00:00:00 +0000   KubeletHasSufficientMemory   kubelet has sufficient memory available
  DiskPressure     False   Tue, 13 Aug 2024 00:00:00 +0000   Tue, 13 Aug 2024 00:00:00 +0000   KubeletHasNoDiskPressure     kubelet has no disk pressure
  PIDPressure      False   Tue, 13 Aug 2024 00:00:00 +0000   Tue, 13 Aug 2024 00:00:00 +0000   KubeletHasSufficientPID      kubelet has sufficient PID available
  Ready            True    Tue, 13 Aug 2024 00:00:00 +0000   Tue, 13 Aug 2024 00:00:00 +0000   KubeletReady                 kubelet is posting ready status
Addresses:
  InternalIP:  10.0.0.2
  Hostname:    node-1
Capacity:
  cpu:                4
  ephemeral-storage:  100Gi
  memory:             16Gi
  pods:               110
Allocatable:
  cpu:                4
  ephemeral-storage:  100Gi
  memory:             16Gi
  pods:               110
System Info:
  Machine ID:                 00000000000000000000000000000001
  System UUID:                00000001-0000-0000-0000-000000000001
  Boot ID:                    00000001-0000-4000-8000-000000000001
  Kernel Version:             6.8.0-1008-kubeglass
  OS Image:                   Ubuntu 24.04 LTS
  Operating System:           linux
  Architecture:               amd64
  Container Runtime Version:  containerd://1.7.20
  Kubelet Version:            v1.31.0
  Kube-Proxy Version:         
PodCIDR:                      10.244.0.0/24
PodCIDRs:                     10.244.0.0/24
Non-terminated Pods:          (0 in total)
  Namespace                   Name    CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age
  ---------                   ----    ------------  ----------  ---------------  -------------  ---
Allocated resources:
  (Total limits may be over 100 percent, i.e., overcommitted.)
  Resource           Requests  Limits
  --------           --------  ------
  cpu                0 (0%)    0 (0%)
  memory             0 (0%)    0 (0%)
  ephemeral-storage  0 (0%)    0 (0%)
Events:
  Type    Reason          Age   From             Message
  ----    ------          ----  ----             -------
  Normal  RegisteredNode  0s    node-controller  Node node-1 event: Registered Node node-1 in Controller
";
    assert_eq!(out.stdout, want);
}

#[test]
fn describe_deployment_and_namespace() {
    let mut c = cluster();
    let mut kc = Kubectl::new(&mut c, Credentials::Admin);
    let out = kc.run("describe deployment nginx");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let want = "\
Name:                   nginx
Namespace:              default
CreationTimestamp:      Tue, 13 Aug 2024 00:00:00 +0000
Labels:                 app=nginx
Annotations:            <none>
Selector:               app=nginx
Replicas:               2 desired | 0 updated | 0 total | 0 available | 0 unavailable
StrategyType:           RollingUpdate
MinReadySeconds:        0
RollingUpdateStrategy:  25% max unavailable, 25% max surge
Pod Template:
  Labels:  app=nginx
  Containers:
   nginx:
    Image:         nginx:1.14.2
    Port:          80/TCP
    Host Port:     0/TCP
    Environment:   <none>
    Mounts:        <none>
  Volumes:         <none>
  Node-Selectors:  <none>
  Tolerations:     <none>
Events:            <none>
";
    assert_eq!(out.stdout, want);
    let out = kc.run("describe namespace default");
    assert_eq!(
        out.stdout,
        "\
Name:         default
Labels:       kubernetes.io/metadata.name=default
Annotations:  <none>
Status:       Active

No resource quota.

No LimitRange resource.
"
    );
}

#[test]
fn several_pages_prefix_matches_and_misses() {
    let mut c = cluster();
    let mut kc = Kubectl::new(&mut c, Credentials::Admin);
    // Pages of a list are separated as kubectl separates them: "\n\n" before each
    // further page.
    let out = kc.run("describe services");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let pages: Vec<&str> = out.stdout.split("\n\n\n").collect();
    assert_eq!(pages.len(), 2, "{}", out.stdout);
    assert!(pages[0].starts_with("Name:                     kubernetes\n"));
    assert!(pages[1].starts_with("Name:                     nginx\n"));
    assert!(pages[1].contains("\nPort:                     <unset>  80/TCP\nTargetPort:               80/TCP\nEndpoints:                <none>\n"));
    // `describe TYPE NAME` with no such object describes the objects named NAME...,
    // each page followed by a newline (DescribeMatchingResources).
    let out = kc.run("describe pod we");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("Name:             web\n"));
    assert!(out
        .stdout
        .ends_with("Events:                      <none>\n\n"));
    let out = kc.run("describe pods nothing");
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "Error from server (NotFound): pods \"nothing\" not found\n"
    );
    let out = kc.run("describe secrets");
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
    assert_eq!(out.stderr, "No resources found in default namespace.\n");
    // --show-events=false leaves the Events section out.
    let out = kc.run("describe sa default --show-events=false");
    assert_eq!(
        out.stdout,
        "\
Name:                default
Namespace:           default
Labels:              <none>
Annotations:         <none>
Image pull secrets:  <none>
Mountable secrets:   <none>
Tokens:              <none>
"
    );
}
