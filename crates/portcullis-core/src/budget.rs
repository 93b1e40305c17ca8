//! Time and size budgets: the one source for the runtime [`Deadline`](crate::Deadline) and for the
//! benchmark checks. Changing a number here changes both.

use std::time::Duration;

/// Default cap on stdin. Claude Code sends one compact JSON object; a Write of a large file is the biggest
/// realistic event. More than this is refused without reading further.
pub const MAX_STDIN_BYTES: u64 = 16 * 1024 * 1024;

/// How long one hook run may take before it gives up and takes its failure policy. Well inside the
/// `timeout` that hooks.json gives Claude Code (see [`crate::Hook::TIMEOUT_SECS`]), so we decide before we are killed.
pub const HOOK_DEADLINE: Duration = Duration::from_secs(8);

/// The `timeout` (seconds) hooks.json gives the client for a hook with the default deadline: above
/// [`HOOK_DEADLINE`], so the hook decides before it is killed.
pub const HOOK_TIMEOUT_SECS: u32 = 10;

/// The longest a state update waits for another process's lock before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(3);

/// Block size of the backwards transcript reader.
pub const REVERSE_BLOCK_BYTES: usize = 64 * 1024;

/// The most bytes a transcript tail read scans before it stops looking. Lines can be >100 KB, so this
/// leaves room for hundreds of them while keeping a 1 GB transcript as cheap as a 1 MB one.
pub const TRANSCRIPT_SCAN_BYTES: u64 = 32 * 1024 * 1024;

/// The largest config file read; bigger is an error naming the file.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The most bytes one state file may have; bigger is treated as corrupt.
pub const MAX_STATE_BYTES: u64 = 8 * 1024 * 1024;

/// Target for the common path: added wall time over an empty binary, p50, microseconds.
pub const COMMON_PATH_OVERHEAD_MICROS: u64 = 1_000;

/// Claude Code force-ends a turn after this many Stop blocks in a row with no tool call between them, unless
/// `CLAUDE_CODE_STOP_HOOK_BLOCK_CAP` says otherwise.
pub const CLIENT_STOP_BLOCK_CAP: u32 = 8;
