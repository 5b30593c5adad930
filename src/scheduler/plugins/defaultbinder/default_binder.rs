use crate::scheduler::framework::runtime::BindHandle;
use crate::scheduler::framework::{BindPlugin, Plugin, PodInfo, Status};

pub const NAME: &str = "DefaultBinder";

/// Bind: POST `pods/{name}/binding` with the chosen node, through the API server.
pub struct DefaultBinder;

impl Plugin for DefaultBinder {
    fn name(&self) -> &str {
        NAME
    }
    fn as_bind(&self) -> Option<&dyn BindPlugin> {
        Some(self)
    }
}

impl BindPlugin for DefaultBinder {
    fn bind(&self, handle: &mut BindHandle<'_, '_>, pod: &PodInfo, node: &str) -> Status {
        let who = handle.who;
        match handle
            .ctx
            .client(who)
            .bind(pod.namespace(), pod.name(), node)
        {
            Ok(()) => Status::success(),
            Err(e) => Status::error(e.message().to_string()),
        }
    }
}
