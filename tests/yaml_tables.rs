#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

// Table tests against texts recorded from go-yaml v2 / sigs.k8s.io/yaml, and hand-written
// cases for KYAML, anchors, block scalars, streams, errors and limits.

use kubeglass::yaml::{
    parse_documents, parse_documents_with, to_json_pretty, to_yaml_string, DuplicateKeys,
    ParseOptions, YamlError, MAX_DEPTH,
};
use serde_json::{json, Value};

#[path = "data/go_yaml_tables.rs"]
mod go_yaml_tables;
use go_yaml_tables::{EMIT, ERRORS, TYPING};

fn one(text: &str) -> Value {
    let docs = parse_documents(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    assert_eq!(docs.len(), 1, "{text:?}");
    docs.into_iter()
        .next()
        .map(|d| d.value)
        .unwrap_or(Value::Null)
}

fn err(text: &str) -> YamlError {
    match parse_documents(text) {
        Ok(docs) => panic!("{text:?} parsed: {docs:?}"),
        Err(e) => e,
    }
}

#[test]
fn emitter_matches_go_yaml() {
    for (json_text, want) in EMIT {
        let v: Value = serde_json::from_str(json_text).expect("table JSON");
        assert_eq!(to_yaml_string(&v), *want, "for {json_text}");
    }
}

#[test]
fn emitted_yaml_reads_back() {
    for (json_text, _) in EMIT {
        let v: Value = serde_json::from_str(json_text).expect("table JSON");
        if v.is_null() {
            continue;
        }
        let yaml = to_yaml_string(&v);
        let back = one(&yaml);
        // Floats go through Go's formatting, so compare numbers as f64.
        assert_eq!(normalize(&back), normalize(&v), "for {json_text}:\n{yaml}");
    }
}

fn normalize(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        other => other.clone(),
    }
}

#[test]
fn scalar_typing_matches_go_yaml() {
    for (yaml, want) in TYPING {
        match want.strip_prefix("ERR:") {
            Some(message) => assert_eq!(err(yaml).message, message, "for {yaml:?}"),
            None => {
                let want: Value = serde_json::from_str(want).expect("table JSON");
                let got = one(yaml);
                assert_eq!(normalize(&got), normalize(&want), "for {yaml:?}");
            }
        }
    }
}

#[test]
fn integer_and_float_types() {
    let v = one("a: 1\nb: 1.0\nc: 1.5\nd: 0x10\ne: 1e3\nf: 18446744073709551615\ng: -3\n");
    assert!(v["a"].is_u64());
    assert!(
        v["b"].is_u64(),
        "1.0 becomes the JSON integer 1, as Go's json.Marshal writes it"
    );
    assert!(v["c"].is_f64());
    assert_eq!(v["d"], json!(16));
    assert!(v["e"].is_u64());
    assert_eq!(v["f"], json!(18446744073709551615u64));
    assert!(v["g"].is_i64());
}

#[test]
fn errors_match_go_yaml() {
    for (yaml, want) in ERRORS {
        match want.strip_prefix("OK:") {
            Some(json_text) => {
                let want: Value = serde_json::from_str(json_text).expect("table JSON");
                assert_eq!(one(yaml), want, "for {yaml:?}");
            }
            None => assert_eq!(err(yaml).message, *want, "for {yaml:?}"),
        }
    }
}

#[test]
fn error_positions() {
    // (text, kubectl's message, line, column) with line and column in the whole text.
    let cases: &[(&str, &str, usize, usize)] = &[
        (
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   labels: {}\n",
            "error converting YAML to JSON: yaml: line 5: mapping values are not allowed in this context",
            5,
            10,
        ),
        (
            "a: b: c\n",
            "error converting YAML to JSON: yaml: mapping values are not allowed in this context",
            1,
            5,
        ),
        (
            "x: 1\na:\n  b: 1\n c: 2\n",
            "error converting YAML to JSON: yaml: line 3: did not find expected key",
            4,
            2,
        ),
        (
            "x: 1\nkey without colon\nother: 1\n",
            "error converting YAML to JSON: yaml: line 3: could not find expected ':'",
            3,
            1,
        ),
        (
            "a:\n\tb: 1\n",
            "error converting YAML to JSON: yaml: line 2: found character that cannot start any token",
            2,
            2,
        ),
        (
            "x: 1\na: 'unclosed\n",
            "error converting YAML to JSON: yaml: line 3: found unexpected end of stream",
            3,
            4,
        ),
        (
            "x: 1\nname: a\nname: b\n",
            "error converting YAML to JSON: yaml: unmarshal errors:\n  line 3: key \"name\" already set in map",
            3,
            1,
        ),
        (
            "x: 1\nspec:\n  a: 1\n  a: 2\n  b: 1\n  b: 2\n",
            "error converting YAML to JSON: yaml: unmarshal errors:\n  line 4: key \"a\" already set in map\n  line 6: key \"b\" already set in map",
            4,
            3,
        ),
        (
            "x: *nope\n",
            "error converting YAML to JSON: yaml: unknown anchor 'nope' referenced",
            1,
            4,
        ),
    ];
    for (text, message, line, column) in cases {
        let e = err(text);
        assert_eq!(e.message, *message, "for {text:?}");
        assert_eq!(e.to_string(), *message);
        assert_eq!((e.line, e.column), (*line, *column), "for {text:?}");
    }
}

#[test]
fn error_lines_count_from_the_document_like_kubectl() {
    let text = "a: 1\n---\nb: 2\nc: d: e\n";
    let e = err(text);
    // kubectl hands go-yaml the chunk after `---`, so it says line 2; the fields say line 4.
    assert_eq!(
        e.message,
        "error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this context"
    );
    assert_eq!(e.line, 4);
}

#[test]
fn duplicate_keys_can_be_allowed() {
    let text = "a: 1\na: 2\n";
    assert!(parse_documents(text).is_err());
    let opts = ParseOptions {
        duplicate_keys: DuplicateKeys::LastWins,
    };
    let docs = parse_documents_with(text, opts).expect("lenient");
    assert_eq!(docs[0].value, json!({"a": 2}));
}

#[test]
fn streams() {
    let text = "# leading comment\n---\napiVersion: v1\nkind: A\n---\n# only a comment\n---\n\n---\nnull\n---\nkind: B\n...\n---\r\nkind: C\r\n";
    let docs = parse_documents(text).expect("stream");
    let kinds: Vec<&str> = docs
        .iter()
        .map(|d| d.value["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["A", "B", "C"]);
    let lines: Vec<usize> = docs.iter().map(|d| d.line).collect();
    assert_eq!(lines, [3, 12, 15]);
    assert!(parse_documents("").expect("empty").is_empty());
    assert!(parse_documents("---\n---\n")
        .expect("separators")
        .is_empty());
    let e = err("a: 1\n--- !tag\nb: 2\n");
    assert_eq!(e.message, "invalid Yaml document separator: !tag");
    assert_eq!(e.line, 2);
}

#[test]
fn json_streams() {
    let docs = parse_documents("{\"kind\": \"A\"}\n{\"kind\": \"B\"}\n").expect("json stream");
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1].line, 2);
    // A JSON object, then YAML.
    let docs = parse_documents("{\"kind\": \"A\"}\n---\nkind: B\n").expect("json then yaml");
    assert_eq!(docs.len(), 2);
    // Not JSON after all (KYAML without `---`): read as YAML.
    let docs = parse_documents("{kind: A, # comment\n  spec: {replicas: 1,},}\n").expect("kyaml");
    assert_eq!(docs[0].value, json!({"kind": "A", "spec": {"replicas": 1}}));
    // Invalid both ways: kubectl reports the JSON error.
    let e = err("{\"a\": ]}\n");
    assert_eq!(
        e.message,
        "json: offset 7: invalid character ']' looking for beginning of value"
    );
    let e = err("{a: 1\n");
    assert_eq!(
        e.message,
        "json: offset 2: invalid character 'a' looking for beginning of object key string"
    );
}

#[test]
fn kyaml() {
    let text = r#"---
{
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: {
    name: "game-config", # trailing comments are fine
    labels: {"app": "demo",},
  },
  data: {
    "game.properties": "enemies=aliens\nlives=3\n",
    "yes": "no",
    "count": "3",
  },
  list: [
    "a",
    1,
    true,
    null,
  ],
}
"#;
    let v = one(text);
    assert_eq!(
        v,
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "game-config", "labels": {"app": "demo"}},
            "data": {"game.properties": "enemies=aliens\nlives=3\n", "yes": "no", "count": "3"},
            "list": ["a", 1, true, null],
        })
    );
}

#[test]
fn anchors_aliases_and_merges() {
    let text = "base: &base\n  image: nginx\n  port: 80\nsmall: &s [1, 2]\na:\n  <<: *base\n  name: a\nb:\n  <<: [*base, {extra: true}]\nlist: *s\nscalar: &x hello\ncopy: *x\n";
    let v = one(text);
    assert_eq!(v["a"], json!({"image": "nginx", "port": 80, "name": "a"}));
    assert_eq!(v["b"], json!({"image": "nginx", "port": 80, "extra": true}));
    // Earlier maps of a merge sequence win, as in go-yaml v2 (which refuses this when strict).
    let text =
        "base: &base\n  image: nginx\n  port: 80\nb:\n  <<: [*base, {port: 81, extra: true}]\n";
    assert_eq!(
        err(text).message,
        "error converting YAML to JSON: yaml: unmarshal errors:\n  line 3: key \"port\" already set in map"
    );
    let lenient = ParseOptions {
        duplicate_keys: DuplicateKeys::LastWins,
    };
    let docs = parse_documents_with(text, lenient).expect("lenient merge");
    assert_eq!(
        docs[0].value["b"],
        json!({"image": "nginx", "port": 80, "extra": true})
    );
    assert_eq!(v["list"], json!([1, 2]));
    assert_eq!(v["copy"], json!("hello"));
    // go-yaml v2's strict mode sees a key set by a merge and again as a duplicate.
    let e = err("base: &b {x: 1}\nc:\n  <<: *b\n  x: 2\n");
    assert_eq!(
        e.message,
        "error converting YAML to JSON: yaml: unmarshal errors:\n  line 4: key \"x\" already set in map"
    );
    let e = err("a: &a [*a]\n");
    assert_eq!(
        e.message,
        "error converting YAML to JSON: yaml: anchor 'a' value contains itself"
    );
    let e = err("a: {<<: [1]}\n");
    assert_eq!(
        e.message,
        "error converting YAML to JSON: yaml: map merge requires map or sequence of maps as the value"
    );
}

#[test]
fn block_scalars() {
    let text = "lit: |\n  line1\n   line2\n\n  end\nfold: >\n  a\n  b\n\n  c\nstrip: |-\n  x\nkeep: |+\n  y\n\nind: |2\n    four\nfolded_strip: >-\n  p\n  q\nlast: done\n";
    let v = one(text);
    assert_eq!(v["lit"], json!("line1\n line2\n\nend\n"));
    assert_eq!(v["fold"], json!("a b\nc\n"));
    assert_eq!(v["strip"], json!("x"));
    assert_eq!(v["keep"], json!("y\n\n"));
    assert_eq!(v["ind"], json!("  four\n"));
    assert_eq!(v["folded_strip"], json!("p q"));
    // And back out as go-yaml prints them.
    let out = to_yaml_string(&v);
    assert!(
        out.contains("lit: |\n  line1\n   line2\n\n  end\n"),
        "{out}"
    );
    assert!(out.contains("keep: |+\n  y\n\n"), "{out}");
    assert!(out.contains("ind: |2\n    four\n"), "{out}");
    assert!(out.contains("strip: x\n"), "{out}");
}

#[test]
fn quoted_strings_and_escapes() {
    let v = one("a: \"tab\\tnew\\nline \\u00e9 \\x41 \\U0001F600 \\\"q\\\"\"\nb: 'it''s'\nc: \"folded\n  line\"\n");
    assert_eq!(v["a"], json!("tab\tnew\nline é A 😀 \"q\""));
    assert_eq!(v["b"], json!("it's"));
    assert_eq!(v["c"], json!("folded line"));
}

#[test]
fn kubectl_yaml_shape() {
    let v = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "nginx", "creationTimestamp": "2024-01-02T03:04:05Z", "labels": {"run": "nginx"}},
        "spec": {"containers": [{"image": "nginx", "name": "nginx", "resources": {}, "ports": [{"containerPort": 80}]}]},
        "status": {}
    });
    assert_eq!(
        to_yaml_string(&v),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: \"2024-01-02T03:04:05Z\"\n  labels:\n    run: nginx\n  name: nginx\nspec:\n  containers:\n  - image: nginx\n    name: nginx\n    ports:\n    - containerPort: 80\n    resources: {}\nstatus: {}\n"
    );
}

#[test]
fn json_pretty_like_kubectl() {
    let v = json!({"b": [1, 2.5, {}], "a": "<tag> & \u{2028}\u{2029}\u{8}\u{c}\n\u{1}", "e": [], "f": 1e-7, "g": 1e21, "h": 1.0});
    assert_eq!(
        to_json_pretty(&v),
        "{\n    \"a\": \"\\u003ctag\\u003e \\u0026 \\u2028\\u2029\\b\\f\\n\\u0001\",\n    \"b\": [\n        1,\n        2.5,\n        {}\n    ],\n    \"e\": [],\n    \"f\": 1e-7,\n    \"g\": 1e+21,\n    \"h\": 1\n}\n"
    );
}

#[test]
fn depth_is_limited() {
    let block = |levels: usize| {
        let mut text = String::new();
        for i in 0..levels - 1 {
            text.push_str(&" ".repeat(i));
            text.push_str("a:\n");
        }
        text.push_str(&" ".repeat(levels - 1));
        text.push_str("a: 1\n");
        text
    };
    assert!(parse_documents(&block(MAX_DEPTH)).is_ok());
    let e = err(&block(MAX_DEPTH + 1));
    assert!(
        e.message.contains("exceeded max depth of 512"),
        "{}",
        e.message
    );
    assert!(err(&block(5000))
        .message
        .contains("exceeded max depth of 512"));
    let flow = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
    assert!(parse_documents(&flow(255)).is_ok());
    assert!(err(&flow(256))
        .message
        .contains("exceeded max depth of 255"));
    assert!(err(&flow(100_000)).message.contains("exceeded max depth"));
    // Aliases cannot stack deeper either.
    let open = "[".repeat(200);
    let close = "]".repeat(200);
    let nested = format!("p: &p {open}1{close}\nq: &q {open}*p{close}\nr: {open}*q{close}\n");
    assert!(err(&nested).message.contains("exceeded max depth"));
}

#[test]
fn billion_laughs_is_refused() {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let (prev, cur) = (w[0], w[1]);
        let refs = vec![format!("*{prev}"); 9].join(",");
        text.push_str(&format!("{cur}: &{cur} [{refs}]\n"));
    }
    let e = err(&text);
    assert_eq!(
        e.message,
        "error converting YAML to JSON: yaml: document contains excessive aliasing"
    );
}

#[test]
fn no_panics_on_broken_json_with_non_ascii() {
    for text in [
        "{\"😀",
        "{\"a\": 1}\"é",
        "{\"\u{85}",
        "{\t\"\\u00\u{feff}*b]: `",
        "{é",
    ] {
        assert!(parse_documents(text).is_err(), "{text:?}");
    }
    // Not JSON, but fine as YAML (kubectl falls back to YAML too).
    assert_eq!(
        parse_documents("{\"a\": é}").expect("yaml")[0].value,
        json!({"a": "é"})
    );
}

#[test]
fn no_panics_on_mangled_input() {
    // A deterministic sweep: every prefix, and single-byte damage, of a manifest.
    let base = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"x\" # c\n  labels: {a: 'b', c: [1, 2]}\nspec:\n  containers:\n  - name: n\n    args: [\"a\",\n      \"b\"]\n    script: |\n      echo hi\n  x: &a {k: *a}\n";
    for end in 0..=base.len() {
        if base.is_char_boundary(end) {
            let _ = parse_documents(&base[..end]);
        }
    }
    let bytes = base.as_bytes();
    for i in 0..bytes.len() {
        for b in [
            b'\t', b'{', b']', b':', b'-', b'"', b'\'', b'&', b'*', b'|', b'\n', b' ', b'!', b'%',
            b'#', b'?',
        ] {
            let mut v = bytes.to_vec();
            v[i] = b;
            if let Ok(s) = std::str::from_utf8(&v) {
                if let Ok(docs) = parse_documents(s) {
                    for d in docs {
                        let _ = to_yaml_string(&d.value);
                        let _ = to_json_pretty(&d.value);
                    }
                }
            }
        }
    }
}

/// The deepest documents fit in half of wasm's default 1 MiB stack (checked natively, in a
/// thread with that stack, also in debug builds).
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn deepest_documents_fit_a_small_stack() {
    let work = || {
        let mut block = String::new();
        for i in 0..MAX_DEPTH - 1 {
            block.push_str(&" ".repeat(i));
            block.push_str("- ");
            block.push('\n');
        }
        let mut text = String::from("a: &a ");
        text.push_str(&"[".repeat(255));
        text.push_str(&"]".repeat(255));
        text.push_str("\nb: ");
        text.push_str(&"[".repeat(200));
        text.push_str("*a");
        text.push_str(&"]".repeat(200));
        text.push('\n');
        for doc_text in [block.as_str(), text.as_str()] {
            let docs = parse_documents(doc_text).expect("deep document");
            let yaml = to_yaml_string(&docs[0].value);
            let json = to_json_pretty(&docs[0].value);
            assert!(!yaml.is_empty() && !json.is_empty());
            let back = parse_documents(&yaml).expect("reads back");
            assert_eq!(back[0].value, docs[0].value);
        }
    };
    let handle = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(work)
        .expect("thread");
    handle.join().expect("no stack overflow");
}
