//! `portcullis locks`: the file claims workspace-guard keeps under `.claude/locks/` — who holds which
//! file since when, and whether the claim is stale — and `portcullis locks release PATH|--agent ID|--stale`
//! to free them by hand (under the same lock the hook uses, so a release never races a claim).

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

use portcullis_core::config::{Config, Schema};
use portcullis_core::{Deadline, Env};
use portcullis_domains::{Resolved, resolve};
use serde_json::{Value, json};
use workspace_guard::{Claims, WorkspaceGuardConfig};

use super::{CmdResult, Report};

/// What `portcullis locks release` frees.
#[derive(Debug)]
pub enum Release {
    /// The claim on one file (a path relative to the current folder, or absolute).
    Path(String),
    /// Every claim of one agent (`main` for main threads, else an agent id).
    Agent(String),
    /// Every stale claim.
    Stale,
}

fn claims(project: &Path, env: &Env) -> Result<Claims, String> {
    let sections = portcullis_suite::sections();
    let config = Config::load(env, project, Schema::suite(&sections)).map_err(|e| e.to_string())?;
    let rules: WorkspaceGuardConfig = config.section().map_err(|e| e.to_string())?;
    Ok(Claims::new(
        project,
        Duration::from_secs(rules.stale_minutes.saturating_mul(60)),
    ))
}

/// `portcullis locks [--json]`.
pub fn list_locks(project: &Path, json_out: bool, env: &Env) -> CmdResult {
    let store = claims(project, env)?;
    let found = store.list(SystemTime::now()).map_err(|e| e.to_string())?;
    if json_out {
        let v: Vec<Value> = found
            .iter()
            .map(|f| {
                json!({
                    "file": f.file.strip_prefix(project).unwrap_or(&f.file),
                    "claim": f.claim,
                    "stale": f.stale,
                })
            })
            .collect();
        return Ok(Report::ok(format!("{}\n", Value::Array(v))));
    }
    if found.is_empty() {
        return Ok(Report::ok(format!(
            "no file claims in {}\n",
            store.dir().display()
        )));
    }
    let mut text = String::new();
    for f in &found {
        match &f.claim {
            Some(c) => {
                let who = match &c.agent_type {
                    Some(t) => format!("{} ({t})", c.agent),
                    None => c.agent.clone(),
                };
                let _ = write!(
                    text,
                    "{}  held by {who}, session {}, since {}",
                    c.path,
                    c.session,
                    c.since.format("%Y-%m-%d %H:%M:%S UTC")
                );
            }
            None => {
                let _ = write!(text, "{}", f.file.display());
            }
        }
        match &f.stale {
            Some(why) => {
                let _ = writeln!(text, "  [stale: {why}]");
            }
            None => text.push('\n'),
        }
    }
    Ok(Report::ok(text))
}

/// `portcullis locks release PATH|--agent ID|--stale`.
pub fn release_locks(project: &Path, what: &Release, env: &Env) -> CmdResult {
    let store = claims(project, env)?;
    let deadline = Deadline::after(Duration::from_secs(5));
    let gone = match what {
        Release::Path(path) => {
            let cwd = std::env::current_dir().unwrap_or_else(|_| project.to_path_buf());
            let rel = match resolve(path, &cwd, project) {
                Resolved::Inside(rel) => rel,
                Resolved::Outside(p) => {
                    return Err(format!(
                        "`{}` is outside the project {}: nothing there is claimed",
                        p.display(),
                        project.display()
                    ));
                }
            };
            store.release(|c| c.path == rel, false, SystemTime::now(), &deadline)
        }
        Release::Agent(agent) => {
            store.release(|c| &c.agent == agent, false, SystemTime::now(), &deadline)
        }
        Release::Stale => store.release(|_| false, true, SystemTime::now(), &deadline),
    }
    .map_err(|e| e.to_string())?;
    if gone.is_empty() {
        return Ok(Report {
            text: "no claim matched; `portcullis locks` lists them\n".into(),
            ok: false,
        });
    }
    let mut text = String::new();
    for c in &gone {
        let _ = writeln!(
            text,
            "released {} (held by {}, session {})",
            c.path, c.agent, c.session
        );
    }
    Ok(Report::ok(text))
}
