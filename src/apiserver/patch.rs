//! PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic
//! merge patch (lists merged by their Kubernetes merge keys), and the three-way
//! patch `kubectl apply` computes.

use serde_json::{Map, Value};

/// The merge key of a list field, by its name (and, for `ports`, its elements).
fn merge_key(field: &str, items: &[Value]) -> Option<&'static str> {
    let has = |k: &str| items.iter().any(|i| i.get(k).is_some());
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "conditions" | "addresses" => "type",
        "ownerReferences" => "uid",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        "ports" if has("containerPort") => "containerPort",
        "ports" if has("port") => "port",
        _ => return None,
    })
}

/// Lists of strings that strategic merge unions rather than replaces.
fn merges_primitives(field: &str) -> bool {
    field == "finalizers"
}

/// RFC 7386: objects merge recursively, `null` deletes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(t) = target else { return };
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// Strategic merge patch for the common cases: merge-keyed lists merge by key,
/// `$patch: replace|delete`, `$retainKeys`, `$deleteFromPrimitiveList/...` and
/// `$setElementOrder/...` (accepted; order follows the patch where it names it).
pub fn strategic_merge(target: &mut Value, patch: &Value) -> Result<(), String> {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return Ok(());
    };
    match p.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut clean = p.clone();
            clean.remove("$patch");
            *target = Value::Object(clean);
            return Ok(());
        }
        Some("delete") => {
            *target = Value::Null;
            return Ok(());
        }
        Some(other) => {
            return Err(format!(
                "unknown patch type: {other} in map: {}",
                Value::Object(p.clone())
            ))
        }
        None => {}
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(t) = target else {
        return Ok(());
    };
    if let Some(Value::Array(keep)) = p.get("$retainKeys") {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        t.retain(|k, _| keep.contains(&k.as_str()));
    }
    for (k, v) in p {
        if k.starts_with("$setElementOrder/") || k == "$retainKeys" {
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Value::Array(del)) = (t.get_mut(field), v) {
                list.retain(|x| !del.contains(x));
            }
            continue;
        }
        if v.is_null() {
            t.remove(k);
            continue;
        }
        match (t.get_mut(k), v) {
            (Some(Value::Array(cur)), Value::Array(items)) => {
                if let Some(key) = merge_key(k, items).or_else(|| merge_key(k, cur)) {
                    merge_list(cur, items, key)?;
                } else if merges_primitives(k) {
                    for i in items {
                        if !cur.contains(i) {
                            cur.push(i.clone());
                        }
                    }
                } else {
                    *cur = items
                        .iter()
                        .filter(|i| !is_directive_only(i))
                        .cloned()
                        .collect();
                }
            }
            (Some(cur @ Value::Object(_)), Value::Object(_)) => {
                strategic_merge(cur, v)?;
                if cur.is_null() {
                    t.remove(k);
                }
            }
            _ => {
                let mut fresh = Value::Null;
                strategic_merge(&mut fresh, v)?;
                if v.is_array() {
                    fresh = Value::Array(
                        v.as_array()
                            .into_iter()
                            .flatten()
                            .filter(|i| !is_directive_only(i))
                            .cloned()
                            .collect(),
                    );
                }
                if !fresh.is_null() {
                    t.insert(k.clone(), fresh);
                }
            }
        }
    }
    Ok(())
}

fn is_directive_only(v: &Value) -> bool {
    v.get("$patch").is_some()
}

fn merge_list(cur: &mut Vec<Value>, items: &[Value], key: &str) -> Result<(), String> {
    if items
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        *cur = items
            .iter()
            .filter(|i| !is_directive_only(i))
            .cloned()
            .collect();
        return Ok(());
    }
    for item in items {
        let Some(k) = item.get(key) else {
            return Err(format!(
                "map: {item} does not contain declared merge key: {key}"
            ));
        };
        let pos = cur.iter().position(|c| c.get(key) == Some(k));
        if item.get("$patch").and_then(Value::as_str) == Some("delete") {
            if let Some(i) = pos {
                cur.remove(i);
            }
            continue;
        }
        match pos {
            Some(i) => strategic_merge(&mut cur[i], item)?,
            None => {
                let mut fresh = Value::Null;
                strategic_merge(&mut fresh, item)?;
                cur.push(fresh);
            }
        }
    }
    Ok(())
}

/// RFC 6902 JSON patch.
pub fn json_patch(target: &mut Value, ops: &Value) -> Result<(), String> {
    let Value::Array(ops) = ops else {
        return Err("json: cannot unmarshal object into Go value of type jsonpatch.Patch".into());
    };
    for op in ops {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or_default();
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| "missing path".to_string())?;
        match kind {
            "add" => {
                let v = op.get("value").cloned().ok_or("missing value")?;
                add(target, path, v)?;
            }
            "remove" => {
                remove(target, path)?;
            }
            "replace" => {
                let v = op.get("value").cloned().ok_or("missing value")?;
                remove(target, path).map_err(|_| {
                    format!("replace operation does not apply: doc is missing key: {path}")
                })?;
                add(target, path, v)?;
            }
            "move" | "copy" => {
                let from = op
                    .get("from")
                    .and_then(Value::as_str)
                    .ok_or("missing from")?;
                let v = pointer(target, from).cloned().ok_or_else(|| {
                    format!("{kind} operation does not apply: doc is missing from path: {from}")
                })?;
                if kind == "move" {
                    remove(target, from)?;
                }
                add(target, path, v)?;
            }
            "test" => {
                let want = op.get("value").cloned().unwrap_or(Value::Null);
                if pointer(target, path) != Some(&want) {
                    return Err(format!("testing value {path} failed: test failed"));
                }
            }
            other => return Err(format!("Unexpected kind: {other}")),
        }
    }
    Ok(())
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(path: &str) -> Result<(Vec<String>, String), String> {
    if path.is_empty() {
        return Err("add operation does not apply: doc is missing path: ".into());
    }
    let mut parts: Vec<String> = path.split('/').skip(1).map(unescape).collect();
    let last = parts.pop().ok_or_else(|| format!("invalid path: {path}"))?;
    Ok((parts, last))
}

fn pointer<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    v.pointer(path)
}

fn parent_mut<'a>(
    target: &'a mut Value,
    parts: &[String],
    path: &str,
) -> Result<&'a mut Value, String> {
    let mut cur = target;
    for p in parts {
        cur = match cur {
            Value::Object(m) => m.get_mut(p),
            Value::Array(a) => p.parse::<usize>().ok().and_then(move |i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| format!("doc is missing path: \"{path}\": missing value"))?;
    }
    Ok(cur)
}

fn add(target: &mut Value, path: &str, v: Value) -> Result<(), String> {
    let (parts, last) = split_pointer(path)?;
    match parent_mut(target, &parts, path)? {
        Value::Object(m) => {
            m.insert(last, v);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(v);
                return Ok(());
            }
            let i: usize = last
                .parse()
                .map_err(|_| format!("add operation does not apply: invalid index {last}"))?;
            if i > a.len() {
                return Err(format!(
                    "add operation does not apply: index out of bounds: {i}"
                ));
            }
            a.insert(i, v);
            Ok(())
        }
        _ => Err(format!(
            "add operation does not apply: doc is missing path: \"{path}\": missing value"
        )),
    }
}

fn remove(target: &mut Value, path: &str) -> Result<Value, String> {
    let (parts, last) = split_pointer(path)?;
    let missing = || {
        format!("remove operation does not apply: doc is missing path: \"{path}\": missing value")
    };
    match parent_mut(target, &parts, path)? {
        Value::Object(m) => m.remove(&last).ok_or_else(missing),
        Value::Array(a) => {
            let i: usize = last.parse().map_err(|_| missing())?;
            if i < a.len() {
                Ok(a.remove(i))
            } else {
                Err(missing())
            }
        }
        _ => Err(missing()),
    }
}

/// The patch that turns `from` into `to` under strategic merge semantics; with
/// `ignore_deletions`, fields absent from `to` are left alone, and with
/// `only_deletions`, only the removals are reported.
fn diff(
    from: &Value,
    to: &Value,
    field: &str,
    ignore_deletions: bool,
    only_deletions: bool,
) -> Option<Value> {
    match (from, to) {
        (Value::Object(f), Value::Object(t)) => {
            let mut out = Map::new();
            for (k, tv) in t {
                match f.get(k) {
                    None if !only_deletions => {
                        out.insert(k.clone(), tv.clone());
                    }
                    None => {}
                    Some(fv) => {
                        if let Some(d) = diff(fv, tv, k, ignore_deletions, only_deletions) {
                            out.insert(k.clone(), d);
                        }
                    }
                }
            }
            if !ignore_deletions {
                for k in f.keys() {
                    if !t.contains_key(k) {
                        out.insert(k.clone(), Value::Null);
                    }
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        (Value::Array(fa), Value::Array(ta)) => {
            if let Some(key) = merge_key(field, ta).or_else(|| merge_key(field, fa)) {
                let mut out = Vec::new();
                for t in ta {
                    let k = t.get(key);
                    match fa.iter().find(|f| f.get(key) == k) {
                        None if !only_deletions => out.push(t.clone()),
                        None => {}
                        Some(f) => {
                            if let Some(Value::Object(mut d)) =
                                diff(f, t, "", ignore_deletions, only_deletions)
                            {
                                if let Some(k) = k {
                                    d.insert(key.to_string(), k.clone());
                                }
                                out.push(Value::Object(d));
                            }
                        }
                    }
                }
                if !ignore_deletions {
                    for f in fa {
                        let k = f.get(key);
                        if !ta.iter().any(|t| t.get(key) == k) {
                            let mut d = Map::new();
                            if let Some(k) = k {
                                d.insert(key.to_string(), k.clone());
                            }
                            d.insert("$patch".into(), Value::String("delete".into()));
                            out.push(Value::Object(d));
                        }
                    }
                }
                (!out.is_empty()).then_some(Value::Array(out))
            } else if only_deletions {
                None
            } else {
                (fa != ta).then(|| to.clone())
            }
        }
        _ if only_deletions => None,
        _ => (from != to).then(|| to.clone()),
    }
}

/// kubectl apply's three-way merge: deletions of what was applied last time and is
/// now gone, plus every difference between the live object and the new config.
pub fn three_way(original: Option<&Value>, modified: &Value, current: &Value) -> Value {
    let mut patch =
        diff(current, modified, "", true, false).unwrap_or_else(|| Value::Object(Map::new()));
    if let Some(orig) = original {
        if let Some(deletions) = diff(orig, modified, "", false, true).map(|d| only_nulls(&d)) {
            merge_deletions(&mut patch, &deletions);
        }
    }
    patch
}

/// Keeps only the deletion markers of a diff (null fields, `$patch: delete` items).
fn only_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter_map(|(k, v)| match v {
                    Value::Null => Some((k.clone(), Value::Null)),
                    Value::Object(_) => {
                        let inner = only_nulls(v);
                        inner
                            .as_object()
                            .is_some_and(|m| !m.is_empty())
                            .then(|| (k.clone(), inner))
                    }
                    Value::Array(items) => {
                        let dels: Vec<Value> = items
                            .iter()
                            .filter(|i| i.get("$patch").is_some())
                            .cloned()
                            .collect();
                        (!dels.is_empty()).then(|| (k.clone(), Value::Array(dels)))
                    }
                    _ => None,
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn merge_deletions(patch: &mut Value, deletions: &Value) {
    let (Value::Object(p), Value::Object(d)) = (patch, deletions) else {
        return;
    };
    for (k, v) in d {
        match (p.get_mut(k), v) {
            (Some(pv @ Value::Object(_)), Value::Object(_)) => merge_deletions(pv, v),
            (Some(Value::Array(pa)), Value::Array(da)) => pa.extend(da.iter().cloned()),
            (None, v) => {
                p.insert(k.clone(), v.clone());
            }
            _ => {}
        }
    }
}

/// Like the deletions half of [`diff`]: fields of `original` missing in `modified`.
#[cfg(test)]
fn deletions(original: &Value, modified: &Value) -> Option<Value> {
    diff(original, modified, "", false, true)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_follows_rfc7386() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut t, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e"}}));
        let mut t = json!({"list": [1, 2]});
        merge_patch(&mut t, &json!({"list": [3]}));
        assert_eq!(t, json!({"list": [3]}));
    }

    #[test]
    fn strategic_merge_merges_containers_by_name() {
        let mut t = json!({"spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]}});
        strategic_merge(&mut t, &json!({"spec": {"containers": [{"name": "b", "image": "y:2"}, {"name": "c", "image": "z"}]}})).unwrap();
        assert_eq!(
            t,
            json!({"spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:2"}, {"name": "c", "image": "z"}]}})
        );
        strategic_merge(
            &mut t,
            &json!({"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}),
        )
        .unwrap();
        assert_eq!(t["spec"]["containers"].as_array().unwrap().len(), 2);
        strategic_merge(&mut t, &json!({"metadata": {"finalizers": ["a"]}})).unwrap();
        strategic_merge(&mut t, &json!({"metadata": {"finalizers": ["b"]}})).unwrap();
        assert_eq!(t["metadata"]["finalizers"], json!(["a", "b"]));
        strategic_merge(&mut t, &json!({"$deleteFromPrimitiveList/x": [], "metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})).unwrap();
        assert_eq!(t["metadata"]["finalizers"], json!(["b"]));
        let err = strategic_merge(&mut t, &json!({"spec": {"containers": [{"image": "q"}]}}))
            .unwrap_err();
        assert!(
            err.contains("does not contain declared merge key: name"),
            "{err}"
        );
    }

    #[test]
    fn json_patch_follows_rfc6902() {
        let mut t = json!({"spec": {"replicas": 1, "list": [1, 2]}});
        json_patch(
            &mut t,
            &json!([
                {"op": "replace", "path": "/spec/replicas", "value": 3},
                {"op": "add", "path": "/spec/list/-", "value": 3},
                {"op": "add", "path": "/spec/list/0", "value": 0},
                {"op": "remove", "path": "/spec/list/1"},
                {"op": "test", "path": "/spec/replicas", "value": 3},
                {"op": "add", "path": "/metadata", "value": {"labels": {"a/b": "c"}}},
                {"op": "copy", "from": "/metadata/labels/a~1b", "path": "/spec/copied"}
            ]),
        )
        .unwrap();
        assert_eq!(
            t,
            json!({"spec": {"replicas": 3, "list": [0, 2, 3], "copied": "c"}, "metadata": {"labels": {"a/b": "c"}}})
        );
        assert_eq!(
            json_patch(
                &mut t,
                &json!([{"op": "test", "path": "/spec/replicas", "value": 4}])
            )
            .unwrap_err(),
            "testing value /spec/replicas failed: test failed"
        );
        assert!(json_patch(&mut t, &json!([{"op": "remove", "path": "/nope"}])).is_err());
    }

    #[test]
    fn three_way_patch_removes_what_was_applied_and_dropped() {
        let original =
            json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"replicas": 2}});
        let modified = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"replicas": 3}});
        let current = json!({"metadata": {"labels": {"a": "1", "b": "2", "c": "live"}}, "spec": {"replicas": 2}, "status": {"x": 1}});
        let patch = three_way(Some(&original), &modified, &current);
        assert_eq!(
            patch,
            json!({"metadata": {"labels": {"b": null}}, "spec": {"replicas": 3}})
        );
        let mut live = current.clone();
        strategic_merge(&mut live, &patch).unwrap();
        assert_eq!(live["metadata"]["labels"], json!({"a": "1", "c": "live"}));
        assert_eq!(deletions(&original, &original), None);
    }
}
