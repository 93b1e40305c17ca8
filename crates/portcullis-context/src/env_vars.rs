//! The environment variables the measure reads besides the chassis' own. Every hook that measures lists
//! them in its `ENV_VARS` ([`crate::ENV_VARS`]), so the README's table is checked against them.

/// The context window in tokens for compaction-gate, over config and detection (e.g. `1000000`).
pub const PORTCULLIS_CONTEXT_WINDOW: &str = "PORTCULLIS_CONTEXT_WINDOW";
/// Claude Code's own: `1` holds 1M-capable models to 200K. compaction-gate reads it for the window.
pub const CLAUDE_CODE_DISABLE_1M_CONTEXT: &str = "CLAUDE_CODE_DISABLE_1M_CONTEXT";
/// Claude Code's own: auto-compact at this percent of the effective window. compaction-gate reads it to
/// show where the client will compact.
pub const CLAUDE_AUTOCOMPACT_PCT_OVERRIDE: &str = "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE";
/// Claude Code's own: a smaller window for auto-compaction (tokens). compaction-gate reads it likewise.
pub const CLAUDE_CODE_AUTO_COMPACT_WINDOW: &str = "CLAUDE_CODE_AUTO_COMPACT_WINDOW";

/// Copilot CLI's own: its config folder (default `~/.copilot`), where a session's event log is.
pub const COPILOT_HOME: &str = "COPILOT_HOME";

/// All of the above.
pub const ALL: &[&str] = &[
    PORTCULLIS_CONTEXT_WINDOW,
    COPILOT_HOME,
    CLAUDE_CODE_DISABLE_1M_CONTEXT,
    CLAUDE_AUTOCOMPACT_PCT_OVERRIDE,
    CLAUDE_CODE_AUTO_COMPACT_WINDOW,
];
