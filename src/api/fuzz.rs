//! Fuzz entry points for the apimachinery ports. Each takes arbitrary bytes, drives the
//! public API with them and panics only if an invariant breaks (public functions must never
//! panic on any input). A cargo-fuzz target is a one-liner:
//! `fuzz_target!(|data: &[u8]| kubeglass::api::fuzz::all(data));`

use crate::api::VecMap;

use super::fields::FieldSelector;
use super::labels::{LabelSelector, Selector};
use super::quantity::{parse_quantity_string, Format, Quantity};
use super::validation;

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Whether a quantity string carries a decimal exponent of a billion or more.
fn huge_exponent(s: &str) -> bool {
    parse_quantity_string(s).is_ok_and(|p| {
        p.suffix.strip_prefix(['e', 'E']).is_some_and(|e| {
            e.trim_start_matches(['+', '-'])
                .trim_start_matches('0')
                .len()
                >= 10
        })
    })
}

/// Quantity parsing, printing, accessors, arithmetic and serde.
pub fn quantity(data: &[u8]) {
    let s = text(data);
    let _ = parse_quantity_string(&s);
    let _ = Quantity::from_decimal_str(&s, Format::BinarySI);
    let Ok(q) = Quantity::parse(&s) else {
        return;
    };
    let printed = q.to_string();
    let _ = q.canonical_string();
    let _ = (q.value(), q.milli_value(), q.scaled_value(-9), q.as_int64());
    let _ = q.as_approximate_f64();
    let again = Quantity::parse(&printed)
        .unwrap_or_else(|e| panic!("{s:?} printed as {printed:?}, which does not parse: {e}"));
    // Upstream keeps scales in an int32 and lets them wrap, so an exponent near ±2^31 can
    // print as another value; the round trip holds everywhere else.
    let stable = !huge_exponent(&s) && !huge_exponent(&printed);
    if stable {
        assert!(
            again == q,
            "{s:?} printed as {printed:?}, which parses to another value"
        );
    }
    let one = Quantity::from_value(1, Format::DecimalSI);
    let mut x = q.clone();
    x.add(&one);
    x.sub(&q);
    let _ = x.to_string();
    let mut y = q.clone();
    let _ = y.mul(-3);
    let _ = y.round_up(-3);
    y.neg();
    let _ = y.to_string();
    let json = serde_json::to_string(&q).expect("a quantity serialises");
    let back: Quantity = serde_json::from_str(&json).expect("a serialised quantity parses");
    assert!(!stable || back == q, "{s:?} changed through JSON");
}

/// Label selector parsing, printing and matching, and `LabelSelector` JSON.
pub fn label_selector(data: &[u8]) {
    let s = text(data);
    if let Ok(sel) = Selector::parse(&s) {
        let printed = sel.to_string();
        let again = Selector::parse(&printed)
            .unwrap_or_else(|e| panic!("{s:?} printed as {printed:?}, which does not parse: {e}"));
        assert_eq!(
            again.to_string(),
            printed,
            "printing is not stable for {s:?}"
        );
        let labels: VecMap<String, String> = s
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let _ = sel.matches(&labels);
        let _ = sel.requires_exact_match(&s);
    }
    if let Ok(ls) = serde_json::from_str::<LabelSelector>(&s) {
        let _ = ls.to_selector().map(|x| x.to_string());
        let _ = ls.as_map();
    }
}

/// Field selector parsing, printing, matching and kind validation.
pub fn field_selector(data: &[u8]) {
    let s = text(data);
    let Ok(sel) = FieldSelector::parse(&s) else {
        return;
    };
    let printed = sel.to_string();
    let again = FieldSelector::parse(&printed)
        .unwrap_or_else(|e| panic!("{s:?} printed as {printed:?}, which does not parse: {e}"));
    let mut a = sel.requirements().to_vec();
    let mut b = again.requirements().to_vec();
    a.sort_by(|x, y| (&x.field, &x.value).cmp(&(&y.field, &y.value)));
    b.sort_by(|x, y| (&x.field, &x.value).cmp(&(&y.field, &y.value)));
    assert_eq!(
        a, b,
        "{s:?} printed as {printed:?}, which parses differently"
    );
    let _ = sel.matches(|f| Some(f.to_string()));
    let _ = sel.validate_for_kind("Pod");
}

/// Every validation function.
pub fn validation(data: &[u8]) {
    let s = text(data);
    let checks: [fn(&str) -> Vec<String>; 19] = [
        validation::is_qualified_name,
        validation::is_valid_label_value,
        validation::is_dns1123_label,
        validation::is_dns1123_subdomain,
        validation::is_dns1035_label,
        validation::is_wildcard_dns1123_subdomain,
        validation::is_c_identifier,
        validation::is_valid_port_name,
        validation::is_valid_percent,
        validation::is_http_header_name,
        validation::is_env_var_name,
        validation::is_relaxed_env_var_name,
        validation::is_config_map_key,
        validation::is_valid_ip,
        validation::is_valid_ipv4_address,
        validation::is_valid_ipv6_address,
        validation::is_valid_cidr,
        validation::is_dns1123_label,
        validation::is_qualified_name,
    ];
    for check in checks {
        let _ = check(&s);
    }
}

/// All of the above.
pub fn all(data: &[u8]) {
    quantity(data);
    label_selector(data);
    field_selector(data);
    validation(data);
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A deterministic xorshift stream of inputs drawn from each grammar's alphabet.
    fn inputs(alphabet: &[&str], count: usize, seed: u64) -> Vec<Vec<u8>> {
        let mut state = seed;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..count)
            .map(|_| {
                let len = (next() % 24) as usize;
                let mut s = String::new();
                for _ in 0..len {
                    s.push_str(alphabet[(next() % alphabet.len() as u64) as usize]);
                }
                s.into_bytes()
            })
            .collect()
    }

    #[test]
    fn quantities_survive_random_input() {
        let alphabet = [
            "0",
            "1",
            "5",
            "9",
            ".",
            "-",
            "+",
            "e",
            "E",
            "i",
            "n",
            "u",
            "m",
            "k",
            "K",
            "M",
            "G",
            "T",
            "P",
            "Ki",
            "Ei",
            "000",
            "999999999",
            "e-",
            "e9",
            "2147483647",
            " ",
            "é",
        ];
        for input in inputs(&alphabet, 4000, 0x9e37_79b9_7f4a_7c15) {
            super::quantity(&input);
        }
    }

    #[test]
    fn selectors_survive_random_input() {
        let alphabet = [
            "a", "b", "x", "-", ".", "/", "_", "=", "==", "!=", "!", ",", "(", ")", "<", ">",
            " in ", " notin ", "in", " ", "\t", "\\", "\\,", "\\=", "1", "é", "\u{0}",
        ];
        for input in inputs(&alphabet, 4000, 0x2545_f491_4f6c_dd1d) {
            super::label_selector(&input);
            super::field_selector(&input);
            super::validation(&input);
        }
    }

    #[test]
    fn extreme_inputs() {
        for s in [
            "1e2147483647",
            "-1e-2147483648",
            "99999999999999999999999999999999e-2147483648",
            "0.0000000000000000000000000000000000001Ei",
            "123456789012345678901234567890Ei",
            "1e999999999999999999999",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "18446744073709551616Ki",
        ] {
            super::all(s.as_bytes());
        }
        super::all(&[0xff, 0xfe, b'1', b'K', b'i']);
        super::all("1".repeat(2000).as_bytes());
    }
}
