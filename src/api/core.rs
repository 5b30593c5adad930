//! core/v1 kinds: the fields the simulation reads are typed; deep subtrees that it
//! only keeps (security contexts, volume sources, probes' handlers) are kept as JSON.

use serde_json::Value;

use super::intstr::IntOrString;
use super::labels::LabelSelector;
use super::meta::{Condition, ObjectMeta};
use super::quantity::Quantity;
use super::time::Time;
use super::{Shared, VecMap};

/// A map of resource names to quantities (`cpu: 250m`).
pub type ResourceList = VecMap<String, Quantity>;

crate::api_struct! {
    pub struct PodSpec {
        volumes: Shared<Vec<Volume>>,
        init_containers: Shared<Vec<Container>>,
        containers: Shared<Vec<Container>>,
        ephemeral_containers: Vec<Value>,
        restart_policy: Option<String>,
        termination_grace_period_seconds: Option<i64>,
        active_deadline_seconds: Option<i64>,
        dns_policy: Option<String>,
        node_selector: Shared<VecMap<String, String>>,
        service_account_name: Option<String>,
        service_account: Option<String>,
        automount_service_account_token: Option<bool>,
        node_name: String,
        host_network: bool,
        #[serde(rename = "hostPID")]
        host_pid: bool,
        #[serde(rename = "hostIPC")]
        host_ipc: bool,
        share_process_namespace: Option<bool>,
        security_context: Option<Box<Value>>,
        image_pull_secrets: Vec<LocalObjectReference>,
        hostname: Option<String>,
        subdomain: Option<String>,
        affinity: Option<Box<Affinity>>,
        scheduler_name: Option<String>,
        tolerations: Shared<Vec<Toleration>>,
        host_aliases: Vec<Value>,
        priority_class_name: Option<String>,
        priority: Option<i32>,
        dns_config: Option<Box<Value>>,
        readiness_gates: Vec<Value>,
        runtime_class_name: Option<String>,
        enable_service_links: Option<bool>,
        preemption_policy: Option<String>,
        overhead: ResourceList,
        topology_spread_constraints: Vec<TopologySpreadConstraint>,
        #[serde(rename = "setHostnameAsFQDN")]
        set_hostname_as_fqdn: Option<bool>,
        os: Option<Box<Value>>,
        host_users: Option<bool>,
        scheduling_gates: Vec<Value>,
        resource_claims: Vec<Value>,
    }

    pub struct Container {
        name: String,
        image: Option<String>,
        command: Vec<String>,
        args: Vec<String>,
        working_dir: Option<String>,
        ports: Vec<ContainerPort>,
        env_from: Vec<Value>,
        env: Vec<EnvVar>,
        resources: ResourceRequirements,
        resize_policy: Vec<Value>,
        restart_policy: Option<String>,
        volume_mounts: Vec<VolumeMount>,
        volume_devices: Vec<Value>,
        liveness_probe: Option<Box<Probe>>,
        readiness_probe: Option<Box<Probe>>,
        startup_probe: Option<Box<Probe>>,
        lifecycle: Option<Box<Value>>,
        termination_message_path: Option<String>,
        termination_message_policy: Option<String>,
        image_pull_policy: Option<String>,
        security_context: Option<Box<Value>>,
        stdin: bool,
        stdin_once: bool,
        tty: bool,
    }

    pub struct ContainerPort {
        name: Option<String>,
        host_port: Option<i32>,
        container_port: i32,
        protocol: Option<String>,
        #[serde(rename = "hostIP")]
        host_ip: Option<String>,
    }

    pub struct EnvVar {
        name: String,
        value: Option<String>,
        value_from: Option<Box<Value>>,
    }

    pub struct ResourceRequirements {
        limits: ResourceList,
        requests: ResourceList,
        claims: Vec<Value>,
    }

    pub struct VolumeMount {
        name: String,
        read_only: Option<bool>,
        recursive_read_only: Option<String>,
        mount_path: String,
        sub_path: Option<String>,
        mount_propagation: Option<String>,
        sub_path_expr: Option<String>,
    }

    /// A probe: the handler (exec, httpGet, tcpSocket, grpc) and its timings.
    pub struct Probe {
        exec: Option<Box<Value>>,
        http_get: Option<Box<Value>>,
        tcp_socket: Option<Box<Value>>,
        grpc: Option<Box<Value>>,
        initial_delay_seconds: Option<i32>,
        timeout_seconds: Option<i32>,
        period_seconds: Option<i32>,
        success_threshold: Option<i32>,
        failure_threshold: Option<i32>,
        termination_grace_period_seconds: Option<i64>,
    }

    pub struct LocalObjectReference {
        name: String,
    }

    pub struct Affinity {
        node_affinity: Option<NodeAffinity>,
        pod_affinity: Option<PodAffinity>,
        pod_anti_affinity: Option<PodAffinity>,
    }

    pub struct NodeAffinity {
        required_during_scheduling_ignored_during_execution: Option<NodeSelector>,
        preferred_during_scheduling_ignored_during_execution: Vec<PreferredSchedulingTerm>,
    }

    pub struct NodeSelector {
        node_selector_terms: Vec<NodeSelectorTerm>,
    }

    pub struct NodeSelectorTerm {
        match_expressions: Vec<NodeSelectorRequirement>,
        match_fields: Vec<NodeSelectorRequirement>,
    }

    pub struct NodeSelectorRequirement {
        key: String,
        operator: String,
        values: Vec<String>,
    }

    pub struct PreferredSchedulingTerm {
        weight: i32,
        preference: NodeSelectorTerm,
    }

    pub struct PodAffinity {
        required_during_scheduling_ignored_during_execution: Vec<PodAffinityTerm>,
        preferred_during_scheduling_ignored_during_execution: Vec<WeightedPodAffinityTerm>,
    }

    pub struct PodAffinityTerm {
        label_selector: Option<LabelSelector>,
        namespaces: Vec<String>,
        topology_key: String,
        namespace_selector: Option<LabelSelector>,
        match_label_keys: Vec<String>,
        mismatch_label_keys: Vec<String>,
    }

    pub struct WeightedPodAffinityTerm {
        weight: i32,
        pod_affinity_term: PodAffinityTerm,
    }

    pub struct Toleration {
        key: String,
        operator: Option<String>,
        value: String,
        effect: String,
        toleration_seconds: Option<i64>,
    }

    pub struct TopologySpreadConstraint {
        max_skew: i32,
        topology_key: String,
        when_unsatisfiable: String,
        label_selector: Option<LabelSelector>,
        min_domains: Option<i32>,
        node_affinity_policy: Option<String>,
        node_taints_policy: Option<String>,
        match_label_keys: Vec<String>,
    }

    /// A volume: its name and one source (emptyDir, hostPath, configMap, secret,
    /// projected, persistentVolumeClaim, gcePersistentDisk, awsElasticBlockStore, ...).
    pub struct Volume {
        name: String,
        host_path: Option<Box<Value>>,
        empty_dir: Option<Box<Value>>,
        gce_persistent_disk: Option<Box<Value>>,
        aws_elastic_block_store: Option<Box<Value>>,
        git_repo: Option<Box<Value>>,
        secret: Option<Box<Value>>,
        nfs: Option<Box<Value>>,
        iscsi: Option<Box<Value>>,
        glusterfs: Option<Box<Value>>,
        persistent_volume_claim: Option<Box<Value>>,
        rbd: Option<Box<Value>>,
        flex_volume: Option<Box<Value>>,
        cinder: Option<Box<Value>>,
        cephfs: Option<Box<Value>>,
        flocker: Option<Box<Value>>,
        #[serde(rename = "downwardAPI")]
        downward_api: Option<Box<Value>>,
        fc: Option<Box<Value>>,
        azure_file: Option<Box<Value>>,
        config_map: Option<Box<Value>>,
        vsphere_volume: Option<Box<Value>>,
        quobyte: Option<Box<Value>>,
        azure_disk: Option<Box<Value>>,
        photon_persistent_disk: Option<Box<Value>>,
        projected: Option<Shared<ProjectedVolumeSource>>,
        portworx_volume: Option<Box<Value>>,
        #[serde(rename = "scaleIO")]
        scale_io: Option<Box<Value>>,
        storageos: Option<Box<Value>>,
        csi: Option<Box<Value>>,
        ephemeral: Option<Box<Value>>,
        image: Option<Box<Value>>,
    }

    /// A projected volume: several sources in one directory (the service account's
    /// token, the root CA, the namespace).
    pub struct ProjectedVolumeSource {
        sources: Vec<VolumeProjection>,
        default_mode: Option<i32>,
    }

    pub struct VolumeProjection {
        secret: Option<Box<Value>>,
        #[serde(rename = "downwardAPI")]
        downward_api: Option<DownwardApiProjection>,
        config_map: Option<ConfigMapProjection>,
        service_account_token: Option<ServiceAccountTokenProjection>,
        cluster_trust_bundle: Option<Box<Value>>,
    }

    pub struct ConfigMapProjection {
        name: Option<String>,
        items: Vec<KeyToPath>,
        optional: Option<bool>,
    }

    pub struct KeyToPath {
        key: String,
        path: String,
        mode: Option<i32>,
    }

    pub struct DownwardApiProjection {
        items: Vec<DownwardApiVolumeFile>,
    }

    pub struct DownwardApiVolumeFile {
        path: String,
        field_ref: Option<ObjectFieldSelector>,
        resource_field_ref: Option<Box<Value>>,
        mode: Option<i32>,
    }

    pub struct ObjectFieldSelector {
        api_version: Option<String>,
        field_path: String,
    }

    pub struct ServiceAccountTokenProjection {
        audience: Option<String>,
        expiration_seconds: Option<i64>,
        path: String,
    }

    pub struct PodStatus {
        phase: String,
        conditions: Vec<Condition>,
        message: String,
        reason: String,
        nominated_node_name: String,
        #[serde(rename = "hostIP")]
        host_ip: String,
        #[serde(rename = "hostIPs")]
        host_ips: Vec<PodIp>,
        #[serde(rename = "podIP")]
        pod_ip: String,
        #[serde(rename = "podIPs")]
        pod_ips: Vec<PodIp>,
        start_time: Option<Time>,
        init_container_statuses: Vec<ContainerStatus>,
        container_statuses: Vec<ContainerStatus>,
        qos_class: String,
        ephemeral_container_statuses: Vec<ContainerStatus>,
        resize: String,
        resource_claim_statuses: Vec<Value>,
    }

    pub struct PodIp {
        ip: String,
    }

    pub struct ContainerState {
        waiting: Option<ContainerStateWaiting>,
        running: Option<ContainerStateRunning>,
        terminated: Option<ContainerStateTerminated>,
    }

    pub struct ContainerStateWaiting {
        reason: String,
        message: String,
    }

    pub struct ContainerStateRunning {
        started_at: Option<Time>,
    }

    pub struct PodTemplateSpec {
        metadata: ObjectMeta,
        spec: PodSpec,
    }

    pub struct NodeSpec {
        #[serde(rename = "podCIDR")]
        pod_cidr: String,
        #[serde(rename = "podCIDRs")]
        pod_cidrs: Vec<String>,
        #[serde(rename = "providerID")]
        provider_id: String,
        unschedulable: bool,
        taints: Vec<Taint>,
        config_source: Option<Box<Value>>,
        #[serde(rename = "externalID")]
        external_id: String,
    }

    pub struct Taint {
        key: String,
        value: String,
        effect: String,
        time_added: Option<Time>,
    }

    pub struct NodeStatus {
        capacity: ResourceList,
        allocatable: ResourceList,
        phase: String,
        conditions: Vec<Condition>,
        addresses: Vec<NodeAddress>,
        daemon_endpoints: Option<Box<Value>>,
        node_info: Option<NodeSystemInfo>,
        images: Vec<ContainerImage>,
        volumes_in_use: Vec<String>,
        volumes_attached: Vec<Value>,
        config: Option<Box<Value>>,
        runtime_handlers: Vec<Value>,
        features: Option<Box<Value>>,
    }

    pub struct NodeAddress {
        #[serde(rename = "type")]
        kind: String,
        address: String,
    }

    pub struct NodeSystemInfo {
        #[serde(rename = "machineID")]
        machine_id: String,
        #[serde(rename = "systemUUID")]
        system_uuid: String,
        #[serde(rename = "bootID")]
        boot_id: String,
        kernel_version: String,
        os_image: String,
        container_runtime_version: String,
        kubelet_version: String,
        kube_proxy_version: String,
        operating_system: String,
        architecture: String,
    }

    pub struct ContainerImage {
        names: Vec<String>,
        size_bytes: i64,
    }

    pub struct NamespaceSpec {
        finalizers: Vec<String>,
    }

    pub struct NamespaceStatus {
        phase: String,
        conditions: Vec<Condition>,
    }

    pub struct ServiceSpec {
        ports: Vec<ServicePort>,
        selector: VecMap<String, String>,
        #[serde(rename = "clusterIP")]
        cluster_ip: String,
        #[serde(rename = "clusterIPs")]
        cluster_ips: Vec<String>,
        #[serde(rename = "type")]
        kind: String,
        #[serde(rename = "externalIPs")]
        external_ips: Vec<String>,
        session_affinity: String,
        #[serde(rename = "loadBalancerIP")]
        load_balancer_ip: String,
        load_balancer_source_ranges: Vec<String>,
        external_name: String,
        external_traffic_policy: String,
        health_check_node_port: i32,
        publish_not_ready_addresses: bool,
        session_affinity_config: Option<Box<Value>>,
        ip_families: Vec<String>,
        ip_family_policy: Option<String>,
        allocate_load_balancer_node_ports: Option<bool>,
        load_balancer_class: Option<String>,
        internal_traffic_policy: Option<String>,
        traffic_distribution: Option<String>,
    }

    pub struct ServicePort {
        name: String,
        protocol: Option<String>,
        app_protocol: Option<String>,
        port: i32,
        target_port: Option<IntOrString>,
        node_port: i32,
    }

    pub struct ServiceStatus {
        load_balancer: LoadBalancerStatus,
        conditions: Vec<Condition>,
    }

    pub struct LoadBalancerStatus {
        ingress: Vec<LoadBalancerIngress>,
    }

    pub struct LoadBalancerIngress {
        ip: String,
        hostname: String,
        ip_mode: Option<String>,
        ports: Vec<Value>,
    }

    pub struct EndpointSubset {
        addresses: Vec<EndpointAddress>,
        not_ready_addresses: Vec<EndpointAddress>,
        ports: Vec<EndpointPort>,
    }

    pub struct EndpointAddress {
        ip: String,
        hostname: String,
        node_name: Option<String>,
        target_ref: Option<ObjectReference>,
    }

    pub struct EndpointPort {
        name: String,
        port: i32,
        protocol: Option<String>,
        app_protocol: Option<String>,
    }

    pub struct ObjectReference {
        kind: String,
        namespace: String,
        name: String,
        uid: String,
        api_version: String,
        resource_version: String,
        field_path: String,
    }

    pub struct ReplicationControllerSpec {
        replicas: Option<i32>,
        min_ready_seconds: i32,
        selector: VecMap<String, String>,
        template: Option<PodTemplateSpec>,
    }

    pub struct ReplicationControllerStatus {
        replicas: i32,
        fully_labeled_replicas: i32,
        ready_replicas: i32,
        available_replicas: i32,
        observed_generation: i64,
        conditions: Vec<Condition>,
    }

    pub struct ResourceQuotaSpec {
        hard: ResourceList,
        scopes: Vec<String>,
        scope_selector: Option<Box<Value>>,
    }

    pub struct ResourceQuotaStatus {
        hard: ResourceList,
        used: ResourceList,
    }

    pub struct LimitRangeSpec {
        limits: Vec<LimitRangeItem>,
    }

    pub struct LimitRangeItem {
        #[serde(rename = "type")]
        kind: String,
        max: ResourceList,
        min: ResourceList,
        default: ResourceList,
        default_request: ResourceList,
        max_limit_request_ratio: ResourceList,
    }

    pub struct EventSource {
        component: String,
        host: String,
    }
}

/// A container's status. `ready`, `restartCount` (and a terminated state's
/// `exitCode`) have no `omitempty` upstream: they print even when zero.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerStatus {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "crate::api::macros::is_default")]
    pub state: ContainerState,
    #[serde(default, skip_serializing_if = "crate::api::macros::is_default")]
    pub last_state: ContainerState,
    #[serde(default)]
    pub ready: bool,
    #[serde(default)]
    pub restart_count: i32,
    #[serde(default)]
    pub image: String,
    #[serde(default, rename = "imageID")]
    pub image_id: String,
    #[serde(
        default,
        rename = "containerID",
        skip_serializing_if = "crate::api::macros::is_default"
    )]
    pub container_id: String,
    #[serde(default, skip_serializing_if = "crate::api::macros::is_default")]
    pub started: Option<bool>,
    #[serde(default, skip_serializing_if = "crate::api::macros::is_default")]
    pub allocated_resources: ResourceList,
    #[serde(default, skip_serializing_if = "crate::api::macros::is_default")]
    pub resources: Option<ResourceRequirements>,
    #[serde(default, skip_serializing_if = "crate::api::macros::is_default")]
    pub volume_mounts: Vec<Value>,
    #[serde(default, skip_serializing_if = "crate::api::macros::is_default")]
    pub user: Option<Box<Value>>,
    #[serde(default, skip_serializing_if = "crate::api::macros::is_default")]
    pub allocated_resources_status: Vec<Value>,
}

/// A terminated container: `exitCode` prints even when zero, as upstream.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerStateTerminated {
    #[serde(default)]
    pub exit_code: i32,
    #[serde(default, skip_serializing_if = "crate::api::macros::is_default")]
    pub signal: i32,
    #[serde(default, skip_serializing_if = "crate::api::macros::is_default")]
    pub reason: String,
    #[serde(default, skip_serializing_if = "crate::api::macros::is_default")]
    pub message: String,
    #[serde(default)]
    pub started_at: Option<Time>,
    #[serde(default)]
    pub finished_at: Option<Time>,
    #[serde(
        default,
        rename = "containerID",
        skip_serializing_if = "crate::api::macros::is_default"
    )]
    pub container_id: String,
}

/// The kinds of core/v1, each with metadata, spec and status where upstream has them.
macro_rules! kind_struct {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            #[serde(default)]
            pub metadata: ObjectMeta,
            $( $(#[$fm])* pub $field: $ty, )*
        }
    };
}
pub(crate) use kind_struct;

kind_struct!(
    /// The smallest deployable unit: containers that share a network namespace.
    Pod {
        #[serde(default)]
        spec: PodSpec,
        #[serde(default)]
        status: PodStatus,
    }
);
kind_struct!(
    /// A machine in the cluster.
    Node {
        #[serde(default)]
        spec: NodeSpec,
        #[serde(default)]
        status: NodeStatus,
    }
);
kind_struct!(Namespace {
    #[serde(default)]
    spec: NamespaceSpec,
    #[serde(default)]
    status: NamespaceStatus,
});
kind_struct!(
    /// A stable virtual IP and DNS name in front of a set of pods.
    Service {
        #[serde(default)]
        spec: ServiceSpec,
        #[serde(default)]
        status: ServiceStatus,
    }
);
kind_struct!(
    Endpoints {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        subsets: Vec<EndpointSubset>,
    }
);
kind_struct!(
    /// The seed's ReplicationController: keeps `replicas` pods matching its selector.
    ReplicationController {
        #[serde(default)]
        spec: ReplicationControllerSpec,
        #[serde(default)]
        status: ReplicationControllerStatus,
    }
);
kind_struct!(ResourceQuota {
    #[serde(default)]
    spec: ResourceQuotaSpec,
    #[serde(default)]
    status: ResourceQuotaStatus,
});
kind_struct!(LimitRange {
    #[serde(default)]
    spec: LimitRangeSpec,
});
kind_struct!(
    /// Secret data: values are base64 in `data`; `stringData` is write-only plain text.
    Secret {
        #[serde(default, skip_serializing_if = "VecMap::is_empty")]
        data: VecMap<String, String>,
        #[serde(default, skip_serializing_if = "VecMap::is_empty")]
        string_data: VecMap<String, String>,
        #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
        kind: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        immutable: Option<bool>,
    }
);
kind_struct!(
    ConfigMap {
        #[serde(default, skip_serializing_if = "VecMap::is_empty")]
        data: VecMap<String, String>,
        #[serde(default, skip_serializing_if = "VecMap::is_empty")]
        binary_data: VecMap<String, String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        immutable: Option<bool>,
    }
);
kind_struct!(
    ServiceAccount {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        secrets: Vec<ObjectReference>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        image_pull_secrets: Vec<LocalObjectReference>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        automount_service_account_token: Option<bool>,
    }
);
kind_struct!(
    /// A core/v1 Event: what happened to an object, and why.
    Event {
        #[serde(default)]
        involved_object: ObjectReference,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reason: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        message: String,
        #[serde(default)]
        source: EventSource,
        #[serde(default)]
        first_timestamp: Option<Time>,
        #[serde(default)]
        last_timestamp: Option<Time>,
        #[serde(default, skip_serializing_if = "crate::api::macros::is_default")]
        count: i32,
        #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
        kind: String,
        #[serde(default)]
        event_time: Option<super::time::MicroTime>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        series: Option<Box<Value>>,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        action: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        related: Option<ObjectReference>,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reporting_component: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reporting_instance: String,
    }
);
kind_struct!(
    /// pods/binding: the scheduler's request to place a pod on a node.
    Binding {
        #[serde(default)]
        target: ObjectReference,
    }
);

impl Volume {
    /// How many volume sources are set (exactly one is valid).
    pub fn source_count(&self) -> usize {
        [
            self.host_path.is_some(),
            self.empty_dir.is_some(),
            self.gce_persistent_disk.is_some(),
            self.aws_elastic_block_store.is_some(),
            self.git_repo.is_some(),
            self.secret.is_some(),
            self.nfs.is_some(),
            self.iscsi.is_some(),
            self.glusterfs.is_some(),
            self.persistent_volume_claim.is_some(),
            self.rbd.is_some(),
            self.flex_volume.is_some(),
            self.cinder.is_some(),
            self.cephfs.is_some(),
            self.flocker.is_some(),
            self.downward_api.is_some(),
            self.fc.is_some(),
            self.azure_file.is_some(),
            self.config_map.is_some(),
            self.vsphere_volume.is_some(),
            self.quobyte.is_some(),
            self.azure_disk.is_some(),
            self.photon_persistent_disk.is_some(),
            self.projected.is_some(),
            self.portworx_volume.is_some(),
            self.scale_io.is_some(),
            self.storageos.is_some(),
            self.csi.is_some(),
            self.ephemeral.is_some(),
            self.image.is_some(),
        ]
        .iter()
        .filter(|set| **set)
        .count()
    }
}

impl Container {
    pub fn request(&self, resource: &str) -> Option<&Quantity> {
        self.resources.requests.get(resource)
    }
}

impl Pod {
    /// The node the pod is bound to, if any.
    pub fn node_name(&self) -> Option<&str> {
        Some(self.spec.node_name.as_str()).filter(|n| !n.is_empty())
    }
}

impl Node {
    pub fn condition(&self, kind: &str) -> Option<&Condition> {
        self.status.conditions.iter().find(|c| c.kind == kind)
    }
}

impl Namespace {
    pub fn is_terminating(&self) -> bool {
        self.status.phase == "Terminating"
    }
}
