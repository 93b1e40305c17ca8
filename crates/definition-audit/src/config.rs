//! The `audit` config section: limits, the library's place, and each rule's level, per path.

use std::collections::BTreeMap;

use globset::{Glob, GlobSet, GlobSetBuilder};
use portcullis_core::config::{Config, Section};
use serde::{Deserialize, Serialize};

use crate::rules::{Rule, Severity};

/// A rule's level in the config: off, or a severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Not checked.
    Off,
    /// Reported; does not fail `portcullis audit`.
    Warning,
    /// Reported; `portcullis audit` exits 1.
    Error,
}

/// Levels for the rules on some paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Project-relative globs (`.claude/agents/legacy/**`); a file outside the project is matched by its
    /// absolute path.
    pub paths: Vec<String>,
    /// Rule id to level.
    pub rules: BTreeMap<String, Level>,
}

/// `audit`: how agent and skill definitions are checked (`portcullis audit` and the definition-audit
/// hook).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// The hook reports findings on a definition an agent just wrote. Default `true`.
    pub hook: bool,
    /// Most lines an agent file may have. Default 150 (seed 002 §2.2).
    pub agent_max_lines: usize,
    /// Most lines for coordinating agents (names ending in `lead_suffixes`). Default 250.
    pub lead_max_lines: usize,
    /// Name endings of agents allowed `lead_max_lines`. Default `-lead`, `-architect`.
    pub lead_suffixes: Vec<String>,
    /// Most lines a `SKILL.md` may have. Default 500.
    pub skill_max_lines: usize,
    /// The skill library, project-relative: skills agents load by path through a gateway. Default
    /// `.claude/skill-library`.
    pub library: String,
    /// Name prefix of gateway skills, whose routes must point at library skills. Default `gateway-`.
    pub gateway_prefix: String,
    /// Tools besides Claude Code's own that agents may name (`mcp__...` names always pass).
    pub extra_tools: Vec<String>,
    /// Rule id to level, for every path.
    pub rules: BTreeMap<String, Level>,
    /// Levels for some paths, later entries winning.
    pub overrides: Vec<Override>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            hook: true,
            agent_max_lines: 150,
            lead_max_lines: 250,
            lead_suffixes: vec!["-lead".into(), "-architect".into()],
            skill_max_lines: 500,
            library: ".claude/skill-library".into(),
            gateway_prefix: "gateway-".into(),
            extra_tools: Vec::new(),
            rules: BTreeMap::new(),
            overrides: Vec::new(),
        }
    }
}

impl Section for AuditConfig {
    const KEY: &'static str = "audit";
    const OPEN_MAPS: &'static [&'static str] = &["audit.rules"];

    fn validate(&self, _config: &Config) -> Result<(), String> {
        let ids = self
            .rules
            .keys()
            .chain(self.overrides.iter().flat_map(|o| o.rules.keys()));
        for id in ids {
            if Rule::from_id(id).is_none() {
                let known: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
                return Err(format!(
                    "audit: `{id}` is not a rule; the rules are {}",
                    known.join(", ")
                ));
            }
        }
        for o in &self.overrides {
            for p in &o.paths {
                Glob::new(p).map_err(|e| format!("audit.overrides: `{p}`: {e}"))?;
            }
        }
        if self.library.starts_with('/') || self.library.split('/').any(|c| c == "..") {
            return Err(format!(
                "audit.library: `{}` must be a folder inside the project",
                self.library
            ));
        }
        if self.agent_max_lines == 0 || self.lead_max_lines == 0 || self.skill_max_lines == 0 {
            return Err("audit: line limits must be at least 1".into());
        }
        Ok(())
    }
}

/// The levels in force: defaults, then `rules`, then each matching override.
#[derive(Debug)]
pub(crate) struct Levels {
    global: BTreeMap<Rule, Level>,
    overrides: Vec<(GlobSet, BTreeMap<Rule, Level>)>,
}

impl Levels {
    pub(crate) fn new(config: &AuditConfig) -> Self {
        let typed = |m: &BTreeMap<String, Level>| {
            m.iter()
                .filter_map(|(k, v)| Rule::from_id(k).map(|r| (r, *v)))
                .collect::<BTreeMap<_, _>>()
        };
        let overrides = config
            .overrides
            .iter()
            .map(|o| {
                let mut b = GlobSetBuilder::new();
                for p in &o.paths {
                    if let Ok(g) = Glob::new(p) {
                        b.add(g);
                    }
                }
                (
                    b.build().unwrap_or_else(|_| GlobSet::empty()),
                    typed(&o.rules),
                )
            })
            .collect();
        Self {
            global: typed(&config.rules),
            overrides,
        }
    }

    /// The severity of `rule` on `path` (project-relative where it can be), or `None` when it is off.
    pub(crate) fn severity(&self, rule: Rule, path: &str) -> Option<Severity> {
        let mut level = self.global.get(&rule).copied();
        for (set, rules) in &self.overrides {
            if let Some(l) = rules.get(&rule)
                && set.is_match(path)
            {
                level = Some(*l);
            }
        }
        match level {
            None => Some(rule.default_severity()),
            Some(Level::Off) => None,
            Some(Level::Warning) => Some(Severity::Warning),
            Some(Level::Error) => Some(Severity::Error),
        }
    }
}
