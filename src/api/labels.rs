//! Label selectors (temporary stand-in; the apimachinery branch replaces it).

use std::collections::BTreeMap;

crate::api_struct! {
    pub struct LabelSelector {
        match_labels: BTreeMap<String, String>,
        match_expressions: Vec<LabelSelectorRequirement>,
    }
    pub struct LabelSelectorRequirement {
        key: String,
        operator: String,
        values: Vec<String>,
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selector(pub BTreeMap<String, String>);

impl Selector {
    pub fn parse(s: &str) -> Result<Selector, String> {
        let mut m = BTreeMap::new();
        for part in s.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').ok_or("bad")?;
            m.insert(k.to_string(), v.to_string());
        }
        Ok(Selector(m))
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn everything() -> Selector {
        Selector::default()
    }
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|(k, v)| labels.get(k) == Some(v))
    }
    pub fn from_set(set: &BTreeMap<String, String>) -> Selector {
        Selector(set.clone())
    }
}

impl LabelSelector {
    pub fn to_selector(&self) -> Result<Selector, String> {
        Ok(Selector(self.match_labels.clone()))
    }
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        f.write_str(&parts.join(","))
    }
}
