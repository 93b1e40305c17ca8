//! Rendering a replay: the timeline (text or JSON lines), with the throwaway folder and the project
//! scrubbed from it, and the golden-file compare of `--expect`.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{HookRun, Run};
use crate::commands::{CmdResult, Report};
use crate::diff;

impl Run<'_> {
    pub(super) fn render(&mut self, event: &Value, name: &str, runs: &[HookRun], project: &str) {
        let subject = subject(event, project);
        if self.opts.json {
            let hooks: Vec<Value> = runs
                .iter()
                .map(|r| json!({"hook": r.hook, "verdict": r.verdict, "reason": r.reason}))
                .collect();
            let line = json!({"seq": self.seq, "event": name,
                "agent": event.get("agent_type").cloned().unwrap_or(json!("main")),
                "tool": event.get("tool_name"), "subject": subject, "hooks": hooks});
            let _ = writeln!(self.json_lines, "{line}");
        }
        if runs.is_empty() {
            return;
        }
        self.hooked_events += 1;
        let agent = event["agent_type"]
            .as_str()
            .map(|t| format!("[{t}] "))
            .unwrap_or_default();
        let _ = writeln!(self.text, "{:>4}  {agent}{name} {subject}", self.seq);
        for r in runs {
            match self
                .verdict_counts
                .iter_mut()
                .find(|(v, _)| *v == r.verdict)
            {
                Some((_, n)) => *n += 1,
                None => self.verdict_counts.push((r.verdict.clone(), 1)),
            }
            let _ = writeln!(self.text, "        {}: {}", r.hook, r.verdict);
            let reason = self.scrub(&r.reason, project);
            for line in reason.lines() {
                let _ = writeln!(self.text, "          {line}");
            }
        }
    }

    pub(super) fn scrub(&self, text: &str, project: &str) -> String {
        text.replace(&format!("{project}/"), "")
            .replace(project, ".")
            .replace(&self.state.path().display().to_string(), "[STATE]")
    }

    pub(super) fn finish(mut self) -> CmdResult {
        self.verdict_counts.sort();
        let verdicts = if self.verdict_counts.is_empty() {
            "no verdicts".to_owned()
        } else {
            self.verdict_counts
                .iter()
                .map(|(v, n)| format!("{v} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            self.text,
            "{} events, {} with portcullis hooks ({verdicts}); {} unreadable lines skipped",
            self.seq, self.hooked_events, self.skipped
        );
        let mut out = if self.opts.json {
            let summary = json!({"summary": {"events": self.seq, "hooked_events": self.hooked_events,
                "skipped_lines": self.skipped, "notes": self.notes}});
            let _ = writeln!(self.json_lines, "{summary}");
            std::mem::take(&mut self.json_lines)
        } else {
            let mut t = self.text.clone();
            for n in &self.notes {
                let _ = writeln!(t, "note: {n}");
            }
            t
        };
        let Some(expect) = &self.opts.expect else {
            return Ok(Report {
                text: out,
                ok: true,
            });
        };
        if self.opts.bless {
            portcullis_core::state::write_atomic(expect, self.text.as_bytes())
                .map_err(|e| format!("writing `{}`: {e}", expect.display()))?;
            let _ = writeln!(out, "wrote the timeline to `{}`", expect.display());
            return Ok(Report {
                text: out,
                ok: true,
            });
        }
        let want = std::fs::read_to_string(expect)
            .map_err(|e| format!("reading `{}`: {e}", expect.display()))?;
        if want == self.text {
            return Ok(Report {
                text: format!(
                    "the timeline matches `{}` ({} events)\n",
                    expect.display(),
                    self.seq
                ),
                ok: true,
            });
        }
        Ok(Report {
            text: format!(
                "the timeline differs from `{}` (- expected, + now):\n{}",
                expect.display(),
                diff::unified(&want, &self.text, &expect.display().to_string(), 2)
            ),
            ok: false,
        })
    }
}

/// A short description of what the event is about: a file, a command, a prompt.
fn subject(event: &Value, project: &str) -> String {
    let short = |s: &str| {
        let first = s.lines().next().unwrap_or_default();
        if first.chars().count() > 60 || s.contains('\n') {
            format!("{}…", first.chars().take(60).collect::<String>())
        } else {
            first.to_owned()
        }
    };
    let input = &event["tool_input"];
    let tool = event["tool_name"].as_str().unwrap_or_default();
    // Copilot's file tools name theirs `path`.
    if let Some(path) = input["file_path"]
        .as_str()
        .or(input["notebook_path"].as_str())
        .or(input["path"].as_str())
    {
        let rel = path
            .strip_prefix(project)
            .map_or(path, |r| r.trim_start_matches('/'));
        return format!("{tool} {rel}");
    }
    if let Some(cmd) = input["command"].as_str() {
        return format!("{tool} `{}`", short(cmd));
    }
    if let Some(t) = input["subagent_type"].as_str() {
        return format!("{tool} {t}");
    }
    if !tool.is_empty() {
        return tool.to_owned();
    }
    if let Some(p) = event["prompt"].as_str() {
        return format!("{:?}", short(p));
    }
    if let Some(s) = event["source"].as_str() {
        return s.to_owned();
    }
    String::new()
}
