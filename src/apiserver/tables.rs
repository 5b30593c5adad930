//! Server-side printing: objects as metav1.Table rows with upstream's columns
//! (pkg/printers/internalversion/printers.go), served when a client asks for
//! `application/json;as=Table;v=v1;g=meta.k8s.io`. kubectl prints these tables.

use serde_json::{json, Value};

use crate::api::time::{human_duration, Time};
use crate::api::Object;
use crate::kernel::Nanos;

/// One column of a table (metav1.TableColumnDefinition).
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: &'static str,
    /// `string`, `integer`, `date`.
    pub kind: &'static str,
    pub format: &'static str,
    /// 0: always shown; 1: shown with `-o wide`.
    pub priority: i32,
    pub description: &'static str,
}

/// The columns of a kind's table.
pub fn columns(kind: &str) -> Vec<Column> {
    super::table_columns::columns(kind)
}

/// `AGE` as kubectl shows it, from the object's creation to `now`.
pub fn age(created: Option<Time>, now: Nanos) -> String {
    match created {
        None => "<unknown>".into(),
        Some(t) => human_duration(Time::from_virtual_nanos(now).0 - t.0),
    }
}

/// The cells of one row.
pub fn cells(obj: &Object, now: Nanos) -> Vec<Value> {
    super::table_columns::cells(obj, now)
}

/// A metav1.Table of objects of one kind.
pub fn table(
    kind: &str,
    objects: &[std::sync::Arc<Object>],
    resource_version: u64,
    continue_token: &str,
    now: Nanos,
) -> Value {
    let defs: Vec<Value> = columns(kind)
        .iter()
        .map(|c| {
            json!({"name": c.name, "type": c.kind, "format": c.format, "description": c.description, "priority": c.priority})
        })
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let m = o.meta();
            json!({
                "cells": cells(o, now),
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": {
                        "name": m.name,
                        "namespace": if m.namespace.is_empty() { Value::Null } else { Value::String(m.namespace.clone()) },
                        "uid": m.uid,
                        "resourceVersion": m.resource_version,
                        "creationTimestamp": m.creation_timestamp,
                        "labels": m.labels,
                    }
                }
            })
        })
        .collect();
    let mut meta = json!({"resourceVersion": resource_version.to_string()});
    if !continue_token.is_empty() {
        meta["continue"] = Value::String(continue_token.into());
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "columnDefinitions": defs, "rows": rows})
}

/// True when an Accept header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}
