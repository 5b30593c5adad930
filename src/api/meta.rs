//! metav1: ObjectMeta, OwnerReference, ListMeta and friends.

use serde_json::Value;

use super::time::Time;
use super::{Shared, VecMap};

crate::api_struct! {
    /// Metadata every persisted object carries (metav1.ObjectMeta).
    pub struct ObjectMeta {
        name: String,
        generate_name: String,
        namespace: String,
        self_link: String,
        uid: String,
        resource_version: String,
        generation: i64,
        creation_timestamp: Option<Time>,
        deletion_timestamp: Option<Time>,
        deletion_grace_period_seconds: Option<i64>,
        labels: Shared<VecMap<String, String>>,
        annotations: Shared<VecMap<String, String>>,
        owner_references: Shared<Vec<OwnerReference>>,
        finalizers: Shared<Vec<String>>,
        managed_fields: Shared<Vec<Value>>,
    }

    /// Points at the object that owns this one (garbage collection, controllers).
    pub struct OwnerReference {
        api_version: String,
        kind: String,
        name: String,
        uid: String,
        controller: Option<bool>,
        block_owner_deletion: Option<bool>,
    }

    /// Metadata of a list response.
    pub struct ListMeta {
        self_link: String,
        resource_version: String,
        #[serde(rename = "continue")]
        continue_token: String,
        remaining_item_count: Option<i64>,
    }

    /// A condition in the shape most kinds share (metav1.Condition is stricter).
    pub struct Condition {
        #[serde(rename = "type")]
        kind: String,
        status: String,
        observed_generation: i64,
        last_probe_time: Option<Time>,
        last_heartbeat_time: Option<Time>,
        last_update_time: Option<Time>,
        last_transition_time: Option<Time>,
        reason: String,
        message: String,
    }
}

impl ObjectMeta {
    /// The controller owner, if any (the ownerReference with `controller: true`).
    pub fn controller_ref(&self) -> Option<&OwnerReference> {
        self.owner_references
            .iter()
            .find(|r| r.controller == Some(true))
    }

    pub fn is_being_deleted(&self) -> bool {
        self.deletion_timestamp.is_some()
    }
}
