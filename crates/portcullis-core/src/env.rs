//! [`Env`]: where environment variables come from (the process, or a fixed map in tests). A leaf value:
//! it imports nothing of the crate but the variable names.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::env_vars;

/// Where environment variables come from: the process, or a fixed map in tests.
#[derive(Debug, Clone, Default)]
pub enum Env {
    /// `std::env::var`.
    #[default]
    Process,
    /// A fixed set; anything else is unset.
    Map(HashMap<String, String>),
}

impl Env {
    /// A fixed environment from pairs.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// The value of `key`, treating an empty value as unset.
    #[must_use]
    pub fn var(&self, key: &str) -> Option<String> {
        match self {
            Self::Process => std::env::var(key).ok(),
            Self::Map(m) => m.get(key).cloned(),
        }
        .filter(|v| !v.is_empty())
    }

    /// `~/.claude`, honouring `CLAUDE_CONFIG_DIR`.
    #[must_use]
    pub fn claude_home(&self) -> Option<PathBuf> {
        self.var(env_vars::CLAUDE_CONFIG_DIR)
            .map(PathBuf::from)
            .or_else(|| {
                self.var(env_vars::HOME)
                    .map(|h| PathBuf::from(h).join(".claude"))
            })
    }
}
