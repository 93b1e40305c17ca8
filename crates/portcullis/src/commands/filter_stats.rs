//! `portcullis filter stats`: what context-filter saved, from the decision log: bytes before and after per
//! kind of output and per session (the log records sizes, never the text).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use portcullis_core::Env;
use portcullis_core::log::{self, LogEntry};
use portcullis_core::state::StateDir;
use serde_json::json;

use super::{CmdResult, Report};

/// Outputs, bytes before and bytes after.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
struct Saved {
    outputs: u64,
    bytes_before: u64,
    bytes_after: u64,
}

impl Saved {
    fn add(&mut self, before: u64, after: u64) {
        self.outputs += 1;
        self.bytes_before += before;
        self.bytes_after += after;
    }

    fn percent(self) -> f64 {
        if self.bytes_before == 0 {
            return 0.0;
        }
        100.0 * (1.0 - self.bytes_after as f64 / self.bytes_before as f64)
    }
}

/// The filterings of the log (`filter`, and warn mode's `would-filter`), optionally of one session.
fn filterings(entry: &LogEntry, session: Option<&str>) -> Option<(String, u64, u64)> {
    if entry.hook != "context-filter"
        || !matches!(entry.verdict.as_str(), "filter" | "would-filter")
    {
        return None;
    }
    if session.is_some_and(|s| !entry.session.starts_with(s)) {
        return None;
    }
    let d = entry.detail.as_ref()?;
    Some((
        d["kind"].as_str()?.to_owned(),
        d["bytes_before"].as_u64()?,
        d["bytes_after"].as_u64()?,
    ))
}

/// `portcullis filter stats`.
pub fn filter_stats(project: &Path, session: Option<&str>, json_out: bool, env: &Env) -> CmdResult {
    let path = StateDir::for_project(env, project).log_path();
    let mut by_kind: BTreeMap<String, Saved> = BTreeMap::new();
    let mut by_session: BTreeMap<String, Saved> = BTreeMap::new();
    let mut total = Saved::default();
    let (entries, _) = log::tail(&path, usize::MAX, u64::MAX, |e| {
        filterings(e, session).is_some()
    })
    .map_err(|e| e.to_string())?;
    for e in &entries {
        if let Some((kind, before, after)) = filterings(e, session) {
            by_kind.entry(kind).or_default().add(before, after);
            by_session
                .entry(e.session.clone())
                .or_default()
                .add(before, after);
            total.add(before, after);
        }
    }
    if json_out {
        let v = json!({"total": total, "by_kind": by_kind, "by_session": by_session});
        return Ok(Report::ok(format!("{v}\n")));
    }
    if total.outputs == 0 {
        return Ok(Report::ok(format!(
            "no output has been filtered yet (decision log: {})\n",
            path.display()
        )));
    }
    let mut out = String::new();
    let row = |out: &mut String, name: &str, s: Saved| {
        let _ = writeln!(
            out,
            "  {name:<38} {:>7} {:>12} {:>12} {:>5.0}%",
            s.outputs,
            s.bytes_before,
            s.bytes_after,
            s.percent()
        );
    };
    let _ = writeln!(
        out,
        "  {:<38} {:>7} {:>12} {:>12} {:>6}",
        "by kind", "outputs", "bytes before", "bytes after", "saved"
    );
    for (kind, s) in &by_kind {
        row(&mut out, kind, *s);
    }
    let _ = writeln!(out, "  by session");
    for (session, s) in &by_session {
        row(&mut out, session, *s);
    }
    row(&mut out, "total", total);
    Ok(Report::ok(out))
}
