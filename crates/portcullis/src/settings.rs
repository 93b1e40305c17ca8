//! Editing Claude Code `settings.json` files, Codex CLI `hooks.json` files and Gemini CLI `settings.json`
//! files, in place.
//!
//! All three clients read the same `{"hooks": {EVENT: [{"matcher", "hooks": [handler]}]}}` shape. A Codex
//! or Gemini handler has no `args` and runs its `command` through the shell, so ours is `'<bin>' --client
//! codex` (or `gemini`); its registrations are the hook's ones for that client
//! ([`HookSpec::registrations_for`]) with matchers written in the client's tool names ([`codex_matcher`],
//! [`crate::gemini::registrations`], which also names Gemini's events its own way). Files may hold
//! comments (Gemini's settings are JSON with comments).
//!
//! Our handlers are recognised by the file name of their `command` (one of [`portcullis_suite::binaries`]).
//! Uninstall removes exactly those handlers, plus any matcher group or event list that is empty only
//! because of that removal. Install is uninstall followed by appending our groups; when the result means
//! what the file already says, the file is left byte-identical (a second install never touches it).
//! Edits go through a concrete syntax tree, so every byte that is not ours
//! (other settings, foreign hooks, comments, indentation) stays as it was.

use std::path::{Path, PathBuf};

use jsonc_parser::ParseOptions;
use jsonc_parser::cst::{CstArray, CstInputValue, CstNode, CstObject, CstRootNode};
use portcullis_core::{Client, HookSpec};
use serde_json::Value;

/// Where hooks are installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `<dir>/.claude/settings.json`: the file teams commit.
    Project(PathBuf),
    /// `<dir>/.claude/settings.local.json`: this machine's, not committed.
    ProjectLocal(PathBuf),
    /// `~/.claude/settings.json`.
    User(PathBuf),
    /// Codex: `<dir>/.codex/hooks.json` (loaded only in a trusted project).
    CodexProject(PathBuf),
    /// Codex: `$CODEX_HOME/hooks.json` (`CODEX_HOME` defaults to `~/.codex`).
    CodexUser(PathBuf),
    /// Gemini: `<dir>/.gemini/settings.json` (loaded only in a trusted folder).
    GeminiProject(PathBuf),
    /// Gemini: `<gemini home>/settings.json` (`~/.gemini/`, see [`crate::gemini::gemini_home`]).
    GeminiUser(PathBuf),
    /// Copilot: `<dir>/.github/hooks/portcullis.json` (loaded only in a trusted folder).
    CopilotProject(PathBuf),
    /// Copilot: `$COPILOT_HOME/settings.json` (default `~/.copilot`).
    CopilotUser(PathBuf),
}

impl Scope {
    /// The settings file of this scope.
    #[must_use]
    pub fn settings_path(&self) -> PathBuf {
        match self {
            Self::Project(dir) => dir.join(".claude").join("settings.json"),
            Self::ProjectLocal(dir) => dir.join(".claude").join("settings.local.json"),
            Self::User(claude_home) => claude_home.join("settings.json"),
            Self::CodexProject(dir) => dir.join(".codex").join("hooks.json"),
            Self::CodexUser(codex_home) => codex_home.join("hooks.json"),
            Self::GeminiProject(dir) => dir.join(".gemini").join("settings.json"),
            Self::GeminiUser(gemini_home) => gemini_home.join("settings.json"),
            Self::CopilotProject(dir) => dir.join(".github").join("hooks").join("portcullis.json"),
            Self::CopilotUser(copilot_home) => copilot_home.join("settings.json"),
        }
    }

    /// The client this scope's file belongs to.
    #[must_use]
    pub fn client(&self) -> Client {
        match self {
            Self::Project(_) | Self::ProjectLocal(_) | Self::User(_) => Client::ClaudeCode,
            Self::CodexProject(_) | Self::CodexUser(_) => Client::Codex,
            Self::GeminiProject(_) | Self::GeminiUser(_) => Client::Gemini,
            Self::CopilotProject(_) | Self::CopilotUser(_) => Client::Copilot,
        }
    }
}

/// Errors editing settings.
#[derive(Debug)]
pub struct SettingsError(pub String);

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// True when `command` runs one of our binaries (judged by its file name): the whole command for Claude
/// Code, whose handlers carry their arguments apart; the first word, unquoted, for Codex's shell commands.
#[must_use]
pub fn is_ours(command: &str) -> bool {
    portcullis_suite::binaries().contains(&program_name(command).as_str())
}

/// The program a handler's `command` runs: the whole command for Claude Code (its handlers carry their
/// arguments apart), the unquoted first word of a Codex or Gemini `… --client NAME` shell command.
#[must_use]
pub fn program(command: &str) -> String {
    let command = command.trim();
    match command
        .strip_suffix(" --client codex")
        .or_else(|| command.strip_suffix(" --client gemini"))
        .or_else(|| command.strip_suffix(" --client copilot"))
    {
        Some(program) => shell_word(program.trim_end()),
        None => command.to_owned(),
    }
}

/// The file name of [`program`].
#[must_use]
pub fn program_name(command: &str) -> String {
    Path::new(&program(command))
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned()
}

/// The one shell word `text` is, unquoted: single quotes, double quotes and backslashes as the shell reads
/// them (enough for the commands [`codex_command`] writes and what a person would type instead).
fn shell_word(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => out.extend(chars.next()),
            (None, '\'' | '"') => quote = Some(c),
            (_, c) => out.push(c),
        }
    }
    out
}

/// Checks that `text` is a JSON object (comments allowed, as Gemini's settings have them); the error names
/// the file.
pub fn check_json(path: &Path, text: &str) -> Result<Value, SettingsError> {
    if text.trim().is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    match jsonc_value(text).map(|v| v.unwrap_or(Value::Null)) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(SettingsError(format!(
            "`{}` is not a JSON object; left untouched",
            path.display()
        ))),
        Err(e) => Err(SettingsError(format!(
            "`{}` is not valid JSON ({e}); left untouched. Fix it by hand, then run install again",
            path.display()
        ))),
    }
}

/// A JSON text, comments allowed, as a value (`None` for an empty text).
///
/// # Errors
/// The parser's message when the text is not JSON.
pub fn jsonc_value(text: &str) -> Result<Option<Value>, String> {
    jsonc_parser::parse_to_ast(
        text,
        &jsonc_parser::CollectOptions::default(),
        &ParseOptions::default(),
    )
    .map(|r| r.value.map(Into::into))
    .map_err(|e| e.to_string())
}

fn parse(path: &Path, text: &str) -> Result<CstRootNode, SettingsError> {
    check_json(path, text)?;
    let text = if text.trim().is_empty() { "{}\n" } else { text };
    CstRootNode::parse(text, &ParseOptions::default())
        .map_err(|e| SettingsError(format!("`{}`: {e}", path.display())))
}

/// The settings text with our handlers removed.
pub fn uninstall(path: &Path, text: &str) -> Result<String, SettingsError> {
    let root = parse(path, text)?;
    remove_ours(&root);
    Ok(finish(&root, text))
}

/// The settings text with our handlers (re)installed for `client`, pointing at binaries in `bin_dir`.
pub fn install(
    path: &Path,
    text: &str,
    bin_dir: &Path,
    hooks: &[HookSpec],
    client: Client,
) -> Result<String, SettingsError> {
    let root = parse(path, text)?;
    remove_ours(&root);
    if client == Client::Copilot && text.trim().is_empty() {
        // A new hooks file of Copilot's says its format's version, as its documented files do.
        root.object_value_or_set()
            .append("version", CstInputValue::from(1_u32));
    }
    append_groups(
        &root.object_value_or_set().object_value_or_set("hooks"),
        hooks,
        bin_dir,
        client,
    );
    let after = finish(&root, text);
    // Removing and appending again can reflow the text around our groups (a one-line file gains line
    // breaks): when the settings mean the same, the file is left as it is, byte for byte.
    let same = |a: &str, b: &str| {
        let value = |t: &str| jsonc_value(t).ok().flatten();
        value(a).is_some() && value(a) == value(b)
    };
    Ok(if !text.trim().is_empty() && same(&after, text) {
        text.to_owned()
    } else {
        after
    })
}

/// Appends our matcher groups to a `hooks` object.
fn append_groups(hooks_obj: &CstObject, hooks: &[HookSpec], bin_dir: &Path, client: Client) {
    for (event, matcher, handlers) in groups(hooks, bin_dir, client) {
        let list = hooks_obj.array_value_or_set(&event);
        let mut group: Vec<(String, CstInputValue)> = Vec::new();
        if let Some(m) = matcher {
            group.push(("matcher".into(), CstInputValue::String(m)));
        }
        group.push(("hooks".into(), CstInputValue::Array(handlers)));
        list.append(CstInputValue::Object(group));
    }
}

/// Our groups for `client`: one per (event, matcher), in registry order, each with the handlers of every
/// hook on it.
fn groups(
    hooks: &[HookSpec],
    bin_dir: &Path,
    client: Client,
) -> Vec<(String, Option<String>, Vec<CstInputValue>)> {
    let mut out: Vec<(String, Option<String>, Vec<CstInputValue>)> = Vec::new();
    let mut add = |event: &str, matcher: Option<String>, handler: CstInputValue| match out
        .iter_mut()
        .find(|(e, m, _)| e == event && *m == matcher)
    {
        Some((_, _, list)) => list.push(handler),
        None => out.push((event.to_owned(), matcher, vec![handler])),
    };
    for hook in hooks {
        if matches!(client, Client::Gemini | Client::Copilot) {
            let binary = binary_path(bin_dir, hook.name);
            for reg in crate::registrations::registrations(hook, client) {
                let handler = if client == Client::Gemini {
                    crate::gemini::handler(&binary, hook)
                } else {
                    crate::copilot::handler(&binary, hook)
                };
                add(reg.event, reg.matcher, handler);
            }
            continue;
        }
        for reg in hook.registrations_for(client) {
            let binary = binary_path(bin_dir, hook.name);
            let handler = handler_value(&binary, hook.timeout_secs, client);
            let matcher = match (client, reg.matcher) {
                (Client::Codex, Some(m)) => match codex_registration_matcher(reg.event, m) {
                    Some(m) => Some(m),
                    None => continue, // none of the tools exists in Codex
                },
                (_, m) => m.map(str::to_owned),
            };
            add(reg.event, matcher, handler);
        }
    }
    out
}

/// A hook's binary in `bin_dir`; for an empty folder, the bare name, found on PATH (the shared settings
/// of a team).
fn binary_path(bin_dir: &Path, name: &str) -> PathBuf {
    if bin_dir.as_os_str().is_empty() {
        PathBuf::from(name)
    } else {
        bin_dir.join(name)
    }
}

fn handler_value(binary: &Path, timeout: u32, client: Client) -> CstInputValue {
    if client == Client::Codex {
        return CstInputValue::Object(vec![
            ("type".into(), CstInputValue::String("command".into())),
            (
                "command".into(),
                CstInputValue::String(codex_command(binary)),
            ),
            ("timeout".into(), CstInputValue::from(timeout)),
        ]);
    }
    CstInputValue::Object(vec![
        ("type".into(), CstInputValue::String("command".into())),
        (
            "command".into(),
            CstInputValue::String(binary.display().to_string()),
        ),
        ("args".into(), CstInputValue::Array(Vec::new())),
        ("timeout".into(), CstInputValue::from(timeout)),
    ])
}

/// The shell command Codex runs for one of our binaries: the path, single-quoted when the shell would
/// otherwise split or expand it, then `--client codex`.
#[must_use]
pub fn codex_command(binary: &Path) -> String {
    shell_command(binary, Client::Codex)
}

/// The shell command a client that runs handlers through the shell (Codex, Gemini) runs for one of our
/// binaries: the path, single-quoted when the shell would otherwise split or expand it, then `--client
/// NAME`.
#[must_use]
pub fn shell_command(binary: &Path, client: Client) -> String {
    let path = binary.display().to_string();
    let plain = !path.is_empty()
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@".contains(&b));
    if plain {
        format!("{path} --client {client}")
    } else {
        format!("'{}' --client {client}", path.replace('\'', r"'\''"))
    }
}

/// The matcher of a registration in Codex: a tool event's in Codex's tool names ([`codex_matcher`]),
/// any other event's (a `SessionStart` source, …) as it is. `None` when none of its tools exists in Codex.
#[must_use]
pub fn codex_registration_matcher(event: &str, matcher: &str) -> Option<String> {
    if matches!(event, "PreToolUse" | "PostToolUse" | "PermissionRequest") {
        codex_matcher(matcher)
    } else {
        Some(matcher.to_owned())
    }
}

/// A Claude Code tool matcher in Codex's tool names, or `None` when none of its tools exists in Codex.
/// The file-editing tools are `apply_patch`, `Agent`/`Task` is the spawn tool
/// (`collaborationspawn_agent`), `Bash` and `mcp__…` patterns stay; Read, Grep, Glob, the web tools and
/// the rest have no Codex counterpart. A plain list stays a plain list; one with a pattern becomes an
/// anchored regex, as Codex reads anything else as an unanchored one (PROTOCOL-CODEX.md §2).
#[must_use]
pub fn codex_matcher(matcher: &str) -> Option<String> {
    let inner = matcher
        .strip_prefix("^(")
        .and_then(|m| m.strip_suffix(")$"))
        .unwrap_or(matcher);
    let mut names: Vec<&str> = Vec::new();
    for name in inner.split('|').map(str::trim) {
        let codex = match name {
            "Write" | "Edit" | "MultiEdit" | "NotebookEdit" => "apply_patch",
            "Agent" | "Task" => "collaborationspawn_agent",
            "Bash" => "Bash",
            n if n.starts_with("mcp__") => n,
            _ => continue,
        };
        if !names.contains(&codex) {
            names.push(codex);
        }
    }
    if names.is_empty() {
        return None;
    }
    let list = names.join("|");
    Some(
        if list
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'|')
        {
            list
        } else {
            format!("^({list})$")
        },
    )
}

fn finish(root: &CstRootNode, original: &str) -> String {
    let mut s = root.to_string();
    if original.trim().is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

fn remove_ours(root: &CstRootNode) {
    let Some(obj) = root.object_value() else {
        return;
    };
    let Some(hooks) = obj.object_value("hooks") else {
        return;
    };
    let mut removed_any_event = false;
    for event in hooks.properties() {
        let Some(list) = event.array_value() else {
            continue;
        };
        if remove_from_event(&list) && list.elements().is_empty() {
            event.remove();
            removed_any_event = true;
        }
    }
    if removed_any_event
        && hooks.properties().is_empty()
        && let Some(prop) = obj.get("hooks")
    {
        prop.remove();
    }
}

/// Removes our handlers from one event's groups; true when anything was removed.
fn remove_from_event(list: &CstArray) -> bool {
    let mut removed = false;
    for group in list.elements() {
        let Some(group_obj) = group.as_object() else {
            continue;
        };
        let Some(handlers) = group_obj.array_value("hooks") else {
            continue;
        };
        let mut removed_here = false;
        for handler in handlers.elements() {
            if handler_is_ours(&handler) {
                handler.remove();
                removed_here = true;
            }
        }
        if removed_here && handlers.elements().is_empty() {
            group.remove();
        }
        removed |= removed_here;
    }
    removed
}

fn handler_is_ours(handler: &CstNode) -> bool {
    let Some(obj) = handler.as_object() else {
        return false;
    };
    // Copilot names the command line `bash`.
    ["command", "bash"].iter().any(|key| {
        obj.get(key)
            .and_then(|p| p.value())
            .and_then(|v| v.to_serde_value())
            .and_then(|v| v.as_str().map(is_ours))
            .unwrap_or(false)
    })
}

/// Our handlers registered in a parsed settings value: (event, matcher, command) triples.
#[must_use]
pub fn registered(settings: &Value) -> Vec<(String, Option<String>, String)> {
    let mut out = Vec::new();
    let Some(hooks) = settings.get("hooks").and_then(Value::as_object) else {
        return out;
    };
    for (event, groups) in hooks {
        for group in groups.as_array().into_iter().flatten() {
            let matcher = group
                .get("matcher")
                .and_then(Value::as_str)
                .map(str::to_owned);
            for h in group
                .get("hooks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(cmd) = h
                    .get("command")
                    .or_else(|| h.get("bash"))
                    .and_then(Value::as_str)
                    && is_ours(cmd)
                {
                    out.push((event.clone(), matcher.clone(), cmd.to_owned()));
                }
            }
        }
    }
    out
}

/// The plugin-format `hooks.json`: commands are bare binary names, resolved on PATH.
#[must_use]
pub fn plugin_hooks_json(hooks: &[HookSpec]) -> String {
    let root = CstRootNode::parse("{}\n", &ParseOptions::default()).map(|root| {
        let obj = root.object_value_or_set();
        obj.append(
            "description",
            CstInputValue::String(
                "portcullis: deterministic workflow hooks for Claude Code".into(),
            ),
        );
        // Bare binary names: the plugin's hooks resolve them on PATH.
        append_groups(
            &obj.object_value_or_set("hooks"),
            hooks,
            Path::new(""),
            Client::ClaudeCode,
        );
        root.to_string()
    });
    root.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_our_commands_by_file_name() {
        assert!(is_ours("/home/u/.local/bin/portcullis"));
        assert!(!is_ours("/usr/bin/portcullis-helper"));
        assert!(!is_ours("echo hi"));
    }

    #[test]
    fn invalid_json_is_refused() {
        let err = uninstall(Path::new("/x/settings.json"), "{ \"a\": ").unwrap_err();
        assert!(err.0.contains("not valid JSON"), "{err}");
        assert!(err.0.contains("/x/settings.json"));
        assert!(
            install(
                Path::new("s"),
                "[1,2]",
                Path::new("/b"),
                &[],
                Client::ClaudeCode
            )
            .is_err()
        );
    }

    #[test]
    fn codex_commands_are_ours_quoted_or_not() {
        let plain = codex_command(Path::new("/opt/bin/feedback-loop"));
        assert_eq!(plain, "/opt/bin/feedback-loop --client codex");
        assert!(is_ours(&plain));
        let spaced = codex_command(Path::new("/my tools/it's/loop-detect"));
        assert_eq!(spaced, r"'/my tools/it'\''s/loop-detect' --client codex");
        assert!(is_ours(&spaced));
        assert!(!is_ours("/opt/bin/other --client codex"));
        assert!(is_ours(r#""/a b/secret-guard" --client codex"#));
        assert!(is_ours(r"/a\ b/secret-guard --client codex"));
    }

    #[test]
    fn matchers_in_codex_tool_names() {
        assert_eq!(
            codex_matcher("Write|Edit|MultiEdit|NotebookEdit").as_deref(),
            Some("apply_patch")
        );
        assert_eq!(
            codex_matcher("Write|Edit|MultiEdit|NotebookEdit|Bash|Read|Grep|Glob").as_deref(),
            Some("apply_patch|Bash")
        );
        assert_eq!(
            codex_matcher("Agent|Task").as_deref(),
            Some("collaborationspawn_agent")
        );
        assert_eq!(
            codex_matcher("^(Bash|Write|Edit|Agent|Task|WebFetch|Skill|mcp__.*)$").as_deref(),
            Some("^(Bash|apply_patch|collaborationspawn_agent|mcp__.*)$")
        );
        assert_eq!(codex_matcher("Read|Grep|Glob"), None);
        assert_eq!(
            codex_registration_matcher("SessionStart", "startup|resume|clear").as_deref(),
            Some("startup|resume|clear"),
            "a session source is not a tool name"
        );
    }
}
