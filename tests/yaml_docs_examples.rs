#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

// Every manifest from the Kubernetes documentation examples parses, has the kinds that
// `index.json` lists, and survives the YAML and JSON round trips.

use kubeglass::yaml::{parse_documents, to_json_pretty, to_yaml_string};
use serde_json::Value;

include!(concat!(env!("OUT_DIR"), "/k8s_docs_examples.rs"));

fn manifests() -> impl Iterator<Item = (&'static str, &'static str)> {
    K8S_DOCS_EXAMPLES
        .iter()
        .copied()
        .filter(|(path, _)| path.ends_with(".yaml") || path.ends_with(".yml"))
}

fn index() -> Vec<Value> {
    let (_, text) = K8S_DOCS_EXAMPLES
        .iter()
        .find(|(path, _)| *path == "index.json")
        .expect("index.json is listed");
    match serde_json::from_str(text).expect("index.json is JSON") {
        Value::Array(entries) => entries,
        other => panic!("index.json is not an array: {other}"),
    }
}

#[test]
fn the_folder_is_all_there() {
    assert_eq!(K8S_DOCS_EXAMPLES.len(), 113);
    assert!(K8S_DOCS_EXAMPLES.iter().any(|(p, _)| *p == "SOURCES.md"));
    assert_eq!(manifests().count(), 111);
    assert_eq!(index().len(), 111);
}

#[test]
fn every_manifest_parses_into_named_objects() {
    for (path, text) in manifests() {
        let docs = parse_documents(text).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(!docs.is_empty(), "{path}: no documents");
        for doc in &docs {
            let v = &doc.value;
            assert!(v["apiVersion"].is_string(), "{path}: apiVersion");
            assert!(v["kind"].is_string(), "{path}: kind");
            let meta = &v["metadata"];
            assert!(
                meta["name"].is_string() || meta["generateName"].is_string(),
                "{path}: metadata.name"
            );
            assert!(doc.line >= 1, "{path}: line");
        }
    }
}

#[test]
fn kinds_match_the_index() {
    let index = index();
    for entry in &index {
        let path = entry["path"].as_str().expect("path");
        let (_, text) = K8S_DOCS_EXAMPLES
            .iter()
            .find(|(p, _)| *p == path)
            .unwrap_or_else(|| panic!("{path} is in index.json but not in the folder"));
        let want: Vec<&str> = entry["kinds"]
            .as_array()
            .expect("kinds")
            .iter()
            .map(|k| k.as_str().expect("kind"))
            .collect();
        let docs = parse_documents(text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let got: Vec<&str> = docs
            .iter()
            .map(|d| d.value["kind"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(got, want, "{path}");
    }
}

#[test]
fn document_lines_point_at_the_objects() {
    for (path, text) in manifests() {
        let lines: Vec<&str> = text.lines().collect();
        for doc in parse_documents(text).unwrap_or_else(|e| panic!("{path}: {e}")) {
            let line = lines.get(doc.line - 1).copied().unwrap_or("");
            let content = line.trim_start().trim_start_matches("---").trim_start();
            assert!(
                !content.is_empty() && !content.starts_with('#'),
                "{path}: line {} is {line:?}",
                doc.line
            );
        }
    }
}

#[test]
fn yaml_round_trip() {
    for (path, text) in manifests() {
        for doc in parse_documents(text).unwrap_or_else(|e| panic!("{path}: {e}")) {
            let yaml = to_yaml_string(&doc.value);
            let back = parse_documents(&yaml).unwrap_or_else(|e| panic!("{path}: {e}\n{yaml}"));
            assert_eq!(back.len(), 1, "{path}");
            assert_eq!(back[0].value, doc.value, "{path}:\n{yaml}");
            // Printing is stable.
            assert_eq!(to_yaml_string(&back[0].value), yaml, "{path}");
        }
    }
}

#[test]
fn json_round_trip() {
    for (path, text) in manifests() {
        for doc in parse_documents(text).unwrap_or_else(|e| panic!("{path}: {e}")) {
            let json = to_json_pretty(&doc.value);
            let back: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(back, doc.value, "{path}");
            let again = parse_documents(&json).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(again[0].value, doc.value, "{path}");
        }
    }
}
