//! The decision log: `<state>/log.jsonl`, one JSON line per verdict that is not a silent allow.
//!
//! Each line is written with a single `write` on an `O_APPEND` file while holding an `fd-lock` on the log
//! itself, so lines from parallel hooks never interleave. Readers skip lines they cannot parse. It is what
//! `portcullis log` shows and what hooks read back about each other.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::budget;
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::transcript::ReverseLines;

/// One decision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogEntry {
    /// When (RFC 3339, UTC).
    pub time: String,
    /// The session id.
    pub session: String,
    /// `agent_id`, or `"main"`.
    pub agent: String,
    /// The agent's type (`agent_type`), when the event names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_type: Option<String>,
    /// The verdict denied the call or held the stop, whatever its label (a hook's own marker, such as
    /// `handoff-missing`, can be a block).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub held: bool,
    /// The transcript of the agent the verdict was about (a subagent's own at its stop), for
    /// `portcullis anneal` to read what the agent said before it was held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    /// The hook that decided.
    pub hook: String,
    /// The event name.
    pub event: String,
    /// The tool, for tool events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// `deny`, `block`, `ask`, `context`, `warn`, `error`, or a hook-specific marker such as `stuck`.
    pub verdict: String,
    /// The reason (or context, or error) text.
    pub reason: String,
    /// Microseconds the hook spent.
    pub micros: u64,
    /// Hook-specific details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

/// Appends one entry. Holds the log's lock for one `write_all` of the whole line.
pub fn append(path: &Path, entry: &LogEntry, deadline: &Deadline) -> Result<()> {
    let mut line =
        serde_json::to_vec(entry).map_err(|e| Error::Other(format!("encoding log entry: {e}")))?;
    line.push(b'\n');
    if let Some(dir) = path.parent() {
        crate::files::check_real_dirs(dir, dir)
            .map_err(|e| Error::io("checking log folder", dir, e))?;
        std::fs::create_dir_all(dir).map_err(|e| Error::io("creating log folder", dir, e))?;
    }
    let mut options = OpenOptions::new();
    options.create(true).append(true).read(true);
    let file = crate::files::open_own_or_replace(path, &options, "decision log")
        .map_err(|e| Error::io("opening log", path, e))?;
    let mut lock = fd_lock::RwLock::new(file);
    let wait = Deadline::after(budget::LOCK_WAIT.min(deadline.remaining()));
    loop {
        match lock.try_write() {
            Ok(mut guard) => {
                // A writer killed inside its `write` (a line that crosses a page can be cut short)
                // leaves a line without its newline; the next line starts on a line of its own, so the
                // torn one is the only one lost (readers skip it).
                if !ends_with_newline(&guard) {
                    line.insert(0, b'\n');
                }
                return guard
                    .write_all(&line)
                    .map_err(|e| Error::io("appending to log", path, e));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && !wait.expired() => {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                return Err(Error::LockTimeout(path.into()));
            }
            Err(e) => return Err(Error::io("locking log", path, e)),
        }
    }
}

/// Whether `file` is empty or ends with a newline (an unreadable end counts as ending well).
fn ends_with_newline(file: &File) -> bool {
    use std::os::unix::fs::FileExt;
    let Ok(len) = file.metadata().map(|m| m.len()) else {
        return true;
    };
    let mut last = [0u8; 1];
    len == 0
        || file
            .read_at(&mut last, len - 1)
            .map_or(true, |n| n == 0 || last[0] == b'\n')
}

/// The last `n` entries that satisfy `keep`, newest first, reading backwards at most `cap` bytes.
/// A missing log reads as empty. Returns the entries and the number of unreadable lines skipped.
pub fn tail(
    path: &Path,
    n: usize,
    cap: u64,
    keep: impl Fn(&LogEntry) -> bool,
) -> Result<(Vec<LogEntry>, usize)> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(Error::io("reading log", path, e)),
    };
    let lines = ReverseLines::new(file, budget::REVERSE_BLOCK_BYTES, cap)
        .map_err(|e| Error::io("reading log", path, e))?;
    let mut out = Vec::new();
    let mut skipped = 0;
    for line in lines {
        if out.len() >= n {
            break;
        }
        let line = line.map_err(|e| Error::io("reading log", path, e))?;
        match serde_json::from_slice::<LogEntry>(&line) {
            Ok(entry) if keep(&entry) => out.push(entry),
            Ok(_) => {}
            Err(_) => skipped += 1,
        }
    }
    Ok((out, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn entry(i: usize) -> LogEntry {
        LogEntry {
            session: "s".into(),
            hook: format!("h{}", i % 3),
            reason: "x".repeat(i * 97 % 5000),
            ..LogEntry::default()
        }
    }

    #[test]
    fn parallel_appends_keep_every_line_whole() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("log.jsonl");
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for j in 0..25 {
                        append(
                            &path,
                            &entry(i * 25 + j),
                            &Deadline::after(Duration::from_secs(10)),
                        )
                        .unwrap();
                    }
                })
            })
            .collect();
        for th in threads {
            th.join().unwrap();
        }
        let (all, skipped) = tail(&path, usize::MAX, u64::MAX, |_| true).unwrap();
        assert_eq!(all.len(), 200);
        assert_eq!(skipped, 0);
    }

    #[test]
    fn tail_filters_and_skips_bad_lines() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("log.jsonl");
        for i in 0..6 {
            append(&path, &entry(i), &Deadline::after(Duration::from_secs(1))).unwrap();
        }
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{torn\n")
            .unwrap();
        let (got, skipped) = tail(&path, 10, u64::MAX, |e| e.hook == "h0").unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(skipped, 1);
        assert_eq!(
            tail(&t.path().join("none"), 5, 100, |_| true)
                .unwrap()
                .0
                .len(),
            0
        );
    }

    /// A line cut short by a killed writer does not take the next entry with it.
    #[test]
    fn a_torn_last_line_is_not_glued_to_the_next() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("log.jsonl");
        std::fs::write(&path, "{\"time\":\"2026-12-01T00:00:00Z\",\"mic").unwrap();
        let d = Deadline::after(std::time::Duration::from_secs(5));
        append(&path, &entry(0), &d).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text:?}");
        assert!(
            serde_json::from_str::<serde_json::Value>(lines[1]).is_ok(),
            "{text:?}"
        );
    }
}
