//! Editing Claude Code `settings.json` files in place.
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
use portcullis_core::HookSpec;
use serde_json::Value;

/// Where hooks are installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `<dir>/.claude/settings.json`.
    Project(PathBuf),
    /// `~/.claude/settings.json`.
    User(PathBuf),
}

impl Scope {
    /// The settings file of this scope.
    #[must_use]
    pub fn settings_path(&self) -> PathBuf {
        match self {
            Self::Project(dir) => dir.join(".claude").join("settings.json"),
            Self::User(claude_home) => claude_home.join("settings.json"),
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

/// True when `command` runs one of our binaries (judged by its file name).
#[must_use]
pub fn is_ours(command: &str) -> bool {
    let name = Path::new(command.trim())
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    portcullis_suite::binaries().contains(&name)
}

/// Checks that `text` is a JSON object Claude Code would accept; the error names the file.
pub fn check_json(path: &Path, text: &str) -> Result<Value, SettingsError> {
    if text.trim().is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    match serde_json::from_str::<Value>(text) {
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

/// The settings text with our handlers (re)installed, pointing at binaries in `bin_dir`.
pub fn install(
    path: &Path,
    text: &str,
    bin_dir: &Path,
    hooks: &[HookSpec],
) -> Result<String, SettingsError> {
    let root = parse(path, text)?;
    remove_ours(&root);
    append_groups(
        &root.object_value_or_set().object_value_or_set("hooks"),
        hooks,
        bin_dir,
    );
    let after = finish(&root, text);
    // Removing and appending again can reflow the text around our groups (a one-line file gains line
    // breaks): when the settings mean the same, the file is left as it is, byte for byte.
    let same = |a: &str, b: &str| {
        serde_json::from_str::<Value>(a).ok() == serde_json::from_str::<Value>(b).ok()
    };
    Ok(if !text.trim().is_empty() && same(&after, text) {
        text.to_owned()
    } else {
        after
    })
}

/// Appends our matcher groups to a `hooks` object.
fn append_groups(hooks_obj: &CstObject, hooks: &[HookSpec], bin_dir: &Path) {
    for (event, matcher, handlers) in groups(hooks, bin_dir) {
        let list = hooks_obj.array_value_or_set(&event);
        let mut group: Vec<(String, CstInputValue)> = Vec::new();
        if let Some(m) = matcher {
            group.push(("matcher".into(), CstInputValue::String(m)));
        }
        group.push(("hooks".into(), CstInputValue::Array(handlers)));
        list.append(CstInputValue::Object(group));
    }
}

/// Our groups: one per (event, matcher), in registry order, each with the handlers of every hook on it.
fn groups(hooks: &[HookSpec], bin_dir: &Path) -> Vec<(String, Option<String>, Vec<CstInputValue>)> {
    let mut out: Vec<(String, Option<String>, Vec<CstInputValue>)> = Vec::new();
    for hook in hooks {
        for reg in hook.registrations {
            let handler = handler_value(&bin_dir.join(hook.name), hook.timeout_secs);
            let matcher = reg.matcher.map(str::to_owned);
            match out
                .iter_mut()
                .find(|(e, m, _)| e == reg.event && *m == matcher)
            {
                Some((_, _, list)) => list.push(handler),
                None => out.push((reg.event.to_owned(), matcher, vec![handler])),
            }
        }
    }
    out
}

fn handler_value(binary: &Path, timeout: u32) -> CstInputValue {
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
    handler
        .as_object()
        .and_then(|o: CstObject| o.get("command"))
        .and_then(|p| p.value())
        .and_then(|v| v.to_serde_value())
        .and_then(|v| v.as_str().map(is_ours))
        .unwrap_or(false)
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
                if let Some(cmd) = h.get("command").and_then(Value::as_str)
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
        append_groups(&obj.object_value_or_set("hooks"), hooks, Path::new(""));
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
        assert!(install(Path::new("s"), "[1,2]", Path::new("/b"), &[]).is_err());
    }
}
