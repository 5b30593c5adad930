//! Label selectors: `k8s.io/apimachinery/pkg/labels` (v1.31) and `metav1.LabelSelector`.
//!
//! [`Selector::parse`] follows upstream's lexer and parser token for token, with its error
//! texts; [`Selector`]'s `Display` is upstream's `String()` (requirements sorted by key,
//! values sorted). Matching follows `Requirement.Matches`.
//!
//! Differences from upstream: requirements with equal keys keep their relative order when
//! sorted (upstream's `sort.Sort` is only stable up to 12 requirements), and
//! [`LabelSelector::to_selector`] checks `matchLabels` in key order rather than Go's random
//! map order (which matters only for which of several errors is reported).
//!
//! ```
//! use std::collections::BTreeMap;
//! use kubeglass::api::labels::Selector;
//!
//! let sel = Selector::parse("app = web, tier in (front, back), !canary").unwrap();
//! assert_eq!(sel.to_string(), "app=web,!canary,tier in (back,front)");
//! let labels = BTreeMap::from([("app".to_string(), "web".to_string()),
//!                              ("tier".to_string(), "front".to_string())]);
//! assert!(sel.matches(&labels));
//! ```

use crate::api::VecMap;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use super::gofmt;
use super::status::{aggregate_message, FieldError, GoValue};
use super::validation;

/// A requirement's relation between a key and its values (`selection.Operator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operator {
    /// `key in (a, b)`: the label is present with one of the values.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use kubeglass::api::labels::Selector;
    /// let s = Selector::parse("env in (prod,staging)").unwrap();
    /// assert!(s.matches(&BTreeMap::from([("env".into(), "prod".into())])));
    /// assert!(!s.matches(&BTreeMap::new()));
    /// ```
    In,
    /// `key notin (a, b)`: the label is absent or has none of the values.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use kubeglass::api::labels::Selector;
    /// let s = Selector::parse("env notin (prod)").unwrap();
    /// assert!(s.matches(&BTreeMap::new()));
    /// assert!(!s.matches(&BTreeMap::from([("env".into(), "prod".into())])));
    /// ```
    NotIn,
    /// `key=value`: the label is present with that value.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use kubeglass::api::labels::Selector;
    /// let s = Selector::parse("app=web").unwrap();
    /// assert!(s.matches(&BTreeMap::from([("app".into(), "web".into())])));
    /// ```
    Equals,
    /// `key==value`: as `=`, and printed back as `==`.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use kubeglass::api::labels::Selector;
    /// let s = Selector::parse("app==web").unwrap();
    /// assert_eq!(s.to_string(), "app==web");
    /// assert!(!s.matches(&BTreeMap::from([("app".into(), "db".into())])));
    /// ```
    DoubleEquals,
    /// `key!=value`: the label is absent or has another value.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use kubeglass::api::labels::Selector;
    /// let s = Selector::parse("app!=web").unwrap();
    /// assert!(s.matches(&BTreeMap::new()));
    /// assert!(s.matches(&BTreeMap::from([("app".into(), "db".into())])));
    /// ```
    NotEquals,
    /// `key`: the label is present, with any value.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use kubeglass::api::labels::Selector;
    /// let s = Selector::parse("gpu").unwrap();
    /// assert!(s.matches(&BTreeMap::from([("gpu".into(), "".into())])));
    /// ```
    Exists,
    /// `!key`: the label is absent.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use kubeglass::api::labels::Selector;
    /// let s = Selector::parse("!gpu").unwrap();
    /// assert!(s.matches(&BTreeMap::new()));
    /// ```
    DoesNotExist,
    /// `key>n`: the label is an integer greater than n.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use kubeglass::api::labels::Selector;
    /// let s = Selector::parse("replicas>2").unwrap();
    /// assert!(s.matches(&BTreeMap::from([("replicas".into(), "3".into())])));
    /// assert!(!s.matches(&BTreeMap::from([("replicas".into(), "three".into())])));
    /// ```
    GreaterThan,
    /// `key<n`: the label is an integer less than n.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use kubeglass::api::labels::Selector;
    /// let s = Selector::parse("priority<10").unwrap();
    /// assert!(s.matches(&BTreeMap::from([("priority".into(), "-1".into())])));
    /// ```
    LessThan,
}

impl Operator {
    /// The upstream value: `"in"`, `"notin"`, `"="`, `"=="`, `"!="`, `"exists"`, `"!"`,
    /// `"gt"`, `"lt"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operator {
    type Err = SelectorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "in" => Operator::In,
            "notin" => Operator::NotIn,
            "=" => Operator::Equals,
            "==" => Operator::DoubleEquals,
            "!=" => Operator::NotEquals,
            "exists" => Operator::Exists,
            "!" => Operator::DoesNotExist,
            "gt" => Operator::GreaterThan,
            "lt" => Operator::LessThan,
            _ => {
                let e = FieldError::not_supported("operator", s, VALID_OPERATORS);
                return Err(SelectorError::new(e.to_string()));
            }
        })
    }
}

/// `validRequirementOperators`, in upstream's order.
const VALID_OPERATORS: &[&str] = &["in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"];

/// A selector that failed to parse or a requirement that failed validation; `Display` is
/// upstream's error text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SelectorError {
    message: String,
}

impl SelectorError {
    fn new(message: String) -> SelectorError {
        SelectorError { message }
    }

    /// The error text.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SelectorError {}

/// One term of a selector (`labels.Requirement`).
///
/// `Requirement::default()` is Go's zero `Requirement{}`: empty key, no operator; it never
/// matches and prints as the empty string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Requirement {
    key: String,
    operator: Option<Operator>,
    values: Vec<String>,
}

fn validate_label_key(key: &str, path: &str) -> Option<FieldError> {
    let errs = validation::is_qualified_name(key);
    if errs.is_empty() {
        None
    } else {
        Some(FieldError::invalid(path, key, errs.join("; ")))
    }
}

fn parse_go_int(s: &str) -> Option<i64> {
    // strconv.ParseInt(s, 10, 64): optional sign, decimal digits, in range.
    s.parse().ok()
}

impl Requirement {
    /// `labels.NewRequirement`: validates the key (a qualified name), the number and form of
    /// the values for the operator, and each value (a label value).
    pub fn new(
        key: impl Into<String>,
        operator: Operator,
        values: Vec<String>,
    ) -> Result<Requirement, SelectorError> {
        Requirement::new_inner(key.into(), operator, values, false)
    }

    /// `nil_values`: whether an empty list is Go's nil slice (as it prints in errors).
    fn new_inner(
        key: String,
        op: Operator,
        values: Vec<String>,
        nil_values: bool,
    ) -> Result<Requirement, SelectorError> {
        let mut errs = Vec::new();
        if let Some(e) = validate_label_key(&key, "key") {
            errs.push(e);
        }
        let bad_values = || {
            GoValue::strings(if nil_values && values.is_empty() {
                None
            } else {
                Some(&values)
            })
        };
        match op {
            Operator::In | Operator::NotIn => {
                if values.is_empty() {
                    errs.push(FieldError::invalid(
                        "values",
                        bad_values(),
                        "for 'in', 'notin' operators, values set can't be empty",
                    ));
                }
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals => {
                if values.len() != 1 {
                    errs.push(FieldError::invalid(
                        "values",
                        bad_values(),
                        "exact-match compatibility requires one single value",
                    ));
                }
            }
            Operator::Exists | Operator::DoesNotExist => {
                if !values.is_empty() {
                    errs.push(FieldError::invalid(
                        "values",
                        bad_values(),
                        "values set must be empty for exists and does not exist",
                    ));
                }
            }
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    errs.push(FieldError::invalid(
                        "values",
                        bad_values(),
                        "for 'Gt', 'Lt' operators, exactly one value is required",
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    if parse_go_int(v).is_none() {
                        errs.push(FieldError::invalid(
                            format!("values[{i}]"),
                            v,
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        ));
                    }
                }
            }
        }
        for (i, v) in values.iter().enumerate() {
            let msgs = validation::is_valid_label_value(v);
            if !msgs.is_empty() {
                errs.push(FieldError::invalid(
                    format!("values[{i}][{key}]"),
                    v,
                    msgs.join("; "),
                ));
            }
        }
        if !errs.is_empty() {
            return Err(SelectorError::new(aggregate_message(&errs)));
        }
        Ok(Requirement {
            key,
            operator: Some(op),
            values,
        })
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator; `None` only for the zero requirement.
    pub fn operator(&self) -> Option<Operator> {
        self.operator
    }

    /// The values in the order given (upstream `ValuesUnsorted`).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// The values as a sorted set (upstream `Values`).
    pub fn value_set(&self) -> BTreeSet<&str> {
        self.values.iter().map(String::as_str).collect()
    }

    fn has_value(&self, v: &str) -> bool {
        self.values.iter().any(|x| x == v)
    }

    /// `Requirement.Matches` against a label lookup.
    pub fn matches_with<'a, F>(&self, get: F) -> bool
    where
        F: Fn(&str) -> Option<&'a str>,
    {
        let Some(op) = self.operator else {
            return false;
        };
        let label = get(&self.key);
        match op {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                label.is_some_and(|v| self.has_value(v))
            }
            Operator::NotIn | Operator::NotEquals => label.is_none_or(|v| !self.has_value(v)),
            Operator::Exists => label.is_some(),
            Operator::DoesNotExist => label.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(ls) = label.and_then(parse_go_int) else {
                    return false;
                };
                if self.values.len() != 1 {
                    return false;
                }
                let Some(rv) = parse_go_int(&self.values[0]) else {
                    return false;
                };
                (op == Operator::GreaterThan && ls > rv) || (op == Operator::LessThan && ls < rv)
            }
        }
    }

    /// `Requirement.Matches` against a label map.
    pub fn matches<L: crate::api::vecmap::LabelMap + ?Sized>(&self, labels: &L) -> bool {
        self.matches_with(|k| labels.label(k))
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = self.operator;
        if op == Some(Operator::DoesNotExist) {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        match op {
            Some(Operator::Equals) => f.write_str("=")?,
            Some(Operator::DoubleEquals) => f.write_str("==")?,
            Some(Operator::NotEquals) => f.write_str("!=")?,
            Some(Operator::In) => f.write_str(" in ")?,
            Some(Operator::NotIn) => f.write_str(" notin ")?,
            Some(Operator::GreaterThan) => f.write_str(">")?,
            Some(Operator::LessThan) => f.write_str("<")?,
            Some(Operator::Exists) | Some(Operator::DoesNotExist) => return Ok(()),
            None => {}
        }
        let set = matches!(op, Some(Operator::In) | Some(Operator::NotIn));
        if set {
            f.write_str("(")?;
        }
        if self.values.len() == 1 {
            f.write_str(&self.values[0])?;
        } else {
            let mut sorted: Vec<&str> = self.values.iter().map(String::as_str).collect();
            sorted.sort_unstable();
            f.write_str(&sorted.join(","))?;
        }
        if set {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A label selector: a conjunction of [`Requirement`]s, or "nothing".
///
/// The empty selector ([`Selector::everything`]) matches every label set; the nothing
/// selector ([`Selector::nothing`], what a missing `metav1.LabelSelector` converts to)
/// matches none.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Selector {
    /// `None` is upstream's `nothingSelector`.
    requirements: Option<Vec<Requirement>>,
}

impl Default for Selector {
    fn default() -> Self {
        Selector::everything()
    }
}

impl Selector {
    /// `labels.Everything()`: no requirements, matches everything.
    pub fn everything() -> Selector {
        Selector {
            requirements: Some(Vec::new()),
        }
    }

    /// `labels.Nothing()`: matches nothing, prints as `""`, and is not empty.
    pub fn nothing() -> Selector {
        Selector { requirements: None }
    }

    /// `labels.Parse`.
    pub fn parse(selector: &str) -> Result<Selector, SelectorError> {
        Ok(Selector {
            requirements: Some(parse_to_requirements(selector)?),
        })
    }

    /// `labels.SelectorFromSet`: one `key=value` requirement per entry, not validated.
    pub fn from_set(set: &VecMap<String, String>) -> Selector {
        let reqs = set
            .iter()
            .map(|(k, v)| Requirement {
                key: k.clone(),
                operator: Some(Operator::Equals),
                values: vec![v.clone()],
            })
            .collect();
        Selector {
            requirements: Some(reqs),
        }
    }

    /// `labels.ValidatedSelectorFromSet`: as [`Selector::from_set`], validating each entry.
    pub fn validated_from_set(set: &VecMap<String, String>) -> Result<Selector, SelectorError> {
        let mut reqs = Vec::with_capacity(set.len());
        for (k, v) in set {
            reqs.push(Requirement::new(
                k.clone(),
                Operator::Equals,
                vec![v.clone()],
            )?);
        }
        Ok(Selector {
            requirements: Some(reqs),
        })
    }

    /// A selector of these requirements, sorted by key (`NewSelector().Add(reqs...)`).
    pub fn from_requirements(requirements: Vec<Requirement>) -> Selector {
        Selector::everything().add(requirements)
    }

    /// A selector of these requirements in the order given, like an upstream
    /// `internalSelector{...}` literal.
    pub fn from_requirements_unsorted(requirements: Vec<Requirement>) -> Selector {
        Selector {
            requirements: Some(requirements),
        }
    }

    /// `Selector.Add`: a new selector with these requirements too, sorted by key (stably).
    /// Adding to the nothing selector gives the nothing selector.
    pub fn add(&self, requirements: Vec<Requirement>) -> Selector {
        match &self.requirements {
            None => Selector::nothing(),
            Some(mine) => {
                let mut all = mine.clone();
                all.extend(requirements);
                all.sort_by(|a, b| a.key.cmp(&b.key));
                Selector {
                    requirements: Some(all),
                }
            }
        }
    }

    /// `Selector.Empty`: true when there are no requirements (false for nothing).
    pub fn is_empty(&self) -> bool {
        self.requirements.as_ref().is_some_and(Vec::is_empty)
    }

    /// True for [`Selector::nothing`].
    pub fn is_nothing(&self) -> bool {
        self.requirements.is_none()
    }

    /// `Selector.Requirements`: `None` for the nothing selector ("not selectable").
    pub fn requirements(&self) -> Option<&[Requirement]> {
        self.requirements.as_deref()
    }

    /// `Selector.RequiresExactMatch`: the value the first requirement on `label` pins it to.
    pub fn requires_exact_match(&self, label: &str) -> Option<&str> {
        let reqs = self.requirements.as_ref()?;
        let r = reqs.iter().find(|r| r.key == label)?;
        match r.operator {
            Some(Operator::Equals | Operator::DoubleEquals | Operator::In)
                if r.values.len() == 1 =>
            {
                Some(&r.values[0])
            }
            _ => None,
        }
    }

    /// `Selector.Matches` against a label lookup.
    pub fn matches_with<'a, F>(&self, get: F) -> bool
    where
        F: Fn(&str) -> Option<&'a str>,
    {
        match &self.requirements {
            None => false,
            Some(reqs) => reqs.iter().all(|r| r.matches_with(&get)),
        }
    }

    /// `Selector.Matches` against a label map.
    pub fn matches<L: crate::api::vecmap::LabelMap + ?Sized>(&self, labels: &L) -> bool {
        self.matches_with(|k| labels.label(k))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(reqs) = &self.requirements {
            for (i, r) in reqs.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{r}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for Selector {
    type Err = SelectorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Selector::parse(s)
    }
}

// ---------------------------------------------------------------------------------------
// Lexer and parser (upstream's, token for token)
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    Error,
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

fn literal_token(s: &[u8]) -> Option<Token> {
    Some(match s {
        b")" => Token::ClosedPar,
        b"," => Token::Comma,
        b"!" => Token::DoesNotExist,
        b"==" => Token::DoubleEquals,
        b"=" => Token::Equals,
        b">" => Token::GreaterThan,
        b"in" => Token::In,
        b"<" => Token::LessThan,
        b"!=" => Token::NotEquals,
        b"notin" => Token::NotIn,
        b"(" => Token::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(c: u8) -> bool {
    matches!(c, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Lexer<'_> {
    /// The next byte, or 0 at the end (a NUL byte in the input reads as 0 too, as upstream).
    fn read(&mut self) -> u8 {
        match self.s.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                b
            }
            None => 0,
        }
    }

    fn unread(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    fn scan_id_or_keyword(&mut self) -> (Token, String) {
        let start = self.pos;
        let mut end;
        loop {
            end = self.pos;
            let c = self.read();
            if c == 0 {
                break;
            }
            if is_special(c) || is_whitespace(c) {
                self.unread();
                break;
            }
        }
        let buf = &self.s[start..end];
        let lit = String::from_utf8_lossy(buf).into_owned();
        match literal_token(buf) {
            Some(t) => (t, lit),
            None => (Token::Identifier, lit),
        }
    }

    fn scan_special_symbol(&mut self) -> (Token, String) {
        let mut buf: Vec<u8> = Vec::new();
        let mut last: Option<(Token, usize)> = None;
        loop {
            let c = self.read();
            if c == 0 {
                break;
            }
            if is_special(c) {
                buf.push(c);
                if let Some(t) = literal_token(&buf) {
                    last = Some((t, buf.len()));
                } else if last.is_some() {
                    self.unread();
                    break;
                }
            } else {
                self.unread();
                break;
            }
        }
        match last {
            Some((t, n)) => (t, String::from_utf8_lossy(&buf[..n]).into_owned()),
            None => (
                Token::Error,
                format!(
                    "error expected: keyword found '{}'",
                    String::from_utf8_lossy(&buf)
                ),
            ),
        }
    }

    fn lex(&mut self) -> (Token, String) {
        let mut c = self.read();
        while is_whitespace(c) {
            c = self.read();
        }
        if c == 0 {
            return (Token::EndOfString, String::new());
        }
        self.unread();
        if is_special(c) {
            self.scan_special_symbol()
        } else {
            self.scan_id_or_keyword()
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

struct Parser {
    items: Vec<(Token, String)>,
    position: usize,
}

fn err(msg: String) -> SelectorError {
    SelectorError::new(msg)
}

impl Parser {
    fn item(&self, i: usize) -> (Token, String) {
        match self.items.get(i) {
            Some((t, l)) => (*t, l.clone()),
            None => (Token::EndOfString, String::new()),
        }
    }

    fn adjust(tok: Token, ctx: Context) -> Token {
        if ctx == Context::Values && matches!(tok, Token::In | Token::NotIn) {
            Token::Identifier
        } else {
            tok
        }
    }

    fn lookahead(&self, ctx: Context) -> (Token, String) {
        let (t, l) = self.item(self.position);
        (Parser::adjust(t, ctx), l)
    }

    fn consume(&mut self, ctx: Context) -> (Token, String) {
        let (t, l) = self.item(self.position);
        self.position += 1;
        (Parser::adjust(t, ctx), l)
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, SelectorError> {
        let mut reqs = Vec::new();
        loop {
            let (tok, lit) = self.lookahead(Context::Values);
            match tok {
                Token::Identifier | Token::DoesNotExist => {
                    let r = self
                        .parse_requirement()
                        .map_err(|e| err(format!("unable to parse requirement: {e}")))?;
                    reqs.push(r);
                    let (t, l) = self.consume(Context::Values);
                    match t {
                        Token::EndOfString => return Ok(reqs),
                        Token::Comma => {
                            let (t2, l2) = self.lookahead(Context::Values);
                            if t2 != Token::Identifier && t2 != Token::DoesNotExist {
                                return Err(err(format!(
                                    "found '{l2}', expected: identifier after ','"
                                )));
                            }
                        }
                        _ => {
                            return Err(err(format!(
                                "found '{l}', expected: ',' or 'end of string'"
                            )))
                        }
                    }
                }
                Token::EndOfString => return Ok(reqs),
                _ => {
                    return Err(err(format!(
                        "found '{lit}', expected: !, identifier, or 'end of string'"
                    )))
                }
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, SelectorError> {
        let (key, op) = self.parse_key_and_infer_operator()?;
        if let Some(op @ (Operator::Exists | Operator::DoesNotExist)) = op {
            return Requirement::new_inner(key, op, Vec::new(), false);
        }
        let op = self.parse_operator()?;
        let values = match op {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        Requirement::new_inner(key, op, values.into_iter().collect(), false)
    }

    fn parse_key_and_infer_operator(
        &mut self,
    ) -> Result<(String, Option<Operator>), SelectorError> {
        let mut op = None;
        let (mut tok, mut lit) = self.consume(Context::Values);
        if tok == Token::DoesNotExist {
            op = Some(Operator::DoesNotExist);
            (tok, lit) = self.consume(Context::Values);
        }
        if tok != Token::Identifier {
            return Err(err(format!("found '{lit}', expected: identifier")));
        }
        if let Some(e) = validate_label_key(&lit, "<nil>") {
            return Err(err(e.to_string()));
        }
        let (t, _) = self.lookahead(Context::Values);
        if (t == Token::EndOfString || t == Token::Comma) && op != Some(Operator::DoesNotExist) {
            op = Some(Operator::Exists);
        }
        Ok((lit, op))
    }

    fn parse_operator(&mut self) -> Result<Operator, SelectorError> {
        let (tok, lit) = self.consume(Context::KeyAndOperator);
        Ok(match tok {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => {
                return Err(err(format!(
                    "found '{lit}', expected: in, notin, =, ==, !=, gt, lt"
                )))
            }
        })
    }

    fn parse_values(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        let (tok, lit) = self.consume(Context::Values);
        if tok != Token::OpenPar {
            return Err(err(format!("found '{lit}' expected: '('")));
        }
        let (tok, lit) = self.lookahead(Context::Values);
        match tok {
            Token::Identifier | Token::Comma => {
                let s = self.parse_identifiers_list()?;
                let (t, _) = self.consume(Context::Values);
                if t != Token::ClosedPar {
                    return Err(err(format!("found '{lit}', expected: ')'")));
                }
                Ok(s)
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                Ok(BTreeSet::from([String::new()]))
            }
            _ => Err(err(format!(
                "found '{lit}', expected: ',', ')' or identifier"
            ))),
        }
    }

    fn parse_identifiers_list(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        let mut s = BTreeSet::new();
        loop {
            let (tok, lit) = self.consume(Context::Values);
            match tok {
                Token::Identifier => {
                    s.insert(lit);
                    let (t2, l2) = self.lookahead(Context::Values);
                    match t2 {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(s),
                        _ => return Err(err(format!("found '{l2}', expected: ',' or ')'"))),
                    }
                }
                Token::Comma => {
                    if s.is_empty() {
                        s.insert(String::new());
                    }
                    let (t2, _) = self.lookahead(Context::Values);
                    if t2 == Token::ClosedPar {
                        s.insert(String::new());
                        return Ok(s);
                    }
                    if t2 == Token::Comma {
                        self.consume(Context::Values);
                        s.insert(String::new());
                    }
                }
                _ => return Err(err(format!("found '{lit}', expected: ',', or identifier"))),
            }
        }
    }

    fn parse_exact_value(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        let (tok, _) = self.lookahead(Context::Values);
        if tok == Token::EndOfString || tok == Token::Comma {
            return Ok(BTreeSet::from([String::new()]));
        }
        let (tok, lit) = self.consume(Context::Values);
        if tok == Token::Identifier {
            return Ok(BTreeSet::from([lit]));
        }
        Err(err(format!("found '{lit}', expected: identifier")))
    }
}

/// `labels.ParseToRequirements`: the requirements of a selector string, sorted by key.
pub fn parse_to_requirements(selector: &str) -> Result<Vec<Requirement>, SelectorError> {
    let mut lexer = Lexer {
        s: selector.as_bytes(),
        pos: 0,
    };
    let mut items = Vec::new();
    loop {
        let (t, l) = lexer.lex();
        items.push((t, l));
        if t == Token::EndOfString {
            break;
        }
    }
    let mut p = Parser { items, position: 0 };
    let mut reqs = p.parse()?;
    reqs.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(reqs)
}

// ---------------------------------------------------------------------------------------
// metav1.LabelSelector
// ---------------------------------------------------------------------------------------

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `metav1.LabelSelectorOperator` values.
pub mod label_selector_operator {
    pub const IN: &str = "In";
    pub const NOT_IN: &str = "NotIn";
    pub const EXISTS: &str = "Exists";
    pub const DOES_NOT_EXIST: &str = "DoesNotExist";
}

/// `metav1.LabelSelector`, as it appears in objects (`spec.selector` and friends).
///
/// Semantics of absence (upstream `LabelSelectorAsSelector`): an *empty* selector (`{}`)
/// selects everything, while a *missing* one (`None`, JSON `null` or no field) selects
/// nothing. [`LabelSelector::to_selector`] converts a present selector;
/// [`label_selector_as_selector`] takes the `Option` and makes that choice explicit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "VecMap::is_empty"
    )]
    pub match_labels: VecMap<String, String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// `metav1.LabelSelectorRequirement`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelectorRequirement {
    #[serde(default)]
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    #[serde(default)]
    pub operator: String,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub values: Vec<String>,
}

impl LabelSelector {
    /// `metav1.LabelSelectorAsSelector` for a present selector: empty selects everything.
    ///
    /// `matchLabels` are checked in key order (upstream iterates a Go map, so which of
    /// several invalid entries it reports first varies; here it is always the smallest key).
    pub fn to_selector(&self) -> Result<Selector, SelectorError> {
        if self.match_labels.is_empty() && self.match_expressions.is_empty() {
            return Ok(Selector::everything());
        }
        let mut reqs = Vec::with_capacity(self.match_labels.len() + self.match_expressions.len());
        for (k, v) in &self.match_labels {
            reqs.push(Requirement::new(
                k.clone(),
                Operator::Equals,
                vec![v.clone()],
            )?);
        }
        for expr in &self.match_expressions {
            let op = match expr.operator.as_str() {
                label_selector_operator::IN => Operator::In,
                label_selector_operator::NOT_IN => Operator::NotIn,
                label_selector_operator::EXISTS => Operator::Exists,
                label_selector_operator::DOES_NOT_EXIST => Operator::DoesNotExist,
                other => {
                    return Err(err(format!(
                        "{} is not a valid label selector operator",
                        gofmt::quote(other)
                    )))
                }
            };
            // Upstream copies the values with append([]string(nil), ...): an empty list is nil.
            reqs.push(Requirement::new_inner(
                expr.key.clone(),
                op,
                expr.values.clone(),
                true,
            )?);
        }
        Ok(Selector::everything().add(reqs))
    }

    /// `metav1.LabelSelectorAsMap`: the selector as plain `key=value` labels; fails for
    /// operators other than `In` with a single value.
    pub fn as_map(&self) -> Result<VecMap<String, String>, SelectorError> {
        let mut m = self.match_labels.clone();
        for expr in &self.match_expressions {
            match expr.operator.as_str() {
                label_selector_operator::IN => {
                    if expr.values.len() != 1 {
                        return Err(err(format!(
                            "operator {} without a single value cannot be converted into the old label selector format",
                            gofmt::quote(&expr.operator)
                        )));
                    }
                    m.insert(expr.key.clone(), expr.values[0].clone());
                }
                label_selector_operator::NOT_IN
                | label_selector_operator::EXISTS
                | label_selector_operator::DOES_NOT_EXIST => {
                    return Err(err(format!(
                        "operator {} cannot be converted into the old label selector format",
                        gofmt::quote(&expr.operator)
                    )))
                }
                other => {
                    return Err(err(format!(
                        "{} is not a valid selector operator",
                        gofmt::quote(other)
                    )))
                }
            }
        }
        Ok(m)
    }
}

/// `metav1.LabelSelectorAsSelector`: `None` (a missing selector) selects nothing, an empty
/// one everything.
pub fn label_selector_as_selector(ps: Option<&LabelSelector>) -> Result<Selector, SelectorError> {
    match ps {
        None => Ok(Selector::nothing()),
        Some(ps) => ps.to_selector(),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> VecMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parse_errors_are_upstreams() {
        let name_part = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
        let value_msg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
        let cases: Vec<(&str, String)> = vec![
            ("x=a||y=b", format!("unable to parse requirement: values[0][x]: Invalid value: \"a||y\": {value_msg}")),
            ("x==a==b", "found '==', expected: ',' or 'end of string'".into()),
            ("x<a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer".into()),
            ("a in (xyz),", "found '', expected: identifier after ','".into()),
            ("a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier".into()),
            ("x in (a,,)", "unable to parse requirement: found ')', expected: ',', or identifier".into()),
            ("x in a", "unable to parse requirement: found 'a' expected: '('".into()),
            ("x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'".into()),
            ("x y", "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt".into()),
            ("=x", "found '=', expected: !, identifier, or 'end of string'".into()),
            ("!", "unable to parse requirement: found '', expected: identifier".into()),
            ("-x", format!("unable to parse requirement: <nil>: Invalid value: \"-x\": {name_part}")),
            ("x=(", "unable to parse requirement: found '(', expected: identifier".into()),
            ("!x=y", "found '=', expected: ',' or 'end of string'".into()),
            ("x>", "unable to parse requirement: values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators, the value must be an integer".into()),
            ("x,", "found '', expected: identifier after ','".into()),
        ];
        for (input, want) in cases {
            match Selector::parse(input) {
                Ok(s) => panic!("{input:?} parsed as {s}"),
                Err(e) => assert_eq!(e.to_string(), want, "{input:?}"),
            }
        }
    }

    #[test]
    fn parse_and_print() {
        let cases = [
            ("", ""),
            ("x", "x"),
            ("!x", "!x"),
            ("x=", "x="),
            ("x in (b,a,b)", "x in (a,b)"),
            ("in in (in)", "in in (in)"),
            ("  x  >  1 ", "x>1"),
            ("z,y=1,x notin ( ),w<3", "w<3,x notin (),y=1,z"),
            ("x\u{0}y", ""),
        ];
        for (input, want) in cases {
            match Selector::parse(input) {
                Ok(s) => assert_eq!(s.to_string(), want, "{input:?}"),
                Err(e) => assert_eq!(want, "", "{input:?}: {e}"),
            }
        }
        assert!(Selector::parse("\u{0}garbage").unwrap().is_empty());
    }

    #[test]
    fn requirement_errors() {
        let e = Requirement::new("x", Operator::In, vec![]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"
        );
        let e = Requirement::new("", Operator::Equals, vec!["a".into(), "b".into()]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "[key: Invalid value: \"\": name part must be non-empty; name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'), values: Invalid value: []string{\"a\", \"b\"}: exact-match compatibility requires one single value]"
        );
        let e = Requirement::new("x", Operator::Exists, vec!["a".into()]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "values: Invalid value: []string{\"a\"}: values set must be empty for exists and does not exist"
        );
        let long = format!("{}/x", "a".repeat(254));
        let e = Requirement::new(long.clone(), Operator::Exists, vec![]).unwrap_err();
        assert!(e
            .to_string()
            .contains("prefix part must be no more than 253 characters"));
        assert_eq!("bogus".parse::<Operator>().unwrap_err().to_string(),
            "operator: Unsupported value: \"bogus\": supported values: \"in\", \"notin\", \"=\", \"==\", \"!=\", \"gt\", \"lt\", \"exists\", \"!\"");
    }

    #[test]
    fn matching() {
        let s = Selector::parse("x in (a,b),y!=c,!z,w>1").unwrap();
        assert!(s.matches(&labels(&[("x", "a"), ("w", "2")])));
        assert!(!s.matches(&labels(&[("x", "a"), ("w", "2"), ("z", "")])));
        assert!(!s.matches(&labels(&[("x", "a"), ("w", "x")])));
        assert!(!s.matches(&labels(&[("x", "a"), ("w", "2"), ("y", "c")])));
        assert!(Selector::everything().matches(&labels(&[])));
        assert!(!Selector::nothing().matches(&labels(&[])));
        assert!(!Requirement::default().matches(&labels(&[])));
        assert_eq!(Requirement::default().to_string(), "");
        let s = Selector::parse("a=b,c in (d)").unwrap();
        assert_eq!(s.requires_exact_match("a"), Some("b"));
        assert_eq!(s.requires_exact_match("c"), Some("d"));
        assert_eq!(s.requires_exact_match("e"), None);
    }

    #[test]
    fn sets_and_label_selectors() {
        let set = labels(&[("b", "2"), ("a", "1")]);
        assert_eq!(Selector::from_set(&set).to_string(), "a=1,b=2");
        assert!(Selector::validated_from_set(&labels(&[("a", "b c")])).is_err());
        let empty = LabelSelector::default();
        assert!(empty.to_selector().unwrap().is_empty());
        assert!(label_selector_as_selector(None).unwrap().is_nothing());
        let ls: LabelSelector = serde_json::from_str(
            r#"{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["b","a"]},{"key":"gpu","operator":"DoesNotExist"}]}"#,
        )
        .unwrap();
        let sel = ls.to_selector().unwrap();
        assert_eq!(sel.to_string(), "app=web,!gpu,tier in (a,b)");
        assert_eq!(
            serde_json::to_string(&ls).unwrap(),
            r#"{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["b","a"]},{"key":"gpu","operator":"DoesNotExist"}]}"#
        );
        let nulls: LabelSelector =
            serde_json::from_str(r#"{"matchLabels":null,"matchExpressions":null}"#).unwrap();
        assert_eq!(nulls, LabelSelector::default());
        assert!(serde_json::from_str::<LabelSelector>(r#"{"matchLabel":{}}"#).is_err());
        let bad: LabelSelector =
            serde_json::from_str(r#"{"matchExpressions":[{"key":"a","operator":"Foo"}]}"#).unwrap();
        assert_eq!(
            bad.to_selector().unwrap_err().to_string(),
            "\"Foo\" is not a valid label selector operator"
        );
        let no_values: LabelSelector =
            serde_json::from_str(r#"{"matchExpressions":[{"key":"a","operator":"In"}]}"#).unwrap();
        assert_eq!(
            no_values.to_selector().unwrap_err().to_string(),
            "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"
        );
        assert_eq!(ls.as_map().unwrap_err().to_string(), "operator \"In\" without a single value cannot be converted into the old label selector format");
    }
}
