//! Configuration: JSON files layered user → project → `PORTCULLIS_CONFIG`, later wins per key.
//!
//! Every key has a default (the `Default` impls below are the documentation), so no file is needed.
//! Files are checked strictly: an unknown key or a value of the wrong type is an error that names the file,
//! the key's path and, for a typo, the nearest valid key. Objects merge key by key; arrays and scalars are
//! replaced whole; the maps in [`OPEN_MAPS`] (user-named entries whose order matters) are replaced whole.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::budget;
use crate::ctx::Env;
use crate::env_vars;
use crate::error::{Error, Result};

/// Maps whose keys are the user's own names (so any key is valid) and whose order matters.
pub const OPEN_MAPS: &[&str] = &["domains"];

/// The whole portcullis configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Domain name → globs (relative to the project root), first match wins in file order. `null` (the
    /// default) means the built-in table documented in the README. Shared by agent-first and feedback-loop.
    pub domains: Option<DomainTable>,
    /// agent-first: the main thread delegates domain work.
    pub agent_first: AgentFirstConfig,
    /// compaction-gate: context use, warnings, and no new subagents near the limit.
    pub compaction_gate: CompactionGateConfig,
    /// feedback-loop: no turn ends with unreviewed, untested changes.
    pub feedback_loop: FeedbackLoopConfig,
    /// output-location: agents' Markdown outputs go under one folder.
    pub output_location: OutputLocationConfig,
    /// loop-detect: near-identical outputs and repeated failures mean an agent is stuck.
    pub loop_detect: LoopDetectConfig,
    /// iteration-limit: attempts per call are capped; completion-promise loops.
    pub iteration_limit: IterationLimitConfig,
    /// escalation-advisor: a one-line hint from another model when an agent keeps getting blocked.
    pub escalation_advisor: EscalationAdvisorConfig,
    /// The decision log.
    pub log: LogConfig,
    /// Rules shared by every Stop/SubagentStop hook.
    pub stop: StopConfig,
}

/// An ordered domain table: `{"backend": ["api/**", "**/*.go"], ...}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainTable(pub Vec<(String, Vec<String>)>);

impl Serialize for DomainTable {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, globs) in &self.0 {
            map.serialize_entry(name, globs)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for DomainTable {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
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

/// How agent-first enforces delegation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Deny the edit.
    Enforce,
    /// Allow it, with a reminder in Claude's context.
    Warn,
    /// Do nothing.
    Off,
}

/// `agent_first`: which main-thread edits must go to a domain's developer agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentFirstConfig {
    /// `enforce` (deny), `warn` (allow + reminder) or `off`. Default `enforce`.
    pub mode: Mode,
    /// The developer agent's name for a domain; `{domain}` is replaced. Default `{domain}-developer`.
    pub agent_pattern: String,
    /// Globs the main thread may always edit. Default: `.claude/**`, `**/CLAUDE.md`, `plans/**`, `notes/**`.
    pub exempt: Vec<String>,
    /// Main-thread agent types (`claude --agent X`) that may edit domain files themselves. Default none.
    pub exempt_agent_types: Vec<String>,
    /// Also check Bash commands that plainly write a file (`>`, `tee`, `sed -i`, `cp`, `mv`). Default `true`.
    pub shell_writes: bool,
}

impl Default for AgentFirstConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            agent_pattern: "{domain}-developer".into(),
            exempt: [".claude/**", "**/CLAUDE.md", "plans/**", "notes/**"]
                .map(String::from)
                .to_vec(),
            exempt_agent_types: Vec::new(),
            shell_writes: true,
        }
    }
}

/// `compaction_gate`: bands of context use, as percent of the whole window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompactionGateConfig {
    /// `enforce` (deny spawning above `block_percent`), `warn` (only warn) or `off`. Default `enforce`.
    pub mode: Mode,
    /// The context window in tokens; `null` (default) detects it: 1M for a 1M session, else 200K.
    /// `PORTCULLIS_CONTEXT_WINDOW` overrides both.
    pub window_tokens: Option<u64>,
    /// From here on Claude and the user are told the figures. Default 75.
    pub warn_percent: f64,
    /// From here on the advice is to compact now. Default 80.
    pub compact_percent: f64,
    /// From here on new subagents are refused. Default 85.
    pub block_percent: f64,
}

impl Default for CompactionGateConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            window_tokens: None,
            warn_percent: 75.0,
            compact_percent: 80.0,
            block_percent: 85.0,
        }
    }
}

/// `feedback_loop`: which edits need which verdicts before a turn may end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeedbackLoopConfig {
    /// `enforce` (block the Stop), `warn` (let it end, tell the user what is unverified) or `off`.
    /// Default `enforce`.
    pub mode: Mode,
    /// The reviewer agent of a domain; `{domain}` is replaced. Default `{domain}-reviewer`.
    pub reviewer_pattern: String,
    /// The tester agent of a domain; `{domain}` is replaced. Default `{domain}-tester`.
    pub tester_pattern: String,
    /// Reset rounds (a failed test sends every domain round again) before the hook lets the turn end and
    /// tells the user what was left unverified. Default 10.
    pub max_iterations: u32,
    /// Domains whose edits are never tracked. Default `["docs"]`: prose needs no test run.
    pub skip_domains: Vec<String>,
    /// Globs (project-relative) whose edits are never tracked. Default `[".claude/**"]`.
    pub ignore: Vec<String>,
    /// Shell commands that run tests: a Bash call matching one records `testing` for its domains (pass on
    /// exit 0, fail otherwise). Default: cargo, npm/pnpm/yarn/bun, pytest, go test, make test/check, each
    /// counted only when its project file exists.
    pub test_commands: Vec<TestCommand>,
}

/// One test command rule of `feedback_loop.test_commands`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCommand {
    /// A regular expression searched for in the Bash command.
    pub pattern: String,
    /// The domains it tests; `"*"` is every domain. Default `["*"]`.
    #[serde(default = "every_domain")]
    pub domains: Vec<String>,
    /// Files at the project root of which one must exist for the command to count (empty: always).
    #[serde(default)]
    pub when_exists: Vec<String>,
}

fn every_domain() -> Vec<String> {
    vec!["*".into()]
}

/// Where a command starts in a shell line: the line's start or after `;`, `&&`, `||`, `|` or `(`, then
/// optional `VAR=value` assignments and a `time`, `nice` or `timeout N` wrapper. `echo cargo test` is no
/// test run; `cd api && RUST_LOG=1 cargo test` is.
pub const COMMAND_START: &str =
    r"(?:^|[;&|(])\s*(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*(?:(?:time|nice|timeout\s+\S+)\s+)?";

impl TestCommand {
    /// A rule for `program` at a command position ([`COMMAND_START`]) of a project with one of `when_exists`.
    fn at_start(program: &str, when_exists: &[&str]) -> Self {
        Self {
            pattern: format!("{COMMAND_START}{program}"),
            domains: every_domain(),
            when_exists: when_exists.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

impl Default for FeedbackLoopConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            reviewer_pattern: "{domain}-reviewer".into(),
            tester_pattern: "{domain}-tester".into(),
            max_iterations: 10,
            skip_domains: vec!["docs".into()],
            ignore: vec![".claude/**".into()],
            test_commands: vec![
                TestCommand::at_start(
                    r"cargo\s+(\+\S+\s+)?(test|nextest\s+run)\b",
                    &["Cargo.toml"],
                ),
                TestCommand::at_start(r"(npm|pnpm|yarn|bun)\s+(run\s+)?test\b", &["package.json"]),
                TestCommand::at_start(
                    r"(pytest|py\.test|python3?\s+-m\s+pytest)\b",
                    &[
                        "pyproject.toml",
                        "pytest.ini",
                        "setup.cfg",
                        "tox.ini",
                        "conftest.py",
                    ],
                ),
                TestCommand::at_start(r"go\s+test\b", &["go.mod"]),
                TestCommand::at_start(
                    r"make\s+(-\S+\s+)*(test|check)\b",
                    &["Makefile", "makefile", "GNUmakefile"],
                ),
            ],
        }
    }
}

/// `output_location`: where agents' Markdown outputs may appear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputLocationConfig {
    /// `enforce` (block the stop), `warn` (tell the user) or `off`. Default `enforce`.
    pub mode: Mode,
    /// The folder (project-relative) outputs belong in. Default `.claude/.output`.
    pub output_dir: String,
    /// Globs of files that count as outputs. Default `["**/*.md"]`.
    pub patterns: Vec<String>,
    /// Globs where outputs may also appear. Default: `README.md`, `CHANGELOG.md`, `docs/**`,
    /// `.claude/agents/**`, `.claude/skills/**`, `**/SKILL.md`.
    pub allowed: Vec<String>,
}

impl Default for OutputLocationConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            output_dir: ".claude/.output".into(),
            patterns: vec!["**/*.md".into()],
            allowed: [
                "README.md",
                "CHANGELOG.md",
                "docs/**",
                ".claude/agents/**",
                ".claude/skills/**",
                "**/SKILL.md",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// `loop_detect`: when an agent repeats itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoopDetectConfig {
    /// `enforce` (tell Claude and the user), `warn` (tell the user only) or `off`. Default `enforce`.
    pub mode: Mode,
    /// Outputs count as near-identical when their similarity is above this (0 to 1). Default `0.9`.
    pub threshold: f64,
    /// How many consecutive near-identical outputs mean stuck (2 to 10). Default `3`.
    pub window: u32,
    /// How many failures in a row of one exact tool call earn a note (2 to 100). Default `3`.
    pub repeated_failures: u32,
}

impl Default for LoopDetectConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            threshold: 0.9,
            window: 3,
            repeated_failures: 3,
        }
    }
}

/// `iteration_limit`: attempts per call, and completion-promise loops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IterationLimitConfig {
    /// `enforce` (deny past the cap), `warn` (tell the user) or `off`. Default `enforce`.
    pub mode: Mode,
    /// The most attempts of one call (normalised Bash command, or tool and input) per agent and prompt;
    /// the next one is denied. Default `10`.
    pub max_attempts: u32,
    /// Tools whose calls are never counted (reading is not retrying). Default: `Read`, `Glob`, `Grep`,
    /// `LS`, `TodoWrite`, `TaskOutput`, `TaskList`, `TaskGet`.
    pub exempt_tools: Vec<String>,
}

impl Default for IterationLimitConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            max_attempts: 10,
            exempt_tools: [
                "Read",
                "Glob",
                "Grep",
                "LS",
                "TodoWrite",
                "TaskOutput",
                "TaskList",
                "TaskGet",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// `escalation_advisor`: when an agent's stops keep being blocked, ask another model why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EscalationAdvisorConfig {
    /// `enforce` (the hint goes to Claude and the user), `warn` (to the user only) or `off`. Default
    /// `enforce`.
    pub mode: Mode,
    /// Escalate when more than this many stops of one agent in a row were blocked (1 to
    /// `stop.max_consecutive_blocks` - 1, so it is reached before the stop cap lets go). Default `3`.
    pub threshold: u32,
    /// The advisor: a program and its arguments; the prompt goes to its stdin, the hint comes from its
    /// stdout. Default: the Claude Code CLI with a small model, no tools, no session file and no hooks.
    pub command: Vec<String>,
    /// How long the advisor may take, in seconds (1 to 40; the hook itself gives up at 50). Default `25`.
    pub timeout_secs: u32,
    /// The most bytes of the prompt sent to the advisor (1024 to 262144). Default `24576`.
    pub max_prompt_bytes: u32,
}

impl Default for EscalationAdvisorConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            threshold: 3,
            command: [
                "claude",
                "-p",
                "--model",
                "haiku",
                "--tools",
                "",
                "--no-session-persistence",
                "--settings",
                r#"{"disableAllHooks":true}"#,
            ]
            .map(String::from)
            .to_vec(),
            timeout_secs: 25,
            max_prompt_bytes: 24 * 1024,
        }
    }
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
    pub fn load(env: &Env, project: &Path) -> Result<Self> {
        let mut layers = Vec::new();
        for path in Self::paths(env, project) {
            if let Some(layer) = read_layer(&path, env.var(env_vars::PORTCULLIS_CONFIG).as_deref())?
            {
                layers.push(layer);
            }
        }
        Self::from_layers(&layers)
    }

    /// Checks each layer, then merges them over the defaults.
    pub fn from_layers(layers: &[Layer]) -> Result<Self> {
        let defaults =
            serde_json::to_value(Self::default()).map_err(|e| Error::Other(e.to_string()))?;
        let mut merged = Value::Object(Map::new());
        for layer in layers {
            check_keys(&layer.value, &defaults, "").map_err(|message| Error::Config {
                path: layer.path.clone(),
                message,
            })?;
            serde_json::from_value::<Self>(layer.value.clone()).map_err(|e| Error::Config {
                path: layer.path.clone(),
                message: e.to_string(),
            })?;
            merge(&mut merged, &layer.value, "");
        }
        let last = layers.last().map(|l| l.path.clone()).unwrap_or_default();
        let config: Self = serde_json::from_value(merged).map_err(|e| Error::Config {
            path: last.clone(),
            message: e.to_string(),
        })?;
        config.validate().map_err(|message| Error::Config {
            path: last,
            message,
        })?;
        Ok(config)
    }

    /// Checks rules a type cannot express.
    fn validate(&self) -> std::result::Result<(), String> {
        let g = &self.compaction_gate;
        if !(0.0 < g.warn_percent
            && g.warn_percent <= g.compact_percent
            && g.compact_percent <= g.block_percent
            && g.block_percent <= 100.0)
        {
            return Err(format!(
                "`compaction_gate` needs 0 < warn_percent <= compact_percent <= block_percent <= 100 (found {}, {}, {})",
                g.warn_percent, g.compact_percent, g.block_percent
            ));
        }
        if g.window_tokens == Some(0) {
            return Err("`compaction_gate.window_tokens` must be positive".into());
        }
        if self.feedback_loop.max_iterations == 0 {
            return Err("`feedback_loop.max_iterations` must be at least 1".into());
        }
        let l = &self.loop_detect;
        if !(l.threshold > 0.0 && l.threshold < 1.0) {
            return Err(format!(
                "`loop_detect.threshold` must be between 0 and 1, exclusive (found {})",
                l.threshold
            ));
        }
        if !(2..=10).contains(&l.window) || !(2..=100).contains(&l.repeated_failures) {
            return Err(format!(
                "`loop_detect.window` must be 2 to 10 and `loop_detect.repeated_failures` 2 to 100 (found {} and {})",
                l.window, l.repeated_failures
            ));
        }
        if self.iteration_limit.max_attempts == 0 {
            return Err("`iteration_limit.max_attempts` must be at least 1".into());
        }
        let e = &self.escalation_advisor;
        if e.threshold == 0 || e.threshold >= self.stop.max_consecutive_blocks {
            return Err(format!(
                "`escalation_advisor.threshold` must be 1 to `stop.max_consecutive_blocks` - 1 ({}), or it is never reached (found {})",
                self.stop.max_consecutive_blocks.saturating_sub(1),
                e.threshold
            ));
        }
        if e.command.first().is_none_or(String::is_empty) {
            return Err("`escalation_advisor.command` must name a program".into());
        }
        if !(1..=budget::ADVISOR_MAX_TIMEOUT_SECS).contains(&e.timeout_secs)
            || !(1024..=262_144).contains(&e.max_prompt_bytes)
        {
            return Err(format!(
                "`escalation_advisor.timeout_secs` must be 1 to {} and `escalation_advisor.max_prompt_bytes` 1024 to 262144 (found {} and {})",
                budget::ADVISOR_MAX_TIMEOUT_SECS,
                e.timeout_secs,
                e.max_prompt_bytes
            ));
        }
        let dir = &self.output_location.output_dir;
        if dir.is_empty() || Path::new(dir).is_absolute() || dir.split('/').any(|c| c == "..") {
            return Err(format!(
                "`output_location.output_dir` must be a folder inside the project, like `.claude/.output` (found `{dir}`)"
            ));
        }
        if self.stop.max_consecutive_blocks >= budget::CLIENT_STOP_BLOCK_CAP {
            return Err(format!(
                "`stop.max_consecutive_blocks` must be below Claude Code's own cap of {} (found {})",
                budget::CLIENT_STOP_BLOCK_CAP,
                self.stop.max_consecutive_blocks
            ));
        }
        Ok(())
    }

    /// Parses one file's text as a complete config (for `doctor` and tests).
    pub fn from_text(path: &Path, text: &str) -> Result<Self> {
        let value = parse_text(path, text)?;
        Self::from_layers(&[Layer {
            path: path.to_path_buf(),
            value,
        }])
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

/// Walks `value` against the serialized defaults: every key must exist there, with a value of the same
/// JSON kind. A default of `null` (an optional setting) accepts any kind; serde checks it afterwards.
fn check_keys(value: &Value, defaults: &Value, path: &str) -> std::result::Result<(), String> {
    let (Value::Object(given), Value::Object(known)) = (value, defaults) else {
        return Ok(());
    };
    for (key, v) in given {
        let here = join(path, key);
        let Some(default) = known.get(key) else {
            let nearest = known
                .keys()
                .map(|k| (strsim::jaro_winkler(k, key), k))
                .filter(|(score, _)| *score > 0.7)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, k)| format!("; did you mean `{}`?", join(path, k)))
                .unwrap_or_default();
            let valid: Vec<&str> = known.keys().map(String::as_str).collect();
            return Err(format!(
                "unknown key `{here}`{nearest} (valid here: {})",
                valid.join(", ")
            ));
        };
        if default.is_null() {
            continue;
        }
        let kinds_match = std::mem::discriminant(v) == std::mem::discriminant(default);
        if !kinds_match {
            return Err(format!(
                "`{here}` must be {}, found {}",
                kind(default),
                kind(v)
            ));
        }
        if !OPEN_MAPS.contains(&here.as_str()) {
            check_keys(v, default, &here)?;
        }
    }
    Ok(())
}

fn merge(into: &mut Value, layer: &Value, path: &str) {
    match (into, layer) {
        (Value::Object(a), Value::Object(b)) if !OPEN_MAPS.contains(&path) => {
            for (k, v) in b {
                let here = join(path, k);
                match a.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        merge(existing, v, &here);
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
mod tests {
    use super::*;
    use serde_json::json;

    fn layer(name: &str, v: Value) -> Layer {
        Layer {
            path: PathBuf::from(name),
            value: v,
        }
    }

    #[test]
    fn no_file_means_defaults() {
        assert_eq!(Config::from_layers(&[]).unwrap(), Config::default());
    }

    #[test]
    fn later_layers_win_per_key() {
        let c = Config::from_layers(&[
            layer(
                "user",
                json!({"log": {"enabled": false}, "stop": {"max_consecutive_blocks": 3}}),
            ),
            layer("project", json!({"stop": {"max_consecutive_blocks": 5}})),
        ])
        .unwrap();
        assert!(!c.log.enabled);
        assert_eq!(c.stop.max_consecutive_blocks, 5);
    }

    #[test]
    fn unknown_key_names_file_key_and_nearest() {
        let err = Config::from_layers(&[layer(
            "/p/.claude/portcullis.json",
            json!({"stop": {"max_consecutive_block": 3}}),
        )])
        .unwrap_err()
        .to_string();
        assert!(err.contains("/p/.claude/portcullis.json"), "{err}");
        assert!(
            err.contains("unknown key `stop.max_consecutive_block`"),
            "{err}"
        );
        assert!(
            err.contains("did you mean `stop.max_consecutive_blocks`"),
            "{err}"
        );
    }

    #[test]
    fn wrong_type_names_the_key() {
        let err = Config::from_layers(&[layer("f.json", json!({"log": {"enabled": "yes"}}))])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`log.enabled` must be a boolean, found a string"),
            "{err}"
        );
        let err = Config::from_layers(&[layer(
            "f.json",
            json!({"stop": {"max_consecutive_blocks": -1}}),
        )])
        .unwrap_err()
        .to_string();
        assert!(err.contains("f.json"), "{err}");
    }

    #[test]
    fn domains_keep_file_order_and_replace_whole() {
        let c = Config::from_layers(&[
            layer(
                "user",
                json!({"domains": {"zeta": ["z/**"], "alpha": ["a/**"]}}),
            ),
            layer(
                "project",
                json!({"domains": {"web": ["**/*.tsx"], "api": ["api/**"]}}),
            ),
        ])
        .unwrap();
        let names: Vec<&str> = c
            .domains
            .as_ref()
            .unwrap()
            .0
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(names, ["web", "api"]);
        let err = Config::from_layers(&[layer("f", json!({"domains": {"x": "not-a-list"}}))])
            .unwrap_err()
            .to_string();
        assert!(err.contains("domain `x`"), "{err}");
        let err = Config::from_layers(&[layer(
            "proj.json",
            json!({"agent_first": {"mode": "enforcing"}}),
        )])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("enforcing") && err.contains("proj.json"),
            "{err}"
        );
    }

    #[test]
    fn stop_cap_must_stay_below_the_clients() {
        let err = Config::from_layers(&[layer(
            "f.json",
            json!({"stop": {"max_consecutive_blocks": 8}}),
        )])
        .unwrap_err()
        .to_string();
        assert!(err.contains("below Claude Code's own cap of 8"), "{err}");
    }

    #[test]
    fn text_that_is_not_an_object_is_refused() {
        assert!(Config::from_text(Path::new("x"), "[1]").is_err());
        assert!(
            Config::from_text(Path::new("x"), "{")
                .unwrap_err()
                .to_string()
                .contains("not valid JSON")
        );
    }
}
