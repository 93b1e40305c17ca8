//! The `secret_guard` and `secrets` config sections: owned here, checked by core's loader through
//! [`Section`].

use std::collections::BTreeMap;

use portcullis_core::config::{Config, Mode, Section};
use serde::{Deserialize, Serialize};

/// `secret_guard`: reading secret files, dumping the environment, and secrets in tool output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretGuardConfig {
    /// Reads of secret files and environment dumps: `enforce` (deny), `warn` (allow, tell Claude),
    /// `off`. Default `enforce`.
    pub mode: Mode,
    /// Secrets in tool output: `enforce` (the model sees the output with each secret replaced by a
    /// marker), `warn` (the output as it is, and a note not to repeat the secrets), `off`. Default
    /// `enforce`.
    pub redact: Mode,
    /// Globs of more secret files, besides the built-in list (relative to the project, or `**/name`).
    pub secret_files: Vec<String>,
    /// Globs of files that look secret by name but are not (besides `.env.example` and the like).
    pub allow_files: Vec<String>,
}

impl Default for SecretGuardConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            redact: Mode::Enforce,
            secret_files: Vec::new(),
            allow_files: Vec::new(),
        }
    }
}

impl Section for SecretGuardConfig {
    const KEY: &'static str = "secret_guard";
}

/// One named secret of the `secrets` section: the environment variable it is handed to and where its
/// value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedSecret {
    /// The environment variable the command gets it in.
    pub env: String,
    /// `file:PATH#KEY`, `op://VAULT/ITEM/FIELD` or `env:VAR`.
    pub source: String,
}

/// `secrets`: named secrets for `portcullis run-with-secrets NAME -- COMMAND`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretsConfig(pub BTreeMap<String, NamedSecret>);

impl Section for SecretsConfig {
    const KEY: &'static str = "secrets";
    const OPEN_MAPS: &'static [&'static str] = &["secrets"];

    fn validate(&self, _config: &Config) -> Result<(), String> {
        for (name, s) in &self.0 {
            crate::run::check_env_name(&s.env).map_err(|e| format!("secrets.{name}.env: {e}"))?;
            crate::run::Source::parse(&s.source)
                .map_err(|e| format!("secrets.{name}.source: {e}"))?;
        }
        Ok(())
    }
}
