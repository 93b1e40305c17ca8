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

impl Client {
    /// Every client, in the order the README lists them.
    pub const ALL: [Self; 3] = [Self::ClaudeCode, Self::Codex, Self::Gemini];

    /// The name used on command lines (`--client codex`) and in config.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClaudeCode => "claude",
            Self::Codex => "codex",
            Self::Gemini => "gemini",
        }
    }

    /// The client's display name.
    #[must_use]
    pub const fn display_name(self) -> &'static str {
        match self {
            Self::ClaudeCode => "Claude Code",
            Self::Codex => "Codex CLI",
            Self::Gemini => "Gemini CLI",
        }
    }

    /// Parses a `--client` value (`claude`, `claude-code`, `codex`, `gemini`).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "claude" | "claude-code" | "claudecode" => Some(Self::ClaudeCode),
            "codex" | "codex-cli" => Some(Self::Codex),
            "gemini" | "gemini-cli" => Some(Self::Gemini),
            _ => None,
        }
    }

    /// Recognises the client from an event's payload: only Gemini names its events `BeforeTool`,
    /// `AfterAgent`, … and keeps its transcript under `.gemini/tmp/<project>/chats/`; only Codex sends a
    /// `turn_id`, names its transcript `rollout-*.jsonl`, and calls its edit tool `apply_patch`. Everything
    /// else is Claude Code.
    #[must_use]
    pub fn detect(
        event_name: Option<&str>,
        turn_id: Option<&str>,
        transcript_path: Option<&str>,
        tool: Option<&str>,
    ) -> Self {
        if event_name.is_some_and(crate::gemini::is_native_event)
            || transcript_path.is_some_and(crate::gemini::is_transcript_path)
        {
            return Self::Gemini;
        }
        let rollout = transcript_path.is_some_and(|p| {
            let path = std::path::Path::new(p);
            path.extension().is_some_and(|x| x == "jsonl")
                && path
                    .file_name()
                    .and_then(|f| f.to_str())
                    .is_some_and(|f| f.starts_with("rollout-"))
        });
        if turn_id.is_some_and(|t| !t.is_empty()) || rollout || tool == Some("apply_patch") {
            Self::Codex
        } else {
            Self::ClaudeCode
        }
    }

    /// Whether the client fires `event` at all.
    #[must_use]
    pub fn has_event(self, event: &str) -> bool {
        match self {
            Self::ClaudeCode => true,
            Self::Codex => CODEX_EVENTS.contains(&event),
            Self::Gemini => GEMINI_EVENTS.contains(&event),
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
    fn codex_is_recognised_by_turn_id_rollout_or_patch_tool() {
        assert_eq!(Client::detect(None, None, None, None), Client::ClaudeCode);
        assert_eq!(
            Client::detect(
                None,
                None,
                Some("/home/u/.claude/projects/-p/511df9ea.jsonl"),
                Some("Write")
            ),
            Client::ClaudeCode
        );
        assert_eq!(Client::detect(None, Some("t"), None, None), Client::Codex);
        assert_eq!(
            Client::detect(None, Some(""), None, None),
            Client::ClaudeCode
        );
        assert_eq!(
            Client::detect(
                None,
                None,
                Some("/h/.codex/sessions/2026/12/01/rollout-2026-12-01T11-18-53-01a2.jsonl"),
                None
            ),
            Client::Codex
        );
        assert_eq!(
            Client::detect(None, None, None, Some("apply_patch")),
            Client::Codex
        );
    }

    #[test]
    fn names_round_trip_and_codex_has_twelve_events() {
        for c in Client::ALL {
            assert_eq!(Client::parse(c.as_str()), Some(c));
        }
        assert_eq!(Client::parse("cursor"), None);
        assert_eq!(CODEX_EVENTS.len(), 12);
        assert!(!Client::Codex.has_event("PostToolUseFailure"));
        assert!(Client::ClaudeCode.has_event("PostToolUseFailure"));
    }
}
