//! Layer 5, the controllers: one reconcile loop each, side by side, unaware of each
//! other, talking only to the API server.

pub mod namespace;
pub mod nodeipam;
pub mod rootca;
pub mod serviceaccount;
pub mod standin;

use crate::apiserver::client::Identity;

/// The identity a kube-controller-manager loop uses (its own service account, as
/// `--use-service-account-credentials` gives it).
pub fn controller_identity(trace_name: &str, service_account: &str) -> Identity {
    let user = format!("system:serviceaccount:kube-system:{service_account}");
    Identity::new(
        trace_name,
        &user,
        &[
            "system:serviceaccounts",
            "system:serviceaccounts:kube-system",
            "system:authenticated",
        ],
    )
}
