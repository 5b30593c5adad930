//! Authentication and authorization stages.
//!
//! Authentication turns credentials into a user; authorization asks each configured
//! mode in order until one allows or denies. This issue brings AlwaysAllow and
//! AlwaysDeny; the security chapter adds tokens, basic auth, certificates, ABAC, RBAC
//! and Node here.

use super::request::Credentials;
use crate::api::ApiError;

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
            return format!("User \"{}\" cannot {} path \"{}\"", user.name, self.verb, path);
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
        format!("User \"{}\" cannot {} {} in API group \"{}\" {}", user.name, self.verb, resource, self.api_group, scope)
    }
}

/// The authorizers' verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow(String),
    Deny(String),
    NoOpinion(String),
}

/// Authentication: who is this?
pub fn authenticate(c: &Credentials) -> Result<(UserInfo, String), ApiError> {
    match c {
        Credentials::Admin => Ok((UserInfo::admin(), "client certificate CN=kubernetes-admin, O=system:masters".into())),
        Credentials::User { name, groups } => {
            let mut groups = groups.clone();
            if !groups.iter().any(|g| g == "system:authenticated") && name != "system:anonymous" {
                groups.push("system:authenticated".into());
            }
            Ok((UserInfo { name: name.clone(), uid: String::new(), groups }, "identity given by the caller".into()))
        }
        Credentials::Anonymous => Ok((
            UserInfo { name: "system:anonymous".into(), uid: String::new(), groups: vec!["system:unauthenticated".into()] },
            "anonymous request".into(),
        )),
        Credentials::Token(_) | Credentials::Basic { .. } | Credentials::Certificate(_) => Err(ApiError::unauthorized()),
    }
}

/// Authorization: the configured modes, in order.
pub fn authorize(modes: &[String], user: &UserInfo, attrs: &Attributes) -> Decision {
    let mut reasons = Vec::new();
    for mode in modes {
        match mode.as_str() {
            "AlwaysAllow" => return Decision::Allow("AlwaysAllow: allowed".into()),
            "AlwaysDeny" => return Decision::Deny("AlwaysDeny: denied".into()),
            "RBAC" if user.in_group("system:masters") => {
                return Decision::Allow(
                    "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\" to Group \"system:masters\"".into(),
                )
            }
            other => reasons.push(format!("{other}: no opinion")),
        }
    }
    let _ = attrs;
    Decision::NoOpinion(reasons.join("; "))
}
