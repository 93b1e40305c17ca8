//! `portcullis handoffs`: the handoffs handoff-router recorded in a session (each subagent's status and
//! where it was routed), from the decision log. Read-only: nothing is created.

use std::fmt::Write as _;
use std::path::Path;

use portcullis_core::Env;
use portcullis_core::log::{self, LogEntry};
use portcullis_core::state::StateDir;
use serde_json::{Value, json};

use super::{CmdResult, Report};

/// A handoff entry of the log (`handoff`, or `handoff-missing` for an agent sent back for its status).
fn is_handoff(e: &LogEntry) -> bool {
    e.hook == "handoff-router" && matches!(e.verdict.as_str(), "handoff" | "handoff-missing")
}

/// `portcullis handoffs [--session PREFIX] [--json]`: one session's handoffs, oldest first (the latest
/// session's when none is named).
pub fn handoffs(project: &Path, session: Option<&str>, json_out: bool, env: &Env) -> CmdResult {
    let path = StateDir::for_project(env, project).log_path();
    let (mut entries, _) = log::tail(&path, usize::MAX, u64::MAX, |e| {
        is_handoff(e) && session.is_none_or(|s| e.session.starts_with(s))
    })
    .map_err(|e| e.to_string())?;
    // The log is read from its end: newest first.
    entries.reverse();
    let Some(last) = entries.last() else {
        return Ok(Report::ok(match session {
            Some(s) => format!("no handoff recorded in a session starting with `{s}`\n"),
            None => format!(
                "no handoff recorded yet (decision log: {})\n",
                path.display()
            ),
        }));
    };
    let chosen = last.session.clone();
    let mut sessions: Vec<&str> = entries.iter().map(|e| e.session.as_str()).collect();
    sessions.sort_unstable();
    sessions.dedup();
    if session.is_some() && sessions.len() > 1 {
        return Err(format!(
            "`{}` names {} sessions; give more of the id: {}",
            session.unwrap_or_default(),
            sessions.len(),
            sessions.join(", ")
        ));
    }
    let rows: Vec<Value> = entries
        .iter()
        .filter(|e| e.session == chosen)
        .map(|e| {
            let d = e.detail.clone().unwrap_or_default();
            json!({
                "time": e.time, "agent_id": d["agent_id"], "agent_type": d["agent_type"],
                "status": d["status"], "reason": d["reason"], "route": d["route"], "looped": d["looped"],
                "sent_back": e.verdict == "handoff-missing",
            })
        })
        .collect();
    if json_out {
        let v = json!({"session": chosen, "handoffs": rows});
        return Ok(Report::ok(format!("{v}\n")));
    }
    Ok(Report::ok(table(&chosen, &rows)))
}

fn table(session: &str, rows: &[Value]) -> String {
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let mut out = format!("session {session}: {} handoff(s)\n", rows.len());
    let _ = writeln!(
        out,
        "  {:<20} {:<24} {:<19} {:<28} reason",
        "when", "agent", "status", "route"
    );
    for r in rows {
        let time = text(&r["time"]);
        let when = time.get(..19).unwrap_or(&time).replace('T', " ");
        let status = text(&r["status"]).to_uppercase();
        let route = match (
            text(&r["route"]).as_str(),
            r["sent_back"].as_bool(),
            r["looped"].as_bool(),
        ) {
            (_, Some(true), _) => "sent back for a status".to_owned(),
            ("", _, _) => "-".to_owned(),
            (route, _, Some(true)) => format!("{route} (routed there before)"),
            (route, _, _) => route.to_owned(),
        };
        let _ = writeln!(
            out,
            "  {when:<20} {:<24} {status:<19} {route:<28} {}",
            text(&r["agent_type"]),
            text(&r["reason"])
        );
    }
    out
}
