//! kube-proxy's sync loop against a person's edits, as v1.31's iptables mode behaves:
//! the iptables monitor's canary checked every syncPeriod (30s), partial syncs that
//! leave unchanged Services' chains alone, the jumps from the built-in chains made
//! sure of on every full sync, the hourly full sync, and a failed `iptables-restore`
//! retried after syncPeriod with a full sync.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::kubeproxy::hash;
use kubeglass::scenario::{self, StepResult};

const SEC: u64 = 1_000_000_000;

/// One node with a kubelet (so a kube-proxy), a Service without a selector and its
/// hand-made EndpointSlice with two endpoints, settled; then `steps`.
fn run(steps: &str) -> (Vec<StepResult>, Vec<(u64, String, String)>) {
    let text = format!(
        r#"apiVersion: kubeglass.dev/v1alpha1
kind: Scenario
metadata: {{name: kube-proxy-sync}}
spec:
  cluster:
    nodes:
    - metadata: {{name: node-1}}
  steps:
  - apply: |
      apiVersion: v1
      kind: Service
      metadata: {{name: web}}
      spec:
        clusterIP: 10.96.0.20
        ports: [{{name: http, port: 80, targetPort: 80}}]
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata:
        name: web-1
        labels: {{kubernetes.io/service-name: web}}
      addressType: IPv4
      ports: [{{name: http, port: 80, protocol: TCP}}]
      endpoints:
      - addresses: [10.244.9.2]
      - addresses: [10.244.9.3]
  - settle: {{}}
{steps}"#
    );
    let s = scenario::parse(&text).unwrap_or_else(|e| panic!("scenario: {e}"));
    let (results, runner) = scenario::run(&s).unwrap_or_else(|e| panic!("run: {e}"));
    let notes = runner
        .cluster
        .k
        .trace
        .entries()
        .filter(|e| e.actor.as_str() == "kube-proxy/node-1")
        .map(|e| (e.time, e.action.to_string(), e.reason.to_string()))
        .collect();
    (results, notes)
}

fn text(r: &StepResult) -> &str {
    assert!(r.error.is_null(), "step failed: {}", r.error);
    r.output.as_str().unwrap_or_default()
}

fn time(r: &StepResult) -> u64 {
    // `advance` and `settle` give the virtual time reached, as a duration.
    let s = r.output.as_str().unwrap_or_default();
    let secs: f64 = if let Some(m) = s.strip_suffix("ms") {
        m.parse::<f64>().unwrap_or(0.0) / 1000.0
    } else {
        parse_go_duration(s)
    };
    (secs * SEC as f64).round() as u64
}

/// "1h0m31s" -> 3631.0
fn parse_go_duration(s: &str) -> f64 {
    let mut total = 0.0;
    let mut num = String::new();
    for c in s.chars() {
        match c {
            'h' => total += num.parse::<f64>().unwrap_or(0.0) * 3600.0,
            'm' => total += num.parse::<f64>().unwrap_or(0.0) * 60.0,
            's' => total += num.parse::<f64>().unwrap_or(0.0),
            _ => {
                num.push(c);
                continue;
            }
        }
        num.clear();
    }
    total
}

fn svc_chain() -> String {
    hash::service_port_policy_cluster_chain("default/web:http", "tcp")
}

/// The rules of one chain in an iptables-save text.
fn rules_of<'a>(save: &'a str, chain: &str) -> Vec<&'a str> {
    let prefix = format!("-A {chain} ");
    save.lines().filter(|l| l.starts_with(&prefix)).collect()
}

fn dump(notes: &[(u64, String, String)]) -> String {
    notes
        .iter()
        .map(|(t, a, r)| format!("{t} {a} -- {r}"))
        .collect::<Vec<_>>()
        .join("\n")
}

const PREROUTING_JUMP: &str =
    "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES";

#[test]
fn a_persons_edit_of_a_service_chain_stays_until_the_next_full_sync() {
    let svc = svc_chain();
    let steps = format!(
        r#"  - iptables-save: node-1
  - iptables-restore:
      node: node-1
      noflush: true
      rules: |
        *nat
        :{svc} - [0:0]
        COMMIT
  - advance: 31s
  - iptables-save: node-1
  - apply: |
      apiVersion: v1
      kind: Service
      metadata: {{name: other}}
      spec:
        clusterIP: 10.96.0.21
        ports: [{{port: 81}}]
  - advance: 2s
  - iptables-save: node-1
  - advance: 1h
  - iptables-save: node-1
"#
    );
    let (r, notes) = run(&steps);
    let before = rules_of(text(&r[2]), &svc);
    // The masquerade rule and the ladder of two endpoints.
    assert_eq!(before.len(), 3, "{before:?}");
    assert!(r[3].error.is_null(), "{}", r[3].error);
    // Upstream's monitor only watches its canary chain, which a --noflush restore of
    // one chain leaves in place: 30s later nothing has rewritten the chain.
    assert!(rules_of(text(&r[5]), &svc).is_empty());
    // A partial sync (another Service added) rewrites the top-level chains and the
    // new Service's chains only: the edited chain stays empty.
    let after_partial = text(&r[8]);
    assert!(
        after_partial.contains("default/other has no endpoints"),
        "{after_partial}"
    );
    assert!(rules_of(after_partial, &svc).is_empty());
    // The runner's hourly run (maxInterval = FullSyncPeriod) is a full sync, more than
    // an hour after the first one: every Service's chains are rewritten.
    assert_eq!(rules_of(text(&r[10]), &svc), before, "{}", dump(&notes));
    let restored = notes
        .iter()
        .rev()
        .find(|(_, a, _)| a.starts_with("iptables-restore --noflush: full sync"))
        .unwrap_or_else(|| panic!("{}", dump(&notes)));
    assert!(
        restored
            .2
            .contains("an hour has passed since the last full sync"),
        "{}",
        restored.2
    );
    assert!(restored.0 >= time(&r[9]) - 1000 * SEC, "{}", dump(&notes));
    // Between the person's edit and the hourly run, the only sync was the partial one.
    let edit = time(&r[4]) - 31 * SEC;
    let between: Vec<_> = notes
        .iter()
        .filter(|(t, a, _)| *t > edit && *t < restored.0 && a.starts_with("iptables-restore"))
        .collect();
    assert_eq!(between.len(), 1, "{}", dump(&notes));
    assert!(between[0].1.contains("partial sync"), "{between:?}");
}

#[test]
fn a_flush_of_every_table_is_repaired_within_a_sync_period() {
    let steps = r#"  - iptables-restore:
      node: node-1
      rules: |
        *mangle
        COMMIT
        *nat
        COMMIT
        *filter
        COMMIT
  - iptables-save: node-1
  - advance: 30s
  - iptables-save: node-1
"#;
    let (r, notes) = run(steps);
    let flushed = text(&r[3]);
    assert!(!flushed.contains("KUBE-"), "{flushed}");
    // The monitor's next check (at most syncPeriod later) finds the mangle canary
    // gone, sees the nat and filter ones gone too, and forces a full sync.
    let save = text(&r[5]);
    assert!(save.lines().any(|l| l == PREROUTING_JUMP), "{save}");
    assert_eq!(rules_of(save, &svc_chain()).len(), 3, "{save}");
    for table in ["*mangle", "*nat", "*filter"] {
        let section = save.split(table).nth(1).unwrap_or_default();
        let section = section.split("COMMIT").next().unwrap_or_default();
        assert!(
            section.contains(":KUBE-PROXY-CANARY - [0:0]"),
            "no canary in {table}: {save}"
        );
    }
    let deleted = notes
        .iter()
        .position(|(_, a, _)| a == "iptables canary mangle/KUBE-PROXY-CANARY deleted")
        .unwrap_or_else(|| panic!("{}", dump(&notes)));
    let (t, action, reason) = &notes[deleted + 2];
    assert!(
        action.starts_with("iptables-restore --noflush: full sync"),
        "{action}"
    );
    assert!(reason.contains("forceSyncProxyRules"), "{reason}");
    assert!(reason.contains("the tables were flushed"), "{reason}");
    // The jumps came back first, with iptables -N/-I.
    assert!(notes[deleted + 1].1.contains("missing"), "{}", dump(&notes));
    let flush_at = time(&r[4]) - 30 * SEC;
    assert!(
        *t > flush_at && *t <= flush_at + 30 * SEC,
        "{}",
        dump(&notes)
    );
}

#[test]
fn a_flushed_prerouting_gets_its_jump_back_at_the_next_full_sync() {
    let steps = r#"  - iptables-restore:
      node: node-1
      noflush: true
      rules: |
        *nat
        -F PREROUTING
        COMMIT
  - advance: 31s
  - iptables-save: node-1
  - kubectl: label node node-1 topology.kubernetes.io/zone=zone-a
  - iptables-save: node-1
"#;
    let (r, notes) = run(steps);
    assert!(r[2].error.is_null(), "{}", r[2].error);
    // The canaries are untouched, so the monitor notices nothing, and no partial sync
    // writes PREROUTING: the jump stays gone.
    let gone = text(&r[4]);
    assert!(
        !gone.lines().any(|l| l.starts_with("-A PREROUTING")),
        "{gone}"
    );
    // A node label change (topology) makes the next sync a full one, and every full
    // sync checks the jumps with `iptables -C` and puts back a missing one.
    let back = text(&r[6]);
    assert!(back.lines().any(|l| l == PREROUTING_JUMP), "{back}");
    let prerouting: Vec<_> = back
        .lines()
        .filter(|l| l.starts_with("-A PREROUTING"))
        .collect();
    assert_eq!(
        prerouting,
        [PREROUTING_JUMP],
        "only the missing jump is inserted"
    );
    let ensure = notes
        .iter()
        .find(|(_, a, _)| a.contains("-I PREROUTING"))
        .unwrap_or_else(|| panic!("{}", dump(&notes)));
    assert_eq!(
        ensure.1,
        "iptables -t nat -I PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"
    );
    assert!(
        ensure.2.contains("every full sync makes sure of the jumps"),
        "{}",
        ensure.2
    );
    let full = notes
        .iter()
        .rev()
        .find(|(_, a, _)| a.starts_with("iptables-restore --noflush: full sync"))
        .unwrap_or_else(|| panic!("{}", dump(&notes)));
    assert!(full.2.contains("this node's labels changed"), "{}", full.2);
    assert!(full.0 >= ensure.0);
}

#[test]
fn a_failed_restore_is_retried_every_sync_period_with_a_full_sync() {
    // A person's chain jumps to the endpoint chain of 10.244.9.3; when that endpoint
    // goes, kube-proxy's `-X` of the chain fails (still referenced) and nothing of its
    // restore applies.
    let sep = hash::service_port_endpoint_chain("default/web:http", "tcp", "10.244.9.3:80");
    let steps = format!(
        r#"  - iptables-restore:
      node: node-1
      noflush: true
      rules: |
        *nat
        :HOLD - [0:0]
        -A HOLD -j {sep}
        COMMIT
  - apply: |
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata:
        name: web-1
        labels: {{kubernetes.io/service-name: web}}
      addressType: IPv4
      ports: [{{name: http, port: 80, protocol: TCP}}]
      endpoints:
      - addresses: [10.244.9.2]
  - advance: 29s
  - iptables-save: node-1
  - advance: 2s
  - iptables-restore:
      node: node-1
      noflush: true
      rules: |
        *nat
        :HOLD - [0:0]
        -X HOLD
        COMMIT
  - advance: 30s
  - iptables-save: node-1
"#
    );
    let (r, notes) = run(&steps);
    assert!(r[2].error.is_null(), "{}", r[2].error);
    let failures: Vec<_> = notes
        .iter()
        .filter(|(_, a, _)| a.starts_with("iptables-restore failed"))
        .collect();
    assert_eq!(failures.len(), 2, "{}", dump(&notes));
    assert!(
        failures[0]
            .1
            .contains(&format!("chain {sep} is still referenced from HOLD")),
        "{}",
        failures[0].1
    );
    assert!(
        failures[0].2.contains("next sync is a full one"),
        "{}",
        failures[0].2
    );
    // Retried syncPeriod later, as a full sync, and failing again while HOLD stays.
    assert_eq!(failures[1].0 - failures[0].0, 30 * SEC, "{}", dump(&notes));
    // Nothing applied: both endpoints still in the Service chain 29s on.
    assert_eq!(rules_of(text(&r[5]), &svc_chain()).len(), 3);
    // The person removed HOLD; the next retry succeeds with a full sync that deletes
    // the stale endpoint chain.
    let ok = notes
        .iter()
        .find(|(t, a, _)| *t > failures[1].0 && a.starts_with("iptables-restore --noflush"))
        .unwrap_or_else(|| panic!("{}", dump(&notes)));
    assert_eq!(ok.0 - failures[1].0, 30 * SEC, "{}", dump(&notes));
    assert!(ok.1.contains("full sync"), "{}", ok.1);
    assert!(ok.1.contains("1 stale chain(s) deleted"), "{}", ok.1);
    assert!(ok.2.contains("retries after syncPeriod"), "{}", ok.2);
    assert!(
        ok.2.contains("the last sync failed and its changes are lost"),
        "{}",
        ok.2
    );
    let save = text(&r[9]);
    assert!(!save.contains(&sep), "{save}");
    assert_eq!(rules_of(save, &svc_chain()).len(), 2, "{save}");
}
