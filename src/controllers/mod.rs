//! Layer 5, the controllers: one reconcile loop each, side by side, unaware of each
//! other, talking only to the API server.

pub mod correlator;
pub mod deployment;
pub mod endpoints;
pub mod endpointslice;
pub mod garbagecollector;
pub mod namespace;
pub mod nodeipam;
pub mod nodelifecycle;
pub mod nodeutil;
pub mod podgc;
pub mod replicaset;
pub mod resourcequota;
pub mod rootca;
pub mod service;
pub mod serviceaccount;
pub mod serviceaccount_tokens;
pub mod standin;
pub mod tainteviction;
pub mod workload;

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

/// The workload controllers and the garbage collector, in the order the cluster
/// starts them (one call from the composition root, so that adding a loop does not
/// touch it).
pub fn add_workload_controllers(add: &mut dyn FnMut(Box<dyn crate::component::Component>)) {
    add(Box::new(replicaset::ReplicaSetController::new(
        replicaset::Flavor::ReplicaSet,
    )));
    add(Box::new(replicaset::ReplicaSetController::new(
        replicaset::Flavor::ReplicationController,
    )));
    add(Box::<deployment::DeploymentController>::default());
    add(Box::<garbagecollector::GarbageCollector>::default());
}
