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

use serde_json::json;

use super::admission::Context;
use crate::api::core::{Pod, ServiceAccount, Volume, VolumeMount};
use crate::api::object::SECRETS;
use crate::api::status::StatusDetails;
use crate::api::{ApiError, Object};
use crate::controllers::serviceaccount_tokens::is_token_of;
use crate::kernel::Rng;

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
