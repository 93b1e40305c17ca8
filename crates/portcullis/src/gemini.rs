//! Gemini CLI's side of install, uninstall and doctor (PROTOCOL-GEMINI.md §2, §6).
//!
//! Hooks live in `settings.json`: the user's `~/.gemini/settings.json` (`$GEMINI_CLI_HOME/.gemini/` when
//! that is set), always loaded; or the project's `<project>/.gemini/settings.json`, loaded only in a
//! trusted folder. The file is JSON with comments, edited through the same concrete syntax tree as Claude
//! Code's, so comments and foreign settings stay. A handler is `{"name", "type": "command", "command":
//! "'<bin>' --client gemini", "timeout": <ms>}` (Gemini runs it through `bash -c` and counts its timeout in
//! milliseconds), registered as [`crate::registrations`] says.

use std::path::{Path, PathBuf};

use jsonc_parser::cst::CstInputValue;
use portcullis_core::{Client, Env, HookSpec};
use serde_json::Value;

/// `~/.gemini` (`$GEMINI_CLI_HOME/.gemini` when set): where the user's settings, trusted folders and
/// session files are.
#[must_use]
pub fn gemini_home(env: &Env) -> Option<PathBuf> {
    env.var("GEMINI_CLI_HOME")
        .filter(|h| !h.is_empty())
        .or_else(|| env.var("HOME").filter(|h| !h.is_empty()))
        .map(|h| Path::new(&h).join(".gemini"))
}

/// Gemini's settings files for `project` that can hold hooks, most specific first.
#[must_use]
pub fn settings_files(project: &Path, env: &Env) -> Vec<PathBuf> {
    let mut files = vec![project.join(".gemini/settings.json")];
    files.extend(gemini_home(env).map(|h| h.join("settings.json")));
    files
}

/// The shell command Gemini runs for one of our binaries.
#[must_use]
pub fn command(binary: &Path) -> String {
    crate::settings::shell_command(binary, Client::Gemini)
}

/// A Gemini handler: named (what Gemini's warnings and `hooksConfig.disabled` say), its timeout in
/// milliseconds.
pub(crate) fn handler(binary: &Path, hook: &HookSpec) -> CstInputValue {
    CstInputValue::Object(vec![
        (
            "name".into(),
            CstInputValue::String(handler_name(hook.name)),
        ),
        ("type".into(), CstInputValue::String("command".into())),
        (
            "command".into(),
            CstInputValue::String(crate::settings::shell_command(binary, Client::Gemini)),
        ),
        (
            "timeout".into(),
            CstInputValue::from(u64::from(hook.timeout_secs) * 1000),
        ),
    ])
}

/// The name a handler of `hook` has in Gemini: what its warnings and `hooksConfig.disabled` say.
#[must_use]
pub fn handler_name(hook: &str) -> String {
    format!("portcullis-{hook}")
}

/// Whether Gemini would run hooks at all, by `hooksConfig` of the given settings (`enabled: false` turns
/// every hook off), and which of ours it names in `hooksConfig.disabled`.
#[must_use]
pub fn disabled(settings: &Value) -> (bool, Vec<String>) {
    let config = &settings["hooksConfig"];
    let off = config["enabled"] == Value::Bool(false);
    let names = config["disabled"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|n| n.starts_with("portcullis-"))
        .map(str::to_owned)
        .collect();
    (off, names)
}

/// Whether `project` is a trusted folder for Gemini: `GEMINI_CLI_TRUST_WORKSPACE=true`, or a rule of
/// `~/.gemini/trustedFolders.json` covers it (`TRUST_FOLDER`: that folder and what is under it;
/// `TRUST_PARENT`: its parent and what is under that).
#[must_use]
pub fn project_trusted(home: &Path, project: &Path, env: &Env) -> bool {
    if env
        .var("GEMINI_CLI_TRUST_WORKSPACE")
        .is_some_and(|v| v == "true")
    {
        return true;
    }
    let Ok(text) = std::fs::read_to_string(home.join("trustedFolders.json")) else {
        return false;
    };
    let Some(Value::Object(folders)) = read_jsonc(&text) else {
        return false;
    };
    folders.iter().any(|(folder, level)| {
        let folder = Path::new(folder);
        let root = match level.as_str() {
            Some("TRUST_FOLDER") => Some(folder),
            Some("TRUST_PARENT") => folder.parent(),
            _ => None,
        };
        root.is_some_and(|r| project.starts_with(r))
    })
}

/// A JSON-with-comments text as a value (`None` when it does not parse).
#[must_use]
pub fn read_jsonc(text: &str) -> Option<Value> {
    crate::settings::jsonc_value(text).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registrations::{ClientRegistration, registrations};
    use portcullis_core::HookSpec;

    fn spec(name: &str) -> HookSpec {
        *portcullis_suite::HOOKS
            .iter()
            .find(|h| h.name == name)
            .unwrap()
    }

    #[test]
    fn a_hook_on_both_tool_results_is_one_after_tool_handler() {
        let regs = registrations(&spec("feedback-loop"), Client::Gemini);
        let after: Vec<_> = regs.iter().filter(|r| r.event == "AfterTool").collect();
        assert_eq!(after.len(), 1, "{regs:?}");
        assert_eq!(
            after[0].matcher.as_deref(),
            Some("^(write_file|replace|run_shell_command)$")
        );
        assert!(regs.iter().any(|r| r.event == "AfterAgent"));
        assert!(!regs.iter().any(|r| r.event == "SubagentStop"));
        let secret = registrations(&spec("secret-guard"), Client::Gemini);
        assert_eq!(
            secret,
            vec![
                ClientRegistration {
                    event: "BeforeTool",
                    matcher: Some("^(read_file|grep_search|run_shell_command)$".into())
                },
                ClientRegistration {
                    event: "AfterTool",
                    matcher: None
                },
            ]
        );
    }

    #[test]
    fn hooks_that_do_not_work_in_gemini_get_nothing() {
        assert!(registrations(&spec("agent-first"), Client::Gemini).is_empty());
        assert!(registrations(&spec("handoff-router"), Client::Gemini).is_empty());
        let skills = registrations(&spec("skill-gateway"), Client::Gemini);
        assert_eq!(
            skills,
            vec![ClientRegistration {
                event: "BeforeAgent",
                matcher: None
            }],
            "prompts only; SessionStart `compact` never fires in Gemini"
        );
    }

    #[test]
    fn trust_comes_from_the_environment_or_trusted_folders() {
        let home = tempfile::tempdir().unwrap();
        let project = Path::new("/w/p");
        assert!(!project_trusted(home.path(), project, &Env::default()));
        let env = Env::from_pairs([("GEMINI_CLI_TRUST_WORKSPACE", "true")]);
        assert!(project_trusted(home.path(), project, &env));
        std::fs::write(
            home.path().join("trustedFolders.json"),
            "{\n  // mine\n  \"/w/p\": \"TRUST_FOLDER\"\n}",
        )
        .unwrap();
        assert!(project_trusted(home.path(), project, &Env::default()));
        assert!(!project_trusted(
            home.path(),
            Path::new("/w/q"),
            &Env::default()
        ));
        assert!(project_trusted(
            home.path(),
            Path::new("/w/p/sub"),
            &Env::default()
        ));
        std::fs::write(
            home.path().join("trustedFolders.json"),
            r#"{"/w/p": "TRUST_PARENT"}"#,
        )
        .unwrap();
        assert!(project_trusted(
            home.path(),
            Path::new("/w/q"),
            &Env::default()
        ));
        assert!(!project_trusted(
            home.path(),
            Path::new("/v"),
            &Env::default()
        ));
    }
}
