//! apps/v1: Deployment and ReplicaSet (and autoscaling/v1 Scale, their subresource).

use serde_json::Value;

use super::core::{kind_struct, PodTemplateSpec};
use super::intstr::IntOrString;
use super::labels::LabelSelector;
use super::meta::{Condition, ObjectMeta};

crate::api_struct! {
    pub struct DeploymentSpec {
        replicas: Option<i32>,
        selector: Option<LabelSelector>,
        template: PodTemplateSpec,
        strategy: Option<DeploymentStrategy>,
        min_ready_seconds: i32,
        revision_history_limit: Option<i32>,
        paused: bool,
        progress_deadline_seconds: Option<i32>,
    }

    pub struct DeploymentStrategy {
        #[serde(rename = "type")]
        kind: Option<String>,
        rolling_update: Option<RollingUpdateDeployment>,
    }

    pub struct RollingUpdateDeployment {
        max_unavailable: Option<IntOrString>,
        max_surge: Option<IntOrString>,
    }

    pub struct DeploymentStatus {
        observed_generation: i64,
        replicas: i32,
        updated_replicas: i32,
        ready_replicas: i32,
        available_replicas: i32,
        unavailable_replicas: i32,
        conditions: Vec<Condition>,
        collision_count: Option<i32>,
    }

    pub struct ReplicaSetSpec {
        replicas: Option<i32>,
        min_ready_seconds: i32,
        selector: Option<LabelSelector>,
        template: Option<PodTemplateSpec>,
    }

    pub struct ReplicaSetStatus {
        replicas: i32,
        fully_labeled_replicas: i32,
        ready_replicas: i32,
        available_replicas: i32,
        observed_generation: i64,
        conditions: Vec<Condition>,
    }

    pub struct ScaleSpec {
        replicas: i32,
    }

    pub struct ScaleStatus {
        replicas: i32,
        selector: String,
    }
}

kind_struct!(
    /// Declarative updates for pods through ReplicaSets.
    Deployment {
        #[serde(default)]
        spec: DeploymentSpec,
        #[serde(default)]
        status: DeploymentStatus,
    }
);
kind_struct!(ReplicaSet {
    #[serde(default)]
    spec: ReplicaSetSpec,
    #[serde(default)]
    status: ReplicaSetStatus,
});
kind_struct!(
    /// autoscaling/v1 Scale, the `scale` subresource of Deployments, ReplicaSets and
    /// ReplicationControllers.
    Scale {
        #[serde(default)]
        spec: ScaleSpec,
        #[serde(default)]
        status: ScaleStatus,
    }
);

/// Keeps serde_json in scope for kinds that hold opaque parts.
#[allow(dead_code)]
type Opaque = Value;
