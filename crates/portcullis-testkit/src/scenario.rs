//! End-to-end scenarios as data: one TOML file per behaviour under `tests/e2e/`, run against the real
//! client by [`run_file`].
//!
//! ```toml
//! description = "what this proves"
//! client = "codex"                        # the client: "claude" (default), "codex" (tests/e2e-codex/) or
//!                                         # "gemini" (tests/e2e-gemini/)
//! prompts = ["E2E-X: do it"]             # later prompts continue the session (`claude -p --continue`,
//!                                         # `codex exec resume --last`)
//! env = { PORTCULLIS_LOG_ALLOWS = "1" }   # extra environment for the client and so for every hook
//! install = true                          # `portcullis install --project` first (default true)
//! init = true                             # `portcullis init --project` instead (default false)
//! model = "claude-sonnet-4-5[1m]"         # the client's --model (default claude-sonnet-4-5)
//! git = true                              # the project is a git repository, files committed (default false)
//! codex_features = ["multi_agent_v2"]     # Codex only: `--enable` each (multi_agent_v2: subagents)
//!
//! [files]                                 # written into the project before the run
//! ".claude/agents/backend-developer.md" = "..."
//!
//! [[hooks]]                               # extra handlers added to the project settings (test-only)
//! event = "Stop"
//! command = "echo_hook"                   # a workspace binary or example, by name
//! args = ["{events}", "--block-stops", "1"]
//!
//! [[agent]]                               # the stand-in model: per marker, the steps in order
//! marker = "E2E-X"
//! steps = [
//!   { tool = "Write", input = { file_path = "{project}/api/x.go", content = "package api\n" } },
//!   { text = "done", usage = { input = 150000 } },
//! ]
//!
//! [expect]
//! exit = 0                                # the client's exit code of the last run (default 0)
//! files = { "api/x.go" = "package api\n" }
//! files_absent = ["api/y.go"]
//! transcript_contains = ["\"is_error\":true"]   # the main transcript and every subagent transcript
//! transcript_lacks = []
//! requests_contain = ["belongs to the `backend` domain"]  # some model request contains this text
//! requests_count = { "Why is the agent stuck?" = 1 }      # exactly this many model requests contain it
//! log = [{ hook = "agent-first", verdict = "deny" }]       # each matches some decision-log entry
//! log_absent = [{ verdict = "deny" }]                     # none matches any entry
//! events = [{ hook_event_name = "Stop", stop_hook_active = false }]  # in this order among echo_hook's events
//! events_absent = [{ hook_event_name = "PostToolUseFailure" }]        # no echo_hook event matches
//! ```
//!
//! With `client = "codex"`, install is `portcullis install --client codex --user` (trust recorded through
//! `codex app-server`), extra `[[hooks]]` go to `$CODEX_HOME/hooks.json` (and the run then bypasses hook
//! trust for them), `transcript_*` read the rollouts, and steps name Codex's tools: `Bash`
//! (`input = { command }`), `apply_patch` (`input = { patch }`), `spawn_agent` (`input = { task_name,
//! message, fork_turns = "none" }`, with `codex_features = ["multi_agent_v2"]`) and `wait_agent`. A
//! subagent's script is keyed on a marker in its task message.
//!
//! With `client = "gemini"`, install is `portcullis install --client gemini --user` (after the offline
//! settings, in the run's `~/.gemini/settings.json`, where extra `[[hooks]]` go too, by Gemini's event
//! names), `transcript_*` read Gemini's session files, and steps name Gemini's tools (`run_shell_command`
//! or `Bash`, `write_file` or `Write`, `replace` or `Edit`, with Gemini's inputs). With `client =
//! "copilot"`, install is `portcullis install --client copilot --user` (`$COPILOT_HOME/settings.json`, where
//! extra `[[hooks]]` go too), the stand-in is Claude Code's (Copilot's `anthropic` provider), and steps name
//! Copilot's model tools (`bash`, `create`, `edit`, `view`, `task`).
//!
//! Placeholders in strings: `{project}` (the project dir), `{events}` (the echo file), `{home}`, `{bin}`
//! (the folder of the workspace's binaries, for agents that run portcullis commands).
//! "Matches" is a subset test: every key of the pattern is present with an equal value (recursively);
//! `"{any}"` matches any present value and `"{not:X}"` any present value but X.
//!
//! With `PORTCULLIS_RECORD=1`, a scenario with `record = "DIR"` copies the session's transcripts (main and
//! subagents) into `DIR` (relative to the scenario file) with the temp root scrubbed to `/e2e`: that is how
//! the replay fixtures are made.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::e2e::{Project, RunOptions};
use crate::scenario_client::Kind;
use crate::standin::{Scenario, Step, Usage};
use crate::workspace_bin;

/// How long one client run may take before it is killed.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(90);

/// One scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// What the scenario proves (shown on failure).
    pub description: String,
    /// The client: `claude` (default), `codex`, `gemini` or `copilot`.
    #[serde(default)]
    pub client: Option<String>,
    /// The prompts, one client run each; the second and later continue the session.
    pub prompts: Vec<String>,
    /// Extra environment for the client.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The `--model` for the client (default `claude-sonnet-4-5`; e.g. `claude-sonnet-4-5[1m]`).
    pub model: Option<String>,
    /// Codex features switched on (`--enable NAME`): `multi_agent_v2` lets the model spawn subagents.
    #[serde(default)]
    pub codex_features: Vec<String>,
    /// Whether to run `portcullis init --project` first, instead of install (Claude Code only).
    #[serde(default)]
    pub init: bool,
    /// Whether to run `portcullis install --project` first.
    #[serde(default = "yes")]
    pub install: bool,
    /// Whether the project is a git repository with `files` (and the install) committed.
    #[serde(default)]
    pub git: bool,
    /// Files written into the project first.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Extra (test-only) hook handlers.
    #[serde(default)]
    pub hooks: Vec<ExtraHook>,
    /// The stand-in model's script.
    #[serde(default, rename = "agent")]
    pub agents: Vec<AgentScript>,
    /// What must hold afterwards.
    #[serde(default)]
    pub expect: Expect,
    /// Where `PORTCULLIS_RECORD=1` saves the scrubbed transcripts.
    pub record: Option<String>,
}

fn yes() -> bool {
    true
}

/// An extra handler in the project's settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraHook {
    /// The event, e.g. `Stop`.
    pub event: String,
    /// The matcher, if the event takes one.
    pub matcher: Option<String>,
    /// A workspace binary or example, by name.
    pub command: String,
    /// Its arguments (placeholders allowed).
    #[serde(default)]
    pub args: Vec<String>,
}

/// Steps for the requests whose first user message contains `marker`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentScript {
    /// The marker text.
    pub marker: String,
    /// The responses in order.
    pub steps: Vec<StepSpec>,
}

/// One response: a `text`, a `tool` with its `input`, or both (a two-block response).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// A final text.
    pub text: Option<String>,
    /// A tool name.
    pub tool: Option<String>,
    /// The tool input.
    pub input: Option<Value>,
    /// Usage the transcript records (missing fields are 0; default input 100, output 10).
    pub usage: Option<UsageSpec>,
}

/// `usage = { input, cache_read, cache_creation, output }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UsageSpec {
    /// `input_tokens`.
    pub input: u64,
    /// `cache_read_input_tokens`.
    pub cache_read: u64,
    /// `cache_creation_input_tokens`.
    pub cache_creation: u64,
    /// `output_tokens`.
    pub output: u64,
}

/// The `[expect]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Expect {
    /// Exit code of the last client run (default 0).
    pub exit: Option<i32>,
    /// Files that must exist with this content.
    pub files: BTreeMap<String, String>,
    /// Files that must not exist.
    pub files_absent: Vec<String>,
    /// Texts some transcript must contain.
    pub transcript_contains: Vec<String>,
    /// Texts no transcript may contain.
    pub transcript_lacks: Vec<String>,
    /// Texts some model request must contain.
    pub requests_contain: Vec<String>,
    /// Text → exactly how many model requests contain it.
    pub requests_count: BTreeMap<String, usize>,
    /// Patterns each matched by some decision-log entry.
    pub log: Vec<Value>,
    /// Patterns no decision-log entry may match.
    pub log_absent: Vec<Value>,
    /// Patterns matched in order by the events `echo_hook` recorded.
    pub events: Vec<Value>,
    /// Patterns no recorded event may match.
    pub events_absent: Vec<Value>,
}

/// What a run left to check.
struct Observed {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    requests: Vec<String>,
    events: Vec<Value>,
    transcripts: Vec<PathBuf>,
    transcript_text: String,
    log: Vec<Value>,
}

/// Parses and runs one scenario file with `client` (the Claude Code or the Codex binary, as the file's
/// `client` says); `Err` is a report of every expectation that failed.
pub fn run_file(path: &Path, client: &Path) -> Result<(), String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let spec: ScenarioFile =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let project = Project::new();
    let events_file = project.home.join("events.jsonl");
    let bin_dir = workspace_bin("portcullis")
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let subst = |s: &str| {
        s.replace("{project}", &project.dir.display().to_string())
            .replace("{events}", &events_file.display().to_string())
            .replace("{home}", &project.home.display().to_string())
            .replace("{bin}", &bin_dir.display().to_string())
    };
    let seen = execute(&spec, &project, client, &events_file, &subst)?;
    let failures = check(&spec.expect, &seen, &project, &subst);
    if failures.is_empty() {
        if let Some(dir) = &spec.record
            && std::env::var_os("PORTCULLIS_RECORD").is_some()
        {
            let to = path.parent().unwrap_or(Path::new(".")).join(dir);
            match Kind::of(spec.client.as_deref()) {
                Kind::Codex => project.record_codex_rollouts(&to)?,
                Kind::Gemini => project.record_files(&project.gemini_sessions(), &to)?,
                Kind::Copilot => project.record_files(&project.copilot_sessions(), &to)?,
                Kind::Claude => project.record_transcripts(&to)?,
            }
        }
        return Ok(());
    }
    Err(report(path, &spec, &seen, &failures))
}

/// `git init` and one commit of everything in `dir`, with a fixed identity and no user or system config.
fn git_commit_all(dir: &Path) -> Result<(), String> {
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &["commit", "-q", "-m", "scenario files"],
    ] {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "e2e")
            .env("GIT_AUTHOR_EMAIL", "e2e@example.invalid")
            .env("GIT_COMMITTER_NAME", "e2e")
            .env("GIT_COMMITTER_EMAIL", "e2e@example.invalid")
            .output()
            .map_err(|e| format!("git {}: {e}", args.join(" ")))?;
        if !out.status.success() {
            return Err(format!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    Ok(())
}

fn execute(
    spec: &ScenarioFile,
    project: &Project,
    client: &Path,
    events_file: &Path,
    subst: &dyn Fn(&str) -> String,
) -> Result<Observed, String> {
    for (rel, content) in &spec.files {
        project.write(rel, &subst(content));
    }
    let kind = Kind::of(spec.client.as_deref());
    if spec.init {
        project.init();
    } else if spec.install {
        kind.install(project, client);
    }
    if !spec.hooks.is_empty() {
        kind.add_hooks(project, &spec.hooks, subst)?;
    }
    if spec.git {
        git_commit_all(&project.dir)?;
    }
    let scenario = spec.agents.iter().fold(Scenario::new(), |sc, a| {
        sc.on_with_usage(&a.marker, a.steps.iter().map(|s| step(s, subst)).collect())
    });
    let env: Vec<(String, String)> = spec
        .env
        .iter()
        .map(|(k, v)| (k.clone(), subst(v)))
        .collect();
    let mut requests = Vec::new();
    let mut last = None;
    for (i, prompt) in spec.prompts.iter().enumerate() {
        let options = RunOptions {
            env: env.clone(),
            continue_session: i > 0,
            model: spec.model.clone(),
            codex_features: spec.codex_features.clone(),
        };
        let run = kind.run(
            project,
            client,
            &subst(prompt),
            scenario.clone(),
            &options,
            !spec.hooks.is_empty(),
        );
        requests.extend(run.requests.iter().map(Value::to_string));
        last = Some(run);
    }
    let run = last.ok_or("a scenario needs at least one prompt")?;
    let transcripts = kind.transcripts(project);
    Ok(Observed {
        code: run.code,
        stdout: run.stdout,
        stderr: run.stderr,
        requests,
        events: fs::read_to_string(events_file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect(),
        transcript_text: transcripts
            .iter()
            .map(|p| fs::read_to_string(p).unwrap_or_default())
            .collect(),
        transcripts,
        log: project.decision_log(),
    })
}

/// Every failed expectation, one `  - ` line each; empty when all hold.
fn check(
    ex: &Expect,
    seen: &Observed,
    project: &Project,
    subst: &dyn Fn(&str) -> String,
) -> String {
    let mut failures = String::new();
    let mut fail = |s: String| {
        let _ = writeln!(failures, "  - {s}");
    };
    let want_exit = ex.exit.unwrap_or(0);
    if seen.code != Some(want_exit) {
        fail(format!("client exit {:?}, expected {want_exit}", seen.code));
    }
    for (rel, want) in &ex.files {
        match fs::read_to_string(project.dir.join(rel)) {
            Ok(got) if got == subst(want) => {}
            Ok(got) => fail(format!("{rel}: content {got:?}, expected {want:?}")),
            Err(e) => fail(format!("{rel}: {e}")),
        }
    }
    for rel in &ex.files_absent {
        if project.dir.join(rel).exists() {
            fail(format!("{rel} exists, expected absent"));
        }
    }
    for t in &ex.transcript_contains {
        if !seen.transcript_text.contains(&subst(t)) {
            fail(format!("no transcript contains {t:?}"));
        }
    }
    for t in &ex.transcript_lacks {
        if seen.transcript_text.contains(&subst(t)) {
            fail(format!("a transcript contains {t:?}"));
        }
    }
    for t in &ex.requests_contain {
        if !seen.requests.iter().any(|r| r.contains(&subst(t))) {
            fail(format!("no model request contains {t:?}"));
        }
    }
    for (t, want) in &ex.requests_count {
        let got = seen
            .requests
            .iter()
            .filter(|r| r.contains(&subst(t)))
            .count();
        if got != *want {
            fail(format!(
                "{got} model requests contain {t:?}, expected {want}"
            ));
        }
    }
    let patterns = |list: &[Value]| -> Vec<Value> {
        list.iter().map(|p| substitute(p.clone(), subst)).collect()
    };
    for pattern in &patterns(&ex.log) {
        if !seen.log.iter().any(|e| subset(pattern, e)) {
            fail(format!("no decision-log entry matches {pattern}"));
        }
    }
    for pattern in &patterns(&ex.log_absent) {
        if let Some(e) = seen.log.iter().find(|e| subset(pattern, e)) {
            fail(format!("decision-log entry {e} matches {pattern}"));
        }
    }
    let mut rest = seen.events.iter();
    for pattern in &patterns(&ex.events) {
        if !rest.any(|e| subset(pattern, e)) {
            fail(format!(
                "no echo event matches {pattern} (in order after the previous ones)"
            ));
        }
    }
    for pattern in &patterns(&ex.events_absent) {
        if let Some(e) = seen.events.iter().find(|e| subset(pattern, e)) {
            fail(format!("echo event {e} matches {pattern}"));
        }
    }
    failures
}

fn report(path: &Path, spec: &ScenarioFile, seen: &Observed, failures: &str) -> String {
    let mut report = format!(
        "{}\n{}\nfailed:\n{failures}",
        path.display(),
        spec.description
    );
    let _ = writeln!(report, "client stderr: {}", seen.stderr.trim());
    let _ = writeln!(report, "client stdout: {}", seen.stdout.trim());
    let _ = writeln!(report, "decision log:");
    for e in &seen.log {
        let _ = writeln!(report, "  {e}");
    }
    let _ = writeln!(report, "echo events:");
    for e in &seen.events {
        let _ = writeln!(
            report,
            "  {} {}",
            e["hook_event_name"],
            e.get("tool_name").unwrap_or(&Value::Null)
        );
    }
    let _ = writeln!(report, "transcripts: {:?}", seen.transcripts);
    if std::env::var_os("PORTCULLIS_E2E_DUMP").is_some() {
        for r in &seen.requests {
            let _ = writeln!(report, "request: {r}");
        }
    }
    report
}

fn step(s: &StepSpec, subst: &dyn Fn(&str) -> String) -> (Step, Usage) {
    let usage = s.usage.as_ref().map_or(
        Usage {
            input: 100,
            output: 10,
            ..Usage::default()
        },
        |u| Usage {
            input: u.input,
            cache_read: u.cache_read,
            cache_creation: u.cache_creation,
            output: u.output,
        },
    );
    let step = match (&s.text, &s.tool) {
        (Some(t), Some(name)) => Step::TextAndTool {
            text: subst(t),
            name: name.clone(),
            input: substitute(s.input.clone().unwrap_or(Value::Null), subst),
        },
        (Some(t), None) => Step::Text(subst(t)),
        (None, Some(name)) => Step::Tool {
            name: name.clone(),
            input: substitute(s.input.clone().unwrap_or(Value::Null), subst),
        },
        (None, None) => Step::Text(String::new()),
    };
    (step, usage)
}

fn substitute(v: Value, subst: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(subst(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| substitute(x, subst)).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, x)| (k, substitute(x, subst)))
                .collect(),
        ),
        other => other,
    }
}

/// True when every key of `pattern` is in `value` with a matching value: objects recursively, the string
/// `"{any}"` matches any non-null value, `"{not:X}"` any non-null value but the string X, anything else by
/// equality.
#[must_use]
pub fn subset(pattern: &Value, value: &Value) -> bool {
    match (pattern, value) {
        (Value::Object(p), Value::Object(v)) => p
            .iter()
            .all(|(k, pv)| v.get(k).is_some_and(|vv| subset(pv, vv))),
        (Value::String(p), v) if p == "{any}" => !v.is_null(),
        (Value::String(p), v) if p.starts_with("{not:") && p.ends_with('}') => {
            !v.is_null() && v.as_str() != Some(&p[5..p.len() - 1])
        }
        _ => pattern == value,
    }
}

/// Every scenario file in `dir`, sorted.
#[must_use]
pub fn scenario_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_is_recursive_and_exact_on_leaves() {
        let v = json!({"a": 1, "b": {"c": "x", "d": [1]}});
        assert!(subset(&json!({"a": 1}), &v));
        assert!(subset(&json!({"b": {"c": "x"}}), &v));
        assert!(!subset(&json!({"b": {"c": "y"}}), &v));
        assert!(!subset(&json!({"z": null}), &v));
        assert!(!subset(&json!({"b": {"d": [1, 2]}}), &v));
        assert!(subset(&json!({"a": "{any}"}), &v));
        assert!(!subset(&json!({"z": "{any}"}), &v));
        assert!(subset(&json!({"b": {"c": "{not:main}"}}), &v));
        assert!(!subset(&json!({"b": {"c": "{not:x}"}}), &v));
    }

    #[test]
    fn a_scenario_file_with_an_unknown_key_is_refused() {
        let err = toml::from_str::<ScenarioFile>(
            "description = \"x\"\nprompts = [\"p\"]\n[expect]\nexits = 0\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("exits"), "{err}");
    }
}
