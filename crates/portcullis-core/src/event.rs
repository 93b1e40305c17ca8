//! Serde models of hook events: Claude Code's (PROTOCOL.md §2-3, Claude Code 2.1.329), and Codex CLI's read
//! into the same shape (PROTOCOL-CODEX.md §3-4, [`crate::client`]).
//!
//! One flat, tolerant struct serves all 34 events (Claude Code's 33 and Codex's `Interrupt`): every field
//! is optional, unknown fields are ignored, an explicit `null` reads as missing, and an unknown
//! `hook_event_name` parses as [`EventName::Unknown`].
//! `tool_input` and `tool_response` stay raw JSON until a hook asks for them, so a PostToolUse carrying a
//! multi-megabyte Read result costs one scan, not a tree.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::client::Client;
use crate::error::{Error, Result};
pub use crate::tool_input::{
    AgentInput, BashInput, EditInput, FILE_EDIT_TOOLS, MultiEditInput, NotebookEditInput, OneEdit,
    PatchInput, ToolInput, WriteInput,
};

macro_rules! event_names {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// The `hook_event_name` of an event: the 33 names of Claude Code 2.1.329, Codex's one of its own
        /// (`Interrupt`), or an unknown one.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum EventName {
            $($(#[$doc])* $name,)*
            /// A name this version of portcullis does not know (a newer client). Hooks allow it silently.
            Unknown(String),
        }

        impl EventName {
            /// Every known event name, in PROTOCOL.md order.
            pub const ALL: &'static [&'static str] = &[$(stringify!($name)),*];

            /// Parses a `hook_event_name`; never fails.
            #[must_use]
            pub fn parse(name: &str) -> Self {
                match name {
                    $(stringify!($name) => Self::$name,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// The name as Claude Code spells it.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$name => stringify!($name),)*
                    Self::Unknown(s) => s,
                }
            }
        }
    };
}

event_names! {
    /// Before a tool call runs; can deny, ask or allow it.
    PreToolUse,
    /// A permission dialog would be shown.
    PermissionRequest,
    /// The auto-mode classifier denied a call.
    PermissionDenied,
    /// A tool call succeeded.
    PostToolUse,
    /// A tool call failed (a Bash non-zero exit counts).
    PostToolUseFailure,
    /// All tool calls of one model turn resolved.
    PostToolBatch,
    /// The client sends a notification.
    Notification,
    /// A prompt is submitted.
    UserPromptSubmit,
    /// A slash command or MCP prompt expands.
    UserPromptExpansion,
    /// A session starts, resumes, clears, compacts or forks.
    SessionStart,
    /// A session ends.
    SessionEnd,
    /// The main agent finished its turn.
    Stop,
    /// A turn ended by an API error.
    StopFailure,
    /// A subagent was spawned.
    SubagentStart,
    /// A subagent is about to finish.
    SubagentStop,
    /// Before compaction.
    PreCompact,
    /// After compaction.
    PostCompact,
    /// Before a model switch.
    PreModelSwitch,
    /// After a model switch.
    PostModelSwitch,
    /// `--init` / `--maintenance`.
    Setup,
    /// An agent-team teammate is about to go idle.
    TeammateIdle,
    /// A task was created.
    TaskCreated,
    /// A task was marked completed.
    TaskCompleted,
    /// An MCP server asks for user input.
    Elicitation,
    /// The user answered an elicitation.
    ElicitationResult,
    /// A settings or skills file changed.
    ConfigChange,
    /// A worktree is needed.
    WorktreeCreate,
    /// A worktree was removed.
    WorktreeRemove,
    /// A CLAUDE.md or rules file was loaded.
    InstructionsLoaded,
    /// The working directory changed.
    CwdChanged,
    /// A watched file changed.
    FileChanged,
    /// A directory was added.
    DirectoryAdded,
    /// Streamed assistant text was flushed to the display.
    MessageDisplay,
    /// Codex only: a turn was interrupted (PROTOCOL-CODEX.md §3).
    Interrupt,
}

/// `effort` on tool events and Stop for effort-capable models.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Effort {
    /// e.g. `"high"`.
    pub level: Option<String>,
}

/// One entry of `background_tasks` on Stop/SubagentStop.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BackgroundTask {
    /// Task id (for subagents, the agent id).
    pub id: Option<String>,
    /// `subagent`, `shell`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `running`, `completed`, ...
    pub status: Option<String>,
    /// What the task does.
    pub description: Option<String>,
    /// The agent type, for subagents.
    pub agent_type: Option<String>,
}

impl BackgroundTask {
    /// True while the task still works (so the turn's end is not the end of the work).
    #[must_use]
    pub fn is_running(&self) -> bool {
        matches!(self.status.as_deref(), None | Some("running" | "pending"))
    }
}

/// One call of `PostToolBatch.tool_calls`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BatchToolCall {
    /// The tool.
    pub tool_name: Option<String>,
    /// Its input (pre-`updatedInput`).
    pub tool_input: Option<Box<RawValue>>,
    /// Its id.
    pub tool_use_id: Option<String>,
    /// The model-facing result string.
    pub tool_response: Option<Box<RawValue>>,
}

/// A hook event as read from stdin. See the module docs for the tolerance rules.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs)] // field names are Claude Code's own, documented in PROTOCOL.md §2-3
pub struct Event {
    // Common fields (§3).
    pub session_id: Option<String>,
    pub transcript_path: Option<String>,
    pub cwd: Option<String>,
    pub hook_event_name: Option<String>,
    /// Claude Code's prompt id; for Codex, its `turn_id` (the same role: one user turn, kept across Stop
    /// re-fires).
    pub prompt_id: Option<String>,
    /// Codex only: the turn.
    pub turn_id: Option<String>,
    /// The client that sent the event (not a field of the payload: see [`Event::parse_as`]).
    #[serde(skip)]
    pub client: Client,
    /// The event name as the client sent it, when it reads it under another (Gemini's `BeforeTool` for
    /// `PreToolUse`); `None` when the two are the same.
    #[serde(skip)]
    pub native_event_name: Option<String>,
    /// The tool name as the client sent it, when it reads it under another (Gemini's
    /// `run_shell_command` for `Bash`).
    #[serde(skip)]
    pub native_tool_name: Option<String>,
    pub permission_mode: Option<String>,
    /// Gemini and Copilot: when the event fired (ISO 8601; Copilot's camelCase events: milliseconds).
    pub timestamp: Option<serde_json::Value>,
    /// Present only when fired inside a subagent.
    pub agent_id: Option<String>,
    /// With `agent_id` in subagents; alone on the main thread of `--agent` sessions.
    pub agent_type: Option<String>,
    pub effort: Option<Effort>,

    // Tool events.
    pub tool_name: Option<String>,
    pub tool_input: Option<Box<RawValue>>,
    pub tool_response: Option<Box<RawValue>>,
    /// Copilot: the result (`{result_type, text_result_for_llm}`), read into `tool_response`.
    pub tool_result: Option<Box<RawValue>>,
    pub tool_use_id: Option<String>,
    pub duration_ms: Option<u64>,
    pub mcp_server: Option<Box<RawValue>>,
    pub permission_suggestions: Option<Box<RawValue>>,
    /// PostToolUseFailure (`"Exit code 1"`), StopFailure (an error kind).
    pub error: Option<String>,
    pub error_details: Option<Box<RawValue>>,
    pub is_interrupt: Option<bool>,
    pub tool_calls: Option<Vec<BatchToolCall>>,

    // Prompts.
    pub prompt: Option<String>,
    pub session_title: Option<String>,
    pub expansion_type: Option<String>,
    pub command_name: Option<String>,
    pub command_args: Option<String>,
    pub command_source: Option<String>,

    // Session lifecycle.
    /// SessionStart `source` (startup, resume, clear, compact, fork); also UserPromptSubmit, ConfigChange,
    /// DirectoryAdded and the model-switch events.
    pub source: Option<String>,
    pub model: Option<String>,
    pub seconds_since_last_response: Option<u64>,
    pub context_tokens: Option<u64>,
    pub prompt_cache_likely_expired: Option<bool>,
    /// SessionEnd and PermissionDenied.
    pub reason: Option<String>,

    // Stop / SubagentStop.
    pub stop_hook_active: Option<bool>,
    pub last_assistant_message: Option<String>,
    /// Gemini's `AfterAgent`: every answer of the prompt so far (read into `last_assistant_message`).
    pub prompt_response: Option<String>,
    pub background_tasks: Option<Vec<BackgroundTask>>,
    pub session_crons: Option<Vec<Box<RawValue>>>,
    pub agent_transcript_path: Option<String>,

    // Compaction, setup.
    pub trigger: Option<String>,
    pub custom_instructions: Option<String>,
    pub compact_summary: Option<String>,

    // Model switch.
    pub from_model: Option<String>,
    pub to_model: Option<String>,
    pub requested_model: Option<String>,

    // Notification, elicitation, tasks, files.
    pub notification_type: Option<String>,
    pub message: Option<String>,
    pub title: Option<String>,
    pub mcp_server_name: Option<String>,
    pub action: Option<String>,
    pub task_id: Option<String>,
    pub task_subject: Option<String>,
    pub teammate_name: Option<String>,
    pub team_name: Option<String>,
    pub file_path: Option<String>,
    pub event: Option<String>,
    pub name: Option<String>,
    pub worktree_path: Option<String>,
    pub memory_type: Option<String>,
    pub load_reason: Option<String>,
    pub old_cwd: Option<String>,
    pub new_cwd: Option<String>,
    pub directory: Option<String>,
}

impl Event {
    /// Parses one event from stdin bytes. The input must be one JSON object; `hook_event_name` is required
    /// (without it no hook can know what it is looking at).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        Self::parse_as(bytes, None)
    }

    /// [`Event::parse`] for a known client (`--client` on the registered command), or recognising it from
    /// the payload ([`Client::detect`]). A Codex event is normalised: its `turn_id` stands in for the
    /// missing `prompt_id`; a Gemini event is read into Claude Code's names ([`crate::gemini`]).
    pub fn parse_as(bytes: &[u8], client: Option<Client>) -> Result<Self> {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        match first {
            None => return Err(Error::BadEvent("stdin is empty".into())),
            Some(b'{') => {}
            Some(_) => return Err(Error::BadEvent("expected a JSON object".into())),
        }
        // Repaired before parsing, not after a failure: the raw `tool_input`/`tool_response` would
        // otherwise keep a lone surrogate that fails the hook's own parse later.
        let bytes = crate::json::replace_lone_surrogates(bytes);
        let mut event: Self =
            serde_json::from_slice(&bytes).map_err(|e| Error::BadEvent(e.to_string()))?;
        if event.hook_event_name.as_deref().is_none_or(str::is_empty) {
            return Err(Error::MissingField("hook_event_name"));
        }
        event.client = client.unwrap_or_else(|| Client::detect(&event));
        if event.client == Client::Codex && event.prompt_id.is_none() {
            event.prompt_id.clone_from(&event.turn_id);
        }
        match event.client {
            Client::Gemini => crate::gemini::normalise(&mut event),
            Client::Copilot => crate::copilot::normalise(&mut event),
            Client::ClaudeCode | Client::Codex => {}
        }
        Ok(event)
    }

    /// The event's name as the client spells it (and matches hooks by, in its settings).
    #[must_use]
    pub fn client_event_name(&self) -> &str {
        self.native_event_name
            .as_deref()
            .or(self.hook_event_name.as_deref())
            .unwrap_or_default()
    }

    /// The tool's name as the client spells it (and matches hooks by).
    #[must_use]
    pub fn client_tool_name(&self) -> Option<&str> {
        self.native_tool_name
            .as_deref()
            .or(self.tool_name.as_deref())
    }

    /// The event's name.
    #[must_use]
    pub fn name(&self) -> EventName {
        EventName::parse(self.hook_event_name.as_deref().unwrap_or_default())
    }

    /// True when the event was fired inside a subagent (`agent_id` present).
    #[must_use]
    pub fn is_subagent(&self) -> bool {
        self.agent_id.as_deref().is_some_and(|s| !s.is_empty())
    }

    /// The session id, or an error naming the field.
    pub fn session(&self) -> Result<&str> {
        self.session_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or(Error::MissingField("session_id"))
    }

    /// The agent this event belongs to: its `agent_id`, or `"main"` for the main thread.
    #[must_use]
    pub fn agent_key(&self) -> &str {
        self.agent_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or("main")
    }

    /// The tool name with legacy aliases resolved (`Task` → `Agent`).
    #[must_use]
    pub fn tool(&self) -> Option<&str> {
        self.tool_name.as_deref().map(canonical_tool_name)
    }

    /// The tool input, typed for the tools portcullis reads; [`ToolInput::Other`] for the rest.
    pub fn tool_input(&self) -> Result<ToolInput> {
        let Some(tool) = self.tool() else {
            return Ok(ToolInput::Other);
        };
        let Some(raw) = &self.tool_input else {
            return Err(Error::MissingField("tool_input"));
        };
        ToolInput::parse(tool, raw.get())
    }

    /// The file paths this tool call writes to: as given for Claude Code's tools (absolute in practice);
    /// a Codex patch's paths resolved against the event's `cwd` (they are usually relative).
    pub fn touched_paths(&self) -> Result<Vec<PathBuf>> {
        let input = self.tool_input()?;
        let paths = input.touched_paths();
        if !matches!(input, ToolInput::Patch(_) | ToolInput::Bash(_)) {
            return Ok(paths);
        }
        let Some(cwd) = self.cwd.as_deref().filter(|c| !c.is_empty()) else {
            return Ok(paths);
        };
        Ok(paths
            .iter()
            .map(|p| absolutize(p, Path::new(cwd)))
            .collect())
    }

    /// What a shell call printed, as text: Codex's `tool_response` string, Gemini's `llmContent`, or Claude
    /// Code's `stdout` and `stderr`, followed by a failure's `error` text. Empty when the event carries none.
    #[must_use]
    pub fn tool_output_text(&self) -> String {
        let response = self
            .tool_response
            .as_deref()
            .and_then(|r| serde_json::from_str::<serde_json::Value>(r.get()).ok());
        let mut out = match &response {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Object(o)) if o.contains_key("llmContent") => {
                crate::gemini::response_text(o).unwrap_or_default()
            }
            Some(r) => {
                let field = |name: &str| r[name].as_str().unwrap_or_default().to_owned();
                format!("{}\n{}", field("stdout"), field("stderr"))
            }
            None => String::new(),
        };
        if let Some(error) = &self.error {
            out.push('\n');
            out.push_str(error);
        }
        out
    }

    /// Whether the event tells a failed call from a successful one: Claude Code fires
    /// `PostToolUseFailure` for a failure, and a Gemini or Copilot failure is read as one; Codex
    /// fires `PostToolUse` for both and gives no exit code (PROTOCOL-CODEX.md §1 item 6), so there only the
    /// output can tell.
    #[must_use]
    pub fn exit_status_known(&self) -> bool {
        self.client != Client::Codex
    }

    /// True if the event carries a running background task (the turn's end is not the end of the work).
    #[must_use]
    pub fn has_running_background_tasks(&self) -> bool {
        self.background_tasks
            .as_ref()
            .is_some_and(|t| t.iter().any(BackgroundTask::is_running))
    }
}

/// Resolves tool aliases to the names hooks match on: Claude Code's legacy `Task` and Codex's spawn tool
/// (`collaborationspawn_agent`: namespace and name run together) are `Agent`. Codex's shell tool is already
/// `Bash`; its edit tool stays `apply_patch` ([`ToolInput::Patch`]).
#[must_use]
pub fn canonical_tool_name(name: &str) -> &str {
    match name {
        "Task" | "collaborationspawn_agent" | "spawn_agent" => "Agent",
        other => other,
    }
}

/// Resolves `path` against `base` when it is relative, then applies `.` and `..` lexically. Does not touch
/// the file system.
#[must_use]
pub fn absolutize(path: &Path, base: &Path) -> PathBuf {
    if path.is_absolute() {
        lexical(path)
    } else {
        lexical(&base.join(path))
    }
}

/// Applies `.` and `..` without touching the file system (`..` at the root stays at the root).
#[must_use]
pub fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRE_WRITE: &str = r#"{"session_id":"511df9ea-07c9-4523-a20d-a6d41c7e459a","transcript_path":"/home/u/.claude/projects/-home-u-proj/511df9ea-07c9-4523-a20d-a6d41c7e459a.jsonl","cwd":"/home/u/proj","prompt_id":"09478881-3526-4009-a259-ff56e52bcb61","permission_mode":"bypassPermissions","hook_event_name":"PreToolUse","tool_name":"Write","tool_input":{"file_path":"/home/u/proj/hello.txt","content":"hi\n"},"tool_use_id":"toolu_0000"}"#;

    #[test]
    fn parses_a_real_pretooluse_write() {
        let e = Event::parse(PRE_WRITE.as_bytes()).unwrap();
        assert_eq!(e.name(), EventName::PreToolUse);
        assert!(!e.is_subagent());
        assert_eq!(
            e.touched_paths().unwrap(),
            vec![PathBuf::from("/home/u/proj/hello.txt")]
        );
        assert_eq!(e.agent_key(), "main");
    }

    #[test]
    fn unknown_event_and_fields_pass() {
        let e = Event::parse(
            br#"{"hook_event_name":"FutureThing","session_id":"s","brand_new":{"x":[1]}}"#,
        )
        .unwrap();
        assert_eq!(e.name(), EventName::Unknown("FutureThing".into()));
    }

    #[test]
    fn explicit_null_reads_as_missing() {
        let e = Event::parse(
            br#"{"hook_event_name":"Stop","session_id":null,"stop_hook_active":null}"#,
        )
        .unwrap();
        assert!(e.session().is_err());
        assert_eq!(e.stop_hook_active, None);
    }

    #[test]
    fn rejects_non_objects_and_missing_name() {
        for bad in [
            &b""[..],
            b"  \n",
            b"[]",
            b"42",
            b"\"x\"",
            b"not json",
            b"{}",
            b"{\"hook_event_name\":5}",
        ] {
            assert!(
                Event::parse(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn task_is_agent_and_multiedit_touches_its_file() {
        let e = Event::parse(br#"{"hook_event_name":"PreToolUse","tool_name":"Task","tool_input":{"prompt":"p","subagent_type":"x"}}"#).unwrap();
        assert!(
            matches!(e.tool_input().unwrap(), ToolInput::Agent(a) if a.subagent_type.as_deref() == Some("x"))
        );
        let m = Event::parse(br#"{"hook_event_name":"PreToolUse","tool_name":"MultiEdit","tool_input":{"file_path":"/p/a.rs","edits":[{"old_string":"a","new_string":"b"}]}}"#).unwrap();
        assert_eq!(m.touched_paths().unwrap(), vec![PathBuf::from("/p/a.rs")]);
        let n = Event::parse(br#"{"hook_event_name":"PreToolUse","tool_name":"NotebookEdit","tool_input":{"notebook_path":"/p/n.ipynb","new_source":"x"}}"#).unwrap();
        assert_eq!(
            n.touched_paths().unwrap(),
            vec![PathBuf::from("/p/n.ipynb")]
        );
    }

    #[test]
    fn all_34_names_round_trip() {
        assert_eq!(
            EventName::ALL.len(),
            34,
            "Claude Code's 33 and Codex's Interrupt"
        );
        for n in EventName::ALL {
            assert_eq!(EventName::parse(n).as_str(), *n);
            assert!(!matches!(EventName::parse(n), EventName::Unknown(_)));
        }
    }
}
