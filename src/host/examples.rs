//! The example scenarios the page offers, compiled in.

use serde_json::Value;

use crate::protocol::ExampleInfo;

/// (id, scenario text), in the picker's order; the first is the default.
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "small-cluster",
        include_str!("../../examples/small-cluster.yaml"),
    ),
    (
        "apiserver-chapter",
        include_str!("../../examples/apiserver-chapter.yaml"),
    ),
    (
        "pods-on-nodes",
        include_str!("../../examples/pods-on-nodes.yaml"),
    ),
    (
        "node-maintenance",
        include_str!("../../examples/node-maintenance.yaml"),
    ),
];

/// The default example's id.
pub fn default_id() -> &'static str {
    EXAMPLES[0].0
}

/// An example's text by id.
pub fn text(id: &str) -> Option<&'static str> {
    EXAMPLES.iter().find(|(i, _)| *i == id).map(|(_, t)| *t)
}

/// Title and description from the scenario's annotations
/// (`kubeglass.dev/title`, `kubeglass.dev/description`).
pub fn info(id: &str, text: &str) -> ExampleInfo {
    let annotations = crate::yaml::parse_documents(text)
        .ok()
        .and_then(|docs| docs.into_iter().next())
        .and_then(|d| d.value.pointer("/metadata/annotations").cloned())
        .unwrap_or(Value::Null);
    let get = |k: &str| {
        annotations
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let title = get("kubeglass.dev/title");
    ExampleInfo {
        id: id.into(),
        title: if title.is_empty() { id.into() } else { title },
        description: get("kubeglass.dev/description"),
    }
}

/// Every example's picker entry.
pub fn all() -> Vec<ExampleInfo> {
    EXAMPLES.iter().map(|(id, t)| info(id, t)).collect()
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn every_example_parses_and_has_a_title() {
        for (id, text) in super::EXAMPLES {
            let s = crate::scenario::parse(text).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(s.name, *id);
            assert_ne!(super::info(id, text).title, *id, "{id} has a title");
        }
    }
}
