//! The ServiceAccount admission plugin of the legacy token era (before
//! `BoundServiceAccountTokenVolume`, v1.21), used when
//! `spec.cluster.apiserver.legacyServiceAccountTokens: true`: instead of the
//! projected `kube-api-access-xxxxx` volume, a pod mounts its account's token
//! Secret (made by the Token controller, `controllers::serviceaccount_tokens`) as a
//! `secret` volume at /var/run/secrets/kubernetes.io/serviceaccount. As upstream's
//! `mountServiceAccountToken`: the first Secret the account's `secrets` lists that
//! is a token of that account; the volume is named after the Secret (with a random
//! suffix if a volume already has that name) unless a volume already mounts it;
//! every container and init container without a mount at that path gets one. An
//! account with no token yet refuses the pod (`RequireAPIToken`), with upstream's
//! ServerTimeout: the controller makes the token, and a retry succeeds.
//!
//! Also the authenticator that accepts those tokens as bearer credentials
//! ([`authenticate`]).

use serde_json::{json, Value};

use super::admission::Context;
use super::auth::UserInfo;
use super::strategy::base64_decode;
use crate::api::core::{Pod, ServiceAccount, Volume, VolumeMount};
use crate::api::object::{SECRETS, SERVICEACCOUNTS};
use crate::api::status::StatusDetails;
use crate::api::{ApiError, Object};
use crate::controllers::serviceaccount_tokens::{is_token_of, legacy_token};
use crate::kernel::Rng;
use crate::store::Store;

/// `DefaultAPITokenMountPath`.
pub const MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// `getReferencedServiceAccountToken`: the first Secret in the account's `secrets`
/// that is one of its tokens.
fn referenced_token<'a>(ctx: &Context, sa: &'a ServiceAccount) -> Option<&'a str> {
    sa.secrets.iter().map(|r| r.name.as_str()).find(|name| {
        matches!(
            ctx.store.get(&SECRETS, ctx.namespace, name).map(|o| o.as_ref()),
            Some(Object::Secret(s)) if is_token_of(s, sa)
        )
    })
}

/// Mounts the account's token Secret; the note for the trace (None: every
/// container already mounts something at the path).
pub fn mount_token_secret(
    ctx: &Context,
    pod: &mut Pod,
    sa: &ServiceAccount,
    rng: &mut Rng,
) -> Result<Option<String>, ApiError> {
    let Some(token) = referenced_token(ctx, sa) else {
        return Err(ApiError::new(
            500,
            "ServerTimeout",
            format!(
                "No API token found for service account \"{}\", retry after the token is automatically created and added to the service account",
                sa.metadata.name
            ),
            Some(StatusDetails {
                name: "create pod".into(),
                kind: "serviceaccounts".into(),
                retry_after_seconds: Some(1),
                ..Default::default()
            }),
        ));
    };
    let existing = pod.spec.volumes.iter().find(|v| {
        v.secret
            .as_ref()
            .and_then(|s| s.get("secretName"))
            .and_then(|n| n.as_str())
            == Some(token)
    });
    let has_volume = existing.is_some();
    let volume_name = match existing {
        Some(v) => v.name.clone(),
        None if pod.spec.volumes.iter().any(|v| v.name == token) => {
            format!("{token}-{}", rng.k8s_suffix(5))
        }
        None => token.to_string(),
    };
    let mut needs_volume = false;
    for c in pod
        .spec
        .init_containers
        .iter_mut()
        .chain(pod.spec.containers.iter_mut())
    {
        if c.volume_mounts.iter().any(|m| m.mount_path == MOUNT_PATH) {
            continue;
        }
        c.volume_mounts.push(VolumeMount {
            name: volume_name.clone(),
            read_only: Some(true),
            mount_path: MOUNT_PATH.into(),
            ..Default::default()
        });
        needs_volume = true;
    }
    if !needs_volume {
        return Ok(None);
    }
    if !has_volume {
        pod.spec.volumes.push(Volume {
            name: volume_name.clone(),
            // defaultMode is what the API's defaulting gives a secret volume.
            secret: Some(Box::new(json!({"secretName": token, "defaultMode": 420}))),
            ..Default::default()
        });
    }
    Ok(Some(format!(
        "mounted the account's token secret \"{token}\" as secret volume \"{volume_name}\" at {MOUNT_PATH} (legacy service account tokens)"
    )))
}

/// The legacy service-account token authenticator: upstream's JWT token
/// authenticator with `legacyValidator` (`pkg/serviceaccount/legacy.go`), on by
/// default in every v1.31 API server. A token issued by `kubernetes/serviceaccount`
/// is its account's for as long as its Secret exists, still holds this very token,
/// and the account still exists with the UID the token names; so deleting the
/// Secret, or the account, revokes it at once.
///
/// `None`: not such a token (the request is refused as for any unknown token).
/// `Some(Err(why))`: such a token, refused, with upstream's reason (its log line;
/// the client only ever sees `Unauthorized`). `Some(Ok(..))`: the account's user,
/// `system:serviceaccount:NS:NAME` in the groups `system:serviceaccounts` and
/// `system:serviceaccounts:NS`, and how it was recognised.
///
/// Simplified: the signature is the simulated token's hash (see
/// `controllers::serviceaccount_tokens`), checked by making the token again from
/// its claims; bound (projected) tokens from the TokenRequest API are not issued.
pub fn authenticate(store: &Store, token: &str) -> Option<Result<(UserInfo, String), String>> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let mut b64 = payload.replace('-', "+").replace('_', "/");
    while b64.len() % 4 != 0 {
        b64.push('=');
    }
    let claims: Value = serde_json::from_slice(&base64_decode(&b64).ok()?).ok()?;
    if claims.get("iss").and_then(Value::as_str) != Some(LEGACY_ISSUER) {
        return None;
    }
    Some(validate(store, token, &claims))
}

/// The legacy issuer (`serviceaccount.LegacyIssuer`).
const LEGACY_ISSUER: &str = "kubernetes/serviceaccount";

fn validate(store: &Store, token: &str, claims: &Value) -> Result<(UserInfo, String), String> {
    let claim = |key: &str, what: &str| {
        claims
            .get(format!("kubernetes.io/serviceaccount/{key}"))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("{what} claim is missing"))
    };
    let ns = claim("namespace", "namespace")?;
    let secret_name = claim("secret.name", "secretName")?;
    let account = claim("service-account.name", "serviceAccountName")?;
    let uid = claim("service-account.uid", "serviceAccountUID")?;
    if claims.get("sub").and_then(Value::as_str)
        != Some(format!("system:serviceaccount:{ns}:{account}").as_str())
    {
        return Err("sub claim is invalid".into());
    }
    if legacy_token(ns, account, uid, secret_name) != token {
        return Err("go-jose/go-jose: error in cryptographic primitive".into());
    }
    // The Secret must still exist and hold this token.
    let secret = match store.get(&SECRETS, ns, secret_name).map(|o| o.as_ref()) {
        Some(Object::Secret(s)) if s.metadata.deletion_timestamp.is_none() => s,
        _ => return Err("Token has been invalidated".into()),
    };
    let held = secret
        .data
        .get("token")
        .and_then(|t| base64_decode(t).ok())
        .unwrap_or_default();
    if held != token.as_bytes() {
        return Err("Token does not match server's copy".into());
    }
    // And the account, with the UID the token names.
    let sa = match store.get(&SERVICEACCOUNTS, ns, account).map(|o| o.as_ref()) {
        Some(Object::ServiceAccount(sa)) => sa,
        _ => return Err(format!("serviceaccounts \"{account}\" not found")),
    };
    if sa.metadata.deletion_timestamp.is_some() {
        return Err(format!("ServiceAccount {ns}/{account} has been deleted"));
    }
    if sa.metadata.uid != uid {
        return Err(format!(
            "ServiceAccount UID ({}) does not match claim ({uid})",
            sa.metadata.uid
        ));
    }
    let user = UserInfo {
        name: format!("system:serviceaccount:{ns}:{account}"),
        uid: uid.to_string(),
        groups: vec![
            "system:serviceaccounts".into(),
            format!("system:serviceaccounts:{ns}"),
            "system:authenticated".into(),
        ],
    };
    Ok((
        user,
        format!("service account token (legacy, from Secret {ns}/{secret_name})"),
    ))
}
