//! The `workspace_guard` config section: owned here, checked by core's loader through [`Section`].

use portcullis_core::config::{Config, Mode, Section};
use serde::{Deserialize, Serialize};

/// `workspace_guard`: where agents may write, and whether two agents may write one file at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkspaceGuardConfig {
    /// The jail: a write outside the workspace is denied (`enforce`), allowed with a note (`warn`), or
    /// not looked at (`off`). Default `enforce`.
    pub jail: Mode,
    /// Jail reads too (Read, Grep, Glob paths). Default `false`.
    pub jail_reads: bool,
    /// Folders besides the project, the client's `additionalDirectories` and the temp folder (`$TMPDIR`,
    /// else `/tmp`) where writes may land (absolute, or `~/...`), e.g. `/tmp` when TMPDIR is elsewhere.
    /// Default none.
    pub allow_write: Vec<String>,
    /// File claims: another agent's write to a file an agent is writing is denied (`enforce`), allowed
    /// with a note (`warn`), or claims are not kept (`off`). Default `enforce`.
    pub claims: Mode,
    /// A claim whose holder has not written the file for this many minutes is stale and may be taken.
    /// Default 60.
    pub stale_minutes: u64,
}

impl Default for WorkspaceGuardConfig {
    fn default() -> Self {
        Self {
            jail: Mode::Enforce,
            jail_reads: false,
            allow_write: Vec::new(),
            claims: Mode::Enforce,
            stale_minutes: 60,
        }
    }
}

impl Section for WorkspaceGuardConfig {
    const KEY: &'static str = "workspace_guard";

    fn validate(&self, _config: &Config) -> Result<(), String> {
        if self.stale_minutes == 0 {
            return Err("workspace_guard.stale_minutes must be at least 1".into());
        }
        if let Some(bad) = self
            .allow_write
            .iter()
            .find(|d| !(d.starts_with('/') || d.starts_with("~/") || *d == "~"))
        {
            return Err(format!(
                "workspace_guard.allow_write: `{bad}` is not an absolute folder (or `~/...`)"
            ));
        }
        Ok(())
    }
}
