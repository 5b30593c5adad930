//! Field selectors: `k8s.io/apimachinery/pkg/fields` (v1.31), plus the per-kind field label
//! conversions the API server applies (`field label not supported: ...`).
//!
//! A field selector is a conjunction of `field=value` / `field==value` / `field!=value`
//! terms; in values, `\`, `,` and `=` are escaped with a backslash. Parsing sorts the terms
//! (as upstream does), and a missing field reads as the empty string when matching.
//!
//! ```
//! use kubeglass::api::VecMap;
//! use kubeglass::api::fields::FieldSelector;
//!
//! let sel = FieldSelector::parse("status.phase!=Running,metadata.name=web-0").unwrap();
//! assert_eq!(sel.to_string(), "metadata.name=web-0,status.phase!=Running");
//! let pod = VecMap::from([("metadata.name".to_string(), "web-0".to_string()),
//!                           ("status.phase".to_string(), "Pending".to_string())]);
//! assert!(sel.matches_set(&pod));
//! assert_eq!(sel.requires_exact_match("metadata.name"), Some("web-0"));
//! assert!(sel.validate_for_kind("Pod").is_ok());
//! assert_eq!(FieldSelector::parse("spec.foo=1").unwrap().validate_for_kind("Pod")
//!                .unwrap_err().to_string(), "field label not supported: spec.foo");
//! ```

use crate::api::VecMap;
use std::fmt;

use super::gofmt;

/// How a term compares the field with its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldOperator {
    /// `=` or `==` (upstream `hasTerm`, printed as `=`).
    Equals,
    /// `!=` (upstream `notHasTerm`).
    NotEquals,
}

impl FieldOperator {
    /// `"="` or `"!="`, as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldOperator::Equals => "=",
            FieldOperator::NotEquals => "!=",
        }
    }
}

/// One term of a field selector (`fields.Requirement`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldRequirement {
    pub field: String,
    pub operator: FieldOperator,
    /// The unescaped value.
    pub value: String,
}

impl FieldRequirement {
    fn matches_value(&self, actual: Option<&str>) -> bool {
        let actual = actual.unwrap_or("");
        match self.operator {
            FieldOperator::Equals => actual == self.value,
            FieldOperator::NotEquals => actual != self.value,
        }
    }
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.field,
            self.operator.as_str(),
            escape_value(&self.value)
        )
    }
}

/// A field selector that failed to parse, or a field a kind does not support; `Display` is
/// upstream's error text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldSelectorError {
    message: String,
}

impl FieldSelectorError {
    /// An error with this text (for [`FieldSelector::transform`] callbacks).
    pub fn new(message: impl Into<String>) -> FieldSelectorError {
        FieldSelectorError {
            message: message.into(),
        }
    }

    /// The error text.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for FieldSelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FieldSelectorError {}

/// A field selector: a conjunction of [`FieldRequirement`]s, or "nothing".
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldSelector {
    /// `None` is upstream's `nothingSelector`.
    terms: Option<Vec<FieldRequirement>>,
}

impl Default for FieldSelector {
    fn default() -> Self {
        FieldSelector::everything()
    }
}

/// `fields.EscapeValue`: backslash-escapes `\`, `,` and `=`.
pub fn escape_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `fields.UnescapeValue`.
pub fn unescape_value(s: &str) -> Result<String, FieldSelectorError> {
    if !s.contains(['\\', ',', '=']) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            match c {
                '\\' | ',' | '=' => out.push(c),
                _ => {
                    return Err(FieldSelectorError::new(format!(
                        "invalid field selector: invalid escape sequence: \\{c}"
                    )))
                }
            }
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            ',' | '=' => {
                // Upstream prints the rune with %v: its code point as a number.
                return Err(FieldSelectorError::new(format!(
                    "invalid field selector: unescaped character in value: {}",
                    c as u32
                )));
            }
            _ => out.push(c),
        }
    }
    if in_slash {
        return Err(FieldSelectorError::new(
            "invalid field selector: invalid escape sequence: \\",
        ));
    }
    Ok(out)
}

/// Splits on unescaped commas.
fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in selector.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&selector[start..i]);
            start = i + 1;
        }
    }
    terms.push(&selector[start..]);
    terms
}

/// The first operator occurrence, trying `!=`, `==`, `=` at each position.
fn split_term(term: &str) -> Option<(&str, FieldOperator, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (op, kind) in [
            ("!=", FieldOperator::NotEquals),
            ("==", FieldOperator::Equals),
            ("=", FieldOperator::Equals),
        ] {
            if rest.starts_with(op) {
                return Some((&term[..i], kind, &term[i + op.len()..]));
            }
        }
    }
    None
}

impl FieldSelector {
    /// `fields.Everything()`: no terms, matches everything.
    pub fn everything() -> FieldSelector {
        FieldSelector {
            terms: Some(Vec::new()),
        }
    }

    /// `fields.Nothing()`: matches nothing, prints as `""`, and is not empty.
    pub fn nothing() -> FieldSelector {
        FieldSelector { terms: None }
    }

    /// `fields.ParseSelector`.
    pub fn parse(selector: &str) -> Result<FieldSelector, FieldSelectorError> {
        let mut parts = split_terms(selector);
        parts.sort_unstable();
        let mut terms = Vec::with_capacity(parts.len());
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((lhs, op, rhs)) = split_term(part) else {
                return Err(FieldSelectorError::new(format!(
                    "invalid selector: '{selector}'; can't understand '{part}'"
                )));
            };
            terms.push(FieldRequirement {
                field: lhs.to_string(),
                operator: op,
                value: unescape_value(rhs)?,
            });
        }
        Ok(FieldSelector { terms: Some(terms) })
    }

    /// `fields.SelectorFromSet`: one `field=value` term per entry, in key order.
    pub fn from_set(set: &VecMap<String, String>) -> FieldSelector {
        FieldSelector::from_requirements(
            set.iter()
                .map(|(k, v)| FieldRequirement {
                    field: k.clone(),
                    operator: FieldOperator::Equals,
                    value: v.clone(),
                })
                .collect(),
        )
    }

    /// A selector of these terms, in this order (`fields.AndSelectors` of single terms).
    pub fn from_requirements(terms: Vec<FieldRequirement>) -> FieldSelector {
        FieldSelector { terms: Some(terms) }
    }

    /// `fields.OneTermEqualSelector`.
    pub fn one_term_equal(field: &str, value: &str) -> FieldSelector {
        FieldSelector::from_requirements(vec![FieldRequirement {
            field: field.to_string(),
            operator: FieldOperator::Equals,
            value: value.to_string(),
        }])
    }

    /// `fields.OneTermNotEqualSelector`.
    pub fn one_term_not_equal(field: &str, value: &str) -> FieldSelector {
        FieldSelector::from_requirements(vec![FieldRequirement {
            field: field.to_string(),
            operator: FieldOperator::NotEquals,
            value: value.to_string(),
        }])
    }

    /// `Selector.Empty`: no terms (false for nothing).
    pub fn is_empty(&self) -> bool {
        self.terms.as_ref().is_some_and(Vec::is_empty)
    }

    /// True for [`FieldSelector::nothing`].
    pub fn is_nothing(&self) -> bool {
        self.terms.is_none()
    }

    /// `Selector.Requirements` (empty for nothing).
    pub fn requirements(&self) -> &[FieldRequirement] {
        self.terms.as_deref().unwrap_or(&[])
    }

    /// `Selector.RequiresExactMatch`: the value of the first `field=value` term on `field`.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.terms
            .as_ref()?
            .iter()
            .find(|t| t.operator == FieldOperator::Equals && t.field == field)
            .map(|t| t.value.as_str())
    }

    /// `Selector.Matches` against a field lookup (`None` reads as `""`, as upstream's
    /// `Fields.Get`).
    pub fn matches<F>(&self, get: F) -> bool
    where
        F: Fn(&str) -> Option<String>,
    {
        match &self.terms {
            None => false,
            Some(terms) => terms
                .iter()
                .all(|t| t.matches_value(get(&t.field).as_deref())),
        }
    }

    /// `Selector.Matches` against a `fields.Set`.
    pub fn matches_set(&self, fields: &VecMap<String, String>) -> bool {
        match &self.terms {
            None => false,
            Some(terms) => terms
                .iter()
                .all(|t| t.matches_value(fields.get(&t.field).map(String::as_str))),
        }
    }

    /// `Selector.Transform`: rewrites every term's field and value; a term rewritten to an
    /// empty field and value is dropped (it selects everything).
    pub fn transform<F>(&self, f: F) -> Result<FieldSelector, FieldSelectorError>
    where
        F: Fn(&str, &str) -> Result<(String, String), FieldSelectorError>,
    {
        let Some(terms) = &self.terms else {
            return Ok(FieldSelector::nothing());
        };
        let mut out = Vec::with_capacity(terms.len());
        for t in terms {
            let (field, value) = f(&t.field, &t.value)?;
            if field.is_empty() && value.is_empty() {
                continue;
            }
            out.push(FieldRequirement {
                field,
                operator: t.operator,
                value,
            });
        }
        Ok(FieldSelector { terms: Some(out) })
    }

    /// The API server's check of a list/watch field selector for a kind: each field label
    /// converted with [`convert_field_label`] (which also maps aliases such as a pod's
    /// `spec.host` to `spec.nodeName`).
    pub fn validate_for_kind(&self, kind: &str) -> Result<FieldSelector, FieldSelectorError> {
        self.transform(|field, value| convert_field_label(kind, field, value))
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(terms) = &self.terms {
            for (i, t) in terms.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{t}")?;
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for FieldSelector {
    type Err = FieldSelectorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FieldSelector::parse(s)
    }
}

// ---------------------------------------------------------------------------------------
// Per-kind field labels (the core/v1 conversion functions of v1.31)
// ---------------------------------------------------------------------------------------

const DEFAULT_FIELDS: &[&str] = &["metadata.name", "metadata.namespace"];

const POD_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
];

const NODE_FIELDS: &[&str] = &["metadata.name", "spec.unschedulable"];

const NAMESPACE_FIELDS: &[&str] = &["status.phase", "metadata.name"];

const SECRET_FIELDS: &[&str] = &["type", "metadata.namespace", "metadata.name"];

const REPLICATION_CONTROLLER_FIELDS: &[&str] =
    &["metadata.name", "metadata.namespace", "status.replicas"];

const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
    "metadata.namespace",
    "metadata.name",
];

/// The field labels a kind's field selectors may use (aliases not included).
///
/// `Pod`, `Node`, `Namespace`, `Secret`, `Event` and `ReplicationController` have their own
/// lists (core/v1, v1.31); every other kind supports `metadata.name` and
/// `metadata.namespace` (upstream's `DefaultMetaV1FieldSelectorConversion`).
pub fn supported_field_labels(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => POD_FIELDS,
        "Node" => NODE_FIELDS,
        "Namespace" => NAMESPACE_FIELDS,
        "Secret" => SECRET_FIELDS,
        "Event" => EVENT_FIELDS,
        "ReplicationController" => REPLICATION_CONTROLLER_FIELDS,
        _ => DEFAULT_FIELDS,
    }
}

fn has_own_conversion(kind: &str) -> bool {
    matches!(
        kind,
        "Pod" | "Node" | "Namespace" | "Secret" | "Event" | "ReplicationController"
    )
}

/// The API server's field label conversion for a kind: the (possibly renamed) field and
/// value, or upstream's error. Kinds with their own conversion answer
/// `field label not supported: <label>`; the others
/// `"<label>" is not a known field selector: only "metadata.name", "metadata.namespace"`.
pub fn convert_field_label(
    kind: &str,
    label: &str,
    value: &str,
) -> Result<(String, String), FieldSelectorError> {
    if kind == "Pod" && label == "spec.host" {
        return Ok(("spec.nodeName".to_string(), value.to_string()));
    }
    if supported_field_labels(kind).contains(&label) {
        return Ok((label.to_string(), value.to_string()));
    }
    if has_own_conversion(kind) {
        Err(FieldSelectorError::new(format!(
            "field label not supported: {label}"
        )))
    } else {
        Err(FieldSelectorError::new(format!(
            "{} is not a known field selector: only {}, {}",
            gofmt::quote(label),
            gofmt::quote("metadata.name"),
            gofmt::quote("metadata.namespace")
        )))
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn set(pairs: &[(&str, &str)]) -> VecMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parse_and_print() {
        // (input, String() after parsing)
        let cases = [
            ("", ""),
            ("a=b", "a=b"),
            ("a==b", "a=b"),
            ("a!=b", "a!=b"),
            ("b=2,a=1", "a=1,b=2"),
            ("x=a,,y=b", "x=a,y=b"),
            (",", ""),
            ("x=", "x="),
            ("=x", "=x"),
            (
                "metadata.name=foo,status.phase!=Running",
                "metadata.name=foo,status.phase!=Running",
            ),
            (r"x=a\,b", r"x=a\,b"),
            (r"x=a\=b", r"x=a\=b"),
            (r"x=a\\b", r"x=a\\b"),
            (" x = y ", " x = y "),
            ("é=ü", "é=ü"),
        ];
        for (input, want) in cases {
            let s = FieldSelector::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(s.to_string(), want, "{input:?}");
        }
        let s = FieldSelector::parse(r"x=a\,b").unwrap();
        assert_eq!(s.requirements()[0].value, "a,b");
    }

    #[test]
    fn parse_errors() {
        let cases = [
            ("x", "invalid selector: 'x'; can't understand 'x'"),
            ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
            (
                "x=a=b",
                "invalid field selector: unescaped character in value: 61",
            ),
            (
                "x=a,b\\",
                "invalid selector: 'x=a,b\\'; can't understand 'b\\'",
            ),
            (
                "x=a\\",
                "invalid field selector: invalid escape sequence: \\",
            ),
            (
                "x=a\\b",
                "invalid field selector: invalid escape sequence: \\b",
            ),
            (
                "x=a\\é",
                "invalid field selector: invalid escape sequence: \\é",
            ),
            (
                "x===",
                "invalid field selector: unescaped character in value: 61",
            ),
            (
                "x!==y",
                "invalid field selector: unescaped character in value: 61",
            ),
        ];
        for (input, want) in cases {
            let e = FieldSelector::parse(input).unwrap_err();
            assert_eq!(e.to_string(), want, "{input:?}");
        }
    }

    #[test]
    fn matching() {
        let s = FieldSelector::parse("spec.nodeName=,status.phase!=Failed").unwrap();
        assert!(s.matches_set(&set(&[("status.phase", "Pending")])));
        assert!(!s.matches_set(&set(&[("spec.nodeName", "n1")])));
        assert!(!s.matches_set(&set(&[("status.phase", "Failed")])));
        assert!(s.matches(|f| (f == "status.phase").then(|| "Running".to_string())));
        assert!(FieldSelector::everything().matches_set(&set(&[])));
        assert!(!FieldSelector::nothing().matches_set(&set(&[])));
        let s = FieldSelector::parse("a!=1,a=2").unwrap();
        assert_eq!(s.requires_exact_match("a"), Some("2"));
        assert_eq!(s.requires_exact_match("b"), None);
        assert_eq!(
            FieldSelector::from_set(&set(&[("b", "x,y"), ("a", "1")])).to_string(),
            r"a=1,b=x\,y"
        );
    }

    #[test]
    fn kinds() {
        type Want = Result<(&'static str, &'static str), &'static str>;
        let cases: [(&str, &str, Want); 9] = [
            ("Pod", "spec.nodeName", Ok(("spec.nodeName", "v"))),
            ("Pod", "spec.host", Ok(("spec.nodeName", "v"))),
            ("Pod", "status.podIP", Ok(("status.podIP", "v"))),
            ("Pod", "foo", Err("field label not supported: foo")),
            (
                "Node",
                "spec.unschedulable",
                Ok(("spec.unschedulable", "v")),
            ),
            (
                "Node",
                "metadata.namespace",
                Err("field label not supported: metadata.namespace"),
            ),
            (
                "ConfigMap",
                "metadata.namespace",
                Ok(("metadata.namespace", "v")),
            ),
            (
                "ConfigMap",
                "data.x",
                Err(
                    r#""data.x" is not a known field selector: only "metadata.name", "metadata.namespace""#,
                ),
            ),
            ("Secret", "type", Ok(("type", "v"))),
        ];
        for (kind, label, want) in cases {
            let got = convert_field_label(kind, label, "v");
            match want {
                Ok((f, v)) => assert_eq!(got, Ok((f.to_string(), v.to_string())), "{kind} {label}"),
                Err(m) => assert_eq!(got.unwrap_err().to_string(), m, "{kind} {label}"),
            }
        }
        let s = FieldSelector::parse("spec.host=n1")
            .unwrap()
            .validate_for_kind("Pod")
            .unwrap();
        assert_eq!(s.to_string(), "spec.nodeName=n1");
        for f in POD_FIELDS {
            assert!(supported_field_labels("Pod").contains(f));
        }
        assert_eq!(supported_field_labels("Deployment"), DEFAULT_FIELDS);
    }
}
