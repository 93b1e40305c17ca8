//! `portcullis skills list|route "PROMPT" [--json]`: the skill library as skill-gateway sees it, and what
//! it would put in front of the agent for a prompt, with every candidate's score (for tuning
//! `skills.min_score` and descriptions).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use portcullis_core::config::{Config, Schema};
use portcullis_core::{Env, env_vars};
use skill_gateway::SkillsConfig;

use super::{CmdResult, Report};

/// What `portcullis skills` was asked.
#[derive(Debug)]
pub enum SkillsRequest {
    /// The library, with problems.
    List,
    /// Route this prompt.
    Route(String),
}

/// `portcullis skills`.
pub fn skills(project: &Path, request: &SkillsRequest, json: bool, env: &Env) -> CmdResult {
    let sections = portcullis_suite::sections();
    let config = Config::load(env, project, Schema::suite(&sections)).map_err(|e| e.to_string())?;
    let skills: SkillsConfig = config.section().map_err(|e| e.to_string())?;
    let claude_home = env.claude_home();
    let home = env.var(env_vars::HOME).map(PathBuf::from);
    let text = match request {
        SkillsRequest::List => {
            let library =
                skill_gateway::library(project, claude_home.as_deref(), home.as_deref(), &skills);
            if json {
                let value = serde_json::json!({
                    "skills": library.skills,
                    "skipped": library.skipped,
                    "truncated": library.truncated,
                });
                format!("{value:#}\n")
            } else {
                list_text(&library)
            }
        }
        SkillsRequest::Route(prompt) => {
            let report = skill_gateway::route(
                project,
                claude_home.as_deref(),
                home.as_deref(),
                &skills,
                prompt,
            );
            if json {
                format!(
                    "{}\n",
                    serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
                )
            } else {
                route_text(&report, &skills)
            }
        }
    };
    Ok(Report { text, ok: true })
}

fn list_text(library: &skill_gateway::Library) -> String {
    let mut out = String::new();
    for s in &library.skills {
        let _ = writeln!(out, "{}  {}", s.name, s.path);
        for p in &s.problems {
            let _ = writeln!(out, "  problem: {p}");
        }
    }
    for s in &library.skipped {
        let _ = writeln!(out, "skipped: {}: {}", s.path, s.why);
    }
    let problems = library
        .skills
        .iter()
        .filter(|s| !s.problems.is_empty())
        .count();
    let _ = writeln!(
        out,
        "{} skills ({problems} with problems), {} skipped{}",
        library.skills.len(),
        library.skipped.len(),
        if library.truncated {
            "; the walk stopped at skills.max_entries"
        } else {
            ""
        }
    );
    out
}

fn route_text(report: &skill_gateway::RouteReport, config: &SkillsConfig) -> String {
    let mut out = String::new();
    if report.small_talk {
        out.push_str("small talk: nothing is routed\n");
    }
    for c in &report.candidates {
        let _ = writeln!(
            out,
            "{} {:>6.2}  {}  {}",
            if c.chosen { "*" } else { " " },
            c.score,
            c.name,
            c.path
        );
    }
    if report.candidates.is_empty() {
        out.push_str("no skill shares a term with the prompt\n");
    }
    let _ = writeln!(
        out,
        "(* offered: at most {}, score at least {} and at least {} of the best)",
        config.max_skills, config.min_score, config.relative_cut
    );
    if let Some(context) = &report.context {
        let _ = writeln!(out, "\n{context}");
    }
    out
}
