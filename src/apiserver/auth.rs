//! Authentication and authorization stages.
//!
//! Authentication turns credentials into a user; authorization asks each configured
//! mode in order until one allows or denies. Authentication knows static tokens,
//! basic auth and client certificates from the settings, and service-account tokens
//! of the legacy kind (`legacy_tokens::authenticate`); authorization brings
//! AlwaysAllow and AlwaysDeny, and the security chapter adds ABAC, RBAC and Node here.

use std::collections::BTreeMap;

use serde_json::Value;

use super::request::Credentials;
use crate::kernel::trace::Text;
use crate::store::Store;

/// An authenticated user (user.Info).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
}

impl UserInfo {
    pub fn admin() -> UserInfo {
        UserInfo {
            name: "kubernetes-admin".into(),
            uid: String::new(),
            groups: vec!["system:masters".into(), "system:authenticated".into()],
        }
    }

    pub fn in_group(&self, g: &str) -> bool {
        self.groups.iter().any(|x| x == g)
    }
}

/// What a request asks to do, as authorizers see it (authorizer.Attributes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attributes {
    pub verb: String,
    pub api_group: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    /// Set for non-resource requests (`/healthz`, `/version`, `/api`).
    pub path: Option<String>,
}

impl Attributes {
    /// Upstream's forbidden text: `User "bob" cannot list resource "pods" in API group
    /// "" in the namespace "default"`.
    pub fn forbidden_reason(&self, user: &UserInfo) -> String {
        if let Some(path) = &self.path {
            return format!(
                "User \"{}\" cannot {} path \"{}\"",
                user.name, self.verb, path
            );
        }
        let resource = if self.subresource.is_empty() {
            format!("resource \"{}\"", self.resource)
        } else {
            format!("resource \"{}/{}\"", self.resource, self.subresource)
        };
        let scope = if self.namespace.is_empty() {
            "at the cluster scope".to_string()
        } else {
            format!("in the namespace \"{}\"", self.namespace)
        };
        format!(
            "User \"{}\" cannot {} {} in API group \"{}\" {}",
            user.name, self.verb, resource, self.api_group, scope
        )
    }
}

/// The authorizers' verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow(Text),
    Deny(Text),
    NoOpinion(Text),
}

/// Finds the entry of a credentials list (`tokens`, `basicAuth`, ...) whose `field`
/// equals `value`, and makes a user of it.
fn lookup(
    security: &BTreeMap<String, Value>,
    list: &str,
    field: &str,
    value: &str,
) -> Option<UserInfo> {
    let entry = security
        .get(list)?
        .as_array()?
        .iter()
        .find(|e| e.get(field).and_then(Value::as_str) == Some(value))?;
    let name = entry.get("user").and_then(Value::as_str)?.to_string();
    let mut groups: Vec<String> = match entry.get("groups") {
        Some(Value::Array(g)) => g
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        Some(Value::String(g)) => g
            .split(',')
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    };
    if !groups.iter().any(|g| g == "system:authenticated") {
        groups.push("system:authenticated".into());
    }
    let uid = entry
        .get("uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Some(UserInfo { name, uid, groups })
}

/// Authentication: who is this? The user and how it was recognised; on failure, why
/// (for the trace: the client is only told `Unauthorized`).
pub fn authenticate(
    c: &Credentials,
    security: &BTreeMap<String, Value>,
    store: &Store,
) -> Result<(UserInfo, String), String> {
    const NONE: &str = "no authenticator accepted the credentials";
    match c {
        Credentials::Admin => Ok((
            UserInfo::admin(),
            "client certificate CN=kubernetes-admin, O=system:masters".into(),
        )),
        Credentials::User { name, groups } => {
            let mut groups = groups.clone();
            if !groups.iter().any(|g| g == "system:authenticated") && name != "system:anonymous" {
                groups.push("system:authenticated".into());
            }
            Ok((
                UserInfo {
                    name: name.clone(),
                    uid: String::new(),
                    groups,
                },
                "identity given by the caller".into(),
            ))
        }
        Credentials::Anonymous => Ok((
            UserInfo {
                name: "system:anonymous".into(),
                uid: String::new(),
                groups: vec!["system:unauthenticated".into()],
            },
            "anonymous request".into(),
        )),
        Credentials::Token(t) => match lookup(security, "tokens", "token", t) {
            Some(u) => Ok((u, "bearer token (--token-auth-file)".to_string())),
            None => match super::legacy_tokens::authenticate(store, t) {
                Some(Ok(found)) => Ok(found),
                Some(Err(why)) => Err(format!("service account token refused: {why}")),
                None => Err(NONE.into()),
            },
        },
        Credentials::Basic { user, password } => lookup(security, "basicAuth", "user", user)
            .filter(|_| {
                security["basicAuth"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|e| {
                        e.get("user").and_then(Value::as_str) == Some(user)
                            && e.get("password").and_then(Value::as_str) == Some(password)
                    })
            })
            .map(|u| (u, "HTTP basic auth (legacy --basic-auth-file)".to_string()))
            .ok_or_else(|| NONE.to_string()),
        Credentials::Certificate(name) => lookup(security, "clientCertificates", "name", name)
            .map(|u| {
                let how = format!(
                    "client certificate CN={}, O={} signed by the cluster CA",
                    u.name,
                    u.groups
                        .iter()
                        .filter(|g| *g != "system:authenticated")
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(",")
                );
                (u, how)
            })
            .ok_or_else(|| NONE.to_string()),
    }
}

/// Authorization: the configured modes, in order.
pub fn authorize(modes: &[String], user: &UserInfo, attrs: &Attributes) -> Decision {
    let mut reasons = Vec::new();
    for mode in modes {
        match mode.as_str() {
            "AlwaysAllow" => return Decision::Allow(Text::Static("AlwaysAllow: allowed")),
            "AlwaysDeny" => return Decision::Deny(Text::Static("AlwaysDeny: denied")),
            "RBAC" if user.in_group("system:masters") => {
                return Decision::Allow(Text::Static(
                    "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\" to Group \"system:masters\"",
                ))
            }
            other => reasons.push(format!("{other}: no opinion")),
        }
    }
    let _ = attrs;
    Decision::NoOpinion(reasons.join("; ").into())
}
