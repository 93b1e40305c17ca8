//! A scenario's extra, test-only hook handlers (`[[hooks]]`), written into the client's own hook file.

use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use crate::e2e::Project;
use crate::scenario::ExtraHook;
use crate::workspace_bin;

/// Extra handlers in the project's `.claude/settings.json`.
pub(crate) fn add_hooks(
    project: &Project,
    hooks: &[ExtraHook],
    subst: &dyn Fn(&str) -> String,
) -> Result<(), String> {
    let path = project.dir.join(".claude/settings.json");
    let mut settings: Value = fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    for h in hooks {
        let bin = resolve_bin(&h.command);
        let mut group = serde_json::json!({"hooks": [{
            "type": "command",
            "command": bin.display().to_string(),
            "args": h.args.iter().map(|a| subst(a)).collect::<Vec<_>>(),
            "timeout": 30,
        }]});
        if let Some(m) = &h.matcher {
            group["matcher"] = Value::String(m.clone());
        }
        let list = settings["hooks"][&h.event]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut list = list;
        list.push(group);
        settings["hooks"][&h.event] = Value::Array(list);
    }
    fs::create_dir_all(project.dir.join(".claude")).map_err(|e| e.to_string())?;
    fs::write(
        &path,
        serde_json::to_string_pretty(&settings).unwrap_or_default(),
    )
    .map_err(|e| e.to_string())
}

/// Extra handlers in `$CODEX_HOME/hooks.json`: Codex runs the `command` through the shell, so the binary
/// and its arguments are one single-quoted command line.
pub(crate) fn add_codex_hooks(
    project: &Project,
    hooks: &[ExtraHook],
    subst: &dyn Fn(&str) -> String,
) -> Result<(), String> {
    let path = project.codex_home().join("hooks.json");
    let mut settings: Value = fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    for h in hooks {
        let handler =
            serde_json::json!({"type": "command", "command": shell_line(h, subst), "timeout": 30});
        push_group(&mut settings, h, handler);
    }
    fs::create_dir_all(project.codex_home()).map_err(|e| e.to_string())?;
    fs::write(
        &path,
        serde_json::to_string_pretty(&settings).unwrap_or_default(),
    )
    .map_err(|e| e.to_string())
}

/// An extra hook as one shell command line (the clients that run handlers through the shell): the binary
/// and its arguments, each single-quoted.
fn shell_line(h: &ExtraHook, subst: &dyn Fn(&str) -> String) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = quote(&resolve_bin(&h.command).display().to_string());
    for a in &h.args {
        line.push(' ');
        line.push_str(&quote(&subst(a)));
    }
    line
}

/// Appends a matcher group of `handler` to `settings.hooks[h.event]`.
fn push_group(settings: &mut Value, h: &ExtraHook, handler: Value) {
    let mut group = serde_json::json!({});
    group["hooks"] = Value::Array(vec![handler]);
    if let Some(m) = &h.matcher {
        group["matcher"] = Value::String(m.clone());
    }
    let mut list = settings["hooks"][&h.event]
        .as_array()
        .cloned()
        .unwrap_or_default();
    list.push(group);
    settings["hooks"][&h.event] = Value::Array(list);
}

fn resolve_bin(name: &str) -> PathBuf {
    let bin = workspace_bin(name);
    if bin.is_file() {
        return bin;
    }
    workspace_bin(&format!("examples/{name}"))
}

/// Extra handlers in the user's `~/.gemini/settings.json` (events in Gemini's names, `AfterAgent`, …):
/// Gemini runs the `command` through the shell, and counts `timeout` in milliseconds.
pub(crate) fn add_gemini_hooks(
    project: &Project,
    hooks: &[ExtraHook],
    subst: &dyn Fn(&str) -> String,
) -> Result<(), String> {
    project.write_gemini_settings();
    let path = project.gemini_home().join("settings.json");
    let text = fs::read_to_string(&path).unwrap_or_default();
    let mut settings: Value = jsonc_value(&text).unwrap_or_else(|| serde_json::json!({}));
    for (i, h) in hooks.iter().enumerate() {
        let handler = serde_json::json!({"name": format!("e2e-extra-{i}"), "type": "command",
            "command": shell_line(h, subst), "timeout": 30_000});
        push_group(&mut settings, h, handler);
    }
    fs::write(
        &path,
        serde_json::to_string_pretty(&settings).unwrap_or_default(),
    )
    .map_err(|e| e.to_string())
}

/// A JSON text that may hold comments (as Gemini's settings do), as a value.
fn jsonc_value(text: &str) -> Option<Value> {
    let stripped: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::from_str(&stripped).ok()
}

/// Extra handlers in `$COPILOT_HOME/settings.json` (events in Claude Code's PascalCase names): Copilot
/// runs the `bash` command line through the shell, and counts `timeoutSec` in seconds.
pub(crate) fn add_copilot_hooks(
    project: &Project,
    hooks: &[ExtraHook],
    subst: &dyn Fn(&str) -> String,
) -> Result<(), String> {
    let path = project.copilot_home().join("settings.json");
    let mut settings: Value = fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    for h in hooks {
        let handler =
            serde_json::json!({"type": "command", "bash": shell_line(h, subst), "timeoutSec": 30});
        push_group(&mut settings, h, handler);
    }
    fs::create_dir_all(project.copilot_home()).map_err(|e| e.to_string())?;
    fs::write(
        &path,
        serde_json::to_string_pretty(&settings).unwrap_or_default(),
    )
    .map_err(|e| e.to_string())
}
