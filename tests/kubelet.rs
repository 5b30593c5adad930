//! The simulated kubelet through the public interfaces: pods run with an IP from their
//! node's podCIDR, image pulls and their back-off, the crash back-off, probes,
//! graceful termination, node admission, node IPAM, heartbeats, `fault` steps,
//! `kubectl logs` and `kubectl exec`; all against upstream v1.31's values.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::apiserver::request::Credentials;
use kubeglass::cluster::Cluster;
use kubeglass::kernel::NANOS_PER_MILLI;
use kubeglass::kubectl::{apply, Kubectl, Output};
use kubeglass::scenario::{self, run_json};
use serde_json::{json, Value};

const SEC: u64 = 1_000_000_000;

fn cluster(spec_cluster: &str) -> Cluster {
    let text = format!(
        "apiVersion: kubeglass.dev/v1alpha1\nkind: Scenario\nspec:\n  cluster:\n{spec_cluster}"
    );
    let s = scenario::parse(&text).unwrap_or_else(|e| panic!("scenario: {e}"));
    Cluster::new(s.settings).unwrap()
}

const TWO_NODES: &str =
    "    nodes:\n    - metadata: {name: node-1}\n    - metadata: {name: node-2}\n";

fn run(c: &mut Cluster, line: &str) -> Output {
    let out = Kubectl::new(c, Credentials::Admin).run(line);
    c.run_due();
    out
}

fn ok(c: &mut Cluster, line: &str) -> String {
    let out = run(c, line);
    assert_eq!(out.code, 0, "kubectl {line}: {}", out.stderr);
    out.stdout
}

fn apply(c: &mut Cluster, text: &str) {
    let out = apply::apply_text(
        &mut Kubectl::new(c, Credentials::Admin),
        text,
        "STDIN",
        "default",
        false,
        false,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    c.run_due();
}

/// Advances to an absolute virtual time (milliseconds).
fn at(c: &mut Cluster, ms: u64) {
    let target = ms * NANOS_PER_MILLI;
    assert!(target >= c.now(), "time moves forward only");
    c.advance(target - c.now());
}

fn get(c: &mut Cluster, what: &str) -> Value {
    serde_json::from_str(&ok(c, &format!("get {what} -o json"))).unwrap()
}

fn events(c: &mut Cluster, pod: &str) -> Vec<(String, String, i64)> {
    let v = get(c, "events");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["involvedObject"]["name"] == pod)
        .map(|e| {
            (
                e["reason"].as_str().unwrap_or_default().to_string(),
                e["message"].as_str().unwrap_or_default().to_string(),
                e["count"].as_i64().unwrap_or(1),
            )
        })
        .collect()
}

fn count(evs: &[(String, String, i64)], reason: &str) -> i64 {
    evs.iter().filter(|e| e.0 == reason).map(|e| e.2).sum()
}

fn pod(name: &str, node: &str, container: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  nodeName: {node}\n  containers:\n{container}"
    )
}

#[test]
fn a_pod_runs_with_an_ip_from_its_nodes_cidr() {
    let mut c = cluster(TWO_NODES);
    apply(
        &mut c,
        &pod(
            "web",
            "node-2",
            "  - {name: nginx, image: \"nginx:1.14.2\", ports: [{containerPort: 80}]}\n",
        ),
    );
    // The pull takes 1.8s: meanwhile the container is creating and the pod Pending.
    let p = get(&mut c, "pod web");
    assert_eq!(p["status"]["phase"], "Pending");
    assert_eq!(
        p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "ContainerCreating"
    );
    assert_eq!(p["status"]["podIP"], "10.244.1.2");
    at(&mut c, 2_000);
    let p = get(&mut c, "pod web");
    let st = &p["status"];
    assert_eq!(st["phase"], "Running");
    assert_eq!(st["hostIP"], "10.0.0.3");
    assert_eq!(st["hostIPs"], json!([{"ip": "10.0.0.3"}]));
    assert_eq!(st["podIPs"], json!([{"ip": "10.244.1.2"}]));
    assert_eq!(st["qosClass"], "BestEffort");
    assert_eq!(st["startTime"], "2024-08-13T00:00:00Z");
    let types: Vec<&str> = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled"
        ]
    );
    assert!(st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["status"] == "True"));
    let cs = &st["containerStatuses"][0];
    assert_eq!(cs["state"]["running"]["startedAt"], "2024-08-13T00:00:01Z");
    assert_eq!(cs["ready"], true);
    assert_eq!(cs["started"], true);
    assert_eq!(cs["restartCount"], 0);
    assert_eq!(cs["image"], "docker.io/library/nginx:1.14.2");
    assert!(cs["imageID"]
        .as_str()
        .unwrap()
        .starts_with("docker.io/library/nginx@sha256:"));
    assert!(cs["containerID"]
        .as_str()
        .unwrap()
        .starts_with("containerd://"));
    let evs = events(&mut c, "web");
    let reasons: Vec<&str> = evs.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(reasons, ["Pulling", "Pulled", "Created", "Started"]);
    assert_eq!(evs[0].1, "Pulling image \"nginx:1.14.2\"");
    assert_eq!(
        evs[1].1,
        "Successfully pulled image \"nginx:1.14.2\" in 1.8s (1.8s including waiting). Image size: 71026652 bytes."
    );
    assert_eq!(evs[2].1, "Created container nginx");
    assert_eq!(evs[3].1, "Started container nginx");
    // The next pod on node-2 gets the next address; the image is now present.
    apply(
        &mut c,
        &pod(
            "web2",
            "node-2",
            "  - {name: nginx, image: \"nginx:1.14.2\"}\n",
        ),
    );
    let p = get(&mut c, "pod web2");
    assert_eq!(p["status"]["podIP"], "10.244.1.3");
    assert_eq!(p["status"]["phase"], "Running");
    assert_eq!(
        events(&mut c, "web2")[0].1,
        "Container image \"nginx:1.14.2\" already present on machine"
    );
    // settle still finishes: heartbeats are periodic work.
    assert!(c.settle(Cluster::SETTLE_LIMIT).is_ok());
}

#[test]
fn node_ipam_hands_out_blocks_in_order_and_reports_exhaustion() {
    let mut c = cluster(
        "    network: {clusterCIDR: 10.244.0.0/23, nodeCIDRMaskSize: 24}\n    nodes:\n    - metadata: {name: a}\n    - metadata: {name: b}\n    - metadata: {name: c}\n    - metadata: {name: d, annotations: {kubeglass.dev/kubelet: \"none\"}}\n",
    );
    let cidrs = ok(
        &mut c,
        "get nodes -o custom-columns=NAME:.metadata.name,CIDR:.spec.podCIDR",
    );
    assert_eq!(
        cidrs,
        "NAME   CIDR\na      10.244.0.0/24\nb      10.244.1.0/24\nc      <none>\nd      <none>\n"
    );
    assert_eq!(
        get(&mut c, "node b")["spec"]["podCIDRs"],
        json!(["10.244.1.0/24"])
    );
    let evs = get(&mut c, "events");
    let e = evs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["reason"] == "CIDRNotAvailable")
        .expect("a CIDRNotAvailable event");
    assert_eq!(e["message"], "Node c status is now: CIDRNotAvailable");
    assert_eq!(e["involvedObject"]["kind"], "Node");
    assert_eq!(e["source"]["component"], "cidrAllocator");
    assert_eq!(e["type"], "Normal");
    // A pod on the node without a CIDR waits for its sandbox: the network is not
    // ready, said in a Warning Event, and the pod worker tries again in 10s.
    apply(&mut c, &pod("p", "c", "  - {name: x, image: nginx}\n"));
    let p = get(&mut c, "pod p");
    assert!(p["status"]["podIP"].is_null());
    assert!(p["status"]["containerStatuses"].is_null());
    let evs = events(&mut c, "p");
    let not_ready: Vec<_> = evs.iter().filter(|e| e.0 == "NetworkNotReady").collect();
    assert_eq!(not_ready.len(), 1, "{evs:?}");
    assert_eq!(
        not_ready[0].1,
        "network is not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"
    );
    // A released block goes to the node that waited.
    ok(&mut c, "delete node a");
    c.run_due();
    assert_eq!(get(&mut c, "node c")["spec"]["podCIDR"], "10.244.0.0/24");
    at(&mut c, 5_000);
    assert!(get(&mut c, "pod p")["status"]["podIP"].is_null());
    // The retry at 10s makes the sandbox; the image pull and start follow.
    at(&mut c, 11_000);
    assert_eq!(get(&mut c, "pod p")["status"]["podIP"], "10.244.0.2");
    at(&mut c, 20_000);
    assert_eq!(get(&mut c, "pod p")["status"]["phase"], "Running");
    assert_eq!(count(&events(&mut c, "p"), "NetworkNotReady"), 1);
}

#[test]
fn image_pull_failure_and_back_off() {
    let mut c = cluster(TWO_NODES);
    apply(
        &mut c,
        &pod("bad", "node-1", "  - {name: app, image: nginxx}\n"),
    );
    at(&mut c, 1_000);
    let p = get(&mut c, "pod bad");
    let w = &p["status"]["containerStatuses"][0]["state"]["waiting"];
    assert_eq!(w["reason"], "ErrImagePull");
    let denied = "rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/library/nginxx:latest\": failed to resolve reference \"docker.io/library/nginxx:latest\": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed";
    assert_eq!(w["message"], denied);
    assert_eq!(p["status"]["phase"], "Pending");
    let evs = events(&mut c, "bad");
    assert!(evs.contains(&(
        "Failed".into(),
        format!("Failed to pull image \"nginxx\": {denied}"),
        1
    )));
    assert!(evs.contains(&("Failed".into(), "Error: ErrImagePull".into(), 1)));
    // Pulls at 0s, 10.5s (10s back-off over), 31s (20s), 71.5s (40s); in between the
    // pod worker's 10s retries find the back-off running: ImagePullBackOff.
    at(&mut c, 10_000);
    assert_eq!(count(&events(&mut c, "bad"), "Pulling"), 1);
    at(&mut c, 11_000);
    assert_eq!(count(&events(&mut c, "bad"), "Pulling"), 2);
    at(&mut c, 25_000);
    let p = get(&mut c, "pod bad");
    let w = &p["status"]["containerStatuses"][0]["state"]["waiting"];
    assert_eq!(w["reason"], "ImagePullBackOff");
    assert_eq!(w["message"], "Back-off pulling image \"nginxx\"");
    let evs = events(&mut c, "bad");
    assert!(evs
        .iter()
        .any(|e| e.0 == "BackOff" && e.1 == "Back-off pulling image \"nginxx\""));
    assert!(evs.iter().any(|e| e.1 == "Error: ImagePullBackOff"));
    at(&mut c, 30_500);
    assert_eq!(count(&events(&mut c, "bad"), "Pulling"), 2);
    at(&mut c, 31_000);
    assert_eq!(count(&events(&mut c, "bad"), "Pulling"), 3);
    at(&mut c, 71_000);
    assert_eq!(count(&events(&mut c, "bad"), "Pulling"), 3);
    at(&mut c, 71_500);
    assert_eq!(count(&events(&mut c, "bad"), "Pulling"), 4);
    // While it pulls again the status keeps the last failure's reason.
    let line = ok(&mut c, "get pod bad");
    assert!(line.contains("ImagePullBackOff"), "{line}");
    at(&mut c, 72_000);
    let line = ok(&mut c, "get pod bad");
    assert!(line.contains("ErrImagePull"), "{line}");
}

#[test]
fn crash_loop_back_off_doubles_from_10s_to_5m() {
    let mut c = cluster(TWO_NODES);
    apply(
        &mut c,
        &pod(
            "crash",
            "node-1",
            "  - {name: c, image: \"busybox:1.36\", command: [sh, -c, \"echo oops; exit 1\"]}\n",
        ),
    );
    // Pulled at 0.6s, it exits at once; the first restart is immediate, then the
    // back-off doubles: restarts at 0.6s, 10.6s, 30.6s, 70.6s, 150.6s, 310.6s, 610.6s.
    let restarts = |c: &mut Cluster| {
        get(c, "pod crash")["status"]["containerStatuses"][0]["restartCount"]
            .as_i64()
            .unwrap()
    };
    for (t, n) in [
        (1_000, 1),
        (10_500, 1),
        (10_700, 2),
        (30_500, 2),
        (30_700, 3),
        (70_700, 4),
        (150_700, 5),
        (310_500, 5),
        (310_700, 6),
        (610_500, 6),
        (610_700, 7),
    ] {
        at(&mut c, t);
        assert_eq!(restarts(&mut c), n, "restartCount at {t}ms");
    }
    at(&mut c, 620_000);
    let p = get(&mut c, "pod crash");
    let cs = &p["status"]["containerStatuses"][0];
    assert_eq!(cs["state"]["waiting"]["reason"], "CrashLoopBackOff");
    let uid = p["metadata"]["uid"].as_str().unwrap();
    assert_eq!(
        cs["state"]["waiting"]["message"],
        format!("back-off 5m0s restarting failed container=c pod=crash_default({uid})")
    );
    assert_eq!(cs["lastState"]["terminated"]["exitCode"], 1);
    assert_eq!(cs["lastState"]["terminated"]["reason"], "Error");
    assert_eq!(p["status"]["phase"], "Running");
    assert_eq!(cs["ready"], false);
    let evs = events(&mut c, "crash");
    assert!(evs.iter().any(|e| e.0 == "BackOff"
        && e.1 == format!("Back-off restarting failed container c in pod crash_default({uid})")));
    let table = ok(&mut c, "get pod crash");
    assert!(table.contains("CrashLoopBackOff"), "{table}");
    // Its logs: the current run is waiting, so kubectl shows the last run's.
    assert_eq!(ok(&mut c, "logs crash --previous"), "oops\n");
}

#[test]
fn a_failing_container_with_restart_policy_never_fails_the_pod() {
    let mut c = cluster(TWO_NODES);
    apply(
        &mut c,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: once}\nspec:\n  nodeName: node-1\n  restartPolicy: Never\n  containers:\n  - {name: c, image: \"busybox:1.36\", command: [sh, -c, \"sleep 2; exit 3\"]}\n",
    );
    apply(
        &mut c,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: done}\nspec:\n  nodeName: node-1\n  restartPolicy: OnFailure\n  containers:\n  - {name: c, image: \"busybox:1.36\", command: [sh, -c, \"echo done\"]}\n",
    );
    at(&mut c, 5_000);
    let p = get(&mut c, "pod once");
    assert_eq!(p["status"]["phase"], "Failed");
    let t = &p["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(t["exitCode"], 3);
    assert_eq!(t["reason"], "Error");
    assert_eq!(p["status"]["containerStatuses"][0]["restartCount"], 0);
    let ready = p["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .unwrap()
        .clone();
    assert_eq!(ready["reason"], "PodCompleted");
    let p = get(&mut c, "pod done");
    assert_eq!(p["status"]["phase"], "Succeeded");
    assert_eq!(
        p["status"]["containerStatuses"][0]["state"]["terminated"]["reason"],
        "Completed"
    );
    let table = ok(&mut c, "get pods");
    assert!(table.contains("done   0/1     Completed"), "{table}");
}

#[test]
fn a_readiness_probe_gates_ready() {
    let mut c = cluster(&format!(
        "{TWO_NODES}    images:\n    - {{image: example.com/slow, pullTime: 1s, ports: [8080], readyAfter: 15s}}\n"
    ));
    apply(
        &mut c,
        &pod("slow", "node-1", "  - name: app\n    image: example.com/slow:1.0\n    readinessProbe: {httpGet: {port: 8080, path: /healthz}, periodSeconds: 5}\n"),
    );
    // Started at 1s; probes at 5s, 10s, 15s find the port closed; at 20s it answers.
    at(&mut c, 19_000);
    let p = get(&mut c, "pod slow");
    assert_eq!(p["status"]["phase"], "Running");
    assert_eq!(p["status"]["containerStatuses"][0]["ready"], false);
    let ready = p["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .unwrap()
        .clone();
    assert_eq!(ready["status"], "False");
    assert_eq!(ready["reason"], "ContainersNotReady");
    assert_eq!(ready["message"], "containers with unready status: [app]");
    let evs = events(&mut c, "slow");
    assert!(evs.contains(&(
        "Unhealthy".into(),
        "Readiness probe failed: Get \"http://10.244.0.2:8080/healthz\": dial tcp 10.244.0.2:8080: connect: connection refused".into(),
        3
    )), "{evs:?}");
    at(&mut c, 20_000);
    let p = get(&mut c, "pod slow");
    assert_eq!(p["status"]["containerStatuses"][0]["ready"], true);
    let ready = p["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .unwrap()
        .clone();
    assert_eq!(ready["status"], "True");
    assert_eq!(ready["lastTransitionTime"], "2024-08-13T00:00:20Z");
    assert!(ok(&mut c, "get pod slow").contains("1/1     Running"));
}

#[test]
fn a_failing_liveness_probe_restarts_the_container() {
    // The docs' exec-liveness example.
    let mut c = cluster(TWO_NODES);
    apply(
        &mut c,
        &pod("liveness-exec", "node-1", "  - name: liveness\n    image: registry.k8s.io/busybox\n    args: [/bin/sh, -c, \"touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600\"]\n    livenessProbe: {exec: {command: [cat, /tmp/healthy]}, initialDelaySeconds: 5, periodSeconds: 5}\n"),
    );
    // Started at 0.6s; the file is gone at 30.6s; probes fail at 35s, 40s, 45s.
    at(&mut c, 44_000);
    let evs = events(&mut c, "liveness-exec");
    assert_eq!(count(&evs, "Unhealthy"), 2);
    assert!(evs.iter().any(|e| e.1
        == "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory"));
    at(&mut c, 45_000);
    let evs = events(&mut c, "liveness-exec");
    assert!(evs.contains(&(
        "Killing".into(),
        "Container liveness failed liveness probe, will be restarted".into(),
        1
    )));
    // The shell ignores SIGTERM: it is killed when the 30s grace period ends (75s),
    // then restarted at once (after a 0.6s pull: the image has no tag, so Always).
    at(&mut c, 75_000);
    assert_eq!(
        get(&mut c, "pod liveness-exec")["status"]["containerStatuses"][0]["restartCount"],
        0
    );
    at(&mut c, 76_000);
    let p = get(&mut c, "pod liveness-exec");
    let cs = &p["status"]["containerStatuses"][0];
    assert_eq!(cs["restartCount"], 1);
    assert_eq!(cs["lastState"]["terminated"]["exitCode"], 137);
    assert_eq!(cs["lastState"]["terminated"]["reason"], "Error");
    assert_eq!(
        cs["lastState"]["terminated"]["finishedAt"],
        "2024-08-13T00:01:15Z"
    );
    assert!(cs["state"]["running"].is_object());
}

#[test]
fn graceful_termination_waits_for_the_grace_period() {
    let mut c = cluster(TWO_NODES);
    apply(
        &mut c,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: sleeper}\nspec:\n  nodeName: node-1\n  terminationGracePeriodSeconds: 10\n  containers:\n  - {name: c, image: \"busybox:1.36\", command: [sleep, \"3600\"]}\n",
    );
    apply(
        &mut c,
        &pod(
            "web",
            "node-1",
            "  - {name: nginx, image: \"nginx:1.27\"}\n",
        ),
    );
    at(&mut c, 5_000);
    let out = ok(&mut c, "delete pod sleeper --wait=false");
    assert_eq!(out, "pod \"sleeper\" deleted\n");
    let evs = events(&mut c, "sleeper");
    assert!(evs.contains(&("Killing".into(), "Stopping container c".into(), 1)));
    // sleep ignores SIGTERM as PID 1: the pod stays Terminating for the 10s.
    at(&mut c, 14_000);
    let p = get(&mut c, "pod sleeper");
    assert!(p["metadata"]["deletionTimestamp"].is_string());
    assert!(ok(&mut c, "get pod sleeper").contains("Terminating"));
    at(&mut c, 15_000);
    let out = run(&mut c, "get pod sleeper");
    assert_eq!(
        out.stderr,
        "Error from server (NotFound): pods \"sleeper\" not found\n"
    );
    // nginx exits on SIGTERM: the pod is gone at once.
    ok(&mut c, "delete pod web --wait=false");
    let out = run(&mut c, "get pod web");
    assert_eq!(
        out.stderr,
        "Error from server (NotFound): pods \"web\" not found\n"
    );
}

#[test]
fn node_admission_rejects_what_does_not_fit() {
    let mut c = cluster(
        "    nodes:\n    - metadata: {name: small}\n      status: {capacity: {cpu: \"1\", memory: 1Gi, pods: \"2\"}}\n",
    );
    apply(
        &mut c,
        &pod(
            "big",
            "small",
            "  - name: c\n    image: nginx\n    resources: {requests: {cpu: \"2\"}}\n",
        ),
    );
    let p = get(&mut c, "pod big");
    assert_eq!(p["status"]["phase"], "Failed");
    assert_eq!(p["status"]["reason"], "OutOfcpu");
    assert_eq!(
        p["status"]["message"],
        "Pod was rejected: Node didn't have enough resource: cpu, requested: 2000, used: 0, capacity: 1000"
    );
    let evs = events(&mut c, "big");
    assert_eq!(
        evs,
        [(
            "OutOfcpu".to_string(),
            "Node didn't have enough resource: cpu, requested: 2000, used: 0, capacity: 1000"
                .to_string(),
            1
        )]
    );
    assert!(ok(&mut c, "get pod big").contains("OutOfcpu"));
    apply(&mut c, &pod("a", "small", "  - {name: c, image: nginx}\n"));
    apply(&mut c, &pod("b", "small", "  - {name: c, image: nginx}\n"));
    apply(&mut c, &pod("d", "small", "  - {name: c, image: nginx}\n"));
    let p = get(&mut c, "pod d");
    assert_eq!(p["status"]["reason"], "OutOfpods");
    assert_eq!(
        p["status"]["message"],
        "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2"
    );
}

#[test]
fn heartbeats_renew_the_lease_and_report_status() {
    let mut c = cluster(TWO_NODES);
    let l = get(&mut c, "lease node-1 -n kube-node-lease");
    assert_eq!(l["spec"]["holderIdentity"], "node-1");
    assert_eq!(l["spec"]["leaseDurationSeconds"], 40);
    assert_eq!(l["metadata"]["ownerReferences"][0]["kind"], "Node");
    at(&mut c, 25_000);
    let l = get(&mut c, "lease node-1 -n kube-node-lease");
    assert_eq!(l["spec"]["renewTime"], "2024-08-13T00:00:20.000000Z");
    // Node status is reported every 5 minutes when nothing changes.
    at(&mut c, 299_000);
    let n = get(&mut c, "node node-1");
    let ready = n["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .unwrap()
        .clone();
    assert_eq!(ready["lastHeartbeatTime"], "2024-08-13T00:00:00Z");
    at(&mut c, 301_000);
    let n = get(&mut c, "node node-1");
    let ready = n["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .unwrap()
        .clone();
    assert_eq!(ready["lastHeartbeatTime"], "2024-08-13T00:05:00Z");
    assert_eq!(ready["lastTransitionTime"], "2024-08-13T00:00:00Z");
    assert_eq!(ready["reason"], "KubeletReady");
}

#[test]
fn fault_steps_play_out() {
    let text = r#"
apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
spec:
  cluster:
    nodes:
    - metadata: {name: node-1}
    - metadata: {name: node-2}
    - metadata: {name: spare, annotations: {kubeglass.dev/kubelet: "none"}}
  steps:
  - apply: {apiVersion: v1, kind: Pod, metadata: {name: web}, spec: {nodeName: node-1, containers: [{name: nginx, image: "nginx:1.27"}]}}
  - apply: {apiVersion: v1, kind: Pod, metadata: {name: api}, spec: {nodeName: node-2, containers: [{name: app, image: "nginx:1.27"}, {name: side, image: "nginx:1.27"}]}}
  - advance: 10s
  - fault: {crash: pod/default/api, container: side}
  - kubectl: get pod api -o jsonpath={.status.containerStatuses[1].restartCount},{.status.containerStatuses[1].lastState.terminated.exitCode}
  - fault: {nodeDown: node-1}
  - advance: 60s
  - kubectl: get lease node-1 -n kube-node-lease -o jsonpath={.spec.renewTime}
  - kubectl: get pod web -o jsonpath={.status.phase}
  - fault: {nodeUp: node-1}
  - kubectl: get lease node-1 -n kube-node-lease -o jsonpath={.spec.renewTime}
  - kubectl: get pod web -o jsonpath={.status.containerStatuses[0].restartCount},{.status.containerStatuses[0].lastState.terminated.reason},{.status.containerStatuses[0].lastState.terminated.exitCode}
  - fault: {partition: node-2}
  - fault: {crash: pod/default/api}
  - advance: 30s
  - kubectl: get pod api -o jsonpath={.status.containerStatuses[0].restartCount}
  - kubectl: get lease node-2 -n kube-node-lease -o jsonpath={.spec.renewTime}
  - fault: {nodeUp: node-2}
  - kubectl: get pod api -o jsonpath={.status.containerStatuses[0].restartCount}
  - fault: {nodeDown: spare}
  - fault: {crash: pod/default/nope}
  - fault: {explode: node-1}
  - settle: {}
"#;
    let (v, ok) = run_json(text);
    assert!(ok, "{v}");
    let s = v["steps"].as_array().unwrap();
    assert_eq!(
        s[3]["output"],
        "container side of pod default/api exited with code 1 (Error); restartPolicy restarts it (after the crash back-off if it crashed recently)"
    );
    assert_eq!(s[4]["output"], "1,1");
    assert_eq!(
        s[5]["output"],
        "node node-1 is down: its kubelet stopped and 1 running container(s) stopped; no more heartbeats (lease last renewed 2024-08-13T00:00:10.000000Z)"
    );
    assert_eq!(s[7]["output"], "2024-08-13T00:00:10.000000Z");
    // Nobody told the API server: the pod still reads Running (the node lifecycle
    // controller is what notices).
    assert_eq!(s[8]["output"], "Running");
    assert_eq!(
        s[9]["output"],
        "node node-1 is up again: its kubelet restarted, renewed its lease and reported Ready; 1 container(s) restart"
    );
    assert_eq!(s[10]["output"], "2024-08-13T00:01:10.000000Z");
    assert_eq!(s[11]["output"], "1,Unknown,255");
    assert!(s[12]["output"]
        .as_str()
        .unwrap()
        .starts_with("node node-2 is partitioned"));
    // The crash during the partition restarts the container, but the API server
    // hears of it only when the partition heals.
    assert_eq!(s[15]["output"], "0");
    assert_eq!(s[16]["output"], "2024-08-13T00:01:10.000000Z");
    assert!(s[17]["output"]
        .as_str()
        .unwrap()
        .contains("partition healed"));
    assert_eq!(s[18]["output"], "1");
    assert_eq!(
        s[19]["error"]["message"],
        "fault: node spare runs no simulated kubelet (annotated kubeglass.dev/kubelet: none)"
    );
    assert_eq!(
        s[20]["error"]["message"],
        "fault: pod default/nope not found"
    );
    assert!(s[21]["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("fault: give"));
    assert!(s[22]["error"].is_null(), "{}", s[22]);
}

#[test]
fn private_images_need_an_image_pull_secret() {
    let mut c = cluster(&format!(
        "{TWO_NODES}    images:\n    - {{image: registry.example.com/team/app, private: true, pullTime: 2s, ports: [8080]}}\n"
    ));
    apply(
        &mut c,
        &pod(
            "nosecret",
            "node-1",
            "  - {name: app, image: \"registry.example.com/team/app:1.0\"}\n",
        ),
    );
    at(&mut c, 1_000);
    let p = get(&mut c, "pod nosecret");
    assert_eq!(
        p["status"]["containerStatuses"][0]["state"]["waiting"]["message"],
        "rpc error: code = Unknown desc = failed to pull and unpack image \"registry.example.com/team/app:1.0\": failed to resolve reference \"registry.example.com/team/app:1.0\": unexpected status from HEAD request to https://registry.example.com/v2/team/app/manifests/1.0: 401 Unauthorized"
    );
    let auth = "eyJhdXRocyI6eyJyZWdpc3RyeS5leGFtcGxlLmNvbSI6eyJhdXRoIjoiZFhObGNqcHdZWE56In19fQ==";
    apply(
        &mut c,
        &format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: regcred}}\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {auth}\n"),
    );
    apply(
        &mut c,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: withsecret}\nspec:\n  nodeName: node-1\n  imagePullSecrets: [{name: regcred}]\n  containers:\n  - {name: app, image: \"registry.example.com/team/app:1.0\"}\n",
    );
    at(&mut c, 4_000);
    assert_eq!(get(&mut c, "pod withsecret")["status"]["phase"], "Running");
}

#[test]
fn kubectl_logs_and_exec() {
    let mut c = cluster(TWO_NODES);
    apply(
        &mut c,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: counter}\nspec:\n  nodeName: node-1\n  containers:\n  - name: count\n    image: busybox:1.28\n    env: [{name: GREETING, value: hello}]\n    args: [/bin/sh, -c, 'i=0; while true; do echo \"tick\"; sleep 1; done']\n  - {name: side, image: \"nginx:1.27\"}\n",
    );
    // While the image is pulled, there are no logs yet.
    let out = run(&mut c, "logs counter -c count");
    assert_eq!(
        out.stderr,
        "Error from server (BadRequest): container \"count\" in pod \"counter\" is waiting to start: ContainerCreating\n"
    );
    at(&mut c, 5_000);
    // Started at 0.6s: a line every second.
    let out = run(&mut c, "logs counter");
    assert_eq!(
        out.stderr,
        "Defaulted container \"count\" out of: count, side\n"
    );
    assert_eq!(out.stdout, "tick\ntick\ntick\ntick\ntick\n");
    assert_eq!(ok(&mut c, "logs counter -c count --tail 2"), "tick\ntick\n");
    assert_eq!(
        ok(&mut c, "logs pod/counter -c side --tail=1"),
        "2024/08/13 00:00:00 [notice] 1#1: start worker processes\n"
    );
    let out = run(&mut c, "logs counter -c count --previous");
    assert_eq!(
        out.stderr,
        "Error from server (BadRequest): previous terminated container \"count\" in pod \"counter\" not found\n"
    );
    let out = run(&mut c, "logs counter -c nope");
    assert_eq!(
        out.stderr,
        "Error from server (BadRequest): container nope is not valid for pod counter\n"
    );
    assert_eq!(
        run(&mut c, "logs nope").stderr,
        "Error from server (NotFound): pods \"nope\" not found\n"
    );
    // exec, simulated.
    assert_eq!(
        ok(&mut c, "exec counter -c count -- echo hi there"),
        "hi there\n"
    );
    assert_eq!(ok(&mut c, "exec counter -c count -- hostname"), "counter\n");
    assert_eq!(
        ok(&mut c, "exec counter -c count -- printenv GREETING"),
        "hello\n"
    );
    assert_eq!(
        ok(&mut c, "exec counter -c count -- cat /etc/resolv.conf"),
        "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
    );
    assert!(ok(&mut c, "exec counter -c count -- ls /").contains("etc\n"));
    let out = run(&mut c, "exec counter -c count -- cat /nope");
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "cat: can't open '/nope': No such file or directory\ncommand terminated with exit code 1\n"
    );
    let out = run(
        &mut c,
        "exec counter -c count -- sh -c 'echo $GREETING; exit 4'",
    );
    assert_eq!((out.stdout.as_str(), out.code), ("hello\n", 4));
    let out = run(&mut c, "exec counter -c count echo hi");
    assert!(out
        .stderr
        .starts_with("error: exec [POD] [COMMAND] is not supported anymore."));
    let out = run(&mut c, "exec counter -c count");
    assert_eq!(
        out.stderr,
        "error: you must specify at least one command for the container\n"
    );
    // Raw API: the API server asks for the container when there are several.
    let out = run(
        &mut c,
        "get --raw /api/v1/namespaces/default/pods/counter/log",
    );
    assert!(
        out.stderr.contains(
            "a container name must be specified for pod counter, choose one of: [count side]"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn nodes_without_a_kubelet_keep_their_pods_pending() {
    let mut c = cluster(
        "    nodes:\n    - metadata: {name: kw, annotations: {kubeglass.dev/kubelet: \"none\"}}\n",
    );
    apply(&mut c, &pod("p", "kw", "  - {name: c, image: nginx}\n"));
    c.advance(60 * SEC);
    let p = get(&mut c, "pod p");
    assert_eq!(p["status"]["phase"], "Pending");
    assert!(p["status"]["containerStatuses"].is_null());
    assert!(get(&mut c, "node kw")["spec"]["podCIDR"].is_null());
    let out = run(&mut c, "get leases -n kube-node-lease");
    assert_eq!(
        out.stderr,
        "No resources found in kube-node-lease namespace.\n"
    );
}
