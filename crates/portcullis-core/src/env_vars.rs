//! Every environment variable the chassis reads, in one place. A hook that reads more names them in its
//! own crate and lists them in [`crate::Hook::ENV_VARS`].
//!
//! The README's environment table is checked against [`ALL`] plus every registered hook's variables by a
//! test, so a variable added without documentation (or documented without existing) fails CI.

/// The project root Claude Code started in. Set by Claude Code for every hook; wins over the event's `cwd`.
pub const CLAUDE_PROJECT_DIR: &str = "CLAUDE_PROJECT_DIR";
/// Relocates `~/.claude` (Claude Code's own variable); the user config and agents are read from there.
pub const CLAUDE_CONFIG_DIR: &str = "CLAUDE_CONFIG_DIR";
/// The user's home directory; `~/.claude` lives below it unless `CLAUDE_CONFIG_DIR` is set.
pub const HOME: &str = "HOME";
/// Path of an extra config file, applied after the user and project files (later wins per key).
pub const PORTCULLIS_CONFIG: &str = "PORTCULLIS_CONFIG";
/// Overrides the state folder (default `<project>/.claude/portcullis/`). Used by tests and CI.
pub const PORTCULLIS_STATE_DIR: &str = "PORTCULLIS_STATE_DIR";
/// Overrides the claims folder (default `<project>/.claude/locks/`): `portcullis explain` runs the hooks
/// on a throwaway copy of it, as of the state folder.
pub const PORTCULLIS_LOCKS_DIR: &str = "PORTCULLIS_LOCKS_DIR";
/// Overrides the stdin cap in bytes (default 16 MiB). Input over the cap is an error, read no further.
pub const PORTCULLIS_MAX_STDIN: &str = "PORTCULLIS_MAX_STDIN";
/// When set to a non-empty value, every portcullis hook exits 0 at once and prints nothing. Set for nested
/// Claude Code sessions that portcullis itself starts, so they cannot recurse.
pub const PORTCULLIS_DISABLED: &str = "PORTCULLIS_DISABLED";
/// When set to a non-empty value, silent allows are written to the decision log too (verdict `allow`), so
/// `portcullis log` shows every event a hook saw. For debugging and the end-to-end tests; off by default
/// because a hook runs on every tool call.
pub const PORTCULLIS_LOG_ALLOWS: &str = "PORTCULLIS_LOG_ALLOWS";
/// Claude Code's own: how many blocked stops in a row (with no tool call between them) it honours before it
/// ends a turn (default 8; 0: no cap). The stop chain lets go one stop before it.
pub const CLAUDE_CODE_STOP_HOOK_BLOCK_CAP: &str = "CLAUDE_CODE_STOP_HOOK_BLOCK_CAP";

/// Git's own: folders the search for a project does not climb into (colon-separated, absolute), as git
/// stops its search for a repository there. A test's temp project sets it so that nothing above its temp
/// folder can change which project it is.
pub const GIT_CEILING_DIRECTORIES: &str = "GIT_CEILING_DIRECTORIES";

/// Where `install.sh` installs the binaries (default `~/.local/bin`). Read by the script, not the hooks.
pub const PORTCULLIS_BIN_DIR: &str = "PORTCULLIS_BIN_DIR";

/// All variables above, for the README consistency test.
pub const ALL: &[&str] = &[
    CLAUDE_PROJECT_DIR,
    CLAUDE_CONFIG_DIR,
    HOME,
    PORTCULLIS_CONFIG,
    PORTCULLIS_STATE_DIR,
    PORTCULLIS_LOCKS_DIR,
    PORTCULLIS_MAX_STDIN,
    PORTCULLIS_DISABLED,
    PORTCULLIS_LOG_ALLOWS,
    CLAUDE_CODE_STOP_HOOK_BLOCK_CAP,
    GIT_CEILING_DIRECTORIES,
    PORTCULLIS_BIN_DIR,
];
