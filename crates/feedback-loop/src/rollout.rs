//! The files a Codex session's patches changed, from its rollout (PROTOCOL-CODEX.md §4, §7).
//!
//! A patch the model runs through the shell (`apply_patch <<'EOF' … EOF`) is applied by Codex itself, and
//! no `PostToolUse` follows it: the only record of what it wrote is the rollout's `item_completed` line
//! with a `FileChange` item (`changes`: absolute path → add/update/delete, with a `move_path` for a move).
//! feedback-loop reads the rollout forward from where it stopped last time ([`Cursor`]) before it records
//! a test run and at the turn's `Stop`, so an edit is on record before any test run that came after it; a
//! subagent's own rollout (`agent_transcript_path`) is read at its `SubagentStop`.
//! Patches made with the `apply_patch` tool show up here too; they are on record already, and tracking
//! them again changes nothing.

use std::collections::BTreeMap;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use portcullis_core::state::StateFile;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most of a rollout read at once: a longer unread stretch is read from its last part.
const MAX_READ_BYTES: u64 = 16 << 20;

/// How much unread rollout with no patch in it is left unread on record: a look that finds no patch moves
/// the place only past this much, since reading a stretch again costs less than the locked write of the
/// place (a Stop in a turn that patched nothing, the common one, writes no state).
pub(crate) const ADVANCE_AFTER_BYTES: u64 = 256 << 10;

/// The most rollouts one session keeps a place in (resumes and forks add files).
const MAX_ROLLOUTS: usize = 64;

/// How far each rollout of the session has been read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Cursor {
    /// Rollout path → bytes read (always at a line's end).
    pub offsets: BTreeMap<String, u64>,
}

impl StateFile for Cursor {
    const NAME: &'static str = "feedback-loop-rollout";
    const SCHEMA_VERSION: u32 = 1;
}

/// The files changed by the `FileChange` items written after `from` (moves: both paths), in order, and
/// the offset read up to (the end of the last complete line).
pub(crate) fn changes_since(rollout: &Path, from: u64) -> io::Result<(Vec<String>, u64)> {
    let mut file = portcullis_core::files::open_regular(rollout)?;
    let len = file.metadata()?.len();
    // A shorter file is another file now: read it from the start.
    let from = if from > len { 0 } else { from };
    let start = from.max(len.saturating_sub(MAX_READ_BYTES));
    file.seek(SeekFrom::Start(start))?;
    // Sized up front: one read, not a dozen doublings from 32 bytes.
    let mut bytes = Vec::with_capacity(usize::try_from(len - start).unwrap_or(0));
    (&mut file).take(len - start).read_to_end(&mut bytes)?;
    let Some(last_newline) = memchr_last(&bytes) else {
        return Ok((Vec::new(), from));
    };
    let complete = &bytes[..=last_newline];
    let mut lines = complete.split(|&b| b == b'\n');
    if start > from {
        lines.next(); // started mid-line
    }
    let mut paths = Vec::new();
    for line in lines {
        if !portcullis_core::transcript::contains_quoted(line, "FileChange") {
            continue;
        }
        let Ok(v) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        let item = &v["payload"]["item"];
        if v["payload"]["type"] != "item_completed"
            || item["type"] != "FileChange"
            || item["status"].as_str().is_some_and(|s| s != "completed")
        {
            continue;
        }
        for (path, change) in item["changes"].as_object().into_iter().flatten() {
            paths.push(path.clone());
            if let Some(to) = change["move_path"].as_str() {
                paths.push(to.to_owned());
            }
        }
    }
    Ok((paths, start + last_newline as u64 + 1))
}

fn memchr_last(bytes: &[u8]) -> Option<usize> {
    bytes.iter().rposition(|&b| b == b'\n')
}

impl Cursor {
    /// Whether a look that read `from..to` and found `patches` moves the place: always after a patch (it
    /// must not be counted twice) or when the file is another one now (`to` before `from`); with no patch,
    /// only once the stretch is [`ADVANCE_AFTER_BYTES`] long. A stretch left unread on record holds no
    /// patch, and the file only grows, so reading it again finds nothing more.
    pub(crate) fn moves(from: u64, to: u64, patches: usize) -> bool {
        to != from && (patches > 0 || to < from || to - from >= ADVANCE_AFTER_BYTES)
    }

    /// Records that `rollout` was read up to `offset`, keeping at most [`MAX_ROLLOUTS`] places.
    pub(crate) fn advance(&mut self, rollout: &str, offset: u64) {
        if !self.offsets.contains_key(rollout) && self.offsets.len() >= MAX_ROLLOUTS {
            let oldest = self.offsets.keys().next().cloned();
            if let Some(k) = oldest {
                self.offsets.remove(&k);
            }
        }
        self.offsets.insert(rollout.to_owned(), offset);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Write;

    fn change(path: &str, status: &str, moved: Option<&str>) -> Value {
        json!({"type": "event_msg", "payload": {"type": "item_completed", "turn_id": "t",
               "item": {"type": "FileChange", "status": status, "changes": {path: {"type": "update", "move_path": moved}}}}})
    }

    #[test]
    fn changes_are_read_forward_from_the_cursor_and_only_whole_lines() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(f, "{}", change("/p/a.rs", "completed", None)).unwrap();
        writeln!(f, "{}", json!("not an object")).unwrap();
        writeln!(f, "{}", change("/p/failed.rs", "failed", None)).unwrap();
        let (paths, at) = changes_since(f.path(), 0).unwrap();
        assert_eq!(paths, ["/p/a.rs"]);
        // Nothing new: nothing again.
        assert_eq!(changes_since(f.path(), at).unwrap(), (vec![], at));
        writeln!(
            f,
            "{}",
            change("/p/b.md", "completed", Some("/p/docs/b.md"))
        )
        .unwrap();
        write!(f, "{{\"half\": ").unwrap();
        let (paths, after) = changes_since(f.path(), at).unwrap();
        assert_eq!(paths, ["/p/b.md", "/p/docs/b.md"]);
        // The half-written line is read once it is whole.
        writeln!(f, "1, \"FileChange\": 0}}").unwrap();
        assert_eq!(
            changes_since(f.path(), after).unwrap().0,
            Vec::<String>::new()
        );
        // A cursor past the end means another file: it is read from the start.
        assert_eq!(changes_since(f.path(), 1 << 40).unwrap().0.len(), 3);
        assert!(changes_since(Path::new("/nonexistent"), 0).is_err());
    }

    #[test]
    fn the_cursor_keeps_a_bounded_number_of_rollouts() {
        let mut c = Cursor::default();
        for i in 0..MAX_ROLLOUTS + 5 {
            c.advance(&format!("/r/{i:03}.jsonl"), 1);
        }
        assert_eq!(c.offsets.len(), MAX_ROLLOUTS);
        c.advance("/r/000.jsonl", 9);
        assert_eq!(c.offsets.len(), MAX_ROLLOUTS);
    }
}
