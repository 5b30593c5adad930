//! The seed's token Secrets (`spec.cluster.apiserver.legacyServiceAccountTokens:
//! true`), through scenarios and kubectl: the legacy Token controller gives every
//! ServiceAccount a `kubernetes.io/service-account-token` Secret named
//! `<account>-token-xxxxx` and lists it in the account's `secrets`; the
//! ServiceAccount admission plugin of that era mounts it as a `secret` volume; a
//! deleted token is replaced, a deleted account's tokens go; an account with no
//! token yet refuses pods with upstream's ServerTimeout. Without the setting,
//! nothing of this happens (v1.31: projected `kube-api-access-xxxxx` volumes).

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::scenario::{self, Runner, StepResult};
use serde_json::{json, Value};

const ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";

fn cluster(legacy: bool) -> Runner {
    let doc = json!({
        "apiVersion": "kubeglass.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "legacy-tokens"},
        "spec": {
            "seed": 5,
            "cluster": {
                "nodes": [{"metadata": {"name": "node-1"}}],
                "apiserver": {"legacyServiceAccountTokens": legacy},
            },
            "steps": [],
        },
    });
    let s = scenario::parse(&doc.to_string()).unwrap_or_else(|e| panic!("scenario: {e}"));
    scenario::run_owned(s)
        .unwrap_or_else(|e| panic!("run: {e}"))
        .1
}

fn step(r: &mut Runner, step: Value) -> StepResult {
    let doc = json!({
        "apiVersion": "kubeglass.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "step"},
        "spec": {"steps": [step]},
    });
    let mut s = scenario::parse(&doc.to_string()).unwrap_or_else(|e| panic!("step: {e}"));
    r.take_step(s.steps.remove(0))
}

/// A kubectl command's stdout; it must succeed.
fn kubectl(r: &mut Runner, line: &str) -> String {
    let res = step(r, json!({ "kubectl": line }));
    assert!(res.error.is_null(), "{line}: {}", res.error);
    res.output.as_str().unwrap_or_default().to_string()
}

fn is_token_name(name: &str, account: &str) -> bool {
    name.strip_prefix(&format!("{account}-token-"))
        .is_some_and(|s| s.len() == 5 && s.chars().all(|c| ALPHABET.contains(c)))
}

fn decode(b64: &str) -> String {
    String::from_utf8(kubeglass::apiserver::strategy::base64_decode(b64).unwrap()).unwrap()
}

#[test]
fn every_account_gets_a_token_secret_listed_in_its_secrets() {
    let mut r = cluster(true);
    // One per namespace's default account, as a pre-1.24 cluster shows them.
    let all = kubectl(
        &mut r,
        "get secrets -A -o custom-columns=NS:.metadata.namespace,NAME:.metadata.name,TYPE:.type",
    );
    let rows: Vec<Vec<&str>> = all
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    let namespaces: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(
        namespaces,
        ["default", "kube-node-lease", "kube-public", "kube-system"],
        "{all}"
    );
    for row in &rows {
        assert!(is_token_name(row[1], "default"), "{all}");
        assert_eq!(row[2], "kubernetes.io/service-account-token");
    }

    let table = kubectl(&mut r, "get secrets");
    let line = table.lines().nth(1).unwrap();
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cols[1..3],
        ["kubernetes.io/service-account-token", "3"],
        "{table}"
    );
    let name = cols[0].to_string();

    let secret: Value =
        serde_json::from_str(&kubectl(&mut r, &format!("get secret {name} -o json"))).unwrap();
    let sa: Value =
        serde_json::from_str(&kubectl(&mut r, "get serviceaccount default -o json")).unwrap();
    let ann = &secret["metadata"]["annotations"];
    assert_eq!(ann["kubernetes.io/service-account.name"], "default");
    assert_eq!(
        ann["kubernetes.io/service-account.uid"],
        sa["metadata"]["uid"]
    );
    assert_eq!(sa["secrets"], json!([{"name": name}]));
    let data = &secret["data"];
    assert_eq!(decode(data["namespace"].as_str().unwrap()), "default");
    assert!(decode(data["ca.crt"].as_str().unwrap()).starts_with("-----BEGIN CERTIFICATE-----"));
    let token = decode(data["token"].as_str().unwrap());
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");

    // kubectl get sa counts the secrets; describe lists the token.
    let sa_table = kubectl(&mut r, "get serviceaccounts");
    let cols: Vec<&str> = sa_table
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(cols[..2], ["default", "1"], "{sa_table}");
    let described = kubectl(&mut r, "describe serviceaccount default");
    assert!(
        described.contains(&format!("Mountable secrets:   {name}\n")),
        "{described}"
    );
    assert!(
        described.contains(&format!("Tokens:              {name}\n")),
        "{described}"
    );

    // A new account gets its own.
    assert_eq!(
        kubectl(&mut r, "create serviceaccount build").trim_end(),
        "serviceaccount/build created"
    );
    let names = kubectl(&mut r, "get secrets -o name");
    let build: Vec<&str> = names
        .lines()
        .filter_map(|l| l.strip_prefix("secret/"))
        .filter(|n| n.starts_with("build-"))
        .collect();
    assert_eq!(build.len(), 1, "{names}");
    assert!(is_token_name(build[0], "build"));
    let listed = kubectl(&mut r, "get sa build -o jsonpath={.secrets[*].name}");
    assert_eq!(listed, build[0]);
}

#[test]
fn a_pod_mounts_the_token_secret_instead_of_a_projected_volume() {
    let mut r = cluster(true);
    let token = kubectl(&mut r, "get sa default -o jsonpath={.secrets[0].name}");
    assert!(is_token_name(&token, "default"), "{token}");
    let res = step(
        &mut r,
        json!({"apply": {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web"},
            "spec": {
                "initContainers": [{"name": "init", "image": "busybox:1.36", "command": ["true"]}],
                "containers": [{"name": "web", "image": "nginx:1.27"}],
            },
        }}),
    );
    assert!(res.error.is_null(), "{}", res.error);
    let volumes: Value =
        serde_json::from_str(&kubectl(&mut r, "get pod web -o jsonpath={.spec.volumes}")).unwrap();
    assert_eq!(
        volumes,
        json!([{"name": token, "secret": {"defaultMode": 420, "secretName": token}}])
    );
    for c in ["initContainers", "containers"] {
        let mounts: Value = serde_json::from_str(&kubectl(
            &mut r,
            &format!("get pod web -o jsonpath={{.spec.{c}[0].volumeMounts}}"),
        ))
        .unwrap();
        assert_eq!(
            mounts,
            json!([{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": token, "readOnly": true}]),
            "{c}"
        );
    }
    let described = kubectl(&mut r, "describe pod web");
    assert!(
        described.contains("Type:        Secret (a volume populated by a Secret)"),
        "{described}"
    );
    assert!(
        described.contains(&format!("SecretName:  {token}")),
        "{described}"
    );
    assert!(!described.contains("kube-api-access-"), "{described}");

    // A pod that names the volume's name already: the token's volume gets a suffix.
    let res = step(
        &mut r,
        json!({"apply": {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "taken"},
            "spec": {
                "volumes": [{"name": token, "emptyDir": {}}],
                "containers": [{"name": "web", "image": "nginx:1.27"}],
            },
        }}),
    );
    assert!(res.error.is_null(), "{}", res.error);
    let names = kubectl(&mut r, "get pod taken -o jsonpath={.spec.volumes[*].name}");
    let names: Vec<&str> = names.split(' ').collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(names[0], token);
    let suffix = names[1].strip_prefix(&format!("{token}-")).unwrap();
    assert!(suffix.len() == 5 && suffix.chars().all(|c| ALPHABET.contains(c)));
}

#[test]
fn an_account_without_a_token_yet_refuses_pods_until_the_controller_made_one() {
    let mut r = cluster(true);
    let list = json!({"apply": {
        "apiVersion": "v1", "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "ci"}},
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "runner"},
             "spec": {"serviceAccountName": "ci", "containers": [{"name": "c", "image": "busybox:1.36"}]}},
        ],
    }});
    // Both go in one step: the controller has not run between the two requests.
    let res = step(&mut r, list.clone());
    let err = res.error.to_string();
    assert!(
        err.contains("Error from server (ServerTimeout): error when creating \\\"STDIN\\\": No API token found for service account \\\"ci\\\", retry after the token is automatically created and added to the service account"),
        "{err}"
    );
    let res = step(
        &mut r,
        json!({"request": {"method": "POST", "path": "/api/v1/namespaces/default/pods",
            "body": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "again"},
                     "spec": {"serviceAccountName": "ci", "containers": [{"name": "c", "image": "busybox:1.36"}]}}}}),
    );
    assert_eq!(res.output["code"], 201, "{}", res.output);
    let res = step(&mut r, list);
    assert!(res.error.is_null(), "{}", res.error);
}

#[test]
fn tokens_are_replaced_when_deleted_and_go_with_their_account() {
    let mut r = cluster(true);
    kubectl(&mut r, "create serviceaccount build");
    let first = kubectl(&mut r, "get sa build -o jsonpath={.secrets[*].name}");
    assert_eq!(
        kubectl(&mut r, &format!("delete secret {first}")).trim_end(),
        format!("secret \"{first}\" deleted")
    );
    let second = kubectl(&mut r, "get sa build -o jsonpath={.secrets[*].name}");
    assert!(is_token_name(&second, "build"), "{second}");
    assert_ne!(first, second, "a new token replaces the deleted one");
    let names = kubectl(&mut r, "get secrets -o name");
    assert!(names.contains(&format!("secret/{second}\n")), "{names}");
    assert!(!names.contains(&first), "{names}");

    // The trace says why.
    let trace = r.cluster.k.trace.render();
    assert!(
        trace.contains(&format!(
            "remove secret {first} from service account default/build"
        )),
        "{trace}"
    );

    kubectl(&mut r, "delete serviceaccount build");
    let names = kubectl(&mut r, "get secrets -o name");
    assert!(!names.contains("build-token-"), "{names}");
    assert!(r
        .cluster
        .k
        .trace
        .render()
        .contains("its service account default/build was deleted"));

    // A token Secret made by hand for an account is completed.
    let res = step(
        &mut r,
        json!({"apply": {
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": {"name": "by-hand", "annotations": {"kubernetes.io/service-account.name": "default"}},
        }}),
    );
    assert!(res.error.is_null(), "{}", res.error);
    let keys = kubectl(&mut r, "get secret by-hand -o jsonpath={.data}");
    let data: Value = serde_json::from_str(&keys).unwrap();
    assert_eq!(decode(data["namespace"].as_str().unwrap()), "default");
    assert!(data["token"].is_string() && data["ca.crt"].is_string());
    let uid = kubectl(&mut r, "get sa default -o jsonpath={.metadata.uid}");
    let secret: Value =
        serde_json::from_str(&kubectl(&mut r, "get secret by-hand -o json")).unwrap();
    assert_eq!(
        secret["metadata"]["annotations"]["kubernetes.io/service-account.uid"],
        uid.as_str()
    );
}

#[test]
fn without_the_setting_accounts_have_no_token_secrets() {
    let mut r = cluster(false);
    let res = step(&mut r, json!({"kubectl": "get secrets -A"}));
    assert_eq!(res.stderr.trim_end(), "No resources found");
    kubectl(&mut r, "run web --image=nginx:1.27");
    let volumes = kubectl(&mut r, "get pod web -o jsonpath={.spec.volumes[*].name}");
    assert!(volumes.starts_with("kube-api-access-"), "{volumes}");
    let sa = kubectl(&mut r, "get sa default -o jsonpath={.secrets}");
    assert_eq!(sa, "");
}

/// A request's status code, and the trace's reason and authentication stage for it.
fn request_as(r: &mut Runner, token: &str, path: &str) -> (u64, String, String) {
    let res = step(
        r,
        json!({"request": {"method": "GET", "path": path}, "as": {"token": token}}),
    );
    let code = res.output["code"].as_u64().unwrap_or_default();
    let entry = r
        .cluster
        .k
        .trace
        .entries()
        .rev()
        .find(|e| matches!(e.detail, kubeglass::kernel::TraceDetail::Request { .. }))
        .unwrap_or_else(|| panic!("no request in the trace"));
    let kubeglass::kernel::TraceDetail::Request { stages, .. } = &entry.detail else {
        unreachable!()
    };
    let authn = stages
        .iter()
        .find(|s| s.name == "authentication")
        .map(|s| s.reason.to_string())
        .unwrap_or_default();
    (code, entry.reason.to_string(), authn)
}

/// The account's current token, from its Secret as `kubectl get secret` shows it.
fn token_of(r: &mut Runner, account: &str) -> (String, String) {
    let name = kubectl(
        r,
        &format!("get sa {account} -o jsonpath={{.secrets[0].name}}"),
    );
    let b64 = kubectl(r, &format!("get secret {name} -o jsonpath={{.data.token}}"));
    (name, decode(&b64))
}

/// A cluster with legacy tokens and a `build` account whose token Secret is made:
/// the runner, the Secret's name and the token.
fn with_build_account() -> (Runner, String, String) {
    let mut r = cluster(true);
    kubectl(&mut r, "create serviceaccount build");
    step(&mut r, json!({"settle": {}}));
    let (secret, token) = token_of(&mut r, "build");
    (r, secret, token)
}

/// The seed's use of a token Secret: a program presents the token as a bearer
/// credential and is the account (`system:serviceaccount:NS:NAME`), for as long as
/// the Secret holds that token and the account lives; a changed token is refused.
#[test]
fn the_token_of_a_secret_is_accepted_as_the_account_until_revoked() {
    let (mut r, secret, token) = with_build_account();
    let path = "/api/v1/namespaces/default/configmaps";
    let (code, reason, authn) = request_as(&mut r, &token, path);
    assert_eq!(code, 200, "{reason}");
    assert!(
        reason.contains("as system:serviceaccount:default:build"),
        "{reason}"
    );
    assert_eq!(
        authn,
        format!("user \"system:serviceaccount:default:build\" (groups system:serviceaccounts, system:serviceaccounts:default, system:authenticated) by service account token (legacy, from Secret default/{secret})")
    );

    // A forged signature: refused.
    let forged = format!("{}x", &token[..token.len() - 1]);
    let (code, _, authn) = request_as(&mut r, &forged, path);
    assert_eq!(code, 401);
    assert_eq!(
        authn,
        "service account token refused: go-jose/go-jose: error in cryptographic primitive"
    );
    // Not a token at all.
    let (code, _, authn) = request_as(&mut r, "abc", path);
    assert_eq!(
        (code, authn.as_str()),
        (401, "no authenticator accepted the credentials")
    );

    // Deleting the Secret revokes the token at once; the controller makes a new one,
    // which works, while the old one stays refused.
    kubectl(&mut r, &format!("delete secret {secret}"));
    let (code, _, authn) = request_as(&mut r, &token, path);
    assert_eq!(
        (code, authn.as_str()),
        (
            401,
            "service account token refused: Token has been invalidated"
        )
    );
    step(&mut r, json!({"settle": {}}));
    let (secret2, token2) = token_of(&mut r, "build");
    assert_ne!(secret2, secret);
    assert_eq!(request_as(&mut r, &token2, path).0, 200);
    assert_eq!(request_as(&mut r, &token, path).0, 401);

    // A token Secret whose token was changed by hand no longer matches.
    let other = kubeglass::controllers::serviceaccount_tokens::legacy_token(
        "default", "build", "nope", &secret2,
    );
    let patch =
        json!({"data": {"token": kubeglass::apiserver::strategy::base64_encode(other.as_bytes())}});
    kubectl(&mut r, &format!("patch secret {secret2} -p '{patch}'"));
    let (code, _, authn) = request_as(&mut r, &token2, path);
    assert_eq!(
        (code, authn.as_str()),
        (
            401,
            "service account token refused: Token does not match server's copy"
        )
    );
    // The hand-made token names another UID: the account's is checked.
    let (code, _, authn) = request_as(&mut r, &other, path);
    assert_eq!(code, 401);
    assert!(
        authn.starts_with("service account token refused: ServiceAccount UID (")
            && authn.ends_with(") does not match claim (nope)"),
        "{authn}"
    );

    // The controller leaves a token it did not make alone (as upstream's does); a
    // Secret deleted gets a fresh one. Deleting the account revokes its tokens.
    step(&mut r, json!({"settle": {}}));
    assert_eq!(token_of(&mut r, "build").1, other);
    kubectl(&mut r, &format!("delete secret {secret2}"));
    step(&mut r, json!({"settle": {}}));
    let (_, token3) = token_of(&mut r, "build");
    assert_eq!(request_as(&mut r, &token3, path).0, 200);
    kubectl(&mut r, "delete serviceaccount build");
    let (code, _, authn) = request_as(&mut r, &token3, path);
    assert_eq!(code, 401);
    assert!(
        authn == "service account token refused: Token has been invalidated"
            || authn == "service account token refused: serviceaccounts \"build\" not found",
        "{authn}"
    );
}

/// Why the latest `list configmaps` request was made, and as whom, from the trace.
fn last_list_configmaps(r: &Runner) -> String {
    r.cluster
        .k
        .trace
        .entries()
        .rev()
        .find(|e| e.action.starts_with("list configmaps"))
        .map(|e| e.reason.to_string())
        .unwrap_or_default()
}

/// kubectl's `--token` flag presents a bearer token for one command, as
/// `kubectl --token=... get ...` does; a token nobody accepts gets kubectl's own
/// message; impersonation, not simulated, is refused rather than ignored.
#[test]
fn kubectl_token_flag_calls_as_the_account() {
    let (mut r, _, token) = with_build_account();
    let out = kubectl(&mut r, &format!("get configmaps --token={token} -o name"));
    assert_eq!(out, "configmap/kube-root-ca.crt\n");
    let entry = last_list_configmaps(&r);
    assert!(
        entry.contains("as system:serviceaccount:default:build"),
        "{entry}"
    );
    // The flag lasts one command: the next runs as before.
    kubectl(&mut r, "get configmaps");
    let entry = last_list_configmaps(&r);
    assert!(!entry.contains("system:serviceaccount"), "{entry}");

    let bad = step(&mut r, json!({"kubectl": "get pods --token wrong"}));
    assert_eq!(
        bad.error["message"],
        "error: You must be logged in to the server (Unauthorized)"
    );
    let imp = step(&mut r, json!({"kubectl": "get pods --as=bob"}));
    assert!(
        imp.error["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("error: kubeglass does not simulate impersonation"),
        "{}",
        imp.error
    );
}
