//! `portcullis audit [PATH...] [--json] [--fix-hints] [--user]`: the project's agent and skill
//! definitions (and its enabled plugins', and with `--user` those of `~/.claude/`) checked by
//! definition-audit's rules. Exits 1 when any finding is an error.

use std::path::{Path, PathBuf};

use definition_audit::{AuditConfig, Request, audit as run_audit};
use portcullis_core::Env;
use portcullis_core::config::{Config, Schema};

use super::{CmdResult, Report};

/// What `portcullis audit` was asked.
#[derive(Debug)]
pub struct AuditRequest {
    /// Report only on these files and folders (relative to the current folder, or absolute).
    pub paths: Vec<PathBuf>,
    /// Print JSON.
    pub json: bool,
    /// Print how to fix each finding.
    pub hints: bool,
    /// Also `~/.claude/agents` and `~/.claude/skills`.
    pub user: bool,
}

/// `portcullis audit`.
pub fn audit(project: &Path, request: &AuditRequest, env: &Env) -> CmdResult {
    let sections = portcullis_suite::sections();
    let config = Config::load(env, project, Schema::suite(&sections)).map_err(|e| e.to_string())?;
    let rules: AuditConfig = config.section().map_err(|e| e.to_string())?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| project.to_path_buf());
    let mut only = Vec::new();
    for p in &request.paths {
        let abs = cwd.join(p);
        if !abs.exists() {
            return Err(format!("{}: no such file or folder", p.display()));
        }
        only.push(abs.canonicalize().unwrap_or(abs));
    }
    let home = env.claude_home();
    let report = run_audit(
        &Request {
            project,
            claude_home: home.as_deref(),
            user: request.user,
            only: &only,
        },
        &rules,
    );
    let text = if request.json {
        format!("{}\n", report.to_json(request.hints))
    } else {
        report.to_text(request.hints)
    };
    Ok(Report {
        text,
        ok: report.passed(),
    })
}
