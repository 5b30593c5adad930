//! POST pods/{name}/eviction (v1.31 `pkg/registry/core/pod/storage/eviction.go`):
//! an Eviction (policy/v1 or policy/v1beta1) names the pod and carries delete
//! options (grace period, preconditions, dry run). The pod first gets the
//! `DisruptionTarget` condition (reason `EvictionByEvictionAPI`, "Eviction API:
//! evicting"), then is deleted with those options.
//!
//! PodDisruptionBudgets are not simulated: no budget ever refuses an eviction (no
//! 429 TooManyRequests), so every eviction of an existing pod is a deletion.

use serde_json::{json, Value};

use super::auth::UserInfo;
use super::request::{Body, ResourcePath, Response, ResponseBody};
use super::{ApiServer, DeleteOptions, Record, Result};
use crate::api::meta::Condition;
use crate::api::time::Time;
use crate::api::{ApiError, Object};
use crate::kernel::Kernel;

impl ApiServer {
    pub(super) fn evict(
        &mut self,
        k: &mut Kernel,
        p: &ResourcePath,
        body: Body,
        query_dry_run: bool,
        user: &UserInfo,
        rec: &mut Record,
    ) -> Result<Response> {
        let v = if body.is_empty() {
            Value::Null
        } else {
            body.into_json()?
        };
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        if !v.is_null() && kind != "Eviction" {
            return Err(ApiError::bad_request(format!(
                "not a Eviction object: {}",
                if kind.is_empty() {
                    "<missing kind>"
                } else {
                    kind
                }
            )));
        }
        if let Some(name) = v.pointer("/metadata/name").and_then(Value::as_str) {
            if name != p.name {
                return Err(ApiError::bad_request(
                    "name in URL does not match name in Eviction object",
                ));
            }
        }
        let mut opts = DeleteOptions::default();
        if let Some(d) = v.get("deleteOptions").filter(|d| d.is_object()) {
            opts = super::delete_options(&super::request::Query::default(), Body::Json(d.clone()))?;
        }
        opts.dry_run |= query_dry_run;
        let current = self.get_object(p.resource, &p.namespace, &p.name)?;
        let Object::Pod(pod) = current.as_ref() else {
            return Err(ApiError::bad_request("only pods can be evicted"));
        };
        rec.stage(
            "eviction",
            "no PodDisruptionBudget is simulated, so nothing refuses the eviction: the pod is marked and deleted",
        );
        if !opts.dry_run {
            let mut updated = pod.clone();
            let cond = Condition {
                kind: "DisruptionTarget".into(),
                status: "True".into(),
                reason: "EvictionByEvictionAPI".into(),
                message: "Eviction API: evicting".into(),
                last_transition_time: Some(Time::from_virtual_nanos(k.clock.now())),
                ..Default::default()
            };
            match updated
                .status
                .conditions
                .iter_mut()
                .find(|c| c.kind == cond.kind)
            {
                Some(c) if c.status == cond.status => {
                    c.reason = cond.reason;
                    c.message = cond.message;
                }
                Some(c) => *c = cond,
                None => updated.status.conditions.push(cond),
            }
            let status_path = ResourcePath {
                subresource: "status".into(),
                ..p.clone()
            };
            let expected = opts
                .precondition_rv
                .as_deref()
                .and_then(|rv| rv.parse::<u64>().ok());
            let written = self.update(
                k,
                Object::Pod(updated),
                &status_path,
                "status",
                expected,
                user,
                false,
                rec,
            )?;
            if opts.precondition_rv.is_some() {
                opts.precondition_rv = Some(written.meta().resource_version.clone());
            }
        }
        let delete_path = ResourcePath {
            subresource: String::new(),
            ..p.clone()
        };
        self.delete(k, &delete_path, opts, user, rec)?;
        Ok(Response {
            code: 201,
            body: ResponseBody::Json(
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
            ),
        })
    }
}
