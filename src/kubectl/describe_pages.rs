//! The page `kubectl describe` prints for each kind (pkg/describe/describe.go).

use serde_json::Value;

use crate::kernel::Nanos;

/// Renders one object's description.
pub fn describe(kind: &str, obj: &Value, events: &[Value], now: Nanos) -> String {
    let mut w = Writer::default();
    let m = &obj["metadata"];
    w.line(0, "Name", m["name"].as_str().unwrap_or_default());
    if let Some(ns) = m["namespace"].as_str() {
        w.line(0, "Namespace", ns);
    }
    w.map(0, "Labels", &m["labels"]);
    w.map(0, "Annotations", &m["annotations"]);
    let _ = kind;
    w.events(events, now);
    w.finish()
}

/// Builds describe output: `Key:  value` lines aligned as kubectl's tabwriter does.
#[derive(Default)]
pub struct Writer {
    lines: Vec<(usize, String, Option<String>)>,
}

impl Writer {
    pub fn line(&mut self, indent: usize, key: &str, value: &str) {
        self.lines
            .push((indent, format!("{key}:"), Some(value.to_string())));
    }

    pub fn map(&mut self, indent: usize, key: &str, v: &Value) {
        match v.as_object().filter(|m| !m.is_empty()) {
            None => self.line(indent, key, "<none>"),
            Some(m) => {
                for (i, (k, val)) in m.iter().enumerate() {
                    let text = format!("{k}={}", val.as_str().unwrap_or_default());
                    if i == 0 {
                        self.line(indent, key, &text);
                    } else {
                        self.lines.push((indent, String::new(), Some(text)));
                    }
                }
            }
        }
    }

    pub fn events(&mut self, events: &[Value], now: Nanos) {
        if events.is_empty() {
            self.line(0, "Events", "<none>");
            return;
        }
        self.lines.push((0, "Events:".into(), None));
        let mut rows = vec![
            vec![
                "Type".to_string(),
                "Reason".into(),
                "Age".into(),
                "From".into(),
                "Message".into(),
            ],
            vec![
                "----".to_string(),
                "------".into(),
                "----".into(),
                "----".into(),
                "-------".into(),
            ],
        ];
        for e in events {
            let t = e["lastTimestamp"]
                .as_str()
                .and_then(crate::api::time::Time::parse);
            rows.push(vec![
                e["type"].as_str().unwrap_or_default().into(),
                e["reason"].as_str().unwrap_or_default().into(),
                crate::apiserver::tables::age(t, now),
                e["source"]["component"]
                    .as_str()
                    .or(e["reportingComponent"].as_str())
                    .unwrap_or_default()
                    .into(),
                e["message"].as_str().unwrap_or_default().trim().into(),
            ]);
        }
        let table = super::printer::tabulate(&rows);
        for l in table.lines() {
            self.lines.push((2, l.to_string(), None));
        }
    }

    pub fn finish(self) -> String {
        let width = self
            .lines
            .iter()
            .filter(|l| l.0 == 0 && l.2.is_some())
            .map(|l| l.1.len())
            .max()
            .unwrap_or(0)
            + 2;
        let mut out = String::new();
        for (indent, key, value) in self.lines {
            let pad = " ".repeat(indent);
            match value {
                Some(v) => out.push_str(&format!(
                    "{pad}{key:<w$}{v}\n",
                    w = width.max(key.len() + 1)
                )),
                None => out.push_str(&format!("{pad}{key}\n")),
            }
        }
        out.trim_end_matches('\n').to_string()
    }
}
