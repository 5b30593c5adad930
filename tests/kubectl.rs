//! kubectl over the API server: tables, output formats, selectors and messages as real
//! kubectl prints them.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::apiserver::request::Credentials;
use kubeglass::cluster::Cluster;
use kubeglass::kubectl::{apply, Kubectl, Output};

/// Nodes without a kubelet: kubectl's printing is checked on pods that stay Pending
/// (tests/kubelet.rs checks running pods).
fn cluster() -> Cluster {
    let s = kubeglass::scenario::parse(
        "apiVersion: kubeglass.dev/v1alpha1\nkind: Scenario\nspec:\n  cluster:\n    nodes:\n    - metadata: {name: node-1, labels: {node-role.kubernetes.io/control-plane: \"\"}, annotations: {kubeglass.dev/kubelet: none}}\n    - metadata: {name: node-2, annotations: {kubeglass.dev/kubelet: none}}\n",
    )
    .unwrap();
    Cluster::new(s.settings).unwrap()
}

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

fn apply_text(c: &mut Cluster, text: &str) -> Output {
    let out = apply::apply_text(
        &mut Kubectl::new(c, Credentials::Admin),
        text,
        "STDIN",
        "default",
        false,
        false,
    );
    c.run_due();
    out
}

const WEB: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web, tier: frontend}
spec:
  containers:
  - name: web
    image: nginx:1.14.2
    ports:
    - containerPort: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: db
  labels: {app: db}
spec:
  containers:
  - name: db
    image: redis
";

#[test]
fn get_prints_upstream_tables() {
    let mut c = cluster();
    let out = apply_text(&mut c, WEB);
    assert_eq!(out.stdout, "pod/web created\npod/db created\n");
    assert_eq!(
        ok(&mut c, "get pods"),
        "NAME   READY   STATUS    RESTARTS   AGE\ndb     0/1     Pending   0          0s\nweb    0/1     Pending   0          0s\n"
    );
    assert_eq!(
        ok(&mut c, "get nodes"),
        "NAME     STATUS   ROLES           AGE   VERSION\nnode-1   Ready    control-plane   0s    v1.31.0\nnode-2   Ready    <none>          0s    v1.31.0\n"
    );
    c.advance(125 * 1_000_000_000);
    assert_eq!(
        ok(&mut c, "get pods -l app=web --show-labels"),
        "NAME   READY   STATUS    RESTARTS   AGE    LABELS\nweb    0/1     Pending   0          2m5s   app=web,tier=frontend\n"
    );
    assert_eq!(
        ok(&mut c, "get po -l 'app in (web,db)' -o name"),
        "pod/db\npod/web\n"
    );
    assert_eq!(
        ok(&mut c, "get pods --field-selector metadata.name=db -o name"),
        "pod/db\n"
    );
    assert_eq!(
        ok(
            &mut c,
            "get pod web -o jsonpath={.spec.containers[0].image}"
        ),
        "nginx:1.14.2"
    );
    assert_eq!(
        ok(
            &mut c,
            "get pods -o custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[*].image"
        ),
        "NAME   IMAGE\ndb     redis\nweb    nginx:1.14.2\n"
    );
    // --no-headers drops custom-columns' header row too (widths from the rows alone,
    // as kubectl's tabwriter: minimum 6, padding 3).
    assert_eq!(
        ok(
            &mut c,
            "get pods --no-headers -o custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[*].image"
        ),
        "db    redis\nweb   nginx:1.14.2\n"
    );
    // A backslash escapes a dot inside a key, as client-go's jsonpath reads it (quoted,
    // since a shell, and kubeglass's command line, would eat an unquoted backslash).
    assert_eq!(
        ok(
            &mut c,
            r"get node node-1 -o jsonpath='{.metadata.labels.kubernetes\.io/hostname}'"
        ),
        "node-1"
    );
    let ns = ok(&mut c, "get ns");
    assert!(
        ns.starts_with("NAME              STATUS   AGE\ndefault           Active   2m5s\n"),
        "{ns}"
    );
    let all = ok(&mut c, "get pods,services -A");
    assert!(
        all.contains(
            "NAMESPACE   NAME      READY   STATUS    RESTARTS   AGE\ndefault     pod/db    0/1"
        ),
        "{all}"
    );
    assert!(all.contains("\n\nNAMESPACE   NAME                 TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE\ndefault     service/kubernetes   ClusterIP   10.96.0.1    <none>        443/TCP   2m5s\n"), "{all}");
}

#[test]
fn yaml_and_json_outputs_are_kubectls() {
    let mut c = cluster();
    apply_text(&mut c, WEB);
    let y = ok(&mut c, "get pod db -o yaml");
    assert!(y.starts_with("apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: |\n"), "{y}");
    assert!(
        y.contains(
            "\nspec:\n  containers:\n  - image: redis\n    imagePullPolicy: Always\n    name: db\n"
        ),
        "{y}"
    );
    assert!(
        y.contains("\nstatus:\n  conditions:\n  - lastTransitionTime: \"2024-08-13T00:00:00Z\"\n    status: \"True\"\n    type: PodScheduled\n  phase: Pending\n  qosClass: BestEffort\n"),
        "{y}"
    );
    let list = ok(&mut c, "get pods -o yaml");
    assert!(
        list.starts_with("apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n"),
        "{list}"
    );
    assert!(
        list.ends_with("kind: List\nmetadata:\n  resourceVersion: \"\"\n"),
        "{list}"
    );
    let j = ok(&mut c, "get pod db -o json");
    assert!(
        j.starts_with("{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Pod\",\n"),
        "{j}"
    );
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(v["spec"]["serviceAccountName"], "default");
}

#[test]
fn errors_read_as_kubectls() {
    let mut c = cluster();
    let out = run(&mut c, "get foos");
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            1,
            "error: the server doesn't have a resource type \"foos\"\n"
        )
    );
    let out = run(&mut c, "get pod nope");
    assert_eq!(
        out.stderr,
        "Error from server (NotFound): pods \"nope\" not found\n"
    );
    let out = run(&mut c, "get pods --frobnicate");
    assert_eq!(
        out.stderr,
        "error: unknown flag: --frobnicate\nSee 'kubectl get --help' for usage.\n"
    );
    let out = run(&mut c, "frobnicate pods");
    assert_eq!(
        out.stderr,
        "error: unknown command \"frobnicate\" for \"kubectl\"\nRun 'kubectl --help' for usage.\n"
    );
    let out = run(&mut c, "get pods -n empty");
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "No resources found in empty namespace.\n")
    );
    let out = run(&mut c, "get pods -o frob");
    assert!(
        out.stderr.starts_with(
            "error: unable to match a printer suitable for the output format \"frob\""
        ),
        "{}",
        out.stderr
    );
    // An invalid manifest: kubectl's wording for a single invalid object.
    let out = apply_text(
        &mut c,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: Bad}\nspec: {containers: [{name: c}]}\n",
    );
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "The Pod \"Bad\" is invalid: \n* metadata.name: Invalid value: \"Bad\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n* spec.containers[0].image: Required value\n"
    );
    let out = apply_text(&mut c, "apiVersion: v1\nkind: Foo\nmetadata: {name: x}\n");
    assert_eq!(
        out.stderr,
        "error: resource mapping not found for name: \"x\" namespace: \"\" from \"STDIN\": no matches for kind \"Foo\" in version \"v1\"\nensure CRDs are installed first\n"
    );
    let out = apply_text(&mut c, "metadata: {name: x}\n");
    assert_eq!(
        out.stderr,
        "error: error validating \"STDIN\": error validating data: [apiVersion not set, kind not set]; if you choose to ignore these errors, turn validation off with --validate=false\n"
    );
    let out = apply_text(
        &mut c,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n labels: {}\n",
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .starts_with("error: error parsing STDIN: error converting YAML to JSON: yaml: line"),
        "{}",
        out.stderr
    );
    // Nothing applied before a failure is lost.
    apply_text(&mut c, WEB);
    let out = apply_text(&mut c, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: BAD}\n");
    assert_eq!(out.stdout, "configmap/ok created\n");
    assert!(
        out.stderr.starts_with("The ConfigMap \"BAD\" is invalid"),
        "{}",
        out.stderr
    );
    assert_eq!(ok(&mut c, "get pods -o name"), "pod/db\npod/web\n");
}

#[test]
fn apply_configures_and_prunes_what_was_dropped() {
    let mut c = cluster();
    let v1 = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  labels: {a: \"1\", b: \"2\"}\ndata: {k: v}\n";
    assert_eq!(apply_text(&mut c, v1).stdout, "configmap/cfg created\n");
    assert_eq!(apply_text(&mut c, v1).stdout, "configmap/cfg unchanged\n");
    ok(&mut c, "label configmap cfg live=yes");
    let v2 = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  labels: {a: \"1\"}\ndata: {k: w}\n";
    assert_eq!(apply_text(&mut c, v2).stdout, "configmap/cfg configured\n");
    let labels = ok(&mut c, "get cm cfg -o jsonpath={.metadata.labels}");
    assert_eq!(labels, "{\"a\":\"1\",\"live\":\"yes\"}");
    assert_eq!(ok(&mut c, "get cm cfg -o jsonpath={.data.k}"), "w");
}

#[test]
fn label_annotate_scale_patch_delete() {
    let mut c = cluster();
    apply_text(&mut c, WEB);
    assert_eq!(ok(&mut c, "label pod web env=prod"), "pod/web labeled\n");
    let out = run(&mut c, "label pod web env=dev");
    assert_eq!(
        out.stderr,
        "error: 'env' already has a value (prod), and --overwrite is false\n"
    );
    assert_eq!(
        ok(&mut c, "label pod web env=dev --overwrite"),
        "pod/web labeled\n"
    );
    assert_eq!(ok(&mut c, "label pod web env-"), "pod/web unlabeled\n");
    assert_eq!(
        ok(&mut c, "annotate pod web note='hello world'"),
        "pod/web annotated\n"
    );
    assert_eq!(
        ok(
            &mut c,
            "get pod web -o jsonpath={.metadata.annotations.note}"
        ),
        "hello world"
    );

    ok(
        &mut c,
        "create deployment web --image=nginx:1.14.2 --replicas=2",
    );
    assert_eq!(
        ok(&mut c, "scale deployment web --replicas=5"),
        "deployment.apps/web scaled\n"
    );
    assert_eq!(
        ok(&mut c, "get deploy web -o jsonpath={.spec.replicas}"),
        "5"
    );
    let out = run(
        &mut c,
        "scale deployment web --replicas=1 --current-replicas=3",
    );
    assert_eq!(out.stderr, "error: Expected replicas to be 3, was 5\n");
    assert_eq!(
        ok(
            &mut c,
            "patch deployment web -p '{\"spec\":{\"replicas\":2}}'"
        ),
        "deployment.apps/web patched\n"
    );
    assert_eq!(
        ok(
            &mut c,
            "patch deployment web -p '{\"spec\":{\"replicas\":2}}'"
        ),
        "deployment.apps/web patched (no change)\n"
    );
    assert_eq!(
        ok(&mut c, "delete pod web db"),
        "pod \"web\" deleted\npod \"db\" deleted\n"
    );
    assert_eq!(
        ok(&mut c, "delete deployment/web"),
        "deployment.apps \"web\" deleted\n"
    );
    let out = run(&mut c, "delete pod web");
    assert_eq!(
        out.stderr,
        "Error from server (NotFound): pods \"web\" not found\n"
    );
}

#[test]
fn create_run_expose_and_discovery_commands() {
    let mut c = cluster();
    assert_eq!(
        ok(&mut c, "create namespace dev"),
        "namespace/dev created\n"
    );
    assert_eq!(
        ok(
            &mut c,
            "create configmap cfg --from-literal=a=1 --from-literal=b=2 -n dev"
        ),
        "configmap/cfg created\n"
    );
    assert_eq!(ok(&mut c, "get cm cfg -n dev -o jsonpath={.data.b}"), "2");
    assert_eq!(
        ok(
            &mut c,
            "create secret generic s --from-literal=password=hunter2"
        ),
        "secret/s created\n"
    );
    assert_eq!(
        ok(&mut c, "get secret s -o jsonpath={.data.password}"),
        "aHVudGVyMg=="
    );
    assert_eq!(
        ok(&mut c, "run nginx --image=nginx --port=80"),
        "pod/nginx created\n"
    );
    assert_eq!(
        ok(&mut c, "get pod nginx -o jsonpath={.metadata.labels.run}"),
        "nginx"
    );
    assert_eq!(
        ok(
            &mut c,
            "expose pod nginx --port=8080 --target-port=80 --type=NodePort"
        ),
        "service/nginx exposed\n"
    );
    let svc = ok(
        &mut c,
        "get svc nginx -o jsonpath={.spec.type}/{.spec.ports[0].targetPort}/{.spec.selector.run}",
    );
    assert_eq!(svc, "NodePort/80/nginx");
    let out = run(&mut c, "create namespace dev");
    assert_eq!(
        out.stderr,
        "error: failed to create namespace: namespaces \"dev\" already exists\n"
    );
    let res = ok(&mut c, "api-resources");
    assert!(res.starts_with("NAME                     SHORTNAMES   APIVERSION                     NAMESPACED   KIND\nbindings"), "{res}");
    assert!(res.contains("\npods                     po           v1                             true         Pod\n"), "{res}");
    assert!(ok(&mut c, "api-resources --namespaced=false -o name").contains("nodes\n"));
    assert!(ok(&mut c, "api-versions").contains("apps/v1\n"));
    assert_eq!(
        ok(&mut c, "version"),
        "Client Version: v1.31.0\nKustomize Version: v5.4.2\nServer Version: v1.31.0\n"
    );
    assert!(ok(&mut c, "cluster-info")
        .starts_with("Kubernetes control plane is running at https://10.0.0.1:6443\n"));
    assert_eq!(ok(&mut c, "get --raw /healthz"), "ok");
}
