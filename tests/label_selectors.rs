//! Conformance: every case in `tests/data/label-selectors.json` (transcribed from upstream's
//! `labels/selector_test.go`; its `notes` field explains each kind). A case kind this file
//! does not know is a failure, never a skip.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use std::collections::BTreeMap;

use kubeglass::api::labels::{Operator, Requirement, Selector};
use serde_json::Value;

const DATA: &str = include_str!("data/label-selectors.json");

fn s<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("case {case} lacks string field {key}"))
}

fn flag(case: &Value, key: &str) -> bool {
    case[key]
        .as_bool()
        .unwrap_or_else(|| panic!("case {case} lacks boolean field {key}"))
}

/// Operators are named by their Go identifiers (`selection.In`, ...).
fn operator(name: &str) -> Result<Operator, String> {
    Ok(match name {
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Equals" => Operator::Equals,
        "DoubleEquals" => Operator::DoubleEquals,
        "NotEquals" => Operator::NotEquals,
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        "GreaterThan" => Operator::GreaterThan,
        "LessThan" => Operator::LessThan,
        other => return Err(format!("unknown operator {other:?}")),
    })
}

fn values(v: &Value) -> Vec<String> {
    match v {
        Value::Null => Vec::new(),
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().expect("string value").to_string())
            .collect(),
        other => panic!("values must be null or a list, got {other}"),
    }
}

fn labels(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .expect("labels object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("label value").to_string()))
        .collect()
}

/// A requirement as a case spells it; `emptyRequirement` is Go's zero `Requirement{}`.
fn requirement(v: &Value) -> Result<Requirement, String> {
    if v.get("emptyRequirement").and_then(Value::as_bool) == Some(true) {
        return Ok(Requirement::default());
    }
    let key = s(v, "key");
    let op = operator(s(v, "operator"))?;
    Requirement::new(key, op, values(&v["values"])).map_err(|e| format!("{v}: {e}"))
}

fn requirements(v: &Value) -> Result<Vec<Requirement>, String> {
    v.as_array()
        .expect("requirements list")
        .iter()
        .map(requirement)
        .collect()
}

fn check_parse(case: &Value) -> Result<(), String> {
    let sel = s(case, "selector");
    match (Selector::parse(sel), flag(case, "expectValid")) {
        (Ok(p), true) => {
            let want = s(case, "expectedString");
            if p.to_string() != want {
                return Err(format!(
                    "{sel:?}: String() {:?}, want {want:?}",
                    p.to_string()
                ));
            }
            Ok(())
        }
        (Err(_), false) => Ok(()),
        (Ok(p), false) => Err(format!("{sel:?}: parsed as {p:?} but should be invalid")),
        (Err(e), true) => Err(format!("{sel:?}: unexpected error {e}")),
    }
}

fn check_parse_equivalent(case: &Value) -> Result<(), String> {
    let mut printed = Vec::new();
    for sel in case["selectors"].as_array().expect("selectors") {
        let sel = sel.as_str().expect("selector string");
        let p = Selector::parse(sel).map_err(|e| format!("{sel:?}: {e}"))?;
        printed.push(p.to_string());
    }
    if printed.windows(2).any(|w| w[0] != w[1]) {
        return Err(format!("String() differs: {printed:?}"));
    }
    Ok(())
}

fn check_match(case: &Value) -> Result<(), String> {
    let sel = s(case, "selector");
    let p = Selector::parse(sel).map_err(|e| format!("{sel:?}: {e}"))?;
    let ls = labels(&case["labels"]);
    let want = flag(case, "expectMatch");
    if p.matches(&ls) != want {
        return Err(format!("{sel:?} on {ls:?}: match {}, want {want}", !want));
    }
    Ok(())
}

fn check_new_requirement(case: &Value) -> Result<(), String> {
    let r = &case["requirement"];
    let op = operator(s(r, "operator"))?;
    let got = Requirement::new(s(r, "key"), op, values(&r["values"]));
    match (got, flag(case, "expectValid")) {
        (Ok(_), true) | (Err(_), false) => Ok(()),
        (Ok(q), false) => Err(format!("{r}: accepted as {q} but should be invalid")),
        (Err(e), true) => Err(format!("{r}: unexpected error {e}")),
    }
}

fn check_to_string(case: &Value) -> Result<(), String> {
    let sel = Selector::from_requirements_unsorted(requirements(&case["requirements"])?);
    let out = sel.to_string();
    if out.is_empty() && flag(case, "valid") {
        return Err("String() is empty for a valid selector".to_string());
    }
    let want = s(case, "expectedString");
    if out != want {
        return Err(format!("String() {out:?}, want {want:?}"));
    }
    Ok(())
}

fn check_requirements_match(case: &Value) -> Result<(), String> {
    let sel = Selector::from_requirements_unsorted(requirements(&case["requirements"])?);
    let ls = labels(&case["labels"]);
    let want = flag(case, "expectMatch");
    if sel.matches(&ls) != want {
        return Err(format!("{sel} on {ls:?}: match {}, want {want}", !want));
    }
    Ok(())
}

fn check_parse_requirements(case: &Value) -> Result<(), String> {
    let sel = s(case, "selector");
    let got = Selector::parse(sel);
    let p = match (got, flag(case, "expectValid")) {
        (Err(_), false) => return Ok(()),
        (Ok(p), false) => return Err(format!("{sel:?}: parsed as {p} but should be invalid")),
        (Err(e), true) => return Err(format!("{sel:?}: unexpected error {e}")),
        (Ok(p), true) => p,
    };
    let Some(expected) = case.get("expectedRequirements") else {
        return Ok(());
    };
    let want = requirements(expected)?;
    let got = p.requirements().unwrap_or_default();
    if got != want.as_slice() {
        return Err(format!("{sel:?}: requirements {got:?}, want {want:?}"));
    }
    Ok(())
}

#[test]
fn every_label_selector_case() {
    let doc: Value = serde_json::from_str(DATA).expect("label-selectors.json is JSON");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    let mut passed = 0;
    for (i, case) in cases.iter().enumerate() {
        let kind = case["kind"].as_str().unwrap_or("<missing kind>");
        let result = match kind {
            "parse" => check_parse(case),
            "parseEquivalent" => check_parse_equivalent(case),
            "match" => check_match(case),
            "newRequirement" => check_new_requirement(case),
            "toString" => check_to_string(case),
            "requirementsMatch" => check_requirements_match(case),
            "parseRequirements" => check_parse_requirements(case),
            other => Err(format!("unsupported case kind {other:?}")),
        };
        match result {
            Ok(()) => passed += 1,
            Err(e) => failures.push(format!("case {i} ({kind}): {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} label selector cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(passed, cases.len());
}
