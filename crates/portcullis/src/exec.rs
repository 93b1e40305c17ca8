//! Running hook processes the way Claude Code does: the event on stdin, `CLAUDE_PROJECT_DIR` set, the
//! session's cwd, a timeout. Used by `explain` and `replay`.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

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
            if get(Some(v), "decision").as_deref() == Some("block") {
                return ("block".into(), get(Some(v), "reason").unwrap_or_default());
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
    let started = Instant::now();
    let mut child = Command::new(command)
        .args(args)
        .current_dir(if cwd.is_dir() { cwd } else { project })
        .env("CLAUDE_PROJECT_DIR", project)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(&input);
        }
    });
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        s
    });
    let mut timed_out = false;
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break Some(st);
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            timed_out = true;
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let _ = writer.join();
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(Outcome {
        code: status.and_then(|s| s.code()),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        timed_out,
        elapsed: started.elapsed(),
    })
}
