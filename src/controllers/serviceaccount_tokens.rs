//! The legacy Token controller (`serviceaccount-token-controller`, before v1.24's
//! `LegacyServiceAccountTokenNoAutoGeneration`), run only in the legacy mode
//! `spec.cluster.apiserver.legacyServiceAccountTokens: true` (the seed's token
//! Secrets). As upstream's `pkg/controller/serviceaccount/tokens_controller.go`:
//!
//! - a ServiceAccount that references no token Secret of its own gets one: a Secret
//!   of type `kubernetes.io/service-account-token` named `<account>-token-<5
//!   random chars>` (the API server's name generator's alphabet, from the
//!   simulation's one RNG), annotated with the account's name and UID, holding
//!   `token`, `ca.crt` and `namespace`; then the account's `secrets` lists it
//!   (the live account is read first; if it changed since the event, a newer event
//!   will ask again, where upstream requeues);
//! - a token Secret whose account does not exist (or has another UID) is deleted;
//!   one that lacks `token`, `ca.crt` or `namespace` is completed (a token Secret
//!   created by hand);
//! - a deleted token Secret is removed from its account's `secrets`, and the
//!   account then gets a new one; a deleted account's token Secrets are deleted.
//!
//! Simplified: the token is a simulated JWT. Its header and payload are the
//! legacy claims upstream signs (`iss: kubernetes/serviceaccount`, the namespace,
//! the secret's and the account's names, the account's UID, `sub:
//! system:serviceaccount:NS:NAME`), but the signature part is a hash of them, not
//! an RS256 signature; the API server's authenticator
//! (`apiserver::legacy_tokens::authenticate`) checks it by making the token again
//! from its claims. Errors are not retried with back-off: the next event retries.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use crate::api::core::{ObjectReference, Secret, ServiceAccount};
use crate::api::object::{SECRETS, SERVICEACCOUNTS};
use crate::api::Object;
use crate::apiserver::client::Identity;
use crate::apiserver::strategy::base64_encode;
use crate::apiserver::watch::WatchSpec;
use crate::component::{Component, Ctx};
use crate::kernel::ObjRef;
use crate::store::EventType;

const NAME: &str = "serviceaccount-token-controller";

/// `v1.SecretTypeServiceAccountToken`.
pub const TOKEN_TYPE: &str = "kubernetes.io/service-account-token";
/// `v1.ServiceAccountNameKey` and `v1.ServiceAccountUIDKey`.
pub const NAME_KEY: &str = "kubernetes.io/service-account.name";
pub const UID_KEY: &str = "kubernetes.io/service-account.uid";

/// `clientretry.DefaultRetry`'s attempts when the account's update conflicts.
const UPDATE_ATTEMPTS: usize = 5;

/// A token Secret as the controller's cache holds it.
#[derive(Clone, Debug)]
struct TokenInfo {
    account: String,
    uid: String,
}

pub struct TokensController {
    who: Identity,
    /// The accounts seen, by (namespace, name).
    accounts: BTreeMap<(String, String), Arc<Object>>,
    /// Token Secrets seen, by (namespace, name).
    tokens: BTreeMap<(String, String), TokenInfo>,
}

impl Default for TokensController {
    fn default() -> Self {
        TokensController {
            // Upstream starts it with the root client ("tokens-controller"): the
            // controller manager's own credentials.
            who: Identity::new(
                NAME,
                "system:kube-controller-manager",
                &["system:authenticated"],
            ),
            accounts: BTreeMap::new(),
            tokens: BTreeMap::new(),
        }
    }
}

/// `serviceaccount.IsServiceAccountToken`: the secret's type and annotations name
/// this account (the UID only when the secret names one).
pub fn is_token_of(secret: &Secret, sa: &ServiceAccount) -> bool {
    secret.kind == TOKEN_TYPE
        && secret
            .metadata
            .annotations
            .get(NAME_KEY)
            .map(String::as_str)
            == Some(sa.metadata.name.as_str())
        && secret
            .metadata
            .annotations
            .get(UID_KEY)
            .is_none_or(|u| u.is_empty() || *u == sa.metadata.uid)
}

/// base64url without padding, as JWTs write their parts.
fn base64url(bytes: &[u8]) -> String {
    base64_encode(bytes)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// The simulated legacy token: `serviceaccount.LegacyClaims` in a JWT whose
/// signature is a hash (see the module's doc).
pub fn legacy_token(namespace: &str, account: &str, uid: &str, secret: &str) -> String {
    let header = json!({"alg": "RS256", "kid": "kubeglass-simulated"});
    let claims = json!({
        "iss": "kubernetes/serviceaccount",
        "kubernetes.io/serviceaccount/namespace": namespace,
        "kubernetes.io/serviceaccount/secret.name": secret,
        "kubernetes.io/serviceaccount/service-account.name": account,
        "kubernetes.io/serviceaccount/service-account.uid": uid,
        "sub": format!("system:serviceaccount:{namespace}:{account}"),
    });
    let signed = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    );
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in signed.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{signed}.{}", base64url(&h.to_be_bytes()))
}

impl TokensController {
    fn account(&self, ns: &str, name: &str) -> Option<&ServiceAccount> {
        match self
            .accounts
            .get(&(ns.to_string(), name.to_string()))
            .map(|o| o.as_ref())
        {
            Some(Object::ServiceAccount(sa)) => Some(sa),
            _ => None,
        }
    }

    /// `hasReferencedToken`: the account lists a token Secret of its own.
    fn has_referenced_token(&self, sa: &ServiceAccount) -> bool {
        let ns = &sa.metadata.namespace;
        sa.secrets.iter().any(|r| {
            self.tokens
                .get(&(ns.clone(), r.name.clone()))
                .is_some_and(|t| {
                    t.account == sa.metadata.name && (t.uid.is_empty() || t.uid == sa.metadata.uid)
                })
        })
    }

    /// `ensureReferencedToken`.
    fn ensure_referenced_token(&mut self, ctx: &mut Ctx, sa: &ServiceAccount) {
        if self.has_referenced_token(sa) {
            return;
        }
        let (ns, name) = (sa.metadata.namespace.clone(), sa.metadata.name.clone());
        let who = self.who.clone();
        // The live account: if it moved on since this event, a newer event follows.
        let live = match ctx.client(&who).get(&SERVICEACCOUNTS, &ns, &name) {
            Ok(o) => o,
            Err(_) => return,
        };
        if live.meta().resource_version != sa.metadata.resource_version {
            return;
        }
        let secret_name = format!("{name}-token-{}", ctx.k.rng.k8s_suffix(5));
        ctx.note(
            NAME,
            format!("create token secret {ns}/{secret_name}"),
            format!(
                "service account {ns}/{name} references no token secret (legacy service account tokens)"
            ),
            vec![ObjRef::new("ServiceAccount", &ns, &name, 0)],
        );
        let mut secret = Secret::default();
        secret.metadata.name = secret_name.clone();
        secret.metadata.namespace = ns.clone();
        secret
            .metadata
            .annotations
            .insert(NAME_KEY.into(), name.clone());
        secret
            .metadata
            .annotations
            .insert(UID_KEY.into(), sa.metadata.uid.clone());
        secret.kind = TOKEN_TYPE.into();
        fill(&mut secret, &ns, &name, &sa.metadata.uid);
        match ctx.client(&who).create(Object::from(secret)) {
            Ok(_) => {
                self.tokens.insert(
                    (ns.clone(), secret_name.clone()),
                    TokenInfo {
                        account: name.clone(),
                        uid: sa.metadata.uid.clone(),
                    },
                );
            }
            Err(_) => return,
        }
        // Add the reference, retrying on conflict with a fresh copy each time.
        let uid = sa.metadata.uid.clone();
        for _ in 0..UPDATE_ATTEMPTS {
            let Ok(live) = ctx.client(&who).get(&SERVICEACCOUNTS, &ns, &name) else {
                break;
            };
            let Object::ServiceAccount(mut live) = (*live).clone() else {
                break;
            };
            if live.metadata.uid != uid || self.has_referenced_token(&live) {
                // Another account of that name, or it got a token meanwhile.
                break;
            }
            live.secrets.push(ObjectReference {
                name: secret_name.clone(),
                ..Default::default()
            });
            match ctx.client(&who).update(Object::ServiceAccount(live)) {
                Ok(_) => return,
                Err(e) if e.code() == 409 => continue,
                Err(_) => break,
            }
        }
        // The token could not be referenced: upstream cleans it up.
        ctx.note(
            NAME,
            format!("delete token secret {ns}/{secret_name}"),
            format!("it could not be added to service account {ns}/{name}'s secrets"),
            vec![ObjRef::new("Secret", &ns, &secret_name, 0)],
        );
        let _ = ctx.client(&who).delete(&SECRETS, &ns, &secret_name, None);
    }

    /// `deleteTokens`: a deleted account's token Secrets go with it.
    fn delete_tokens(&mut self, ctx: &mut Ctx, sa: &ServiceAccount) {
        let ns = &sa.metadata.namespace;
        let doomed: Vec<String> = self
            .tokens
            .iter()
            .filter(|((n, _), t)| {
                n == ns
                    && t.account == sa.metadata.name
                    && (t.uid.is_empty() || t.uid == sa.metadata.uid)
            })
            .map(|((_, s), _)| s.clone())
            .collect();
        let who = self.who.clone();
        for s in doomed {
            ctx.note(
                NAME,
                format!("delete token secret {ns}/{s}"),
                format!("its service account {ns}/{} was deleted", sa.metadata.name),
                vec![ObjRef::new("Secret", ns, &s, 0)],
            );
            let _ = ctx.client(&who).delete(&SECRETS, ns, &s, None);
        }
    }

    /// `syncSecret` for a token Secret that exists.
    fn sync_secret(&mut self, ctx: &mut Ctx, secret: &Secret) {
        let (ns, name) = (&secret.metadata.namespace, &secret.metadata.name);
        let account = secret
            .metadata
            .annotations
            .get(NAME_KEY)
            .cloned()
            .unwrap_or_default();
        let who = self.who.clone();
        let sa = self
            .account(ns, &account)
            .filter(|sa| is_token_of(secret, sa))
            .cloned();
        let Some(sa) = sa else {
            ctx.note(
                NAME,
                format!("delete token secret {ns}/{name}"),
                format!("its service account {ns}/{account} does not exist"),
                vec![ObjRef::new("Secret", ns, name, 0)],
            );
            let _ = ctx.client(&who).delete(&SECRETS, ns, name, None);
            return;
        };
        // `generateTokenIfNeeded`.
        let missing = |k: &str| secret.data.get(k).is_none_or(|v| v.is_empty());
        let ca = base64_encode(super::rootca::CA_CRT.as_bytes());
        if !missing("token") && !missing("namespace") && secret.data.get("ca.crt") == Some(&ca) {
            return;
        }
        ctx.note(
            NAME,
            format!("complete token secret {ns}/{name}"),
            format!("it lacks the token, the CA bundle or the namespace of service account {ns}/{account}"),
            vec![ObjRef::new("Secret", ns, name, 0)],
        );
        let Ok(live) = ctx.client(&who).get(&SECRETS, ns, name) else {
            return;
        };
        let Object::Secret(mut live) = (*live).clone() else {
            return;
        };
        let token = live.data.get("token").filter(|t| !t.is_empty()).cloned();
        fill(&mut live, ns, &account, &sa.metadata.uid);
        if let Some(t) = token {
            live.data.insert("token".into(), t);
        }
        live.metadata
            .annotations
            .insert(NAME_KEY.into(), account.clone());
        live.metadata
            .annotations
            .insert(UID_KEY.into(), sa.metadata.uid.clone());
        let _ = ctx.client(&who).update(Object::Secret(live));
    }

    /// `removeSecretReference`: a deleted token Secret leaves its account's list.
    fn remove_reference(&mut self, ctx: &mut Ctx, ns: &str, secret: &str, info: &TokenInfo) {
        let Some(sa) = self.account(ns, &info.account) else {
            return;
        };
        if (!info.uid.is_empty() && info.uid != sa.metadata.uid)
            || !sa.secrets.iter().any(|r| r.name == secret)
        {
            return;
        }
        ctx.note(
            NAME,
            format!(
                "remove secret {secret} from service account {ns}/{}",
                info.account
            ),
            "the token secret was deleted",
            vec![ObjRef::new("ServiceAccount", ns, &info.account, 0)],
        );
        let who = self.who.clone();
        for _ in 0..UPDATE_ATTEMPTS {
            let Ok(live) = ctx.client(&who).get(&SERVICEACCOUNTS, ns, &info.account) else {
                return;
            };
            let Object::ServiceAccount(mut live) = (*live).clone() else {
                return;
            };
            let before = live.secrets.len();
            live.secrets.retain(|r| r.name != secret);
            if live.secrets.len() == before {
                return;
            }
            match ctx.client(&who).update(Object::ServiceAccount(live)) {
                Err(e) if e.code() == 409 => continue,
                _ => return,
            }
        }
    }
}

/// Sets a token Secret's `token`, `ca.crt` and `namespace` (values base64, as the
/// API stores `data`).
fn fill(secret: &mut Secret, ns: &str, account: &str, uid: &str) {
    let token = legacy_token(ns, account, uid, &secret.metadata.name);
    secret
        .data
        .insert("token".into(), base64_encode(token.as_bytes()));
    secret.data.insert(
        "ca.crt".into(),
        base64_encode(super::rootca::CA_CRT.as_bytes()),
    );
    secret
        .data
        .insert("namespace".into(), base64_encode(ns.as_bytes()));
}

impl Component for TokensController {
    fn name(&self) -> String {
        NAME.into()
    }

    fn watches(&self) -> Vec<WatchSpec> {
        vec![
            WatchSpec::new(&SERVICEACCOUNTS, NAME),
            WatchSpec::new(&SECRETS, NAME),
        ]
    }

    fn on_event(&mut self, ctx: &mut Ctx, watch: usize, kind: EventType, obj: &Arc<Object>) {
        match (watch, obj.as_ref()) {
            (0, Object::ServiceAccount(sa)) => {
                let key = (sa.metadata.namespace.clone(), sa.metadata.name.clone());
                if kind == EventType::Deleted {
                    self.accounts.remove(&key);
                    self.delete_tokens(ctx, sa);
                } else {
                    self.accounts.insert(key, obj.clone());
                    self.ensure_referenced_token(ctx, sa);
                }
            }
            (1, Object::Secret(secret)) if secret.kind == TOKEN_TYPE => {
                let key = (
                    secret.metadata.namespace.clone(),
                    secret.metadata.name.clone(),
                );
                if kind == EventType::Deleted {
                    if let Some(info) = self.tokens.remove(&key) {
                        self.remove_reference(ctx, &key.0, &key.1, &info);
                    }
                    return;
                }
                let info = TokenInfo {
                    account: secret
                        .metadata
                        .annotations
                        .get(NAME_KEY)
                        .cloned()
                        .unwrap_or_default(),
                    uid: secret
                        .metadata
                        .annotations
                        .get(UID_KEY)
                        .cloned()
                        .unwrap_or_default(),
                };
                self.tokens.insert(key, info);
                self.sync_secret(ctx, secret);
            }
            _ => {}
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use serde_json::Value;

    #[test]
    fn the_token_carries_the_legacy_claims() {
        let t = legacy_token("default", "build", "u-1", "build-token-abcde");
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        let pad = |s: &str| {
            let mut s = s.replace('-', "+").replace('_', "/");
            while s.len() % 4 != 0 {
                s.push('=');
            }
            s
        };
        let claims = crate::apiserver::strategy::base64_decode(&pad(parts[1])).unwrap();
        let v: Value = serde_json::from_slice(&claims).unwrap();
        assert_eq!(v["iss"], "kubernetes/serviceaccount");
        assert_eq!(v["sub"], "system:serviceaccount:default:build");
        assert_eq!(
            v["kubernetes.io/serviceaccount/secret.name"],
            "build-token-abcde"
        );
        assert_eq!(v["kubernetes.io/serviceaccount/service-account.uid"], "u-1");
        assert!(!t.contains('='));
    }
}
