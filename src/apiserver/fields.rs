//! The values of the field labels (`--field-selector`) on an object; which labels a
//! kind supports is `api::fields::supported_field_labels`.

use crate::api::Object;

/// The value of a supported field label on an object.
pub fn value(obj: &Object, field: &str) -> Option<String> {
    let meta = obj.meta();
    match field {
        "metadata.name" => return Some(meta.name.clone()),
        "metadata.namespace" => return Some(meta.namespace.clone()),
        _ => {}
    }
    match obj {
        Object::Pod(p) => Some(match field {
            "spec.nodeName" => p.spec.node_name.clone(),
            "spec.restartPolicy" => p.spec.restart_policy.clone().unwrap_or_default(),
            "spec.schedulerName" => p.spec.scheduler_name.clone().unwrap_or_default(),
            "spec.serviceAccountName" => p.spec.service_account_name.clone().unwrap_or_default(),
            "spec.hostNetwork" => p.spec.host_network.to_string(),
            "status.phase" => p.status.phase.clone(),
            "status.podIP" => p.status.pod_ip.clone(),
            "status.podIPs" => p
                .status
                .pod_ips
                .first()
                .map(|i| i.ip.clone())
                .unwrap_or_default(),
            "status.nominatedNodeName" => p.status.nominated_node_name.clone(),
            _ => return None,
        }),
        Object::Node(n) if field == "spec.unschedulable" => Some(n.spec.unschedulable.to_string()),
        Object::Namespace(n) if field == "status.phase" => Some(n.status.phase.clone()),
        Object::Secret(s) if field == "type" => Some(s.kind.clone()),
        Object::ReplicaSet(r) if field == "status.replicas" => Some(r.status.replicas.to_string()),
        Object::ReplicationController(r) if field == "status.replicas" => {
            Some(r.status.replicas.to_string())
        }
        Object::Event(e) => Some(match field {
            "involvedObject.kind" => e.involved_object.kind.clone(),
            "involvedObject.namespace" => e.involved_object.namespace.clone(),
            "involvedObject.name" => e.involved_object.name.clone(),
            "involvedObject.uid" => e.involved_object.uid.clone(),
            "involvedObject.apiVersion" => e.involved_object.api_version.clone(),
            "involvedObject.resourceVersion" => e.involved_object.resource_version.clone(),
            "involvedObject.fieldPath" => e.involved_object.field_path.clone(),
            "reason" => e.reason.clone(),
            "reportingComponent" => e.reporting_component.clone(),
            "source" => e.source.component.clone(),
            "type" => e.kind.clone(),
            _ => return None,
        }),
        _ => None,
    }
}
