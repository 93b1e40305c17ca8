//! The `skills` config section: where the library is, how routes are chosen, and which agent types must
//! load which skills.

use globset::Glob;
use portcullis_core::Mode;
use portcullis_core::config::{Config, Section};
use serde::{Deserialize, Serialize};

/// Skills some agent types must load before they finish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Globs over agent types (`*-developer`, `backend-*`); a plugin agent's type is `plugin:name`.
    pub agents: Vec<String>,
    /// Skill names (frontmatter `name`, or the skill's folder) each of those agents must read or invoke.
    pub skills: Vec<String>,
}

/// `skills`: the skill gateway (skill-gateway hook, `portcullis skills`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SkillsConfig {
    /// Route the main thread's prompts. Default `true`.
    pub route_prompts: bool,
    /// Route the task prompt of each `Agent` call into the subagent's prompt. Default `true`.
    pub route_agents: bool,
    /// Library folders besides `<project>/.claude/skill-library` and `~/.claude/skill-library`:
    /// project-relative, `~/...`, or absolute.
    pub libraries: Vec<String>,
    /// Most skills offered at once. Default 3.
    pub max_skills: usize,
    /// Least score a skill needs to be offered (BM25 over its name, description, keywords, headings
    /// and gateway routes). Default 4.0; `portcullis skills route "PROMPT"` shows the scores.
    pub min_score: f64,
    /// A skill below this share of the best skill's score is not offered beside it. Default 0.5.
    pub relative_cut: f64,
    /// Name prefix of gateway skills (in `.claude/skills/`), whose routing tables add intents to the
    /// library skills they route to. Default `gateway-`.
    pub gateway_prefix: String,
    /// Skills agent types must load.
    pub required: Vec<Requirement>,
    /// What a skipped required skill does: `warn` tells the orchestrator (context and the decision log),
    /// `enforce` also sends the agent back once to load it, `off` checks nothing. Default `warn`.
    pub compliance: Mode,
    /// Most files and folders looked at while indexing the libraries. Default 20,000.
    pub max_entries: usize,
}

impl Default for SkillsConfig {
    fn default() -> Self {
        Self {
            route_prompts: true,
            route_agents: true,
            libraries: Vec::new(),
            max_skills: 3,
            min_score: 4.0,
            relative_cut: 0.5,
            gateway_prefix: "gateway-".into(),
            required: Vec::new(),
            compliance: Mode::Warn,
            max_entries: 20_000,
        }
    }
}

impl Section for SkillsConfig {
    const KEY: &'static str = "skills";

    fn validate(&self, _config: &Config) -> Result<(), String> {
        if self.max_skills == 0 {
            return Err("skills.max_skills must be at least 1".into());
        }
        if !self.min_score.is_finite() || self.min_score < 0.0 {
            return Err("skills.min_score must be a number of at least 0".into());
        }
        if !(0.0..=1.0).contains(&self.relative_cut) {
            return Err("skills.relative_cut must be between 0 and 1".into());
        }
        for r in &self.required {
            for g in &r.agents {
                Glob::new(g).map_err(|e| format!("skills.required: `{g}`: {e}"))?;
            }
            if r.skills.iter().any(|s| s.trim().is_empty()) {
                return Err("skills.required: a skill name is empty".into());
            }
        }
        Ok(())
    }
}
