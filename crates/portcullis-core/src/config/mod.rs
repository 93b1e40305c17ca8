//! Configuration: JSON files layered user → project → `PORTCULLIS_CONFIG`, later wins per key.
//!
//! Core knows no hook. Each hook crate owns its config section: a type implementing [`Section`] (its
//! top-level key, its defaults — the `Default` impl is the documentation — and the rules a type cannot
//! express), named in the hook's [`crate::Hook::SECTIONS`]. Core owns only `log` and `stop`.
//!
//! Files are checked strictly: an unknown key or a value of the wrong type is an error that names the file,
//! the key's path and, for a typo, the nearest valid key. What "unknown" means depends on the [`Schema`]:
//! a single hook knows its own sections (and core's), so it checks those strictly and leaves other hooks'
//! sections to them, but still refuses a top-level key that is a near miss of one of its own;
//! `portcullis doctor` loads with every section of the suite and refuses every unknown key.
//!
//! Objects merge key by key; arrays and scalars are replaced whole; open maps ([`Section::OPEN_MAPS`],
//! user-named entries whose order matters) are replaced whole.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::budget;
use crate::env::Env;
use crate::env_vars;
use crate::error::{Error, Result};

/// A top-level config section, owned by the crate that reads it.
pub trait Section: Serialize + DeserializeOwned + Default {
    /// The top-level key, e.g. `"my_hook"`.
    const KEY: &'static str;
    /// Dotted key paths (from the top) whose keys are the user's own names: any key is valid there, the
    /// file's order is kept, and a later layer replaces the map whole.
    const OPEN_MAPS: &'static [&'static str] = &[];

    /// Checks rules a type cannot express; `config` gives the other sections (for rules across them).
    fn validate(&self, _config: &Config) -> std::result::Result<(), String> {
        Ok(())
    }
}

/// A [`Section`] as data: what the loader needs without naming the type.
#[derive(Debug, Clone, Copy)]
pub struct SectionSpec {
    /// The top-level key.
    pub key: &'static str,
    /// [`Section::OPEN_MAPS`].
    pub open_maps: &'static [&'static str],
    defaults: fn() -> Value,
    parse: fn(&Value) -> std::result::Result<(), String>,
    validate: fn(&Config) -> std::result::Result<(), String>,
}

impl SectionSpec {
    /// The spec of section `S`.
    #[must_use]
    pub const fn of<S: Section>() -> Self {
        Self {
            key: S::KEY,
            open_maps: S::OPEN_MAPS,
            defaults: defaults_of::<S>,
            parse: parse_of::<S>,
            validate: validate_of::<S>,
        }
    }

    /// The section's defaults as JSON (what `portcullis doctor` and the strict key check compare against).
    #[must_use]
    pub fn defaults(&self) -> Value {
        (self.defaults)()
    }
}

fn defaults_of<S: Section>() -> Value {
    serde_json::to_value(S::default()).unwrap_or(Value::Null)
}

fn parse_of<S: Section>(value: &Value) -> std::result::Result<(), String> {
    S::deserialize(value).map(drop).map_err(|e| e.to_string())
}

fn validate_of<S: Section>(config: &Config) -> std::result::Result<(), String> {
    config.parse_section::<S>()?.validate(config)
}

/// Which sections a load knows, and whether they are all there are.
#[derive(Debug, Clone, Copy)]
pub struct Schema<'a> {
    /// The sections known besides core's own ([`CORE_SECTIONS`]).
    pub sections: &'a [SectionSpec],
    /// `true` when these are every section of the suite (`portcullis doctor`): any other top-level key is
    /// an error. `false` for one hook, which leaves other hooks' sections to them.
    pub complete: bool,
}

impl<'a> Schema<'a> {
    /// The schema of one hook: its own sections.
    #[must_use]
    pub const fn hook(sections: &'a [SectionSpec]) -> Self {
        Self {
            sections,
            complete: false,
        }
    }

    /// The schema of the whole suite: every section there is.
    #[must_use]
    pub const fn suite(sections: &'a [SectionSpec]) -> Self {
        Self {
            sections,
            complete: true,
        }
    }

    /// Core's sections then these, each key once.
    fn specs(&self) -> Vec<SectionSpec> {
        let mut out: Vec<SectionSpec> =
            Vec::with_capacity(CORE_SECTIONS.len() + self.sections.len());
        for s in CORE_SECTIONS.iter().chain(self.sections) {
            if !out.iter().any(|o| o.key == s.key) {
                out.push(*s);
            }
        }
        out
    }
}

/// The sections every hook knows: `log` and `stop`.
pub const CORE_SECTIONS: &[SectionSpec] = &[
    SectionSpec::of::<LogConfig>(),
    SectionSpec::of::<StopConfig>(),
];

/// A top-level key this close (Jaro-Winkler) to one of a hook's own sections is taken for a typo of it,
/// even when the hook does not know every section of the suite.
pub const NEAR_MISS: f64 = 0.9;

/// The merged configuration: core's sections typed, every other section kept as JSON until its hook asks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// The decision log.
    pub log: LogConfig,
    /// Rules shared by every Stop/SubagentStop hook.
    pub stop: StopConfig,
    /// The merged top-level sections as the files give them (defaults are not filled in).
    merged: Map<String, Value>,
    /// The last file applied: where errors found after merging are reported.
    source: Option<PathBuf>,
}

/// How a hook enforces: the `mode` of most sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Deny or block.
    Enforce,
    /// Allow, and tell (Claude, the user, or both: each hook says).
    Warn,
    /// Do nothing.
    Off,
}

/// `log`: the decision log at `<state>/log.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Append every verdict other than a silent allow. Default `true`.
    pub enabled: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { enabled: true }
    }
}

impl Section for LogConfig {
    const KEY: &'static str = "log";
}

/// `stop`: limits every Stop/SubagentStop hook obeys so an agent is never trapped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StopConfig {
    /// The most consecutive Stop blocks one hook issues for one agent before it lets go and tells the user.
    /// Default 6; must stay below Claude Code's own cap of 8, which would otherwise end the turn without
    /// our explanation.
    pub max_consecutive_blocks: u32,
}

impl Default for StopConfig {
    fn default() -> Self {
        Self {
            max_consecutive_blocks: 6,
        }
    }
}

impl Section for StopConfig {
    const KEY: &'static str = "stop";

    fn validate(&self, _config: &Config) -> std::result::Result<(), String> {
        if self.max_consecutive_blocks >= budget::CLIENT_STOP_BLOCK_CAP {
            return Err(format!(
                "`stop.max_consecutive_blocks` must be below Claude Code's own cap of {} (found {})",
                budget::CLIENT_STOP_BLOCK_CAP,
                self.max_consecutive_blocks
            ));
        }
        Ok(())
    }
}

/// One config file that exists, in the order it is applied.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Where it came from.
    pub path: PathBuf,
    /// Its parsed content.
    pub value: Value,
}

impl Config {
    /// The files consulted, in order: `~/.claude/portcullis.json`, `<project>/.claude/portcullis.json`,
    /// `$PORTCULLIS_CONFIG`.
    #[must_use]
    pub fn paths(env: &Env, project: &Path) -> Vec<PathBuf> {
        let mut paths = Vec::new();
        if let Some(home) = env.claude_home() {
            paths.push(home.join("portcullis.json"));
        }
        let project_file = project.join(".claude").join("portcullis.json");
        if !paths.contains(&project_file) {
            paths.push(project_file);
        }
        if let Some(extra) = env.var(env_vars::PORTCULLIS_CONFIG) {
            paths.push(PathBuf::from(extra));
        }
        paths
    }

    /// Reads, checks and merges every config file that exists.
    pub fn load(env: &Env, project: &Path, schema: Schema<'_>) -> Result<Self> {
        let mut layers = Vec::new();
        for path in Self::paths(env, project) {
            if let Some(layer) = read_layer(&path, env.var(env_vars::PORTCULLIS_CONFIG).as_deref())?
            {
                layers.push(layer);
            }
        }
        Self::from_layers(&layers, schema)
    }

    /// Checks each layer against the schema, merges them, then checks each known section's rules.
    pub fn from_layers(layers: &[Layer], schema: Schema<'_>) -> Result<Self> {
        let specs = schema.specs();
        let defaults: Map<String, Value> = specs
            .iter()
            .map(|s| (s.key.to_owned(), s.defaults()))
            .collect();
        let open_maps: Vec<&str> = specs
            .iter()
            .flat_map(|s| s.open_maps.iter().copied())
            .collect();
        let mut merged = Value::Object(Map::new());
        for layer in layers {
            let config_error = |message| Error::Config {
                path: layer.path.clone(),
                message,
            };
            check_top_level(&layer.value, &defaults, &open_maps, schema.complete)
                .map_err(config_error)?;
            // Each layer's sections are parsed on their own so a type error names its file; with one
            // layer, the check after merging does the same and names the same file.
            if layers.len() > 1 {
                for spec in &specs {
                    if let Some(v) = layer.value.get(spec.key) {
                        (spec.parse)(v).map_err(config_error)?;
                    }
                }
            }
            merge(&mut merged, &layer.value, "", &open_maps);
        }
        let source = layers.last().map(|l| l.path.clone());
        let Value::Object(merged) = merged else {
            unreachable!("merging objects into an object gives an object")
        };
        let mut config = Self {
            merged,
            source: source.clone(),
            ..Self::default()
        };
        config.log = config.section()?;
        config.stop = config.section()?;
        for spec in &specs {
            (spec.validate)(&config).map_err(|message| Error::Config {
                path: source.clone().unwrap_or_default(),
                message,
            })?;
        }
        Ok(config)
    }

    /// Parses one file's text as a complete config (for `doctor` and tests).
    pub fn from_text(path: &Path, text: &str, schema: Schema<'_>) -> Result<Self> {
        let value = parse_text(path, text)?;
        Self::from_layers(
            &[Layer {
                path: path.to_path_buf(),
                value,
            }],
            schema,
        )
    }

    /// Section `S` as the files give it, its defaults where they say nothing.
    pub fn section<S: Section>(&self) -> Result<S> {
        self.parse_section().map_err(|message| Error::Config {
            path: self.source.clone().unwrap_or_default(),
            message,
        })
    }

    fn parse_section<S: Section>(&self) -> std::result::Result<S, String> {
        match self.merged.get(S::KEY) {
            None => Ok(S::default()),
            Some(v) => S::deserialize(v).map_err(|e| e.to_string()),
        }
    }

    /// This config with section `S` replaced (tests and in-process callers).
    #[must_use]
    pub fn with_section<S: Section>(mut self, section: &S) -> Self {
        let value = serde_json::to_value(section).unwrap_or(Value::Null);
        self.merged.insert(S::KEY.to_owned(), value);
        self.log = self.section().unwrap_or_default();
        self.stop = self.section().unwrap_or_default();
        self
    }

    /// The merged sections as JSON (what the files said, without defaults).
    #[must_use]
    pub fn to_value(&self) -> Value {
        Value::Object(self.merged.clone())
    }
}

/// Reads one config file; `Ok(None)` when it does not exist (unless it was named explicitly).
pub fn read_layer(path: &Path, explicit: Option<&str>) -> Result<Option<Layer>> {
    let file = match crate::files::open_regular(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit != path.to_str() => {
            return Ok(None);
        }
        Err(e) => return Err(Error::io("reading config", path, e)),
    };
    let mut text = String::new();
    file.take(budget::MAX_CONFIG_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::io("reading config", path, e))?;
    if text.len() as u64 > budget::MAX_CONFIG_BYTES {
        return Err(Error::Config {
            path: path.to_path_buf(),
            message: format!("larger than {} bytes", budget::MAX_CONFIG_BYTES),
        });
    }
    Ok(Some(Layer {
        path: path.to_path_buf(),
        value: parse_text(path, &text)?,
    }))
}

fn parse_text(path: &Path, text: &str) -> Result<Value> {
    let value: Value = serde_json::from_str(text).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        message: format!("not valid JSON: {e}"),
    })?;
    if !value.is_object() {
        return Err(Error::Config {
            path: path.to_path_buf(),
            message: "the top level must be a JSON object".into(),
        });
    }
    Ok(value)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Checks a layer's top-level keys, then walks each known section against its defaults.
///
/// A key no known section has is an error when the schema is complete; for one hook it is another hook's
/// business, unless it is a near miss of one of this hook's own keys ([`NEAR_MISS`]).
fn check_top_level(
    value: &Value,
    defaults: &Map<String, Value>,
    open_maps: &[&str],
    complete: bool,
) -> std::result::Result<(), String> {
    let Value::Object(given) = value else {
        return Ok(());
    };
    for (key, v) in given {
        if let Some(default) = defaults.get(key) {
            check_value(v, default, key, open_maps)?;
            continue;
        }
        let nearest = nearest(defaults, key);
        if complete {
            return Err(unknown_key(defaults, "", key, nearest.map(|(_, k)| k)));
        }
        if let Some((score, k)) = nearest
            && score >= NEAR_MISS
        {
            return Err(unknown_key(defaults, "", key, Some(k)));
        }
    }
    Ok(())
}

/// The known key most like `key`, with its score, when it is like enough to suggest.
fn nearest<'a>(known: &'a Map<String, Value>, key: &str) -> Option<(f64, &'a str)> {
    known
        .keys()
        .map(|k| (strsim::jaro_winkler(k, key), k.as_str()))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

fn unknown_key(known: &Map<String, Value>, path: &str, key: &str, nearest: Option<&str>) -> String {
    let hint = nearest
        .map(|k| format!("; did you mean `{}`?", join(path, k)))
        .unwrap_or_default();
    let valid: Vec<&str> = known.keys().map(String::as_str).collect();
    format!(
        "unknown key `{}`{hint} (valid here: {})",
        join(path, key),
        valid.join(", ")
    )
}

/// Checks `value` at key path `here` against its default: the same JSON kind, and inside objects only keys
/// the default has. A default of `null` (an optional setting) accepts any kind; serde checks it afterwards.
fn check_value(
    value: &Value,
    default: &Value,
    here: &str,
    open_maps: &[&str],
) -> std::result::Result<(), String> {
    if default.is_null() {
        return Ok(());
    }
    if std::mem::discriminant(value) != std::mem::discriminant(default) {
        return Err(format!(
            "`{here}` must be {}, found {}",
            kind(default),
            kind(value)
        ));
    }
    if open_maps.contains(&here) {
        return Ok(());
    }
    let (Value::Object(given), Value::Object(known)) = (value, default) else {
        return Ok(());
    };
    for (key, v) in given {
        let Some(d) = known.get(key) else {
            return Err(unknown_key(
                known,
                here,
                key,
                nearest(known, key).map(|(_, k)| k),
            ));
        };
        check_value(v, d, &join(here, key), open_maps)?;
    }
    Ok(())
}

fn merge(into: &mut Value, layer: &Value, path: &str, open_maps: &[&str]) {
    match (into, layer) {
        (Value::Object(a), Value::Object(b)) if !open_maps.contains(&path) => {
            for (k, v) in b {
                let here = join(path, k);
                match a.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        merge(existing, v, &here, open_maps);
                    }
                    _ => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

#[cfg(test)]
mod tests;
