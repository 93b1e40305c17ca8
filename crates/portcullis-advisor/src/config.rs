//! The `escalation_advisor` config section (escalation-advisor's, and handoff-router's advisor route),
//! checked by core's loader through [`Section`].

use portcullis_core::config::{Config, Mode, Section};
use serde::{Deserialize, Serialize};

/// The longest `escalation_advisor.timeout_secs` may be: well inside the deadline of the hooks that ask
/// (escalation-advisor's and handoff-router's, 50 s), leaving time to gather the prompt before and to build
/// a fallback after.
pub const ADVISOR_MAX_TIMEOUT_SECS: u32 = 40;

/// `escalation_advisor`: when an agent's stops keep being blocked, ask another model why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EscalationAdvisorConfig {
    /// `enforce` (the hint goes to Claude and the user), `warn` (to the user only) or `off`. Default
    /// `enforce`.
    pub mode: Mode,
    /// Escalate when more than this many stops of one agent in a row were blocked with no tool call
    /// between them (1 to `stop.max_consecutive_blocks` - 1, so it is reached before the stop chain lets
    /// go). Default `3`.
    pub threshold: u32,
    /// The advisor: a program and its arguments; the prompt goes to its stdin, the hint comes from its
    /// stdout. Default: the Claude Code CLI with a small model, no tools, no session file and no hooks.
    pub command: Vec<String>,
    /// The advisor for a Codex CLI session, the same way. Default: `codex exec` reading the prompt from
    /// stdin, read-only, with no session file.
    pub codex_command: Vec<String>,
    /// The advisor for a Gemini CLI session, the same way. Default: `gemini` headless in plan mode (read
    /// only), the prompt on stdin (Gemini puts it before the `-p` text), plain text out.
    pub gemini_command: Vec<String>,
    /// The advisor for a Copilot CLI session, the same way. Default: `copilot` reading the prompt from
    /// stdin, answer only (`-s`), never asking the user.
    pub copilot_command: Vec<String>,
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
            gemini_command: [
                "gemini",
                "--approval-mode",
                "plan",
                "--output-format",
                "text",
                "-p",
                "Answer the request above as it asks: one line, nothing else.",
            ]
            .map(String::from)
            .to_vec(),
            copilot_command: ["copilot", "-s", "--no-ask-user", "--no-color"]
                .map(String::from)
                .to_vec(),
            codex_command: [
                "codex",
                "exec",
                "--skip-git-repo-check",
                "--ephemeral",
                "--sandbox",
                "read-only",
                "--color",
                "never",
                "-",
            ]
            .map(String::from)
            .to_vec(),
            timeout_secs: 25,
            max_prompt_bytes: 24 * 1024,
        }
    }
}

impl Section for EscalationAdvisorConfig {
    const KEY: &'static str = "escalation_advisor";

    fn validate(&self, config: &Config) -> Result<(), String> {
        let cap = config.stop.max_consecutive_blocks;
        if self.threshold == 0 || self.threshold >= cap {
            return Err(format!(
                "`escalation_advisor.threshold` must be 1 to `stop.max_consecutive_blocks` - 1 ({}), or it is never reached (found {})",
                cap.saturating_sub(1),
                self.threshold
            ));
        }
        for (key, command) in [
            ("command", &self.command),
            ("codex_command", &self.codex_command),
            ("gemini_command", &self.gemini_command),
            ("copilot_command", &self.copilot_command),
        ] {
            if command.first().is_none_or(String::is_empty) {
                return Err(format!("`escalation_advisor.{key}` must name a program"));
            }
        }
        if !(1..=ADVISOR_MAX_TIMEOUT_SECS).contains(&self.timeout_secs)
            || !(1024..=262_144).contains(&self.max_prompt_bytes)
        {
            return Err(format!(
                "`escalation_advisor.timeout_secs` must be 1 to {} and `escalation_advisor.max_prompt_bytes` 1024 to 262144 (found {} and {})",
                ADVISOR_MAX_TIMEOUT_SECS, self.timeout_secs, self.max_prompt_bytes
            ));
        }
        Ok(())
    }
}
