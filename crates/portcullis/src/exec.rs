//! Running hook processes the way Claude Code does: the event on stdin, `CLAUDE_PROJECT_DIR` set, the
//! session's cwd, a timeout. Used by `explain` and `replay`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use portcullis_core::child;
use serde_json::Value;

/// The most output kept per stream of one hook run (Claude Code reads far less of a verdict).
const MAX_HOOK_OUTPUT: usize = 16 * 1024 * 1024;

/// What one hook process did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The exit code (`None` when killed or timed out).
    pub code: Option<i32>,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
    /// True when it ran past the timeout and was killed.
    pub timed_out: bool,
    /// Wall time.
    pub elapsed: Duration,
}

impl Outcome {
    /// How Claude Code reads this outcome: `(verdict, reason)`. Verdicts: `allow`, `deny`, `ask`, `block`,
    /// `context`, `warn`, `error` (non-blocking), `timeout`.
    #[must_use]
    pub fn verdict(&self) -> (String, String) {
        if self.timed_out {
            return ("timeout".into(), String::new());
        }
        let json: Option<Value> = self
            .stdout
            .trim_start()
            .starts_with('{')
            .then(|| serde_json::from_str(self.stdout.trim()).ok())
            .flatten();
        if let Some(v) = &json {
            let hso = v.get("hookSpecificOutput");
            let get = |o: Option<&Value>, k: &str| {
                o.and_then(|o| o.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            if let Some(d) = get(hso, "permissionDecision") {
                return (d, get(hso, "permissionDecisionReason").unwrap_or_default());
            }
            match get(Some(v), "decision").as_deref() {
                Some("block") => {
                    return ("block".into(), get(Some(v), "reason").unwrap_or_default());
                }
                // Gemini's deny: a refused call, or a tool result replaced by the reason.
                Some("deny") => return ("deny".into(), get(Some(v), "reason").unwrap_or_default()),
                _ => {}
            }
            if let Some(c) = get(hso, "additionalContext") {
                return ("context".into(), c);
            }
            if let Some(m) = get(Some(v), "systemMessage") {
                return ("warn".into(), m);
            }
        }
        match self.code {
            Some(0) => ("allow".into(), String::new()),
            Some(2) => ("block".into(), self.stderr.trim().to_owned()),
            _ => (
                "error".into(),
                self.stderr.lines().next().unwrap_or_default().to_owned(),
            ),
        }
    }
}

/// Runs `command args` with `input` on stdin in `cwd` (with `env` added), killing it after `timeout`.
pub fn run_hook(
    command: &str,
    args: &[String],
    input: &[u8],
    cwd: &Path,
    project: &Path,
    timeout: Duration,
    env: &[(&str, &std::ffi::OsStr)],
) -> std::io::Result<Outcome> {
    let mut cmd = Command::new(command);
    cmd.args(args)
        .current_dir(if cwd.is_dir() { cwd } else { project })
        .env("CLAUDE_PROJECT_DIR", project)
        .envs(env.iter().copied());
    let done = child::run(cmd, input, timeout, MAX_HOOK_OUTPUT)?;
    Ok(Outcome {
        code: done.code,
        stdout: String::from_utf8_lossy(&done.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&done.stderr).into_owned(),
        timed_out: done.timed_out,
        elapsed: done.elapsed,
    })
}
