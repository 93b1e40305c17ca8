//! Which agent client sent an event: Claude Code (PROTOCOL.md), OpenAI's Codex CLI (PROTOCOL-CODEX.md) or
//! Google's Gemini CLI (PROTOCOL-GEMINI.md).
//!
//! Every hook's `decide` is written once, against the normalised [`crate::Event`]. What differs is handled
//! in two places only: [`crate::event`] reads an event into the same shape (a Codex patch becomes the files
//! it writes, `turn_id` stands in for `prompt_id`; a Gemini `BeforeTool` is a `PreToolUse` of `Bash` when
//! the tool is `run_shell_command`, see [`crate::gemini`]), and [`crate::verdict`] writes exactly the
//! fields the client accepts (Codex refuses a whole answer that carries one field it does not know; Gemini
//! ignores Claude's `permissionDecision` and runs the tool).
//!
//! The client is known for certain when the registered command says so (`--client codex`, `--client
//! gemini`, which `portcullis install --client …` writes); otherwise it is recognised from the payload
//! ([`Client::detect`]).

use std::fmt;

/// An agent client whose hooks portcullis serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Client {
    /// Anthropic's Claude Code (2.1.329).
    #[default]
    ClaudeCode,
    /// OpenAI's Codex CLI (0.169).
    Codex,
    /// Google's Gemini CLI (0.61).
    Gemini,
    /// GitHub's Copilot CLI (1.0.102), with PascalCase (Claude-shaped) event names.
    Copilot,
}

/// The events Codex 0.169 fires (PROTOCOL-CODEX.md §3).
pub const CODEX_EVENTS: &[&str] = &[
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "Stop",
    "SubagentStart",
    "SubagentStop",
    "PreCompact",
    "PostCompact",
    "SessionEnd",
    "Interrupt",
];

/// The events Gemini CLI 0.61 fires, by the names portcullis reads them as (PROTOCOL-GEMINI.md §3;
/// [`crate::gemini::canonical_event`]): `BeforeTool` is `PreToolUse`, `AfterTool` is `PostToolUse` (and
/// `PostToolUseFailure` for a shell command that exited non-zero), `BeforeAgent` is `UserPromptSubmit`,
/// `AfterAgent` is `Stop`, `PreCompress` is `PreCompact`.
pub const GEMINI_EVENTS: &[&str] = &[
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "Stop",
    "PreCompact",
    "SessionEnd",
    "Notification",
];

/// The events Copilot CLI 1.0.102 fires in its PascalCase dialect that portcullis registers for
/// (PROTOCOL-COPILOT.md §3; `PostToolUseFailure` is a shell result with a non-zero exit, read so by
/// [`crate::copilot`]). Its `SubagentStart` and `PermissionRequest` come in the camelCase dialect whatever
/// the configured case, so they are not among them.
pub const COPILOT_EVENTS: &[&str] = &[
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "Stop",
    "SubagentStop",
    "SessionEnd",
];

/// How many held turn ends in a row Copilot CLI honours in one prompt; it ends the turn at the next one,
/// whatever the hook answers, and tool calls do not restart the count (PROTOCOL-COPILOT.md §1.2, §7).
pub const COPILOT_STOP_CAP: u32 = 8;

impl Client {
    /// Every client, in the order the README lists them.
    pub const ALL: [Self; 4] = [Self::ClaudeCode, Self::Codex, Self::Gemini, Self::Copilot];

    /// The name used on command lines (`--client codex`) and in config.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClaudeCode => "claude",
            Self::Codex => "codex",
            Self::Gemini => "gemini",
            Self::Copilot => "copilot",
        }
    }

    /// The client's display name.
    #[must_use]
    pub const fn display_name(self) -> &'static str {
        match self {
            Self::ClaudeCode => "Claude Code",
            Self::Codex => "Codex CLI",
            Self::Gemini => "Gemini CLI",
            Self::Copilot => "Copilot CLI",
        }
    }

    /// Parses a `--client` value (`claude`, `claude-code`, `codex`, `gemini`, `copilot`).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "claude" | "claude-code" | "claudecode" => Some(Self::ClaudeCode),
            "codex" | "codex-cli" => Some(Self::Codex),
            "gemini" | "gemini-cli" => Some(Self::Gemini),
            "copilot" | "copilot-cli" => Some(Self::Copilot),
            _ => None,
        }
    }

    /// Recognises the client from an event's payload: only Gemini names its events `BeforeTool`,
    /// `AfterAgent`, … and keeps its transcript under `.gemini/tmp/<project>/chats/`; only Codex sends a
    /// `turn_id`, names its transcript `rollout-*.jsonl`, and calls its edit tool `apply_patch`; only Copilot
    /// sends a `tool_result`, keeps its transcript as `session-state/<id>/events.jsonl`, or stamps an event
    /// with a `timestamp` and names no transcript (Claude Code names one on every event). Everything else
    /// is Claude Code.
    #[must_use]
    pub fn detect(event: &crate::event::Event) -> Self {
        let transcript = event.transcript_path.as_deref();
        if event
            .hook_event_name
            .as_deref()
            .is_some_and(crate::gemini::is_native_event)
            || transcript.is_some_and(crate::gemini::is_transcript_path)
        {
            return Self::Gemini;
        }
        let rollout = transcript.is_some_and(|p| {
            let path = std::path::Path::new(p);
            path.extension().is_some_and(|x| x == "jsonl")
                && path
                    .file_name()
                    .and_then(|f| f.to_str())
                    .is_some_and(|f| f.starts_with("rollout-"))
        });
        if event.turn_id.as_deref().is_some_and(|t| !t.is_empty())
            || rollout
            || event.tool_name.as_deref() == Some("apply_patch")
        {
            return Self::Codex;
        }
        // Claude Code names its transcript on every event; Copilot only on a Stop, where it is its own
        // event log. So a stamp alone is not enough should Claude Code ever add one.
        if event.tool_result.is_some()
            || transcript.is_some_and(crate::copilot::is_transcript_path)
            || (event.timestamp.is_some() && transcript.is_none())
        {
            return Self::Copilot;
        }
        Self::ClaudeCode
    }

    /// Whether the client fires `event` at all.
    #[must_use]
    pub fn has_event(self, event: &str) -> bool {
        match self {
            Self::ClaudeCode => true,
            Self::Codex => CODEX_EVENTS.contains(&event),
            Self::Gemini => GEMINI_EVENTS.contains(&event),
            Self::Copilot => COPILOT_EVENTS.contains(&event),
        }
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a hook works in a client besides Claude Code, and why not when it does not (the README's hook
/// table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientSupport {
    /// Registered for the events the client has.
    Yes,
    /// Registered, with this limit (e.g. "prompts only").
    Partly(&'static str),
    /// Not registered in the client, for this reason.
    No(&'static str),
}

impl ClientSupport {
    /// True unless [`ClientSupport::No`].
    #[must_use]
    pub const fn is_registered(self) -> bool {
        !matches!(self, Self::No(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, EventName, FILE_EDIT_TOOLS, ToolInput};
    use std::path::PathBuf;

    fn codex(name: &str) -> Event {
        let path = format!(
            "{}/../../fixtures/events-codex/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Event::parse(&text).unwrap()
    }

    #[test]
    fn a_codex_patch_is_the_files_it_writes_resolved_against_cwd() {
        let e = codex("PreToolUse-apply_patch");
        assert_eq!(e.client, Client::Codex);
        assert_eq!(e.prompt_id, e.turn_id, "turn_id stands in for prompt_id");
        assert!(e.tool_input().unwrap().is_file_edit());
        assert_eq!(
            e.touched_paths().unwrap(),
            vec![
                PathBuf::from("/home/u/proj/notes.txt"),
                PathBuf::from("/home/u/proj/src/new.rs")
            ]
        );
        assert!(FILE_EDIT_TOOLS.contains(&e.tool().unwrap()));
    }

    #[test]
    fn codex_shell_output_is_a_string_and_its_exit_status_unknown() {
        let e = codex("PostToolUse-Bash-failed");
        assert_eq!(
            e.tool_output_text(),
            "cat: missing-file.txt: No such file or directory\n"
        );
        assert!(!e.exit_status_known());
        let cc = Event::parse(br#"{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_response":{"stdout":"a","stderr":"b"}}"#).unwrap();
        assert_eq!(cc.tool_output_text(), "a\nb");
        assert!(cc.exit_status_known());
    }

    #[test]
    fn codex_spawn_agent_is_an_agent_call() {
        let e = codex("PreToolUse-spawn_agent");
        assert_eq!(e.tool(), Some("Agent"));
        let ToolInput::Agent(a) = e.tool_input().unwrap() else {
            panic!("not an agent call")
        };
        assert_eq!(a.prompt.as_deref(), Some("SUBTASK-MARKER: write sub.txt"));
        assert_eq!(a.name.as_deref(), Some("helper"));
    }

    #[test]
    fn a_patch_applied_through_the_shell_still_names_its_files() {
        let e = Event::parse(br#"{"hook_event_name":"PreToolUse","turn_id":"t","cwd":"/p","tool_name":"Bash","tool_input":{"command":"apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: REPORT.md\n+x\n*** End Patch\nEOF"}}"#).unwrap();
        assert_eq!(
            e.touched_paths().unwrap(),
            vec![PathBuf::from("/p/REPORT.md")]
        );
        let plain = Event::parse(
            br#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#,
        )
        .unwrap();
        assert!(plain.touched_paths().unwrap().is_empty());
    }

    #[test]
    fn every_codex_capture_parses_as_codex() {
        let dir = format!("{}/../../fixtures/events-codex", env!("CARGO_MANIFEST_DIR"));
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let e = Event::parse(&std::fs::read(&path).unwrap()).unwrap();
            assert!(
                !matches!(e.name(), EventName::Unknown(_)),
                "{}",
                path.display()
            );
            assert_eq!(e.client, Client::Codex, "{}", path.display());
            n += 1;
        }
        assert!(n >= 21);
    }

    #[test]
    fn each_client_is_recognised_by_what_only_it_sends() {
        let detect = |json: &str| Event::parse(json.as_bytes()).unwrap().client;
        assert_eq!(detect(r#"{"hook_event_name":"Stop"}"#), Client::ClaudeCode);
        assert_eq!(
            detect(
                r#"{"hook_event_name":"PreToolUse","transcript_path":"/home/u/.claude/projects/-p/511df9ea.jsonl","tool_name":"Write"}"#
            ),
            Client::ClaudeCode
        );
        assert_eq!(
            detect(r#"{"hook_event_name":"Stop","turn_id":"t"}"#),
            Client::Codex
        );
        assert_eq!(
            detect(r#"{"hook_event_name":"Stop","turn_id":""}"#),
            Client::ClaudeCode
        );
        assert_eq!(
            detect(
                r#"{"hook_event_name":"Stop","transcript_path":"/h/.codex/sessions/2026/12/01/rollout-2026-12-01T11-18-53-01a2.jsonl"}"#
            ),
            Client::Codex
        );
        assert_eq!(
            detect(r#"{"hook_event_name":"PreToolUse","tool_name":"apply_patch"}"#),
            Client::Codex
        );
        assert_eq!(
            detect(r#"{"hook_event_name":"AfterAgent"}"#),
            Client::Gemini
        );
        assert_eq!(
            detect(
                r#"{"hook_event_name":"SessionEnd","timestamp":"2026-12-07T01:37:07.280Z","transcript_path":"/h/.gemini/tmp/p/chats/session-x.jsonl"}"#
            ),
            Client::Gemini
        );
        assert_eq!(
            detect(r#"{"hook_event_name":"SessionEnd","timestamp":"2026-12-07T01:38:32.227Z"}"#),
            Client::Copilot
        );
        assert_eq!(
            detect(
                r#"{"hook_event_name":"PreToolUse","timestamp":"2026-12-07T01:38:32.227Z","transcript_path":"/home/u/.claude/projects/-p/511df9ea.jsonl"}"#
            ),
            Client::ClaudeCode,
            "a stamp on a Claude Code event, which names its transcript, does not make it Copilot's"
        );
    }

    #[test]
    fn names_round_trip_and_codex_has_twelve_events() {
        assert_eq!(Client::parse("copilot"), Some(Client::Copilot));
        for c in Client::ALL {
            assert_eq!(Client::parse(c.as_str()), Some(c));
        }
        assert_eq!(Client::parse("cursor"), None);
        assert_eq!(CODEX_EVENTS.len(), 12);
        assert!(!Client::Codex.has_event("PostToolUseFailure"));
        assert!(Client::ClaudeCode.has_event("PostToolUseFailure"));
    }
}
