//! What the decision log says about one agent lately: the blocks of its stops, and loop-detect's `stuck`.

use std::fs::File;
use std::path::Path;

use portcullis_core::log::LogEntry;
use portcullis_core::transcript::{ReverseLines, contains_quoted};
use portcullis_core::{Error, Result, budget};

/// The most log bytes read backwards per stop.
pub(crate) const LOG_SCAN_BYTES: u64 = 1024 * 1024;

/// Entries are appended in about time order, but parallel hooks may append a little out of order: the scan
/// reads this far past the first entry older than it wants before it stops.
const OUT_OF_ORDER_MS: i64 = 10_000;

/// The most entries kept.
const MAX_ENTRIES: usize = 64;

/// One agent's recent entries, newest first.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Portcullis blocks of the agent's Stop/SubagentStop.
    pub blocks: Vec<LogEntry>,
    /// loop-detect's `stuck` entries for the agent.
    pub stuck: Vec<LogEntry>,
}

/// The entry's time in Unix milliseconds (`None` when it does not parse).
#[must_use]
pub(crate) fn millis(entry: &LogEntry) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(&entry.time)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// The time of a log line that starts with `{"time":"…"` (as [`LogEntry`] is written), unparsed.
fn leading_time(line: &[u8]) -> Option<i64> {
    let rest = line.strip_prefix(br#"{"time":""#)?;
    let end = rest.iter().position(|&b| b == b'"')?;
    let text = std::str::from_utf8(&rest[..end]).ok()?;
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Reads the log backwards for `session`'s `agent`, keeping entries from `since_ms` on. A missing log is
/// empty; lines that do not parse are skipped.
pub(crate) fn read(log: &Path, session: &str, agent: &str, since_ms: i64) -> Result<History> {
    let mut out = History::default();
    let file = match File::open(log) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io("reading decision log", log, e)),
    };
    let lines = ReverseLines::new(file, budget::REVERSE_BLOCK_BYTES, LOG_SCAN_BYTES)
        .map_err(|e| Error::io("reading decision log", log, e))?;
    for line in lines {
        let line = line.map_err(|e| Error::io("reading decision log", log, e))?;
        // Lines are written with `time` first: most are judged by it and by a substring test, unparsed.
        if let Some(t) = leading_time(&line) {
            if t < since_ms.saturating_sub(OUT_OF_ORDER_MS) {
                break;
            }
            if t < since_ms || !contains_quoted(&line, session) || !contains_quoted(&line, agent) {
                continue;
            }
        }
        let Ok(entry) = serde_json::from_slice::<LogEntry>(&line) else {
            continue;
        };
        let Some(t) = millis(&entry) else { continue };
        if t < since_ms.saturating_sub(OUT_OF_ORDER_MS) {
            break;
        }
        if t < since_ms || entry.session != session || entry.agent != agent {
            continue;
        }
        let stop_event = matches!(entry.event.as_str(), "Stop" | "SubagentStop");
        if stop_event && entry.verdict == "block" {
            out.blocks.push(entry);
        } else if stop_event && entry.hook == "loop-detect" && entry.verdict == "stuck" {
            out.stuck.push(entry);
        }
        if out.blocks.len() + out.stuck.len() >= MAX_ENTRIES {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_agrees_with_the_parse() {
        let t = tempfile::tempdir().unwrap();
        let log = t.path().join("log.jsonl");
        let entry = |time: &str, session: &str, agent: &str, verdict: &str| {
            serde_json::to_string(&LogEntry {
                time: time.into(),
                session: session.into(),
                agent: agent.into(),
                hook: "feedback-loop".into(),
                event: "Stop".into(),
                verdict: verdict.into(),
                ..LogEntry::default()
            })
            .unwrap()
        };
        let lines = [
            entry("2026-11-21T10:00:00.000Z", "s", "main", "block"),
            entry("2026-11-21T10:00:05.000Z", "s", "main", "block"),
            entry("2026-11-21T10:00:06.000Z", "other", "main", "block"),
            entry("2026-11-21T10:00:06.500Z", "s", "agent-1", "block"),
            // Not written by portcullis (fields in another order): parsed in full.
            r#"{"session":"s","agent":"main","hook":"h","event":"Stop","verdict":"block","reason":"","micros":1,"time":"2026-11-21T10:00:07.000Z"}"#.to_owned(),
            entry("2026-11-21T10:00:08.000Z", "s", "main", "stuck"),
            "{torn".to_owned(),
        ];
        std::fs::write(&log, lines.join("\n") + "\n").unwrap();
        let since = chrono::DateTime::parse_from_rfc3339("2026-11-21T10:00:04.000Z")
            .unwrap()
            .timestamp_millis();
        let h = read(&log, "s", "main", since).unwrap();
        let times: Vec<&str> = h.blocks.iter().map(|e| e.time.as_str()).collect();
        assert_eq!(
            times,
            ["2026-11-21T10:00:07.000Z", "2026-11-21T10:00:05.000Z"]
        );
        assert!(
            h.stuck.is_empty(),
            "a `stuck` of another hook is not loop-detect's"
        );
    }
}
