//! A subagent's status, read from its final report: a closing `STATUS:` line, or a JSON handoff.
//!
//! The line: `STATUS: BLOCKED — needs the staging database password` (the word `STATUS` in any case, with
//! or without Markdown emphasis, `:` or `=`, then the status, then the reason after a dash, a colon or a
//! comma; a reason on the lines that follow counts when the status line has none). The JSON handoff:
//! `{"status": "blocked", "reason": "…", "needs": "…"}` (`needs` a string or a list of strings), bare or in
//! a fenced block. Only the end of a report is read (its last [`TAIL_BYTES`]): a status is how a report
//! closes, and a 100 KB report costs no more than a short one. The last status in that tail wins.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How much of a report's end is read for its status.
pub const TAIL_BYTES: usize = 8 * 1024;

/// What a subagent says of its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Finished.
    Done,
    /// Finished, with doubts the main thread should weigh.
    DoneWithConcerns,
    /// Could go on with context it does not have.
    NeedsContext,
    /// Cannot go on.
    Blocked,
}

impl Status {
    /// The form of the `STATUS:` line.
    #[must_use]
    pub fn as_line(self) -> &'static str {
        match self {
            Self::Done => "DONE",
            Self::DoneWithConcerns => "DONE_WITH_CONCERNS",
            Self::NeedsContext => "NEEDS_CONTEXT",
            Self::Blocked => "BLOCKED",
        }
    }

    /// The name in config, the decision log and JSON handoffs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::DoneWithConcerns => "done_with_concerns",
            Self::NeedsContext => "needs_context",
            Self::Blocked => "blocked",
        }
    }

    fn parse(word: &str) -> Option<Self> {
        let w = word.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Some(match w.as_str() {
            "done" => Self::Done,
            "done_with_concerns" => Self::DoneWithConcerns,
            "needs_context" => Self::NeedsContext,
            "blocked" => Self::Blocked,
            _ => return None,
        })
    }
}

/// A status as stated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stated {
    /// The status.
    pub status: Status,
    /// Why, as the agent put it (may be empty).
    pub reason: String,
    /// What it needs, from a JSON handoff's `needs`.
    pub needs: Vec<String>,
}

/// What the end of a report says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// A status.
    Stated(Stated),
    /// A `STATUS:` line or a handoff whose status is none of the four, as written.
    Unknown(String),
    /// No status at all.
    Missing,
}

/// Reads the status at the end of `report`.
#[must_use]
pub fn read(report: &str) -> Reading {
    let tail = tail(report);
    let line = last_line_status(tail);
    let json = last_json_status(tail);
    // The later of the two in the report is its closing status.
    match (line, json) {
        (Some((at_l, l)), Some((at_j, j))) => {
            if at_j > at_l {
                j
            } else {
                l
            }
        }
        (Some((_, l)), None) => l,
        (None, Some((_, j))) => j,
        (None, None) => Reading::Missing,
    }
}

fn tail(report: &str) -> &str {
    if report.len() <= TAIL_BYTES {
        return report;
    }
    let mut start = report.len() - TAIL_BYTES;
    while !report.is_char_boundary(start) {
        start += 1;
    }
    &report[start..]
}

/// Markdown a status line may be dressed in (`**STATUS:** DONE`, `> Status: …`, `- `STATUS`: …`).
fn is_dress(c: char) -> bool {
    matches!(c, '*' | '_' | '`' | '>' | '#' | '-') || c.is_whitespace()
}

/// The statuses as they may be written (separators as `_`), longest first.
const WRITTEN: [(&str, Status); 4] = [
    ("done_with_concerns", Status::DoneWithConcerns),
    ("needs_context", Status::NeedsContext),
    ("blocked", Status::Blocked),
    ("done", Status::Done),
];

/// One line read as a status line: `None` when it is not one. Read by hand, not by regex: a hook runs on
/// every subagent's stop, and compiling the pattern cost more than reading 8 KB with it.
fn status_line(line: &str) -> Option<Result<(Status, String), String>> {
    let t = line.trim_start_matches(is_dress);
    if !t.get(..6)?.eq_ignore_ascii_case("status") {
        return None;
    }
    let rest = t[6..].trim_start_matches(['*', '_', '`']).trim_start();
    let rest = rest.strip_prefix([':', '='])?;
    let rest = rest.trim_start_matches(|c: char| matches!(c, '*' | '_' | '`') || c.is_whitespace());
    // The first 24 characters, separators read as `_`, against each way of writing a status.
    let head: String = rest
        .chars()
        .take(24)
        .map(|c| {
            if c == ' ' || c == '-' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    for (written, status) in WRITTEN {
        if !head.starts_with(written) {
            continue;
        }
        let after = &rest[written.len()..];
        if after
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        let reason = after
            .trim_start_matches(|c: char| matches!(c, '*' | '_' | '`') || c.is_whitespace())
            .trim_start_matches(['—', '–', ':', ',', '.', '(', '-'])
            .trim();
        return Some(Ok((status, clean_reason(reason))));
    }
    // One word that is none of the four (`FAILED`, `OK`) is a status the agent got wrong; words are prose.
    let word: &str = rest
        .split(|c: char| c.is_whitespace() || matches!(c, '*' | '`' | '.' | ',' | ':' | '—' | '–'))
        .next()
        .unwrap_or("");
    let named = rest
        .split(['—', '–', ':', ',', '.', '('])
        .next()
        .unwrap_or("")
        .split(" - ")
        .next()
        .unwrap_or("");
    let prose = named
        .trim()
        .trim_end_matches(['*', '`'])
        .contains(char::is_whitespace);
    (!word.is_empty() && !prose && word.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
        .then(|| Err(word.to_owned()))
}

fn last_line_status(text: &str) -> Option<(usize, Reading)> {
    let mut offset = text.len();
    for line in text.rsplit('\n') {
        offset -= line.len();
        let at = offset;
        offset = offset.saturating_sub(1);
        let Some(found) = status_line(line) else {
            continue;
        };
        let (status, mut reason) = match found {
            Ok(found) => found,
            Err(word) => return Some((at, Reading::Unknown(word))),
        };
        if reason.is_empty() {
            // The reason on the lines after the status line, up to a blank line or a fence.
            reason = text[at + line.len()..]
                .lines()
                .map(str::trim)
                .skip_while(|l| l.is_empty())
                .take_while(|l| !l.is_empty() && !l.starts_with("```"))
                .take(5)
                .map(clean_reason)
                .collect::<Vec<_>>()
                .join(" ");
        }
        return Some((
            at,
            Reading::Stated(Stated {
                status,
                reason,
                needs: Vec::new(),
            }),
        ));
    }
    None
}

/// The reason with its label (`Reason:`) and Markdown emphasis taken off.
fn clean_reason(text: &str) -> String {
    let t = text.trim().trim_matches(['*', '_', '`']).trim();
    let t = ["reason:", "because", "why:"]
        .iter()
        .find_map(|p| {
            t.get(..p.len())
                .filter(|head| head.eq_ignore_ascii_case(p))
                .map(|_| &t[p.len()..])
        })
        .unwrap_or(t);
    t.trim().trim_end_matches(')').trim().to_owned()
}

/// The last JSON object in `text` that has a string `status`, with where it starts. At most 64 opening
/// braces are tried, from the end.
fn last_json_status(text: &str) -> Option<(usize, Reading)> {
    let starts: Vec<usize> = text.match_indices('{').map(|(i, _)| i).collect();
    for &at in starts.iter().rev().take(64) {
        let mut values = serde_json::Deserializer::from_str(&text[at..]).into_iter::<Value>();
        let Some(Ok(Value::Object(map))) = values.next() else {
            continue;
        };
        let Some(word) = map.get("status").and_then(Value::as_str) else {
            continue;
        };
        let Some(status) = Status::parse(word) else {
            return Some((at, Reading::Unknown(word.to_owned())));
        };
        let text_of = |key: &str| map.get(key).and_then(Value::as_str).unwrap_or("").trim();
        let needs = match map.get("needs") {
            Some(Value::String(s)) if !s.trim().is_empty() => vec![s.trim().to_owned()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            _ => Vec::new(),
        };
        return Some((
            at,
            Reading::Stated(Stated {
                status,
                reason: text_of("reason").to_owned(),
                needs,
            }),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stated(report: &str) -> Stated {
        match read(report) {
            Reading::Stated(s) => s,
            other => panic!("{report:?}: {other:?}"),
        }
    }

    #[test]
    fn a_closing_status_line_is_read_with_its_reason() {
        let s = stated(
            "I changed the migration.\n\nSTATUS: BLOCKED — needs the staging database password\n",
        );
        assert_eq!(s.status, Status::Blocked);
        assert_eq!(s.reason, "needs the staging database password");
        for (text, status, reason) in [
            ("**Status:** DONE", Status::Done, ""),
            (
                "status: done_with_concerns: the API is slow",
                Status::DoneWithConcerns,
                "the API is slow",
            ),
            (
                "STATUS = NEEDS_CONTEXT - which tenant?",
                Status::NeedsContext,
                "which tenant?",
            ),
            (
                "> STATUS: Needs context (the schema of orders)",
                Status::NeedsContext,
                "the schema of orders",
            ),
            (
                "- **STATUS**: `BLOCKED`, tests fail in web/",
                Status::Blocked,
                "tests fail in web/",
            ),
            ("STATUS: DONE WITH CONCERNS", Status::DoneWithConcerns, ""),
        ] {
            let s = stated(&format!("work\n{text}\n"));
            assert_eq!((s.status, s.reason.as_str()), (status, reason), "{text}");
        }
    }

    #[test]
    fn a_reason_on_the_next_lines_counts() {
        let s = stated(
            "Done what I could.\nSTATUS: BLOCKED\nReason: the API key for Stripe is not in .env.\n\nThanks.",
        );
        assert_eq!(s.reason, "the API key for Stripe is not in .env.");
    }

    #[test]
    fn a_json_handoff_is_read_bare_or_fenced() {
        let s = stated(
            "Summary.\n```json\n{\"status\": \"needs_context\", \"reason\": \"no spec for refunds\", \"needs\": [\"the refund rules\", \"\"]}\n```\n",
        );
        assert_eq!(s.status, Status::NeedsContext);
        assert_eq!(s.reason, "no spec for refunds");
        assert_eq!(s.needs, ["the refund rules"]);
        let s = stated("{\"status\":\"BLOCKED\",\"reason\":\"x\",\"needs\":\"y\"}");
        assert_eq!((s.status, s.needs), (Status::Blocked, vec!["y".to_owned()]));
    }

    #[test]
    fn the_last_status_wins_and_other_words_are_not_statuses() {
        let s = stated("STATUS: BLOCKED — waiting\n...later it worked.\nSTATUS: DONE\n");
        assert_eq!(s.status, Status::Done);
        let s = stated("STATUS: DONE\n{\"status\": \"blocked\", \"reason\": \"r\"}");
        assert_eq!(s.status, Status::Blocked);
        assert_eq!(
            read("STATUS: FAILED — it broke"),
            Reading::Unknown("FAILED".into())
        );
        assert_eq!(read("{\"status\": \"ok\"}"), Reading::Unknown("ok".into()));
        for none in [
            "",
            "All done, tests pass.",
            "The HTTP status: 200 means fine? no, the status code was 500",
            "{\"code\": 3}",
            "{not json",
            "statusbar: done",
        ] {
            assert!(
                matches!(read(none), Reading::Missing | Reading::Unknown(_)),
                "{none:?}"
            );
        }
        assert_eq!(read("All done, tests pass."), Reading::Missing);
        assert_eq!(read("Status: the build is green"), Reading::Missing);
        assert_eq!(read("STATUS: OK"), Reading::Unknown("OK".into()));
        assert_eq!(
            read("**STATUS**: DONEISH"),
            Reading::Unknown("DONEISH".into())
        );
        assert_eq!(stated("status:done").status, Status::Done);
        assert_eq!(stated("STATUS: BLOCKED").reason, "");
        assert_eq!(read("statusbar: done"), Reading::Missing);
    }

    #[test]
    fn only_the_end_of_a_long_report_is_read() {
        let mut report = "STATUS: BLOCKED — an early draft\n".to_owned();
        report.push_str(&"é lots of work\n".repeat(2_000));
        assert_eq!(read(&report), Reading::Missing);
        report.push_str("STATUS: DONE\n");
        assert_eq!(stated(&report).status, Status::Done);
    }
}
