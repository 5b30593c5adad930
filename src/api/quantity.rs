//! Resource quantities (temporary stand-in; the apimachinery branch replaces it).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity {
    milli: i64,
    text: String,
}

impl Quantity {
    pub fn parse(s: &str) -> Result<Quantity, String> {
        let (num, mul) = if let Some(n) = s.strip_suffix('m') { (n, 1) } else if let Some(n) = s.strip_suffix("Gi") { (n, 1024 * 1024 * 1024 * 1000) } else if let Some(n) = s.strip_suffix("Mi") { (n, 1024 * 1024 * 1000) } else { (s, 1000) };
        let v: i64 = num.parse().map_err(|_| "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'".to_string())?;
        Ok(Quantity { milli: v * mul, text: s.to_string() })
    }
    pub fn milli_value(&self) -> i64 {
        self.milli
    }
    pub fn value(&self) -> i64 {
        (self.milli + 999) / 1000
    }
    pub fn is_zero(&self) -> bool {
        self.milli == 0
    }
    pub fn from_milli(m: i64) -> Quantity {
        Quantity { milli: m, text: format!("{m}m") }
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let s = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(serde::de::Error::custom("quantity")),
        };
        Quantity::parse(&s).map_err(serde::de::Error::custom)
    }
}
