//! networking.k8s.io/v1 Ingress and IngressClass; discovery.k8s.io/v1 EndpointSlice;
//! coordination.k8s.io/v1 Lease; scheduling.k8s.io/v1 PriorityClass.

use crate::api::VecMap;

use serde_json::Value;

use super::core::{kind_struct, LoadBalancerIngress, ObjectReference};
use super::meta::ObjectMeta;
use super::time::MicroTime;

crate::api_struct! {
    pub struct IngressSpec {
        ingress_class_name: Option<String>,
        default_backend: Option<IngressBackend>,
        tls: Vec<Value>,
        rules: Vec<IngressRule>,
    }

    pub struct IngressBackend {
        service: Option<IngressServiceBackend>,
        resource: Option<Value>,
    }

    pub struct IngressServiceBackend {
        name: String,
        port: ServiceBackendPort,
    }

    pub struct ServiceBackendPort {
        name: String,
        number: i32,
    }

    pub struct IngressRule {
        host: String,
        http: Option<HttpIngressRuleValue>,
    }

    pub struct HttpIngressRuleValue {
        paths: Vec<HttpIngressPath>,
    }

    pub struct HttpIngressPath {
        path: String,
        path_type: Option<String>,
        backend: IngressBackend,
    }

    pub struct IngressStatus {
        load_balancer: IngressLoadBalancerStatus,
    }

    pub struct IngressLoadBalancerStatus {
        ingress: Vec<LoadBalancerIngress>,
    }

    pub struct IngressClassSpec {
        controller: String,
        parameters: Option<Value>,
    }

    pub struct Endpoint {
        addresses: Vec<String>,
        conditions: EndpointConditions,
        hostname: Option<String>,
        target_ref: Option<ObjectReference>,
        deprecated_topology: VecMap<String, String>,
        node_name: Option<String>,
        zone: Option<String>,
        hints: Option<Value>,
    }

    pub struct EndpointConditions {
        ready: Option<bool>,
        serving: Option<bool>,
        terminating: Option<bool>,
    }

    pub struct EndpointSlicePort {
        name: Option<String>,
        protocol: Option<String>,
        port: Option<i32>,
        app_protocol: Option<String>,
    }

    pub struct LeaseSpec {
        holder_identity: Option<String>,
        lease_duration_seconds: Option<i32>,
        acquire_time: Option<MicroTime>,
        renew_time: Option<MicroTime>,
        lease_transitions: Option<i32>,
        strategy: Option<String>,
        preferred_holder: Option<String>,
    }
}

kind_struct!(Ingress {
    #[serde(default)]
    spec: IngressSpec,
    #[serde(default)]
    status: IngressStatus,
});
kind_struct!(IngressClass {
    #[serde(default)]
    spec: IngressClassSpec,
});
kind_struct!(
    /// A slice of a Service's endpoints (discovery.k8s.io/v1).
    EndpointSlice {
        #[serde(default)]
        address_type: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        endpoints: Vec<Endpoint>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ports: Vec<EndpointSlicePort>,
    }
);
kind_struct!(
    /// A node's heartbeat (kube-node-lease) or a leader-election lock.
    Lease {
        #[serde(default)]
        spec: LeaseSpec,
    }
);
kind_struct!(
    PriorityClass {
        #[serde(default)]
        value: i32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        global_default: Option<bool>,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        description: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        preemption_policy: Option<String>,
    }
);
