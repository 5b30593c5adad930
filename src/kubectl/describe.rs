//! `kubectl describe`: a readable page per object, with its Events.

use serde_json::Value;

use super::args::{self, flag, Kind};
use super::get::{list_query, targets};
use super::{server_error, Kubectl, Output};
use crate::apiserver::request::{percent_encode, Body, Method};

const FLAGS: &[args::FlagDef] = &[
    flag("selector", Some('l'), Kind::Value),
    flag("all-namespaces", Some('A'), Kind::Bool),
    flag("show-events", None, Kind::Value),
    flag("filename", Some('f'), Kind::Repeated),
];

pub fn run(kc: &mut Kubectl, words: &[String]) -> Output {
    let p = match args::parse(words, FLAGS, "describe") {
        Ok(p) => p,
        Err(e) => return Output::fail(e),
    };
    let ts = match targets(&p.args) {
        Ok(t) => t,
        Err(e) => return Output::fail(e.replace("to get", "to describe")),
    };
    let ns = kc.namespace_of(&p);
    let all_ns = p.bool("all-namespaces");
    let mut out = Output::default();
    let mut pages = Vec::new();
    for t in ts {
        let scope = if t.rt.namespaced && !all_ns {
            ns.clone()
        } else {
            String::new()
        };
        let objects: Vec<Value> = if t.names.is_empty() {
            let resp = kc.send(
                Method::Get,
                &format!("{}{}", t.rt.collection_path(&scope), list_query(&p)),
                Body::Empty,
            );
            match resp.as_error() {
                Some(e) => {
                    out.err(server_error(&e));
                    continue;
                }
                None => resp.body_json()["items"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            }
        } else {
            let mut v = Vec::new();
            for n in &t.names {
                let resp = kc.send(Method::Get, &t.rt.object_path(&scope, n), Body::Empty);
                match resp.as_error() {
                    Some(e) => out.err(server_error(&e)),
                    None => v.push(resp.body_json()),
                }
            }
            v
        };
        for obj in objects {
            let events = events_for(kc, &obj, t.rt.kind);
            pages.push(super::describe_pages::describe(
                t.rt.kind,
                &obj,
                &events,
                kc.server.now(),
            ));
        }
    }
    out.stdout.push_str(&pages.join("\n\n"));
    if !out.stdout.is_empty() && !out.stdout.ends_with('\n') {
        out.stdout.push('\n');
    }
    out
}

/// The Events about an object, oldest first.
fn events_for(kc: &mut Kubectl, obj: &Value, kind: &str) -> Vec<Value> {
    let m = &obj["metadata"];
    let ns = m["namespace"].as_str().unwrap_or("default");
    let fs = format!(
        "involvedObject.name={},involvedObject.namespace={},involvedObject.kind={},involvedObject.uid={}",
        m["name"].as_str().unwrap_or_default(),
        m["namespace"].as_str().unwrap_or_default(),
        kind,
        m["uid"].as_str().unwrap_or_default()
    );
    let path = format!(
        "/api/v1/namespaces/{ns}/events?fieldSelector={}",
        percent_encode(&fs)
    );
    let mut events = kc.send(Method::Get, &path, Body::Empty).body_json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    events.sort_by(|a, b| {
        let t = |e: &Value| {
            e["lastTimestamp"]
                .as_str()
                .or(e["eventTime"].as_str())
                .unwrap_or_default()
                .to_string()
        };
        t(a).cmp(&t(b))
    });
    events
}
