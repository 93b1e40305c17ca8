//! Asking the advisor: the configured command with the prompt on stdin and a time limit, and what counts as
//! a usable hint in its answer.

use std::fmt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use portcullis_core::child;
use portcullis_core::env_vars;

/// The most bytes of the advisor's answer read (a hint is one sentence).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The longest hint passed on, in characters; a longer answer is cut at its first sentence that fits.
pub const MAX_HINT_CHARS: usize = 400;

/// Why the advisor gave no hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdvisorError {
    /// The command could not be started.
    NotStarted(String),
    /// It ran past the limit and was killed.
    TimedOut(Duration),
    /// It exited with a failure code (or was killed by a signal: `None`), with its first stderr line.
    Failed(Option<i32>, String),
    /// It answered, but not with a usable hint.
    Garbage(String),
}

impl fmt::Display for AdvisorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotStarted(e) => write!(f, "could not start the advisor: {e}"),
            Self::TimedOut(d) => write!(f, "the advisor gave no answer within {}s", d.as_secs()),
            Self::Failed(Some(code), err) if err.is_empty() => {
                write!(f, "the advisor exited with {code}")
            }
            Self::Failed(Some(code), err) => write!(f, "the advisor exited with {code}: {err}"),
            Self::Failed(None, _) => write!(f, "the advisor was killed by a signal"),
            Self::Garbage(why) => write!(f, "the advisor's answer is not a usable hint ({why})"),
        }
    }
}

/// Runs `command` in `cwd` with `prompt` on stdin and the recursion guard set, for at most `timeout`.
pub fn ask(
    command: &[String],
    prompt: &str,
    cwd: &Path,
    timeout: Duration,
) -> Result<String, AdvisorError> {
    let Some((program, args)) = command.split_first() else {
        return Err(AdvisorError::NotStarted("no command configured".into()));
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
        // Every portcullis hook is a no-op in the advisor's own session (it may be Claude Code itself).
        .env(env_vars::PORTCULLIS_DISABLED, "1");
    let done = child::run(cmd, prompt.as_bytes(), timeout, MAX_ANSWER_BYTES)
        .map_err(|e| AdvisorError::NotStarted(format!("`{program}`: {e}")))?;
    if done.timed_out {
        return Err(AdvisorError::TimedOut(timeout));
    }
    if done.code != Some(0) {
        let first = String::from_utf8_lossy(&done.stderr)
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        return Err(AdvisorError::Failed(done.code, first));
    }
    if done.truncated {
        return Err(AdvisorError::Garbage(format!(
            "more than {MAX_ANSWER_BYTES} bytes"
        )));
    }
    clean_hint(&done.stdout).map_err(AdvisorError::Garbage)
}

/// The hint in an answer: UTF-8 text with at least one letter, whitespace collapsed, wrapping quotes and a
/// `Hint:` label removed, at most [`MAX_HINT_CHARS`] characters (a longer answer keeps its leading
/// sentences that fit). `Err` says why the answer is unusable.
pub fn clean_hint(answer: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(answer).map_err(|_| "not UTF-8 text".to_owned())?;
    if text.contains('\0') {
        return Err("binary output".into());
    }
    let controls = text
        .chars()
        .filter(|c| c.is_control() && !c.is_whitespace())
        .count();
    if controls > 0 {
        return Err(format!("{controls} control characters"));
    }
    let mut hint = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for label in ["Hint:", "hint:", "HINT:"] {
        if let Some(rest) = hint.strip_prefix(label) {
            hint = rest.trim_start().to_owned();
        }
    }
    let hint = hint
        .trim_matches(|c| matches!(c, '"' | '\'' | '`' | '“' | '”'))
        .trim()
        .to_owned();
    if hint.is_empty() {
        return Err("empty".into());
    }
    if !hint.chars().any(char::is_alphabetic) {
        return Err("no words".into());
    }
    if hint.chars().count() <= MAX_HINT_CHARS {
        return Ok(hint);
    }
    // Keep whole sentences while they fit.
    let mut kept = String::new();
    for sentence in hint.split_inclusive(['.', '!', '?']) {
        if kept.chars().count() + sentence.chars().count() > MAX_HINT_CHARS {
            break;
        }
        kept.push_str(sentence);
    }
    let kept = kept.trim();
    if kept.is_empty() {
        return Err(format!(
            "its first sentence is longer than {MAX_HINT_CHARS} characters"
        ));
    }
    Ok(kept.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_are_cleaned() {
        assert_eq!(
            clean_hint(b"  Hint: \"Run the failing test alone\n first.\"\n").unwrap(),
            "Run the failing test alone first."
        );
        let long = format!("{}. {}.", "a".repeat(300), "b".repeat(300));
        assert_eq!(
            clean_hint(long.as_bytes()).unwrap(),
            format!("{}.", "a".repeat(300))
        );
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        for (bad, why) in [
            (&b""[..], "empty"),
            (b"   \n\t ", "empty"),
            (b"\xff\xfe", "not UTF-8"),
            (b"ok\0", "binary"),
            (b"\x1b[31m!!!", "control"),
            (b"42 ... ???", "no words"),
        ] {
            let err = clean_hint(bad).unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        assert!(clean_hint("x".repeat(MAX_HINT_CHARS + 1).as_bytes()).is_err());
    }
}
