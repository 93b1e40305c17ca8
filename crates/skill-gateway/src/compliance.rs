//! Skill compliance (seed 002 §5.6, layer 1): the skills an agent type must load, checked in the
//! agent's own transcript when it stops.
//!
//! A skill counts as loaded when the agent invoked it (the `Skill` tool, by name or `plugin:name`) or
//! read its `SKILL.md` (a `Read`, or a shell command naming the file). A skipped skill is reported to the
//! orchestrator, not to the agent that is already done: as context on the `Agent` call's result when the
//! agent ran in the foreground, else at the main thread's next prompt (a background agent's result
//! arrives as a task-notification turn). In `enforce` mode the agent is first sent back, once, to load
//! it; the stop chain bounds that like any other block.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use globset::{Glob, GlobSetBuilder};
use portcullis_core::budget;
use portcullis_core::state::StateFile;
use portcullis_core::transcript::contains_quoted;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::SkillsConfig;
use crate::index::Index;

/// A subagent that finished without loading skills its type must load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Skip {
    /// The agent's id (`agent_id`).
    pub(crate) agent_id: String,
    /// Its type (`agent_type`).
    pub(crate) agent_type: String,
    /// The required skills it did not load.
    pub(crate) missing: Vec<String>,
}

/// The gateway's per-session state: `sessions/<id>/skill-gateway.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Session {
    /// `SKILL.md` paths already offered to the main thread.
    pub(crate) offered: BTreeSet<String>,
    /// Agents already sent back once to load their skills.
    pub(crate) sent_back: BTreeSet<String>,
    /// Agents whose skip is already on record (an agent may stop several times, other hooks blocking).
    pub(crate) reported: BTreeSet<String>,
    /// Skips not yet told to the orchestrator.
    pub(crate) pending: Vec<Skip>,
}

impl StateFile for Session {
    const NAME: &'static str = "skill-gateway";
    const SCHEMA_VERSION: u32 = 1;
}

/// The skills `agent_type` must load, in config order, without repeats.
pub(crate) fn required(agent_type: &str, config: &SkillsConfig) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in &config.required {
        let mut b = GlobSetBuilder::new();
        for g in &r.agents {
            if let Ok(g) = Glob::new(g) {
                b.add(g);
            }
        }
        let Ok(set) = b.build() else { continue };
        if set.is_match(agent_type) {
            for s in &r.skills {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
        }
    }
    out
}

/// What the agent's transcript shows it loaded: skill names it invoked, and `SKILL.md` paths it read
/// or named in a shell command. Reads at most [`budget::TRANSCRIPT_SCAN_BYTES`]; lines that do not parse
/// are skipped.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    invoked: BTreeSet<String>,
    read: Vec<String>,
}

impl Loaded {
    /// Reads the transcript at `path`.
    pub(crate) fn from_transcript(path: &Path) -> std::io::Result<Self> {
        let file = portcullis_core::files::open_regular(path)?;
        let reader = BufReader::new(file.take(budget::TRANSCRIPT_SCAN_BYTES));
        let mut loaded = Self::default();
        for line in reader.split(b'\n') {
            let line = line?;
            // Only lines with a tool call can load a skill; most lines are skipped unparsed.
            if !contains_quoted(&line, "tool_use") {
                continue;
            }
            let Ok(entry) = serde_json::from_slice::<Value>(&line) else {
                continue;
            };
            let Some(blocks) = entry.pointer("/message/content").and_then(Value::as_array) else {
                continue;
            };
            for block in blocks.iter().filter(|b| b["type"] == "tool_use") {
                loaded.note(&block["name"], &block["input"]);
            }
        }
        Ok(loaded)
    }

    fn note(&mut self, tool: &Value, input: &Value) {
        match tool.as_str() {
            Some("Skill") => {
                let name = input["skill"]
                    .as_str()
                    .or_else(|| input["command"].as_str())
                    .unwrap_or("");
                let name = name.trim().trim_start_matches('/');
                let bare = name.rsplit(':').next().unwrap_or(name);
                self.invoked.insert(bare.to_owned());
            }
            Some("Read") => {
                if let Some(p) = input["file_path"].as_str() {
                    self.read.push(p.to_owned());
                }
            }
            Some("Bash" | "PowerShell") => {
                if let Some(c) = input["command"].as_str()
                    && c.contains("SKILL.md")
                {
                    self.read.push(c.to_owned());
                }
            }
            _ => {}
        }
    }

    /// True when skill `name` was invoked, or a `SKILL.md` of it (its folder is named so, or the
    /// library's skill of that name lives there) was read.
    pub(crate) fn has(&self, name: &str, index: &Index) -> bool {
        if self.invoked.contains(name) {
            return true;
        }
        let folder = format!("/{name}/SKILL.md");
        let paths: Vec<&str> = index
            .paths_named(name)
            .map(|p| p.trim_start_matches("~/"))
            .collect();
        self.read.iter().any(|r| {
            r.contains(&folder)
                || r.starts_with(&format!("{name}/SKILL.md"))
                || paths.iter().any(|p| r.contains(p))
        })
    }
}

/// How to load each missing skill: the library path to read, or the core skill to invoke.
pub(crate) fn how_to_load(missing: &[String], index: &Index) -> String {
    let by_name: BTreeMap<&str, &str> = index
        .docs
        .iter()
        .map(|d| (d.name.as_str(), d.path.as_str()))
        .collect();
    missing
        .iter()
        .map(|m| match by_name.get(m.as_str()) {
            Some(path) => format!("`{m}` (Read `{path}`)"),
            None => format!("`{m}` (invoke the `{m}` skill)"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The orchestrator's note about skips.
pub(crate) fn report(skips: &[Skip]) -> String {
    let mut lines = vec!["skill-gateway: subagents finished without loading the skills their type requires; their work was not checked against them. Check it against those skills, or send the agent back to load them:".to_owned()];
    for s in skips {
        lines.push(format!(
            "- `{}` agent {}: {}",
            s.agent_type,
            s.agent_id,
            s.missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Requirement;

    #[test]
    fn requirements_match_agent_types_by_glob_in_config_order() {
        let config = SkillsConfig {
            required: vec![
                Requirement {
                    agents: vec!["*-developer".into()],
                    skills: vec!["persisting-agent-outputs".into()],
                },
                Requirement {
                    agents: vec!["backend-*".into()],
                    skills: vec![
                        "designing-rest-apis".into(),
                        "persisting-agent-outputs".into(),
                    ],
                },
            ],
            ..SkillsConfig::default()
        };
        assert_eq!(
            required("backend-developer", &config),
            ["persisting-agent-outputs", "designing-rest-apis"]
        );
        assert_eq!(
            required("frontend-developer", &config),
            ["persisting-agent-outputs"]
        );
        assert!(required("reviewer", &config).is_empty());
    }

    #[test]
    fn a_skill_is_loaded_by_invoking_it_or_reading_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("t.jsonl");
        std::fs::write(
            &t,
            concat!(
                r#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Skill","input":{"skill":"plugin:alpha"}}]}}"#,
                "\n",
                "not json, \"tool_use\"\n",
                r#"{"type":"assistant","message":{"content":[{"type":"text","text":"x"},{"type":"tool_use","name":"Read","input":{"file_path":"/p/.claude/skill-library/x/beta/SKILL.md"}}]}}"#,
                "\n",
                r#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Bash","input":{"command":"cat .claude/skills/gamma/SKILL.md"}}]}}"#,
                "\n",
                r#"{"type":"user","message":{"content":"mentions /delta/SKILL.md but loads nothing"}}"#,
                "\n",
            ),
        )
        .unwrap();
        let loaded = Loaded::from_transcript(&t).unwrap();
        let lib = Index::default();
        for name in ["alpha", "beta", "gamma"] {
            assert!(loaded.has(name, &lib), "{name}");
        }
        assert!(!loaded.has("delta", &lib));
    }
}
