//! Giving back spare room before an object is kept.
//!
//! Objects are built by pushing: the ServiceAccount admission plugin pushes a volume
//! and a mount per container, the kubelet pushes container statuses and conditions.
//! A vector grown by one push holds room for four (a pod's one container status
//! then takes 2.4 KB instead of 608 bytes), and the store keeps every object, and
//! versions of it, for a long time. So before the store keeps a new version, the
//! parts that this version alone holds are shrunk to their contents. Parts shared
//! with another version (a [`Shared`] field not written since) were shrunk when they
//! were first kept and are left alone, never copied.

use super::core::{Container, Node, Pod};
use super::meta::ObjectMeta;
use super::{Object, Shared};

/// Shrinks the lists of a value held by this version alone.
fn unique<T>(field: &mut Shared<T>, shrink: impl FnOnce(&mut T)) {
    if let Some(v) = Shared::get_unique(field) {
        shrink(v);
    }
}

fn meta(m: &mut ObjectMeta) {
    unique(&mut m.labels, |l| l.shrink_to_fit());
    unique(&mut m.annotations, |a| a.shrink_to_fit());
    unique(&mut m.owner_references, |o| o.shrink_to_fit());
    unique(&mut m.finalizers, |f| f.shrink_to_fit());
    unique(&mut m.managed_fields, |f| f.shrink_to_fit());
}

fn containers(list: &mut Vec<Container>) {
    list.shrink_to_fit();
    for c in list {
        c.volume_mounts.shrink_to_fit();
        c.env.shrink_to_fit();
        c.ports.shrink_to_fit();
        c.command.shrink_to_fit();
        c.args.shrink_to_fit();
        c.resources.requests.shrink_to_fit();
        c.resources.limits.shrink_to_fit();
    }
}

fn pod(p: &mut Pod) {
    let spec = &mut p.spec;
    unique(&mut spec.volumes, |v| v.shrink_to_fit());
    unique(&mut spec.containers, containers);
    unique(&mut spec.init_containers, containers);
    unique(&mut spec.tolerations, |t| t.shrink_to_fit());
    unique(&mut spec.node_selector, |n| n.shrink_to_fit());
    let status = &mut p.status;
    status.conditions.shrink_to_fit();
    status.host_ips.shrink_to_fit();
    status.pod_ips.shrink_to_fit();
    status.init_container_statuses.shrink_to_fit();
    status.container_statuses.shrink_to_fit();
    status.ephemeral_container_statuses.shrink_to_fit();
}

fn node(n: &mut Node) {
    let status = &mut n.status;
    status.conditions.shrink_to_fit();
    status.addresses.shrink_to_fit();
    status.images.shrink_to_fit();
    status.capacity.shrink_to_fit();
    status.allocatable.shrink_to_fit();
}

impl Object {
    /// Gives back the room this version's own lists were built with and no longer
    /// need. Changes no value: the object compares, prints and behaves the same.
    pub fn release_spare_room(&mut self) {
        meta(self.meta_mut());
        match self {
            Object::Pod(p) => pod(p),
            Object::Node(n) => node(n),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::core::{ContainerStatus, VolumeMount};

    #[test]
    fn a_kept_pod_holds_its_lists_exactly_and_shared_parts_are_not_copied() {
        let mut p = Pod::default();
        p.spec.containers.push(Container::default());
        p.spec.containers[0]
            .volume_mounts
            .push(VolumeMount::default());
        p.status.container_statuses.push(ContainerStatus::default());
        let before = p.clone();
        // `before` shares the containers; this version owns its status.
        let mut obj = Object::from(p);
        obj.release_spare_room();
        let Object::Pod(p) = &obj else {
            panic!("a pod stays a pod")
        };
        assert_eq!(p.status.container_statuses.capacity(), 1);
        assert!(Shared::ptr_eq(&p.spec.containers, &before.spec.containers));
        assert!(p.spec.containers[0].volume_mounts.capacity() > 1);
        assert_eq!(obj, Object::from(before.clone()));
        // Once no other version holds them, the containers are shrunk in place.
        drop(before);
        obj.release_spare_room();
        let Object::Pod(p) = &obj else {
            panic!("a pod stays a pod")
        };
        assert_eq!(p.spec.containers[0].volume_mounts.capacity(), 1);
    }
}
