//! Reading session transcripts (JSONL) from the end.
//!
//! Transcripts grow to hundreds of MB and their last line may be half written. [`ReverseLines`] reads
//! backwards in [`budget::REVERSE_BLOCK_BYTES`] blocks and stops after a byte cap, so the cost of a tail
//! read depends on how far back the wanted entries are, never on the file's size. Lines that do not parse
//! are skipped and counted, never fatal.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::budget;
use crate::error::{Error, Result};

/// Yields the lines of a file from the last to the first, without their `\n`; empty lines are skipped.
/// Stops (and sets [`ReverseLines::hit_cap`]) once more than `cap` bytes have been read.
///
/// Linear in the bytes read, however long a line is: each block is searched for newlines once, and a line
/// longer than a block is kept as the list of its pieces and joined once, when its start is found.
#[derive(Debug)]
pub struct ReverseLines<R> {
    reader: R,
    /// File offset of `buf[0]`.
    pos: u64,
    /// The block read last.
    buf: Vec<u8>,
    /// `buf[..end]` is not yet searched.
    end: usize,
    /// Pieces of the line being read (everything after `buf[..end]` up to its end), the rightmost first.
    pieces: Vec<Vec<u8>>,
    block: usize,
    cap: u64,
    scanned: u64,
    hit_cap: bool,
    done: bool,
}

impl<R: Read + Seek> ReverseLines<R> {
    /// Starts at the end of `reader`.
    pub fn new(mut reader: R, block: usize, cap: u64) -> io::Result<Self> {
        let len = reader.seek(SeekFrom::End(0))?;
        Ok(Self {
            reader,
            pos: len,
            buf: Vec::new(),
            end: 0,
            pieces: Vec::new(),
            block: block.max(1),
            cap,
            scanned: 0,
            hit_cap: false,
            done: false,
        })
    }

    /// Bytes read so far.
    #[must_use]
    pub fn scanned(&self) -> u64 {
        self.scanned
    }

    /// True when the byte cap stopped the scan before the start of the file.
    #[must_use]
    pub fn hit_cap(&self) -> bool {
        self.hit_cap
    }

    fn read_block(&mut self) -> io::Result<bool> {
        if self.pos == 0 {
            return Ok(false);
        }
        if self.scanned >= self.cap {
            self.hit_cap = true;
            return Ok(false);
        }
        let want = (self.block as u64)
            .min(self.pos)
            .min(self.cap - self.scanned);
        let start = self.pos - want;
        self.reader.seek(SeekFrom::Start(start))?;
        self.buf
            .resize(usize::try_from(want).unwrap_or(usize::MAX), 0);
        self.reader.read_exact(&mut self.buf)?;
        self.end = self.buf.len();
        self.pos = start;
        self.scanned += want;
        Ok(true)
    }

    /// The line made of `head` and the pieces kept so far.
    fn join(&mut self, head: &[u8]) -> Vec<u8> {
        let len = head.len() + self.pieces.iter().map(Vec::len).sum::<usize>();
        let mut line = Vec::with_capacity(len);
        line.extend_from_slice(head);
        for piece in self.pieces.drain(..).rev() {
            line.extend_from_slice(&piece);
        }
        line
    }
}

impl<R: Read + Seek> Iterator for ReverseLines<R> {
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            // A newline in the unsearched part ends the line being read.
            if let Some(nl) = self.buf[..self.end].iter().rposition(|&b| b == b'\n') {
                let head = self.buf[nl + 1..self.end].to_vec();
                self.end = nl;
                let line = self.join(&head);
                if line.is_empty() {
                    continue;
                }
                return Some(Ok(line));
            }
            // No newline: all of it belongs to the line being read, which goes on in the block before.
            if self.end > 0 {
                self.pieces.push(self.buf[..self.end].to_vec());
                self.end = 0;
            }
            match self.read_block() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    // At the start of the file the rest is the first line; at the cap it is a fragment.
                    if self.pos == 0 && !self.hit_cap && !self.pieces.is_empty() {
                        let line = self.join(&[]);
                        return (!line.is_empty()).then_some(Ok(line));
                    }
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// Token usage of one API response, as the transcript records it.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
#[allow(missing_docs)]
pub struct Usage {
    pub input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub output_tokens: u64,
}

/// `message` of a `user` or `assistant` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct Message {
    pub id: Option<String>,
    pub role: Option<String>,
    pub model: Option<String>,
    pub content: Option<Value>,
    pub stop_reason: Option<String>,
    pub usage: Option<Usage>,
}

impl Message {
    /// The text of the message: a string content, or its `text` blocks joined.
    #[must_use]
    pub fn text(&self) -> String {
        self.content.as_ref().map(content_text).unwrap_or_default()
    }
}

/// The text of a message `content`: the string itself, or its `text` blocks joined by newlines (tool
/// uses and tool results carry no text of their own).
#[must_use]
pub fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The text of a Codex `message` item (a rollout's `response_item`, or an item of a Responses API request):
/// its `input_text` / `output_text` parts joined by newlines.
#[must_use]
pub fn codex_message_text(item: &Value) -> String {
    item.get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| {
            matches!(
                p.get("type").and_then(Value::as_str),
                Some("input_text" | "output_text")
            )
        })
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One transcript line, with the fields portcullis reads. Everything is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Entry {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub subtype: Option<String>,
    pub uuid: Option<String>,
    pub parent_uuid: Option<String>,
    pub timestamp: Option<String>,
    pub session_id: Option<String>,
    pub agent_id: Option<String>,
    pub is_sidechain: Option<bool>,
    pub is_meta: Option<bool>,
    pub is_compact_summary: Option<bool>,
    pub is_api_error_message: Option<bool>,
    pub request_ref: Option<String>,
    pub requested_model: Option<String>,
    pub prompt_id: Option<String>,
    pub cwd: Option<String>,
    pub message: Option<Message>,
    pub content: Option<Value>,
    pub attachment: Option<Value>,
    pub params: Option<Value>,
    pub compact_metadata: Option<Value>,
    pub tool_use_result: Option<Value>,
}

impl Entry {
    /// The entry's `type`.
    #[must_use]
    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or_default()
    }

    /// True for entries of a subagent's conversation.
    #[must_use]
    pub fn is_sidechain(&self) -> bool {
        self.is_sidechain.unwrap_or(false)
    }
}

/// Which entries a tail read keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thread {
    /// Main-thread entries (`isSidechain` false or absent).
    Main,
    /// Subagent entries (`isSidechain: true`).
    Sidechain,
    /// Both.
    Any,
}

/// The result of [`tail`]: entries newest first, and what was skipped.
#[derive(Debug, Default)]
pub struct Tail {
    /// Kept entries, newest first.
    pub entries: Vec<Entry>,
    /// Lines that looked relevant but did not parse (e.g. a half-written last line).
    pub skipped: usize,
    /// Bytes read.
    pub scanned: u64,
    /// True when the byte cap ended the scan early.
    pub hit_cap: bool,
}

/// Reads the last `want` entries of the given `kinds` (e.g. `["assistant"]`) on `thread`, scanning at most
/// `cap` bytes from the end. `keep` can reject further entries (e.g. `<synthetic>` ones) and `stop` ends the
/// scan early at an entry (e.g. a `compact_boundary`), which is then included if its kind is wanted.
pub fn tail(
    path: &Path,
    kinds: &[&str],
    thread: Thread,
    want: usize,
    cap: u64,
    keep: impl Fn(&Entry) -> bool,
) -> Result<Tail> {
    let file =
        crate::files::open_regular(path).map_err(|e| Error::io("reading transcript", path, e))?;
    let mut lines = ReverseLines::new(file, budget::REVERSE_BLOCK_BYTES, cap)
        .map_err(|e| Error::io("reading transcript", path, e))?;
    let mut out = Tail::default();
    while out.entries.len() < want {
        let Some(line) = lines.next() else { break };
        let line = line.map_err(|e| Error::io("reading transcript", path, e))?;
        // Cheap pre-filter: a line of a wanted kind contains the kind as a quoted string. This never
        // rejects a line the parse below would keep (property-tested).
        if !kinds.iter().any(|k| contains_quoted(&line, k)) {
            continue;
        }
        let Ok(entry) = crate::json::from_slice::<Entry>(&line) else {
            out.skipped += 1;
            continue;
        };
        if !kinds.contains(&entry.kind()) {
            continue;
        }
        let on_thread = match thread {
            Thread::Main => !entry.is_sidechain(),
            Thread::Sidechain => entry.is_sidechain(),
            Thread::Any => true,
        };
        if on_thread && keep(&entry) {
            out.entries.push(entry);
        }
    }
    out.scanned = lines.scanned();
    out.hit_cap = lines.hit_cap();
    Ok(out)
}

/// True when `haystack` contains `"needle"` (with the quotes).
#[must_use]
pub fn contains_quoted(haystack: &[u8], needle: &str) -> bool {
    let n = needle.len() + 2;
    haystack
        .windows(n)
        .any(|w| w[0] == b'"' && w[n - 1] == b'"' && &w[1..n - 1] == needle.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Cursor;

    fn naive_reverse(bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        v.reverse();
        v
    }

    proptest! {
        #[test]
        fn reverse_lines_equals_naive_on_any_bytes(bytes in proptest::collection::vec(prop_oneof![Just(b'\n'), any::<u8>()], 0..2000), block in 1usize..64) {
            let got: Vec<Vec<u8>> = ReverseLines::new(Cursor::new(bytes.clone()), block, u64::MAX).unwrap().map(Result::unwrap).collect();
            prop_assert_eq!(got, naive_reverse(&bytes));
        }

        #[test]
        fn reverse_lines_never_reads_past_its_cap(bytes in proptest::collection::vec(prop_oneof![Just(b'\n'), any::<u8>()], 0..2000), block in 1usize..64, cap in 0u64..3000) {
            let mut r = ReverseLines::new(Cursor::new(bytes.clone()), block, cap).unwrap();
            let got: Vec<Vec<u8>> = r.by_ref().map(Result::unwrap).collect();
            prop_assert!(r.scanned() <= cap);
            // Whatever it returned is a prefix of the naive answer, made of whole lines.
            let naive = naive_reverse(&bytes);
            prop_assert!(got.len() <= naive.len());
            prop_assert_eq!(&got[..], &naive[..got.len()]);
        }

        #[test]
        fn prefilter_never_rejects_what_the_parse_keeps(kind in "[a-z-]{1,12}", other in "[a-z]{0,8}") {
            let line = serde_json::json!({"other": other, "type": kind}).to_string();
            let entry: Entry = serde_json::from_str(&line).unwrap();
            prop_assert!(contains_quoted(line.as_bytes(), entry.kind()));
        }
    }

    #[test]
    fn tail_keeps_main_thread_assistant_entries_and_skips_a_torn_last_line() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("t.jsonl");
        let lines = [
            r#"{"type":"user","message":{"role":"user","content":"hi"}}"#,
            r#"{"type":"assistant","isSidechain":false,"message":{"id":"m1","usage":{"input_tokens":10}}}"#,
            r#"{"type":"assistant","isSidechain":true,"message":{"id":"m2","usage":{"input_tokens":99}}}"#,
            r#"{"type":"assistant","isSidechain":false,"message":{"id":"m3","usage":{"input_tokens":30}}}"#,
            r#"{"type":"assistant","isSidechain":false,"message":{"id":"m4","usa"#,
        ];
        std::fs::write(&p, lines.join("\n")).unwrap();
        let got = tail(&p, &["assistant"], Thread::Main, 2, u64::MAX, |_| true).unwrap();
        let ids: Vec<_> = got
            .entries
            .iter()
            .map(|e| e.message.as_ref().unwrap().id.clone().unwrap())
            .collect();
        assert_eq!(ids, ["m3", "m1"]);
        assert_eq!(got.skipped, 1);
    }

    #[test]
    fn missing_and_directory_transcripts_are_errors() {
        let t = tempfile::tempdir().unwrap();
        assert!(
            tail(
                &t.path().join("nope"),
                &["assistant"],
                Thread::Main,
                1,
                10,
                |_| true
            )
            .is_err()
        );
        assert!(tail(t.path(), &["assistant"], Thread::Main, 1, 10, |_| true).is_err());
    }
}
