//! Resolving what a person types (`po`, `deploy`, `deployments.apps`, `Pod`) to a
//! resource type, as kubectl's RESTMapper does from discovery.

use crate::api::object::{ResourceType, RESOURCE_TYPES};

/// The resources of the `all` category, in kubectl's order.
const ALL: &[&str] = &[
    "pods",
    "replicationcontrollers",
    "services",
    "deployments",
    "replicasets",
];

/// Resolves one resource name (without `/NAME`).
pub fn resolve(arg: &str) -> Result<Vec<&'static ResourceType>, String> {
    let lower = arg.to_ascii_lowercase();
    if lower == "all" {
        return Ok(ALL
            .iter()
            .filter_map(|p| RESOURCE_TYPES.iter().copied().find(|r| r.plural == *p))
            .collect());
    }
    // name, name.group, or name.version.group
    let (name, group) = match lower.split_once('.') {
        Some((n, rest)) => {
            let group = match rest.split_once('.') {
                Some((v, g))
                    if v.starts_with('v') && v[1..].starts_with(|c: char| c.is_ascii_digit()) =>
                {
                    g.to_string()
                }
                _ => rest.to_string(),
            };
            (n.to_string(), Some(group))
        }
        None => (lower.clone(), None),
    };
    let matches = |r: &&&ResourceType| {
        (r.plural == name
            || r.singular == name
            || r.short_names.contains(&name.as_str())
            || r.kind.to_ascii_lowercase() == name)
            && group
                .as_deref()
                .is_none_or(|g| g == r.group || (g == "core" && r.group.is_empty()))
    };
    match RESOURCE_TYPES.iter().find(matches) {
        Some(rt) => Ok(vec![rt]),
        None => Err(format!(
            "error: the server doesn't have a resource type \"{arg}\""
        )),
    }
}

/// The name kubectl gives a resource type in messages (`pod`, `deployment.apps`).
pub fn kind_name(rt: &ResourceType) -> String {
    if rt.group.is_empty() {
        rt.singular.to_string()
    } else {
        format!("{}.{}", rt.singular, rt.group)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn names_short_names_kinds_and_groups_resolve() {
        for arg in ["pods", "pod", "po", "Pod", "pods.core"] {
            assert_eq!(resolve(arg).unwrap()[0].plural, "pods", "{arg}");
        }
        for arg in [
            "deploy",
            "deployments.apps",
            "deployment.v1.apps",
            "Deployment",
        ] {
            assert_eq!(resolve(arg).unwrap()[0].plural, "deployments", "{arg}");
        }
        assert_eq!(
            resolve("foos").unwrap_err(),
            "error: the server doesn't have a resource type \"foos\""
        );
        assert!(resolve("pods.apps").is_err());
        assert_eq!(resolve("all").unwrap().len(), 5);
        assert_eq!(kind_name(resolve("rs").unwrap()[0]), "replicaset.apps");
    }
}
