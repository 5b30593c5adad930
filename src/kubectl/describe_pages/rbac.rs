//! Roles, ClusterRoles and their bindings (RoleDescriber, ClusterRoleDescriber,
//! RoleBindingDescriber, ClusterRoleBindingDescriber; rules compacted as
//! kubectl/pkg/util/rbac does).

use serde_json::Value;

use super::tabwriter::{PrefixWriter, LEVEL_0, LEVEL_1};
use super::{annotations_multiline, arr, go_list, labels_multiline, s, strs};

/// A `rbacv1.PolicyRule`.
#[derive(Clone, Debug, Default, PartialEq)]
struct Rule {
    verbs: Vec<String>,
    api_groups: Vec<String>,
    resources: Vec<String>,
    resource_names: Vec<String>,
    non_resource_urls: Vec<String>,
}

impl Rule {
    fn from_json(v: &Value) -> Rule {
        let list = |f: &str| strs(&v[f]).into_iter().map(String::from).collect();
        Rule {
            verbs: list("verbs"),
            api_groups: list("apiGroups"),
            resources: list("resources"),
            resource_names: list("resourceNames"),
            non_resource_urls: list("nonResourceURLs"),
        }
    }

    /// The generated `(*PolicyRule).String()`, which `SortableRuleSlice` sorts by.
    fn go_string(&self) -> String {
        let l = |v: &[String]| go_list(&v.iter().map(String::as_str).collect::<Vec<_>>());
        format!(
            "&PolicyRule{{Verbs:{},APIGroups:{},Resources:{},ResourceNames:{},NonResourceURLs:{},}}",
            l(&self.verbs),
            l(&self.api_groups),
            l(&self.resources),
            l(&self.resource_names),
            l(&self.non_resource_urls)
        )
    }
}

fn single(x: &str) -> Vec<String> {
    vec![x.to_string()]
}

/// `rbac.BreakdownRule`: one rule per group, resource, verb (and name), then one per
/// non-resource URL and verb.
fn breakdown(rule: &Rule) -> Vec<Rule> {
    let mut out = Vec::new();
    for group in &rule.api_groups {
        for resource in &rule.resources {
            for verb in &rule.verbs {
                if rule.resource_names.is_empty() {
                    out.push(Rule {
                        verbs: single(verb),
                        api_groups: single(group),
                        resources: single(resource),
                        ..Default::default()
                    });
                }
                for name in &rule.resource_names {
                    out.push(Rule {
                        verbs: single(verb),
                        api_groups: single(group),
                        resources: single(resource),
                        resource_names: single(name),
                        ..Default::default()
                    });
                }
            }
        }
    }
    for url in &rule.non_resource_urls {
        for verb in &rule.verbs {
            out.push(Rule {
                verbs: single(verb),
                non_resource_urls: single(url),
                ..Default::default()
            });
        }
    }
    out
}

/// What makes rules "simple" alike: group, resource and resource name.
type SimpleKey = (String, String, Option<String>);

/// `rbac.CompactRules`: simple rules on the same group, resource and name merge their
/// verbs; the others stay as they are. Then sorted stably by their Go string.
fn compact(rules: Vec<Rule>) -> Vec<Rule> {
    let mut compacted = Vec::new();
    let mut simple: Vec<(SimpleKey, Rule)> = Vec::new();
    for rule in rules {
        let is_simple = rule.resource_names.len() <= 1
            && rule.non_resource_urls.is_empty()
            && rule.api_groups.len() == 1
            && rule.resources.len() == 1;
        if !is_simple {
            compacted.push(rule);
            continue;
        }
        let key = (
            rule.api_groups[0].clone(),
            rule.resources[0].clone(),
            rule.resource_names.first().cloned(),
        );
        match simple.iter_mut().find(|(k, _)| *k == key) {
            Some((_, existing)) => {
                for v in rule.verbs {
                    if !existing.verbs.contains(&v) {
                        existing.verbs.push(v);
                    }
                }
            }
            None => simple.push((key, rule)),
        }
    }
    compacted.extend(simple.into_iter().map(|(_, r)| r));
    compacted.sort_by_cached_key(Rule::go_string);
    compacted
}

/// `CombineResourceGroup`: `resource.group/subresource`.
fn combine_resource_group(resources: &[String], groups: &[String]) -> String {
    let Some(first) = resources.first() else {
        return String::new();
    };
    let (res, sub) = match first.split_once('/') {
        Some((r, sub)) => (r, Some(sub)),
        None => (first.as_str(), None),
    };
    let mut out = res.to_string();
    if let Some(g) = groups.first().filter(|g| !g.is_empty()) {
        out.push('.');
        out.push_str(g);
    }
    if let Some(sub) = sub {
        out.push('/');
        out.push_str(sub);
    }
    out
}

/// Role and ClusterRole: the PolicyRule table.
pub(crate) fn describe_role(w: &mut PrefixWriter, role: &Value) {
    let rules: Vec<Rule> = arr(&role["rules"])
        .iter()
        .flat_map(|r| breakdown(&Rule::from_json(r)))
        .collect();
    let rules = compact(rules);
    let m = &role["metadata"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    labels_multiline(w, "Labels", &m["labels"]);
    annotations_multiline(w, "Annotations", &m["annotations"]);
    w.write(LEVEL_0, "PolicyRule:\n");
    w.write(
        LEVEL_1,
        "Resources\tNon-Resource URLs\tResource Names\tVerbs\n",
    );
    w.write(
        LEVEL_1,
        "---------\t-----------------\t--------------\t-----\n",
    );
    let l = |v: &[String]| go_list(&v.iter().map(String::as_str).collect::<Vec<_>>());
    for r in rules {
        w.write(
            LEVEL_1,
            &format!(
                "{}\t{}\t{}\t{}\n",
                combine_resource_group(&r.resources, &r.api_groups),
                l(&r.non_resource_urls),
                l(&r.resource_names),
                l(&r.verbs)
            ),
        );
    }
}

/// RoleBinding and ClusterRoleBinding: the role and the Subjects table.
pub(crate) fn describe_binding(w: &mut PrefixWriter, b: &Value) {
    let m = &b["metadata"];
    w.write(LEVEL_0, &format!("Name:\t{}\n", s(&m["name"])));
    labels_multiline(w, "Labels", &m["labels"]);
    annotations_multiline(w, "Annotations", &m["annotations"]);
    w.write(LEVEL_0, "Role:\n");
    w.write(LEVEL_1, &format!("Kind:\t{}\n", s(&b["roleRef"]["kind"])));
    w.write(LEVEL_1, &format!("Name:\t{}\n", s(&b["roleRef"]["name"])));
    w.write(LEVEL_0, "Subjects:\n");
    w.write(LEVEL_1, "Kind\tName\tNamespace\n");
    w.write(LEVEL_1, "----\t----\t---------\n");
    for sub in arr(&b["subjects"]) {
        w.write(
            LEVEL_1,
            &format!(
                "{}\t{}\t{}\n",
                s(&sub["kind"]),
                s(&sub["name"]),
                s(&sub["namespace"])
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use serde_json::json;

    use super::super::tests::NOW;
    use super::super::{describe, Related};

    #[test]
    fn cluster_role_rules_are_broken_down_compacted_and_sorted() {
        // BreakdownRule + CompactRules + sort.Stable(SortableRuleSlice): the sort key is
        // the rule's Go string, which starts with the verbs.
        let role = json!({
            "metadata": {"name": "viewer"},
            "rules": [
                {"apiGroups": ["", "apps"], "resources": ["pods", "deployments/scale"], "verbs": ["get", "list"]},
                {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a", "b"], "verbs": ["get"]},
                {"nonResourceURLs": ["/healthz", "/version"], "verbs": ["get"]},
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["watch"]}
            ]
        });
        let got = describe("ClusterRole", &role, Some(&[]), &Related::default(), NOW).unwrap();
        let want = "\
Name:         viewer
Labels:       <none>
Annotations:  <none>
PolicyRule:
  Resources               Non-Resource URLs  Resource Names  Verbs
  ---------               -----------------  --------------  -----
  pods                    []                 []              [get list watch]
  deployments/scale       []                 []              [get list]
  deployments.apps/scale  []                 []              [get list]
  pods.apps               []                 []              [get list]
                          [/healthz]         []              [get]
                          [/version]         []              [get]
  configmaps              []                 [a]             [get]
  configmaps              []                 [b]             [get]
";
        assert_eq!(got, want);
    }

    #[test]
    fn binding_page() {
        let b = json!({"metadata": {"name": "read-pods", "namespace": "default"},
                       "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
                       "subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"},
                                    {"kind": "ServiceAccount", "name": "default", "namespace": "default"}]});
        let got = describe("RoleBinding", &b, Some(&[]), &Related::default(), NOW).unwrap();
        let want = "\
Name:         read-pods
Labels:       <none>
Annotations:  <none>
Role:
  Kind:  Role
  Name:  pod-reader
Subjects:
  Kind            Name     Namespace
  ----            ----     ---------
  User            jane     
  ServiceAccount  default  default
";
        assert_eq!(got, want);
    }
}
