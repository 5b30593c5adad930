//! kubectl's printers: tables padded as Go's tabwriter pads them (minimum width 6,
//! padding 3), and the YAML, JSON and name outputs.

use serde_json::Value;

/// Lays out rows of cells as kubectl does: each column as wide as its widest cell
/// plus three spaces (at least six), the last column unpadded.
pub fn tabulate(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                widths[i] = widths[i].max((cell.chars().count() + 3).max(6));
            }
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                line.push_str(cell);
                for _ in cell.chars().count()..widths[i] {
                    line.push(' ');
                }
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Options for printing a server-side Table.
#[derive(Clone, Debug, Default)]
pub struct TableOptions {
    pub wide: bool,
    pub with_namespace: bool,
    /// Prefix names with `pod/` (several types in one get, or TYPE/NAME args).
    pub kind_prefix: Option<String>,
    pub show_labels: bool,
    pub no_headers: bool,
    /// `-L key`: one column per label key.
    pub label_columns: Vec<String>,
}

fn cell_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<none>".into(),
        other => other.to_string(),
    }
}

/// The rows (header first unless suppressed) of a metav1.Table JSON.
pub fn table_rows(table: &Value, o: &TableOptions) -> Vec<Vec<String>> {
    let defs = table["columnDefinitions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let shown: Vec<usize> = defs
        .iter()
        .enumerate()
        .filter(|(_, d)| o.wide || d["priority"].as_i64().unwrap_or(0) == 0)
        .map(|(i, _)| i)
        .collect();
    let mut out = Vec::new();
    if !o.no_headers {
        let mut header = Vec::new();
        if o.with_namespace {
            header.push("NAMESPACE".to_string());
        }
        for &i in &shown {
            header.push(defs[i]["name"].as_str().unwrap_or_default().to_uppercase());
        }
        for l in &o.label_columns {
            header.push(l.rsplit('/').next().unwrap_or(l).to_uppercase());
        }
        if o.show_labels {
            header.push("LABELS".into());
        }
        out.push(header);
    }
    for row in table["rows"].as_array().into_iter().flatten() {
        let cells = row["cells"].as_array().cloned().unwrap_or_default();
        let meta = &row["object"]["metadata"];
        let mut line = Vec::new();
        if o.with_namespace {
            line.push(meta["namespace"].as_str().unwrap_or_default().to_string());
        }
        for &i in &shown {
            let mut text = cells.get(i).map(cell_text).unwrap_or_default();
            if defs[i]["format"] == "name" {
                if let Some(prefix) = &o.kind_prefix {
                    text = format!("{prefix}/{text}");
                }
            }
            line.push(text);
        }
        let labels = meta["labels"].as_object();
        for l in &o.label_columns {
            line.push(
                labels
                    .and_then(|m| m.get(l))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        if o.show_labels {
            let text = labels
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "<none>".into());
            line.push(text);
        }
        out.push(line);
    }
    out
}

/// A list of objects in kubectl's `kind: List` wrapper.
pub fn list_of(items: Vec<Value>) -> Value {
    serde_json::json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}})
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn columns_pad_like_tabwriter() {
        let rows = vec![
            vec![
                "NAME".to_string(),
                "READY".into(),
                "STATUS".into(),
                "RESTARTS".into(),
                "AGE".into(),
            ],
            vec![
                "web".to_string(),
                "1/1".into(),
                "Running".into(),
                "0".into(),
                "5s".into(),
            ],
        ];
        assert_eq!(
            tabulate(&rows),
            "NAME   READY   STATUS    RESTARTS   AGE\nweb    1/1     Running   0          5s\n"
        );
        assert_eq!(tabulate(&[vec!["A".into(), "B".into()]]), "A     B\n");
    }
}
