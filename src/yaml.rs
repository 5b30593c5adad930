//! YAML (temporary stand-in; the yaml branch replaces it). Accepts JSON only.

use serde_json::Value;

pub struct Document {
    pub value: Value,
    pub line: usize,
}

#[derive(Debug)]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "error converting YAML to JSON: yaml: line {}: {}", self.line, self.message)
    }
}

pub fn parse_documents(text: &str) -> Result<Vec<Document>, YamlError> {
    serde_json::from_str(text).map(|value| vec![Document { value, line: 1 }]).map_err(|e| YamlError { line: e.line(), column: e.column(), message: e.to_string() })
}

pub fn to_yaml_string(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

pub fn to_json_pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
