//! Conformance: every case in `tests/data/quantities.json` (transcribed from upstream's
//! `resource/quantity_test.go`; its `notes` field explains each kind). A case kind this file
//! does not know is a failure, never a skip.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use std::cmp::Ordering;

use kubeglass::api::quantity::{parse_quantity_string, Format, Quantity};
use serde_json::Value;

const DATA: &str = include_str!("data/quantities.json");

fn s<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("case {case} lacks string field {key}"))
}

fn format_of(case: &Value, key: &str) -> Format {
    s(case, key).parse().expect("a format name")
}

/// The exact value a case names, as a quantity of the given format.
fn exact(value: &str, format: Format) -> Quantity {
    Quantity::from_decimal_str(value, format).unwrap_or_else(|e| panic!("{value}: {e}"))
}

fn negate(v: &str) -> String {
    match v.strip_prefix('-') {
        Some(rest) => rest.to_string(),
        None => format!("-{v}"),
    }
}

fn check_parse(case: &Value) -> Result<(), String> {
    let input = s(case, "input");
    let want_valid = case["expectValid"].as_bool().expect("expectValid");
    let got = Quantity::parse(input);
    if !want_valid {
        return match got {
            Err(_) => Ok(()),
            Ok(q) => Err(format!("{input:?}: parsed as {q} but should be invalid")),
        };
    }
    let format = format_of(case, "expectedFormat");
    let value = s(case, "expectedValue");
    let want = exact(value, format);
    let want_neg = exact(&negate(value), format);
    for (text, want) in [
        (input.to_string(), &want),
        (format!("-{input}"), &want_neg),
        (format!("+{input}"), &want),
    ] {
        let q = Quantity::parse(&text).map_err(|e| format!("{text:?}: unexpected error {e}"))?;
        if q != *want {
            return Err(format!(
                "{text:?}: value {q} (={}), want {value}",
                q.canonical_string()
            ));
        }
        if q.format() != format {
            return Err(format!("{text:?}: format {}, want {format}", q.format()));
        }
    }
    Ok(())
}

fn check_parse_quantity_string(case: &Value) -> Result<(), String> {
    let input = s(case, "input");
    let want = &case["expected"];
    let p = parse_quantity_string(input).map_err(|e| format!("{input:?}: {e}"))?;
    let got = (p.positive, p.value, p.num, p.denom, p.suffix);
    let exp = (
        want["positive"].as_bool().expect("positive"),
        s(want, "value"),
        s(want, "num"),
        s(want, "denom"),
        s(want, "suffix"),
    );
    if got != exp {
        return Err(format!("{input:?}: got {got:?}, want {exp:?}"));
    }
    Ok(())
}

fn check_canonical_string(case: &Value) -> Result<(), String> {
    let value = s(case, "value");
    let format = format_of(case, "format");
    let want = s(case, "expectedString");
    let q = exact(value, format);
    if q.to_string() != want {
        return Err(format!("{value} {format}: String() {q}, want {want}"));
    }
    if !q.is_zero() {
        let n = -q.clone();
        if n.to_string() != format!("-{want}") {
            return Err(format!("-{value} {format}: String() {n}, want -{want}"));
        }
    }
    let parsed = Quantity::parse(want).map_err(|e| format!("{want:?}: {e}"))?;
    if parsed.original_string() != Some(want) {
        return Err(format!(
            "{want:?}: canonical input not kept as the cached string ({:?})",
            parsed.original_string()
        ));
    }
    if parsed.to_string() != want {
        return Err(format!("{want:?}: re-parsed prints {parsed}"));
    }
    if let Some(alt) = case.get("alternateInput").and_then(Value::as_str) {
        let a = Quantity::parse(alt).map_err(|e| format!("{alt:?}: {e}"))?;
        if a.to_string() != want {
            return Err(format!("alternate {alt:?}: String() {a}, want {want}"));
        }
    }
    Ok(())
}

fn check_parse_emit(case: &Value) -> Result<(), String> {
    let input = s(case, "input");
    for (text, want) in [
        (input.to_string(), s(case, "expectedString")),
        (format!("-{input}"), s(case, "expectedNegatedString")),
    ] {
        let q = Quantity::parse(&text).map_err(|e| format!("{text:?}: {e}"))?;
        if q.to_string() != want {
            return Err(format!("{text:?}: String() {q}, want {want}"));
        }
    }
    Ok(())
}

fn check_add_sub_zero(case: &Value) -> Result<(), String> {
    let input = s(case, "input");
    let want = s(case, "expectedString");
    let x = Quantity::parse(input).map_err(|e| format!("{input:?}: {e}"))?;
    let zero = Quantity::parse("0").expect("zero");
    let mut v1 = x.clone();
    v1.add(&zero);
    let mut v2 = zero.clone();
    v2.add(&x);
    let mut v3 = x.clone();
    v3.sub(&zero);
    for (what, got) in [("x+0", &v1), ("0+x", &v2), ("x-0", &v3)] {
        if got.to_string() != want {
            return Err(format!("{input}: {what} prints {got}, want {want}"));
        }
    }
    let mut v4 = zero.clone();
    v4.sub(&x);
    let mut neg = x.clone();
    neg.neg();
    if v4.to_string() != neg.to_string() || v4.to_string() != format!("-{want}") {
        return Err(format!("{input}: 0-x prints {v4}, want {neg}"));
    }
    Ok(())
}

fn check_cmp(case: &Value) -> Result<(), String> {
    let (x, y) = (s(case, "x"), s(case, "y"));
    let want = match case["expected"].as_i64().expect("expected") {
        -1 => Ordering::Less,
        0 => Ordering::Equal,
        _ => Ordering::Greater,
    };
    let qx = Quantity::parse(x).map_err(|e| format!("{x:?}: {e}"))?;
    let qy = Quantity::parse(y).map_err(|e| format!("{y:?}: {e}"))?;
    if qx.cmp(&qy) != want || qy.cmp(&qx) != want.reverse() {
        return Err(format!("cmp({x}, {y}) = {:?}, want {want:?}", qx.cmp(&qy)));
    }
    Ok(())
}

fn check_round_up(case: &Value) -> Result<(), String> {
    let input = s(case, "input");
    let scale = case["scale"].as_i64().expect("scale") as i32;
    let value = s(case, "expectedValue");
    let want_exact = case["expectedExact"].as_bool().expect("expectedExact");
    let parsed = Quantity::parse(input).map_err(|e| format!("{input:?}: {e}"))?;
    // Upstream runs each case on both internal representations; a plain decimal built
    // with from_decimal_str uses the arbitrary-precision one.
    let mut variants = vec![("int64", parsed.clone())];
    if let Ok(d) = Quantity::from_decimal_str(input, parsed.format()) {
        variants.push(("decimal", d));
    }
    for (repr, mut q) in variants {
        let got_exact = q.round_up(scale);
        if got_exact != want_exact {
            return Err(format!(
                "{input} RoundUp({scale}) [{repr}]: exact {got_exact}, want {want_exact}"
            ));
        }
        if q != exact(value, Format::DecimalSI) {
            return Err(format!(
                "{input} RoundUp({scale}) [{repr}]: {q}, want {value}"
            ));
        }
    }
    Ok(())
}

#[test]
fn every_quantity_case() {
    let doc: Value = serde_json::from_str(DATA).expect("quantities.json is JSON");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    let mut passed = 0;
    for (i, case) in cases.iter().enumerate() {
        let kind = case["kind"].as_str().unwrap_or("<missing kind>");
        let result = match kind {
            "parse" => check_parse(case),
            "parseQuantityString" => check_parse_quantity_string(case),
            "canonicalString" => check_canonical_string(case),
            "parseEmit" => check_parse_emit(case),
            "addSubZeroPreservesString" => check_add_sub_zero(case),
            "cmp" => check_cmp(case),
            "roundUp" => check_round_up(case),
            other => Err(format!("unsupported case kind {other:?}")),
        };
        match result {
            Ok(()) => passed += 1,
            Err(e) => failures.push(format!("case {i} ({kind}): {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} quantity cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(passed, cases.len());
}
