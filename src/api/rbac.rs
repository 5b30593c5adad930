//! rbac.authorization.k8s.io/v1: Role, ClusterRole and their bindings.

use super::core::kind_struct;
use super::labels::LabelSelector;
use super::meta::ObjectMeta;

crate::api_struct! {
    pub struct PolicyRule {
        verbs: Vec<String>,
        api_groups: Vec<String>,
        resources: Vec<String>,
        resource_names: Vec<String>,
        #[serde(rename = "nonResourceURLs")]
        non_resource_urls: Vec<String>,
    }

    pub struct AggregationRule {
        cluster_role_selectors: Vec<LabelSelector>,
    }

    pub struct Subject {
        kind: String,
        api_group: String,
        name: String,
        namespace: String,
    }

    pub struct RoleRef {
        api_group: String,
        kind: String,
        name: String,
    }
}

kind_struct!(
    Role {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        rules: Vec<PolicyRule>,
    }
);
kind_struct!(
    ClusterRole {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        rules: Vec<PolicyRule>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        aggregation_rule: Option<AggregationRule>,
    }
);
kind_struct!(
    RoleBinding {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        subjects: Vec<Subject>,
        #[serde(default)]
        role_ref: RoleRef,
    }
);
kind_struct!(
    ClusterRoleBinding {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        subjects: Vec<Subject>,
        #[serde(default)]
        role_ref: RoleRef,
    }
);
