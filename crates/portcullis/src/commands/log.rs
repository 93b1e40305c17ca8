//! `portcullis log`: the decision log, filtered, oldest of the selection first.

use std::fmt::Write as _;
use std::path::Path;

use portcullis_core::Env;
use portcullis_core::log::{self, LogEntry};
use portcullis_core::state::StateDir;

use super::{CmdResult, Report};

/// Filters for `portcullis log`.
#[derive(Debug, Default)]
pub struct LogFilter {
    /// Only this session.
    pub session: Option<String>,
    /// Only this hook.
    pub hook: Option<String>,
    /// Only deny/block/ask.
    pub blocked: bool,
    /// At most this many (the newest).
    pub n: usize,
    /// Raw JSON lines.
    pub json: bool,
}

/// `portcullis log`.
pub fn show_log(project: &Path, env: &Env, f: &LogFilter) -> CmdResult {
    let path = StateDir::for_project(env, project).log_path();
    let keep = |e: &LogEntry| {
        f.session
            .as_ref()
            .is_none_or(|s| e.session.starts_with(s.as_str()))
            && f.hook.as_ref().is_none_or(|h| &e.hook == h)
            && (!f.blocked || matches!(e.verdict.as_str(), "deny" | "block" | "ask"))
    };
    let (mut entries, skipped) =
        log::tail(&path, f.n, u64::MAX, keep).map_err(|e| e.to_string())?;
    entries.reverse();
    let mut text = String::new();
    for e in &entries {
        if f.json {
            let _ = writeln!(text, "{}", serde_json::to_string(e).unwrap_or_default());
            continue;
        }
        let what = match &e.tool {
            Some(t) => format!("{} {t}", e.event),
            None => e.event.clone(),
        };
        let first = e.reason.lines().next().unwrap_or_default();
        let reason: String = first.chars().take(160).collect();
        let session: String = e.session.chars().take(8).collect();
        let _ = writeln!(
            text,
            "{}  {:<18} {:<22} {:<7} {session} {:<8} {:>6}µs  {reason}",
            e.time, e.hook, what, e.verdict, e.agent, e.micros
        );
    }
    if entries.is_empty() && !f.json {
        let _ = writeln!(text, "no decisions logged in `{}`", path.display());
    }
    if skipped > 0 && !f.json {
        let _ = writeln!(text, "({skipped} unreadable lines skipped)");
    }
    Ok(Report::ok(text))
}
