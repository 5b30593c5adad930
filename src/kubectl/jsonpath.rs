//! kubectl's JSONPath templates (`-o jsonpath='{.items[*].metadata.name}'`): field
//! paths, `[*]`, indexes and slices, `['key']`, `..` recursive descent, filters
//! `[?(@.a=="b")]`, `range`/`end` and quoted literals.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Field(String),
    All,
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    Recursive(String),
    Filter {
        path: Vec<Step>,
        op: String,
        value: Value,
    },
}

/// Nodes parsed so far, and the head of the `range` they belong to (none at the top).
type Frame = (Vec<Node>, Option<(bool, Vec<Step>)>);

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Text(String),
    Path {
        root: bool,
        steps: Vec<Step>,
    },
    Range {
        root: bool,
        steps: Vec<Step>,
        body: Vec<Node>,
    },
}

/// Renders a template against a JSON document.
pub fn render(template: &str, doc: &Value) -> Result<String, String> {
    let nodes = parse(template)?;
    let mut out = String::new();
    eval(&nodes, doc, doc, &mut out)?;
    Ok(out)
}

fn parse(template: &str) -> Result<Vec<Node>, String> {
    let mut stack: Vec<Frame> = vec![(Vec::new(), None)];
    let mut rest = template;
    while !rest.is_empty() {
        match rest.find('{') {
            None => {
                push(&mut stack, Node::Text(rest.to_string()));
                break;
            }
            Some(i) => {
                if i > 0 {
                    push(&mut stack, Node::Text(rest[..i].to_string()));
                }
                let close = find_close(&rest[i..]).ok_or_else(|| {
                    format!("error: error parsing jsonpath {template}, unclosed action")
                })?;
                let expr = rest[i + 1..i + close].trim();
                rest = &rest[i + close + 1..];
                if let Some(r) = expr.strip_prefix("range ") {
                    let (root, steps) = parse_path(r.trim())?;
                    stack.push((Vec::new(), Some((root, steps))));
                } else if expr == "end" {
                    let (body, head) = stack.pop().ok_or("error: not in range, nothing to end")?;
                    let (root, steps) = head.ok_or("error: not in range, nothing to end")?;
                    if stack.is_empty() {
                        return Err("error: not in range, nothing to end".into());
                    }
                    push(&mut stack, Node::Range { root, steps, body });
                } else if let Some(lit) = literal(expr) {
                    push(&mut stack, Node::Text(lit));
                } else {
                    let (root, steps) = parse_path(expr)?;
                    push(&mut stack, Node::Path { root, steps });
                }
            }
        }
    }
    if stack.len() != 1 {
        return Err(format!(
            "error: error parsing jsonpath {template}, unclosed range"
        ));
    }
    Ok(stack.pop().map(|s| s.0).unwrap_or_default())
}

fn push(stack: &mut [Frame], n: Node) {
    if let Some(top) = stack.last_mut() {
        top.0.push(n);
    }
}

fn find_close(s: &str) -> Option<usize> {
    let mut in_quote: Option<char> = None;
    for (i, c) in s.char_indices().skip(1) {
        match (in_quote, c) {
            (Some(q), c) if c == q => in_quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => in_quote = Some(c),
            (None, '}') => return Some(i),
            _ => {}
        }
    }
    None
}

fn literal(expr: &str) -> Option<String> {
    let q = expr.chars().next()?;
    if (q == '"' || q == '\'') && expr.len() >= 2 && expr.ends_with(q) {
        let inner = &expr[1..expr.len() - 1];
        Some(
            inner
                .replace("\\n", "\n")
                .replace("\\t", "\t")
                .replace("\\r", "\r"),
        )
    } else {
        None
    }
}

fn parse_path(expr: &str) -> Result<(bool, Vec<Step>), String> {
    let bad = || format!("error: error parsing jsonpath {{{expr}}}, unrecognized character");
    // `$` is the document; `@` and a bare `.path` the current item (inside a range).
    let mut s = expr;
    let mut root = false;
    if let Some(r) = s.strip_prefix('$') {
        root = true;
        s = r;
    } else if let Some(r) = s.strip_prefix('@') {
        s = r;
    }
    let mut steps = Vec::new();
    while !s.is_empty() {
        if let Some(r) = s.strip_prefix("..") {
            let end = field_end(r);
            steps.push(Step::Recursive(unescape_field(&r[..end])));
            s = &r[end..];
        } else if let Some(r) = s.strip_prefix('.') {
            let end = field_end(r);
            let name = &r[..end];
            if name == "*" {
                steps.push(Step::All);
            } else if !name.is_empty() {
                steps.push(Step::Field(unescape_field(name)));
            }
            s = &r[end..];
        } else if let Some(r) = s.strip_prefix('[') {
            let end = find_bracket_end(r).ok_or_else(bad)?;
            let inner = r[..end].trim();
            s = &r[end + 1..];
            if inner == "*" {
                steps.push(Step::All);
            } else if let Some(f) = inner.strip_prefix("?(").and_then(|x| x.strip_suffix(')')) {
                steps.push(parse_filter(f).ok_or_else(bad)?);
            } else if let Some(lit) = literal(inner) {
                steps.push(Step::Field(lit));
            } else if let Some((a, b)) = inner.split_once(':') {
                let num = |t: &str| -> Result<Option<i64>, String> {
                    if t.trim().is_empty() {
                        Ok(None)
                    } else {
                        t.trim().parse().map(Some).map_err(|_| bad())
                    }
                };
                steps.push(Step::Slice(
                    num(a)?,
                    num(b.split(':').next().unwrap_or(""))?,
                ));
            } else {
                steps.push(Step::Index(inner.parse().map_err(|_| bad())?));
            }
        } else {
            return Err(bad());
        }
    }
    Ok((root, steps))
}

/// Where a field name ends: at the next `.` or `[` that no backslash escapes, so
/// `kubernetes\.io/name` is one field, as in client-go's jsonpath.
fn field_end(s: &str) -> usize {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '.' | '[' => return i,
            _ => {}
        }
    }
    s.len()
}

/// A field name with its backslash escapes removed (`\.` is a dot).
fn unescape_field(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn find_bracket_end(s: &str) -> Option<usize> {
    let mut depth = 0;
    let mut in_quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (in_quote, c) {
            (Some(q), c) if c == q => in_quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => in_quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ']') if depth == 0 => return Some(i),
            (None, ']') => depth -= 1,
            _ => {}
        }
    }
    None
}

fn parse_filter(f: &str) -> Option<Step> {
    for op in ["==", "!=", "<=", ">=", "<", ">"] {
        if let Some((l, r)) = f.split_once(op) {
            let (_, path) = parse_path(l.trim()).ok()?;
            let r = r.trim();
            let value = literal(r)
                .map(Value::String)
                .or_else(|| serde_json::from_str(r).ok())?;
            return Some(Step::Filter {
                path,
                op: op.to_string(),
                value,
            });
        }
    }
    let (_, path) = parse_path(f.trim()).ok()?;
    Some(Step::Filter {
        path,
        op: "exists".into(),
        value: Value::Null,
    })
}

fn select<'a>(cur: Vec<&'a Value>, step: &Step) -> Vec<&'a Value> {
    let mut out = Vec::new();
    for v in cur {
        match step {
            Step::Field(name) => {
                if let Some(x) = v.get(name) {
                    out.push(x);
                }
            }
            Step::All => match v {
                Value::Array(a) => out.extend(a.iter()),
                Value::Object(m) => out.extend(m.values()),
                _ => {}
            },
            Step::Index(i) => {
                if let Value::Array(a) = v {
                    let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                    if let Some(x) = usize::try_from(idx).ok().and_then(|i| a.get(i)) {
                        out.push(x);
                    }
                }
            }
            Step::Slice(a, b) => {
                if let Value::Array(arr) = v {
                    let len = arr.len() as i64;
                    let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                    let start = norm(a.unwrap_or(0));
                    let end = norm(b.unwrap_or(len));
                    if start < end {
                        out.extend(arr[start as usize..end as usize].iter());
                    }
                }
            }
            Step::Recursive(name) => collect_recursive(v, name, &mut out),
            Step::Filter { path, op, value } => {
                if let Value::Array(a) = v {
                    for item in a {
                        let got = path.iter().fold(vec![item], |acc, s| select(acc, s));
                        let keep = match op.as_str() {
                            "exists" => !got.is_empty(),
                            "==" => got.contains(&value),
                            "!=" => !got.contains(&value),
                            _ => got.iter().any(|g| match (g.as_f64(), value.as_f64()) {
                                (Some(x), Some(y)) => match op.as_str() {
                                    "<" => x < y,
                                    ">" => x > y,
                                    "<=" => x <= y,
                                    _ => x >= y,
                                },
                                _ => false,
                            }),
                        };
                        if keep {
                            out.push(item);
                        }
                    }
                }
            }
        }
    }
    out
}

fn collect_recursive<'a>(v: &'a Value, name: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get(name) {
                out.push(x);
            }
            for x in m.values() {
                collect_recursive(x, name, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                collect_recursive(x, name, out);
            }
        }
        _ => {}
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn eval(nodes: &[Node], root: &Value, cur: &Value, out: &mut String) -> Result<(), String> {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Path { root: r, steps } => {
                let start = if *r { root } else { cur };
                let found = steps.iter().fold(vec![start], |acc, s| select(acc, s));
                let parts: Vec<String> = found.iter().map(|v| text(v)).collect();
                out.push_str(&parts.join(" "));
            }
            Node::Range {
                root: r,
                steps,
                body,
            } => {
                let start = if *r { root } else { cur };
                let found = steps.iter().fold(vec![start], |acc, s| select(acc, s));
                for item in found {
                    eval(body, root, item, out)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use serde_json::json;

    use super::*;

    #[test]
    fn renders_kubectl_templates() {
        let doc = json!({"items": [
            {"metadata": {"name": "a", "labels": {"app": "web"}}, "status": {"phase": "Running"}},
            {"metadata": {"name": "b", "labels": {"app": "db"}}, "status": {"phase": "Pending"}}
        ]});
        assert_eq!(render("{.items[*].metadata.name}", &doc).unwrap(), "a b");
        assert_eq!(render("{.items[0].metadata.name}", &doc).unwrap(), "a");
        assert_eq!(render("{.items[-1:].metadata.name}", &doc).unwrap(), "b");
        assert_eq!(
            render(
                "{range .items[*]}{.metadata.name}{\"\\t\"}{.status.phase}{\"\\n\"}{end}",
                &doc
            )
            .unwrap(),
            "a\tRunning\nb\tPending\n"
        );
        assert_eq!(
            render(
                "{.items[?(@.metadata.labels.app==\"db\")].metadata.name}",
                &doc
            )
            .unwrap(),
            "b"
        );
        assert_eq!(render("{..phase}", &doc).unwrap(), "Running Pending");
        assert_eq!(
            render("names: {.items[*].metadata['name']}", &doc).unwrap(),
            "names: a b"
        );
        assert!(render("{range .items[*]}", &doc).is_err());
        assert!(render("{.items[", &doc).is_err());
    }
}
