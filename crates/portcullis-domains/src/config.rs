//! The `domains` config section, shared by every hook that classifies files by domain.

use portcullis_core::config::Section;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An ordered domain table: `{"backend": ["api/**", "**/*.go"], ...}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainTable(pub Vec<(String, Vec<String>)>);

impl Serialize for DomainTable {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, globs) in &self.0 {
            map.serialize_entry(name, globs)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for DomainTable {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // serde_json's preserve_order keeps the file's order, which "first match wins" depends on.
        let map = Map::<String, Value>::deserialize(d)?;
        let mut out = Vec::with_capacity(map.len());
        for (name, globs) in map {
            let globs: Vec<String> = serde_json::from_value(globs).map_err(|e| {
                serde::de::Error::custom(format!("domain `{name}`: expected a list of globs ({e})"))
            })?;
            out.push((name, globs));
        }
        Ok(Self(out))
    }
}

/// `domains`: domain name → globs (relative to the project root), first match wins in file order. `null`
/// (the default) means the built-in table documented in the README.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DomainsConfig(pub Option<DomainTable>);

impl Section for DomainsConfig {
    const KEY: &'static str = "domains";
    const OPEN_MAPS: &'static [&'static str] = &["domains"];
}

/// `fallback_domain`: source files that no domain claims are still code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FallbackDomain {
    /// Send a source file (by its extension) that no domain claims to the fallback domain, so that
    /// agent-first and feedback-loop act on it. Default `true`.
    pub enabled: bool,
    /// The fallback domain's name. Default `code`.
    pub name: String,
}

impl Default for FallbackDomain {
    fn default() -> Self {
        Self {
            enabled: true,
            name: "code".into(),
        }
    }
}

impl Section for FallbackDomain {
    const KEY: &'static str = "fallback_domain";

    fn validate(&self, _config: &portcullis_core::Config) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("`fallback_domain.name` must not be empty".into());
        }
        Ok(())
    }
}
