//! The `context_filter` config section.

use portcullis_core::config::{Config, Mode, Section};
use serde::{Deserialize, Serialize};

use crate::filter::{Keep, Kind};

/// The smallest threshold allowed: under it an output is never worth the file and the extra line.
pub const MIN_THRESHOLD_BYTES: usize = 1024;

/// `context_filter`: large tool outputs reach the model filtered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContextFilterConfig {
    /// `enforce` (the model gets the filtered output), `warn` (the output as it is; the decision log
    /// records what filtering would have saved) or `off`. Default `enforce`.
    pub mode: Mode,
    /// Outputs of at least this many bytes are filtered. Default 8192; at least 1024.
    pub threshold_bytes: usize,
    /// Which kinds get their own filter; a kind turned off is filtered as `other` (head, tail, errors).
    pub kinds: KindSwitches,
    /// Regexes of lines always kept, whatever the kind.
    pub keep: Vec<String>,
    /// Text that, anywhere in a Bash command, asks for the raw output: such a command is never filtered.
    /// Default `# portcullis:raw` (a shell comment, so the command runs the same).
    pub raw_marker: String,
}

impl Default for ContextFilterConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            threshold_bytes: 8 * 1024,
            kinds: KindSwitches::default(),
            keep: Vec::new(),
            raw_marker: "# portcullis:raw".into(),
        }
    }
}

/// `context_filter.kinds`: each kind's own filter on or off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(clippy::struct_excessive_bools)] // one switch per kind, as the config file has them
pub struct KindSwitches {
    /// Test runs.
    pub tests: bool,
    /// Compiler and linter diagnostics.
    pub compiler: bool,
    /// git log, diff and show.
    pub vcs: bool,
    /// Listings of paths.
    pub listing: bool,
    /// JSON documents.
    pub json: bool,
}

impl Default for KindSwitches {
    fn default() -> Self {
        Self {
            tests: true,
            compiler: true,
            vcs: true,
            listing: true,
            json: true,
        }
    }
}

impl KindSwitches {
    /// Whether `kind` gets its own filter.
    #[must_use]
    pub fn enabled(&self, kind: Kind) -> bool {
        match kind {
            Kind::Tests => self.tests,
            Kind::Compiler => self.compiler,
            Kind::Vcs => self.vcs,
            Kind::Listing => self.listing,
            Kind::Json => self.json,
            Kind::Other => true,
        }
    }
}

impl Section for ContextFilterConfig {
    const KEY: &'static str = "context_filter";

    fn validate(&self, _config: &Config) -> std::result::Result<(), String> {
        if self.threshold_bytes < MIN_THRESHOLD_BYTES {
            return Err(format!(
                "`context_filter.threshold_bytes` is {}; it must be at least {MIN_THRESHOLD_BYTES}",
                self.threshold_bytes
            ));
        }
        if self.raw_marker.trim().is_empty() {
            return Err("`context_filter.raw_marker` must not be empty".into());
        }
        Keep::new(&self.keep).map(|_| ())
    }
}
