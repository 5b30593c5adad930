//! Field selectors (temporary stand-in; the apimachinery branch replaces it).

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldSelector {
    reqs: Vec<(String, bool, String)>,
}

impl FieldSelector {
    pub fn parse(s: &str) -> Result<FieldSelector, String> {
        let mut reqs = Vec::new();
        for part in s.split(',').filter(|p| !p.is_empty()) {
            if let Some((k, v)) = part.split_once("!=") {
                reqs.push((k.to_string(), false, v.to_string()));
            } else if let Some((k, v)) = part.split_once('=') {
                reqs.push((k.to_string(), true, v.trim_start_matches('=').to_string()));
            } else {
                return Err(format!("invalid selector: '{s}'; can't understand '{part}'"));
            }
        }
        Ok(FieldSelector { reqs })
    }
    pub fn everything() -> FieldSelector {
        FieldSelector::default()
    }
    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.reqs.iter().map(|r| r.0.as_str())
    }
    /// The value an `=`/`==` requirement asks for on `key`.
    pub fn required_value(&self, key: &str) -> Option<&str> {
        self.reqs.iter().find(|r| r.0 == key && r.1).map(|r| r.2.as_str())
    }
    pub fn matches(&self, get: impl Fn(&str) -> Option<String>) -> bool {
        self.reqs.iter().all(|(k, eq, v)| (get(k).as_deref().unwrap_or("") == v) == *eq)
    }
}

impl std::fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.reqs.iter().map(|(k, eq, v)| format!("{k}{}{v}", if *eq { "=" } else { "!=" })).collect();
        f.write_str(&parts.join(","))
    }
}
