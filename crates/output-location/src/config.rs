//! The `output_location` config section: owned here, checked by core's loader through [`Section`].

use portcullis_core::config::{Config, Mode, Section};
use serde::{Deserialize, Serialize};

/// `output_location`: where agents' Markdown outputs may appear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputLocationConfig {
    /// `enforce` (block the stop), `warn` (tell the user) or `off`. Default `enforce`.
    pub mode: Mode,
    /// The folder (project-relative) outputs belong in. Default `.claude/.output`.
    pub output_dir: String,
    /// Globs of files that count as outputs. Default `["**/*.md"]`.
    pub patterns: Vec<String>,
    /// Globs where outputs may also appear. Default: `README.md`, `CHANGELOG.md`, `docs/**`,
    /// `.claude/agents/**`, `.claude/skills/**`, `**/SKILL.md`.
    pub allowed: Vec<String>,
}

impl Default for OutputLocationConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            output_dir: ".claude/.output".into(),
            patterns: vec!["**/*.md".into()],
            allowed: [
                "README.md",
                "CHANGELOG.md",
                "docs/**",
                ".claude/agents/**",
                ".claude/skills/**",
                "**/SKILL.md",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

impl Section for OutputLocationConfig {
    const KEY: &'static str = "output_location";

    fn validate(&self, _config: &Config) -> Result<(), String> {
        let dir = &self.output_dir;
        if dir.is_empty()
            || std::path::Path::new(dir).is_absolute()
            || dir.split('/').any(|c| c == "..")
        {
            return Err(format!(
                "`output_location.output_dir` must be a folder inside the project, like `.claude/.output` (found `{dir}`)"
            ));
        }
        Ok(())
    }
}
