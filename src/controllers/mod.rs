//! Layer 5, the controllers: one reconcile loop each, side by side, unaware of each
//! other, talking only to the API server.

pub mod namespace;
pub mod nodelifecycle;
pub mod nodeutil;
pub mod podgc;
pub mod rootca;
pub mod serviceaccount;
pub mod standin;
pub mod tainteviction;

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
