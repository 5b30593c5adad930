//! A typed client for components: every call is a request through the API server's
//! stages (and a trace entry), with the object passed as a typed value.

use std::sync::Arc;

use serde_json::Value;

use super::request::{Body, Credentials, Method, Request, ResponseBody};
use super::ApiServer;
use crate::api::core::{Binding, ObjectReference};
use crate::api::object::{ResourceType, BINDINGS};
use crate::api::{ApiError, Object};
use crate::kernel::Kernel;

/// Who a component is to the API server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The name in the trace (`scheduler`, `kubelet/node-1`).
    pub client: String,
    pub user: String,
    pub groups: Vec<String>,
}

impl Identity {
    pub fn new(client: &str, user: &str, groups: &[&str]) -> Identity {
        Identity {
            client: client.into(),
            user: user.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    fn credentials(&self) -> Credentials {
        Credentials::User {
            name: self.user.clone(),
            groups: self.groups.clone(),
        }
    }
}

/// A client bound to the API server, the kernel and an identity for one action.
pub struct Client<'a> {
    pub api: &'a mut ApiServer,
    pub k: &'a mut Kernel,
    pub who: &'a Identity,
}

impl Client<'_> {
    fn send(
        &mut self,
        method: Method,
        path: String,
        body: Body,
        content_type: Option<&str>,
    ) -> Result<ResponseBody, ApiError> {
        let mut req = Request::new(method, path)
            .with_body(body)
            .with_credentials(self.who.credentials())
            .with_client(self.who.client.clone());
        if let Some(ct) = content_type {
            req = req.with_header("content-type", ct);
        }
        let resp = self.api.handle(self.k, req);
        match resp.as_error() {
            Some(e) => Err(e),
            None => Ok(resp.body),
        }
    }

    fn object(body: ResponseBody) -> Result<Arc<Object>, ApiError> {
        match body {
            ResponseBody::Object(o) => Ok(o),
            _ => Err(ApiError::internal("expected an object in the response")),
        }
    }

    pub fn create(&mut self, obj: Object) -> Result<Arc<Object>, ApiError> {
        let path = obj.resource_type().collection_path(obj.namespace());
        Self::object(self.send(Method::Post, path, Body::Object(obj), None)?)
    }

    pub fn get(
        &mut self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
    ) -> Result<Arc<Object>, ApiError> {
        Self::object(self.send(
            Method::Get,
            rt.object_path(namespace, name),
            Body::Empty,
            None,
        )?)
    }

    /// Lists objects, optionally in one namespace and by selectors (query syntax).
    pub fn list(
        &mut self,
        rt: &'static ResourceType,
        namespace: &str,
        label_selector: &str,
        field_selector: &str,
    ) -> Result<Vec<Arc<Object>>, ApiError> {
        let mut path = rt.collection_path(namespace);
        let mut q = Vec::new();
        if !label_selector.is_empty() {
            q.push(format!(
                "labelSelector={}",
                super::request::percent_encode(label_selector)
            ));
        }
        if !field_selector.is_empty() {
            q.push(format!(
                "fieldSelector={}",
                super::request::percent_encode(field_selector)
            ));
        }
        if !q.is_empty() {
            path.push('?');
            path.push_str(&q.join("&"));
        }
        match self.send(Method::Get, path, Body::Empty, None)? {
            ResponseBody::List(l) => Ok(l.items),
            _ => Err(ApiError::internal("expected a list in the response")),
        }
    }

    /// PUT with the object's resourceVersion as precondition.
    pub fn update(&mut self, obj: Object) -> Result<Arc<Object>, ApiError> {
        let path = obj.resource_type().object_path(obj.namespace(), obj.name());
        Self::object(self.send(Method::Put, path, Body::Object(obj), None)?)
    }

    /// PUT to the status subresource.
    pub fn update_status(&mut self, obj: Object) -> Result<Arc<Object>, ApiError> {
        let path = format!(
            "{}/status",
            obj.resource_type().object_path(obj.namespace(), obj.name())
        );
        Self::object(self.send(Method::Put, path, Body::Object(obj), None)?)
    }

    /// PUT to a namespace's finalize subresource.
    pub fn finalize_namespace(&mut self, obj: Object) -> Result<Arc<Object>, ApiError> {
        let path = format!(
            "{}/finalize",
            obj.resource_type().object_path("", obj.name())
        );
        Self::object(self.send(Method::Put, path, Body::Object(obj), None)?)
    }

    pub fn patch(
        &mut self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
        content_type: &str,
        patch: Value,
    ) -> Result<Arc<Object>, ApiError> {
        Self::object(self.send(
            Method::Patch,
            rt.object_path(namespace, name),
            Body::Json(patch),
            Some(content_type),
        )?)
    }

    /// PATCH the status subresource (the scheduler's conditions and nominations).
    pub fn patch_status(
        &mut self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
        content_type: &str,
        patch: Value,
    ) -> Result<Arc<Object>, ApiError> {
        let path = format!("{}/status", rt.object_path(namespace, name));
        Self::object(self.send(Method::Patch, path, Body::Json(patch), Some(content_type))?)
    }

    /// DELETE, with a grace period if given.
    pub fn delete(
        &mut self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
        grace_period_seconds: Option<i64>,
    ) -> Result<Arc<Object>, ApiError> {
        let mut path = rt.object_path(namespace, name);
        if let Some(g) = grace_period_seconds {
            path.push_str(&format!("?gracePeriodSeconds={g}"));
        }
        Self::object(self.send(Method::Delete, path, Body::Empty, None)?)
    }

    /// DELETE with DeleteOptions in the body (propagationPolicy, preconditions), as
    /// the garbage collector sends them.
    pub fn delete_with_options(
        &mut self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
        options: Value,
    ) -> Result<Arc<Object>, ApiError> {
        Self::object(self.send(
            Method::Delete,
            rt.object_path(namespace, name),
            Body::Json(options),
            None,
        )?)
    }

    /// POST pods/{name}/binding: what the scheduler does to place a pod.
    pub fn bind(&mut self, namespace: &str, pod: &str, node: &str) -> Result<(), ApiError> {
        let mut b = Binding::default();
        b.metadata.name = pod.into();
        b.metadata.namespace = namespace.into();
        b.target = ObjectReference {
            kind: "Node".into(),
            name: node.into(),
            ..Default::default()
        };
        let path = format!(
            "{}/binding",
            crate::api::object::PODS.object_path(namespace, pod)
        );
        let _ = &BINDINGS;
        self.send(Method::Post, path, Body::Object(Object::from(b)), None)
            .map(|_| ())
    }
}
